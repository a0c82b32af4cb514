//! The RIB's inner loops (criterion): the decision process, attribute interning and the
//! prefix map the Loc-RIB and Adj-RIB-Out are stored in.
//!
//! * `decision/N`: `rib::decision::select` over N candidate paths of one prefix, each from its
//!   own iBGP peer with its own neighbouring AS and MED (the shape of the whole-daemon
//!   harness's `v4-KxN` workloads: nothing eliminates until the BGP Identifier step, so every
//!   step runs over every candidate; the worst case for the elimination).
//! * `intern/hit` and `intern/miss`: `AttrInterner::intern` of an attribute set already held
//!   (one per UPDATE of a table dump, the common case) and of a new one (unique MED per
//!   UPDATE), with a typical set (ORIGIN, AS_PATH of 3, NEXT_HOP, MED, LOCAL_PREF, 2
//!   COMMUNITIES) and 10,000 sets held.
//! * `prefix-map/insert-1m`, `prefix-map/remove-1m`, `prefix-map/get-1m`: a `PrefixMap` of
//!   1,048,576 IPv4 /24 keys built from empty in a pseudo-random order (growth and index
//!   rebuilds included), every key removed in another order (until empty), and a lookup of
//!   every key in that other order.
//!
//! Run: `cargo bench -p bgpd --bench rib` (about a minute on 2 cores).

#![allow(clippy::unwrap_used, clippy::expect_used)] // bench setup on data built here

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use bgpd::packet::FamilySet;
use bgpd::packet::attribute::{AsPath, AttrValue, NextHop, PathAttribute};
use bgpd::rib::decision::{Candidate, DecisionOptions, select};
use bgpd::rib::prefix_map::PrefixMap;
use bgpd::rib::{AttrInterner, Path, PathAttrs, PeerInfo, RouteKey};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ipnet::{IpNet, Ipv4Net};

fn attrs(neighbor_as: u32, med: u32) -> PathAttrs {
    let list = vec![
        PathAttribute::new(AttrValue::Origin(0)),
        PathAttribute::new(AttrValue::AsPath(AsPath::sequence(vec![
            neighbor_as,
            64600,
            64700,
        ]))),
        PathAttribute::new(AttrValue::Med(med)),
        PathAttribute::new(AttrValue::LocalPref(100)),
        PathAttribute::new(AttrValue::Communities(vec![
            (65000 << 16) | 1,
            (65000 << 16) | 2,
        ])),
    ];
    let nh = NextHop {
        global: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        link_local: None,
    };
    PathAttrs::new(list, Some(nh))
}

fn peer(id: u32) -> PeerInfo {
    let a = Ipv4Addr::new(10, 0, (id >> 8) as u8, id as u8);
    PeerInfo {
        id,
        address: IpAddr::V4(a),
        local_as: 65000,
        remote_as: 65000,
        bgp_id: a,
        rr_client: false,
        families: FamilySet::all_supported(),
        add_path_tx: FamilySet::new(),
        extended_nexthop: FamilySet::new(),
        local_address: None,
        llgr: false,
    }
}

fn decision(c: &mut Criterion) {
    let mut g = c.benchmark_group("decision");
    for n in [2u32, 10, 100] {
        let peers: Vec<PeerInfo> = (1..=n).map(peer).collect();
        let paths: Vec<Path> = (1..=n)
            .map(|i| Path {
                peer: i,
                path_id: 0,
                label: None,
                attrs: Arc::new(attrs(64512 + i, 1000 - i)),
                stale: false,
            })
            .collect();
        let cands: Vec<Candidate<'_>> = paths
            .iter()
            .zip(&peers)
            .map(|(path, peer)| Candidate {
                path,
                peer,
                igp_cost: None,
            })
            .collect();
        let opts = DecisionOptions::default();
        assert_eq!(select(&cands, &opts).map(|s| s.best), Some(0));
        g.throughput(Throughput::Elements(u64::from(n)));
        g.bench_with_input(BenchmarkId::from_parameter(n), &cands, |b, cands| {
            b.iter(|| select(black_box(cands), &opts))
        });
    }
    g.finish();
}

fn intern(c: &mut Criterion) {
    let mut g = c.benchmark_group("intern");
    let mut interner = AttrInterner::default();
    let held: Vec<Arc<PathAttrs>> = (0..10_000)
        .map(|m| interner.intern(attrs(65001, m)))
        .collect();
    g.throughput(Throughput::Elements(1));
    let mut m = 0u32;
    g.bench_function("hit", |b| {
        b.iter(|| {
            m = (m + 7919) % 10_000;
            interner.intern(black_box(attrs(65001, m)))
        })
    });
    let mut fresh = 10_000u32;
    g.bench_function("miss", |b| {
        b.iter(|| {
            fresh += 1;
            interner.intern(black_box(attrs(65001, fresh)))
        })
    });
    drop(held);
    g.finish();
}

/// The i-th key of a pseudo-random permutation of 1M /24s (an odd multiplier modulo 2^20).
fn key(i: u32) -> RouteKey {
    let n = i.wrapping_mul(0x9e37_79b1) & 0xf_ffff;
    let a = Ipv4Addr::from((16u32 << 24) + (n << 8));
    RouteKey {
        prefix: IpNet::V4(Ipv4Net::new(a, 24).unwrap()),
        rd: None,
    }
}

fn prefix_map(c: &mut Criterion) {
    const N: u32 = 1 << 20;
    let mut g = c.benchmark_group("prefix-map");
    g.throughput(Throughput::Elements(u64::from(N)));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("insert-1m", |b| {
        b.iter(|| {
            let mut m: PrefixMap<u64> = PrefixMap::default();
            for i in 0..N {
                m.insert(&key(i), 0, u64::from(i));
            }
            m
        })
    });
    let mut m: PrefixMap<u64> = PrefixMap::default();
    for i in 0..N {
        m.insert(&key(i), 0, u64::from(i));
    }
    assert_eq!(m.len(), N as usize);
    g.bench_function("remove-1m", |b| {
        b.iter_batched(
            || {
                let mut m: PrefixMap<u64> = PrefixMap::default();
                for i in 0..N {
                    m.insert(&key(i), 0, u64::from(i));
                }
                m
            },
            |mut m| {
                for i in 0..N {
                    m.remove(&key(i.wrapping_mul(3)), 0);
                }
                assert!(m.is_empty());
                m
            },
            criterion::BatchSize::PerIteration,
        )
    });
    g.bench_function("get-1m", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for i in 0..N {
                sum += m.get(&key(i.wrapping_mul(3)), 0).copied().unwrap_or(0);
            }
            sum
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = decision, intern, prefix_map
}
criterion_main!(benches);
