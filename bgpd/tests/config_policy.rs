#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The policy parts of `bgpd::config`: `[prefix_lists]`, `[[policies]]`, the neighbor keys
//! that name them, `max_prefixes`, RFC 8212's switch; every bad policy named by its key; the
//! example file's policies.

use std::net::Ipv4Addr;
use std::path::Path;

use bgpd::config::{self, Config, ConfigErrors, MaxPrefixesAction, load_str, load_str_with_env};
use bgpd::packet::Family;
use bgpd::packet::FamilySet;
use bgpd::packet::attribute::{AsPath, AttrValue, NextHop, PathAttribute};
use bgpd::policy::community::{parse_community, parse_ext_community, parse_large_community};
use bgpd::policy::{
    AsPathLength, Direction, Effective, ListAction, NextHopSet, RouteView, StatementAction,
    Verdict, effective,
};
use bgpd::rib::{PathAttrs, PeerInfo};

const GLOBAL: &str = "[global]\nasn = 65001\nrouter_id = \"10.0.0.1\"\n";

/// The brief's example: a prefix list, a two-statement policy, a group that uses it.
const EXAMPLE: &str = r#"
[global]
asn = 65001
router_id = "10.0.0.1"
ebgp_requires_policy = true

[prefix_lists.pods]
entries = [
  { prefix = "10.0.0.0/8", ge = 16, le = 24 },
  { prefix = "10.99.0.0/16", le = 32, action = "deny" },
]

[[policies.from-rr]]
match = { prefix_list = "pods", families = ["ipv4-unicast"], community = ["65000:1"], ext_community = ["rt:65000:100"], large_community = ["65000:1:1"], as_path_length = { max = 10, min = 0 } }
set = { local_pref = 200, med = 10, community_add = ["65000:2"], community_remove = ["65000:1"], ext_community_add = ["rt:65000:200"], large_community_add = ["65000:2:2"], next_hop = "self", strip_private_as = true }
action = "accept"

[[policies.from-rr]]
action = "reject"

[neighbor_groups.rr]
remote_as = 65001
import_policy = "from-rr"
export_policy = "accept-all"
max_prefixes = 10000
max_prefixes_action = "warn"
soft_reconfiguration_inbound = true

[[neighbors]]
address = "fd00::2"
group = "rr"

[[neighbors]]
address = "fd00::3"
group = "rr"
export_policy = "reject-all"
max_prefixes_action = "teardown"
"#;

fn ok(toml: &str) -> Config {
    match load_str(toml) {
        Ok(c) => c,
        Err(e) => panic!("config should load, got:\n{e}"),
    }
}

fn errs(toml: &str) -> ConfigErrors {
    match load_str(toml) {
        Ok(c) => panic!("config should fail, got {c:?}"),
        Err(e) => e,
    }
}

/// The one problem, which must be at `key`.
fn only_problem(toml: &str, key: &str) -> String {
    let e = errs(toml);
    assert_eq!(e.len(), 1, "expected one problem at {key}, got:\n{e}");
    assert_eq!(e.0[0].key, key, "got:\n{e}");
    e.0[0].problem.clone()
}

/// One policy statement `[[policies.p]]` with these lines, and a prefix list `pods`.
fn statement(lines: &str) -> String {
    format!(
        "{GLOBAL}[prefix_lists.pods]\nentries = [{{ prefix = \"10.0.0.0/8\", le = 24 }}]\n\
         [[policies.p]]\n{lines}\n"
    )
}

/// A prefix list `l` with these entries.
fn prefix_list(entries: &str) -> String {
    format!("{GLOBAL}[prefix_lists.l]\nentries = [{entries}]\n")
}

fn peer() -> PeerInfo {
    PeerInfo {
        id: 1,
        address: "fd00::2".parse().unwrap(),
        local_as: 65001,
        remote_as: 65001,
        bgp_id: Ipv4Addr::new(10, 0, 0, 2),
        rr_client: false,
        families: FamilySet::all_supported(),
        add_path_tx: FamilySet::new(),
        extended_nexthop: FamilySet::new(),
        local_address: None,
        llgr: false,
    }
}

#[test]
fn the_example_policy_loads_and_compiles() {
    let c = ok(EXAMPLE);
    assert!(c.global.ebgp_requires_policy);
    let (a, b) = (&c.neighbors[0], &c.neighbors[1]);
    let from_rr = c.policies.get("from-rr").unwrap();
    assert_eq!(a.import_policy.as_ref(), Some(from_rr));
    assert_eq!(
        a.export_policy.as_ref().map(|p| p.name()),
        Some("accept-all")
    );
    assert_eq!(
        b.export_policy.as_ref().map(|p| p.name()),
        Some("reject-all")
    );
    assert_eq!((a.max_prefixes, b.max_prefixes), (Some(10000), Some(10000)));
    assert_eq!(a.max_prefixes_action, MaxPrefixesAction::Warn);
    assert_eq!(b.max_prefixes_action, MaxPrefixesAction::Teardown);
    assert!(a.soft_reconfiguration_inbound);

    let s = from_rr.statements();
    assert_eq!(s.len(), 2);
    let (m, set) = (&s[0].matches, &s[0].set);
    assert_eq!(s[0].action, StatementAction::Accept);
    assert_eq!(s[1].action, StatementAction::Reject);
    assert!(s[1].matches.is_empty() && s[1].set.is_empty());
    assert_eq!(m.prefix_list.as_ref().map(|l| l.name()), Some("pods"));
    assert_eq!(m.families, vec![Family::IPV4_UNICAST]);
    assert_eq!(m.community, vec![parse_community("65000:1").unwrap()]);
    assert_eq!(
        m.ext_community,
        vec![parse_ext_community("rt:65000:100").unwrap()]
    );
    assert_eq!(
        m.large_community,
        vec![parse_large_community("65000:1:1").unwrap()]
    );
    assert_eq!(m.as_path_length, Some(AsPathLength { min: 0, max: 10 }));
    assert_eq!((set.local_pref, set.med), (Some(200), Some(10)));
    assert_eq!(set.community_add, vec![parse_community("65000:2").unwrap()]);
    assert_eq!(
        set.community_remove,
        vec![parse_community("65000:1").unwrap()]
    );
    assert_eq!(set.ext_community_add.len(), 1);
    assert_eq!(set.large_community_add.len(), 1);
    assert_eq!(set.next_hop, Some(NextHopSet::SelfAddr));
    assert!(set.strip_private_as);

    let pods = c.policies.prefix_list("pods").unwrap();
    assert_eq!(pods.entries().len(), 2);
    assert!(pods.permits(&"10.99.0.0/16".parse().unwrap()));
    assert_eq!(
        pods.lookup(&"10.99.1.0/25".parse().unwrap()),
        Some(ListAction::Deny)
    );
}

#[test]
fn the_loaded_policy_runs() {
    let c = ok(EXAMPLE);
    let policy = c.neighbors[0].import_policy.clone().unwrap();
    let p = peer();
    let view = RouteView {
        family: Family::IPV4_UNICAST,
        prefix: "10.1.0.0/16".parse().unwrap(),
        peer: &p,
        direction: Direction::Import,
        self_next_hop: Some(NextHop {
            global: "fd00::1".parse().unwrap(),
            link_local: None,
        }),
    };
    let attrs = |c: &str| {
        PathAttrs::new(
            vec![
                PathAttribute::new(AttrValue::AsPath(AsPath::sequence(vec![64512, 3356]))),
                PathAttribute::new(AttrValue::Communities(vec![parse_community(c).unwrap()])),
                PathAttribute::new(AttrValue::ExtendedCommunities(vec![
                    parse_ext_community("rt:65000:100").unwrap(),
                ])),
                PathAttribute::new(AttrValue::LargeCommunities(vec![
                    parse_large_community("65000:1:1").unwrap(),
                ])),
            ],
            None,
        )
    };
    let out = match policy.apply(&view, &attrs("65000:1")) {
        Verdict::Accept { attrs, .. } => attrs.unwrap(),
        Verdict::Reject => panic!("rejected"),
    };
    assert_eq!(out.decision.local_pref, Some(200));
    assert_eq!(out.as_path().unwrap().to_string(), "3356");
    assert_eq!(out.communities(), &[parse_community("65000:2").unwrap()]);
    // Without the community: the second statement rejects.
    assert_eq!(policy.apply(&view, &attrs("65000:9")), Verdict::Reject);
    assert!(matches!(
        effective(Some(&policy), false, true),
        Effective::Use(_)
    ));
}

#[test]
fn defaults_without_policy_keys() {
    let c = ok(&format!(
        "{GLOBAL}[[neighbors]]\naddress = \"192.0.2.1\"\nremote_as = 65100\n"
    ));
    assert!(c.global.ebgp_requires_policy);
    let n = &c.neighbors[0];
    assert_eq!(
        (n.import_policy.clone(), n.export_policy.clone()),
        (None, None)
    );
    assert_eq!(n.max_prefixes, None);
    assert_eq!(n.max_prefixes_action, MaxPrefixesAction::Teardown);
    assert!(!n.soft_reconfiguration_inbound);
    // RFC 8212: an eBGP neighbor without policies gets nothing.
    assert_eq!(
        effective(n.import_policy.as_ref(), !n.is_ibgp(), true),
        Effective::RejectAll
    );
    // Only the built-ins.
    assert_eq!(c.policies.policies().count(), 2);
    let off = format!("{GLOBAL}ebgp_requires_policy = false\n");
    assert!(!ok(&off).global.ebgp_requires_policy);
}

#[test]
fn neighbor_policy_wins_over_its_group() {
    let c = ok(&format!(
        "{GLOBAL}[neighbor_groups.g]\nremote_as = 65100\nimport_policy = \"accept-all\"\n\
         [[neighbors]]\naddress = \"192.0.2.1\"\ngroup = \"g\"\nimport_policy = \"reject-all\"\n"
    ));
    let n = &c.neighbors[0];
    assert_eq!(
        n.import_policy.as_ref().map(|p| p.name()),
        Some("reject-all")
    );
}

#[test]
fn policy_keys_from_the_environment() {
    let toml = format!(
        "{GLOBAL}[neighbor_groups.rr]\nremote_as = 65001\n\
         [[neighbors]]\naddress = \"fd00::2\"\ngroup = \"rr\"\n"
    );
    let env = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
    let c = load_str_with_env(
        &toml,
        env("SIDRA_NEIGHBOR_GROUPS__RR__IMPORT_POLICY", "reject-all"),
    )
    .unwrap();
    assert!(
        c.neighbors[0]
            .import_policy
            .as_ref()
            .unwrap()
            .is_reject_all()
    );
    let c = load_str_with_env(&toml, env("SIDRA_GLOBAL__EBGP_REQUIRES_POLICY", "false")).unwrap();
    assert!(!c.global.ebgp_requires_policy);
    let e = load_str_with_env(
        &toml,
        env("SIDRA_NEIGHBOR_GROUPS__RR__EXPORT_POLICY", "nope"),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "neighbor_groups.rr.export_policy: no policy named \"nope\" \
         (from environment variable SIDRA_NEIGHBOR_GROUPS__RR__EXPORT_POLICY)"
    );
}

#[test]
fn unknown_policy_names_on_neighbors_and_groups() {
    let toml = EXAMPLE.replace(
        "export_policy = \"reject-all\"",
        "import_policy = \"from-rrr\"",
    );
    assert_eq!(
        only_problem(&toml, "neighbors[1].import_policy"),
        "no policy named \"from-rrr\""
    );
    let toml = EXAMPLE.replace("export_policy = \"accept-all\"", "export_policy = \"x\"");
    // Reported once, at the group, not at each neighbor that uses it.
    assert_eq!(
        only_problem(&toml, "neighbor_groups.rr.export_policy"),
        "no policy named \"x\""
    );
    // A policy with a problem of its own is not reported again where it is named.
    let toml = EXAMPLE.replace("local_pref = 200", "local_pref = \"x\"");
    assert_eq!(
        only_problem(&toml, "policies.from-rr[0].set.local_pref"),
        "expected an integer, found string \"x\""
    );
}

#[test]
fn bad_prefix_list_entries() {
    let cases = [
        (
            "{ prefix = \"10.0.0/8\" }",
            "prefix_lists.l.entries[0].prefix",
            "\"10.0.0/8\" is not a prefix like 10.0.0.0/8 or 2001:db8::/32",
        ),
        (
            "{ prefix = \"10.0.0.1/8\" }",
            "prefix_lists.l.entries[0].prefix",
            "10.0.0.1/8 has host bits set (did you mean 10.0.0.0/8?)",
        ),
        (
            "{ prefix = \"10.0.0.0/8\", ge = 24, le = 16 }",
            "prefix_lists.l.entries[0].le",
            "16 is less than ge 24",
        ),
        (
            "{ prefix = \"10.0.0.0/8\", le = 33 }",
            "prefix_lists.l.entries[0].le",
            "33 is out of range (must be at most 32)",
        ),
        (
            "{ prefix = \"2001:db8::/32\", le = 129 }",
            "prefix_lists.l.entries[0].le",
            "129 is out of range (must be 0..=128)",
        ),
        (
            "{ prefix = \"10.0.0.0/16\", ge = 8 }",
            "prefix_lists.l.entries[0].ge",
            "8 is less than the prefix length 16",
        ),
        (
            "{ prefix = \"10.0.0.0/16\", le = 8 }",
            "prefix_lists.l.entries[0].le",
            "8 is less than the prefix length 16",
        ),
        (
            "{ prefix = \"10.0.0.0/8\", action = \"allow\" }",
            "prefix_lists.l.entries[0].action",
            "\"allow\" is not permit or deny",
        ),
        (
            "{ prefix = \"10.0.0.0/8\", lt = 9 }",
            "prefix_lists.l.entries[0].lt",
            "unknown key (did you mean le?)",
        ),
        (
            "{ le = 9 }",
            "prefix_lists.l.entries[0].prefix",
            "missing (required)",
        ),
        (
            "\"10.0.0.0/8\"",
            "prefix_lists.l.entries[0]",
            "expected a table ({ prefix = \"10.0.0.0/8\", ge = 16, le = 24, action = \"permit\" }), \
             found string \"10.0.0.0/8\"",
        ),
    ];
    for (entries, key, problem) in cases {
        assert_eq!(
            only_problem(&prefix_list(entries), key),
            problem,
            "{entries}"
        );
    }
    assert_eq!(
        only_problem(
            &format!("{GLOBAL}[prefix_lists.l]\n"),
            "prefix_lists.l.entries"
        ),
        "missing (required)"
    );
}

#[test]
fn bad_matches() {
    let cases = [
        (
            "match = { prefix_list = \"podz\" }",
            "policies.p[0].match.prefix_list",
            "no prefix list named \"podz\"",
        ),
        (
            "match = { community = [\"65000:x\"] }",
            "policies.p[0].match.community[0]",
            "\"65000:x\" is not a community (ASN:N with 16-bit numbers, or one of no-export, \
             no-advertise, no-export-subconfed, llgr-stale, no-llgr)",
        ),
        (
            "match = { community = [] }",
            "policies.p[0].match.community",
            "is empty (list at least one, or leave the key out)",
        ),
        (
            "match = { ext_community = [\"rt:65000\"] }",
            "policies.p[0].match.ext_community[0]",
            "\"rt:65000\" is not an extended community (rt:ASN:N, rt:1.2.3.4:N, soo:ASN:N, \
             soo:1.2.3.4:N, color:N or 0x and 16 hex digits)",
        ),
        (
            "match = { large_community = [\"1:2\"] }",
            "policies.p[0].match.large_community[0]",
            "\"1:2\" is not a large community (GLOBAL:LOCAL1:LOCAL2, 32-bit numbers)",
        ),
        (
            "match = { families = [\"ipv4-multicast\"] }",
            "policies.p[0].match.families[0]",
            "unknown family \"ipv4-multicast\" (known: ipv4-unicast, ipv6-unicast, ipv4-vpn, \
             ipv6-vpn)",
        ),
        (
            "match = { as_path_length = { min = 3, max = 2 } }",
            "policies.p[0].match.as_path_length.max",
            "2 is less than min 3",
        ),
        (
            "match = { as_path_length = {} }",
            "policies.p[0].match.as_path_length",
            "is empty (set min, max or both)",
        ),
        (
            "match = { comunity = [\"1:1\"] }",
            "policies.p[0].match.comunity",
            "unknown key (did you mean community?)",
        ),
        (
            "match = \"all\"",
            "policies.p[0].match",
            "expected a table (match = { prefix_list = \"NAME\", ... }), found string \"all\"",
        ),
    ];
    for (lines, key, problem) in cases {
        assert_eq!(only_problem(&statement(lines), key), problem, "{lines}");
    }
}

#[test]
fn bad_sets_and_actions() {
    let cases = [
        (
            "set = { local_pref = \"x\" }",
            "policies.p[0].set.local_pref",
            "expected an integer, found string \"x\"",
        ),
        (
            "set = { med = 4294967296 }",
            "policies.p[0].set.med",
            "4294967296 is out of range (must be 0..=4294967295)",
        ),
        (
            "set = { community_add = [\"no-exprt\"] }",
            "policies.p[0].set.community_add[0]",
            "\"no-exprt\" is not a community (ASN:N with 16-bit numbers, or one of no-export, \
             no-advertise, no-export-subconfed, llgr-stale, no-llgr)",
        ),
        (
            "set = { ext_community_add = [\"rt:4200000000:70000\"] }",
            "policies.p[0].set.ext_community_add[0]",
            "\"rt:4200000000:70000\": with a 4-octet AS (above 65535) the value must be 0..=65535",
        ),
        (
            "set = { large_community_remove = [\"a:b:c\"] }",
            "policies.p[0].set.large_community_remove[0]",
            "\"a:b:c\" is not a large community (GLOBAL:LOCAL1:LOCAL2, 32-bit numbers)",
        ),
        (
            "set = { next_hop = \"me\" }",
            "policies.p[0].set.next_hop",
            "\"me\" is not \"self\", \"unchanged\" or an IP address",
        ),
        (
            "set = { next_hop = \"::\" }",
            "policies.p[0].set.next_hop",
            ":: is not allowed (must be a unicast address)",
        ),
        (
            "set = { strip_private_as = \"yes\" }",
            "policies.p[0].set.strip_private_as",
            "expected true or false, found string \"yes\"",
        ),
        (
            "set = { localpref = 1 }",
            "policies.p[0].set.localpref",
            "unknown key (did you mean local_pref?)",
        ),
        (
            "action = \"permit\"",
            "policies.p[0].action",
            "\"permit\" is not one of accept, reject, next",
        ),
        (
            "action = \"reject\"\nset = { med = 1 }",
            "policies.p[0].set",
            "has no effect: the statement's action is \"reject\"",
        ),
        (
            "then = \"accept\"",
            "policies.p[0].then",
            "unknown key (known keys: match, set, action)",
        ),
    ];
    for (lines, key, problem) in cases {
        assert_eq!(only_problem(&statement(lines), key), problem, "{lines}");
    }
}

#[test]
fn bad_policy_tables_and_neighbor_keys() {
    assert_eq!(
        only_problem(
            &format!("{GLOBAL}[policies.p]\naction = \"reject\"\n"),
            "policies.p"
        ),
        "expected an array of tables ([[policies.NAME]], one per statement), found a table"
    );
    assert_eq!(
        only_problem(
            &format!("{GLOBAL}[[policies.accept-all]]\naction = \"reject\"\n"),
            "policies.accept-all"
        ),
        "\"accept-all\" is a built-in policy (choose another name)"
    );
    assert_eq!(
        only_problem(
            &format!("{GLOBAL}[[policies.\"a b\"]]\naction = \"reject\"\n"),
            "policies.a b"
        ),
        "\"a b\" is not a valid policy name (use letters, digits, - and _)"
    );
    let neighbor = |line: &str| {
        format!("{GLOBAL}[[neighbors]]\naddress = \"fd00::2\"\nremote_as = 65000\n{line}\n")
    };
    assert_eq!(
        only_problem(&neighbor("max_prefixes = 0"), "neighbors[0].max_prefixes"),
        "0 is out of range (must be 1..=4294967295)"
    );
    assert_eq!(
        only_problem(
            &neighbor("max_prefixes_action = \"warning-only\""),
            "neighbors[0].max_prefixes_action"
        ),
        "\"warning-only\" is not one of warn, teardown"
    );
    assert_eq!(
        only_problem(
            &neighbor("soft_reconfiguration_inbound = 1"),
            "neighbors[0].soft_reconfiguration_inbound"
        ),
        "expected true or false, found integer 1"
    );
    assert_eq!(
        only_problem(
            &format!("{GLOBAL}ebgp_requires_policy = \"yes\"\n"),
            "global.ebgp_requires_policy"
        ),
        "expected true or false, found string \"yes\""
    );
}

#[test]
fn every_problem_at_once() {
    let toml = format!(
        "{GLOBAL}[prefix_lists.l]\nentries = [{{ prefix = \"10.0.0.0/8\", le = 33 }}]\n\
         [[policies.p]]\nmatch = {{ prefix_list = \"l\", community = [\"x\"] }}\n\
         set = {{ med = -1 }}\naction = \"maybe\"\n\
         [[neighbors]]\naddress = \"fd00::2\"\nremote_as = 65000\n\
         import_policy = \"p\"\nexport_policy = \"q\"\n"
    );
    let e = errs(&toml);
    let keys: Vec<&str> = e.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "prefix_lists.l.entries[0].le",
            "policies.p[0].action",
            "policies.p[0].match.community[0]",
            "policies.p[0].set.med",
            "neighbors[0].export_policy",
        ],
        "{e}"
    );
}

#[test]
fn the_example_file_has_policies() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../etc/sidrad.toml");
    let c = match config::load_with_env(&path, Vec::<(String, String)>::new()) {
        Ok(c) => c,
        Err(e) => panic!("etc/sidrad.toml:\n{e}"),
    };
    assert!(c.global.ebgp_requires_policy);
    for n in &c.neighbors {
        assert!(n.import_policy.is_some(), "{}", n.address);
        assert!(n.export_policy.is_some(), "{}", n.address);
    }
    let leaf = c.neighbors.iter().find(|n| !n.is_ibgp()).unwrap();
    assert_eq!(
        leaf.import_policy.as_ref().map(|p| p.name()),
        Some("from-fabric")
    );
    assert_eq!(leaf.max_prefixes, Some(10));
    let to_fabric = c.policies.get("to-fabric").unwrap();
    assert_eq!(to_fabric.statements()[0].action, StatementAction::Next);
    for name in ["pods", "ours", "default-route"] {
        assert!(c.policies.prefix_list(name).is_some(), "{name}");
    }
    assert_eq!(c.neighbors[0].max_prefixes_action, MaxPrefixesAction::Warn);
}
