//! BIRD 2.0 (Debian `bird2`): `bird -f -c FILE -s CTL -P PID`, queried with `birdc -s CTL`.
//!
//! BIRD has no JSON output: helpers parse `show protocols` and return `show route all` text.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::Session;
use crate::cmd::{self, run};
use crate::error::{Error, Result};
use crate::process::Daemon;
use crate::wait::{Check, wait_until};

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
