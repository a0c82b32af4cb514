//! Network namespaces for the kernel backend's tests (root needed), and the two-node fixture:
//! pods behind two nodes whose kernel sidra's backend programs with SRv6 between them.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv6Addr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use bgpd::dataplane::kernel::{KernelDataplane, KernelOptions};
use bgpd::dataplane::{
    Change, Dataplane, DataplaneState, DiffOptions, LocalBehavior, LocalSid, Policy, SegmentList,
    Steering, UnderlayRoute, diff,
};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A network namespace, deleted when dropped (also when the test fails).
pub struct Netns(pub String);

impl Netns {
    /// A namespace named `PREFIX` + a per-process and per-test number (each test binary has
    /// its own prefix, so parallel binaries do not collide).
    pub fn new(prefix: &str) -> Netns {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("{prefix}{}{n}", std::process::id() % 1000);
        let _ = Command::new("ip").args(["netns", "del", &name]).status();
        sh(&["ip", "netns", "add", &name]);
        let ns = Netns(name);
        ns.ip(&["link", "set", "lo", "up"]);
        ns.sysctl(&[
            "net.ipv6.conf.all.seg6_enabled=1",
            "net.ipv6.conf.default.seg6_enabled=1",
            "net.ipv6.conf.lo.seg6_enabled=1",
            "net.ipv6.conf.all.forwarding=1",
            "net.ipv4.ip_forward=1",
            "net.ipv6.conf.all.accept_dad=0",
            "net.ipv6.conf.default.accept_dad=0",
            "net.ipv4.conf.all.rp_filter=0",
            "net.ipv4.conf.default.rp_filter=0",
        ]);
        ns
    }

    pub fn ip(&self, args: &[&str]) -> String {
        let mut a = vec!["ip", "-n", &self.0];
        a.extend_from_slice(args);
        sh(&a)
    }

    pub fn exec(&self, args: &[&str]) -> String {
        let mut a = vec!["ip", "netns", "exec", &self.0];
        a.extend_from_slice(args);
        sh(&a)
    }

    /// Run a command in the namespace whatever its exit status: (success, stdout + stderr).
    pub fn try_exec(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.0])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", args.join(" ")));
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    }

    pub fn sysctl(&self, kv: &[&str]) {
        let mut a = vec!["sysctl", "-qw"];
        a.extend_from_slice(kv);
        self.exec(&a);
    }

    /// Start `f` on a thread inside this namespace.
    pub fn spawn<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::thread::JoinHandle<T> {
        let path = format!("/run/netns/{}", self.0);
        std::thread::spawn(move || {
            let fd = std::fs::File::open(&path).unwrap();
            nix::sched::setns(&fd, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            f()
        })
    }

    /// Run `f` on a thread inside this namespace.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        match self.spawn(f).join() {
            Ok(v) => v,
            Err(p) => std::panic::resume_unwind(p),
        }
    }

    /// Run an async block on a thread inside this namespace.
    pub fn block_on<T: Send + 'static, F: Future<Output = T> + 'static>(
        &self,
        f: impl FnOnce() -> F + Send + 'static,
    ) -> T {
        self.run(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(f())
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

pub fn sh(args: &[&str]) -> String {
    let out = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", args.join(" ")));
    assert!(
        out.status.success(),
        "{} failed: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn a6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

pub fn list(segs: &[&str], weight: u32) -> SegmentList {
    SegmentList {
        segments: segs.iter().map(|s| a6(s)).collect(),
        weight,
    }
}

pub fn sid(s: &str, behavior: LocalBehavior) -> LocalSid {
    LocalSid {
        sid: a6(s),
        behavior,
        table: 254,
    }
}

pub fn steer(prefix: &str, table: u32, bsid: &str) -> Steering {
    Steering {
        table,
        prefix: prefix.parse().unwrap(),
        bsid: a6(bsid),
    }
}

/// How to diff for `dp` (the nexthop mode has no inline policies).
pub fn opts(dp: &KernelDataplane) -> DiffOptions {
    DiffOptions {
        keep_extra: false,
        inline_policies: dp.capabilities().inline_policies,
    }
}

/// The kernel backend with nexthop objects (`nexthops`) or per-route encapsulation.
pub fn open(nexthops: bool) -> KernelDataplane {
    open_with(nexthops, KernelOptions::default())
}

/// [`open`] with options.
pub fn open_with(nexthops: bool, o: KernelOptions) -> KernelDataplane {
    let dp = if nexthops {
        KernelDataplane::new(o).unwrap()
    } else {
        KernelDataplane::new_per_route(o).unwrap()
    };
    assert_eq!(dp.capabilities().inline_policies, !nexthops);
    dp
}

pub async fn apply_ok(dp: &mut KernelDataplane, changes: &[Change]) {
    let r = dp.apply(changes).await;
    assert_eq!(r.len(), changes.len());
    for (c, r) in changes.iter().zip(&r) {
        assert!(r.is_ok(), "{c:?}: {r:?}");
    }
}

/// Two nodes over an IPv6-only link (`uplink`, fd00::1 and fd00::2, MTU 1500), each with a
/// pod behind it (`pod` on the node, `eth0` in the pod: 10.K.1.2/24 and 2001:db8:K::2/64
/// behind the gateways .1 and ::1, MTU 1500). Node K has the SIDs fc00:K::4 (End.DT4) and
/// fc00:K::6 (End.DT6) and steers the other pod's prefixes into policies to the other node's
/// SIDs (binding SIDs fc00:K:b::4 and fc00:K:b::6), as sidra's kernel backend programs them;
/// its encapsulation source fc00:K::1 is an address on its `lo`. Each node's backend keeps
/// running (with its PMTU relay) until the fixture is dropped.
pub struct TwoNodes {
    /// The nodes' backends; first, so they stop before the namespaces go.
    pub running: Running,
    pub n1: Netns,
    pub n2: Netns,
    pub p1: Netns,
    pub p2: Netns,
}

impl TwoNodes {
    /// Build the namespaces with names from `prefix` and program both nodes (`nexthops`: with
    /// nexthop objects, otherwise per-route encapsulation).
    pub fn new(prefix: &str, nexthops: bool) -> TwoNodes {
        Self::with_options(prefix, nexthops, KernelOptions::default())
    }

    /// [`TwoNodes::new`] with the backends' options.
    pub fn with_options(prefix: &str, nexthops: bool, o: KernelOptions) -> TwoNodes {
        let mut t = TwoNodes {
            running: Running::default(),
            n1: Netns::new(prefix),
            n2: Netns::new(prefix),
            p1: Netns::new(prefix),
            p2: Netns::new(prefix),
        };
        let (n1, n2) = (&t.n1, &t.n2);
        sh(&[
            "ip", "-n", &n1.0, "link", "add", "uplink", "type", "veth", "peer", "name", "uplink",
            "netns", &n2.0,
        ]);
        for (node, pod, i) in [(&t.n1, &t.p1, 1), (&t.n2, &t.p2, 2)] {
            node.ip(&["link", "set", "uplink", "up"]);
            node.sysctl(&[
                "net.ipv6.conf.uplink.seg6_enabled=1",
                "net.ipv4.conf.uplink.rp_filter=0",
            ]);
            let fabric = format!("fd00::{i}/64");
            node.ip(&["addr", "add", &fabric, "dev", "uplink", "nodad"]);
            let tunsrc = format!("fc00:{i}::1/128");
            node.ip(&["addr", "add", &tunsrc, "dev", "lo", "nodad"]);
            sh(&[
                "ip", "-n", &node.0, "link", "add", "pod", "type", "veth", "peer", "name", "eth0",
                "netns", &pod.0,
            ]);
            node.ip(&["link", "set", "pod", "up"]);
            node.ip(&["addr", "add", &format!("10.{i}.1.1/24"), "dev", "pod"]);
            let gw6 = format!("2001:db8:{i}::1/64");
            node.ip(&["addr", "add", &gw6, "dev", "pod", "nodad"]);
            pod.ip(&["link", "set", "eth0", "up"]);
            pod.ip(&["addr", "add", &format!("10.{i}.1.2/24"), "dev", "eth0"]);
            let addr6 = format!("2001:db8:{i}::2/64");
            pod.ip(&["addr", "add", &addr6, "dev", "eth0", "nodad"]);
            pod.ip(&["route", "add", "default", "via", &format!("10.{i}.1.1")]);
            let via6 = format!("2001:db8:{i}::1");
            pod.ip(&["-6", "route", "add", "default", "via", &via6]);
        }
        for (node, me, other) in [(&t.n1, 1, 2), (&t.n2, 2, 1)] {
            let s = Self::state(me, other);
            let o = o.clone();
            let (ready_tx, ready_rx) = std::sync::mpsc::channel();
            let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
            let thread = node.spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(async move {
                        let mut dp = open_with(nexthops, o);
                        let have = dp.read().await.unwrap();
                        let changes = diff(&have, &s, opts(&dp));
                        apply_ok(&mut dp, &changes).await;
                        assert_eq!(dp.read().await.unwrap(), s);
                        let _ = ready_tx.send(());
                        // Keep the backend (and its relay) until the fixture goes.
                        let _ = stop_rx.await;
                    })
            });
            if ready_rx.recv().is_err() {
                match thread.join() {
                    Err(p) => std::panic::resume_unwind(p),
                    Ok(()) => panic!("node {me}'s backend did not start"),
                }
            }
            t.running.stops.push(stop_tx);
            t.running.threads.push(thread);
        }
        // Resolve the node link's neighbours first (a packet waiting for ND may be lost).
        t.n1.exec(&["ping", "-6", "-c", "1", "-W", "1", "fd00::2"]);
        t
    }

    /// What node `me` holds.
    pub fn state(me: u8, other: u8) -> DataplaneState {
        let mut s = DataplaneState {
            encap_source: Some(a6(&format!("fc00:{me}::1"))),
            ..Default::default()
        };
        s.add_local_sid(sid(&format!("fc00:{me}::4"), LocalBehavior::EndDt4));
        s.add_local_sid(sid(&format!("fc00:{me}::6"), LocalBehavior::EndDt6));
        s.add_underlay(UnderlayRoute {
            prefix: format!("fc00:{other}::/48").parse().unwrap(),
            via: a6(&format!("fd00::{other}")),
        });
        let (b4, b6) = (format!("fc00:{me}:b::4"), format!("fc00:{me}:b::6"));
        s.add_policy(Policy {
            bsid: a6(&b4),
            segment_lists: vec![list(&[&format!("fc00:{other}::4")], 1)],
        });
        s.add_policy(Policy {
            bsid: a6(&b6),
            segment_lists: vec![list(&[&format!("fc00:{other}::6")], 1)],
        });
        s.add_steering(steer(&format!("10.{other}.1.0/24"), 254, &b4));
        s.add_steering(steer(&format!("2001:db8:{other}::/64"), 254, &b6));
        s
    }
}

/// Backends running on their own threads, stopped (and joined) when dropped.
#[derive(Default)]
pub struct Running {
    stops: Vec<tokio::sync::oneshot::Sender<()>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stops.clear();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
