//! A stray TCP connection from the address of a peer whose session is Established must not end
//! that session (RFC 4271 §6.8).
//!
//! ```text
//!   sc3-sid  fd00::1  sidrad AS 65001, dials FRR
//!   sc3-frr  fd00::2  FRR 8.4 AS 65001 (passive), Graceful Restart capability as by default
//!                     (restart time 120, no address family); also runs the raw client
//! ```
//!
//! Needs root; see `conformance::require_root`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bgpd::packet::capability::Capability;
use bgpd::packet::{
    DecodeContext, EncodeContext, Family, Message, OpenMessage, decode_message, encode_to_vec,
};
use conformance::peers::sidrad::raw;
use conformance::peers::{Frr, IPV6_UNICAST, Session, Sidrad, SidradConfig};
use conformance::{Check, Result, TestDir, Topology, cmd, require_root, wait_until};

/// Not a test: the raw BGP client `stray_connection_from_an_established_peer` runs inside FRR's
/// namespace (see `conformance::peers::sidrad::raw`); without its environment it returns at once.
#[test]
fn raw_bgp_client_helper() {
    raw::helper_main();
}

/// A second TCP connection from the address of a peer whose session is Established, carrying an
/// OPEN that does not say the peer restarted (no Graceful Restart capability at all), while FRR's
/// session runs on: RFC 4271 §6.8, "a connection collision with an existing BGP connection that is
/// in the Established state causes closing of the newly created connection". sidrad must answer
/// it with NOTIFICATION 6/7 (Cease, Connection Collision Resolution) and keep the session.
///
/// This test found a sidrad bug, fixed in 2b6a8fa: with the Graceful Restart capability in both
/// OPENs, sidrad took any new connection from the peer for a restart (RFC 4724 §4.2) and ended
/// the Established session at once, although FRR's capability lists no address family (no
/// forwarding state to preserve; FRR itself does this only in "NSF mode") and the old connection
/// was healthy; the new connection was then closed too (the IdleHold timer was running), so both
/// were gone. In connection collisions the losing connection tore down the winner.
#[test]
fn stray_connection_from_an_established_peer() {
    let name = "stray_connection_from_an_established_peer";
    if !require_root(name) {
        return;
    }
    cmd::require(&[cmd::IP, cmd::FRR_ZEBRA, cmd::FRR_BGPD, cmd::VTYSH]).unwrap();
    let start = Instant::now();
    let topo = Topology::builder("sc3")
        .node("sid")
        .node("frr")
        .build()
        .unwrap();
    let dir = TestDir::new(name).unwrap();
    if let Err(e) = stray(&topo, &dir) {
        panic!("{name}: {e}");
    }
    eprintln!("{name}: passed in {:.1?}", start.elapsed());
}

fn stray(topo: &Topology, dir: &TestDir) -> Result<()> {
    let sid = topo.node("sid")?;
    let frr_node = topo.node("frr")?;
    let (sid_addr, frr_addr) = (IpAddr::V6(sid.ipv6), IpAddr::V6(frr_node.ipv6));
    let frr_session = Session::ibgp(frr_node, sid, 65001)
        .families(&[IPV6_UNICAST])
        .passive(true);
    let mut frr = Frr::start(
        &frr_node.ns,
        &dir.subdir("frr")?,
        "hostname frr\n",
        &Frr::config(&frr_session, "frr", "")?,
    )?;
    let config =
        SidradConfig::from_session(&Session::ibgp(sid, frr_node, 65001).families(&[IPV6_UNICAST]));
    let mut sidrad = Sidrad::start(&sid.ns, &dir.subdir("sidrad")?, &config)?;
    wait_until(
        "the session Established on both sides",
        Duration::from_secs(30),
        Duration::from_millis(100),
        || {
            sidrad.daemon().check_running()?;
            let f = frr.neighbor_state(sid_addr)?;
            let n = sidrad.established_count(frr_addr);
            Ok(if f == "Established" && n >= 1 {
                Check::Ready(())
            } else {
                Check::NotYet(format!("frr {f}, sidrad established {n}x"))
            })
        },
    )?;

    // The stray connection, from FRR's namespace (so from FRR's address).
    let mark = sidrad.log_len();
    let open = OpenMessage::new(
        65001,
        9,
        frr_node.loopback4,
        vec![
            Capability::MultiProtocol(Family::IPV6_UNICAST),
            Capability::FourOctetAs(65001),
        ],
    );
    let bytes = encode_to_vec(&Message::Open(open), &EncodeContext::default());
    let got = raw::exchange(
        &frr_node.ns,
        SocketAddr::new(sid_addr, 179),
        &bytes,
        Duration::from_secs(3),
        &dir.subdir("raw")?,
        "stray",
    )?;
    let answer: Vec<String> = raw::frames(&got)
        .iter()
        .map(|m| match decode_message(m, &DecodeContext::default()) {
            Ok(Message::Notification(n)) => format!("NOTIFICATION {}/{}", n.code, n.subcode),
            Ok(Message::Open(_)) => "OPEN".into(),
            Ok(Message::Keepalive) => "KEEPALIVE".into(),
            Ok(other) => format!("{other:?}"),
            Err(e) => format!("undecodable ({e})"),
        })
        .collect();

    // The session must not notice, for a while.
    let violation = wait_until(
        "the Established session to go down (it must not)",
        Duration::from_secs(3),
        Duration::from_millis(100),
        || {
            let down = sidrad
                .log_lines()
                .into_iter()
                .skip(mark)
                .find(|l| l.is_about(frr_addr) && l.message.starts_with("session down"));
            let f = frr.neighbor_state(sid_addr)?;
            Ok(match down {
                Some(l) => Check::Ready(l.message),
                None if f != "Established" => Check::Ready(format!("FRR is {f}")),
                None => Check::NotYet(String::new()),
            })
        },
    );
    let mut failures = Vec::new();
    match violation {
        Ok(why) => failures.push(format!(
            "the Established session went down after a stray connection from the peer's \
             address: {why}"
        )),
        Err(conformance::Error::Timeout { .. }) => {}
        Err(e) => return Err(e),
    }
    if answer != ["NOTIFICATION 6/7"] {
        failures.push(format!(
            "the stray connection got [{}], expected [NOTIFICATION 6/7] (RFC 4271 §6.8)",
            answer.join(", ")
        ));
    }
    assert!(
        failures.is_empty(),
        "{}\nsidrad's log about the peer:\n{}",
        failures.join("\n"),
        sidrad.log_about(frr_addr, 12)
    );
    Ok(())
}
