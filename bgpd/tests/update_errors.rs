//! Named negative tests: one per RFC 7606 / RFC 9252 §7 rule the codec implements.
//! Each builds an UPDATE by hand (annotated bytes) and checks the action and reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bgpd::packet::attribute::attr_type;
use bgpd::packet::error::code;
use bgpd::packet::{
    DecodeContext, ErrorAction, Message, MessageError, UpdateMessage, decode_message,
};

/// A whole UPDATE message from withdrawn bytes, attribute bytes and NLRI bytes.
fn update_bytes(withdrawn: &[u8], attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    let len = 19 + 2 + withdrawn.len() + 2 + attrs.len() + nlri.len();
    m.extend_from_slice(&(len as u16).to_be_bytes());
    m.push(2);
    m.extend_from_slice(&(withdrawn.len() as u16).to_be_bytes());
    m.extend_from_slice(withdrawn);
    m.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    m.extend_from_slice(attrs);
    m.extend_from_slice(nlri);
    m
}

fn decode(bytes: &[u8]) -> Result<UpdateMessage, MessageError> {
    match decode_message(bytes, &DecodeContext::default())? {
        Message::Update(u) => Ok(u),
        other => panic!("{other:?}"),
    }
}

/// ORIGIN IGP, AS_PATH [65001], in the 4-octet form.
const BASE: &[u8] = &[
    0x40, 1, 1, 0, // ORIGIN igp
    0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9, // AS_PATH sequence [65001]
];

/// MP_REACH_NLRI for IPv6 unicast, next hop fd00::5, NLRI 2001:db8:76::/48.
const MP_REACH_V6: &[u8] = &[
    0x80, 14, 28, // flags, type, length
    0, 2, 1, 16, // AFI 2, SAFI 1, next hop length 16
    0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, // fd00::5
    0, // reserved
    48, 0x20, 0x01, 0x0d, 0xb8, 0, 0x76, // 2001:db8:76::/48
];

/// A Prefix-SID attribute (flags 0xc0) carrying one SRv6 L3 Service TLV with the given
/// SID Information sub-TLV body (after its own type and length).
fn psid_with_sid_info(sid_info: &[u8]) -> Vec<u8> {
    let mut tlv5 = vec![5];
    tlv5.extend_from_slice(&((1 + 3 + sid_info.len()) as u16).to_be_bytes());
    tlv5.push(0); // reserved
    tlv5.push(1); // SID Information sub-TLV
    tlv5.extend_from_slice(&(sid_info.len() as u16).to_be_bytes());
    tlv5.extend_from_slice(sid_info);
    let mut a = vec![0xc0, 40, tlv5.len() as u8];
    a.extend_from_slice(&tlv5);
    a
}

/// A SID Information body: reserved, SID fc00:0:5:1:0:76::, flags, End.DT6, reserved, then
/// the given sub-sub-TLVs.
fn sid_info(sub_sub: &[u8]) -> Vec<u8> {
    let mut v = vec![0];
    v.extend_from_slice(&[0xfc, 0, 0, 0, 0, 5, 0, 1, 0, 0, 0, 0x76, 0, 0, 0, 0]);
    v.extend_from_slice(&[0, 0, 18, 0]);
    v.extend_from_slice(sub_sub);
    v
}

fn structure(bl: u8, nl: u8, fl: u8, al: u8, tl: u8, to: u8) -> Vec<u8> {
    vec![1, 0, 6, bl, nl, fl, al, tl, to]
}

fn srv6_update(psid: &[u8]) -> Vec<u8> {
    let attrs = [BASE, MP_REACH_V6, psid].concat();
    update_bytes(&[], &attrs, &[])
}

fn assert_withdrawn(u: &UpdateMessage, attr: u8, reason_part: &str) {
    assert_eq!(
        u.action(),
        Some(ErrorAction::TreatAsWithdraw),
        "{:?}",
        u.errors
    );
    assert!(u.announced().is_empty());
    assert_eq!(u.withdrawals().len(), 1);
    let e = u
        .errors
        .iter()
        .find(|e| e.attribute == Some(attr))
        .expect("error for attribute");
    assert!(
        e.reason.contains(reason_part),
        "{:?} does not mention {reason_part:?}",
        e.reason
    );
}

#[test]
fn well_formed_srv6_update_is_clean() {
    let u = decode(&srv6_update(&psid_with_sid_info(&sid_info(&structure(
        32, 16, 16, 0, 0, 0,
    )))))
    .unwrap();
    assert!(u.errors.is_empty(), "{:?}", u.errors);
    assert_eq!(u.announced().len(), 1);
}

// RFC 9252 §3.1: the SID Information sub-TLV is at least 21 octets.
#[test]
fn rfc9252_short_sid_information_is_treat_as_withdraw() {
    let short = &sid_info(&[])[..20];
    let u = decode(&srv6_update(&psid_with_sid_info(short))).unwrap();
    assert_withdrawn(&u, attr_type::PREFIX_SID, "length 20 < 21");
}

// RFC 9252 §3.2.1: the SID Structure sub-sub-TLV has length 6.
#[test]
fn rfc9252_structure_length_other_than_6_is_treat_as_withdraw() {
    let bad = [1, 0, 5, 32, 16, 16, 0, 0];
    let u = decode(&srv6_update(&psid_with_sid_info(&sid_info(&bad)))).unwrap();
    assert_withdrawn(&u, attr_type::PREFIX_SID, "length 5 != 6");
}

// RFC 9252 §4: transposition length <= 20 and offset + length <= 128.
#[test]
fn rfc9252_transposition_out_of_bounds_is_treat_as_withdraw() {
    let u = decode(&srv6_update(&psid_with_sid_info(&sid_info(&structure(
        40, 24, 24, 0, 24, 64,
    )))))
    .unwrap();
    assert_withdrawn(&u, attr_type::PREFIX_SID, "transposition length 24 > 20");
    let u = decode(&srv6_update(&psid_with_sid_info(&sid_info(&structure(
        40, 24, 16, 0, 16, 120,
    )))))
    .unwrap();
    assert_withdrawn(&u, attr_type::PREFIX_SID, "offset 120 + length 16 > 128");
}

// RFC 9252 §7: a sub-TLV (or sub-sub-TLV) that overruns its container is malformed.
#[test]
fn rfc9252_sub_tlv_overrun_is_treat_as_withdraw() {
    let mut a = psid_with_sid_info(&sid_info(&structure(32, 16, 16, 0, 0, 0)));
    // Grow the sub-sub-TLV's length from 6 to 7: it now overruns the SID Information.
    let at = a.len() - 7;
    a[at] = 7;
    let u = decode(&srv6_update(&a)).unwrap();
    assert_withdrawn(&u, attr_type::PREFIX_SID, "sub-sub-TLV type 1 overruns");
    // And an L3 Service TLV longer than the attribute.
    let mut b = psid_with_sid_info(&sid_info(&[]));
    b[4] += 1;
    let u = decode(&srv6_update(&b)).unwrap();
    assert_withdrawn(&u, attr_type::PREFIX_SID, "Prefix-SID TLV type 5 overruns");
}

// RFC 9252 §7: only the first SID Information sub-TLV is used; extras are not fatal.
#[test]
fn rfc9252_second_sid_information_is_ignored() {
    let first = sid_info(&structure(32, 16, 16, 0, 0, 0));
    let mut tlv5 = vec![5];
    let body_len = 1 + 2 * (3 + first.len());
    tlv5.extend_from_slice(&(body_len as u16).to_be_bytes());
    tlv5.push(0);
    for sid_last in [0x76u8, 0x99] {
        let mut s = first.clone();
        s[12] = sid_last;
        tlv5.push(1);
        tlv5.extend_from_slice(&(s.len() as u16).to_be_bytes());
        tlv5.extend_from_slice(&s);
    }
    let mut a = vec![0xc0, 40, tlv5.len() as u8];
    a.extend_from_slice(&tlv5);
    let u = decode(&srv6_update(&a)).unwrap();
    assert!(u.errors.is_empty(), "{:?}", u.errors);
    let sid = u.prefix_sid().unwrap().l3_service_sid().unwrap().sid;
    assert_eq!(
        sid,
        "fc00:0:5:1:0:76::".parse::<std::net::Ipv6Addr>().unwrap()
    );
}

// RFC 8669 §6: a malformed non-SRv6 TLV (Label-Index of the wrong length) discards the
// attribute but keeps the route.
#[test]
fn rfc8669_bad_label_index_is_attribute_discard() {
    let a = [0xc0, 40, 9, 1, 0, 6, 0, 0, 0, 0, 0, 0];
    let u = decode(&srv6_update(&a)).unwrap();
    assert_eq!(u.action(), Some(ErrorAction::AttributeDiscard));
    assert_eq!(u.announced().len(), 1);
    assert!(u.prefix_sid().is_none());
}

// RFC 7606 §3(a): Optional/Transitive flag conflicts make the attribute malformed.
#[test]
fn rfc7606_attribute_flag_conflict_is_treat_as_withdraw() {
    let mut a = psid_with_sid_info(&sid_info(&[]));
    a[0] = 0x80; // optional non-transitive: Prefix-SID must be optional transitive
    let u = decode(&srv6_update(&a)).unwrap();
    assert_withdrawn(&u, attr_type::PREFIX_SID, "flags 0x80 conflict");
    // A well-known attribute sent as optional.
    let attrs = [&[0xc0, 1, 1, 0][..], &BASE[4..], MP_REACH_V6].concat();
    let u = decode(&update_bytes(&[], &attrs, &[])).unwrap();
    assert_withdrawn(&u, attr_type::ORIGIN, "flags 0xc0 conflict");
}

// RFC 7606 §3(a) still lets the MP attributes be read, so their NLRI can be withdrawn.
#[test]
fn rfc7606_mp_reach_with_bad_flags_is_parsed_and_withdrawn() {
    let mut mp = MP_REACH_V6.to_vec();
    mp[0] = 0xc0;
    let attrs = [BASE, &mp].concat();
    let u = decode(&update_bytes(&[], &attrs, &[])).unwrap();
    assert_withdrawn(&u, attr_type::MP_REACH_NLRI, "conflict");
}

// RFC 7606 §3(d): missing well-known mandatory attributes.
#[test]
fn rfc7606_missing_mandatory_attribute_is_treat_as_withdraw() {
    let u = decode(&update_bytes(&[], MP_REACH_V6, &[])).unwrap();
    assert_withdrawn(&u, attr_type::ORIGIN, "missing");
    assert!(
        u.errors
            .iter()
            .any(|e| e.attribute == Some(attr_type::AS_PATH))
    );
    // IPv4 NLRI without NEXT_HOP.
    let u = decode(&update_bytes(&[], BASE, &[24, 10, 0, 0])).unwrap();
    assert_withdrawn(
        &u,
        attr_type::NEXT_HOP,
        "missing well-known attribute next-hop",
    );
    // A pure withdrawal needs none of them.
    let u = decode(&update_bytes(&[24, 10, 0, 0], &[], &[])).unwrap();
    assert!(u.errors.is_empty());
    assert_eq!(u.withdrawals().len(), 1);
}

// RFC 7606 §3(g): repeated attributes: later copies discarded; MP_REACH twice resets.
#[test]
fn rfc7606_duplicate_attributes() {
    let attrs = [BASE, &[0x40, 1, 1, 2][..], MP_REACH_V6].concat();
    let u = decode(&update_bytes(&[], &attrs, &[])).unwrap();
    assert_eq!(u.action(), Some(ErrorAction::AttributeDiscard));
    assert_eq!(u.announced().len(), 1);
    assert!(matches!(
        u.attr(attr_type::ORIGIN).unwrap().value,
        bgpd::packet::attribute::AttrValue::Origin(0)
    ));
    let attrs = [BASE, MP_REACH_V6, MP_REACH_V6].concat();
    let e = decode(&update_bytes(&[], &attrs, &[])).unwrap_err();
    assert_eq!(
        (e.code, e.subcode),
        (code::UPDATE, code::MALFORMED_ATTRIBUTE_LIST)
    );
}

// RFC 7606 §4: an attribute whose length runs past the attribute field.
#[test]
fn rfc7606_attribute_length_overrun_is_treat_as_withdraw() {
    let attrs = [BASE, MP_REACH_V6, &[0xc0, 8, 8, 0, 0, 0, 1][..]].concat();
    let u = decode(&update_bytes(&[], &attrs, &[])).unwrap();
    assert_withdrawn(&u, attr_type::COMMUNITIES, "overruns the path attributes");
}

// RFC 7606 §7.x: per-attribute length rules.
#[test]
fn rfc7606_attribute_length_rules() {
    let cases: &[(&[u8], u8, ErrorAction, &str)] = &[
        (
            &[0x40, 1, 1, 7],
            attr_type::ORIGIN,
            ErrorAction::TreatAsWithdraw,
            "undefined value 7",
        ),
        (
            &[0x80, 4, 2, 0, 0],
            attr_type::MULTI_EXIT_DISC,
            ErrorAction::TreatAsWithdraw,
            "length 2 != 4",
        ),
        (
            &[0x40, 5, 3, 0, 0, 0],
            attr_type::LOCAL_PREF,
            ErrorAction::TreatAsWithdraw,
            "length 3 != 4",
        ),
        (
            &[0x40, 6, 1, 0],
            attr_type::ATOMIC_AGGREGATE,
            ErrorAction::AttributeDiscard,
            "length 1 != 0",
        ),
        (
            &[0xc0, 7, 6, 0, 1, 1, 2, 3, 4],
            attr_type::AGGREGATOR,
            ErrorAction::AttributeDiscard,
            "length 6 != 8",
        ),
        (
            &[0xc0, 8, 3, 0, 0, 1],
            attr_type::COMMUNITIES,
            ErrorAction::TreatAsWithdraw,
            "multiple of 4",
        ),
        (
            &[0x80, 9, 3, 1, 1, 1],
            attr_type::ORIGINATOR_ID,
            ErrorAction::TreatAsWithdraw,
            "length 3 != 4",
        ),
        (
            &[0x80, 10, 0],
            attr_type::CLUSTER_LIST,
            ErrorAction::TreatAsWithdraw,
            "multiple of 4",
        ),
        (
            &[0xc0, 16, 4, 0, 2, 0, 1],
            attr_type::EXTENDED_COMMUNITIES,
            ErrorAction::TreatAsWithdraw,
            "multiple of 8",
        ),
        (
            &[0xc0, 17, 3, 2, 1, 0],
            attr_type::AS4_PATH,
            ErrorAction::AttributeDiscard,
            "needs 4 bytes",
        ),
        (
            &[0xc0, 32, 4, 0, 0, 0, 1],
            attr_type::LARGE_COMMUNITY,
            ErrorAction::TreatAsWithdraw,
            "multiple of 12",
        ),
        (
            &[0x40, 2, 3, 2, 1, 0],
            attr_type::AS_PATH,
            ErrorAction::TreatAsWithdraw,
            "needs 4 bytes",
        ),
    ];
    for (attr, code, action, reason) in cases {
        // Replace the base attribute of the same type if there is one.
        let base: Vec<u8> = match *code {
            attr_type::ORIGIN => BASE[4..].to_vec(),
            attr_type::AS_PATH => BASE[..4].to_vec(),
            _ => BASE.to_vec(),
        };
        let attrs = [&base[..], MP_REACH_V6, attr].concat();
        let u = decode(&update_bytes(&[], &attrs, &[])).unwrap();
        let e = u
            .errors
            .iter()
            .find(|e| e.attribute == Some(*code))
            .unwrap_or_else(|| {
                panic!("no error for attribute {code}: {:?}", u.errors);
            });
        assert_eq!(e.action, *action, "attribute {code}");
        assert!(
            e.reason.contains(reason),
            "attribute {code}: {:?}",
            e.reason
        );
        assert_eq!(
            u.announced().is_empty(),
            *action >= ErrorAction::TreatAsWithdraw
        );
    }
}

// RFC 7606 §7.11: an MP_REACH_NLRI next hop of the wrong length disables the family.
#[test]
fn rfc7606_mp_reach_bad_next_hop_is_afi_safi_disable() {
    let mut mp = MP_REACH_V6.to_vec();
    mp[6] = 15;
    let attrs = [BASE, &mp].concat();
    let u = decode(&update_bytes(&[], &attrs, &[])).unwrap();
    assert_eq!(u.action(), Some(ErrorAction::AfiSafiDisable));
    let e = &u.errors[0];
    assert_eq!(e.family, Some(bgpd::packet::Family::IPV6_UNICAST));
}

// RFC 4271 §6.3: an unrecognized well-known attribute resets the session (3/2) with the
// attribute as data; an unknown optional one is kept.
#[test]
fn unknown_attributes() {
    let attrs = [BASE, MP_REACH_V6, &[0x40, 99, 1, 7][..]].concat();
    let e = decode(&update_bytes(&[], &attrs, &[])).unwrap_err();
    assert_eq!(
        (e.code, e.subcode),
        (code::UPDATE, code::UNRECOGNIZED_WELL_KNOWN)
    );
    assert_eq!(e.data, vec![0x40, 99, 1, 7]);
    let attrs = [BASE, MP_REACH_V6, &[0xe0, 99, 1, 7][..]].concat();
    let u = decode(&update_bytes(&[], &attrs, &[])).unwrap();
    assert!(u.errors.is_empty());
    assert_eq!(u.attr(99).unwrap().flags, 0xe0);
}

// RFC 4271 §6.3 and RFC 7606 §5.3: inconsistent lengths and unparsable NLRI reset.
#[test]
fn truncated_and_inconsistent_updates_reset_the_session() {
    let good = update_bytes(&[], BASE, &[]);
    // Withdrawn length larger than the message.
    let mut m = good.clone();
    m[19] = 0x10;
    let e = decode(&m).unwrap_err();
    assert_eq!(
        (e.code, e.subcode),
        (code::UPDATE, code::MALFORMED_ATTRIBUTE_LIST)
    );
    // Total path attribute length larger than the message.
    let mut m = good.clone();
    m[22] += 1;
    let e = decode(&m).unwrap_err();
    assert_eq!(
        (e.code, e.subcode),
        (code::UPDATE, code::MALFORMED_ATTRIBUTE_LIST)
    );
    // Body of one byte.
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&[0, 20, 2, 0]);
    assert_eq!(
        decode(&m).unwrap_err().subcode,
        code::MALFORMED_ATTRIBUTE_LIST
    );
    // NLRI prefix length 33.
    let attrs = [BASE, &[0x40, 3, 4, 10, 0, 0, 1][..]].concat();
    let e = decode(&update_bytes(&[], &attrs, &[33, 1, 2, 3, 4, 5])).unwrap_err();
    assert_eq!(
        (e.code, e.subcode),
        (code::UPDATE, code::INVALID_NETWORK_FIELD)
    );
    // Header length different from the bytes given.
    let mut m = good.clone();
    m.push(0);
    assert_eq!(decode(&m).unwrap_err().code, code::MESSAGE_HEADER);
}

// RFC 4724 §2: End-of-RIB markers.
#[test]
fn end_of_rib_markers() {
    let u = decode(&update_bytes(&[], &[], &[])).unwrap();
    assert_eq!(u.end_of_rib(), Some(bgpd::packet::Family::IPV4_UNICAST));
    let u = decode(&update_bytes(&[], &[0x80, 15, 3, 0, 2, 128], &[])).unwrap();
    assert_eq!(u.end_of_rib(), Some(bgpd::packet::Family::IPV6_VPN));
    for f in [
        bgpd::packet::Family::IPV4_UNICAST,
        bgpd::packet::Family::IPV6_VPN,
    ] {
        let m = Message::Update(UpdateMessage::end_of_rib_marker(f));
        let b = bgpd::packet::encode_to_vec(&m, &Default::default());
        assert_eq!(decode(&b).unwrap().end_of_rib(), Some(f));
    }
    assert_eq!(decode(&srv6_update(&[])).unwrap().end_of_rib(), None);
}

// RFC 6793: with a 2-octet-AS session the AS_PATH and AGGREGATOR are 2-octet.
#[test]
fn two_octet_as_context() {
    let cx = DecodeContext {
        four_octet_as: false,
        ..Default::default()
    };
    let attrs = [
        &[0x40, 1, 1, 0][..],
        &[0x40, 2, 4, 2, 1, 0x5b, 0xa0][..], // AS_PATH [23456]
        &[0xc0, 17, 6, 2, 1, 0xfa, 0x56, 0xea, 0x01][..], // AS4_PATH [4200000001]
        &[0xc0, 7, 6, 0x5b, 0xa0, 1, 2, 3, 4][..],
        MP_REACH_V6,
    ]
    .concat();
    let m = update_bytes(&[], &attrs, &[]);
    let Message::Update(u) = decode_message(&m, &cx).unwrap() else {
        panic!()
    };
    assert!(u.errors.is_empty(), "{:?}", u.errors);
    assert_eq!(u.as_path().unwrap().to_string(), "23456");
    let re = bgpd::packet::encode_to_vec(
        &Message::Update(u),
        &bgpd::packet::EncodeContext::mirror(&cx),
    );
    assert_eq!(re, m);
}
