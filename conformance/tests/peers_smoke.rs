//! The FRR and BIRD launchers bring up a real session and their query helpers see it.
//!
//! ```text
//!   netns ps1-frr  fd00::1 ── bridge (ps1-hub) ── fd00::2  netns ps1-bird
//!   FRR 8.4 zebra+bgpd, AS 65001 (dials)          BIRD 2.0, AS 65002 (passive)
//!                                                 announces 2001:db8:77::/48
//! ```
//!
//! 1. Both sides report the eBGP session established.
//! 2. FRR's IPv6 unicast RIB holds BIRD's route, with BIRD as next hop.
//!
//! Needs root; see `conformance::require_root`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::net::IpAddr;
use std::time::{Duration, Instant};

use conformance::peers::{Bird, Frr, IPV6_UNICAST, Session};
use conformance::{Check, Result, TestDir, Topology, cmd, require_root, wait_until};

const PREFIX: &str = "2001:db8:77::/48";

#[test]
fn frr_and_bird_peer() {
    if !require_root("frr_and_bird_peer") {
        return;
    }
    cmd::require(&[
        cmd::IP,
        cmd::FRR_ZEBRA,
        cmd::FRR_BGPD,
        cmd::VTYSH,
        cmd::BIRD,
        cmd::BIRDC,
    ])
    .unwrap();
    let start = Instant::now();
    let topo = Topology::builder("ps1")
        .node("frr")
        .node("bird")
        .build()
        .unwrap();
    let dir = TestDir::new("peers_smoke").unwrap();
    if let Err(e) = scenario(&topo, &dir) {
        panic!("frr_and_bird_peer: {e}");
    }
    eprintln!("frr_and_bird_peer: passed in {:.1?}", start.elapsed());
}

fn scenario(topo: &Topology, dir: &TestDir) -> Result<()> {
    let frr_node = topo.node("frr")?;
    let bird_node = topo.node("bird")?;

    let bird_session = Session::ebgp(bird_node, 65002, frr_node, 65001)
        .families(&[IPV6_UNICAST])
        .passive(true);
    let statics = format!("protocol static {{ ipv6; route {PREFIX} unreachable; }}\n");
    let bird_conf = Bird::config(&bird_session, "frr", &statics)?;
    let mut bird = Bird::start(&bird_node.ns, &dir.subdir("bird")?, &bird_conf)?;

    let frr_session = Session::ebgp(frr_node, 65001, bird_node, 65002).families(&[IPV6_UNICAST]);
    let bgpd_conf = Frr::config(&frr_session, "frr", "")?;
    let mut frr = Frr::start(
        &frr_node.ns,
        &dir.subdir("frr")?,
        "hostname frr\n",
        &bgpd_conf,
    )?;

    let bird_addr = IpAddr::V6(bird_node.ipv6);
    wait_until(
        "the FRR-BIRD session",
        Duration::from_secs(30),
        Duration::from_millis(100),
        || {
            let f = frr.neighbor_state(bird_addr)?;
            let b = bird.protocol_state("frr")?;
            Ok(if f == "Established" && b == "Established" {
                Check::Ready(())
            } else {
                Check::NotYet(format!("frr {f}, bird {b}"))
            })
        },
    )?;
    let paths = wait_until(
        &format!("{PREFIX} in FRR's RIB"),
        Duration::from_secs(15),
        Duration::from_millis(100),
        || {
            let p = frr.paths(IPV6_UNICAST, PREFIX)?;
            Ok(if p.is_empty() {
                Check::NotYet("no path".into())
            } else {
                Check::Ready(p)
            })
        },
    )?;
    let nexthops = paths[0]["nexthops"].as_array().cloned().unwrap_or_default();
    assert!(
        nexthops
            .iter()
            .any(|n| n["ip"] == bird_node.ipv6.to_string()),
        "{PREFIX} via {nexthops:?}"
    );
    assert!(bird.routes(Some(PREFIX))?.contains(PREFIX));
    Ok(())
}
