//! Property tests: arbitrary OPENs round-trip; random and mutated bytes never panic the OPEN,
//! NOTIFICATION and ROUTE-REFRESH decoders, and whatever they accept re-encodes to the same
//! bytes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv4Addr;

use bgpd::packet::capability::{AddPathMode, Capability, code, is_understood};
use bgpd::packet::notification::{decode_notification, encode_notification};
use bgpd::packet::open::{OpenMessage, OptionalParameter, ParamsFormat, decode_open, encode_open};
use bgpd::packet::route_refresh::{decode_route_refresh, encode_route_refresh};
use bgpd::packet::{
    Afi, DecodeContext, EncodeContext, Family, Message, decode_message, encode_to_vec,
};
use bytes::BytesMut;
use proptest::collection::vec;
use proptest::prelude::*;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/bgp");

fn family() -> impl Strategy<Value = Family> {
    (
        prop_oneof![Just(1u16), Just(2), Just(25), any::<u16>()],
        any::<u8>(),
    )
        .prop_map(|(afi, safi)| Family::new(afi, safi))
}

fn afi() -> impl Strategy<Value = Afi> {
    any::<u16>().prop_map(Afi::from_u16)
}

fn add_path_mode() -> impl Strategy<Value = AddPathMode> {
    prop_oneof![
        Just(AddPathMode::Receive),
        Just(AddPathMode::Send),
        Just(AddPathMode::Both)
    ]
}

/// Any capability whose value fits the 255-octet Capability Length.
fn capability() -> impl Strategy<Value = Capability> {
    prop_oneof![
        family().prop_map(Capability::MultiProtocol),
        Just(Capability::RouteRefresh),
        Just(Capability::RouteRefreshCisco),
        Just(Capability::ExtendedMessage),
        Just(Capability::EnhancedRouteRefresh),
        vec((family(), afi()), 0..40).prop_map(Capability::ExtendedNextHop),
        (0u8..16, 0u16..4096, vec((family(), any::<u8>()), 0..60)).prop_map(
            |(restart_flags, restart_time, families)| Capability::GracefulRestart {
                restart_flags,
                restart_time,
                families
            }
        ),
        any::<u32>().prop_map(Capability::FourOctetAs),
        vec((family(), add_path_mode()), 0..60).prop_map(Capability::AddPath),
        vec((family(), any::<u8>(), 0u32..(1 << 24)), 0..36)
            .prop_map(Capability::LongLivedGracefulRestart),
        (vec(any::<u8>(), 0..120), vec(any::<u8>(), 0..120))
            .prop_map(|(hostname, domain)| Capability::Fqdn { hostname, domain }),
        (
            any::<u8>().prop_filter("unknown code", |c| !is_understood(*c)),
            vec(any::<u8>(), 0..256)
        )
            .prop_map(|(code, value)| Capability::Unknown { code, value }),
        // known codes whose values do not parse stay Unknown
        Just(Capability::Unknown {
            code: code::FOUR_OCTET_AS,
            value: vec![1, 2, 3]
        }),
        Just(Capability::Unknown {
            code: code::MULTIPROTOCOL,
            value: vec![0, 1, 9, 1]
        }),
        Just(Capability::Unknown {
            code: code::ADD_PATH,
            value: vec![0, 1, 1, 0]
        }),
    ]
}

fn parameter() -> impl Strategy<Value = OptionalParameter> {
    prop_oneof![
        4 => vec(capability(), 0..6).prop_map(OptionalParameter::Capabilities),
        1 => (
            any::<u8>().prop_filter("not capabilities or the RFC 9072 marker", |k| *k != 2 && *k != 255),
            vec(any::<u8>(), 0..300),
        )
            .prop_map(|(kind, value)| OptionalParameter::Unknown { kind, value }),
    ]
}

fn open_message() -> impl Strategy<Value = OpenMessage> {
    (
        any::<u8>(),
        any::<u16>(),
        any::<u16>(),
        any::<u32>(),
        vec(parameter(), 0..6),
        prop_oneof![
            Just(ParamsFormat::Standard),
            (1u8..=255).prop_map(|non_ext_len| ParamsFormat::Extended { non_ext_len })
        ],
    )
        .prop_map(
            |(version, my_as, hold_time, id, params, params_format)| OpenMessage {
                version,
                my_as,
                hold_time,
                bgp_id: Ipv4Addr::from(id),
                params,
                params_format,
            },
        )
}

/// What decoding the encoding of `m` gives: the same message, except that parameters too long
/// for one-octet lengths force the RFC 9072 form (with Non-Ext OP Len 255).
fn expected_after_round_trip(m: &OpenMessage) -> OpenMessage {
    let lens: Vec<usize> = m
        .params
        .iter()
        .map(|p| match p {
            OptionalParameter::Capabilities(caps) => caps.iter().map(|c| c.to_bytes().len()).sum(),
            OptionalParameter::Unknown { value, .. } => value.len(),
        })
        .collect();
    let too_long = lens.iter().any(|&l| l > 255) || lens.iter().map(|l| l + 2).sum::<usize>() > 255;
    let mut e = m.clone();
    if too_long && e.params_format == ParamsFormat::Standard {
        e.params_format = ParamsFormat::Extended { non_ext_len: 255 };
    }
    e
}

fn vector_bodies() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(VECTORS).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if (name.starts_with("open_") || name.starts_with("notif_")) && name.ends_with(".hex") {
            let t = std::fs::read_to_string(format!("{VECTORS}/{name}")).unwrap();
            let t = t.trim();
            let b: Vec<u8> = (0..t.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&t[i..i + 2], 16).unwrap())
                .collect();
            out.push(b[19..].to_vec());
        }
    }
    out.push(vec![0, 2, 1, 128]);
    out
}

/// Every decoder on `body`; what is accepted must re-encode to exactly `body`.
fn decode_all(body: &[u8]) {
    if let Ok(m) = decode_open(body) {
        let mut out = BytesMut::new();
        encode_open(&m, &mut out);
        assert_eq!(out.as_ref(), body, "OPEN {m:?}");
    }
    if let Ok(m) = decode_notification(body) {
        let mut out = BytesMut::new();
        encode_notification(&m, &mut out);
        assert_eq!(out.as_ref(), body);
    }
    if let Ok(m) = decode_route_refresh(body) {
        let mut out = BytesMut::new();
        encode_route_refresh(&m, &mut out);
        assert_eq!(out.as_ref(), body);
    }
}

#[derive(Clone, Debug)]
enum Mutation {
    Set(usize, u8),
    Truncate(usize),
    Insert(usize, u8),
    Remove(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        1 => any::<usize>().prop_map(Mutation::Remove),
    ]
}

fn mutate(mut b: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let n = b.len().max(1);
        match *m {
            Mutation::Set(i, v) => {
                if let Some(x) = b.get_mut(i % n) {
                    *x = v;
                }
            }
            Mutation::Truncate(i) => b.truncate(i % (n + 1)),
            Mutation::Insert(i, v) => b.insert(i % (b.len() + 1), v),
            Mutation::Remove(i) => {
                if !b.is_empty() {
                    b.remove(i % n);
                }
            }
        }
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn open_round_trips(m in open_message()) {
        let mut body = BytesMut::new();
        encode_open(&m, &mut body);
        let back = decode_open(&body).unwrap();
        prop_assert_eq!(&back, &expected_after_round_trip(&m));
        // and through the message codec
        let bytes = encode_to_vec(&Message::Open(m), &EncodeContext::default());
        prop_assert_eq!(decode_message(&bytes, &DecodeContext::default()).unwrap(), Message::Open(back));
    }

    #[test]
    fn random_bytes_never_panic(body in vec(any::<u8>(), 0..400)) {
        decode_all(&body);
    }

    #[test]
    fn mutated_vectors_never_panic(which in any::<usize>(), muts in vec(mutation(), 1..6)) {
        let bodies = vector_bodies();
        let body = mutate(bodies[which % bodies.len()].clone(), &muts);
        decode_all(&body);
    }
}
