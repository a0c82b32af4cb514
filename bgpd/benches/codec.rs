//! Codec throughput on realistic streams of whole UPDATE messages (headers included).
//!
//! Two workloads, built once in the setup:
//!
//! * `ipv4`: 1,000,000 IPv4 unicast prefixes packed as a full-table dump is: UPDATEs of at most
//!   4096 bytes, each with one attribute set (ORIGIN, AS_PATH of a few ASes, NEXT_HOP, MED,
//!   LOCAL_PREF, COMMUNITIES) and as many /16../24 prefixes as fit, lengths mixed like a real
//!   table (mostly /24).
//! * `vpnv6`: 100,000 VPN-IPv6 routes with an SRv6 L3 Service Prefix-SID, as FRR 8.4 packs
//!   them: MP_REACH_NLRI (RD + label per NLRI, RD0 + global + RD0 + link-local next hop) with
//!   the SID's function transposed into each route's label (structure 40/24/16/0/16/64, label =
//!   function << 4 | 1), so every route has its own label yet all share one attribute set.
//!
//! Measured: `decode_message` over the whole stream (framing with `frame_len`, prefixes summed
//! so nothing is optimized away) and `encode_message` of the decoded messages into one reused
//! `BytesMut`. Group `codec-prefixes` reports prefixes/s, group `codec-bytes` bytes/s, group
//! `codec-micro` decodes one 4096-byte IPv4 UPDATE.
//!
//! Run: `cargo bench -p bgpd --bench codec` (about two minutes on 2 cores). With
//! `CODEC_BENCH_ONCE=ipv4` (or `vpnv6`) the binary decodes and encodes that stream once and
//! exits (for callgrind instruction counts).

#![allow(clippy::unwrap_used, clippy::expect_used)] // bench setup on data built here

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use bgpd::packet::attribute::{AsPath, AttrValue, ExtendedCommunity, MpNlri, MpReach, NextHop};
use bgpd::packet::attribute::{FLAG_EXTENDED_LENGTH, PathAttribute, mp};
use bgpd::packet::nlri::{Nlri, RouteDistinguisher, VpnLabel, encoded_len};
use bgpd::packet::prefix_sid::{PrefixSid, SidStructureTlv};
use bgpd::packet::{
    DecodeContext, EncodeContext, Family, MAX_MESSAGE_LEN, Message, UpdateMessage, decode_message,
    encode_message, frame_len,
};
use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

const IPV4_PREFIXES: usize = 1_000_000;
const VPNV6_ROUTES: usize = 100_000;

/// A small deterministic generator (splitmix64), so every run benchmarks the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A stream of encoded messages, back to back as a session reads them.
struct Stream {
    name: &'static str,
    bytes: Vec<u8>,
    messages: usize,
    prefixes: u64,
}

fn encoded_size(u: &UpdateMessage, cx: &EncodeContext) -> usize {
    let mut b = BytesMut::with_capacity(MAX_MESSAGE_LEN);
    encode_message(&Message::Update(u.clone()), cx, &mut b);
    b.len()
}

/// IPv4 prefix lengths in roughly the proportions of a global table: ~60% /24, the rest
/// spread over /16../23 (more /22 and /23 than shorter ones).
fn ipv4_len(rng: &mut Rng) -> u8 {
    match rng.below(100) {
        0..60 => 24,
        60..72 => 23,
        72..84 => 22,
        84..90 => 21,
        90..94 => 20,
        94..96 => 19,
        96..98 => 18,
        98..99 => 17,
        _ => 16,
    }
}

fn ipv4_attributes(rng: &mut Rng) -> Vec<PathAttribute> {
    let hops = 2 + rng.below(4) as usize;
    let mut path: Vec<u32> = vec![65001];
    path.extend((1..hops).map(|_| 1 + rng.below(400_000) as u32));
    let communities = (0..2 + rng.below(3))
        .map(|_| (65001 << 16) | rng.below(1000) as u32)
        .collect();
    vec![
        PathAttribute::new(AttrValue::Origin(0)),
        PathAttribute::new(AttrValue::AsPath(AsPath::sequence(path))),
        PathAttribute::new(AttrValue::NextHop(Ipv4Addr::new(192, 0, 2, 1))),
        PathAttribute::new(AttrValue::Med(rng.below(1000) as u32)),
        PathAttribute::new(AttrValue::LocalPref(100)),
        PathAttribute::new(AttrValue::Communities(communities)),
    ]
}

fn ipv4_stream() -> Stream {
    let cx = EncodeContext::default();
    let mut rng = Rng(0x5151_d7a0);
    let mut out = BytesMut::with_capacity(IPV4_PREFIXES * 4 + IPV4_PREFIXES / 200);
    let (mut prefixes, mut messages) = (0usize, 0usize);
    while prefixes < IPV4_PREFIXES {
        let mut u = UpdateMessage {
            attributes: ipv4_attributes(&mut rng),
            ..Default::default()
        };
        let mut size = encoded_size(&u, &cx);
        while prefixes < IPV4_PREFIXES {
            let len = ipv4_len(&mut rng);
            let addr = (rng.next() as u32) & (u32::MAX << (32 - len));
            let n = Nlri::new(IpNet::V4(Ipv4Net::new(Ipv4Addr::from(addr), len).unwrap()));
            let grow = encoded_len(&n, false);
            if size + grow > MAX_MESSAGE_LEN {
                break;
            }
            size += grow;
            u.nlri.push(n);
            prefixes += 1;
        }
        let start = out.len();
        encode_message(&Message::Update(u), &cx, &mut out);
        assert_eq!(out.len() - start, size);
        messages += 1;
    }
    Stream {
        name: "ipv4",
        bytes: out.to_vec(),
        messages,
        prefixes: prefixes as u64,
    }
}

/// RFC 9252 §4 transposition with the FRR 8.4 default structure: locator fc00:0:2::/64
/// (block 40 bits, node 24 bits), function 16 bits at offset 64 carried in the label.
const STRUCTURE: SidStructureTlv = SidStructureTlv {
    block_len: 40,
    node_len: 24,
    function_len: 16,
    argument_len: 0,
    transposition_len: 16,
    transposition_offset: 64,
};

fn vpnv6_attributes(vrf: u16) -> Vec<PathAttribute> {
    let nh = NextHop {
        global: IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2)),
        link_local: Some(Ipv6Addr::new(
            0xfe80, 0, 0, 0, 0xd05b, 0x58ff, 0xfe3f, 0x1ea0,
        )),
    };
    let mut reach = PathAttribute::new(AttrValue::MpReach(Box::new(MpReach {
        family: Family::IPV6_VPN,
        next_hop: mp::next_hop_bytes(Family::IPV6_VPN, &nh),
        reserved: 0,
        nlri: MpNlri::Prefixes(Vec::new()),
    })));
    // FRR always sends MP_REACH_NLRI with the Extended Length flag (flags 0x90).
    reach.flags |= FLAG_EXTENDED_LENGTH;
    // The SID with its transposed function bits (64..80) zeroed; End.DT6 (0x0012).
    let sid = Ipv6Addr::new(0xfc00, 0, 2, 0, 0, 0, 0, 0);
    vec![
        reach,
        PathAttribute::new(AttrValue::Origin(2)),
        PathAttribute::new(AttrValue::AsPath(AsPath::default())),
        PathAttribute::new(AttrValue::Med(0)),
        PathAttribute::new(AttrValue::LocalPref(100)),
        PathAttribute::new(AttrValue::ExtendedCommunities(vec![
            ExtendedCommunity::route_target_as2(65000, u32::from(vrf)),
        ])),
        PathAttribute::new(AttrValue::PrefixSid(PrefixSid::srv6_l3_service(
            sid,
            0x0012,
            Some(STRUCTURE),
        ))),
    ]
}

fn mp_prefixes(u: &mut UpdateMessage) -> &mut Vec<Nlri> {
    match u.attributes.iter_mut().find_map(|a| match &mut a.value {
        AttrValue::MpReach(m) => Some(&mut m.nlri),
        _ => None,
    }) {
        Some(MpNlri::Prefixes(p)) => p,
        _ => unreachable!("built with MpNlri::Prefixes"),
    }
}

fn vpnv6_stream() -> Stream {
    const VRFS: u16 = 10;
    let cx = EncodeContext::default();
    let mut rng = Rng(0x0005_1d6e);
    let mut out = BytesMut::with_capacity(VPNV6_ROUTES * 22);
    let (mut routes, mut messages) = (0usize, 0usize);
    let per_vrf = VPNV6_ROUTES.div_ceil(usize::from(VRFS));
    while routes < VPNV6_ROUTES {
        let vrf = 1 + u16::try_from(routes / per_vrf).unwrap();
        let rd = RouteDistinguisher::from_asn2(65000, u32::from(vrf));
        let mut u = UpdateMessage {
            attributes: vpnv6_attributes(vrf),
            ..Default::default()
        };
        let mut size = encoded_size(&u, &cx);
        while routes < VPNV6_ROUTES && 1 + u16::try_from(routes / per_vrf).unwrap() == vrf {
            // Pod and service prefixes: mostly /64, some /56 and /48.
            let len = match rng.below(10) {
                0 => 48,
                1 | 2 => 56,
                _ => 64,
            };
            let addr =
                (0x2001_0db8u128 << 96 | u128::from(rng.next()) << 32) & (u128::MAX << (128 - len));
            // One function per route (End.DT6 per prefix, as with per-route SID allocation).
            let function = 1 + (routes % 0xfffe) as u32;
            let n = Nlri {
                path_id: None,
                prefix: IpNet::V6(Ipv6Net::new(Ipv6Addr::from(addr), len).unwrap()),
                vpn: Some(VpnLabel {
                    label: function << 4 | 1,
                    rd,
                }),
            };
            let grow = encoded_len(&n, false);
            if size + grow > MAX_MESSAGE_LEN {
                break;
            }
            size += grow;
            mp_prefixes(&mut u).push(n);
            routes += 1;
        }
        let start = out.len();
        encode_message(&Message::Update(u), &cx, &mut out);
        assert_eq!(out.len() - start, size);
        messages += 1;
    }
    Stream {
        name: "vpnv6",
        bytes: out.to_vec(),
        messages,
        prefixes: routes as u64,
    }
}

fn prefix_count(m: &Message) -> usize {
    match m {
        Message::Update(u) => u.nlri.len() + u.mp_reach().map_or(0, |r| r.nlri.prefixes().len()),
        _ => 0,
    }
}

/// Decode every message of the stream, framing it as a session reader does.
#[inline(never)]
fn decode_all(mut buf: &[u8], cx: &DecodeContext) -> usize {
    let mut prefixes = 0;
    while let Ok(Some(len)) = frame_len(buf, cx.max_message_len) {
        let (msg, rest) = buf.split_at(len);
        match decode_message(msg, cx) {
            Ok(m) => prefixes += prefix_count(&m),
            Err(e) => panic!("benchmark stream does not decode: {e}"),
        }
        buf = rest;
    }
    prefixes
}

fn decode_messages(s: &Stream, cx: &DecodeContext) -> Vec<Message> {
    let mut buf = &s.bytes[..];
    let mut v = Vec::with_capacity(s.messages);
    while let Ok(Some(len)) = frame_len(buf, cx.max_message_len) {
        let (msg, rest) = buf.split_at(len);
        v.push(decode_message(msg, cx).unwrap());
        buf = rest;
    }
    v
}

#[inline(never)]
fn encode_all(msgs: &[Message], cx: &EncodeContext, out: &mut BytesMut) -> usize {
    out.clear();
    for m in msgs {
        encode_message(m, cx, out);
    }
    out.len()
}

struct Workload {
    stream: Stream,
    decoded: Vec<Message>,
}

fn workloads() -> Vec<Workload> {
    eprintln!(
        "decoded form: {} bytes per Nlri",
        std::mem::size_of::<Nlri>()
    );
    let dcx = DecodeContext::default();
    let ecx = EncodeContext::default();
    [ipv4_stream(), vpnv6_stream()]
        .into_iter()
        .map(|stream| {
            let decoded = decode_messages(&stream, &dcx);
            assert_eq!(decoded.len(), stream.messages);
            let prefixes: usize = decoded.iter().map(prefix_count).sum();
            assert_eq!(prefixes as u64, stream.prefixes);
            for m in &decoded {
                let Message::Update(u) = m else {
                    unreachable!()
                };
                assert!(u.errors.is_empty(), "{}: {:?}", stream.name, u.errors);
            }
            // The encoder reproduces the stream byte for byte.
            let mut out = BytesMut::new();
            decoded.iter().for_each(|m| encode_message(m, &ecx, &mut out));
            assert!(out[..] == stream.bytes[..], "{}: re-encoding differs", stream.name);
            eprintln!(
                "workload {}: {} prefixes in {} UPDATEs, {} bytes ({:.1} prefixes/UPDATE, {:.2} bytes/prefix)",
                stream.name,
                stream.prefixes,
                stream.messages,
                stream.bytes.len(),
                stream.prefixes as f64 / stream.messages as f64,
                stream.bytes.len() as f64 / stream.prefixes as f64,
            );
            Workload { stream, decoded }
        })
        .collect()
}

fn run_group(c: &mut Criterion, group: &str, loads: &[Workload], bytes: bool) {
    let dcx = DecodeContext::default();
    let ecx = EncodeContext::default();
    let mut g = c.benchmark_group(group);
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    for w in loads {
        let s = &w.stream;
        g.throughput(if bytes {
            Throughput::Bytes(s.bytes.len() as u64)
        } else {
            Throughput::Elements(s.prefixes)
        });
        g.bench_function(format!("decode/{}", s.name), |b| {
            b.iter(|| decode_all(black_box(&s.bytes), &dcx))
        });
        let mut out = BytesMut::with_capacity(s.bytes.len());
        g.bench_function(format!("encode/{}", s.name), |b| {
            b.iter(|| encode_all(black_box(&w.decoded), &ecx, &mut out))
        });
    }
    g.finish();
}

fn micro(c: &mut Criterion, loads: &[Workload]) {
    let dcx = DecodeContext::default();
    let s = &loads[0].stream;
    let len = frame_len(&s.bytes, dcx.max_message_len).unwrap().unwrap();
    let msg = &s.bytes[..len];
    let prefixes = prefix_count(&decode_message(msg, &dcx).unwrap());
    assert!(len > MAX_MESSAGE_LEN - 8);
    let mut g = c.benchmark_group("codec-micro");
    g.sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(prefixes as u64));
    g.bench_function(
        format!("decode/ipv4-update-{len}B-{prefixes}-prefixes"),
        |b| b.iter(|| prefix_count(&decode_message(black_box(msg), &dcx).unwrap())),
    );
    g.finish();
}

fn codec(c: &mut Criterion) {
    let loads = workloads();
    micro(c, &loads);
    run_group(c, "codec-prefixes", &loads, false);
    run_group(c, "codec-bytes", &loads, true);
}

/// `CODEC_BENCH_ONCE=ipv4` (or `vpnv6`, or `ipv4,vpnv6`): build the workloads, then decode and
/// encode the named streams once each and exit, for an instruction count that does not depend
/// on the machine's load: `valgrind --tool=callgrind --toggle-collect='*decode_all*'
/// target/release/deps/codec-*` (see docs/benchmarks.md). Setup calls neither function.
fn once(which: &str) {
    let dcx = DecodeContext::default();
    let ecx = EncodeContext::default();
    for w in workloads().iter().filter(|w| which.contains(w.stream.name)) {
        let n = decode_all(black_box(&w.stream.bytes), &dcx);
        let mut out = BytesMut::with_capacity(w.stream.bytes.len());
        let len = encode_all(black_box(&w.decoded), &ecx, &mut out);
        eprintln!(
            "{}: decoded {n} prefixes, encoded {len} bytes",
            w.stream.name
        );
    }
}

criterion_group!(benches, codec);

fn main() {
    if let Ok(which) = std::env::var("CODEC_BENCH_ONCE") {
        once(&which);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
