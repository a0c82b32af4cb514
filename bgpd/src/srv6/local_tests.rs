use super::*;
use crate::config::load_str;
use crate::packet::srv6::service_sid;

const CONF: &str = r#"
[global]
asn = 65000
router_id = "10.0.0.1"
[srv6]
source_address = "fd00::1"
[[srv6.locators]]
name = "main"
prefix = "fc00:0:1:1::/64"
[[srv6.services]]
name = "pods"
mode = "vpn"
rd = "65000:1"
route_targets = ["65000:100"]
pods = ["10.1.1.0/24", "2001:db8:1:1::/64"]
[[srv6.services]]
name = "global"
mode = "global"
pods = ["10.9.1.0/24"]
behavior = "dt46"
"#;

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

#[test]
fn sids_are_allocated_in_configuration_order() {
    let c = load_str(CONF).unwrap();
    let sids = allocate(&c.srv6).unwrap();
    assert_eq!(sids[0].dt4.unwrap().sid, a("fc00:0:1:1:1::"));
    assert_eq!(sids[0].dt6.unwrap().sid, a("fc00:0:1:1:2::"));
    assert_eq!(sids[1].dt46.unwrap().sid, a("fc00:0:1:1:3::"));
    assert_eq!(sids[1].dt46.unwrap().behavior, LocalBehavior::EndDt46);
    assert_eq!(allocate(&c.srv6).unwrap(), sids, "same config, same SIDs");
}

#[test]
fn vpn_routes_are_transposed_like_frr_and_decode_back_to_the_full_sid() {
    let c = load_str(CONF).unwrap();
    let sids = allocate(&c.srv6).unwrap();
    let loc = &c.srv6.locators[0].locator;
    let (f, n, attrs) = pod_route(
        &c.srv6.services[0],
        loc,
        &sids[0],
        "2001:db8:1:1::/64".parse().unwrap(),
    )
    .unwrap();
    assert_eq!(f, Family::IPV6_VPN);
    let vpn = n.vpn.unwrap();
    assert_eq!(vpn.rd.to_string(), "65000:1");
    // Function 2 in the top 16 bits of the 20-bit label, S bit set.
    assert_eq!(vpn.label, (2 << 4) << 4 | 1);
    let psid = attrs.prefix_sid().unwrap();
    let info = psid.l3_service_sid().unwrap();
    assert_eq!(info.sid, a("fc00:0:1:1::"), "function bits shifted out");
    assert_eq!(info.behavior, 18);
    let st = info.structure().unwrap();
    assert_eq!(
        (st.block_len, st.node_len, st.function_len, st.argument_len),
        (40, 24, 16, 0)
    );
    assert_eq!((st.transposition_len, st.transposition_offset), (16, 64));
    let full = service_sid(psid, &n).unwrap().unwrap();
    assert_eq!(full.sid, sids[0].dt6.unwrap().sid);
    assert!(attrs.attrs.iter().any(|x| matches!(&x.value, AttrValue::ExtendedCommunities(c) if c.len() == 1 && c[0].is_route_target())));
}

#[test]
fn global_routes_carry_the_whole_sid_and_no_label() {
    let c = load_str(CONF).unwrap();
    let sids = allocate(&c.srv6).unwrap();
    let loc = &c.srv6.locators[0].locator;
    let (f, n, attrs) = pod_route(
        &c.srv6.services[1],
        loc,
        &sids[1],
        "10.9.1.0/24".parse().unwrap(),
    )
    .unwrap();
    assert_eq!(f, Family::IPV4_UNICAST);
    assert!(n.vpn.is_none());
    let full = service_sid(attrs.prefix_sid().unwrap(), &n)
        .unwrap()
        .unwrap();
    assert_eq!(full.sid, a("fc00:0:1:1:3::"));
    assert_eq!(full.behavior, 20);
    assert_eq!(full.structure.unwrap().transposition_len, 0);
    assert!(attrs.next_hop.is_none(), "set per peer on export");
}

#[test]
fn the_locator_route_is_plain_ipv6_unicast() {
    let c = load_str(CONF).unwrap();
    let (f, n, attrs) = locator_route(&c.srv6.locators[0].locator);
    assert_eq!(f, Family::IPV6_UNICAST);
    assert_eq!(n.prefix.to_string(), "fc00:0:1:1::/64");
    assert!(attrs.prefix_sid().is_none());
    assert!(is_own_sid(&c.srv6, a("fc00:0:1:1:99::")));
    assert!(!is_own_sid(&c.srv6, a("fc00:0:1:2::")));
}

#[test]
fn config_problems_name_their_key() {
    let bad = CONF
        .replace(
            "prefix = \"fc00:0:1:1::/64\"",
            "prefix = \"fc00:0:1:1::1/64\"",
        )
        .replace("rd = \"65000:1\"", "rd = \"x\"")
        .replace("source_address = \"fd00::1\"", "");
    let e = load_str(&bad).unwrap_err().to_string();
    assert!(
        e.contains("srv6.locators[0].prefix: fc00:0:1:1::1/64 has host bits set"),
        "{e}"
    );
    assert!(
        e.contains("srv6.services[0].rd: \"x\" is not a route distinguisher"),
        "{e}"
    );
    assert!(e.contains("srv6.source_address: missing"), "{e}");
    let overlap = CONF.replace("pods = [\"10.9.1.0/24\"]", "pods = [\"10.1.0.0/16\"]");
    let e = load_str(&overlap).unwrap_err().to_string();
    assert!(
        e.contains("srv6.services[1].pods: 10.1.0.0/16 overlaps 10.1.1.0/24 of service \"pods\""),
        "{e}"
    );
    let e = load_str(&CONF.replace("mode = \"global\"", "mode = \"globl\""))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("srv6.services[1].mode: \"globl\" is not a mode"),
        "{e}"
    );
    let e = load_str(&format!(
        "{CONF}\n[dataplane]\nbackend = \"vp\"\nkernel_protocol = 2\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("dataplane.backend: \"vp\" is not a backend"),
        "{e}"
    );
    assert!(
        e.contains("dataplane.kernel_protocol: 2 is not a free route protocol number"),
        "{e}"
    );
}

#[test]
fn pmtu_relay_is_on_by_default_and_can_be_turned_off() {
    let c = load_str(&format!("{CONF}\n[dataplane]\nbackend = \"kernel\"\n")).unwrap();
    assert!(c.dataplane.pmtu_relay);
    let c = load_str(&format!(
        "{CONF}\n[dataplane]\nbackend = \"kernel\"\npmtu_relay = false\n"
    ))
    .unwrap();
    assert!(!c.dataplane.pmtu_relay);
    let e = load_str(&format!("{CONF}\n[dataplane]\npmtu_relay = \"off\"\n"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("dataplane.pmtu_relay: "), "{e}");
    assert!(e.contains("expected true or false"), "{e}");
}
