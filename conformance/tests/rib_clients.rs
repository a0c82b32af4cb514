//! sidrad as a route-reflector client (RFC 4456) of FRR, GoBGP and BIRD reflectors.
//!
//! ```text
//!   hub PREFIX-hub (bridge): fd00::K/64, router id 192.0.2.K
//!   PREFIX-rr  fd00::1  the reflector, AS 65001, cluster id 10.255.0.9, both sidrads its clients
//!   PREFIX-s1  fd00::2  sidrad, originates 198.18.2.0/24 and 2001:db8:2::/48 (global.networks)
//!   PREFIX-s2  fd00::3  sidrad, originates 198.18.3.0/24 and 2001:db8:3::/48
//! ```
//!
//! One test per reflector (prefixes `rbf` FRR, `rbg` GoBGP, `rbb` BIRD). Each sidrad dials the
//! passive reflector. A capture on the hub records every UPDATE.
//!
//! 1. The reflector holds both sidrads' prefixes (IPv4 and IPv6 unicast), each from its sidrad.
//! 2. The wire: the reflector sent each sidrad the other one's prefixes with ORIGINATOR_ID = the
//!    other's router id and CLUSTER_LIST = [10.255.0.9].
//! 3. Each sidrad's Loc-RIB (API) holds the other's prefixes, from the reflector, with those
//!    attributes and the originating sidrad's next hop; for its own prefixes it holds only its
//!    own local path (a reflector that sends a client's routes back, as FRR does, is ignored:
//!    ORIGINATOR_ID is ours, RFC 4456 §8).
//! 4. The wire: no sidrad announced to the reflector anything but its own prefixes (iBGP split
//!    horizon, RFC 4271 §9.2.1: a route from an internal non-client peer is not passed on to
//!    another internal peer).
//!
//! Needs root; see `conformance::require_root`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use conformance::peers::bird::BirdOptions;
use conformance::peers::frr::FrrOptions;
use conformance::peers::gobgp::{DEFAULT_API_PORT, GoBgpNeighbor};
use conformance::peers::sidrad::SidradRib;
use conformance::peers::{
    Bird, Frr, GoBgp, IPV4_UNICAST, IPV6_UNICAST, Session, Sidrad, SidradConfig,
};
use conformance::routes::{self, PathView};
use conformance::{Check, Node, Result, Tcpdump, TestDir, Topology, cmd, require_root, wait_until};

const ASN: u32 = 65001;
const CLUSTER_ID: Ipv4Addr = Ipv4Addr::new(10, 255, 0, 9);
const FAMILIES: &[&str] = &[IPV4_UNICAST, IPV6_UNICAST];
const ORIGINATOR_ID: u8 = 9;
const CLUSTER_LIST: u8 = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Frr,
    GoBgp,
    Bird,
}

enum Reflector {
    Frr(Frr),
    GoBgp(GoBgp),
    Bird(Bird),
}

impl Reflector {
    fn paths(
        &mut self,
        family: &str,
        prefix: &str,
        clients: &[(&str, IpAddr)],
    ) -> Result<Vec<PathView>> {
        match self {
            Reflector::Frr(f) => routes::frr_paths(f, family, prefix),
            Reflector::GoBgp(g) => routes::gobgp_paths(g, family, prefix),
            Reflector::Bird(b) => routes::bird_paths(b, prefix, clients),
        }
    }
}

/// The prefixes node `k` originates: (family, prefix).
fn prefixes(k: u8) -> Vec<(&'static str, String)> {
    vec![
        (IPV4_UNICAST, format!("198.18.{k}.0/24")),
        (IPV6_UNICAST, format!("2001:db8:{k}::/48")),
    ]
}

fn run(kind: Kind, prefix: &str) {
    let test = format!("rib_sidrad_clients_of_{kind:?}_reflector").to_lowercase();
    if !require_root(&test) {
        return;
    }
    let tools = match kind {
        Kind::Frr => vec![cmd::FRR_ZEBRA, cmd::FRR_BGPD, cmd::VTYSH],
        Kind::GoBgp => vec![cmd::GOBGPD, cmd::GOBGP],
        Kind::Bird => vec![cmd::BIRD, cmd::BIRDC],
    };
    cmd::require(&[cmd::IP, cmd::TCPDUMP]).unwrap();
    cmd::require(&tools).unwrap();
    let start = Instant::now();
    let topo = Topology::builder(prefix)
        .node("rr")
        .node("s1")
        .node("s2")
        .build()
        .unwrap();
    let dir = TestDir::new(&test).unwrap();
    if let Err(e) = scenario(kind, &topo, &dir) {
        panic!("{test}: {e}");
    }
    eprintln!("{test}: passed in {:.1?}", start.elapsed());
}

#[test]
fn rib_sidrad_clients_of_frr_reflector() {
    run(Kind::Frr, "rbf");
}

#[test]
fn rib_sidrad_clients_of_gobgp_reflector() {
    run(Kind::GoBgp, "rbg");
}

#[test]
fn rib_sidrad_clients_of_bird_reflector() {
    run(Kind::Bird, "rbb");
}

fn start_reflector(kind: Kind, rr: &Node, clients: &[&Node], dir: &TestDir) -> Result<Reflector> {
    let sessions: Vec<Session> = clients
        .iter()
        .map(|c| Session::ibgp(rr, c, ASN).families(FAMILIES).passive(true))
        .collect();
    let sub = dir.subdir("rr")?;
    Ok(match kind {
        Kind::Frr => {
            let conf = Frr::config_with(
                &sessions,
                "rr",
                &FrrOptions {
                    cluster_id: Some(CLUSTER_ID),
                    rr_clients: sessions.iter().map(|s| s.peer_addr).collect(),
                    ..Default::default()
                },
            )?;
            Reflector::Frr(Frr::start(&rr.ns, &sub, "hostname rr\n", &conf)?)
        }
        Kind::GoBgp => {
            let neighbors: Vec<GoBgpNeighbor> = sessions
                .into_iter()
                .map(|s| GoBgpNeighbor::new(s).rr_client(CLUSTER_ID))
                .collect();
            let conf = GoBgp::config_multi(&neighbors)?;
            Reflector::GoBgp(GoBgp::start(&rr.ns, &sub, &conf, DEFAULT_API_PORT)?)
        }
        Kind::Bird => {
            let o = BirdOptions {
                rr_client: true,
                rr_cluster_id: Some(CLUSTER_ID),
                ..Default::default()
            };
            let protocols = sessions
                .iter()
                .zip(clients)
                .map(|(s, c)| Bird::protocol(s, &c.name, &o))
                .collect::<Result<Vec<_>>>()?;
            let conf = Bird::config_multi(rr.loopback4, "", &protocols);
            Reflector::Bird(Bird::start(&rr.ns, &sub, &conf)?)
        }
    })
}

fn scenario(kind: Kind, topo: &Topology, dir: &TestDir) -> Result<()> {
    let rr = topo.node("rr")?;
    let clients = [topo.node("s1")?, topo.node("s2")?];
    let rr_addr = IpAddr::V6(rr.ipv6);
    let by_name: Vec<(&str, IpAddr)> = clients
        .iter()
        .map(|c| (c.name.as_str(), IpAddr::V6(c.ipv6)))
        .collect();
    let mut capture = Tcpdump::start(
        topo.hub(),
        conformance::topo::HUB_BRIDGE,
        &dir.join("hub.pcap"),
        "tcp port 179",
    )?;
    let mut reflector = start_reflector(kind, rr, &clients, dir)?;
    let mut sidrads = Vec::new();
    for c in clients {
        let config = SidradConfig::from_session(&Session::ibgp(c, rr, ASN).families(FAMILIES));
        let rib = SidradRib {
            networks: prefixes(c.index).into_iter().map(|(_, p)| p).collect(),
            ..Default::default()
        };
        sidrads.push(Sidrad::start_rib(
            &c.ns,
            &dir.subdir(&c.name)?,
            &config,
            &rib,
        )?);
    }
    let sockets: Vec<PathBuf> = sidrads
        .iter()
        .map(|s| {
            s.api_socket()
                .map(std::path::Path::to_path_buf)
                .ok_or_else(|| conformance::Error::Other("sidrad without an API socket".into()))
        })
        .collect::<Result<_>>()?;

    // 1. The reflector has both sidrads' routes.
    wait_until(
        "the reflector to hold both sidrads' prefixes",
        Duration::from_secs(30),
        Duration::from_millis(200),
        || {
            for s in sidrads.iter_mut() {
                s.daemon().check_running()?;
            }
            let mut missing = String::new();
            for c in clients {
                for (family, prefix) in prefixes(c.index) {
                    let paths = reflector.paths(family, &prefix, &by_name)?;
                    if !paths
                        .iter()
                        .any(|p| p.best && p.from == Some(IpAddr::V6(c.ipv6)))
                    {
                        let _ = writeln!(missing, "{prefix}: {}", routes::show(&paths));
                    }
                }
            }
            Ok(if missing.is_empty() {
                Check::Ready(())
            } else {
                Check::NotYet(missing)
            })
        },
    )?;

    // 3. Each sidrad's Loc-RIB: the other's routes, reflected; its own, local only.
    wait_until(
        "each sidrad to hold the other's prefixes, reflected",
        Duration::from_secs(15),
        Duration::from_millis(200),
        || {
            let mut wrong = String::new();
            for (i, c) in clients.iter().enumerate() {
                let other = clients[1 - i];
                sidrads[i].daemon().check_running()?;
                for (family, prefix) in prefixes(other.index) {
                    let paths = routes::sidrad_paths(&sockets[i], family, &prefix)?;
                    let ok = paths.len() == 1
                        && paths[0].best
                        && paths[0].from == Some(rr_addr)
                        && paths[0].originator_id == Some(other.loopback4)
                        && paths[0].cluster_list == [CLUSTER_ID]
                        && paths[0].next_hop == Some(IpAddr::V6(other.ipv6));
                    if !ok {
                        let _ = writeln!(wrong, "{} {prefix}: {}", c.name, routes::show(&paths));
                    }
                }
            }
            Ok(if wrong.is_empty() {
                Check::Ready(())
            } else {
                Check::NotYet(wrong)
            })
        },
    )?;
    for (i, c) in clients.iter().enumerate() {
        for (family, prefix) in prefixes(c.index) {
            let paths = routes::sidrad_paths(&sockets[i], family, &prefix)?;
            assert!(
                paths.len() == 1 && paths[0].from.is_none() && paths[0].best,
                "{}: its own {prefix} should have only the local path: {}",
                c.name,
                routes::show(&paths)
            );
        }
    }

    // 2 and 4. The wire.
    let pcap = capture.file().to_path_buf();
    let announced = |all: &[routes::SeenUpdate]| {
        clients.iter().enumerate().all(|(i, c)| {
            prefixes(clients[1 - i].index).iter().all(|(_, p)| {
                all.iter()
                    .any(|u| u.src == rr_addr && u.dst == IpAddr::V6(c.ipv6) && u.announces(p))
            })
        })
    };
    capture.wait_for_messages(
        "the reflected routes and both sidrads' End-of-RIB markers in the capture",
        Duration::from_secs(10),
        |_| {
            let all = routes::updates(&pcap).unwrap_or_default();
            let sidrad_eors = all
                .iter()
                .filter(|u| u.src != rr_addr && u.end_of_rib.is_some())
                .count();
            sidrad_eors >= clients.len() * FAMILIES.len() && announced(&all)
        },
    )?;
    let pcap = capture.stop()?;
    let all = routes::updates(&pcap)?;
    for (i, c) in clients.iter().enumerate() {
        let (me, other) = (IpAddr::V6(c.ipv6), clients[1 - i]);
        let to_me = routes::show_updates(&all, rr_addr, me);
        for (_, prefix) in prefixes(other.index) {
            let u = all
                .iter()
                .find(|u| u.src == rr_addr && u.dst == me && u.announces(&prefix))
                .unwrap_or_else(|| {
                    panic!("the reflector never sent {prefix} to {}:\n{to_me}", c.name)
                });
            let (o, cl) = (u.attr(ORIGINATOR_ID), u.attr(CLUSTER_LIST));
            assert_eq!(
                o.map(|a| a.value.clone()),
                Some(other.loopback4.octets().to_vec()),
                "ORIGINATOR_ID of {u}"
            );
            assert_eq!(
                cl.map(|a| a.value.clone()),
                Some(CLUSTER_ID.octets().to_vec()),
                "CLUSTER_LIST of {u}"
            );
        }
        let from_me = routes::show_updates(&all, me, rr_addr);
        let own: Vec<String> = prefixes(c.index).into_iter().map(|(_, p)| p).collect();
        for u in all.iter().filter(|u| u.src == me && u.dst == rr_addr) {
            for (_, p) in &u.announced {
                assert!(
                    own.contains(p),
                    "{} announced {p} to the reflector (only its own prefixes may go back):\n{from_me}",
                    c.name
                );
            }
        }
        eprintln!(
            "{}: from the reflector:\n{to_me}\nto the reflector:\n{from_me}",
            c.name
        );
    }
    Ok(())
}
