//! Connection collision (RFC 4271 §6.8): sidrad and FRR both configured to dial, their connects
//! crossing; exactly one session ends up Established and it stays up.
//!
//! ```text
//!   scN-sid  fd00::1  sidrad AS 65001, active (router id: higher or lower than FRR's)
//!   scN-frr  fd00::2  FRR 8.4 AS 65001, active, `timers connect 1`, router id 192.0.2.2
//! ```
//!
//! The collision is forced rather than left to chance: FRR's bgpd is frozen (SIGSTOP) right after
//! it starts, sidrad dials it (the kernel completes the handshake into FRR's listen queue) and
//! sends its OPEN; once FRR's connect timer has expired, FRR is thawed: it handles expired timers
//! before I/O, so it dials sidrad and then accepts sidrad's connection. Two connections now exist
//! on both sides, each with an OPEN on the way. (FRR occasionally accepts first and never dials;
//! the attempt is then started again, up to three times.)
//!
//! 1. FRR dialed after the thaw (its debug log), and whenever sidrad resolves a collision itself
//!    it keeps the connection opened by the higher BGP Identifier.
//! 2. The session settles: Established on both sides, and then unchanged (sidrad's count of
//!    "session established", its "session down" lines, FRR's state and established-connection
//!    count) for longer than the hold time, all within a bound.
//! 3. If a collision sidrad resolved itself led straight to the only session (no flap), that
//!    session runs on the connection the higher BGP Identifier opened: FRR's local port is 179
//!    exactly when sidrad opened it. (When a KEEPALIVE on the first connection is handled before the OPEN on
//!    the second, sidrad is Established first and, per §6.8, closes the second connection
//!    instead; the session then legitimately runs on the first one, whatever the identifiers.)
//!
//! The first attempt may be lost on both sides, which RFC 4271 §6.8 allows: FRR answers sidrad's
//! OPEN on the first connection with its KEEPALIVE (OpenConfirm) before it sees sidrad's OPEN on
//! the second one; if that KEEPALIVE reaches sidrad before FRR's OPEN on the second connection,
//! sidrad is Established and closes the second connection (Established wins), while FRR, whose
//! identifier is higher, closes the first one (OpenConfirm collision). Both retry after a second;
//! the test then checks that they converge. The number of establishments is printed.
//!
//! Two tests, one per order of the BGP Identifiers. Needs root; see `conformance::require_root`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use conformance::peers::sidrad::signal;
use conformance::peers::{Frr, IPV6_UNICAST, Session, Sidrad, SidradConfig};
use conformance::{Check, Result, TestDir, Topology, cmd, require_root, wait_until};
use serde_json::Value;

/// Longer than the hold time (9 s): a session that lost its connection would be down by then.
const STABLE_WINDOW: Duration = Duration::from_secs(11);
/// How long the whole settling may take (the window included).
const SETTLE_BOUND: Duration = Duration::from_secs(40);
/// FRR's `timers connect 1`.
const FRR_CONNECT_TIMER: Duration = Duration::from_secs(1);

#[test]
fn collision_sidrad_higher_id() {
    run(
        "collision_sidrad_higher_id",
        "sc1",
        Ipv4Addr::new(192, 0, 2, 201),
    );
}

#[test]
fn collision_sidrad_lower_id() {
    run(
        "collision_sidrad_lower_id",
        "sc2",
        Ipv4Addr::new(192, 0, 2, 1),
    );
}

fn run(name: &str, prefix: &str, router_id: Ipv4Addr) {
    if !require_root(name) {
        return;
    }
    cmd::require(&[cmd::IP, cmd::FRR_ZEBRA, cmd::FRR_BGPD, cmd::VTYSH]).unwrap();
    let start = Instant::now();
    let topo = Topology::builder(prefix)
        .node("sid")
        .node("frr")
        .build()
        .unwrap();
    let dir = TestDir::new(name).unwrap();
    if let Err(e) = scenario(&topo, &dir, router_id) {
        panic!("{name}: {e}");
    }
    eprintln!("{name}: passed in {:.1?}", start.elapsed());
}

/// How many times the forced collision is tried before giving up: FRR occasionally handles
/// sidrad's connection before its own expired connect timer and then never dials.
const ATTEMPTS: usize = 3;

fn scenario(topo: &Topology, dir: &TestDir, router_id: Ipv4Addr) -> Result<()> {
    for n in 1..=ATTEMPTS {
        if attempt(topo, dir, router_id, n)? {
            return Ok(());
        }
        eprintln!("attempt {n}: FRR did not dial after the thaw, no collision; starting again");
    }
    panic!("no collision in {ATTEMPTS} attempts (FRR never dialed while sidrad was opening)");
}

/// One forced collision with fresh daemons; `false` if FRR never dialed (no collision).
fn attempt(topo: &Topology, dir: &TestDir, router_id: Ipv4Addr, n: usize) -> Result<bool> {
    let sid = topo.node("sid")?;
    let frr_node = topo.node("frr")?;
    let (sid_addr, frr_addr) = (IpAddr::V6(sid.ipv6), IpAddr::V6(frr_node.ipv6));
    let sidrad_wins = u32::from(router_id) > u32::from(frr_node.loopback4);

    let frr_session = Session::ibgp(frr_node, sid, 65001).families(&[IPV6_UNICAST]);
    let frr_dir = dir.subdir(&format!("frr-{n}"))?;
    let mut frr = Frr::start(
        &frr_node.ns,
        &frr_dir,
        "hostname frr\n",
        &format!(
            "debug bgp neighbor-events\n{}",
            Frr::config(&frr_session, "frr", "")?
        ),
    )?;
    // Frozen once it has tried to dial (and been refused: sidrad is not running yet), so that
    // its connect timer runs.
    wait_until(
        "FRR's first connect to be refused",
        Duration::from_secs(10),
        Duration::from_millis(20),
        || {
            let state = frr.neighbor_state(sid_addr)?;
            Ok(if state == "Active" {
                Check::Ready(())
            } else {
                Check::NotYet(state)
            })
        },
    )?;
    signal(frr.bgpd(), "STOP")?;
    let frozen = Instant::now();

    let mut config =
        SidradConfig::from_session(&Session::ibgp(sid, frr_node, 65001).families(&[IPV6_UNICAST]));
    config.router_id = router_id;
    let mut sidrad = Sidrad::start(&sid.ns, &dir.subdir(&format!("sidrad-{n}"))?, &config)?;
    sidrad.wait_for_log(
        "its OPEN sent to the frozen FRR",
        Duration::from_secs(10),
        |l| l.is_about(frr_addr) && l.message == "connect -> open-sent",
    )?;
    // FRR's connect timer must have expired while frozen, so that it dials as soon as it runs
    // (it handles expired timers before I/O, i.e. before accepting sidrad's connection).
    wait_until(
        "FRR's connect timer to expire while it is frozen",
        FRR_CONNECT_TIMER * 3,
        Duration::from_millis(50),
        || {
            Ok(
                if frozen.elapsed() > FRR_CONNECT_TIMER + FRR_CONNECT_TIMER / 2 {
                    Check::Ready(())
                } else {
                    Check::NotYet(format!("frozen for {:.1?}", frozen.elapsed()))
                },
            )
        },
    )?;
    signal(frr.bgpd(), "CONT")?;

    // 1. The collision: FRR dials too once thawed (its debug log says "Connect start to ..."; its
    // first attempt, refused before the freeze, is the first such line). sidrad sees the second
    // connection while opening the first ("collision detection") or, when FRR's OPEN and
    // KEEPALIVE on the first came first, once Established (answered with Cease 6/7).
    let frr_log = frr_dir.join("bgpd.log");
    let dialed = wait_until(
        "FRR to dial sidrad after the thaw",
        Duration::from_secs(3),
        Duration::from_millis(50),
        || {
            let log = std::fs::read_to_string(&frr_log).unwrap_or_default();
            let n = log
                .matches(&format!("Connect start to {sid_addr} "))
                .count();
            Ok(if n >= 2 {
                Check::Ready(())
            } else {
                Check::NotYet(format!("{n} connects in FRR's log"))
            })
        },
    );
    match dialed {
        Ok(()) => {}
        Err(conformance::Error::Timeout { .. }) => return Ok(false),
        Err(e) => return Err(e),
    }
    let view = |frr: &Frr| -> Result<Value> {
        let v = frr.vtysh_json(&format!("show bgp neighbors {sid_addr} json"))?;
        Ok(v[sid_addr.to_string()].clone())
    };

    // 2. Settled: Established on both sides, then unchanged for longer than the hold time.
    let thawed = Instant::now();
    let mut last: Option<String> = None;
    let mut since = Instant::now();
    let settled = wait_until(
        &format!("the session to settle (Established, unchanged for {STABLE_WINDOW:?})"),
        SETTLE_BOUND,
        Duration::from_millis(250),
        || {
            sidrad.daemon().check_running()?;
            let n = sidrad.established_count(frr_addr);
            let downs = sidrad
                .log_lines()
                .iter()
                .filter(|l| l.is_about(frr_addr) && l.message.starts_with("session down"))
                .count();
            let v = view(&frr)?;
            let state = format!(
                "sidrad established {n}x, down {downs}x, state {:?}; FRR {} with \
                 connectionsEstablished {}, local port {}",
                sidrad.state(frr_addr),
                v["bgpState"],
                v["connectionsEstablished"],
                v["portLocal"]
            );
            if last.as_deref() != Some(state.as_str()) {
                last = Some(state.clone());
                since = Instant::now();
            }
            let up = n >= 1
                && sidrad.state(frr_addr).as_deref() == Some("established")
                && v["bgpState"] == "Established";
            Ok(if up && since.elapsed() >= STABLE_WINDOW {
                Check::Ready((n, v))
            } else {
                Check::NotYet(format!("{state} (unchanged for {:.1?})", since.elapsed()))
            })
        },
    );
    let (established, v) = match settled {
        Ok(x) => x,
        Err(e) => panic!("{e}\nsidrad's log:\n{}", sidrad.log_about(frr_addr, 40)),
    };
    let want = if sidrad_wins { "outgoing" } else { "incoming" };
    let resolved: Vec<String> = sidrad
        .log_lines()
        .into_iter()
        .filter(|l| l.is_about(frr_addr) && l.message.starts_with("connection collision"))
        .map(|l| l.message)
        .collect();
    assert!(
        resolved
            .iter()
            .all(|m| *m == format!("connection collision: keeping the {want} connection")),
        "sidrad (router id {router_id}, FRR {}) should keep its {want} connection; it logged \
         {resolved:?}:\n{}",
        frr_node.loopback4,
        sidrad.log_about(frr_addr, 30)
    );

    eprintln!(
        "collision (sidrad router id {router_id}): settled after {:.1?} with {established} \
         establishment(s) on sidrad's side; sidrad's own resolutions {resolved:?}; FRR local \
         port {}",
        thawed.elapsed().saturating_sub(STABLE_WINDOW),
        v["portLocal"]
    );

    // 3. When the collision sidrad resolved itself led straight to the one and only session
    // (no return to Idle in between), that session runs on the connection of the higher BGP
    // Identifier.
    let lines: Vec<_> = sidrad
        .log_lines()
        .into_iter()
        .filter(|l| l.is_about(frr_addr))
        .collect();
    let straight = lines
        .iter()
        .position(|l| l.message.starts_with("connection collision"))
        .and_then(|i| {
            lines[i..]
                .iter()
                .find(|l| l.message == "session established" || l.message.ends_with("-> idle"))
        })
        .is_some_and(|l| l.message == "session established");
    if established == 1 && straight {
        let frr_port = v["portLocal"].as_u64();
        assert_eq!(
            frr_port == Some(179),
            sidrad_wins,
            "FRR's local port {frr_port:?}: the session should run on the connection opened by {}",
            if sidrad_wins { "sidrad" } else { "FRR" }
        );
    }
    Ok(true)
}
