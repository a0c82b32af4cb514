//! RFC 4271 §9.2.1.1 MinRouteAdvertisementIntervalTimer (`advertisement_interval`): after a
//! burst of UPDATEs to a neighbor, what changes within the interval waits and goes as one
//! UPDATE; with the interval at 0 (the default) every change goes at once.
//!
//! Two daemons in this process peer over loopback; a originates pod routes through the node
//! API (as a CNI agent would), b counts the UPDATEs it receives from a.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::time::{Duration, Instant};

use sidra_proto::v1 as pb;
use sidra_proto::v1::neighbor_service_client::NeighborServiceClient;
use sidra_proto::v1::node_service_client::NodeServiceClient;
use sidra_proto::v1::rib_service_client::RibServiceClient;
use tonic::transport::Channel;

mod common;
use common::{Node, free_port};

fn configs(dir: &std::path::Path, port: u16, interval: u16) -> (String, String) {
    let a = format!(
        r#"[global]
asn = 65001
router_id = "10.0.0.1"
listen = []
[api]
socket = "{d}/a.sock"
[srv6]
source_address = "fd00::1"
[[srv6.locators]]
name = "main"
prefix = "fc00:0:1:1::/64"
[[srv6.services]]
name = "pods"
mode = "global"
behavior = "dt46"
[dataplane]
backend = "none"
[[neighbors]]
address = "127.0.0.2"
remote_as = 65002
port = {port}
local_address = "127.0.0.1"
connect_retry = 1
idle_hold = 1
advertisement_interval = {interval}
import_policy = "accept-all"
export_policy = "accept-all"
"#,
        d = dir.display()
    );
    let b = format!(
        r#"[global]
asn = 65002
router_id = "10.0.0.2"
listen = ["127.0.0.2:{port}"]
[api]
socket = "{d}/b.sock"
[[neighbors]]
address = "127.0.0.1"
remote_as = 65001
passive = true
import_policy = "accept-all"
export_policy = "accept-all"
"#,
        d = dir.display()
    );
    (a, b)
}

async fn updates_from_a(b: &mut NeighborServiceClient<Channel>) -> u64 {
    let r = b
        .list_neighbors(pb::ListNeighborsRequest {})
        .await
        .unwrap()
        .into_inner();
    r.neighbors
        .iter()
        .filter_map(|n| n.status.as_ref())
        .map(|s| s.updates_received)
        .sum()
}

async fn b_has(rib: &mut RibServiceClient<Channel>, prefixes: &[&str]) -> bool {
    let routes = rib
        .list_routes(pb::ListRoutesRequest {
            family: "ipv4-unicast".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .routes;
    prefixes
        .iter()
        .all(|p| routes.iter().any(|r| r.prefix == *p))
}

async fn wait_for_routes(rib: &mut RibServiceClient<Channel>, prefixes: &[&str]) {
    let until = Instant::now() + Duration::from_secs(30);
    while !b_has(rib, prefixes).await {
        assert!(Instant::now() < until, "b never got {prefixes:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn add_pod(node: &mut NodeServiceClient<Channel>, cidr: &str) {
    node.add_pod_cidrs(pb::AddPodCidrsRequest {
        service: "pods".into(),
        cidrs: vec![cidr.into()],
    })
    .await
    .unwrap();
}

/// How many UPDATEs b received for two pod routes added 300 ms apart, after a first one.
async fn updates_for_two_changes(interval: u16) -> u64 {
    let dir = std::env::temp_dir().join(format!("sidra-mrai-{}-{interval}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (ca, cb) = configs(&dir, free_port("127.0.0.2"), interval);
    let b = Node::start(&cb).await;
    let a = Node::start(&ca).await;
    let mut node = NodeServiceClient::new(a.channel().await);
    let mut neighbors = NeighborServiceClient::new(b.channel().await);
    let mut rib = RibServiceClient::new(b.channel().await);
    add_pod(&mut node, "10.1.1.0/24").await;
    wait_for_routes(&mut rib, &["10.1.1.0/24"]).await;
    // Whatever a sends next comes after this burst (End-of-RIB included).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = updates_from_a(&mut neighbors).await;
    add_pod(&mut node, "10.1.2.0/24").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    add_pod(&mut node, "10.1.3.0/24").await;
    wait_for_routes(&mut rib, &["10.1.2.0/24", "10.1.3.0/24"]).await;
    let after = updates_from_a(&mut neighbors).await;
    a.shutdown().await;
    b.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    after - before
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_within_the_interval_go_as_one_update() {
    assert_eq!(
        updates_for_two_changes(3).await,
        1,
        "both routes in one UPDATE"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_interval_each_change_goes_at_once() {
    assert_eq!(updates_for_two_changes(0).await, 2, "one UPDATE per change");
}
