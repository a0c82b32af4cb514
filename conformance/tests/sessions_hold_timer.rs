//! Hold timer expiry (RFC 4271 §6.5, §8.2.2): a frozen peer is dropped with NOTIFICATION 4/0
//! within the hold time, and the session comes back by itself once the peer runs again.
//!
//! ```text
//!   sh1-sid  fd00::1  sidrad AS 65001, hold time 9 s, dials both (tcpdump on its eth0)
//!   sh1-frr  fd00::2  FRR 8.4 (passive)
//!   sh1-gbp  fd00::3  GoBGP 3.10 (passive)
//! ```
//!
//! 1. Both sessions Established.
//! 2. SIGSTOP FRR's bgpd and gobgpd: sidrad logs "sending NOTIFICATION 4/0" for each between
//!    5 s (the last KEEPALIVE came at most a keepalive interval before the freeze) and hold time +
//!    2 s after the freeze, and the capture shows the NOTIFICATION (type 3, code 4) on the wire.
//! 3. SIGCONT both: each session is Established again, on both sides, without operator action,
//!    within a bound derived from sidrad's backoff (max idle hold + connect retry) plus GoBGP's
//!    own 5 s Idle after a reset (interop.md §4.5) and a margin.
//!
//! Needs root; see `conformance::require_root`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime};

use conformance::peers::sidrad::signal;
use conformance::peers::{Frr, GoBgp, IPV6_UNICAST, Session, Sidrad, SidradConfig, SidradNeighbor};
use conformance::{Check, Result, Tcpdump, TestDir, Topology, cmd, require_root, wait_until};

const HOLD: u64 = 9;
const MAX_IDLE_HOLD: u64 = 4;
const CONNECT_RETRY: u64 = 1;
/// GoBGP sits in Idle for 5 s after any reset (interop.md §4.5).
const GOBGP_IDLE: u64 = 5;

#[test]
fn sessions_hold_timer_expiry() {
    if !require_root("sessions_hold_timer_expiry") {
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
    let topo = Topology::builder("sh1")
        .node("sid")
        .node("frr")
        .node("gbp")
        .build()
        .unwrap();
    let dir = TestDir::new("sessions_hold_timer").unwrap();
    if let Err(e) = scenario(&topo, &dir) {
        panic!("sessions_hold_timer_expiry: {e}");
    }
    eprintln!(
        "sessions_hold_timer_expiry: passed in {:.1?}",
        start.elapsed()
    );
}

fn since(t: SystemTime, line_time: Option<SystemTime>) -> Duration {
    line_time
        .and_then(|l| l.duration_since(t).ok())
        .unwrap_or_default()
}

fn scenario(topo: &Topology, dir: &TestDir) -> Result<()> {
    let sid = topo.node("sid")?;
    let frr_node = topo.node("frr")?;
    let gbp_node = topo.node("gbp")?;
    let sid_addr = IpAddr::V6(sid.ipv6);
    let (frr_addr, gbp_addr) = (IpAddr::V6(frr_node.ipv6), IpAddr::V6(gbp_node.ipv6));

    let peer = |node| {
        Session::ibgp(node, sid, 65001)
            .families(&[IPV6_UNICAST])
            .passive(true)
    };
    let mut frr = Frr::start(
        &frr_node.ns,
        &dir.subdir("frr")?,
        "hostname frr\n",
        &Frr::config(&peer(frr_node), "frr", "")?,
    )?;
    let mut gobgp = GoBgp::start(
        &gbp_node.ns,
        &dir.subdir("gobgp")?,
        &GoBgp::config(&peer(gbp_node))?,
        conformance::peers::gobgp::DEFAULT_API_PORT,
    )?;
    let pcap = dir.join("bgp.pcap");
    let mut capture = Tcpdump::start(&sid.ns, conformance::topo::NODE_IF, &pcap, "tcp port 179")?;
    let ours = |node| Session::ibgp(sid, node, 65001).families(&[IPV6_UNICAST]);
    let mut config = SidradConfig::from_session(&ours(frr_node));
    config.neighbors = [frr_node, gbp_node]
        .iter()
        .map(|n| {
            let mut n = SidradNeighbor::from_session(&ours(n));
            n.hold_time = HOLD as u16;
            n.max_idle_hold = MAX_IDLE_HOLD as u16;
            n.connect_retry = CONNECT_RETRY as u16;
            n
        })
        .collect();
    let mut sidrad = Sidrad::start(&sid.ns, &dir.subdir("sidrad")?, &config)?;

    // 1. Established.
    let both_up = |sidrad: &mut Sidrad, frr: &mut Frr, gobgp: &mut GoBgp, n: usize| {
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
                    "frr {f}, gobgp {g}; sidrad established with frr {sf}x, gobgp {sg}x \
                     (waiting for {n}x)"
                ))
            },
        )
    };
    wait_until(
        "both sessions Established",
        Duration::from_secs(30),
        Duration::from_millis(100),
        || both_up(&mut sidrad, &mut frr, &mut gobgp, 1),
    )?;

    // Keepalives flowing: a periodic KEEPALIVE from each peer (the first one answers the OPEN).
    capture.wait_for_messages(
        "two KEEPALIVEs from each peer",
        Duration::from_secs(10),
        |msgs| {
            [frr_addr, gbp_addr].iter().all(|p| {
                msgs.iter()
                    .filter(|m| m.src.ip() == *p && m.bytes.get(18) == Some(&4))
                    .count()
                    >= 2
            })
        },
    )?;

    // 2. Freeze both peers; sidrad's hold timer expires.
    let mark = sidrad.log_len();
    let frozen_at = SystemTime::now();
    signal(frr.bgpd(), "STOP")?;
    signal(gobgp.daemon(), "STOP")?;
    let mut expiries = Vec::new();
    for peer in [frr_addr, gbp_addr] {
        let line = sidrad.wait_for_log_since(
            mark,
            &format!("NOTIFICATION 4/0 to the frozen {peer}"),
            Duration::from_secs(HOLD + 4),
            |l| l.is_about(peer) && l.message.starts_with("sending NOTIFICATION 4/0"),
        )?;
        let after = since(frozen_at, line.time);
        assert!(
            after >= Duration::from_secs(5) && after <= Duration::from_secs(HOLD + 2),
            "hold timer for {peer} expired {after:.1?} after the freeze (hold time {HOLD} s)"
        );
        expiries.push((peer, after));
    }
    let others: Vec<String> = sidrad
        .sent_notifications(None)
        .iter()
        .filter(|n| n.line.index >= mark && (n.code, n.subcode) != (4, 0))
        .map(|n| n.line.to_string())
        .collect();
    assert!(others.is_empty(), "unexpected NOTIFICATIONs: {others:?}");
    capture.wait_for_messages(
        "sidrad's NOTIFICATION 4/0 to both peers on the wire",
        Duration::from_secs(5),
        |msgs| {
            [frr_addr, gbp_addr].iter().all(|p| {
                msgs.iter().any(|m| {
                    m.src.ip() == sid_addr
                        && m.dst.ip() == *p
                        && m.bytes.get(18) == Some(&3)
                        && m.bytes.get(19) == Some(&4)
                })
            })
        },
    )?;

    // 3. Thaw; the sessions come back by themselves.
    let thawed = Instant::now();
    let thawed_at = SystemTime::now();
    signal(frr.bgpd(), "CONT")?;
    signal(gobgp.daemon(), "CONT")?;
    let bound = Duration::from_secs(GOBGP_IDLE + MAX_IDLE_HOLD + CONNECT_RETRY + 5);
    wait_until(
        "both sessions Established again after SIGCONT",
        bound,
        Duration::from_millis(100),
        || both_up(&mut sidrad, &mut frr, &mut gobgp, 2),
    )?;
    let back: Vec<String> = [frr_addr, gbp_addr]
        .iter()
        .map(|p| {
            let t = sidrad.established(*p).get(1).and_then(|l| l.time);
            format!("{p} {:.1?}", since(thawed_at, t))
        })
        .collect();
    eprintln!(
        "sessions_hold_timer_expiry: hold timer expired {expiries:?} after the freeze; \
         re-established after SIGCONT: {} (all within {:.1?}, bound {bound:?})",
        back.join(", "),
        thawed.elapsed()
    );
    Ok(())
}
