//! FRR 8.4 (Debian `frr`): zebra + bgpd in the foreground, all state in one directory.
//!
//! Each instance keeps its config, pid files, zserv socket and vty sockets in its own directory
//! (owned by user frr), so several coexist without /etc/frr, watchfrr or systemd
//! (interop.md §3.1). Queries go through `vtysh --vty_socket DIR`.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use super::Session;
use crate::cmd::{self, run};
use crate::error::{Error, Result};
use crate::process::Daemon;
use crate::wait::{Check, wait_until};

/// RIB settings of an FRR config ([`Frr::config_with`]); everything is off by default.
#[derive(Clone, Debug, Default)]
pub struct FrrOptions {
    /// `bgp cluster-id`.
    pub cluster_id: Option<Ipv4Addr>,
    /// Neighbors that are our route-reflector clients (in every family they carry).
    pub rr_clients: Vec<IpAddr>,
    /// `network PREFIX [route-map NAME]` lines, each put in the unicast family of its prefix.
    pub networks: Vec<String>,
    /// `bgp graceful-restart` (restarting-speaker and helper mode).
    pub graceful_restart: Option<FrrGracefulRestart>,
    /// Lines added inside `router bgp`, before the address families.
    pub bgp_extra: String,
    /// Lines added inside the `address-family` block of a family (sidra family name).
    pub family_extra: Vec<(&'static str, String)>,
    /// Top-level lines after `router bgp` (route-maps, prefix lists).
    pub trailer: String,
}

/// FRR's graceful restart settings (`bgp graceful-restart ...`).
#[derive(Clone, Debug)]
pub struct FrrGracefulRestart {
    pub restart_time: u16,
    pub stalepath_time: Option<u16>,
    /// `preserve-fw-state`: the F bit for every family of our capability.
    pub preserve_fw_state: bool,
}

/// A running zebra + bgpd pair (bgpd is stopped first).
#[derive(Debug)]
pub struct Frr {
    bgpd: Daemon,
    zebra: Daemon,
    dir: PathBuf,
}

fn af_line(f: &str) -> Result<&'static str> {
    Ok(match f {
        super::IPV4_UNICAST => "ipv4 unicast",
        super::IPV6_UNICAST => "ipv6 unicast",
        super::IPV4_VPN => "ipv4 vpn",
        super::IPV6_VPN => "ipv6 vpn",
        other => return Err(Error::Other(format!("frr: unsupported family {other}"))),
    })
}

impl Frr {
    /// A bgpd.conf for one session, with the fast timers of interop.md §10 and extended next hop
    /// on IPv6 sessions. `extra` is appended inside `router bgp` (before the address families).
    pub fn config(s: &Session, hostname: &str, extra: &str) -> Result<String> {
        let p = s.peer_addr;
        let mut c = String::new();
        let _ = writeln!(c, "hostname {hostname}\nrouter bgp {}", s.local_as);
        let _ = writeln!(c, " bgp router-id {}", s.router_id);
        for l in [
            "no bgp default ipv4-unicast",
            "no bgp network import-check",
            "no bgp ebgp-requires-policy",
            "coalesce-time 0",
            "timers bgp 3 9",
        ] {
            let _ = writeln!(c, " {l}");
        }
        let _ = writeln!(c, " neighbor {p} remote-as {}", s.peer_as);
        let _ = writeln!(c, " neighbor {p} timers connect 1");
        let _ = writeln!(c, " neighbor {p} advertisement-interval 0");
        let _ = writeln!(c, " neighbor {p} update-source {}", s.local_addr);
        if p.is_ipv6() {
            let _ = writeln!(c, " neighbor {p} capability extended-nexthop");
        }
        if s.passive {
            let _ = writeln!(c, " neighbor {p} passive");
        }
        c.push_str(extra);
        for f in &s.families {
            let _ = writeln!(
                c,
                " address-family {}\n  neighbor {p} activate",
                af_line(f)?
            );
            let _ = writeln!(c, " exit-address-family");
        }
        Ok(c)
    }

    /// A bgpd.conf with several sessions (the first one gives the AS and router id) and the RIB
    /// settings of `o`, with the fast timers of interop.md §10 on every neighbor.
    pub fn config_with(sessions: &[Session], hostname: &str, o: &FrrOptions) -> Result<String> {
        let first = sessions
            .first()
            .ok_or_else(|| Error::Other("frr: a config needs a session".into()))?;
        let mut c = String::new();
        let _ = writeln!(c, "hostname {hostname}\nrouter bgp {}", first.local_as);
        let _ = writeln!(c, " bgp router-id {}", first.router_id);
        for l in [
            "no bgp default ipv4-unicast",
            "no bgp network import-check",
            "no bgp ebgp-requires-policy",
            "coalesce-time 0",
            "timers bgp 3 9",
        ] {
            let _ = writeln!(c, " {l}");
        }
        if let Some(id) = o.cluster_id {
            let _ = writeln!(c, " bgp cluster-id {id}");
        }
        if let Some(gr) = &o.graceful_restart {
            let _ = writeln!(c, " bgp graceful-restart");
            let _ = writeln!(c, " bgp graceful-restart restart-time {}", gr.restart_time);
            if let Some(t) = gr.stalepath_time {
                let _ = writeln!(c, " bgp graceful-restart stalepath-time {t}");
            }
            if gr.preserve_fw_state {
                let _ = writeln!(c, " bgp graceful-restart preserve-fw-state");
            }
        }
        for s in sessions {
            let p = s.peer_addr;
            let _ = writeln!(c, " neighbor {p} remote-as {}", s.peer_as);
            let _ = writeln!(c, " neighbor {p} timers connect 1");
            let _ = writeln!(c, " neighbor {p} advertisement-interval 0");
            let _ = writeln!(c, " neighbor {p} update-source {}", s.local_addr);
            if p.is_ipv6() {
                let _ = writeln!(c, " neighbor {p} capability extended-nexthop");
            }
            if s.passive {
                let _ = writeln!(c, " neighbor {p} passive");
            }
        }
        c.push_str(&o.bgp_extra);
        let mut families: Vec<&str> = Vec::new();
        for f in sessions.iter().flat_map(|s| s.families.iter()) {
            if !families.contains(f) {
                families.push(f);
            }
        }
        for f in families {
            let _ = writeln!(c, " address-family {}", af_line(f)?);
            for s in sessions.iter().filter(|s| s.families.contains(&f)) {
                let _ = writeln!(c, "  neighbor {} activate", s.peer_addr);
                if o.rr_clients.contains(&s.peer_addr) {
                    let _ = writeln!(c, "  neighbor {} route-reflector-client", s.peer_addr);
                }
            }
            for n in &o.networks {
                let v6 = n.split_whitespace().next().is_some_and(|p| p.contains(':'));
                if (f == super::IPV6_UNICAST && v6) || (f == super::IPV4_UNICAST && !v6) {
                    let _ = writeln!(c, "  network {n}");
                }
            }
            for (family, lines) in &o.family_extra {
                if *family == f {
                    c.push_str(lines);
                }
            }
            let _ = writeln!(c, " exit-address-family");
        }
        c.push_str(&o.trailer);
        Ok(c)
    }

    /// Write the configs into `dir` (which becomes frr-owned) and start zebra then bgpd in `ns`;
    /// returns once bgpd answers vtysh.
    pub fn start(ns: &str, dir: &Path, zebra_conf: &str, bgpd_conf: &str) -> Result<Frr> {
        cmd::require(&[cmd::FRR_ZEBRA, cmd::FRR_BGPD, cmd::VTYSH])?;
        for (name, text) in [("zebra.conf", zebra_conf), ("bgpd.conf", bgpd_conf)] {
            let p = dir.join(name);
            std::fs::write(&p, text).map_err(Error::io(format!("writing {}", p.display())))?;
        }
        run(Command::new("chown").args(["-R", "frr:frr"]).arg(dir))?;
        let d = dir.display().to_string();
        let args = |daemon: &str| -> Vec<String> {
            [
                "-f",
                &format!("{d}/{daemon}.conf"),
                "-i",
                &format!("{d}/{daemon}.pid"),
                "-z",
                &format!("{d}/zserv.api"),
                "--vty_socket",
                &d,
                "-P",
                "0",
                "-u",
                "frr",
                "-g",
                "frr",
                "--log",
                &format!("file:{d}/{daemon}.log"),
            ]
            .map(String::from)
            .to_vec()
        };
        let zebra_bin = cmd::find(cmd::FRR_ZEBRA)?;
        let mut zebra = Daemon::spawn(
            "zebra",
            ns,
            &zebra_bin,
            &args("zebra"),
            &[],
            &dir.join("zebra.out"),
        )?;
        let zserv = dir.join("zserv.api");
        wait_until(
            "zebra zserv socket",
            Duration::from_secs(15),
            Duration::from_millis(20),
            || {
                zebra.check_running()?;
                Ok(if zserv.exists() {
                    Check::Ready(())
                } else {
                    Check::NotYet("no socket yet".into())
                })
            },
        )?;
        let bgpd_bin = cmd::find(cmd::FRR_BGPD)?;
        let bgpd = Daemon::spawn(
            "bgpd",
            ns,
            &bgpd_bin,
            &args("bgpd"),
            &[],
            &dir.join("bgpd.out"),
        )?;
        let mut frr = Frr {
            bgpd,
            zebra,
            dir: dir.to_path_buf(),
        };
        wait_until(
            "bgpd vty",
            Duration::from_secs(15),
            Duration::from_millis(20),
            || {
                frr.bgpd.check_running()?;
                Ok(match frr.vtysh(&["show bgp summary"]) {
                    Ok(_) => Check::Ready(()),
                    Err(e) => Check::NotYet(e.to_string()),
                })
            },
        )?;
        Ok(frr)
    }

    pub fn bgpd(&mut self) -> &mut Daemon {
        &mut self.bgpd
    }

    pub fn zebra(&mut self) -> &mut Daemon {
        &mut self.zebra
    }

    /// Run vtysh commands (each one a `-c`), returning the output.
    pub fn vtysh(&self, commands: &[&str]) -> Result<String> {
        let mut c = Command::new(cmd::find(cmd::VTYSH)?);
        c.arg("--vty_socket").arg(&self.dir);
        for command in commands {
            c.args(["-c", command]);
        }
        run(&mut c)
    }

    /// One vtysh command whose output is JSON (`... json`).
    pub fn vtysh_json(&self, command: &str) -> Result<Value> {
        let out = self.vtysh(&[command])?;
        serde_json::from_str(&out).map_err(|e| Error::Other(format!("vtysh {command}: {e}: {out}")))
    }

    /// bgpd's state for neighbor `addr` (`Established`, `Active`, ...).
    pub fn neighbor_state(&mut self, addr: IpAddr) -> Result<String> {
        self.bgpd.check_running()?;
        let v = self.vtysh_json(&format!("show bgp neighbors {addr} json"))?;
        Ok(v[addr.to_string()]["bgpState"]
            .as_str()
            .unwrap_or("unknown")
            .to_string())
    }

    /// `show bgp AFI SAFI json` for a sidra family name (`{"routes": {PREFIX: [...]}, ...}`).
    pub fn rib(&mut self, family: &str) -> Result<Value> {
        self.bgpd.check_running()?;
        self.vtysh_json(&format!("show bgp {} json", af_line(family)?))
    }

    /// The paths for `prefix` in the RIB of `family`.
    pub fn paths(&mut self, family: &str, prefix: &str) -> Result<Vec<Value>> {
        let rib = self.rib(family)?;
        Ok(rib["routes"]
            .get(prefix)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }
}
