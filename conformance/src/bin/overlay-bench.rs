//! The overlay data-plane benchmark (issue 9; `scripts/overlay-bench.sh`): pod-to-pod TCP and
//! UDP throughput, UDP loss and ping latency over native routing, VXLAN and SRv6, for IPv4 and
//! IPv6 pods, with and without a pod MTU adjusted for the overlay's headers.
//!
//! ```text
//! overlay-bench [--reps N] [--quick] [--tcp-secs S] [--udp-secs S] [--pings N]
//!               [--udp-rate RATE] [--out DIR] [--prefix P]
//! ```
//!
//! Topology: the SRv6 lab ([`conformance::srv6lab`], 2 sidra nodes n2 and n3 in vpn mode behind
//! an FRR reflector, IPv6 fabric fd00::/64 on the hub bridge). Each node gets three pods, one per
//! overlay, built the same way (a namespace behind a veth pair, default routes to the node):
//!
//! ```text
//!   overlay   pod namespace   node side   pod addresses (node k = 2, 3)     carried by
//!   SRv6      ob-pK           pK          10.K.1.2   2001:db8:K:1::2        sidrad: seg6 encap + decap
//!   native    ob-naK          naK         10.K.2.2   2001:db8:K:2::2        routes via 10.0.0.J / fd00::J
//!   VXLAN     ob-vxK          vxK         10.K.3.2   2001:db8:K:3::2        vxl0 (VNI 42, fd00::K -> fd00::J, UDP 4789)
//! ```
//!
//! Every repetition runs every cell (overlay x family x MTU variant) in turn, so slow drifts of
//! the machine's load hit every overlay alike. During each cell a capture on the hub bridge
//! (the fabric) must show the overlay's encapsulation and nothing else; otherwise the command
//! exits 1 naming the cell, after writing the JSON but not the report.
//!
//! Writes DIR/overlay-benchmark.md and DIR/overlay-benchmark/{results.json,tcp.png,udp.png,
//! latency.png}; DIR is `docs` for a full run and `target/overlay-bench` with `--quick`. Needs
//! root, iproute2, FRR, iperf3, tcpdump, iputils-ping, and `SIDRAD` pointing at sidrad.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::thread;
use std::time::{Duration, Instant};

use conformance::cmd::{self, Tool, run};
use conformance::overlay::{
    self, CaptureCounts, Family, MtuVariant, Overlay, PingResult, Run, UDP_SIZES, classify_capture,
    parse_iperf_tcp, parse_iperf_udp, parse_ping, prove,
};
use conformance::srv6lab::{Lab, LabOptions, Mode, Pod, PodNamespaces, Reflector, add_pod};
use conformance::topo::NODE_IF;
use conformance::{Daemon, Error, Node, Tcpdump, TestDir};
use serde::Serialize;

const IPERF3: Tool = Tool {
    name: "iperf3",
    package: "iperf3",
};
const PING: Tool = Tool {
    name: "ping",
    package: "iputils-ping",
};
const IPERF_PORT: &str = "5201";
/// Packets kept by each cell's capture: enough to prove, few enough not to load the machine.
const CAPTURE_PACKETS: u32 = 400;
const VXLAN_DEV: &str = "vxl0";
const VXLAN_VNI: &str = "42";

#[derive(Debug, Clone, Serialize)]
struct Args {
    reps: usize,
    quick: bool,
    tcp_secs: u32,
    udp_secs: u32,
    pings: u32,
    udp_rate: String,
    #[serde(skip)]
    out: PathBuf,
    prefix: String,
}

fn usage() -> &'static str {
    "usage: overlay-bench [--reps N] [--quick] [--tcp-secs S] [--udp-secs S] [--pings N] \
     [--udp-rate RATE (iperf3 -b; 0 = unlimited)] [--out DIR] [--prefix P]"
}

fn parse_args() -> Result<Args, String> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let quick = argv.iter().any(|a| a == "--quick");
    let mut a = Args {
        reps: if quick { 1 } else { 3 },
        quick,
        tcp_secs: if quick { 2 } else { 5 },
        udp_secs: if quick { 1 } else { 3 },
        pings: if quick { 50 } else { 200 },
        udp_rate: "0".into(),
        out: PathBuf::from(if quick {
            "target/overlay-bench"
        } else {
            "docs"
        }),
        prefix: "ob".into(),
    };
    let mut it = argv.into_iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{arg} needs a value\n{}", usage()))
        };
        let num = |v: String, lo: u32, hi: u32| -> Result<u32, String> {
            v.parse::<u32>()
                .ok()
                .filter(|n| (lo..=hi).contains(n))
                .ok_or_else(|| format!("{v}: a number from {lo} to {hi}"))
        };
        match arg.as_str() {
            "--quick" => {}
            "--reps" => a.reps = num(value()?, 1, 50)? as usize,
            "--tcp-secs" => a.tcp_secs = num(value()?, 1, 60)?,
            "--udp-secs" => a.udp_secs = num(value()?, 1, 60)?,
            "--pings" => a.pings = num(value()?, 10, 5000)?,
            "--udp-rate" => a.udp_rate = value()?,
            "--out" => a.out = PathBuf::from(value()?),
            "--prefix" => a.prefix = value()?,
            "-h" | "--help" => return Err(usage().into()),
            other => return Err(format!("unknown argument {other}\n{}", usage())),
        }
    }
    Ok(a)
}

/// Where and when the numbers were taken.
#[derive(Debug, Serialize)]
struct Meta {
    date: String,
    kernel: String,
    cpu: String,
    cpus: usize,
    loadavg_start: String,
    loadavg_end: String,
    iperf3: String,
    sidra_commit: String,
    args: Args,
    duration_s: u64,
}

#[derive(Debug, Serialize)]
struct Results<'a> {
    meta: &'a Meta,
    overheads: BTreeMap<&'static str, u32>,
    proof_failures: Vec<String>,
    runs: &'a [Run],
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if !conformance::require_root("overlay-bench") {
        eprintln!("overlay-bench needs root (network namespaces)");
        return ExitCode::from(2);
    }
    match bench(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("overlay-bench FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn text_of(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|e| format!("({program}: {e})"))
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn load1() -> f64 {
    loadavg()
        .split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN)
}

fn meta(args: &Args) -> Meta {
    let cpu = text_of("lscpu", &[])
        .lines()
        .find_map(|l| l.strip_prefix("Model name:").map(|m| m.trim().to_string()))
        .unwrap_or_else(|| "unknown".into());
    Meta {
        date: text_of("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]),
        kernel: text_of("uname", &["-r"]),
        cpu,
        cpus: thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg_start: loadavg(),
        loadavg_end: String::new(),
        iperf3: text_of("iperf3", &["--version"])
            .lines()
            .next()
            .unwrap_or_default()
            .to_string(),
        sidra_commit: text_of("git", &["rev-parse", "--short", "HEAD"]),
        args: args.clone(),
        duration_s: 0,
    }
}

fn io_err(what: String) -> impl FnOnce(std::io::Error) -> Error {
    move |e| Error::Other(format!("{what}: {e}"))
}

fn ip(args: &[&str]) -> conformance::Result<String> {
    run(Command::new(cmd::find(cmd::IP)?).args(args))
}

/// The pod namespaces this command adds (the lab deletes its own), deleted on drop.
/// The test bed. Fields drop in order: the extra pods go before the lab (daemons, then
/// namespaces).
struct Bed {
    pods: BTreeMap<Overlay, [Pod; 2]>,
    host_ifs: BTreeMap<Overlay, [String; 2]>,
    _guard: PodNamespaces,
    lab: Lab,
}

fn build(args: &Args, dir: &Path) -> conformance::Result<Bed> {
    eprintln!("== building the lab (2 sidra nodes, vpn mode, FRR reflector)");
    let opts = LabOptions {
        prefix: args.prefix.clone(),
        mode: Mode::Vpn,
        reflector: Reflector::Frr,
        nodes: 2,
        restart_hold: 30,
        extra_nodes: Vec::new(),
        extra_rr_clients: Vec::new(),
    };
    let mut lab = Lab::build(&opts, dir)?;
    lab.start_nodes()?;
    lab.wait_converged(Duration::from_secs(90))?;
    let mut guard = PodNamespaces::default();
    let mut pods = BTreeMap::new();
    let mut host_ifs = BTreeMap::new();
    pods.insert(
        Overlay::Srv6,
        [lab.nodes[0].pod.clone(), lab.nodes[1].pod.clone()],
    );
    host_ifs.insert(
        Overlay::Srv6,
        [0, 1].map(|i| format!("p{}", lab.nodes[i].node.index)),
    );
    let nodes = [lab.nodes[0].node.clone(), lab.nodes[1].node.clone()];
    for (o, tag, s) in [(Overlay::Native, "na", 2u8), (Overlay::Vxlan, "vx", 3u8)] {
        let (a, ai) = add_pod(&args.prefix, &nodes[0], tag, s, &mut guard)?;
        let (b, bi) = add_pod(&args.prefix, &nodes[1], tag, s, &mut guard)?;
        pods.insert(o, [a, b]);
        host_ifs.insert(o, [ai, bi]);
    }
    for (i, node) in nodes.iter().enumerate() {
        let peer = &nodes[1 - i];
        let (k, j) = (node.index, peer.index);
        // Native: the lab's fabric is IPv6-only; give it back its IPv4 addresses, and route the
        // peer's native pod CIDRs straight to the peer.
        ip(&[
            "-n",
            &node.ns,
            "addr",
            "add",
            &format!("{}/24", node.ipv4),
            "dev",
            NODE_IF,
        ])?;
        ip(&[
            "-n",
            &node.ns,
            "route",
            "add",
            &format!("10.{j}.2.0/24"),
            "via",
            &peer.ipv4.to_string(),
        ])?;
        ip(&[
            "-n",
            &node.ns,
            "-6",
            "route",
            "add",
            &format!("2001:db8:{j}:2::/64"),
            "via",
            &peer.ipv6.to_string(),
        ])?;
        // VXLAN: one point-to-point device over the IPv6 fabric (its MTU is the fabric's
        // minus 70, set by the kernel), an inner subnet, and the peer's VXLAN pod CIDRs via it.
        ip(&[
            "-n",
            &node.ns,
            "link",
            "add",
            VXLAN_DEV,
            "type",
            "vxlan",
            "id",
            VXLAN_VNI,
            "local",
            &node.ipv6.to_string(),
            "remote",
            &peer.ipv6.to_string(),
            "dstport",
            &overlay::VXLAN_PORT.to_string(),
            "dev",
            NODE_IF,
        ])?;
        ip(&[
            "-n",
            &node.ns,
            "addr",
            "add",
            &format!("10.254.0.{k}/24"),
            "dev",
            VXLAN_DEV,
        ])?;
        ip(&[
            "-n",
            &node.ns,
            "addr",
            "add",
            &format!("fd01::{k}/64"),
            "dev",
            VXLAN_DEV,
            "nodad",
        ])?;
        ip(&["-n", &node.ns, "link", "set", VXLAN_DEV, "up"])?;
        ip(&[
            "-n",
            &node.ns,
            "route",
            "add",
            &format!("10.{j}.3.0/24"),
            "via",
            &format!("10.254.0.{j}"),
        ])?;
        ip(&[
            "-n",
            &node.ns,
            "-6",
            "route",
            "add",
            &format!("2001:db8:{j}:3::/64"),
            "via",
            &format!("fd01::{j}"),
        ])?;
    }
    Ok(Bed {
        pods,
        host_ifs,
        _guard: guard,
        lab,
    })
}

impl Bed {
    fn nodes(&self) -> [&Node; 2] {
        [&self.lab.nodes[0].node, &self.lab.nodes[1].node]
    }

    /// Set the MTU of an overlay's pods (both ends of both veths) and drop learned path MTUs.
    fn set_mtu(&self, o: Overlay, mtu: u32) -> conformance::Result<()> {
        let (Some(pods), Some(ifs)) = (self.pods.get(&o), self.host_ifs.get(&o)) else {
            return Err(Error::Other(format!("no pods for {}", o.name())));
        };
        let m = mtu.to_string();
        for (i, node) in self.nodes().iter().enumerate() {
            ip(&["-n", &node.ns, "link", "set", &ifs[i], "mtu", &m])?;
            ip(&["-n", &pods[i].ns, "link", "set", "eth0", "mtu", &m])?;
            ip(&["-n", &pods[i].ns, "-4", "route", "flush", "cache"])?;
            ip(&["-n", &pods[i].ns, "-6", "route", "flush", "cache"])?;
        }
        Ok(())
    }
}

/// A one-off iperf3 server in `ns`, stopped by PID when dropped.
fn iperf_server(ns: &str, log: &Path) -> conformance::Result<Daemon> {
    let program = cmd::find(IPERF3)?;
    let args: Vec<String> = ["-s", "-1", "-p", IPERF_PORT, "--forceflush"]
        .map(String::from)
        .to_vec();
    let mut d = Daemon::spawn("iperf3 server", ns, &program, &args, &[], log)?;
    d.wait_for_log(&format!("iperf3 server in {ns} to listen"), "listening", 3)?;
    Ok(d)
}

/// One iperf3 client run from `client` to `dst`; its JSON output.
fn iperf(
    client: &str,
    server: &str,
    dst: IpAddr,
    secs: u32,
    udp: Option<(u32, &str)>,
    log: &Path,
) -> Result<String, String> {
    let _server = iperf_server(server, log).map_err(|e| e.to_string())?;
    let mut c = cmd::netns_command(client, cmd::find(IPERF3).map_err(|e| e.to_string())?);
    c.args([
        "-c",
        &dst.to_string(),
        "-p",
        IPERF_PORT,
        "-t",
        &secs.to_string(),
        "-J",
    ]);
    c.args(["--connect-timeout", "3000"]);
    if let Some((size, rate)) = udp {
        c.args(["-u", "-l", &size.to_string(), "-b", rate]);
    }
    let (_, out, err) = cmd::output_timeout(&mut c, Duration::from_secs(u64::from(secs) + 20))
        .map_err(|e| e.to_string())?;
    if out.trim().is_empty() {
        return Err(format!("iperf3 printed nothing: {}", err.trim()));
    }
    Ok(out)
}

fn ping(client: &str, dst: IpAddr, count: u32) -> Result<PingResult, String> {
    let mut c = cmd::netns_command(client, cmd::find(PING).map_err(|e| e.to_string())?);
    c.args(["-n", "-i", "0.01", "-W", "1", "-c", &count.to_string()]);
    if dst.is_ipv6() {
        c.arg("-6");
    }
    c.arg(dst.to_string());
    let (_, out, err) =
        cmd::output_timeout(&mut c, Duration::from_secs(u64::from(count) / 50 + 10))
            .map_err(|e| e.to_string())?;
    let r = parse_ping(&out);
    if r.received == 0 {
        return Err(format!("no ping reply: {} {}", out.trim(), err.trim()));
    }
    Ok(r)
}

/// A capture of the first packets on the fabric (the hub bridge), minus BGP.
/// A bounded capture on the fabric bridge beside a run (the proof of which overlay carried it).
struct Capture(Tcpdump);

impl Capture {
    fn start(hub: &str, file: &Path) -> conformance::Result<Capture> {
        Tcpdump::start_with(hub, "br0", file, "not port 179", 200, Some(CAPTURE_PACKETS))
            .map(Capture)
    }

    /// Stop (if it has not stopped after its packet count) and read the capture as text.
    fn finish(self) -> conformance::Result<String> {
        let file = self.0.stop()?;
        let tcpdump = cmd::find(cmd::TCPDUMP)?;
        run(Command::new(tcpdump).args(["-nn", "-tt", "-r"]).arg(&file))
    }
}

struct Cell<'a> {
    bed: &'a Bed,
    args: &'a Args,
    dir: &'a Path,
}

impl Cell<'_> {
    fn run(&self, o: Overlay, f: Family, m: MtuVariant, rep: usize) -> conformance::Result<Run> {
        let pods = self
            .bed
            .pods
            .get(&o)
            .ok_or_else(|| Error::Other(format!("no pods for {}", o.name())))?;
        let (client, server) = (&pods[0], &pods[1]);
        let dst = match f {
            Family::V4 => IpAddr::V4(server.v4),
            Family::V6 => IpAddr::V6(server.v6),
        };
        let tag = format!("{}-{:?}-{}-{rep}", o.name(), f, m.name()).to_lowercase();
        let mut r = Run {
            overlay: o,
            family: f,
            mtu: m,
            rep,
            pod_mtu: o.pod_mtu(m),
            load1: load1(),
            tcp: None,
            udp: BTreeMap::new(),
            ping: None,
            errors: Vec::new(),
            capture: CaptureCounts::default(),
            proof: Ok(()),
        };
        let cap = Capture::start(
            self.bed.lab.topo.hub(),
            &self.dir.join(format!("{tag}.pcap")),
        )?;
        let log = self.dir.join(format!("{tag}.iperf3-server.log"));
        match iperf(&client.ns, &server.ns, dst, self.args.tcp_secs, None, &log)
            .and_then(|j| parse_iperf_tcp(&j))
        {
            Ok(t) => r.tcp = Some(t),
            Err(e) => r.errors.push(format!("TCP: {e}")),
        }
        for size in UDP_SIZES {
            let udp = Some((size, self.args.udp_rate.as_str()));
            match iperf(&client.ns, &server.ns, dst, self.args.udp_secs, udp, &log)
                .and_then(|j| parse_iperf_udp(&j))
            {
                Ok(u) => {
                    r.udp.insert(size, u);
                }
                Err(e) => r.errors.push(format!("UDP {size} B: {e}")),
            }
        }
        match ping(&client.ns, dst, self.args.pings) {
            Ok(p) => r.ping = Some(p),
            Err(e) => r.errors.push(format!("ping: {e}")),
        }
        let text = cap.finish()?;
        let addrs: Vec<String> = pods
            .iter()
            .flat_map(|p| [p.v4.to_string(), p.v6.to_string()])
            .collect();
        r.capture = classify_capture(&text, &addrs);
        r.proof = prove(o, &r.capture);
        eprintln!(
            "   {:<6} {} {:<10} rep {rep}: TCP {} Gbit/s, UDP {} Mbit/s, ping p50 {} µs; capture {:?}{}",
            o.name(),
            f.name(),
            m.name(),
            r.tcp
                .as_ref()
                .map_or("-".into(), |t| format!("{:.2}", t.received_bps / 1e9)),
            UDP_SIZES
                .iter()
                .map(|s| r
                    .udp
                    .get(s)
                    .map_or("-".into(), |u| format!("{:.0}", u.received_bps / 1e6)))
                .collect::<Vec<_>>()
                .join("/"),
            r.ping
                .as_ref()
                .and_then(|p| p.percentile_us(50.0))
                .map_or("-".into(), |p| format!("{p:.0}")),
            r.capture,
            if r.errors.is_empty() {
                String::new()
            } else {
                format!("; errors: {}", r.errors.join("; "))
            }
        );
        Ok(r)
    }
}

fn bench(args: &Args) -> conformance::Result<()> {
    cmd::require(&[cmd::IP, cmd::SYSCTL, cmd::TCPDUMP, IPERF3, PING])?;
    let started = Instant::now();
    let mut meta = meta(args);
    eprintln!(
        "== overlay-bench: kernel {}, {} ({} CPUs), load {}, {} reps",
        meta.kernel, meta.cpu, meta.cpus, meta.loadavg_start, args.reps
    );
    let dir = TestDir::new("overlay-bench")?;
    let bed = build(args, dir.path())?;
    // Every overlay must carry a ping before anything is measured.
    for o in Overlay::ALL {
        let pods = &bed.pods[&o];
        for dst in [IpAddr::V4(pods[1].v4), IpAddr::V6(pods[1].v6)] {
            conformance::srv6lab::ping(&pods[0].ns, dst, 2)
                .map_err(|e| Error::Other(format!("{} pod ping to {dst}: {e}", o.name())))?;
        }
    }
    let cell = Cell {
        bed: &bed,
        args,
        dir: dir.path(),
    };
    let mut runs = Vec::new();
    for rep in 1..=args.reps {
        eprintln!("== repetition {rep}/{}", args.reps);
        for m in MtuVariant::ALL {
            for o in Overlay::ALL {
                if o == Overlay::Native && m == MtuVariant::Adjusted {
                    continue; // nothing to adjust: the unadjusted runs stand for both
                }
                bed.set_mtu(o, o.pod_mtu(m))?;
                for f in Family::ALL {
                    runs.push(cell.run(o, f, m, rep)?);
                }
            }
        }
    }
    drop(bed);
    meta.loadavg_end = loadavg();
    meta.duration_s = started.elapsed().as_secs();
    let failures: Vec<String> = runs
        .iter()
        .filter_map(|r| {
            r.proof
                .as_ref()
                .err()
                .map(|e| format!("rep {}: {e}", r.rep))
        })
        .collect();
    let out = args.out.join("overlay-benchmark");
    std::fs::create_dir_all(&out).map_err(io_err(format!("creating {}", out.display())))?;
    let results = Results {
        meta: &meta,
        overheads: BTreeMap::from([
            ("srv6_encap_one_segment", overlay::SRV6_OVERHEAD),
            ("vxlan_over_ipv6", overlay::VXLAN6_OVERHEAD),
        ]),
        proof_failures: failures.clone(),
        runs: &runs,
    };
    let json = serde_json::to_string_pretty(&results)
        .map_err(|e| Error::Other(format!("serializing the results: {e}")))?;
    let json_path = out.join("results.json");
    std::fs::write(&json_path, json).map_err(io_err(format!("writing {}", json_path.display())))?;
    if !failures.is_empty() {
        return Err(Error::Other(format!(
            "an overlay did not carry the traffic (results in {}, report not written):\n  {}",
            json_path.display(),
            failures.join("\n  ")
        )));
    }
    let charts = overlay::chart::draw_all(&out, &runs).map_err(Error::Other)?;
    let md = report(&meta, &runs, &charts);
    let md_path = args.out.join("overlay-benchmark.md");
    std::fs::write(&md_path, md).map_err(io_err(format!("writing {}", md_path.display())))?;
    eprintln!(
        "== wrote {}, {} ({}) in {} s",
        md_path.display(),
        json_path.display(),
        charts.join(", "),
        meta.duration_s
    );
    Ok(())
}

fn report(meta: &Meta, runs: &[Run], charts: &[String]) -> String {
    let mut s = String::new();
    s.push_str(&overlay::report_header());
    s.push_str(&format!(
        "## This run\n\n| | |\n|---|---|\n| date | {} |\n| kernel | {} |\n| CPU | {} ({} CPUs, shared) |\n\
         | load average (1/5/15 min) | start {} · end {} |\n| iperf3 | {} |\n| sidra | {} |\n\
         | repetitions | {} (TCP {} s, UDP {} s per size at `-b {}`, {} pings at 10 ms) |\n| duration | {} s |\n\n",
        meta.date,
        meta.kernel,
        meta.cpu,
        meta.cpus,
        meta.loadavg_start,
        meta.loadavg_end,
        meta.iperf3,
        meta.sidra_commit,
        meta.args.reps,
        meta.args.tcp_secs,
        meta.args.udp_secs,
        meta.args.udp_rate,
        meta.args.pings,
        meta.duration_s,
    ));
    s.push_str("## Results\n\nEach cell: median [min–max] over the repetitions. \"SRv6 vs X\": SRv6 / X − 1 per \
                repetition (runs of the same repetition paired), median [min…max]. For throughput a \
                negative number means SRv6 is slower; for loss and latency a positive number means \
                SRv6 is worse. Native has no MTU to adjust: its 1500-byte runs stand in both rows.\n\n");
    s.push_str(&overlay::markdown_tables(runs));
    for c in charts {
        s.push_str(&format!("![{c}](overlay-benchmark/{c})\n\n"));
    }
    let errors = overlay::error_lines(runs);
    if !errors.is_empty() {
        s.push_str("### Tool failures\n\nRuns where a tool gave no result (the cell then has fewer values):\n\n");
        for e in errors {
            s.push_str(&format!("* {e}\n"));
        }
        s.push('\n');
    }
    s.push_str(&overlay::report_footer());
    s
}
