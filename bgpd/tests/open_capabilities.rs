//! Capability codec (RFC 5492 and the capability RFCs) and negotiation (`negotiate`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv4Addr;

use bgpd::packet::capability::*;
use bgpd::packet::open::OpenMessage;
use bgpd::packet::{Afi, Family, MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN};

fn round_trip(cap: &Capability) {
    let b = cap.to_bytes();
    let back = decode_capabilities(&b).unwrap();
    assert_eq!(back, vec![cap.clone()]);
}

#[test]
fn known_capabilities_round_trip() {
    for cap in [
        Capability::MultiProtocol(Family::IPV6_VPN),
        Capability::RouteRefresh,
        Capability::RouteRefreshCisco,
        Capability::ExtendedMessage,
        Capability::EnhancedRouteRefresh,
        Capability::ExtendedNextHop(vec![(Family::IPV4_VPN, Afi::Ipv6)]),
        Capability::GracefulRestart {
            restart_flags: GR_RESTART_STATE | GR_NOTIFICATION,
            restart_time: 120,
            families: vec![(Family::IPV4_UNICAST, GR_FORWARDING_STATE)],
        },
        Capability::FourOctetAs(4_200_000_000),
        Capability::AddPath(vec![(Family::IPV6_UNICAST, AddPathMode::Both)]),
        Capability::LongLivedGracefulRestart(vec![(Family::IPV4_VPN, 0x80, 0x00ff_ffff)]),
        Capability::LongLivedGracefulRestart(vec![]),
        Capability::Fqdn {
            hostname: b"ixr2".to_vec(),
            domain: vec![],
        },
        Capability::Unknown {
            code: 9,
            value: vec![1],
        },
    ] {
        round_trip(&cap);
    }
}

#[test]
fn bad_values_become_unknown() {
    // wrong lengths, a non-zero reserved octet, a SAFI above 255, an ADD-PATH mode of 4
    for (c, v) in [
        (1u8, &[0u8, 1, 0][..]),
        (1, &[0, 2, 7, 1]),
        (2, &[0]),
        (65, &[0, 0, 1]),
        (5, &[0, 1, 1, 0, 0, 2]),
        (69, &[0, 1, 1, 4]),
        (71, &[0, 1, 1, 0, 0]),
        (73, &[4, b'a']),
        (64, &[0x40]),
    ] {
        let cap = decode_capability(c, v);
        assert_eq!(
            cap,
            Capability::Unknown {
                code: c,
                value: v.to_vec()
            },
            "code {c}"
        );
        assert_eq!(cap.to_bytes()[2..], *v);
    }
    let odd_reserved = decode_capability(1, &[0, 2, 7, 1]);
    assert_eq!(
        odd_reserved.multiprotocol_family(),
        Some(Family::IPV6_UNICAST)
    );
    assert_eq!(odd_reserved.name(), "multiprotocol");
}

#[test]
fn overrun_is_open_error_0() {
    let e = decode_capabilities(&[65, 4, 0, 0]).unwrap_err();
    assert_eq!((e.code, e.subcode), (2, 0));
    let e = decode_capabilities(&[65]).unwrap_err();
    assert_eq!((e.code, e.subcode), (2, 0));
}

#[test]
fn gr_flags_and_time_split() {
    let cap = decode_capability(64, &[0xc0, 0x78]);
    assert_eq!(
        cap,
        Capability::GracefulRestart {
            restart_flags: 0xc,
            restart_time: 120,
            families: vec![]
        }
    );
}

fn open_with(hold: u16, caps: Vec<Capability>) -> OpenMessage {
    OpenMessage::new(65000, hold, Ipv4Addr::new(1, 1, 1, 1), caps)
}

#[test]
fn negotiate_families_hold_time_and_flags() {
    let sent = open_with(
        90,
        vec![
            Capability::MultiProtocol(Family::IPV4_VPN),
            Capability::MultiProtocol(Family::IPV6_VPN),
            Capability::RouteRefresh,
            Capability::EnhancedRouteRefresh,
            Capability::ExtendedMessage,
            Capability::ExtendedNextHop(vec![(Family::IPV4_VPN, Afi::Ipv6)]),
        ],
    );
    let received = open_with(
        9,
        vec![
            Capability::MultiProtocol(Family::IPV6_VPN),
            Capability::MultiProtocol(Family::IPV6_UNICAST),
            Capability::RouteRefreshCisco,
            Capability::ExtendedNextHop(vec![
                (Family::IPV4_VPN, Afi::Ipv6),
                (Family::IPV4_UNICAST, Afi::Ipv6),
            ]),
        ],
    );
    let n = negotiate(&sent, &received);
    assert_eq!(n.families, [Family::IPV6_VPN].into_iter().collect());
    assert_eq!(n.hold_time, 9);
    assert_eq!(n.keepalive_time(), 3);
    assert!(n.four_octet_as);
    assert!(n.route_refresh);
    assert!(!n.enhanced_route_refresh);
    assert!(!n.extended_message);
    assert_eq!(n.extended_next_hop, vec![(Family::IPV4_VPN, Afi::Ipv6)]);
    assert_eq!(n.decode_context().max_message_len, MAX_MESSAGE_LEN);
    assert_eq!(n.encode_context().max_message_len, MAX_MESSAGE_LEN);
}

#[test]
fn no_multiprotocol_means_ipv4_unicast() {
    let sent = open_with(9, vec![Capability::MultiProtocol(Family::IPV4_UNICAST)]);
    let mut received = open_with(9, vec![]);
    received.params.clear();
    let n = negotiate(&sent, &received);
    assert_eq!(n.families, [Family::IPV4_UNICAST].into_iter().collect());
    assert!(!n.four_octet_as);
    assert!(!n.decode_context().four_octet_as);
    let sent = open_with(9, vec![Capability::MultiProtocol(Family::IPV6_UNICAST)]);
    assert!(negotiate(&sent, &received).families.is_empty());
}

#[test]
fn add_path_directions() {
    use AddPathMode::*;
    let v4 = Family::IPV4_UNICAST;
    let v6 = Family::IPV6_UNICAST;
    let vpn = Family::IPV6_VPN;
    let sent = open_with(
        9,
        vec![Capability::AddPath(vec![
            (v4, Receive),
            (v6, Both),
            (vpn, Send),
        ])],
    );
    let received = open_with(
        9,
        vec![Capability::AddPath(vec![
            (v4, Send),
            (v6, Receive),
            (vpn, Send),
        ])],
    );
    let n = negotiate(&sent, &received);
    assert_eq!(n.add_path_rx, [v4].into_iter().collect());
    assert_eq!(n.add_path_tx, [v6].into_iter().collect());
    assert_eq!(n.decode_context().add_path, n.add_path_rx);
    assert_eq!(n.encode_context().add_path, n.add_path_tx);
}

#[test]
fn extended_message_needs_both() {
    let sent = open_with(9, vec![Capability::ExtendedMessage]);
    let received = open_with(0, vec![Capability::ExtendedMessage]);
    let n = negotiate(&sent, &received);
    assert_eq!(n.hold_time, 0);
    assert_eq!(n.decode_context().max_message_len, MAX_EXTENDED_MESSAGE_LEN);
    assert_eq!(n.encode_context().max_message_len, MAX_EXTENDED_MESSAGE_LEN);
    let n = negotiate(&sent, &open_with(9, vec![]));
    assert_eq!(n.decode_context().max_message_len, MAX_MESSAGE_LEN);
}
