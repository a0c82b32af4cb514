//! The remote side of the SRv6 service: other nodes' pod routes turned into data plane intents
//! (pure: best routes in, desired state and per-route verdicts out).
//!
//! For each best route that carries an SRv6 L3 Service SID (RFC 9252 §4-§5) and belongs to one
//! of our services (global mode: any IPv4/IPv6 unicast route with a SID; vpn mode: a VPN route
//! with one of the service's import route targets), when the SID is reachable (a route covering
//! it is in the IPv6 unicast Loc-RIB, or `srv6.underlay_prefixes` covers it): an SR policy to
//! the SID (shared by every prefix behind it, named by a binding SID) and a steering entry for
//! the prefix in the service's table. Routes that cannot be installed are kept with the reason.

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use ipnet::{IpNet, Ipv6Net};

use super::bsid::BsidAllocator;
use crate::config::{ServiceMode, Srv6Config};
use crate::dataplane::{DataplaneState, Policy, SegmentList, Steering, UnderlayRoute};
use crate::packet::Family;
use crate::packet::attribute::AttrValue;
use crate::packet::attribute::community::ExtendedCommunity;
use crate::packet::nlri::{Nlri, RouteDistinguisher, VpnLabel};
use crate::packet::srv6::{ServiceSid, service_sid};
use crate::rib::watch::RouteChange;
use crate::rib::{FastMap, FastSet, RouteKey};

/// What the service keeps of one best route from a peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteRoute {
    pub family: Family,
    pub prefix: IpNet,
    pub rd: Option<RouteDistinguisher>,
    pub neighbor: Option<IpAddr>,
    pub next_hop: Option<IpAddr>,
    /// The service SID, or why the route has none.
    pub sid: Result<ServiceSid, String>,
    /// Whether the route carried a Prefix-SID attribute at all.
    pub has_prefix_sid: bool,
    /// The SIDs of the other paths of the multipath set (ECMP), where they have one.
    pub ecmp_sids: Vec<ServiceSid>,
    pub route_targets: Vec<ExtendedCommunity>,
}

impl RemoteRoute {
    /// Build from a change of the RIB's feed; `None` when the prefix is gone or the route is our
    /// own.
    pub fn of(change: &RouteChange) -> Option<RemoteRoute> {
        let best = change.best.as_ref()?;
        let neighbor = best.neighbor?;
        let attrs = &best.path.attrs;
        let nlri = Nlri {
            path_id: None,
            prefix: change.key.prefix,
            vpn: change.key.rd.map(|rd| VpnLabel {
                label: best.path.label.unwrap_or(0),
                rd,
            }),
        };
        let psid = attrs.prefix_sid();
        let ecmp_sids = best
            .multipath
            .iter()
            .filter_map(|p| {
                let n = Nlri {
                    path_id: None,
                    prefix: change.key.prefix,
                    vpn: change.key.rd.map(|rd| VpnLabel {
                        label: p.label.unwrap_or(0),
                        rd,
                    }),
                };
                service_sid(p.attrs.prefix_sid()?, &n).ok().flatten()
            })
            .collect();
        let sid = match psid {
            None => Err("no Prefix-SID attribute (not an SRv6 route)".to_string()),
            Some(p) => match service_sid(p, &nlri) {
                Ok(Some(s)) => Ok(s),
                Ok(None) => Err("the Prefix-SID has no SRv6 L3 Service SID".to_string()),
                Err(e) => Err(e),
            },
        };
        let route_targets = attrs
            .attrs
            .iter()
            .find_map(|a| match &a.value {
                AttrValue::ExtendedCommunities(c) => {
                    Some(c.iter().filter(|c| c.is_route_target()).copied().collect())
                }
                _ => None,
            })
            .unwrap_or_default();
        Some(RemoteRoute {
            family: change.family,
            prefix: change.key.prefix,
            rd: change.key.rd,
            neighbor: Some(neighbor),
            next_hop: attrs.next_hop.map(|n| n.global),
            sid,
            has_prefix_sid: psid.is_some(),
            ecmp_sids,
            route_targets,
        })
    }
}

/// Whether a route was turned into data plane state, and if not, why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Installed { table: u32, bsid: Ipv6Addr },
    NotInstalled(String),
}

/// One route as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteStatus {
    pub family: Family,
    pub prefix: IpNet,
    pub rd: Option<RouteDistinguisher>,
    pub neighbor: Option<IpAddr>,
    pub sid: Option<Ipv6Addr>,
    pub behavior: Option<u16>,
    pub service: Option<String>,
    pub verdict: Verdict,
}

/// The best routes the service looks at, kept up to date from the RIB's feed.
#[derive(Clone, Debug, Default)]
pub struct RemoteTable {
    routes: BTreeMap<(Family, RouteKey), RemoteRoute>,
}

/// RFC 8986 §10.2 codepoints a decapsulating service SID may carry: End.DT6 (18), End.DT4
/// (19), End.DT46 (20), their uSID variants (uDT6 62, uDT4 63, uDT46 64); and 0xFFFF
/// ("opaque": FRR 8.4 as a route reflector rewrites the behavior to it).
fn behavior_fits(behavior: u16, prefix: &IpNet) -> Result<(), String> {
    let ok = matches!(
        (behavior, prefix),
        (0xffff | 20 | 64, _) | (19 | 63, IpNet::V4(_)) | (18 | 62, IpNet::V6(_))
    );
    if ok {
        Ok(())
    } else {
        Err(format!(
            "endpoint behavior {} ({}) cannot decapsulate an {} prefix",
            behavior,
            srv6_sid::Behavior::from_u16(behavior).name(),
            if prefix.addr().is_ipv4() {
                "IPv4"
            } else {
                "IPv6"
            }
        ))
    }
}

impl RemoteTable {
    /// Apply one change of the feed.
    pub fn apply(&mut self, change: &RouteChange) {
        let key = (change.family, change.key);
        match RemoteRoute::of(change) {
            Some(r) if is_interesting(&r) => {
                self.routes.insert(key, r);
            }
            _ => {
                self.routes.remove(&key);
            }
        }
    }

    /// Forget everything (before a fresh snapshot).
    pub fn clear(&mut self) {
        self.routes.clear();
    }

    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Add the remote intents to `state` (which holds the local SIDs already) and return every
    /// SRv6 route's verdict.
    ///
    /// Many prefixes share a SID (every pod CIDR of a node), so what depends on the SIDs alone
    /// is worked out once per SID and once per set of SIDs (the policy and its binding SID):
    /// 100k routes behind 1000 nodes make 1000 reachability checks and policies, not 100k.
    pub fn desired(
        &self,
        cfg: &Srv6Config,
        underlay_routes: bool,
        bsids: &mut BsidAllocator,
        state: &mut DataplaneState,
    ) -> Vec<RouteStatus> {
        let reach = Reachability::new(self, &cfg.underlay_prefixes);
        let mut statuses = Vec::with_capacity(self.routes.len());
        let mut sid_checks: FastMap<Ipv6Addr, Result<(), String>> = FastMap::default();
        // The sorted SIDs of a multipath set -> its binding SID (`None`: the range is full).
        let mut policies: FastMap<Vec<Ipv6Addr>, Option<Ipv6Addr>> = FastMap::default();
        let mut used_lists: HashSet<Vec<SegmentList>> = HashSet::new();
        let mut sids: Vec<Ipv6Addr> = Vec::new();
        for r in self.routes.values() {
            if r.family == Family::IPV6_UNICAST && !r.has_prefix_sid {
                continue; // underlay only
            }
            let services = matching_services(cfg, r);
            let (sid, behavior) = match &r.sid {
                Ok(s) => (Some(s.sid), Some(s.behavior)),
                Err(_) => (None, None),
            };
            let mut status = |service: Option<String>, verdict: Verdict| {
                statuses.push(RouteStatus {
                    family: r.family,
                    prefix: r.prefix,
                    rd: r.rd,
                    neighbor: r.neighbor,
                    sid,
                    behavior,
                    service,
                    verdict,
                })
            };
            if services.is_empty() {
                let why = match r.family {
                    Family::IPV4_VPN | Family::IPV6_VPN => "no service imports its route targets",
                    _ => "no global-mode service is configured",
                };
                status(None, Verdict::NotInstalled(why.to_string()));
                continue;
            }
            let mut check = |sid: Ipv6Addr| -> Result<(), String> {
                sid_checks
                    .entry(sid)
                    .or_insert_with(|| sid_usable(cfg, &reach, sid))
                    .clone()
            };
            let usable = match &r.sid {
                Err(e) => Err(e.clone()),
                Ok(s) => behavior_fits(s.behavior, &r.prefix)
                    .and_then(|()| check(s.sid))
                    .map(|()| s),
            };
            let s = match usable {
                Ok(s) => s,
                Err(e) => {
                    for svc in services {
                        let name = Some(cfg.services[svc].name.clone());
                        status(name, Verdict::NotInstalled(e.clone()));
                    }
                    continue;
                }
            };
            // ECMP: one segment list per distinct usable SID of the multipath set, weight 1
            // each, in address order (the same set gives the same policy).
            sids.clear();
            sids.push(s.sid);
            for e in &r.ecmp_sids {
                if !sids.contains(&e.sid)
                    && behavior_fits(e.behavior, &r.prefix).is_ok()
                    && check(e.sid).is_ok()
                {
                    sids.push(e.sid);
                }
            }
            sids.sort();
            let bsid = match policies.get(sids.as_slice()) {
                Some(b) => *b,
                None => {
                    let lists: Vec<SegmentList> = sids
                        .iter()
                        .map(|sid| SegmentList {
                            segments: vec![*sid],
                            weight: 1,
                        })
                        .collect();
                    let b = bsids.get(&lists);
                    if let Some(bsid) = b {
                        if underlay_routes {
                            for sid in &sids {
                                if let Some(u) = reach.underlay(*sid) {
                                    state.add_underlay(u);
                                }
                            }
                        }
                        state.add_policy(Policy {
                            bsid,
                            segment_lists: lists.clone(),
                        });
                        used_lists.insert(lists);
                    }
                    policies.insert(sids.clone(), b);
                    b
                }
            };
            for svc in services {
                let name = Some(cfg.services[svc].name.clone());
                let Some(bsid) = bsid else {
                    status(
                        name,
                        Verdict::NotInstalled(format!(
                            "no free binding SID left in {}",
                            bsids.range()
                        )),
                    );
                    continue;
                };
                let table = cfg.services[svc].table;
                state.tables.insert((table, r.prefix.addr().is_ipv6()));
                state.add_steering(Steering {
                    table,
                    prefix: r.prefix,
                    bsid,
                });
                status(name, Verdict::Installed { table, bsid });
            }
        }
        bsids.retain(|l| used_lists.contains(l));
        statuses
    }
}

/// Whether a remote SID can be a policy's segment: not one of ours, and reachable.
fn sid_usable(cfg: &Srv6Config, reach: &Reachability<'_>, sid: Ipv6Addr) -> Result<(), String> {
    if super::local::is_own_sid(cfg, sid) {
        return Err(format!("the SID {sid} is in one of our own locators"));
    }
    match reach.covering(sid) {
        Some(_) => Ok(()),
        None => Err(format!(
            "the SID {sid} is not reachable (no route covers its locator)"
        )),
    }
}

/// Routes the service keeps: SRv6 routes and VPN routes (to say why they are not installed),
/// and IPv6 unicast routes (reachability of SIDs).
fn is_interesting(r: &RemoteRoute) -> bool {
    r.has_prefix_sid
        || r.family == Family::IPV6_UNICAST
        || matches!(r.family, Family::IPV4_VPN | Family::IPV6_VPN)
}

/// The services a route belongs to.
fn matching_services(cfg: &Srv6Config, r: &RemoteRoute) -> Vec<usize> {
    cfg.services
        .iter()
        .enumerate()
        .filter(|(_, s)| match (s.mode, r.family) {
            (ServiceMode::Global, Family::IPV4_UNICAST | Family::IPV6_UNICAST) => r.has_prefix_sid,
            (ServiceMode::Vpn, Family::IPV4_VPN | Family::IPV6_VPN) => r
                .route_targets
                .iter()
                .any(|rt| s.import_route_targets.contains(rt)),
            _ => false,
        })
        .map(|(i, _)| i)
        .collect()
}

/// Which SIDs the underlay can reach: IPv6 unicast routes of the Loc-RIB, and the configured
/// underlay prefixes.
struct Reachability<'a> {
    routes: FastSet<Ipv6Net>,
    /// The prefix lengths among `routes`, longest first (only those are looked up).
    lengths: Vec<u8>,
    table: &'a RemoteTable,
    configured: &'a [Ipv6Net],
}

impl<'a> Reachability<'a> {
    fn new(table: &'a RemoteTable, configured: &'a [Ipv6Net]) -> Self {
        let routes: FastSet<Ipv6Net> = table
            .routes
            .values()
            .filter(|r| r.family == Family::IPV6_UNICAST)
            .filter_map(|r| match r.prefix {
                IpNet::V6(p) => Some(p),
                IpNet::V4(_) => None,
            })
            .collect();
        let mut lengths: Vec<u8> = routes.iter().map(|p| p.prefix_len()).collect();
        lengths.sort_unstable_by(|a, b| b.cmp(a));
        lengths.dedup();
        Reachability {
            routes,
            lengths,
            table,
            configured,
        }
    }

    /// The longest BGP route covering `sid` (`Some(None)` when only a configured underlay
    /// prefix covers it).
    fn covering(&self, sid: Ipv6Addr) -> Option<Option<Ipv6Net>> {
        for &len in &self.lengths {
            if let Ok(p) = Ipv6Net::new(sid, len)
                && self.routes.contains(&p.trunc())
            {
                return Some(Some(p.trunc()));
            }
        }
        self.configured
            .iter()
            .any(|p| p.contains(&sid))
            .then_some(None)
    }

    /// The plain route to install so the kernel reaches `sid` (the covering BGP route and its
    /// IPv6 next hop).
    fn underlay(&self, sid: Ipv6Addr) -> Option<UnderlayRoute> {
        let prefix = self.covering(sid)??;
        let r = self.table.routes.get(&(
            Family::IPV6_UNICAST,
            RouteKey {
                prefix: IpNet::V6(prefix),
                rd: None,
            },
        ))?;
        match r.next_hop? {
            IpAddr::V6(via) if !via.is_unspecified() => Some(UnderlayRoute { prefix, via }),
            _ => None,
        }
    }
}

/// Shared, read-only verdicts for the API.
pub type RouteStatuses = Arc<Vec<RouteStatus>>;

#[cfg(test)]
#[path = "remote_tests.rs"]
mod tests;
