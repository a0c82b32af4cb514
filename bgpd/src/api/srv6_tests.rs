use std::sync::Arc;

use super::*;
use crate::config::load_str;
use crate::dataplane::{Policy, Steering};
use crate::packet::Family;
use crate::srv6::ServiceView;
use crate::srv6::local::allocate;

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
pods = ["10.1.1.0/24"]
[[srv6.services]]
name = "global"
mode = "global"
behavior = "dt46"
"#;

fn a(s: &str) -> Ipv6Addr {
    s.parse().expect("address")
}

fn n(s: &str) -> IpNet {
    s.parse().expect("prefix")
}

/// The snapshot of CONF with one remote route installed (10.2.1.0/24 from fd00::2 through
/// bsid fcff::1) and one not installed, and a sync status that holds: the local SIDs, the
/// policy, the steering entry of a route that is gone (stale), but not the new one.
fn fixture() -> (Srv6Snapshot, SyncStatus, Srv6Config) {
    let cfg = load_str(CONF).expect("config").srv6;
    let sids = allocate(&cfg).expect("sids");
    let mut desired = DataplaneState::default();
    for s in sids.iter().flat_map(|s| s.all()) {
        desired.add_local_sid(s);
    }
    let policy = Policy {
        bsid: a("fcff::1"),
        segment_lists: vec![SegmentList {
            segments: vec![a("fc00:0:2:2:1::")],
            weight: 1,
        }],
    };
    desired.add_policy(policy.clone());
    desired.add_steering(Steering {
        table: 254,
        prefix: n("10.2.1.0/24"),
        bsid: a("fcff::1"),
    });
    let mut programmed = desired.clone();
    programmed.steering.clear();
    programmed.add_steering(Steering {
        table: 254,
        prefix: n("10.3.0.0/24"),
        bsid: a("fcff::1"),
    });
    let services = cfg
        .services
        .iter()
        .zip(&sids)
        .map(|(c, s)| ServiceView {
            config: c.clone(),
            locator: "main".into(),
            sids: s.all().collect(),
            pods: c.pods.clone(),
            generation: 0,
        })
        .collect();
    let routes = vec![
        RouteStatus {
            family: Family::IPV4_VPN,
            prefix: n("10.2.1.0/24"),
            rd: None,
            neighbor: Some("fd00::2".parse().expect("ip")),
            sid: Some(a("fc00:0:2:2:1::")),
            behavior: Some(19),
            service: Some("pods".into()),
            verdict: Verdict::Installed {
                table: 254,
                bsid: a("fcff::1"),
            },
        },
        RouteStatus {
            family: Family::IPV6_UNICAST,
            prefix: n("2001:db8:9::/64"),
            rd: None,
            neighbor: Some("fd00::3".parse().expect("ip")),
            sid: Some(a("fc00:0:3:3:1::")),
            behavior: Some(18),
            service: Some("global".into()),
            verdict: Verdict::NotInstalled("the SID is not reachable".into()),
        },
    ];
    let snap = Srv6Snapshot {
        locators: vec![("main".into(), "fc00:0:1:1::/64".parse().expect("net"))],
        services,
        routes: Arc::new(routes),
        desired: Arc::new(desired),
    };
    let sync = SyncStatus {
        backend: "none",
        in_sync: false,
        pending: 2,
        holding_removals: true,
        reads_total: 1,
        programmed: Arc::new(programmed),
        ..Default::default()
    };
    (snap, sync, cfg)
}

#[test]
fn locators_carry_their_structure_and_services() {
    let (snap, _, cfg) = fixture();
    let ls = locators(&snap, &cfg);
    assert_eq!(ls.len(), 1);
    let l = &ls[0];
    assert_eq!(
        (l.block_len, l.node_len, l.function_len, l.argument_len),
        (40, 24, 16, 0)
    );
    assert_eq!(l.prefix, "fc00:0:1:1::/64");
    assert_eq!(l.services, ["pods", "global"]);
    assert!(l.advertised);
}

#[test]
fn local_sids_name_their_service_and_installed_state() {
    let (snap, mut sync, _) = fixture();
    let sids = local_sids(&snap, &sync);
    let got: Vec<(&str, &str, &str, bool)> = sids
        .iter()
        .map(|s| {
            (
                s.sid.as_str(),
                s.behavior.as_str(),
                s.service.as_str(),
                s.installed,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("fc00:0:1:1:1::", "End.DT4", "pods", true),
            ("fc00:0:1:1:2::", "End.DT6", "pods", true),
            ("fc00:0:1:1:3::", "End.DT46", "global", true),
        ]
    );
    assert!(sids.iter().all(|s| s.locator == "main" && !s.stale));
    // Not programmed: pending; programmed and not desired: stale, no service.
    let mut programmed = (*sync.programmed).clone();
    programmed.local_sids.remove(&a("fc00:0:1:1:3::"));
    programmed.add_local_sid(crate::dataplane::LocalSid {
        sid: a("fc00:0:1:1:9::"),
        behavior: crate::dataplane::LocalBehavior::EndDt6,
        table: 7,
    });
    sync.programmed = Arc::new(programmed);
    let sids = local_sids(&snap, &sync);
    assert_eq!(sids.len(), 4);
    assert!(!sids[2].installed && !sids[2].stale);
    let old = &sids[3];
    assert_eq!(old.sid, "fc00:0:1:1:9::");
    assert!(old.stale && old.installed);
    assert_eq!((old.service.as_str(), old.locator.as_str()), ("", "main"));
}

#[test]
fn policies_with_segment_lists_and_steering_counts() {
    let (snap, sync, _) = fixture();
    let ps = policies(&snap, &sync);
    assert_eq!(ps.len(), 1);
    let p = &ps[0];
    assert_eq!(p.bsid, "fcff::1");
    assert_eq!(p.endpoint, "fc00:0:2:2:1::");
    assert_eq!(p.segment_list, ["fc00:0:2:2:1::"]);
    assert_eq!(p.segment_lists[0].weight, 1);
    assert!(p.active && !p.stale);
    assert_eq!(p.steering_count, 1);
}

#[test]
fn steering_desired_pending_and_stale() {
    let (snap, sync, _) = fixture();
    let es = steering(&snap, &sync, None);
    assert_eq!(es.len(), 2);
    let new = &es[0];
    assert_eq!(new.prefix, "10.2.1.0/24");
    assert_eq!(new.service, "pods");
    assert_eq!(new.sid, "fc00:0:2:2:1::");
    assert_eq!(new.neighbor, "fd00::2");
    assert_eq!(new.bsid, "fcff::1");
    assert!(!new.installed && !new.stale);
    assert_eq!(new.reason, "pending (2 changes to apply)");
    let old = &es[1];
    assert_eq!(old.prefix, "10.3.0.0/24");
    assert!(old.installed && old.stale);
    assert_eq!(old.sid, "fc00:0:2:2:1::", "from its policy");
    assert!(old.reason.contains("removal held"), "{}", old.reason);
    // By service: the stale entry belongs to none.
    assert_eq!(steering(&snap, &sync, Some("pods")).len(), 1);
    assert!(steering(&snap, &sync, Some("global")).is_empty());
}

#[test]
fn routes_with_verdicts() {
    let (snap, _, _) = fixture();
    let rs = routes(&snap, None, false);
    assert_eq!(rs.len(), 2);
    assert!(rs[0].installed);
    assert_eq!(
        (rs[0].table, rs[0].bsid.as_str(), rs[0].behavior.as_str()),
        (254, "fcff::1", "End.DT4")
    );
    assert_eq!(rs[0].family, "ipv4-vpn");
    assert!(!rs[1].installed);
    assert_eq!(rs[1].reason, "the SID is not reachable");
    let only = routes(&snap, None, true);
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].prefix, "2001:db8:9::/64");
    assert_eq!(routes(&snap, Some("pods"), false).len(), 1);
}

#[test]
fn dataplane_status_counts() {
    let (snap, mut sync, _) = fixture();
    let s = dataplane_status(&snap, &sync);
    assert!(s.connected && !s.in_sync && s.holding_removals);
    assert_eq!(s.backend, "none");
    assert_eq!(s.pending_changes, 2);
    assert_eq!((s.local_sids, s.policies, s.steering), (3, 1, 1));
    assert_eq!(
        (s.desired_local_sids, s.desired_policies, s.desired_steering),
        (3, 1, 1)
    );
    assert_eq!((s.routes_installed, s.routes_not_installed), (1, 1));
    assert_eq!(s.last_error_unix, 0);
    sync.last_error = Some("cannot read the data plane: connection refused".into());
    sync.last_error_at = Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(100));
    let s = dataplane_status(&snap, &sync);
    assert!(!s.connected);
    assert_eq!(s.last_error_unix, 100);
    sync.last_sync = Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(200));
    assert!(dataplane_status(&snap, &sync).connected, "synced since");
}

#[test]
fn cidrs_are_checked() {
    assert_eq!(
        parse_cidrs(&["10.1.0.0/24".into(), " 2001:db8::/64 ".into()]).expect("ok"),
        [n("10.1.0.0/24"), n("2001:db8::/64")]
    );
    let e = parse_cidrs(&["10.1.0.0/24".into(), "10.1.0.0/33".into()]).expect_err("bad");
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        e.message(),
        "cidrs[1]: \"10.1.0.0/33\" is not a CIDR (e.g. \"10.1.0.0/24\", \"2001:db8:1::/64\")"
    );
    let e = parse_cidrs(&["10.1.0.1/24".into()]).expect_err("host bits");
    assert_eq!(
        e.message(),
        "cidrs[0]: \"10.1.0.1/24\" has host bits set (did you mean 10.1.0.0/24?)"
    );
}

#[test]
fn pod_errors_map_to_codes() {
    let (snap, _, _) = fixture();
    let code = |e| pods_error(e, &snap).code();
    assert_eq!(
        code(PodsError::NoService("x".into())),
        tonic::Code::NotFound
    );
    assert_eq!(
        pods_error(PodsError::NoService("x".into()), &snap).message(),
        "no service named \"x\" is configured (services: pods, global)"
    );
    assert_eq!(
        code(PodsError::GenerationMismatch {
            expected: 1,
            current: 2
        }),
        tonic::Code::Aborted
    );
    assert_eq!(
        code(PodsError::Overlap {
            prefix: n("10.1.1.0/25"),
            other: n("10.1.1.0/24"),
            service: "pods".into()
        }),
        tonic::Code::FailedPrecondition
    );
    assert_eq!(code(PodsError::Gone), tonic::Code::Unavailable);
}

#[test]
fn pod_cidrs_per_service_and_generation() {
    let (mut snap, _, _) = fixture();
    snap.services[0].generation = 2;
    snap.services[0].pods.push(n("10.1.2.0/24"));
    snap.services[1].generation = 5;
    let all = pod_cidrs(&snap, None);
    assert_eq!(all.generation, 7);
    assert_eq!(all.services.len(), 2);
    let one = pod_cidrs(&snap, Some("pods"));
    assert_eq!(one.generation, 2);
    assert_eq!(one.services[0].cidrs, ["10.1.1.0/24", "10.1.2.0/24"]);
    assert_eq!(one.services[0].configured_cidrs, ["10.1.1.0/24"]);
    assert_eq!(one.services[0].mode, "vpn");
}
