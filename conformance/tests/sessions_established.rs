//! sidrad establishes sessions with FRR 8.4, GoBGP 3.10 and BIRD 2.0: iBGP and eBGP, over IPv6
//! and IPv4 transport, dialing and being dialed, with the address families it is configured for.
//!
//! ```text
//!   hub se1-hub (bridge) -- every node below on one LAN, fd00::K/64 and 10.0.0.K/24
//!   se1-sid1  sidrad AS 65001 (router id 192.0.2.1)    se1-frr   FRR 8.4  AS 65001
//!   se1-sid2  sidrad AS 65002 (router id 192.0.2.2)    se1-gbp   GoBGP    AS 65001 (passive)
//!                                                      se1-bird  BIRD 2.0 AS 65001 (passive)
//! ```
//!
//! | case | transport | sidrad | families (sidrad / peer -> negotiated) |
//! |---|---|---|---|
//! | FRR iBGP   | IPv6 | sid1 dials (FRR passive) | v4 v6 vpn4 vpn6 / same -> all four |
//! | FRR eBGP   | IPv4 | sid2 passive (FRR dials) | v4 / v4 v6 -> v4 |
//! | GoBGP iBGP | IPv4 | sid1 dials | v4 v6 / same -> v4 v6 |
//! | GoBGP eBGP | IPv6 | sid2 dials | v6 vpn6 / v4 v6 vpn6 -> v6 vpn6 |
//! | BIRD iBGP  | IPv6 | sid1 dials | v4 v6 / same -> v4 v6 |
//! | BIRD eBGP  | IPv4 | sid2 dials | v4 / v4 -> v4 |
//!
//! For every case: both sides report Established, sidrad's "session established" log line lists
//! the expected families, the peer's own view lists them as negotiated, and the session did not
//! flap meanwhile.
//!
//! Needs root; see `conformance::require_root`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use conformance::peers::{
    Bird, Frr, GoBgp, IPV4_UNICAST, IPV4_VPN, IPV6_UNICAST, IPV6_VPN, Session, Sidrad,
    SidradConfig, SidradNeighbor,
};
use conformance::{Check, Node, Result, TestDir, Topology, cmd, require_root, wait_until};
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Peer {
    Frr,
    GoBgp,
    Bird,
}

/// One session of the table.
struct Case {
    name: &'static str,
    /// 0: sid1 (AS 65001), 1: sid2 (AS 65002).
    sidrad: usize,
    peer: Peer,
    ipv6: bool,
    sidrad_passive: bool,
    sidrad_families: &'static [&'static str],
    peer_families: &'static [&'static str],
    negotiated: &'static [&'static str],
}

const PEER_AS: u32 = 65001;
const SIDRAD_AS: [u32; 2] = [65001, 65002];

const CASES: &[Case] = &[
    Case {
        name: "FRR iBGP over IPv6, sidrad dials",
        sidrad: 0,
        peer: Peer::Frr,
        ipv6: true,
        sidrad_passive: false,
        sidrad_families: &[IPV4_UNICAST, IPV6_UNICAST, IPV4_VPN, IPV6_VPN],
        peer_families: &[IPV4_UNICAST, IPV6_UNICAST, IPV4_VPN, IPV6_VPN],
        negotiated: &[IPV4_UNICAST, IPV6_UNICAST, IPV4_VPN, IPV6_VPN],
    },
    Case {
        name: "FRR eBGP over IPv4, FRR dials (sidrad passive)",
        sidrad: 1,
        peer: Peer::Frr,
        ipv6: false,
        sidrad_passive: true,
        sidrad_families: &[IPV4_UNICAST],
        peer_families: &[IPV4_UNICAST, IPV6_UNICAST],
        negotiated: &[IPV4_UNICAST],
    },
    Case {
        name: "GoBGP iBGP over IPv4, sidrad dials",
        sidrad: 0,
        peer: Peer::GoBgp,
        ipv6: false,
        sidrad_passive: false,
        sidrad_families: &[IPV4_UNICAST, IPV6_UNICAST],
        peer_families: &[IPV4_UNICAST, IPV6_UNICAST],
        negotiated: &[IPV4_UNICAST, IPV6_UNICAST],
    },
    Case {
        name: "GoBGP eBGP over IPv6, sidrad dials",
        sidrad: 1,
        peer: Peer::GoBgp,
        ipv6: true,
        sidrad_passive: false,
        sidrad_families: &[IPV6_UNICAST, IPV6_VPN],
        peer_families: &[IPV4_UNICAST, IPV6_UNICAST, IPV6_VPN],
        negotiated: &[IPV6_UNICAST, IPV6_VPN],
    },
    Case {
        name: "BIRD iBGP over IPv6, sidrad dials",
        sidrad: 0,
        peer: Peer::Bird,
        ipv6: true,
        sidrad_passive: false,
        sidrad_families: &[IPV4_UNICAST, IPV6_UNICAST],
        peer_families: &[IPV4_UNICAST, IPV6_UNICAST],
        negotiated: &[IPV4_UNICAST, IPV6_UNICAST],
    },
    Case {
        name: "BIRD eBGP over IPv4, sidrad dials",
        sidrad: 1,
        peer: Peer::Bird,
        ipv6: false,
        sidrad_passive: false,
        sidrad_families: &[IPV4_UNICAST],
        peer_families: &[IPV4_UNICAST],
        negotiated: &[IPV4_UNICAST],
    },
];

fn addr(n: &Node, ipv6: bool) -> IpAddr {
    if ipv6 {
        IpAddr::V6(n.ipv6)
    } else {
        IpAddr::V4(n.ipv4)
    }
}

/// The BIRD protocol name of a case.
fn bird_protocol(c: &Case) -> String {
    format!("sid{}", c.sidrad + 1)
}

struct Bed<'a> {
    sid: [&'a Node; 2],
    frr: &'a Node,
    gbp: &'a Node,
    bird: &'a Node,
}

impl<'a> Bed<'a> {
    fn peer_node(&self, p: Peer) -> &'a Node {
        match p {
            Peer::Frr => self.frr,
            Peer::GoBgp => self.gbp,
            Peer::Bird => self.bird,
        }
    }

    /// The session as the peer sees it.
    fn peer_session(&self, c: &Case) -> Session {
        let (me, sid) = (self.peer_node(c.peer), self.sid[c.sidrad]);
        Session {
            local_addr: addr(me, c.ipv6),
            local_as: PEER_AS,
            router_id: me.loopback4,
            peer_addr: addr(sid, c.ipv6),
            peer_as: SIDRAD_AS[c.sidrad],
            families: c.peer_families.to_vec(),
            // GoBGP and BIRD are always dialed (interop.md §4.5, §10); FRR dials when sidrad
            // is passive.
            passive: c.peer != Peer::Frr || !c.sidrad_passive,
        }
    }

    /// The session as sidrad sees it.
    fn sidrad_neighbor(&self, c: &Case) -> SidradNeighbor {
        let (me, peer) = (self.sid[c.sidrad], self.peer_node(c.peer));
        let s = Session {
            local_addr: addr(me, c.ipv6),
            local_as: SIDRAD_AS[c.sidrad],
            router_id: me.loopback4,
            peer_addr: addr(peer, c.ipv6),
            peer_as: PEER_AS,
            families: c.sidrad_families.to_vec(),
            passive: c.sidrad_passive,
        };
        SidradNeighbor::from_session(&s).description(c.name)
    }
}

/// An FRR config with one neighbor per session (Frr::config writes one).
fn frr_config(sessions: &[Session]) -> Result<String> {
    let mut c = String::new();
    let mut families = BTreeSet::new();
    for (i, s) in sessions.iter().enumerate() {
        let one = Frr::config(s, "frr", "")?;
        for line in one.lines() {
            let af = line.starts_with(" address-family")
                || line.starts_with("  ")
                || line.starts_with(" exit-address-family");
            if line.starts_with(" neighbor") || (i == 0 && !af) {
                let _ = writeln!(c, "{line}");
            }
        }
        families.extend(s.families.iter().copied());
    }
    for f in families {
        let af = match f {
            IPV4_UNICAST => "ipv4 unicast",
            IPV6_UNICAST => "ipv6 unicast",
            IPV4_VPN => "ipv4 vpn",
            _ => "ipv6 vpn",
        };
        let _ = writeln!(c, " address-family {af}");
        for s in sessions.iter().filter(|s| s.families.contains(&f)) {
            let _ = writeln!(c, "  neighbor {} activate", s.peer_addr);
        }
        let _ = writeln!(c, " exit-address-family");
    }
    Ok(c)
}

/// A GoBGP config with one neighbor per session, listening on every local address.
fn gobgp_config(sessions: &[Session]) -> Result<String> {
    let mut global = String::new();
    let mut neighbors = String::new();
    let locals: Vec<String> = sessions
        .iter()
        .map(|s| format!("\"{}\"", s.local_addr))
        .collect();
    for (i, s) in sessions.iter().enumerate() {
        let one = GoBgp::config(s)?;
        let (g, n) = one.split_at(one.find("[[neighbors]]").unwrap_or(one.len()));
        if i == 0 {
            for line in g.lines() {
                if line.trim_start().starts_with("local-address-list") {
                    let _ = writeln!(global, "  local-address-list = [{}]", locals.join(", "));
                } else {
                    let _ = writeln!(global, "{line}");
                }
            }
        }
        neighbors.push_str(n);
    }
    Ok(global + &neighbors)
}

/// A BIRD config with one protocol per session.
fn bird_config(sessions: &[(String, Session)]) -> Result<String> {
    let mut c = String::new();
    for (i, (name, s)) in sessions.iter().enumerate() {
        let one = Bird::config(s, name, "")?;
        let at = one.find("protocol bgp").unwrap_or(0);
        if i == 0 {
            c.push_str(&one);
        } else {
            c.push_str(&one[at..]);
        }
    }
    Ok(c)
}

fn frr_family(key: &str) -> Option<&'static str> {
    Some(match key {
        "ipv4Unicast" => IPV4_UNICAST,
        "ipv6Unicast" => IPV6_UNICAST,
        "ipv4Vpn" => IPV4_VPN,
        "ipv6Vpn" => IPV6_VPN,
        _ => return None,
    })
}

/// FRR's negotiated families: multiprotocol capabilities advertised and received.
fn frr_negotiated(v: &Value) -> BTreeSet<String> {
    let mp = &v["neighborCapabilities"]["multiprotocolExtensions"];
    mp.as_object()
        .into_iter()
        .flatten()
        .filter(|(_, x)| x["advertisedAndReceived"] == true)
        .filter_map(|(k, _)| frr_family(k).map(String::from))
        .collect()
}

/// GoBGP's negotiated families, from the text of `gobgp neighbor ADDR` (its JSON carries the
/// capabilities as protobuf): the `multiprotocol:` entries "advertised and received".
fn gobgp_negotiated(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut in_mp = false;
    for line in text.lines() {
        let t = line.trim();
        if t == "multiprotocol:" {
            in_mp = true;
            continue;
        }
        if !in_mp {
            continue;
        }
        let Some((family, how)) = t.split_once(':') else {
            break;
        };
        // Entries are indented deeper than the capability names that follow them.
        if line.len() - line.trim_start().len() <= 4 {
            break;
        }
        if how.trim() == "advertised and received" {
            let f = match family {
                "ipv4-unicast" => IPV4_UNICAST,
                "ipv6-unicast" => IPV6_UNICAST,
                "l3vpn-ipv4-unicast" => IPV4_VPN,
                "l3vpn-ipv6-unicast" => IPV6_VPN,
                other => other,
            };
            out.insert(f.to_string());
        }
    }
    out
}

/// `gobgp neighbor ADDR` (text) inside the GoBGP namespace.
fn gobgp_neighbor_text(ns: &str, peer: IpAddr) -> Result<String> {
    let port = conformance::peers::gobgp::DEFAULT_API_PORT.to_string();
    conformance::cmd::run(
        cmd::netns_command(ns, cmd::find(cmd::GOBGP)?)
            .args(["-u", "127.0.0.1", "-p", &port, "neighbor"])
            .arg(peer.to_string()),
    )
}

/// BIRD's negotiated families: the channels that are UP.
fn bird_negotiated(details: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut channel: Option<&str> = None;
    for line in details.lines() {
        let t = line.trim();
        if let Some(ch) = t.strip_prefix("Channel ") {
            channel = Some(ch.trim());
        } else if let (Some(ch), Some(state)) = (channel, t.strip_prefix("State:")) {
            if state.trim() == "UP" {
                match ch {
                    "ipv4" => out.insert(IPV4_UNICAST.to_string()),
                    "ipv6" => out.insert(IPV6_UNICAST.to_string()),
                    other => out.insert(other.to_string()),
                };
            }
            channel = None;
        }
    }
    out
}

fn set(families: &[&str]) -> BTreeSet<String> {
    families.iter().map(|f| f.to_string()).collect()
}

#[test]
fn sessions_established() {
    if !require_root("sessions_established") {
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
    let topo = Topology::builder("se1")
        .node("sid1")
        .node("sid2")
        .node("frr")
        .node("gbp")
        .node("bird")
        .build()
        .unwrap();
    let dir = TestDir::new("sessions_established").unwrap();
    if let Err(e) = scenario(&topo, &dir) {
        panic!("sessions_established: {e}");
    }
    eprintln!("sessions_established: passed in {:.1?}", start.elapsed());
}

fn scenario(topo: &Topology, dir: &TestDir) -> Result<()> {
    let bed = Bed {
        sid: [topo.node("sid1")?, topo.node("sid2")?],
        frr: topo.node("frr")?,
        gbp: topo.node("gbp")?,
        bird: topo.node("bird")?,
    };
    let of = |p: Peer| CASES.iter().filter(move |c| c.peer == p);

    // The peers first (GoBGP and BIRD wait to be dialed; FRR's passive neighbor too).
    let frr_sessions: Vec<Session> = of(Peer::Frr).map(|c| bed.peer_session(c)).collect();
    let mut frr = Frr::start(
        &bed.frr.ns,
        &dir.subdir("frr")?,
        "hostname frr\n",
        &frr_config(&frr_sessions)?,
    )?;
    let gobgp_sessions: Vec<Session> = of(Peer::GoBgp).map(|c| bed.peer_session(c)).collect();
    let mut gobgp = GoBgp::start(
        &bed.gbp.ns,
        &dir.subdir("gobgp")?,
        &gobgp_config(&gobgp_sessions)?,
        conformance::peers::gobgp::DEFAULT_API_PORT,
    )?;
    let bird_sessions: Vec<(String, Session)> = of(Peer::Bird)
        .map(|c| (bird_protocol(c), bed.peer_session(c)))
        .collect();
    let mut bird = Bird::start(
        &bed.bird.ns,
        &dir.subdir("bird")?,
        &bird_config(&bird_sessions)?,
    )?;

    let mut sidrads = Vec::new();
    for (i, node) in bed.sid.iter().enumerate() {
        let mut config = SidradConfig {
            asn: SIDRAD_AS[i],
            router_id: node.loopback4,
            listen: vec!["[::]:179".parse().unwrap()],
            neighbors: Vec::new(),
        };
        for c in CASES.iter().filter(|c| c.sidrad == i) {
            config = config.neighbor(bed.sidrad_neighbor(c));
        }
        sidrads.push(Sidrad::start(
            &node.ns,
            &dir.subdir(&format!("sidrad{}", i + 1))?,
            &config,
        )?);
    }

    // Every session up on both sides (bounded; each comes up in about a second).
    let peer_addr = |c: &Case| addr(bed.peer_node(c.peer), c.ipv6);
    let sid_addr = |c: &Case| addr(bed.sid[c.sidrad], c.ipv6);
    wait_until(
        "every session Established on both sides",
        Duration::from_secs(40),
        Duration::from_millis(200),
        || {
            let mut pending = Vec::new();
            for c in CASES {
                let sidrad = &mut sidrads[c.sidrad];
                sidrad.daemon().check_running()?;
                let ours = sidrad.established_count(peer_addr(c)) >= 1;
                let theirs = match c.peer {
                    Peer::Frr => frr.neighbor_state(sid_addr(c))?,
                    Peer::GoBgp => gobgp.neighbor_state(sid_addr(c))?,
                    Peer::Bird => bird.protocol_state(&bird_protocol(c))?,
                };
                if !ours || !theirs.eq_ignore_ascii_case("established") {
                    let state = sidrad.state(peer_addr(c)).unwrap_or("-".into());
                    pending.push(format!("{}: sidrad {state}, peer {theirs}", c.name));
                }
            }
            Ok(if pending.is_empty() {
                Check::Ready(())
            } else {
                Check::NotYet(pending.join("; "))
            })
        },
    )?;

    // The families, on both sides, and no flap.
    let mut failures = Vec::new();
    for c in CASES {
        let sidrad = &sidrads[c.sidrad];
        let want = set(c.negotiated);
        let established = sidrad.established(peer_addr(c));
        let ours: BTreeSet<String> = established
            .first()
            .and_then(|l| l.field("families").as_str())
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        let (theirs, raw) = match c.peer {
            Peer::Frr => {
                let a = sid_addr(c);
                let v = frr.vtysh_json(&format!("show bgp neighbors {a} json"))?;
                let n = v[a.to_string()].clone();
                (frr_negotiated(&n), n.to_string())
            }
            Peer::GoBgp => {
                let text = gobgp_neighbor_text(&bed.gbp.ns, sid_addr(c))?;
                (gobgp_negotiated(&text), text)
            }
            Peer::Bird => {
                let out = bird.birdc(&format!("show protocols all {}", bird_protocol(c)))?;
                (bird_negotiated(&out), out)
            }
        };
        let name = format!("{}-{:?}", c.sidrad, c.peer);
        std::fs::write(dir.join(format!("peer-view-{name}-{}.txt", c.ipv6)), &raw).ok();
        if ours != want {
            failures.push(format!(
                "{}: sidrad negotiated {ours:?}, expected {want:?}",
                c.name
            ));
        }
        if theirs != want {
            failures.push(format!(
                "{}: the peer shows {theirs:?} negotiated, expected {want:?}",
                c.name
            ));
        }
        // Who opened the connection: sidrad logs "connected" (debug) for its own connects and
        // "accepted connection from the peer" for the peer's.
        let lines = sidrad.log_lines();
        let about = |m: &str| {
            lines
                .iter()
                .filter(|l| l.is_about(peer_addr(c)) && l.message == m)
                .count()
        };
        let (dialed, accepted) = (
            about("connected"),
            about("accepted connection from the peer"),
        );
        if c.sidrad_passive && (dialed > 0 || accepted == 0) {
            failures.push(format!(
                "{}: sidrad is passive but connected {dialed} times, accepted {accepted}",
                c.name
            ));
        }
        if !c.sidrad_passive && dialed == 0 {
            failures.push(format!("{}: sidrad never connected to the peer", c.name));
        }
        if established.len() != 1 {
            failures.push(format!(
                "{}: sidrad reached Established {} times (flapping?):\n{}",
                c.name,
                established.len(),
                sidrad.log_about(peer_addr(c), 20)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "sessions_established:\n{}\n(test files in {})",
        failures.join("\n"),
        dir.path().display()
    );
    Ok(())
}
