//! BGP sessions: one task per peer around the pure FSM (`crate::fsm`).
//!
//! ```text
//!  daemon --PeerCommand--> [peer task] --PeerStatus (watch)--> daemon / API
//!                            |   ^
//!           Connection ------+   +------ timers, connect attempts
//! ```

pub mod conn;
mod peer;
mod supervisor;
pub mod transport;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

use crate::fsm::{FsmConfig, State};
use crate::packet::capability::{
    AddPathMode, Capability, GR_FORWARDING_STATE, GR_NOTIFICATION, GR_RESTART_STATE,
};
use crate::packet::{Afi, Family, Safi};

pub use supervisor::spawn_peer;
pub use transport::Endpoint;

/// Everything a session needs to know about its peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerSettings {
    /// The peer's index in the RIB (never [`crate::rib::LOCAL_PEER`]).
    pub peer_id: crate::rib::PeerId,
    pub endpoint: Endpoint,
    pub description: Option<String>,
    pub local_as: u32,
    pub remote_as: u32,
    pub router_id: Ipv4Addr,
    pub families: Vec<Family>,
    /// Advertise RFC 8950 extended next hop for the IPv4 families (IPv6 next hops).
    pub extended_nexthop: bool,
    pub add_path: Option<AddPathMode>,
    /// Advertise graceful restart with this restart time (RFC 4724).
    pub graceful_restart: Option<u16>,
    /// RFC 9494: advertise Long-Lived Graceful Restart with this stale time (with GR only).
    pub long_lived_stale_time: Option<u32>,
    /// RFC 4271 §9.2.1.1 MinRouteAdvertisementInterval (zero: none).
    pub advertisement_interval: std::time::Duration,
    /// Capabilities the peer must advertise (else NOTIFICATION 2/7).
    pub required_capabilities: Vec<Capability>,
    pub hostname: Option<String>,
    pub fsm: FsmConfig,
    /// Administratively down: never started.
    pub admin_down: bool,
    /// RFC 4456: the peer is our route-reflector client.
    pub rr_client: bool,
    /// Import/export policy, prefix limit, soft reconfiguration.
    pub policy: crate::rib::PeerPolicy,
}

impl PeerSettings {
    pub fn is_ibgp(&self) -> bool {
        self.local_as == self.remote_as
    }

    /// The capabilities of our OPEN (RFC 5492), in a stable order.
    pub fn capabilities(&self) -> Vec<Capability> {
        let mut caps: Vec<Capability> = self
            .families
            .iter()
            .map(|f| Capability::MultiProtocol(*f))
            .collect();
        caps.push(Capability::RouteRefresh);
        caps.push(Capability::EnhancedRouteRefresh);
        caps.push(Capability::FourOctetAs(self.local_as));
        caps.push(Capability::ExtendedMessage);
        // RFC 8950 §4: IPv4 NLRI with IPv6 next hops, for the IPv4 families we carry.
        let enhe: Vec<(Family, Afi)> = self
            .families
            .iter()
            .filter(|f| f.afi == Afi::Ipv4 && matches!(f.safi, Safi::Unicast | Safi::MplsVpn))
            .map(|f| (*f, Afi::Ipv6))
            .collect();
        if self.extended_nexthop && !enhe.is_empty() {
            caps.push(Capability::ExtendedNextHop(enhe));
        }
        if let Some(mode) = self.add_path {
            caps.push(Capability::AddPath(
                self.families.iter().map(|f| (*f, mode)).collect(),
            ));
        }
        if let Some(time) = self.graceful_restart {
            // RFC 4724 §3 / RFC 8538 §2: N (we follow the NOTIFICATION extension), R while we
            // are restarting (the first restart-time seconds of this process), and F for
            // every family unless the forwarding state was lost: the only forwarding state
            // sidra owns is the data plane it programs, which outlives a sidrad restart by
            // design and is read back at start; when a data plane backend found nothing to
            // read back after a restart ([`forwarding_state_lost`]), F is clear while
            // restarting. (A node without a data plane forwards nothing of its own: F stays.)
            let restarting = process_uptime() < Duration::from_secs(u64::from(time));
            let flags = GR_NOTIFICATION | if restarting { GR_RESTART_STATE } else { 0 };
            let forwarding = if restarting && FORWARDING_LOST.load(Ordering::Relaxed) {
                0
            } else {
                GR_FORWARDING_STATE
            };
            caps.push(Capability::GracefulRestart {
                restart_flags: flags,
                restart_time: time.min(4095),
                families: self.families.iter().map(|f| (*f, forwarding)).collect(),
            });
        }
        // RFC 9494 §3: the LLGR capability, only beside the GR capability; no F bit (what a
        // long-lived stale route points at is not promised).
        if let (Some(_), Some(stale)) = (self.graceful_restart, self.long_lived_stale_time) {
            caps.push(Capability::LongLivedGracefulRestart(
                self.families
                    .iter()
                    .map(|f| (*f, 0, stale.min(0x00ff_ffff)))
                    .collect(),
            ));
        }
        if let Some(h) = &self.hostname {
            caps.push(Capability::Fqdn {
                hostname: h.as_bytes().to_vec(),
                domain: Vec::new(),
            });
        }
        caps
    }
}

static PROCESS_START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Set when the data plane held nothing of a previous run at start (see
/// [`forwarding_state_lost`]).
static FORWARDING_LOST: AtomicBool = AtomicBool::new(false);

/// RFC 4724 §3: the data plane backend read nothing back at start, so no forwarding state
/// survived a restart: the GR capability sent while restarting has the F bit clear (peers
/// flush our stale routes at once instead of forwarding on them). Called before the peers
/// start.
pub fn forwarding_state_lost(lost: bool) {
    FORWARDING_LOST.store(lost, Ordering::Relaxed);
}

/// Note the process start (the daemon calls this first thing; later calls change nothing).
pub fn mark_process_start() {
    PROCESS_START.get_or_init(std::time::Instant::now);
}

fn process_uptime() -> Duration {
    PROCESS_START.get_or_init(std::time::Instant::now).elapsed()
}

/// Commands from the daemon to a peer task.
#[derive(Debug)]
pub enum PeerCommand {
    /// ManualStart.
    Start,
    /// ManualStop with a Cease 6/2 carrying this RFC 9003 message.
    Stop { message: String },
    /// An accepted connection from this peer's address.
    Incoming(TcpStream, SocketAddr),
    /// Stop with a Cease of this subcode (6/2 shutdown, 6/3 de-configured) and end the task.
    Shutdown { subcode: u8, message: String },
    /// Reset the session: Cease 6/4 (administrative reset), or with `hard` the RFC 8538 Hard
    /// Reset (6/9) that also flushes graceful-restart state; then start again.
    Reset { hard: bool },
    /// The neighbor's policy changed (reload): apply it without resetting the session.
    SetPolicy(crate::rib::PeerPolicy),
}

/// A snapshot of a peer, published on every change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerStatus {
    pub address: IpAddr,
    pub state: State,
    pub established_since: Option<SystemTime>,
    pub established_transitions: u32,
    pub last_error: Option<String>,
    pub peer_bgp_id: Option<Ipv4Addr>,
    pub negotiated_hold_time: Option<u16>,
    pub families: Vec<Family>,
    pub messages_received: u64,
    pub messages_sent: u64,
    pub updates_received: u64,
    /// Prefixes currently held from this peer, per family.
    pub prefixes_received: Vec<(Family, usize)>,
    pub local: Option<SocketAddr>,
    pub remote: Option<SocketAddr>,
}

impl PeerStatus {
    pub fn new(address: IpAddr) -> Self {
        PeerStatus {
            address,
            state: State::Idle,
            established_since: None,
            established_transitions: 0,
            last_error: None,
            peer_bgp_id: None,
            negotiated_hold_time: None,
            families: Vec::new(),
            messages_received: 0,
            messages_sent: 0,
            updates_received: 0,
            prefixes_received: Vec::new(),
            local: None,
            remote: None,
        }
    }
}

/// The daemon's handle on a peer task. Dropping it ends the task.
pub struct PeerHandle {
    pub address: IpAddr,
    pub commands: mpsc::Sender<PeerCommand>,
    pub status: watch::Receiver<PeerStatus>,
    pub(crate) task: tokio::task::JoinHandle<()>,
}

impl PeerHandle {
    /// Wait (bounded) for the task to end after a Shutdown command.
    pub async fn join(self, timeout: Duration) {
        let mut task = self.task;
        if tokio::time::timeout(timeout, &mut task).await.is_err() {
            task.abort();
        }
    }
}
