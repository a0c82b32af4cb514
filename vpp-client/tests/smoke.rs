//! The smoke check's logic against the fake VPP (feature `fake-vpp`), whose semantics and
//! return codes follow the recorded VPP 26.06 behaviour, and the fake against its traps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::replay::temp_socket;
use vpp_client::fake::FakeVpp;
use vpp_client::smoke::{self, SmokeConfig};
use vpp_client::*;

const T: Duration = Duration::from_secs(5);

fn position(log: &[String], prefix: &str) -> usize {
    log.iter()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("{prefix} not in {log:?}"))
}

#[tokio::test]
async fn smoke_passes_and_tears_down_in_order() {
    let (_dir, sock) = temp_socket("smoke-ok");
    let fake = FakeVpp::start(&sock).unwrap();
    let vpp = Client::connect(&sock, T).await.unwrap();
    let report = smoke::run(&vpp, &SmokeConfig::default()).await;
    assert!(report.ok, "{report:?}");
    assert_eq!(report.vpp_version.as_deref(), Some("26.06-fake"));
    assert_eq!(report.steps.len(), 22);
    assert!(report.steps.iter().all(|s| s.ok));
    assert_eq!(fake.counts(), (0, 0, 0, 0), "everything removed");
    assert!(!fake.crashed_and_restarted());
    let log = fake.log();
    // VRFs before DT SIDs; encap source before the policy; steering before the policy; SIDs
    // before their VRFs.
    let first_sid = position(&log, "sr_localsid_add_del");
    assert!(position(&log, "ip_table_add_del") < first_sid);
    assert!(position(&log, "sr_set_encap_source") < position(&log, "sr_policy_add"));
    let del_policy = position(&log, "sr_policy_del");
    let last_steer = log
        .iter()
        .rposition(|l| l.starts_with("sr_steering_add_del"))
        .unwrap();
    assert!(last_steer < del_policy);
    let last_sid = log
        .iter()
        .rposition(|l| l.starts_with("sr_localsid_add_del"))
        .unwrap();
    let last_table = log
        .iter()
        .rposition(|l| l.starts_with("ip_table_add_del"))
        .unwrap();
    assert!(last_sid < last_table);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["ok"], true);
    assert_eq!(json["steps"].as_array().unwrap().len(), 22);
    vpp.disconnect().await.unwrap();
}

#[tokio::test]
async fn smoke_failure_names_the_step_and_cleans_up() {
    let (_dir, sock) = temp_socket("smoke-fail");
    let fake = FakeVpp::start(&sock).unwrap();
    let vpp = Client::connect(&sock, T).await.unwrap();
    // The IPv4 steering add fails ("unknown BSID"): everything created before is removed.
    fake.fail_next("sr_steering_add_del", -2);
    let report = smoke::run(&vpp, &SmokeConfig::default()).await;
    assert!(!report.ok);
    assert_eq!(report.failed_step, Some("add_steering_ipv4"), "{report:?}");
    assert!(
        report.error.as_deref().unwrap().contains("unknown BSID"),
        "{report:?}"
    );
    assert!(
        report.cleanup_errors.is_empty(),
        "{:?}",
        report.cleanup_errors
    );
    assert_eq!(
        fake.counts(),
        (0, 0, 0, 0),
        "cleanup removed what was created"
    );
    let log = fake.log();
    let del_policy = position(&log, "sr_policy_del");
    assert!(
        log[del_policy..]
            .iter()
            .any(|l| l.starts_with("ip_table_add_del"))
    );

    fake.fail_next("sr_policy_add", -12);
    let report = smoke::run(&vpp, &SmokeConfig::default()).await;
    assert_eq!(report.failed_step, Some("add_policy"));
    assert!(
        report.error.as_deref().unwrap().contains("-12"),
        "{report:?}"
    );
    assert!(
        report.cleanup_errors.is_empty(),
        "{:?}",
        report.cleanup_errors
    );
    assert_eq!(fake.counts(), (0, 0, 0, 0));
}

#[tokio::test]
async fn smoke_refuses_to_touch_existing_objects() {
    let (_dir, sock) = temp_socket("smoke-pre");
    let fake = FakeVpp::start(&sock).unwrap();
    let vpp = Client::connect(&sock, T).await.unwrap();
    let cfg = SmokeConfig::default();
    vpp.ip_table_add_del(true, &IpTable::new(cfg.vrf, false))
        .await
        .unwrap();
    let report = smoke::run(&vpp, &cfg).await;
    assert_eq!(report.failed_step, Some("preflight"));
    assert_eq!(
        fake.counts(),
        (1, 0, 0, 0),
        "the existing table is left alone"
    );
}

#[tokio::test]
async fn fake_reproduces_the_dt_without_vrf_crash_and_restart() {
    let (_dir, sock) = temp_socket("fake-crash");
    let fake = FakeVpp::start(&sock).unwrap();
    let mut rcfg = ReconnectConfig::new(ClientConfig::new(&sock));
    rcfg.min_backoff = Duration::from_millis(10);
    let rc = Reconnecting::connect(rcfg).await.unwrap();
    let mut link = rc.subscribe();
    let vpp = rc.client().unwrap();
    // Accepted (retval 0) although VRF 77 does not exist...
    vpp.localsid_add(&LocalSid::end_dt6("fc00::77".parse().unwrap(), 77))
        .await
        .unwrap();
    // ...and the next dump "crashes" VPP: the connection drops.
    let err = vpp.localsids().await.unwrap_err();
    assert!(matches!(err, Error::Disconnected(_)), "{err}");
    assert!(fake.crashed_and_restarted());
    let (vpp2, generation) = tokio::time::timeout(T, rc.wait_up(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(generation, 2);
    link.changed().await.unwrap();
    assert!(
        vpp2.localsids().await.unwrap().is_empty(),
        "state is gone after the restart"
    );

    // A restart under a live client: EOF, refused connects while down, reconnect.
    fake.restart(Duration::from_millis(100)).await.unwrap();
    let (vpp3, generation) = tokio::time::timeout(T, rc.wait_up(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(generation, 3);
    assert!(vpp2.is_closed());
    assert!(vpp3.ping().await.is_ok());
    rc.shutdown().await.unwrap();
    assert_eq!(rc.state(), LinkState::Closed);
}

#[tokio::test]
async fn fake_silent_drops_and_error_codes() {
    let (_dir, sock) = temp_socket("fake-codes");
    let _fake = FakeVpp::start(&sock).unwrap();
    let vpp = Client::connect(&sock, T).await.unwrap();
    let bsid: std::net::Ipv6Addr = "fc00::100".parse().unwrap();
    let p = PolicyAdd::encap(bsid, SidList::new(vec!["fc00::2".parse().unwrap()]));
    vpp.policy_add(&p).await.unwrap();
    let dup = vpp.policy_add(&p).await.unwrap_err();
    assert!(dup.vpp().unwrap().is_already_exists(), "{dup}");
    let s = Steering {
        bsid,
        table_id: 0,
        traffic: SteerTraffic::L3("10.0.0.0/8".parse().unwrap()),
    };
    assert!(
        vpp.steering_del(&s)
            .await
            .unwrap_err()
            .vpp()
            .unwrap()
            .is_not_found()
    );
    // Truncated body: no reply, connection still usable.
    let id = vpp.message_table().get("sr_policy_add_44ac92e8").unwrap();
    let r = vpp
        .request_raw(id, None, &[0; 286], Duration::from_millis(200))
        .await;
    assert!(matches!(r, Err(Error::Timeout { .. })), "{r:?}");
    assert_eq!(vpp.policies().await.unwrap().len(), 1);
    vpp.policy_del(bsid).await.unwrap();
    assert!(
        vpp.policy_del(bsid)
            .await
            .unwrap_err()
            .vpp()
            .unwrap()
            .is_not_found()
    );
    vpp.disconnect().await.unwrap();
    assert!(vpp.is_closed());
    assert!(matches!(vpp.ping().await, Err(Error::Disconnected(_))));
}
