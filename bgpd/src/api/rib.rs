//! `sidra.v1.RibService`: routes from the Loc-RIB (read inside the RIB task, converted
//! outside it) and the change feed ([`crate::rib::watch`]).

use std::net::IpAddr;

use ipnet::IpNet;
use sidra_proto::v1 as pb;
use sidra_proto::v1::rib_service_server::RibService;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::{Ctx, status};
use crate::packet::Family;
use crate::packet::attribute::AttrValue;
use crate::packet::attribute::community::community_to_string;
use crate::packet::nlri::{Nlri, VpnLabel};
use crate::packet::srv6::service_sid;
use crate::rib::decision::{Reason, explain};
use crate::rib::watch::{self, FAMILIES, RouteChange};
use crate::rib::{LOCAL_PEER, Path, RouteKey};

pub(super) struct Routes(pub Ctx);

/// How many events may wait for a slow watcher before the feed itself starts to lag.
const STREAM_QUEUE: usize = 256;

/// The neighbor label of our own routes.
pub const LOCAL: &str = "local";

/// One path with what the API shows of it.
pub fn path(
    key: &RouteKey,
    p: &Path,
    neighbor: Option<IpAddr>,
    best: bool,
    multipath: bool,
) -> pb::Path {
    let a = &p.attrs;
    let d = &a.decision;
    let mut out = pb::Path {
        neighbor: neighbor.map_or_else(|| LOCAL.to_string(), |n| n.to_string()),
        best,
        multipath,
        stale: p.stale,
        path_id: p.path_id,
        next_hop: a.next_hop.map(|n| n.global.to_string()).unwrap_or_default(),
        next_hop_link_local: a
            .next_hop
            .and_then(|n| n.link_local)
            .map(|l| l.to_string())
            .unwrap_or_default(),
        as_path: a.as_path().map(|p| p.to_string()).unwrap_or_default(),
        origin: match d.origin {
            0 => "igp",
            1 => "egp",
            _ => "incomplete",
        }
        .to_string(),
        local_pref: d.local_pref,
        med: d.med,
        communities: a
            .communities()
            .iter()
            .map(|c| community_to_string(*c))
            .collect(),
        // The stored field is the 24-bit label field (label, TC, S); the API gives the label.
        label: p.label.map(srv6_sid::label_value),
        ..Default::default()
    };
    for attr in &a.attrs {
        match &attr.value {
            AttrValue::LargeCommunities(v) => {
                out.large_communities = v.iter().map(|c| c.to_string()).collect()
            }
            AttrValue::ExtendedCommunities(v) => {
                out.ext_communities = v.iter().map(|c| c.to_string()).collect()
            }
            AttrValue::OriginatorId(o) => out.originator_id = o.to_string(),
            AttrValue::ClusterList(c) => {
                out.cluster_list = c.iter().map(|c| c.to_string()).collect()
            }
            _ => {}
        }
    }
    if let Some(psid) = a.prefix_sid() {
        let nlri = Nlri {
            path_id: None,
            prefix: key.prefix,
            vpn: key
                .rd
                .zip(p.label)
                .map(|(rd, label)| VpnLabel { label, rd }),
        };
        match service_sid(psid, &nlri) {
            Ok(Some(s)) => {
                out.srv6_sid = s.sid.to_string();
                out.srv6_behavior = u32::from(s.behavior);
            }
            Ok(None) => {}
            Err(e) => out.srv6_sid_error = e,
        }
    }
    out
}

fn route_key(family: Family, key: &RouteKey) -> pb::RouteKey {
    pb::RouteKey {
        family: family.name(),
        prefix: key.prefix.to_string(),
        rd: key.rd.map(|r| r.to_string()).unwrap_or_default(),
    }
}

fn with_reason(mut r: pb::Route, reason: Option<Reason>) -> pb::Route {
    if let Some(reason) = reason {
        r.reason = reason.name().to_string();
        r.reason_text = explain(reason).to_string();
    }
    r
}

/// A feed event as the API streams it.
pub fn event(c: &RouteChange) -> pb::RouteEvent {
    let k = route_key(c.family, &c.key);
    let ev = match &c.best {
        None => pb::route_event::Event::Withdraw(k),
        Some(b) => {
            let route = pb::Route {
                family: k.family,
                prefix: k.prefix,
                rd: k.rd,
                paths: vec![path(&c.key, &b.path, b.neighbor, true, true)],
                ..Default::default()
            };
            pb::route_event::Event::Update(with_reason(route, Some(b.reason)))
        }
    };
    pb::RouteEvent { event: Some(ev) }
}

/// Which paths a ListRoutes wants.
#[derive(Clone, Copy)]
enum From {
    Any,
    Local,
    Neighbor(IpAddr),
}

/// One prefix as read in the RIB task: its paths with their neighbors, the best first.
struct Row {
    key: RouteKey,
    paths: Vec<(Path, Option<IpAddr>, bool, bool)>,
    reason: Option<Reason>,
}

#[tonic::async_trait]
impl RibService for Routes {
    async fn list_routes(
        &self,
        req: Request<pb::ListRoutesRequest>,
    ) -> Result<Response<pb::ListRoutesResponse>, Status> {
        self.0.check_open()?;
        let req = req.into_inner();
        let family = status::family("family", &req.family, Family::IPV4_UNICAST)?;
        let prefix: Option<IpNet> = if req.prefix.trim().is_empty() {
            None
        } else {
            Some(status::prefix("prefix", &req.prefix)?)
        };
        if let Some(p) = prefix
            && p.addr().is_ipv4() != matches!(family, Family::IPV4_UNICAST | Family::IPV4_VPN)
        {
            return Err(Status::invalid_argument(format!(
                "prefix: {p} is not in family {} (use -a/family to choose one)",
                family.name()
            )));
        }
        let from = match req.neighbor.trim() {
            "" => From::Any,
            LOCAL => From::Local,
            s => From::Neighbor(status::address("neighbor", s)?),
        };
        let (longer, all) = (req.longer_prefixes, req.all_paths);
        let rows = self
            .0
            .daemon
            .rib
            .query(move |rib| {
                let Some(table) = rib.table(family) else {
                    return Vec::new();
                };
                let wanted = |k: &RouteKey| match prefix {
                    None => true,
                    Some(p) if longer => p.contains(&k.prefix),
                    Some(p) => p == k.prefix,
                };
                let mut rows: Vec<Row> = table
                    .iter()
                    .filter(|(k, _)| wanted(k))
                    .filter_map(|(k, e)| {
                        // The best path is the entry's first, the multipath set its first n.
                        let chosen = e.best_path().is_some();
                        let n_multi = e.multipath_others().len() + usize::from(chosen);
                        let mut paths: Vec<(Path, Option<IpAddr>, bool, bool)> = e
                            .paths()
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| all || (chosen && *i == 0))
                            .filter(|(_, p)| match from {
                                From::Any => true,
                                From::Local => p.peer == LOCAL_PEER,
                                From::Neighbor(a) => watch::neighbor_of(rib, p) == Some(a),
                            })
                            .map(|(i, p)| {
                                let best = chosen && i == 0;
                                let multi = i < n_multi;
                                (p.clone(), watch::neighbor_of(rib, p), best, multi)
                            })
                            .collect();
                        if paths.is_empty() {
                            return None;
                        }
                        paths.sort_by_key(|(_, _, best, _)| !*best);
                        Some(Row {
                            key: k,
                            paths,
                            reason: e.reason(),
                        })
                    })
                    .collect();
                rows.sort_by_key(|r| r.key);
                rows
            })
            .await
            .ok_or_else(status::rib_gone)?;
        let routes = rows
            .iter()
            .map(|r| {
                let k = route_key(family, &r.key);
                let route = pb::Route {
                    family: k.family,
                    prefix: k.prefix,
                    rd: k.rd,
                    paths: r
                        .paths
                        .iter()
                        .map(|(p, n, best, multi)| path(&r.key, p, *n, *best, *multi))
                        .collect(),
                    ..Default::default()
                };
                with_reason(route, r.reason)
            })
            .collect();
        Ok(Response::new(pb::ListRoutesResponse { routes }))
    }

    type WatchRoutesStream = ReceiverStream<Result<pb::RouteEvent, Status>>;

    async fn watch_routes(
        &self,
        req: Request<pb::WatchRoutesRequest>,
    ) -> Result<Response<Self::WatchRoutesStream>, Status> {
        self.0.check_open()?;
        let req = req.into_inner();
        let mut families = Vec::new();
        for (i, f) in req.families.iter().enumerate() {
            families.push(status::family(
                &format!("families[{i}]"),
                f,
                Family::IPV4_UNICAST,
            )?);
        }
        if families.is_empty() {
            families = FAMILIES.to_vec();
        }
        let initial = req.initial;
        let snapshot_families = families.clone();
        let (mut feed, snapshot) = self
            .0
            .daemon
            .rib
            .query(move |rib| {
                // Subscribe and read in one step: no change falls in between.
                let feed = rib.watch.subscribe();
                let snapshot: Vec<RouteChange> = if initial {
                    snapshot_families
                        .iter()
                        .flat_map(|f| watch::best_routes(rib, *f))
                        .collect()
                } else {
                    Vec::new()
                };
                (feed, snapshot)
            })
            .await
            .ok_or_else(status::rib_gone)?;
        let (tx, rx) = mpsc::channel(STREAM_QUEUE);
        let mut closing = self.0.closing.clone();
        tokio::spawn(async move {
            for c in &snapshot {
                if tx.send(Ok(event(c))).await.is_err() {
                    return;
                }
            }
            if initial {
                let end = pb::RouteEvent {
                    event: Some(pb::route_event::Event::EndOfSnapshot(true)),
                };
                if tx.send(Ok(end)).await.is_err() {
                    return;
                }
            }
            loop {
                let next = tokio::select! {
                    _ = closing.wait_for(|c| *c) => Err(Status::unavailable(status::SHUTTING_DOWN)),
                    _ = tx.closed() => return,
                    r = feed.recv() => match r {
                        Ok(c) if families.contains(&c.family) => Ok(event(&c)),
                        Ok(_) => continue,
                        Err(broadcast::error::RecvError::Lagged(n)) => Err(Status::data_loss(format!(
                            "this watcher fell {n} changes behind and lost them: list the routes \
                             and watch again"
                        ))),
                        Err(broadcast::error::RecvError::Closed) => {
                            Err(Status::unavailable(status::SHUTTING_DOWN))
                        }
                    },
                };
                let end = next.is_err();
                if tx.send(next).await.is_err() || end {
                    return;
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}
