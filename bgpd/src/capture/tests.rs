//! Capture tests on pcap / pcapng files written by hand (global header + records).

use std::net::SocketAddr;
use std::path::Path;

use super::net::build::{ethernet, ip, tcp};
use super::net::{TCP_FIN, TCP_SYN};
use super::*;
use crate::packet::{self, Message};

/// A BGP message of type `kind` whose body is `body`.
fn msg(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&u16::try_from(19 + body.len()).unwrap().to_be_bytes());
    m.push(kind);
    m.extend_from_slice(body);
    m
}

fn open(asn: u16, id: u8) -> Vec<u8> {
    let mut b = vec![4];
    b.extend_from_slice(&asn.to_be_bytes());
    b.extend_from_slice(&[0, 9, id, id, id, id, 0]);
    msg(1, &b)
}

fn keepalive() -> Vec<u8> {
    msg(4, &[])
}

/// An UPDATE-typed message with `n` body bytes (never decoded by the capture code).
fn update(n: usize, fill: u8) -> Vec<u8> {
    msg(2, &vec![fill; n])
}

/// One captured packet: time, and the IP packet (link layer added by the writers).
struct Pkt {
    time: f64,
    ip: Vec<u8>,
}

fn seg(time: f64, src: SocketAddr, dst: SocketAddr, seq: u32, flags: u8, data: &[u8]) -> Pkt {
    Pkt {
        time,
        ip: ip(src, dst, &tcp(src, dst, seq, flags, data), None),
    }
}

/// Legacy pcap: little- or big-endian, microsecond or nanosecond timestamps.
fn legacy_pcap(big_endian: bool, nanos: bool, linktype: u32, frames: &[(f64, Vec<u8>)]) -> Vec<u8> {
    let u32b = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let u16b = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut f = Vec::new();
    f.extend_from_slice(&u32b(if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }));
    f.extend_from_slice(&u16b(2));
    f.extend_from_slice(&u16b(4));
    f.extend_from_slice(&u32b(0)); // thiszone
    f.extend_from_slice(&u32b(0)); // sigfigs
    f.extend_from_slice(&u32b(262_144)); // snaplen
    f.extend_from_slice(&u32b(linktype));
    for (time, data) in frames {
        let secs = time.trunc() as u32;
        let scale = if nanos { 1e9 } else { 1e6 };
        let frac = ((time - time.trunc()) * scale).round() as u32;
        let len = u32::try_from(data.len()).unwrap();
        for v in [secs, frac, len, len] {
            f.extend_from_slice(&u32b(v));
        }
        f.extend_from_slice(data);
    }
    f
}

/// Little-endian pcapng: one section, one interface with `if_tsresol` = 10^-`resol`.
fn pcapng(linktype: u16, resol: u8, frames: &[(f64, Vec<u8>)]) -> Vec<u8> {
    let mut f = Vec::new();
    // Section Header Block.
    for v in [0x0a0d_0d0au32, 28, 0x1a2b_3c4d] {
        f.extend_from_slice(&v.to_le_bytes());
    }
    f.extend_from_slice(&1u16.to_le_bytes());
    f.extend_from_slice(&0u16.to_le_bytes());
    f.extend_from_slice(&(-1i64).to_le_bytes());
    f.extend_from_slice(&28u32.to_le_bytes());
    // Interface Description Block with if_tsresol (code 9) and opt_endofopt.
    f.extend_from_slice(&1u32.to_le_bytes());
    f.extend_from_slice(&32u32.to_le_bytes());
    f.extend_from_slice(&linktype.to_le_bytes());
    f.extend_from_slice(&0u16.to_le_bytes());
    f.extend_from_slice(&262_144u32.to_le_bytes());
    f.extend_from_slice(&[9, 0, 1, 0, resol, 0, 0, 0, 0, 0, 0, 0]);
    f.extend_from_slice(&32u32.to_le_bytes());
    // Enhanced Packet Blocks.
    let units = 10f64.powi(i32::from(resol));
    for (time, data) in frames {
        let ts = (time * units).round() as u64;
        let padded = data.len().div_ceil(4) * 4;
        let block_len = u32::try_from(32 + padded).unwrap();
        let caplen = u32::try_from(data.len()).unwrap();
        for v in [
            6,
            block_len,
            0,
            (ts >> 32) as u32,
            ts as u32,
            caplen,
            caplen,
        ] {
            f.extend_from_slice(&v.to_le_bytes());
        }
        f.extend_from_slice(data);
        f.resize(f.len() + padded - data.len(), 0);
        f.extend_from_slice(&block_len.to_le_bytes());
    }
    f
}

fn read(bytes: &[u8], ports: &[u16]) -> Capture {
    Capture::from_bytes(bytes, Path::new("test.pcap"), ports).unwrap()
}

fn eth_frames(pkts: &[Pkt]) -> Vec<(f64, Vec<u8>)> {
    pkts.iter().map(|p| (p.time, ethernet(&p.ip))).collect()
}

fn a6() -> SocketAddr {
    "[fd00::1]:40001".parse().unwrap()
}
fn b6() -> SocketAddr {
    "[fd00::2]:179".parse().unwrap()
}

/// An expected message: sender, bytes, time.
type Want = (SocketAddr, Vec<u8>, f64);

/// A session with every reassembly case: two messages in one segment, an UPDATE whose halves
/// arrive in the wrong order, a retransmitted segment, an overlapping retransmission carrying
/// new bytes, an UPDATE split over three segments, and a non-BGP flow.
fn session() -> (Vec<Pkt>, Vec<Want>) {
    let (a, b) = (a6(), b6());
    let (oa, ob, ka) = (open(65001, 1), open(65002, 2), keepalive());
    let (ua, ub) = (update(300, 0x11), update(250, 0x22));
    let (ia, ib) = (1000u32, 5000u32);
    let mut ob_ka = ob.clone();
    ob_ka.extend_from_slice(&ka);
    let mut sa = ia + 1;
    let mut next = |n: usize| {
        let s = sa;
        sa += n as u32;
        s
    };
    let s_oa = next(oa.len());
    let s_ka = next(ka.len());
    let s_ua = next(ua.len());
    let s_ka2 = next(ka.len());
    let mut tail = ua[ua.len() - 10..].to_vec();
    tail.extend_from_slice(&ka);
    let sb = ib + 1 + ob_ka.len() as u32;
    let other: SocketAddr = "[fd00::2]:80".parse().unwrap();
    let pkts = vec![
        seg(1.0, a, b, ia, TCP_SYN, &[]),
        seg(1.1, b, a, ib, TCP_SYN, &[]),
        seg(1.2, a, b, s_oa, 0, &oa),
        seg(1.3, b, a, ib + 1, 0, &ob_ka),
        seg(1.4, a, b, s_ka, 0, &ka),
        seg(1.5, a, b, s_ua + 100, 0, &ua[100..]),
        seg(1.6, a, b, s_ua, 0, &ua[..100]),
        seg(1.7, a, b, s_ka, 0, &ka),
        seg(1.8, a, b, s_ka2 - 10, 0, &tail),
        seg(1.9, a, other, 77, 0, &keepalive()),
        seg(2.0, b, a, sb, 0, &ub[..7]),
        seg(2.1, b, a, sb + 7, 0, &ub[7..200]),
        seg(2.2, b, a, sb + 200, TCP_FIN, &ub[200..]),
    ];
    let want = vec![
        (a, oa, 1.2),
        (b, ob, 1.3),
        (b, ka.clone(), 1.3),
        (a, ka.clone(), 1.4),
        (a, ua, 1.6),
        (a, ka, 1.8),
        (b, ub, 2.2),
    ];
    (pkts, want)
}

fn check(c: &Capture, want: &[Want]) {
    let got: Vec<_> = c
        .messages
        .iter()
        .map(|m| (m.src, m.bytes.clone()))
        .collect();
    let exp: Vec<_> = want.iter().map(|(s, b, _)| (*s, b.clone())).collect();
    assert_eq!(got, exp, "notes: {:?}", c.notes);
    for (m, (_, _, t)) in c.messages.iter().zip(want) {
        assert!(
            (m.timestamp - t).abs() < 1e-6,
            "time {} want {t}",
            m.timestamp
        );
        assert_ne!(m.src, m.dst);
    }
}

#[test]
fn reassembles_a_session_from_legacy_pcap() {
    let (pkts, want) = session();
    let c = read(&legacy_pcap(false, false, 1, &eth_frames(&pkts)), &[]);
    check(&c, &want);
    assert!(c.notes.is_empty(), "{:?}", c.notes);
    // The OPENs decode; the context is known from the first message after both OPENs.
    let cx = DecodeContext::default();
    assert!(matches!(
        packet::decode_message(&c.messages[0].bytes, &cx),
        Ok(Message::Open(_))
    ));
    let negotiated: Vec<bool> = c.messages.iter().map(|m| m.context.is_some()).collect();
    assert_eq!(negotiated, [false, false, true, true, true, true, true]);
}

/// An OPEN with 4-octet AS (RFC 6793) and ADD-PATH send/receive for IPv4 unicast (RFC 7911).
fn open_add_path(asn: u16, id: u8) -> Vec<u8> {
    let caps = [
        2,
        12,
        65,
        4,
        0,
        0,
        asn.to_be_bytes()[0],
        asn.to_be_bytes()[1],
        69,
        4,
        0,
        1,
        1,
        3,
    ];
    let mut b = vec![4];
    b.extend_from_slice(&asn.to_be_bytes());
    b.extend_from_slice(&[0, 9, id, id, id, id, caps.len() as u8]);
    b.extend_from_slice(&caps);
    msg(1, &b)
}

#[test]
fn the_negotiated_context_comes_from_both_opens() {
    let (a, b) = (a6(), b6());
    let (oa, ob) = (open_add_path(65001, 1), open_add_path(65002, 2));
    let ka = keepalive();
    let pkts = [
        seg(1.0, a, b, 10, 0, &oa),
        seg(1.1, b, a, 20, 0, &ob),
        seg(1.2, a, b, 10 + oa.len() as u32, 0, &ka),
        seg(1.3, b, a, 20 + ob.len() as u32, 0, &ka),
    ];
    let c = read(&legacy_pcap(false, false, 1, &eth_frames(&pkts)), &[]);
    assert_eq!(c.messages.len(), 4, "{:?}", c.notes);
    for m in &c.messages[2..] {
        let cx = m.context.as_ref().unwrap();
        assert!(cx.four_octet_as);
        assert!(cx.add_path.contains(packet::Family::IPV4_UNICAST));
        assert!(!cx.add_path.contains(packet::Family::IPV6_UNICAST));
        // No Extended Message capability on either side (RFC 8654).
        assert_eq!(cx.max_message_len, packet::MAX_MESSAGE_LEN);
    }
}

#[test]
fn big_endian_nanosecond_raw_ip() {
    let (pkts, want) = session();
    let frames: Vec<_> = pkts.iter().map(|p| (p.time, p.ip.clone())).collect();
    check(&read(&legacy_pcap(true, true, 101, &frames), &[]), &want);
}

#[test]
fn pcapng_with_sll2_and_sll() {
    let (pkts, want) = session();
    let sll2: Vec<_> = pkts
        .iter()
        .map(|p| {
            let mut f = 0x86ddu16.to_be_bytes().to_vec();
            f.extend_from_slice(&[0; 18]);
            f.extend_from_slice(&p.ip);
            (p.time, f)
        })
        .collect();
    check(&read(&pcapng(276, 9, &sll2), &[]), &want);
    let sll: Vec<_> = pkts
        .iter()
        .map(|p| {
            let mut f = vec![0; 14];
            f.extend_from_slice(&0x86ddu16.to_be_bytes());
            f.extend_from_slice(&p.ip);
            (p.time, f)
        })
        .collect();
    check(&read(&pcapng(113, 6, &sll), &[]), &want);
}

#[test]
fn extra_ports_select_other_flows() {
    let (a, b): (SocketAddr, SocketAddr) = (
        "10.0.0.1:40000".parse().unwrap(),
        "10.0.0.2:1790".parse().unwrap(),
    );
    let pkts = [
        seg(1.0, a, b, 10, TCP_SYN, &[]),
        seg(1.1, a, b, 11, 0, &keepalive()),
    ];
    let pcap = legacy_pcap(false, false, 1, &eth_frames(&pkts));
    assert!(read(&pcap, &[]).messages.is_empty());
    let c = read(&pcap, &[1790]);
    assert_eq!(c.messages.len(), 1);
    assert_eq!((c.messages[0].src, c.messages[0].dst), (a, b));
}

#[test]
fn joins_mid_stream_and_wraps_sequence_numbers() {
    let (a, b) = (a6(), b6());
    let u = update(40, 0x33);
    let mut first = u[u.len() - 7..].to_vec(); // the tail of a message from before the capture
    first.extend_from_slice(&keepalive());
    let seq = u32::MAX - 5; // the stream wraps inside the next message
    let n = first.len() as u32;
    let pkts = [
        seg(1.0, a, b, seq, 0, &first),
        seg(1.1, a, b, seq.wrapping_add(n), 0, &u[..30]),
        seg(1.2, a, b, seq.wrapping_add(n + 30), 0, &u[30..]),
    ];
    let c = read(&legacy_pcap(false, false, 1, &eth_frames(&pkts)), &[]);
    let got: Vec<_> = c.messages.iter().map(|m| m.bytes.clone()).collect();
    assert_eq!(got, vec![keepalive(), u]);
    assert!(
        c.notes.iter().any(|n| n.contains("no SYN")),
        "{:?}",
        c.notes
    );
}

#[test]
fn a_hole_is_skipped_at_the_end_and_framing_errors_are_reported() {
    let (a, b) = (a6(), b6());
    let ka = keepalive();
    let mut bad = ka.clone();
    bad[3] = 0; // broken marker
    let mut stream = ka.clone();
    stream.extend_from_slice(&bad);
    stream.extend_from_slice(&ka);
    let lost = update(60, 0x44);
    let after = update(30, 0x55);
    let s0 = 101u32;
    let s_lost = s0 + stream.len() as u32;
    let s_after = s_lost + lost.len() as u32;
    let pkts = [
        seg(1.0, a, b, 100, TCP_SYN, &[]),
        seg(1.1, a, b, s0, 0, &stream),
        seg(1.2, a, b, s_lost, 0, &lost[..20]),
        // lost[20..] never captured
        seg(1.4, a, b, s_after, 0, &after),
    ];
    let c = read(&legacy_pcap(false, false, 1, &eth_frames(&pkts)), &[]);
    let got: Vec<_> = c.messages.iter().map(|m| m.bytes.clone()).collect();
    assert_eq!(
        got,
        vec![ka.clone(), bad.clone(), ka, after],
        "{:?}",
        c.notes
    );
    let err = packet::decode_message(&c.messages[1].bytes, &DecodeContext::default()).unwrap_err();
    assert_eq!((err.code, err.subcode), (1, 1));
    assert!(
        c.notes.iter().any(|n| n.contains("missing")),
        "{:?}",
        c.notes
    );
}

#[test]
fn a_new_connection_resets_the_stream() {
    let (a, b) = (a6(), b6());
    let ka = keepalive();
    let pkts = [
        seg(1.0, a, b, 100, TCP_SYN, &[]),
        seg(1.1, a, b, 101, 0, &ka[..10]),
        seg(1.2, a, b, 100, TCP_SYN, &[]), // retransmitted SYN: ignored
        seg(1.3, a, b, 111, 0, &ka[10..]),
        seg(2.0, a, b, 9000, TCP_SYN, &[]), // new connection
        seg(2.1, a, b, 9001, 0, &ka),
    ];
    let c = read(&legacy_pcap(false, false, 1, &eth_frames(&pkts)), &[]);
    assert_eq!(c.messages.len(), 2, "{:?}", c.notes);
}

#[test]
fn unreadable_inputs_are_errors() {
    let p = Path::new("x.pcap");
    assert!(matches!(
        Capture::from_reader(&b""[..], p, &[]),
        Err(CaptureError::Empty { .. })
    ));
    let junk = [0x42u8; 64];
    assert!(matches!(
        Capture::from_reader(&junk[..], p, &[]),
        Err(CaptureError::NotPcap { .. })
    ));
    let missing = Capture::from_file(Path::new("/nonexistent/dir/x.pcap"), &[]);
    assert!(matches!(missing, Err(CaptureError::Io { .. })));
}

#[test]
fn malformed_files_never_panic() {
    let (pkts, _) = session();
    let files = [
        legacy_pcap(false, false, 1, &eth_frames(&pkts)),
        legacy_pcap(
            true,
            true,
            101,
            &pkts
                .iter()
                .map(|p| (p.time, p.ip.clone()))
                .collect::<Vec<_>>(),
        ),
        pcapng(1, 6, &eth_frames(&pkts)),
    ];
    for file in &files {
        // Every truncation, and single-byte corruptions at many offsets.
        for n in 0..file.len() {
            let _ = Capture::from_bytes(&file[..n], Path::new("t"), &[]);
        }
        for at in (0..file.len()).step_by(7) {
            for v in [0x00, 0xff, 0x80] {
                let mut f = file.clone();
                f[at] = v;
                let _ = Capture::from_bytes(&f, Path::new("t"), &[179]);
            }
        }
    }
    // A truncated last record still yields the earlier messages, with a note.
    let whole = &files[0];
    let c = read(&whole[..whole.len() - 5], &[]);
    assert_eq!(c.messages.len(), 6);
    assert!(
        c.notes.iter().any(|n| n.contains("truncated")),
        "{:?}",
        c.notes
    );
}
