#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::*;

fn a6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

const TUNSRC: &str = "fc00:1::1";

/// An IPv4 TCP packet of `total` octets from pod 1 to pod 2 with DF set, its header
/// checksummed as a host sends it.
fn ipv4_tcp(total: u16) -> Vec<u8> {
    let mut p = vec![
        0x45, 0x00, 0, 0, 0x12, 0x34, 0x40, 0x00, 64, 6, 0, 0, 10, 1, 1, 2, 10, 2, 1, 2,
    ];
    p[2..4].copy_from_slice(&total.to_be_bytes());
    let c = checksum(&p);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    // TCP: ports 40000 -> 5201, sequence 0x01020304, ack, flags ACK, window.
    p.extend_from_slice(&[
        0x9c, 0x40, 0x14, 0x51, 1, 2, 3, 4, 0, 0, 0, 9, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0,
    ]);
    p.extend((p.len()..usize::from(total)).map(|i| i as u8));
    p
}

/// An IPv6 TCP packet of `total` octets from pod 1 to pod 2.
fn ipv6_tcp(total: u16) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(total - 40).to_be_bytes());
    p.extend_from_slice(&[6, 64]);
    p.extend_from_slice(&a6("2001:db8:1::2").octets());
    p.extend_from_slice(&a6("2001:db8:2::2").octets());
    p.extend_from_slice(&[
        0x9c, 0x40, 0x14, 0x51, 1, 2, 3, 4, 0, 0, 0, 9, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0,
    ]);
    p.extend((p.len()..usize::from(total)).map(|i| i as u8));
    p
}

/// H.Encaps (RFC 8986 §5.1) of `inner` from `src` with the segment list `segs` (an SRH with
/// segments left = last entry = n - 1, the first segment as destination), or reduced (no
/// SRH) when `segs` has one entry and `reduced`.
fn encap(inner: &[u8], src: &str, segs: &[&str], reduced: bool) -> Vec<u8> {
    let inner_nh = if inner[0] >> 4 == 4 { 4 } else { 41 };
    let mut srh = Vec::new();
    if !reduced {
        let n = segs.len() as u8;
        srh.extend_from_slice(&[inner_nh, 2 * n, 4, n - 1, n - 1, 0, 0, 0]);
        // The segment list is in reverse order: Segment List[0] is the last segment.
        for s in segs.iter().rev() {
            srh.extend_from_slice(&a6(s).octets());
        }
    }
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&((srh.len() + inner.len()) as u16).to_be_bytes());
    p.extend_from_slice(&[if reduced { inner_nh } else { 43 }, 63]);
    p.extend_from_slice(&a6(src).octets());
    p.extend_from_slice(&a6(segs[0]).octets());
    p.extend_from_slice(&srh);
    p.extend_from_slice(inner);
    p
}

/// The "packet too big" the kernel sends about `packet` (what a raw ICMPv6 socket returns):
/// as much of the packet as fits in 1280 octets with the IPv6 and ICMPv6 headers.
fn ptb(mtu: u32, packet: &[u8]) -> Vec<u8> {
    let mut m = vec![2, 0, 0xab, 0xcd];
    m.extend_from_slice(&mtu.to_be_bytes());
    m.extend_from_slice(&packet[..packet.len().min(1280 - 48)]);
    m
}

fn src() -> Option<Ipv6Addr> {
    Some(a6(TUNSRC))
}

#[test]
fn checksum_rfc1071_example() {
    // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
    assert_eq!(
        checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
        !0xddf2
    );
    // An odd length is padded with a zero octet.
    assert_eq!(checksum(&[0x01]), !0x0100);
    // A message with its checksum in place sums to zero.
    let p = ipv4_tcp(40);
    assert_eq!(checksum(&p[..20]), 0);
}

#[test]
fn ipv4_pod_gets_fragmentation_needed_naming_the_pod_mtu() {
    let inner = ipv4_tcp(1437);
    let msg = ptb(1500, &encap(&inner, TUNSRC, &["fc00:2::4"], false));
    let Ok(Relay::V4 { to, mtu, icmp }) = relay(&msg, src()) else {
        panic!("{:?}", relay(&msg, src()));
    };
    assert_eq!(to, Ipv4Addr::new(10, 1, 1, 2));
    // 1500 - 40 (outer IPv6) - 24 (SRH with one segment).
    assert_eq!(mtu, 1436);
    assert_eq!(&icmp[..2], &[3, 4]);
    assert_eq!(&icmp[4..8], &[0, 0, 0x05, 0x9c]);
    // RFC 1812 §4.3.2.3: the header and data up to 576 octets of ICMP datagram.
    assert_eq!(icmp.len(), 576 - 20);
    assert_eq!(&icmp[8..], &inner[..576 - 28]);
    // The checksum verifies, and is the one recomputed over the message with a zero field.
    assert_eq!(checksum(&icmp), 0);
    let mut zeroed = icmp.clone();
    zeroed[2..4].copy_from_slice(&[0, 0]);
    assert_eq!(checksum(&zeroed).to_be_bytes(), [icmp[2], icmp[3]]);
}

#[test]
fn ipv4_quote_stops_at_the_datagram() {
    // A datagram shorter than 548 octets (too big for a smaller path MTU somewhere): the
    // quote is the datagram, no more.
    let inner = ipv4_tcp(60);
    let msg = ptb(1280, &encap(&inner, TUNSRC, &["fc00:2::4"], false));
    let Ok(Relay::V4 { mtu, icmp, .. }) = relay(&msg, src()) else {
        panic!()
    };
    assert_eq!(mtu, 1280 - 64);
    assert_eq!(&icmp[8..], &inner[..]);
    assert_eq!(checksum(&icmp), 0);
}

#[test]
fn ipv6_pod_gets_packet_too_big_naming_the_pod_mtu() {
    let inner = ipv6_tcp(1437);
    let outer = encap(&inner, TUNSRC, &["fc00:2::6"], false);
    let msg = ptb(1500, &outer);
    let Ok(Relay::V6 { to, mtu, icmp }) = relay(&msg, src()) else {
        panic!("{:?}", relay(&msg, src()));
    };
    assert_eq!(to, a6("2001:db8:1::2"));
    assert_eq!(mtu, 1436);
    assert_eq!(&icmp[..8], &[2, 0, 0, 0, 0, 0, 0x05, 0x9c]);
    // The kernel quoted 1232 octets of the outer packet: 1232 - 64 of the pod's.
    assert_eq!(icmp.len(), 8 + 1232 - 64);
    assert_eq!(&icmp[8..], &inner[..1232 - 64]);
    // Within the minimum MTU with the IPv6 header (RFC 4443 §2.4(c)).
    assert!(40 + icmp.len() <= 1280);
}

#[test]
fn ipv6_quote_is_whole_when_small_and_capped_at_1280() {
    let inner = ipv6_tcp(100);
    let msg = ptb(1400, &encap(&inner, TUNSRC, &["fc00:2::6"], false));
    let Ok(Relay::V6 { mtu, icmp, .. }) = relay(&msg, src()) else {
        panic!()
    };
    assert_eq!(mtu, 1400 - 64);
    assert_eq!(&icmp[8..], &inner[..]);
    // A longer quote than 1232 (not from the kernel, but possible): capped.
    let inner = ipv6_tcp(1400);
    let mut msg = vec![2, 0, 0, 0, 0, 0, 0x05, 0xdc];
    msg.extend_from_slice(&encap(&inner, TUNSRC, &["fc00:2::6"], true));
    let Ok(Relay::V6 { icmp, .. }) = relay(&msg, src()) else {
        panic!()
    };
    assert_eq!(icmp.len(), 1280 - 40);
}

#[test]
fn the_mtu_subtracts_the_whole_srh() {
    // Three segments: SRH 8 + 48.
    let segs = ["fc00:3::1", "fc00:4::1", "fc00:2::6"];
    let msg = ptb(1500, &encap(&ipv6_tcp(1437), TUNSRC, &segs, false));
    assert!(matches!(
        relay(&msg, src()),
        Ok(Relay::V6 { mtu: 1404, .. })
    ));
    let msg = ptb(1500, &encap(&ipv4_tcp(1437), TUNSRC, &segs, false));
    assert!(matches!(
        relay(&msg, src()),
        Ok(Relay::V4 { mtu: 1404, .. })
    ));
    // Reduced encapsulation: the outer header only.
    let msg = ptb(1500, &encap(&ipv4_tcp(1480), TUNSRC, &["fc00:2::4"], true));
    assert!(matches!(
        relay(&msg, src()),
        Ok(Relay::V4 { mtu: 1460, .. })
    ));
    let msg = ptb(1500, &encap(&ipv6_tcp(1480), TUNSRC, &["fc00:2::6"], true));
    assert!(matches!(
        relay(&msg, src()),
        Ok(Relay::V6 { mtu: 1460, .. })
    ));
}

#[test]
fn the_mtu_is_clamped_to_the_minimum_of_each_family() {
    // A 1300-octet path: 1236 for the pods, below IPv6's minimum (RFC 8201 §4: 1280).
    let msg = ptb(1300, &encap(&ipv6_tcp(1437), TUNSRC, &["fc00:2::6"], false));
    assert!(matches!(
        relay(&msg, src()),
        Ok(Relay::V6 { mtu: 1280, .. })
    ));
    let msg = ptb(1300, &encap(&ipv4_tcp(1437), TUNSRC, &["fc00:2::4"], false));
    assert!(matches!(
        relay(&msg, src()),
        Ok(Relay::V4 { mtu: 1236, .. })
    ));
    // Absurd MTUs: IPv4's 576, nothing underflows.
    for m in [0, 1, 63, 64, 600] {
        let msg = ptb(m, &encap(&ipv4_tcp(1437), TUNSRC, &["fc00:2::4"], false));
        assert!(matches!(relay(&msg, src()), Ok(Relay::V4 { mtu: 576, .. })));
    }
    let msg = ptb(
        u32::MAX,
        &encap(&ipv4_tcp(1437), TUNSRC, &["fc00:2::4"], false),
    );
    assert!(matches!(
        relay(&msg, src()),
        Ok(Relay::V4 { mtu: u16::MAX, .. })
    ));
}

#[test]
fn every_truncation_is_a_drop_until_the_inner_header_is_there() {
    for (inner, header) in [(ipv4_tcp(1437), 20), (ipv6_tcp(1437), 40)] {
        let msg = ptb(1500, &encap(&inner, TUNSRC, &["fc00:2::4"], false));
        let needed = 8 + 40 + 24 + header;
        for n in 0..needed {
            assert_eq!(
                relay(&msg[..n], src()),
                Err(Ignored::Truncated),
                "cut at {n}"
            );
        }
        for n in needed..msg.len() {
            let quote = match relay(&msg[..n], src()) {
                Ok(Relay::V4 { icmp, .. } | Relay::V6 { icmp, .. }) => icmp.len() - 8,
                other => panic!("cut at {n}: {other:?}"),
            };
            assert_eq!(quote, (n - 72).min(if header == 20 { 548 } else { 1232 }));
        }
    }
    // Reduced encapsulation truncated in the inner header.
    let msg = ptb(1500, &encap(&ipv6_tcp(1437), TUNSRC, &["fc00:2::6"], true));
    assert_eq!(relay(&msg[..8 + 40 + 39], src()), Err(Ignored::Truncated));
}

#[test]
fn foreign_and_unknown_sources_are_dropped() {
    let msg = ptb(
        1500,
        &encap(&ipv4_tcp(1437), "fd00::9", &["fc00:2::4"], false),
    );
    assert_eq!(relay(&msg, src()), Err(Ignored::ForeignSource));
    let msg = ptb(1500, &encap(&ipv4_tcp(1437), TUNSRC, &["fc00:2::4"], false));
    assert_eq!(relay(&msg, None), Err(Ignored::ForeignSource));
}

#[test]
fn other_packets_are_not_srv6() {
    let good = ptb(1500, &encap(&ipv4_tcp(1437), TUNSRC, &["fc00:2::4"], false));
    // The node's own TCP (next header 6).
    let mut m = good.clone();
    m[8 + 6] = 6;
    assert_eq!(relay(&m, src()), Err(Ignored::NotSrv6));
    // A type 2 routing header, not an SRH.
    let mut m = good.clone();
    m[8 + 42] = 2;
    assert_eq!(relay(&m, src()), Err(Ignored::NotSrv6));
    // An SRH carrying no IPv4/IPv6 packet (e.g. next header 59, OAM).
    let mut m = good.clone();
    m[8 + 40] = 59;
    assert_eq!(relay(&m, src()), Err(Ignored::NotSrv6));
    // Other ICMPv6 messages.
    let mut m = good.clone();
    m[0] = 1;
    assert_eq!(relay(&m, src()), Err(Ignored::NotPacketTooBig));
    m[0] = 135;
    assert_eq!(relay(&m, src()), Err(Ignored::NotPacketTooBig));
}

#[test]
fn malformed_headers_are_dropped() {
    let good4 = ptb(1500, &encap(&ipv4_tcp(1437), TUNSRC, &["fc00:2::4"], false));
    let inner = 8 + 64;
    // Outer version 4.
    let mut m = good4.clone();
    m[8] = 0x45;
    assert_eq!(relay(&m, src()), Err(Ignored::Malformed));
    // IHL below 5 words.
    let mut m = good4.clone();
    m[inner] = 0x44;
    assert_eq!(relay(&m, src()), Err(Ignored::Malformed));
    // IHL longer than what is there.
    let mut m = good4.clone();
    m.truncate(inner + 30);
    m[inner] = 0x4f;
    assert_eq!(relay(&m, src()), Err(Ignored::Truncated));
    // Total length shorter than the header.
    let mut m = good4.clone();
    m[inner + 2..inner + 4].copy_from_slice(&10u16.to_be_bytes());
    assert_eq!(relay(&m, src()), Err(Ignored::Malformed));
    // The SRH says IPv4, the packet is IPv6 (and the other way round).
    let mut m = good4.clone();
    m[inner] = 0x60;
    assert_eq!(relay(&m, src()), Err(Ignored::Malformed));
    let mut m = ptb(1500, &encap(&ipv6_tcp(1437), TUNSRC, &["fc00:2::6"], false));
    m[inner] = 0x45;
    assert_eq!(relay(&m, src()), Err(Ignored::Malformed));
    // An SRH longer than the quote.
    let mut m = good4.clone();
    m[8 + 41] = 255;
    assert_eq!(relay(&m, src()), Err(Ignored::Truncated));
}

#[test]
fn errors_rfc_1812_and_4443_forbid_are_not_sent() {
    let v4 = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut inner = ipv4_tcp(1437);
        f(&mut inner);
        relay(
            &ptb(1500, &encap(&inner, TUNSRC, &["fc00:2::4"], false)),
            src(),
        )
    };
    // No DF: the source did not ask for path MTU discovery.
    assert_eq!(v4(&|p| p[6] = 0), Err(Ignored::DfClear));
    // A non-first fragment.
    assert_eq!(v4(&|p| p[7] = 1), Err(Ignored::NotAllowed));
    // Sources that are not one node, multicast and broadcast destinations.
    for (at, a) in [
        (12, [0, 0, 0, 0]),
        (12, [224, 0, 0, 1]),
        (12, [255, 255, 255, 255]),
        (12, [127, 0, 0, 1]),
        (16, [239, 1, 1, 1]),
        (16, [255, 255, 255, 255]),
    ] {
        assert_eq!(
            v4(&|p| p[at..at + 4].copy_from_slice(&a)),
            Err(Ignored::NotAllowed)
        );
    }
    // About an ICMP error (destination unreachable); an echo request is fine.
    assert_eq!(
        v4(&|p| {
            p[9] = 1;
            p[20] = 3;
        }),
        Err(Ignored::NotAllowed)
    );
    assert!(
        v4(&|p| {
            p[9] = 1;
            p[20] = 8;
        })
        .is_ok()
    );

    let v6 = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut inner = ipv6_tcp(1437);
        f(&mut inner);
        relay(
            &ptb(1500, &encap(&inner, TUNSRC, &["fc00:2::6"], false)),
            src(),
        )
    };
    for a in ["::", "ff02::1", "::1"] {
        assert_eq!(
            v6(&|p| p[8..24].copy_from_slice(&a6(a).octets())),
            Err(Ignored::NotAllowed)
        );
    }
    assert_eq!(
        v6(&|p| {
            p[6] = 58;
            p[40] = 1;
        }),
        Err(Ignored::NotAllowed)
    );
    assert!(
        v6(&|p| {
            p[6] = 58;
            p[40] = 128;
        })
        .is_ok()
    );
    // RFC 4443 §2.4(e.3): a Packet Too Big is allowed for a multicast destination.
    assert!(v6(&|p| p[24..40].copy_from_slice(&a6("ff0e::1").octets())).is_ok());
}

#[test]
fn ipv4_datagram_layout() {
    let d = ipv4_datagram(Ipv4Addr::new(10, 1, 1, 2), &[3, 4, 0, 0]);
    assert_eq!(
        d,
        [
            0x45, 0xc0, 0, 24, 0, 0, 0, 0, 64, 1, 0, 0, 0, 0, 0, 0, 10, 1, 1, 2, 3, 4, 0, 0
        ]
    );
}

proptest! {
    /// Arbitrary bytes, and a valid message with arbitrary octets changed, never panic.
    #[test]
    fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1400),
                    edits in proptest::collection::vec((0usize..1300, any::<u8>()), 0..8),
                    cut in 0usize..1400,
                    v6 in any::<bool>()) {
        let _ = relay(&bytes, src());
        let inner = if v6 { ipv6_tcp(1437) } else { ipv4_tcp(1437) };
        let mut m = ptb(1500, &encap(&inner, TUNSRC, &["fc00:2::4"], false));
        for (at, b) in edits {
            if let Some(x) = m.get_mut(at) {
                *x = b;
            }
        }
        m.truncate(cut);
        if let Ok(Relay::V4 { icmp, .. }) = relay(&m, src()) {
            prop_assert_eq!(checksum(&icmp), 0);
        }
    }
}
