//! OPEN messages captured from FRR 8.4, GoBGP 3.10, BIRD 2.0.12 and ExaBGP 4.2
//! (`shared/vectors/bgp/open_*.hex`, described in its INDEX.md), and named negative cases.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv4Addr;

use bgpd::inspect::{message_json, message_text};
use bgpd::packet::capability::{AddPathMode, Capability, negotiate};
use bgpd::packet::open::{
    OpenExpectations, OpenMessage, OptionalParameter, ParamsFormat, ParamsStyle, decode_open,
    encode_open, validate_open,
};
use bgpd::packet::{
    Afi, DecodeContext, EncodeContext, Family, Message, decode_message, encode_to_vec,
};
use bytes::BytesMut;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/bgp");

const V4: Family = Family::IPV4_UNICAST;
const V6: Family = Family::IPV6_UNICAST;
const VPN4: Family = Family::IPV4_VPN;
const VPN6: Family = Family::IPV6_VPN;

fn read_hex(name: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(format!("{VECTORS}/{name}")).unwrap();
    let t = text.trim();
    (0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&t[i..i + 2], 16).unwrap())
        .collect()
}

/// The INDEX.md "decode" column of a vector.
fn index_line(name: &str) -> String {
    let index = std::fs::read_to_string(format!("{VECTORS}/INDEX.md")).unwrap();
    let line = index
        .lines()
        .find(|l| l.starts_with(&format!("| {name} ")))
        .unwrap();
    line.split('`').nth(1).unwrap().to_string()
}

/// `key=value` from an INDEX.md decode line.
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    let start = line.find(&format!(" {key}=")).unwrap() + key.len() + 2;
    line[start..].split(' ').next().unwrap()
}

/// The capability names of an INDEX.md `caps=[...]` list, mapped to sidra's names.
fn index_cap_names(line: &str) -> Vec<&'static str> {
    let list = &line[line.find("caps=[").unwrap() + 6..line.rfind(']').unwrap()];
    let (mut depth, mut start, mut names) = (0, 0, Vec::new());
    let mut push = |item: &str| {
        let item = item.trim();
        names.push(match item.split('(').next().unwrap() {
            "MP" => "multiprotocol",
            "RouteRefresh" if item.contains("old-cisco") => "route-refresh-cisco",
            "RouteRefresh" => "route-refresh",
            "EnhancedRR" => "enhanced-route-refresh",
            "AS4" => "four-octet-as",
            "ExtMsg" => "extended-message",
            "AddPath" => "add-path",
            "FQDN" => "fqdn",
            "GracefulRestart" => "graceful-restart",
            "LLGR" => "long-lived-graceful-restart",
            "ExtNextHop" => "extended-next-hop",
            other => panic!("unexpected INDEX.md capability {other}"),
        });
    };
    for (i, ch) in list.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    push(&list[start..]);
    names
}

fn gr(restart_flags: u8, families: Vec<(Family, u8)>) -> Capability {
    Capability::GracefulRestart {
        restart_flags,
        restart_time: 120,
        families,
    }
}

fn fqdn(host: &str) -> Capability {
    Capability::Fqdn {
        hostname: host.as_bytes().to_vec(),
        domain: Vec::new(),
    }
}

/// Expected decode of one OPEN vector: file, AS, BGP id, params style, capabilities in order.
type Expected = (&'static str, u32, [u8; 4], ParamsStyle, Vec<Capability>);

/// Expected decode of every OPEN vector.
fn expected() -> Vec<Expected> {
    use AddPathMode::{Both, Receive};
    use Capability::*;
    let enhe2 = || ExtendedNextHop(vec![(V4, Afi::Ipv6), (VPN4, Afi::Ipv6)]);
    let enhe3 = || ExtendedNextHop(vec![(V4, Afi::Ipv6), (VPN4, Afi::Ipv6), (VPN6, Afi::Ipv6)]);
    let mp4 = || {
        vec![
            MultiProtocol(V4),
            MultiProtocol(V6),
            MultiProtocol(VPN4),
            MultiProtocol(VPN6),
        ]
    };
    let one = ParamsStyle::OnePerParameter;
    let all = ParamsStyle::AllInOne;
    vec![
        (
            "open_frr84_default_ibgp_v4v6.hex",
            65000,
            [2, 2, 2, 2],
            one,
            vec![
                MultiProtocol(V4),
                MultiProtocol(V6),
                RouteRefreshCisco,
                RouteRefresh,
                EnhancedRouteRefresh,
                FourOctetAs(65000),
                ExtendedMessage,
                AddPath(vec![(V4, Receive), (V6, Receive)]),
                fqdn("ixr2"),
                gr(0xc, vec![]),
                LongLivedGracefulRestart(vec![(V4, 0x80, 0), (V6, 0x80, 0)]),
            ],
        ),
        (
            "open_frr84_vpn_enhe.hex",
            65000,
            [2, 2, 2, 2],
            one,
            vec![
                MultiProtocol(VPN4),
                ExtendedNextHop(vec![(VPN4, Afi::Ipv6)]),
                MultiProtocol(VPN6),
                RouteRefreshCisco,
                RouteRefresh,
                EnhancedRouteRefresh,
                FourOctetAs(65000),
                ExtendedMessage,
                AddPath(vec![(VPN4, Receive), (VPN6, Receive)]),
                fqdn("ixr2"),
                gr(0xc, vec![]),
                LongLivedGracefulRestart(vec![(VPN4, 0x80, 0), (VPN6, 0x80, 0)]),
            ],
        ),
        (
            "open_gobgp310_default_4afs.hex",
            65000,
            [4, 4, 4, 4],
            all,
            {
                let mut v = vec![RouteRefresh, fqdn("vm")];
                v.extend(mp4());
                v.extend([FourOctetAs(65000), enhe3()]);
                v
            },
        ),
        (
            "open_gobgp310_gr_llgr_addpath.hex",
            65004,
            [4, 4, 4, 4],
            all,
            {
                let mut v = vec![RouteRefresh, fqdn("vm")];
                v.extend(mp4());
                v.extend([
                    FourOctetAs(65004),
                    gr(0, vec![(V4, 0), (V6, 0)]),
                    LongLivedGracefulRestart(vec![(V4, 0, 60), (V6, 0, 60)]),
                    enhe3(),
                    AddPath(vec![(V4, Both), (V6, Both), (VPN4, Both), (VPN6, Both)]),
                ]);
                v
            },
        ),
        (
            "open_bird2012_rr.hex",
            65000,
            [6, 6, 6, 6],
            all,
            vec![
                MultiProtocol(V4),
                MultiProtocol(VPN4),
                MultiProtocol(V6),
                MultiProtocol(VPN6),
                RouteRefresh,
                enhe2(),
                gr(0, vec![]),
                FourOctetAs(65000),
                EnhancedRouteRefresh,
                LongLivedGracefulRestart(vec![]),
            ],
        ),
        (
            "open_gobgp310_minimal_ipv6.hex",
            65004,
            [4, 4, 4, 4],
            all,
            vec![
                RouteRefresh,
                fqdn("vm"),
                MultiProtocol(V6),
                FourOctetAs(65004),
            ],
        ),
        (
            "open_bird2012_minimal_ipv6.hex",
            65006,
            [6, 6, 6, 6],
            all,
            vec![
                MultiProtocol(V6),
                RouteRefresh,
                gr(0, vec![]),
                FourOctetAs(65006),
                EnhancedRouteRefresh,
                LongLivedGracefulRestart(vec![]),
            ],
        ),
        (
            "open_exabgp4221_minimal_ipv6.hex",
            65005,
            [5, 5, 5, 5],
            one,
            vec![MultiProtocol(V6), FourOctetAs(65005), ExtendedMessage],
        ),
        (
            "open_exabgp4221_default.hex",
            65000,
            [6, 6, 6, 6],
            one,
            vec![
                MultiProtocol(V4),
                MultiProtocol(VPN4),
                MultiProtocol(V6),
                MultiProtocol(VPN6),
                FourOctetAs(65000),
                enhe2(),
                RouteRefresh,
                EnhancedRouteRefresh,
                ExtendedMessage,
            ],
        ),
        (
            "open_exabgp4221_addpath_gr.hex",
            65005,
            [5, 5, 5, 5],
            one,
            vec![
                MultiProtocol(V4),
                MultiProtocol(VPN4),
                MultiProtocol(V6),
                MultiProtocol(VPN6),
                FourOctetAs(65005),
                enhe2(),
                AddPath(vec![(V4, Both), (V6, Both)]),
                gr(
                    0x8,
                    vec![(V4, 0x80), (VPN4, 0x80), (V6, 0x80), (VPN6, 0x80)],
                ),
                RouteRefresh,
                EnhancedRouteRefresh,
                ExtendedMessage,
            ],
        ),
    ]
}

fn decode_vector(name: &str) -> (Vec<u8>, OpenMessage) {
    let bytes = read_hex(name);
    let Message::Open(m) = decode_message(&bytes, &DecodeContext::default()).unwrap() else {
        panic!("{name} is not an OPEN");
    };
    (bytes, m)
}

#[test]
fn every_open_vector_is_covered() {
    let table: Vec<&str> = expected().iter().map(|e| e.0).collect();
    for entry in std::fs::read_dir(VECTORS).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.starts_with("open_") && name.ends_with(".hex") {
            assert!(
                table.contains(&name.as_str()),
                "{name} has no expectations here"
            );
        }
    }
}

#[test]
fn open_vectors_decode_as_indexed_and_round_trip() {
    for (name, asn, id, style, caps) in expected() {
        let (bytes, m) = decode_vector(name);
        let line = index_line(name);
        // The INDEX.md line: `OPEN v4 as=... hold=... id=... caps=[...]`.
        assert!(line.starts_with("OPEN v4 "), "{name}");
        assert_eq!(field(&line, "as"), asn.to_string(), "{name} as");
        assert_eq!(field(&line, "hold"), "9", "{name} hold");
        assert_eq!(
            field(&line, "id"),
            Ipv4Addr::from(id).to_string(),
            "{name} id"
        );
        let names: Vec<&str> = m.capabilities().map(Capability::name).collect();
        assert_eq!(names, index_cap_names(&line), "{name} capability order");

        assert_eq!(m.version, 4, "{name}");
        assert_eq!(m.asn(), asn, "{name}");
        assert_eq!(u32::from(m.my_as), asn, "{name} my_as");
        assert_eq!(m.hold_time, 9, "{name}");
        assert_eq!(m.bgp_id, Ipv4Addr::from(id), "{name}");
        assert_eq!(m.params_format, ParamsFormat::Standard, "{name}");
        assert_eq!(m.params_style(), style, "{name} params style");
        let expected_params = match style {
            ParamsStyle::OnePerParameter => caps.len(),
            _ => 1,
        };
        assert_eq!(m.params.len(), expected_params, "{name} parameter count");
        let got: Vec<Capability> = m.capabilities().cloned().collect();
        assert_eq!(got, caps, "{name} capabilities");

        // byte-for-byte, through the message codec and through the body codec
        assert_eq!(
            encode_to_vec(&Message::Open(m.clone()), &EncodeContext::default()),
            bytes
        );
        let mut body = BytesMut::new();
        encode_open(&m, &mut body);
        assert_eq!(body.as_ref(), &bytes[19..], "{name}");
        assert_eq!(decode_open(&bytes[19..]).unwrap(), m, "{name}");

        // a peer configured as what it is passes the RFC 4271 §6.2 checks
        let expect = OpenExpectations {
            peer_as: Some(asn),
            local_as: Some(asn),
            local_bgp_id: Some(Ipv4Addr::new(9, 9, 9, 9)),
            required_capabilities: vec![Capability::FourOctetAs(0)],
        };
        validate_open(&m, &expect).unwrap();
    }
}

#[test]
fn open_vector_views() {
    let (_, m) = decode_vector("open_frr84_default_ibgp_v4v6.hex");
    let j = message_json(&Message::Open(m.clone()));
    assert_eq!(j["type"], "open");
    assert_eq!(j["asn"], 65000);
    assert_eq!(j["my_as"], 65000);
    assert_eq!(j["hold_time"], 9);
    assert_eq!(j["bgp_id"], "2.2.2.2");
    assert_eq!(j["params_style"], "one-per-parameter");
    let caps = j["capabilities"].as_array().unwrap();
    assert_eq!(caps.len(), 11);
    assert_eq!(
        caps[0],
        serde_json::json!({"code": 1, "name": "multiprotocol", "family": "ipv4-unicast"})
    );
    assert_eq!(
        caps[7]["families"][1],
        serde_json::json!({"family": "ipv6-unicast", "mode": "receive"})
    );
    assert_eq!(caps[8]["hostname"], "ixr2");
    assert_eq!(caps[9]["restart_time"], 120);
    assert_eq!(caps[9]["restart_state"], true);
    assert_eq!(caps[9]["notification"], true);
    assert_eq!(caps[10]["families"][0]["forwarding_state"], true);
    let text = message_text(&Message::Open(m));
    assert!(
        text.starts_with("OPEN v4 as=65000 hold=9 id=2.2.2.2 caps=[multiprotocol(ipv4-unicast), "),
        "{text}"
    );
    assert!(
        text.contains("add-path(ipv4-unicast:receive ipv6-unicast:receive)"),
        "{text}"
    );

    let (_, m) = decode_vector("open_bird2012_rr.hex");
    let j = message_json(&Message::Open(m));
    assert_eq!(j["params_style"], "all-in-one");
    assert_eq!(
        j["capabilities"][5]["entries"][1],
        serde_json::json!({"family": "ipv4-vpn", "next_hop_afi": "ipv6"})
    );
    assert_eq!(
        j["capabilities"][9],
        serde_json::json!({"code": 71, "name": "long-lived-graceful-restart", "families": []})
    );
}

#[test]
fn negotiate_frr_with_gobgp_vectors() {
    let (_, frr) = decode_vector("open_frr84_default_ibgp_v4v6.hex");
    let (_, gobgp) = decode_vector("open_gobgp310_gr_llgr_addpath.hex");
    let n = negotiate(&frr, &gobgp);
    assert_eq!(n.families, [V4, V6].into_iter().collect());
    assert_eq!(n.add_path_rx, [V4, V6].into_iter().collect());
    assert!(n.add_path_tx.is_empty());
    assert!(n.four_octet_as && n.route_refresh && n.graceful_restart);
    assert!(!n.enhanced_route_refresh && !n.extended_message);
    assert_eq!(n.peer_asn, 65004);
    assert_eq!(n.decode_context().max_message_len, 4096);
    let back = negotiate(&gobgp, &frr);
    assert_eq!(back.add_path_tx, [V4, V6].into_iter().collect());
    assert!(back.add_path_rx.is_empty());
}

/// The ExaBGP minimal OPEN body, as a base for hand-made variants:
/// `04 fded 0009 05050505 14 | 02 06 [01 04 0002 0001] | 02 06 [41 04 0000fded] | 02 02 [06 00]`.
fn exabgp_minimal_body() -> Vec<u8> {
    read_hex("open_exabgp4221_minimal_ipv6.hex")[19..].to_vec()
}

fn assert_error(r: Result<OpenMessage, bgpd::packet::MessageError>, code: u8, subcode: u8) {
    let e = r.unwrap_err();
    assert_eq!((e.code, e.subcode), (code, subcode), "{e}");
}

#[test]
fn truncated_open() {
    let body = exabgp_minimal_body();
    // RFC 4271 §6.1: shorter than the 29-octet minimum: Bad Message Length, data = the length.
    let e = decode_open(&body[..9]).unwrap_err();
    assert_eq!(
        (e.code, e.subcode, e.data.as_slice()),
        (1, 2, &[0u8, 28][..])
    );
    // A body cut inside the parameters: the Opt Parm Len no longer matches: 2/0.
    assert_error(decode_open(&body[..body.len() - 1]), 2, 0);
}

#[test]
fn optional_parameters_length_overruns_message() {
    let mut body = exabgp_minimal_body();
    body[9] += 1;
    assert_error(decode_open(&body), 2, 0);
    // and through the message decoder, whose header length is consistent
    let mut msg = read_hex("open_exabgp4221_minimal_ipv6.hex");
    msg[19 + 9] += 1;
    let e = decode_message(&msg, &DecodeContext::default()).unwrap_err();
    assert_eq!((e.code, e.subcode), (2, 0));
    // bytes after the parameters are just as inconsistent
    let mut body = exabgp_minimal_body();
    body.push(0);
    assert_error(decode_open(&body), 2, 0);
}

#[test]
fn parameter_length_overruns_parameters() {
    let mut body = exabgp_minimal_body();
    body[10 + 1] = 0x07; // first parameter claims 7 bytes, then everything shifts
    assert_error(decode_open(&body), 2, 0);
    let mut last = exabgp_minimal_body();
    let n = last.len();
    last[n - 3] = 0x03; // last parameter claims 3 bytes, 2 remain
    assert_error(decode_open(&last), 2, 0);
}

#[test]
fn capability_length_overruns_its_parameter() {
    let mut body = exabgp_minimal_body();
    body[10 + 3] = 0x05; // MP capability length 5 inside a 6-byte parameter
    assert_error(decode_open(&body), 2, 0);
}

#[test]
fn malformed_capability_value_is_kept_not_fatal() {
    // AS4 capability cut to 3 value bytes, parameter and capability lengths adjusted
    let body: Vec<u8> = [&[4, 0xfd, 0xed, 0, 9, 5, 5, 5, 5, 5][..], &[2, 3, 65, 1, 0]].concat();
    let m = decode_open(&body).unwrap();
    assert_eq!(
        m.capabilities().next(),
        Some(&Capability::Unknown {
            code: 65,
            value: vec![0]
        })
    );
    assert_eq!(m.asn(), 65005);
    let j = message_json(&Message::Open(m.clone()));
    assert_eq!(
        j["capabilities"][0],
        serde_json::json!({"code": 65, "name": "four-octet-as", "malformed": true, "value": "00"})
    );
    assert!(message_text(&Message::Open(m.clone())).contains("four-octet-as(malformed value=00)"));
    let mut out = BytesMut::new();
    encode_open(&m, &mut out);
    assert_eq!(out.as_ref(), body);
}

#[test]
fn rfc9072_extended_parameters_round_trip() {
    let std_body = exabgp_minimal_body();
    // Re-frame the same three parameters in the RFC 9072 form: Non-Ext OP Len, 255,
    // 2-octet total, then each parameter with a 2-octet length.
    for non_ext_len in [255u8, 20] {
        let mut body = std_body[..9].to_vec();
        body.extend([non_ext_len, 255, 0, 23]);
        body.extend([2, 0, 6, 1, 4, 0, 2, 0, 1]);
        body.extend([2, 0, 6, 65, 4, 0, 0, 0xfd, 0xed]);
        body.extend([2, 0, 2, 6, 0]);
        let m = decode_open(&body).unwrap();
        assert_eq!(m.params_format, ParamsFormat::Extended { non_ext_len });
        let standard = decode_open(&std_body).unwrap();
        assert_eq!(m.params, standard.params);
        let mut out = BytesMut::new();
        encode_open(&m, &mut out);
        assert_eq!(out.as_ref(), body);
        // an extended length that disagrees with the bytes present: 2/0
        let mut bad = body.clone();
        bad[12] += 1;
        assert_error(decode_open(&bad), 2, 0);
    }
}

#[test]
fn unknown_parameter_is_kept_and_refused_by_validation() {
    let mut body = exabgp_minimal_body();
    body[9] += 3;
    body.extend([1, 1, 0xaa]); // type 1 (deprecated Authentication)
    let m = decode_open(&body).unwrap();
    assert_eq!(
        m.params.last(),
        Some(&OptionalParameter::Unknown {
            kind: 1,
            value: vec![0xaa]
        })
    );
    let mut out = BytesMut::new();
    encode_open(&m, &mut out);
    assert_eq!(out.as_ref(), body);
    let e = validate_open(&m, &OpenExpectations::default()).unwrap_err();
    assert_eq!((e.code, e.subcode), (2, 4));
}

fn valid_open() -> OpenMessage {
    decode_open(&exabgp_minimal_body()).unwrap()
}

fn validate_err(m: &OpenMessage, expect: &OpenExpectations) -> (u8, u8, Vec<u8>) {
    let e = validate_open(m, expect).unwrap_err();
    (e.code, e.subcode, e.data)
}

#[test]
fn hold_time_1_is_unacceptable() {
    for hold in [1, 2] {
        let m = OpenMessage {
            hold_time: hold,
            ..valid_open()
        };
        assert_eq!(
            validate_err(&m, &OpenExpectations::default()),
            (2, 6, vec![])
        );
    }
    for hold in [0, 3] {
        let m = OpenMessage {
            hold_time: hold,
            ..valid_open()
        };
        validate_open(&m, &OpenExpectations::default()).unwrap();
    }
}

#[test]
fn version_3_is_unsupported() {
    let m = OpenMessage {
        version: 3,
        ..valid_open()
    };
    // RFC 4271 §6.2: data = the version we support, as 2 octets.
    assert_eq!(
        validate_err(&m, &OpenExpectations::default()),
        (2, 1, vec![0, 4])
    );
}

#[test]
fn bad_bgp_identifier() {
    let m = OpenMessage {
        bgp_id: Ipv4Addr::UNSPECIFIED,
        ..valid_open()
    };
    assert_eq!(
        validate_err(&m, &OpenExpectations::default()),
        (2, 3, vec![])
    );
    // RFC 6286 §2.2: an internal peer with our own identifier
    let ours = OpenExpectations {
        local_as: Some(65005),
        local_bgp_id: Some(Ipv4Addr::new(5, 5, 5, 5)),
        ..Default::default()
    };
    assert_eq!(validate_err(&valid_open(), &ours).1, 3);
    // ... is fine from an external peer
    let ebgp = OpenExpectations {
        local_as: Some(65000),
        ..ours
    };
    validate_open(&valid_open(), &ebgp).unwrap();
}

#[test]
fn wrong_peer_as() {
    let expect = OpenExpectations {
        peer_as: Some(65001),
        ..Default::default()
    };
    assert_eq!(validate_err(&valid_open(), &expect), (2, 2, vec![]));
    // the AS4 capability wins over My AS (RFC 6793): AS_TRANS with AS4 4200000000
    let mut m = OpenMessage::new(4_200_000_000, 9, Ipv4Addr::new(1, 2, 3, 4), vec![]);
    assert_eq!(m.my_as, 23456);
    let expect = OpenExpectations {
        peer_as: Some(4_200_000_000),
        ..Default::default()
    };
    validate_open(&m, &expect).unwrap();
    // RFC 7607: AS 0 is always refused
    m.params.clear();
    m.my_as = 0;
    assert_eq!(validate_err(&m, &OpenExpectations::default()).1, 2);
}

#[test]
fn missing_required_capability() {
    let expect = OpenExpectations {
        required_capabilities: vec![
            Capability::MultiProtocol(V6),
            Capability::MultiProtocol(VPN6),
            Capability::ExtendedMessage,
            Capability::RouteRefresh,
        ],
        ..Default::default()
    };
    // RFC 5492 §3: data = the missing capabilities, encoded.
    let (code, sub, data) = validate_err(&valid_open(), &expect);
    assert_eq!((code, sub), (2, 7));
    assert_eq!(data, vec![1, 4, 0, 2, 0, 128, 2, 0]);
}
