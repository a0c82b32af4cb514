//! BIRD 2.0 (Debian `bird2`): `bird -f -c FILE -s CTL -P PID`, queried with `birdc -s CTL`.
//!
//! BIRD has no JSON output: helpers parse `show protocols` and return `show route all` text.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::Session;
use crate::cmd::{self, run};
use crate::error::{Error, Result};
use crate::process::Daemon;
use crate::wait::{Check, wait_until};

/// Settings of a [`Bird::protocol`] block beyond its session.
#[derive(Clone, Debug, Default)]
pub struct BirdOptions {
    /// `rr client`: the neighbor is our route-reflector client.
    pub rr_client: bool,
    /// `rr cluster id`.
    pub rr_cluster_id: Option<Ipv4Addr>,
    /// `graceful restart on`.
    pub graceful_restart: bool,
}

/// One route of `show route all`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BirdRoute {
    pub prefix: String,
    /// The protocol it came from (`p1`, `static1`, ...).
    pub protocol: String,
    /// The primary (best) route of its prefix (`*`).
    pub primary: bool,
    /// The attribute lines, e.g. (`BGP.next_hop`, `fd00::2`), (`BGP.originator_id`, `192.0.2.2`).
    pub attrs: Vec<(String, String)>,
}

impl BirdRoute {
    /// The value of attribute `name` (`BGP.local_pref`, ...).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The routes of `birdc show route all` text. A route line starts at column 0 with the prefix
/// (or with blanks for another route of the same prefix) and holds `[PROTOCOL ...]`; the
/// attribute lines that follow are `NAME: VALUE`.
pub fn parse_routes(text: &str) -> Vec<BirdRoute> {
    const KINDS: &[&str] = &["unicast", "blackhole", "unreachable", "prohibited"];
    let mut routes: Vec<BirdRoute> = Vec::new();
    let mut prefix = String::new();
    for line in text.lines() {
        let indented = line.starts_with(char::is_whitespace);
        let mut words = line.split_whitespace();
        let (first, second) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        let route_line = match line.find('[') {
            Some(_) if !indented && first.contains('/') && KINDS.contains(&second) => {
                prefix = first.to_string();
                true
            }
            Some(_) => indented && KINDS.contains(&first),
            None => false,
        };
        if route_line {
            let open = line.find('[').unwrap_or(0);
            let rest = &line[open + 1..];
            routes.push(BirdRoute {
                prefix: prefix.clone(),
                protocol: rest.split_whitespace().next().unwrap_or("").to_string(),
                primary: rest.contains("] *"),
                attrs: Vec::new(),
            });
        } else if let (true, Some(r), Some((k, v))) =
            (indented, routes.last_mut(), line.trim().split_once(": "))
        {
            r.attrs.push((k.trim().to_string(), v.trim().to_string()));
        } else if let (true, Some(r)) = (indented, routes.last_mut())
            && let Some(k) = line.trim().strip_suffix(':')
        {
            // An empty value (`BGP.as_path:` of a route from inside the AS).
            r.attrs.push((k.to_string(), String::new()));
        }
    }
    routes
}

/// A running bird.
#[derive(Debug)]
pub struct Bird {
    daemon: Daemon,
    ctl: PathBuf,
}

impl Bird {
    /// A bird.conf with one BGP protocol called `name`, with the fast timers of interop.md §10.
    /// Unicast families only; next hops are taken as directly connected (`gateway direct`).
    /// `extra` is added at top level (e.g. a `protocol static` with routes to announce).
    pub fn config(s: &Session, name: &str, extra: &str) -> Result<String> {
        let mut c = String::new();
        let _ = writeln!(
            c,
            "router id {};\nprotocol device {{ }}\n{extra}",
            s.router_id
        );
        let _ = writeln!(c, "protocol bgp {name} {{");
        let _ = writeln!(c, "  local {} as {};", s.local_addr, s.local_as);
        let _ = writeln!(c, "  neighbor {} as {};", s.peer_addr, s.peer_as);
        if s.local_as == s.peer_as {
            // iBGP is multihop by default, which `gateway direct` refuses; the peer is on-link.
            let _ = writeln!(c, "  direct;");
        }
        let _ = writeln!(
            c,
            "  hold time 9;\n  keepalive time 3;\n  startup hold time 9;"
        );
        let _ = writeln!(
            c,
            "  connect retry time 1;\n  connect delay time 1;\n  error wait time 1,10;"
        );
        if s.passive {
            let _ = writeln!(c, "  passive on;");
        }
        for f in &s.families {
            match *f {
                super::IPV4_UNICAST => {
                    let enh = if s.peer_addr.is_ipv6() {
                        " extended next hop on;"
                    } else {
                        ""
                    };
                    let _ = writeln!(
                        c,
                        "  ipv4 {{ import all; export all; gateway direct;{enh} }};"
                    );
                }
                super::IPV6_UNICAST => {
                    let _ = writeln!(c, "  ipv6 {{ import all; export all; gateway direct; }};");
                }
                other => return Err(Error::Other(format!("bird: unsupported family {other}"))),
            }
        }
        let _ = writeln!(c, "}}");
        Ok(c)
    }

    /// A bird.conf with router id `router_id`, `extra` at top level (e.g. `protocol static`
    /// blocks) and the `protocols` (from [`Bird::protocol`]).
    pub fn config_multi(router_id: Ipv4Addr, extra: &str, protocols: &[String]) -> String {
        let mut c = format!("router id {router_id};\nprotocol device {{ }}\n{extra}\n");
        for p in protocols {
            c.push_str(p);
        }
        c
    }

    /// One `protocol bgp NAME` block for `s` with the settings of `o`, with the fast timers of
    /// interop.md §10 (unicast families only, next hops taken as directly connected).
    pub fn protocol(s: &Session, name: &str, o: &BirdOptions) -> Result<String> {
        let mut c = String::new();
        let _ = writeln!(c, "protocol bgp {name} {{");
        let _ = writeln!(c, "  local {} as {};", s.local_addr, s.local_as);
        let _ = writeln!(c, "  neighbor {} as {};", s.peer_addr, s.peer_as);
        if s.local_as == s.peer_as {
            let _ = writeln!(c, "  direct;");
        }
        let _ = writeln!(
            c,
            "  hold time 9;\n  keepalive time 3;\n  startup hold time 9;"
        );
        let _ = writeln!(
            c,
            "  connect retry time 1;\n  connect delay time 1;\n  error wait time 1,10;"
        );
        if s.passive {
            let _ = writeln!(c, "  passive on;");
        }
        if o.rr_client {
            let _ = writeln!(c, "  rr client;");
        }
        if let Some(id) = o.rr_cluster_id {
            let _ = writeln!(c, "  rr cluster id {id};");
        }
        if o.graceful_restart {
            let _ = writeln!(c, "  graceful restart on;");
        }
        for f in &s.families {
            let (channel, enh) = match *f {
                super::IPV4_UNICAST if s.peer_addr.is_ipv6() => ("ipv4", " extended next hop on;"),
                super::IPV4_UNICAST => ("ipv4", ""),
                super::IPV6_UNICAST => ("ipv6", ""),
                other => return Err(Error::Other(format!("bird: unsupported family {other}"))),
            };
            let _ = writeln!(
                c,
                "  {channel} {{ import all; export all; gateway direct;{enh} }};"
            );
        }
        let _ = writeln!(c, "}}");
        Ok(c)
    }

    /// Write `config` to DIR/bird.conf and start bird in `ns`; returns once birdc answers.
    pub fn start(ns: &str, dir: &Path, config: &str) -> Result<Bird> {
        cmd::require(&[cmd::BIRD, cmd::BIRDC])?;
        let conf = dir.join("bird.conf");
        std::fs::write(&conf, config).map_err(Error::io(format!("writing {}", conf.display())))?;
        let ctl = dir.join("bird.ctl");
        let args = [
            "-f",
            "-c",
            &conf.display().to_string(),
            "-s",
            &ctl.display().to_string(),
        ]
        .into_iter()
        .map(String::from)
        .chain(["-P".to_string(), dir.join("bird.pid").display().to_string()])
        .collect::<Vec<_>>();
        let program = cmd::find(cmd::BIRD)?;
        let daemon = Daemon::spawn("bird", ns, &program, &args, &[], &dir.join("bird.log"))?;
        let mut b = Bird { daemon, ctl };
        wait_until(
            "bird control socket",
            Duration::from_secs(15),
            Duration::from_millis(20),
            || {
                b.daemon.check_running()?;
                Ok(match b.birdc("show status") {
                    Ok(_) => Check::Ready(()),
                    Err(e) => Check::NotYet(e.to_string()),
                })
            },
        )?;
        Ok(b)
    }

    pub fn daemon(&mut self) -> &mut Daemon {
        &mut self.daemon
    }

    /// One birdc command, output text.
    pub fn birdc(&self, command: &str) -> Result<String> {
        let mut c = Command::new(cmd::find(cmd::BIRDC)?);
        c.arg("-s").arg(&self.ctl).args(command.split_whitespace());
        run(&mut c)
    }

    /// The state of protocol `name` from `show protocols`: the Info column when present (for BGP:
    /// `Established`, `Active`, ...), else the State column.
    pub fn protocol_state(&mut self, name: &str) -> Result<String> {
        self.daemon.check_running()?;
        let out = self.birdc(&format!("show protocols {name}"))?;
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .ok_or_else(|| Error::Other(format!("birdc: no protocol {name}: {out}")))?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        Ok(match fields.get(5..) {
            Some(info) if !info.is_empty() => info.join(" "),
            _ => fields.get(3).copied().unwrap_or("unknown").to_string(),
        })
    }

    /// `show route all` (optionally for one prefix), as text.
    pub fn routes(&mut self, prefix: Option<&str>) -> Result<String> {
        self.daemon.check_running()?;
        match prefix {
            Some(p) => self.birdc(&format!("show route {p} all")),
            None => self.birdc("show route all"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_of_show_route_all() {
        // birdc 2.0.12 output (tabs as BIRD prints them).
        let text = "BIRD 2.0.12 ready.\nTable master4:\n\
            198.18.4.0/24        blackhole [st4 23:40:38.016] * (200)\n\
            \tType: static univ\n\
            198.18.2.0/24        unicast [sid 23:40:38.257 from fd00::1] * (100) [i]\n\
            \tvia fd00::2 on eth0\n\
            \tType: BGP univ\n\
            \tBGP.origin: IGP\n\
            \tBGP.as_path: \n\
            \tBGP.next_hop: fd00::2\n\
            \tBGP.med: 0\n\
            \tBGP.local_pref: 100\n\
            \tBGP.originator_id: 192.0.2.2\n\
            \tBGP.cluster_list: 10.255.255.1\n\
            \x20                    unicast [other 23:40:39.000] (100) [i]\n\
            \tBGP.next_hop: fd00::3\n\
            \nTable master6:\n";
        let r = parse_routes(text);
        assert_eq!(r.len(), 3, "{r:?}");
        assert_eq!(
            (r[0].prefix.as_str(), r[0].protocol.as_str()),
            ("198.18.4.0/24", "st4")
        );
        assert!(r[0].primary && r[0].attr("BGP.next_hop").is_none());
        assert_eq!(r[1].protocol, "sid");
        assert!(r[1].primary);
        assert_eq!(r[1].attr("BGP.as_path"), Some(""));
        assert_eq!(r[1].attr("BGP.originator_id"), Some("192.0.2.2"));
        assert_eq!(r[1].attr("BGP.cluster_list"), Some("10.255.255.1"));
        assert_eq!(
            (r[2].prefix.as_str(), r[2].protocol.as_str()),
            ("198.18.2.0/24", "other")
        );
        assert!(!r[2].primary);
        assert_eq!(r[2].attr("BGP.next_hop"), Some("fd00::3"));
    }
}
