//! The JSON view of UPDATEs (what `sidractl decode --json` prints): effective SIDs after
//! un-transposition, families, RDs, and treat-as-withdraw shown under "withdrawn".

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bgpd::inspect::update::{update_json, update_text};
use bgpd::packet::{DecodeContext, Message, decode_message};
use serde_json::Value;

fn decoded(name: &str) -> bgpd::packet::UpdateMessage {
    let path = format!(
        "{}/../../shared/vectors/bgp/{name}.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    let hex = std::fs::read_to_string(&path).unwrap();
    let hex = hex.trim();
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    match decode_message(&bytes, &DecodeContext::default()).unwrap() {
        Message::Update(u) => u,
        other => panic!("{other:?}"),
    }
}

fn announced(name: &str) -> Value {
    let j = update_json(&decoded(name));
    assert_eq!(j["type"], "update");
    assert_eq!(j["announced"].as_array().unwrap().len(), 1, "{j}");
    j["announced"][0].clone()
}

#[test]
fn frr_transposed_sids_are_completed_from_the_label() {
    let a = announced("upd_frr84_pe_vpnv4_srv6_ipv4nh");
    assert_eq!(a["family"], "ipv4-vpn");
    assert_eq!(a["prefix"], "198.51.100.2/32");
    assert_eq!(a["rd"], "65000:2");
    assert_eq!(a["next_hop"], "10.0.0.2");
    assert_eq!(a["labels"], serde_json::json!([4096]));
    assert_eq!(a["srv6"]["sid"], "fc00:0:2:1:100::");
    assert_eq!(a["srv6"]["behavior"], 0xffff);
    assert_eq!(a["srv6"]["structure"]["transposition_len"], 16);
    assert_eq!(a["srv6"]["structure"]["transposition_offset"], 64);

    let a = announced("upd_frr84_pe_vpnv6_srv6_global_ll");
    assert_eq!(a["family"], "ipv6-vpn");
    assert_eq!(a["srv6"]["sid"], "fc00:0:2:1:200::");
    assert_eq!(a["next_hop"], "fd00::2");
    assert_eq!(a["next_hop_link_local"], "fe80::d05b:58ff:fe3f:1ea0");
}

#[test]
fn gobgp_transposed_and_plain_sids() {
    let a = announced("upd_gobgp310_vpnv6_srv6_transposed");
    assert_eq!(a["srv6"]["sid"], "fc00:0:4:1:44::");
    assert_eq!(a["srv6"]["behavior"], 18);
    assert_eq!(a["srv6"]["behavior_name"], "End.DT6");
    assert_eq!(a["rd"], "65000:4");
    let a = announced("upd_gobgp310_ipv6uc_srv6_dt6");
    assert_eq!(a["family"], "ipv6-unicast");
    assert_eq!(a["srv6"]["sid"], "fc00:0:4:1:0:44::");
    assert_eq!(a["rd"], Value::Null);
    assert_eq!(a["labels"], serde_json::json!([]));
}

#[test]
fn routes_without_prefix_sid_have_null_srv6() {
    let a = announced("upd_frr84_rr_reflected_gobgp_ipv4uc_v6nh_psid_stripped");
    assert_eq!(a["family"], "ipv4-unicast");
    assert_eq!(a["next_hop"], "fd00::4");
    assert_eq!(a["srv6"], Value::Null);
}

#[test]
fn treat_as_withdraw_lists_the_route_as_withdrawn_with_the_reason() {
    let j = update_json(&decoded("upd_variant_V6_malformed_subtlv_overrun"));
    assert_eq!(j["announced"], serde_json::json!([]));
    assert_eq!(j["withdrawn"][0]["prefix"], "2001:db8:76::/48");
    assert_eq!(j["withdrawn"][0]["family"], "ipv6-unicast");
    assert_eq!(j["errors"][0]["attribute"], "prefix-sid");
    assert_eq!(j["errors"][0]["action"], "treat-as-withdraw");
    assert!(
        j["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("overruns")
    );
    let t = update_text(&decoded("upd_variant_V6_malformed_subtlv_overrun"));
    assert!(t.contains("-ipv6-unicast 2001:db8:76::/48"), "{t}");
    assert!(t.contains("treat-as-withdraw"), "{t}");
}

#[test]
fn unknown_sub_sub_tlv_is_shown() {
    let j = update_json(&decoded("upd_variant_V3_unknown_subsubtlv"));
    let psid = j["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "prefix-sid")
        .unwrap();
    let subs = &psid["value"][0]["sub_tlvs"][0]["sid_information"]["sub_sub_tlvs"];
    assert_eq!(subs[1]["type"], 9);
    assert_eq!(subs[1]["value"], "abcd");
}
