#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Path MTU discovery for pods across the SRv6 paths sidra's kernel backend programs (root
//! needed; namespaces named `kmNNN`).
//!
//! Pods and fabric have MTU 1500. SRv6 H.Encaps adds an outer IPv6 header (40 bytes) and an
//! SRH (8 + 16 per segment): 64 bytes for one SID, so the largest pod packet that fits is 1436
//! bytes. RFC 1191 §4 (IPv4) and RFC 8200 §5 / RFC 8201 (IPv6) need the node that cannot
//! forward a packet to tell its source ("fragmentation needed" with the next-hop MTU, "packet
//! too big" with the MTU); otherwise the pod's TCP stalls after the handshake.
//!
//! The kernel alone black-holes these packets, whatever the route says. A seg6 encapsulation
//! route redirects the input path (`LWTUNNEL_STATE_INPUT_REDIRECT`: the route's input is
//! `lwtunnel_input` -> `seg6_input`, not `ip_forward` / `ip6_forward`), so the inner packet's
//! size is checked nowhere and a route MTU (`RTAX_MTU`, locked or not) is never consulted for
//! forwarded packets; the encapsulated packet then fails `ip6_forward`'s MTU check and the
//! "packet too big" goes to the outer source, the node itself (checked on Linux 6.18 with both
//! steering forms, with and without `mtu lock 1436`). sidra's PMTU relay
//! (`dataplane::kernel::pmtu_relay`) turns that message into the error the pod should get;
//! this test passes because of it (and fails with `pmtu_relay: false`).

mod netns;

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use netns::{Netns, TwoNodes};

/// The largest pod packet that fits a 1500-byte fabric after H.Encaps with one SID.
const INNER_MTU: usize = 1500 - 40 - 8 - 16;
/// What the TCP check sends.
const TCP_BYTES: usize = 4 << 20;
/// How long one TCP read or write may block, and the connection may take to come.
const TCP_STALL: Duration = Duration::from_secs(5);

/// `ping` with DF set and `size` bytes of ICMP payload, once.
fn ping_df(pod: &Netns, v6: bool, dst: &str, size: usize) -> (bool, String) {
    let size = size.to_string();
    let mut args = vec!["ping"];
    if v6 {
        args.push("-6");
    }
    args.extend(["-c", "1", "-W", "2", "-M", "do", "-s", &size, dst]);
    pod.try_exec(&args)
}

/// Send [`TCP_BYTES`] from `client` to `server` listening on `addr`; the bytes the server got,
/// or what went wrong. Every wait is bounded by [`TCP_STALL`].
fn tcp_transfer(server: &Netns, client: &Netns, addr: IpAddr) -> Result<usize, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let srv = server.spawn(move || -> Result<usize, String> {
        let l = TcpListener::bind(SocketAddr::new(addr, 0)).map_err(|e| format!("bind: {e}"))?;
        let _ = tx.send(l.local_addr().map_err(|e| e.to_string())?.port());
        l.set_nonblocking(true).map_err(|e| e.to_string())?;
        let deadline = Instant::now() + TCP_STALL;
        let mut conn = loop {
            match l.accept() {
                Ok((c, _)) => break c,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if Instant::now() > deadline {
                        return Err("no connection came".to_string());
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(format!("accept: {e}")),
            }
        };
        conn.set_nonblocking(false).map_err(|e| e.to_string())?;
        conn.set_read_timeout(Some(TCP_STALL))
            .map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; 64 << 10];
        let mut got = 0usize;
        loop {
            match conn.read(&mut buf) {
                Ok(0) => return Ok(got),
                Ok(n) => got += n,
                Err(e) => return Err(format!("stalled after {got} bytes: {e}")),
            }
        }
    });
    let port = rx
        .recv_timeout(TCP_STALL)
        .map_err(|_| "the server did not start".to_string())?;
    let cli = client.spawn(move || -> Result<(), String> {
        let to = SocketAddr::new(addr, port);
        let mut c = TcpStream::connect_timeout(&to, TCP_STALL).map_err(|e| format!("{e}"))?;
        c.set_write_timeout(Some(TCP_STALL))
            .map_err(|e| e.to_string())?;
        let chunk = vec![0x5au8; 64 << 10];
        let mut sent = 0usize;
        while sent < TCP_BYTES {
            c.write_all(&chunk)
                .map_err(|e| format!("stalled after sending {sent} bytes: {e}"))?;
            sent += chunk.len();
        }
        c.shutdown(std::net::Shutdown::Write)
            .map_err(|e| e.to_string())
    });
    let sent = cli.join().map_err(|_| "the client panicked".to_string())?;
    let got = srv.join().map_err(|_| "the server panicked".to_string())?;
    sent.map_err(|e| format!("client: {e}"))?;
    got.map_err(|e| format!("server: {e}"))
}

/// Every PMTU check between the pods of `t` (pod 1 sends to pod 2, then pod 2 to pod 1 over
/// TCP with a cold path MTU cache); the failures.
fn pmtu_failures(t: &TwoNodes) -> Vec<String> {
    let mut failures = Vec::new();
    for (v6, dst, header, error) in [
        (false, "10.2.1.2", 28, "Frag needed"),
        (true, "2001:db8:2::2", 48, "Packet too big"),
    ] {
        // One byte too many: the node must say so, naming the MTU.
        let (ok, out) = ping_df(&t.p1, v6, dst, INNER_MTU - header + 1);
        let mtu = if v6 {
            format!("mtu={INNER_MTU}")
        } else {
            format!("mtu = {INNER_MTU}")
        };
        if ok || !out.contains(error) || !out.contains(&mtu) {
            failures.push(format!(
                "{dst}: a {}-byte DF packet got no {error:?} naming {mtu:?}:\n{out}",
                INNER_MTU + 1
            ));
        }
        // Exactly the MTU: answered.
        let (ok, out) = ping_df(&t.p1, v6, dst, INNER_MTU - header);
        if !ok {
            failures.push(format!(
                "{dst}: a {INNER_MTU}-byte DF packet was not answered:\n{out}"
            ));
        }
    }
    for (addr, family) in [("10.1.1.2", "IPv4"), ("2001:db8:1::2", "IPv6")] {
        match tcp_transfer(&t.p1, &t.p2, addr.parse().unwrap()) {
            Ok(n) if n == TCP_BYTES => {}
            Ok(n) => failures.push(format!("TCP over {family}: {n} of {TCP_BYTES} bytes")),
            Err(e) => failures.push(format!("TCP over {family}: {e}")),
        }
    }
    failures
}

#[test]
fn pods_discover_the_path_mtu_over_srv6() {
    let mut failures = Vec::new();
    for nexthops in [true, false] {
        let t = TwoNodes::new("km", nexthops);
        let mode = if nexthops { "nhid" } else { "per-route" };
        failures.extend(
            pmtu_failures(&t)
                .into_iter()
                .map(|f| format!("[{mode}] {f}")),
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
