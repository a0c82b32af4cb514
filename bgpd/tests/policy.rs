#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `bgpd::policy`: prefix lists, every match and set, statement actions, the built-ins and the
//! RFC 8212 default.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use bgpd::packet::attribute::as_path::{AS_CONFED_SEQUENCE, AS_SEQUENCE, AS_SET};
use bgpd::packet::attribute::community::NO_EXPORT;
use bgpd::packet::attribute::{
    AsPath, AsSegment, AttrValue, ExtendedCommunity, LargeCommunity, NextHop, PathAttribute,
    attr_type,
};
use bgpd::packet::{Family, FamilySet};
use bgpd::policy::community::{
    is_private_as, parse_community, parse_ext_community, parse_large_community,
};
use bgpd::policy::{
    ACCEPT_ALL, AsPathLength, Direction, Effective, EntryError, ListAction, Match, NextHopMark,
    NextHopSet, Policies, Policy, PrefixList, PrefixListEntry, REJECT_ALL, RouteView, Set,
    Statement, StatementAction, Verdict, effective,
};
use bgpd::rib::{PathAttrs, PeerInfo};
use ipnet::IpNet;

fn peer(remote_as: u32) -> PeerInfo {
    PeerInfo {
        id: 1,
        address: "fd00::2".parse().unwrap(),
        local_as: 65001,
        remote_as,
        bgp_id: Ipv4Addr::new(10, 0, 0, 2),
        rr_client: false,
        families: FamilySet::all_supported(),
        add_path_tx: FamilySet::new(),
        extended_nexthop: FamilySet::new(),
        local_address: Some("fd00::1".parse().unwrap()),
        llgr: false,
    }
}

fn nh(s: &str) -> NextHop {
    NextHop {
        global: s.parse().unwrap(),
        link_local: None,
    }
}

fn family_of(prefix: &str) -> Family {
    if prefix.contains(':') {
        Family::IPV6_UNICAST
    } else {
        Family::IPV4_UNICAST
    }
}

fn view<'a>(peer: &'a PeerInfo, prefix: &str) -> RouteView<'a> {
    RouteView {
        family: family_of(prefix),
        prefix: net(prefix),
        peer,
        direction: Direction::Import,
        self_next_hop: Some(nh("fd00::1")),
    }
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn comm(s: &str) -> u32 {
    parse_community(s).unwrap()
}

fn ext(s: &str) -> ExtendedCommunity {
    parse_ext_community(s).unwrap()
}

fn large(s: &str) -> LargeCommunity {
    parse_large_community(s).unwrap()
}

/// ORIGIN, AS_PATH 65002 3356 174, NEXT_HOP via `next_hop`, plus `extra`.
fn attrs(extra: Vec<AttrValue>) -> PathAttrs {
    let mut v = vec![
        PathAttribute::new(AttrValue::Origin(0)),
        PathAttribute::new(AttrValue::AsPath(AsPath::sequence(vec![65002, 3356, 174]))),
    ];
    v.extend(extra.into_iter().map(PathAttribute::new));
    v.sort_by_key(PathAttribute::type_code);
    PathAttrs::new(v, Some(nh("2001:db8::7")))
}

fn communities(a: &PathAttrs) -> Vec<String> {
    a.communities()
        .iter()
        .map(|c| bgpd::packet::attribute::community::community_to_string(*c))
        .collect()
}

fn codes(a: &PathAttrs) -> Vec<u8> {
    a.attrs.iter().map(PathAttribute::type_code).collect()
}

fn entry(prefix: &str, ge: Option<u8>, le: Option<u8>, action: ListAction) -> PrefixListEntry {
    PrefixListEntry::new(net(prefix), ge, le, action).unwrap()
}

fn list(entries: Vec<PrefixListEntry>) -> Arc<PrefixList> {
    Arc::new(PrefixList::new("test", entries))
}

fn one(matches: Match, set: Set, action: StatementAction) -> Policy {
    Policy::new(
        "p",
        vec![Statement {
            matches,
            set,
            action,
        }],
    )
}

/// A policy that accepts with `set` every route `matches` selects (and rejects the others).
fn setting(set: Set) -> Policy {
    one(Match::default(), set, StatementAction::Accept)
}

fn matching(m: Match) -> Policy {
    one(m, Set::default(), StatementAction::Accept)
}

fn accepts(p: &Policy, prefix: &str, a: &PathAttrs) -> bool {
    p.apply(&view(&peer(65002), prefix), a).is_accept()
}

/// The attributes an accepting verdict leaves: the changed copy or the input.
fn accepted(p: &Policy, prefix: &str, a: &PathAttrs) -> (PathAttrs, NextHopMark, bool) {
    match p.apply(&view(&peer(65002), prefix), a) {
        Verdict::Accept {
            attrs,
            next_hop,
            med_set,
        } => (attrs.unwrap_or_else(|| a.clone()), next_hop, med_set),
        Verdict::Reject => panic!("rejected"),
    }
}

// ---- prefix lists ----

#[test]
fn prefix_list_exact_without_ge_le() {
    let l = list(vec![entry("10.0.0.0/8", None, None, ListAction::Permit)]);
    assert!(l.permits(&net("10.0.0.0/8")));
    assert!(!l.permits(&net("10.1.0.0/16")));
    assert!(!l.permits(&net("10.0.0.0/7")));
    assert!(!l.permits(&net("11.0.0.0/8")));
    assert_eq!(l.lookup(&net("11.0.0.0/8")), None);
}

#[test]
fn prefix_list_ge_le_edges_ipv4() {
    let l = list(vec![entry(
        "10.0.0.0/8",
        Some(16),
        Some(24),
        ListAction::Permit,
    )]);
    assert!(!l.permits(&net("10.0.0.0/8")));
    assert!(!l.permits(&net("10.1.0.0/15")));
    assert!(l.permits(&net("10.1.0.0/16")));
    assert!(l.permits(&net("10.255.255.0/24")));
    assert!(!l.permits(&net("10.1.1.0/25")));
    assert!(!l.permits(&net("11.1.0.0/16")));
    // ge alone: up to /32; le alone: from the prefix length; ge equal to the length.
    let ge = list(vec![entry(
        "10.0.0.0/8",
        Some(30),
        None,
        ListAction::Permit,
    )]);
    assert!(!ge.permits(&net("10.0.0.0/29")));
    assert!(ge.permits(&net("10.0.0.4/30")));
    assert!(ge.permits(&net("10.0.0.1/32")));
    let le = list(vec![entry("10.0.0.0/8", None, Some(9), ListAction::Permit)]);
    assert!(le.permits(&net("10.0.0.0/8")));
    assert!(le.permits(&net("10.128.0.0/9")));
    assert!(!le.permits(&net("10.0.0.0/10")));
    let same = list(vec![entry(
        "10.0.0.0/8",
        Some(8),
        Some(8),
        ListAction::Permit,
    )]);
    assert!(same.permits(&net("10.0.0.0/8")));
    assert!(!same.permits(&net("10.0.0.0/9")));
    // The default route entry.
    let any = list(vec![entry("0.0.0.0/0", None, Some(32), ListAction::Permit)]);
    assert!(any.permits(&net("0.0.0.0/0")));
    assert!(any.permits(&net("192.0.2.1/32")));
    assert!(!any.permits(&net("2001:db8::/32")));
    let default_only = list(vec![entry("0.0.0.0/0", None, None, ListAction::Permit)]);
    assert!(default_only.permits(&net("0.0.0.0/0")));
    assert!(!default_only.permits(&net("10.0.0.0/8")));
}

#[test]
fn prefix_list_ge_le_edges_ipv6() {
    let l = list(vec![entry(
        "2001:db8::/32",
        Some(48),
        Some(64),
        ListAction::Permit,
    )]);
    assert!(!l.permits(&net("2001:db8::/47")));
    assert!(l.permits(&net("2001:db8:1::/48")));
    assert!(l.permits(&net("2001:db8:1:2::/64")));
    assert!(!l.permits(&net("2001:db8:1:2::/65")));
    assert!(!l.permits(&net("2001:db9::/48")));
    assert!(!l.permits(&net("10.0.0.0/16")));
    let host = list(vec![entry(
        "2001:db8::/32",
        Some(128),
        None,
        ListAction::Permit,
    )]);
    assert!(host.permits(&net("2001:db8::1/128")));
    assert!(!host.permits(&net("2001:db8::/127")));
    let le = list(vec![entry("::/0", None, Some(128), ListAction::Permit)]);
    assert!(le.permits(&net("::/0")));
    assert!(le.permits(&net("fd00::1/128")));
}

#[test]
fn prefix_list_deny_and_first_match() {
    // The deny first: the pods' /16 is excluded, the rest of 10/8 permitted.
    let l = list(vec![
        entry("10.99.0.0/16", None, Some(32), ListAction::Deny),
        entry("10.0.0.0/8", None, Some(32), ListAction::Permit),
    ]);
    assert_eq!(l.lookup(&net("10.99.1.0/24")), Some(ListAction::Deny));
    assert!(!l.permits(&net("10.99.0.0/16")));
    assert!(l.permits(&net("10.1.0.0/24")));
    // The same entries the other way round: the permit matches first.
    let l = list(vec![
        entry("10.0.0.0/8", None, Some(32), ListAction::Permit),
        entry("10.99.0.0/16", None, Some(32), ListAction::Deny),
    ]);
    assert!(l.permits(&net("10.99.1.0/24")));
    // First match is by position, not by length: a shorter prefix later loses.
    let l = list(vec![
        entry("10.1.0.0/16", Some(24), Some(24), ListAction::Deny),
        entry("10.0.0.0/8", Some(24), Some(24), ListAction::Permit),
        entry("10.1.2.0/24", None, None, ListAction::Permit),
    ]);
    assert!(!l.permits(&net("10.1.2.0/24")));
    assert!(l.permits(&net("10.2.2.0/24")));
    // Same prefix twice: the first whose range holds the length decides.
    let l = list(vec![
        entry("10.0.0.0/8", Some(20), Some(24), ListAction::Deny),
        entry("10.0.0.0/8", Some(16), Some(32), ListAction::Permit),
    ]);
    assert!(!l.permits(&net("10.1.1.0/24")));
    assert!(l.permits(&net("10.1.0.0/16")));
    assert!(l.permits(&net("10.1.1.0/25")));
    // An empty list matches nothing.
    assert_eq!(list(vec![]).lookup(&net("10.0.0.0/8")), None);
}

#[test]
fn prefix_list_lookup_agrees_with_a_linear_scan() {
    // A deterministic pseudo-random list of many entries and prefixes.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut entries = Vec::new();
    for _ in 0..300 {
        let r = next();
        let len = (r % 25) as u8;
        let addr = Ipv4Addr::from(((r >> 8) as u32) & 0x0aff_ffff);
        let p = IpNet::new(IpAddr::V4(addr), len).unwrap().trunc();
        let ge = (r >> 40) % 3 == 0;
        let ge = ge.then(|| len + ((r >> 44) % 4) as u8);
        let le = (r >> 48) % 2 == 0;
        let le = le.then(|| ge.unwrap_or(len) + ((r >> 52) % 6) as u8);
        let action = if (r >> 60) % 3 == 0 {
            ListAction::Deny
        } else {
            ListAction::Permit
        };
        if let Ok(e) = PrefixListEntry::new(p, ge, le.map(|l| l.min(32)), action) {
            entries.push(e);
        }
    }
    assert!(entries.len() > 200, "{}", entries.len());
    let l = PrefixList::new("big", entries.clone());
    let (mut permits, mut denies) = (0, 0);
    for _ in 0..5000 {
        let r = next();
        let len = (r % 33) as u8;
        let addr = Ipv4Addr::from(((r >> 8) as u32) & 0x0aff_ffff);
        let p = IpNet::new(IpAddr::V4(addr), len).unwrap().trunc();
        let linear = entries.iter().find(|e| e.matches(&p)).map(|e| e.action());
        assert_eq!(l.lookup(&p), linear, "{p}");
        match linear {
            Some(ListAction::Permit) => permits += 1,
            Some(ListAction::Deny) => denies += 1,
            None => {}
        }
    }
    assert!(permits > 100 && denies > 20, "{permits} {denies}");
}

#[test]
fn prefix_list_entry_checks() {
    let e = |p: &str, ge, le| PrefixListEntry::new(net(p), ge, le, ListAction::Permit);
    assert_eq!(
        e("10.0.0.0/8", Some(7), None),
        Err(EntryError::GeBelowLength { ge: 7, len: 8 })
    );
    assert_eq!(
        e("10.0.0.0/8", Some(33), None),
        Err(EntryError::GeTooLong { ge: 33, max: 32 })
    );
    assert_eq!(
        e("10.0.0.0/8", None, Some(33)),
        Err(EntryError::LeTooLong { le: 33, max: 32 })
    );
    assert_eq!(
        e("2001:db8::/32", None, Some(129)),
        Err(EntryError::LeTooLong { le: 129, max: 128 })
    );
    assert!(e("2001:db8::/32", None, Some(128)).is_ok());
    assert_eq!(
        e("10.0.0.0/8", Some(24), Some(16)),
        Err(EntryError::LeBelowGe { le: 16, ge: 24 })
    );
    assert_eq!(
        e("10.0.0.0/16", None, Some(8)),
        Err(EntryError::LeBelowLength { le: 8, len: 16 })
    );
    let host = e("10.0.0.1/8", None, None).unwrap_err();
    assert_eq!(host.key(), "prefix");
    assert_eq!(
        host.to_string(),
        "10.0.0.1/8 has host bits set (did you mean 10.0.0.0/8?)"
    );
    assert_eq!(
        entry("10.0.0.0/8", Some(16), Some(24), ListAction::Deny).to_string(),
        "deny 10.0.0.0/8 ge 16 le 24"
    );
}

// ---- match ----

#[test]
fn match_prefix_list() {
    let p = matching(Match {
        prefix_list: Some(list(vec![
            entry("10.99.0.0/16", None, Some(32), ListAction::Deny),
            entry("10.0.0.0/8", Some(16), Some(24), ListAction::Permit),
        ])),
        ..Match::default()
    });
    let a = attrs(vec![]);
    assert!(accepts(&p, "10.1.0.0/24", &a));
    assert!(!accepts(&p, "10.99.0.0/24", &a));
    assert!(!accepts(&p, "10.1.0.0/25", &a));
    assert!(!accepts(&p, "2001:db8::/48", &a));
    assert!(p.per_prefix());
}

#[test]
fn match_families() {
    let p = matching(Match {
        families: vec![Family::IPV4_UNICAST, Family::IPV6_VPN],
        ..Match::default()
    });
    assert!(!p.per_prefix());
    let a = attrs(vec![]);
    let pe = peer(65002);
    let mut v = view(&pe, "10.0.0.0/8");
    assert!(p.apply(&v, &a).is_accept());
    v.family = Family::IPV4_VPN;
    assert!(!p.apply(&v, &a).is_accept());
    v.family = Family::IPV6_VPN;
    v.prefix = net("2001:db8::/48");
    assert!(p.apply(&v, &a).is_accept());
    assert!(!accepts(&p, "2001:db8::/48", &a));
}

#[test]
fn match_community_any_of() {
    let p = matching(Match {
        community: vec![comm("65000:1"), comm("no-export")],
        ..Match::default()
    });
    let with = |c: Vec<u32>| attrs(vec![AttrValue::Communities(c)]);
    assert!(accepts(&p, "10.0.0.0/8", &with(vec![comm("65000:1")])));
    assert!(accepts(&p, "10.0.0.0/8", &with(vec![7, NO_EXPORT])));
    assert!(!accepts(&p, "10.0.0.0/8", &with(vec![comm("65000:2")])));
    assert!(!accepts(&p, "10.0.0.0/8", &attrs(vec![])));
}

#[test]
fn match_ext_community_rt_and_color() {
    let p = matching(Match {
        ext_community: vec![ext("rt:65000:100"), ext("color:7")],
        ..Match::default()
    });
    let with = |c: Vec<ExtendedCommunity>| attrs(vec![AttrValue::ExtendedCommunities(c)]);
    assert!(accepts(&p, "10.0.0.0/8", &with(vec![ext("rt:65000:100")])));
    assert!(!accepts(&p, "10.0.0.0/8", &with(vec![ext("rt:65000:101")])));
    assert!(!accepts(
        &p,
        "10.0.0.0/8",
        &with(vec![ext("soo:65000:100")])
    ));
    // A color community matches whatever its flags (octets 2-3).
    let mut flagged = ExtendedCommunity::color(7);
    flagged.0[2] = 0x40;
    assert!(accepts(&p, "10.0.0.0/8", &with(vec![flagged])));
    assert!(!accepts(&p, "10.0.0.0/8", &with(vec![ext("color:8")])));
    assert!(!accepts(&p, "10.0.0.0/8", &attrs(vec![])));
    // The IPv4-address and 4-octet-AS forms.
    let p = matching(Match {
        ext_community: vec![ext("rt:192.0.2.1:5"), ext("rt:4200000001:6")],
        ..Match::default()
    });
    assert!(accepts(
        &p,
        "10.0.0.0/8",
        &with(vec![ext("rt:192.0.2.1:5")])
    ));
    assert!(accepts(
        &p,
        "10.0.0.0/8",
        &with(vec![ext("rt:4200000001:6")])
    ));
    assert!(!accepts(
        &p,
        "10.0.0.0/8",
        &with(vec![ext("rt:192.0.2.1:6")])
    ));
}

#[test]
fn match_large_community() {
    let p = matching(Match {
        large_community: vec![large("65000:1:1"), large("4200000000:0:9")],
        ..Match::default()
    });
    let with = |c: Vec<LargeCommunity>| attrs(vec![AttrValue::LargeCommunities(c)]);
    assert!(accepts(
        &p,
        "10.0.0.0/8",
        &with(vec![large("4200000000:0:9")])
    ));
    assert!(!accepts(&p, "10.0.0.0/8", &with(vec![large("65000:1:2")])));
    assert!(!accepts(&p, "10.0.0.0/8", &attrs(vec![])));
}

#[test]
fn match_as_path_length() {
    let a = attrs(vec![]); // 3 ASes
    let len = |min, max| {
        matching(Match {
            as_path_length: Some(AsPathLength { min, max }),
            ..Match::default()
        })
    };
    assert!(accepts(&len(3, 3), "10.0.0.0/8", &a));
    assert!(accepts(&len(0, 10), "10.0.0.0/8", &a));
    assert!(!accepts(&len(0, 2), "10.0.0.0/8", &a));
    assert!(!accepts(&len(4, u32::MAX), "10.0.0.0/8", &a));
    // An AS_SET counts one, a confederation segment none.
    let path = AsPath {
        segments: vec![
            AsSegment {
                kind: AS_CONFED_SEQUENCE,
                asns: vec![64512, 64513],
            },
            AsSegment {
                kind: AS_SEQUENCE,
                asns: vec![1],
            },
            AsSegment {
                kind: AS_SET,
                asns: vec![2, 3, 4],
            },
        ],
    };
    let a = attrs(vec![]).with(
        attr_type::AS_PATH,
        Some(PathAttribute::new(AttrValue::AsPath(path))),
    );
    assert!(accepts(&len(2, 2), "10.0.0.0/8", &a));
}

#[test]
fn match_needs_every_condition() {
    let p = matching(Match {
        families: vec![Family::IPV4_UNICAST],
        community: vec![comm("65000:1")],
        as_path_length: Some(AsPathLength { min: 0, max: 3 }),
        ..Match::default()
    });
    let a = attrs(vec![AttrValue::Communities(vec![comm("65000:1")])]);
    assert!(accepts(&p, "10.0.0.0/8", &a));
    assert!(!accepts(&p, "2001:db8::/32", &a));
    assert!(!accepts(&p, "10.0.0.0/8", &attrs(vec![])));
}

// ---- set ----

#[test]
fn set_local_pref_and_med() {
    let p = setting(Set {
        local_pref: Some(200),
        med: Some(10),
        ..Set::default()
    });
    let (a, mark, med_set) = accepted(&p, "10.0.0.0/8", &attrs(vec![]));
    assert_eq!(a.decision.local_pref, Some(200));
    assert_eq!(a.decision.med, Some(10));
    assert!(med_set);
    assert_eq!(mark, NextHopMark::Default);
    // Inserted in type-code order; replaced in place.
    assert_eq!(codes(&a), vec![1, 2, 4, 5]);
    let old = attrs(vec![AttrValue::LocalPref(50), AttrValue::Med(99)]);
    let (a, _, _) = accepted(&p, "10.0.0.0/8", &old);
    assert_eq!(
        (a.decision.local_pref, a.decision.med),
        (Some(200), Some(10))
    );
    assert_eq!(codes(&a), vec![1, 2, 4, 5]);
    // Already so: nothing to copy.
    let same = attrs(vec![AttrValue::LocalPref(200), AttrValue::Med(10)]);
    let v = p.apply(&view(&peer(65002), "10.0.0.0/8"), &same);
    assert_eq!(
        v,
        Verdict::Accept {
            attrs: None,
            next_hop: NextHopMark::Default,
            med_set: true
        }
    );
}

#[test]
fn set_communities_keeps_the_others_in_order() {
    let p = setting(Set {
        community_remove: vec![comm("65000:2"), comm("65000:9")],
        community_add: vec![comm("65000:4"), comm("65000:1"), comm("no-export")],
        ..Set::default()
    });
    let a = attrs(vec![AttrValue::Communities(vec![
        comm("65000:3"),
        comm("65000:1"),
        comm("65000:2"),
    ])]);
    let (out, _, _) = accepted(&p, "10.0.0.0/8", &a);
    assert_eq!(
        communities(&out),
        ["65000:3", "65000:1", "65000:4", "no-export"]
    );
    // Added to a route without communities, at its type-code place.
    let (out, _, _) = accepted(&p, "10.0.0.0/8", &attrs(vec![AttrValue::Med(1)]));
    assert_eq!(communities(&out), ["65000:4", "65000:1", "no-export"]);
    assert_eq!(codes(&out), vec![1, 2, 4, 8]);
    // Removing the last one removes the attribute.
    let p = setting(Set {
        community_remove: vec![comm("65000:1")],
        ..Set::default()
    });
    let (out, _, _) = accepted(
        &p,
        "10.0.0.0/8",
        &attrs(vec![AttrValue::Communities(vec![comm("65000:1")])]),
    );
    assert!(!out.has(attr_type::COMMUNITIES));
    // Nothing to remove: unchanged, no copy.
    let v = p.apply(&view(&peer(65002), "10.0.0.0/8"), &attrs(vec![]));
    assert_eq!(v, Verdict::ACCEPT);
}

#[test]
fn set_communities_flag_llgr_stale_for_the_decision() {
    let p = setting(Set {
        community_add: vec![comm("llgr-stale")],
        ..Set::default()
    });
    let (out, _, _) = accepted(&p, "10.0.0.0/8", &attrs(vec![]));
    assert!(out.decision.llgr_stale);
}

#[test]
fn set_ext_communities() {
    let p = setting(Set {
        ext_community_add: vec![ext("rt:65000:200"), ext("color:5")],
        ext_community_remove: vec![ext("color:7"), ext("rt:65000:100")],
        ..Set::default()
    });
    let mut flagged = ExtendedCommunity::color(7);
    flagged.0[3] = 1;
    let a = attrs(vec![AttrValue::ExtendedCommunities(vec![
        ext("soo:65000:1"),
        flagged,
        ext("rt:65000:100"),
        ext("color:5"),
    ])]);
    let (out, _, _) = accepted(&p, "10.0.0.0/8", &a);
    let got: Vec<ExtendedCommunity> = match &out.get(attr_type::EXTENDED_COMMUNITIES).unwrap().value
    {
        AttrValue::ExtendedCommunities(c) => c.clone(),
        v => panic!("{v:?}"),
    };
    assert_eq!(
        got,
        vec![ext("soo:65000:1"), ext("color:5"), ext("rt:65000:200")]
    );
}

#[test]
fn set_large_communities() {
    let p = setting(Set {
        large_community_add: vec![large("65000:2:2")],
        large_community_remove: vec![large("65000:1:1")],
        ..Set::default()
    });
    let a = attrs(vec![AttrValue::LargeCommunities(vec![
        large("1:2:3"),
        large("65000:1:1"),
    ])]);
    let (out, _, _) = accepted(&p, "10.0.0.0/8", &a);
    assert_eq!(
        out.get(attr_type::LARGE_COMMUNITY).map(|a| &a.value),
        Some(&AttrValue::LargeCommunities(vec![
            large("1:2:3"),
            large("65000:2:2")
        ]))
    );
}

#[test]
fn set_next_hop_self() {
    let p = setting(Set {
        next_hop: Some(NextHopSet::SelfAddr),
        ..Set::default()
    });
    let (out, mark, _) = accepted(&p, "2001:db8::/32", &attrs(vec![]));
    assert_eq!(out.next_hop, Some(nh("fd00::1")));
    assert_eq!(mark, NextHopMark::Set);
    assert!(mark.keep());
    // Without an address to use, the route is rejected.
    let pe = peer(65002);
    let v = RouteView {
        self_next_hop: None,
        ..view(&pe, "2001:db8::/32")
    };
    assert_eq!(p.apply(&v, &attrs(vec![])), Verdict::Reject);
}

#[test]
fn set_next_hop_unchanged() {
    let p = setting(Set {
        next_hop: Some(NextHopSet::Unchanged),
        ..Set::default()
    });
    let pe = peer(65002);
    let v = RouteView {
        direction: Direction::Export,
        ..view(&pe, "2001:db8::/32")
    };
    assert_eq!(
        p.apply(&v, &attrs(vec![])),
        Verdict::Accept {
            attrs: None,
            next_hop: NextHopMark::Unchanged,
            med_set: false
        }
    );
    assert!(NextHopMark::Unchanged.keep());
    assert!(!NextHopMark::Default.keep());
}

#[test]
fn set_next_hop_address() {
    let p = setting(Set {
        next_hop: Some(NextHopSet::Address("2001:db8::99".parse().unwrap())),
        ..Set::default()
    });
    let (out, mark, _) = accepted(&p, "2001:db8::/32", &attrs(vec![]));
    assert_eq!(out.next_hop, Some(nh("2001:db8::99")));
    assert_eq!(mark, NextHopMark::Set);
    // An IPv6 next hop for IPv4 NLRI is RFC 8950's business (the export rules check it).
    assert!(accepts(&p, "10.0.0.0/8", &attrs(vec![])));
    // An IPv4 next hop cannot carry an IPv6 route.
    let p = setting(Set {
        next_hop: Some(NextHopSet::Address("192.0.2.1".parse().unwrap())),
        ..Set::default()
    });
    assert!(!accepts(&p, "2001:db8::/32", &attrs(vec![])));
    let (out, _, _) = accepted(&p, "10.0.0.0/8", &attrs(vec![]));
    assert_eq!(out.next_hop, Some(nh("192.0.2.1")));
}

fn path_of(a: &PathAttrs) -> String {
    a.as_path().unwrap().to_string()
}

#[test]
fn strip_private_as_in_sequences_sets_and_four_octet_ranges() {
    let p = setting(Set {
        strip_private_as: true,
        ..Set::default()
    });
    let path = AsPath {
        segments: vec![
            AsSegment {
                kind: AS_CONFED_SEQUENCE,
                asns: vec![64512],
            },
            AsSegment {
                kind: AS_SEQUENCE,
                asns: vec![
                    64511,
                    64512,
                    3356,
                    65534,
                    65535,
                    4_199_999_999,
                    4_200_000_000,
                    4_294_967_294,
                    4_294_967_295,
                ],
            },
            AsSegment {
                kind: AS_SET,
                asns: vec![64600, 174],
            },
            AsSegment {
                kind: AS_SET,
                asns: vec![65000, 4_200_000_001],
            },
        ],
    };
    let a = attrs(vec![]).with(
        attr_type::AS_PATH,
        Some(PathAttribute::new(AttrValue::AsPath(path.clone()))),
    );
    let a = a.with(
        attr_type::AS4_PATH,
        Some(PathAttribute::new(AttrValue::As4Path(path))),
    );
    let (out, _, _) = accepted(&p, "10.0.0.0/8", &a);
    let want = "(64512) 64511 3356 65535 4199999999 4294967295 {174}";
    assert_eq!(path_of(&out), want);
    assert_eq!(out.decision.as_path_len, 6);
    match &out.get(attr_type::AS4_PATH).unwrap().value {
        AttrValue::As4Path(p4) => assert_eq!(p4.to_string(), want),
        v => panic!("{v:?}"),
    }
    // Only private ASes: an empty AS_PATH.
    let a = attrs(vec![]).with(
        attr_type::AS_PATH,
        Some(PathAttribute::new(AttrValue::AsPath(AsPath::sequence(
            vec![65001, 64512],
        )))),
    );
    let (out, _, _) = accepted(&p, "10.0.0.0/8", &a);
    assert_eq!(path_of(&out), "");
    assert_eq!(out.decision.as_path_len, 0);
    // No private AS: no copy.
    let public = attrs(vec![]).with(
        attr_type::AS_PATH,
        Some(PathAttribute::new(AttrValue::AsPath(AsPath::sequence(
            vec![3356, 174],
        )))),
    );
    assert_eq!(
        p.apply(&view(&peer(65002), "10.0.0.0/8"), &public),
        Verdict::ACCEPT
    );
}

#[test]
fn private_as_ranges() {
    for asn in [64512, 65534, 4_200_000_000, 4_294_967_294] {
        assert!(is_private_as(asn), "{asn}");
    }
    for asn in [0, 23456, 64511, 65535, 65536, 4_199_999_999, 4_294_967_295] {
        assert!(!is_private_as(asn), "{asn}");
    }
}

// ---- statements ----

fn statement(matches: Match, set: Set, action: StatementAction) -> Statement {
    Statement {
        matches,
        set,
        action,
    }
}

fn has(c: &str) -> Match {
    Match {
        community: vec![comm(c)],
        ..Match::default()
    }
}

#[test]
fn statement_accept_and_reject_stop() {
    let p = Policy::new(
        "p",
        vec![
            statement(has("1:1"), Set::default(), StatementAction::Reject),
            statement(
                has("1:2"),
                Set {
                    local_pref: Some(7),
                    ..Set::default()
                },
                StatementAction::Accept,
            ),
            statement(
                Match::default(),
                Set {
                    local_pref: Some(9),
                    ..Set::default()
                },
                StatementAction::Accept,
            ),
        ],
    );
    let with = |c: &[&str]| {
        attrs(vec![AttrValue::Communities(
            c.iter().map(|c| comm(c)).collect(),
        )])
    };
    assert!(!accepts(&p, "10.0.0.0/8", &with(&["1:1", "1:2"])));
    let (a, _, _) = accepted(&p, "10.0.0.0/8", &with(&["1:2"]));
    assert_eq!(a.decision.local_pref, Some(7));
    let (a, _, _) = accepted(&p, "10.0.0.0/8", &with(&["1:3"]));
    assert_eq!(a.decision.local_pref, Some(9));
}

#[test]
fn statement_next_applies_and_continues() {
    let p = Policy::new(
        "p",
        vec![
            statement(
                Match::default(),
                Set {
                    community_add: vec![comm("1:9")],
                    med: Some(5),
                    ..Set::default()
                },
                StatementAction::Next,
            ),
            // Sees the community the first statement added.
            statement(
                has("1:9"),
                Set {
                    local_pref: Some(300),
                    next_hop: Some(NextHopSet::SelfAddr),
                    ..Set::default()
                },
                StatementAction::Accept,
            ),
        ],
    );
    assert!(!p.is_accept_all() && !p.is_reject_all());
    let (a, mark, med_set) = accepted(&p, "10.0.0.0/8", &attrs(vec![]));
    assert_eq!(communities(&a), ["1:9"]);
    assert_eq!(
        (a.decision.local_pref, a.decision.med),
        (Some(300), Some(5))
    );
    assert_eq!(a.next_hop, Some(nh("fd00::1")));
    assert_eq!(mark, NextHopMark::Set);
    assert!(med_set);
}

#[test]
fn the_end_of_a_policy_rejects() {
    let a = attrs(vec![]);
    let p = Policy::new(
        "p",
        vec![statement(
            has("1:1"),
            Set::default(),
            StatementAction::Accept,
        )],
    );
    assert!(!accepts(&p, "10.0.0.0/8", &a));
    // `next` on the last statement goes on to the end, too.
    let p = Policy::new(
        "p",
        vec![statement(
            Match::default(),
            Set {
                med: Some(1),
                ..Set::default()
            },
            StatementAction::Next,
        )],
    );
    assert_eq!(
        p.apply(&view(&peer(65002), "10.0.0.0/8"), &a),
        Verdict::Reject
    );
    assert!(!accepts(&Policy::new("empty", vec![]), "10.0.0.0/8", &a));
}

// ---- built-ins and RFC 8212 ----

#[test]
fn built_in_policies() {
    let all = Policies::new();
    let a = attrs(vec![]);
    let accept = all.get(ACCEPT_ALL).unwrap();
    let reject = all.get(REJECT_ALL).unwrap();
    assert!(accept.is_accept_all() && reject.is_reject_all());
    assert_eq!(
        accept.apply(&view(&peer(65002), "10.0.0.0/8"), &a),
        Verdict::ACCEPT
    );
    assert_eq!(
        reject.apply(&view(&peer(65002), "10.0.0.0/8"), &a),
        Verdict::Reject
    );
    assert!(Policies::is_builtin("accept-all") && Policies::is_builtin("reject-all"));
    assert!(!Policies::is_builtin("from-rr"));
    assert_eq!(all.policies().count(), 2);
    assert_eq!(Policies::default(), all);
}

#[test]
fn policies_hold_lists_and_policies_by_name() {
    let mut all = Policies::new();
    let l = all.insert_prefix_list(PrefixList::new(
        "pods",
        vec![entry("10.0.0.0/8", None, Some(24), ListAction::Permit)],
    ));
    let p = all.insert(Policy::new(
        "from-rr",
        vec![statement(
            Match {
                prefix_list: Some(l),
                ..Match::default()
            },
            Set::default(),
            StatementAction::Accept,
        )],
    ));
    assert_eq!(all.get("from-rr"), Some(&p));
    assert_eq!(all.prefix_list("pods").map(|l| l.name()), Some("pods"));
    assert_eq!(all.prefix_lists().count(), 1);
    assert!(all.get("nope").is_none());
}

#[test]
fn rfc8212_effective_policy() {
    let real = Arc::new(matching(has("1:1")));
    let accept = Arc::new(Policy::accept_all());
    let reject = Arc::new(Policy::reject_all());
    // No policy: eBGP gets nothing unless the switch is off; iBGP everything.
    assert_eq!(effective(None, true, true), Effective::RejectAll);
    assert_eq!(effective(None, true, false), Effective::AcceptAll);
    assert_eq!(effective(None, false, true), Effective::AcceptAll);
    assert_eq!(effective(None, false, false), Effective::AcceptAll);
    // A policy is used as it is, whatever the session.
    for (ebgp, required) in [(true, true), (false, true), (true, false)] {
        assert_eq!(
            effective(Some(&real), ebgp, required),
            Effective::Use(&real)
        );
        assert_eq!(
            effective(Some(&accept), ebgp, required),
            Effective::AcceptAll
        );
        assert_eq!(
            effective(Some(&reject), ebgp, required),
            Effective::RejectAll
        );
    }
    // Configured policies equivalent to the built-ins need no evaluation either.
    let plain_accept = Arc::new(Policy::new(
        "x",
        vec![
            statement(Match::default(), Set::default(), StatementAction::Next),
            statement(Match::default(), Set::default(), StatementAction::Accept),
        ],
    ));
    assert_eq!(
        effective(Some(&plain_accept), true, true),
        Effective::AcceptAll
    );
    let plain_reject = Arc::new(Policy::new(
        "y",
        vec![statement(
            Match::default(),
            Set::default(),
            StatementAction::Reject,
        )],
    ));
    assert_eq!(
        effective(Some(&plain_reject), true, true),
        Effective::RejectAll
    );
    // Effective::apply.
    let a = attrs(vec![]);
    let pe = peer(65002);
    let v = view(&pe, "10.0.0.0/8");
    assert_eq!(Effective::AcceptAll.apply(&v, &a), Verdict::ACCEPT);
    assert_eq!(Effective::RejectAll.apply(&v, &a), Verdict::Reject);
    assert_eq!(Effective::Use(&real).apply(&v, &a), Verdict::Reject);
}

// ---- text forms ----

#[test]
fn community_text_forms() {
    assert_eq!(parse_community("65000:100"), Ok(0xfde8_0064));
    assert_eq!(parse_community(" 0:0 "), Ok(0));
    assert_eq!(parse_community("no-export"), Ok(NO_EXPORT));
    for name in [
        "no-advertise",
        "no-export-subconfed",
        "llgr-stale",
        "no-llgr",
    ] {
        let c = parse_community(name).unwrap();
        assert_eq!(
            bgpd::packet::attribute::community::community_to_string(c),
            name
        );
    }
    for bad in ["65536:1", "1:65536", "1", "a:b", "1:2:3", "", "no_export"] {
        let e = parse_community(bad).unwrap_err();
        assert!(e.starts_with(&format!("{bad:?} is not a community")), "{e}");
    }
    assert_eq!(
        parse_large_community("4294967295:0:1"),
        Ok(LargeCommunity {
            global: u32::MAX,
            local1: 0,
            local2: 1
        })
    );
    for bad in ["1:2", "1:2:3:4", "1:2:x", "4294967296:0:0"] {
        assert!(parse_large_community(bad).is_err(), "{bad}");
    }
}

#[test]
fn extended_community_text_forms() {
    assert_eq!(
        ext("rt:65000:100"),
        ExtendedCommunity::route_target_as2(65000, 100)
    );
    assert_eq!(ext("rt:65000:4294967295").0[4..], [0xff; 4]);
    assert_eq!(ext("rt:192.0.2.1:7").0, [0x01, 0x02, 192, 0, 2, 1, 0, 7]);
    assert_eq!(
        ext("rt:4200000001:7").0,
        [0x02, 0x02, 0xfa, 0x56, 0xea, 0x01, 0, 7]
    );
    assert_eq!(ext("soo:65000:1").0, [0x00, 0x03, 0xfd, 0xe8, 0, 0, 0, 1]);
    assert_eq!(ext("color:42"), ExtendedCommunity::color(42));
    assert_eq!(ext("0x8006000000000001").0, [0x80, 0x06, 0, 0, 0, 0, 0, 1]);
    for s in ["rt:65000:100", "rt:192.0.2.1:7", "soo:65000:1", "color:42"] {
        assert_eq!(ext(s).to_string(), s);
    }
    for bad in [
        "rt:65000",
        "rt:x:1",
        "xx:1:2",
        "rt:4200000001:65536",
        "rt:192.0.2.1:65536",
        "rt:65000:4294967296",
        "color:x",
        "0x80",
        "0xzz06000000000001",
        "",
    ] {
        assert!(parse_ext_community(bad).is_err(), "{bad}");
    }
    assert!(
        parse_ext_community("rt:4200000001:65536")
            .unwrap_err()
            .contains("4-octet AS")
    );
}
