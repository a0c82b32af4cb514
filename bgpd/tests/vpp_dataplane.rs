#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The VPP backend against the in-process fake VPP (`vpp_client::fake::FakeVpp`, VPP 26.06's
//! semantics, codes and traps), driven by the real reconciler where the order matters.
//! docs/calico-vpp-lessons.md maps Calico-VPP's SRv6 mistakes to these tests.

use std::net::Ipv6Addr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bgpd::dataplane::reconciler::{self, ReconcilerHandle};
use bgpd::dataplane::vpp::VppDataplane;
use bgpd::dataplane::{
    Change, Dataplane, DataplaneState, DiffOptions, LocalBehavior, LocalSid, MAIN_TABLE, Policy,
    SegmentList, Steering, diff,
};
use bgpd::srv6::bsid::BsidAllocator;
use vpp_client::fake::FakeVpp;

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// A fresh socket path in a temp dir of its own.
fn socket(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "sidra-vpp-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("api.sock")
}

async fn fake(name: &str) -> (FakeVpp, PathBuf) {
    let path = socket(name);
    (FakeVpp::start(&path).unwrap(), path)
}

fn list(sids: &[&str]) -> SegmentList {
    SegmentList {
        segments: sids.iter().map(|s| a(s)).collect(),
        weight: 1,
    }
}

/// A node: VRF 10 (both families), End.DT4 + End.DT6 into it, one End.DT6 into the main
/// table, two policies (one with two lists) and three steering entries.
fn node() -> DataplaneState {
    let mut s = DataplaneState {
        encap_source: Some(a("fd00::1")),
        ..Default::default()
    };
    s.tables.insert((10, false));
    s.tables.insert((10, true));
    for (sid, behavior, table) in [
        ("fc00:0:1:1:1::", LocalBehavior::EndDt4, 10),
        ("fc00:0:1:1:2::", LocalBehavior::EndDt6, 10),
        ("fc00:0:1:1:3::", LocalBehavior::EndDt6, MAIN_TABLE),
    ] {
        s.add_local_sid(LocalSid {
            sid: a(sid),
            behavior,
            table,
        });
    }
    s.add_policy(Policy {
        bsid: a("fcff::1"),
        segment_lists: vec![list(&["fc00:0:9::1", "fc00:0:9::2", "fc00:0:2:1:1::"])],
    });
    s.add_policy(Policy {
        bsid: a("fcff::2"),
        segment_lists: vec![list(&["fc00:0:3:1:2::"]), list(&["fc00:0:4:1:2::"])],
    });
    for (table, prefix, bsid) in [
        (10, "10.2.0.0/24", "fcff::1"),
        (10, "2001:db8:2::/64", "fcff::1"),
        (MAIN_TABLE, "2001:db8:3::/64", "fcff::2"),
    ] {
        s.add_steering(Steering {
            table,
            prefix: prefix.parse().unwrap(),
            bsid: a(bsid),
        });
    }
    s
}

/// The position of the first log line starting with `prefix` at or after `from`.
fn first(log: &[String], from: usize, prefix: &str) -> usize {
    log.iter()
        .skip(from)
        .position(|l| l.starts_with(prefix))
        .map(|p| p + from)
        .unwrap_or_else(|| panic!("no {prefix:?} after {from} in {log:#?}"))
}

fn last(log: &[String], prefix: &str) -> usize {
    log.iter()
        .rposition(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in {log:#?}"))
}

/// Tables before DT SIDs, encap source before policies, policies before steering.
fn assert_add_order(log: &[String], from: usize) {
    let table = first(log, from, "ip_table_add_del");
    let sid = first(log, from, "sr_localsid_add_del");
    let src = first(log, from, "sr_set_encap_source");
    let pol = first(log, from, "sr_policy_add");
    let steer = first(log, from, "sr_steering_add_del");
    assert!(table < sid, "tables before local SIDs: {log:#?}");
    assert!(src < pol, "encap source before policies: {log:#?}");
    assert!(
        last(log, "sr_policy_add") < steer,
        "policies before steering: {log:#?}"
    );
    assert!(
        log[from..].iter().all(|l| l.ends_with("-> 0")),
        "every request succeeded: {log:#?}"
    );
}

/// What VPP holds, read by a second backend (as a restarted sidrad would).
async fn read(path: &std::path::Path) -> DataplaneState {
    let mut b = VppDataplane::connect(path).await.unwrap();
    b.read().await.unwrap()
}

/// `read` == `want` for sidra's objects (the read adds VPP's table 0 as the main table, and a
/// new connection does not know the encap source: VPP cannot report it).
fn assert_holds(got: &DataplaneState, want: &DataplaneState) {
    assert_eq!(got.local_sids, want.local_sids);
    assert_eq!(got.policies, want.policies);
    assert_eq!(got.steering, want.steering);
    assert!(got.tables.is_superset(&want.tables), "{:?}", got.tables);
    assert!(got.underlay.is_empty());
}

async fn reconcile(path: &std::path::Path, want: &DataplaneState) -> ReconcilerHandle {
    let backend = VppDataplane::connect(path).await.unwrap();
    let (mut h, _first) = reconciler::spawn(backend, false);
    h.set_desired(want.clone().into());
    assert!(
        h.wait_in_sync(Duration::from_secs(20)).await,
        "{:?}",
        h.status.borrow()
    );
    h
}

#[tokio::test]
async fn applies_in_dependency_order_and_reads_back_what_it_wrote() {
    let (vpp, path) = fake("order").await;
    let want = node();
    let h = reconcile(&path, &want).await;
    assert_add_order(&vpp.log(), 0);
    assert_eq!(vpp.counts(), (2, 3, 2, 3));
    assert_holds(&read(&path).await, &want);
    assert!(
        h.status
            .borrow()
            .modes
            .iter()
            .any(|m| m.contains("End.DT46"))
    );
}

#[tokio::test]
async fn teardown_removes_steering_then_policies_then_sids() {
    let (vpp, path) = fake("teardown").await;
    let h = reconcile(&path, &node()).await;
    let mark = vpp.log().len();
    h.set_desired(DataplaneState::default().into());
    let mut h = h;
    // The status is in sync already: wait for VPP to be empty instead.
    for _ in 0..100 {
        if vpp.counts() == (2, 0, 0, 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(h.wait_in_sync(Duration::from_secs(5)).await);
    let log = vpp.log();
    assert_eq!(
        vpp.counts(),
        (2, 0, 0, 0),
        "nothing left but the VRFs: {log:#?}"
    );
    let steer = last(&log, "sr_steering_add_del");
    let pol_first = first(&log, mark, "sr_policy_del");
    let sid_first = first(&log, mark, "sr_localsid_add_del");
    assert!(steer < pol_first, "steering before its policy: {log:#?}");
    assert!(
        last(&log, "sr_policy_del") < sid_first,
        "policies before SIDs: {log:#?}"
    );
    let got = read(&path).await;
    assert!(got.local_sids.is_empty() && got.policies.is_empty() && got.steering.is_empty());
}

#[tokio::test]
async fn a_vpp_restart_is_repaired_in_dependency_order_without_operator_action() {
    let (vpp, path) = fake("restart").await;
    let want = node();
    let h = reconcile(&path, &want).await;
    let reads = h.status.borrow().reads_total;
    vpp.restart(Duration::from_millis(300)).await.unwrap();
    assert_eq!(vpp.counts(), (0, 0, 0, 0), "VPP lost everything");
    for _ in 0..300 {
        if vpp.counts() == (2, 3, 2, 3) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(vpp.counts(), (2, 3, 2, 3), "{:#?}", vpp.log());
    // The fake's log restarted with its state: it holds only the re-programming.
    assert_add_order(&vpp.log(), 0);
    assert!(
        h.status.borrow().reads_total > reads,
        "read again after the restart"
    );
    assert_holds(&read(&path).await, &want);
}

#[tokio::test]
async fn a_failing_request_is_retried() {
    let (vpp, path) = fake("retry").await;
    vpp.fail_next("sr_policy_add", -13);
    let want = node();
    let h = reconcile(&path, &want).await;
    let log = vpp.log();
    let injected = first(&log, 0, "sr_policy_add (injected) -> -13");
    assert!(last(&log, "sr_policy_add -> 0") > injected, "{log:#?}");
    let st = h.status.borrow().clone();
    assert!(st.failed_total >= 1);
    let err = st.last_error.unwrap();
    assert!(err.contains("fcff::1"), "{err}");
    assert_holds(&read(&path).await, &want);
}

#[tokio::test]
async fn end_dt46_is_refused_with_a_clear_error_and_the_rest_is_programmed() {
    let (vpp, path) = fake("dt46").await;
    let mut want = node();
    want.add_local_sid(LocalSid {
        sid: a("fc00:0:1:1:4::"),
        behavior: LocalBehavior::EndDt46,
        table: 10,
    });
    let backend = VppDataplane::connect(&path).await.unwrap();
    let (mut h, _) = reconciler::spawn(backend, false);
    h.set_desired(want.into());
    let st = h
        .status
        .wait_for(|s| s.last_error.is_some())
        .await
        .unwrap()
        .clone();
    let err = st.last_error.unwrap();
    assert!(err.contains("End.DT46") && err.contains("dt4-dt6"), "{err}");
    for _ in 0..100 {
        if vpp.counts() == (2, 3, 2, 3) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(vpp.counts(), (2, 3, 2, 3), "the other changes went through");
}

#[tokio::test]
async fn a_dt_sid_is_never_added_before_its_vrf() {
    let (vpp, path) = fake("novrf").await;
    let mut b = VppDataplane::connect(&path).await.unwrap();
    b.read().await.unwrap();
    let sid = LocalSid {
        sid: a("fc00:0:1:1:1::"),
        behavior: LocalBehavior::EndDt4,
        table: 20,
    };
    // Table 20 was never created: refused before VPP sees it.
    let r = b.apply(&[Change::AddLocalSid(sid)]).await;
    let e = r[0].as_ref().unwrap_err().to_string();
    assert!(
        e.contains("table 20") && e.contains("does not exist"),
        "{e}"
    );
    assert!(vpp.log().is_empty(), "nothing sent: {:?}", vpp.log());
    // In the same batch after its table: fine, and VPP survives its next dump.
    let r = b
        .apply(&[Change::AddTable(20, false), Change::AddLocalSid(sid)])
        .await;
    assert!(r.iter().all(Result::is_ok), "{r:?}");
    let got = b.read().await.unwrap();
    assert_eq!(got.local_sids.get(&sid.sid), Some(&sid));
    assert!(!vpp.crashed_and_restarted());
}

#[tokio::test]
async fn a_policy_is_not_removed_while_steering_points_at_it() {
    let (vpp, path) = fake("dangling").await;
    let want = node();
    drop(reconcile(&path, &want).await);
    let mut b = VppDataplane::connect(&path).await.unwrap();
    b.read().await.unwrap();
    let p = want.policies[&a("fcff::2")].clone();
    let r = b.apply(&[Change::DelPolicy(p.clone())]).await;
    let e = r[0].as_ref().unwrap_err().to_string();
    assert!(
        e.contains("fcff::2") && e.contains("still points at it"),
        "{e}"
    );
    assert_eq!(vpp.counts().2, 2, "the policy is still there");
    // Steering first, then the policy: both go, nothing dangles.
    let s = want.steering.values().find(|s| s.bsid == p.bsid).unwrap();
    let r = b
        .apply(&[Change::DelSteering(*s), Change::DelPolicy(p)])
        .await;
    assert!(r.iter().all(Result::is_ok), "{r:?}");
    assert_eq!(vpp.counts(), (2, 3, 1, 2));
    // Deleting again is idempotent ("not found" is success).
    let again = b.apply(&[Change::DelSteering(*s)]).await;
    assert!(again[0].is_ok());
}

#[tokio::test]
async fn a_modified_policy_keeps_its_binding_sid_and_steering() {
    let (vpp, path) = fake("modify").await;
    let mut want = node();
    let h = reconcile(&path, &want).await;
    let mark = vpp.log().len();
    want.add_policy(Policy {
        bsid: a("fcff::2"),
        segment_lists: vec![list(&["fc00:0:4:1:2::"]), list(&["fc00:0:5:1:2::"])],
    });
    let mut h = h;
    h.set_desired(want.clone().into());
    for _ in 0..100 {
        if read(&path).await.policies == want.policies {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(h.wait_in_sync(Duration::from_secs(5)).await);
    let log = vpp.log()[mark..].to_vec();
    assert_eq!(
        log,
        ["sr_policy_mod -> 0", "sr_policy_mod -> 0"],
        "one list added, then the old one deleted; no policy del/add, steering untouched"
    );
    assert_holds(&read(&path).await, &want);
}

#[tokio::test]
async fn binding_sids_survive_a_sidra_restart_and_are_freed_with_their_policy() {
    let (vpp, path) = fake("bsid").await;
    let range = "fcff::/120".parse().unwrap();
    let lists = vec![list(&["fc00:0:2:1:1::"])];
    let mut alloc = BsidAllocator::new(range);
    let bsid = alloc.get(&lists).unwrap();
    let mut want = DataplaneState::default();
    want.add_policy(Policy {
        bsid,
        segment_lists: lists.clone(),
    });
    want.add_steering(Steering {
        table: MAIN_TABLE,
        prefix: "10.2.0.0/24".parse().unwrap(),
        bsid,
    });
    drop(reconcile(&path, &want).await);

    // sidrad restarts: it adopts the binding SIDs VPP holds, so the same lists get the same
    // BSID and nothing is re-programmed (no second policy, no leak).
    let mut b = VppDataplane::connect(&path).await.unwrap();
    let found = b.read().await.unwrap();
    let mut alloc = BsidAllocator::new(range);
    for p in found.policies.values() {
        assert!(alloc.adopt(p.bsid, p.segment_lists.clone()));
    }
    assert_eq!(alloc.get(&lists), Some(bsid));
    let changes = diff(&found, &want, DiffOptions::default());
    assert!(
        changes.iter().all(|c| matches!(c, Change::AddTable(..))),
        "{changes:?}"
    );

    // The route is withdrawn: the policy goes and its BSID is free again.
    alloc.retain(|_| false);
    assert!(alloc.is_empty());
    let gone = diff(&found, &DataplaneState::default(), DiffOptions::default());
    let r = b.apply(&gone).await;
    assert!(r.iter().all(Result::is_ok), "{r:?}");
    assert_eq!(vpp.counts(), (0, 0, 0, 0));
}

#[tokio::test]
async fn dt4_and_dt6_sids_of_a_service_never_collide() {
    let conf = r#"
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
mode = "global"
pods = ["10.1.1.0/24", "2001:db8:1:1::/64"]
"#;
    let cfg = bgpd::config::load_str(conf).unwrap();
    let sids = bgpd::srv6::local::allocate(&cfg.srv6).unwrap();
    let (dt4, dt6) = (sids[0].dt4.unwrap(), sids[0].dt6.unwrap());
    assert_ne!(dt4.sid, dt6.sid);
    let (vpp, path) = fake("collide").await;
    let mut want = DataplaneState::default();
    want.add_local_sid(dt4);
    want.add_local_sid(dt6);
    drop(reconcile(&path, &want).await);
    assert_eq!(vpp.counts().1, 2);
    let got = read(&path).await;
    assert_eq!(got.local_sids[&dt4.sid].behavior, LocalBehavior::EndDt4);
    assert_eq!(got.local_sids[&dt6.sid].behavior, LocalBehavior::EndDt6);
}

#[tokio::test]
async fn odd_policies_are_refused_without_a_panic() {
    let (vpp, path) = fake("odd").await;
    let mut b = VppDataplane::connect(&path).await.unwrap();
    b.read().await.unwrap();
    let seventeen = (0..17u16)
        .map(|i| Ipv6Addr::new(0xfc00, 0, 2, 1, 0, 0, 0, i))
        .collect();
    let odd = [
        Policy {
            bsid: a("fcff::1"),
            segment_lists: vec![],
        },
        Policy {
            bsid: a("fcff::2"),
            segment_lists: vec![list(&[])],
        },
        Policy {
            bsid: a("fcff::3"),
            segment_lists: vec![SegmentList {
                segments: seventeen,
                weight: 1,
            }],
        },
    ];
    let changes: Vec<Change> = odd.iter().cloned().map(Change::AddPolicy).collect();
    let r = b.apply(&changes).await;
    assert!(r.iter().all(Result::is_err), "{r:?}");
    assert!(vpp.log().is_empty());
    // Underlay routes are not VPP's business: a clear error, not a panic.
    let u = bgpd::dataplane::UnderlayRoute {
        prefix: "fc00:0:2::/48".parse().unwrap(),
        via: a("fe80::1"),
    };
    let r = b.apply(&[Change::AddUnderlay(u)]).await;
    let e = r[0].as_ref().unwrap_err().to_string();
    assert!(
        e.contains("underlay routes are not supported by the VPP backend"),
        "{e}"
    );
}

fn daemon_config(path: &std::path::Path, extra: &str) -> bgpd::config::Config {
    let toml = format!(
        r#"
[global]
asn = 65000
router_id = "10.0.0.1"
listen = []
[srv6]
source_address = "fd00::1"
[[srv6.locators]]
name = "main"
prefix = "fc00:0:1:1::/64"
[[srv6.services]]
name = "pods"
mode = "global"
table = 10
pods = ["10.1.1.0/24", "2001:db8:1:1::/64"]
[dataplane]
backend = "vpp"
vpp_socket = "{}"
{extra}
"#,
        path.display()
    );
    bgpd::config::load_str(&toml).unwrap()
}

#[tokio::test]
async fn sidrad_with_dataplane_vpp_programs_its_sids() {
    let (vpp, path) = fake("daemon").await;
    let config = daemon_config(&path, "");
    let daemon = bgpd::daemon::Daemon::start(&config).await.unwrap();
    for _ in 0..100 {
        if vpp.counts() == (2, 2, 0, 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(vpp.counts(), (2, 2, 0, 0), "{:#?}", vpp.log());
    assert_add_order_sids(&vpp.log());
    let got = read(&path).await;
    let behaviors: Vec<_> = got
        .local_sids
        .values()
        .map(|s| (s.behavior, s.table))
        .collect();
    assert_eq!(
        behaviors,
        [(LocalBehavior::EndDt4, 10), (LocalBehavior::EndDt6, 10)]
    );
    drop(daemon);
}

fn assert_add_order_sids(log: &[String]) {
    assert!(
        last(log, "ip_table_add_del") < first(log, 0, "sr_localsid_add_del"),
        "{log:#?}"
    );
    assert!(
        log.iter().any(|l| l == "sr_set_encap_source -> 0"),
        "{log:#?}"
    );
}

#[tokio::test]
async fn sidrad_refuses_an_absent_vpp_and_underlay_routes_with_vpp() {
    let path = socket("absent");
    let e = bgpd::daemon::Daemon::start(&daemon_config(&path, ""))
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains(&path.display().to_string()), "{e}");
    let (_vpp, path) = fake("underlay").await;
    let e = bgpd::daemon::Daemon::start(&daemon_config(&path, "underlay_routes = true"))
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("underlay_routes is not supported by the VPP backend"),
        "{e}"
    );
}
