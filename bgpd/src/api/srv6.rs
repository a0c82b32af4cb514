//! `sidra.v1.Srv6Service` and `sidra.v1.NodeService`, on the SRv6 service's handle
//! ([`crate::srv6::Srv6Handle`]).
//!
//! Reads come from the service's published snapshot (locators, services, remote routes, the
//! desired data plane state) and the reconciler's sync status (what the data plane holds as
//! far as sidrad knows): both are `watch` channels, so a read never waits on the service task.
//! Pod changes are commands to the service task, answered once the routes are originated and
//! the desired state recomputed; the answer then carries the service's new generation.
//!
//! Without an SRv6 service (no `[srv6]` section and `dataplane.backend = "none"`), every call
//! answers FAILED_PRECONDITION saying what to configure.

use std::collections::{BTreeSet, HashMap};
use std::net::Ipv6Addr;
use std::time::SystemTime;

use ipnet::IpNet;
use sidra_proto::v1 as pb;
use sidra_proto::v1::node_service_server::NodeService;
use sidra_proto::v1::srv6_service_server::Srv6Service;
use tonic::{Request, Response, Status};

use super::Ctx;
use super::status::SHUTTING_DOWN;
use crate::config::Srv6Config;
use crate::dataplane::reconciler::SyncStatus;
use crate::dataplane::{DataplaneState, SegmentList};
use crate::srv6::remote::{RouteStatus, Verdict};
use crate::srv6::{PodsError, Srv6Handle, Srv6Snapshot};

pub(super) struct Srv6(pub Ctx);
pub(super) struct Node(pub Ctx);

/// The message of FAILED_PRECONDITION without an SRv6 service.
pub const NOT_CONFIGURED: &str = "no [srv6] section is configured: add [[srv6.locators]] and \
     [[srv6.services]] (and [dataplane]) to the configuration file and restart sidrad \
     ([srv6] cannot change on reload)";

fn handle(ctx: &Ctx) -> Result<&Srv6Handle, Status> {
    ctx.check_open()?;
    ctx.daemon
        .srv6
        .as_ref()
        .ok_or_else(|| Status::failed_precondition(NOT_CONFIGURED))
}

/// The service's snapshot and the reconciler's status, as they are now.
fn views(h: &Srv6Handle) -> (std::sync::Arc<Srv6Snapshot>, SyncStatus) {
    (h.snapshot.borrow().clone(), h.sync.borrow().clone())
}

fn unix(t: Option<SystemTime>) -> i64 {
    t.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// NOT_FOUND naming the services that exist.
fn no_service(name: &str, snap: &Srv6Snapshot) -> Status {
    Status::not_found(format!(
        "no service named {name:?} is configured (services: {})",
        service_names(snap)
    ))
}

fn service_names(snap: &Srv6Snapshot) -> String {
    let names: Vec<&str> = snap
        .services
        .iter()
        .map(|s| s.config.name.as_str())
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// An optional service filter: empty is every service; an unknown name is NOT_FOUND.
fn service_filter<'a>(name: &'a str, snap: &Srv6Snapshot) -> Result<Option<&'a str>, Status> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(None);
    }
    if snap.services.iter().any(|s| s.config.name == name) {
        Ok(Some(name))
    } else {
        Err(no_service(name, snap))
    }
}

/// Why something desired is not in the data plane (yet).
fn not_programmed(sync: &SyncStatus) -> String {
    let error = sync
        .last_error
        .as_ref()
        .filter(|_| sync.last_error_at >= sync.last_sync || sync.last_sync.is_none());
    match (sync.pending, error) {
        (0, None) => "not programmed yet".into(),
        (0, Some(e)) => format!("not programmed: {e}"),
        (n, None) => format!("pending ({n} changes to apply)"),
        (n, Some(e)) => format!("pending ({n} changes to apply); last error: {e}"),
    }
}

fn stale_reason(sync: &SyncStatus) -> String {
    if sync.holding_removals {
        "no longer wanted: removal held until the peers' routes are back after a restart".into()
    } else {
        "no longer wanted: removal pending".into()
    }
}

pub(crate) fn locators(snap: &Srv6Snapshot, cfg: &Srv6Config) -> Vec<pb::Locator> {
    snap.locators
        .iter()
        .map(|(name, prefix)| {
            let mut l = pb::Locator {
                name: name.clone(),
                prefix: prefix.to_string(),
                advertised: cfg.advertise_locators,
                services: snap
                    .services
                    .iter()
                    .filter(|s| s.locator == *name)
                    .map(|s| s.config.name.clone())
                    .collect(),
                ..Default::default()
            };
            // The structure is the configuration's ([srv6] cannot change on reload).
            if let Some(c) = cfg
                .locators
                .iter()
                .find(|c| c.name == *name && c.locator.prefix() == *prefix)
            {
                let st = c.locator.structure();
                l.block_len = u32::from(st.block_len);
                l.node_len = u32::from(st.node_len);
                l.function_len = u32::from(st.function_len);
                l.argument_len = u32::from(st.argument_len);
            }
            l
        })
        .collect()
}

/// The desired local SIDs (with their service) and the programmed ones no longer desired.
pub(crate) fn local_sids(snap: &Srv6Snapshot, sync: &SyncStatus) -> Vec<pb::LocalSid> {
    let owner: HashMap<Ipv6Addr, (&str, &str)> = snap
        .services
        .iter()
        .flat_map(|s| {
            s.sids
                .iter()
                .map(|sid| (sid.sid, (s.config.name.as_str(), s.locator.as_str())))
        })
        .collect();
    let desired = &snap.desired.local_sids;
    let programmed = &sync.programmed.local_sids;
    let keys: BTreeSet<&Ipv6Addr> = desired.keys().chain(programmed.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let want = desired.get(k);
            let have = programmed.get(k);
            let s = want.or(have)?;
            let (service, locator) = owner.get(k).copied().unwrap_or_else(|| {
                let l = snap.locators.iter().find(|(_, p)| p.contains(k));
                ("", l.map_or("", |(n, _)| n.as_str()))
            });
            Some(pb::LocalSid {
                sid: s.sid.to_string(),
                behavior: s.behavior.name().into(),
                locator: locator.into(),
                service: if want.is_some() {
                    service.into()
                } else {
                    String::new()
                },
                installed: have.is_some() && (want.is_none() || have == want),
                table: s.table,
                stale: want.is_none(),
            })
        })
        .collect()
}

fn segment_lists(lists: &[SegmentList]) -> Vec<pb::SegmentList> {
    lists
        .iter()
        .map(|l| pb::SegmentList {
            segments: l.segments.iter().map(|s| s.to_string()).collect(),
            weight: l.weight,
        })
        .collect()
}

pub(crate) fn policies(snap: &Srv6Snapshot, sync: &SyncStatus) -> Vec<pb::SrPolicy> {
    let desired = &snap.desired.policies;
    let programmed = &sync.programmed.policies;
    let keys: BTreeSet<&Ipv6Addr> = desired.keys().chain(programmed.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let want = desired.get(k);
            let have = programmed.get(k);
            let p = want.or(have)?;
            let steering: &DataplaneState = if want.is_some() {
                &snap.desired
            } else {
                &sync.programmed
            };
            let first = p.segment_lists.first();
            Some(pb::SrPolicy {
                name: p.bsid.to_string(),
                color: 0,
                endpoint: first
                    .and_then(|l| l.segments.last())
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
                segment_list: first
                    .map(|l| l.segments.iter().map(|s| s.to_string()).collect())
                    .unwrap_or_default(),
                active: have.is_some() && (want.is_none() || have == want),
                bsid: p.bsid.to_string(),
                segment_lists: segment_lists(&p.segment_lists),
                stale: want.is_none(),
                steering_count: u32::try_from(
                    steering
                        .steering
                        .values()
                        .filter(|s| s.bsid == p.bsid)
                        .count(),
                )
                .unwrap_or(u32::MAX),
            })
        })
        .collect()
}

pub(crate) fn steering(
    snap: &Srv6Snapshot,
    sync: &SyncStatus,
    service: Option<&str>,
) -> Vec<pb::SteeringEntry> {
    // The route behind each desired entry (the first one installed in that table).
    let mut behind: HashMap<(u32, IpNet), &RouteStatus> = HashMap::new();
    for r in snap.routes.iter() {
        if let Verdict::Installed { table, .. } = r.verdict {
            behind.entry((table, r.prefix)).or_insert(r);
        }
    }
    let desired = &snap.desired.steering;
    let programmed = &sync.programmed.steering;
    let keys: BTreeSet<&(u32, IpNet)> = desired.keys().chain(programmed.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let want = desired.get(k);
            let have = programmed.get(k);
            let s = want.or(have)?;
            let route = want.and_then(|_| behind.get(k).copied());
            let svc = route.and_then(|r| r.service.clone()).unwrap_or_default();
            if service.is_some_and(|f| f != svc) {
                return None;
            }
            let installed = have.is_some() && (want.is_none() || have == want);
            let reason = if want.is_none() {
                stale_reason(sync)
            } else if installed {
                String::new()
            } else {
                not_programmed(sync)
            };
            let sid = route.and_then(|r| r.sid).or_else(|| {
                // A stale entry: the SID is the end of its policy's first list.
                sync.programmed
                    .policies
                    .get(&s.bsid)
                    .and_then(|p| p.segment_lists.first())
                    .and_then(|l| l.segments.last().copied())
            });
            Some(pb::SteeringEntry {
                service: svc,
                prefix: s.prefix.to_string(),
                sid: sid.map(|a| a.to_string()).unwrap_or_default(),
                next_hop: String::new(),
                installed,
                table: s.table,
                bsid: s.bsid.to_string(),
                reason,
                neighbor: route
                    .and_then(|r| r.neighbor)
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                stale: want.is_none(),
            })
        })
        .collect()
}

pub(crate) fn routes(
    snap: &Srv6Snapshot,
    service: Option<&str>,
    not_installed_only: bool,
) -> Vec<pb::Srv6Route> {
    snap.routes
        .iter()
        .filter(|r| service.is_none() || r.service.as_deref() == service)
        .filter(|r| !not_installed_only || matches!(r.verdict, Verdict::NotInstalled(_)))
        .map(|r| {
            let (installed, table, bsid, reason) = match &r.verdict {
                Verdict::Installed { table, bsid } => (true, *table, bsid.to_string(), ""),
                Verdict::NotInstalled(why) => (false, 0, String::new(), why.as_str()),
            };
            pb::Srv6Route {
                family: r.family.name(),
                prefix: r.prefix.to_string(),
                rd: r.rd.as_ref().map(|rd| rd.to_string()).unwrap_or_default(),
                neighbor: r.neighbor.map(|n| n.to_string()).unwrap_or_default(),
                sid: r.sid.map(|s| s.to_string()).unwrap_or_default(),
                behavior: match (r.sid, r.behavior) {
                    (Some(_), Some(b)) => srv6_sid::Behavior::from_u16(b).name().into(),
                    _ => String::new(),
                },
                service: r.service.clone().unwrap_or_default(),
                installed,
                table,
                bsid,
                reason: reason.into(),
            }
        })
        .collect()
}

pub(crate) fn dataplane_status(snap: &Srv6Snapshot, sync: &SyncStatus) -> pb::DataplaneStatus {
    let read_failed = sync.last_error.as_ref().is_some_and(|e| {
        e.starts_with("cannot read the data plane")
            && (sync.last_sync.is_none() || sync.last_error_at >= sync.last_sync)
    });
    let installed = snap
        .routes
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Installed { .. }))
        .count();
    pb::DataplaneStatus {
        connected: sync.reads_total > 0 && !read_failed,
        in_sync: sync.in_sync,
        pending_changes: count(sync.pending),
        last_error: sync.last_error.clone().unwrap_or_default(),
        last_error_unix: unix(sync.last_error_at),
        backend: sync.backend.into(),
        modes: sync.modes.clone(),
        holding_removals: sync.holding_removals,
        last_sync_unix: unix(sync.last_sync),
        applied_total: sync.applied_total,
        failed_total: sync.failed_total,
        reads_total: sync.reads_total,
        local_sids: count(sync.programmed.local_sids.len()),
        policies: count(sync.programmed.policies.len()),
        steering: count(sync.programmed.steering.len()),
        desired_local_sids: count(snap.desired.local_sids.len()),
        desired_policies: count(snap.desired.policies.len()),
        desired_steering: count(snap.desired.steering.len()),
        routes_installed: count(installed),
        routes_not_installed: count(snap.routes.len() - installed),
    }
}

#[tonic::async_trait]
impl Srv6Service for Srv6 {
    async fn list_locators(
        &self,
        _: Request<pb::ListLocatorsRequest>,
    ) -> Result<Response<pb::ListLocatorsResponse>, Status> {
        let (snap, _) = views(handle(&self.0)?);
        let cfg = self.0.reloader.current();
        Ok(Response::new(pb::ListLocatorsResponse {
            locators: locators(&snap, &cfg.srv6),
        }))
    }

    async fn list_local_sids(
        &self,
        _: Request<pb::ListLocalSidsRequest>,
    ) -> Result<Response<pb::ListLocalSidsResponse>, Status> {
        let (snap, sync) = views(handle(&self.0)?);
        Ok(Response::new(pb::ListLocalSidsResponse {
            sids: local_sids(&snap, &sync),
        }))
    }

    async fn list_policies(
        &self,
        _: Request<pb::ListSrPoliciesRequest>,
    ) -> Result<Response<pb::ListSrPoliciesResponse>, Status> {
        let (snap, sync) = views(handle(&self.0)?);
        Ok(Response::new(pb::ListSrPoliciesResponse {
            policies: policies(&snap, &sync),
        }))
    }

    async fn list_steering(
        &self,
        req: Request<pb::ListSteeringRequest>,
    ) -> Result<Response<pb::ListSteeringResponse>, Status> {
        let (snap, sync) = views(handle(&self.0)?);
        let req = req.into_inner();
        let service = service_filter(&req.service, &snap)?;
        Ok(Response::new(pb::ListSteeringResponse {
            entries: steering(&snap, &sync, service),
        }))
    }

    async fn get_dataplane_status(
        &self,
        _: Request<pb::GetDataplaneStatusRequest>,
    ) -> Result<Response<pb::DataplaneStatus>, Status> {
        let (snap, sync) = views(handle(&self.0)?);
        Ok(Response::new(dataplane_status(&snap, &sync)))
    }

    async fn list_srv6_routes(
        &self,
        req: Request<pb::ListSrv6RoutesRequest>,
    ) -> Result<Response<pb::ListSrv6RoutesResponse>, Status> {
        let (snap, _) = views(handle(&self.0)?);
        let req = req.into_inner();
        let service = service_filter(&req.service, &snap)?;
        Ok(Response::new(pb::ListSrv6RoutesResponse {
            routes: routes(&snap, service, req.not_installed),
        }))
    }
}

/// The CIDRs of a request: `cidrs[1]: "10.1.0.1/24" has host bits set (10.1.0.0/24?)`.
pub(crate) fn parse_cidrs(cidrs: &[String]) -> Result<Vec<IpNet>, Status> {
    cidrs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let t = c.trim();
            let n: IpNet = t.parse().map_err(|_| {
                Status::invalid_argument(format!(
                    "cidrs[{i}]: {c:?} is not a CIDR (e.g. \"10.1.0.0/24\", \"2001:db8:1::/64\")"
                ))
            })?;
            if n.trunc() != n {
                return Err(Status::invalid_argument(format!(
                    "cidrs[{i}]: {c:?} has host bits set (did you mean {}?)",
                    n.trunc()
                )));
            }
            Ok(n)
        })
        .collect()
}

/// The service named by a change: required.
fn required_service<'a>(name: &'a str, snap: &Srv6Snapshot) -> Result<&'a str, Status> {
    let t = name.trim();
    if t.is_empty() {
        return Err(Status::invalid_argument(format!(
            "service: missing (services: {})",
            service_names(snap)
        )));
    }
    Ok(t)
}

fn pods_error(e: PodsError, snap: &Srv6Snapshot) -> Status {
    match e {
        PodsError::NoService(name) => no_service(&name, snap),
        PodsError::GenerationMismatch { .. } => Status::aborted(format!(
            "{e}: list the pod CIDRs again and set them with the current generation"
        )),
        PodsError::Overlap { .. } => {
            Status::failed_precondition(format!("{e}: nothing was changed"))
        }
        PodsError::Gone => Status::unavailable(SHUTTING_DOWN),
    }
}

/// The pods of every service (or `service`'s) as the snapshot shows them.
pub(crate) fn pod_cidrs(snap: &Srv6Snapshot, service: Option<&str>) -> pb::PodCidrsResponse {
    let services: Vec<pb::ServicePodCidrs> = snap
        .services
        .iter()
        .filter(|s| service.is_none_or(|f| f == s.config.name))
        .map(|s| pb::ServicePodCidrs {
            service: s.config.name.clone(),
            cidrs: s.pods.iter().map(|p| p.to_string()).collect(),
            generation: s.generation,
            configured_cidrs: s.config.pods.iter().map(|p| p.to_string()).collect(),
            mode: s.config.mode.name().into(),
        })
        .collect();
    let generation = services
        .iter()
        .fold(0u64, |a, s| a.saturating_add(s.generation));
    pb::PodCidrsResponse {
        services,
        generation,
    }
}

impl Node {
    /// Run a pod change and answer with the service's pods and generation.
    async fn change<F, Fut>(
        &self,
        service: &str,
        cidrs: &[String],
        f: F,
    ) -> Result<Response<pb::PodCidrsResponse>, Status>
    where
        F: FnOnce(Srv6Handle, String, Vec<IpNet>) -> Fut,
        Fut: std::future::Future<Output = Result<(), PodsError>>,
    {
        let h = handle(&self.0)?.clone();
        let snap = h.snapshot.borrow().clone();
        let service = required_service(service, &snap)?.to_string();
        let pods = parse_cidrs(cidrs)?;
        f(h.clone(), service.clone(), pods)
            .await
            .map_err(|e| pods_error(e, &snap))?;
        let snap = h.snapshot.borrow().clone();
        Ok(Response::new(pod_cidrs(&snap, Some(&service))))
    }
}

#[tonic::async_trait]
impl NodeService for Node {
    async fn set_pod_cidrs(
        &self,
        req: Request<pb::SetPodCidrsRequest>,
    ) -> Result<Response<pb::PodCidrsResponse>, Status> {
        let r = req.into_inner();
        let expected = r.expected_generation;
        self.change(&r.service, &r.cidrs, |h, s, pods| async move {
            h.set_pods(&s, pods, expected).await
        })
        .await
    }

    async fn add_pod_cidrs(
        &self,
        req: Request<pb::AddPodCidrsRequest>,
    ) -> Result<Response<pb::PodCidrsResponse>, Status> {
        let r = req.into_inner();
        if r.cidrs.is_empty() {
            return Err(Status::invalid_argument("cidrs: none given"));
        }
        self.change(&r.service, &r.cidrs, |h, s, pods| async move {
            h.add_pods(&s, pods).await
        })
        .await
    }

    async fn remove_pod_cidrs(
        &self,
        req: Request<pb::RemovePodCidrsRequest>,
    ) -> Result<Response<pb::PodCidrsResponse>, Status> {
        let r = req.into_inner();
        if r.cidrs.is_empty() {
            return Err(Status::invalid_argument("cidrs: none given"));
        }
        self.change(&r.service, &r.cidrs, |h, s, pods| async move {
            h.remove_pods(&s, pods).await
        })
        .await
    }

    async fn list_pod_cidrs(
        &self,
        req: Request<pb::ListPodCidrsRequest>,
    ) -> Result<Response<pb::PodCidrsResponse>, Status> {
        let h = handle(&self.0)?;
        let snap = h.snapshot.borrow().clone();
        let req = req.into_inner();
        let service = service_filter(&req.service, &snap)?;
        Ok(Response::new(pod_cidrs(&snap, service)))
    }
}

#[cfg(test)]
#[path = "srv6_tests.rs"]
mod tests;
