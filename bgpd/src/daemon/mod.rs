//! The daemon: owns the peers, the listeners and the RIB task, routes accepted connections to
//! their peer, serves control commands (API, reload), and stops everything with a Cease on
//! shutdown.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::config::{Config, NeighborConfig};
use crate::fsm::FsmConfig;
use crate::packet::Family;
use crate::packet::attribute::{AsPath, AttrValue, PathAttribute};
use crate::packet::nlri::Nlri;
use crate::rib::{PathAttrs, PeerId, RibHandle, RibInput, RibSettings, spawn_rib};
use crate::session::transport::{Listener, canonical_ip};
use crate::session::{Endpoint, PeerCommand, PeerHandle, PeerSettings, PeerStatus, spawn_peer};

mod control;
pub use control::{DaemonCommand, DaemonHandle, NeighborView, ReloadReport};

/// How the session of one configured neighbor is set up.
pub fn peer_settings(
    n: &NeighborConfig,
    peer_id: PeerId,
    hostname: Option<String>,
    ebgp_requires_policy: bool,
) -> PeerSettings {
    let seed = match n.address {
        IpAddr::V4(a) => u64::from(u32::from(a)),
        IpAddr::V6(a) => (u128::from(a) as u64) ^ ((u128::from(a) >> 64) as u64),
    };
    PeerSettings {
        peer_id,
        rr_client: n.route_reflector_client,
        endpoint: Endpoint {
            address: n.address,
            port: n.port,
            local_address: n.local_address,
            password: n.password.as_ref().map(|p| p.expose().to_string()),
            ttl_security: n.ttl_security,
        },
        description: n.description.clone(),
        local_as: n.local_as,
        remote_as: n.remote_as,
        router_id: n.router_id,
        families: n.families.clone(),
        extended_nexthop: n.extended_nexthop,
        add_path: n.add_path.capability(),
        graceful_restart: n.graceful_restart.then_some(n.restart_time),
        advertisement_interval: n.advertisement_interval,
        long_lived_stale_time: (n.long_lived_stale_time > 0).then_some(n.long_lived_stale_time),
        required_capabilities: n
            .required_capabilities
            .iter()
            .map(|r| r.capability())
            .collect(),
        hostname,
        fsm: FsmConfig {
            passive: n.passive,
            connect_retry_time: n.connect_retry,
            hold_time: n.hold_time,
            keepalive_time: n.keepalive,
            delay_open_time: n.delay_open,
            idle_hold_time: n.idle_hold,
            max_idle_hold_time: n.max_idle_hold,
            idle_hold_reset_after: Duration::from_secs(60),
            jitter_seed: seed,
        },
        admin_down: n.shutdown,
        policy: crate::rib::PeerPolicy::of(n, ebgp_requires_policy),
    }
}

/// A `global.networks` prefix as a local route: origin IGP, empty AS_PATH; the next hop is
/// set per peer on export (next-hop-self).
pub fn local_network(net: ipnet::IpNet) -> (Family, Nlri, PathAttrs) {
    let family = if net.addr().is_ipv4() {
        Family::IPV4_UNICAST
    } else {
        Family::IPV6_UNICAST
    };
    let attrs = PathAttrs::new(
        vec![
            PathAttribute::new(AttrValue::Origin(0)),
            PathAttribute::new(AttrValue::AsPath(AsPath::default())),
        ],
        None,
    );
    (family, Nlri::new(net), attrs)
}

/// This host's name, for the FQDN capability (best effort).
pub fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && s.len() <= 64)
}

/// RFC 4724 §4.1 Selection_Deferral_Timer: the longest a restarting sidrad waits for its
/// peers' End-of-RIB before advertising.
pub const SELECTION_DEFERRAL_TIME: Duration = Duration::from_secs(60);

pub struct Daemon {
    pub rib: RibHandle,
    rib_task: tokio::task::JoinHandle<()>,
    peers: HashMap<IpAddr, Neighbor>,
    next_peer_id: PeerId,
    hostname: Option<String>,
    config: Config,
    listeners: Vec<Arc<Listener>>,
    accepted: mpsc::Receiver<(TcpStream, SocketAddr)>,
    listener_tasks: Vec<tokio::task::JoinHandle<()>>,
    commands: mpsc::Receiver<DaemonCommand>,
    handle: DaemonHandle,
    srv6_task: Option<tokio::task::JoinHandle<()>>,
}

/// A configured neighbor and its running session task.
struct Neighbor {
    config: NeighborConfig,
    handle: PeerHandle,
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Srv6(#[from] crate::srv6::Srv6Error),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

impl Daemon {
    /// Open the listeners and start the peers.
    pub async fn start(config: &Config) -> Result<Daemon, DaemonError> {
        crate::session::mark_process_start();
        let (tx, accepted) = mpsc::channel(64);
        let mut listeners = Vec::new();
        let mut listener_tasks = Vec::new();
        for addr in &config.global.listen {
            let l = Arc::new(Listener::bind(*addr).map_err(|source| DaemonError::Listen {
                addr: *addr,
                source,
            })?);
            info!("listening on {}", l.local);
            let tx = tx.clone();
            let accept = l.clone();
            listener_tasks.push(tokio::spawn(async move {
                loop {
                    match accept.accept().await {
                        Ok(conn) => {
                            if tx.send(conn).await.is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            warn!("accept failed: {e}");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                }
            }));
            listeners.push(l);
        }
        let (rib, rib_task) = spawn_rib(RibSettings {
            local_as: config.global.asn,
            router_id: config.global.router_id,
            cluster_id: config.global.cluster_id.unwrap_or(config.global.router_id),
            decision: crate::rib::decision::DecisionOptions {
                always_compare_med: config.global.always_compare_med,
                multipath: config.global.multipath,
            },
        });
        for net in &config.global.networks {
            let (family, nlri, attrs) = local_network(*net);
            rib.send(RibInput::Originate(family, nlri, attrs)).await;
        }
        let srv6 = crate::srv6::start(config, rib.clone()).await?;
        let (srv6, srv6_task) = match srv6 {
            Some((h, t)) => (Some(h), Some(t)),
            None => (None, None),
        };
        let (ctx, commands) = mpsc::channel(64);
        let mut d = Daemon {
            rib: rib.clone(),
            rib_task,
            peers: HashMap::new(),
            next_peer_id: 1,
            hostname: hostname(),
            config: config.clone(),
            listeners,
            accepted,
            listener_tasks,
            commands,
            handle: DaemonHandle { tx: ctx, rib, srv6 },
            srv6_task,
        };
        // RFC 4724 §4.1: we restart with the Restart State bit set, so selection waits for the
        // End-of-RIB of every graceful-restart peer, or the Selection_Deferral_Timer. The RIB
        // learns whom to wait for before any peer task runs: a session that comes up at once
        // may already tell it not to wait for that peer (ExpectEndOfRib), which must not come
        // first. (Peers get their ids in configuration order from `next_peer_id`.)
        let first = d.next_peer_id;
        let deferred: Vec<PeerId> = config
            .neighbors
            .iter()
            .zip(first..)
            .filter(|(n, _)| n.graceful_restart && !n.shutdown)
            .map(|(_, id)| id)
            .collect();
        if !deferred.is_empty() {
            d.rib.send(RibInput::DeferSelection(deferred)).await;
            let rib = d.rib.clone();
            tokio::spawn(async move {
                tokio::time::sleep(SELECTION_DEFERRAL_TIME).await;
                rib.send(RibInput::DeferralExpired).await;
            });
        }
        for (n, want) in config.neighbors.iter().zip(first..) {
            let id = d.add_neighbor(n.clone());
            debug_assert_eq!(id, want, "peer ids are handed out in configuration order");
        }
        Ok(d)
    }

    /// A handle for the API and signal handlers.
    pub fn handle(&self) -> DaemonHandle {
        self.handle.clone()
    }

    fn add_neighbor(&mut self, n: NeighborConfig) -> PeerId {
        let id = self.next_peer_id;
        self.next_peer_id = self.next_peer_id.saturating_add(1);
        if let Some(p) = &n.password {
            for l in &self.listeners {
                if let Err(e) = l.set_peer_password(n.address, Some(p.expose())) {
                    warn!(peer = %n.address, "cannot install the TCP-MD5 key on {}: {e}", l.local);
                }
            }
        }
        info!(
            peer = %n.address,
            remote_as = n.remote_as,
            description = n.description.as_deref().unwrap_or(""),
            "configured neighbor"
        );
        let settings = peer_settings(
            &n,
            id,
            self.hostname.clone(),
            self.config.global.ebgp_requires_policy,
        );
        let handle = spawn_peer(settings, self.rib.clone());
        self.peers.insert(n.address, Neighbor { config: n, handle });
        id
    }

    /// Stop a neighbor's session with a Cease and forget it.
    async fn remove_neighbor(&mut self, addr: IpAddr, subcode: u8, message: &str) -> bool {
        let Some(n) = self.peers.remove(&addr) else {
            return false;
        };
        let _ = n
            .handle
            .commands
            .send(PeerCommand::Shutdown {
                subcode,
                message: message.to_string(),
            })
            .await;
        n.handle.join(Duration::from_secs(3)).await;
        for l in &self.listeners {
            let _ = l.set_peer_password(addr, None);
        }
        true
    }

    /// Serve until `shutdown` completes, then stop every peer with a Cease.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                Some((stream, from)) = self.accepted.recv() => self.route(stream, from).await,
                Some(cmd) = self.commands.recv() => self.command(cmd).await,
            }
        }
        self.stop("sidrad is shutting down").await;
    }

    async fn route(&mut self, stream: TcpStream, from: SocketAddr) {
        let ip = canonical_ip(from.ip());
        match self.peers.get(&ip) {
            Some(p) => {
                let _ = p
                    .handle
                    .commands
                    .send(PeerCommand::Incoming(stream, from))
                    .await;
            }
            None => debug!(%from, "connection from an address that is not a configured neighbor"),
        }
    }

    pub fn status(&self) -> Vec<PeerStatus> {
        let mut v: Vec<PeerStatus> = self
            .peers
            .values()
            .map(|p| p.handle.status.borrow().clone())
            .collect();
        v.sort_by_key(|s| s.address);
        v
    }

    async fn stop(self, message: &str) {
        for t in &self.listener_tasks {
            t.abort();
        }
        for p in self.peers.values() {
            let _ = p
                .handle
                .commands
                .send(PeerCommand::Shutdown {
                    subcode: crate::packet::notification::cease::ADMINISTRATIVE_SHUTDOWN,
                    message: message.to_string(),
                })
                .await;
        }
        for (_, p) in self.peers {
            p.handle.join(Duration::from_secs(3)).await;
        }
        // The data plane keeps what is programmed (a restarted sidrad adopts it, and
        // forwarding goes on meanwhile); only the service task stops.
        if let Some(t) = &self.srv6_task {
            t.abort();
        }
        self.rib_task.abort();
    }
}
