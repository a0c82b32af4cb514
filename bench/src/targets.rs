//! Starting each target daemon in the target namespace and reading its own counters: sessions
//! established and prefixes received from the injector peers.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use conformance::Daemon;
use conformance::cmd::{netns_command, run_timeout};
use serde_json::Value;

use crate::configs::{self, Setup};
use crate::peers::peer_addr;

/// The daemons under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Kind {
    Sidrad,
    Bird,
    Frr,
    Gobgp,
}

pub const ALL: [Kind; 4] = [Kind::Sidrad, Kind::Bird, Kind::Frr, Kind::Gobgp];

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Sidrad => "sidrad",
            Kind::Bird => "bird",
            Kind::Frr => "frr",
            Kind::Gobgp => "gobgp",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        ALL.into_iter().find(|k| k.name() == s)
    }
}

/// How long one counter query may take.
const QUERY_TIMEOUT: Duration = Duration::from_secs(10);
const GOBGP_API: &str = "127.0.0.1:50051";

/// A running target.
#[derive(Debug)]
pub struct Target {
    pub kind: Kind,
    pub daemon: Daemon,
    ns: String,
    dir: PathBuf,
    setup: Setup,
}

/// What the target reports: sessions up (injectors + sink) and prefixes received from injectors.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counters {
    pub established: usize,
    pub received: u64,
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn is_injector(addr: &str, peers: usize) -> bool {
    addr.parse::<IpAddr>()
        .is_ok_and(|a| (0..peers).any(|k| IpAddr::V6(peer_addr(k)) == a))
}

/// The sidrad and sidractl binaries: `$SIDRAD` / `$SIDRACTL`, else next to this binary.
fn sidra_bin(name: &str, env: &str) -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os(env) {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let p = exe
        .parent()
        .map(|d| d.join(name))
        .ok_or("no directory above the bench binary")?;
    if p.is_file() {
        Ok(p)
    } else {
        Err(format!(
            "{} missing: `cargo build --release -p bgpd --bins` (or set {env})",
            p.display()
        ))
    }
}

impl Target {
    pub fn start(kind: Kind, ns: &str, dir: &Path, setup: Setup) -> Result<Target, String> {
        let d = dir.display().to_string();
        let daemon = match kind {
            Kind::Sidrad => {
                let conf = dir.join("sidrad.toml");
                write(&conf, &configs::sidrad(&setup, dir))?;
                let args = ["--config", &conf.display().to_string()].map(String::from);
                Daemon::spawn(
                    "sidrad",
                    ns,
                    &sidra_bin("sidrad", "SIDRAD")?,
                    &args,
                    &[],
                    &dir.join("sidrad.log"),
                )
            }
            Kind::Bird => {
                let conf = dir.join("bird.conf");
                write(&conf, &configs::bird(&setup, dir))?;
                let args = [
                    "-f",
                    "-c",
                    &conf.display().to_string(),
                    "-s",
                    &format!("{d}/bird.ctl"),
                    "-P",
                    &format!("{d}/bird.pid"),
                ]
                .map(String::from);
                Daemon::spawn(
                    "bird",
                    ns,
                    Path::new("/usr/sbin/bird"),
                    &args,
                    &[],
                    &dir.join("bird.out"),
                )
            }
            Kind::Frr => {
                write(&dir.join("bgpd.conf"), &configs::frr(&setup))?;
                run_timeout(
                    Command::new("chown").args(["-R", "frr:frr", &d]),
                    QUERY_TIMEOUT,
                )
                .map_err(|e| e.to_string())?;
                let args = [
                    "-Z",
                    "-f",
                    &format!("{d}/bgpd.conf"),
                    "-i",
                    &format!("{d}/bgpd.pid"),
                    "--vty_socket",
                    &d,
                    "-P",
                    "0",
                    "-u",
                    "frr",
                    "-g",
                    "frr",
                    "--log",
                    &format!("file:{d}/bgpd.log"),
                ]
                .map(String::from);
                Daemon::spawn(
                    "bgpd",
                    ns,
                    Path::new("/usr/lib/frr/bgpd"),
                    &args,
                    &[],
                    &dir.join("bgpd.out"),
                )
            }
            Kind::Gobgp => {
                let conf = dir.join("gobgpd.toml");
                write(&conf, &configs::gobgp(&setup))?;
                let args = [
                    "-f".to_string(),
                    conf.display().to_string(),
                    format!("--api-hosts={GOBGP_API}"),
                    "--pprof-disable".into(),
                ];
                Daemon::spawn(
                    "gobgpd",
                    ns,
                    Path::new("/usr/bin/gobgpd"),
                    &args,
                    &[],
                    &dir.join("gobgpd.log"),
                )
            }
        }
        .map_err(|e| e.to_string())?;
        Ok(Target {
            kind,
            daemon,
            ns: ns.to_string(),
            dir: dir.to_path_buf(),
            setup,
        })
    }

    pub fn pid(&self) -> u32 {
        self.daemon.pid()
    }

    fn query(&self, c: &mut Command) -> Result<String, String> {
        run_timeout(c, QUERY_TIMEOUT).map_err(|e| e.to_string())
    }

    /// One poll of the daemon's own counters.
    pub fn counters(&mut self) -> Result<Counters, String> {
        self.daemon.check_running().map_err(|e| e.to_string())?;
        let peers = self.setup.peers;
        let mut out = Counters::default();
        match self.kind {
            Kind::Sidrad => {
                let ctl = sidra_bin("sidractl", "SIDRACTL")?;
                let sock = self.dir.join("sidrad.sock");
                let text = self.query(
                    Command::new(ctl)
                        .arg("--socket")
                        .arg(sock)
                        .args(["neighbor", "--json"]),
                )?;
                let v: Value = serde_json::from_str(&text).map_err(|e| format!("sidractl: {e}"))?;
                for n in v["neighbors"].as_array().into_iter().flatten() {
                    let addr = n["config"]["address"].as_str().unwrap_or("");
                    let st = &n["status"];
                    if st["state"]
                        .as_str()
                        .is_some_and(|s| s.ends_with("ESTABLISHED"))
                    {
                        out.established += 1;
                    }
                    if is_injector(addr, peers) {
                        // prefixes_received_total is only refreshed on the peer's next session event (stale
                        // after the last UPDATE); the accepted count comes from the RIB at each query.
                        out.received += st["prefixes_accepted_total"].as_u64().unwrap_or(0);
                    }
                }
            }
            Kind::Bird => {
                let ctl = format!("{}/bird.ctl", self.dir.display());
                let text = self.query(Command::new("birdc").args([
                    "-s",
                    &ctl,
                    "show",
                    "protocols",
                    "all",
                ]))?;
                let (mut name, mut up) = (String::new(), false);
                for line in text.lines() {
                    if !line.starts_with(char::is_whitespace) {
                        let mut w = line.split_whitespace();
                        name = w.next().unwrap_or("").to_string();
                        up = line.contains("Established");
                        if up
                            && (name.starts_with('p') || name.starts_with("sink"))
                            && w.next() == Some("BGP")
                        {
                            out.established += 1;
                        }
                    } else if up
                        && name.starts_with('p')
                        && let Some(rest) = line.trim().strip_prefix("Routes:")
                    {
                        out.received += rest
                            .split_whitespace()
                            .next()
                            .and_then(|n| n.parse::<u64>().ok())
                            .unwrap_or(0);
                    }
                }
            }
            Kind::Frr => {
                let cmd = format!(
                    "show bgp {} summary json",
                    configs::frr_af(self.setup.family)
                );
                let text = self.query(
                    Command::new("vtysh")
                        .arg("--vty_socket")
                        .arg(&self.dir)
                        .args(["-c", &cmd]),
                )?;
                let v: Value = serde_json::from_str(&text).map_err(|e| format!("vtysh: {e}"))?;
                let peers_obj = find_key(&v, "peers").cloned().unwrap_or(Value::Null);
                for (addr, p) in peers_obj.as_object().into_iter().flatten() {
                    if p["state"].as_str() == Some("Established") {
                        out.established += 1;
                    }
                    if is_injector(addr, peers) {
                        out.received += p["pfxRcd"].as_u64().unwrap_or(0);
                    }
                }
            }
            Kind::Gobgp => {
                let (host, port) = GOBGP_API.split_once(':').unwrap_or(("127.0.0.1", "50051"));
                let text = self.query(
                    netns_command(&self.ns, "gobgp")
                        .args(["-u", host, "-p", port, "neighbor", "-j"]),
                )?;
                let v: Value = serde_json::from_str(&text).map_err(|e| format!("gobgp: {e}"))?;
                for n in v.as_array().into_iter().flatten() {
                    let addr = n["conf"]["neighbor_address"].as_str().unwrap_or("");
                    let state = &n["state"]["session_state"];
                    if state.as_u64() == Some(6)
                        || state
                            .as_str()
                            .is_some_and(|s| s.eq_ignore_ascii_case("established"))
                    {
                        out.established += 1;
                    }
                    if is_injector(addr, peers) {
                        for af in n["afi_safis"].as_array().into_iter().flatten() {
                            let st = &af["state"];
                            out.received += st["accepted"]
                                .as_u64()
                                .or_else(|| st["received"].as_u64())
                                .unwrap_or(0);
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

fn find_key<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(m) => m
            .get(key)
            .or_else(|| m.values().find_map(|x| find_key(x, key))),
        _ => None,
    }
}
