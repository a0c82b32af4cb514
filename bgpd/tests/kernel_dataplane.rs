#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The kernel backend against the real kernel, each test in network namespaces of its own
//! (root needed). The backend runs on a thread that entered the namespace (`setns`), with a
//! current-thread tokio runtime.

mod netns;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bgpd::dataplane::{
    Change, Dataplane, DataplaneState, LocalBehavior, LocalSid, Policy, UnderlayRoute, diff,
};
use netns::{Netns, TwoNodes, a6, apply_ok, list, open, opts, sid, steer};

/// The state of the round-trip test.
fn desired() -> DataplaneState {
    let mut s = DataplaneState {
        encap_source: Some(a6("fc00:1::1")),
        tables: BTreeSet::from([(254, false), (254, true), (100, true)]),
        ..Default::default()
    };
    s.add_local_sid(sid("fc00:1::6", LocalBehavior::EndDt6));
    s.add_local_sid(LocalSid {
        table: 100,
        ..sid("fc00:1::106", LocalBehavior::EndDt6)
    });
    s.add_local_sid(sid("fc00:1::4", LocalBehavior::EndDt4));
    s.add_local_sid(sid("fc00:1::46", LocalBehavior::EndDt46));
    s.add_underlay(UnderlayRoute {
        prefix: "fc00:2::/48".parse().unwrap(),
        via: a6("fd00::2"),
    });
    s.add_underlay(UnderlayRoute {
        prefix: "fc00:3::/48".parse().unwrap(),
        via: a6("fd00::3"),
    });
    s.add_policy(Policy {
        bsid: a6("fc00:1:b::1"),
        segment_lists: vec![list(&["fc00:2::6"], 1)],
    });
    s.add_policy(Policy {
        bsid: a6("fc00:1:b::2"),
        segment_lists: vec![
            list(&["fc00:2::6"], 1),
            list(&["fc00:3::7", "fc00:2::6"], 3),
        ],
    });
    s.add_steering(steer("10.2.0.0/24", 254, "fc00:1:b::1"));
    s.add_steering(steer("2001:db8:2::/64", 254, "fc00:1:b::1"));
    s.add_steering(steer("10.3.0.0/24", 254, "fc00:1:b::2"));
    s.add_steering(steer("2001:db8:3::/64", 254, "fc00:1:b::2"));
    s.add_steering(steer("2001:db8:4::/64", 100, "fc00:1:b::1"));
    s
}

/// A namespace with a veth pair whose one end has fd00::1/64 (the underlay's gateways
/// fd00::2 and fd00::3 are on that link).
fn node_with_link() -> Netns {
    let ns = Netns::new("kd");
    ns.ip(&["link", "add", "up0", "type", "veth", "peer", "name", "up1"]);
    ns.ip(&["link", "set", "up0", "up"]);
    ns.ip(&["link", "set", "up1", "up"]);
    ns.ip(&["addr", "add", "fd00::1/64", "dev", "up0", "nodad"]);
    ns
}

fn our_routes(ns: &Netns) -> (String, String) {
    (
        ns.ip(&["-d", "-4", "route", "show", "proto", "99", "table", "all"]),
        ns.ip(&["-d", "-6", "route", "show", "proto", "99", "table", "all"]),
    )
}

#[test]
fn round_trip_and_removal_nexthops() {
    round_trip_and_removal(true);
}

#[test]
fn round_trip_and_removal_per_route() {
    round_trip_and_removal(false);
}

fn round_trip_and_removal(nexthops: bool) {
    let ns = node_with_link();
    // Hand-made routes of other protocols, one to a prefix sidra steers too.
    ns.ip(&[
        "route",
        "add",
        "10.9.0.0/24",
        "dev",
        "up0",
        "proto",
        "static",
    ]);
    ns.ip(&[
        "-6",
        "route",
        "add",
        "2001:db8:2::/64",
        "dev",
        "up0",
        "proto",
        "static",
    ]);
    let want = desired();
    let w = want.clone();
    ns.block_on(move || async move {
        let mut dp = open(nexthops);
        let caps = dp.capabilities();
        assert!(
            caps.modes.iter().any(|m| m.contains("End.DT6")),
            "{:?}",
            caps.modes
        );
        let empty = dp.read().await.unwrap();
        assert!(empty.is_empty(), "{empty:?}");
        let changes = diff(&empty, &w, opts(&dp));
        apply_ok(&mut dp, &changes).await;
        let got = dp.read().await.unwrap();
        assert_eq!(got, w);
        assert!(diff(&got, &w, opts(&dp)).is_empty());
    });
    let (v4, v6) = our_routes(&ns);
    let v4_lines: Vec<&str> = v4.lines().filter(|l| !l.starts_with('\t')).collect();
    assert_eq!(v4_lines.len(), 2, "{v4}");
    if nexthops {
        check_nexthop_routes(&ns, &v4, &v6);
    } else {
        check_per_route_routes(&v4, &v6);
    }
    assert!(
        ns.exec(&["ip", "sr", "tunsrc", "show"])
            .contains("fc00:1::1")
    );

    // A new instance (sidra restarted) finds everything, policies with their real BSIDs.
    let w = want.clone();
    ns.block_on(move || async move {
        let mut dp = open(nexthops);
        let got = dp.read().await.unwrap();
        let mut w_no_tables = w.clone();
        w_no_tables.tables.clear();
        assert_eq!(got, w_no_tables);
        // Only the (no-op) tables are left to do.
        let changes = diff(&got, &w, opts(&dp));
        assert!(
            changes.iter().all(|c| matches!(c, Change::AddTable(..))),
            "{changes:?}"
        );
        apply_ok(&mut dp, &changes).await;

        // A modified policy replaces its steering routes; End.DT4 outside the main table fails.
        let mut w2 = w.clone();
        w2.add_policy(Policy {
            bsid: a6("fc00:1:b::1"),
            segment_lists: vec![list(&["fc00:3::6"], 1), list(&["fc00:2::6"], 2)],
        });
        w2.add_local_sid(LocalSid {
            table: 100,
            ..sid("fc00:1::104", LocalBehavior::EndDt4)
        });
        let have = dp.read().await.unwrap();
        let changes = diff(&have, &w2, opts(&dp));
        let r = dp.apply(&changes).await;
        for (c, r) in changes.iter().zip(&r) {
            match c {
                Change::AddLocalSid(s) if s.table == 100 && s.behavior == LocalBehavior::EndDt4 => {
                    let e = r.as_ref().unwrap_err().to_string();
                    assert!(
                        e.contains("End.DT4 fc00:1::104") && e.contains("VRF"),
                        "{e}"
                    );
                }
                _ => assert!(r.is_ok(), "{c:?}: {r:?}"),
            }
        }
        let mut w3 = w2.clone();
        w3.local_sids.remove(&a6("fc00:1::104"));
        let got = dp.read().await.unwrap();
        assert_eq!(got, w3);

        // Remove everything.
        let changes = diff(&got, &DataplaneState::default(), opts(&dp));
        apply_ok(&mut dp, &changes).await;
        let got = dp.read().await.unwrap();
        assert!(
            got.local_sids.is_empty()
                && got.policies.is_empty()
                && got.steering.is_empty()
                && got.underlay.is_empty(),
            "{got:?}"
        );
    });
    let (v4, v6) = our_routes(&ns);
    assert_eq!(v4.trim(), "", "{v4}");
    assert_eq!(v6.trim(), "", "{v6}");
    assert_eq!(ns.ip(&["nexthop", "show", "proto", "99"]).trim(), "");
    // The hand-made routes are untouched.
    assert!(
        ns.ip(&["route", "show", "proto", "static"])
            .contains("10.9.0.0/24 dev up0")
    );
    assert!(
        ns.ip(&["-6", "route", "show", "proto", "static"])
            .contains("2001:db8:2::/64 dev up0")
    );
}

/// The routes of [`desired`] in the per-route mode.
fn check_per_route_routes(v4: &str, v6: &str) {
    assert!(
        v4.contains(
            "10.2.0.0/24  encap seg6 mode encap segs 1 [ fc00:2::6 ] via inet6 fd00::2 dev up0"
        ),
        "{v4}"
    );
    assert!(v4.contains("nexthop  encap seg6 mode encap segs 2 [ fc00:3::7 fc00:2::6 ] via inet6 fd00::3 dev up0 weight 3"), "{v4}");
    for l in [
        "2001:db8:2::/64  encap seg6 mode encap segs 1 [ fc00:2::6 ] via fd00::2 dev up0 table main",
        "2001:db8:4::/64  encap seg6 mode encap segs 1 [ fc00:2::6 ] via fd00::2 dev up0 table 100",
        "fc00:1::6  encap seg6local action End.DT6 table main dev up",
        "fc00:1::106  encap seg6local action End.DT6 table 100 dev up",
        "local fc00:1::4 dev lo table local scope global metric 4",
        "local fc00:1::46 dev lo table local scope global metric 46",
        "fc00:1:b::1  encap seg6local action End.B6.Encaps segs 1 [ fc00:2::6 ]",
        "nexthop  encap seg6local action End.B6.Encaps segs 2 [ fc00:3::7 fc00:2::6 ] via fd00::3 dev up0 weight 3",
        "fc00:2::/48 via fd00::2 dev up0",
        "fc00:3::/48 via fd00::3 dev up0",
    ] {
        assert!(v6.contains(l), "missing {l:?} in\n{v6}");
    }
    let v6_routes = v6.lines().filter(|l| !l.starts_with('\t')).count();
    assert_eq!(v6_routes, 11, "{v6}");
}

/// The routes and nexthops of [`desired`] with nexthop objects.
fn check_nexthop_routes(ns: &Netns, v4: &str, v6: &str) {
    let nhs = ns.ip(&["nexthop", "show", "proto", "99"]);
    // Policy 1: one nexthop; policy 2: two members and a group (weights 1 and 3).
    assert_eq!(nhs.lines().count(), 4, "{nhs}");
    let id_of = |line: &str| line.split_whitespace().nth(1).unwrap().to_string();
    let group = nhs.lines().find(|l| l.contains(" group ")).unwrap();
    let p2 = id_of(group);
    let members: Vec<&str> = group
        .split_whitespace()
        .nth(3)
        .unwrap()
        .split('/')
        .collect();
    assert!(
        members[0].ends_with(",1") || !members[0].contains(','),
        "{group}"
    );
    assert!(members[1].ends_with(",3"), "{group}");
    let p1 = nhs
        .lines()
        .filter(|l| l.contains("segs 1 [ fc00:2::6 ] via fd00::2 dev up0"))
        .map(id_of)
        .find(|id| {
            !members
                .iter()
                .any(|m| m.split(',').next() == Some(id.as_str()))
        })
        .unwrap_or_else(|| panic!("no nexthop of policy 1 in\n{nhs}"));
    // The kernel shows the nexthop's encapsulation on the route too.
    for l in [
        format!("10.2.0.0/24 nhid {p1}  encap seg6 mode encap segs 1 [ fc00:2::6 ] via inet6 fd00::2 dev up0"),
        format!("10.3.0.0/24 nhid {p2} "),
        "nexthop  encap seg6 mode encap segs 2 [ fc00:3::7 fc00:2::6 ] via inet6 fd00::3 dev up0 weight 3".to_string(),
    ] {
        assert!(v4.contains(&l), "missing {l:?} in\n{v4}");
    }
    for l in [
        format!(
            "2001:db8:2::/64 nhid {p1}  encap seg6 mode encap segs 1 [ fc00:2::6 ] via fd00::2 dev up0 table main"
        ),
        format!(
            "2001:db8:4::/64 nhid {p1}  encap seg6 mode encap segs 1 [ fc00:2::6 ] via fd00::2 dev up0 table 100"
        ),
        format!("2001:db8:3::/64 nhid {p2} table main"),
        format!("fc00:1:b::1 nhid {p1} "),
        format!("fc00:1:b::2 nhid {p2} table 381403"),
        "fc00:1::6  encap seg6local action End.DT6 table main dev up".to_string(),
        "fc00:1::106  encap seg6local action End.DT6 table 100 dev up".to_string(),
        "local fc00:1::4 dev lo table local scope global metric 4".to_string(),
        "local fc00:1::46 dev lo table local scope global metric 46".to_string(),
        "fc00:2::/48 via fd00::2 dev up0".to_string(),
        "fc00:3::/48 via fd00::3 dev up0".to_string(),
    ] {
        assert!(v6.contains(&l), "missing {l:?} in\n{v6}");
    }
    assert!(!v6.contains("End.B6.Encaps"), "{v6}");
    let v6_routes = v6.lines().filter(|l| !l.starts_with('\t')).count();
    assert_eq!(v6_routes, 11, "{v6}");
}

/// Two nodes over an IPv6-only link, each with a pod (IPv4 + IPv6) behind it; each node's
/// backend decapsulates its SIDs and steers the other pod's prefixes into SRv6.
#[test]
fn pods_ping_over_srv6() {
    let TwoNodes {
        running: _running,
        n1: _n1,
        n2,
        p1,
        p2,
    } = TwoNodes::new("kd", true);

    // Capture on node 2's uplink while the pods ping.
    let cap = format!("/tmp/{}-cap.txt", n2.0);
    let file = std::fs::File::create(&cap).unwrap();
    let mut tcpdump = Command::new("timeout")
        .args([
            "15",
            "ip",
            "netns",
            "exec",
            &n2.0,
            "tcpdump",
            "-l",
            "-n",
            "-v",
            "-i",
            "uplink",
            "-c",
            "8",
            "ip6 and dst net fc00:2::/48",
        ])
        .stdout(file)
        .stderr(Stdio::piped())
        .spawn()
        .expect("tcpdump (apt-get install tcpdump)");
    std::thread::sleep(Duration::from_millis(1500));
    p1.exec(&["ping", "-c", "3", "-i", "0.3", "-W", "1", "10.2.1.2"]);
    p1.exec(&[
        "ping",
        "-6",
        "-c",
        "3",
        "-i",
        "0.3",
        "-W",
        "1",
        "2001:db8:2::2",
    ]);
    p2.exec(&["ping", "-c", "3", "-i", "0.3", "-W", "1", "10.1.1.2"]);
    p2.exec(&[
        "ping",
        "-6",
        "-c",
        "3",
        "-i",
        "0.3",
        "-W",
        "1",
        "2001:db8:1::2",
    ]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while tcpdump.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    if tcpdump.try_wait().unwrap().is_none() {
        let _ = tcpdump.kill();
        let _ = tcpdump.wait();
    }
    let text = std::fs::read_to_string(&cap).unwrap();
    let _ = std::fs::remove_file(&cap);
    // Outer IPv6 to the SID with an SRH (segments-left 0) around IPv4 and IPv6 pod packets.
    assert!(
        text.contains("fc00:1::1 > fc00:2::4: RT6 (len=2, type=4, segleft=0")
            && text.contains("10.1.1.2 > 10.2.1.2: ICMP echo request"),
        "{text}"
    );
    assert!(
        text.contains("fc00:1::1 > fc00:2::6: RT6 (len=2, type=4, segleft=0")
            && text.contains("2001:db8:1::2 > 2001:db8:2::2: [icmp6 sum ok] ICMP6, echo request"),
        "{text}"
    );
}

/// The ids of sidra's nexthops, and the nexthop each IPv4 steering route points at.
fn nhids(ns: &Netns) -> (BTreeSet<String>, Vec<String>) {
    let nhs = ns.ip(&["nexthop", "show", "proto", "99"]);
    let ids = nhs
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
        .collect();
    let routes = ns.ip(&["-4", "route", "show", "proto", "99"]);
    let used = routes
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            w.find(|x| *x == "nhid")?;
            w.next().map(str::to_string)
        })
        .collect();
    (ids, used)
}

/// A policy change is one change, replaces the policy's nexthop in place, and every route
/// steered into it follows; a restarted backend reads the exact state back.
#[test]
fn policy_change_moves_all_steering_at_once() {
    let ns = node_with_link();
    let mut s = DataplaneState::default();
    s.add_underlay(UnderlayRoute {
        prefix: "fc00::/16".parse().unwrap(),
        via: a6("fd00::2"),
    });
    let (b1, b2) = ("fc00:1:b::1", "fc00:1:b::2");
    s.add_policy(Policy {
        bsid: a6(b1),
        segment_lists: vec![list(&["fc00:2::4"], 1)],
    });
    s.add_policy(Policy {
        bsid: a6(b2),
        segment_lists: vec![list(&["fc00:3::4"], 2), list(&["fc00:4::4"], 5)],
    });
    for i in 0..200 {
        let b = if i % 2 == 0 { b1 } else { b2 };
        s.add_steering(steer(&format!("10.8.{}.{}/32", i / 100, i % 100), 254, b));
    }
    let w = s.clone();
    ns.block_on(move || async move {
        let mut dp = open(true);
        let have = dp.read().await.unwrap();
        let changes = diff(&have, &w, opts(&dp));
        apply_ok(&mut dp, &changes).await;
        assert_eq!(dp.read().await.unwrap(), w);
    });
    let (ids_before, used_before) = nhids(&ns);
    // Policy 1 (one list) and policy 2 (a group) change their segments and weights: only
    // the two policies are changed.
    let mut s2 = s.clone();
    s2.add_policy(Policy {
        bsid: a6(b1),
        segment_lists: vec![list(&["fc00:5::4"], 1)],
    });
    s2.add_policy(Policy {
        bsid: a6(b2),
        segment_lists: vec![list(&["fc00:6::4"], 1), list(&["fc00:4::4"], 7)],
    });
    let w2 = s2.clone();
    ns.block_on(move || async move {
        let mut dp = open(true);
        let have = dp.read().await.unwrap();
        let changes = diff(&have, &w2, opts(&dp));
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert!(
            changes
                .iter()
                .all(|c| matches!(c, Change::ModPolicy { .. })),
            "{changes:?}"
        );
        apply_ok(&mut dp, &changes).await;
        assert_eq!(dp.read().await.unwrap(), w2);
    });
    let (ids_after, used_after) = nhids(&ns);
    assert_eq!(ids_before, ids_after, "replaced in place");
    assert_eq!(used_before, used_after, "the routes were not touched");
    let routes = ns.ip(&["-4", "route", "show", "proto", "99"]);
    assert_eq!(
        routes.matches("segs 1 [ fc00:5::4 ]").count(),
        100,
        "{routes}"
    );
    assert!(!routes.contains("fc00:2::4"), "{routes}");
    assert_eq!(
        routes.matches("segs 1 [ fc00:6::4 ]").count(),
        100,
        "{routes}"
    );
    assert_eq!(routes.matches("weight 7").count(), 100, "{routes}");

    // One list becomes two (and two become one): new objects, the routes moved to them,
    // nothing of the old ones left; a restarted backend reads exactly that back.
    let mut s3 = s2.clone();
    s3.add_policy(Policy {
        bsid: a6(b1),
        segment_lists: vec![list(&["fc00:5::4"], 1), list(&["fc00:7::4"], 3)],
    });
    s3.add_policy(Policy {
        bsid: a6(b2),
        segment_lists: vec![list(&["fc00:8::4"], 1)],
    });
    let w3 = s3.clone();
    ns.block_on(move || async move {
        let mut dp = open(true);
        let have = dp.read().await.unwrap();
        let changes = diff(&have, &w3, opts(&dp));
        apply_ok(&mut dp, &changes).await;
        let mut dp = open(true);
        let got = dp.read().await.unwrap();
        assert_eq!(got, w3);
        assert!(diff(&got, &w3, opts(&dp)).is_empty());
    });
    let (ids, used) = nhids(&ns);
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert_eq!(used.len(), 200);
    assert!(used.iter().all(|u| ids.contains(u)), "{used:?} {ids:?}");
    let routes = ns.ip(&["-4", "route", "show", "proto", "99"]);
    assert_eq!(
        routes.matches("segs 1 [ fc00:8::4 ]").count(),
        100,
        "{routes}"
    );
    assert_eq!(
        routes.matches("segs 1 [ fc00:7::4 ]").count(),
        100,
        "{routes}"
    );
}

/// State of the per-route mode (an older sidra) is taken over: the routes are moved to
/// nexthops and the End.B6.Encaps routes go.
#[test]
fn per_route_state_is_taken_over() {
    let ns = node_with_link();
    let want = desired();
    let w = want.clone();
    ns.block_on(move || async move {
        let mut dp = open(false);
        let have = dp.read().await.unwrap();
        let changes = diff(&have, &w, opts(&dp));
        apply_ok(&mut dp, &changes).await;
        let mut dp = open(true);
        let have = dp.read().await.unwrap();
        assert!(have.policies.is_empty(), "{have:?}");
        let changes = diff(&have, &w, opts(&dp));
        apply_ok(&mut dp, &changes).await;
        let got = dp.read().await.unwrap();
        assert_eq!(got, w);
    });
    let (v4, v6) = our_routes(&ns);
    check_nexthop_routes(&ns, &v4, &v6);
}
