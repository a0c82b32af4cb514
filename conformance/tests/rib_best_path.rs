//! Best path (RFC 4271 §9.1.2.2): FRR and GoBGP send sidrad the same prefixes with different
//! attributes; sidrad picks by the RFC, tells a third peer, and changes its pick when the
//! attributes change.
//!
//! ```text
//!   hub rbp-hub (bridge): fd00::K/64, router id 192.0.2.K
//!   rbp-sid   fd00::1  sidrad AS 65001 (import/export policy accept-all toward eBGP)
//!   rbp-frr   fd00::2  FRR 8.4  AS 65002, eBGP: `network P`, outbound route-map RM sets the MED
//!   rbp-gbp   fd00::3  GoBGP    AS 65002, eBGP: `gobgp global rib add P origin igp med M aspath A`
//!   rbp-bird  fd00::4  BIRD 2.0 AS 65001, iBGP: the sink whose RIB shows what sidrad advertises
//! ```
//!
//! P is 198.18.50.0/24 and 2001:db8:50::/48. Both sources are in the same neighbor AS, so the MED
//! is compared (step c); the AS path length comes before it (step a); origin is IGP on both.
//!
//! | step | FRR (MED, AS path) | GoBGP (MED, AS path) | sidrad's pick | why |
//! |---|---|---|---|---|
//! | 1 | 50, 65002 | 10, 65002 | GoBGP | lower MED |
//! | 2 | 50, 65002 | 10, 65002 65099 | FRR | shorter AS path |
//! | 3 | 50, 65002 | 10, 65002 | GoBGP | lower MED |
//! | 4 | 5, 65002 | 10, 65002 | FRR | lower MED (FRR's route-map changed, soft out) |
//! | 5 | withdrawn | 10, 65002 | GoBGP | the only path |
//! | 6 | withdrawn | withdrawn | none | withdrawn from the sink too |
//!
//! At each step: sidrad's Loc-RIB (API) has the expected best path, and BIRD's route for P has
//! that source's next hop, MED and AS path (sidrad passes an eBGP route into the AS with its next
//! hop and MED, RFC 4271 §5.1.3-4).
//!
//! Needs root; see `conformance::require_root`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use conformance::peers::bird::BirdOptions;
use conformance::peers::frr::FrrOptions;
use conformance::peers::gobgp::{DEFAULT_API_PORT, GoBgpNeighbor};
use conformance::peers::sidrad::{SidradRib, SidradRibNeighbor};
use conformance::peers::{
    Bird, Frr, GoBgp, IPV4_UNICAST, IPV6_UNICAST, Session, Sidrad, SidradConfig, SidradNeighbor,
};
use conformance::routes::{self, PathView};
use conformance::{Check, Node, Result, TestDir, Topology, cmd, require_root, wait_until};

const OUR_AS: u32 = 65001;
const PEER_AS: u32 = 65002;
const FAMILIES: &[&str] = &[IPV4_UNICAST, IPV6_UNICAST];
const PREFIXES: &[(&str, &str)] = &[
    (IPV4_UNICAST, "198.18.50.0/24"),
    (IPV6_UNICAST, "2001:db8:50::/48"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Frr,
    GoBgp,
}

/// What sidrad should advertise: from which source, with which MED and AS path.
#[derive(Clone, Debug)]
struct Want {
    source: Source,
    med: u32,
    as_path: Vec<u32>,
}

#[test]
fn rib_best_path_frr_gobgp() {
    if !require_root("rib_best_path_frr_gobgp") {
        return;
    }
    cmd::require(&[
        cmd::IP,
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
    let topo = Topology::builder("rbp")
        .node("sid")
        .node("frr")
        .node("gbp")
        .node("bird")
        .build()
        .unwrap();
    let dir = TestDir::new("rib_best_path").unwrap();
    if let Err(e) = scenario(&topo, &dir) {
        panic!("rib_best_path_frr_gobgp: {e}");
    }
    eprintln!("rib_best_path_frr_gobgp: passed in {:.1?}", start.elapsed());
}

struct Bed {
    sidrad: Sidrad,
    socket: PathBuf,
    frr: Frr,
    gobgp: GoBgp,
    bird: Bird,
    sid: Node,
    frr_node: Node,
    gbp_node: Node,
}

impl Bed {
    fn source_of(&self, next_hop: Option<IpAddr>) -> Option<Source> {
        let is =
            |n: &Node| next_hop.is_some_and(|a| a == IpAddr::V6(n.ipv6) || a == IpAddr::V4(n.ipv4));
        if is(&self.frr_node) {
            Some(Source::Frr)
        } else if is(&self.gbp_node) {
            Some(Source::GoBgp)
        } else {
            None
        }
    }

    fn address(&self, s: Source) -> IpAddr {
        match s {
            Source::Frr => IpAddr::V6(self.frr_node.ipv6),
            Source::GoBgp => IpAddr::V6(self.gbp_node.ipv6),
        }
    }

    /// Wait until sidrad's best path and BIRD's route for every prefix are `want`.
    fn expect(&mut self, step: &str, want: Option<&Want>) -> Result<()> {
        let sid_addr = IpAddr::V6(self.sid.ipv6);
        wait_until(
            &format!("step {step}: sidrad to pick {want:?}"),
            Duration::from_secs(15),
            Duration::from_millis(100),
            || {
                self.sidrad.daemon().check_running()?;
                let mut wrong = String::new();
                for &(family, prefix) in PREFIXES {
                    let ours = routes::sidrad_paths(&self.socket, family, prefix)?;
                    let sink = routes::bird_paths(&mut self.bird, prefix, &[("sid", sid_addr)])?;
                    let best = ours.iter().find(|p| p.best);
                    let ok = match want {
                        None => ours.is_empty() && sink.is_empty(),
                        Some(w) => {
                            best.is_some_and(|b| {
                                b.from == Some(self.address(w.source))
                                    && b.med == Some(w.med)
                                    && b.as_path == w.as_path
                            }) && sink.len() == 1
                                && self.sink_ok(&sink[0], w, sid_addr)
                        }
                    };
                    if !ok {
                        let _ = writeln!(
                            wrong,
                            "{prefix}: sidrad {} | BIRD {}",
                            routes::show(&ours),
                            routes::show(&sink)
                        );
                    }
                }
                Ok(if wrong.is_empty() {
                    Check::Ready(())
                } else {
                    Check::NotYet(wrong)
                })
            },
        )
    }

    fn sink_ok(&self, p: &PathView, w: &Want, sid_addr: IpAddr) -> bool {
        p.from == Some(sid_addr)
            && self.source_of(p.next_hop) == Some(w.source)
            && p.med == Some(w.med)
            && p.as_path == w.as_path
            && p.local_pref == Some(100)
    }

    fn gobgp_announce(&mut self, med: u32, prepend: &[u32]) -> Result<()> {
        let path: Vec<String> = prepend.iter().map(u32::to_string).collect();
        let med = med.to_string();
        for &(family, prefix) in PREFIXES {
            let nh = if family == IPV4_UNICAST {
                self.gbp_node.ipv4.to_string()
            } else {
                self.gbp_node.ipv6.to_string()
            };
            let mut attrs = vec!["origin", "igp", "nexthop", nh.as_str(), "med", med.as_str()];
            let joined = path.join(",");
            if !path.is_empty() {
                attrs.extend(["aspath", joined.as_str()]);
            }
            self.gobgp.add_route(family, prefix, &attrs)?;
        }
        Ok(())
    }

    /// Change FRR's outbound route-map and re-send through it (`clear bgp ... soft out`).
    fn frr_set_med(&mut self, med: u32) -> Result<()> {
        self.frr.vtysh(&[
            "configure terminal",
            "route-map RM permit 10",
            &format!("set metric {med}"),
        ])?;
        self.frr
            .vtysh(&[&format!("clear bgp {} soft out", self.sid.ipv6)])?;
        Ok(())
    }

    fn frr_withdraw(&mut self) -> Result<()> {
        for &(family, prefix) in PREFIXES {
            let af = if family == IPV4_UNICAST {
                "ipv4"
            } else {
                "ipv6"
            };
            self.frr.vtysh(&[
                "configure terminal",
                &format!("router bgp {PEER_AS}"),
                &format!("address-family {af} unicast"),
                &format!("no network {prefix}"),
            ])?;
        }
        Ok(())
    }
}

fn start(topo: &Topology, dir: &TestDir) -> Result<Bed> {
    let sid = topo.node("sid")?.clone();
    let (frr_node, gbp_node, bird_node) = (
        topo.node("frr")?.clone(),
        topo.node("gbp")?.clone(),
        topo.node("bird")?.clone(),
    );
    let gobgp = GoBgp::start(
        &gbp_node.ns,
        &dir.subdir("gobgp")?,
        &GoBgp::config_multi(&[GoBgpNeighbor::new(
            Session::ebgp(&gbp_node, PEER_AS, &sid, OUR_AS)
                .families(FAMILIES)
                .passive(true),
        )])?,
        DEFAULT_API_PORT,
    )?;
    let frr_conf = Frr::config_with(
        &[Session::ebgp(&frr_node, PEER_AS, &sid, OUR_AS)
            .families(FAMILIES)
            .passive(true)],
        "frr",
        &FrrOptions {
            networks: PREFIXES.iter().map(|(_, p)| p.to_string()).collect(),
            family_extra: FAMILIES
                .iter()
                .map(|f| (*f, format!("  neighbor {} route-map RM out\n", sid.ipv6)))
                .collect(),
            trailer: "route-map RM permit 10\n set metric 50\nexit\n".into(),
            ..Default::default()
        },
    )?;
    let frr = Frr::start(
        &frr_node.ns,
        &dir.subdir("frr")?,
        "hostname frr\n",
        &frr_conf,
    )?;
    let bird_conf = Bird::config_multi(
        bird_node.loopback4,
        "",
        &[Bird::protocol(
            &Session::ibgp(&bird_node, &sid, OUR_AS)
                .families(FAMILIES)
                .passive(true),
            "sid",
            &BirdOptions::default(),
        )?],
    );
    let bird = Bird::start(&bird_node.ns, &dir.subdir("bird")?, &bird_conf)?;

    let mut config = SidradConfig::from_session(&Session::ibgp(&sid, &bird_node, OUR_AS));
    config.neighbors = vec![
        SidradNeighbor::from_session(&Session::ibgp(&sid, &bird_node, OUR_AS).families(FAMILIES)),
        SidradNeighbor::from_session(
            &Session::ebgp(&sid, OUR_AS, &frr_node, PEER_AS).families(FAMILIES),
        ),
        SidradNeighbor::from_session(
            &Session::ebgp(&sid, OUR_AS, &gbp_node, PEER_AS).families(FAMILIES),
        ),
    ];
    let rib = SidradRib::default()
        .neighbor(IpAddr::V6(frr_node.ipv6), SidradRibNeighbor::accept_all())
        .neighbor(IpAddr::V6(gbp_node.ipv6), SidradRibNeighbor::accept_all());
    let sidrad = Sidrad::start_rib(&sid.ns, &dir.subdir("sidrad")?, &config, &rib)?;
    let socket = sidrad
        .api_socket()
        .map(std::path::Path::to_path_buf)
        .ok_or_else(|| conformance::Error::Other("sidrad without an API socket".into()))?;
    Ok(Bed {
        sidrad,
        socket,
        frr,
        gobgp,
        bird,
        sid,
        frr_node,
        gbp_node,
    })
}

fn scenario(topo: &Topology, dir: &TestDir) -> Result<()> {
    let mut bed = start(topo, dir)?;
    let want = |source, med, as_path: &[u32]| Want {
        source,
        med,
        as_path: as_path.to_vec(),
    };
    let steps = Instant::now();

    // 1. Same AS path length, same neighbor AS: the lower MED (GoBGP's 10) wins.
    bed.gobgp_announce(10, &[])?;
    // Both paths first, so that the pick is a comparison, not the first arrival.
    wait_until(
        "sidrad to hold both paths",
        Duration::from_secs(30),
        Duration::from_millis(100),
        || {
            bed.sidrad.daemon().check_running()?;
            let mut text = String::new();
            for &(family, prefix) in PREFIXES {
                let paths = routes::sidrad_paths(&bed.socket, family, prefix)?;
                if paths.len() != 2 {
                    let _ = writeln!(text, "{prefix}: {}", routes::show(&paths));
                }
            }
            Ok(if text.is_empty() {
                Check::Ready(())
            } else {
                Check::NotYet(text)
            })
        },
    )?;
    bed.expect(
        "1 (MED 10 < 50)",
        Some(&want(Source::GoBgp, 10, &[PEER_AS])),
    )?;

    // 2. GoBGP's AS path gets longer: FRR's shorter path wins before the MED is looked at.
    bed.gobgp_announce(10, &[65099])?;
    bed.expect(
        "2 (AS path 1 < 2)",
        Some(&want(Source::Frr, 50, &[PEER_AS])),
    )?;

    // 3. Back to equal lengths: the MED again.
    bed.gobgp_announce(10, &[])?;
    bed.expect(
        "3 (MED 10 < 50)",
        Some(&want(Source::GoBgp, 10, &[PEER_AS])),
    )?;

    // 4. FRR lowers its MED to 5.
    bed.frr_set_med(5)?;
    bed.expect("4 (MED 5 < 10)", Some(&want(Source::Frr, 5, &[PEER_AS])))?;

    // 5. FRR withdraws: GoBGP's path is the only one.
    bed.frr_withdraw()?;
    bed.expect(
        "5 (FRR withdrew)",
        Some(&want(Source::GoBgp, 10, &[PEER_AS])),
    )?;

    // 6. GoBGP withdraws too: nothing left, and the sink is told.
    for &(family, prefix) in PREFIXES {
        bed.gobgp.del_route(family, prefix)?;
    }
    bed.expect("6 (both withdrew)", None)?;
    eprintln!(
        "rib_best_path_frr_gobgp: six steps in {:.1?}",
        steps.elapsed()
    );
    Ok(())
}
