//! The SRv6 service task: the async shell around [`super::local`] and [`super::remote`].
//!
//! It originates the pod and locator routes, follows the RIB's best routes through its change
//! feed (a fresh snapshot when it falls behind), recomputes the desired data plane state after
//! each burst of changes, and hands it to the [`crate::dataplane::reconciler`]. After a
//! restart, removals are held until every up peer has sent its End-of-RIB (its routes are all
//! back) or `dataplane.restart_hold` has passed, so the encapsulations of the previous run keep
//! forwarding meanwhile.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use ipnet::{IpNet, Ipv6Net};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::bsid::BsidAllocator;
use super::local::{self, ServiceSids};
use super::remote::{RemoteTable, RouteStatus, RouteStatuses, Verdict};
use crate::config::{Backend, Config, ServiceConfig, Srv6Config};
use crate::dataplane::reconciler::{self, ReconcilerHandle, SyncStatus};
use crate::dataplane::{Dataplane, DataplaneState, LocalSid};
use crate::packet::Family;
use crate::packet::nlri::Nlri;
use crate::rib::watch::{FAMILIES, RouteChange, best_routes};
use crate::rib::{FastMap, RibHandle, RibInput};

/// A service as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceView {
    pub config: ServiceConfig,
    pub locator: String,
    pub sids: Vec<LocalSid>,
    /// The pods advertised now (configuration plus the CNI agent's).
    pub pods: Vec<IpNet>,
    /// Bumped on every change of the agent's pods (0: none yet).
    pub generation: u64,
}

/// What the service shows (API, logs).
#[derive(Clone, Debug, Default)]
pub struct Srv6Snapshot {
    pub locators: Vec<(String, Ipv6Net)>,
    pub services: Vec<ServiceView>,
    pub routes: RouteStatuses,
    /// The desired data plane state, as last computed.
    pub desired: Arc<DataplaneState>,
}

#[derive(Debug, thiserror::Error)]
pub enum Srv6Error {
    #[error("srv6: {0}")]
    Sids(String),
    #[error("dataplane: {0}")]
    Backend(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PodsError {
    #[error("no service named {0:?}")]
    NoService(String),
    #[error("the pods changed since generation {expected}: the current generation is {current}")]
    GenerationMismatch { expected: u64, current: u64 },
    #[error("{prefix} overlaps {other} of service {service:?}")]
    Overlap {
        prefix: IpNet,
        other: IpNet,
        service: String,
    },
    #[error("the SRv6 service is not running")]
    Gone,
}

/// Commands from the API (the CNI agent's node service).
pub enum Srv6Command {
    /// Replace the agent's pods of a service, only if its generation is still
    /// `expected_generation` (0: whatever it is).
    SetPods {
        service: String,
        pods: Vec<IpNet>,
        expected_generation: u64,
        reply: oneshot::Sender<Result<(), PodsError>>,
    },
    AddPods {
        service: String,
        pods: Vec<IpNet>,
        reply: oneshot::Sender<Result<(), PodsError>>,
    },
    RemovePods {
        service: String,
        pods: Vec<IpNet>,
        reply: oneshot::Sender<Result<(), PodsError>>,
    },
}

/// The running service.
#[derive(Clone)]
pub struct Srv6Handle {
    pub snapshot: watch::Receiver<Arc<Srv6Snapshot>>,
    pub sync: watch::Receiver<SyncStatus>,
    pub commands: mpsc::Sender<Srv6Command>,
}

impl Srv6Handle {
    async fn ask(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<(), PodsError>>) -> Srv6Command,
    ) -> Result<(), PodsError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| PodsError::Gone)?;
        rx.await.map_err(|_| PodsError::Gone)?
    }

    pub async fn set_pods(
        &self,
        service: &str,
        pods: Vec<IpNet>,
        expected_generation: u64,
    ) -> Result<(), PodsError> {
        let service = service.to_string();
        self.ask(|reply| Srv6Command::SetPods {
            service,
            pods,
            expected_generation,
            reply,
        })
        .await
    }

    pub async fn add_pods(&self, service: &str, pods: Vec<IpNet>) -> Result<(), PodsError> {
        let service = service.to_string();
        self.ask(|reply| Srv6Command::AddPods {
            service,
            pods,
            reply,
        })
        .await
    }

    pub async fn remove_pods(&self, service: &str, pods: Vec<IpNet>) -> Result<(), PodsError> {
        let service = service.to_string();
        self.ask(|reply| Srv6Command::RemovePods {
            service,
            pods,
            reply,
        })
        .await
    }
}

/// Start the service and its data plane. `None` when nothing is configured for SRv6 and the
/// backend is `none` (a plain BGP speaker or reflector).
pub async fn start(
    config: &Config,
    rib: RibHandle,
) -> Result<Option<(Srv6Handle, JoinHandle<()>)>, Srv6Error> {
    let cfg = &config.srv6;
    if cfg.locators.is_empty()
        && cfg.services.is_empty()
        && config.dataplane.backend == Backend::None
    {
        return Ok(None);
    }
    match config.dataplane.backend {
        Backend::None => {
            run_with(crate::dataplane::none::NoDataplane::default(), config, rib).await
        }
        Backend::Kernel => {
            let kernel = crate::dataplane::kernel::KernelDataplane::new(
                crate::dataplane::kernel::KernelOptions {
                    protocol: config.dataplane.kernel_protocol,
                    device: None,
                    pmtu_relay: config.dataplane.pmtu_relay,
                },
            )
            .map_err(|e| Srv6Error::Backend(format!("kernel: {e}")))?;
            run_with(kernel, config, rib).await
        }
        Backend::Vpp => {
            // VPP programs no IP routes for sidra: the fabric must route the locators.
            if config.dataplane.underlay_routes {
                return Err(Srv6Error::Backend(
                    "dataplane.underlay_routes is not supported by the VPP backend (the \
                     fabric must route the locators)"
                        .into(),
                ));
            }
            let vpp = crate::dataplane::vpp::VppDataplane::connect(&config.dataplane.vpp_socket)
                .await
                .map_err(|e| Srv6Error::Backend(e.to_string()))?;
            run_with(vpp, config, rib).await
        }
    }
    .map(Some)
}

/// The binding SID range: `srv6.bsid_range`, else the upper half of the first locator's
/// function space, else a fixed ULA /64.
fn bsid_range(cfg: &Srv6Config) -> Ipv6Net {
    if let Some(r) = cfg.bsid_range {
        return r;
    }
    if let Some(l) = cfg.locators.first() {
        let st = l.locator.structure();
        let half = u32::from(st.function_len.saturating_sub(1));
        let offset = st.argument_offset();
        if let Some(f) = 1u128.checked_shl(half)
            && let Ok(a) = l.locator.sid(f as u64, 0)
            && let Ok(n) = Ipv6Net::new(
                a,
                offset
                    .saturating_sub(1)
                    .max(l.locator.prefix().prefix_len() + 1),
            )
        {
            return n.trunc();
        }
    }
    Ipv6Net::new(std::net::Ipv6Addr::new(0xfcff, 0, 0, 0, 0, 0, 0, 0), 64).unwrap_or_default()
}

async fn run_with<D: Dataplane>(
    backend: D,
    config: &Config,
    rib: RibHandle,
) -> Result<(Srv6Handle, JoinHandle<()>), Srv6Error> {
    let cfg = config.srv6.clone();
    let sids = local::allocate(&cfg).map_err(Srv6Error::Sids)?;
    for (s, ids) in cfg.services.iter().zip(&sids) {
        for sid in ids.all() {
            info!(service = %s.name, mode = s.mode.name(), "SID {} {} table {}", sid.sid, sid.behavior, sid.table);
        }
    }
    let (reconciler, first) = reconciler::spawn(backend, true);
    let found = first
        .await
        .map_err(|_| Srv6Error::Backend("the data plane could not be read".into()))?;
    let mut bsids = BsidAllocator::new(bsid_range(&cfg));
    for p in found.policies.values() {
        bsids.adopt(p.bsid, p.segment_lists.clone());
    }
    let hold = !found.is_empty();
    // A backend that programs forwarding state and found none: nothing survived (F bit).
    crate::session::forwarding_state_lost(!hold && config.dataplane.backend != Backend::None);
    if hold {
        info!(
            objects = found.len(),
            "the data plane holds state from a previous run: nothing is removed until the peers' routes are back"
        );
    } else {
        reconciler.hold_removals(false);
    }
    let pods = cfg
        .services
        .iter()
        .map(|s| s.pods.iter().copied().collect())
        .collect();
    let (snap_tx, snapshot) = watch::channel(Arc::new(Srv6Snapshot::default()));
    let (cmd_tx, commands) = mpsc::channel(16);
    let handle = Srv6Handle {
        snapshot,
        sync: reconciler.status.clone(),
        commands: cmd_tx,
    };
    let mut svc = Service {
        cfg,
        underlay_routes: config.dataplane.underlay_routes,
        sids,
        pods,
        agent_pods: vec![BTreeSet::new(); config.srv6.services.len()],
        generations: vec![0; config.srv6.services.len()],
        advertised: HashSet::new(),
        remote: RemoteTable::default(),
        bsids,
        rib,
        reconciler,
        snapshot: snap_tx,
        statuses: Arc::new(Vec::new()),
        hold_until: hold.then(|| tokio::time::Instant::now() + config.dataplane.restart_hold),
        neighbors: config.neighbors.iter().filter(|n| !n.shutdown).count(),
    };
    svc.advertise().await;
    let task = tokio::spawn(async move { svc.run(commands).await });
    Ok((handle, task))
}

struct Service {
    cfg: Srv6Config,
    underlay_routes: bool,
    sids: Vec<ServiceSids>,
    /// Per service: the configured pods plus the agent's.
    pods: Vec<BTreeSet<IpNet>>,
    agent_pods: Vec<BTreeSet<IpNet>>,
    generations: Vec<u64>,
    /// What we originated, to withdraw what is gone.
    advertised: HashSet<(Family, Nlri)>,
    remote: RemoteTable,
    bsids: BsidAllocator,
    rib: RibHandle,
    reconciler: ReconcilerHandle,
    snapshot: watch::Sender<Arc<Srv6Snapshot>>,
    statuses: RouteStatuses,
    hold_until: Option<tokio::time::Instant>,
    neighbors: usize,
}

/// How long the service lets changes pile up before recomputing (a table load arrives as many
/// UPDATEs; one recomputation per burst).
const SETTLE: Duration = Duration::from_millis(50);

impl Service {
    async fn run(mut self, mut commands: mpsc::Receiver<Srv6Command>) {
        let mut feed = self.subscribe().await;
        self.recompute();
        let mut hold_check = tokio::time::interval(Duration::from_millis(500));
        loop {
            let Some(rx) = feed.as_mut() else {
                warn!("the RIB is gone: the SRv6 service stops");
                return;
            };
            tokio::select! {
                r = rx.recv() => match r {
                    Ok(change) => {
                        self.remote.apply(&change);
                        self.drain(&mut feed).await;
                        self.recompute();
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        warn!(missed = n, "fell behind the RIB: taking a fresh snapshot");
                        feed = self.subscribe().await;
                        self.recompute();
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                Some(cmd) = commands.recv() => self.command(cmd).await,
                _ = hold_check.tick(), if self.hold_until.is_some() => self.check_hold().await,
            }
        }
    }

    /// Take the changes that arrive within [`SETTLE`] of each other.
    async fn drain(&mut self, feed: &mut Option<broadcast::Receiver<RouteChange>>) {
        let Some(rx) = feed.as_mut() else { return };
        loop {
            match tokio::time::timeout(SETTLE, rx.recv()).await {
                Ok(Ok(change)) => self.remote.apply(&change),
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => {
                    *feed = self.subscribe().await;
                    return;
                }
                Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => return,
            }
        }
    }

    /// Subscribe to the feed and load every best route, in one step of the RIB task.
    async fn subscribe(&mut self) -> Option<broadcast::Receiver<RouteChange>> {
        let (rx, routes) = self
            .rib
            .query(|rib| {
                let rx = rib.watch.subscribe();
                let routes: Vec<RouteChange> =
                    FAMILIES.iter().flat_map(|f| best_routes(rib, *f)).collect();
                (rx, routes)
            })
            .await?;
        self.remote.clear();
        for c in &routes {
            self.remote.apply(c);
        }
        Some(rx)
    }

    async fn check_hold(&mut self) {
        let Some(until) = self.hold_until else { return };
        let synced = self
            .rib
            .query(|rib| rib.synced_peers().len())
            .await
            .unwrap_or(0);
        let timed_out = tokio::time::Instant::now() >= until;
        if synced >= self.neighbors || timed_out {
            info!(
                synced_peers = synced,
                timed_out, "routes are back after the restart: removing what is no longer wanted"
            );
            self.hold_until = None;
            self.reconciler.hold_removals(false);
        }
    }

    fn recompute(&mut self) {
        let mut state = DataplaneState {
            encap_source: self.cfg.source_address,
            ..Default::default()
        };
        for sids in &self.sids {
            for s in sids.all() {
                state.tables.insert((s.table, false));
                state.tables.insert((s.table, true));
                state.add_local_sid(s);
            }
        }
        let statuses =
            self.remote
                .desired(&self.cfg, self.underlay_routes, &mut self.bsids, &mut state);
        let state = Arc::new(state);
        self.log_verdicts(&statuses);
        self.statuses = Arc::new(statuses);
        self.reconciler.set_desired(state.clone());
        self.publish(state);
    }

    /// Log each route whose verdict changed: why it is not installed, or that it now is.
    fn log_verdicts(&self, new: &[RouteStatus]) {
        type Key<'a> = (
            Family,
            IpNet,
            Option<crate::packet::nlri::RouteDistinguisher>,
            Option<&'a str>,
        );
        fn key(s: &RouteStatus) -> Key<'_> {
            (s.family, s.prefix, s.rd, s.service.as_deref())
        }
        let old: FastMap<Key<'_>, &Verdict> =
            self.statuses.iter().map(|s| (key(s), &s.verdict)).collect();
        for s in new {
            if old.get(&key(s)).is_some_and(|v| **v == s.verdict) {
                continue;
            }
            let rd = s.rd.map(|r| r.to_string()).unwrap_or_default();
            let from = s.neighbor.map(|n| n.to_string()).unwrap_or_default();
            match &s.verdict {
                Verdict::NotInstalled(reason) => warn!(
                    family = %s.family, prefix = %s.prefix, rd, from,
                    "route not installed: {reason}"
                ),
                Verdict::Installed { table, bsid } => debug!(
                    family = %s.family, prefix = %s.prefix, rd, from, table, %bsid,
                    "route installed"
                ),
            }
        }
    }

    fn publish(&self, desired: Arc<DataplaneState>) {
        let services = self
            .cfg
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| ServiceView {
                config: s.clone(),
                locator: self
                    .cfg
                    .locators
                    .get(s.locator)
                    .map(|l| l.name.clone())
                    .unwrap_or_default(),
                sids: self
                    .sids
                    .get(i)
                    .map(|x| x.all().collect())
                    .unwrap_or_default(),
                pods: self
                    .pods
                    .get(i)
                    .map(|p| p.iter().copied().collect())
                    .unwrap_or_default(),
                generation: self.generations.get(i).copied().unwrap_or(0),
            })
            .collect();
        self.snapshot.send_replace(Arc::new(Srv6Snapshot {
            locators: self
                .cfg
                .locators
                .iter()
                .map(|l| (l.name.clone(), l.locator.prefix()))
                .collect(),
            services,
            routes: self.statuses.clone(),
            desired,
        }));
    }

    /// Originate what should be advertised and withdraw what no longer is.
    async fn advertise(&mut self) {
        let mut want = Vec::new();
        if self.cfg.advertise_locators {
            for l in &self.cfg.locators {
                want.push(local::locator_route(&l.locator));
            }
        }
        for (i, s) in self.cfg.services.iter().enumerate() {
            let (Some(l), Some(sids), Some(pods)) = (
                self.cfg.locators.get(s.locator),
                self.sids.get(i),
                self.pods.get(i),
            ) else {
                continue;
            };
            for p in pods {
                match local::pod_route(s, &l.locator, sids, *p) {
                    Ok(r) => want.push(r),
                    Err(e) => warn!(service = %s.name, "cannot advertise {p}: {e}"),
                }
            }
        }
        let mut now = HashSet::new();
        for (f, n, attrs) in want {
            now.insert((f, n));
            self.rib.send(RibInput::Originate(f, n, attrs)).await;
        }
        for (f, n) in &self.advertised {
            if !now.contains(&(*f, *n)) {
                self.rib.send(RibInput::WithdrawLocal(*f, *n)).await;
            }
        }
        self.advertised = now;
    }

    async fn command(&mut self, cmd: Srv6Command) {
        match cmd {
            Srv6Command::SetPods {
                service,
                pods,
                expected_generation,
                reply,
            } => {
                let r = self.change_pods(&service, |agent, current| {
                    if expected_generation != 0 && expected_generation != current {
                        return Err(PodsError::GenerationMismatch {
                            expected: expected_generation,
                            current,
                        });
                    }
                    *agent = pods.into_iter().collect();
                    Ok(())
                });
                self.after_pods(r, reply).await;
            }
            Srv6Command::AddPods {
                service,
                pods,
                reply,
            } => {
                let r = self.change_pods(&service, |agent, _| {
                    agent.extend(pods);
                    Ok(())
                });
                self.after_pods(r, reply).await;
            }
            Srv6Command::RemovePods {
                service,
                pods,
                reply,
            } => {
                let r = self.change_pods(&service, |agent, _| {
                    for p in &pods {
                        agent.remove(p);
                    }
                    Ok(())
                });
                self.after_pods(r, reply).await;
            }
        }
    }

    async fn after_pods(
        &mut self,
        r: Result<(), PodsError>,
        reply: oneshot::Sender<Result<(), PodsError>>,
    ) {
        if r.is_ok() {
            self.advertise().await;
            self.recompute();
        }
        let _ = reply.send(r);
    }

    /// Change the agent's pods of `service` with `f`, then check them against the other
    /// services' pods; nothing changes on error.
    fn change_pods(
        &mut self,
        service: &str,
        f: impl FnOnce(&mut BTreeSet<IpNet>, u64) -> Result<(), PodsError>,
    ) -> Result<(), PodsError> {
        let Some(i) = self.cfg.services.iter().position(|s| s.name == service) else {
            return Err(PodsError::NoService(service.to_string()));
        };
        let mut agent = self.agent_pods[i].clone();
        f(&mut agent, self.generations[i])?;
        let agent: BTreeSet<IpNet> = agent.into_iter().map(|p| p.trunc()).collect();
        for p in &agent {
            for (j, other) in self.pods.iter().enumerate() {
                if j == i {
                    continue;
                }
                if let Some(q) = other.iter().find(|q| q.contains(p) || p.contains(*q)) {
                    return Err(PodsError::Overlap {
                        prefix: *p,
                        other: *q,
                        service: self.cfg.services[j].name.clone(),
                    });
                }
            }
        }
        let mut all: BTreeSet<IpNet> = self.cfg.services[i].pods.iter().copied().collect();
        all.extend(agent.iter().copied());
        self.pods[i] = all;
        // The generation moves only when the agent's set changes: a retried call is a no-op.
        if agent != self.agent_pods[i] {
            self.generations[i] += 1;
        }
        self.agent_pods[i] = agent;
        Ok(())
    }
}

/// The statuses of the routes that are not installed (for logs and tests).
pub fn not_installed(statuses: &[RouteStatus]) -> impl Iterator<Item = &RouteStatus> {
    statuses
        .iter()
        .filter(|s| matches!(s.verdict, super::remote::Verdict::NotInstalled(_)))
}
