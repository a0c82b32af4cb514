//! Peer restart: a peer killed with SIGKILL and started again gets its session back without
//! operator action, within sidrad's backoff bounds.
//!
//! ```text
//!   sr1-sid  fd00::1  sidrad AS 65001: dials GoBGP, passive toward FRR
//!                     (connect retry 1 s, idle hold 1 s doubling up to 4 s)
//!   sr1-frr  fd00::2  FRR 8.4, dials sidrad
//!   sr1-gbp  fd00::3  GoBGP 3.10, passive
//! ```
//!
//! 1. Both sessions Established.
//! 2. SIGKILL gobgpd and FRR's bgpd: sidrad logs the sessions down, and keeps trying GoBGP
//!    (at least two refused connects are logged) while waiting for FRR.
//! 3. Start both again (fresh directories): both sessions are Established again on both sides,
//!    each within max idle hold + connect retry (+ FRR's 1 s start timer) + 3 s of the peer being
//!    back, measured from sidrad's log timestamps.
//!
//! Needs root; see `conformance::require_root`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime};

use conformance::peers::{
    Frr, GoBgp, IPV4_UNICAST, IPV6_UNICAST, Session, Sidrad, SidradConfig, SidradNeighbor,
};
use conformance::process::STOP_GRACE;
use conformance::{Check, Node, Result, TestDir, Topology, cmd, require_root, wait_until};

const CONNECT_RETRY: u64 = 1;
const MAX_IDLE_HOLD: u64 = 4;
/// FRR waits 1 s after start before its first connect (interop.md §10).
const FRR_START_TIMER: u64 = 1;
const MARGIN: u64 = 3;

#[test]
fn sessions_peer_restart() {
    if !require_root("sessions_peer_restart") {
        return;
    }
    cmd::require(&[
        cmd::IP,
        cmd::FRR_ZEBRA,
        cmd::FRR_BGPD,
        cmd::VTYSH,
        cmd::GOBGPD,
        cmd::GOBGP,
    ])
    .unwrap();
    let start = Instant::now();
    let topo = Topology::builder("sr1")
        .node("sid")
        .node("frr")
        .node("gbp")
        .build()
        .unwrap();
    let dir = TestDir::new("sessions_restart").unwrap();
    if let Err(e) = scenario(&topo, &dir) {
        panic!("sessions_peer_restart: {e}");
    }
    eprintln!("sessions_peer_restart: passed in {:.1?}", start.elapsed());
}

const FAMILIES: &[&str] = &[IPV4_UNICAST, IPV6_UNICAST];

fn start_frr(node: &Node, sid: &Node, dir: &TestDir, sub: &str) -> Result<Frr> {
    let s = Session::ibgp(node, sid, 65001).families(FAMILIES);
    Frr::start(
        &node.ns,
        &dir.subdir(sub)?,
        "hostname frr\n",
        &Frr::config(&s, "frr", "")?,
    )
}

fn start_gobgp(node: &Node, sid: &Node, dir: &TestDir, sub: &str) -> Result<GoBgp> {
    let s = Session::ibgp(node, sid, 65001)
        .families(FAMILIES)
        .passive(true);
    GoBgp::start(
        &node.ns,
        &dir.subdir(sub)?,
        &GoBgp::config(&s)?,
        conformance::peers::gobgp::DEFAULT_API_PORT,
    )
}

fn wait_both(
    sidrad: &mut Sidrad,
    frr: &mut Frr,
    gobgp: &mut GoBgp,
    sid_addr: IpAddr,
    (frr_addr, gbp_addr): (IpAddr, IpAddr),
    n: usize,
    timeout: Duration,
) -> Result<()> {
    wait_until(
        &format!("both sessions Established (#{n})"),
        timeout,
        Duration::from_millis(100),
        || {
            sidrad.daemon().check_running()?;
            let f = frr.neighbor_state(sid_addr)?;
            let g = gobgp.neighbor_state(sid_addr)?;
            let (sf, sg) = (
                sidrad.established_count(frr_addr),
                sidrad.established_count(gbp_addr),
            );
            Ok(
                if f == "Established" && g == "established" && sf >= n && sg >= n {
                    Check::Ready(())
                } else {
                    Check::NotYet(format!(
                        "frr {f}, gobgp {g}; sidrad established with frr {sf}x, gobgp {sg}x"
                    ))
                },
            )
        },
    )
}

fn scenario(topo: &Topology, dir: &TestDir) -> Result<()> {
    let sid = topo.node("sid")?;
    let frr_node = topo.node("frr")?;
    let gbp_node = topo.node("gbp")?;
    let sid_addr = IpAddr::V6(sid.ipv6);
    let (frr_addr, gbp_addr) = (IpAddr::V6(frr_node.ipv6), IpAddr::V6(gbp_node.ipv6));
    let peers = (frr_addr, gbp_addr);

    let mut gobgp = start_gobgp(gbp_node, sid, dir, "gobgp")?;
    let ours = |node, passive| {
        let mut n = SidradNeighbor::from_session(
            &Session::ibgp(sid, node, 65001)
                .families(FAMILIES)
                .passive(passive),
        );
        n.connect_retry = CONNECT_RETRY as u16;
        n.max_idle_hold = MAX_IDLE_HOLD as u16;
        n
    };
    let mut config = SidradConfig::from_session(&Session::ibgp(sid, frr_node, 65001));
    config.neighbors = vec![ours(frr_node, true), ours(gbp_node, false)];
    let mut sidrad = Sidrad::start(&sid.ns, &dir.subdir("sidrad")?, &config)?;
    let mut frr = start_frr(frr_node, sid, dir, "frr")?;

    // 1. Established.
    wait_both(
        &mut sidrad,
        &mut frr,
        &mut gobgp,
        sid_addr,
        peers,
        1,
        Duration::from_secs(30),
    )?;

    // 2. Kill both peers.
    let mark = sidrad.log_len();
    gobgp.daemon().stop("KILL", STOP_GRACE)?;
    frr.bgpd().stop("KILL", STOP_GRACE)?;
    drop(frr); // zebra too (SIGTERM)
    drop(gobgp);
    for peer in [frr_addr, gbp_addr] {
        sidrad.wait_for_log_since(
            mark,
            &format!("the session with the killed {peer} down"),
            Duration::from_secs(5),
            |l| l.is_about(peer) && l.message.starts_with("session down"),
        )?;
    }
    let mut refused = 0;
    sidrad.wait_for_log_since(
        mark,
        "two refused connects to GoBGP while it is down",
        Duration::from_secs(MAX_IDLE_HOLD + 3 * CONNECT_RETRY + MARGIN),
        |l| {
            if l.is_about(gbp_addr) && l.message.starts_with("connect failed") {
                refused += 1;
            }
            refused >= 2
        },
    )?;

    // 3. Start them again.
    // Measured from the start of each daemon (a session may come up before its API answers).
    let gobgp_back = SystemTime::now();
    let mut gobgp = start_gobgp(gbp_node, sid, dir, "gobgp-restarted")?;
    let frr_back = SystemTime::now();
    let mut frr = start_frr(frr_node, sid, dir, "frr-restarted")?;
    let waited = Instant::now();
    wait_both(
        &mut sidrad,
        &mut frr,
        &mut gobgp,
        sid_addr,
        peers,
        2,
        Duration::from_secs(30),
    )?;
    let took = |peer, back: SystemTime| {
        sidrad
            .established(peer)
            .get(1)
            .and_then(|l| l.time)
            .and_then(|t| t.duration_since(back).ok())
            .unwrap_or(Duration::MAX)
    };
    let (t_gobgp, t_frr) = (took(gbp_addr, gobgp_back), took(frr_addr, frr_back));
    eprintln!(
        "sessions_peer_restart: re-established {t_gobgp:.1?} after GoBGP was back (sidrad \
         dials), {t_frr:.1?} after FRR was back (FRR dials); {:.1?} in all",
        waited.elapsed()
    );
    let gobgp_bound = Duration::from_secs(MAX_IDLE_HOLD + CONNECT_RETRY + MARGIN);
    let frr_bound = Duration::from_secs(MAX_IDLE_HOLD + FRR_START_TIMER + CONNECT_RETRY + MARGIN);
    assert!(
        t_gobgp <= gobgp_bound,
        "GoBGP session back after {t_gobgp:.1?}, bound {gobgp_bound:?}:\n{}",
        sidrad.log_about(gbp_addr, 20)
    );
    assert!(
        t_frr <= frr_bound,
        "FRR session back after {t_frr:.1?}, bound {frr_bound:?}:\n{}",
        sidrad.log_about(frr_addr, 20)
    );
    Ok(())
}
