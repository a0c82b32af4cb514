use std::net::Ipv6Addr;

use super::*;
use crate::config::load_str;
use crate::dataplane::MAIN_TABLE;
use crate::packet::attribute::{AsPath, NextHop, PathAttribute};
use crate::packet::prefix_sid::{PrefixSid, SidStructureTlv};
use crate::rib::decision::Reason;
use crate::rib::watch::BestPath;
use crate::rib::{Path, PathAttrs};

const CONF: &str = r#"
[global]
asn = 65000
router_id = "10.0.0.1"
[srv6]
source_address = "fd00::1"
bsid_range = "fcff::/120"
[[srv6.locators]]
name = "main"
prefix = "fc00:0:1:1::/64"
[[srv6.services]]
name = "vpn"
mode = "vpn"
rd = "65000:1"
route_targets = ["65000:100"]
[[srv6.services]]
name = "global"
mode = "global"
table = 254
"#;

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn frr_structure(t: u8) -> SidStructureTlv {
    SidStructureTlv {
        block_len: 40,
        node_len: 24,
        function_len: 16,
        argument_len: 0,
        transposition_len: t,
        transposition_offset: if t > 0 { 64 } else { 0 },
    }
}

/// A best route from neighbor fd00::9 with the given attributes.
fn change(
    family: Family,
    prefix: &str,
    rd: Option<&str>,
    label: Option<u32>,
    attrs: Vec<PathAttribute>,
) -> RouteChange {
    let nh = NextHop {
        global: "fd00::2".parse().unwrap(),
        link_local: None,
    };
    RouteChange {
        family,
        key: RouteKey {
            prefix: prefix.parse().unwrap(),
            rd: rd.map(|r| RouteDistinguisher::parse(r).unwrap()),
        },
        best: Some(BestPath {
            path: Path {
                peer: 1,
                path_id: 0,
                label,
                attrs: Arc::new(PathAttrs::new(attrs, Some(nh))),
                stale: false,
            },
            neighbor: Some("fd00::9".parse().unwrap()),
            reason: Reason::OnlyPath,
            multipath: Vec::new(),
        }),
    }
}

fn base() -> Vec<PathAttribute> {
    vec![
        PathAttribute::new(AttrValue::Origin(0)),
        PathAttribute::new(AttrValue::AsPath(AsPath::default())),
    ]
}

fn with_sid(sid: &str, behavior: u16, t: u8, rt: bool) -> Vec<PathAttribute> {
    let mut v = base();
    if rt {
        v.push(PathAttribute::new(AttrValue::ExtendedCommunities(vec![
            ExtendedCommunity::route_target_as2(65000, 100),
        ])));
    }
    v.push(PathAttribute::new(AttrValue::PrefixSid(
        PrefixSid::srv6_l3_service(a(sid), behavior, Some(frr_structure(t))),
    )));
    v
}

fn locator_route(prefix: &str) -> RouteChange {
    change(Family::IPV6_UNICAST, prefix, None, None, base())
}

fn run(t: &RemoteTable, underlay: bool) -> (DataplaneState, Vec<RouteStatus>) {
    let c = load_str(CONF).unwrap();
    let mut bsids = BsidAllocator::new(c.srv6.bsid_range.unwrap());
    let mut st = DataplaneState::default();
    let v = t.desired(&c.srv6, underlay, &mut bsids, &mut st);
    (st, v)
}

fn reason(v: &[RouteStatus], prefix: &str) -> String {
    let s = v.iter().find(|s| s.prefix.to_string() == prefix).unwrap();
    match &s.verdict {
        Verdict::NotInstalled(r) => r.clone(),
        Verdict::Installed { .. } => "installed".into(),
    }
}

#[test]
fn a_transposed_vpn_route_is_steered_to_the_full_sid_when_its_locator_is_reachable() {
    let mut t = RemoteTable::default();
    // FRR: SID fc00:0:2:1:: + function 0x40 in the label.
    t.apply(&change(
        Family::IPV6_VPN,
        "2001:db8:2::/64",
        Some("65000:2"),
        Some((0x40 << 4) << 4 | 1),
        with_sid("fc00:0:2:1::", 18, 16, true),
    ));
    let (st, v) = run(&t, true);
    assert_eq!(
        reason(&v, "2001:db8:2::/64"),
        "the SID fc00:0:2:1:40:: is not reachable (no route covers its locator)"
    );
    assert!(st.steering.is_empty() && st.policies.is_empty());

    t.apply(&locator_route("fc00:0:2:1::/64"));
    let (st, v) = run(&t, true);
    assert_eq!(reason(&v, "2001:db8:2::/64"), "installed");
    let p = st.policies.values().next().unwrap();
    assert_eq!(p.segment_lists[0].segments, vec![a("fc00:0:2:1:40::")]);
    assert_eq!(p.bsid, a("fcff::1"));
    let s = st.steering.values().next().unwrap();
    assert_eq!(
        (s.table, s.bsid, s.prefix.to_string().as_str()),
        (MAIN_TABLE, p.bsid, "2001:db8:2::/64")
    );
    assert_eq!(st.underlay.values().next().unwrap().via, a("fd00::2"));
    assert!(st.tables.contains(&(MAIN_TABLE, true)));
}

#[test]
fn prefixes_behind_the_same_sid_share_one_policy_and_withdraw_frees_it() {
    let mut t = RemoteTable::default();
    t.apply(&locator_route("fc00:0:2::/48"));
    t.apply(&change(
        Family::IPV4_UNICAST,
        "10.2.1.0/24",
        None,
        None,
        with_sid("fc00:0:2:1:1::", 20, 0, false),
    ));
    t.apply(&change(
        Family::IPV4_UNICAST,
        "10.2.2.0/24",
        None,
        None,
        with_sid("fc00:0:2:1:1::", 20, 0, false),
    ));
    let (st, _) = run(&t, false);
    assert_eq!(st.policies.len(), 1);
    assert_eq!(st.steering.len(), 2);
    assert!(st.underlay.is_empty(), "underlay routes are off");
    let mut gone = change(Family::IPV4_UNICAST, "10.2.1.0/24", None, None, vec![]);
    gone.best = None;
    t.apply(&gone);
    let mut gone2 = gone.clone();
    gone2.key.prefix = "10.2.2.0/24".parse().unwrap();
    t.apply(&gone2);
    let (st, v) = run(&t, false);
    assert!(st.policies.is_empty() && st.steering.is_empty());
    assert!(v.is_empty());
}

#[test]
fn unusable_routes_are_kept_with_the_reason() {
    let mut t = RemoteTable::default();
    t.apply(&locator_route("fc00::/16"));
    // IPv4 prefix behind an End.DT6 SID.
    t.apply(&change(
        Family::IPV4_UNICAST,
        "10.3.0.0/24",
        None,
        None,
        with_sid("fc00:0:3:1:1::", 18, 0, false),
    ));
    // Our own SID reflected back.
    t.apply(&change(
        Family::IPV6_UNICAST,
        "2001:db8:1::/64",
        None,
        None,
        with_sid("fc00:0:1:1:2::", 18, 0, false),
    ));
    // A VPN route whose route targets no service imports.
    t.apply(&change(
        Family::IPV6_VPN,
        "2001:db8:4::/64",
        Some("65000:4"),
        Some(1),
        with_sid("fc00:0:4:1:1::", 18, 0, false),
    ));
    // A transposed SID on a unicast route: no label to complete it.
    t.apply(&change(
        Family::IPV6_UNICAST,
        "2001:db8:5::/64",
        None,
        None,
        with_sid("fc00:0:5:1::", 18, 16, false),
    ));
    let (st, v) = run(&t, false);
    assert!(st.steering.is_empty());
    assert!(
        reason(&v, "10.3.0.0/24").contains("End.DT6") && reason(&v, "10.3.0.0/24").contains("IPv4"),
        "{v:?}"
    );
    assert!(reason(&v, "2001:db8:1::/64").contains("our own locators"));
    assert_eq!(
        reason(&v, "2001:db8:4::/64"),
        "no service imports its route targets"
    );
    assert!(
        reason(&v, "2001:db8:5::/64").contains("no label"),
        "{}",
        reason(&v, "2001:db8:5::/64")
    );
    // Plain IPv6 unicast routes (underlay) get no verdict.
    assert!(v.iter().all(|s| s.prefix.to_string() != "fc00::/16"));
}

#[test]
fn the_opaque_behavior_frr_reflectors_write_is_accepted() {
    let mut t = RemoteTable::default();
    t.apply(&locator_route("fc00::/16"));
    t.apply(&change(
        Family::IPV4_VPN,
        "10.6.0.0/24",
        Some("65000:6"),
        Some((0x41 << 4) << 4 | 1),
        with_sid("fc00:0:6:1::", 0xffff, 16, true),
    ));
    let (st, v) = run(&t, false);
    assert_eq!(reason(&v, "10.6.0.0/24"), "installed");
    assert_eq!(
        st.policies.values().next().unwrap().segment_lists[0].segments[0],
        a("fc00:0:6:1:41::")
    );
}

#[test]
fn an_ecmp_set_becomes_one_policy_with_a_segment_list_per_sid() {
    let mut t = RemoteTable::default();
    t.apply(&locator_route("fc00::/16"));
    let mut c = change(
        Family::IPV4_UNICAST,
        "10.7.0.0/24",
        None,
        None,
        with_sid("fc00:0:8:1:1::", 20, 0, false),
    );
    let other = |sid: &str| Path {
        peer: 2,
        path_id: 0,
        label: None,
        attrs: Arc::new(PathAttrs::new(with_sid(sid, 20, 0, false), None)),
        stale: false,
    };
    // Another node behind a second SID, one with the same SID as the best, one whose SID is
    // ours (not used), and one unreachable.
    c.best.as_mut().unwrap().multipath = vec![
        other("fc00:0:7:1:1::"),
        other("fc00:0:8:1:1::"),
        other("fc00:0:1:1:1::"),
    ];
    t.apply(&c);
    let (st, v) = run(&t, false);
    assert_eq!(reason(&v, "10.7.0.0/24"), "installed");
    let p = st.policies.values().next().unwrap();
    let sids: Vec<Ipv6Addr> = p.segment_lists.iter().map(|l| l.segments[0]).collect();
    assert_eq!(sids, vec![a("fc00:0:7:1:1::"), a("fc00:0:8:1:1::")]);
    assert!(p.segment_lists.iter().all(|l| l.weight == 1));
    // The same set in another order is the same policy.
    let mut t2 = RemoteTable::default();
    t2.apply(&locator_route("fc00::/16"));
    let mut c2 = change(
        Family::IPV4_UNICAST,
        "10.7.0.0/24",
        None,
        None,
        with_sid("fc00:0:7:1:1::", 20, 0, false),
    );
    c2.best.as_mut().unwrap().multipath = vec![other("fc00:0:8:1:1::")];
    t2.apply(&c2);
    let (st2, _) = run(&t2, false);
    assert_eq!(
        st2.policies.values().next().unwrap().segment_lists,
        p.segment_lists
    );
}

#[test]
fn a_sid_checked_once_still_gets_each_routes_own_behavior_check() {
    // Two routes behind one End.DT6 SID, checked (own locator, reachability) once per
    // recompute: the IPv6 prefix is installed, the IPv4 one is refused for the behavior; an
    // unreachable SID gives every route behind it the same reason.
    let mut t = RemoteTable::default();
    t.apply(&locator_route("fc00:0:4::/48"));
    for (family, prefix) in [
        (Family::IPV6_UNICAST, "2001:db8:4::/64"),
        (Family::IPV4_UNICAST, "10.4.0.0/24"),
        (Family::IPV6_UNICAST, "2001:db8:4:1::/64"),
    ] {
        t.apply(&change(
            family,
            prefix,
            None,
            None,
            with_sid("fc00:0:4:1:1::", 18, 0, false),
        ));
    }
    for prefix in ["2001:db8:5::/64", "2001:db8:5:1::/64"] {
        t.apply(&change(
            Family::IPV6_UNICAST,
            prefix,
            None,
            None,
            with_sid("fc00:0:5:1:1::", 18, 0, false),
        ));
    }
    let (st, v) = run(&t, false);
    assert_eq!(reason(&v, "2001:db8:4::/64"), "installed");
    assert_eq!(reason(&v, "2001:db8:4:1::/64"), "installed");
    assert!(reason(&v, "10.4.0.0/24").contains("cannot decapsulate an IPv4 prefix"));
    for prefix in ["2001:db8:5::/64", "2001:db8:5:1::/64"] {
        assert_eq!(
            reason(&v, prefix),
            "the SID fc00:0:5:1:1:: is not reachable (no route covers its locator)"
        );
    }
    assert_eq!((st.policies.len(), st.steering.len()), (1, 2));
}
