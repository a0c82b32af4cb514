//! The SRv6 and node parts of the gRPC API against daemons running in this process, with the
//! `none` data plane: locators and SIDs, the CNI agent's pod CIDRs with generations (and the
//! routes they originate in the RIB), the remote routes of a peering sidrad turned into SR
//! policies and steering entries (with the reason for those that are not), the data plane
//! status; `sidractl srv6` and `sidractl node pods` in both formats; and FAILED_PRECONDITION
//! without an `[srv6]` section.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use sidra_proto::v1 as pb;
use sidra_proto::v1::node_service_client::NodeServiceClient;
use sidra_proto::v1::rib_service_client::RibServiceClient;
use sidra_proto::v1::srv6_service_client::Srv6ServiceClient;
use tonic::Code;
use tonic::transport::Channel;

mod common;
use common::{Node, TempDir, free_port};

/// Poll (every 100 ms, at most `secs`) until `f` holds.
async fn wait_for<F, Fut>(secs: u64, what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

const FAMILIES: &str = r#"["ipv4-unicast", "ipv6-unicast", "ipv4-vpn", "ipv6-vpn"]"#;

/// Node a (locator fc00:0:1:1::/64): a vpn service "pods" and a global service "global";
/// SIDs of other nodes under fc00::/16 count as reachable. With `b_port`, it peers with b.
fn config_a(dir: &Path, b_port: Option<u16>) -> String {
    let neighbor = match b_port {
        None => String::new(),
        Some(port) => format!(
            r#"
[[neighbors]]
address = "127.0.0.2"
remote_as = 65002
port = {port}
local_address = "127.0.0.1"
families = {FAMILIES}
connect_retry = 2
idle_hold = 1
import_policy = "accept-all"
export_policy = "accept-all"
"#
        ),
    };
    format!(
        r#"[global]
asn = 65001
router_id = "10.0.0.1"
listen = []

[api]
socket = "{}/a.sock"

[srv6]
source_address = "fd00::1"
underlay_prefixes = ["fc00::/16"]

[[srv6.locators]]
name = "main"
prefix = "fc00:0:1:1::/64"

[[srv6.services]]
name = "pods"
mode = "vpn"
rd = "65001:1"
route_targets = ["65000:100"]
pods = ["10.1.1.0/24"]

[[srv6.services]]
name = "global"
mode = "global"
behavior = "dt46"
pods = ["10.9.1.0/24"]

[dataplane]
backend = "none"
{neighbor}"#,
        dir.display()
    )
}

/// Node b (locator fc00:0:1:2::/64): the same vpn service (route target 65000:100), a vpn
/// service "other" whose route target a does not import, and a global service.
fn config_b(dir: &Path, b_port: u16) -> String {
    format!(
        r#"[global]
asn = 65002
router_id = "10.0.0.2"
listen = ["127.0.0.2:{b_port}"]

[api]
socket = "{}/b.sock"

[srv6]
source_address = "fd00::2"

[[srv6.locators]]
name = "main"
prefix = "fc00:0:1:2::/64"

[[srv6.services]]
name = "pods"
mode = "vpn"
rd = "65002:1"
route_targets = ["65000:100"]
pods = ["10.2.1.0/24"]

[[srv6.services]]
name = "other"
mode = "vpn"
rd = "65002:2"
route_targets = ["65000:999"]
pods = ["10.2.99.0/24"]

[[srv6.services]]
name = "global"
mode = "global"
behavior = "dt46"
pods = ["10.2.50.0/24"]

[dataplane]
backend = "none"

[[neighbors]]
address = "127.0.0.1"
remote_as = 65001
passive = true
families = {FAMILIES}
import_policy = "accept-all"
export_policy = "accept-all"
"#,
        dir.display()
    )
}

async fn status(c: &mut Srv6ServiceClient<Channel>) -> pb::DataplaneStatus {
    c.get_dataplane_status(pb::GetDataplaneStatusRequest {})
        .await
        .unwrap()
        .into_inner()
}

async fn best(c: &mut RibServiceClient<Channel>, family: &str, prefix: &str) -> Vec<pb::Route> {
    c.list_routes(pb::ListRoutesRequest {
        family: family.into(),
        prefix: prefix.into(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .routes
}

fn cidrs(r: &pb::PodCidrsResponse, service: &str) -> Vec<String> {
    r.services
        .iter()
        .find(|s| s.service == service)
        .unwrap_or_else(|| panic!("no service {service} in {r:?}"))
        .cidrs
        .clone()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locators_sids_status_and_pods() {
    let dir = TempDir::new("local");
    let a = Node::start(&config_a(&dir.0, None)).await;
    let ch = a.channel().await;
    let mut srv6 = Srv6ServiceClient::new(ch.clone());
    let mut node = NodeServiceClient::new(ch.clone());
    let mut rib = RibServiceClient::new(ch.clone());

    // Locators, with their structure.
    let ls = srv6
        .list_locators(pb::ListLocatorsRequest {})
        .await
        .unwrap()
        .into_inner()
        .locators;
    assert_eq!(ls.len(), 1);
    let l = &ls[0];
    assert_eq!(
        (l.name.as_str(), l.prefix.as_str()),
        ("main", "fc00:0:1:1::/64")
    );
    assert_eq!(
        (l.block_len, l.node_len, l.function_len, l.argument_len),
        (40, 24, 16, 0)
    );
    assert_eq!(l.services, strings(&["pods", "global"]));

    // The data plane (none) takes the local SIDs: in sync, nothing pending.
    wait_for(10, "the data plane in sync", || {
        let mut c = srv6.clone();
        async move { status(&mut c).await.in_sync }
    })
    .await;
    let st = status(&mut srv6).await;
    assert_eq!(st.backend, "none");
    assert!(st.connected, "{st:?}");
    assert_eq!(st.pending_changes, 0);
    assert!(!st.holding_removals);
    assert!(st.last_error.is_empty(), "{st:?}");
    assert_eq!(st.last_error_unix, 0);
    assert!(st.last_sync_unix > 0);
    assert_eq!((st.local_sids, st.desired_local_sids), (3, 3));
    assert!(!st.modes.is_empty());

    // The SIDs come from the locator, in configuration order, and are programmed.
    let sids = srv6
        .list_local_sids(pb::ListLocalSidsRequest {})
        .await
        .unwrap()
        .into_inner()
        .sids;
    let got: Vec<(&str, &str, &str, &str, bool)> = sids
        .iter()
        .map(|s| {
            (
                s.sid.as_str(),
                s.behavior.as_str(),
                s.service.as_str(),
                s.locator.as_str(),
                s.installed,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("fc00:0:1:1:1::", "End.DT4", "pods", "main", true),
            ("fc00:0:1:1:2::", "End.DT6", "pods", "main", true),
            ("fc00:0:1:1:3::", "End.DT46", "global", "main", true),
        ]
    );
    // No peer: no policy, no steering, no remote route.
    assert!(
        srv6.list_policies(pb::ListSrPoliciesRequest {})
            .await
            .unwrap()
            .into_inner()
            .policies
            .is_empty()
    );
    assert!(
        srv6.list_steering(pb::ListSteeringRequest::default())
            .await
            .unwrap()
            .into_inner()
            .entries
            .is_empty()
    );
    let e = srv6
        .list_steering(pb::ListSteeringRequest {
            service: "nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    assert!(e.message().contains("services: pods, global"), "{e:?}");

    // Pods: the configuration's, generation 0.
    let r = node
        .list_pod_cidrs(pb::ListPodCidrsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.generation, 0);
    assert_eq!(cidrs(&r, "pods"), strings(&["10.1.1.0/24"]));
    assert_eq!(cidrs(&r, "global"), strings(&["10.9.1.0/24"]));

    // Add: generation 1, and the RIB originates the route with the service's SID.
    let r = node
        .add_pod_cidrs(pb::AddPodCidrsRequest {
            service: "pods".into(),
            cidrs: strings(&["10.1.2.0/24", "2001:db8:1:2::/64"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.generation, 1);
    assert_eq!(r.services.len(), 1);
    assert_eq!(
        r.services[0].cidrs,
        strings(&["10.1.1.0/24", "10.1.2.0/24", "2001:db8:1:2::/64"])
    );
    assert_eq!(r.services[0].configured_cidrs, strings(&["10.1.1.0/24"]));
    let routes = best(&mut rib, "ipv4-vpn", "10.1.2.0/24").await;
    assert_eq!(routes.len(), 1, "{routes:?}");
    assert_eq!(routes[0].rd, "65001:1");
    let p = &routes[0].paths[0];
    assert_eq!(p.neighbor, "local");
    assert_eq!(p.srv6_sid, "fc00:0:1:1:1::");
    assert_eq!(p.srv6_behavior, 19);
    assert!(
        p.ext_communities.iter().any(|c| c.contains("65000:100")),
        "{p:?}"
    );
    let routes = best(&mut rib, "ipv6-vpn", "2001:db8:1:2::/64").await;
    assert_eq!(routes[0].paths[0].srv6_sid, "fc00:0:1:1:2::");

    // A global service's pod: IPv6 unicast with the End.DT46 SID.
    let r = node
        .add_pod_cidrs(pb::AddPodCidrsRequest {
            service: "global".into(),
            cidrs: strings(&["2001:db8:9::/64"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.generation, 1);
    let routes = best(&mut rib, "ipv6-unicast", "2001:db8:9::/64").await;
    assert_eq!(routes.len(), 1, "{routes:?}");
    assert_eq!(routes[0].paths[0].srv6_sid, "fc00:0:1:1:3::");
    assert_eq!(routes[0].paths[0].srv6_behavior, 20);

    // Set with the generation the agent last saw.
    let r = node
        .set_pod_cidrs(pb::SetPodCidrsRequest {
            service: "pods".into(),
            cidrs: strings(&["10.1.3.0/24"]),
            expected_generation: 1,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.generation, 2);
    assert_eq!(
        cidrs(&r, "pods"),
        strings(&["10.1.1.0/24", "10.1.3.0/24"]),
        "the configuration's stay"
    );
    assert!(best(&mut rib, "ipv4-vpn", "10.1.2.0/24").await.is_empty());
    assert!(
        best(&mut rib, "ipv6-vpn", "2001:db8:1:2::/64")
            .await
            .is_empty()
    );
    assert_eq!(best(&mut rib, "ipv4-vpn", "10.1.3.0/24").await.len(), 1);

    // A stale generation: ABORTED, nothing changes.
    let e = node
        .set_pod_cidrs(pb::SetPodCidrsRequest {
            service: "pods".into(),
            cidrs: vec![],
            expected_generation: 1,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Aborted);
    assert!(e.message().contains("current generation is 2"), "{e:?}");
    // Unknown service: NOT_FOUND.
    let e = node
        .add_pod_cidrs(pb::AddPodCidrsRequest {
            service: "nope".into(),
            cidrs: strings(&["10.5.0.0/24"]),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    assert!(e.message().contains("\"nope\""), "{e:?}");
    let e = node
        .list_pod_cidrs(pb::ListPodCidrsRequest {
            service: "nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    // A bad CIDR: INVALID_ARGUMENT naming it.
    let e = node
        .add_pod_cidrs(pb::AddPodCidrsRequest {
            service: "pods".into(),
            cidrs: strings(&["10.1.4.0/24", "10.1.0.0/33"]),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("\"10.1.0.0/33\""), "{e:?}");
    // Another service's CIDR: FAILED_PRECONDITION naming it.
    let e = node
        .add_pod_cidrs(pb::AddPodCidrsRequest {
            service: "pods".into(),
            cidrs: strings(&["10.9.1.128/25"]),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert!(
        e.message().contains("10.9.1.0/24") && e.message().contains("global"),
        "{e:?}"
    );
    let r = node
        .list_pod_cidrs(pb::ListPodCidrsRequest {
            service: "pods".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.generation, 2, "nothing changed");
    assert_eq!(cidrs(&r, "pods"), strings(&["10.1.1.0/24", "10.1.3.0/24"]));

    // Remove.
    let r = node
        .remove_pod_cidrs(pb::RemovePodCidrsRequest {
            service: "pods".into(),
            cidrs: strings(&["10.1.3.0/24"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.generation, 3);
    assert_eq!(cidrs(&r, "pods"), strings(&["10.1.1.0/24"]));
    assert!(best(&mut rib, "ipv4-vpn", "10.1.3.0/24").await.is_empty());

    // sidractl, both formats.
    let socket = a.socket.clone();
    let out = tokio::task::spawn_blocking(move || {
        let run = |args: &[&str]| sidractl(&socket, args);
        (
            run(&["srv6", "sids"]),
            run(&["srv6", "sids", "--json"]),
            run(&["node", "pods", "list"]),
            run(&["node", "pods", "list", "pods", "--json"]),
            run(&[
                "node",
                "pods",
                "set",
                "pods",
                "10.1.7.0/24",
                "--expect-generation",
                "1",
            ]),
            run(&["node", "pods", "add", "pods", "10.1.8.0/24", "--json"]),
            run(&["srv6", "status"]),
            run(&["srv6", "locators"]),
        )
    })
    .await
    .unwrap();
    let (sids_t, sids_j, pods_t, pods_j, stale, added, status_t, locators_t) = out;
    assert!(sids_t.status.success(), "{}", text(&sids_t.stderr));
    assert_eq!(
        text(&sids_t.stdout),
        "SID             BEHAVIOR  TABLE  SERVICE  LOCATOR  STATE\n\
         fc00:0:1:1:1::  End.DT4   254    pods     main     installed\n\
         fc00:0:1:1:2::  End.DT6   254    pods     main     installed\n\
         fc00:0:1:1:3::  End.DT46  254    global   main     installed\n"
    );
    let v: Value = serde_json::from_slice(&sids_j.stdout).unwrap();
    let sids = v["sids"].as_array().unwrap();
    assert_eq!(sids.len(), 3);
    assert_eq!(sids[0]["sid"], "fc00:0:1:1:1::");
    assert_eq!(sids[0]["behavior"], "End.DT4");
    assert_eq!(sids[0]["service"], "pods");
    assert_eq!(sids[0]["installed"], true);
    assert_eq!(sids[2]["behavior"], "End.DT46");
    assert!(pods_t.status.success(), "{}", text(&pods_t.stderr));
    assert_eq!(
        text(&pods_t.stdout),
        "SERVICE  MODE    GENERATION  CIDR             SOURCE\n\
         pods     vpn     3           10.1.1.0/24      config\n\
         global   global  1           10.9.1.0/24      config\n\
         \x20                            2001:db8:9::/64  agent\n"
    );
    let v: Value = serde_json::from_slice(&pods_j.stdout).unwrap();
    assert_eq!(v["generation"], 3);
    assert_eq!(v["services"][0]["service"], "pods");
    assert_eq!(v["services"][0]["cidrs"][0], "10.1.1.0/24");
    assert_eq!(v["services"][0]["mode"], "vpn");
    assert_eq!(stale.status.code(), Some(1));
    let e = text(&stale.stderr);
    assert!(e.starts_with("sidractl: ABORTED: "), "{e}");
    assert!(e.contains("current generation is 3"), "{e}");
    assert!(added.status.success(), "{}", text(&added.stderr));
    let v: Value = serde_json::from_slice(&added.stdout).unwrap();
    assert_eq!(v["generation"], 4);
    assert_eq!(v["services"][0]["cidrs"][1], "10.1.8.0/24");
    assert!(status_t.status.success(), "{}", text(&status_t.stderr));
    let s = text(&status_t.stdout);
    assert!(s.contains("\nin sync           yes\n"), "{s}");
    assert!(s.starts_with("backend           none\n"), "{s}");
    assert_eq!(
        text(&locators_t.stdout),
        "NAME  PREFIX           STRUCTURE (B/N/F/A)  ADVERTISED  SERVICES\n\
         main  fc00:0:1:1::/64  40/24/16/0           yes         pods, global\n"
    );
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_routes_become_policies_and_steering() {
    let dir = TempDir::new("remote");
    let b_port = free_port("127.0.0.2");
    let b = Node::start(&config_b(&dir.0, b_port)).await;
    let a = Node::start(&config_a(&dir.0, Some(b_port))).await;
    let mut srv6 = Srv6ServiceClient::new(a.channel().await);

    // b's pods arrive: its vpn pods (route target imported by "pods") and its global pod are
    // installed; its "other" pods are not (no service imports their route target).
    let until = Instant::now() + Duration::from_secs(30);
    let routes = loop {
        let r = srv6
            .list_srv6_routes(pb::ListSrv6RoutesRequest::default())
            .await
            .unwrap()
            .into_inner()
            .routes;
        if r.iter().filter(|r| r.installed).count() == 2 && r.len() == 3 {
            break r;
        }
        if Instant::now() > until {
            let rib = RibServiceClient::new(a.channel().await)
                .list_routes(pb::ListRoutesRequest {
                    family: "ipv4-vpn".into(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            panic!("timed out waiting for b's routes in a's SRv6 service: {r:#?}\nRIB: {rib:#?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let find = |p: &str| routes.iter().find(|r| r.prefix == p).unwrap().clone();
    let vpn = find("10.2.1.0/24");
    assert_eq!(
        (vpn.family.as_str(), vpn.rd.as_str(), vpn.service.as_str()),
        ("ipv4-vpn", "65002:1", "pods")
    );
    assert_eq!(vpn.sid, "fc00:0:1:2:1::");
    assert_eq!(vpn.behavior, "End.DT4");
    assert_eq!(vpn.neighbor, "127.0.0.2");
    assert!(vpn.installed && vpn.reason.is_empty());
    assert_eq!(vpn.table, 254);
    let global = find("10.2.50.0/24");
    assert_eq!(global.service, "global");
    assert_eq!(global.sid, "fc00:0:1:2:5::");
    assert!(global.installed);
    let other = find("10.2.99.0/24");
    assert!(!other.installed);
    assert_eq!(other.service, "");
    assert!(other.reason.contains("route target"), "{other:?}");
    let only = srv6
        .list_srv6_routes(pb::ListSrv6RoutesRequest {
            service: String::new(),
            not_installed: true,
        })
        .await
        .unwrap()
        .into_inner()
        .routes;
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].prefix, "10.2.99.0/24");

    // One policy per remote SID, each ending at it, programmed.
    wait_for(10, "the data plane in sync", || {
        let mut c = srv6.clone();
        async move { status(&mut c).await.in_sync }
    })
    .await;
    let policies = srv6
        .list_policies(pb::ListSrPoliciesRequest {})
        .await
        .unwrap()
        .into_inner()
        .policies;
    let mut ends: Vec<&str> = policies.iter().map(|p| p.endpoint.as_str()).collect();
    ends.sort();
    assert_eq!(ends, ["fc00:0:1:2:1::", "fc00:0:1:2:5::"]);
    for p in &policies {
        assert!(p.active && !p.stale, "{p:?}");
        assert_eq!(p.segment_lists.len(), 1);
        assert_eq!(p.segment_lists[0].weight, 1);
        assert_eq!(p.segment_lists[0].segments, vec![p.endpoint.clone()]);
        assert_eq!(p.steering_count, 1);
        assert_eq!(p.name, p.bsid);
    }

    // Steering: each prefix into the policy of its SID, in the service's table.
    let steering = srv6
        .list_steering(pb::ListSteeringRequest {
            service: "pods".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(steering.len(), 1, "{steering:?}");
    let s = &steering[0];
    assert_eq!(
        (s.service.as_str(), s.prefix.as_str(), s.table),
        ("pods", "10.2.1.0/24", 254)
    );
    assert_eq!(s.sid, "fc00:0:1:2:1::");
    assert_eq!(s.bsid, vpn.bsid);
    assert_eq!(s.neighbor, "127.0.0.2");
    assert!(s.installed && !s.stale && s.reason.is_empty(), "{s:?}");
    let all = srv6
        .list_steering(pb::ListSteeringRequest::default())
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(all.len(), 2);
    let st = status(&mut srv6).await;
    assert_eq!((st.policies, st.steering), (2, 2));
    assert_eq!((st.routes_installed, st.routes_not_installed), (2, 1));

    // The same through sidractl.
    let socket = a.socket.clone();
    let (steer, routes_t) = tokio::task::spawn_blocking(move || {
        (
            sidractl(&socket, &["srv6", "steering", "pods"]),
            sidractl(&socket, &["srv6", "routes", "--not-installed"]),
        )
    })
    .await
    .unwrap();
    let t = text(&steer.stdout);
    assert!(
        t.starts_with("SERVICE  TABLE  PREFIX       SID             BSID"),
        "{t}"
    );
    assert!(
        t.contains("pods     254    10.2.1.0/24  fc00:0:1:2:1::"),
        "{t}"
    );
    let t = text(&routes_t.stdout);
    assert!(t.contains("65002:2:10.2.99.0/24  ipv4-vpn"), "{t}");
    assert!(t.contains("not installed: "), "{t}");

    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_srv6_calls_fail_with_a_precondition() {
    let dir = TempDir::new("plain");
    let toml = format!(
        r#"[global]
asn = 65001
router_id = "10.0.0.1"
listen = []

[api]
socket = "{}/p.sock"
"#,
        dir.0.display()
    );
    let n = Node::start(&toml).await;
    let ch = n.channel().await;
    let e = Srv6ServiceClient::new(ch.clone())
        .list_locators(pb::ListLocatorsRequest {})
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert!(
        e.message().contains("no [srv6] section is configured"),
        "{e:?}"
    );
    let e = Srv6ServiceClient::new(ch.clone())
        .get_dataplane_status(pb::GetDataplaneStatusRequest {})
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    let e = NodeServiceClient::new(ch.clone())
        .add_pod_cidrs(pb::AddPodCidrsRequest {
            service: "pods".into(),
            cidrs: strings(&["10.1.0.0/24"]),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    let socket = n.socket.clone();
    let o = tokio::task::spawn_blocking(move || sidractl(&socket, &["srv6", "sids"]))
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).starts_with("sidractl: FAILED_PRECONDITION: no [srv6] section"),
        "{}",
        text(&o.stderr)
    );
    n.shutdown().await;
}

fn sidractl(socket: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sidractl"))
        .arg("--socket")
        .arg(socket)
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}
