//! Load a RIB the way a session does, without the network, and report time and memory:
//! decode a stream of encoded UPDATEs (1M IPv4 /24 prefixes packed as a real peer packs them)
//! and feed them to `rib::Rib` from one peer, then optionally reflect them to N clients.
//!
//! ```text
//! cargo run --release -p bgpd --example rib_load -- [PREFIXES] [CLIENTS] [PEERS] [PER_UPDATE]
//! ```
//! PER_UPDATE (default 1000) prefixes share each UPDATE and its attribute set (every UPDATE
//! has its own: the AS_PATH or MED differs); 4 is the harness's `v4-uniq-1m` shape.
//! With PEERS > 1, PEERS non-client iBGP peers each send the same PREFIXES with their own
//! attributes (neighbouring AS per peer, a MED unique per UPDATE, two communities, as the
//! whole-daemon harness's `v4-KxN` workloads), their UPDATEs interleaved one by one: best-path
//! contention, every prefix changed PEERS times.
//!
//! Prints one JSON line: decode+insert time, reflect time, peak RSS growth per route, attribute
//! sets, then the same for withdraw-all (every peer withdraws every prefix; `routes_left`
//! should be 0). Memory is read from /proc/self/status (VmRSS/VmHWM).

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

/// UPDATEs of `per` /24s each (up to 4096 bytes at 1000), one attribute set per UPDATE.
/// `contention`: `Some(peer)` for the attributes of one of several peers sending the same
/// prefixes (see the module doc), `None` for the single-peer stream.
fn stream(prefixes: u32, contention: Option<u32>, per: u32) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0u32;
    while i < prefixes {
        let n = per.min(prefixes - i);
        let nlri = (i..i + n)
            .map(|k| {
                let a = Ipv4Addr::from((k + (1 << 24)) << 8);
                Nlri::new(ipnet::IpNet::V4(ipnet::Ipv4Net::new(a, 24).unwrap()))
            })
            .collect();
        let msg = i / per;
        let attributes = match contention {
            None => vec![
                PathAttribute::new(AttrValue::Origin(0)),
                PathAttribute::new(AttrValue::AsPath(AsPath::sequence(vec![
                    65001,
                    65002 + msg,
                ]))),
                PathAttribute::new(AttrValue::NextHop(Ipv4Addr::new(10, 0, 0, 1))),
                PathAttribute::new(AttrValue::LocalPref(100)),
            ],
            Some(p) => vec![
                PathAttribute::new(AttrValue::Origin(0)),
                PathAttribute::new(AttrValue::AsPath(AsPath::sequence(vec![
                    64600 + p % 100,
                    3000 + msg % 1000,
                ]))),
                PathAttribute::new(AttrValue::NextHop(Ipv4Addr::new(
                    10,
                    1,
                    (p >> 8) as u8,
                    p as u8,
                ))),
                PathAttribute::new(AttrValue::Med(msg.wrapping_mul(128).wrapping_add(p))),
                PathAttribute::new(AttrValue::LocalPref(100)),
                PathAttribute::new(AttrValue::Communities(vec![
                    (65001 << 16) | 1,
                    (65001 << 16) | (2 + msg % 97),
                ])),
            ],
        };
        let u = UpdateMessage {
            attributes,
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

/// Withdrawals of the same prefixes as `stream`, 1000 per UPDATE (the Withdrawn Routes field).
fn withdraw_stream(prefixes: u32) -> Vec<Vec<u8>> {
    let per = 1000u32;
    (0..prefixes.div_ceil(per))
        .map(|m| {
            let first = m * per;
            let withdrawn = (first..(first + per).min(prefixes))
                .map(|k| {
                    let a = Ipv4Addr::from((k + (1 << 24)) << 8);
                    Nlri::new(ipnet::IpNet::V4(ipnet::Ipv4Net::new(a, 24).unwrap()))
                })
                .collect();
            let u = UpdateMessage {
                withdrawn,
                ..Default::default()
            };
            encode_to_vec(&Message::Update(u), &EncodeContext::default())
        })
        .collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let prefixes: u32 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let clients: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(0);
    let peers: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1).max(1);
    let per: u32 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000)
        .clamp(1, 1000);
    // (sending peer id, encoded UPDATE), interleaved UPDATE by UPDATE across the peers.
    let msgs: Vec<(u32, Vec<u8>)> = if peers == 1 {
        stream(prefixes, None, per)
            .into_iter()
            .map(|m| (1, m))
            .collect()
    } else {
        let per_peer: Vec<Vec<Vec<u8>>> =
            (0..peers).map(|p| stream(prefixes, Some(p), per)).collect();
        let n = per_peer.first().map_or(0, Vec::len);
        (0..n)
            .flat_map(|i| (0..peers).map(move |p| (i, p)))
            .map(|(i, p)| (1 + p, per_peer[p as usize][i].clone()))
            .collect()
    };
    let bytes: usize = msgs.iter().map(|(_, m)| m.len()).sum();
    let settings = RibSettings {
        local_as: 65000,
        router_id: Ipv4Addr::new(1, 1, 1, 1),
        cluster_id: Ipv4Addr::new(1, 1, 1, 1),
        decision: Default::default(),
    };
    let mut rib = Rib::new(settings);
    // One sender: a client (its routes are reflected to the other clients); several: non-clients.
    for p in 0..peers {
        rib.peer_up(
            peer(1 + p, peers == 1),
            Outbox::new(),
            PeerPolicy::default(),
        );
    }
    let outboxes: Vec<Arc<Outbox>> = (0..clients).map(|_| Outbox::new()).collect();
    for (k, o) in outboxes.iter().enumerate() {
        rib.peer_up(
            peer(1 + peers + k as u32, true),
            o.clone(),
            PeerPolicy::default(),
        );
        o.take(usize::MAX);
    }
    let rss0 = status_kb("VmRSS:");
    let cx = DecodeContext::default();
    let t0 = Instant::now();
    for (id, m) in &msgs {
        if let Ok(Message::Update(u)) = decode_message(m, &cx) {
            rib.update(*id, &u);
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
    // Withdraw-all: every peer withdraws its prefixes, interleaved UPDATE by UPDATE.
    let gone = withdraw_stream(prefixes);
    let t2 = Instant::now();
    for m in &gone {
        if let Ok(Message::Update(u)) = decode_message(m, &cx) {
            for p in 0..peers {
                rib.update(1 + p, &u);
            }
        }
    }
    let withdraw = t2.elapsed();
    let left = rib.table(Family::IPV4_UNICAST).map_or(0, |t| t.len());
    let t3 = Instant::now();
    let withdrawn: usize = outboxes.iter().map(|o| o.take(usize::MAX).len()).sum();
    let withdraw_drain = t3.elapsed();
    let paths = u64::from(prefixes) * u64::from(peers);
    println!(
        "{{\"prefixes\":{prefixes},\"peers\":{peers},\"clients\":{clients},\"stream_bytes\":{bytes},\"routes\":{routes},\
\"load_seconds\":{:.3},\"ns_per_path\":{:.0},\"rss_growth_bytes_per_path\":{:.0},\"vm_hwm_kb\":{hwm},\
\"attribute_sets\":{},\"queued_for_clients\":{queued},\"drained\":{drained},\"drain_seconds\":{:.3},\
\"withdraw_seconds\":{:.3},\"routes_left\":{left},\"withdrawn_for_clients\":{withdrawn},\"withdraw_drain_seconds\":{:.3}}}",
        load.as_secs_f64(),
        load.as_nanos() as f64 / paths.max(1) as f64,
        (rss1.saturating_sub(rss0) * 1024) as f64 / paths.max(1) as f64,
        rib.attribute_sets(),
        drain.as_secs_f64(),
        withdraw.as_secs_f64(),
        withdraw_drain.as_secs_f64(),
    );
}
