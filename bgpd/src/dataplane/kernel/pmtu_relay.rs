//! The PMTU relay ("packet too big" relay at the SRv6 headend): pods learn the path MTU over
//! sidra's seg6 encapsulation.
//!
//! A pod packet that no longer fits the fabric after H.Encaps is dropped by the kernel without
//! a word to the pod: the seg6 encap route takes over the packet's input path (`seg6_input`),
//! so no forwarding MTU check runs for the pod packet; the encapsulated packet fails
//! `ip6_forward`'s check and its ICMPv6 "packet too big" goes to the outer source, the node's
//! encapsulation source. RFC 1191 §4 and RFC 8201 §4 need the pod to hear about it, or its
//! TCP stalls after the handshake.
//!
//! The relay reads those messages on a raw ICMPv6 socket (filtered to type 2), keeps the ones
//! about sidra's own encapsulation (the quoted outer source is the encapsulation source sidra
//! set), and sends the pod packet's source what a router would have (see [`super::ptb`]):
//! ICMPv4 "fragmentation needed" (RFC 1191 §4) or ICMPv6 "packet too big" (RFC 4443 §3.2),
//! naming the fabric MTU minus the encapsulation. It sends at most [`RATE`] messages a second
//! (RFC 4443 §2.4(f)), so a flood of oversized packets cannot make sidra an amplifier.
//!
//! The kernel delivers the "packet too big" to sidra only if the encapsulation source is an
//! address of the node (otherwise it has no route for it and drops the message): the backend
//! warns when it is not.
//!
//! Needs CAP_NET_RAW. Without it the relay logs once and stays off; everything else works.
//! A socket error or a panic restarts it with backoff; it never stops the daemon.

use std::io::{self, Read};
use std::net::{Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::time::{Duration, Instant};

use metrics::counter;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tokio::io::unix::AsyncFd;
use tokio::sync::watch;
use tokio::task::AbortHandle;
use tracing::{debug, error, info, warn};

use super::ptb::{self, Ignored, Relay};

/// Messages relayed per second at most (a token bucket of [`BURST`]).
pub(crate) const RATE: f64 = 100.0;
pub(crate) const BURST: f64 = 100.0;
/// Backoff before reopening the sockets after an error, doubling up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// `IPPROTO_RAW`: a send-only raw IPv4 socket (raw(7)), so it queues none of the node's ICMP.
const IPPROTO_RAW: i32 = 255;

/// Register the relay's counters (at zero until they count something), so they are exported
/// before the first message (the telemetry refresher calls it while an SRv6 service runs).
pub fn register_metrics() {
    for family in ["ipv4", "ipv6"] {
        counter!("sidra_dataplane_pmtu_relayed_total", "family" => family).increment(0);
    }
    for reason in DROP_REASONS {
        counter!("sidra_dataplane_pmtu_dropped_total", "reason" => *reason).increment(0);
    }
}

/// Every `reason` of `sidra_dataplane_pmtu_dropped_total`.
pub const DROP_REASONS: &[&str] = &[
    "truncated",
    "malformed",
    "foreign_source",
    "not_srv6",
    "df_clear",
    "not_allowed",
    "rate_limited",
    "send_error",
];

fn dropped(reason: &'static str) {
    counter!("sidra_dataplane_pmtu_dropped_total", "reason" => reason).increment(1);
}

/// The running relay; stops when dropped (with the kernel backend that owns it).
pub(crate) struct PmtuRelay {
    task: AbortHandle,
}

impl Drop for PmtuRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PmtuRelay {
    /// Open the relay's sockets and start it on the current tokio runtime. `source` is the
    /// encapsulation source as programmed (`None`: not known yet, nothing is relayed). An
    /// error says why the relay is off (logged here, once).
    pub(crate) fn start(source: watch::Receiver<Option<Ipv6Addr>>) -> Result<PmtuRelay, String> {
        let rt = tokio::runtime::Handle::try_current()
            .map_err(|_| "PMTU relay off: no tokio runtime".to_string())?;
        let first = match Sockets::open() {
            Ok(s) => Some(s),
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                let why = format!(
                    "PMTU relay off: cannot open raw sockets ({e}; sidrad needs CAP_NET_RAW), so \
                     pods whose packets are too big for the fabric after SRv6 encapsulation get \
                     no \"packet too big\" / \"fragmentation needed\" (give pods a smaller MTU)"
                );
                warn!("{why}");
                return Err(why);
            }
            Err(e) => {
                warn!("PMTU relay: cannot open its sockets ({e}); retrying");
                None
            }
        };
        let task = rt.spawn(supervise(first, source));
        Ok(PmtuRelay {
            task: task.abort_handle(),
        })
    }
}

/// Aborts a task when dropped (the worker of an aborted supervisor).
struct AbortOnDrop(AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Run the relay in a task of its own (with `first`, else new sockets); after an error or a
/// panic, log and start again with backoff. Stops for good without the permission to open raw
/// sockets.
async fn supervise(mut first: Option<Sockets>, source: watch::Receiver<Option<Ipv6Addr>>) {
    let mut backoff = MIN_BACKOFF;
    loop {
        let sockets = match first.take().map_or_else(Sockets::open, Ok) {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                warn!("PMTU relay off: cannot open raw sockets ({e}; sidrad needs CAP_NET_RAW)");
                return;
            }
            Err(e) => {
                warn!("PMTU relay: cannot open its sockets ({e}); retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        let started = Instant::now();
        let worker = tokio::spawn(serve(sockets, source.clone()));
        let guard = AbortOnDrop(worker.abort_handle());
        let result = worker.await;
        drop(guard);
        if started.elapsed() > MAX_BACKOFF {
            backoff = MIN_BACKOFF;
        }
        match result {
            Ok(Ok(())) => return,
            Ok(Err(e)) => warn!("PMTU relay: socket error ({e}); restarting in {backoff:?}"),
            Err(e) if e.is_panic() => error!("PMTU relay panicked; restarting in {backoff:?}"),
            Err(_) => return,
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

struct Sockets {
    /// Raw ICMPv6: receives the "packet too big" messages, sends them to IPv6 pods.
    icmp6: Socket,
    /// Raw IPv4 (`IPPROTO_RAW`, header included): sends to IPv4 pods.
    raw4: Socket,
}

impl Sockets {
    fn open() -> io::Result<Sockets> {
        let icmp6 = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))?;
        icmp6.set_nonblocking(true)?;
        if let Err(e) = netsock::set_icmp6_filter(&icmp6, &[ptb::ICMP6_PACKET_TOO_BIG]) {
            // Not fatal: other messages are skipped in code.
            debug!("PMTU relay: no ICMPv6 type filter ({e})");
        }
        let raw4 = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(IPPROTO_RAW)))?;
        raw4.set_nonblocking(true)?;
        Ok(Sockets { icmp6, raw4 })
    }
}

/// Relay until a socket fails, or the backend is gone (`Ok`).
async fn serve(s: Sockets, source: watch::Receiver<Option<Ipv6Addr>>) -> io::Result<()> {
    // `AsyncFd::new` is deprecated since tokio 1.54 (tokio#8587) because a `T: AsRawFd` that
    // does not own its descriptor could let it be closed while registered; the replacement is
    // `unsafe`, which the workspace forbids. A `Socket` owns its descriptor and the `AsyncFd`
    // owns the `Socket`, so the descriptor lives exactly as long as the registration.
    #[allow(deprecated)]
    let icmp6 = AsyncFd::new(s.icmp6)?;
    // A "packet too big" is at most 1280 - 40 octets; anything longer is cut and still read.
    let mut buf = vec![0u8; 2048];
    let mut bucket = TokenBucket::new(RATE, BURST, Instant::now());
    let mut first = true;
    loop {
        if source.has_changed().is_err() {
            return Ok(());
        }
        let mut guard = icmp6.readable().await?;
        let n = match guard.try_io(|fd| {
            let mut sock: &Socket = fd.get_ref();
            sock.read(&mut buf)
        }) {
            Ok(r) => r?,
            Err(_would_block) => continue,
        };
        let msg = buf.get(..n).unwrap_or_default();
        let src = *source.borrow();
        let relay = match ptb::relay(msg, src) {
            Ok(r) => r,
            Err(Ignored::NotPacketTooBig) => continue,
            Err(why) => {
                debug!(reason = why.label(), encap_source = ?src, "PMTU relay: not relayed");
                dropped(why.label());
                continue;
            }
        };
        if !bucket.take(Instant::now()) {
            dropped("rate_limited");
            continue;
        }
        let (family, to, mtu, sent) = match &relay {
            Relay::V4 { to, mtu, icmp } => {
                let d = ptb::ipv4_datagram(*to, icmp);
                let r = s
                    .raw4
                    .send_to(&d, &SockAddr::from(SocketAddrV4::new(*to, 0)));
                ("ipv4", to.to_string(), u32::from(*mtu), r)
            }
            Relay::V6 { to, mtu, icmp } => {
                let addr = SockAddr::from(SocketAddrV6::new(*to, 0, 0, 0));
                let r = icmp6.get_ref().send_to(icmp, &addr);
                ("ipv6", to.to_string(), *mtu, r)
            }
        };
        match sent {
            Ok(_) => {
                counter!("sidra_dataplane_pmtu_relayed_total", "family" => family).increment(1);
                if first {
                    info!(
                        %to,
                        mtu,
                        "PMTU relay: told a pod its packet is too big for SRv6 (first time; \
                         more at debug level)"
                    );
                    first = false;
                } else {
                    debug!(%to, mtu, "PMTU relay: packet too big relayed");
                }
            }
            Err(e) => {
                debug!(%to, "PMTU relay: cannot send: {e}");
                dropped("send_error");
            }
        }
    }
}

/// A token bucket: `rate` tokens a second, at most `burst` saved.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub(crate) fn new(rate: f64, burst: f64, now: Instant) -> Self {
        TokenBucket {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Take a token if there is one.
    pub(crate) fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now.max(self.last);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_bucket_allows_the_burst_then_the_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(100.0, 100.0, t0);
        assert_eq!((0..150).filter(|_| b.take(t0)).count(), 100);
        // 10 ms later: one more.
        let t1 = t0 + Duration::from_millis(10);
        assert!(b.take(t1));
        assert!(!b.take(t1));
        // A second later: the burst again, never more.
        let t2 = t1 + Duration::from_secs(5);
        assert_eq!((0..150).filter(|_| b.take(t2)).count(), 100);
        // Time going backwards takes nothing and gives nothing.
        assert!(!b.take(t0));
    }

    #[test]
    fn drop_reasons_cover_every_ignored_message() {
        for i in [
            Ignored::Truncated,
            Ignored::Malformed,
            Ignored::ForeignSource,
            Ignored::NotSrv6,
            Ignored::DfClear,
            Ignored::NotAllowed,
        ] {
            assert!(DROP_REASONS.contains(&i.label()), "{i:?}");
        }
    }
}
