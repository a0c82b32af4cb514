//! Load benchmark of the kernel backend: program N IPv4 /32 steering routes (over 1000
//! policies) in a fresh network namespace, change every policy, then remove them, and print
//! the times; with nexthop objects and in the per-route mode.
//!
//! `cargo run --release -p bgpd --example kernel_load -- [N...]` (root; default 10000 100000).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::{Command, ExitCode};
use std::time::Instant;

use bgpd::dataplane::kernel::{KernelDataplane, KernelOptions};
use bgpd::dataplane::{
    Dataplane, DataplaneState, DiffOptions, Policy, SegmentList, Steering, UnderlayRoute, diff,
};
use ipnet::{IpNet, Ipv4Net};

const POLICIES: u32 = 1000;

fn ip(ns: &str, args: &[&str]) -> Result<(), String> {
    let st = Command::new("ip")
        .args(["-n", ns])
        .args(args)
        .status()
        .map_err(|e| e.to_string())?;
    if st.success() {
        Ok(())
    } else {
        Err(format!("ip {} failed", args.join(" ")))
    }
}

fn state(n: u32, seg_base: u16) -> DataplaneState {
    let mut s = DataplaneState::default();
    s.add_underlay(UnderlayRoute {
        prefix: "fc00:2::/32".parse().unwrap_or_else(|_| unreachable!()),
        via: Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2),
    });
    for p in 0..POLICIES {
        s.add_policy(Policy {
            bsid: Ipv6Addr::new(0xfc00, 1, 0xb, 0, 0, 0, 0, p as u16 + 1),
            segment_lists: vec![SegmentList {
                segments: vec![Ipv6Addr::new(0xfc00, 2, p as u16, seg_base, 0, 0, 0, 0x4)],
                weight: 1,
            }],
        });
    }
    for i in 0..n {
        let a = Ipv4Addr::from(0x0a00_0000u32 + i);
        s.add_steering(Steering {
            table: 254,
            prefix: IpNet::V4(Ipv4Net::from(a)),
            bsid: Ipv6Addr::new(0xfc00, 1, 0xb, 0, 0, 0, 0, (i % POLICIES) as u16 + 1),
        });
    }
    s
}

async fn run(sizes: &[u32]) -> Result<(), String> {
    for nexthops in [true, false] {
        let o = KernelOptions::default();
        let dp = if nexthops {
            KernelDataplane::new(o)
        } else {
            KernelDataplane::new_per_route(o)
        }
        .map_err(|e| e.to_string())?;
        println!(
            "{}:",
            if nexthops {
                "nexthop objects"
            } else {
                "per-route encapsulation"
            }
        );
        run_mode(dp, sizes).await?;
    }
    Ok(())
}

async fn run_mode(mut dp: KernelDataplane, sizes: &[u32]) -> Result<(), String> {
    let opts = DiffOptions {
        keep_extra: false,
        inline_policies: dp.capabilities().inline_policies,
    };
    for &n in sizes {
        let want = state(n, 0);
        let have = dp.read().await.map_err(|e| e.to_string())?;
        let changes = diff(&have, &want, opts);
        let t = Instant::now();
        let r = dp.apply(&changes).await;
        let apply = t.elapsed();
        let failed = r.iter().filter(|r| r.is_err()).count();
        if let Some(Err(e)) = r.iter().find(|r| r.is_err()) {
            println!("first failure: {e}");
        }
        let t = Instant::now();
        let got = dp.read().await.map_err(|e| e.to_string())?;
        let read = t.elapsed();
        let again = diff(&got, &want, opts).len();
        // Every policy gets another segment.
        let moved = state(n, 1);
        let changes2 = diff(&got, &moved, opts);
        let t = Instant::now();
        let r1 = dp.apply(&changes2).await;
        let modify = t.elapsed();
        let got = dp.read().await.map_err(|e| e.to_string())?;
        let again2 = diff(&got, &moved, opts).len();
        let t = Instant::now();
        let r2 = dp
            .apply(&diff(&got, &DataplaneState::default(), opts))
            .await;
        let remove = t.elapsed();
        println!(
            "  {n} steering routes + {POLICIES} policies: apply {} changes {:.3} s ({failed} failed), \
             read {:.3} s (diff after: {again}), modify every policy: {} changes {:.3} s ({} failed, \
             diff after: {again2}), remove {:.3} s ({} failed)",
            changes.len(),
            apply.as_secs_f64(),
            read.as_secs_f64(),
            changes2.len(),
            modify.as_secs_f64(),
            r1.iter().filter(|r| r.is_err()).count(),
            remove.as_secs_f64(),
            r2.iter().filter(|r| r.is_err()).count()
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let sizes: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000]
    } else {
        sizes
    };
    let ns = format!("kl{}", std::process::id() % 100_000);
    let setup = || -> Result<(), String> {
        let st = Command::new("ip")
            .args(["netns", "add", &ns])
            .status()
            .map_err(|e| e.to_string())?;
        if !st.success() {
            return Err("ip netns add failed".into());
        }
        ip(&ns, &["link", "set", "lo", "up"])?;
        ip(
            &ns,
            &["link", "add", "up0", "type", "veth", "peer", "name", "up1"],
        )?;
        ip(&ns, &["link", "set", "up0", "up"])?;
        ip(&ns, &["link", "set", "up1", "up"])?;
        ip(&ns, &["addr", "add", "fd00::1/64", "dev", "up0", "nodad"])
    };
    let result = setup().and_then(|()| {
        let path = format!("/run/netns/{ns}");
        let sizes = sizes.clone();
        std::thread::spawn(move || -> Result<(), String> {
            let fd = std::fs::File::open(&path).map_err(|e| e.to_string())?;
            nix::sched::setns(&fd, nix::sched::CloneFlags::CLONE_NEWNET)
                .map_err(|e| e.to_string())?;
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?
                .block_on(run(&sizes))
        })
        .join()
        .map_err(|_| "the benchmark thread panicked".to_string())?
    });
    let _ = Command::new("ip").args(["netns", "del", &ns]).status();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kernel_load: {e}");
            ExitCode::FAILURE
        }
    }
}
