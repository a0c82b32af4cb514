//! Control of a running daemon: what the API, `sidractl` and SIGHUP use. Every command is a
//! message to the daemon task, answered over a oneshot channel; nothing reaches into the
//! daemon's state from outside.

use std::net::IpAddr;

use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

use super::{Daemon, local_network};
use crate::config::{Config, NeighborConfig};
use crate::packet::notification::cease;
use crate::rib::{RibHandle, RibInput};
use crate::session::{PeerCommand, PeerStatus};

/// A neighbor as configured, with its session's state.
#[derive(Clone, Debug)]
pub struct NeighborView {
    pub config: NeighborConfig,
    pub status: PeerStatus,
}

/// What a reload changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReloadReport {
    pub added: Vec<IpAddr>,
    pub removed: Vec<IpAddr>,
    /// Session settings changed: the session was reset (Cease 6/6).
    pub reset: Vec<IpAddr>,
    /// Only the policy changed: applied without a reset (soft reconfiguration).
    pub policy_changed: Vec<IpAddr>,
    pub unchanged: usize,
}

type Reply<T> = oneshot::Sender<Result<T, String>>;

pub enum DaemonCommand {
    Neighbors(oneshot::Sender<Vec<NeighborView>>),
    AddNeighbor(Box<NeighborConfig>, Reply<()>),
    DeleteNeighbor(IpAddr, Reply<()>),
    /// Enable (ManualStart) or disable (Cease 6/2 with this RFC 9003 message).
    SetEnabled(IpAddr, bool, String, Reply<()>),
    Reset(IpAddr, bool, Reply<()>),
    Reload(Box<Config>, Reply<ReloadReport>),
}

/// Cheap to clone; talks to the daemon task.
#[derive(Clone)]
pub struct DaemonHandle {
    pub(super) tx: mpsc::Sender<DaemonCommand>,
    pub rib: RibHandle,
    /// The SRv6 service, when one runs.
    pub srv6: Option<crate::srv6::Srv6Handle>,
}

const GONE: &str = "the daemon is shutting down";

impl DaemonHandle {
    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> DaemonCommand) -> Result<T, String> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).await.map_err(|_| GONE.to_string())?;
        rx.await.map_err(|_| GONE.to_string())?
    }

    pub async fn neighbors(&self) -> Vec<NeighborView> {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(DaemonCommand::Neighbors(tx)).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    pub async fn add_neighbor(&self, n: NeighborConfig) -> Result<(), String> {
        self.ask(|r| DaemonCommand::AddNeighbor(Box::new(n), r))
            .await
    }

    pub async fn delete_neighbor(&self, addr: IpAddr) -> Result<(), String> {
        self.ask(|r| DaemonCommand::DeleteNeighbor(addr, r)).await
    }

    pub async fn set_enabled(&self, addr: IpAddr, on: bool, message: String) -> Result<(), String> {
        self.ask(|r| DaemonCommand::SetEnabled(addr, on, message, r))
            .await
    }

    pub async fn reset(&self, addr: IpAddr, hard: bool) -> Result<(), String> {
        self.ask(|r| DaemonCommand::Reset(addr, hard, r)).await
    }

    pub async fn reload(&self, config: Config) -> Result<ReloadReport, String> {
        self.ask(|r| DaemonCommand::Reload(Box::new(config), r))
            .await
    }
}

/// Settings whose change needs a new session (everything but the description and the
/// administrative state).
fn session_changed(a: &NeighborConfig, b: &NeighborConfig) -> bool {
    let strip = |n: &NeighborConfig| NeighborConfig {
        description: None,
        shutdown: false,
        group: None,
        import_policy: None,
        export_policy: None,
        max_prefixes: None,
        max_prefixes_action: Default::default(),
        soft_reconfiguration_inbound: false,
        ..n.clone()
    };
    strip(a) != strip(b)
}

/// Settings the session applies without a reset (soft reconfiguration).
fn policy_changed(a: &NeighborConfig, b: &NeighborConfig) -> bool {
    a.import_policy != b.import_policy
        || a.export_policy != b.export_policy
        || a.max_prefixes != b.max_prefixes
        || a.max_prefixes_action != b.max_prefixes_action
        || a.soft_reconfiguration_inbound != b.soft_reconfiguration_inbound
}

impl Daemon {
    pub(super) async fn command(&mut self, cmd: DaemonCommand) {
        match cmd {
            DaemonCommand::Neighbors(reply) => {
                let mut v: Vec<NeighborView> = self
                    .peers
                    .values()
                    .map(|n| NeighborView {
                        config: n.config.clone(),
                        status: n.handle.status.borrow().clone(),
                    })
                    .collect();
                v.sort_by_key(|n| n.config.address);
                let _ = reply.send(v);
            }
            DaemonCommand::AddNeighbor(n, reply) => {
                let r = if self.peers.contains_key(&n.address) {
                    Err(format!("neighbor {} already exists", n.address))
                } else {
                    self.config.neighbors.push((*n).clone());
                    self.add_neighbor(*n);
                    Ok(())
                };
                let _ = reply.send(r);
            }
            DaemonCommand::DeleteNeighbor(addr, reply) => {
                let r = if self
                    .remove_neighbor(addr, cease::PEER_DECONFIGURED, "")
                    .await
                {
                    self.config.neighbors.retain(|n| n.address != addr);
                    Ok(())
                } else {
                    Err(format!("no neighbor {addr}"))
                };
                let _ = reply.send(r);
            }
            DaemonCommand::SetEnabled(addr, on, message, reply) => {
                let r = match self.peers.get_mut(&addr) {
                    None => Err(format!("no neighbor {addr}")),
                    Some(n) => {
                        n.config.shutdown = !on;
                        let cmd = if on {
                            PeerCommand::Start
                        } else {
                            PeerCommand::Stop { message }
                        };
                        n.handle
                            .commands
                            .send(cmd)
                            .await
                            .map_err(|_| GONE.to_string())
                    }
                };
                let _ = reply.send(r);
            }
            DaemonCommand::Reset(addr, hard, reply) => {
                let r = match self.peers.get(&addr) {
                    None => Err(format!("no neighbor {addr}")),
                    Some(n) => n
                        .handle
                        .commands
                        .send(PeerCommand::Reset { hard })
                        .await
                        .map_err(|_| GONE.to_string()),
                };
                let _ = reply.send(r);
            }
            DaemonCommand::Reload(config, reply) => {
                let r = self.reload(*config).await;
                let _ = reply.send(r);
            }
        }
    }

    /// Apply a new configuration: added neighbors start, removed ones stop with Cease 6/3,
    /// changed ones are reset with Cease 6/6, untouched sessions stay up. Global settings that
    /// cannot change while running are refused (the old configuration stays in force).
    async fn reload(&mut self, new: Config) -> Result<ReloadReport, String> {
        let old = &self.config.global;
        if new.global.asn != old.asn
            || new.global.router_id != old.router_id
            || new.global.listen != old.listen
            || new.global.cluster_id != old.cluster_id
            || new.global.always_compare_med != old.always_compare_med
            || new.global.multipath != old.multipath
        {
            return Err(
                "global.asn, global.router_id, global.listen and global.cluster_id cannot change \
                 while sidrad runs: restart it"
                    .into(),
            );
        }
        if new.srv6 != self.config.srv6 || new.dataplane != self.config.dataplane {
            return Err(
                "[srv6] and [dataplane] cannot change while sidrad runs (pods can: use the node \
                 API): restart it"
                    .into(),
            );
        }
        let mut report = ReloadReport::default();
        let current: Vec<IpAddr> = self.peers.keys().copied().collect();
        for addr in current {
            if new.neighbor(addr).is_none() {
                self.remove_neighbor(addr, cease::PEER_DECONFIGURED, "")
                    .await;
                report.removed.push(addr);
            }
        }
        for n in &new.neighbors {
            match self.peers.get_mut(&n.address) {
                None => {
                    self.add_neighbor(n.clone());
                    report.added.push(n.address);
                }
                Some(cur) if session_changed(&cur.config, n) => {
                    self.remove_neighbor(n.address, cease::OTHER_CONFIGURATION_CHANGE, "")
                        .await;
                    self.add_neighbor(n.clone());
                    report.reset.push(n.address);
                }
                Some(cur) => {
                    if policy_changed(&cur.config, n) {
                        let p = crate::rib::PeerPolicy::of(n, new.global.ebgp_requires_policy);
                        let _ = cur.handle.commands.send(PeerCommand::SetPolicy(p)).await;
                        report.policy_changed.push(n.address);
                    }
                    if cur.config.shutdown != n.shutdown {
                        let cmd = if n.shutdown {
                            PeerCommand::Stop {
                                message: "disabled by configuration".into(),
                            }
                        } else {
                            PeerCommand::Start
                        };
                        let _ = cur.handle.commands.send(cmd).await;
                    }
                    cur.config = n.clone();
                    report.unchanged += 1;
                }
            }
        }
        // Originated networks: withdraw the removed ones, originate the new ones.
        for net in &self.config.global.networks {
            if !new.global.networks.contains(net) {
                let (f, nlri, _) = local_network(*net);
                self.rib.send(RibInput::WithdrawLocal(f, nlri)).await;
            }
        }
        for net in &new.global.networks {
            if !self.config.global.networks.contains(net) {
                let (f, nlri, attrs) = local_network(*net);
                self.rib.send(RibInput::Originate(f, nlri, attrs)).await;
            }
        }
        info!(
            added = report.added.len(),
            removed = report.removed.len(),
            reset = report.reset.len(),
            unchanged = report.unchanged,
            "configuration reloaded"
        );
        if !report.reset.is_empty() {
            warn!("sessions reset by the reload: {:?}", report.reset);
        }
        self.config = new;
        Ok(report)
    }
}
