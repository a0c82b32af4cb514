//! Capture a real BGP session carrying RFC 9252 routes and decode it with `sidractl decode --pcap`.
//!
//! ```text
//!   netns cd1-exa  fd00::1 ── bridge (cd1-hub) ── fd00::2  netns cd1-gbp
//!   ExaBGP 4.2 (dials, sends crafted Prefix-SIDs)    GoBGP 3.10 (passive iBGP peer, AS 65000)
//!   tcpdump on cd1-exa eth0
//! ```
//!
//! 1. ExaBGP announces 2001:db8:66::/48 (End.DT6, SID fc00:0:6:1:0:66::) and 198.51.100.67/32
//!    over an IPv6 next hop (End.DT4, SID fc00:0:6:1:0:67::) with the generic attribute
//!    (interop.md §6).
//! 2. GoBGP's RIB shows both routes.
//! 3. `sidractl decode --pcap --json` on the capture shows both OPENs, KEEPALIVEs both ways, and
//!    the UPDATEs with the SRv6 services.
//!
//! Needs root; see `conformance::require_root`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use conformance::peers::{ExaBgp, GoBgp, IPV4_UNICAST, IPV6_UNICAST, Session};
use conformance::{Check, Result, Tcpdump, TestDir, Topology, cmd, require_root, wait_until};
use serde_json::Value;

const PREFIX6: &str = "2001:db8:66::/48";
const PREFIX4: &str = "198.51.100.67/32";
/// Prefix-SID: SRv6 L3 Service TLV, SID fc00:0:6:1:0:66::, End.DT6, structure 32/16/16/0.
const PSID6: &str = "0500220001001e00fc00000000060001000000660000000000001200010006201010000000";
/// The same with SID fc00:0:6:1:0:67:: and End.DT4.
const PSID4: &str = "0500220001001e00fc00000000060001000000670000000000001300010006201010000000";

/// The sidractl binary built by the same `cargo test --workspace` run (or `$SIDRACTL`).
fn sidractl() -> PathBuf {
    if let Some(p) = std::env::var_os("SIDRACTL") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/capture_decode-HASH -> target/<profile>/sidractl
    let p = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("sidractl");
    assert!(
        p.is_file(),
        "{} not built: run `cargo build -p bgpd --bin sidractl` first (`cargo test --workspace` \
         builds it) or set SIDRACTL",
        p.display()
    );
    p
}

#[test]
fn capture_decode() {
    if !require_root("capture_decode") {
        return;
    }
    cmd::require(&[cmd::IP, cmd::TCPDUMP, cmd::GOBGPD, cmd::GOBGP, cmd::EXABGP]).unwrap();
    let start = Instant::now();
    // Declared first, dropped last: the daemons are gone before the namespaces.
    let topo = Topology::builder("cd1")
        .node("exa")
        .node("gbp")
        .build()
        .unwrap();
    let dir = TestDir::new("capture_decode").unwrap();
    if let Err(e) = scenario(&topo, &dir) {
        panic!("capture_decode: {e}");
    }
    eprintln!("capture_decode: passed in {:.1?}", start.elapsed());
}

fn scenario(topo: &Topology, dir: &TestDir) -> Result<()> {
    let exa = topo.node("exa")?;
    let gbp = topo.node("gbp")?;
    let (exa_addr, gbp_addr) = (IpAddr::V6(exa.ipv6), IpAddr::V6(gbp.ipv6));

    let gobgp_conf = GoBgp::config(&Session::ibgp(gbp, exa, 65000).passive(true))?;
    let mut gobgp = GoBgp::start(
        &gbp.ns,
        &dir.subdir("gobgp")?,
        &gobgp_conf,
        conformance::peers::gobgp::DEFAULT_API_PORT,
    )?;

    let pcap = dir.join("bgp.pcap");
    eprintln!("capture_decode: capture file {}", pcap.display());
    let capture = Tcpdump::start(&exa.ns, conformance::topo::NODE_IF, &pcap, "tcp port 179")?;

    let routes = [
        format!(
            "route {PREFIX6} next-hop {} attribute [ 0x28 0xc0 0x{PSID6} ]",
            exa.ipv6
        ),
        format!(
            "route {PREFIX4} next-hop {} attribute [ 0x28 0xc0 0x{PSID4} ]",
            exa.ipv6
        ),
    ];
    let exa_dir = dir.subdir("exabgp")?;
    let session = Session::ibgp(exa, gbp, 65000).families(&[IPV4_UNICAST, IPV6_UNICAST]);
    let exabgp_conf = ExaBgp::config(&session, &exa_dir, &routes)?;
    let mut exabgp = ExaBgp::start(&exa.ns, &exa_dir, &exabgp_conf)?;

    // Both routes in GoBGP's RIB (bounded; the session comes up in about a second).
    for (family, prefix) in [(IPV6_UNICAST, PREFIX6), (IPV4_UNICAST, PREFIX4)] {
        wait_until(
            &format!("{prefix} in GoBGP's {family} RIB"),
            Duration::from_secs(30),
            Duration::from_millis(100),
            || {
                exabgp.daemon().check_running()?;
                let paths = gobgp.paths(family, prefix)?;
                if !paths.is_empty() {
                    return Ok(Check::Ready(()));
                }
                let state = gobgp.neighbor_state(exa_addr)?;
                let exa_state = exabgp.state(gbp_addr)?;
                Ok(Check::NotYet(format!(
                    "gobgp neighbor {state}, exabgp {exa_state}"
                )))
            },
        )?;
    }
    // Everything to check is in the capture file before it is stopped.
    let mut capture = capture;
    capture.wait_for_messages(
        "OPENs, KEEPALIVEs and UPDATEs in the capture",
        Duration::from_secs(10),
        |msgs| {
            let n = |kind: u8, src: IpAddr| {
                msgs.iter()
                    .filter(|m| m.bytes.get(18) == Some(&kind) && m.src.ip() == src)
                    .count()
            };
            n(1, exa_addr) >= 1
                && n(1, gbp_addr) >= 1
                && n(4, exa_addr) >= 1
                && n(4, gbp_addr) >= 1
                && n(2, exa_addr) >= 2
        },
    )?;
    let file = capture.stop()?;

    let out = Command::new(sidractl())
        .args(["decode", "--json", "--pcap"])
        .arg(&file)
        .output()
        .map_err(|e| conformance::Error::Other(format!("running sidractl: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    std::fs::write(dir.join("decoded.jsonl"), stdout.as_bytes()).ok();
    assert_eq!(
        out.status.code(),
        Some(0),
        "sidractl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let msgs: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    check_decoded(&msgs, exa_addr, gbp_addr);
    Ok(())
}

fn from(m: &Value, addr: IpAddr) -> bool {
    m["src"]
        .as_str()
        .and_then(|s| s.parse::<std::net::SocketAddr>().ok())
        .map(|s| s.ip())
        == Some(addr)
}

fn check_decoded(msgs: &[Value], exa: IpAddr, gbp: IpAddr) {
    let summary: Vec<String> = msgs
        .iter()
        .map(|m| format!("{} {}", m["src"], m["type"]))
        .collect();
    let count = |kind: &str, src: IpAddr| {
        msgs.iter()
            .filter(|m| m["type"] == kind && from(m, src))
            .count()
    };
    // 1. One OPEN each way, decoded.
    assert_eq!(
        (count("open", exa), count("open", gbp)),
        (1, 1),
        "{summary:#?}"
    );
    for m in msgs.iter().filter(|m| m["type"] == "open") {
        assert!(m["time"].as_f64().is_some() && m["dst"].is_string(), "{m}");
        assert_eq!(m["my_as"], 65000, "{m}");
    }
    // 2. KEEPALIVEs both ways, and no message failed to decode.
    assert!(
        count("keepalive", exa) >= 1 && count("keepalive", gbp) >= 1,
        "{summary:#?}"
    );
    assert!(msgs.iter().all(|m| m["type"] != "error"), "{summary:#?}");
    // 3. The UPDATEs with their SRv6 services (RFC 9252 §5.3, §5.4).
    let announced: Vec<&Value> = msgs
        .iter()
        .filter(|m| m["type"] == "update" && from(m, exa))
        .flat_map(|m| m["announced"].as_array().into_iter().flatten())
        .collect();
    for (family, prefix, sid, behavior) in [
        (IPV6_UNICAST, PREFIX6, "fc00:0:6:1:0:66::", 18),
        (IPV4_UNICAST, PREFIX4, "fc00:0:6:1:0:67::", 19),
    ] {
        let route = announced
            .iter()
            .find(|r| r["prefix"] == prefix)
            .unwrap_or_else(|| panic!("no UPDATE announcing {prefix}: {announced:#?}"));
        assert_eq!(route["family"], family, "{route}");
        // Acceptance point: the SRv6 service as sidra's UPDATE view shows it.
        assert_eq!(route["srv6"]["sid"], sid, "{route}");
        assert_eq!(route["srv6"]["behavior"], behavior, "{route}");
        assert_eq!(route["next_hop"], exa.to_string(), "{route}");
    }
}
