//! sidra's objects as kernel routes (RTM_NEWROUTE / RTM_DELROUTE messages) and back.
//!
//! | object | route |
//! |---|---|
//! | steering | `PREFIX encap seg6 mode encap segs [..] via GW dev OIF table T metric 20 proto P`, one nexthop per segment list (weight = hops + 1) |
//! | policy | `BSID/128 encap seg6local action End.B6.Encaps srh segs [..] via GW dev OIF metric 20 proto P` (same nexthops) |
//! | End.DT6 | `SID/128 encap seg6local action End.DT6 table T dev D metric 20 proto P` |
//! | End.DT4/46 with a VRF | `SID/128 encap seg6local action End.DT4 vrftable T dev D ...` |
//! | End.DT4/46 without a VRF | `local SID/128 dev lo table local metric 4 (DT4) / 46 (DT46) proto P` |
//! | underlay | `PREFIX via GW metric 20 proto P` |
//!
//! With nexthop objects (see [`super::nexthop`]):
//!
//! | object | route |
//! |---|---|
//! | steering | `PREFIX nhid N table T metric 20 proto P` |
//! | policy's binding SID | `BSID/128 nhid N table 381403 metric 20 proto P` (a table nothing looks up: the record of which nexthop is which policy) |

use std::net::{IpAddr, Ipv6Addr};

use ipnet::{IpNet, Ipv6Net};
use netlink_packet_core::{DefaultNla, Emitable, NlaBuffer, Parseable};
use netlink_packet_route::AddressFamily;
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteLwEnCapType, RouteLwTunnelEncap,
    RouteMessage, RouteNextHop, RouteNextHopFlags, RouteProtocol, RouteScope, RouteSeg6IpTunnel,
    RouteSeg6LocalTunnel, RouteType, RouteVia, Seg6Header, Seg6LocalAction, Seg6LocalSrh, Seg6Mode,
};

use super::super::state::{
    LocalBehavior, LocalSid, MAIN_TABLE, Policy, SegmentList, Steering, UnderlayRoute,
};

/// The metric of sidra's routes (as FRR's BGP routes): a hand-made route to the same prefix
/// with the default metric is a different route, never replaced.
pub(super) const METRIC: u32 = 20;
/// The metrics that tell End.DT4 and End.DT46 local-address SIDs apart.
pub(super) const METRIC_DT4: u32 = 4;
pub(super) const METRIC_DT46: u32 = 46;
pub(super) const LOCAL_TABLE: u32 = 255;
/// The table of the binding SID records (`0x5d1db`; no rule points at it).
pub(super) const BSID_TABLE: u32 = 0x0005_d1db;

/// Where an encapsulation route points (the kernel re-routes the outer packet by its new
/// destination; the nexthop only has to be a valid one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Hop {
    pub oif: u32,
    pub gateway: Option<Ipv6Addr>,
    /// The gateway is not on a connected prefix (the segment itself, for IPv6 multipath).
    pub onlink: bool,
}

fn base(proto: u8, dst: IpNet, table: u32, kind: RouteType, metric: u32) -> RouteMessage {
    let h = RouteHeader {
        address_family: match dst {
            IpNet::V4(_) => AddressFamily::Inet,
            IpNet::V6(_) => AddressFamily::Inet6,
        },
        destination_prefix_length: dst.prefix_len(),
        // Tables above 255 are in RTA_TABLE only.
        table: u8::try_from(table).unwrap_or(0),
        protocol: RouteProtocol::from(proto),
        scope: if kind == RouteType::Local {
            RouteScope::Host
        } else {
            RouteScope::Universe
        },
        kind,
        ..Default::default()
    };
    let mut m = RouteMessage::default();
    m.header = h;
    m.attributes.push(RouteAttribute::Destination(match dst {
        IpNet::V4(n) => RouteAddress::Inet(n.network()),
        IpNet::V6(n) => RouteAddress::Inet6(n.network()),
    }));
    m.attributes.push(RouteAttribute::Table(table));
    if metric != 0 {
        m.attributes.push(RouteAttribute::Priority(metric));
    }
    m
}

fn host(a: Ipv6Addr) -> IpNet {
    IpNet::V6(Ipv6Net::from(a))
}

fn gateway_attr(v4_route: bool, gw: Ipv6Addr) -> RouteAttribute {
    if v4_route {
        RouteAttribute::Via(RouteVia::Inet6(gw))
    } else {
        RouteAttribute::Gateway(RouteAddress::Inet6(gw))
    }
}

fn seg6_encap(segments: &[Ipv6Addr]) -> [RouteAttribute; 2] {
    let mut h = Seg6Header::default();
    h.mode = Seg6Mode::Encap;
    h.segments = segments.to_vec();
    [
        RouteAttribute::EncapType(RouteLwEnCapType::Seg6),
        RouteAttribute::Encap(vec![RouteLwTunnelEncap::Seg6(RouteSeg6IpTunnel::Seg6(h))]),
    ]
}

fn seg6local_encap(tlvs: Vec<RouteSeg6LocalTunnel>) -> [RouteAttribute; 2] {
    [
        RouteAttribute::EncapType(RouteLwEnCapType::Seg6Local),
        RouteAttribute::Encap(
            tlvs.into_iter()
                .map(RouteLwTunnelEncap::Seg6Local)
                .collect(),
        ),
    ]
}

/// The SRH of End.B6.Encaps: segments in reverse order, segments-left at the first one.
fn b6_srh(segments: &[Ipv6Addr]) -> RouteSeg6LocalTunnel {
    let n = segments.len().clamp(1, 256);
    let mut srh = Seg6LocalSrh::default();
    srh.routing_type = 4;
    srh.segments_left = (n - 1) as u8;
    srh.first_segment = (n - 1) as u8;
    srh.segments = segments.iter().rev().copied().collect();
    RouteSeg6LocalTunnel::Srh(srh)
}

/// A weight as the kernel's `hops` (weight - 1): 1..=256.
fn hops(weight: u32) -> Result<u8, String> {
    match weight {
        0 => Ok(0),
        1..=256 => Ok((weight - 1) as u8),
        w => Err(format!(
            "weight {w} is above the kernel's limit of 256 per nexthop"
        )),
    }
}

/// Append the nexthops (one per list, each with its encapsulation) to `m`.
fn push_nexthops(
    m: &mut RouteMessage,
    v4_route: bool,
    lists: &[(&SegmentList, Hop)],
    encap: impl Fn(&SegmentList) -> [RouteAttribute; 2],
) -> Result<(), String> {
    match lists {
        [] => return Err("no segment list".to_string()),
        [(l, hop)] => {
            m.attributes.push(RouteAttribute::Oif(hop.oif));
            if let Some(gw) = hop.gateway {
                m.attributes.push(gateway_attr(v4_route, gw));
                if hop.onlink {
                    m.header.flags |= RouteFlags::Onlink;
                }
            }
            m.attributes.extend(encap(l));
        }
        many => {
            let mut nhs = Vec::with_capacity(many.len());
            for (l, hop) in many {
                let mut nh = RouteNextHop::default();
                nh.interface_index = hop.oif;
                nh.hops = hops(l.weight)?;
                if let Some(gw) = hop.gateway {
                    nh.attributes.push(gateway_attr(v4_route, gw));
                    if hop.onlink {
                        nh.flags |= RouteNextHopFlags::Onlink;
                    }
                }
                nh.attributes.extend(encap(l));
                nhs.push(nh);
            }
            m.attributes.push(RouteAttribute::MultiPath(nhs));
        }
    }
    Ok(())
}

/// The encapsulation route of a steering entry (`hops[i]` for `policy.segment_lists[i]`).
pub(super) fn steering(
    proto: u8,
    s: &Steering,
    policy: &Policy,
    hops: &[Hop],
) -> Result<RouteMessage, String> {
    let mut m = base(proto, s.prefix, s.table, RouteType::Unicast, METRIC);
    let lists: Vec<(&SegmentList, Hop)> = policy
        .segment_lists
        .iter()
        .zip(hops.iter().copied())
        .collect();
    push_nexthops(&mut m, matches!(s.prefix, IpNet::V4(_)), &lists, |l| {
        seg6_encap(&l.segments)
    })?;
    Ok(m)
}

/// The End.B6.Encaps route at a policy's binding SID.
pub(super) fn policy(proto: u8, p: &Policy, hops: &[Hop]) -> Result<RouteMessage, String> {
    let mut m = base(proto, host(p.bsid), MAIN_TABLE, RouteType::Unicast, METRIC);
    let lists: Vec<(&SegmentList, Hop)> =
        p.segment_lists.iter().zip(hops.iter().copied()).collect();
    push_nexthops(&mut m, false, &lists, |l| {
        seg6local_encap(vec![
            RouteSeg6LocalTunnel::Action(Seg6LocalAction::EndB6Encap),
            b6_srh(&l.segments),
        ])
    })?;
    Ok(m)
}

/// A steering route into nexthop `nhid`.
pub(super) fn steering_nh(proto: u8, table: u32, prefix: IpNet, nhid: u32) -> RouteMessage {
    let mut m = base(proto, prefix, table, RouteType::Unicast, METRIC);
    m.attributes.push(RouteAttribute::NhId(nhid));
    m
}

/// The record of a policy's binding SID: a route in [`BSID_TABLE`] to its nexthop.
pub(super) fn bsid_record(proto: u8, bsid: Ipv6Addr, nhid: u32) -> RouteMessage {
    steering_nh(proto, BSID_TABLE, host(bsid), nhid)
}

/// How a local SID is installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SidMode {
    /// seg6local End.DT6 `table` (legacy table mode), on device `oif`.
    Dt6Table { oif: u32 },
    /// seg6local End.DT4/End.DT46 `vrftable`, on device `oif`.
    VrfTable { oif: u32 },
    /// A local /128 in the local table: SRH decapsulation and re-injection into the main
    /// table (`lo` = the loopback's index).
    LocalAddress { lo: u32 },
}

pub(super) fn local_sid(proto: u8, s: &LocalSid, mode: SidMode) -> RouteMessage {
    match mode {
        SidMode::Dt6Table { oif } => {
            let mut m = base(proto, host(s.sid), MAIN_TABLE, RouteType::Unicast, METRIC);
            m.attributes.push(RouteAttribute::Oif(oif));
            m.attributes.extend(seg6local_encap(vec![
                RouteSeg6LocalTunnel::Action(Seg6LocalAction::EndDt6),
                RouteSeg6LocalTunnel::Table(s.table),
            ]));
            m
        }
        SidMode::VrfTable { oif } => {
            let action = match s.behavior {
                LocalBehavior::EndDt4 => Seg6LocalAction::EndDt4,
                LocalBehavior::EndDt6 => Seg6LocalAction::EndDt6,
                LocalBehavior::EndDt46 => Seg6LocalAction::EndDt46,
            };
            let mut m = base(proto, host(s.sid), MAIN_TABLE, RouteType::Unicast, METRIC);
            m.attributes.push(RouteAttribute::Oif(oif));
            m.attributes.extend(seg6local_encap(vec![
                RouteSeg6LocalTunnel::Action(action),
                RouteSeg6LocalTunnel::VrfTable(s.table),
            ]));
            m
        }
        SidMode::LocalAddress { lo } => {
            let mut m = base(
                proto,
                host(s.sid),
                LOCAL_TABLE,
                RouteType::Local,
                local_metric(s.behavior),
            );
            m.attributes.push(RouteAttribute::Oif(lo));
            m
        }
    }
}

fn local_metric(b: LocalBehavior) -> u32 {
    match b {
        LocalBehavior::EndDt4 => METRIC_DT4,
        _ => METRIC_DT46,
    }
}

/// The key of a local SID's route for RTM_DELROUTE.
pub(super) fn local_sid_key(proto: u8, s: &LocalSid, local_address: bool) -> RouteMessage {
    if local_address {
        base(
            proto,
            host(s.sid),
            LOCAL_TABLE,
            RouteType::Local,
            local_metric(s.behavior),
        )
    } else {
        base(proto, host(s.sid), MAIN_TABLE, RouteType::Unspec, METRIC)
    }
}

pub(super) fn underlay(proto: u8, r: &UnderlayRoute) -> RouteMessage {
    let mut m = base(
        proto,
        IpNet::V6(r.prefix),
        MAIN_TABLE,
        RouteType::Unicast,
        METRIC,
    );
    m.attributes
        .push(RouteAttribute::Gateway(RouteAddress::Inet6(r.via)));
    m
}

/// The key of a route for RTM_DELROUTE (all its nexthops go).
pub(super) fn key(proto: u8, dst: IpNet, table: u32) -> RouteMessage {
    base(proto, dst, table, RouteType::Unspec, METRIC)
}

/// An RTM_GETROUTE for `dst` (the route the kernel would use).
pub(super) fn lookup(dst: Ipv6Addr) -> RouteMessage {
    let mut m = RouteMessage::default();
    m.header.address_family = AddressFamily::Inet6;
    m.header.destination_prefix_length = 128;
    m.attributes
        .push(RouteAttribute::Destination(RouteAddress::Inet6(dst)));
    m
}

/// The RTM_GETROUTE dump request of one family's routes of protocol `proto` (all tables;
/// the kernel filters by protocol with strict checking on).
pub(super) fn dump(proto: u8, v6: bool) -> RouteMessage {
    let mut m = RouteMessage::default();
    m.header.address_family = if v6 {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    m.header.protocol = RouteProtocol::from(proto);
    m
}

/// A kernel route of sidra's, as what it stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Parsed {
    LocalSid(LocalSid),
    Policy(Policy),
    Steering {
        table: u32,
        prefix: IpNet,
        lists: Vec<SegmentList>,
    },
    Underlay(UnderlayRoute),
    /// A route to a nexthop object: a steering entry.
    SteeringNh {
        table: u32,
        prefix: IpNet,
        nhid: u32,
    },
    /// A binding SID record (a /128 in [`BSID_TABLE`] to a nexthop object).
    Bsid {
        bsid: Ipv6Addr,
        nhid: u32,
    },
    /// A route of sidra's protocol that is none of its objects.
    Other,
}

fn dst_of(m: &RouteMessage) -> Option<IpNet> {
    let plen = m.header.destination_prefix_length;
    let addr = m.attributes.iter().find_map(|a| match a {
        RouteAttribute::Destination(RouteAddress::Inet(a)) => Some(IpAddr::V4(*a)),
        RouteAttribute::Destination(RouteAddress::Inet6(a)) => Some(IpAddr::V6(*a)),
        _ => None,
    });
    match (addr, m.header.address_family) {
        (Some(a), _) => IpNet::new(a, plen).ok(),
        (None, AddressFamily::Inet) => IpNet::new(IpAddr::V4(0u32.into()), 0).ok(),
        (None, AddressFamily::Inet6) => IpNet::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0).ok(),
        _ => None,
    }
}

pub(super) fn table_of(m: &RouteMessage) -> u32 {
    m.attributes
        .iter()
        .find_map(|a| match a {
            RouteAttribute::Table(t) => Some(*t),
            _ => None,
        })
        .unwrap_or(u32::from(m.header.table))
}

fn priority_of(m: &RouteMessage) -> u32 {
    m.attributes
        .iter()
        .find_map(|a| match a {
            RouteAttribute::Priority(p) => Some(*p),
            _ => None,
        })
        .unwrap_or(0)
}

/// What one nexthop's encapsulation says.
enum Encap {
    Seg6(Vec<Ipv6Addr>),
    B6(Vec<Ipv6Addr>),
    Dt {
        action: Seg6LocalAction,
        table: Option<u32>,
        vrftable: Option<u32>,
    },
    None,
    Unknown,
}

/// The encapsulation TLVs of a nexthop. netlink-packet-route 0.34 parses the RTA_ENCAP of
/// a multipath nexthop with the route's encap type (none) instead of the nexthop's own, which
/// leaves raw attributes: they are parsed again here with the nexthop's RTA_ENCAP_TYPE.
fn encap_tlvs(attrs: &[RouteAttribute]) -> Option<Vec<RouteLwTunnelEncap>> {
    let tlvs = attrs.iter().find_map(|a| match a {
        RouteAttribute::Encap(e) => Some(e),
        _ => None,
    })?;
    let kind = attrs.iter().find_map(|a| match a {
        RouteAttribute::EncapType(t) => Some(*t),
        _ => None,
    });
    Some(
        tlvs.iter()
            .map(|t| match (t, kind) {
                (RouteLwTunnelEncap::Other(raw), Some(k)) => reparse(raw, k).unwrap_or(t.clone()),
                _ => t.clone(),
            })
            .collect(),
    )
}

fn reparse(raw: &DefaultNla, kind: RouteLwEnCapType) -> Option<RouteLwTunnelEncap> {
    let mut buf = vec![0u8; raw.buffer_len()];
    raw.emit(&mut buf);
    let nla = NlaBuffer::new_checked(&buf[..]).ok()?;
    match kind {
        RouteLwEnCapType::Seg6 => RouteSeg6IpTunnel::parse(&nla)
            .ok()
            .map(RouteLwTunnelEncap::Seg6),
        RouteLwEnCapType::Seg6Local => RouteSeg6LocalTunnel::parse(&nla)
            .ok()
            .map(RouteLwTunnelEncap::Seg6Local),
        _ => None,
    }
}

fn encap_of(attrs: &[RouteAttribute]) -> Encap {
    let Some(tlvs) = encap_tlvs(attrs) else {
        return Encap::None;
    };
    let mut action = None;
    let mut table = None;
    let mut vrftable = None;
    let mut srh = None;
    for t in &tlvs {
        match t {
            RouteLwTunnelEncap::Seg6(RouteSeg6IpTunnel::Seg6(h)) if h.mode == Seg6Mode::Encap => {
                return Encap::Seg6(h.segments.clone());
            }
            RouteLwTunnelEncap::Seg6Local(RouteSeg6LocalTunnel::Action(a)) => action = Some(*a),
            RouteLwTunnelEncap::Seg6Local(RouteSeg6LocalTunnel::Table(t)) => table = Some(*t),
            RouteLwTunnelEncap::Seg6Local(RouteSeg6LocalTunnel::VrfTable(t)) => vrftable = Some(*t),
            RouteLwTunnelEncap::Seg6Local(RouteSeg6LocalTunnel::Srh(s)) => {
                srh = Some(s.segments.iter().rev().copied().collect::<Vec<_>>())
            }
            _ => {}
        }
    }
    match (action, srh) {
        (Some(Seg6LocalAction::EndB6Encap), Some(segs)) => Encap::B6(segs),
        (
            Some(
                a @ (Seg6LocalAction::EndDt4 | Seg6LocalAction::EndDt6 | Seg6LocalAction::EndDt46),
            ),
            _,
        ) => Encap::Dt {
            action: a,
            table,
            vrftable,
        },
        _ => Encap::Unknown,
    }
}

/// The segment lists of an encap route (`b6`: End.B6.Encaps routes), one per nexthop.
fn lists_of(m: &RouteMessage, b6: bool) -> Option<Vec<SegmentList>> {
    let one = |attrs: &[RouteAttribute], weight: u32| match (encap_of(attrs), b6) {
        (Encap::Seg6(segments), false) | (Encap::B6(segments), true) => {
            Some(SegmentList { segments, weight })
        }
        _ => None,
    };
    if let Some(nhs) = m.attributes.iter().find_map(|a| match a {
        RouteAttribute::MultiPath(n) => Some(n),
        _ => None,
    }) {
        return nhs
            .iter()
            .map(|nh| one(&nh.attributes, u32::from(nh.hops) + 1))
            .collect();
    }
    one(&m.attributes, 1).map(|l| vec![l])
}

/// What a route of sidra's protocol stands for.
pub(super) fn parse(m: &RouteMessage) -> Parsed {
    let Some(dst) = dst_of(m) else {
        return Parsed::Other;
    };
    let table = table_of(m);
    let v6_host = match dst {
        IpNet::V6(n) if n.prefix_len() == 128 => Some(n.addr()),
        _ => None,
    };
    if m.header.kind == RouteType::Local {
        if let (Some(sid), LOCAL_TABLE) = (v6_host, table) {
            let behavior = if priority_of(m) == METRIC_DT4 {
                LocalBehavior::EndDt4
            } else {
                LocalBehavior::EndDt46
            };
            return Parsed::LocalSid(LocalSid {
                sid,
                behavior,
                table: MAIN_TABLE,
            });
        }
        return Parsed::Other;
    }
    if m.header.kind != RouteType::Unicast {
        return Parsed::Other;
    }
    // Before the encapsulation: the kernel also reports the nexthop's (compat mode).
    if let Some(nhid) = m.attributes.iter().find_map(|a| match a {
        RouteAttribute::NhId(n) => Some(*n),
        _ => None,
    }) {
        return match (table, v6_host) {
            (BSID_TABLE, Some(bsid)) => Parsed::Bsid { bsid, nhid },
            (BSID_TABLE, None) => Parsed::Other,
            _ => Parsed::SteeringNh {
                table,
                prefix: dst,
                nhid,
            },
        };
    }
    let multipath = m
        .attributes
        .iter()
        .any(|a| matches!(a, RouteAttribute::MultiPath(_)));
    let first_encap = if multipath {
        m.attributes
            .iter()
            .find_map(|a| match a {
                RouteAttribute::MultiPath(n) => n.first().map(|nh| encap_of(&nh.attributes)),
                _ => None,
            })
            .unwrap_or(Encap::Unknown)
    } else {
        encap_of(&m.attributes)
    };
    match first_encap {
        Encap::Seg6(_) => match lists_of(m, false) {
            Some(lists) => Parsed::Steering {
                table,
                prefix: dst,
                lists,
            },
            None => Parsed::Other,
        },
        Encap::B6(_) => match (v6_host, lists_of(m, true)) {
            (Some(bsid), Some(segment_lists)) => Parsed::Policy(Policy {
                bsid,
                segment_lists,
            }),
            _ => Parsed::Other,
        },
        Encap::Dt {
            action,
            table: t,
            vrftable,
        } => {
            let Some(sid) = v6_host else {
                return Parsed::Other;
            };
            let behavior = match action {
                Seg6LocalAction::EndDt4 => LocalBehavior::EndDt4,
                Seg6LocalAction::EndDt46 => LocalBehavior::EndDt46,
                _ => LocalBehavior::EndDt6,
            };
            match vrftable.or(t) {
                Some(table) => Parsed::LocalSid(LocalSid {
                    sid,
                    behavior,
                    table,
                }),
                None => Parsed::Other,
            }
        }
        Encap::None => {
            let gw = m.attributes.iter().find_map(|a| match a {
                RouteAttribute::Gateway(RouteAddress::Inet6(g)) => Some(*g),
                _ => None,
            });
            match (dst, gw, table) {
                (IpNet::V6(prefix), Some(via), MAIN_TABLE) => {
                    Parsed::Underlay(UnderlayRoute { prefix, via })
                }
                _ => Parsed::Other,
            }
        }
        Encap::Unknown => Parsed::Other,
    }
}

/// The output interface and gateway of a looked-up route.
pub(super) fn hop_of(m: &RouteMessage) -> (Option<u32>, Option<Ipv6Addr>, bool) {
    let oif = m.attributes.iter().find_map(|a| match a {
        RouteAttribute::Oif(o) => Some(*o),
        _ => None,
    });
    let gw = m.attributes.iter().find_map(|a| match a {
        RouteAttribute::Gateway(RouteAddress::Inet6(g)) => Some(*g),
        _ => None,
    });
    (oif, gw, m.header.kind == RouteType::Local)
}
