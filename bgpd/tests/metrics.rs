//! `/metrics` of two sidrad processes peering over loopback (127.0.0.1 and 127.0.0.2): every
//! documented metric is exported with its type, and the message counters move when messages
//! flow (a session reset through sidractl brings a new OPEN and new UPDATEs).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A sidrad process, killed on drop; its config and socket live in `dir`.
struct Sidrad {
    child: Child,
}

impl Drop for Sidrad {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port(ip: &str) -> u16 {
    std::net::TcpListener::bind((ip, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn sidrad(dir: &Path, name: &str, toml: &str) -> Sidrad {
    let config = dir.join(format!("{name}.toml"));
    std::fs::write(&config, toml).unwrap();
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_sidrad"))
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Sidrad { child }
}

/// GET /metrics (HTTP/1.0: the body ends with the connection).
fn scrape(port: u16) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.").then(|| body.to_string())
}

/// The value of the sample `name{...}` whose labels include every one of `labels`.
fn value(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(name)?;
        let (lbl, v) = match rest.strip_prefix('{') {
            Some(r) => r.split_once("} ")?,
            None => ("", rest.strip_prefix(' ')?),
        };
        labels
            .iter()
            .all(|x| lbl.split(',').any(|p| p == *x))
            .then(|| v.trim().parse().ok())?
    })
}

fn wait_for(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out waiting for {what}");
}

/// A sidrad (`me`, `asn`, BGP `port`) peering with (`peer`, `peer_as`, `peer_port`).
fn config(
    (me, asn, port): (&str, u32, u16),
    (peer, peer_as, peer_port): (&str, u32, u16),
    dir: &Path,
    extra: &str,
) -> String {
    format!(
        r#"[global]
asn = {asn}
router_id = "{me}"
listen = ["{me}:{port}"]
networks = ["10.{}.0.0/24"]

[api]
socket = "{}/{me}.sock"
{extra}
[[neighbors]]
address = "{peer}"
remote_as = {peer_as}
port = {peer_port}
local_address = "{me}"
connect_retry = 2
idle_hold = 1
import_policy = "accept-all"
export_policy = "accept-all"
"#,
        asn - 65000,
        dir.display()
    )
}

#[test]
fn metrics_are_exported_and_move() {
    let dir = TempDir(std::env::temp_dir().join(format!("sidra-metrics-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir_all(&dir.0).unwrap();
    let (pa, pb, pm) = (
        free_port("127.0.0.1"),
        free_port("127.0.0.2"),
        free_port("127.0.0.1"),
    );
    // a runs an SRv6 service (IPv6 pods only: the IPv4 counts below stay those of
    // global.networks) on the `none` data plane, so the data plane metrics exist too.
    let metrics = format!(
        r#"
[metrics]
listen = "127.0.0.1:{pm}"

[srv6]
source_address = "fd00::1"

[[srv6.locators]]
name = "main"
prefix = "fc00:0:1:1::/64"

[[srv6.services]]
name = "pods"
mode = "global"
pods = ["2001:db8:1:1::/64"]

[dataplane]
backend = "none"
"#
    );
    let _a = sidrad(
        &dir.0,
        "a",
        &config(
            ("127.0.0.1", 65001, pa),
            ("127.0.0.2", 65002, pb),
            &dir.0,
            &metrics,
        ),
    );
    let _b = sidrad(
        &dir.0,
        "b",
        &config(
            ("127.0.0.2", 65002, pb),
            ("127.0.0.1", 65001, pa),
            &dir.0,
            "",
        ),
    );
    let peer = "peer=\"127.0.0.2\"";
    let mut text = String::new();
    wait_for(30, "an established session in /metrics", || {
        text = scrape(pm).unwrap_or_default();
        value(&text, "sidra_bgp_session_state", &[peer]) == Some(6.0)
            && value(
                &text,
                "sidra_bgp_prefixes_accepted",
                &[peer, "family=\"ipv4-unicast\""],
            ) == Some(1.0)
            && value(&text, "sidra_dataplane_in_sync", &[]) == Some(1.0)
            // In sync may first mean "with the empty state published before the service's
            // SIDs": wait until the SIDs were programmed too.
            && text.contains("sidra_dataplane_operations_total{")
    });

    // Every documented metric, with its type.
    for (name, kind) in bgpd::telemetry::METRICS {
        assert!(
            text.lines().any(|l| l == format!("# TYPE {name} {kind}")),
            "no `# TYPE {name} {kind}` in\n{text}"
        );
    }
    assert_eq!(
        value(
            &text,
            "sidra_build_info",
            &[&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&text, "sidra_bgp_session_established", &[peer]),
        Some(1.0)
    );
    assert_eq!(
        value(&text, "sidra_rib_prefixes", &["family=\"ipv4-unicast\""]),
        Some(2.0)
    );
    assert_eq!(
        value(
            &text,
            "sidra_bgp_prefixes_advertised",
            &[peer, "family=\"ipv4-unicast\""]
        ),
        Some(1.0)
    );
    // The data plane: two local SIDs (End.DT4, End.DT6) programmed, no remote SRv6 route.
    assert_eq!(
        value(&text, "sidra_dataplane_objects", &["kind=\"local_sids\""]),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        value(&text, "sidra_dataplane_objects", &["kind=\"steering\""]),
        Some(0.0)
    );
    assert_eq!(
        value(
            &text,
            "sidra_dataplane_operations_total",
            &["kind=\"local_sid_add\"", "result=\"ok\""]
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        value(&text, "sidra_dataplane_pending_changes", &[]),
        Some(0.0)
    );
    assert_eq!(
        value(&text, "sidra_srv6_routes", &["state=\"not_installed\""]),
        Some(0.0)
    );
    assert!(
        value(&text, "sidra_dataplane_apply_seconds_count", &[]).is_some_and(|n| n >= 1.0),
        "{text}"
    );
    let count = |t: &str, dir: &str, ty: &str| {
        value(
            t,
            &format!("sidra_bgp_messages_{dir}_total"),
            &[peer, &format!("type=\"{ty}\"")],
        )
        .unwrap_or(0.0)
    };
    let (opens, updates) = (
        count(&text, "received", "open"),
        count(&text, "received", "update"),
    );
    assert!(opens >= 1.0, "{text}");
    assert!(updates >= 1.0, "{text}");
    assert!(count(&text, "sent", "update") >= 1.0, "{text}");
    assert!(count(&text, "sent", "keepalive") >= 1.0, "{text}");

    // A reset: a new OPEN and a new table (UPDATEs) arrive; the counters follow.
    let socket = dir.0.join("127.0.0.1.sock");
    let o = Command::new(env!("CARGO_BIN_EXE_sidractl"))
        .arg("--socket")
        .arg(&socket)
        .args(["neighbor", "127.0.0.2", "reset"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    wait_for(30, "the counters to move", || {
        text = scrape(pm).unwrap_or_default();
        count(&text, "received", "open") > opens
            && count(&text, "received", "update") > updates
            && value(
                &text,
                "sidra_bgp_session_established_transitions_total",
                &[peer],
            )
            .is_some_and(|v| v >= 2.0)
    });
}
