//! `sidra-bench all`: run every workload against every daemon (see docs/benchmarks.md).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};
use serde_json::json;
use sidra_bench::peers::{self, PeersArgs};
use sidra_bench::run::{self, Record, RunOptions};
use sidra_bench::stream::Family;
use sidra_bench::targets::{self, Kind};
use sidra_bench::{procstat, report, topo};

#[derive(Parser)]
#[command(about = "Side-by-side whole-daemon benchmark: sidrad, BIRD, FRR bgpd, GoBGP")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the workloads against the daemons (as root), write JSON and the Markdown table.
    All(AllArgs),
    /// (internal) The injector and sink, run inside the injector namespace.
    #[command(hide = true)]
    Peers {
        #[arg(long)]
        family: String,
        #[arg(long)]
        peers: usize,
        #[arg(long)]
        prefixes: usize,
        #[arg(long, default_value_t = 0)]
        per_update: usize,
        #[arg(long)]
        prefix_sid: bool,
        #[arg(long)]
        distinct: bool,
        #[arg(long, default_value_t = 0)]
        sinks: usize,
    },
}

#[derive(clap::Args)]
struct AllArgs {
    /// Repetitions of each (workload, daemon) pair, interleaved.
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Comma-separated workload names (default: all).
    #[arg(long, value_delimiter = ',')]
    workloads: Vec<String>,
    /// Comma-separated daemons: sidrad, bird, frr, gobgp (default: all).
    #[arg(long, value_delimiter = ',')]
    daemons: Vec<String>,
    /// Workloads at a tenth of their size, one repetition: a smoke check.
    #[arg(long)]
    quick: bool,
    /// No sink peer (the target only has to accept the routes).
    #[arg(long)]
    no_sink: bool,
    /// Cap of each phase (announce, withdraw) of a run, seconds.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Interval between polls of the target's counters, milliseconds.
    #[arg(long, default_value_t = 50)]
    poll_ms: u64,
    /// Where the JSON goes (a subdirectory per invocation).
    #[arg(long, default_value = "docs/bench")]
    out: PathBuf,
    /// The Markdown file whose generated section is replaced ("" = none).
    #[arg(long, default_value = "docs/benchmarks.md")]
    doc: String,
    /// Do not apt-get install missing daemons.
    #[arg(long)]
    no_install: bool,
}

fn install_missing() -> Result<(), String> {
    let need: Vec<&str> = [
        ("/usr/sbin/bird", "bird2"),
        ("/usr/lib/frr/bgpd", "frr"),
        ("/usr/bin/gobgpd", "gobgpd"),
    ]
    .into_iter()
    .filter(|(p, _)| !Path::new(p).exists())
    .map(|(_, pkg)| pkg)
    .collect();
    if need.is_empty() {
        return Ok(());
    }
    eprintln!("installing {}", need.join(" "));
    let ok = Command::new("apt-get")
        .arg("install")
        .arg("-y")
        .args(&need)
        .status()
        .map_err(|e| e.to_string())?;
    if ok.success() {
        Ok(())
    } else {
        Err(format!("apt-get install {} failed", need.join(" ")))
    }
}

fn all(a: &AllArgs) -> Result<(), String> {
    if conformance::effective_uid() != Some(0) {
        return Err("run as root: the benchmark creates network namespaces".into());
    }
    if !a.no_install {
        install_missing()?;
    }
    let reps = if a.quick && a.reps == 3 {
        1
    } else {
        a.reps.clamp(1, 50)
    };
    let workloads: Vec<run::Workload> = run::workloads(a.quick)
        .into_iter()
        .filter(|w| a.workloads.is_empty() || a.workloads.iter().any(|n| n == w.name))
        .collect();
    let daemons: Vec<Kind> = if a.daemons.is_empty() {
        targets::ALL.to_vec()
    } else {
        a.daemons
            .iter()
            .map(|d| Kind::parse(d).ok_or(format!("unknown daemon {d}")))
            .collect::<Result<_, _>>()?
    };
    if workloads.is_empty() {
        return Err("no workload selected".into());
    }
    let machine = report::machine();
    let stamp = Command::new("date")
        .args(["-u", "+%Y%m%dT%H%MZ"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .map_err(|e| e.to_string())?;
    let stamp = if a.quick {
        format!("{stamp}-quick")
    } else {
        stamp
    };
    let out = a.out.join(&stamp);
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let work = std::env::temp_dir().join(format!("sidra-bench-{}", std::process::id()));
    let prefix = format!("sb{}", std::process::id() % 1000);
    let max_peers = workloads.iter().map(|w| w.peers).max().unwrap_or(1);
    let max_sinks = workloads.iter().map(|w| w.sinks).max().unwrap_or(1);
    let topo = topo::Topology::build(&prefix, max_peers, max_sinks)?;
    let opts = RunOptions {
        sink: !a.no_sink,
        timeout_s: a.timeout,
        poll_ms: a.poll_ms.clamp(5, 1000),
    };
    let mut records: Vec<Record> = Vec::new();
    for w in &workloads {
        for rep in 1..=reps {
            // Interleave: rotate the daemon order every repetition.
            for i in 0..daemons.len() {
                let kind = daemons[(i + rep - 1) % daemons.len()];
                eprintln!(
                    "[{}] {} rep {rep} {} (load {})",
                    w.name,
                    w.what,
                    kind.name(),
                    procstat::loadavg()
                );
                let dir = work.join(format!("{}-{}-{rep}", w.name, kind.name()));
                let r = run::run_one(&topo, w, kind, rep, &opts, &dir);
                eprintln!(
                    "    {}: accept {:?} s, sink {:?} s, cpu {:?} s, {:?} B/path, withdraw {:?} s {}",
                    r.status,
                    r.accept_s,
                    r.sink_s,
                    r.cpu_announce_s,
                    r.rss_growth_bytes_per_path.map(|x| x.round()),
                    r.withdraw_accept_s,
                    r.errors.join("; ")
                );
                records.push(r);
            }
        }
        let runs: Vec<&Record> = records.iter().filter(|r| r.workload == w.name).collect();
        report::write_json(
            &out.join(format!("{}.json", w.name)),
            &json!({ "workload": w, "options": opts, "machine": machine, "runs": runs }),
        )?;
    }
    drop(topo);
    let cmdline = format!(
        "scripts/bench.sh {}",
        std::env::args().skip(2).collect::<Vec<_>>().join(" ")
    );
    let link = format!("bench/{stamp}");
    let md = report::markdown(&machine, &workloads, &records, &link, cmdline.trim());
    std::fs::write(out.join("summary.md"), &md).map_err(|e| e.to_string())?;
    println!("{md}");
    if !a.doc.is_empty() && !a.quick {
        let doc = std::fs::read_to_string(&a.doc).map_err(|e| format!("{}: {e}", a.doc))?;
        std::fs::write(&a.doc, report::splice(&doc, &md)).map_err(|e| format!("{}: {e}", a.doc))?;
    }
    eprintln!("configs and logs of every run: {}", work.display());
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::All(a) => all(&a),
        Cmd::Peers {
            family,
            peers: k,
            prefixes,
            per_update,
            prefix_sid,
            distinct,
            sinks,
        } => {
            let family = match family.as_str() {
                "ipv4" => Family::Ipv4,
                "ipv6" => Family::Ipv6,
                "vpnv6" => Family::Vpnv6,
                other => {
                    eprintln!("unknown family {other}");
                    return ExitCode::from(2);
                }
            };
            peers::run(&PeersArgs {
                family,
                peers: k.clamp(1, 1000),
                prefixes,
                per_update,
                prefix_sid,
                distinct,
                sinks: sinks.min(1000),
            })
        }
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sidra-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
