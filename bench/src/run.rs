//! One measured run: a fresh target daemon, the peers process in the injector namespace, an
//! announce phase and a withdraw-all phase, each bounded in time.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::configs::Setup;
use crate::peers::now_ns;
use crate::procstat::{self, Sample};
use crate::stream::Family;
use crate::targets::{Kind, Target};
use crate::topo::Topology;

/// A workload of issue 8.
#[derive(Clone, Debug, Serialize)]
pub struct Workload {
    pub name: &'static str,
    pub what: &'static str,
    pub family: Family,
    pub peers: usize,
    pub prefixes: usize,
    /// Prefixes per UPDATE at most (0 = fill 4096 octets).
    pub per_update: usize,
    /// IPv6 /64 with an SRv6 Prefix-SID (End.DT6) on every route.
    pub prefix_sid: bool,
    /// Every peer sends its own prefixes (and with `prefix_sid` every route has its own SID),
    /// instead of all peers the same ones.
    pub distinct: bool,
    /// Route-reflector clients the target exports everything to (with `--no-sink`: none).
    pub sinks: usize,
    /// No routes: memory of the target with `peers` configured, then with their sessions up.
    pub idle: bool,
}

impl Workload {
    /// Paths the target holds once every peer's routes are in.
    pub fn paths(&self) -> u64 {
        (self.peers * self.prefixes) as u64
    }

    /// Sink sessions of a run with `o`.
    pub fn sinks(&self, o: &RunOptions) -> usize {
        if o.sink { self.sinks } else { 0 }
    }
}

/// Every workload at full size, or scaled down for `--quick`.
pub fn workloads(quick: bool) -> Vec<Workload> {
    let s = |n: usize| if quick { n / 10 } else { n };
    let base = Workload {
        name: "",
        what: "",
        family: Family::Ipv4,
        peers: 1,
        prefixes: 0,
        per_update: 0,
        prefix_sid: false,
        distinct: false,
        sinks: 1,
        idle: false,
    };
    let ipv6 = Workload {
        family: Family::Ipv6,
        ..base.clone()
    };
    let srv6 = Workload {
        prefix_sid: true,
        ..ipv6.clone()
    };
    vec![
        Workload {
            name: "v4-100k",
            what: "1 peer x 100k IPv4",
            prefixes: s(100_000),
            ..base.clone()
        },
        Workload {
            name: "v4-1m-rib",
            what: "1 peer x 1M IPv4, into the RIB (no sink)",
            prefixes: s(1_000_000),
            sinks: 0,
            ..base.clone()
        },
        Workload {
            name: "v4-1m",
            what: "1 peer x 1M IPv4",
            prefixes: s(1_000_000),
            ..base.clone()
        },
        Workload {
            name: "v6-1m",
            what: "1 peer x 1M IPv6",
            prefixes: s(1_000_000),
            ..ipv6.clone()
        },
        Workload {
            name: "v6sid-1m",
            what: "1 peer x 1M IPv6 /64 with an SRv6 Prefix-SID",
            prefixes: s(1_000_000),
            ..srv6.clone()
        },
        Workload {
            name: "v4-10x100k",
            what: "10 peers x the same 100k IPv4",
            peers: 10,
            prefixes: s(100_000),
            ..base.clone()
        },
        Workload {
            name: "v4-10x100k-d",
            what: "10 peers x 100k distinct IPv4",
            peers: 10,
            prefixes: s(100_000),
            distinct: true,
            ..base.clone()
        },
        Workload {
            name: "v4-100x10k",
            what: "100 peers x the same 10k IPv4",
            peers: 100,
            prefixes: s(10_000),
            ..base.clone()
        },
        Workload {
            name: "v6sid-100x1k",
            what: "100 peers x 1k distinct IPv6 /64, one SRv6 SID per route (one route per node)",
            peers: 100,
            prefixes: s(1_000),
            per_update: 1,
            distinct: true,
            ..srv6.clone()
        },
        Workload {
            name: "vpnv6-100k",
            what: "1 peer x 100k VPNv6 with SRv6 Prefix-SID",
            family: Family::Vpnv6,
            prefixes: s(100_000),
            ..base.clone()
        },
        Workload {
            name: "v4-uniq-1m",
            what: "1 peer x 1M IPv4, 4 per UPDATE (250k attribute sets)",
            prefixes: s(1_000_000),
            per_update: 4,
            ..base.clone()
        },
        Workload {
            name: "rr-100k-50",
            what: "1 peer x 100k IPv4 reflected to 50 route-reflector clients",
            prefixes: s(100_000),
            sinks: if quick { 5 } else { 50 },
            ..base.clone()
        },
        Workload {
            name: "idle-200",
            what: "200 configured peers, then their sessions up, no routes: memory per peer",
            peers: if quick { 20 } else { 200 },
            sinks: 0,
            idle: true,
            ..base
        },
    ]
}

/// Settings shared by every run.
#[derive(Clone, Debug, Serialize)]
pub struct RunOptions {
    pub sink: bool,
    pub timeout_s: u64,
    pub poll_ms: u64,
}

/// The record of one run (one JSON object in docs/bench/).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Record {
    pub workload: String,
    pub daemon: String,
    pub rep: usize,
    /// "ok", "timeout" or "error: ...".
    pub status: String,
    pub started_unix_ns: u128,
    pub loadavg_start: String,
    pub loadavg_end: String,
    pub paths: u64,
    /// Sink sessions of this run (none with `--no-sink`).
    pub sinks: usize,
    pub stream_bytes: u64,
    pub updates: u64,
    pub encode_ms: u64,
    /// From the first UPDATE byte written.
    pub inject_s: Option<f64>,
    pub accept_s: Option<f64>,
    pub sink_s: Option<f64>,
    pub withdraw_accept_s: Option<f64>,
    pub withdraw_sink_s: Option<f64>,
    pub polls: u64,
    /// Idle workloads: a daemon with no peers; then one with every peer configured (sessions
    /// down); then the same one with every session up.
    pub before: Sample,
    pub after_announce: Sample,
    pub after_withdraw: Sample,
    pub cpu_announce_s: Option<f64>,
    pub cpu_withdraw_s: Option<f64>,
    pub rss_growth_bytes_per_path: Option<f64>,
    /// Idle workloads: RSS with the peers configured (sessions down) less RSS with none, per
    /// peer; then the same with every session established.
    pub idle_configured_bytes_per_peer: Option<f64>,
    pub idle_established_bytes_per_peer: Option<f64>,
    pub errors: Vec<String>,
}

/// The peers subprocess; killed by PID on drop if still running.
struct PeersProc {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<(u128, String)>,
    seen: Vec<(u128, String)>,
}

impl PeersProc {
    fn spawn(ns: &str, w: &Workload, sinks: usize, log: &Path) -> Result<PeersProc, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let err = std::fs::File::create(log).map_err(|e| e.to_string())?;
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns])
            .arg(exe)
            .args(["peers", "--family", family_arg(w.family)])
            .args([
                "--peers",
                &w.peers.to_string(),
                "--prefixes",
                &w.prefixes.to_string(),
            ])
            .args(["--per-update", &w.per_update.to_string()])
            .args(["--sinks", &sinks.to_string()])
            .args(w.prefix_sid.then_some("--prefix-sid"))
            .args(w.distinct.then_some("--distinct"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .map_err(|e| format!("starting the peers process: {e}"))?;
        let out = child.stdout.take().ok_or("no stdout")?;
        let (tx, lines) = channel();
        thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send((now_ns(), line)).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        Ok(PeersProc {
            child,
            stdin,
            lines,
            seen: Vec::new(),
        })
    }

    fn say(&mut self, cmd: &str) -> Result<(), String> {
        let s = self.stdin.as_mut().ok_or("peers stdin closed")?;
        writeln!(s, "{cmd}")
            .and_then(|()| s.flush())
            .map_err(|e| format!("peers: {e}"))
    }

    /// Take the lines that arrived so far.
    fn pump(&mut self) {
        while let Ok(l) = self.lines.try_recv() {
            self.seen.push(l);
        }
    }

    /// Wait for a line starting with `prefix` (arrived at any time so far), until `deadline`.
    fn wait_for(&mut self, prefix: &str, deadline: Instant) -> Option<String> {
        for _ in 0..1_000_000 {
            self.pump();
            if let Some(i) = self.seen.iter().position(|(_, l)| l.starts_with(prefix)) {
                return Some(self.seen.remove(i).1);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            if let Ok(l) = self.lines.recv_timeout(left.min(Duration::from_millis(20))) {
                self.seen.push(l);
            }
        }
        None
    }

    fn errors(&mut self) -> Vec<String> {
        self.pump();
        self.seen
            .iter()
            .filter(|(_, l)| l.starts_with("error"))
            .map(|(_, l)| l.clone())
            .collect()
    }
}

impl Drop for PeersProc {
    fn drop(&mut self) {
        let _ = self.say("quit");
        self.stdin = None;
        for _ in 0..100 {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn family_arg(f: Family) -> &'static str {
    match f {
        Family::Ipv4 => "ipv4",
        Family::Ipv6 => "ipv6",
        Family::Vpnv6 => "vpnv6",
    }
}

fn secs(from_ns: u128, to_ns: u128) -> f64 {
    to_ns.saturating_sub(from_ns) as f64 / 1e9
}

/// Poll the target until its counter reaches `want` (returns the wall time then), or `deadline`.
fn poll_until(
    t: &mut Target,
    want: u64,
    poll: Duration,
    deadline: Instant,
    polls: &mut u64,
) -> Result<Option<u128>, String> {
    for _ in 0..10_000_000u64 {
        // A query that does not answer in time (GoBGP's CLI under load) is one more poll, not
        // the end of the run; a dead daemon or a refused query is.
        let c = match t.counters() {
            Ok(c) => c,
            Err(e) if e.contains("no answer") && Instant::now() < deadline => continue,
            Err(e) => return Err(e),
        };
        *polls += 1;
        if c.received == want {
            return Ok(Some(now_ns()));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        thread::sleep(poll);
    }
    Ok(None)
}

/// One run of `w` against `kind`; errors end up in the record.
pub fn run_one(
    topo: &Topology,
    w: &Workload,
    kind: Kind,
    rep: usize,
    o: &RunOptions,
    dir: &Path,
) -> Record {
    let mut r = Record {
        workload: w.name.into(),
        daemon: kind.name().into(),
        rep,
        started_unix_ns: now_ns(),
        loadavg_start: procstat::loadavg(),
        paths: if w.idle { 0 } else { w.paths() },
        sinks: if w.idle { 0 } else { w.sinks(o) },
        ..Record::default()
    };
    let result = if w.idle {
        measure_idle(topo, w, kind, dir, &mut r)
    } else {
        measure(topo, w, kind, o, dir, &mut r)
    };
    r.status = match result {
        Ok(s) => s.to_string(),
        Err(e) => format!("error: {e}"),
    };
    r.loadavg_end = procstat::loadavg();
    r
}

fn measure(
    topo: &Topology,
    w: &Workload,
    kind: Kind,
    o: &RunOptions,
    dir: &Path,
    r: &mut Record,
) -> Result<&'static str, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let sinks = w.sinks(o);
    let setup = Setup {
        family: w.family,
        peers: w.peers,
        sinks,
    };
    let mut t = Target::start(kind, &topo.target_ns, dir, setup)?;
    let mut p = PeersProc::spawn(&topo.injector_ns, w, sinks, &dir.join("peers.log"))?;
    let limit = Duration::from_secs(o.timeout_s);
    let poll = Duration::from_millis(o.poll_ms);
    let enc = p
        .wait_for("encoded", Instant::now() + limit)
        .ok_or("the peers process did not encode its streams")?;
    let f: Vec<u64> = enc
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    (r.stream_bytes, r.updates, r.encode_ms) = (
        f.first().copied().unwrap_or(0),
        f.get(1).copied().unwrap_or(0),
        f.get(2).copied().unwrap_or(0),
    );
    sessions_up(&mut p, &mut t, w.peers + sinks, dir, poll)?;
    thread::sleep(Duration::from_millis(300));
    r.before = procstat::sample(t.pid());
    // Announce.
    p.say("announce")?;
    let deadline = Instant::now() + limit;
    let accepted = poll_until(&mut t, r.paths, poll, deadline, &mut r.polls)?;
    let sent = p.wait_for("sent", deadline);
    let sink_full = if sinks > 0 {
        p.wait_for("sink full", deadline)
    } else {
        None
    };
    r.after_announce = procstat::sample(t.pid());
    let Some((first, last)) = sent.as_deref().and_then(parse_sent) else {
        r.errors = p.errors();
        return Ok("timeout");
    };
    r.inject_s = Some(secs(first, last));
    r.accept_s = accepted.map(|ns| secs(first, ns));
    r.sink_s = sink_full
        .as_deref()
        .and_then(|l| l.split_whitespace().nth(2)?.parse().ok())
        .map(|ns| secs(first, ns));
    r.cpu_announce_s = Some(r.after_announce.cpu_s - r.before.cpu_s);
    r.rss_growth_bytes_per_path = Some(
        (r.after_announce.rss_kb as f64 - r.before.rss_kb as f64) * 1024.0 / r.paths.max(1) as f64,
    );
    if accepted.is_none() || (sinks > 0 && r.sink_s.is_none()) {
        r.errors = p.errors();
        return Ok("timeout");
    }
    // Withdraw everything.
    p.say("withdraw")?;
    let deadline = Instant::now() + limit;
    let gone = poll_until(&mut t, 0, poll, deadline, &mut r.polls)?;
    let sent = p.wait_for("sent", deadline);
    let sink_empty = if sinks > 0 {
        p.wait_for("sink empty", deadline)
    } else {
        None
    };
    r.after_withdraw = procstat::sample(t.pid());
    r.cpu_withdraw_s = Some(r.after_withdraw.cpu_s - r.after_announce.cpu_s);
    let first = sent.as_deref().and_then(parse_sent).map_or(0, |(f, _)| f);
    r.withdraw_accept_s = gone.map(|ns| secs(first, ns));
    r.withdraw_sink_s = sink_empty
        .as_deref()
        .and_then(|l| l.split_whitespace().nth(2)?.parse().ok())
        .map(|ns| secs(first, ns));
    r.errors = p.errors();
    if gone.is_none() || (sinks > 0 && r.withdraw_sink_s.is_none()) {
        return Ok("timeout");
    }
    Ok("ok")
}

/// Wait until the peers process has opened its sessions and the target shows `sessions` of
/// them established (polled every `poll`).
fn sessions_up(
    p: &mut PeersProc,
    t: &mut Target,
    sessions: usize,
    dir: &Path,
    poll: Duration,
) -> Result<(), String> {
    if p.wait_for("ready", Instant::now() + Duration::from_secs(90))
        .is_none()
    {
        let log = std::fs::read_to_string(dir.join("peers.log")).unwrap_or_default();
        return Err(format!("sessions did not come up: {}", log.trim()));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while t.counters()?.established < sessions {
        if Instant::now() > deadline {
            return Err("the target does not show every session established".into());
        }
        thread::sleep(poll);
    }
    Ok(())
}

/// Wait until the target answers a query (it has read its config and is up), then let it settle.
fn settled(t: &mut Target) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match t.counters() {
            Ok(_) => break,
            Err(e) if Instant::now() > deadline => {
                return Err(format!("the target never answered: {e}"));
            }
            Err(_) => thread::sleep(Duration::from_millis(100)),
        }
    }
    thread::sleep(Duration::from_millis(1000));
    Ok(())
}

/// An idle workload: the target with no peers (baseline), then a fresh target with `w.peers`
/// configured and idle (sessions down), then the same target once every session is established
/// and has been idle for two seconds. RSS differences per peer.
fn measure_idle(
    topo: &Topology,
    w: &Workload,
    kind: Kind,
    dir: &Path,
    r: &mut Record,
) -> Result<&'static str, String> {
    let setup = |peers| Setup {
        family: w.family,
        peers,
        sinks: 0,
    };
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).map_err(|e| format!("{}: {e}", empty.display()))?;
    {
        let mut t = Target::start(kind, &topo.target_ns, &empty, setup(0))?;
        settled(&mut t)?;
        r.before = procstat::sample(t.pid());
    }
    let mut t = Target::start(kind, &topo.target_ns, dir, setup(w.peers))?;
    settled(&mut t)?;
    r.after_announce = procstat::sample(t.pid());
    let mut p = PeersProc::spawn(&topo.injector_ns, w, 0, &dir.join("peers.log"))?;
    sessions_up(&mut p, &mut t, w.peers, dir, Duration::from_millis(100))?;
    thread::sleep(Duration::from_secs(2));
    r.after_withdraw = procstat::sample(t.pid());
    r.errors = p.errors();
    let per_peer =
        |s: &Sample| (s.rss_kb as f64 - r.before.rss_kb as f64) * 1024.0 / w.peers.max(1) as f64;
    r.idle_configured_bytes_per_peer = Some(per_peer(&r.after_announce));
    r.idle_established_bytes_per_peer = Some(per_peer(&r.after_withdraw));
    Ok("ok")
}

fn parse_sent(l: &str) -> Option<(u128, u128)> {
    let mut w = l.split_whitespace().skip(1);
    Some((w.next()?.parse().ok()?, w.next()?.parse().ok()?))
}
