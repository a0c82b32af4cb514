//! Graceful restart (RFC 4724) with FRR and GoBGP, in both directions.
//!
//! ```text
//!   hub PREFIX-hub (bridge): fd00::K/64, router id 192.0.2.K, all iBGP in AS 65001
//!   PREFIX-sid  fd00::1  sidrad: FRR and GoBGP are its route-reflector clients
//!   PREFIX-frr  fd00::2  FRR 8.4 (`bgp graceful-restart`), passive
//!   PREFIX-gbp  fd00::3  GoBGP (graceful restart enabled, restart time 30 s), passive
//! ```
//!
//! **sidrad killed** (`rbk`, `rbd`): sidrad originates 198.18.1.0/24, 198.18.11.0/24,
//! 2001:db8:1::/48 and 2001:db8:11::/48 (global.networks) and advertises graceful restart with a
//! restart time of 30 s; FRR originates 198.18.2.0/24 and 2001:db8:2::/48, GoBGP 198.18.3.0/24 and
//! 2001:db8:3::/48, which sidrad reflects to the other.
//!
//! * `rib_gr_sidrad_killed_peers_keep_routes`: once both peers hold every route, sidrad is
//!   killed with SIGKILL. Both peers mark sidrad's routes stale and keep them (polled all along,
//!   never missing); sidrad is started again with the same config; both peers end with exactly
//!   one fresh (not stale) path from sidrad for each of sidrad's prefixes, within bounded waits.
//! * `rib_gr_sidrad_restart_defers_end_of_rib`: the same restart, checked on the wire (capture
//!   on the hub) for what RFC 4724 §4.1 asks of the restarting speaker: "the Restarting Speaker
//!   MUST defer route selection for an address family until it either (a) receives the
//!   End-of-RIB marker from all its peers ... or (b) the Selection_Deferral_Timer ... has
//!   expired", and it sends its End-of-RIB only after that selection. So on the new sessions
//!   sidrad's End-of-RIB to GoBGP comes after FRR's End-of-RIB to sidrad and after FRR's routes
//!   were passed on to GoBGP (and the same the other way); otherwise a helper sweeps the reflected
//!   routes it kept stale and learns them again a moment later (the routes flap). Both peers
//!   must also hold the reflected routes all along.
//!
//!   This found a sidrad bug, now fixed: the restarted sidrad (which advertises the Restart
//!   State bit) sent each peer its table and End-of-RIB as soon as that session was up, without
//!   deferring for the other peer's End-of-RIB (RFC 4724 §4.1). GoBGP stays Idle for 5 s after
//!   the reset, so FRR got sidrad's End-of-RIB about 5 s before GoBGP's routes were back and
//!   swept the GoBGP routes it kept stale. sidrad now defers selection until the End-of-RIB of
//!   every peer whose GR capability lists families and has no Restart State bit, or 60 s.
//!
//! **FRR restarted** (`rbr`): FRR runs with `bgp graceful-restart` and `preserve-fw-state` (its
//! capability lists IPv4 and IPv6 unicast with the F bit) and originates A (198.18.2.0/24,
//! 2001:db8:2::/48) and B (198.18.22.0/24, 2001:db8:22::/48); sidrad reflects them to GoBGP, the
//! sink. FRR's bgpd is killed with SIGKILL: sidrad keeps A and B as stale (API), and GoBGP keeps
//! them (never withdrawn: polled, and checked in the capture). FRR comes back without B: after
//! FRR's End-of-RIB, sidrad sweeps B (withdrawn to GoBGP, after that End-of-RIB in the capture)
//! and keeps A, fresh, never withdrawn (`rib_gr_frr_restart_stale_then_swept`).
//!
//! Needs root; see `conformance::require_root`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use conformance::peers::frr::{FrrGracefulRestart, FrrOptions};
use conformance::peers::gobgp::{DEFAULT_API_PORT, GoBgpNeighbor};
use conformance::peers::sidrad::{SidradRib, SidradRibNeighbor};
use conformance::peers::{
    Frr, GoBgp, IPV4_UNICAST, IPV6_UNICAST, Session, Sidrad, SidradConfig, SidradNeighbor,
};
use conformance::process::STOP_GRACE;
use conformance::routes::{self, PathView, SeenUpdate};
use conformance::{Check, Node, Result, Tcpdump, TestDir, Topology, cmd, require_root, wait_until};

const ASN: u32 = 65001;
const FAMILIES: &[&str] = &[IPV4_UNICAST, IPV6_UNICAST];
/// sidrad's advertised restart time: how long the peers keep its routes without it.
const SIDRAD_RESTART_TIME: u16 = 30;
const GOBGP_RESTART_TIME: u16 = 30;
const FRR_RESTART_TIME: u16 = 30;

/// (family, prefix) for each third octet / group `k`.
fn prefixes(ks: &[u8]) -> Vec<(&'static str, String)> {
    ks.iter()
        .flat_map(|k| {
            [
                (IPV4_UNICAST, format!("198.18.{k}.0/24")),
                (IPV6_UNICAST, format!("2001:db8:{k}::/48")),
            ]
        })
        .collect()
}

fn tools() {
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
}

fn run(test: &str, prefix: &str, scenario: fn(&Topology, &TestDir) -> Result<()>) {
    if !require_root(test) {
        return;
    }
    tools();
    let start = Instant::now();
    let topo = Topology::builder(prefix)
        .node("sid")
        .node("frr")
        .node("gbp")
        .build()
        .unwrap();
    let dir = TestDir::new(test).unwrap();
    if let Err(e) = scenario(&topo, &dir) {
        panic!("{test}: {e}");
    }
    eprintln!("{test}: passed in {:.1?}", start.elapsed());
}

#[test]
fn rib_gr_sidrad_killed_peers_keep_routes() {
    run("rib_gr_sidrad_killed_peers_keep_routes", "rbk", |t, d| {
        sidrad_killed(t, d, false)
    });
}

/// The RFC 4724 §4.1 route-selection deferral (see the file's doc).
#[test]
fn rib_gr_sidrad_restart_defers_end_of_rib() {
    run("rib_gr_sidrad_restart_defers_end_of_rib", "rbd", |t, d| {
        sidrad_killed(t, d, true)
    });
}

#[test]
fn rib_gr_frr_restart_stale_then_swept() {
    run("rib_gr_frr_restart_stale_then_swept", "rbr", frr_restarted);
}

struct Bed {
    sid: Node,
    frr_node: Node,
    gbp_node: Node,
    config: SidradConfig,
    rib: SidradRib,
}

impl Bed {
    fn new(topo: &Topology, sidrad_networks: &[u8]) -> Result<Bed> {
        let sid = topo.node("sid")?.clone();
        let (frr_node, gbp_node) = (topo.node("frr")?.clone(), topo.node("gbp")?.clone());
        let mut config = SidradConfig::from_session(&Session::ibgp(&sid, &frr_node, ASN));
        config.neighbors = [&frr_node, &gbp_node]
            .iter()
            .map(|n| SidradNeighbor::from_session(&Session::ibgp(&sid, n, ASN).families(FAMILIES)))
            .collect();
        let mut rib = SidradRib {
            networks: prefixes(sidrad_networks)
                .into_iter()
                .map(|(_, p)| p)
                .collect(),
            ..Default::default()
        };
        for n in [&frr_node, &gbp_node] {
            rib = rib.neighbor(
                IpAddr::V6(n.ipv6),
                SidradRibNeighbor::rr_client().restart_time(SIDRAD_RESTART_TIME),
            );
        }
        Ok(Bed {
            sid,
            frr_node,
            gbp_node,
            config,
            rib,
        })
    }

    fn sid_addr(&self) -> IpAddr {
        IpAddr::V6(self.sid.ipv6)
    }

    fn start_sidrad(&self, dir: &TestDir, sub: &str) -> Result<(Sidrad, PathBuf)> {
        let s = Sidrad::start_rib(&self.sid.ns, &dir.subdir(sub)?, &self.config, &self.rib)?;
        let socket = s
            .api_socket()
            .map(std::path::Path::to_path_buf)
            .ok_or_else(|| conformance::Error::Other("sidrad without an API socket".into()))?;
        Ok((s, socket))
    }

    fn start_frr(&self, dir: &TestDir, sub: &str, networks: &[u8], preserve: bool) -> Result<Frr> {
        let conf = Frr::config_with(
            &[Session::ibgp(&self.frr_node, &self.sid, ASN)
                .families(FAMILIES)
                .passive(true)],
            "frr",
            &FrrOptions {
                networks: prefixes(networks).into_iter().map(|(_, p)| p).collect(),
                graceful_restart: Some(FrrGracefulRestart {
                    restart_time: FRR_RESTART_TIME,
                    stalepath_time: None,
                    preserve_fw_state: preserve,
                }),
                ..Default::default()
            },
        )?;
        Frr::start(
            &self.frr_node.ns,
            &dir.subdir(sub)?,
            "hostname frr\n",
            &conf,
        )
    }

    fn start_gobgp(&self, dir: &TestDir, networks: &[u8]) -> Result<GoBgp> {
        let mut g = GoBgp::start(
            &self.gbp_node.ns,
            &dir.subdir("gobgp")?,
            &GoBgp::config_multi(&[GoBgpNeighbor::new(
                Session::ibgp(&self.gbp_node, &self.sid, ASN)
                    .families(FAMILIES)
                    .passive(true),
            )
            .graceful_restart(GOBGP_RESTART_TIME)])?,
            DEFAULT_API_PORT,
        )?;
        for (family, prefix) in prefixes(networks) {
            let nh = if family == IPV4_UNICAST {
                self.gbp_node.ipv4.to_string()
            } else {
                self.gbp_node.ipv6.to_string()
            };
            g.add_route(family, &prefix, &["origin", "igp", "nexthop", &nh])?;
        }
        Ok(g)
    }
}

/// How a peer's paths for one prefix look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seen {
    /// No path from sidrad.
    Missing,
    /// One path from sidrad, stale.
    Stale,
    /// One path from sidrad, not stale.
    Fresh,
    /// More than one path from sidrad.
    Duplicated,
}

fn seen(paths: &[PathView], sid: IpAddr) -> Seen {
    let ours: Vec<&PathView> = paths.iter().filter(|p| p.from == Some(sid)).collect();
    match ours.as_slice() {
        [] => Seen::Missing,
        [p] if p.stale => Seen::Stale,
        [_] => Seen::Fresh,
        _ => Seen::Duplicated,
    }
}

/// What FRR and GoBGP hold from sidrad for each of `prefixes`: ("FRR"/"GoBGP", prefix, paths).
fn observe(
    frr: &mut Frr,
    gobgp: &mut GoBgp,
    frr_wants: &[(&'static str, String)],
    gobgp_wants: &[(&'static str, String)],
) -> Result<Vec<(&'static str, String, Vec<PathView>)>> {
    let mut out = Vec::new();
    for (family, prefix) in frr_wants {
        out.push((
            "FRR",
            prefix.clone(),
            routes::frr_paths(frr, family, prefix)?,
        ));
    }
    for (family, prefix) in gobgp_wants {
        out.push((
            "GoBGP",
            prefix.clone(),
            routes::gobgp_paths(gobgp, family, prefix)?,
        ));
    }
    Ok(out)
}

fn describe(obs: &[(&'static str, String, Vec<PathView>)]) -> String {
    obs.iter()
        .map(|(who, p, paths)| format!("{who} {p}: {}", routes::show(paths)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn sidrad_killed(topo: &Topology, dir: &TestDir, wire_checks: bool) -> Result<()> {
    let bed = Bed::new(topo, &[1, 11])?;
    let sid_addr = bed.sid_addr();
    let (frr_addr, gbp_addr) = (IpAddr::V6(bed.frr_node.ipv6), IpAddr::V6(bed.gbp_node.ipv6));
    let capture = Tcpdump::start(
        topo.hub(),
        conformance::topo::HUB_BRIDGE,
        &dir.join("hub.pcap"),
        "tcp port 179",
    )?;
    let mut gobgp = bed.start_gobgp(dir, &[3])?;
    let mut frr = bed.start_frr(dir, "frr", &[2], false)?;
    let (mut sidrad, _) = bed.start_sidrad(dir, "sidrad")?;

    // What each peer must hold from sidrad: sidrad's own routes (the acceptance), and, for the
    // wire-check variant, the other peer's routes reflected by sidrad.
    let own = prefixes(&[1, 11]);
    let (mut frr_wants, mut gobgp_wants) = (own.clone(), own.clone());
    if wire_checks {
        frr_wants.extend(prefixes(&[3]));
        gobgp_wants.extend(prefixes(&[2]));
    }
    let all_are = |obs: &[(&'static str, String, Vec<PathView>)], want: Seen| {
        obs.iter()
            .all(|(_, _, paths)| seen(paths, sid_addr) == want)
    };

    // 1. Before: every route, once, fresh.
    wait_until(
        "FRR and GoBGP to hold sidrad's routes",
        Duration::from_secs(30),
        Duration::from_millis(100),
        || {
            sidrad.daemon().check_running()?;
            let obs = observe(&mut frr, &mut gobgp, &frr_wants, &gobgp_wants)?;
            Ok(if all_are(&obs, Seen::Fresh) {
                Check::Ready(())
            } else {
                Check::NotYet(describe(&obs))
            })
        },
    )?;

    // 2. SIGKILL: the peers keep the routes, marked stale.
    let killed_at = Instant::now();
    let killed_epoch = now();
    sidrad.daemon().stop("KILL", STOP_GRACE)?;
    drop(sidrad);
    let mut gaps: Vec<String> = Vec::new();
    let mut note_gaps = |obs: &[(&'static str, String, Vec<PathView>)], phase: &str| {
        for (who, prefix, paths) in obs {
            let s = seen(paths, sid_addr);
            if matches!(s, Seen::Missing | Seen::Duplicated) {
                gaps.push(format!(
                    "{phase} +{:.1?}: {who} {prefix} {s:?}: {}",
                    killed_at.elapsed(),
                    routes::show(paths)
                ));
            }
        }
    };
    wait_until(
        "FRR and GoBGP to mark sidrad's routes stale",
        Duration::from_secs(10),
        Duration::from_millis(50),
        || {
            let obs = observe(&mut frr, &mut gobgp, &frr_wants, &gobgp_wants)?;
            note_gaps(&obs, "while sidrad was down");
            Ok(if all_are(&obs, Seen::Stale) {
                Check::Ready(())
            } else {
                Check::NotYet(describe(&obs))
            })
        },
    )?;

    // 3. sidrad again, same config: the routes stay, and end fresh and single.
    let (mut sidrad, _) = bed.start_sidrad(dir, "sidrad-restarted")?;
    let restarted_at = Instant::now();
    wait_until(
        "FRR and GoBGP to hold sidrad's routes again, fresh and once",
        Duration::from_secs(30),
        Duration::from_millis(50),
        || {
            sidrad.daemon().check_running()?;
            let obs = observe(&mut frr, &mut gobgp, &frr_wants, &gobgp_wants)?;
            note_gaps(&obs, "after the restart");
            let sessions = frr.neighbor_state(sid_addr)? == "Established"
                && gobgp.neighbor_state(sid_addr)? == "established";
            Ok(if sessions && all_are(&obs, Seen::Fresh) {
                Check::Ready(())
            } else {
                Check::NotYet(describe(&obs))
            })
        },
    )?;
    eprintln!(
        "routes stale for {:.1?}, fresh {:.1?} after sidrad's restart",
        restarted_at.duration_since(killed_at),
        restarted_at.elapsed()
    );
    // Settled: still exactly one fresh path each.
    let obs = observe(&mut frr, &mut gobgp, &frr_wants, &gobgp_wants)?;
    assert!(
        all_are(&obs, Seen::Fresh),
        "after the restart:\n{}",
        describe(&obs)
    );
    let gaps = if gaps.is_empty() {
        String::new()
    } else {
        format!(
            "routes missing or duplicated on the peers during the restart:\n{}\n",
            gaps.join("\n")
        )
    };
    if !wire_checks {
        assert!(gaps.is_empty(), "{gaps}");
        return Ok(());
    }

    // RFC 4724 §4.1 on the wire: on the sessions of the restarted sidrad, its End-of-RIB to a peer
    // comes after the other peer's End-of-RIB to it and after the other peer's routes.
    let pcap = capture.stop()?;
    let all = routes::updates(&pcap)?;
    let new: Vec<&SeenUpdate> = all.iter().filter(|u| u.time >= killed_epoch).collect();
    let mut problems = String::new();
    for (peer, other, reflected) in [
        ("GoBGP", (gbp_addr, frr_addr), prefixes(&[2])),
        ("FRR", (frr_addr, gbp_addr), prefixes(&[3])),
    ] {
        let (to, from) = other;
        for family in FAMILIES {
            let eor_out = new.iter().find(|u| {
                u.src == sid_addr && u.dst == to && u.end_of_rib.as_deref() == Some(family)
            });
            let eor_in = new.iter().find(|u| {
                u.src == from && u.dst == sid_addr && u.end_of_rib.as_deref() == Some(family)
            });
            let (Some(eor_out), Some(eor_in)) = (eor_out, eor_in) else {
                let _ = writeln!(
                    problems,
                    "{family}: End-of-RIB to {peer}: {eor_out:?}, from the other peer: {eor_in:?}"
                );
                continue;
            };
            if eor_out.time < eor_in.time {
                let _ = writeln!(
                    problems,
                    "{family}: sidrad sent {peer} End-of-RIB at {:.3} before the other peer's \
                     End-of-RIB reached it at {:.3}",
                    eor_out.time, eor_in.time
                );
            }
            for (f, p) in reflected.iter().filter(|(f, _)| f == family) {
                let sent = new
                    .iter()
                    .find(|u| u.src == sid_addr && u.dst == to && u.announces(p));
                match sent {
                    Some(u) if u.time <= eor_out.time => {}
                    Some(u) => {
                        let _ = writeln!(
                            problems,
                            "{f}: {p} sent to {peer} at {:.3}, after sidrad's End-of-RIB at {:.3}",
                            u.time, eor_out.time
                        );
                    }
                    None => {
                        let _ = writeln!(problems, "{f}: {p} never sent again to {peer}");
                    }
                }
            }
        }
    }
    let trace = [gbp_addr, frr_addr]
        .iter()
        .map(|a| {
            format!(
                "sidrad -> {a}:\n{}\n{a} -> sidrad:\n{}",
                show_new(&new, sid_addr, *a),
                show_new(&new, *a, sid_addr)
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        problems.is_empty() && gaps.is_empty(),
        "{gaps}RFC 4724 §4.1 (the restarting speaker defers its selection and End-of-RIB until \
         the End-of-RIB of its peers):\n{problems}capture since the kill:\n{trace}"
    );
    Ok(())
}

fn show_new(new: &[&SeenUpdate], src: IpAddr, dst: IpAddr) -> String {
    new.iter()
        .filter(|u| u.src == src && u.dst == dst)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Now, in the capture's clock (seconds since the Unix epoch).
fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn frr_restarted(topo: &Topology, dir: &TestDir) -> Result<()> {
    let bed = Bed::new(topo, &[])?;
    let sid_addr = bed.sid_addr();
    let (frr_addr, gbp_addr) = (IpAddr::V6(bed.frr_node.ipv6), IpAddr::V6(bed.gbp_node.ipv6));
    let capture = Tcpdump::start(
        topo.hub(),
        conformance::topo::HUB_BRIDGE,
        &dir.join("hub.pcap"),
        "tcp port 179",
    )?;
    let mut gobgp = bed.start_gobgp(dir, &[])?;
    let mut frr = bed.start_frr(dir, "frr", &[2, 22], true)?;
    let (mut sidrad, socket) = bed.start_sidrad(dir, "sidrad")?;
    let (a, b) = (prefixes(&[2]), prefixes(&[22]));
    let both: Vec<(&'static str, String)> = a.iter().chain(&b).cloned().collect();

    let gobgp_view =
        |g: &mut GoBgp, wants: &[(&'static str, String)]| -> Result<Vec<(String, Vec<PathView>)>> {
            wants
                .iter()
                .map(|(f, p)| Ok((p.clone(), routes::gobgp_paths(g, f, p)?)))
                .collect()
        };
    let sidrad_view = |wants: &[(&'static str, String)]| -> Result<Vec<(String, Vec<PathView>)>> {
        wants
            .iter()
            .map(|(f, p)| Ok((p.clone(), routes::sidrad_paths(&socket, f, p)?)))
            .collect()
    };
    let show = |v: &[(String, Vec<PathView>)]| {
        v.iter()
            .map(|(p, paths)| format!("{p}: {}", routes::show(paths)))
            .collect::<Vec<_>>()
            .join("\n")
    };

    // 1. GoBGP holds A and B from sidrad.
    wait_until(
        "GoBGP to hold FRR's routes through sidrad",
        Duration::from_secs(30),
        Duration::from_millis(100),
        || {
            sidrad.daemon().check_running()?;
            let v = gobgp_view(&mut gobgp, &both)?;
            Ok(if v.iter().all(|(_, p)| seen(p, sid_addr) == Seen::Fresh) {
                Check::Ready(())
            } else {
                Check::NotYet(show(&v))
            })
        },
    )?;

    // 2. Kill FRR's bgpd: sidrad keeps A and B stale, GoBGP keeps them.
    let mark = sidrad.log_len();
    frr.bgpd().stop("KILL", STOP_GRACE)?;
    drop(frr);
    let killed_at = Instant::now();
    let mut gaps = Vec::new();
    let mut check_sink = |g: &mut GoBgp,
                          wants: &[(&'static str, String)],
                          phase: &str|
     -> Result<Vec<(String, Vec<PathView>)>> {
        let v = gobgp_view(g, wants)?;
        for (p, paths) in &v {
            if seen(paths, sid_addr) != Seen::Fresh {
                gaps.push(format!(
                    "{phase} +{:.1?}: GoBGP {p}: {}",
                    killed_at.elapsed(),
                    routes::show(paths)
                ));
            }
        }
        Ok(v)
    };
    sidrad.wait_for_log_since(
        mark,
        "FRR restarting gracefully",
        Duration::from_secs(10),
        |l| l.is_about(frr_addr) && l.message.contains("keeping its routes as stale"),
    )?;
    wait_until(
        "sidrad to hold FRR's routes as stale",
        Duration::from_secs(10),
        Duration::from_millis(50),
        || {
            sidrad.daemon().check_running()?;
            check_sink(&mut gobgp, &both, "FRR down")?;
            let v = sidrad_view(&both)?;
            let stale = v.iter().all(|(_, paths)| {
                paths.len() == 1 && paths[0].stale && paths[0].from == Some(frr_addr)
            });
            Ok(if stale {
                Check::Ready(())
            } else {
                Check::NotYet(show(&v))
            })
        },
    )?;

    // 3. FRR again, without B: after its End-of-RIB, B goes and A stays.
    let frr_back = now();
    let mut frr = bed.start_frr(dir, "frr-restarted", &[2], true)?;
    wait_until(
        "sidrad to sweep B after FRR's End-of-RIB, and keep A fresh",
        Duration::from_secs(30),
        Duration::from_millis(50),
        || {
            sidrad.daemon().check_running()?;
            frr.bgpd().check_running()?;
            check_sink(&mut gobgp, &a, "FRR back")?;
            let sink_b = gobgp_view(&mut gobgp, &b)?;
            let ours = sidrad_view(&both)?;
            let a_fresh = ours.iter().take(a.len()).all(|(_, paths)| {
                paths.len() == 1 && !paths[0].stale && paths[0].from == Some(frr_addr)
            });
            let b_gone = ours.iter().skip(a.len()).all(|(_, paths)| paths.is_empty())
                && sink_b.iter().all(|(_, paths)| paths.is_empty());
            Ok(if a_fresh && b_gone {
                Check::Ready(())
            } else {
                Check::NotYet(format!(
                    "sidrad:\n{}\nGoBGP:\n{}",
                    show(&ours),
                    show(&sink_b)
                ))
            })
        },
    )?;
    eprintln!(
        "FRR's routes swept/refreshed {:.1?} after the kill",
        killed_at.elapsed()
    );
    assert!(
        gaps.is_empty(),
        "GoBGP lost FRR's routes during FRR's restart:\n{}",
        gaps.join("\n")
    );
    sidrad.wait_for_log_since(mark, "the End-of-RIB sweep", Duration::from_secs(5), |l| {
        l.is_about(frr_addr) && l.message.starts_with("End-of-RIB for")
    })?;

    // The wire: A never withdrawn to GoBGP; B withdrawn once, after FRR's End-of-RIB for its
    // family on the new session.
    let pcap = capture.stop()?;
    let all = routes::updates(&pcap)?;
    let to_sink = routes::show_updates(&all, sid_addr, gbp_addr);
    for (_, p) in &a {
        assert!(
            !all.iter()
                .any(|u| u.src == sid_addr && u.dst == gbp_addr && u.withdraws(p)),
            "sidrad withdrew {p} from GoBGP during FRR's graceful restart:\n{to_sink}"
        );
    }
    for (family, p) in &b {
        let w = all
            .iter()
            .find(|u| u.src == sid_addr && u.dst == gbp_addr && u.withdraws(p))
            .unwrap_or_else(|| panic!("{p} never withdrawn from GoBGP:\n{to_sink}"));
        let eor = all
            .iter()
            .find(|u| {
                u.src == frr_addr && u.time >= frr_back && u.end_of_rib.as_deref() == Some(family)
            })
            .unwrap_or_else(|| {
                panic!(
                    "no {family} End-of-RIB from the restarted FRR:\n{}",
                    routes::show_updates(&all, frr_addr, sid_addr)
                )
            });
        assert!(
            w.time >= eor.time,
            "{p} withdrawn at {:.3}, before FRR's End-of-RIB at {:.3}:\n{to_sink}",
            w.time,
            eor.time
        );
    }
    Ok(())
}
