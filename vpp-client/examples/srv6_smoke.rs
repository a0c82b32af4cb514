//! SRv6 smoke check against a running VPP (issue 6 §4).
//!
//! ```sh
//! cargo run -p vpp-client --example srv6_smoke -- --socket /run/vpp/api.sock
//! ```
//!
//! Connects, prints VPP's version, creates an IPv4 and an IPv6 VRF table, an End.DT4 and an
//! End.DT6 local SID, sets the encap source, adds a policy with a 3-SID list and IPv4 and IPv6
//! steering, checks the dumps, removes everything in dependency order and checks it is gone.
//! Exits 0 only if every step held; otherwise 1 (2 if it could not connect), naming the failing
//! step. The last stdout line is a JSON summary. It changes VPP's global encap source: use a
//! test VPP.

use std::net::Ipv6Addr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ipnet::{Ipv4Net, Ipv6Net};
use vpp_client::smoke::{self, SmokeConfig};
use vpp_client::{Client, ClientConfig};

#[derive(Parser)]
#[command(about = "Program, check and remove a small SRv6 setup in VPP")]
struct Args {
    /// VPP's API socket.
    #[arg(long, default_value = "/run/vpp/api.sock")]
    socket: PathBuf,
    /// Timeout of each request, in milliseconds.
    #[arg(long, default_value_t = 5000)]
    timeout_ms: u64,
    /// VRF table id to create (IPv4 and IPv6); must not exist yet.
    #[arg(long)]
    vrf: Option<u32>,
    /// End.DT4 SID.
    #[arg(long)]
    dt4_sid: Option<Ipv6Addr>,
    /// End.DT6 SID.
    #[arg(long)]
    dt6_sid: Option<Ipv6Addr>,
    /// Encapsulation source.
    #[arg(long)]
    encap_source: Option<Ipv6Addr>,
    /// Binding SID of the policy.
    #[arg(long)]
    bsid: Option<Ipv6Addr>,
    /// The policy's three segments.
    #[arg(long, num_args = 3, value_delimiter = ',')]
    segments: Option<Vec<Ipv6Addr>>,
    /// IPv4 prefix to steer.
    #[arg(long)]
    prefix4: Option<Ipv4Net>,
    /// IPv6 prefix to steer.
    #[arg(long)]
    prefix6: Option<Ipv6Net>,
}

impl Args {
    fn config(&self) -> SmokeConfig {
        let mut c = SmokeConfig::default();
        c.vrf = self.vrf.unwrap_or(c.vrf);
        c.dt4_sid = self.dt4_sid.unwrap_or(c.dt4_sid);
        c.dt6_sid = self.dt6_sid.unwrap_or(c.dt6_sid);
        c.encap_source = self.encap_source.unwrap_or(c.encap_source);
        c.bsid = self.bsid.unwrap_or(c.bsid);
        if let Some([a, b, d]) = self.segments.as_deref() {
            c.segments = [*a, *b, *d];
        }
        c.prefix4 = self.prefix4.unwrap_or(c.prefix4);
        c.prefix6 = self.prefix6.unwrap_or(c.prefix6);
        c
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut cfg = ClientConfig::new(&args.socket);
    cfg.name = "sidra-srv6-smoke".into();
    cfg.request_timeout = Duration::from_millis(args.timeout_ms);
    cfg.connect_timeout = Duration::from_millis(args.timeout_ms);
    let vpp = match Client::connect_with(&cfg).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("FAILED at step connect: {e}");
            let summary = serde_json::json!({
                "ok": false, "failed_step": "connect", "error": e.to_string(), "steps": [],
            });
            println!("{summary}");
            return ExitCode::from(2);
        }
    };
    let report = smoke::run(&vpp, &args.config()).await;
    if let Some(v) = &report.vpp_version {
        println!("VPP version: {v}");
    }
    for s in &report.steps {
        let status = if s.ok { "ok" } else { "FAILED" };
        eprintln!(
            "{:<20} {status:<6} {:>5} ms {}",
            s.step,
            s.ms,
            s.error.as_deref().unwrap_or("")
        );
    }
    for c in &report.cleanup_errors {
        eprintln!("cleanup: {c}");
    }
    let bye = vpp.disconnect().await;
    if let Err(e) = &bye {
        eprintln!("sockclnt_delete: {e}");
    }
    match serde_json::to_string(&report) {
        Ok(line) => println!("{line}"),
        Err(e) => println!("{{\"ok\":false,\"error\":\"summary: {e}\"}}"),
    }
    if report.ok {
        ExitCode::SUCCESS
    } else {
        eprintln!("FAILED at step {}", report.failed_step.unwrap_or("?"));
        ExitCode::from(1)
    }
}
