//! The sidra lab (the README's first command, through `scripts/lab.sh`): sidra nodes with pods,
//! a route reflector and an IPv6-only fabric in network namespaces; shows the sessions, routes
//! and SRv6 state, and pings every pod from every other pod over SRv6.
//!
//! ```text
//! sidra-lab [--mode vpn|global] [--reflector frr|gobgp|bird] [--nodes N] [--prefix P] [--check]
//! ```
//!
//! With `--check` it exits 0 only if every ping passed, and tears everything down; without it,
//! it stays up until Ctrl-C and prints how to look around. Needs root, iproute2, the reflector's
//! Debian package, and `SIDRAD`/`SIDRACTL` pointing at the binaries (the script sets them).

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use conformance::srv6lab::{Lab, LabOptions, Mode, Reflector};
use conformance::{TestDir, cmd};

struct Args {
    mode: Mode,
    reflector: Reflector,
    nodes: usize,
    prefix: String,
    check: bool,
}

fn usage() -> String {
    "usage: sidra-lab [--mode vpn|global] [--reflector frr|gobgp|bird] [--nodes 2..8] \
     [--prefix NAME] [--check]"
        .to_string()
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        mode: Mode::Vpn,
        reflector: Reflector::Frr,
        nodes: 3,
        prefix: "lab".into(),
        check: false,
    };
    let mut reflector_set = false;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{arg} needs a value\n{}", usage()))
        };
        match arg.as_str() {
            "--mode" => {
                a.mode = match value()?.as_str() {
                    "vpn" => Mode::Vpn,
                    "global" => Mode::Global,
                    other => return Err(format!("--mode {other}: vpn or global")),
                }
            }
            "--reflector" => {
                reflector_set = true;
                a.reflector = match value()?.as_str() {
                    "frr" => Reflector::Frr,
                    "gobgp" => Reflector::GoBgp,
                    "bird" => Reflector::Bird,
                    other => return Err(format!("--reflector {other}: frr, gobgp or bird")),
                }
            }
            "--nodes" => {
                a.nodes = value()?
                    .parse()
                    .ok()
                    .filter(|n| (2..=8).contains(n))
                    .ok_or("--nodes: 2 to 8")?
            }
            "--prefix" => a.prefix = value()?,
            "--check" => a.check = true,
            "-h" | "--help" => return Err(usage()),
            other => return Err(format!("unknown argument {other}\n{}", usage())),
        }
    }
    // FRR 8.4 reflects SRv6 only for VPN routes; GoBGP for both.
    if !reflector_set && a.mode == Mode::Global {
        a.reflector = Reflector::GoBgp;
    }
    if a.mode == Mode::Global && a.reflector == Reflector::Frr {
        return Err("FRR 8.4 drops the Prefix-SID of unicast routes it reflects: use --reflector gobgp or bird with --mode global".into());
    }
    if a.mode == Mode::Vpn && a.reflector != Reflector::Frr {
        return Err(
            "the lab's vpn mode uses FRR as the reflector (BIRD has no VPN families here)".into(),
        );
    }
    Ok(a)
}

fn sidractl(socket: Option<&std::path::Path>, args: &[&str]) -> String {
    let Some(socket) = socket else {
        return "(no API socket)".into();
    };
    let program = std::env::var_os("SIDRACTL")
        .map(PathBuf::from)
        .unwrap_or_else(|| "sidractl".into());
    match Command::new(program)
        .arg("--socket")
        .arg(socket)
        .args(args)
        .output()
    {
        Ok(o) => format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => format!("(sidractl: {e})"),
    }
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if !conformance::require_root("sidra-lab") {
        eprintln!("sidra-lab needs root (network namespaces)");
        return ExitCode::from(2);
    }
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("lab failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(a: &Args) -> conformance::Result<bool> {
    let mut dir = TestDir::new("lab")?;
    if !a.check {
        dir.keep();
    }
    let started = Instant::now();
    let opts = LabOptions {
        prefix: a.prefix.clone(),
        mode: a.mode,
        reflector: a.reflector,
        nodes: a.nodes,
        restart_hold: 30,
        extra_nodes: Vec::new(),
        extra_rr_clients: Vec::new(),
    };
    println!(
        "== building the lab: {} sidra nodes, {:?} mode, {} route reflector",
        a.nodes,
        a.mode,
        a.reflector.name()
    );
    let mut lab = Lab::build(&opts, dir.path())?;
    lab.start_nodes()?;
    println!("== waiting for every node to steer every other node's pods into SRv6");
    lab.wait_converged(Duration::from_secs(90))?;
    println!(
        "   converged {:.1} s after the start",
        started.elapsed().as_secs_f64()
    );
    for n in &lab.nodes {
        let socket = n.sidrad.as_ref().and_then(|s| s.api_socket());
        println!(
            "\n== node {} (netns {}): pods {} {}, locator {}",
            n.node.name,
            n.node.ns,
            n.pod_cidr4(),
            n.pod_cidr6(),
            n.locator()
        );
        println!(
            "-- sessions (sidractl neighbor)\n{}",
            sidractl(socket, &["neighbor"])
        );
        println!(
            "-- SRv6 routes (sidractl srv6 routes)\n{}",
            sidractl(socket, &["srv6", "routes"])
        );
        println!(
            "-- kernel routes of sidrad (ip -d route show table all proto 99)\n{}",
            n.kernel_routes()?
        );
    }
    println!("== pinging every pod from every other pod (IPv4 and IPv6, over SRv6)");
    let failed = lab.ping_all(3);
    let total = a.nodes * (a.nodes - 1) * 2;
    for f in &failed {
        println!("   FAILED {f}");
    }
    println!("   {} of {total} pings passed", total - failed.len());
    let ok = failed.is_empty();
    if a.check {
        println!("== {} (tearing down)", if ok { "PASS" } else { "FAIL" });
        return Ok(ok);
    }
    let (first, second) = (&lab.nodes[0], &lab.nodes[1]);
    let ip = cmd::find(cmd::IP)?.display().to_string();
    println!("\n== the lab stays up until Ctrl-C. Look around:");
    println!(
        "   {ip} netns exec {} ping {}",
        first.pod.ns,
        IpAddr::V4(second.pod.v4)
    );
    println!(
        "   {ip} netns exec {} ping -6 {}",
        first.pod.ns,
        IpAddr::V6(second.pod.v6)
    );
    println!(
        "   {ip} -n {} -d route show table all proto 99",
        first.node.ns
    );
    if let Some(s) = first.sidrad.as_ref().and_then(|s| s.api_socket()) {
        println!(
            "   sidractl --socket {} neighbor | rib -a ipv6-vpn | srv6 routes | watch",
            s.display()
        );
    }
    println!(
        "   {ip} netns exec {} tcpdump -ni br0 ip6   # SRv6 on the fabric",
        lab.topo.hub()
    );
    println!("   logs and configs: {}", dir.path().display());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| conformance::Error::Other(format!("starting a runtime: {e}")))?;
    let _ = rt.block_on(tokio::signal::ctrl_c());
    println!("\n== Ctrl-C: tearing down");
    Ok(ok)
}
