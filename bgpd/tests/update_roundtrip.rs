//! Property test: random valid UPDATEs survive encode -> decode unchanged, with every
//! context combination (4-octet AS or not, ADD-PATH or not).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgpd::packet::attribute::mp::{NextHop, next_hop_bytes};
use bgpd::packet::attribute::{
    AsPath, AsSegment, AttrValue, ExtendedCommunity, LargeCommunity, MpNlri, MpReach, MpUnreach,
    PathAttribute,
};
use bgpd::packet::nlri::{Nlri, RouteDistinguisher, VpnLabel};
use bgpd::packet::prefix_sid::{
    PrefixSid, PrefixSidTlv, SidInformation, SidStructureTlv, SidSubSubTlv, Srv6ServiceSubTlv,
    Srv6ServiceTlv,
};
use bgpd::packet::{
    DecodeContext, EncodeContext, Family, FamilySet, Message, UpdateMessage, decode_message,
    encode_to_vec,
};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::collection::vec;
use proptest::prelude::*;

fn v4_prefix() -> impl Strategy<Value = IpNet> {
    (any::<u32>(), 0u8..=32)
        .prop_map(|(a, l)| IpNet::V4(Ipv4Net::new(Ipv4Addr::from(a), l).unwrap().trunc()))
}

fn v6_prefix() -> impl Strategy<Value = IpNet> {
    (any::<u128>(), 0u8..=128)
        .prop_map(|(a, l)| IpNet::V6(Ipv6Net::new(Ipv6Addr::from(a), l).unwrap().trunc()))
}

fn nlri(family: Family, add_path: bool) -> impl Strategy<Value = Nlri> {
    let prefix = if family.afi == bgpd::packet::Afi::Ipv4 {
        v4_prefix().boxed()
    } else {
        v6_prefix().boxed()
    };
    let vpn = family.safi == bgpd::packet::Safi::MplsVpn;
    (prefix, any::<u32>(), any::<u32>(), any::<[u8; 8]>()).prop_map(
        move |(prefix, id, label, rd)| Nlri {
            path_id: add_path.then_some(id),
            prefix,
            vpn: vpn.then_some(VpnLabel {
                label: label & 0xff_ffff,
                rd: RouteDistinguisher(rd),
            }),
        },
    )
}

fn as_path(as4: bool) -> impl Strategy<Value = AsPath> {
    let asn = if as4 {
        any::<u32>().boxed()
    } else {
        any::<u16>().prop_map(u32::from).boxed()
    };
    vec((1u8..=4, vec(asn, 1..20)), 0..4).prop_map(|segs| AsPath {
        segments: segs
            .into_iter()
            .map(|(kind, asns)| AsSegment { kind, asns })
            .collect(),
    })
}

fn prefix_sid() -> impl Strategy<Value = PrefixSid> {
    let structure = (0u8..=64, 0u8..=32, 0u8..=16, 0u8..=16, 0u8..=20, 0u8..=108).prop_map(
        |(b, n, f, a, tl, to)| {
            SidSubSubTlv::Structure(SidStructureTlv {
                block_len: b,
                node_len: n,
                function_len: f,
                argument_len: a,
                transposition_len: tl,
                transposition_offset: to,
            })
        },
    );
    let unknown_sub_sub = (2u8..=255, vec(any::<u8>(), 0..8))
        .prop_map(|(kind, value)| SidSubSubTlv::Unknown { kind, value });
    let info = (
        any::<u128>(),
        any::<u8>(),
        any::<u16>(),
        vec(prop_oneof![structure, unknown_sub_sub], 0..3),
    )
        .prop_map(|(sid, flags, behavior, subs)| {
            Srv6ServiceSubTlv::SidInformation(SidInformation {
                reserved1: 0,
                sid: Ipv6Addr::from(sid),
                flags,
                behavior,
                reserved2: 0,
                sub_sub_tlvs: subs,
            })
        });
    let unknown_sub = (2u8..=255, vec(any::<u8>(), 0..8))
        .prop_map(|(kind, value)| Srv6ServiceSubTlv::Unknown { kind, value });
    let service = vec(prop_oneof![info, unknown_sub], 0..3).prop_map(|sub_tlvs| Srv6ServiceTlv {
        reserved: 0,
        sub_tlvs,
    });
    let tlv = prop_oneof![
        service.clone().prop_map(PrefixSidTlv::Srv6L3Service),
        service.prop_map(PrefixSidTlv::Srv6L2Service),
        (any::<u16>(), any::<u32>()).prop_map(|(flags, label_index)| PrefixSidTlv::LabelIndex {
            reserved: 0,
            flags,
            label_index
        }),
        (any::<u16>(), vec((0u32..1 << 24, 0u32..1 << 24), 1..3))
            .prop_map(|(flags, ranges)| PrefixSidTlv::OriginatorSrgb { flags, ranges }),
        (
            prop_oneof![Just(2u8), Just(4), 7u8..=255],
            vec(any::<u8>(), 0..12)
        )
            .prop_map(|(kind, value)| PrefixSidTlv::Unknown { kind, value }),
    ];
    vec(tlv, 0..4).prop_map(|tlvs| PrefixSid { tlvs })
}

fn family() -> impl Strategy<Value = Family> {
    prop_oneof![
        Just(Family::IPV4_UNICAST),
        Just(Family::IPV6_UNICAST),
        Just(Family::IPV4_VPN),
        Just(Family::IPV6_VPN)
    ]
}

fn next_hop(family: Family) -> impl Strategy<Value = Vec<u8>> {
    (any::<u128>(), any::<u32>(), any::<bool>(), any::<bool>()).prop_map(move |(g6, g4, v4, ll)| {
        let global = if v4 && family.afi == bgpd::packet::Afi::Ipv4 {
            IpAddr::V4(Ipv4Addr::from(g4))
        } else {
            IpAddr::V6(Ipv6Addr::from(g6))
        };
        let link_local = (ll && global.is_ipv6()).then(|| Ipv6Addr::from(g6 ^ 1));
        next_hop_bytes(family, &NextHop { global, link_local })
    })
}

/// A random, well-formed UPDATE for a context.
fn update(as4: bool, add_path: bool) -> impl Strategy<Value = UpdateMessage> {
    let optional = (
        proptest::option::of(any::<u32>().prop_map(AttrValue::Med)),
        proptest::option::of(any::<u32>().prop_map(AttrValue::LocalPref)),
        proptest::option::of(vec(any::<u32>(), 1..5).prop_map(AttrValue::Communities)),
        proptest::option::of(
            vec(any::<[u8; 8]>().prop_map(ExtendedCommunity), 1..4)
                .prop_map(AttrValue::ExtendedCommunities),
        ),
        proptest::option::of(
            vec(
                any::<(u32, u32, u32)>().prop_map(|(g, a, b)| LargeCommunity {
                    global: g,
                    local1: a,
                    local2: b,
                }),
                1..3,
            )
            .prop_map(AttrValue::LargeCommunities),
        ),
        proptest::option::of(any::<u32>().prop_map(|x| AttrValue::OriginatorId(x.into()))),
        proptest::option::of(
            vec(any::<u32>().prop_map(Ipv4Addr::from), 1..4).prop_map(AttrValue::ClusterList),
        ),
        proptest::option::of(prefix_sid().prop_map(AttrValue::PrefixSid)),
        proptest::option::of(
            (
                prop_oneof![Just(19u8), Just(21), Just(99), Just(200)],
                vec(any::<u8>(), 0..300),
            )
                .prop_map(|(code, value)| AttrValue::Unknown { code, value }),
        ),
        proptest::option::of(Just(AttrValue::AtomicAggregate)),
    );
    let mp = proptest::option::of(
        family().prop_flat_map(move |f| (Just(f), next_hop(f), vec(nlri(f, add_path), 1..20))),
    );
    let unreach = proptest::option::of(
        family().prop_flat_map(move |f| (Just(f), vec(nlri(f, add_path), 0..10))),
    );
    (
        0u8..=2,
        as_path(as4),
        any::<u32>(),
        optional,
        mp,
        unreach,
        vec(nlri(Family::IPV4_UNICAST, add_path), 0..20),
        vec(nlri(Family::IPV4_UNICAST, add_path), 0..20),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(
            move |(origin, path, nh, opt, mp, unreach, nlri, withdrawn, ext_len, order)| {
                let mut attrs = vec![
                    PathAttribute::new(AttrValue::Origin(origin)),
                    PathAttribute::new(AttrValue::AsPath(path)),
                ];
                if !nlri.is_empty() {
                    attrs.push(PathAttribute::new(AttrValue::NextHop(nh.into())));
                }
                let (a, b, c, d, e, f, g, h, i, j) = opt;
                for v in [a, b, c, d, e, f, g, h, i, j].into_iter().flatten() {
                    attrs.push(PathAttribute::new(v));
                }
                if let Some((family, next_hop, n)) = mp {
                    attrs.push(PathAttribute::new(AttrValue::MpReach(Box::new(MpReach {
                        family,
                        next_hop,
                        reserved: 0,
                        nlri: MpNlri::Prefixes(n),
                    }))));
                }
                if let Some((family, n)) = unreach {
                    attrs.push(PathAttribute::new(AttrValue::MpUnreach(Box::new(
                        MpUnreach {
                            family,
                            nlri: MpNlri::Prefixes(n),
                        },
                    ))));
                }
                // Any order is legal on the wire; rotate deterministically by the seed.
                let k = (order % attrs.len() as u64) as usize;
                attrs.rotate_left(k);
                if ext_len {
                    attrs[0].flags |= 0x10;
                }
                UpdateMessage {
                    withdrawn,
                    attributes: attrs,
                    nlri,
                    errors: Vec::new(),
                }
            },
        )
}

fn context(as4: bool, add_path: bool) -> DecodeContext {
    DecodeContext {
        four_octet_as: as4,
        add_path: if add_path {
            FamilySet::all_supported()
        } else {
            FamilySet::new()
        },
        max_message_len: 65535,
    }
}

fn without_ext_len(m: &Message) -> Message {
    let mut m = m.clone();
    if let Message::Update(u) = &mut m {
        u.attributes.iter_mut().for_each(|a| a.flags &= !0x10);
    }
    m
}

fn round_trip(u: UpdateMessage, as4: bool, add_path: bool) -> Result<(), TestCaseError> {
    let cx = context(as4, add_path);
    let msg = Message::Update(u);
    let bytes = encode_to_vec(&msg, &EncodeContext::mirror(&cx));
    prop_assume!(bytes.len() <= 65535);
    let back = decode_message(&bytes, &cx).map_err(|e| TestCaseError::fail(e.to_string()))?;
    // The encoder adds the Extended Length flag where a value needs it; compare without it.
    prop_assert_eq!(without_ext_len(&back), without_ext_len(&msg));
    // And the bytes are stable.
    prop_assert_eq!(encode_to_vec(&back, &EncodeContext::mirror(&cx)), bytes);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn four_octet_as_plain(u in update(true, false)) { round_trip(u, true, false)?; }

    #[test]
    fn four_octet_as_add_path(u in update(true, true)) { round_trip(u, true, true)?; }

    #[test]
    fn two_octet_as_plain(u in update(false, false)) { round_trip(u, false, false)?; }
}
