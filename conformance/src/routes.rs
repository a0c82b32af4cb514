//! Routes in one shape whoever shows them (FRR, GoBGP, BIRD, sidrad's API), and the UPDATEs of a
//! capture, for the RIB tests.
//!
//! * [`frr_paths`], [`gobgp_paths`], [`bird_paths`], [`sidrad_paths`]: the paths a daemon holds
//!   for one prefix, as [`PathView`]s (where from, best, stale, next hop, attributes).
//! * [`updates`]: every UPDATE of a pcap file with its announced and withdrawn prefixes, its
//!   End-of-RIB family and its path attributes as on the wire ([`crate::capture::RawAttribute`]).

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::Command;

use bgpd::packet::{Message, decode_message};
use serde_json::Value;

use crate::capture::{RawAttribute, raw_attributes};
use crate::cmd::run;
use crate::error::{Error, Result};
use crate::peers::{Bird, Frr, GoBgp, Sidrad, bird};

/// One path to a prefix as a daemon shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathView {
    pub prefix: String,
    /// The neighbor it was learned from; `None` for a route the daemon originates.
    pub from: Option<IpAddr>,
    pub best: bool,
    pub stale: bool,
    pub next_hop: Option<IpAddr>,
    /// The AS numbers of the AS_PATH, in order (sets flattened).
    pub as_path: Vec<u32>,
    pub local_pref: Option<u32>,
    pub med: Option<u32>,
    pub originator_id: Option<Ipv4Addr>,
    pub cluster_list: Vec<Ipv4Addr>,
}

impl std::fmt::Display for PathView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let from = self.from.map_or("local".to_string(), |a| a.to_string());
        write!(f, "{} from {from}", self.prefix)?;
        if self.best {
            write!(f, " best")?;
        }
        if self.stale {
            write!(f, " stale")?;
        }
        if let Some(n) = self.next_hop {
            write!(f, " nh {n}")?;
        }
        write!(f, " path {:?}", self.as_path)?;
        if let Some(l) = self.local_pref {
            write!(f, " lp {l}")?;
        }
        if let Some(m) = self.med {
            write!(f, " med {m}")?;
        }
        if let Some(o) = self.originator_id {
            write!(f, " originator {o}")?;
        }
        if !self.cluster_list.is_empty() {
            write!(f, " clusters {:?}", self.cluster_list)?;
        }
        Ok(())
    }
}

/// Paths as text, one per line (for failure messages).
pub fn show(paths: &[PathView]) -> String {
    if paths.is_empty() {
        return "(no path)".into();
    }
    paths
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn u32_of(v: &Value) -> Option<u32> {
    v.as_u64().and_then(|n| u32::try_from(n).ok())
}

fn addr_of(v: &Value) -> Option<IpAddr> {
    v.as_str().and_then(|s| s.parse().ok())
}

fn v4_of(v: &Value) -> Option<Ipv4Addr> {
    v.as_str().and_then(|s| s.parse().ok())
}

fn v4_list(v: &Value) -> Vec<Ipv4Addr> {
    v.as_array()
        .map(|a| a.iter().filter_map(v4_of).collect())
        .unwrap_or_default()
}

fn asns(text: &str) -> Vec<u32> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect()
}

/// The paths FRR holds for `prefix` (`show bgp AFI SAFI PREFIX json`).
pub fn frr_paths(frr: &mut Frr, family: &str, prefix: &str) -> Result<Vec<PathView>> {
    frr.bgpd().check_running()?;
    let af = match family {
        crate::peers::IPV4_UNICAST => "ipv4 unicast",
        crate::peers::IPV6_UNICAST => "ipv6 unicast",
        other => return Err(Error::Other(format!("frr_paths: family {other}"))),
    };
    let v = frr.vtysh_json(&format!("show bgp {af} {prefix} json"))?;
    if v.get("prefix").and_then(Value::as_str) != Some(prefix) {
        return Ok(Vec::new());
    }
    let paths = v["paths"].as_array().cloned().unwrap_or_default();
    Ok(paths
        .iter()
        .map(|p| PathView {
            prefix: prefix.to_string(),
            // A local route's peer is "0.0.0.0", "::" or "(unspec)".
            from: addr_of(&p["peer"]["peerId"]).filter(|a| !a.is_unspecified()),
            best: p["bestpath"]["overall"].as_bool().unwrap_or(false),
            stale: p["stale"].as_bool().unwrap_or(false),
            next_hop: addr_of(&p["nexthops"][0]["ip"]),
            as_path: p["aspath"]["segments"]
                .as_array()
                .map(|segs| {
                    segs.iter()
                        .flat_map(|s| s["list"].as_array().cloned().unwrap_or_default())
                        .filter_map(|a| u32_of(&a))
                        .collect()
                })
                .unwrap_or_default(),
            local_pref: u32_of(&p["locPrf"]),
            med: u32_of(&p["med"]).or_else(|| u32_of(&p["metric"])),
            originator_id: v4_of(&p["originatorId"]),
            cluster_list: v4_list(&p["clusterList"]["list"]),
        })
        .collect())
}

/// The paths GoBGP holds for `prefix` in its global RIB.
pub fn gobgp_paths(gobgp: &mut GoBgp, family: &str, prefix: &str) -> Result<Vec<PathView>> {
    Ok(gobgp
        .paths(family, prefix)?
        .iter()
        .map(|p| gobgp_path(prefix, p))
        .collect())
}

fn gobgp_path(prefix: &str, p: &Value) -> PathView {
    let mut v = PathView {
        prefix: prefix.to_string(),
        from: addr_of(&p["neighbor-ip"]),
        best: p["best"].as_bool().unwrap_or(false),
        stale: p["stale"].as_bool().unwrap_or(false),
        ..PathView::default()
    };
    for a in p["attrs"].as_array().cloned().unwrap_or_default() {
        match a["type"].as_u64() {
            Some(2) => {
                v.as_path = a["as_paths"]
                    .as_array()
                    .map(|segs| {
                        segs.iter()
                            .flat_map(|s| s["asns"].as_array().cloned().unwrap_or_default())
                            .filter_map(|n| u32_of(&n))
                            .collect()
                    })
                    .unwrap_or_default();
            }
            Some(3 | 14) => v.next_hop = addr_of(&a["nexthop"]),
            Some(4) => v.med = u32_of(&a["metric"]),
            Some(5) => v.local_pref = u32_of(&a["value"]),
            Some(9) => v.originator_id = v4_of(&a["value"]),
            Some(10) => v.cluster_list = v4_list(&a["value"]),
            _ => {}
        }
    }
    v
}

/// The paths BIRD holds for `prefix` (from `show route all`). `protocols` names the BGP
/// protocols and their neighbors; routes of other protocols (static, ...) are taken as
/// originated by BIRD (`from: None`).
pub fn bird_paths(
    bird: &mut Bird,
    prefix: &str,
    protocols: &[(&str, IpAddr)],
) -> Result<Vec<PathView>> {
    // The whole table: `show route PREFIX all` fails (exit 1) when the prefix is absent.
    let text = bird.routes(None)?;
    Ok(bird::parse_routes(&text)
        .iter()
        .filter(|r| r.prefix == prefix)
        .map(|r| PathView {
            prefix: prefix.to_string(),
            from: protocols
                .iter()
                .find(|(name, _)| *name == r.protocol)
                .map(|(_, a)| *a),
            best: r.primary,
            // BIRD's text shows no stale mark.
            stale: false,
            next_hop: r
                .attr("BGP.next_hop")
                .and_then(|v| v.split_whitespace().next())
                .and_then(|a| a.parse().ok()),
            as_path: asns(r.attr("BGP.as_path").unwrap_or("")),
            local_pref: r.attr("BGP.local_pref").and_then(|v| v.parse().ok()),
            med: r.attr("BGP.med").and_then(|v| v.parse().ok()),
            originator_id: r.attr("BGP.originator_id").and_then(|v| v.parse().ok()),
            cluster_list: r
                .attr("BGP.cluster_list")
                .map(|v| {
                    v.split_whitespace()
                        .filter_map(|a| a.parse().ok())
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect())
}

/// The paths sidrad holds for `prefix` in its Loc-RIB, through its API on unix socket `socket`
/// (`sidractl --socket SOCKET rib -a FAMILY PREFIX --all-paths --json`; sidractl is taken next
/// to the sidrad binary).
pub fn sidrad_paths(socket: &Path, family: &str, prefix: &str) -> Result<Vec<PathView>> {
    let sidractl = Sidrad::binary()?.with_file_name("sidractl");
    let out = run(Command::new(&sidractl).arg("--socket").arg(socket).args([
        "rib",
        "-a",
        family,
        prefix,
        "--all-paths",
        "--json",
    ]))?;
    let v: Value = serde_json::from_str(&out)
        .map_err(|e| Error::Other(format!("sidractl rib {prefix}: {e}: {out}")))?;
    let mut paths = Vec::new();
    for r in v["routes"].as_array().cloned().unwrap_or_default() {
        if r["prefix"].as_str() != Some(prefix) {
            continue;
        }
        for p in r["paths"].as_array().cloned().unwrap_or_default() {
            paths.push(PathView {
                prefix: prefix.to_string(),
                from: addr_of(&p["neighbor"]),
                best: p["best"].as_bool().unwrap_or(false),
                stale: p["stale"].as_bool().unwrap_or(false),
                next_hop: addr_of(&p["next_hop"]),
                as_path: asns(p["as_path"].as_str().unwrap_or("")),
                local_pref: u32_of(&p["local_pref"]),
                med: u32_of(&p["med"]),
                originator_id: v4_of(&p["originator_id"]),
                cluster_list: v4_list(&p["cluster_list"]),
            });
        }
    }
    Ok(paths)
}

/// One UPDATE seen in a capture.
#[derive(Clone, Debug)]
pub struct SeenUpdate {
    /// Seconds since the Unix epoch.
    pub time: f64,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// (family name, prefix) announced.
    pub announced: Vec<(String, String)>,
    /// (family name, prefix) withdrawn.
    pub withdrawn: Vec<(String, String)>,
    /// The family of an End-of-RIB marker.
    pub end_of_rib: Option<String>,
    /// The path attributes as on the wire.
    pub attrs: Vec<RawAttribute>,
    /// The whole message.
    pub bytes: Vec<u8>,
}

impl SeenUpdate {
    pub fn announces(&self, prefix: &str) -> bool {
        self.announced.iter().any(|(_, p)| p == prefix)
    }

    pub fn withdraws(&self, prefix: &str) -> bool {
        self.withdrawn.iter().any(|(_, p)| p == prefix)
    }

    /// The attribute of type `code`, as on the wire.
    pub fn attr(&self, code: u8) -> Option<&RawAttribute> {
        self.attrs.iter().find(|a| a.type_code == code)
    }
}

impl std::fmt::Display for SeenUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.3} {} -> {}:", self.time, self.src, self.dst)?;
        if let Some(e) = &self.end_of_rib {
            return write!(f, " End-of-RIB {e}");
        }
        for (_, p) in &self.announced {
            write!(f, " +{p}")?;
        }
        for (_, p) in &self.withdrawn {
            write!(f, " -{p}")?;
        }
        Ok(())
    }
}

/// Every UPDATE of capture `pcap` (port 179), in capture order.
pub fn updates(pcap: &Path) -> Result<Vec<SeenUpdate>> {
    let cap = bgpd::capture::Capture::from_file(pcap, &[])
        .map_err(|e| Error::Other(format!("reading {}: {e}", pcap.display())))?;
    let mut out = Vec::new();
    for m in cap.messages {
        if m.bytes.get(18) != Some(&2) {
            continue;
        }
        let cx = m.context.clone().unwrap_or_default();
        let Ok(Message::Update(u)) = decode_message(&m.bytes, &cx) else {
            continue;
        };
        let pairs = |v: Vec<(bgpd::packet::Family, &bgpd::packet::nlri::Nlri)>| {
            v.iter()
                .map(|(f, n)| (f.to_string(), n.prefix.to_string()))
                .collect::<Vec<_>>()
        };
        out.push(SeenUpdate {
            time: m.timestamp,
            src: m.src.ip(),
            dst: m.dst.ip(),
            announced: pairs(u.announced()),
            withdrawn: pairs(u.withdrawals()),
            end_of_rib: u.end_of_rib().map(|f| f.to_string()),
            attrs: raw_attributes(&m.bytes).unwrap_or_default(),
            bytes: m.bytes,
        });
    }
    Ok(out)
}

/// The UPDATEs from `src` to `dst`, as text (for failure messages).
pub fn show_updates(all: &[SeenUpdate], src: IpAddr, dst: IpAddr) -> String {
    all.iter()
        .filter(|u| u.src == src && u.dst == dst)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}
