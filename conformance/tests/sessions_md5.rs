//! TCP-MD5 (RFC 2385) with GoBGP and FRR: the right key establishes, a wrong key never does.
//!
//! ```text
//!   sm1-sid   fd00::1  sidrad AS 65001, key "sidra-md5" for every neighbor (tcpdump on eth0)
//!   sm1-gbp1  fd00::2  GoBGP, right key, passive: sidrad dials
//!   sm1-gbp2  fd00::3  GoBGP, wrong key, passive: sidrad dials
//!   sm1-frr1  fd00::4  FRR, right key, dials; sidrad passive
//!   sm1-frr2  fd00::5  FRR, wrong key, dials; sidrad passive
//! ```
//!
//! 1. The right-key sessions reach Established on both sides.
//! 2. For a bounded window (8 s) the wrong-key sessions never do, on either side.
//! 3. sidrad says why it waits for GoBGP with the wrong key: its connects get no answer, and it
//!    logs "connect failed: no answer (check reachability and that both sides use the same TCP-MD5
//!    password)".
//! 4. FRR with the wrong key dials sidrad: the kernel drops the SYNs silently (RFC 2385 §2), so
//!    sidrad never sees a connection (no "accepted connection" for it, still `active`), and the
//!    capture holds FRR's SYNs and nothing from sidrad to FRR. Likewise nothing comes back from
//!    GoBGP with the wrong key to sidrad's SYNs.
//!
//! Step 3 once failed on a sidrad bug (fixed in 610bc17): each connect was bounded by the
//! connect-retry time, but the jittered ConnectRetryTimer (0.75..=1.0 times that) always fired
//! first, cut the pending connect silently and started another, so the reason was never logged.
//!
//! Needs root; see `conformance::require_root`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::net::IpAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use conformance::peers::gobgp::{DEFAULT_API_PORT, GoBgpOptions};
use conformance::peers::sidrad::MD5_NO_ANSWER;
use conformance::peers::{Frr, GoBgp, IPV6_UNICAST, Session, Sidrad, SidradConfig, SidradNeighbor};
use conformance::{Check, Node, Result, Tcpdump, TestDir, Topology, cmd, require_root, wait_until};

const KEY: &str = "sidra-md5";
const WRONG_KEY: &str = "not-the-key";
/// How long the wrong-key sessions are watched.
const WINDOW: Duration = Duration::from_secs(8);

#[test]
fn sessions_tcp_md5() {
    if !require_root("sessions_tcp_md5") {
        return;
    }
    cmd::require(&[
        cmd::IP,
        cmd::TCPDUMP,
        cmd::FRR_ZEBRA,
        cmd::FRR_BGPD,
        cmd::VTYSH,
        cmd::GOBGPD,
        cmd::GOBGP,
    ])
    .unwrap();
    let start = Instant::now();
    let topo = Topology::builder("sm1")
        .node("sid")
        .node("gbp1")
        .node("gbp2")
        .node("frr1")
        .node("frr2")
        .build()
        .unwrap();
    let dir = TestDir::new("sessions_md5").unwrap();
    if let Err(e) = scenario(&topo, &dir) {
        panic!("sessions_tcp_md5: {e}");
    }
    eprintln!("sessions_tcp_md5: passed in {:.1?}", start.elapsed());
}

fn v6(n: &Node) -> IpAddr {
    IpAddr::V6(n.ipv6)
}

fn start_gobgp(node: &Node, sid: &Node, key: &str, dir: &TestDir) -> Result<GoBgp> {
    let s = Session::ibgp(node, sid, 65001)
        .families(&[IPV6_UNICAST])
        .passive(true);
    let options = GoBgpOptions {
        password: Some(key.to_string()),
    };
    GoBgp::start(
        &node.ns,
        &dir.subdir(&node.name)?,
        &GoBgp::config_with(&s, &options)?,
        DEFAULT_API_PORT,
    )
}

fn start_frr(node: &Node, sid: &Node, key: &str, dir: &TestDir) -> Result<Frr> {
    let s = Session::ibgp(node, sid, 65001).families(&[IPV6_UNICAST]);
    let extra = format!(" neighbor {} password {key}\n", sid.ipv6);
    Frr::start(
        &node.ns,
        &dir.subdir(&node.name)?,
        &format!("hostname {}\n", node.name),
        &Frr::config(&s, &node.name, &extra)?,
    )
}

/// `tcpdump -r FILE` lines of TCP segments from `src` to `dst`.
fn segments(pcap: &std::path::Path, src: IpAddr, dst: IpAddr) -> Result<Vec<String>> {
    let out = cmd::run(
        Command::new(cmd::find(cmd::TCPDUMP)?)
            .args(["-n", "-r"])
            .arg(pcap)
            .args(["src", "host", &src.to_string(), "and", "dst", "host"])
            .arg(dst.to_string()),
    )?;
    Ok(out.lines().map(String::from).collect())
}

fn scenario(topo: &Topology, dir: &TestDir) -> Result<()> {
    let sid = topo.node("sid")?;
    let (gbp1, gbp2) = (topo.node("gbp1")?, topo.node("gbp2")?);
    let (frr1, frr2) = (topo.node("frr1")?, topo.node("frr2")?);
    let sid_addr = v6(sid);

    let mut gobgp_ok = start_gobgp(gbp1, sid, KEY, dir)?;
    let mut gobgp_bad = start_gobgp(gbp2, sid, WRONG_KEY, dir)?;
    let pcap = dir.join("bgp.pcap");
    let capture = Tcpdump::start(&sid.ns, conformance::topo::NODE_IF, &pcap, "tcp port 179")?;

    let neighbor = |peer: &Node, passive: bool| {
        let s = Session::ibgp(sid, peer, 65001)
            .families(&[IPV6_UNICAST])
            .passive(passive);
        SidradNeighbor::from_session(&s).password(KEY)
    };
    let mut config = SidradConfig::from_session(&Session::ibgp(sid, gbp1, 65001));
    config.neighbors = vec![
        neighbor(gbp1, false).description("GoBGP, right key"),
        neighbor(gbp2, false).description("GoBGP, wrong key"),
        neighbor(frr1, true).description("FRR, right key"),
        neighbor(frr2, true).description("FRR, wrong key"),
    ];
    let mut sidrad = Sidrad::start(&sid.ns, &dir.subdir("sidrad")?, &config)?;
    let started = Instant::now();
    let mut frr_ok = start_frr(frr1, sid, KEY, dir)?;
    let mut frr_bad = start_frr(frr2, sid, WRONG_KEY, dir)?;

    // 1. The right keys establish.
    wait_until(
        "the right-key sessions Established on both sides",
        Duration::from_secs(30),
        Duration::from_millis(100),
        || {
            sidrad.daemon().check_running()?;
            let g = gobgp_ok.neighbor_state(sid_addr)?;
            let f = frr_ok.neighbor_state(sid_addr)?;
            let (sg, sf) = (
                sidrad.established_count(v6(gbp1)),
                sidrad.established_count(v6(frr1)),
            );
            Ok(
                if g == "established" && f == "Established" && sg >= 1 && sf >= 1 {
                    Check::Ready(())
                } else {
                    Check::NotYet(format!(
                        "gobgp {g}, frr {f}; sidrad established with gobgp {sg}x, frr {sf}x"
                    ))
                },
            )
        },
    )?;

    // 2. The wrong keys never establish within the window (counted from sidrad's start).
    let rest = WINDOW.saturating_sub(started.elapsed());
    let violation = wait_until(
        "a wrong-key session to come up (it must not)",
        rest,
        Duration::from_millis(200),
        || {
            sidrad.daemon().check_running()?;
            let g = gobgp_bad.neighbor_state(sid_addr)?;
            let f = frr_bad.neighbor_state(sid_addr)?;
            let (sg, sf) = (
                sidrad.established_count(v6(gbp2)),
                sidrad.established_count(v6(frr2)),
            );
            Ok(
                if g == "established" || f == "Established" || sg > 0 || sf > 0 {
                    Check::Ready(format!(
                        "gobgp (wrong key) {g}, frr (wrong key) {f}; sidrad established with \
                         them {sg}x, {sf}x"
                    ))
                } else {
                    Check::NotYet(String::new())
                },
            )
        },
    );
    match violation {
        Ok(v) => panic!("a session with the wrong TCP-MD5 key came up: {v}"),
        Err(conformance::Error::Timeout { .. }) => {} // never came up: as it should be
        Err(e) => return Err(e),
    }
    let watched = started.elapsed();

    // 3. Why sidrad waits for GoBGP with the wrong key (asserted at the end, after the rest).
    let reason = sidrad
        .log_lines()
        .into_iter()
        .find(|l| l.is_about(v6(gbp2)) && l.message.starts_with("connect failed: "));
    let logged_why = reason
        .as_ref()
        .is_some_and(|l| l.message.contains(MD5_NO_ANSWER));
    let why_missing = format!(
        "sidrad should log why its connects to {} fail (\"connect failed: \
         {MD5_NO_ANSWER}\"); first connect failure logged: {:?}; its log about the peer after \
         {watched:.1?}:\n{}",
        gbp2.ipv6,
        reason.map(|l| l.message),
        sidrad.log_about(v6(gbp2), 12)
    );

    // 4. FRR's wrong-key SYNs are dropped silently: sidrad never sees a connection.
    let lines = sidrad.log_lines();
    let accepted = lines
        .iter()
        .filter(|l| l.is_about(v6(frr2)) && l.message.contains("accepted connection"))
        .count();
    assert_eq!(
        accepted,
        0,
        "sidrad accepted a connection from FRR with the wrong key:\n{}",
        sidrad.log_about(v6(frr2), 12)
    );
    assert_eq!(
        sidrad.state(v6(frr2)).as_deref(),
        Some("active"),
        "sidrad's session with FRR (wrong key):\n{}",
        sidrad.log_about(v6(frr2), 12)
    );
    let file = capture.stop()?;
    let frr_syns = segments(&file, v6(frr2), sid_addr)?;
    let answers = segments(&file, sid_addr, v6(frr2))?;
    assert!(
        frr_syns.iter().filter(|l| l.contains("Flags [S]")).count() >= 2 && answers.is_empty(),
        "FRR (wrong key) should keep sending SYNs that get no answer at all:\nFRR -> sidrad:\n{}\n\
         sidrad -> FRR:\n{}",
        frr_syns.join("\n"),
        answers.join("\n")
    );
    let sidrad_syns = segments(&file, sid_addr, v6(gbp2))?;
    let answers = segments(&file, v6(gbp2), sid_addr)?;
    assert!(
        sidrad_syns
            .iter()
            .filter(|l| l.contains("Flags [S]"))
            .count()
            >= 2
            && answers.is_empty(),
        "sidrad's SYNs to GoBGP (wrong key) should get no answer at all:\nsidrad -> GoBGP:\n{}\n\
         GoBGP -> sidrad:\n{}",
        sidrad_syns.join("\n"),
        answers.join("\n")
    );
    // Every segment sidrad sends to a keyed peer carries the MD5 option (tcpdump: "md5").
    for peer in [gbp1, gbp2, frr1] {
        let unsigned: Vec<String> = segments(&file, sid_addr, v6(peer))?
            .into_iter()
            .filter(|l| !l.contains("md5"))
            .collect();
        assert!(
            unsigned.is_empty(),
            "segments from sidrad to {} without the TCP-MD5 option:\n{}",
            peer.ipv6,
            unsigned.join("\n")
        );
    }
    assert!(logged_why, "{why_missing}");
    Ok(())
}
