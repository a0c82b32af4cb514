//! UPDATE vectors captured from FRR 8.4, GoBGP 3.10 and ExaBGP 4.2 (../shared/vectors/bgp/):
//! each decodes to what its INDEX.md line says, and the well-formed ones re-encode byte for byte.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgpd::packet::attribute::attr_type;
use bgpd::packet::prefix_sid::{PrefixSidTlv, SidStructureTlv};
use bgpd::packet::{
    DecodeContext, EncodeContext, ErrorAction, Family, Message, UpdateMessage, decode_message,
    encode_to_vec,
};

fn vector(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../shared/vectors/bgp/{name}.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    let hex = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let hex = hex.trim();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

fn update(name: &str) -> (Vec<u8>, UpdateMessage) {
    let bytes = vector(name);
    match decode_message(&bytes, &DecodeContext::default()) {
        Ok(Message::Update(u)) => (bytes, u),
        other => panic!("{name}: {other:?}"),
    }
}

/// Decode, check it is clean, and check the byte-for-byte round trip.
fn clean_update(name: &str) -> UpdateMessage {
    let (bytes, u) = update(name);
    assert!(u.errors.is_empty(), "{name}: {:?}", u.errors);
    let again = encode_to_vec(
        &Message::Update(u.clone()),
        &EncodeContext::mirror(&DecodeContext::default()),
    );
    assert_eq!(again, bytes, "{name}: re-encoding differs");
    u
}

struct Expect {
    family: Family,
    prefix: &'static str,
    next_hop: &'static str,
    link_local: Option<&'static str>,
    rd: Option<&'static str>,
    label: Option<u32>,
    sid: Option<&'static str>,
    behavior: Option<u16>,
    structure: Option<[u8; 6]>,
    flags: &'static [(u8, u8)],
}

fn check(name: &str, e: &Expect) -> UpdateMessage {
    let u = clean_update(name);
    let ann = u.announced();
    assert_eq!(ann.len(), 1, "{name}");
    let (fam, n) = ann[0];
    assert_eq!(fam, e.family, "{name}");
    assert_eq!(n.prefix.to_string(), e.prefix, "{name}");
    assert_eq!(n.vpn.map(|v| v.rd.to_string()).as_deref(), e.rd, "{name}");
    assert_eq!(n.vpn.map(|v| v.label), e.label, "{name}");
    let nh = u.mp_reach().unwrap().next_hop().unwrap();
    assert_eq!(nh.global, e.next_hop.parse::<IpAddr>().unwrap(), "{name}");
    assert_eq!(
        nh.link_local,
        e.link_local.map(|l| l.parse::<Ipv6Addr>().unwrap()),
        "{name}"
    );
    let info = u.prefix_sid().and_then(|p| p.l3_service_sid());
    assert_eq!(
        info.map(|i| i.sid),
        e.sid.map(|s| s.parse().unwrap()),
        "{name}"
    );
    assert_eq!(info.map(|i| i.behavior), e.behavior, "{name}");
    let st = info.and_then(|i| i.structure()).map(|s| {
        [
            s.block_len,
            s.node_len,
            s.function_len,
            s.argument_len,
            s.transposition_len,
            s.transposition_offset,
        ]
    });
    assert_eq!(st, e.structure, "{name}");
    for (code, flags) in e.flags {
        assert_eq!(
            u.attr(*code).map(|a| a.flags),
            Some(*flags),
            "{name}: flags of {code}"
        );
    }
    u
}

const FRR_STRUCT: Option<[u8; 6]> = Some([40, 24, 16, 0, 16, 64]);
const GOBGP_STRUCT: Option<[u8; 6]> = Some([32, 16, 16, 0, 0, 0]);

#[test]
fn frr_pe_vpnv4_ipv4_next_hop() {
    let u = check(
        "upd_frr84_pe_vpnv4_srv6_ipv4nh",
        &Expect {
            family: Family::IPV4_VPN,
            prefix: "198.51.100.2/32",
            next_hop: "10.0.0.2",
            link_local: None,
            rd: Some("65000:2"),
            label: Some(0x010003),
            sid: Some("fc00:0:2:1::"),
            behavior: Some(0xffff),
            structure: FRR_STRUCT,
            flags: &[
                (attr_type::MP_REACH_NLRI, 0x90),
                (attr_type::PREFIX_SID, 0xc0),
            ],
        },
    );
    assert_eq!(
        u.attr(attr_type::ORIGIN).map(|a| &a.value),
        Some(&bgpd::packet::attribute::AttrValue::Origin(2))
    );
    assert!(matches!(
        u.attr(attr_type::MULTI_EXIT_DISC).map(|a| &a.value),
        Some(bgpd::packet::attribute::AttrValue::Med(0))
    ));
    assert!(matches!(
        u.attr(attr_type::LOCAL_PREF).map(|a| &a.value),
        Some(bgpd::packet::attribute::AttrValue::LocalPref(100))
    ));
    match u.attr(attr_type::EXTENDED_COMMUNITIES).map(|a| &a.value) {
        Some(bgpd::packet::attribute::AttrValue::ExtendedCommunities(c)) => {
            assert_eq!(c.len(), 1);
            assert!(c[0].is_route_target());
            assert_eq!(c[0].to_string(), "rt:65000:100");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn frr_pe_vpnv6_global_and_link_local() {
    check(
        "upd_frr84_pe_vpnv6_srv6_global_ll",
        &Expect {
            family: Family::IPV6_VPN,
            prefix: "2001:db8:2::/48",
            next_hop: "fd00::2",
            link_local: Some("fe80::d05b:58ff:fe3f:1ea0"),
            rd: Some("65000:2"),
            label: Some(0x020003),
            sid: Some("fc00:0:2:1::"),
            behavior: Some(0xffff),
            structure: FRR_STRUCT,
            flags: &[],
        },
    );
}

#[test]
fn frr_rr_reflected_vpn_routes_carry_originator_and_cluster_list() {
    for (name, fam, prefix, nh, label) in [
        (
            "upd_frr84_rr_reflected_vpnv4_srv6",
            Family::IPV4_VPN,
            "198.51.100.2/32",
            "10.0.0.2",
            0x010003,
        ),
        (
            "upd_frr84_rr_reflected_vpnv6_srv6",
            Family::IPV6_VPN,
            "2001:db8:2::/48",
            "fd00::2",
            0x020003,
        ),
    ] {
        let u = check(
            name,
            &Expect {
                family: fam,
                prefix,
                next_hop: nh,
                link_local: None,
                rd: Some("65000:2"),
                label: Some(label),
                sid: Some("fc00:0:2:1::"),
                behavior: Some(0xffff),
                structure: FRR_STRUCT,
                flags: &[
                    (attr_type::ORIGINATOR_ID, 0x80),
                    (attr_type::CLUSTER_LIST, 0x80),
                ],
            },
        );
        use bgpd::packet::attribute::AttrValue;
        assert_eq!(
            u.attr(attr_type::ORIGINATOR_ID).map(|a| &a.value),
            Some(&AttrValue::OriginatorId(Ipv4Addr::new(2, 2, 2, 2)))
        );
        assert_eq!(
            u.attr(attr_type::CLUSTER_LIST).map(|a| &a.value),
            Some(&AttrValue::ClusterList(vec![Ipv4Addr::new(1, 1, 1, 1)]))
        );
    }
}

#[test]
fn frr_pe_enhe_next_hops() {
    check(
        "upd_frr84_pe_vpnv4_srv6_enhe",
        &Expect {
            family: Family::IPV4_VPN,
            prefix: "198.51.100.2/32",
            next_hop: "fd00::2",
            link_local: None,
            rd: Some("65000:2"),
            label: Some(0x010003),
            sid: Some("fc00:0:2:1::"),
            behavior: Some(0xffff),
            structure: FRR_STRUCT,
            flags: &[],
        },
    );
    check(
        "upd_frr84_pe_vpnv6_srv6_enhe",
        &Expect {
            family: Family::IPV6_VPN,
            prefix: "2001:db8:2::/48",
            next_hop: "fd00::2",
            link_local: Some("fe80::d05b:58ff:fe3f:1ea0"),
            rd: Some("65000:2"),
            label: Some(0x020003),
            sid: Some("fc00:0:2:1::"),
            behavior: Some(0xffff),
            structure: FRR_STRUCT,
            flags: &[],
        },
    );
}

#[test]
fn gobgp_global_ipv6_unicast_end_dt6() {
    check(
        "upd_gobgp310_ipv6uc_srv6_dt6",
        &Expect {
            family: Family::IPV6_UNICAST,
            prefix: "2001:db8:44::/48",
            next_hop: "fd00::4",
            link_local: None,
            rd: None,
            label: None,
            sid: Some("fc00:0:4:1:0:44::"),
            behavior: Some(18),
            structure: GOBGP_STRUCT,
            flags: &[(attr_type::MP_REACH_NLRI, 0x80), (attr_type::AS_PATH, 0x40)],
        },
    );
}

#[test]
fn gobgp_vpnv6_transposed() {
    check(
        "upd_gobgp310_vpnv6_srv6_transposed",
        &Expect {
            family: Family::IPV6_VPN,
            prefix: "2001:db8:46::/48",
            next_hop: "fd00::4",
            link_local: None,
            rd: Some("65000:4"),
            label: Some(0x004401),
            sid: Some("fc00:0:4:1::"),
            behavior: Some(18),
            structure: Some([40, 24, 16, 0, 16, 64]),
            flags: &[],
        },
    );
}

#[test]
fn rr_reflected_unicast_with_and_without_prefix_sid() {
    let u = clean_update("upd_frr84_rr_reflected_gobgp_ipv6uc_psid_stripped");
    assert!(u.prefix_sid().is_none());
    assert_eq!(u.announced()[0].1.prefix.to_string(), "2001:db8:44::/48");
    let u = clean_update("upd_frr84_rr_reflected_gobgp_ipv4uc_v6nh_psid_stripped");
    assert_eq!(u.announced()[0].0, Family::IPV4_UNICAST);
    assert_eq!(u.announced()[0].1.prefix.to_string(), "198.51.100.44/32");
    assert_eq!(
        u.mp_reach().unwrap().next_hop().unwrap().global,
        "fd00::4".parse::<IpAddr>().unwrap()
    );
    check(
        "upd_gobgp310_rr_reflected_ipv6uc_psid",
        &Expect {
            family: Family::IPV6_UNICAST,
            prefix: "2001:db8:44::/48",
            next_hop: "fd00::4",
            link_local: None,
            rd: None,
            label: None,
            sid: Some("fc00:0:4:1:0:44::"),
            behavior: Some(18),
            structure: GOBGP_STRUCT,
            flags: &[
                (attr_type::ORIGINATOR_ID, 0x80),
                (attr_type::CLUSTER_LIST, 0x80),
            ],
        },
    );
}

#[test]
fn exabgp_generic_attribute_and_variants() {
    for (name, prefix, sid, structure) in [
        (
            "upd_exabgp4221_generic_attr_ipv6uc_rfc9252",
            "2001:db8:66::/48",
            "fc00:0:6:1:0:66::",
            GOBGP_STRUCT,
        ),
        (
            "upd_variant_V1_rfc9252_full",
            "2001:db8:71::/48",
            "fc00:0:5:1:0:71::",
            GOBGP_STRUCT,
        ),
        (
            "upd_variant_V2_no_structure",
            "2001:db8:72::/48",
            "fc00:0:5:1:0:72::",
            None,
        ),
    ] {
        check(
            name,
            &Expect {
                family: Family::IPV6_UNICAST,
                prefix,
                next_hop: if name.contains("exabgp") {
                    "fd00::6"
                } else {
                    "fd00::5"
                },
                link_local: None,
                rd: None,
                label: None,
                sid: Some(sid),
                behavior: Some(18),
                structure,
                flags: &[(attr_type::PREFIX_SID, 0xc0)],
            },
        );
    }
}

#[test]
fn unknown_sub_sub_tlv_is_kept_and_reencoded() {
    let u = check(
        "upd_variant_V3_unknown_subsubtlv",
        &Expect {
            family: Family::IPV6_UNICAST,
            prefix: "2001:db8:73::/48",
            next_hop: "fd00::5",
            link_local: None,
            rd: None,
            label: None,
            sid: Some("fc00:0:5:1:0:73::"),
            behavior: Some(18),
            structure: GOBGP_STRUCT,
            flags: &[],
        },
    );
    let info = u.prefix_sid().unwrap().l3_service_sid().unwrap();
    assert!(info.sub_sub_tlvs.iter().any(|s| matches!(
        s,
        bgpd::packet::prefix_sid::SidSubSubTlv::Unknown { kind: 9, value } if value == &[0xab, 0xcd]
    )));
}

#[test]
fn l2_service_tlv_is_kept_and_not_used_as_l3_sid() {
    let u = clean_update("upd_variant_V9_l2service_tlv6");
    let p = u.prefix_sid().unwrap();
    assert!(p.l3_service_sid().is_none());
    match &p.tlvs[0] {
        PrefixSidTlv::Srv6L2Service(s) => {
            let i = s.first_sid_information().unwrap();
            assert_eq!(i.sid, "fc00:0:5:1:0:79::".parse::<Ipv6Addr>().unwrap());
            assert_eq!(i.behavior, 0x15);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn overrunning_sub_tlv_is_treat_as_withdraw() {
    let (_, u) = update("upd_variant_V6_malformed_subtlv_overrun");
    assert_eq!(u.action(), Some(ErrorAction::TreatAsWithdraw));
    assert!(u.announced().is_empty());
    let w = u.withdrawals();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].1.prefix.to_string(), "2001:db8:76::/48");
    let e = &u.errors[0];
    assert_eq!(e.attribute, Some(attr_type::PREFIX_SID));
    assert!(e.reason.contains("sub-TLV"), "{}", e.reason);
    assert!(u.prefix_sid().is_none());
}

#[test]
fn sid_structure_values_match_the_rfc_fields() {
    let u = clean_update("upd_gobgp310_vpnv6_srv6_transposed");
    let st = *u
        .prefix_sid()
        .unwrap()
        .l3_service_sid()
        .unwrap()
        .structure()
        .unwrap();
    assert_eq!(
        st,
        SidStructureTlv {
            block_len: 40,
            node_len: 24,
            function_len: 16,
            argument_len: 0,
            transposition_len: 16,
            transposition_offset: 64
        }
    );
}
