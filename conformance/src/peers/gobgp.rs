//! GoBGP 3.10 (`gobgpd -f FILE`), queried with `gobgp -u 127.0.0.1 -p PORT ... -j`.
//!
//! GoBGP dials its peers only 5-9 s after start (interop.md §4.5): configure it passive and let
//! the other side connect.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::Session;
use crate::cmd::{self, run};
use crate::error::{Error, Result};
use crate::process::Daemon;
use crate::wait::{Check, wait_until};

/// The gRPC API port used unless told otherwise (loopback of the daemon's own namespace).
pub const DEFAULT_API_PORT: u16 = 50051;

/// A running gobgpd.
#[derive(Debug)]
pub struct GoBgp {
    daemon: Daemon,
    ns: String,
    api_port: u16,
    config: PathBuf,
}

fn family_name(f: &str) -> Result<&'static str> {
    Ok(match f {
        super::IPV4_UNICAST => "ipv4-unicast",
        super::IPV6_UNICAST => "ipv6-unicast",
        super::IPV4_VPN => "l3vpn-ipv4-unicast",
        super::IPV6_VPN => "l3vpn-ipv6-unicast",
        other => return Err(Error::Other(format!("gobgp: unsupported family {other}"))),
    })
}

/// The `-a` argument of `gobgp global rib` for a sidra family name.
pub fn rib_family(f: &str) -> Result<&'static str> {
    Ok(match f {
        super::IPV4_UNICAST => "ipv4",
        super::IPV6_UNICAST => "ipv6",
        super::IPV4_VPN => "vpnv4",
        super::IPV6_VPN => "vpnv6",
        other => return Err(Error::Other(format!("gobgp: unsupported family {other}"))),
    })
}

/// Settings of a GoBGP session beyond [`Session`].
#[derive(Clone, Debug, Default)]
pub struct GoBgpOptions {
    /// TCP-MD5 key (`auth-password`, interop.md §9).
    pub password: Option<String>,
}

/// One neighbor of a [`GoBgp::config_multi`] config.
#[derive(Clone, Debug)]
pub struct GoBgpNeighbor {
    pub session: Session,
    /// The neighbor is our route-reflector client; the value is our cluster id.
    pub rr_client: Option<Ipv4Addr>,
    /// Graceful restart (helper and restarting speaker) with this restart time, for every
    /// family of the session.
    pub graceful_restart: Option<u16>,
}

impl GoBgpNeighbor {
    pub fn new(session: Session) -> GoBgpNeighbor {
        GoBgpNeighbor {
            session,
            rr_client: None,
            graceful_restart: None,
        }
    }

    pub fn rr_client(mut self, cluster_id: Ipv4Addr) -> Self {
        self.rr_client = Some(cluster_id);
        self
    }

    pub fn graceful_restart(mut self, restart_time: u16) -> Self {
        self.graceful_restart = Some(restart_time);
        self
    }
}

impl GoBgp {
    /// A gobgpd TOML config for one session.
    pub fn config(s: &Session) -> Result<String> {
        GoBgp::config_with(s, &GoBgpOptions::default())
    }

    /// A gobgpd TOML config for one session, with extra settings.
    pub fn config_with(s: &Session, options: &GoBgpOptions) -> Result<String> {
        let mut c = String::new();
        let _ = writeln!(
            c,
            "[global.config]\n  as = {}\n  router-id = \"{}\"",
            s.local_as, s.router_id
        );
        let _ = writeln!(c, "  local-address-list = [\"{}\"]\n", s.local_addr);
        let _ = writeln!(c, "[[neighbors]]\n  [neighbors.config]");
        let _ = writeln!(
            c,
            "    neighbor-address = \"{}\"\n    peer-as = {}",
            s.peer_addr, s.peer_as
        );
        if let Some(p) = &options.password {
            // A JSON string is a valid TOML basic string.
            let _ = writeln!(c, "    auth-password = {}", Value::String(p.clone()));
        }
        let _ = writeln!(c, "  [neighbors.timers.config]");
        let _ = writeln!(
            c,
            "    connect-retry = 1\n    hold-time = 9\n    keepalive-interval = 3"
        );
        let _ = writeln!(
            c,
            "  [neighbors.transport.config]\n    local-address = \"{}\"",
            s.local_addr
        );
        if s.passive {
            let _ = writeln!(c, "    passive-mode = true");
        }
        for f in &s.families {
            let _ = writeln!(
                c,
                "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]"
            );
            let _ = writeln!(c, "      afi-safi-name = \"{}\"", family_name(f)?);
        }
        Ok(c)
    }

    /// A gobgpd TOML config with several neighbors (the first one's session gives the AS, router
    /// id and listen address) and their RIB settings.
    pub fn config_multi(neighbors: &[GoBgpNeighbor]) -> Result<String> {
        let first = &neighbors
            .first()
            .ok_or_else(|| Error::Other("gobgp: a config needs a neighbor".into()))?
            .session;
        let mut c = String::new();
        let _ = writeln!(
            c,
            "[global.config]\n  as = {}\n  router-id = \"{}\"",
            first.local_as, first.router_id
        );
        let _ = writeln!(c, "  local-address-list = [\"{}\"]", first.local_addr);
        for n in neighbors {
            let s = &n.session;
            let _ = writeln!(c, "\n[[neighbors]]\n  [neighbors.config]");
            let _ = writeln!(
                c,
                "    neighbor-address = \"{}\"\n    peer-as = {}",
                s.peer_addr, s.peer_as
            );
            let _ = writeln!(c, "  [neighbors.timers.config]");
            let _ = writeln!(
                c,
                "    connect-retry = 1\n    hold-time = 9\n    keepalive-interval = 3"
            );
            let _ = writeln!(
                c,
                "  [neighbors.transport.config]\n    local-address = \"{}\"",
                s.local_addr
            );
            if s.passive {
                let _ = writeln!(c, "    passive-mode = true");
            }
            if let Some(cluster) = n.rr_client {
                let _ = writeln!(c, "  [neighbors.route-reflector.config]");
                let _ = writeln!(
                    c,
                    "    route-reflector-client = true\n    route-reflector-cluster-id = \"{cluster}\""
                );
            }
            if let Some(t) = n.graceful_restart {
                let _ = writeln!(c, "  [neighbors.graceful-restart.config]");
                let _ = writeln!(c, "    enabled = true\n    restart-time = {t}");
            }
            for f in &s.families {
                let _ = writeln!(
                    c,
                    "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]"
                );
                let _ = writeln!(c, "      afi-safi-name = \"{}\"", family_name(f)?);
                if n.graceful_restart.is_some() {
                    let _ = writeln!(
                        c,
                        "    [neighbors.afi-safis.mp-graceful-restart.config]\n      enabled = true"
                    );
                }
            }
        }
        Ok(c)
    }

    /// Write `config` to DIR/gobgpd.toml and start gobgpd in `ns` with its API on
    /// 127.0.0.1:`api_port`; returns once the API answers.
    pub fn start(ns: &str, dir: &Path, config: &str, api_port: u16) -> Result<GoBgp> {
        cmd::require(&[cmd::GOBGPD, cmd::GOBGP])?;
        let path = dir.join("gobgpd.toml");
        std::fs::write(&path, config).map_err(Error::io(format!("writing {}", path.display())))?;
        let args = vec![
            "-f".to_string(),
            path.display().to_string(),
            "-p".into(),
            format!("--api-hosts=127.0.0.1:{api_port}"),
            "--pprof-disable".into(),
        ];
        let program = cmd::find(cmd::GOBGPD)?;
        let daemon = Daemon::spawn("gobgpd", ns, &program, &args, &[], &dir.join("gobgpd.log"))?;
        let mut g = GoBgp {
            daemon,
            ns: ns.to_string(),
            api_port,
            config: path,
        };
        wait_until(
            "gobgpd API",
            Duration::from_secs(15),
            Duration::from_millis(20),
            || {
                g.daemon.check_running()?;
                Ok(match g.query(&["global"]) {
                    Ok(_) => Check::Ready(()),
                    Err(e) => Check::NotYet(e.to_string()),
                })
            },
        )?;
        Ok(g)
    }

    pub fn daemon(&mut self) -> &mut Daemon {
        &mut self.daemon
    }

    pub fn config_path(&self) -> &Path {
        &self.config
    }

    /// `gobgp ARGS -j`, parsed.
    pub fn query(&mut self, args: &[&str]) -> Result<Value> {
        let program = cmd::find(cmd::GOBGP)?;
        let port = self.api_port.to_string();
        let out = run(cmd::netns_command(&self.ns, program)
            .args(["-u", "127.0.0.1", "-p", &port])
            .args(args)
            .arg("-j"))?;
        serde_json::from_str(&out)
            .map_err(|e| Error::Other(format!("gobgp {}: {e}: {}", args.join(" "), out.trim())))
    }

    /// `gobgp ARGS` (no JSON), the output text.
    pub fn cli(&mut self, args: &[&str]) -> Result<String> {
        self.daemon.check_running()?;
        let program = cmd::find(cmd::GOBGP)?;
        let port = self.api_port.to_string();
        run(cmd::netns_command(&self.ns, program)
            .args(["-u", "127.0.0.1", "-p", &port])
            .args(args))
    }

    /// Originate `prefix` in `family` (sidra name): `gobgp global rib -a AF add PREFIX ATTRS...`,
    /// e.g. `["nexthop", "fd00::3", "med", "10", "aspath", "65010"]`. Adding a prefix again
    /// replaces its attributes.
    pub fn add_route(&mut self, family: &str, prefix: &str, attrs: &[&str]) -> Result<()> {
        let af = rib_family(family)?;
        let mut args = vec!["global", "rib", "-a", af, "add", prefix];
        args.extend_from_slice(attrs);
        self.cli(&args).map(drop)
    }

    /// Stop originating `prefix` (`gobgp global rib -a AF del PREFIX`).
    pub fn del_route(&mut self, family: &str, prefix: &str) -> Result<()> {
        let af = rib_family(family)?;
        self.cli(&["global", "rib", "-a", af, "del", prefix])
            .map(drop)
    }

    /// The session state of neighbor `addr` (`established`, `active`, ...).
    pub fn neighbor_state(&mut self, addr: IpAddr) -> Result<String> {
        self.daemon.check_running()?;
        let v = self.query(&["neighbor"])?;
        let peers = v.as_array().cloned().unwrap_or_default();
        let peer = peers
            .iter()
            .find(|p| {
                let a = &p["conf"]["neighbor_address"];
                a.as_str().and_then(|s| s.parse::<IpAddr>().ok()) == Some(addr)
            })
            .ok_or_else(|| Error::Other(format!("gobgp: no neighbor {addr} in {v}")))?;
        Ok(session_state_name(&peer["state"]["session_state"]))
    }

    /// The global RIB of a family (sidra name), as `gobgp global rib -a AF -j` prints it.
    pub fn rib(&mut self, family: &str) -> Result<Value> {
        self.daemon.check_running()?;
        self.query(&["global", "rib", "-a", rib_family(family)?])
    }

    /// The paths for `prefix` in the global RIB of `family`.
    pub fn paths(&mut self, family: &str, prefix: &str) -> Result<Vec<Value>> {
        let rib = self.rib(family)?;
        Ok(rib
            .get(prefix)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }
}

/// GoBGP prints the session state as a number (the API enum) or a name depending on the version.
fn session_state_name(v: &Value) -> String {
    match v {
        Value::Number(n) => match n.as_u64() {
            Some(1) => "idle",
            Some(2) => "connect",
            Some(3) => "active",
            Some(4) => "opensent",
            Some(5) => "openconfirm",
            Some(6) => "established",
            _ => "unknown",
        }
        .to_string(),
        Value::String(s) => s.to_lowercase(),
        other => other.to_string(),
    }
}
