//! The injector and the sink: `sidra-bench peers ...`, run by the harness inside the injector
//! namespace (`ip netns exec`), driven over stdin/stdout one line at a time.
//!
//! It pre-encodes every stream, opens K injector sessions and the sink session (each from its
//! own address, a minimal OPEN/KEEPALIVE handshake), prints `ready`, then on `announce` /
//! `withdraw` writes every peer's stream at once (one thread per peer, released together) and
//! prints `sent FIRST_NS LAST_NS` (wall-clock nanoseconds of the first and last byte written).
//! The sinks (route-reflector clients of the target, usually one) print `sink full NS` when the
//! last of them holds every prefix, `sink empty NS` when a withdraw phase emptied the last one. `quit` (or end of input) exits, which closes every session.

use std::io::{BufRead, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::stream::{Encoded, Family, StreamSpec, encode};
use crate::wire::{self, Counter, KEEPALIVE, NOTIFICATION, OPEN};

/// Our AS (iBGP with the target).
pub const ASN: u32 = 65000;
/// How long the handshake of all sessions may take.
const HANDSHAKE: Duration = Duration::from_secs(60);
/// Longest line-free wait on stdin: a phase is at most this long.
const MAX_SESSION_LIFE: Duration = Duration::from_secs(3600);

/// Addresses of the topology (see topo.rs): the target, the injector's link address (the next
/// hop of every route), injector peer `k` (0-based) and the sink.
pub fn target_addr() -> Ipv6Addr {
    Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)
}
pub fn next_hop6() -> Ipv6Addr {
    Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2)
}
pub fn next_hop4() -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, 2)
}
pub fn peer_addr(k: usize) -> Ipv6Addr {
    Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 2, 1 + k as u16)
}
/// Sink `j` (0-based): a route-reflector client of the target.
pub fn sink_addr(j: usize) -> Ipv6Addr {
    Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 3, 1 + j as u16)
}

pub fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// What the `peers` subcommand is told.
#[derive(Clone, Debug)]
pub struct PeersArgs {
    pub family: Family,
    pub peers: usize,
    pub prefixes: usize,
    pub per_update: usize,
    /// IPv6 with an SRv6 Prefix-SID (see [`StreamSpec::prefix_sid`]).
    pub prefix_sid: bool,
    /// Every peer its own prefixes (see [`StreamSpec::distinct`]).
    pub distinct: bool,
    /// Sink sessions (0 = none).
    pub sinks: usize,
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn read_message(s: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut head = [0u8; 19];
    s.read_exact(&mut head).map_err(|e| format!("read: {e}"))?;
    let len = wire::message_len(&head)?.unwrap_or(19);
    let mut msg = head.to_vec();
    msg.resize(len, 0);
    s.read_exact(&mut msg[19..])
        .map_err(|e| format!("read: {e}"))?;
    Ok(msg)
}

/// Connect from `local` to the target (retrying while it is not listening yet) and exchange
/// OPEN and KEEPALIVE.
fn session(
    local: Ipv6Addr,
    id: Ipv4Addr,
    family: Family,
    deadline: Instant,
) -> Result<TcpStream, String> {
    let target = SocketAddr::new(IpAddr::V6(target_addr()), 179);
    let mut last = String::new();
    while Instant::now() < deadline {
        match connect_from(local, target) {
            Ok(mut s) => match handshake(&mut s, id, family) {
                Ok(()) => return Ok(s),
                Err(e) => last = e,
            },
            Err(e) => last = e,
        }
        thread::sleep(Duration::from_millis(200));
    }
    Err(format!("session from {local}: {last}"))
}

/// A TCP connection from `local` (the target knows each peer by its address; std cannot bind
/// before connecting, socket2 can).
fn connect_from(local: Ipv6Addr, target: SocketAddr) -> Result<TcpStream, String> {
    use socket2::{Domain, Protocol, SockAddr, Socket, Type};
    let s = Socket::new(Domain::IPV6, Type::STREAM, Some(Protocol::TCP))
        .map_err(|e| format!("socket: {e}"))?;
    let from = SocketAddr::new(IpAddr::V6(local), 0);
    s.bind(&SockAddr::from(from))
        .map_err(|e| format!("bind {local}: {e}"))?;
    s.connect_timeout(&SockAddr::from(target), Duration::from_secs(2))
        .map_err(|e| format!("connect {target} from {local}: {e}"))?;
    Ok(s.into())
}

fn handshake(s: &mut TcpStream, id: Ipv4Addr, family: Family) -> Result<(), String> {
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    s.write_all(&wire::open(ASN, id, family))
        .map_err(|e| format!("write OPEN: {e}"))?;
    let mut got_open = false;
    for _ in 0..16 {
        let m = read_message(s)?;
        match m[18] {
            OPEN => {
                got_open = true;
                s.write_all(&wire::keepalive())
                    .map_err(|e| format!("write KEEPALIVE: {e}"))?;
            }
            KEEPALIVE if got_open => {
                s.set_read_timeout(None).map_err(|e| e.to_string())?;
                let _ = s.set_nodelay(true);
                return Ok(());
            }
            NOTIFICATION => {
                return Err(format!(
                    "NOTIFICATION {}/{}",
                    m.get(19).unwrap_or(&0),
                    m.get(20).unwrap_or(&0)
                ));
            }
            _ => {}
        }
    }
    Err("no KEEPALIVE after OPEN".into())
}

/// Read and drop what the target sends an injector session; report a NOTIFICATION.
fn drain(k: usize, mut s: TcpStream) {
    thread::spawn(move || {
        let start = Instant::now();
        while start.elapsed() < MAX_SESSION_LIFE {
            match read_message(&mut s) {
                Ok(m) if m[18] == NOTIFICATION => {
                    say(&format!(
                        "error peer {k}: NOTIFICATION {}/{}",
                        m[19],
                        m.get(20).unwrap_or(&0)
                    ));
                    return;
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
}

/// Count what the target sends one sink; report when the last of `sinks` sinks holds all
/// `expected` prefixes (`full` counts the full ones) and when the last one is empty again.
fn sink_reader(mut s: TcpStream, expected: usize, full_sinks: Arc<AtomicUsize>, sinks: usize) {
    thread::spawn(move || {
        let mut counter = Counter::default();
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
        let mut chunk = vec![0u8; 1 << 16];
        let (mut full, start) = (false, Instant::now());
        while start.elapsed() < MAX_SESSION_LIFE {
            let n = match s.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            buf.extend_from_slice(&chunk[..n]);
            let mut at = 0;
            loop {
                match wire::message_len(&buf[at..]) {
                    Ok(Some(len)) if buf.len() - at >= len => {
                        if let Err(e) = counter.feed(&buf[at..at + len]) {
                            say(&format!("error sink: {e}"));
                        }
                        at += len;
                    }
                    Ok(_) => break,
                    Err(e) => {
                        say(&format!("error sink: {e}"));
                        return;
                    }
                }
            }
            buf.drain(..at);
            let live = counter.live();
            if !full && live >= expected {
                full = true;
                if full_sinks.fetch_add(1, Ordering::SeqCst) + 1 == sinks {
                    say(&format!("sink full {} {live}", now_ns()));
                }
            } else if full && live == 0 {
                full = false;
                if full_sinks.fetch_sub(1, Ordering::SeqCst) == 1 {
                    say(&format!("sink empty {}", now_ns()));
                }
            }
        }
    });
}

/// A session's writer, shared by the stream writer and the keepalive thread (which writes
/// between whole chunks of messages).
type Writer = Arc<Mutex<TcpStream>>;

/// Chunks of whole messages of about 64 KiB.
fn chunks(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let (mut start, mut at) = (0, 0);
    while let Ok(Some(len)) = wire::message_len(&bytes[at..]) {
        at += len;
        if at - start >= 1 << 16 || at >= bytes.len() {
            out.push(&bytes[start..at]);
            start = at;
        }
        if at >= bytes.len() {
            break;
        }
    }
    out
}

fn write_stream(w: &Writer, bytes: &[u8]) -> Result<u128, String> {
    for c in chunks(bytes) {
        let mut s = w.lock().map_err(|_| "writer lock poisoned".to_string())?;
        s.write_all(c).map_err(|e| e.to_string())?;
    }
    Ok(now_ns())
}

/// Send a KEEPALIVE on every session every [`wire::KEEPALIVE_EVERY`] seconds.
fn keepalives(writers: Vec<Writer>) {
    thread::spawn(move || {
        let start = Instant::now();
        while start.elapsed() < MAX_SESSION_LIFE {
            thread::sleep(Duration::from_secs(wire::KEEPALIVE_EVERY));
            for w in &writers {
                if let Ok(mut s) = w.lock() {
                    let _ = s.write_all(&wire::keepalive());
                }
            }
        }
    });
}

/// Write each stream on its session at once; returns (first byte, last byte) times.
fn blast(sessions: &[Writer], streams: Vec<Arc<Vec<u8>>>) -> Result<(u128, u128), String> {
    let barrier = Arc::new(Barrier::new(sessions.len() + 1));
    let (tx, rx) = mpsc::channel();
    for (w, bytes) in sessions.iter().zip(streams) {
        let (barrier, tx, w) = (barrier.clone(), tx.clone(), w.clone());
        thread::spawn(move || {
            barrier.wait();
            let _ = tx.send(write_stream(&w, &bytes));
        });
    }
    drop(tx);
    let first = now_ns();
    barrier.wait();
    let mut last = first;
    for r in rx.iter().take(sessions.len()) {
        last = last.max(r?);
    }
    Ok((first, last))
}

/// The `peers` subcommand.
pub fn run(a: &PeersArgs) -> Result<(), String> {
    let t = Instant::now();
    let encoded: Vec<Encoded> = (0..a.peers)
        .map(|peer| {
            encode(&StreamSpec {
                family: a.family,
                prefixes: a.prefixes,
                per_update: a.per_update,
                peer,
                next_hop4: next_hop4(),
                next_hop6: next_hop6(),
                prefix_sid: a.prefix_sid,
                distinct: a.distinct,
            })
        })
        .collect();
    let bytes: usize = encoded.iter().map(|e| e.announce.len()).sum();
    let msgs: usize = encoded.iter().map(|e| e.announce_messages).sum();
    say(&format!(
        "encoded {bytes} {msgs} {}",
        t.elapsed().as_millis()
    ));
    let deadline = Instant::now() + HANDSHAKE;
    let mut sessions = Vec::with_capacity(a.peers);
    for k in 0..a.peers {
        let id = Ipv4Addr::new(10, 1, (k / 250) as u8, 1 + (k % 250) as u8);
        let s = session(peer_addr(k), id, a.family, deadline)?;
        drain(k, s.try_clone().map_err(|e| e.to_string())?);
        sessions.push(Arc::new(Mutex::new(s)));
    }
    let mut all = sessions.clone();
    // Every sink holds every prefix: each peer's own (distinct) or the one shared set.
    let expected = if a.distinct {
        a.peers * a.prefixes
    } else {
        a.prefixes
    };
    let full_sinks = Arc::new(AtomicUsize::new(0));
    for j in 0..a.sinks {
        let id = Ipv4Addr::new(10, 2, (j / 250) as u8, 1 + (j % 250) as u8);
        let s = session(sink_addr(j), id, a.family, deadline)?;
        let reader = s.try_clone().map_err(|e| e.to_string())?;
        sink_reader(reader, expected, full_sinks.clone(), a.sinks);
        all.push(Arc::new(Mutex::new(s)));
    }
    keepalives(all);
    let (announce, withdraw): (Vec<_>, Vec<_>) = encoded
        .into_iter()
        .map(|e| (Arc::new(e.announce), Arc::new(e.withdraw)))
        .unzip();
    say("ready");
    for line in std::io::stdin().lock().lines().take(16) {
        let line = line.map_err(|e| e.to_string())?;
        let streams = match line.trim() {
            "announce" => announce.clone(),
            "withdraw" => withdraw.clone(),
            _ => return Ok(()),
        };
        let (first, last) = blast(&sessions, streams)?;
        say(&format!("sent {first} {last}"));
    }
    Ok(())
}
