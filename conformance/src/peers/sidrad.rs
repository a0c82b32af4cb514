//! sidrad itself, as a peer of the real daemons: a TOML config written into the test directory,
//! the daemon run in the foreground inside a namespace with JSON logs, and helpers that read
//! those logs (sidrad has no API yet, so its logs are how a test sees its sessions).
//!
//! ```no_run
//! use conformance::peers::{Session, Sidrad, SidradConfig};
//! # fn f(topo: &conformance::Topology, dir: &conformance::TestDir) -> conformance::Result<()> {
//! let (a, b) = (topo.node("sid")?, topo.node("frr")?);
//! let config = SidradConfig::from_session(&Session::ibgp(a, b, 65000));
//! let mut sidrad = Sidrad::start(&a.ns, &dir.subdir("sidrad")?, &config)?;
//! sidrad.wait_established(std::net::IpAddr::V6(b.ipv6), 1, std::time::Duration::from_secs(20))?;
//! # Ok(()) }
//! ```
//!
//! The binary is `target/<profile>/sidrad` next to the test binary (`cargo test --workspace` and
//! `cargo build -p bgpd --bins` build it), or `$SIDRAD`.

use std::fmt::Write as _;
use std::fs::File;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::Session;
use crate::cmd;
use crate::error::{Error, Result};
use crate::process::Daemon;
use crate::wait::{Check, wait_until};

/// The log filter sidrad runs with: the session code at debug (FSM transitions), the rest at info.
pub const LOG_FILTER: &str = "bgpd=debug,info";

/// The message sidrad logs when an outgoing connect gets no answer and a TCP-MD5 key is set.
pub const MD5_NO_ANSWER: &str =
    "no answer (check reachability and that both sides use the same TCP-MD5 password)";

/// One `[[neighbors]]` entry. The timers default to the fast ones of interop.md §10.
#[derive(Clone, Debug)]
pub struct SidradNeighbor {
    pub address: IpAddr,
    pub remote_as: u32,
    pub local_address: Option<IpAddr>,
    /// The peer's port; `None`: the default (179).
    pub port: Option<u16>,
    /// sidra family names ([`super::IPV4_UNICAST`], ...).
    pub families: Vec<&'static str>,
    pub passive: bool,
    pub password: Option<String>,
    pub ttl_security: Option<u8>,
    pub hold_time: u16,
    pub connect_retry: u16,
    pub idle_hold: u16,
    pub max_idle_hold: u16,
    pub description: Option<String>,
}

impl SidradNeighbor {
    /// The neighbor of a [`Session`] seen from sidrad's side, with hold time 9 s, connect retry
    /// 1 s, idle hold 1 s and max idle hold 4 s.
    pub fn from_session(s: &Session) -> SidradNeighbor {
        SidradNeighbor {
            address: s.peer_addr,
            remote_as: s.peer_as,
            local_address: Some(s.local_addr),
            port: None,
            families: s.families.clone(),
            passive: s.passive,
            password: None,
            ttl_security: None,
            hold_time: 9,
            connect_retry: 1,
            idle_hold: 1,
            max_idle_hold: 4,
            description: None,
        }
    }

    pub fn password(mut self, key: &str) -> Self {
        self.password = Some(key.to_string());
        self
    }

    pub fn passive(mut self, on: bool) -> Self {
        self.passive = on;
        self
    }

    pub fn description(mut self, text: &str) -> Self {
        self.description = Some(text.to_string());
        self
    }
}

/// A whole sidrad configuration.
#[derive(Clone, Debug)]
pub struct SidradConfig {
    pub asn: u32,
    pub router_id: Ipv4Addr,
    pub listen: Vec<SocketAddr>,
    pub neighbors: Vec<SidradNeighbor>,
}

/// A TOML string literal.
fn quote(s: &str) -> String {
    // serde_json's string escaping is valid TOML basic-string escaping for what tests use.
    Value::String(s.to_string()).to_string()
}

impl SidradConfig {
    /// sidrad's side of `s` (AS, router id, the one neighbor), listening on `[::]:179`.
    pub fn from_session(s: &Session) -> SidradConfig {
        SidradConfig {
            asn: s.local_as,
            router_id: s.router_id,
            listen: vec![SocketAddr::from(([0u16; 8], 179))],
            neighbors: vec![SidradNeighbor::from_session(s)],
        }
    }

    pub fn neighbor(mut self, n: SidradNeighbor) -> Self {
        self.neighbors.push(n);
        self
    }

    /// The TOML text.
    pub fn render(&self) -> String {
        let mut c = String::new();
        let _ = writeln!(c, "[global]\nasn = {}", self.asn);
        let _ = writeln!(c, "router_id = \"{}\"", self.router_id);
        let listen: Vec<String> = self.listen.iter().map(|a| quote(&a.to_string())).collect();
        let _ = writeln!(c, "listen = [{}]", listen.join(", "));
        for n in &self.neighbors {
            let _ = writeln!(c, "\n[[neighbors]]\naddress = \"{}\"", n.address);
            let _ = writeln!(c, "remote_as = {}", n.remote_as);
            if let Some(d) = &n.description {
                let _ = writeln!(c, "description = {}", quote(d));
            }
            if let Some(l) = n.local_address {
                let _ = writeln!(c, "local_address = \"{l}\"");
            }
            if let Some(p) = n.port {
                let _ = writeln!(c, "port = {p}");
            }
            let _ = writeln!(
                c,
                "hold_time = {}\nconnect_retry = {}\nidle_hold = {}\nmax_idle_hold = {}",
                n.hold_time, n.connect_retry, n.idle_hold, n.max_idle_hold
            );
            let families: Vec<String> = n.families.iter().map(|f| quote(f)).collect();
            let _ = writeln!(c, "families = [{}]", families.join(", "));
            let _ = writeln!(c, "passive = {}", n.passive);
            if let Some(p) = &n.password {
                let _ = writeln!(c, "password = {}", quote(p));
            }
            if let Some(t) = n.ttl_security {
                let _ = writeln!(c, "ttl_security = {t}");
            }
        }
        c
    }
}

/// RIB settings of a sidrad config beyond [`SidradConfig`]: [`SidradConfig::render_rib`] adds
/// them to the rendered text. Unset values keep sidrad's defaults.
#[derive(Clone, Debug, Default)]
pub struct SidradRib {
    /// `global.cluster_id`.
    pub cluster_id: Option<Ipv4Addr>,
    /// `global.networks`: prefixes sidrad originates.
    pub networks: Vec<String>,
    /// `global.ebgp_requires_policy` (RFC 8212).
    pub ebgp_requires_policy: Option<bool>,
    /// Per-neighbor settings, by neighbor address.
    pub neighbors: Vec<(IpAddr, SidradRibNeighbor)>,
    /// Text appended at the end (e.g. `[[policies.NAME]]` tables).
    pub trailer: String,
}

/// RIB settings of one `[[neighbors]]` entry.
#[derive(Clone, Debug, Default)]
pub struct SidradRibNeighbor {
    pub route_reflector_client: bool,
    pub import_policy: Option<String>,
    pub export_policy: Option<String>,
    pub graceful_restart: Option<bool>,
    pub restart_time: Option<u16>,
}

impl SidradRibNeighbor {
    /// A route-reflector client.
    pub fn rr_client() -> Self {
        SidradRibNeighbor {
            route_reflector_client: true,
            ..Default::default()
        }
    }

    /// Import and export policy `accept-all` (what RFC 8212 asks of an eBGP neighbor).
    pub fn accept_all() -> Self {
        SidradRibNeighbor {
            import_policy: Some("accept-all".into()),
            export_policy: Some("accept-all".into()),
            ..Default::default()
        }
    }

    pub fn restart_time(mut self, seconds: u16) -> Self {
        self.graceful_restart = Some(true);
        self.restart_time = Some(seconds);
        self
    }
}

impl SidradRib {
    pub fn neighbor(mut self, address: IpAddr, n: SidradRibNeighbor) -> Self {
        self.neighbors.push((address, n));
        self
    }

    fn global_lines(&self) -> String {
        let mut c = String::new();
        if let Some(id) = self.cluster_id {
            let _ = writeln!(c, "cluster_id = \"{id}\"");
        }
        if !self.networks.is_empty() {
            let n: Vec<String> = self.networks.iter().map(|p| quote(p)).collect();
            let _ = writeln!(c, "networks = [{}]", n.join(", "));
        }
        if let Some(b) = self.ebgp_requires_policy {
            let _ = writeln!(c, "ebgp_requires_policy = {b}");
        }
        c
    }

    fn neighbor_lines(&self, address: IpAddr) -> String {
        let mut c = String::new();
        for (_, n) in self.neighbors.iter().filter(|(a, _)| *a == address) {
            if n.route_reflector_client {
                let _ = writeln!(c, "route_reflector_client = true");
            }
            if let Some(p) = &n.import_policy {
                let _ = writeln!(c, "import_policy = {}", quote(p));
            }
            if let Some(p) = &n.export_policy {
                let _ = writeln!(c, "export_policy = {}", quote(p));
            }
            if let Some(g) = n.graceful_restart {
                let _ = writeln!(c, "graceful_restart = {g}");
            }
            if let Some(t) = n.restart_time {
                let _ = writeln!(c, "restart_time = {t}");
            }
        }
        c
    }
}

impl SidradConfig {
    /// The TOML text of [`SidradConfig::render`] with the settings of `rib` added: the global
    /// ones after `[global]`, each neighbor's after its `address` line.
    pub fn render_rib(&self, rib: &SidradRib) -> String {
        let mut out = String::new();
        for line in self.render().lines() {
            out.push_str(line);
            out.push('\n');
            if line == "[global]" {
                out.push_str(&rib.global_lines());
            } else if let Some(a) = line
                .strip_prefix("address = \"")
                .and_then(|r| r.strip_suffix('"'))
                .and_then(|a| a.parse::<IpAddr>().ok())
            {
                out.push_str(&rib.neighbor_lines(a));
            }
        }
        out.push_str(&rib.trailer);
        out
    }
}

/// One line of sidrad's JSON log (a `tracing` JSON event).
#[derive(Clone, Debug)]
pub struct LogLine {
    /// The position of the line in the log (0-based, counting JSON lines only).
    pub index: usize,
    pub time: Option<SystemTime>,
    pub level: String,
    pub message: String,
    /// The peer the line is about: the `peer` field (an address or a socket address) or the
    /// span's `address`.
    pub peer: Option<IpAddr>,
    /// The whole event.
    pub json: Value,
}

impl LogLine {
    fn parse(index: usize, line: &str) -> Option<LogLine> {
        let json: Value = serde_json::from_str(line).ok()?;
        let fields = &json["fields"];
        let message = fields["message"].as_str().unwrap_or("").to_string();
        let addr = |v: &Value| {
            v.as_str().and_then(|s| {
                s.parse::<IpAddr>()
                    .ok()
                    .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
            })
        };
        let peer = addr(&fields["peer"]).or_else(|| addr(&json["span"]["address"]));
        Some(LogLine {
            index,
            time: json["timestamp"].as_str().and_then(parse_timestamp),
            level: json["level"].as_str().unwrap_or("").to_string(),
            message,
            peer,
            json,
        })
    }

    /// A field of the event (`families`, `hold_time`, ...).
    pub fn field(&self, name: &str) -> &Value {
        &self.json["fields"][name]
    }

    pub fn is_about(&self, peer: IpAddr) -> bool {
        self.peer == Some(peer)
    }
}

impl std::fmt::Display for LogLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.peer {
            Some(p) => write!(f, "{} [{p}] {}", self.level, self.message),
            None => write!(f, "{} {}", self.level, self.message),
        }
    }
}

/// A NOTIFICATION sidrad logged as sent or received.
#[derive(Clone, Debug)]
pub struct LoggedNotification {
    pub code: u8,
    pub subcode: u8,
    pub line: LogLine,
}

/// `2026-11-22T22:45:47.366023Z` (what tracing-subscriber's JSON format writes) as a time.
pub fn parse_timestamp(s: &str) -> Option<SystemTime> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.splitn(3, ':').map(|p| p.parse::<u64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    let digits: String = frac.chars().take(9).collect();
    let nanos = digits.parse::<u64>().ok()? * 10u64.pow(9 - digits.len() as u32);
    // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = u64::try_from(era * 146_097 + doe - 719_468).ok()?;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    Some(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_nanos(nanos))
}

/// `sending NOTIFICATION 4/0 (...)` -> (4, 0).
fn notification_codes(message: &str, prefix: &str) -> Option<(u8, u8)> {
    let rest = message.strip_prefix(prefix)?;
    let word = rest.split_whitespace().next()?;
    let (c, s) = word.split_once('/')?;
    Some((c.parse().ok()?, s.parse().ok()?))
}

/// The exit of a short `sidrad` run (e.g. `--check-config`).
#[derive(Clone, Debug)]
pub struct CliRun {
    /// `None` if it was killed (by a signal, or after the time limit).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

/// A running sidrad.
#[derive(Debug)]
pub struct Sidrad {
    daemon: Daemon,
    config: PathBuf,
    api_socket: Option<PathBuf>,
}

/// The longest path a unix socket address holds (`sun_path` is 108 bytes with the NUL).
const MAX_SOCKET_PATH: usize = 107;

impl Sidrad {
    /// The sidrad binary: `$SIDRAD`, else `target/<profile>/sidrad` next to the test binary.
    pub fn binary() -> Result<PathBuf> {
        if let Some(p) = std::env::var_os("SIDRAD") {
            return Ok(PathBuf::from(p));
        }
        let exe = std::env::current_exe().map_err(Error::io("finding the test binary"))?;
        // target/<profile>/deps/TEST-HASH -> target/<profile>/sidrad
        let p = exe
            .parent()
            .and_then(Path::parent)
            .map(|d| d.join("sidrad"))
            .ok_or_else(|| Error::Other(format!("no target directory above {}", exe.display())))?;
        if p.is_file() {
            Ok(p)
        } else {
            Err(Error::Other(format!(
                "{} not built: run `cargo build -p bgpd --bins` first (`cargo test --workspace` \
                 builds it) or set SIDRAD",
                p.display()
            )))
        }
    }

    /// Write `config` to DIR/sidrad.toml and start sidrad in `ns` with JSON logs in
    /// DIR/sidrad.log; returns once it has configured every neighbor.
    pub fn start(ns: &str, dir: &Path, config: &SidradConfig) -> Result<Sidrad> {
        Sidrad::start_text(ns, dir, &config.render(), config.neighbors.len())
    }

    /// Like [`Sidrad::start`] with the RIB settings of `rib` (see [`SidradConfig::render_rib`]).
    pub fn start_rib(
        ns: &str,
        dir: &Path,
        config: &SidradConfig,
        rib: &SidradRib,
    ) -> Result<Sidrad> {
        Sidrad::start_text(ns, dir, &config.render_rib(rib), config.neighbors.len())
    }

    /// Like [`Sidrad::start`] with a config text that configures `neighbors` neighbors.
    ///
    /// Unless the text has its own `[api]` table, the API's unix socket is DIR/sidrad.sock (or
    /// none if that path is too long for a socket): the default path is shared by every
    /// namespace, and instances running side by side would take it from each other.
    pub fn start_text(ns: &str, dir: &Path, config: &str, neighbors: usize) -> Result<Sidrad> {
        let program = Sidrad::binary()?;
        let path = dir.join("sidrad.toml");
        let mut config = config.to_string();
        let mut api_socket = None;
        if !config.lines().any(|l| l.trim() == "[api]") {
            let socket = dir.join("sidrad.sock");
            let text = socket.display().to_string();
            let fits = text.len() <= MAX_SOCKET_PATH;
            let value = if fits { text.as_str() } else { "" };
            let _ = write!(config, "\n[api]\nsocket = {}\n", quote(value));
            api_socket = fits.then_some(socket);
        }
        std::fs::write(&path, &config).map_err(Error::io(format!("writing {}", path.display())))?;
        let args = vec![
            "--config".to_string(),
            path.display().to_string(),
            "--log-format".into(),
            "json".into(),
            "--log".into(),
            LOG_FILTER.into(),
        ];
        let daemon = Daemon::spawn("sidrad", ns, &program, &args, &[], &dir.join("sidrad.log"))?;
        let mut s = Sidrad {
            daemon,
            config: path,
            api_socket,
        };
        wait_until(
            "sidrad to configure its neighbors",
            Duration::from_secs(15),
            Duration::from_millis(20),
            || {
                s.daemon.check_running()?;
                let n = s
                    .log_lines()
                    .iter()
                    .filter(|l| l.message == "configured neighbor")
                    .count();
                Ok(if n >= neighbors {
                    Check::Ready(())
                } else {
                    Check::NotYet(format!("{n} of {neighbors} neighbors configured"))
                })
            },
        )?;
        Ok(s)
    }

    pub fn daemon(&mut self) -> &mut Daemon {
        &mut self.daemon
    }

    pub fn config_path(&self) -> &Path {
        &self.config
    }

    /// The API's unix socket, when [`Sidrad::start_text`] chose it (DIR/sidrad.sock).
    pub fn api_socket(&self) -> Option<&Path> {
        self.api_socket.as_deref()
    }

    /// Every JSON line of the log so far.
    pub fn log_lines(&self) -> Vec<LogLine> {
        let text = std::fs::read_to_string(self.daemon.log()).unwrap_or_default();
        text.lines()
            .filter(|l| l.starts_with('{'))
            .enumerate()
            .filter_map(|(i, l)| LogLine::parse(i, l))
            .collect()
    }

    /// How many JSON lines the log holds (a position for [`Sidrad::wait_for_log_since`]).
    pub fn log_len(&self) -> usize {
        self.log_lines().len()
    }

    /// The log lines about `peer`, as text (for failure messages).
    pub fn log_about(&self, peer: IpAddr, last: usize) -> String {
        let lines: Vec<String> = self
            .log_lines()
            .iter()
            .filter(|l| l.is_about(peer))
            .map(|l| l.to_string())
            .collect();
        lines[lines.len().saturating_sub(last)..].join("\n")
    }

    /// Wait until a log line satisfies `pred`; the first such line.
    pub fn wait_for_log(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl FnMut(&LogLine) -> bool,
    ) -> Result<LogLine> {
        self.wait_for_log_since(0, what, timeout, pred)
    }

    /// Wait until a log line at position `since` or later satisfies `pred`; the first such line.
    /// Fails at once if sidrad exits.
    pub fn wait_for_log_since(
        &mut self,
        since: usize,
        what: &str,
        timeout: Duration,
        mut pred: impl FnMut(&LogLine) -> bool,
    ) -> Result<LogLine> {
        wait_until(
            &format!("sidrad to log {what}"),
            timeout,
            Duration::from_millis(50),
            || {
                self.daemon.check_running()?;
                let lines = self.log_lines();
                if let Some(l) = lines.iter().skip(since).find(|l| pred(l)) {
                    return Ok(Check::Ready(l.clone()));
                }
                let tail: Vec<String> = lines
                    .iter()
                    .skip(since)
                    .rev()
                    .take(6)
                    .rev()
                    .map(|l| l.to_string())
                    .collect();
                Ok(Check::NotYet(format!("last lines: {}", tail.join(" | "))))
            },
        )
    }

    /// The "session established" lines about `peer`.
    pub fn established(&self, peer: IpAddr) -> Vec<LogLine> {
        self.log_lines()
            .into_iter()
            .filter(|l| l.message == "session established" && l.is_about(peer))
            .collect()
    }

    /// How many times the session with `peer` reached Established.
    pub fn established_count(&self, peer: IpAddr) -> usize {
        self.established(peer).len()
    }

    /// Wait until the session with `peer` has reached Established `n` times; the `n`th
    /// "session established" line.
    pub fn wait_established(
        &mut self,
        peer: IpAddr,
        n: usize,
        timeout: Duration,
    ) -> Result<LogLine> {
        let mut seen = 0;
        self.wait_for_log(
            &format!("session established with {peer} (#{n})"),
            timeout,
            |l| {
                if l.message == "session established" && l.is_about(peer) {
                    seen += 1;
                }
                seen >= n
            },
        )
        .map_err(|e| {
            Error::Other(format!(
                "{e}\nsidrad log about {peer}:\n{}",
                self.log_about(peer, 15)
            ))
        })
    }

    fn notifications(&self, prefix: &str, peer: Option<IpAddr>) -> Vec<LoggedNotification> {
        self.log_lines()
            .into_iter()
            .filter(|l| peer.is_none_or(|p| l.is_about(p)))
            .filter_map(|l| {
                let (code, subcode) = notification_codes(&l.message, prefix)?;
                Some(LoggedNotification {
                    code,
                    subcode,
                    line: l,
                })
            })
            .collect()
    }

    /// The NOTIFICATIONs sidrad logged as sent (`sending NOTIFICATION C/S ...`), to `peer` or
    /// to anyone.
    pub fn sent_notifications(&self, peer: Option<IpAddr>) -> Vec<LoggedNotification> {
        self.notifications("sending NOTIFICATION ", peer)
    }

    /// The NOTIFICATIONs sidrad logged as received.
    pub fn received_notifications(&self, peer: Option<IpAddr>) -> Vec<LoggedNotification> {
        self.notifications("received NOTIFICATION ", peer)
    }

    /// The session state with `peer` after the last FSM transition logged (`idle`, `active`,
    /// `established`, ...), if any was logged.
    pub fn state(&self, peer: IpAddr) -> Option<String> {
        self.log_lines()
            .iter()
            .rev()
            .filter(|l| l.is_about(peer))
            .find_map(|l| {
                let (_, to) = l.message.split_once(" -> ")?;
                (!to.contains(' ')).then(|| to.to_string())
            })
    }

    /// Run `sidrad ARGS` to completion (e.g. `--check-config FILE`) with `env` added to the
    /// environment (the test's own `SIDRA_*` variables are removed), killed after `timeout`.
    /// Its output goes through files in `dir`.
    pub fn run_cli(
        args: &[&str],
        env: &[(&str, &str)],
        dir: &Path,
        timeout: Duration,
    ) -> Result<CliRun> {
        let program = Sidrad::binary()?;
        let out_path = dir.join("sidrad-cli.out");
        let err_path = dir.join("sidrad-cli.err");
        let out = File::create(&out_path)
            .map_err(Error::io(format!("creating {}", out_path.display())))?;
        let err = File::create(&err_path)
            .map_err(Error::io(format!("creating {}", err_path.display())))?;
        let mut c = Command::new(&program);
        c.args(args).stdin(Stdio::null()).stdout(out).stderr(err);
        // SIDRA_*__* variables would override the config under test.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("SIDRA_") {
                c.env_remove(k);
            }
        }
        c.envs(env.iter().copied());
        let text = cmd::describe(&c);
        let mut child = c.spawn().map_err(Error::io(format!("starting {text}")))?;
        let start = Instant::now();
        let mut timed_out = false;
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break s,
                Ok(None) if start.elapsed() < timeout => thread::sleep(Duration::from_millis(10)),
                Ok(None) => {
                    timed_out = true;
                    let _ = child.kill();
                    break child.wait().map_err(Error::io(format!("reaping {text}")))?;
                }
                Err(e) => return Err(Error::io(format!("waiting for {text}"))(e)),
            }
        };
        Ok(CliRun {
            code: status.code(),
            stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
            stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
            timed_out,
        })
    }
}

/// Send `signal` (`STOP`, `CONT`, `KILL`, ...) to a daemon the test started. Refused once the
/// daemon has exited (its PID may then belong to another process).
pub fn signal(daemon: &mut Daemon, signal: &str) -> Result<()> {
    daemon.check_running()?;
    let pid = daemon.pid().to_string();
    cmd::run(Command::new("kill").args(["-s", signal, &pid]))?;
    Ok(())
}

/// A raw BGP client, to send sidrad hand-made bytes from a namespace.
///
/// The test process cannot enter a namespace itself (that takes `setns`, i.e. unsafe code), so
/// the client is the test binary itself, re-executed inside the namespace with
/// `--exact raw_bgp_client_helper` and the `SIDRA_RAW_CLIENT_*` variables. A test file that uses
/// [`raw::exchange`] declares that helper:
///
/// ```text
/// /// Not a test: the raw BGP client (see `conformance::peers::sidrad::raw`).
/// #[test]
/// fn raw_bgp_client_helper() {
///     conformance::peers::sidrad::raw::helper_main();
/// }
/// ```
pub mod raw {
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::path::Path;
    use std::time::{Duration, Instant};

    use bgpd::packet::{MAX_MESSAGE_LEN, frame_len};

    use crate::cmd;
    use crate::error::{Error, Result};

    /// The name of the helper test each test file using [`exchange`] declares.
    pub const HELPER_TEST: &str = "raw_bgp_client_helper";
    const ENV_CONNECT: &str = "SIDRA_RAW_CLIENT_CONNECT";
    const ENV_SEND: &str = "SIDRA_RAW_CLIENT_SEND";
    const ENV_OUT: &str = "SIDRA_RAW_CLIENT_OUT";
    const ENV_WAIT_MS: &str = "SIDRA_RAW_CLIENT_WAIT_MS";

    /// The whole messages at the start of `buf`.
    pub fn frames(mut buf: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Ok(Some(len)) = frame_len(buf, MAX_MESSAGE_LEN) {
            if buf.len() < len {
                break;
            }
            out.push(buf[..len].to_vec());
            buf = &buf[len..];
        }
        out
    }

    /// The body of the helper test: nothing unless the `SIDRA_RAW_CLIENT_*` variables are set;
    /// then connect, send the bytes, and write what comes back until the connection closes, a
    /// NOTIFICATION or an OPEN and a KEEPALIVE have come, or the wait is over.
    pub fn helper_main() {
        let (Ok(connect), Ok(send), Ok(out), Ok(wait)) = (
            std::env::var(ENV_CONNECT),
            std::env::var(ENV_SEND),
            std::env::var(ENV_OUT),
            std::env::var(ENV_WAIT_MS),
        ) else {
            return;
        };
        let (Ok(addr), Ok(bytes), Ok(wait)) = (
            connect.parse::<SocketAddr>(),
            std::fs::read(&send),
            wait.parse::<u64>(),
        ) else {
            panic!("raw client: bad {ENV_CONNECT}, {ENV_SEND} or {ENV_WAIT_MS}");
        };
        let mut s = match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
            Ok(s) => s,
            Err(e) => panic!("raw client: connecting to {addr}: {e}"),
        };
        if let Err(e) = s.write_all(&bytes) {
            panic!("raw client: sending to {addr}: {e}");
        }
        let _ = s.set_read_timeout(Some(Duration::from_millis(100)));
        let mut got = Vec::new();
        let start = Instant::now();
        let mut buf = [0u8; 4096];
        while start.elapsed() < Duration::from_millis(wait) {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => break,
            }
            let types: Vec<u8> = frames(&got).iter().map(|f| f[18]).collect();
            if types.contains(&3) || (types.contains(&1) && types.contains(&4)) {
                break;
            }
        }
        if let Err(e) = std::fs::write(&out, &got) {
            panic!("raw client: writing {out}: {e}");
        }
    }

    /// From namespace `ns`, connect to `to`, send `bytes` and return what came back within
    /// `wait` (see [`helper_main`]). `tag` names the files kept in `dir`
    /// (`TAG.send`, `TAG.recv`).
    pub fn exchange(
        ns: &str,
        to: SocketAddr,
        bytes: &[u8],
        wait: Duration,
        dir: &Path,
        tag: &str,
    ) -> Result<Vec<u8>> {
        let send = dir.join(format!("{tag}.send"));
        let out = dir.join(format!("{tag}.recv"));
        std::fs::write(&send, bytes).map_err(Error::io(format!("writing {}", send.display())))?;
        let exe = std::env::current_exe().map_err(Error::io("finding the test binary"))?;
        let mut c = cmd::netns_command(ns, exe);
        c.args(["--exact", HELPER_TEST, "--nocapture", "--test-threads=1"])
            .env(ENV_CONNECT, to.to_string())
            .env(ENV_SEND, &send)
            .env(ENV_OUT, &out)
            .env(ENV_WAIT_MS, wait.as_millis().to_string());
        cmd::run_timeout(&mut c, wait + Duration::from_secs(15))?;
        std::fs::read(&out).map_err(Error::io(format!(
            "reading {} (did the test file declare #[test] fn {HELPER_TEST}?)",
            out.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let t = parse_timestamp("2026-11-22T22:45:47.366023Z").unwrap();
        let secs = t.duration_since(UNIX_EPOCH).unwrap();
        // date -u -d 2026-11-22T22:45:47Z +%s
        assert_eq!(secs.as_secs(), 1_795_387_547);
        assert_eq!(secs.subsec_micros(), 366_023);
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(UNIX_EPOCH));
        assert!(parse_timestamp("garbage").is_none());
    }

    #[test]
    fn log_lines_and_notifications() {
        let l = LogLine::parse(
            0,
            r#"{"timestamp":"2026-11-22T22:45:47.366023Z","level":"WARN","fields":{"message":"sending NOTIFICATION 4/0 (Hold Timer Expired / Unspecific)","peer":"fd00::2"},"target":"bgpd::session::peer"}"#,
        )
        .unwrap();
        assert_eq!(l.peer, Some("fd00::2".parse().unwrap()));
        assert_eq!(
            notification_codes(&l.message, "sending NOTIFICATION "),
            Some((4, 0))
        );
        let l = LogLine::parse(
            1,
            r#"{"level":"INFO","fields":{"message":"connect failed","peer":"[fd00::2]:179"},"span":{"address":"fd00::2","name":"peer"}}"#,
        )
        .unwrap();
        assert_eq!(l.peer, Some("fd00::2".parse().unwrap()));
    }

    #[test]
    fn rib_config_renders_and_loads() {
        let s = Session {
            local_addr: "fd00::1".parse().unwrap(),
            local_as: 65001,
            router_id: Ipv4Addr::new(192, 0, 2, 1),
            peer_addr: "fd00::2".parse().unwrap(),
            peer_as: 65001,
            families: vec![super::super::IPV4_UNICAST, super::super::IPV6_UNICAST],
            passive: false,
        };
        let other = Session {
            peer_addr: "fd00::3".parse().unwrap(),
            peer_as: 65002,
            ..s.clone()
        };
        let config = SidradConfig::from_session(&s).neighbor(SidradNeighbor::from_session(&other));
        let rib = SidradRib {
            cluster_id: Some(Ipv4Addr::new(10, 255, 255, 1)),
            networks: vec!["198.18.1.0/24".into(), "2001:db8:1::/48".into()],
            ..Default::default()
        }
        .neighbor(s.peer_addr, SidradRibNeighbor::rr_client().restart_time(30))
        .neighbor(other.peer_addr, SidradRibNeighbor::accept_all());
        let text = config.render_rib(&rib);
        let c = bgpd::config::load_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(c.global.cluster_id, Some(Ipv4Addr::new(10, 255, 255, 1)));
        assert_eq!(c.global.networks.len(), 2);
        let (a, b) = (&c.neighbors[0], &c.neighbors[1]);
        assert!(a.route_reflector_client && !b.route_reflector_client);
        assert_eq!(a.restart_time, 30);
        assert!(
            a.import_policy.is_none() && b.import_policy.is_some() && b.export_policy.is_some()
        );
    }

    #[test]
    fn config_renders_and_loads() {
        let config = SidradConfig {
            asn: 4_200_000_001,
            router_id: Ipv4Addr::new(192, 0, 2, 1),
            listen: vec![SocketAddr::from(([0u16; 8], 179))],
            neighbors: vec![SidradNeighbor {
                address: "fd00::2".parse().unwrap(),
                remote_as: 65002,
                local_address: Some("fd00::1".parse().unwrap()),
                port: Some(1179),
                families: vec![super::super::IPV6_UNICAST],
                passive: true,
                password: Some("s\"ecret".into()),
                ttl_security: Some(1),
                hold_time: 9,
                connect_retry: 1,
                idle_hold: 1,
                max_idle_hold: 4,
                description: Some("peer".into()),
            }],
        };
        let text = config.render();
        let c = bgpd::config::load_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(c.global.asn, 4_200_000_001);
        let n = &c.neighbors[0];
        assert!(n.passive);
        assert_eq!(n.port, 1179);
        assert_eq!(n.password.as_ref().unwrap().expose(), "s\"ecret");
        assert_eq!(n.max_idle_hold, Duration::from_secs(4));
    }
}
