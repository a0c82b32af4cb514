#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `bgpd::config`: defaults, neighbor groups, every check with the key it names, the
//! environment overrides, and the example file.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use bgpd::config::{
    self, AddPathMode, Config, ConfigErrors, RequiredCapability, Secret, load_str,
    load_str_with_env,
};
use bgpd::packet::Family;

const GLOBAL: &str = "[global]\nasn = 65001\nrouter_id = \"10.0.0.1\"\n";

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

/// The one problem reported at `key`; fails if there are others anywhere.
fn only_problem(toml: &str, key: &str) -> String {
    let e = errs(toml);
    assert_eq!(e.len(), 1, "expected one problem at {key}, got:\n{e}");
    let first = &e.0[0];
    assert_eq!(first.key, key, "got:\n{e}");
    first.problem.clone()
}

/// One neighbor with these fields (and remote_as 65000 unless they set it).
fn with_neighbor(fields: &str) -> String {
    let remote_as = if fields.contains("remote_as") {
        ""
    } else {
        "remote_as = 65000\n"
    };
    format!("{GLOBAL}[[neighbors]]\naddress = \"fd00::2\"\n{remote_as}{fields}\n")
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn defaults_are_applied() {
    let c = ok(&with_neighbor(""));
    assert_eq!(c.global.asn, 65001);
    assert_eq!(c.global.router_id, Ipv4Addr::new(10, 0, 0, 1));
    assert_eq!(
        c.global.listen,
        vec!["[::]:179".parse::<SocketAddr>().unwrap()]
    );
    let n = &c.neighbors[0];
    assert_eq!(n.address, "fd00::2".parse::<IpAddr>().unwrap());
    assert_eq!((n.remote_as, n.local_as), (65000, 65001));
    assert_eq!(n.router_id, Ipv4Addr::new(10, 0, 0, 1));
    assert!(!n.is_ibgp());
    assert_eq!(n.hold_time, 90);
    assert_eq!(n.keepalive, None);
    assert_eq!(n.connect_retry, Duration::from_secs(120));
    assert_eq!(n.delay_open, None);
    assert_eq!(n.idle_hold, Duration::from_secs(5));
    assert_eq!(n.max_idle_hold, Duration::from_secs(60));
    assert_eq!(n.families, vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST]);
    assert!(!n.passive);
    assert_eq!(n.password, None);
    assert_eq!(n.ttl_security, None);
    assert_eq!(n.local_address, None);
    assert_eq!(n.port, 179);
    assert_eq!(n.description, None);
    assert!(n.extended_nexthop);
    assert_eq!(n.add_path, AddPathMode::None);
    assert!(n.graceful_restart);
    assert_eq!(n.restart_time, 120);
    assert!(n.required_capabilities.is_empty());
    assert!(!n.shutdown);
    assert_eq!(n.group, None);
}

#[test]
fn empty_listen_and_no_neighbors() {
    let c = ok(&format!("{GLOBAL}listen = []\n"));
    assert!(c.global.listen.is_empty());
    assert!(c.neighbors.is_empty());
}

#[test]
fn every_key_is_read() {
    let c = ok(&with_neighbor(
        "hold_time = 30\nkeepalive = 10\nconnect_retry = 1\ndelay_open = 2\nidle_hold = 3\n\
         max_idle_hold = 4\nfamilies = [\"ipv6-vpn\", \"ipv4-vpn\"]\npassive = true\n\
         password = \"s3cret\"\nttl_security = 2\nlocal_address = \"fd00::1\"\nport = 1179\n\
         description = \"d\"\nextended_nexthop = false\nadd_path = \"both\"\n\
         graceful_restart = false\nrestart_time = 300\n\
         required_capabilities = [\"four-octet-as\", \"route-refresh\"]\nshutdown = true",
    ));
    let n = &c.neighbors[0];
    assert_eq!((n.hold_time, n.keepalive), (30, Some(10)));
    assert_eq!(n.connect_retry, Duration::from_secs(1));
    assert_eq!(n.delay_open, Some(Duration::from_secs(2)));
    assert_eq!(n.idle_hold, Duration::from_secs(3));
    assert_eq!(n.max_idle_hold, Duration::from_secs(4));
    assert_eq!(n.families, vec![Family::IPV6_VPN, Family::IPV4_VPN]);
    assert!(n.passive);
    assert_eq!(n.password.as_ref().map(Secret::expose), Some("s3cret"));
    assert_eq!(n.ttl_security, Some(2));
    assert_eq!(n.local_address, Some("fd00::1".parse().unwrap()));
    assert_eq!(n.port, 1179);
    assert_eq!(n.description.as_deref(), Some("d"));
    assert!(!n.extended_nexthop);
    assert_eq!(n.add_path, AddPathMode::Both);
    assert!(!n.graceful_restart);
    assert_eq!(n.restart_time, 300);
    assert_eq!(
        n.required_capabilities,
        vec![
            RequiredCapability::FourOctetAs,
            RequiredCapability::RouteRefresh
        ]
    );
    assert!(n.shutdown);
}

#[test]
fn group_values_are_inherited_and_overridden() {
    let c = ok(&format!(
        "{GLOBAL}[neighbor_groups.rr]\nremote_as = 65001\nhold_time = 9\nkeepalive = 3\n\
         port = 1179\npassword = \"grp\"\n\
         [[neighbors]]\naddress = \"fd00::2\"\ngroup = \"rr\"\n\
         [[neighbors]]\naddress = \"fd00::3\"\ngroup = \"rr\"\nhold_time = 30\nkeepalive = 10\n\
         remote_as = 65009\n"
    ));
    let (a, b) = (&c.neighbors[0], &c.neighbors[1]);
    assert_eq!(a.group.as_deref(), Some("rr"));
    assert_eq!(
        (a.remote_as, a.hold_time, a.keepalive, a.port),
        (65001, 9, Some(3), 1179)
    );
    assert!(a.is_ibgp());
    assert_eq!(a.password.as_ref().map(Secret::expose), Some("grp"));
    assert_eq!(
        (b.remote_as, b.hold_time, b.keepalive, b.port),
        (65009, 30, Some(10), 1179)
    );
    assert!(!b.is_ibgp());
    // Unset in both: the default.
    assert_eq!(a.connect_retry, Duration::from_secs(120));
    assert_eq!(c.neighbor("fd00::3".parse().unwrap()), Some(b));
}

#[test]
fn ipv4_mapped_address_is_the_ipv4_address() {
    let c = ok(&format!(
        "{GLOBAL}[[neighbors]]\naddress = \"::ffff:192.0.2.1\"\nremote_as = 1\n"
    ));
    assert_eq!(
        c.neighbors[0].address,
        "192.0.2.1".parse::<IpAddr>().unwrap()
    );
    assert!(c.neighbor("::ffff:192.0.2.1".parse().unwrap()).is_some());
}

#[test]
fn global_checks() {
    let cases = [
        (
            "asn = 0",
            "global.asn",
            "0 is out of range (must be 1..=4294967295)",
        ),
        (
            "asn = 4294967296",
            "global.asn",
            "4294967296 is out of range (must be 1..=4294967295)",
        ),
        (
            "asn = 23456",
            "global.asn",
            "23456 is not allowed (AS_TRANS, RFC 6793, is not a real AS number)",
        ),
        (
            "router_id = \"10.0.0\"",
            "global.router_id",
            "\"10.0.0\" is not an IPv4 address",
        ),
        (
            "router_id = \"fd00::1\"",
            "global.router_id",
            "\"fd00::1\" is not an IPv4 address",
        ),
        (
            "router_id = \"0.0.0.0\"",
            "global.router_id",
            "0.0.0.0 is not allowed (RFC 6286: the BGP Identifier is non-zero)",
        ),
        (
            "listen = [\"[::]:179\", \"::179\"]",
            "global.listen[1]",
            "\"::179\" is not a socket address (e.g. \"[::]:179\" or \"0.0.0.0:179\")",
        ),
        (
            "listen = [\"[::]:179\", \"[::]:179\"]",
            "global.listen[1]",
            "[::]:179 is listed twice",
        ),
    ];
    for (line, key, problem) in cases {
        let (name, _) = line.split_once(" = ").unwrap();
        let mut global = String::from("[global]\n");
        for (k, v) in [("asn", "65001"), ("router_id", "\"10.0.0.1\"")] {
            if k != name {
                global.push_str(&format!("{k} = {v}\n"));
            }
        }
        global.push_str(line);
        assert_eq!(only_problem(&global, key), problem, "for {line}");
    }
}

#[test]
fn missing_required_keys() {
    let e = errs("");
    let shown: Vec<String> = e.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "global.asn: missing (required)",
            "global.router_id: missing (required)"
        ]
    );
    assert_eq!(
        only_problem("[global]\nasn = 1\n", "global.router_id"),
        "missing (required)"
    );
    assert_eq!(
        only_problem(
            &format!("{GLOBAL}[[neighbors]]\nremote_as = 1\n"),
            "neighbors[0].address"
        ),
        "missing (required)"
    );
    assert_eq!(
        only_problem(
            &format!("{GLOBAL}[[neighbors]]\naddress = \"fd00::2\"\n"),
            "neighbors[0].remote_as"
        ),
        "missing (required; set it here or in a neighbor group)"
    );
    assert_eq!(
        only_problem(
            &format!(
                "{GLOBAL}[neighbor_groups.rr]\nport = 1\n\
                 [[neighbors]]\naddress = \"fd00::2\"\ngroup = \"rr\"\n"
            ),
            "neighbors[0].remote_as"
        ),
        "missing (set it here or in neighbor group \"rr\")"
    );
    // A problem with the group's remote_as, or with the group name, is reported once.
    assert_eq!(
        only_problem(
            &format!(
                "{GLOBAL}[neighbor_groups.rr]\nremote_as = 0\n\
                 [[neighbors]]\naddress = \"fd00::2\"\ngroup = \"rr\"\n"
            ),
            "neighbor_groups.rr.remote_as"
        ),
        "0 is out of range (must be 1..=4294967295)"
    );
    assert_eq!(
        only_problem(
            &format!("{GLOBAL}[[neighbors]]\naddress = \"fd00::2\"\ngroup = \"rr\"\n"),
            "neighbors[0].group"
        ),
        "no neighbor group named \"rr\""
    );
}

/// Each single-key check of a neighbor, at the neighbor's key.
#[test]
fn neighbor_checks() {
    let out_of_range = |v: &str, range: &str| format!("{v} is out of range (must be {range})");
    let cases: Vec<(&str, &str, String)> = vec![
        (
            "remote_as = 0",
            "remote_as",
            out_of_range("0", "1..=4294967295"),
        ),
        (
            "remote_as = 23456",
            "remote_as",
            "23456 is not allowed (AS_TRANS, RFC 6793, is not a real AS number)".into(),
        ),
        (
            "hold_time = 2",
            "hold_time",
            "2 is not allowed (must be 0 or 3..=65535)".into(),
        ),
        (
            "hold_time = 65536",
            "hold_time",
            "65536 is not allowed (must be 0 or 3..=65535)".into(),
        ),
        ("keepalive = 0", "keepalive", out_of_range("0", "1..=21845")),
        (
            "connect_retry = 0",
            "connect_retry",
            out_of_range("0", "1..=65535"),
        ),
        (
            "connect_retry = 65536",
            "connect_retry",
            out_of_range("65536", "1..=65535"),
        ),
        (
            "delay_open = -1",
            "delay_open",
            out_of_range("-1", "0..=65535"),
        ),
        ("idle_hold = 0", "idle_hold", out_of_range("0", "1..=65535")),
        (
            "max_idle_hold = 0",
            "max_idle_hold",
            out_of_range("0", "1..=65535"),
        ),
        (
            "ttl_security = 0",
            "ttl_security",
            out_of_range("0", "1..=254"),
        ),
        (
            "ttl_security = 255",
            "ttl_security",
            out_of_range("255", "1..=254"),
        ),
        ("port = 0", "port", out_of_range("0", "1..=65535")),
        (
            "restart_time = 0",
            "restart_time",
            out_of_range("0", "1..=4095"),
        ),
        (
            "restart_time = 4096",
            "restart_time",
            out_of_range("4096", "1..=4095"),
        ),
        (
            "families = [\"ipv4-flowspec\"]",
            "families[0]",
            "unknown family \"ipv4-flowspec\" (known: ipv4-unicast, ipv6-unicast, ipv4-vpn, \
             ipv6-vpn)"
                .into(),
        ),
        (
            "families = [\"ipv4-vpn\", \"ipv4-vpn\"]",
            "families[1]",
            "\"ipv4-vpn\" is listed twice".into(),
        ),
        (
            "families = []",
            "families",
            "is empty (list at least one family)".into(),
        ),
        (
            "password = \"\"",
            "password",
            "must be 1..=80 bytes long (is 0 bytes)".into(),
        ),
        (
            "local_address = \"fd00::zz\"",
            "local_address",
            "\"fd00::zz\" is not an IP address".into(),
        ),
        (
            "local_address = \"10.0.0.2\"",
            "local_address",
            "10.0.0.2 is IPv4 but neighbors[0].address fd00::2 is IPv6".into(),
        ),
        (
            "add_path = \"recv\"",
            "add_path",
            "\"recv\" is not one of none, receive, send, both".into(),
        ),
        (
            "required_capabilities = [\"four-octet-as\", \"bgpsec\"]",
            "required_capabilities[1]",
            "unknown capability \"bgpsec\" (known: route-refresh, enhanced-route-refresh, \
             extended-next-hop, extended-message, graceful-restart, \
             long-lived-graceful-restart, four-octet-as, add-path, fqdn)"
                .into(),
        ),
        (
            "keepalive = 31",
            "keepalive",
            "31 is not allowed (must be at most a third of hold_time 90 (default): 1..=30)".into(),
        ),
        (
            "hold_time = 9\nkeepalive = 4",
            "keepalive",
            "4 is not allowed (must be at most a third of hold_time 9: 1..=3)".into(),
        ),
        (
            "idle_hold = 10\nmax_idle_hold = 5",
            "max_idle_hold",
            "5 is less than idle_hold 10".into(),
        ),
        (
            "max_idle_hold = 4",
            "max_idle_hold",
            "4 is less than idle_hold 5 (default)".into(),
        ),
    ];
    for (fields, key, problem) in cases {
        let key = format!("neighbors[0].{key}");
        assert_eq!(
            only_problem(&with_neighbor(fields), &key),
            problem,
            "for {fields}"
        );
    }
}

#[test]
fn allowed_edge_values() {
    let c = ok(&format!(
        "{GLOBAL}[[neighbors]]\naddress = \"fd00::2\"\nremote_as = 4294967295\nhold_time = 0\n\
         keepalive = 7\nttl_security = 254\npassword = \"{}\"\ndelay_open = 0\nidle_hold = 100\n",
        "x".repeat(80)
    ));
    let n = &c.neighbors[0];
    assert_eq!((n.hold_time, n.keepalive), (0, Some(7)));
    assert_eq!(n.remote_as, u32::MAX);
    assert_eq!(n.delay_open, None);
    // The default max_idle_hold is never below idle_hold.
    assert_eq!(n.max_idle_hold, Duration::from_secs(100));
    assert_eq!(
        only_problem(
            &with_neighbor(&format!("password = \"{}\"", "x".repeat(81))),
            "neighbors[0].password"
        ),
        "must be 1..=80 bytes long (is 81 bytes)"
    );
}

#[test]
fn duplicate_neighbor_address() {
    let toml = format!(
        "{GLOBAL}[[neighbors]]\naddress = \"fd00::2\"\nremote_as = 1\n\
         [[neighbors]]\naddress = \"fd00::3\"\nremote_as = 1\n\
         [[neighbors]]\naddress = \"fd00:0:0::2\"\nremote_as = 1\n"
    );
    let e = errs(&toml);
    assert_eq!(
        e.to_string(),
        "neighbors[2].address: fd00::2 is configured twice (also neighbors[0])"
    );
}

#[test]
fn group_name_with_a_dot() {
    let c = ok(&format!(
        "{GLOBAL}[neighbor_groups.\"dc1.rr\"]\nremote_as = 7\n\
         [[neighbors]]\naddress = \"fd00::2\"\ngroup = \"dc1.rr\"\n"
    ));
    assert_eq!(c.neighbors[0].remote_as, 7);
    assert_eq!(c.neighbors[0].group.as_deref(), Some("dc1.rr"));
}

#[test]
fn unknown_group() {
    let toml = format!(
        "{GLOBAL}[neighbor_groups.rr]\nremote_as = 1\n\
         [[neighbors]]\naddress = \"fd00::2\"\ngroup = \"rrr\"\nremote_as = 1\n"
    );
    assert_eq!(
        only_problem(&toml, "neighbors[0].group"),
        "no neighbor group named \"rrr\""
    );
}

#[test]
fn group_values_are_checked_at_the_group_key() {
    let toml = format!(
        "{GLOBAL}[neighbor_groups.rr]\nremote_as = 1\nhold_time = 1\nport = 0\n\
         keepalive = 5\n"
    );
    let e = errs(&toml);
    assert_eq!(
        e.to_string(),
        "neighbor_groups.rr.hold_time: 1 is not allowed (must be 0 or 3..=65535)\n\
         neighbor_groups.rr.port: 0 is out of range (must be 1..=65535)"
    );
    let toml = format!("{GLOBAL}[neighbor_groups.rr]\nhold_time = 9\nkeepalive = 5\n");
    assert_eq!(
        only_problem(&toml, "neighbor_groups.rr.keepalive"),
        "5 is not allowed (must be at most a third of hold_time 9: 1..=3)"
    );
}

#[test]
fn checks_across_group_and_neighbor_name_both_keys() {
    let group = format!(
        "{GLOBAL}[neighbor_groups.rr]\nremote_as = 1\nhold_time = 9\nkeepalive = 3\nmax_idle_hold = 10\nlocal_address = \"fd00::1\"\n"
    );
    let n = |fields: &str| {
        format!("{group}[[neighbors]]\naddress = \"fd00::2\"\ngroup = \"rr\"\n{fields}\n")
    };
    assert_eq!(
        only_problem(&n("keepalive = 4"), "neighbors[0].keepalive"),
        "4 is not allowed (must be at most a third of hold_time 9 \
         (neighbor_groups.rr.hold_time): 1..=3)"
    );
    assert_eq!(
        only_problem(&n("hold_time = 6"), "neighbors[0].hold_time"),
        "6 is too short for keepalive 3 (neighbor_groups.rr.keepalive): must be 0 or at least 9"
    );
    assert_eq!(
        only_problem(&n("idle_hold = 20"), "neighbors[0].idle_hold"),
        "20 is more than max_idle_hold 10 (neighbor_groups.rr.max_idle_hold)"
    );
    // The group's IPv6 local address does not fit an IPv4 neighbor.
    let v4 = group.clone() + "[[neighbors]]\naddress = \"192.0.2.1\"\ngroup = \"rr\"\n";
    assert_eq!(
        only_problem(&v4, "neighbor_groups.rr.local_address"),
        "fd00::1 is IPv6 but neighbors[0].address 192.0.2.1 is IPv4"
    );
    // A neighbor's own local address overrides the group's.
    ok(&(v4 + "local_address = \"192.0.2.2\"\n"));
}

#[test]
fn several_problems_at_once() {
    let toml = "[global]\nasn = 0\nrouter_id = \"10.0.0\"\n\
         [[neighbors]]\naddress = \"fd00::2\"\nremote_as = 1\ngroup = \"rrr\"\n\
         [[neighbors]]\naddress = \"fd00::3\"\nremote_as = 1\nhold_time = 2\nhold_tme = 3\n\
         [[neighbors]]\naddress = \"fd00::2\"\nport = \"x\"\n";
    assert_eq!(
        errs(toml).to_string(),
        "global.asn: 0 is out of range (must be 1..=4294967295)\n\
         global.router_id: \"10.0.0\" is not an IPv4 address\n\
         neighbors[0].group: no neighbor group named \"rrr\"\n\
         neighbors[1].hold_time: 2 is not allowed (must be 0 or 3..=65535)\n\
         neighbors[1].hold_tme: unknown key (did you mean hold_time?)\n\
         neighbors[2].port: expected an integer, found string \"x\"\n\
         neighbors[2].remote_as: missing (required; set it here or in a neighbor group)\n\
         neighbors[2].address: fd00::2 is configured twice (also neighbors[0])"
    );
}

#[test]
fn unknown_keys_name_the_key() {
    assert_eq!(
        only_problem(&with_neighbor("hold_tme = 3"), "neighbors[0].hold_tme"),
        "unknown key (did you mean hold_time?)"
    );
    assert_eq!(
        only_problem(
            &format!("{GLOBAL}routerid = \"1.2.3.4\"\n"),
            "global.routerid"
        ),
        "unknown key (did you mean router_id?)"
    );
    assert_eq!(
        only_problem(
            &format!("{GLOBAL}[neighbor_groups.rr]\naddress = \"fd00::9\"\n"),
            "neighbor_groups.rr.address"
        ),
        "is not allowed in a neighbor group (set it on each [[neighbors]] entry)"
    );
    let p = only_problem(&format!("{GLOBAL}[policy]\nx = 1\n"), "policy");
    assert_eq!(
        p,
        "unknown key (known keys: global, neighbor_groups, neighbors, policies, prefix_lists, api, \
         metrics, srv6, dataplane)"
    );
    let p = only_problem(&format!("{GLOBAL}[neighbor]\nx = 1\n"), "neighbor");
    assert_eq!(p, "unknown key (did you mean neighbors?)");
}

#[test]
fn wrong_types_name_the_key() {
    assert_eq!(
        only_problem(
            &with_neighbor("hold_time = \"9\""),
            "neighbors[0].hold_time"
        ),
        "expected an integer, found string \"9\""
    );
    assert_eq!(
        only_problem(&with_neighbor("passive = 1"), "neighbors[0].passive"),
        "expected true or false, found integer 1"
    );
    assert_eq!(
        only_problem(
            &with_neighbor("families = \"ipv4-unicast\""),
            "neighbors[0].families"
        ),
        "expected an array of strings, found string \"ipv4-unicast\""
    );
    assert_eq!(
        only_problem(
            &with_neighbor("families = [\"ipv4-unicast\", 4]"),
            "neighbors[0].families[1]"
        ),
        "expected a string, found integer 4"
    );
    assert_eq!(
        only_problem(&with_neighbor("hold_time = 9.5"), "neighbors[0].hold_time"),
        "expected an integer, found float 9.5"
    );
    assert_eq!(
        only_problem(&format!("neighbors = 3\n{GLOBAL}"), "neighbors"),
        "expected an array of tables ([[neighbors]]), found integer 3"
    );
    assert_eq!(
        only_problem(&format!("{GLOBAL}[neighbors]\nx = 1\n"), "neighbors"),
        "expected an array of tables ([[neighbors]]), found a table"
    );
    assert_eq!(
        only_problem(
            &format!("{GLOBAL}[neighbor_groups]\nrr = 1\n"),
            "neighbor_groups.rr"
        ),
        "expected a table ([neighbor_groups.NAME]), found integer 1"
    );
}

#[test]
fn toml_syntax_error_has_line_and_column() {
    let e = errs("[global]\nasn = 65001\nrouter_id = [\n");
    assert_eq!(e.len(), 1);
    let p = &e.0[0];
    assert_eq!(p.key, "config");
    assert!(
        p.problem
            .starts_with("TOML syntax error at line 3, column "),
        "{p}"
    );
    assert!(!p.to_string().contains('\n'), "{p}");
    let e = errs("[global]\nasn = 1\nasn = 2\n");
    assert!(
        e.to_string()
            .starts_with("config: TOML syntax error at line 3, column 1: "),
        "{e}"
    );
}

#[test]
fn unreadable_file() {
    let e = config::load_with_env(Path::new("/nonexistent/sidrad.toml"), env(&[])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "file /nonexistent/sidrad.toml: cannot be read: No such file or directory"
    );
}

#[test]
fn environment_overrides_the_file() {
    let toml = with_neighbor("");
    let c = load_str_with_env(
        &toml,
        env(&[
            ("SIDRA_GLOBAL__ASN", "65002"),
            ("SIDRA_GLOBAL__ROUTER_ID", "1.2.3.4"),
            ("SIDRA_GLOBAL__LISTEN", "[::1]:1790, 127.0.0.1:1790"),
            ("SIDRA_LOG", "debug"),
            ("OTHER__ASN", "1"),
        ]),
    )
    .unwrap();
    assert_eq!(c.global.asn, 65002);
    assert_eq!(c.global.router_id, Ipv4Addr::new(1, 2, 3, 4));
    assert_eq!(
        c.global.listen,
        vec![
            "[::1]:1790".parse::<SocketAddr>().unwrap(),
            "127.0.0.1:1790".parse().unwrap()
        ]
    );
    assert_eq!(c.neighbors[0].local_as, 65002);
    let c = load_str_with_env(&toml, env(&[("SIDRA_GLOBAL__LISTEN", "")])).unwrap();
    assert!(c.global.listen.is_empty());
}

#[test]
fn environment_overrides_a_group() {
    let toml = format!(
        "{GLOBAL}[neighbor_groups.rr]\nremote_as = 1\n\
         [[neighbors]]\naddress = \"fd00::2\"\ngroup = \"rr\"\n"
    );
    let c = load_str_with_env(
        &toml,
        env(&[
            ("SIDRA_NEIGHBOR_GROUPS__RR__HOLD_TIME", "30"),
            ("SIDRA_NEIGHBOR_GROUPS__RR__PASSIVE", "TRUE"),
            ("SIDRA_NEIGHBOR_GROUPS__RR__PASSWORD", "from-env"),
        ]),
    )
    .unwrap();
    let n = &c.neighbors[0];
    assert_eq!(n.hold_time, 30);
    assert!(n.passive);
    assert_eq!(n.password.as_ref().map(Secret::expose), Some("from-env"));
}

#[test]
fn bad_environment_values_name_the_key_and_the_variable() {
    let e = load_str_with_env(
        GLOBAL,
        env(&[
            ("SIDRA_GLOBAL__ASN", "x12"),
            ("SIDRA_GLOBAL__ROUTER_ID", "1.2.3"),
            ("SIDRA_GLOBAL__ASM", "1"),
        ]),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "global.asm: unknown key (did you mean asn?) (from environment variable SIDRA_GLOBAL__ASM)\n\
         global.asn: expected an integer, found \"x12\" (from environment variable SIDRA_GLOBAL__ASN)\n\
         global.router_id: \"1.2.3\" is not an IPv4 address (from environment variable \
         SIDRA_GLOBAL__ROUTER_ID)"
    );
    let e = load_str_with_env(GLOBAL, env(&[("SIDRA_GLOBAL__ASN", "0")])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "global.asn: 0 is out of range (must be 1..=4294967295) (from environment variable \
         SIDRA_GLOBAL__ASN)"
    );
}

#[test]
fn secret_is_never_shown() {
    let c = ok(&with_neighbor("password = \"hunter2-very-secret\""));
    let debug = format!("{c:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("password: Some(***)"), "{debug}");
    let pretty = format!("{c:#?}");
    assert!(!pretty.contains("hunter2"), "{pretty}");
    let secret = c.neighbors[0].password.clone().unwrap();
    assert_eq!(secret.to_string(), "***");
    assert_eq!(secret.expose(), "hunter2-very-secret");
    // A bad password is not echoed either.
    let long = "hunter2".repeat(20);
    let e = errs(&with_neighbor(&format!("password = \"{long}\"")));
    assert!(!e.to_string().contains("hunter2"), "{e}");
}

#[test]
fn reload_can_diff_neighbors() {
    let a = ok(&with_neighbor("hold_time = 9"));
    let b = ok(&with_neighbor("hold_time = 30"));
    assert_ne!(a.neighbors[0], b.neighbors[0]);
    assert_eq!(a.global, b.global);
    assert_eq!(a, ok(&with_neighbor("hold_time = 9")));
}

fn example_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../etc/sidrad.toml")
}

#[test]
fn example_file_loads() {
    let c = match config::load_with_env(&example_path(), env(&[])) {
        Ok(c) => c,
        Err(e) => panic!("etc/sidrad.toml:\n{e}"),
    };
    assert_eq!(c.global.asn, 65001);
    assert_eq!(c.neighbors.len(), 3);
    let (rr1, rr2, leaf) = (&c.neighbors[0], &c.neighbors[1], &c.neighbors[2]);
    assert!(rr1.is_ibgp() && rr2.is_ibgp() && !leaf.is_ibgp());
    assert_eq!(rr1.group.as_deref(), Some("rr"));
    assert_eq!((rr1.hold_time, rr1.keepalive), (9, Some(3)));
    assert_eq!((rr2.hold_time, rr2.keepalive), (30, Some(10)));
    assert_eq!(rr1.families.len(), 4);
    assert!(leaf.password.is_some());
    assert_eq!(leaf.ttl_security, Some(1));
    assert_eq!(leaf.group, None);
}

#[test]
fn example_file_with_environment() {
    let c = config::load_with_env(&example_path(), env(&[("SIDRA_GLOBAL__ASN", "65002")])).unwrap();
    assert_eq!(c.global.asn, 65002);
    // The route reflectors' remote_as is explicit, so they are now eBGP.
    assert!(!c.neighbors[0].is_ibgp());
}

#[test]
fn load_reads_the_process_environment_too() {
    // No SIDRA_<SECTION>__<KEY> variables are set for the tests: the file alone.
    let c = config::load(&example_path()).unwrap();
    assert_eq!(c, config::load_with_env(&example_path(), env(&[])).unwrap());
}
