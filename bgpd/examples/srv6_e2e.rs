//! End-to-end benchmark of the SRv6 data plane: a real `sidrad` (release build, kernel backend,
//! a `global` service, `underlay_prefixes = ["fc00::/16"]`) in one network namespace, and an
//! injector in another that sends N IPv4 /32 pod routes with an SRv6 Prefix-SID (End.DT4,
//! spread over 1000 remote SIDs in fc00::/16; pre-encoded, one UPDATE per SID). Measured: the
//! time from the first UPDATE byte to all N steering routes being in the kernel (the last
//! prefix looked up every 10 ms, then the routes of protocol 99 counted with a netlink dump,
//! at most every 50 ms). Fresh namespaces and a fresh sidrad for every run; JSON on stdout.
//!
//! ```sh
//! cargo build --release -p bgpd --bins --example srv6_e2e
//! sudo target/release/examples/srv6_e2e [--runs 3] [--sidrad PATH] [N...]   # default 10000 100000
//! ```

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use netlink_packet_core::{NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteMessage, RouteProtocol,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

const SIDS: usize = 1000;
const ASN: u32 = 65001;
const TIMEOUT: Duration = Duration::from_secs(60);

type Res<T> = Result<T, String>;

fn sh(args: &[&str]) -> Res<()> {
    let st = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("{}: {e}", args[0]))?;
    st.success()
        .then_some(())
        .ok_or_else(|| format!("{} failed", args.join(" ")))
}

/// The two namespaces of a run (deleted when dropped) and sidrad (killed when dropped).
struct Lab {
    node: String,
    inj: String,
    sidrad: Option<Child>,
    dir: PathBuf,
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut c) = self.sidrad.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in [&self.node, &self.inj] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
        if std::env::var_os("E2E_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn config() -> String {
    format!(
        r#"[global]
asn = {ASN}
router_id = "10.0.0.1"
listen = ["10.0.0.1:179"]

[[neighbors]]
address = "10.0.0.2"
remote_as = {ASN}
passive = true
families = ["ipv4-unicast"]

[srv6]
source_address = "fd00::1"
underlay_prefixes = ["fc00::/16"]

[[srv6.locators]]
name = "main"
prefix = "fc00:0:1:1::/64"

[[srv6.services]]
name = "pods"
mode = "global"
pods = ["10.1.1.0/24"]

[dataplane]
backend = "kernel"
kernel_protocol = 99
"#
    )
}

impl Lab {
    fn new(tag: &str, sidrad: &Path) -> Res<Lab> {
        let id = std::process::id() % 100_000;
        let mut lab = Lab {
            node: format!("se{id}{tag}a"),
            inj: format!("se{id}{tag}b"),
            sidrad: None,
            dir: std::env::temp_dir().join(format!("srv6e2e-{id}-{tag}")),
        };
        sh(&["ip", "netns", "add", &lab.node])?;
        sh(&["ip", "netns", "add", &lab.inj])?;
        let (a, b) = (lab.node.clone(), lab.inj.clone());
        let ipn = |ns: &str, args: &[&str]| -> Res<()> {
            let mut v = vec!["ip", "-n", ns];
            v.extend_from_slice(args);
            sh(&v)
        };
        ipn(&a, &["link", "set", "lo", "up"])?;
        ipn(&b, &["link", "set", "lo", "up"])?;
        ipn(
            &a,
            &[
                "link", "add", "e0", "type", "veth", "peer", "name", "e0", "netns", &b,
            ],
        )?;
        for (ns, v4, v6) in [
            (&a, "10.0.0.1/24", "fd00::1/64"),
            (&b, "10.0.0.2/24", "fd00::2/64"),
        ] {
            ipn(ns, &["link", "set", "e0", "up"])?;
            ipn(ns, &["addr", "add", v4, "dev", "e0"])?;
            ipn(ns, &["addr", "add", v6, "dev", "e0", "nodad"])?;
        }
        sh(&[
            "ip",
            "netns",
            "exec",
            &a,
            "sysctl",
            "-qw",
            "net.ipv6.conf.all.seg6_enabled=1",
            "net.ipv6.conf.all.forwarding=1",
            "net.ipv4.ip_forward=1",
        ])?;
        // The underlay to the remote SIDs.
        ipn(&a, &["-6", "route", "add", "fc00::/16", "via", "fd00::2"])?;
        std::fs::create_dir_all(&lab.dir).map_err(|e| e.to_string())?;
        let cfg = lab.dir.join("sidrad.toml");
        std::fs::write(&cfg, config()).map_err(|e| e.to_string())?;
        let log = std::fs::File::create(lab.dir.join("sidrad.log")).map_err(|e| e.to_string())?;
        let child = Command::new("ip")
            .args(["netns", "exec", &a])
            .arg(sidrad)
            .arg("--config")
            .arg(&cfg)
            .args([
                "--log",
                std::env::var("E2E_LOG").as_deref().unwrap_or("warn"),
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("{}: {e}", sidrad.display()))?;
        lab.sidrad = Some(child);
        Ok(lab)
    }

    fn sidrad_cpu(&self) -> Option<f64> {
        let pid = self.sidrad.as_ref()?.id();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let rest = &stat[stat.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
        Some(ticks / 100.0)
    }
}

/// Run `f` on a thread in namespace `ns`.
fn in_ns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> Res<T> + Send + 'static) -> Res<T> {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let fd = std::fs::File::open(&path).map_err(|e| e.to_string())?;
        nix::sched::setns(&fd, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| e.to_string())?;
        f()
    })
    .join()
    .map_err(|_| "thread panicked".to_string())?
}

fn frame(out: &mut Vec<u8>, kind: u8, body: &[u8]) {
    out.extend_from_slice(&[0xff; 16]);
    out.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
    out.push(kind);
    out.extend_from_slice(body);
}

fn attr(out: &mut Vec<u8>, flags: u8, code: u8, value: &[u8]) {
    out.extend_from_slice(&[flags, code, value.len() as u8]);
    out.extend_from_slice(value);
}

fn sid(s: usize) -> Ipv6Addr {
    Ipv6Addr::new(0xfc00, 0, 0x100 + s as u16, 1, 0x4, 0, 0, 0)
}

/// RFC 9252 Prefix-SID: an SRv6 L3 Service TLV with `sid` as End.DT4 (40/24/16/0, no
/// transposition).
fn prefix_sid(sid: Ipv6Addr) -> Vec<u8> {
    let mut sub = vec![0u8];
    sub.extend_from_slice(&sid.octets());
    sub.push(0);
    sub.extend_from_slice(&19u16.to_be_bytes());
    sub.push(0);
    sub.extend_from_slice(&[1, 0, 6, 40, 24, 16, 0, 0, 0]);
    let mut tlv = vec![0u8, 1];
    tlv.extend_from_slice(&(sub.len() as u16).to_be_bytes());
    tlv.extend_from_slice(&sub);
    let mut v = vec![5u8];
    v.extend_from_slice(&(tlv.len() as u16).to_be_bytes());
    v.extend_from_slice(&tlv);
    v
}

fn prefix(i: usize) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(100, 64, 0, 0)) + i as u32)
}

/// The UPDATEs announcing `n` /32s (prefix i behind SID i % 1000), then End-of-RIB.
fn updates(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * 6 + SIDS * 120);
    for s in 0..SIDS.min(n) {
        let mut a = Vec::new();
        attr(&mut a, 0x40, 1, &[0]);
        attr(&mut a, 0x40, 2, &[]);
        attr(&mut a, 0x40, 3, &[10, 0, 0, 2]);
        attr(&mut a, 0x40, 5, &100u32.to_be_bytes());
        attr(&mut a, 0xc0, 40, &prefix_sid(sid(s)));
        let prefixes: Vec<usize> = (s..n).step_by(SIDS).collect();
        // At most 4096 octets a message: 5 octets a /32.
        for chunk in prefixes.chunks(700) {
            let mut body = vec![0, 0];
            body.extend_from_slice(&(a.len() as u16).to_be_bytes());
            body.extend_from_slice(&a);
            for i in chunk {
                body.push(32);
                body.extend_from_slice(&prefix(*i).octets());
            }
            frame(&mut out, 2, &body);
        }
    }
    frame(&mut out, 2, &[0, 0, 0, 0]);
    out
}

fn open_msg() -> Vec<u8> {
    let caps = [1u8, 4, 0, 1, 0, 1, 65, 4, 0, 0, 0xfd, 0xe9];
    let mut body = vec![4u8];
    body.extend_from_slice(&(ASN as u16).to_be_bytes());
    body.extend_from_slice(&90u16.to_be_bytes());
    body.extend_from_slice(&[10, 0, 0, 2]);
    body.push(caps.len() as u8 + 2);
    body.extend_from_slice(&[2, caps.len() as u8]);
    body.extend_from_slice(&caps);
    let mut out = Vec::new();
    frame(&mut out, 1, &body);
    out
}

/// Connect to sidrad, exchange OPEN and KEEPALIVE, and hand back the stream (a thread drains
/// what sidrad sends).
fn session() -> Res<TcpStream> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut s = loop {
        match TcpStream::connect_timeout(
            &"10.0.0.1:179".parse().map_err(|_| "addr")?,
            Duration::from_secs(1),
        ) {
            Ok(s) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(format!("connecting to sidrad: {e}")),
        }
    };
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    s.write_all(&open_msg()).map_err(|e| e.to_string())?;
    let mut ka = Vec::new();
    frame(&mut ka, 4, &[]);
    s.write_all(&ka).map_err(|e| e.to_string())?;
    // Wait for sidrad's OPEN and KEEPALIVE.
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .map_err(|e| e.to_string())?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let mut kinds = Vec::new();
    while !kinds.contains(&4u8) {
        let n = s
            .read(&mut buf)
            .map_err(|e| format!("reading sidrad's OPEN: {e}"))?;
        if n == 0 {
            return Err("sidrad closed the session".into());
        }
        got.extend_from_slice(&buf[..n]);
        while got.len() >= 19 {
            let len = usize::from(u16::from_be_bytes([got[16], got[17]]));
            if got.len() < len {
                break;
            }
            kinds.push(got[18]);
            if got[18] == 3 {
                return Err(format!("NOTIFICATION from sidrad: {:?}", &got[19..len]));
            }
            got.drain(..len);
        }
    }
    let mut r = s.try_clone().map_err(|e| e.to_string())?;
    r.set_read_timeout(None).map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        while matches!(r.read(&mut buf), Ok(n) if n > 0) {}
    });
    Ok(s)
}

/// A netlink socket in the node's namespace: is the route to `p` sidra's, and how many IPv4
/// routes of protocol 99 there are.
struct Counter {
    sock: Socket,
    buf: Vec<u8>,
    seq: u32,
}

impl Counter {
    fn new() -> Res<Counter> {
        let mut sock = Socket::new(NETLINK_ROUTE).map_err(|e| e.to_string())?;
        sock.bind_auto().map_err(|e| e.to_string())?;
        sock.connect(&SocketAddr::new(0, 0))
            .map_err(|e| e.to_string())?;
        socket2::SockRef::from(&sock)
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        sock.set_netlink_get_strict_chk(true)
            .map_err(|e| e.to_string())?;
        Ok(Counter {
            sock,
            buf: Vec::with_capacity(1 << 20),
            seq: 1,
        })
    }

    fn send(&mut self, m: RouteMessage, flags: u16) -> Res<u32> {
        self.seq += 1;
        let mut h = NetlinkHeader::default();
        h.flags = flags | NLM_F_REQUEST;
        h.sequence_number = self.seq;
        let mut msg = NetlinkMessage::new(h, RouteNetlinkMessage::GetRoute(m).into());
        msg.finalize();
        let mut b = vec![0u8; msg.buffer_len()];
        msg.serialize(&mut b);
        self.sock.send(&b, 0).map_err(|e| e.to_string())?;
        Ok(self.seq)
    }

    /// The messages of one reply (type, payload): until DONE or ERROR, or the first one if
    /// not a dump.
    fn replies(&mut self, seq: u32, dump: bool, mut each: impl FnMut(u16, &[u8])) -> Res<()> {
        for _ in 0..1_000_000 {
            self.buf.clear();
            self.sock
                .recv(&mut self.buf, 0)
                .map_err(|e| e.to_string())?;
            let mut off = 0;
            while off + 16 <= self.buf.len() {
                let b = &self.buf[off..];
                let len = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize;
                let kind = u16::from_ne_bytes([b[4], b[5]]);
                let s = u32::from_ne_bytes([b[8], b[9], b[10], b[11]]);
                if len < 16 || len > b.len() {
                    break;
                }
                if s == seq {
                    if kind == 2 || kind == 3 {
                        return Ok(());
                    }
                    each(kind, &b[16..len]);
                    if !dump {
                        return Ok(());
                    }
                }
                off += (len + 3) & !3;
            }
        }
        Err("reply does not end".into())
    }

    fn is_ours(&mut self, p: Ipv4Addr) -> Res<bool> {
        let mut m = RouteMessage::default();
        m.header.address_family = AddressFamily::Inet;
        m.header.destination_prefix_length = 32;
        // The route as in the FIB (with its protocol), not the lookup's result.
        m.header.flags = RouteFlags::FibMatch;
        m.attributes
            .push(RouteAttribute::Destination(RouteAddress::Inet(p)));
        let seq = self.send(m, 0)?;
        let mut ours = false;
        // rtmsg: family, dst_len, src_len, tos, table, protocol, ...
        self.replies(seq, false, |kind, body| {
            ours |= kind == 24 && body.get(5) == Some(&99)
        })?;
        Ok(ours)
    }

    fn count(&mut self) -> Res<usize> {
        let mut m = RouteMessage::default();
        m.header.address_family = AddressFamily::Inet;
        m.header.protocol = RouteProtocol::from(99);
        let seq = self.send(m, NLM_F_DUMP)?;
        let mut n = 0;
        self.replies(seq, true, |kind, body| {
            if kind == 24 && body.get(5) == Some(&99) {
                n += 1;
            }
        })?;
        Ok(n)
    }
}

struct Run {
    secs: f64,
    sidrad_cpu: f64,
}

fn one_run(n: usize, tag: &str, sidrad: &Path) -> Res<Run> {
    let lab = Lab::new(tag, sidrad)?;
    let stream = updates(n);
    let node = lab.node.clone();
    // The counter waits in the node's namespace for the session's start.
    let (tx, rx) = std::sync::mpsc::channel::<Instant>();
    let counter = std::thread::spawn(move || {
        in_ns(&node, move || {
            let mut c = Counter::new()?;
            let t0 = rx
                .recv_timeout(Duration::from_secs(60))
                .map_err(|e| e.to_string())?;
            let last = prefix(n - 1);
            let mut last_dump = Instant::now() - Duration::from_secs(1);
            loop {
                if t0.elapsed() > TIMEOUT {
                    return Err(format!("not all {n} routes after {TIMEOUT:?}"));
                }
                if c.is_ours(last)? && last_dump.elapsed() >= Duration::from_millis(50) {
                    last_dump = Instant::now();
                    if c.count()? >= n {
                        return Ok(t0.elapsed());
                    }
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    });
    let inj = lab.inj.clone();
    let cpu0 = lab.sidrad_cpu().unwrap_or(0.0);
    let injector = in_ns(&inj, move || {
        let mut s = session()?;
        let t0 = Instant::now();
        let _ = tx.send(t0);
        s.write_all(&stream).map_err(|e| e.to_string())?;
        Ok(s)
    });
    let elapsed = counter.join().map_err(|_| "counter panicked".to_string())?;
    let cpu1 = lab.sidrad_cpu().unwrap_or(0.0);
    let _session = injector?;
    let elapsed = elapsed?;
    Ok(Run {
        secs: elapsed.as_secs_f64(),
        sidrad_cpu: cpu1 - cpu0,
    })
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut sizes = Vec::new();
    let mut runs = 3usize;
    let mut sidrad = std::env::current_exe()
        .ok()
        .and_then(|p| Some(p.parent()?.parent()?.join("sidrad")))
        .unwrap_or_else(|| PathBuf::from("target/release/sidrad"));
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).unwrap_or(3),
            "--sidrad" => sidrad = args.next().map(PathBuf::from).unwrap_or(sidrad),
            n => match n.parse() {
                Ok(n) => sizes.push(n),
                Err(_) => {
                    eprintln!("usage: srv6_e2e [--runs R] [--sidrad PATH] [N...]");
                    return ExitCode::from(2);
                }
            },
        }
    }
    if sizes.is_empty() {
        sizes = vec![10_000, 100_000];
    }
    let mut results = Vec::new();
    for &n in &sizes {
        let mut times = Vec::new();
        let mut cpu = Vec::new();
        for r in 0..runs {
            let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
            match one_run(n, &format!("{r}"), &sidrad) {
                Ok(run) => {
                    eprintln!(
                        "{n} routes, run {}: {:.3} s (sidrad cpu {:.2} s; loadavg before: {})",
                        r + 1,
                        run.secs,
                        run.sidrad_cpu,
                        load.trim()
                    );
                    times.push(run.secs);
                    cpu.push(run.sidrad_cpu);
                }
                Err(e) => {
                    eprintln!("srv6_e2e: {n} routes, run {}: {e}", r + 1);
                    return ExitCode::FAILURE;
                }
            }
        }
        let mut sorted = times.clone();
        sorted.sort_by(f64::total_cmp);
        results.push(serde_json::json!({
            "routes": n,
            "sids": SIDS.min(n),
            "runs_s": times,
            "median_s": sorted[sorted.len() / 2],
            "min_s": sorted[0],
            "max_s": sorted[sorted.len() - 1],
            "sidrad_cpu_s": cpu,
        }));
    }
    let out = serde_json::json!({
        "benchmark": "srv6_e2e: first UPDATE byte to all steering routes in the kernel",
        "loadavg_after": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
        "results": results,
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    ExitCode::SUCCESS
}
