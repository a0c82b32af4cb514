//! The gRPC API against daemons running in this process: two sidrads peering over loopback
//! (127.0.0.1 and 127.0.0.2), each serving its API on a unix socket in a temporary directory;
//! and `sidractl`'s output (table and JSON) against one of them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use bgpd::api::client::{Target, TlsFiles, connect};
use bgpd::api::{ApiServer, Reloader};
use bgpd::config;
use bgpd::daemon::Daemon;
use sidra_proto::v1 as pb;
use sidra_proto::v1::config_service_client::ConfigServiceClient;
use sidra_proto::v1::neighbor_service_client::NeighborServiceClient;
use sidra_proto::v1::rib_service_client::RibServiceClient;
use sidra_proto::v1::srv6_service_client::Srv6ServiceClient;
use tokio::sync::oneshot;
use tonic::Code;
use tonic::transport::Channel;

mod common;
use common::{Node, TempDir, free_port};

fn config_a(dir: &Path, b_port: u16) -> String {
    format!(
        r#"[global]
asn = 65001
router_id = "10.0.0.1"
listen = []
networks = ["10.1.0.0/24", "2001:db8:100::/48"]

[api]
socket = "{}/a.sock"

[[neighbors]]
address = "127.0.0.2"
remote_as = 65002
description = "node b"
port = {b_port}
local_address = "127.0.0.1"
connect_retry = 2
idle_hold = 1
# Without graceful restart, b's routes go as soon as the session does (the watch sees it).
graceful_restart = false
import_policy = "accept-all"
export_policy = "accept-all"
"#,
        dir.display()
    )
}

fn config_b(dir: &Path, b_port: u16) -> String {
    format!(
        r#"[global]
asn = 65002
router_id = "10.0.0.2"
listen = ["127.0.0.2:{b_port}"]
networks = ["10.2.0.0/24"]

[api]
socket = "{}/b.sock"

[[neighbors]]
address = "127.0.0.1"
remote_as = 65001
passive = true
import_policy = "accept-all"
export_policy = "accept-all"
"#,
        dir.display()
    )
}

async fn neighbor(c: &mut NeighborServiceClient<Channel>, addr: &str) -> pb::Neighbor {
    c.get_neighbor(pb::GetNeighborRequest {
        address: addr.into(),
    })
    .await
    .unwrap()
    .into_inner()
}

fn state(n: &pb::Neighbor) -> pb::SessionState {
    pb::SessionState::try_from(n.status.as_ref().unwrap().state).unwrap()
}

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

async fn routes(c: &mut RibServiceClient<Channel>, family: &str) -> Vec<pb::Route> {
    c.list_routes(pb::ListRoutesRequest {
        family: family.into(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .routes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_against_two_peering_daemons() {
    let dir = TempDir::new("peering");
    let b_port = free_port("127.0.0.2");
    let b = Node::start(&config_b(&dir.0, b_port)).await;
    let a = Node::start(&config_a(&dir.0, b_port)).await;

    // The socket is a socket, and only its owner may use it.
    let meta = std::fs::metadata(&a.socket).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);

    // grpc.health.v1: SERVING, overall and per service.
    let ch = a.channel().await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(ch.clone());
    for service in ["", "sidra.v1.NeighborService", "sidra.v1.RibService"] {
        let r = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            r.status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32,
            "{service:?}"
        );
    }

    // The configured neighbor, established.
    let mut n = NeighborServiceClient::new(ch.clone());
    let list = n
        .list_neighbors(pb::ListNeighborsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.neighbors.len(), 1);
    let cfg = list.neighbors[0].config.clone().unwrap();
    assert_eq!(cfg.address, "127.0.0.2");
    assert_eq!(cfg.remote_as, 65002);
    assert_eq!(cfg.description, "node b");
    wait_for(20, "the session with b", || {
        let mut n = n.clone();
        async move { state(&neighbor(&mut n, "127.0.0.2").await) == pb::SessionState::Established }
    })
    .await;

    // Routes: our own (from global.networks) and b's, with next hop and attributes.
    let mut rib = RibServiceClient::new(ch.clone());
    wait_for(10, "b's route", || {
        let mut rib = rib.clone();
        async move {
            routes(&mut rib, "ipv4-unicast")
                .await
                .iter()
                .any(|r| r.prefix == "10.2.0.0/24")
        }
    })
    .await;
    let v4 = routes(&mut rib, "ipv4-unicast").await;
    let own = v4.iter().find(|r| r.prefix == "10.1.0.0/24").unwrap();
    assert_eq!(own.reason, "only-path");
    let p = &own.paths[0];
    assert_eq!(
        (p.neighbor.as_str(), p.best, p.origin.as_str()),
        ("local", true, "igp")
    );
    let theirs = v4.iter().find(|r| r.prefix == "10.2.0.0/24").unwrap();
    let p = &theirs.paths[0];
    assert_eq!(p.neighbor, "127.0.0.2");
    assert_eq!(p.next_hop, "127.0.0.2");
    assert_eq!(p.as_path, "65002");
    assert_eq!(p.origin, "igp");
    assert!(p.srv6_sid.is_empty());
    let v6 = routes(&mut rib, "ipv6-unicast").await;
    assert_eq!(v6.len(), 1);
    assert_eq!(v6[0].prefix, "2001:db8:100::/48");
    // Filters: one prefix, one neighbor, bad input.
    let only = rib
        .list_routes(pb::ListRoutesRequest {
            neighbor: "127.0.0.2".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .routes;
    assert_eq!(only.len(), 1);
    let inside = rib
        .list_routes(pb::ListRoutesRequest {
            prefix: "10.0.0.0/8".into(),
            longer_prefixes: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .routes;
    assert_eq!(inside.len(), 2);
    let e = rib
        .list_routes(pb::ListRoutesRequest {
            family: "ipv5".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().starts_with("family: \"ipv5\" is not a family"));

    // The neighbor's counts.
    let nb = neighbor(&mut n, "127.0.0.2").await;
    let s = nb.status.unwrap();
    assert_eq!(s.prefixes_accepted_total, 1);
    assert_eq!(s.peer_bgp_id, "10.0.0.2");
    assert!(s.prefixes_advertised >= 1);

    // Watch: the snapshot, then the changes that disabling and enabling b cause.
    let mut watch = rib
        .watch_routes(pb::WatchRoutesRequest {
            families: vec!["ipv4-unicast".into()],
            initial: true,
        })
        .await
        .unwrap()
        .into_inner();
    let mut snapshot = Vec::new();
    loop {
        let e = watch.message().await.unwrap().unwrap();
        match e.event.unwrap() {
            pb::route_event::Event::Update(r) => snapshot.push(r.prefix),
            pb::route_event::Event::EndOfSnapshot(_) => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(snapshot, vec!["10.1.0.0/24", "10.2.0.0/24"]);

    // Disable b with a shutdown message: idle, and the last error says why.
    let msg = "maintenance window 42";
    let d = n
        .disable_neighbor(pb::DisableNeighborRequest {
            address: "127.0.0.2".into(),
            message: msg.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(state(&d), pb::SessionState::Idle);
    assert!(d.config.as_ref().unwrap().shutdown);
    let err = d.status.unwrap().last_error;
    assert!(err.contains("Administrative Shutdown"), "{err}");
    assert!(err.contains(msg), "{err}");
    // b received the RFC 9003 message.
    let mut nb_client = NeighborServiceClient::new(b.channel().await);
    wait_for(5, "b to see the shutdown", || {
        let mut c = nb_client.clone();
        async move {
            let v = neighbor(&mut c, "127.0.0.1").await;
            v.status.unwrap().last_error.contains(msg)
        }
    })
    .await;
    let _ = &mut nb_client;
    let withdraw = tokio::time::timeout(Duration::from_secs(5), watch.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    match withdraw.event.unwrap() {
        pb::route_event::Event::Withdraw(k) => assert_eq!(k.prefix, "10.2.0.0/24"),
        other => panic!("expected a withdraw, got {other:?}"),
    }
    n.enable_neighbor(pb::EnableNeighborRequest {
        address: "127.0.0.2".into(),
    })
    .await
    .unwrap();
    let back = tokio::time::timeout(Duration::from_secs(20), watch.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    match back.event.unwrap() {
        pb::route_event::Event::Update(r) => {
            assert_eq!(r.prefix, "10.2.0.0/24");
            assert_eq!(r.paths[0].next_hop, "127.0.0.2");
        }
        other => panic!("expected an update, got {other:?}"),
    }

    // Add a neighbor at run time; it is listed.
    let added = n
        .add_neighbor(pb::AddNeighborRequest {
            address: "192.0.2.50".into(),
            remote_as: 65050,
            description: Some("added".into()),
            passive: Some(true),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(added.config.unwrap().remote_as, 65050);
    let list = n
        .list_neighbors(pb::ListNeighborsRequest {})
        .await
        .unwrap()
        .into_inner();
    let addrs: Vec<String> = list
        .neighbors
        .iter()
        .map(|n| n.config.clone().unwrap().address)
        .collect();
    assert_eq!(addrs, vec!["127.0.0.2", "192.0.2.50"]);

    // Status codes with messages an operator can act on.
    let e = n
        .add_neighbor(pb::AddNeighborRequest {
            address: "192.0.2.50".into(),
            remote_as: 65050,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists);
    let e = n
        .add_neighbor(pb::AddNeighborRequest {
            address: "fd00::x".into(),
            remote_as: 65050,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(
        e.message(),
        "neighbor.address: \"fd00::x\" is not an IP address"
    );
    let e = n
        .add_neighbor(pb::AddNeighborRequest {
            address: "192.0.2.51".into(),
            remote_as: 65051,
            hold_time: Some(2),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(
        e.message(),
        "neighbor.hold_time: 2 is not allowed (must be 0 or 3..=65535)"
    );
    let e = n
        .get_neighbor(pb::GetNeighborRequest {
            address: "192.0.2.99".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    assert_eq!(e.message(), "no neighbor 192.0.2.99 is configured");
    let e = n
        .disable_neighbor(pb::DisableNeighborRequest {
            address: "192.0.2.99".into(),
            message: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    n.delete_neighbor(pb::DeleteNeighborRequest {
        address: "192.0.2.50".into(),
    })
    .await
    .unwrap();
    let e = n
        .delete_neighbor(pb::DeleteNeighborRequest {
            address: "192.0.2.50".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);

    // No [srv6] section: the SRv6 calls say what to configure.
    let e = Srv6ServiceClient::new(ch.clone())
        .list_locators(pb::ListLocatorsRequest {})
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert!(
        e.message().contains("no [srv6] section is configured"),
        "{e:?}"
    );
    // Reload needs the file sidrad was started with (none here).
    let e = ConfigServiceClient::new(ch.clone())
        .reload(pb::ReloadRequest {})
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);

    // Stopping: the watch ends with UNAVAILABLE, and the socket goes.
    let socket = a.socket.clone();
    a.shutdown().await;
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match watch.message().await {
                Ok(Some(_)) => continue,
                Ok(None) => return None,
                Err(s) => return Some(s.code()),
            }
        }
    })
    .await
    .unwrap();
    assert!(matches!(end, None | Some(Code::Unavailable)), "{end:?}");
    assert!(!socket.exists());
    b.shutdown().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sidractl_tables_and_json() {
    let dir = TempDir::new("sidractl");
    let toml = format!(
        r#"[global]
asn = 65001
router_id = "10.0.0.1"
listen = []
networks = ["10.1.0.0/24"]

[api]
socket = "{}/s.sock"

[[neighbors]]
address = "192.0.2.2"
remote_as = 65002
description = "spine-1"
passive = true
"#,
        dir.0.display()
    );
    let node = Node::start(&toml).await;
    let socket = node.socket.clone();
    let out = tokio::task::spawn_blocking(move || {
        let run = |args: &[&str]| sidractl(&socket, args);
        (
            run(&["neighbor"]),
            run(&["neighbor", "--json"]),
            run(&["neighbor", "192.0.2.2"]),
            run(&["rib"]),
            run(&["rib", "--json"]),
            run(&["neighbor", "192.0.2.9"]),
            run(&[
                "neighbor",
                "192.0.2.2",
                "disable",
                "--message",
                "bye",
                "--json",
            ]),
            run(&["rib", "-a", "ipv6-unicast"]),
        )
    })
    .await
    .unwrap();
    let (list, list_json, one, rib, rib_json, missing, disabled, empty) = out;

    assert!(list.status.success(), "{}", text(&list.stderr));
    let lines: Vec<String> = text(&list.stdout).lines().map(String::from).collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        [
            "NEIGHBOR",
            "AS",
            "STATE",
            "UPTIME",
            "RCVD",
            "ACCEPTED",
            "ADV",
            "DESCRIPTION"
        ]
    );
    assert!(lines[1].starts_with("192.0.2.2  65002  "), "{}", lines[1]);
    assert!(
        lines[1].ends_with("-       0     0         0    spine-1"),
        "{}",
        lines[1]
    );

    let v: serde_json::Value = serde_json::from_slice(&list_json.stdout).unwrap();
    assert_eq!(v["neighbors"][0]["config"]["address"], "192.0.2.2");
    assert_eq!(v["neighbors"][0]["config"]["remote_as"], 65002);
    let st = v["neighbors"][0]["status"]["state"].as_str().unwrap();
    assert!(st.starts_with("SESSION_STATE_"), "{st}");

    let one = text(&one.stdout);
    assert!(
        one.lines()
            .any(|l| l == "neighbor                 192.0.2.2"),
        "{one}"
    );
    assert!(
        one.lines().any(|l| l == "description              spine-1"),
        "{one}"
    );

    assert!(rib.status.success());
    assert_eq!(
        text(&rib.stdout),
        "PREFIX       NEXT HOP  FROM   PATH  LOCPRF  MED  SID  BEST\n\
         10.1.0.0/24  -         local  i     -       -    -    *> only-path\n"
    );
    let v: serde_json::Value = serde_json::from_slice(&rib_json.stdout).unwrap();
    assert_eq!(v["routes"][0]["prefix"], "10.1.0.0/24");
    assert_eq!(v["routes"][0]["paths"][0]["neighbor"], "local");
    assert_eq!(v["routes"][0]["reason"], "only-path");

    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(
        text(&missing.stderr),
        "sidractl: NOT_FOUND: no neighbor 192.0.2.9 is configured\n"
    );
    assert!(disabled.status.success(), "{}", text(&disabled.stderr));
    let v: serde_json::Value = serde_json::from_slice(&disabled.stdout).unwrap();
    assert_eq!(v["config"]["shutdown"], true);
    assert_eq!(v["status"]["state"], "SESSION_STATE_IDLE");
    assert_eq!(
        text(&empty.stdout),
        "PREFIX  NEXT HOP  FROM  PATH  LOCPRF  MED  SID  BEST\n"
    );

    // No daemon: exit 1, and the message says where it looked.
    let gone = dir.0.join("nothing.sock");
    let o = tokio::task::spawn_blocking(move || sidractl(&gone, &["neighbor"]))
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = text(&o.stderr);
    assert!(
        e.starts_with("sidractl: cannot connect to sidrad at unix:"),
        "{e}"
    );
    assert!(e.contains("is sidrad running?"), "{e}");
    node.shutdown().await;
}

/// PEM files of a test CA, a server certificate for 127.0.0.1 and localhost, and a client
/// certificate, written to `dir`.
fn certificates(dir: &Path) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::from_params(&ca, &ca_key);
    let write = |name: &str, pem: String| std::fs::write(dir.join(name), pem).unwrap();
    write("ca.pem", ca_cert.pem());
    for (name, sans) in [
        (
            "server",
            vec!["localhost".to_string(), "127.0.0.1".to_string()],
        ),
        ("client", vec!["sidractl".to_string()]),
    ] {
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(sans)
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();
        write(&format!("{name}.pem"), cert.pem());
        write(&format!("{name}.key"), key.serialize_pem());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_listener_requires_a_client_certificate() {
    let dir = TempDir::new("tls");
    certificates(&dir.0);
    let d = dir.0.display();
    let toml = format!(
        r#"[global]
asn = 65001
router_id = "10.0.0.1"
listen = []

[api]
socket = ""
listen = "127.0.0.1:0"
tls_cert = "{d}/server.pem"
tls_key = "{d}/server.key"
client_ca = "{d}/ca.pem"
"#
    );
    let config = config::load_str(&toml).unwrap();
    assert_eq!(config.api.socket, None);
    let daemon = Daemon::start(&config).await.unwrap();
    let handle = daemon.handle();
    let reloader = Reloader::new(None, config.clone(), handle.clone());
    let api = ApiServer::start(&config.api, handle, reloader)
        .await
        .unwrap();
    let (stop, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(daemon.run(async move {
        let _ = rx.await;
    }));
    let url = format!("https://127.0.0.1:{}", api.tcp.unwrap().port());
    let target = Target::Url(url.clone());
    let ca = Some(dir.0.join("ca.pem"));
    let list = |tls: TlsFiles| {
        let target = target.clone();
        async move {
            let ch = connect(&target, &tls, Duration::from_secs(5)).await?;
            NeighborServiceClient::new(ch)
                .list_neighbors(pb::ListNeighborsRequest {})
                .await
                .map(|r| r.into_inner().neighbors.len())
                .map_err(|s| bgpd::api::client::status_text(&s))
        }
    };
    // With the client certificate: served.
    let ok = list(TlsFiles {
        ca: ca.clone(),
        cert: Some(dir.0.join("client.pem")),
        key: Some(dir.0.join("client.key")),
        domain: None,
    })
    .await;
    assert_eq!(ok, Ok(0));
    // Without one: refused (at the handshake or at the first call).
    let refused = list(TlsFiles {
        ca: ca.clone(),
        ..TlsFiles::default()
    })
    .await;
    assert!(refused.is_err(), "{refused:?}");
    // Plaintext against the TLS listener: refused too.
    let plain = connect(
        &Target::Url(url.replace("https://", "http://")),
        &TlsFiles::default(),
        Duration::from_secs(5),
    )
    .await;
    if let Ok(ch) = plain {
        assert!(
            NeighborServiceClient::new(ch)
                .list_neighbors(pb::ListNeighborsRequest {})
                .await
                .is_err()
        );
    }
    api.stop().await;
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
}
