//! Peer tasks run under a supervisor: a panic inside one peer's code resets that peer only
//! (its connection is dropped, which the remote side sees as a session reset) and the peer
//! starts again after its idle-hold time.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::{mpsc, watch};
use tracing::{Instrument, error, info_span};

use super::peer::Peer;
use super::{PeerHandle, PeerSettings, PeerStatus};
use crate::rib::RibHandle;

/// Polls a future and turns a panic into `Err(message)`.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let fut = self.0.as_mut();
        match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(p) => Poll::Ready(Err(p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into()))),
        }
    }
}

/// Start the task of one peer.
pub fn spawn_peer(settings: PeerSettings, rib: RibHandle) -> PeerHandle {
    let address = settings.endpoint.address;
    let (commands, mut rx) = mpsc::channel(64);
    let (status_tx, status) = watch::channel(PeerStatus::new(address));
    let span = info_span!("peer", %address);
    let task = tokio::spawn(
        async move {
            loop {
                let mut peer = Peer::new(settings.clone(), status_tx.clone(), rib.clone());
                match CatchUnwind(Box::pin(peer.run(&mut rx))).await {
                    Ok(()) => return,
                    Err(msg) => {
                        drop(peer);
                        error!("peer task panicked ({msg}); resetting this peer only");
                        tokio::time::sleep(settings.fsm.idle_hold_time).await;
                    }
                }
            }
        }
        .instrument(span),
    );
    PeerHandle {
        address,
        commands,
        status,
        task,
    }
}
