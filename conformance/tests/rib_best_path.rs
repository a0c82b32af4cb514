//! Best path (RFC 4271 §9.1.2.2, RFC 4456 §9): FRR and GoBGP send sidrad the same prefixes with
//! different attributes; sidrad picks by the RFC, tells a third peer, and changes its pick when
//! the attributes change.
//!
//! ```text
//!   hub PREFIX-hub (bridge): fd00::K/64, router id 192.0.2.K
//!   PREFIX-sid   fd00::1  sidrad AS 65001
//!   PREFIX-frr   fd00::2  FRR 8.4: `network P`, an outbound route-map RM sets the MED or local-pref
//!   PREFIX-gbp   fd00::3  GoBGP: `gobgp global rib add P origin igp ...`
//!   PREFIX-bird  fd00::4  BIRD 2.0 AS 65001, iBGP: the sink whose RIB shows what sidrad advertises
//! ```
//!
//! P is 198.18.50.0/24 and 2001:db8:50::/48; origin is IGP on both sources.
//!
//! **eBGP** (`rbp`, `rib_best_path_ebgp_as_path_and_med`): FRR and GoBGP both in AS 65002,
//! sidrad's import/export policy accept-all. Same neighbor AS, so the MED is compared (step c);
//! the AS path length comes before it (step a).
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
//! sidrad passes an eBGP route into the AS with its next hop and MED (RFC 4271 §5.1.3-4) and
//! local-pref 100.
//!
//! **iBGP** (`rbq`, `rib_best_path_ibgp_local_pref_and_router_id`): FRR and GoBGP in AS 65001,
//! sidrad's route-reflector clients; BIRD a non-client (reflected routes keep their
//! local-pref). Neither source sends a MED that differs (FRR 0, GoBGP none, i.e. 0).
//!
//! | step | FRR local-pref | GoBGP local-pref | sidrad's pick | why |
//! |---|---|---|---|---|
//! | 1 | 100 | 100 | FRR | all else equal: lowest BGP Identifier, 192.0.2.2 < 192.0.2.3 (step f) |
//! | 2 | 100 | 200 | GoBGP | higher local-pref (step a, §9.1.1) |
//! | 3 | 300 | 200 | FRR | higher local-pref (FRR's route-map changed, soft out) |
//! | 4 | withdrawn | 200 | GoBGP | the only path |
//! | 5 | withdrawn | withdrawn | none | withdrawn from the sink too |
//!
//! At each step: sidrad's Loc-RIB (API) has the expected best path, and BIRD's route for P has
//! that source's next hop and the expected attributes.
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
/// The sources' AS in the eBGP case.
const PEER_AS: u32 = 65002;
const FAMILIES: &[&str] = &[IPV4_UNICAST, IPV6_UNICAST];
const PREFIXES: &[(&str, &str)] = &[
    (IPV4_UNICAST, "198.18.50.0/24"),
    (IPV6_UNICAST, "2001:db8:50::/48"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Ebgp,
    Ibgp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Frr,
    GoBgp,
}

/// What sidrad should advertise: from which source, with which MED (if checked), local-pref and
/// AS path.
#[derive(Clone, Debug)]
struct Want {
    source: Source,
    med: Option<u32>,
    local_pref: u32,
    as_path: Vec<u32>,
}

fn run(test: &str, prefix: &str, mode: Mode) {
    if !require_root(test) {
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
    let topo = Topology::builder(prefix)
        .node("sid")
        .node("frr")
        .node("gbp")
        .node("bird")
        .build()
        .unwrap();
    let dir = TestDir::new(test).unwrap();
    let result = start_bed(&topo, &dir, mode).and_then(|mut bed| match mode {
        Mode::Ebgp => ebgp_steps(&mut bed),
        Mode::Ibgp => ibgp_steps(&mut bed),
    });
    if let Err(e) = result {
        panic!("{test}: {e}");
    }
    eprintln!("{test}: passed in {:.1?}", start.elapsed());
}

#[test]
fn rib_best_path_ebgp_as_path_and_med() {
    run("rib_best_path_ebgp_as_path_and_med", "rbp", Mode::Ebgp);
}

#[test]
fn rib_best_path_ibgp_local_pref_and_router_id() {
    run(
        "rib_best_path_ibgp_local_pref_and_router_id",
        "rbq",
        Mode::Ibgp,
    );
}

struct Bed {
    mode: Mode,
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
        let start = Instant::now();
        let r = wait_until(
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
                                    && w.med.is_none_or(|m| b.med == Some(m))
                                    // An eBGP path carries no local-pref.
                                    && (self.mode == Mode::Ebgp
                                        || b.local_pref == Some(w.local_pref))
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
        );
        eprintln!("{:?} step {step}: {:.1?}", self.mode, start.elapsed());
        r
    }

    fn sink_ok(&self, p: &PathView, w: &Want, sid_addr: IpAddr) -> bool {
        p.from == Some(sid_addr)
            && self.source_of(p.next_hop) == Some(w.source)
            && w.med.is_none_or(|m| p.med == Some(m))
            && p.as_path == w.as_path
            && p.local_pref
                == Some(match self.mode {
                    // Into the AS: our default local-pref.
                    Mode::Ebgp => 100,
                    // Reflected: as received.
                    Mode::Ibgp => w.local_pref,
                })
    }

    /// GoBGP (re-)originates P with `extra` attributes (`med 10`, `aspath 65099`, ...).
    fn gobgp_announce(&mut self, extra: &[&str]) -> Result<()> {
        for &(family, prefix) in PREFIXES {
            let nh = if family == IPV4_UNICAST {
                self.gbp_node.ipv4.to_string()
            } else {
                self.gbp_node.ipv6.to_string()
            };
            let mut attrs = vec!["origin", "igp", "nexthop", nh.as_str()];
            attrs.extend_from_slice(extra);
            self.gobgp.add_route(family, prefix, &attrs)?;
        }
        Ok(())
    }

    /// Change FRR's outbound route-map (`set metric N` or `set local-preference N`) and re-send
    /// through it (`clear bgp ... soft out`).
    fn frr_set(&mut self, set: &str) -> Result<()> {
        self.frr
            .vtysh(&["configure terminal", "route-map RM permit 10", set])?;
        self.frr
            .vtysh(&[&format!("clear bgp {} soft out", self.sid.ipv6)])?;
        Ok(())
    }

    /// Wait until sidrad holds a path from both sources for every prefix.
    fn both_paths(&mut self) -> Result<()> {
        wait_until(
            "sidrad to hold both paths",
            Duration::from_secs(30),
            Duration::from_millis(100),
            || {
                self.sidrad.daemon().check_running()?;
                let mut text = String::new();
                for &(family, prefix) in PREFIXES {
                    let paths = routes::sidrad_paths(&self.socket, family, prefix)?;
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
        )
    }

    fn gobgp_withdraw(&mut self) -> Result<()> {
        for &(family, prefix) in PREFIXES {
            self.gobgp.del_route(family, prefix)?;
        }
        Ok(())
    }

    fn source_as(&self) -> u32 {
        match self.mode {
            Mode::Ebgp => PEER_AS,
            Mode::Ibgp => OUR_AS,
        }
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
                &format!("router bgp {}", self.source_as()),
                &format!("address-family {af} unicast"),
                &format!("no network {prefix}"),
            ])?;
        }
        Ok(())
    }
}

fn start_bed(topo: &Topology, dir: &TestDir, mode: Mode) -> Result<Bed> {
    let sid = topo.node("sid")?.clone();
    let (frr_node, gbp_node, bird_node) = (
        topo.node("frr")?.clone(),
        topo.node("gbp")?.clone(),
        topo.node("bird")?.clone(),
    );
    let source_as = match mode {
        Mode::Ebgp => PEER_AS,
        Mode::Ibgp => OUR_AS,
    };
    // The session of a source, from the source's side, and from sidrad's.
    let theirs = |n: &Node| {
        Session::ebgp(n, source_as, &sid, OUR_AS)
            .families(FAMILIES)
            .passive(true)
    };
    let ours = |n: &Node| Session::ebgp(&sid, OUR_AS, n, source_as).families(FAMILIES);
    let gobgp = GoBgp::start(
        &gbp_node.ns,
        &dir.subdir("gobgp")?,
        &GoBgp::config_multi(&[GoBgpNeighbor::new(theirs(&gbp_node))])?,
        DEFAULT_API_PORT,
    )?;
    let set = match mode {
        Mode::Ebgp => "set metric 50",
        Mode::Ibgp => "set local-preference 100",
    };
    let frr_conf = Frr::config_with(
        &[theirs(&frr_node)],
        "frr",
        &FrrOptions {
            networks: PREFIXES.iter().map(|(_, p)| p.to_string()).collect(),
            family_extra: FAMILIES
                .iter()
                .map(|f| (*f, format!("  neighbor {} route-map RM out\n", sid.ipv6)))
                .collect(),
            // Without `delay-timer 0`, FRR holds its first UPDATEs through RM for 5 s.
            trailer: format!("route-map RM permit 10\n {set}\nexit\nbgp route-map delay-timer 0\n"),
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
        SidradNeighbor::from_session(&ours(&frr_node)),
        SidradNeighbor::from_session(&ours(&gbp_node)),
    ];
    let source = || match mode {
        // RFC 8212: eBGP needs policies.
        Mode::Ebgp => SidradRibNeighbor::accept_all(),
        // iBGP: the sources are clients, so that their routes are reflected to BIRD.
        Mode::Ibgp => SidradRibNeighbor::rr_client(),
    };
    let rib = SidradRib::default()
        .neighbor(IpAddr::V6(frr_node.ipv6), source())
        .neighbor(IpAddr::V6(gbp_node.ipv6), source());
    let sidrad = Sidrad::start_rib(&sid.ns, &dir.subdir("sidrad")?, &config, &rib)?;
    let socket = sidrad
        .api_socket()
        .map(std::path::Path::to_path_buf)
        .ok_or_else(|| conformance::Error::Other("sidrad without an API socket".into()))?;
    Ok(Bed {
        mode,
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

fn ebgp_steps(bed: &mut Bed) -> Result<()> {
    let want = |source, med, as_path: &[u32]| Want {
        source,
        med: Some(med),
        local_pref: 100,
        as_path: as_path.to_vec(),
    };
    let steps = Instant::now();

    // 1. Same AS path length, same neighbor AS: the lower MED (GoBGP's 10) wins. Both paths
    // first, so that the pick is a comparison, not the first arrival.
    bed.gobgp_announce(&["med", "10"])?;
    bed.both_paths()?;
    bed.expect(
        "1 (MED 10 < 50)",
        Some(&want(Source::GoBgp, 10, &[PEER_AS])),
    )?;

    // 2. GoBGP's AS path gets longer: FRR's shorter path wins before the MED is looked at.
    bed.gobgp_announce(&["med", "10", "aspath", "65099"])?;
    bed.expect(
        "2 (AS path 1 < 2)",
        Some(&want(Source::Frr, 50, &[PEER_AS])),
    )?;

    // 3. Back to equal lengths: the MED again.
    bed.gobgp_announce(&["med", "10"])?;
    bed.expect(
        "3 (MED 10 < 50)",
        Some(&want(Source::GoBgp, 10, &[PEER_AS])),
    )?;

    // 4. FRR lowers its MED to 5.
    bed.frr_set("set metric 5")?;
    bed.expect("4 (MED 5 < 10)", Some(&want(Source::Frr, 5, &[PEER_AS])))?;

    // 5. FRR withdraws: GoBGP's path is the only one.
    bed.frr_withdraw()?;
    bed.expect(
        "5 (FRR withdrew)",
        Some(&want(Source::GoBgp, 10, &[PEER_AS])),
    )?;

    // 6. GoBGP withdraws too: nothing left, and the sink is told.
    bed.gobgp_withdraw()?;
    bed.expect("6 (both withdrew)", None)?;
    eprintln!("eBGP: six steps in {:.1?}", steps.elapsed());
    Ok(())
}

fn ibgp_steps(bed: &mut Bed) -> Result<()> {
    let want = |source, local_pref| Want {
        source,
        med: None,
        local_pref,
        as_path: Vec::new(),
    };
    let steps = Instant::now();

    // 1. Everything equal up to the BGP Identifier: FRR's (192.0.2.2) is the lowest.
    bed.gobgp_announce(&["local-pref", "100"])?;
    bed.both_paths()?;
    bed.expect("1 (BGP Identifier)", Some(&want(Source::Frr, 100)))?;

    // 2. GoBGP raises its local-pref.
    bed.gobgp_announce(&["local-pref", "200"])?;
    bed.expect("2 (local-pref 200 > 100)", Some(&want(Source::GoBgp, 200)))?;

    // 3. FRR raises its own above it.
    bed.frr_set("set local-preference 300")?;
    bed.expect("3 (local-pref 300 > 200)", Some(&want(Source::Frr, 300)))?;

    // 4. FRR withdraws.
    bed.frr_withdraw()?;
    bed.expect("4 (FRR withdrew)", Some(&want(Source::GoBgp, 200)))?;

    // 5. GoBGP withdraws too.
    bed.gobgp_withdraw()?;
    bed.expect("5 (both withdrew)", None)?;
    eprintln!("iBGP: five steps in {:.1?}", steps.elapsed());
    Ok(())
}
