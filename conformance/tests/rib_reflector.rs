//! sidrad as route reflector (RFC 4456) for FRR, GoBGP and BIRD clients.
//!
//! ```text
//!   hub rba-hub (bridge): every node on one LAN, fd00::K/64, router id 192.0.2.K
//!   rba-sid   fd00::1  sidrad AS 65001, cluster id 10.255.255.1, every neighbor an RR client;
//!                      originates 198.18.1.0/24 and 2001:db8:1::/48 (global.networks)
//!   rba-frr   fd00::2  FRR 8.4   iBGP, `network` 198.18.2.0/24, 2001:db8:2::/48
//!   rba-gbp   fd00::3  GoBGP     iBGP, `gobgp global rib add` 198.18.3.0/24, 2001:db8:3::/48
//!   rba-bird  fd00::4  BIRD 2.0  iBGP, static 198.18.4.0/24, 2001:db8:4::/48
//! ```
//!
//! Every client is passive and sidrad dials it. A capture on the hub records every UPDATE.
//!
//! 1. Each client holds, for each other client's prefixes (IPv4 and IPv6 unicast), one path from
//!    sidrad with ORIGINATOR_ID = that client's router id and CLUSTER_LIST = [10.255.255.1]
//!    (sidrad's cluster id, not its router id); and sidrad's own prefixes without either
//!    attribute (RFC 4456 §8: they are added only when reflecting).
//! 2. No client holds a path from sidrad for its own prefixes, and the capture shows that sidrad
//!    never sent a client its own routes (RFC 4456 §6/§8; clients would drop them silently, so the
//!    wire is the real check). On the wire, every reflected route carries ORIGINATOR_ID and
//!    CLUSTER_LIST as optional non-transitive attributes (flags 0x80) with the right values.
//! 3. sidrad's Loc-RIB (API) holds every client's prefixes from that client.
//!
//! `rib_sidrad_reflects_to_clients_and_non_clients` (prefix `rbn`) is the same bed with only
//! FRR a client; GoBGP and BIRD are ordinary iBGP peers (non-clients). RFC 4456 §6: "A route
//! from a Client peer: reflect to all the Non-Client peers and also to the Client peers. ... A
//! route from a Non-Client peer: reflect to all the Client peers." So FRR gets GoBGP's and BIRD's
//! routes and both get FRR's, but GoBGP and BIRD never get each other's (iBGP split horizon,
//! RFC 4271 §9.2.1): absent from their RIBs and from the capture.
//!
//! Needs root; see `conformance::require_root`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use conformance::peers::bird::BirdOptions;
use conformance::peers::frr::FrrOptions;
use conformance::peers::gobgp::{DEFAULT_API_PORT, GoBgpNeighbor};
use conformance::peers::sidrad::{SidradRib, SidradRibNeighbor};
use conformance::peers::{
    Bird, Frr, GoBgp, IPV4_UNICAST, IPV6_UNICAST, Session, Sidrad, SidradConfig, SidradNeighbor,
};
use conformance::routes::{self, PathView, SeenUpdate};
use conformance::{Check, Node, Result, Tcpdump, TestDir, Topology, cmd, require_root, wait_until};

const ASN: u32 = 65001;
const CLUSTER_ID: Ipv4Addr = Ipv4Addr::new(10, 255, 255, 1);
const FAMILIES: &[&str] = &[IPV4_UNICAST, IPV6_UNICAST];
/// BGP attribute type codes (RFC 4456 §8).
const ORIGINATOR_ID: u8 = 9;
const CLUSTER_LIST: u8 = 10;

/// The prefixes node `k` originates: (family, prefix).
fn prefixes(k: u8) -> Vec<(&'static str, String)> {
    vec![
        (IPV4_UNICAST, format!("198.18.{k}.0/24")),
        (IPV6_UNICAST, format!("2001:db8:{k}::/48")),
    ]
}

enum Client {
    Frr(Frr),
    GoBgp(GoBgp),
    Bird(Bird),
}

impl Client {
    fn name(&self) -> &'static str {
        match self {
            Client::Frr(_) => "FRR",
            Client::GoBgp(_) => "GoBGP",
            Client::Bird(_) => "BIRD",
        }
    }

    fn paths(&mut self, family: &str, prefix: &str, sid: IpAddr) -> Result<Vec<PathView>> {
        match self {
            Client::Frr(f) => routes::frr_paths(f, family, prefix),
            Client::GoBgp(g) => routes::gobgp_paths(g, family, prefix),
            Client::Bird(b) => routes::bird_paths(b, prefix, &[("sid", sid)]),
        }
    }
}

fn run(test: &str, prefix: &str, non_clients: &[&str]) {
    if !require_root(test) {
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
        cmd::BIRD,
        cmd::BIRDC,
    ])
    .unwrap();
    let start = Instant::now();
    let topo = Topology::builder(prefix)
        .node("sid")
        .node("frr")
        .node("gbp")
        .node("bird")
        .build()
        .unwrap();
    let dir = TestDir::new(test).unwrap();
    if let Err(e) = scenario(&topo, &dir, non_clients) {
        panic!("{test}: {e}");
    }
    eprintln!("{test}: passed in {:.1?}", start.elapsed());
}

#[test]
fn rib_sidrad_reflects_between_frr_gobgp_bird() {
    run("rib_sidrad_reflects_between_frr_gobgp_bird", "rba", &[]);
}

#[test]
fn rib_sidrad_reflects_to_clients_and_non_clients() {
    run(
        "rib_sidrad_reflects_to_clients_and_non_clients",
        "rbn",
        &["gbp", "bird"],
    );
}

fn start_clients(topo: &Topology, dir: &TestDir) -> Result<Vec<(Node, Client)>> {
    let sid = topo.node("sid")?;
    let (frr, gbp, bird) = (topo.node("frr")?, topo.node("gbp")?, topo.node("bird")?);
    let session = |n: &Node| Session::ibgp(n, sid, ASN).families(FAMILIES).passive(true);

    let mut gobgp = GoBgp::start(
        &gbp.ns,
        &dir.subdir("gobgp")?,
        &GoBgp::config_multi(&[GoBgpNeighbor::new(session(gbp))])?,
        DEFAULT_API_PORT,
    )?;
    for (family, prefix) in prefixes(gbp.index) {
        let nh = if family == IPV4_UNICAST {
            gbp.ipv4.to_string()
        } else {
            gbp.ipv6.to_string()
        };
        gobgp.add_route(family, &prefix, &["nexthop", &nh])?;
    }

    let mut statics = String::new();
    for (family, prefix) in prefixes(bird.index) {
        let channel = if family == IPV4_UNICAST {
            "ipv4"
        } else {
            "ipv6"
        };
        let _ = writeln!(
            statics,
            "protocol static st_{channel} {{ {channel}; route {prefix} blackhole; }}"
        );
    }
    let bird_conf = Bird::config_multi(
        bird.loopback4,
        &statics,
        &[Bird::protocol(
            &session(bird),
            "sid",
            &BirdOptions::default(),
        )?],
    );
    let bird_d = Bird::start(&bird.ns, &dir.subdir("bird")?, &bird_conf)?;

    let frr_conf = Frr::config_with(
        &[session(frr)],
        "frr",
        &FrrOptions {
            networks: prefixes(frr.index).into_iter().map(|(_, p)| p).collect(),
            ..Default::default()
        },
    )?;
    let frr_d = Frr::start(&frr.ns, &dir.subdir("frr")?, "hostname frr\n", &frr_conf)?;
    Ok(vec![
        (frr.clone(), Client::Frr(frr_d)),
        (gbp.clone(), Client::GoBgp(gobgp)),
        (bird.clone(), Client::Bird(bird_d)),
    ])
}

fn scenario(topo: &Topology, dir: &TestDir, non_clients: &[&str]) -> Result<()> {
    let sid = topo.node("sid")?;
    let sid_addr = IpAddr::V6(sid.ipv6);
    let mut capture = Tcpdump::start(
        topo.hub(),
        conformance::topo::HUB_BRIDGE,
        &dir.join("hub.pcap"),
        "tcp port 179",
    )?;
    let mut clients = start_clients(topo, dir)?;

    let mut config = SidradConfig::from_session(&Session::ibgp(sid, &clients[0].0, ASN));
    config.neighbors = clients
        .iter()
        .map(|(n, _)| SidradNeighbor::from_session(&Session::ibgp(sid, n, ASN).families(FAMILIES)))
        .collect();
    let mut rib = SidradRib {
        cluster_id: Some(CLUSTER_ID),
        networks: prefixes(sid.index).into_iter().map(|(_, p)| p).collect(),
        ..Default::default()
    };
    for (n, _) in clients
        .iter()
        .filter(|(n, _)| !non_clients.contains(&n.name.as_str()))
    {
        rib = rib.neighbor(IpAddr::V6(n.ipv6), SidradRibNeighbor::rr_client());
    }
    let is_client = |k: u8| {
        topo.nodes()
            .iter()
            .any(|n| n.index == k && n.name != "sid" && !non_clients.contains(&n.name.as_str()))
    };
    // RFC 4456 §6: may a route originated by node `from` reach node `to` through sidrad?
    let reaches =
        |from: u8, to: u8| from != to && (from == sid.index || is_client(from) || is_client(to));
    let mut sidrad = Sidrad::start_rib(&sid.ns, &dir.subdir("sidrad")?, &config, &rib)?;

    // 1. Every client has every other originator's routes, with the RR attributes.
    let originators: Vec<(u8, Ipv4Addr)> = std::iter::once((sid.index, sid.loopback4))
        .chain(clients.iter().map(|(n, _)| (n.index, n.loopback4)))
        .collect();
    wait_until(
        "every peer to hold the routes reflected to it, and sidrad's",
        Duration::from_secs(30),
        Duration::from_millis(200),
        || {
            sidrad.daemon().check_running()?;
            let mut missing = Vec::new();
            for (node, client) in clients.iter_mut() {
                for &(k, router_id) in originators.iter().filter(|(k, _)| reaches(*k, node.index)) {
                    let reflected = k != sid.index;
                    for (family, prefix) in prefixes(k) {
                        let paths = client.paths(family, &prefix, sid_addr)?;
                        let ok = paths.len() == 1
                            && paths.iter().all(|p| {
                                p.from == Some(sid_addr)
                                    && p.best
                                    && if reflected {
                                        p.originator_id == Some(router_id)
                                            && p.cluster_list == [CLUSTER_ID]
                                    } else {
                                        p.originator_id.is_none() && p.cluster_list.is_empty()
                                    }
                            });
                        if !ok {
                            missing.push(format!(
                                "{} {prefix}: {}",
                                client.name(),
                                routes::show(&paths)
                            ));
                        }
                    }
                }
            }
            Ok(if missing.is_empty() {
                Check::Ready(())
            } else {
                Check::NotYet(missing.join("\n"))
            })
        },
    )?;

    // 2a. No peer holds a path from sidrad for its own prefixes, or for the prefixes of a
    // non-client when it is a non-client itself.
    for (node, client) in clients.iter_mut() {
        for &(k, _) in originators.iter().filter(|(k, _)| !reaches(*k, node.index)) {
            for (family, prefix) in prefixes(k) {
                let paths = client.paths(family, &prefix, sid_addr)?;
                assert!(
                    paths.iter().all(|p| p.from != Some(sid_addr)),
                    "{} got {prefix} from sidrad: {}",
                    client.name(),
                    routes::show(&paths)
                );
            }
        }
    }

    // 3. sidrad's Loc-RIB holds each client's prefixes from that client.
    if let Some(socket) = sidrad.api_socket().map(std::path::Path::to_path_buf) {
        for (node, _) in &clients {
            for (family, prefix) in prefixes(node.index) {
                let paths = routes::sidrad_paths(&socket, family, &prefix)?;
                assert!(
                    paths.len() == 1
                        && paths[0].best
                        && paths[0].from == Some(IpAddr::V6(node.ipv6)),
                    "sidrad's Loc-RIB for {prefix}: {}",
                    routes::show(&paths)
                );
            }
        }
    }

    // 2b. The wire: wait for sidrad's End-of-RIBs to every client, then check every UPDATE.
    let ends = clients.len() * FAMILIES.len();
    capture.wait_for_messages(
        "sidrad's End-of-RIB markers to every client",
        Duration::from_secs(10),
        |_| {
            let all = routes::updates(&dir.join("hub.pcap")).unwrap_or_default();
            all.iter()
                .filter(|u| u.src == sid_addr && u.end_of_rib.is_some())
                .count()
                >= ends
        },
    )?;
    let pcap = capture.stop()?;
    let all = routes::updates(&pcap)?;
    for (node, client) in &clients {
        let to = IpAddr::V6(node.ipv6);
        let sent: Vec<&SeenUpdate> = all
            .iter()
            .filter(|u| u.src == sid_addr && u.dst == to)
            .collect();
        let trace = routes::show_updates(&all, sid_addr, to);
        for u in &sent {
            for &(k, _) in originators.iter().filter(|(k, _)| !reaches(*k, node.index)) {
                for (_, p) in prefixes(k) {
                    assert!(
                        !u.announces(&p),
                        "sidrad sent {} {p} (originated by node {k}):\n{trace}",
                        client.name()
                    );
                }
            }
            for &(k, router_id) in &originators {
                if !prefixes(k).iter().any(|(_, p)| u.announces(p)) {
                    continue;
                }
                check_rr_attributes(u, (k != sid.index).then_some(router_id), &trace);
            }
        }
        eprintln!(
            "sidrad -> {}: {} UPDATEs checked:\n{trace}",
            client.name(),
            sent.len()
        );
        for &(k, _) in originators.iter().filter(|(k, _)| reaches(*k, node.index)) {
            for (_, p) in prefixes(k) {
                assert!(
                    sent.iter().any(|u| u.announces(&p)),
                    "no UPDATE for {p} to {} in the capture:\n{trace}",
                    client.name()
                );
            }
        }
    }
    Ok(())
}

/// A reflected route carries ORIGINATOR_ID = the originator's router id and CLUSTER_LIST = our
/// cluster id, both optional non-transitive (flags 0x80); a route of our own carries neither.
fn check_rr_attributes(u: &SeenUpdate, originator: Option<Ipv4Addr>, trace: &str) {
    let (o, c) = (u.attr(ORIGINATOR_ID), u.attr(CLUSTER_LIST));
    match originator {
        Some(id) => {
            let o = o.unwrap_or_else(|| panic!("no ORIGINATOR_ID in {u}:\n{trace}"));
            let c = c.unwrap_or_else(|| panic!("no CLUSTER_LIST in {u}:\n{trace}"));
            assert_eq!(
                (o.flags, o.value.as_slice()),
                (0x80, id.octets().as_slice()),
                "ORIGINATOR_ID of {u}"
            );
            assert_eq!(
                (c.flags, c.value.as_slice()),
                (0x80, CLUSTER_ID.octets().as_slice()),
                "CLUSTER_LIST of {u}"
            );
        }
        None => assert!(
            o.is_none() && c.is_none(),
            "sidrad's own route with RR attributes: {u}: {:?} {:?}",
            o,
            c
        ),
    }
}
