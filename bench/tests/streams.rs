//! The injector's pre-encoded streams decode with sidra's codec to exactly the intended routes,
//! and the sink's counter counts what UPDATEs leave announced.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr};

use bgpd::packet::attribute::AttrValue;
use bgpd::packet::prefix_sid::{PrefixSid, SidStructureTlv};
use bgpd::packet::{DecodeContext, Message, UpdateMessage, decode_message, frame_len};
use sidra_bench::stream::{Encoded, Family, MAX_MESSAGE, StreamSpec, encode, vpn_label};
use sidra_bench::wire::{self, Counter};

fn spec(family: Family, prefixes: usize, per_update: usize, peer: usize) -> StreamSpec {
    StreamSpec {
        family,
        prefixes,
        per_update,
        peer,
        next_hop4: Ipv4Addr::new(10, 0, 0, 2),
        next_hop6: Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2),
        prefix_sid: false,
        distinct: false,
    }
}

fn srv6_spec(prefixes: usize, per_update: usize, peer: usize, distinct: bool) -> StreamSpec {
    StreamSpec {
        prefix_sid: true,
        distinct,
        ..spec(Family::Ipv6, prefixes, per_update, peer)
    }
}

fn prefix_sid(u: &UpdateMessage) -> Option<PrefixSid> {
    u.attributes.iter().find_map(|a| match &a.value {
        AttrValue::PrefixSid(p) => Some(p.clone()),
        _ => None,
    })
}

/// The SID Structure of the global IPv6 routes: 40/24/16/0, the whole SID in the TLV.
fn untransposed() -> Option<SidStructureTlv> {
    Some(SidStructureTlv {
        block_len: 40,
        node_len: 24,
        function_len: 16,
        argument_len: 0,
        transposition_len: 0,
        transposition_offset: 0,
    })
}

fn updates(bytes: &[u8]) -> Vec<UpdateMessage> {
    let cx = DecodeContext::default();
    let mut buf = bytes;
    let mut out = Vec::new();
    while let Some(len) = frame_len(buf, cx.max_message_len).unwrap() {
        assert!(len <= MAX_MESSAGE, "message of {len} octets");
        let (msg, rest) = buf.split_at(len);
        match decode_message(msg, &cx).unwrap() {
            Message::Update(u) => {
                assert!(u.errors.is_empty(), "{:?}", u.errors);
                out.push(u);
            }
            other => panic!("not an UPDATE: {other:?}"),
        }
        buf = rest;
    }
    assert!(buf.is_empty(), "trailing octets");
    out
}

fn announced(u: &UpdateMessage) -> Vec<String> {
    let mp = u
        .mp_reach()
        .map(|r| r.nlri.prefixes().to_vec())
        .unwrap_or_default();
    u.nlri.iter().chain(&mp).map(|n| format!("{n:?}")).collect()
}

fn withdrawn(u: &UpdateMessage) -> usize {
    u.withdrawn.len() + u.mp_unreach().map_or(0, |r| r.nlri.prefixes().len())
}

fn med(u: &UpdateMessage) -> u32 {
    u.attributes
        .iter()
        .find_map(|a| match a.value {
            AttrValue::Med(m) => Some(m),
            _ => None,
        })
        .unwrap()
}

#[test]
fn every_family_decodes_to_the_intended_routes() {
    for family in [Family::Ipv4, Family::Ipv6, Family::Vpnv6] {
        let n = 5003;
        let e: Encoded = encode(&spec(family, n, 0, 3));
        let ann = updates(&e.announce);
        assert_eq!(ann.len(), e.announce_messages);
        let all: Vec<String> = ann.iter().flat_map(announced).collect();
        assert_eq!(all.len(), n, "{family:?}");
        assert_eq!(
            all.iter().collect::<HashSet<_>>().len(),
            n,
            "{family:?}: distinct"
        );
        // One attribute set per UPDATE: the MED is never repeated.
        let meds: HashSet<u32> = ann.iter().map(med).collect();
        assert_eq!(meds.len(), ann.len(), "{family:?}");
        let wd = updates(&e.withdraw);
        assert_eq!(wd.len(), e.withdraw_messages);
        assert_eq!(wd.iter().map(withdrawn).sum::<usize>(), n, "{family:?}");
        assert!(wd.iter().all(|u| announced(u).is_empty()));
    }
}

#[test]
fn vpn_routes_carry_transposed_labels_and_the_frr_prefix_sid() {
    let e = encode(&spec(Family::Vpnv6, 1200, 0, 0));
    let ann = updates(&e.announce);
    let routes: Vec<_> = ann
        .iter()
        .flat_map(|u| u.mp_reach().unwrap().nlri.prefixes().to_vec())
        .collect();
    for (i, r) in routes.iter().enumerate() {
        assert_eq!(r.vpn.unwrap().label, vpn_label(i));
        assert_eq!(r.prefix.prefix_len(), 64);
    }
    let want = PrefixSid::srv6_l3_service(
        Ipv6Addr::new(0xfc00, 0, 2, 0, 0, 0, 0, 0),
        0x0012,
        Some(SidStructureTlv {
            block_len: 40,
            node_len: 24,
            function_len: 16,
            argument_len: 0,
            transposition_len: 16,
            transposition_offset: 64,
        }),
    );
    for u in &ann {
        let sid = u.attributes.iter().find_map(|a| match &a.value {
            AttrValue::PrefixSid(p) => Some(p.clone()),
            _ => None,
        });
        assert_eq!(sid.as_ref(), Some(&want));
    }
}

#[test]
fn ipv6_over_srv6_routes_are_slash_64_with_the_nodes_end_dt6_sid() {
    let n = 3001;
    let e = encode(&srv6_spec(n, 0, 4, false));
    let ann = updates(&e.announce);
    let routes: Vec<String> = ann.iter().flat_map(announced).collect();
    assert_eq!(routes.len(), n);
    assert_eq!(routes.iter().collect::<HashSet<_>>().len(), n);
    for u in &ann {
        for r in u.mp_reach().unwrap().nlri.prefixes() {
            assert_eq!(r.prefix.prefix_len(), 64);
        }
        // Peer 4 is node 5: fc00:0:0:5:1:: (a 24-bit node part after the 40-bit block).
        let want = PrefixSid::srv6_l3_service(
            Ipv6Addr::new(0xfc00, 0, 0, 5, 1, 0, 0, 0),
            0x0012,
            untransposed(),
        );
        assert_eq!(prefix_sid(u), Some(want));
    }
    let wd = updates(&e.withdraw);
    assert_eq!(wd.iter().map(withdrawn).sum::<usize>(), n);
}

#[test]
fn distinct_peers_send_their_own_routes_each_with_its_own_sid() {
    let n = 300;
    let (a, b) = (
        encode(&srv6_spec(n, 1, 0, true)),
        encode(&srv6_spec(n, 1, 1, true)),
    );
    let (ua, ub) = (updates(&a.announce), updates(&b.announce));
    // One route per UPDATE (its own SID), and no prefix in common.
    assert_eq!((ua.len(), ub.len()), (n, n));
    let pa: HashSet<String> = ua.iter().flat_map(announced).collect();
    let pb: HashSet<String> = ub.iter().flat_map(announced).collect();
    assert_eq!((pa.len(), pb.len()), (n, n));
    assert!(pa.is_disjoint(&pb));
    let sids: HashSet<_> = ua
        .iter()
        .chain(&ub)
        .map(|u| format!("{:?}", prefix_sid(u).unwrap()))
        .collect();
    assert_eq!(sids.len(), 2 * n);
    // Route 1 of peer 1 is route number n + 1 of the workload, node n + 2.
    let want = PrefixSid::srv6_l3_service(
        Ipv6Addr::from((0xfc00u128 << 112) | (((n as u128) + 2) << 64) | (1u128 << 48)),
        0x0012,
        untransposed(),
    );
    assert_eq!(prefix_sid(&ub[1]), Some(want));
    // A sink holds both peers' routes.
    let mut c = Counter::default();
    feed_all(&mut c, &a.announce);
    feed_all(&mut c, &b.announce);
    assert_eq!(c.live(), 2 * n);
    feed_all(&mut c, &a.withdraw);
    assert_eq!(c.live(), n);
}

#[test]
fn per_update_limit_spreads_routes_over_attribute_sets() {
    let e = encode(&spec(Family::Ipv4, 1000, 4, 0));
    let ann = updates(&e.announce);
    assert_eq!(ann.len(), 250);
    assert!(ann.iter().all(|u| u.nlri.len() == 4));
}

fn feed_all(c: &mut Counter, bytes: &[u8]) {
    let mut at = 0;
    while let Some(len) = wire::message_len(&bytes[at..]).unwrap() {
        c.feed(&bytes[at..at + len]).unwrap();
        at += len;
        if at == bytes.len() {
            break;
        }
    }
}

#[test]
fn sink_counter_counts_live_prefixes() {
    for family in [Family::Ipv4, Family::Ipv6, Family::Vpnv6] {
        let n = 2500;
        let (a, b) = (
            encode(&spec(family, n, 0, 0)),
            encode(&spec(family, n, 7, 1)),
        );
        let mut c = Counter::default();
        feed_all(&mut c, &a.announce);
        assert_eq!(c.live(), n, "{family:?}");
        // The same prefixes again (another peer, other attributes): still n.
        feed_all(&mut c, &b.announce);
        assert_eq!(c.live(), n);
        assert_eq!(c.announced, 2 * n as u64);
        // Non-UPDATE messages are ignored.
        c.feed(&wire::keepalive()).unwrap();
        feed_all(&mut c, &a.withdraw);
        assert_eq!(c.live(), 0, "{family:?}");
        assert_eq!(c.withdrawn, n as u64);
    }
}

#[test]
fn sink_counter_rejects_a_truncated_update() {
    let e = encode(&spec(Family::Ipv4, 10, 0, 0));
    let len = wire::message_len(&e.announce).unwrap().unwrap();
    let mut msg = e.announce[..len].to_vec();
    // Claim more path attribute octets than the message holds.
    msg[21] = 0x0f;
    assert!(Counter::default().feed(&msg).is_err());
}

#[test]
fn open_decodes_with_our_settings() {
    let bytes = wire::open(65000, Ipv4Addr::new(10, 1, 0, 1), Family::Vpnv6);
    match decode_message(&bytes, &DecodeContext::default()).unwrap() {
        Message::Open(o) => {
            assert_eq!(
                (o.version, o.my_as, o.hold_time),
                (4, 65000, wire::HOLD_TIME)
            );
            assert_eq!(o.bgp_id, Ipv4Addr::new(10, 1, 0, 1));
        }
        other => panic!("{other:?}"),
    }
}
