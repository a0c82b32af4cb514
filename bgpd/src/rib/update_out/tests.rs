//! Every test decodes what `pack` produced with the codec's decoder and compares.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use bytes::Bytes;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::prelude::*;

use super::*;
use crate::packet::attribute::{
    AsPath, ExtendedCommunity, FLAG_EXTENDED_LENGTH, MpNlri, MpReach, MpUnreach, PathAttribute,
};
use crate::packet::nlri::{RouteDistinguisher, VpnLabel};
use crate::packet::prefix_sid::{PrefixSid, SidStructureTlv};
use crate::packet::{
    DecodeContext, FamilySet, MAX_MESSAGE_LEN, Message, UpdateMessage, decode_message,
    encode_to_vec,
};

// ---------------------------------------------------------------------------------------------
// Building routes

fn v4(s: &str) -> Nlri {
    Nlri::new(IpNet::V4(s.parse::<Ipv4Net>().unwrap()))
}

fn v6(s: &str) -> Nlri {
    Nlri::new(IpNet::V6(s.parse::<Ipv6Net>().unwrap()))
}

fn vpn(mut n: Nlri, label: u32, rd: u32) -> Nlri {
    n.vpn = Some(VpnLabel {
        label,
        rd: RouteDistinguisher::from_asn2(65000, rd),
    });
    n
}

fn nh4(a: [u8; 4]) -> NextHop {
    NextHop {
        global: IpAddr::V4(Ipv4Addr::from(a)),
        link_local: None,
    }
}

fn nh6(global: &str, link_local: Option<&str>) -> NextHop {
    NextHop {
        global: IpAddr::V6(global.parse().unwrap()),
        link_local: link_local.map(|l| l.parse().unwrap()),
    }
}

/// ORIGIN, AS_PATH, MED, LOCAL_PREF, COMMUNITIES (no NEXT_HOP attribute).
fn base_attrs(med: u32, communities: usize) -> Vec<PathAttribute> {
    let mut v = vec![
        PathAttribute::new(AttrValue::Origin(0)),
        PathAttribute::new(AttrValue::AsPath(AsPath::sequence(vec![65001, 65002]))),
        PathAttribute::new(AttrValue::Med(med)),
        PathAttribute::new(AttrValue::LocalPref(100)),
    ];
    if communities > 0 {
        let c = (0..communities).map(|i| (65001 << 16) | i as u32).collect();
        v.push(PathAttribute::new(AttrValue::Communities(c)));
    }
    v
}

fn set(attrs: Vec<PathAttribute>, nh: Option<NextHop>) -> Arc<PathAttrs> {
    Arc::new(PathAttrs::new(attrs, nh))
}

/// The attribute set of an SRv6 VPN route: base attributes, a route target and an SRv6 L3
/// Service Prefix-SID.
fn srv6_attrs() -> Vec<PathAttribute> {
    let mut v = base_attrs(0, 0);
    v.push(PathAttribute::new(AttrValue::ExtendedCommunities(vec![
        ExtendedCommunity::route_target_as2(65000, 1),
    ])));
    v.push(PathAttribute::new(AttrValue::PrefixSid(
        PrefixSid::srv6_l3_service(
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
        ),
    )));
    v
}

fn announce(family: Family, nlri: Nlri, attrs: &Arc<PathAttrs>) -> OutRoute {
    OutRoute {
        family,
        nlri,
        attrs: Some(attrs.clone()),
    }
}

fn withdraw(family: Family, nlri: Nlri) -> OutRoute {
    OutRoute {
        family,
        nlri,
        attrs: None,
    }
}

fn cx_with(max: usize, add_path: &[Family]) -> EncodeContext {
    EncodeContext {
        four_octet_as: true,
        add_path: add_path.iter().copied().collect(),
        max_message_len: max,
    }
}

// ---------------------------------------------------------------------------------------------
// Decoding and comparing

/// A route as the peer sees it.
type Wd = (Family, Nlri);
/// The attributes of an announcement as the peer sees them: those other than MP_REACH_NLRI and
/// NEXT_HOP (Extended Length flag ignored), and the next hop.
type Attrs = (Vec<PathAttribute>, NextHop);
/// Announcements: by attributes, the routes and how many times each was announced.
type Anns = HashMap<Attrs, HashMap<Wd, usize>>;

#[derive(Default)]
struct Decoded {
    updates: Vec<UpdateMessage>,
    announced: Anns,
    withdrawn: HashMap<Wd, usize>,
}

impl Decoded {
    fn announced_count(&self) -> usize {
        self.announced
            .values()
            .flat_map(|m| m.values())
            .sum::<usize>()
    }
    fn withdrawn_count(&self) -> usize {
        self.withdrawn.values().sum()
    }
}

fn plain_flags(a: &PathAttribute) -> PathAttribute {
    PathAttribute {
        flags: a.flags & !FLAG_EXTENDED_LENGTH,
        value: a.value.clone(),
    }
}

/// Decode every message, checking what every message must satisfy.
fn decode_all(msgs: &[Bytes], cx: &EncodeContext) -> Decoded {
    let dcx = DecodeContext {
        four_octet_as: cx.four_octet_as,
        add_path: cx.add_path.clone(),
        max_message_len: cx.max_message_len.min(MAX_EXTENDED_MESSAGE_LEN),
    };
    let mut d = Decoded::default();
    for m in msgs {
        assert!(
            m.len() <= cx.max_message_len,
            "{} > {}",
            m.len(),
            cx.max_message_len
        );
        let Message::Update(u) = decode_message(m, &dcx).unwrap() else {
            panic!("not an UPDATE");
        };
        assert!(u.errors.is_empty(), "{:?}", u.errors);
        // RFC 7606 §5.1: one kind per message, the MP attribute first.
        let kinds = [
            !u.withdrawn.is_empty(),
            !u.nlri.is_empty(),
            u.mp_reach().is_some(),
            u.mp_unreach().is_some(),
        ];
        assert_eq!(kinds.iter().filter(|k| **k).count(), 1, "{u:?}");
        if u.mp_reach().is_some() || u.mp_unreach().is_some() {
            assert!(matches!(
                u.attributes[0].value,
                AttrValue::MpReach(_) | AttrValue::MpUnreach(_)
            ));
        }
        if !u.withdrawn.is_empty() || u.mp_unreach().is_some() {
            // RFC 4760 §4: withdrawals carry no other attribute.
            assert!(u.attributes.len() <= 1, "{u:?}");
        }
        for n in &u.withdrawn {
            *d.withdrawn.entry((Family::IPV4_UNICAST, *n)).or_default() += 1;
        }
        if let Some(m) = u.mp_unreach() {
            for n in m.nlri.prefixes() {
                *d.withdrawn.entry((m.family, *n)).or_default() += 1;
            }
        }
        let others: Vec<PathAttribute> = u
            .attributes
            .iter()
            .filter(|a| !matches!(a.value, AttrValue::MpReach(_) | AttrValue::NextHop(_)))
            .map(plain_flags)
            .collect();
        if let Some(m) = u.mp_reach() {
            // RFC 4760 §3: no NEXT_HOP alongside MP_REACH_NLRI.
            assert!(u.attr(attr_type::NEXT_HOP).is_none());
            assert!(!m.nlri.is_empty());
            let nh = m.next_hop().unwrap();
            let routes = d.announced.entry((others.clone(), nh)).or_default();
            for n in m.nlri.prefixes() {
                *routes.entry((m.family, *n)).or_default() += 1;
            }
        }
        if !u.nlri.is_empty() {
            let Some(AttrValue::NextHop(a)) = u.attr(attr_type::NEXT_HOP).map(|a| &a.value) else {
                panic!("IPv4 NLRI without NEXT_HOP");
            };
            let nh = NextHop {
                global: IpAddr::V4(*a),
                link_local: None,
            };
            let routes = d.announced.entry((others, nh)).or_default();
            for n in &u.nlri {
                *routes.entry((Family::IPV4_UNICAST, *n)).or_default() += 1;
            }
        }
        d.updates.push(u);
    }
    d
}

/// The NLRI as the peer decodes it: a path identifier exactly for ADD-PATH families.
fn wire_nlri(family: Family, n: &Nlri, cx: &EncodeContext) -> Nlri {
    Nlri {
        path_id: if cx.add_path.contains(family) {
            Some(n.path_id.unwrap_or(0))
        } else {
            None
        },
        ..*n
    }
}

/// The announcement the peer should see for `r` (assumed sendable).
fn expected_ann(r: &OutRoute, cx: &EncodeContext) -> (Attrs, Wd) {
    let pa = r.attrs.as_ref().unwrap();
    let attr_nh = pa.attrs.iter().find_map(|a| match a.value {
        AttrValue::NextHop(x) => Some(x),
        _ => None,
    });
    let nh = match (r.family == Family::IPV4_UNICAST, pa.next_hop, attr_nh) {
        (
            true,
            Some(
                n @ NextHop {
                    global: IpAddr::V6(_),
                    ..
                },
            ),
            _,
        ) => n,
        (true, _, Some(a)) => nh4(a.octets()),
        (true, Some(NextHop { global, .. }), None) => NextHop {
            global,
            link_local: None,
        },
        (_, n, _) => n.unwrap(),
    };
    let attrs = pa
        .attrs
        .iter()
        .filter(|a| !matches!(a.value, AttrValue::NextHop(_)))
        .map(plain_flags)
        .collect();
    ((attrs, nh), (r.family, wire_nlri(r.family, &r.nlri, cx)))
}

fn expected(routes: &[OutRoute], cx: &EncodeContext) -> (Anns, HashMap<Wd, usize>) {
    // Routes by attribute set first, so that the attributes are compared once per set.
    type BySet<'r> = HashMap<(*const PathAttrs, Family), (&'r OutRoute, HashMap<Wd, usize>)>;
    let mut by_set: BySet = HashMap::new();
    let mut w = HashMap::new();
    for r in routes {
        let wd = (r.family, wire_nlri(r.family, &r.nlri, cx));
        match &r.attrs {
            Some(pa) => {
                let (_, m) = by_set
                    .entry((Arc::as_ptr(pa), r.family))
                    .or_insert_with(|| (r, HashMap::new()));
                *m.entry(wd).or_default() += 1;
            }
            None => *w.entry(wd).or_default() += 1,
        }
    }
    let mut a: Anns = HashMap::new();
    for (first, m) in by_set.into_values() {
        let merged = a.entry(expected_ann(first, cx).0).or_default();
        for (wd, n) in m {
            *merged.entry(wd).or_default() += n;
        }
    }
    (a, w)
}

fn assert_round_trip(routes: &[OutRoute], cx: &EncodeContext) -> (Decoded, PackStats) {
    let (msgs, st) = pack_with_stats(routes, cx);
    let d = decode_all(&msgs, cx);
    let (a, w) = expected(routes, cx);
    assert_eq!(d.announced, a);
    assert_eq!(d.withdrawn, w);
    assert_eq!(st.updates, msgs.len());
    assert_eq!(st.announced, d.announced_count());
    assert_eq!(st.withdrawn, d.withdrawn_count());
    (d, st)
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn every_family_round_trips() {
    let cx = EncodeContext::default();
    let s4 = set(base_attrs(10, 3), Some(nh4([192, 0, 2, 1])));
    let s4v6 = set(base_attrs(11, 0), Some(nh6("fd00::1", None)));
    let s6 = set(base_attrs(12, 2), Some(nh6("fd00::2", Some("fe80::2"))));
    let vpn4 = set(srv6_attrs(), Some(nh4([10, 0, 0, 2])));
    let vpn6 = set(srv6_attrs(), Some(nh6("fd00::3", Some("fe80::3"))));
    let routes = vec![
        announce(Family::IPV4_UNICAST, v4("10.1.0.0/16"), &s4),
        announce(Family::IPV4_UNICAST, v4("10.2.3.0/24"), &s4),
        announce(Family::IPV4_UNICAST, v4("0.0.0.0/0"), &s4),
        announce(Family::IPV4_UNICAST, v4("10.9.0.0/16"), &s4v6),
        announce(Family::IPV6_UNICAST, v6("2001:db8::/32"), &s6),
        announce(Family::IPV6_UNICAST, v6("2001:db8:1::1/128"), &s6),
        announce(
            Family::IPV4_VPN,
            vpn(v4("10.3.0.0/24"), 0x10_0001, 1),
            &vpn4,
        ),
        announce(
            Family::IPV6_VPN,
            vpn(v6("2001:db8:5::/48"), 0x02_0003, 2),
            &vpn6,
        ),
        announce(
            Family::IPV6_VPN,
            vpn(v6("2001:db8:6::/64"), 0x02_0013, 2),
            &vpn6,
        ),
        withdraw(Family::IPV4_UNICAST, v4("10.4.0.0/16")),
        withdraw(Family::IPV6_UNICAST, v6("2001:db8:7::/48")),
        withdraw(Family::IPV4_VPN, vpn(v4("10.5.0.0/24"), 0x10_0001, 1)),
        withdraw(Family::IPV6_VPN, vpn(v6("2001:db8:8::/64"), 0x02_0003, 2)),
    ];
    let (d, st) = assert_round_trip(&routes, &cx);
    assert_eq!(
        st,
        PackStats {
            updates: 9,
            announced: 9,
            withdrawn: 4,
            ..Default::default()
        }
    );
    // Withdrawals come first.
    assert!(d.updates[..4].iter().all(|u| u.withdrawals().len() == 1));
    assert!(d.updates[4..].iter().all(|u| !u.announced().is_empty()));
}

#[test]
fn output_is_deterministic_and_groups_keep_input_order() {
    let cx = EncodeContext::default();
    let a = set(base_attrs(1, 0), Some(nh4([192, 0, 2, 1])));
    let b = set(base_attrs(2, 0), Some(nh4([192, 0, 2, 2])));
    let routes: Vec<OutRoute> = (0..200u32)
        .map(|i| {
            let n = v4(&format!("10.{}.{}.0/24", i / 256, i % 256));
            announce(Family::IPV4_UNICAST, n, if i % 3 == 0 { &a } else { &b })
        })
        .collect();
    let first = pack(&routes, &cx);
    assert_eq!(first, pack(&routes, &cx));
    let d = decode_all(&first, &cx);
    // Group of `a` first (route 0 uses it), routes in input order within it.
    assert_eq!(d.updates.len(), 2);
    let got: Vec<Nlri> = d.updates.iter().flat_map(|u| u.nlri.clone()).collect();
    let want: Vec<Nlri> = (0..200)
        .filter(|i| i % 3 == 0)
        .chain((0..200).filter(|i| i % 3 != 0))
        .map(|i| routes[i].nlri)
        .collect();
    assert_eq!(got, want);
}

#[test]
fn equal_attribute_sets_in_different_arcs_share_messages() {
    let cx = EncodeContext::default();
    let a = set(base_attrs(1, 0), Some(nh4([192, 0, 2, 1])));
    let b = set(base_attrs(1, 0), Some(nh4([192, 0, 2, 1])));
    assert!(!Arc::ptr_eq(&a, &b));
    let routes = vec![
        announce(Family::IPV4_UNICAST, v4("10.0.1.0/24"), &a),
        announce(Family::IPV4_UNICAST, v4("10.0.2.0/24"), &b),
        announce(Family::IPV4_UNICAST, v4("10.0.3.0/24"), &a),
    ];
    let (d, st) = assert_round_trip(&routes, &cx);
    assert_eq!(st.updates, 1);
    assert_eq!(d.updates[0].nlri.len(), 3);
}

#[test]
fn same_attributes_in_two_families_are_two_groups() {
    let cx = EncodeContext::default();
    let s = set(srv6_attrs(), Some(nh6("fd00::1", None)));
    let routes = vec![
        announce(Family::IPV6_UNICAST, v6("2001:db8::/48"), &s),
        announce(Family::IPV6_VPN, vpn(v6("2001:db8::/48"), 0x10, 1), &s),
        announce(Family::IPV6_UNICAST, v6("2001:db8:1::/48"), &s),
    ];
    let (_, st) = assert_round_trip(&routes, &cx);
    assert_eq!(st.updates, 2);
}

#[test]
fn matches_the_codec_encoder_byte_for_byte() {
    let cx = EncodeContext::default();
    // IPv4: NEXT_HOP inserted after AS_PATH (type-code order), NLRI field.
    let s = set(base_attrs(7, 2), Some(nh4([192, 0, 2, 9])));
    let nlri = vec![v4("10.0.0.0/8"), v4("172.16.0.0/12"), v4("192.0.2.128/25")];
    let routes: Vec<OutRoute> = nlri
        .iter()
        .map(|n| announce(Family::IPV4_UNICAST, *n, &s))
        .collect();
    let mut attrs = base_attrs(7, 2);
    attrs.insert(
        2,
        PathAttribute::new(AttrValue::NextHop(Ipv4Addr::new(192, 0, 2, 9))),
    );
    let want = UpdateMessage {
        attributes: attrs,
        nlri: nlri.clone(),
        ..Default::default()
    };
    let got = pack(&routes, &cx);
    assert_eq!(got.len(), 1);
    assert_eq!(&got[0][..], &encode_to_vec(&Message::Update(want), &cx)[..]);

    // VPN-IPv6 with Prefix-SID: MP_REACH_NLRI first, then the set's attributes.
    let nh = nh6("fd00::2", Some("fe80::2"));
    let s = set(srv6_attrs(), Some(nh));
    let nlri: Vec<Nlri> = (0..5u32)
        .map(|i| vpn(v6(&format!("2001:db8:{i}::/64")), ((i + 1) << 4) | 1, 3))
        .collect();
    let routes: Vec<OutRoute> = nlri
        .iter()
        .map(|n| announce(Family::IPV6_VPN, *n, &s))
        .collect();
    let mut attrs = vec![PathAttribute::new(AttrValue::MpReach(Box::new(MpReach {
        family: Family::IPV6_VPN,
        next_hop: next_hop_bytes(Family::IPV6_VPN, &nh),
        reserved: 0,
        nlri: MpNlri::Prefixes(nlri),
    })))];
    attrs.extend(srv6_attrs());
    let want = UpdateMessage {
        attributes: attrs,
        ..Default::default()
    };
    let got = pack(&routes, &cx);
    assert_eq!(got.len(), 1);
    assert_eq!(&got[0][..], &encode_to_vec(&Message::Update(want), &cx)[..]);

    // Withdrawals of VPN-IPv4: one MP_UNREACH_NLRI.
    let nlri: Vec<Nlri> = (0..4u32)
        .map(|i| vpn(v4(&format!("10.{i}.0.0/16")), 0x100, 1))
        .collect();
    let routes: Vec<OutRoute> = nlri
        .iter()
        .map(|n| withdraw(Family::IPV4_VPN, *n))
        .collect();
    let want = UpdateMessage {
        attributes: vec![PathAttribute::new(AttrValue::MpUnreach(Box::new(
            MpUnreach {
                family: Family::IPV4_VPN,
                nlri: MpNlri::Prefixes(nlri),
            },
        )))],
        ..Default::default()
    };
    let got = pack(&routes, &cx);
    assert_eq!(&got[0][..], &encode_to_vec(&Message::Update(want), &cx)[..]);
}

#[test]
fn mp_reach_is_the_first_attribute() {
    let cx = EncodeContext::default();
    let s = set(srv6_attrs(), Some(nh6("fd00::2", None)));
    for family in [Family::IPV6_UNICAST, Family::IPV4_UNICAST] {
        let n = if family == Family::IPV4_UNICAST {
            v4("10.0.0.0/24")
        } else {
            v6("2001:db8::/64")
        };
        let msgs = pack(&[announce(family, n, &s)], &cx);
        // Header (19), Withdrawn Routes Length (2) = 0, Total Path Attribute Length (2), then
        // the first attribute's flags and type code.
        let m = &msgs[0];
        assert_eq!(&m[19..21], &[0, 0]);
        assert_eq!(m[23], FLAG_OPTIONAL);
        assert_eq!(m[24], attr_type::MP_REACH_NLRI);
        let d = decode_all(&msgs, &cx);
        assert!(matches!(
            d.updates[0].attributes[0].value,
            AttrValue::MpReach(_)
        ));
        assert!(d.updates[0].nlri.is_empty());
    }
}

#[test]
fn large_mp_reach_gets_extended_length_small_one_does_not() {
    let cx = EncodeContext::default();
    let s = set(base_attrs(0, 0), Some(nh6("fd00::2", None)));
    let routes: Vec<OutRoute> = (0..200u32)
        .map(|i| {
            announce(
                Family::IPV6_UNICAST,
                v6(&format!("2001:db8:{i:x}::/48")),
                &s,
            )
        })
        .collect();
    let msgs = pack(&routes, &cx);
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0][23], FLAG_OPTIONAL | FLAG_EXTENDED_LENGTH);
    let msgs = pack(&routes[..1], &cx);
    assert_eq!(msgs[0][23], FLAG_OPTIONAL);
    decode_all(&msgs, &cx);
}

#[test]
fn ipv4_next_hop_attribute_placement() {
    let cx = EncodeContext::default();
    let codes = |msgs: &[Bytes]| -> Vec<u8> {
        decode_all(msgs, &cx).updates[0]
            .attributes
            .iter()
            .map(|a| a.type_code())
            .collect()
    };
    // Ours, in type-code order: NEXT_HOP goes between AS_PATH and MED.
    let s = set(base_attrs(5, 1), Some(nh4([192, 0, 2, 1])));
    let msgs = pack(&[announce(Family::IPV4_UNICAST, v4("10.0.0.0/8"), &s)], &cx);
    assert_eq!(codes(&msgs), [1, 2, 3, 4, 5, 8]);
    // Only ORIGIN and AS_PATH: NEXT_HOP last.
    let s = set(base_attrs(5, 0)[..2].to_vec(), Some(nh4([192, 0, 2, 1])));
    let msgs = pack(&[announce(Family::IPV4_UNICAST, v4("10.0.0.0/8"), &s)], &cx);
    assert_eq!(codes(&msgs), [1, 2, 3]);
    // Reflected in received order, with its own NEXT_HOP: kept as it is and where it is.
    let received = vec![
        PathAttribute::new(AttrValue::LocalPref(100)),
        PathAttribute::new(AttrValue::AsPath(AsPath::sequence(vec![65010]))),
        PathAttribute::new(AttrValue::NextHop(Ipv4Addr::new(198, 51, 100, 7))),
        PathAttribute::new(AttrValue::Origin(1)),
    ];
    for nh in [None, Some(nh4([192, 0, 2, 1]))] {
        let s = set(received.clone(), nh);
        let r = [announce(Family::IPV4_UNICAST, v4("10.0.0.0/8"), &s)];
        let msgs = pack(&r, &cx);
        assert_eq!(codes(&msgs), [5, 2, 3, 1]);
        let d = decode_all(&msgs, &cx);
        assert_eq!(
            d.updates[0].attr(attr_type::NEXT_HOP).unwrap().value,
            AttrValue::NextHop(Ipv4Addr::new(198, 51, 100, 7))
        );
        assert_round_trip(&r, &cx);
    }
}

#[test]
fn ipv4_with_ipv6_next_hop_goes_into_mp_reach() {
    let cx = EncodeContext::default();
    for (nh, len) in [
        (nh6("fd00::9", None), 16),
        (nh6("fd00::9", Some("fe80::9")), 32),
    ] {
        // A NEXT_HOP attribute in the set is not sent with MP_REACH_NLRI (RFC 4760 §3).
        let mut attrs = base_attrs(0, 0);
        attrs.insert(
            2,
            PathAttribute::new(AttrValue::NextHop(Ipv4Addr::new(192, 0, 2, 1))),
        );
        for attrs in [base_attrs(0, 0), attrs] {
            let s = set(attrs, Some(nh));
            let routes = vec![
                announce(Family::IPV4_UNICAST, v4("10.0.0.0/24"), &s),
                announce(Family::IPV4_UNICAST, v4("10.0.1.0/24"), &s),
            ];
            let (d, _) = assert_round_trip(&routes, &cx);
            let u = &d.updates[0];
            let m = u.mp_reach().unwrap();
            assert_eq!(m.family, Family::IPV4_UNICAST);
            assert_eq!(m.next_hop.len(), len);
            assert_eq!(m.next_hop().unwrap(), nh);
            assert!(u.nlri.is_empty() && u.attr(attr_type::NEXT_HOP).is_none());
        }
    }
}

#[test]
fn add_path_ids_are_carried() {
    let cx = cx_with(MAX_MESSAGE_LEN, &[Family::IPV4_UNICAST, Family::IPV6_VPN]);
    let s4 = set(base_attrs(0, 0), Some(nh4([192, 0, 2, 1])));
    let s6 = set(srv6_attrs(), Some(nh6("fd00::1", None)));
    let with_id = |mut n: Nlri, id| {
        n.path_id = Some(id);
        n
    };
    let routes = vec![
        announce(Family::IPV4_UNICAST, with_id(v4("10.0.0.0/24"), 1), &s4),
        announce(Family::IPV4_UNICAST, with_id(v4("10.0.0.0/24"), 2), &s4),
        announce(Family::IPV4_UNICAST, v4("10.0.1.0/24"), &s4), // no id: sent as 0
        withdraw(Family::IPV4_UNICAST, with_id(v4("10.0.2.0/24"), 7)),
        announce(
            Family::IPV6_VPN,
            with_id(vpn(v6("2001:db8::/64"), 0x100, 1), 0xdead_beef),
            &s6,
        ),
        withdraw(
            Family::IPV6_VPN,
            with_id(vpn(v6("2001:db8:1::/64"), 0x100, 1), 9),
        ),
        // IPv6 unicast is not an ADD-PATH family here: the id is not sent.
        announce(Family::IPV6_UNICAST, with_id(v6("2001:db8::/64"), 5), &s6),
    ];
    let (d, _) = assert_round_trip(&routes, &cx);
    let ids: Vec<Option<u32>> = d
        .updates
        .iter()
        .flat_map(|u| {
            let mut v: Vec<(Family, &Nlri)> = u.announced();
            v.extend(u.withdrawals());
            v.into_iter().map(|(_, n)| n.path_id).collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        ids,
        [
            Some(7),
            Some(9),
            Some(1),
            Some(2),
            Some(0),
            Some(0xdead_beef),
            None
        ]
    );
}

#[test]
fn withdrawals_of_every_family_pack_many_per_message() {
    let cx = EncodeContext::default();
    let mut routes = Vec::new();
    for i in 0..3000u32 {
        let (a, b) = (i / 256, i % 256);
        routes.push(withdraw(
            Family::IPV4_UNICAST,
            v4(&format!("10.{a}.{b}.0/24")),
        ));
        routes.push(withdraw(
            Family::IPV6_UNICAST,
            v6(&format!("2001:db8:{i:x}::/48")),
        ));
        routes.push(withdraw(
            Family::IPV4_VPN,
            vpn(v4(&format!("10.{a}.{b}.0/24")), 0x100, 1),
        ));
        routes.push(withdraw(
            Family::IPV6_VPN,
            vpn(v6(&format!("2001:db8:{i:x}::/64")), 0x100, 1),
        ));
    }
    let (d, st) = assert_round_trip(&routes, &cx);
    assert_eq!(st.withdrawn, 12_000);
    // 4 octets per IPv4 prefix, 7 per IPv6 /48, 15 per VPN-IPv4 /24, 20 per VPN-IPv6 /64.
    let per_family = |f: Family| {
        d.updates
            .iter()
            .filter(|u| u.withdrawals().first().is_some_and(|(g, _)| *g == f))
            .count()
    };
    assert_eq!(per_family(Family::IPV4_UNICAST), 3); // 1018 per message
    assert_eq!(per_family(Family::IPV6_UNICAST), 6); // 580
    assert_eq!(per_family(Family::IPV4_VPN), 12); // 271
    assert_eq!(per_family(Family::IPV6_VPN), 15); // 203
    for u in &d.updates {
        if u.withdrawn.is_empty() {
            assert_eq!(u.attributes.len(), 1);
        } else {
            assert!(u.attributes.is_empty());
        }
    }
}

#[test]
fn withdrawals_and_announcements_of_one_prefix() {
    // Withdrawals go first, so the announcement is what stays.
    let cx = EncodeContext::default();
    let s = set(base_attrs(0, 0), Some(nh4([192, 0, 2, 1])));
    let routes = vec![
        announce(Family::IPV4_UNICAST, v4("10.0.0.0/24"), &s),
        withdraw(Family::IPV4_UNICAST, v4("10.0.0.0/24")),
    ];
    let (d, _) = assert_round_trip(&routes, &cx);
    assert_eq!(d.updates.len(), 2);
    assert!(!d.updates[0].withdrawn.is_empty());
    assert!(!d.updates[1].nlri.is_empty());
}

/// A million-route table: 100k here to keep debug builds quick; the benchmark runs 1M.
fn table(n: u32, s: &Arc<PathAttrs>) -> Vec<OutRoute> {
    (0..n)
        .map(|i| {
            let a = Ipv4Addr::from((10u32 << 24) | (i << 8));
            announce(
                Family::IPV4_UNICAST,
                Nlri::new(IpNet::V4(Ipv4Net::new(a, 24).unwrap())),
                s,
            )
        })
        .collect()
}

#[test]
fn large_table_fits_4096_byte_messages_and_loses_nothing() {
    let cx = EncodeContext::default();
    let s = set(base_attrs(0, 4), Some(nh4([192, 0, 2, 1])));
    let routes = table(100_000, &s);
    let (d, st) = assert_round_trip(&routes, &cx);
    assert_eq!(st.announced, 100_000);
    // ORIGIN 4, AS_PATH 13, NEXT_HOP 7, MED 7, LOCAL_PREF 7, COMMUNITIES 19 = 57 octets of
    // attributes: (4096 - 23 - 57) / 4 = 1004 prefixes per message, every message full.
    assert_eq!(st.updates, 100_000usize.div_ceil(1004));
    assert!(
        d.updates[..st.updates - 1]
            .iter()
            .all(|u| u.nlri.len() == 1004)
    );
}

#[test]
fn extended_messages_need_fewer_updates() {
    let s = set(base_attrs(0, 4), Some(nh4([192, 0, 2, 1])));
    let routes = table(100_000, &s);
    let (_, small) = assert_round_trip(&routes, &cx_with(MAX_MESSAGE_LEN, &[]));
    let (_, big) = assert_round_trip(&routes, &cx_with(MAX_EXTENDED_MESSAGE_LEN, &[]));
    // (65535 - 23 - 57) / 4 = 16363 per message.
    assert_eq!(big.updates, 100_000usize.div_ceil(16_363));
    assert!(big.updates * 10 < small.updates);
    // VPN-IPv6 too.
    let v = set(srv6_attrs(), Some(nh6("fd00::1", Some("fe80::1"))));
    let routes: Vec<OutRoute> = (0..5_000u32)
        .map(|i| {
            let n = vpn(
                v6(&format!("2001:db8:{:x}:{:x}::/64", i >> 8, i & 0xff)),
                i << 4,
                1,
            );
            announce(Family::IPV6_VPN, n, &v)
        })
        .collect();
    let (_, small) = assert_round_trip(&routes, &cx_with(MAX_MESSAGE_LEN, &[]));
    let (_, big) = assert_round_trip(&routes, &cx_with(MAX_EXTENDED_MESSAGE_LEN, &[]));
    assert!(big.updates * 10 < small.updates, "{big:?} {small:?}");
}

#[test]
fn oversized_attribute_set_is_skipped_and_counted() {
    // 1100 communities: 4404 octets of attributes.
    let big = set(base_attrs(0, 1100), Some(nh4([192, 0, 2, 1])));
    let big6 = set(base_attrs(0, 1100), Some(nh6("fd00::1", None)));
    let ok = set(base_attrs(0, 0), Some(nh4([192, 0, 2, 1])));
    let routes = vec![
        announce(Family::IPV4_UNICAST, v4("10.0.0.0/24"), &big),
        announce(Family::IPV4_UNICAST, v4("10.0.1.0/24"), &ok),
        announce(Family::IPV6_UNICAST, v6("2001:db8::/32"), &big6),
        announce(Family::IPV4_UNICAST, v4("10.0.2.0/24"), &big),
    ];
    let cx = EncodeContext::default();
    let (msgs, st) = pack_with_stats(&routes, &cx);
    assert_eq!(st.skipped_too_large, 3);
    assert_eq!((st.announced, st.updates), (1, 1));
    let d = decode_all(&msgs, &cx);
    assert_eq!(d.announced, expected(&routes[1..2], &cx).0);
    // With extended messages they all go.
    let (_, st) = assert_round_trip(&routes, &cx_with(MAX_EXTENDED_MESSAGE_LEN, &[]));
    assert_eq!((st.skipped_too_large, st.announced), (0, 4));
}

#[test]
fn attribute_set_with_room_for_short_prefixes_only() {
    // ORIGIN 4, AS_PATH 13, NEXT_HOP 7, MED 7, LOCAL_PREF 7, and COMMUNITIES of 4 + 4 * n
    // octets (Extended Length): n = 1007 leaves exactly 3 octets for NLRI, so a /16 (3
    // octets) fits and a /24 (4 octets) never does.
    let cx = EncodeContext::default();
    let fixed = FIXED_LEN + 4 + 13 + 7 + 7 + 7;
    let n = 1007;
    assert_eq!(fixed + 4 + 4 * n + 3, MAX_MESSAGE_LEN);
    let s = set(base_attrs(0, n), Some(nh4([192, 0, 2, 1])));
    let routes = vec![
        announce(Family::IPV4_UNICAST, v4("10.1.0.0/16"), &s), // 3: first message, full
        announce(Family::IPV4_UNICAST, v4("10.0.0.0/24"), &s), // 4: too large
        announce(Family::IPV4_UNICAST, v4("10.0.0.0/8"), &s),  // 2: second message
        announce(Family::IPV4_UNICAST, v4("10.0.0.1/32"), &s), // 5: too large
        announce(Family::IPV4_UNICAST, v4("0.0.0.0/0"), &s),   // 1: second message, full
        announce(Family::IPV4_UNICAST, v4("11.0.0.0/8"), &s),  // 2: third message
    ];
    let (msgs, st) = pack_with_stats(&routes, &cx);
    assert_eq!(st.skipped_too_large, 2);
    assert_eq!((st.updates, st.announced), (3, 4));
    assert_eq!(msgs[0].len(), MAX_MESSAGE_LEN);
    assert_eq!(msgs[1].len(), MAX_MESSAGE_LEN);
    let kept: Vec<OutRoute> = [0, 2, 4, 5].iter().map(|&i| routes[i].clone()).collect();
    assert_eq!(decode_all(&msgs, &cx).announced, expected(&kept, &cx).0);
}

#[test]
fn routes_without_next_hop_are_skipped_and_counted() {
    let cx = EncodeContext::default();
    let none = set(base_attrs(0, 0), None);
    let ok = set(base_attrs(0, 0), Some(nh6("fd00::1", None)));
    let routes = vec![
        announce(Family::IPV4_UNICAST, v4("10.0.0.0/24"), &none),
        announce(Family::IPV6_UNICAST, v6("2001:db8::/32"), &none),
        announce(Family::IPV6_UNICAST, v6("2001:db8:1::/48"), &ok),
        announce(Family::IPV4_VPN, vpn(v4("10.0.0.0/24"), 1, 1), &none),
    ];
    let (msgs, st) = pack_with_stats(&routes, &cx);
    assert_eq!(
        st,
        PackStats {
            updates: 1,
            announced: 1,
            skipped_no_next_hop: 3,
            ..Default::default()
        }
    );
    assert_eq!(
        decode_all(&msgs, &cx).announced,
        expected(&routes[2..3], &cx).0
    );
}

#[test]
fn routes_that_cannot_be_encoded_are_skipped_and_counted() {
    let cx = EncodeContext::default();
    let s4 = set(base_attrs(0, 0), Some(nh4([192, 0, 2, 1])));
    let s6 = set(base_attrs(0, 0), Some(nh6("fd00::1", None)));
    let evpn = Family::new(25, 70);
    let routes = vec![
        // An IPv6 prefix in IPv4 unicast, and the other way round.
        announce(Family::IPV4_UNICAST, v6("2001:db8::/32"), &s4),
        withdraw(Family::IPV6_UNICAST, v4("10.0.0.0/8")),
        // No label and RD in a VPN family; a label and RD in a unicast family.
        announce(Family::IPV4_VPN, v4("10.0.0.0/8"), &s4),
        withdraw(Family::IPV6_UNICAST, vpn(v6("2001:db8::/32"), 1, 1)),
        // A label field wider than 24 bits.
        withdraw(Family::IPV6_VPN, vpn(v6("2001:db8::/32"), 1 << 24, 1)),
        // A family sidra does not encode.
        withdraw(evpn, v4("10.0.0.0/8")),
        announce(evpn, v4("10.0.0.0/8"), &s4),
        // Next hops the family cannot carry: IPv4 for IPv6 unicast and VPN-IPv6.
        announce(Family::IPV6_UNICAST, v6("2001:db8::/32"), &s4),
        announce(Family::IPV6_VPN, vpn(v6("2001:db8::/32"), 1, 1), &s4),
        // Fine.
        announce(Family::IPV6_UNICAST, v6("2001:db8::/32"), &s6),
    ];
    let (msgs, st) = pack_with_stats(&routes, &cx);
    assert_eq!(
        st,
        PackStats {
            updates: 1,
            announced: 1,
            skipped_invalid: 9,
            ..Default::default()
        }
    );
    assert_eq!(
        decode_all(&msgs, &cx).announced,
        expected(&routes[9..], &cx).0
    );
}

#[test]
fn tiny_or_huge_limits_never_panic_nor_overflow() {
    let s = set(srv6_attrs(), Some(nh6("fd00::1", None)));
    let s4 = set(base_attrs(0, 0), Some(nh4([192, 0, 2, 1])));
    let routes = vec![
        announce(Family::IPV6_VPN, vpn(v6("2001:db8::/64"), 0x100, 1), &s),
        announce(Family::IPV4_UNICAST, v4("10.0.0.0/8"), &s4),
        withdraw(Family::IPV4_UNICAST, v4("10.0.0.0/8")),
        withdraw(Family::IPV6_UNICAST, v6("2001:db8::/32")),
    ];
    for max in [
        0,
        1,
        19,
        23,
        24,
        25,
        30,
        31,
        32,
        40,
        60,
        80,
        100,
        200,
        1 << 20,
    ] {
        let cx = cx_with(max, &[]);
        let (msgs, st) = pack_with_stats(&routes, &cx);
        assert!(msgs.iter().all(|m| m.len() <= max.min(65535)), "{max}");
        assert_eq!(
            st.announced + st.withdrawn + st.skipped_too_large,
            routes.len(),
            "{max}"
        );
        if max >= 19 {
            decode_all(&msgs, &cx);
        }
    }
    // A withdrawal of 10.0.0.0/8 needs 23 + 2 octets.
    let (_, st) = pack_with_stats(&routes[2..3], &cx_with(25, &[]));
    assert_eq!(st.withdrawn, 1);
    let (_, st) = pack_with_stats(&routes[2..3], &cx_with(24, &[]));
    assert_eq!(st.skipped_too_large, 1);
}

#[test]
fn two_octet_as_sessions_get_two_octet_as_paths() {
    let cx = EncodeContext {
        four_octet_as: false,
        ..Default::default()
    };
    let s = set(base_attrs(0, 0), Some(nh4([192, 0, 2, 1])));
    let routes = [announce(Family::IPV4_UNICAST, v4("10.0.0.0/8"), &s)];
    let (d, _) = assert_round_trip(&routes, &cx);
    assert_eq!(
        d.updates[0].as_path(),
        Some(&AsPath::sequence(vec![65001, 65002]))
    );
}

#[test]
fn empty_input_gives_no_message() {
    let (msgs, st) = pack_with_stats(&[], &EncodeContext::default());
    assert!(msgs.is_empty());
    assert_eq!(st, PackStats::default());
}

// ---------------------------------------------------------------------------------------------
// Property test

/// The length of the message that carries `r` alone, built with the codec's own encoder; `None`
/// if `r` cannot be sent at all.
fn alone_len(r: &OutRoute, cx: &EncodeContext) -> Option<usize> {
    if !nlri_matches(r.family, &r.nlri) {
        return None;
    }
    let mut u = UpdateMessage::default();
    match &r.attrs {
        None if r.family == Family::IPV4_UNICAST => u.withdrawn.push(r.nlri),
        None => u
            .attributes
            .push(PathAttribute::new(AttrValue::MpUnreach(Box::new(
                MpUnreach {
                    family: r.family,
                    nlri: MpNlri::Prefixes(vec![r.nlri]),
                },
            )))),
        Some(pa) => {
            let ((_, nh), _) = expected_ann(r, cx);
            if r.family == Family::IPV4_UNICAST && nh.global.is_ipv4() {
                u.attributes = pa.attrs.clone();
                if !pa.has(attr_type::NEXT_HOP) {
                    let IpAddr::V4(a) = nh.global else {
                        unreachable!()
                    };
                    u.attributes.push(PathAttribute::new(AttrValue::NextHop(a)));
                }
                u.nlri.push(r.nlri);
            } else {
                let next_hop = next_hop_bytes(r.family, &nh);
                parse_next_hop(r.family, &next_hop).ok()?;
                u.attributes
                    .push(PathAttribute::new(AttrValue::MpReach(Box::new(MpReach {
                        family: r.family,
                        next_hop,
                        reserved: 0,
                        nlri: MpNlri::Prefixes(vec![r.nlri]),
                    }))));
                u.attributes.extend(
                    pa.attrs
                        .iter()
                        .filter(|a| a.type_code() != attr_type::NEXT_HOP)
                        .cloned(),
                );
            }
        }
    }
    Some(encode_to_vec(&Message::Update(u), cx).len())
}

const FAMILIES: [Family; 4] = [
    Family::IPV4_UNICAST,
    Family::IPV6_UNICAST,
    Family::IPV4_VPN,
    Family::IPV6_VPN,
];

fn arb_nlri(family: Family) -> impl Strategy<Value = Nlri> {
    let prefix = if family.afi == Afi::Ipv4 {
        (any::<u32>(), 0u8..=32)
            .prop_map(|(a, l)| IpNet::V4(Ipv4Net::new(Ipv4Addr::from(a), l).unwrap().trunc()))
            .boxed()
    } else {
        (any::<u128>(), 0u8..=128)
            .prop_map(|(a, l)| IpNet::V6(Ipv6Net::new(Ipv6Addr::from(a), l).unwrap().trunc()))
            .boxed()
    };
    let is_vpn = family.safi == Safi::MplsVpn;
    (
        prefix,
        proptest::option::of(any::<u32>()),
        0u32..=0xff_ffff,
        0u32..4,
    )
        .prop_map(move |(prefix, path_id, label, rd)| Nlri {
            path_id,
            prefix,
            vpn: is_vpn.then(|| VpnLabel {
                label,
                rd: RouteDistinguisher::from_asn2(65000, rd),
            }),
        })
}

fn arb_set() -> impl Strategy<Value = Arc<PathAttrs>> {
    let nh = prop_oneof![
        1 => Just(None),
        3 => any::<[u8; 4]>().prop_map(|a| Some(nh4(a))),
        2 => any::<u128>().prop_map(|a| Some(NextHop {
            global: IpAddr::V6(Ipv6Addr::from(a)),
            link_local: None,
        })),
        2 => (any::<u128>(), any::<u128>()).prop_map(|(a, l)| Some(NextHop {
            global: IpAddr::V6(Ipv6Addr::from(a)),
            link_local: Some(Ipv6Addr::from(l)),
        })),
    ];
    (
        nh,
        any::<u32>(),
        prop_oneof![3 => 0usize..8, 1 => 0usize..1200],
        any::<bool>(),
        proptest::option::of(any::<[u8; 4]>()),
    )
        .prop_map(|(nh, med, communities, sid, next_hop_attr)| {
            let mut attrs = if sid {
                srv6_attrs()
            } else {
                base_attrs(med, communities)
            };
            if let Some(a) = next_hop_attr {
                attrs.insert(2, PathAttribute::new(AttrValue::NextHop(Ipv4Addr::from(a))));
            }
            set(attrs, nh)
        })
}

#[derive(Debug, Clone)]
struct Case {
    cx: EncodeContext,
    routes: Vec<OutRoute>,
}

fn arb_case() -> impl Strategy<Value = Case> {
    let cx = (
        any::<[bool; 4]>(),
        prop_oneof![
            Just(MAX_MESSAGE_LEN),
            Just(MAX_EXTENDED_MESSAGE_LEN),
            19usize..600
        ],
        any::<bool>(),
    )
        .prop_map(|(ap, max, four_octet_as)| EncodeContext {
            four_octet_as,
            add_path: FAMILIES
                .iter()
                .zip(ap)
                .filter(|(_, on)| *on)
                .map(|(f, _)| *f)
                .collect::<FamilySet>(),
            max_message_len: max,
        });
    let route = (0usize..4, any::<prop::sample::Index>(), any::<bool>()).prop_flat_map(
        |(f, set, withdrawn)| {
            let family = FAMILIES[f];
            arb_nlri(family).prop_map(move |nlri| (family, nlri, set, withdrawn))
        },
    );
    (
        cx,
        prop::collection::vec(arb_set(), 1..5),
        prop::collection::vec(route, 0..400),
    )
        .prop_map(|(cx, sets, routes)| Case {
            cx,
            routes: routes
                .into_iter()
                .map(|(family, nlri, set, withdrawn)| OutRoute {
                    family,
                    nlri,
                    attrs: (!withdrawn).then(|| set.get(&sets).clone()),
                })
                .collect(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn decoding_gives_back_exactly_the_input(case in arb_case()) {
        let Case { cx, routes } = case;
        let (msgs, st) = pack_with_stats(&routes, &cx);
        let d = decode_all(&msgs, &cx);
        let max = cx.max_message_len.min(MAX_EXTENDED_MESSAGE_LEN);
        let mut sendable = Vec::new();
        let (mut no_nh, mut invalid, mut too_large) = (0, 0, 0);
        for r in &routes {
            let no_next_hop = r.attrs.as_ref().is_some_and(|pa| {
                pa.next_hop.is_none()
                    && !(r.family == Family::IPV4_UNICAST && pa.has(attr_type::NEXT_HOP))
            });
            if no_next_hop {
                no_nh += 1;
                continue;
            }
            match alone_len(r, &cx) {
                None => invalid += 1,
                Some(l) if l > max => too_large += 1,
                Some(_) => sendable.push(r.clone()),
            }
        }
        let (a, w) = expected(&sendable, &cx);
        prop_assert_eq!(&d.announced, &a);
        prop_assert_eq!(&d.withdrawn, &w);
        prop_assert_eq!(st.updates, msgs.len());
        prop_assert_eq!(st.announced, d.announced_count());
        prop_assert_eq!(st.withdrawn, d.withdrawn_count());
        prop_assert_eq!(st.skipped_no_next_hop, no_nh);
        prop_assert_eq!(st.skipped_invalid, invalid);
        prop_assert_eq!(st.skipped_too_large, too_large);
        prop_assert!(msgs.iter().all(|m| m.len() <= cx.max_message_len));
        prop_assert_eq!(&msgs, &pack(&routes, &cx));
    }
}
