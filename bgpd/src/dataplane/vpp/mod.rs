//! The VPP backend: sidra's SRv6 state in VPP's SRv6 engine, through its binary API socket
//! ([`vpp_client`]).
//!
//! * **Ownership.** VPP has no owner tag on SRv6 objects, so this backend reads *every*
//!   End.DT4/End.DT6 local SID (installed in table 0), every policy and every L3 steering entry
//!   as sidra's, and the reconciler removes what sidra does not want: the node's VPP SRv6 state
//!   belongs to sidra (as it belongs to the agent on a Calico-VPP node). Other behaviours (End,
//!   End.X, uN, ...) and L2 steering are left alone. Tables are created, never removed.
//! * **Tables.** sidra's main table ([`MAIN_TABLE`], 254) is VPP's table 0; other ids are the
//!   same. A VRF is created before any End.DT4/DT6 that looks up in it.
//! * **No End.DT46** in VPP: such SIDs are refused ([`map::NO_DT46`]).
//! * **No underlay routes**: VPP programs no IP routes for sidra; with VPP the fabric (or
//!   whoever configures VPP's FIB) must route the remote locators.
//! * **Encapsulation source**: VPP cannot report the global one; the backend reports the one it
//!   set on the current connection (none after a reconnect, so it is set again). VPP copies
//!   the source into each SID list when the list is created: the diff sets it before any
//!   policy, but a *changed* `srv6.source_address` reaches only lists created afterwards
//!   (existing policies keep the old source until they are re-created, e.g. by a VPP restart).
//! * **Restarts.** [`vpp_client::Reconnecting`] reconnects with backoff; each new connection
//!   has a new generation, and [`Dataplane::restarted`] completes when the generation differs
//!   from the one of the last read: the reconciler reads VPP again (empty after a VPP restart)
//!   and re-adds everything in dependency order. Changes computed against an older generation
//!   are refused, so nothing is applied on the strength of a stale read.
//! * **Counters**: `sidra_vpp_localsid_packets{sid}` (packets decapsulated per local SID),
//!   updated on every read when VPP has `sr_localsids_with_packet_stats_dump`.
//!
//! The apply logic and its guards are in [`ops`]; the translations in [`map`].

pub mod map;
mod ops;

use std::collections::BTreeSet;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use metrics::gauge;
use tracing::{debug, info};
use vpp_client as vc;

use super::{Capabilities, Change, Dataplane, DataplaneError, DataplaneState, MAIN_TABLE};

/// The VPP backend (see the module documentation).
pub struct VppDataplane {
    link: Arc<vc::Reconnecting>,
    socket: PathBuf,
    /// The link generation of the last read (0: none yet).
    read_gen: u64,
    /// VRFs known to exist in VPP (`(VPP table id, is_ip6)`), as of `read_gen`.
    tables: BTreeSet<(u32, bool)>,
    /// The encapsulation source set on a connection, with that connection's generation.
    encap: Option<(u64, Ipv6Addr)>,
}

/// The client settings sidra uses for `socket`.
pub fn config(socket: &Path) -> vc::ReconnectConfig {
    let mut c = vc::ClientConfig::new(socket);
    c.name = "sidra".into();
    c.request_timeout = Duration::from_secs(5);
    vc::ReconnectConfig::new(c)
}

impl VppDataplane {
    /// Connects to VPP's API socket now: fails (naming the socket, or the message this VPP lacks)
    /// if VPP is absent or incompatible. Logs VPP's version and the resolved messages. Later
    /// losses of the connection are repaired in the background.
    pub async fn connect(socket: &Path) -> Result<Self, DataplaneError> {
        Self::connect_with(config(socket)).await
    }

    /// [`VppDataplane::connect`] with explicit client settings (timeouts, backoff).
    pub async fn connect_with(cfg: vc::ReconnectConfig) -> Result<Self, DataplaneError> {
        let socket = cfg.client.socket.clone();
        let link = vc::Reconnecting::connect(cfg)
            .await
            .map_err(|e| DataplaneError::new(format!("VPP at {}: {e}", socket.display())))?;
        let me = Self::with_link(link, socket);
        let client = me
            .link
            .client()
            .map_err(|e| DataplaneError::new(format!("VPP: {e}")))?;
        let v = client.version().await.map_err(|e| {
            DataplaneError::new(format!("VPP at {}: show_version: {e}", me.socket.display()))
        })?;
        let resolved: Vec<String> = client
            .resolved_messages()
            .iter()
            .map(|(n, id)| format!("{n}={id}"))
            .collect();
        info!(
            socket = %me.socket.display(),
            version = %v.version,
            build_date = %v.build_date,
            "connected to VPP {}", v.version
        );
        info!(
            count = resolved.len(),
            "VPP messages resolved: {}",
            resolved.join(" ")
        );
        Ok(me)
    }

    /// Starts without waiting for VPP: the backend connects in the background (reads and
    /// changes fail, and the reconciler retries, until VPP is there).
    pub fn start(socket: &Path) -> Self {
        Self::with_link(
            vc::Reconnecting::start(config(socket)),
            socket.to_path_buf(),
        )
    }

    fn with_link(link: vc::Reconnecting, socket: PathBuf) -> Self {
        Self {
            link: Arc::new(link),
            socket,
            read_gen: 0,
            tables: BTreeSet::new(),
            encap: None,
        }
    }

    /// The supervised connection (link state, current client).
    pub fn link(&self) -> &Arc<vc::Reconnecting> {
        &self.link
    }

    /// The current client and the generation of its connection.
    fn current(&self) -> Result<(Arc<vc::Client>, u64), DataplaneError> {
        let generation = |s: vc::LinkState| match s {
            vc::LinkState::Up { generation, .. } => Ok(generation),
            vc::LinkState::Connecting { last_error, .. } => Err(DataplaneError::new(format!(
                "VPP at {} is not connected{}",
                self.socket.display(),
                last_error.map(|e| format!(": {e}")).unwrap_or_default()
            ))),
            vc::LinkState::Incompatible(e) => Err(DataplaneError::new(format!(
                "VPP at {} is incompatible: {e}",
                self.socket.display()
            ))),
            vc::LinkState::Closed => Err(DataplaneError::new("the VPP connection is shut down")),
        };
        let g = generation(self.link.state())?;
        let c = self
            .link
            .client()
            .map_err(|e| DataplaneError::new(format!("VPP at {}: {e}", self.socket.display())))?;
        if generation(self.link.state())? != g {
            return Err(DataplaneError::new("VPP reconnected meanwhile"));
        }
        Ok((c, g))
    }

    async fn read_from(
        &mut self,
        c: &vc::Client,
        g: u64,
    ) -> Result<DataplaneState, DataplaneError> {
        let mut st = DataplaneState::default();
        let fail = |what: &str, e: vc::Error| map::error(format_args!("reading {what}"), &e);
        self.tables.clear();
        for t in c.ip_tables().await.map_err(|e| fail("the tables", e))? {
            self.tables.insert((t.table_id, t.is_ip6));
            st.tables
                .insert((map::from_vpp_table(t.table_id), t.is_ip6));
        }
        let stats = c.supports(&vc::messages::defs::SR_LOCALSIDS_WITH_PACKET_STATS_DUMP);
        let sids: Vec<(vc::LocalSid, Option<u64>)> = if stats {
            c.localsids_with_stats()
                .await
                .map_err(|e| fail("the local SIDs", e))?
                .into_iter()
                .map(|s| (s.sid, Some(s.good_packets)))
                .collect()
        } else {
            c.localsids()
                .await
                .map_err(|e| fail("the local SIDs", e))?
                .into_iter()
                .map(|s| (s, None))
                .collect()
        };
        for (s, packets) in sids {
            let Some(l) = map::local_sid_from_vpp(&s) else {
                debug!(sid = %s.addr, behavior = ?s.behavior, "VPP local SID left alone (not sidra's kind)");
                continue;
            };
            if let Some(n) = packets {
                gauge!("sidra_vpp_localsid_packets", "sid" => l.sid.to_string()).set(n as f64);
            }
            st.add_local_sid(l);
        }
        for p in c.policies().await.map_err(|e| fail("the policies", e))? {
            st.add_policy(map::policy_from_vpp(&p));
        }
        for s in c.steering().await.map_err(|e| fail("the steering", e))? {
            if let Some(s) = map::steering_from_vpp(&s) {
                st.add_steering(s);
            }
        }
        st.encap_source = self.encap.filter(|(eg, _)| *eg == g).map(|(_, a)| a);
        Ok(st)
    }
}

impl Dataplane for VppDataplane {
    fn name(&self) -> &'static str {
        "vpp"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            inline_policies: false,
            modes: vec![
                format!(
                    "End.DT4/End.DT6 as VPP local SIDs looking up in VRF tables (table {MAIN_TABLE} = VPP table 0), VRFs created first"
                ),
                "End.DT46: not available in VPP (use behavior = \"dt4-dt6\")".into(),
                "H.Encaps policies with binding SIDs, one VPP SID list per segment list (weight 1 \
                 unless given), modified in place"
                    .into(),
                "L3 steering entries, removed before their policy".into(),
                "underlay routes: not supported (the fabric must route the locators)".into(),
            ],
        }
    }

    async fn read(&mut self) -> Result<DataplaneState, DataplaneError> {
        let (c, g) = self.current()?;
        self.read_gen = g;
        self.read_from(&c, g).await
    }

    async fn apply(&mut self, changes: &[Change]) -> Vec<Result<(), DataplaneError>> {
        let all = |e: DataplaneError| changes.iter().map(|_| Err(e.clone())).collect();
        let (c, g) = match self.current() {
            Ok(x) => x,
            Err(e) => return all(e),
        };
        if g != self.read_gen {
            return all(DataplaneError::new(
                "VPP reconnected since it was last read (it may have restarted): reading it again",
            ));
        }
        let mut ctx = ops::Ctx {
            client: &c,
            tables: &mut self.tables,
        };
        let mut out = Vec::with_capacity(changes.len());
        for ch in changes {
            let r = ctx.apply(ch).await;
            if r.is_ok()
                && let Change::SetEncapSource(a) = ch
            {
                self.encap = Some((g, *a));
            }
            out.push(r);
        }
        out
    }

    async fn restarted(&mut self) {
        let seen = self.read_gen;
        let mut rx = self.link.subscribe();
        loop {
            let st = rx.borrow_and_update().clone();
            if let vc::LinkState::Up { generation, .. } = st
                && generation != seen
            {
                return;
            }
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

#[cfg(test)]
mod tests;
