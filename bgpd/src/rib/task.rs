//! The RIB task: the single owner of [`Rib`]. Peer tasks send it [`RibInput`]s over a bounded
//! channel (a slow RIB slows the readers, and TCP flow control the senders); it writes what each
//! peer must send into that peer's [`Outbox`], which never blocks it.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::core::Rib;
use super::export::RibSettings;
use super::outbox::Outbox;
use super::path::{PathAttrs, PeerId, PeerInfo};
use crate::packet::nlri::Nlri;
use crate::packet::{Family, UpdateMessage};

/// A read-only look at the RIB, run inside the RIB task.
pub type Query = Box<dyn FnOnce(&Rib) + Send>;

pub enum RibInput {
    PeerUp(PeerInfo, Arc<Outbox>, super::PeerPolicy),
    /// The peer's policy changed: re-export, and re-import if the routes as received are
    /// kept; the reply says whether they were (else the session asks for a ROUTE-REFRESH).
    SetPolicy(PeerId, super::PeerPolicy, Option<oneshot::Sender<bool>>),
    PeerDown(PeerId),
    /// RFC 4724 helper mode: keep the peer's paths of these families as stale.
    PeerDownGraceful(PeerId, crate::packet::FamilySet),
    /// RFC 9494: the restart time is over; keep these families' stale paths as LLGR_STALE.
    LlgrStale(PeerId, crate::packet::FamilySet),
    /// Drop a peer's stale paths (one family after its End-of-RIB, or all).
    SweepStale(PeerId, Option<Family>),
    Update(PeerId, UpdateMessage),
    Originate(Family, Nlri, PathAttrs),
    WithdrawLocal(Family, Nlri),
    /// The peer sent a ROUTE-REFRESH for a family (enhanced: RFC 7313 markers).
    RouteRefresh(PeerId, Family, bool),
    /// RFC 4724 §4.1: defer route selection until these peers sent End-of-RIB.
    DeferSelection(Vec<PeerId>),
    /// Whether a peer that came up will send End-of-RIB markers worth waiting for.
    ExpectEndOfRib(PeerId, bool),
    EndOfRib(PeerId, Family),
    /// The Selection_Deferral_Timer ran out.
    DeferralExpired,
    Query(Query),
}

/// The RIB task's handle.
#[derive(Clone)]
pub struct RibHandle {
    pub tx: mpsc::Sender<RibInput>,
}

impl RibHandle {
    /// Run `f` on the RIB and return its result (None if the RIB task is gone).
    pub async fn query<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Rib) -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        let q: Query = Box::new(move |rib| {
            let _ = tx.send(f(rib));
        });
        self.tx.send(RibInput::Query(q)).await.ok()?;
        rx.await.ok()
    }

    pub async fn send(&self, input: RibInput) -> bool {
        self.tx.send(input).await.is_ok()
    }
}

pub fn spawn_rib(settings: RibSettings) -> (RibHandle, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<RibInput>(1024);
    let task = tokio::spawn(async move {
        let mut rib = Rib::new(settings);
        while let Some(input) = rx.recv().await {
            match input {
                RibInput::PeerUp(info, outbox, policy) => rib.peer_up(info, outbox, policy),
                RibInput::SetPolicy(id, policy, reply) => {
                    let soft = rib.set_policy(id, policy);
                    if let Some(r) = reply {
                        let _ = r.send(soft);
                    }
                }
                RibInput::PeerDown(id) => rib.peer_down(id),
                RibInput::PeerDownGraceful(id, keep) => rib.peer_down_graceful(id, &keep),
                RibInput::SweepStale(id, f) => rib.sweep_stale(id, f),
                RibInput::LlgrStale(id, families) => rib.mark_llgr_stale(id, &families),
                RibInput::Update(id, u) => rib.update(id, &u),
                RibInput::Originate(f, n, a) => rib.originate(f, &n, a),
                RibInput::WithdrawLocal(f, n) => rib.withdraw_local(f, &n),
                RibInput::RouteRefresh(id, f, enhanced) => rib.refresh(id, f, enhanced),
                RibInput::DeferSelection(peers) => rib.defer_selection(peers),
                RibInput::ExpectEndOfRib(id, e) => rib.expect_end_of_rib(id, e),
                RibInput::EndOfRib(id, f) => rib.end_of_rib(id, f),
                RibInput::DeferralExpired => rib.end_deferral(),
                RibInput::Query(q) => q(&rib),
            }
        }
    });
    (RibHandle { tx }, task)
}
