//! Load a RIB the way a session does, without the network, and report time and memory:
//! decode a stream of encoded UPDATEs (1M IPv4 /24 prefixes packed as a real peer packs them)
//! and feed them to `rib::Rib` from one peer, then optionally reflect them to N clients.
//!
//! ```text
//! cargo run --release -p bgpd --example rib_load -- [PREFIXES] [CLIENTS]
//! ```
//! Prints one JSON line: decode+insert time, reflect time, peak RSS growth per route, attribute
//! sets. Memory is read from /proc/self/status (VmRSS/VmHWM).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark tool, inputs are its own

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Instant;

use bgpd::packet::attribute::{AsPath, AttrValue, PathAttribute};
use bgpd::packet::nlri::Nlri;
use bgpd::packet::{
    DecodeContext, EncodeContext, Family, FamilySet, Message, UpdateMessage, decode_message,
    encode_to_vec,
};
use bgpd::rib::{Outbox, PeerInfo, PeerPolicy, Rib, RibSettings};

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn peer(id: u32, rr_client: bool) -> PeerInfo {
    PeerInfo {
        id,
        address: IpAddr::V4(Ipv4Addr::new(10, 0, (id >> 8) as u8, id as u8)),
        local_as: 65000,
        remote_as: 65000,
        bgp_id: Ipv4Addr::new(10, 0, (id >> 8) as u8, id as u8),
        rr_client,
        families: FamilySet::all_supported(),
        add_path_tx: FamilySet::new(),
        extended_nexthop: FamilySet::new(),
        local_address: Some(IpAddr::V4(Ipv4Addr::new(10, 255, 0, 1))),
        llgr: false,
    }
}

/// UPDATEs of up to 4096 bytes, 1000 /24s each, one attribute set per 1000 prefixes.
fn stream(prefixes: u32) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let per = 1000u32;
    let mut i = 0u32;
    while i < prefixes {
        let n = per.min(prefixes - i);
        let nlri = (i..i + n)
            .map(|k| {
                let a = Ipv4Addr::from((k + (1 << 24)) << 8);
                Nlri::new(ipnet::IpNet::V4(ipnet::Ipv4Net::new(a, 24).unwrap()))
            })
            .collect();
        let u = UpdateMessage {
            attributes: vec![
                PathAttribute::new(AttrValue::Origin(0)),
                PathAttribute::new(AttrValue::AsPath(AsPath::sequence(vec![
                    65001,
                    65002 + i / per,
                ]))),
                PathAttribute::new(AttrValue::NextHop(Ipv4Addr::new(10, 0, 0, 1))),
                PathAttribute::new(AttrValue::LocalPref(100)),
            ],
            nlri,
            ..Default::default()
        };
        out.push(encode_to_vec(
            &Message::Update(u),
            &EncodeContext::default(),
        ));
        i += n;
    }
    out
}

fn main() {
    let mut args = std::env::args().skip(1);
    let prefixes: u32 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let clients: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(0);
    let msgs = stream(prefixes);
    let bytes: usize = msgs.iter().map(Vec::len).sum();
    let settings = RibSettings {
        local_as: 65000,
        router_id: Ipv4Addr::new(1, 1, 1, 1),
        cluster_id: Ipv4Addr::new(1, 1, 1, 1),
        decision: Default::default(),
    };
    let mut rib = Rib::new(settings);
    rib.peer_up(peer(1, true), Outbox::new(), PeerPolicy::default());
    let outboxes: Vec<Arc<Outbox>> = (0..clients).map(|_| Outbox::new()).collect();
    for (k, o) in outboxes.iter().enumerate() {
        rib.peer_up(peer(2 + k as u32, true), o.clone(), PeerPolicy::default());
        o.take(usize::MAX);
    }
    let rss0 = status_kb("VmRSS:");
    let cx = DecodeContext::default();
    let t0 = Instant::now();
    for m in &msgs {
        if let Ok(Message::Update(u)) = decode_message(m, &cx) {
            rib.update(1, &u);
        }
    }
    let load = t0.elapsed();
    let rss1 = status_kb("VmRSS:");
    let hwm = status_kb("VmHWM:");
    let routes = rib.table(Family::IPV4_UNICAST).map_or(0, |t| t.len());
    let queued: usize = outboxes.iter().map(|o| o.len()).sum();
    let t1 = Instant::now();
    let drained: usize = outboxes.iter().map(|o| o.take(usize::MAX).len()).sum();
    let drain = t1.elapsed();
    println!(
        "{{\"prefixes\":{prefixes},\"clients\":{clients},\"stream_bytes\":{bytes},\"routes\":{routes},\
\"load_seconds\":{:.3},\"ns_per_route\":{:.0},\"rss_growth_bytes_per_route\":{:.0},\"vm_hwm_kb\":{hwm},\
\"attribute_sets\":{},\"queued_for_clients\":{queued},\"drained\":{drained},\"drain_seconds\":{:.3}}}",
        load.as_secs_f64(),
        load.as_nanos() as f64 / f64::from(prefixes.max(1)),
        (rss1.saturating_sub(rss0) * 1024) as f64 / f64::from(prefixes.max(1)),
        rib.attribute_sets(),
        drain.as_secs_f64(),
    );
}
