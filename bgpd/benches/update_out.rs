//! Update packing (`rib::update_out::pack`) on a route reflector's workloads.
//!
//! * `ipv4-1set`: 1,000,000 IPv4 /24 announcements sharing one attribute set (ORIGIN, AS_PATH,
//!   MED, LOCAL_PREF, 4 COMMUNITIES, IPv4 next hop), 4096-byte messages; also with RFC 8654
//!   extended messages (`ipv4-1set-ext`).
//! * `ipv4-10kset`: the same million routes spread round-robin over 10,000 attribute sets (every
//!   route changes set: the worst case for the grouping lookups).
//! * `ipv4-withdraw`: 1,000,000 IPv4 /24 withdrawals.
//! * `vpnv6-srv6`: 100,000 VPN-IPv6 routes (mostly /64, label carrying the transposed SRv6
//!   function, one per route) in 10 VRFs, each VRF one attribute set with its route target and
//!   an SRv6 L3 Service Prefix-SID, next hop global + link-local.
//!
//! Every iteration packs the whole batch into fresh `Bytes` (the output allocation is part of
//! what is measured). Group `update-out` reports routes/s.
//!
//! Run: `cargo bench -p bgpd --bench update_out` (about a minute on 2 cores).

#![allow(clippy::unwrap_used, clippy::expect_used)] // bench setup on data built here

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use bgpd::packet::attribute::{AsPath, AttrValue, ExtendedCommunity, NextHop, PathAttribute};
use bgpd::packet::nlri::{Nlri, RouteDistinguisher, VpnLabel};
use bgpd::packet::prefix_sid::{PrefixSid, SidStructureTlv};
use bgpd::packet::{
    DecodeContext, EncodeContext, Family, MAX_EXTENDED_MESSAGE_LEN, Message, decode_message,
};
use bgpd::rib::path::PathAttrs;
use bgpd::rib::update_out::{OutRoute, pack, pack_with_stats};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

const IPV4_ROUTES: u32 = 1_000_000;
const VPNV6_ROUTES: u32 = 100_000;

fn ipv4_set(med: u32) -> Arc<PathAttrs> {
    let attrs = vec![
        PathAttribute::new(AttrValue::Origin(0)),
        PathAttribute::new(AttrValue::AsPath(AsPath::sequence(vec![
            65001, 65002, 65003,
        ]))),
        PathAttribute::new(AttrValue::Med(med)),
        PathAttribute::new(AttrValue::LocalPref(100)),
        PathAttribute::new(AttrValue::Communities(
            (0..4).map(|i| (65001 << 16) | i).collect(),
        )),
    ];
    let nh = NextHop {
        global: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        link_local: None,
    };
    Arc::new(PathAttrs::new(attrs, Some(nh)))
}

fn ipv4_nlri(i: u32) -> Nlri {
    let a = Ipv4Addr::from((16u32 << 24) + (i << 8));
    Nlri::new(IpNet::V4(Ipv4Net::new(a, 24).unwrap()))
}

fn ipv4_routes(sets: u32) -> Vec<OutRoute> {
    let sets: Vec<Arc<PathAttrs>> = (0..sets).map(ipv4_set).collect();
    (0..IPV4_ROUTES)
        .map(|i| OutRoute {
            family: Family::IPV4_UNICAST,
            nlri: ipv4_nlri(i),
            attrs: Some(sets[(i as usize) % sets.len()].clone()),
        })
        .collect()
}

fn ipv4_withdrawals() -> Vec<OutRoute> {
    (0..IPV4_ROUTES)
        .map(|i| OutRoute {
            family: Family::IPV4_UNICAST,
            nlri: ipv4_nlri(i),
            attrs: None,
        })
        .collect()
}

/// RFC 9252 §4 transposition as FRR 8.4 does it: structure 40/24/16/0, the 16 function bits
/// at offset 64 carried in the label.
fn vpnv6_set(vrf: u16) -> Arc<PathAttrs> {
    let structure = SidStructureTlv {
        block_len: 40,
        node_len: 24,
        function_len: 16,
        argument_len: 0,
        transposition_len: 16,
        transposition_offset: 64,
    };
    let attrs = vec![
        PathAttribute::new(AttrValue::Origin(2)),
        PathAttribute::new(AttrValue::AsPath(AsPath::default())),
        PathAttribute::new(AttrValue::Med(0)),
        PathAttribute::new(AttrValue::LocalPref(100)),
        PathAttribute::new(AttrValue::ExtendedCommunities(vec![
            ExtendedCommunity::route_target_as2(65000, u32::from(vrf)),
        ])),
        PathAttribute::new(AttrValue::PrefixSid(PrefixSid::srv6_l3_service(
            Ipv6Addr::new(0xfc00, 0, 2, 0, 0, 0, 0, 0),
            0x0012,
            Some(structure),
        ))),
    ];
    let nh = NextHop {
        global: IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2)),
        link_local: Some(Ipv6Addr::new(
            0xfe80, 0, 0, 0, 0xd05b, 0x58ff, 0xfe3f, 0x1ea0,
        )),
    };
    Arc::new(PathAttrs::new(attrs, Some(nh)))
}

fn vpnv6_routes() -> Vec<OutRoute> {
    const VRFS: u16 = 10;
    let sets: Vec<Arc<PathAttrs>> = (1..=VRFS).map(vpnv6_set).collect();
    let per_vrf = VPNV6_ROUTES.div_ceil(u32::from(VRFS));
    (0..VPNV6_ROUTES)
        .map(|i| {
            let vrf = i / per_vrf;
            // Pod and service prefixes: mostly /64, some /56 and /48.
            let len = match i % 10 {
                0 => 48,
                1 | 2 => 56,
                _ => 64,
            };
            let addr = (0x2001_0db8u128 << 96 | u128::from(i) << 64) & (u128::MAX << (128 - len));
            let function = 1 + i % 0xfffe;
            OutRoute {
                family: Family::IPV6_VPN,
                nlri: Nlri {
                    path_id: None,
                    prefix: IpNet::V6(Ipv6Net::new(Ipv6Addr::from(addr), len).unwrap()),
                    vpn: Some(VpnLabel {
                        label: (function << 4) | 1,
                        rd: RouteDistinguisher::from_asn2(65000, vrf + 1),
                    }),
                },
                attrs: Some(sets[vrf as usize].clone()),
            }
        })
        .collect()
}

struct Workload {
    name: &'static str,
    routes: Vec<OutRoute>,
    cx: EncodeContext,
}

fn workloads() -> Vec<Workload> {
    let cx = EncodeContext::default();
    let ext = EncodeContext {
        max_message_len: MAX_EXTENDED_MESSAGE_LEN,
        ..EncodeContext::default()
    };
    let one = ipv4_routes(1);
    let loads = vec![
        Workload {
            name: "ipv4-1set",
            routes: one.clone(),
            cx: cx.clone(),
        },
        Workload {
            name: "ipv4-1set-ext",
            routes: one,
            cx: ext,
        },
        Workload {
            name: "ipv4-10kset",
            routes: ipv4_routes(10_000),
            cx: cx.clone(),
        },
        Workload {
            name: "ipv4-withdraw",
            routes: ipv4_withdrawals(),
            cx: cx.clone(),
        },
        Workload {
            name: "vpnv6-srv6",
            routes: vpnv6_routes(),
            cx,
        },
    ];
    for w in &loads {
        // Every route goes, every message decodes and stays within the limit.
        let (msgs, st) = pack_with_stats(&w.routes, &w.cx);
        assert_eq!(st.announced + st.withdrawn, w.routes.len(), "{}", w.name);
        let dcx = DecodeContext {
            max_message_len: w.cx.max_message_len,
            ..DecodeContext::default()
        };
        let mut carried = 0;
        for m in &msgs {
            assert!(m.len() <= w.cx.max_message_len);
            let Message::Update(u) = decode_message(m, &dcx).unwrap() else {
                unreachable!()
            };
            assert!(u.errors.is_empty(), "{}: {:?}", w.name, u.errors);
            carried += u.announced().len() + u.withdrawals().len();
        }
        assert_eq!(carried, w.routes.len(), "{}", w.name);
        let bytes: usize = msgs.iter().map(|m| m.len()).sum();
        eprintln!(
            "workload {}: {} routes in {} UPDATEs of at most {} bytes, {} bytes ({:.1} routes/UPDATE)",
            w.name,
            w.routes.len(),
            msgs.len(),
            w.cx.max_message_len,
            bytes,
            w.routes.len() as f64 / msgs.len() as f64,
        );
    }
    loads
}

fn update_out(c: &mut Criterion) {
    let loads = workloads();
    let mut g = c.benchmark_group("update-out");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    for w in &loads {
        g.throughput(Throughput::Elements(w.routes.len() as u64));
        g.bench_function(format!("pack/{}", w.name), |b| {
            b.iter(|| pack(black_box(&w.routes), &w.cx).len())
        });
    }
    g.finish();
}

criterion_group!(benches, update_out);
criterion_main!(benches);
