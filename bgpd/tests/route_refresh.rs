//! ROUTE-REFRESH (RFC 2918 §3, RFC 7313 §3 and §5).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bgpd::inspect::{message_json, message_text};
use bgpd::packet::route_refresh::{RouteRefreshMessage, RouteRefreshSubtype, decode_route_refresh};
use bgpd::packet::{DecodeContext, EncodeContext, Family, Message, decode_message, encode_to_vec};

fn message(body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend(u16::try_from(19 + body.len()).unwrap().to_be_bytes());
    m.push(5);
    m.extend(body);
    m
}

#[test]
fn route_refresh_round_trip_and_views() {
    for (body, family, subtype, text) in [
        (
            [0, 1, 0, 1],
            Family::IPV4_UNICAST,
            RouteRefreshSubtype::Normal,
            "ipv4-unicast normal",
        ),
        (
            [0, 2, 1, 128],
            Family::IPV6_VPN,
            RouteRefreshSubtype::BeginningOfRouteRefresh,
            "ipv6-vpn borr",
        ),
        (
            [0, 2, 2, 128],
            Family::IPV6_VPN,
            RouteRefreshSubtype::EndOfRouteRefresh,
            "ipv6-vpn eorr",
        ),
        (
            [0, 1, 9, 128],
            Family::IPV4_VPN,
            RouteRefreshSubtype::Other(9),
            "ipv4-vpn subtype-9",
        ),
    ] {
        let bytes = message(&body);
        let Message::RouteRefresh(m) = decode_message(&bytes, &DecodeContext::default()).unwrap()
        else {
            panic!("not a ROUTE-REFRESH");
        };
        assert_eq!(m, RouteRefreshMessage { family, subtype });
        assert_eq!(
            encode_to_vec(&Message::RouteRefresh(m.clone()), &EncodeContext::default()),
            bytes
        );
        assert_eq!(
            message_text(&Message::RouteRefresh(m.clone())),
            format!("ROUTE-REFRESH {text}")
        );
        let j = message_json(&Message::RouteRefresh(m));
        assert_eq!(j["type"], "route-refresh");
        assert_eq!(j["family"], family.name());
        assert_eq!(j["subtype_code"], subtype.to_u8());
    }
    let j = message_json(&Message::RouteRefresh(RouteRefreshMessage {
        family: Family::IPV6_VPN,
        subtype: RouteRefreshSubtype::BeginningOfRouteRefresh,
    }));
    assert_eq!(
        j,
        serde_json::json!({"type": "route-refresh", "family": "ipv6-vpn", "subtype": "borr", "subtype_code": 1})
    );
}

#[test]
fn route_refresh_of_wrong_length() {
    // RFC 7313 §5: BoRR/EoRR of the wrong length: 7/1, data = the complete message.
    for body in [&[0u8, 2, 1, 128, 0][..], &[0, 2, 2]] {
        let e = decode_route_refresh(body).unwrap_err();
        assert_eq!((e.code, e.subcode), (7, 1), "{body:?}");
        assert_eq!(e.data, message(body));
        let e = decode_message(&message(body), &DecodeContext::default()).unwrap_err();
        assert_eq!((e.code, e.subcode), (7, 1));
    }
    // A normal route refresh (or one too short to have a subtype): RFC 4271 §6.1 1/2.
    for body in [&[0u8, 1, 0, 1, 0][..], &[0, 1, 0], &[0], &[]] {
        let e = decode_route_refresh(body).unwrap_err();
        let len = u16::try_from(19 + body.len()).unwrap().to_be_bytes();
        assert_eq!(
            (e.code, e.subcode, e.data.as_slice()),
            (1, 2, &len[..]),
            "{body:?}"
        );
    }
}
