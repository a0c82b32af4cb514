//! What the kernel can do and where things go: links (the loopback, a device for seg6local
//! routes, VRF devices and their tables) and a start-up probe of the seg6local actions sidra
//! uses, in a scratch table that nothing looks up.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use netlink_packet_core::{NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVrf, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAttribute, RouteLwEnCapType, RouteLwTunnelEncap, RouteSeg6LocalTunnel, Seg6LocalAction,
};

use super::nexthop::{self, Req};
use super::nl::{Netlink, NlError, message};
use super::routes;

/// A table no rule points at, for probing (`0x5d1da` = "sidra").
const PROBE_TABLE: u32 = 0x0005_d1da;
/// The nexthop id of the probe (below sidra's range; the next lower free one if taken).
const PROBE_NH_ID: u32 = super::policies::ID_BASE - 1;
/// A documentation address (RFC 3849) for the probe routes.
const PROBE_SID: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x5d1d, 0, 0, 0, 0, 0x6);

/// One network device.
#[derive(Clone, Debug)]
pub(super) struct Link {
    pub index: u32,
    pub name: String,
    pub up: bool,
    pub loopback: bool,
    /// The table of a VRF device.
    pub vrf_table: Option<u32>,
}

pub(super) fn links(nl: &mut Netlink) -> Result<Vec<Link>, NlError> {
    let replies = nl.request(message(
        RouteNetlinkMessage::GetLink(LinkMessage::default()),
        NLM_F_DUMP,
    ))?;
    let mut out = Vec::new();
    for r in replies {
        let RouteNetlinkMessage::NewLink(l) = r else {
            continue;
        };
        let mut name = String::new();
        let mut vrf_table = None;
        for a in &l.attributes {
            match a {
                LinkAttribute::IfName(n) => name = n.clone(),
                LinkAttribute::LinkInfo(infos) => {
                    let is_vrf = infos
                        .iter()
                        .any(|i| matches!(i, LinkInfo::Kind(InfoKind::Vrf)));
                    if is_vrf {
                        vrf_table = infos.iter().find_map(|i| match i {
                            LinkInfo::Data(InfoData::Vrf(v)) => v.iter().find_map(|x| match x {
                                InfoVrf::TableId(t) => Some(*t),
                                _ => None,
                            }),
                            _ => None,
                        });
                    }
                }
                _ => {}
            }
        }
        out.push(Link {
            index: l.header.index,
            name,
            up: l.header.flags.contains(LinkFlags::Up),
            loopback: l.header.flags.contains(LinkFlags::Loopback),
            vrf_table,
        });
    }
    out.sort_by_key(|l| l.index);
    Ok(out)
}

/// What the kernel accepted at start.
#[derive(Clone, Debug)]
pub(super) struct Probe {
    /// seg6local End.DT6 with `table` (legacy table mode).
    pub dt6_table: bool,
    /// seg6local End.B6.Encaps with an SRH.
    pub b6_encaps: bool,
    /// Why the kernel refused a seg6 encap nexthop object used by an IPv4 and an IPv6 route
    /// (`None`: it took them).
    pub nexthops: Result<(), String>,
}

impl Default for Probe {
    fn default() -> Self {
        Probe {
            dt6_table: false,
            b6_encaps: false,
            nexthops: Err("not probed".to_string()),
        }
    }
}

/// Try the seg6local actions in a scratch table (and remove what was added).
pub(super) fn probe(nl: &mut Netlink, proto: u8, lo: u32) -> Probe {
    let dt6 = with_encap(
        proto,
        lo,
        vec![
            RouteSeg6LocalTunnel::Action(Seg6LocalAction::EndDt6),
            RouteSeg6LocalTunnel::Table(super::super::state::MAIN_TABLE),
        ],
    );
    let mut srh = netlink_packet_route::route::Seg6LocalSrh::default();
    srh.routing_type = 4;
    srh.segments = vec![PROBE_SID];
    let b6 = with_encap(
        proto,
        lo,
        vec![
            RouteSeg6LocalTunnel::Action(Seg6LocalAction::EndB6Encap),
            RouteSeg6LocalTunnel::Srh(srh),
        ],
    );
    let mut try_one = |m| {
        let key = routes::key(proto, IpNet::V6(Ipv6Net::from(PROBE_SID)), PROBE_TABLE);
        let r = nl.batch(vec![message(
            RouteNetlinkMessage::NewRoute(m),
            NLM_F_CREATE | NLM_F_EXCL,
        )]);
        let _ = nl.batch(vec![message(RouteNetlinkMessage::DelRoute(key), 0)]);
        matches!(r.first(), Some(Ok(())))
    };
    Probe {
        dt6_table: try_one(dt6),
        b6_encaps: try_one(b6),
        nexthops: probe_nexthops(nl, proto, lo),
    }
}

/// A seg6 encap nexthop object on `lo` and an IPv4 and an IPv6 route to it in the scratch
/// table (all removed again).
fn probe_nexthops(nl: &mut Netlink, proto: u8, lo: u32) -> Result<(), String> {
    let used: std::collections::HashSet<u32> = nl
        .request(nexthop::dump())
        .map_err(|e| format!("cannot dump nexthops: {}", e.describe()))?
        .iter()
        .filter_map(nexthop::parse)
        .map(|n| n.id)
        .collect();
    let id = (0..64u32)
        .map(|i| PROBE_NH_ID.wrapping_sub(i))
        .find(|i| !used.contains(i))
        .ok_or_else(|| "no free nexthop id to probe with".to_string())?;
    let hop = routes::Hop {
        oif: lo,
        gateway: None,
        onlink: false,
    };
    let v4 = IpNet::V4(Ipv4Net::new(Ipv4Addr::new(192, 0, 2, 0), 24).unwrap_or_default());
    let v6 = IpNet::V6(Ipv6Net::new(PROBE_SID, 64).unwrap_or_default());
    let msgs = vec![
        nexthop::encap(id, proto, &[PROBE_SID], hop, false),
        message(
            Req::Route(RouteNetlinkMessage::NewRoute(routes::steering_nh(
                proto,
                PROBE_TABLE,
                v4,
                id,
            ))),
            NLM_F_CREATE | NLM_F_EXCL,
        ),
        message(
            Req::Route(RouteNetlinkMessage::NewRoute(routes::steering_nh(
                proto,
                PROBE_TABLE,
                v6,
                id,
            ))),
            NLM_F_CREATE | NLM_F_EXCL,
        ),
    ];
    let r = nl.batch(msgs);
    // Deleting the nexthop deletes the routes.
    let _ = nl.batch(vec![nexthop::del(id)]);
    for (what, r) in [
        "a seg6 encap nexthop",
        "an IPv4 route to it",
        "an IPv6 route to it",
    ]
    .iter()
    .zip(r)
    {
        r.map_err(|e| format!("the kernel refused {what}: {}", e.describe()))?;
    }
    Ok(())
}

fn with_encap(
    proto: u8,
    oif: u32,
    tlvs: Vec<RouteSeg6LocalTunnel>,
) -> netlink_packet_route::route::RouteMessage {
    let mut m = routes::key(proto, IpNet::V6(Ipv6Net::from(PROBE_SID)), PROBE_TABLE);
    m.header.kind = netlink_packet_route::route::RouteType::Unicast;
    m.attributes.push(RouteAttribute::Oif(oif));
    m.attributes
        .push(RouteAttribute::EncapType(RouteLwEnCapType::Seg6Local));
    m.attributes.push(RouteAttribute::Encap(
        tlvs.into_iter()
            .map(RouteLwTunnelEncap::Seg6Local)
            .collect(),
    ));
    m
}
