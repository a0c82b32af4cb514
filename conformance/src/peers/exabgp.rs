//! ExaBGP 4.2 (`exabgp FILE`): a sender of crafted routes (interop.md §6).
//!
//! It has no control socket here; its JSON API events (neighbor state changes, received
//! messages) go through a small API process into DIR/events.jsonl, which [`ExaBgp::state`] and
//! [`ExaBgp::events`] read. Never let ExaBGP 4.2 *receive* RFC 9252 Prefix-SIDs: it resets.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::Session;
use crate::cmd;
use crate::error::{Error, Result};
use crate::process::Daemon;
use crate::wait::{Check, wait_until};

/// The API process: append each line ExaBGP writes to the file named by $1. It keeps its stdout
/// open, since ExaBGP takes EOF on it for a dead process.
const EVENTS_SH: &str =
    "#!/bin/sh\nwhile IFS= read -r line; do printf '%s\\n' \"$line\" >> \"$1\"; done\n";

/// A running exabgp.
#[derive(Debug)]
pub struct ExaBgp {
    daemon: Daemon,
    events: PathBuf,
}

fn family_line(f: &str) -> Result<&'static str> {
    Ok(match f {
        super::IPV4_UNICAST => "ipv4 unicast",
        super::IPV6_UNICAST => "ipv6 unicast",
        super::IPV4_VPN => "ipv4 mpls-vpn",
        super::IPV6_VPN => "ipv6 mpls-vpn",
        other => return Err(Error::Other(format!("exabgp: unsupported family {other}"))),
    })
}

impl ExaBgp {
    /// An exabgp config for one session announcing `routes` (lines of its `static` block, e.g.
    /// `route 2001:db8:66::/48 next-hop fd00::1 attribute [ 0x28 0xc0 0x05... ]`). IPv4 families
    /// over an IPv6 session get extended next hop (RFC 8950). `dir` is the test directory.
    pub fn config(s: &Session, dir: &Path, routes: &[String]) -> Result<String> {
        let v6_session = s.peer_addr.is_ipv6();
        let mut c = String::new();
        let events_sh = dir.join("exabgp-events.sh");
        let events = dir.join("events.jsonl");
        let _ = writeln!(c, "process events {{");
        let _ = writeln!(
            c,
            "    run /bin/sh {} {};",
            events_sh.display(),
            events.display()
        );
        let _ = writeln!(c, "    encoder json;\n}}\n");
        let _ = writeln!(c, "neighbor {} {{", s.peer_addr);
        let _ = writeln!(
            c,
            "    router-id {};\n    local-address {};",
            s.router_id, s.local_addr
        );
        let _ = writeln!(
            c,
            "    local-as {};\n    peer-as {};\n    hold-time 9;",
            s.local_as, s.peer_as
        );
        if s.passive {
            let _ = writeln!(c, "    passive true;");
        }
        let v4_over_v6: Vec<&str> = s
            .families
            .iter()
            .filter(|f| v6_session && (**f == super::IPV4_UNICAST || **f == super::IPV4_VPN))
            .map(|f| family_line(f))
            .collect::<Result<_>>()?;
        if !v4_over_v6.is_empty() {
            let _ = writeln!(c, "    capability {{ nexthop true; }}");
            let _ = write!(c, "    nexthop {{");
            for f in &v4_over_v6 {
                let _ = write!(c, " {f} ipv6;");
            }
            let _ = writeln!(c, " }}");
        }
        let _ = write!(c, "    family {{");
        for f in &s.families {
            let _ = write!(c, " {};", family_line(f)?);
        }
        let _ = writeln!(c, " }}");
        let _ = writeln!(c, "    api {{");
        let _ = writeln!(
            c,
            "        processes [ events ];\n        neighbor-changes;"
        );
        let _ = writeln!(
            c,
            "        receive {{ parsed; update; notification; open; }}\n    }}"
        );
        let _ = writeln!(c, "    static {{");
        for r in routes {
            let _ = writeln!(c, "        {};", r.trim_end_matches(';'));
        }
        let _ = writeln!(c, "    }}\n}}");
        Ok(c)
    }

    /// Write `config` to DIR/exabgp.conf (and the API process script) and start exabgp in `ns`.
    pub fn start(ns: &str, dir: &Path, config: &str) -> Result<ExaBgp> {
        cmd::require(&[cmd::EXABGP])?;
        let script = dir.join("exabgp-events.sh");
        std::fs::write(&script, EVENTS_SH)
            .map_err(Error::io(format!("writing {}", script.display())))?;
        let path = dir.join("exabgp.conf");
        std::fs::write(&path, config).map_err(Error::io(format!("writing {}", path.display())))?;
        let env: Vec<(String, String)> = [
            ("exabgp.daemon.user", "root"),
            ("exabgp.daemon.daemonize", "false"),
            ("exabgp.cli.enable", "false"),
            ("exabgp.log.destination", "stdout"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let program = cmd::find(cmd::EXABGP)?;
        let args = vec![path.display().to_string()];
        let daemon = Daemon::spawn("exabgp", ns, &program, &args, &env, &dir.join("exabgp.log"))?;
        Ok(ExaBgp {
            daemon,
            events: dir.join("events.jsonl"),
        })
    }

    pub fn daemon(&mut self) -> &mut Daemon {
        &mut self.daemon
    }

    /// Every API event so far (JSON objects, one per line of DIR/events.jsonl).
    pub fn events(&mut self) -> Result<Vec<Value>> {
        self.daemon.check_running()?;
        let text = match std::fs::read_to_string(&self.events) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io(format!("reading {}", self.events.display()))(e)),
        };
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }

    /// The last reported state of the session with `peer` (`connected`, `up`, `down`), or
    /// `unknown` before any report.
    pub fn state(&mut self, peer: IpAddr) -> Result<String> {
        let events = self.events()?;
        let last = events.iter().rev().find(|e| {
            e["type"] == "state"
                && e["neighbor"]["address"]["peer"]
                    .as_str()
                    .and_then(|a| a.parse().ok())
                    == Some(peer)
        });
        Ok(last
            .and_then(|e| e["neighbor"]["state"].as_str())
            .unwrap_or("unknown")
            .to_string())
    }

    /// Wait until the session with `peer` is up.
    pub fn wait_up(&mut self, peer: IpAddr, timeout: Duration) -> Result<()> {
        wait_until(
            &format!("exabgp session with {peer} up"),
            timeout,
            Duration::from_millis(50),
            || {
                let s = self.state(peer)?;
                Ok(if s == "up" {
                    Check::Ready(())
                } else {
                    Check::NotYet(s)
                })
            },
        )
    }
}
