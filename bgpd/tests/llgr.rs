//! RFC 9494 Long-Lived Graceful Restart, helper side: when a peer that negotiated LLGR goes
//! away gracefully and its restart time runs out, its routes stay as long-lived stale (with
//! the LLGR_STALE community) instead of being removed; without LLGR they go at the end of
//! the restart time.
//!
//! Two daemons in this process peer over loopback: b originates a route and stops (Cease 6/2:
//! graceful with the RFC 8538 N bit); a is the helper.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use std::time::{Duration, Instant};

use common::{Node, free_port};
use sidra_proto::v1 as pb;
use sidra_proto::v1::rib_service_client::RibServiceClient;
use tonic::transport::Channel;

fn configs(dir: &std::path::Path, port: u16, llgr: u32) -> (String, String) {
    let d = dir.display();
    let a = format!(
        r#"[global]
asn = 65000
router_id = "10.0.0.1"
listen = []
[api]
socket = "{d}/a.sock"
[[neighbors]]
address = "127.0.0.2"
remote_as = 65000
port = {port}
local_address = "127.0.0.1"
connect_retry = 1
idle_hold = 1
long_lived_stale_time = {llgr}
"#
    );
    let b = format!(
        r#"[global]
asn = 65000
router_id = "10.0.0.2"
listen = ["127.0.0.2:{port}"]
networks = ["10.9.0.0/24"]
[api]
socket = "{d}/b.sock"
[[neighbors]]
address = "127.0.0.1"
remote_as = 65000
passive = true
restart_time = 1
long_lived_stale_time = {llgr}
"#
    );
    (a, b)
}

/// The communities of a's route to 10.9.0.0/24, if it has one.
async fn route(rib: &mut RibServiceClient<Channel>) -> Option<Vec<String>> {
    let routes = rib
        .list_routes(pb::ListRoutesRequest {
            family: "ipv4-unicast".into(),
            prefix: "10.9.0.0/24".into(),
            ..Default::default()
        })
        .await
        .ok()?
        .into_inner()
        .routes;
    let r = routes.into_iter().find(|r| r.prefix == "10.9.0.0/24")?;
    Some(r.paths.first()?.communities.clone())
}

async fn wait_until<F: std::future::Future<Output = bool>>(
    what: &str,
    secs: u64,
    mut f: impl FnMut() -> F,
) {
    let until = Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// b's route at a, 3 s after b stopped (its restart time is 1 s).
async fn after_restart_time(llgr: u32) -> Option<Vec<String>> {
    let dir = std::env::temp_dir().join(format!("sidra-llgr-{}-{llgr}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (ca, cb) = configs(&dir, free_port("127.0.0.2"), llgr);
    let b = Node::start(&cb).await;
    let a = Node::start(&ca).await;
    let ch = a.channel().await;
    let mut rib = RibServiceClient::new(ch.clone());
    wait_until("a to learn b's route", 30, || {
        let mut rib = rib.clone();
        async move { route(&mut rib).await.is_some() }
    })
    .await;
    assert_eq!(route(&mut rib).await.unwrap(), Vec::<String>::new());
    b.shutdown().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let seen = route(&mut rib).await;
    a.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_llgr_the_route_stays_as_llgr_stale() {
    let c = after_restart_time(60).await;
    assert_eq!(c, Some(vec!["llgr-stale".to_string()]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_llgr_the_route_goes_with_the_restart_time() {
    assert_eq!(after_restart_time(0).await, None);
}
