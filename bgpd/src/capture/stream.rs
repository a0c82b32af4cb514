//! TCP reassembly per direction and BGP framing, for [`crate::capture`].
//!
//! Each direction (source, destination) keeps the next expected sequence number, a buffer of
//! in-order bytes not yet framed, and a bounded list of segments that arrived ahead of a hole.
//! Retransmitted and overlapping bytes are trimmed against the expected sequence number. When the
//! out-of-order list outgrows its bounds (or the capture ends with a hole), the hole is skipped,
//! the partial message is dropped and the stream resynchronises on the next BGP marker.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::CapturedMessage;
use super::net::{TCP_SYN, TcpSegment};
use crate::packet::{self, DecodeContext, HEADER_LEN, Message, OpenMessage, msg_type};

/// Out-of-order segments kept per direction before a hole is declared permanent.
const MAX_PENDING_SEGMENTS: usize = 1024;
/// Out-of-order bytes kept per direction before a hole is declared permanent.
const MAX_PENDING_BYTES: usize = 4 << 20;
/// Segments further than this ahead of the expected sequence number are ignored as bogus.
const MAX_AHEAD: u32 = 64 << 20;

/// The context to decode messages flowing toward a receiver, once both OPENs have been seen:
/// `receiver_sent` is the OPEN the receiving side sent, `sender_sent` the one it received.
fn negotiated_context(receiver_sent: &OpenMessage, sender_sent: &OpenMessage) -> DecodeContext {
    packet::open::negotiate(receiver_sent, sender_sent).decode_context()
}

/// Sequence-number difference `a - b`, as a signed distance (RFC 9293 §3.4 modular arithmetic).
fn seq_diff(a: u32, b: u32) -> i64 {
    i64::from(a.wrapping_sub(b) as i32)
}

struct Pending {
    seq: u32,
    data: Vec<u8>,
    time: f64,
    index: u64,
}

#[derive(Default)]
struct Direction {
    /// Next expected sequence number, once known.
    next_seq: Option<u32>,
    /// In-order bytes not yet framed into messages.
    buf: Vec<u8>,
    /// Segments received ahead of `next_seq`.
    pending: Vec<Pending>,
    pending_bytes: usize,
    /// Looking for a marker after a hole or a framing error.
    resync: bool,
    /// The initial sequence number of the connection, to tell a retransmitted SYN from a new
    /// connection on the same addresses and ports.
    isn: Option<u32>,
}

/// The OPEN each endpoint of one TCP connection sent.
#[derive(Default)]
struct Opens(HashMap<SocketAddr, OpenMessage>);

/// Reassembles BGP messages out of TCP segments, in capture order.
pub(crate) struct Reassembler {
    extra_ports: Vec<u16>,
    dirs: HashMap<(SocketAddr, SocketAddr), Direction>,
    opens: HashMap<(SocketAddr, SocketAddr), Opens>,
    out: Vec<(u64, CapturedMessage)>,
    pub notes: Vec<String>,
}

fn pair_key(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

impl Reassembler {
    pub fn new(extra_ports: &[u16]) -> Self {
        Reassembler {
            extra_ports: extra_ports.to_vec(),
            dirs: HashMap::new(),
            opens: HashMap::new(),
            out: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn is_bgp(&self, s: &TcpSegment<'_>) -> bool {
        let bgp = |p: u16| p == 179 || self.extra_ports.contains(&p);
        bgp(s.src.port()) || bgp(s.dst.port())
    }

    /// Feed one TCP segment, the `index`-th packet of the capture, captured at `time`.
    pub fn segment(&mut self, time: f64, index: u64, seg: &TcpSegment<'_>) {
        if !self.is_bgp(seg) {
            return;
        }
        let key = (seg.src, seg.dst);
        let mut seq = seg.seq;
        if seg.flags & TCP_SYN != 0 {
            let d = self.dirs.entry(key).or_default();
            if d.isn != Some(seg.seq) {
                // A new connection on the same addresses and ports: a new BGP session.
                *d = Direction {
                    next_seq: Some(seg.seq.wrapping_add(1)),
                    isn: Some(seg.seq),
                    ..Direction::default()
                };
                self.opens.remove(&pair_key(seg.src, seg.dst));
            }
            seq = seg.seq.wrapping_add(1);
        }
        if seg.payload.is_empty() {
            return;
        }
        let d = self.dirs.entry(key).or_default();
        let next = match d.next_seq {
            Some(n) => n,
            None => {
                // Joined mid-stream: the first bytes may be the tail of a message.
                d.resync = true;
                d.next_seq = Some(seq);
                self.notes.push(format!(
                    "{} -> {}: no SYN seen, resynchronising on the first BGP marker",
                    seg.src, seg.dst
                ));
                seq
            }
        };
        let diff = seq_diff(seq, next);
        if diff > 0 {
            if diff > i64::from(MAX_AHEAD) {
                return;
            }
            d.pending_bytes += seg.payload.len();
            d.pending.push(Pending {
                seq,
                data: seg.payload.to_vec(),
                time,
                index,
            });
            if d.pending.len() > MAX_PENDING_SEGMENTS || d.pending_bytes > MAX_PENDING_BYTES {
                self.skip_hole(key, Some((time, index)));
            }
            return;
        }
        let skip = usize::try_from(-diff).unwrap_or(usize::MAX);
        if skip >= seg.payload.len() {
            return; // a retransmission of bytes already delivered
        }
        self.deliver(key, &seg.payload[skip..], time, index);
        self.drain_pending(key, Some((time, index)));
    }

    /// Append in-order bytes to a direction and frame whatever messages are complete.
    fn deliver(&mut self, key: (SocketAddr, SocketAddr), data: &[u8], time: f64, index: u64) {
        let Some(d) = self.dirs.get_mut(&key) else {
            return;
        };
        d.next_seq = d.next_seq.map(|n| n.wrapping_add(data.len() as u32));
        d.buf.extend_from_slice(data);
        self.frame(key, time, index);
    }

    /// Move pending segments that are now in order into the stream. Messages they complete are
    /// stamped with the packet that triggered the move (`trigger`), or else their own packet.
    fn drain_pending(&mut self, key: (SocketAddr, SocketAddr), trigger: Option<(f64, u64)>) {
        // Each round removes one pending segment, so this ends after at most len + 1 rounds.
        for _ in 0..=MAX_PENDING_SEGMENTS + 1 {
            let Some(d) = self.dirs.get_mut(&key) else {
                return;
            };
            let Some(next) = d.next_seq else { return };
            let Some(pos) = d.pending.iter().position(|p| seq_diff(p.seq, next) <= 0) else {
                return;
            };
            let p = d.pending.swap_remove(pos);
            d.pending_bytes = d.pending_bytes.saturating_sub(p.data.len());
            let skip = usize::try_from(-seq_diff(p.seq, next)).unwrap_or(usize::MAX);
            if skip < p.data.len() {
                let (time, index) = trigger.unwrap_or((p.time, p.index));
                self.deliver(key, &p.data[skip..], time, index);
            }
        }
    }

    /// Give up on the hole before the earliest pending segment and continue after it.
    fn skip_hole(&mut self, key: (SocketAddr, SocketAddr), trigger: Option<(f64, u64)>) {
        let Some(d) = self.dirs.get_mut(&key) else {
            return;
        };
        let Some(next) = d.next_seq else { return };
        let Some(first) = d
            .pending
            .iter()
            .map(|p| p.seq)
            .min_by_key(|&s| seq_diff(s, next))
        else {
            return;
        };
        self.notes.push(format!(
            "{} -> {}: {} bytes missing from the capture; {} buffered bytes dropped, resynchronising",
            key.0,
            key.1,
            seq_diff(first, next),
            d.buf.len()
        ));
        d.buf.clear();
        d.resync = true;
        d.next_seq = Some(first);
        self.drain_pending(key, trigger);
    }

    /// The negotiated decode context for messages from `src` to `dst`, once both OPENs are known.
    fn context(&self, src: SocketAddr, dst: SocketAddr) -> Option<DecodeContext> {
        let opens = self.opens.get(&pair_key(src, dst))?;
        Some(negotiated_context(opens.0.get(&dst)?, opens.0.get(&src)?))
    }

    /// Cut complete messages off the front of a direction's buffer.
    fn frame(&mut self, key: (SocketAddr, SocketAddr), time: f64, index: u64) {
        let rounds = self.dirs.get(&key).map_or(0, |d| d.buf.len()) + 1;
        // Every round but the last consumes at least one byte.
        for _ in 0..rounds {
            // An OPEN framed in an earlier round may have completed the negotiation.
            let cx = self.context(key.0, key.1).unwrap_or_default();
            let Some(d) = self.dirs.get_mut(&key) else {
                return;
            };
            if d.resync {
                match find_marker(&d.buf, cx.max_message_len) {
                    Marker::Found(at) => {
                        d.buf.drain(..at);
                        d.resync = false;
                    }
                    Marker::Partial(at) => {
                        d.buf.drain(..at);
                        return;
                    }
                    Marker::None => {
                        d.buf.clear();
                        return;
                    }
                }
            }
            match packet::frame_len(&d.buf, cx.max_message_len) {
                Ok(Some(len)) if d.buf.len() >= len => {
                    let bytes: Vec<u8> = d.buf.drain(..len).collect();
                    self.emit(key, bytes, time, index);
                }
                Ok(_) => return,
                Err(e) => {
                    // Hand the bad header on so that decoding reports the error, then resync.
                    let bytes = d.buf[..HEADER_LEN.min(d.buf.len())].to_vec();
                    d.buf.drain(..1);
                    d.resync = true;
                    self.notes
                        .push(format!("{} -> {}: {e}; resynchronising", key.0, key.1));
                    self.emit(key, bytes, time, index);
                }
            }
        }
    }

    fn emit(&mut self, key: (SocketAddr, SocketAddr), bytes: Vec<u8>, time: f64, index: u64) {
        let context = self.context(key.0, key.1);
        if bytes.get(18) == Some(&msg_type::OPEN)
            && let Ok(Message::Open(open)) = packet::decode_message(
                &bytes,
                context.as_ref().unwrap_or(&DecodeContext::default()),
            )
        {
            self.opens
                .entry(pair_key(key.0, key.1))
                .or_default()
                .0
                .insert(key.0, open);
        }
        let msg = CapturedMessage {
            timestamp: time,
            src: key.0,
            dst: key.1,
            bytes,
            context,
        };
        self.out.push((index, msg));
    }

    /// End of capture: skip remaining holes, report leftovers, return messages in capture order.
    pub fn finish(mut self) -> (Vec<CapturedMessage>, Vec<String>) {
        let mut keys: Vec<_> = self.dirs.keys().copied().collect();
        keys.sort();
        for key in keys {
            for _ in 0..=MAX_PENDING_SEGMENTS {
                match self.dirs.get(&key) {
                    Some(d) if !d.pending.is_empty() => self.skip_hole(key, None),
                    _ => break,
                }
            }
            if let Some(d) = self.dirs.get(&key)
                && !d.buf.is_empty()
                && !d.resync
            {
                self.notes.push(format!(
                    "{} -> {}: {} bytes of an incomplete message at the end of the capture",
                    key.0,
                    key.1,
                    d.buf.len()
                ));
            }
        }
        // Stable: messages completed by the same packet keep their stream order.
        self.out.sort_by_key(|(index, _)| *index);
        (self.out.into_iter().map(|(_, m)| m).collect(), self.notes)
    }
}

enum Marker {
    /// A whole plausible header starts here.
    Found(usize),
    /// The buffer ends with what may be the start of a header.
    Partial(usize),
    None,
}

/// Find the first plausible BGP header in `buf`: 16 x 0xff, a length within bounds and a known
/// type. The byte after the marker must not be 0xff, so that a run of more than 16 0xff bytes
/// matches at its end.
fn find_marker(buf: &[u8], max_len: usize) -> Marker {
    for at in 0..buf.len() {
        let rest = &buf[at..];
        if !rest.iter().take(16).all(|&b| b == 0xff) || rest.get(16) == Some(&0xff) {
            continue;
        }
        let Some(hdr) = rest.get(..HEADER_LEN) else {
            return Marker::Partial(at);
        };
        let len = usize::from(u16::from_be_bytes([hdr[16], hdr[17]]));
        if (HEADER_LEN..=max_len).contains(&len) && (1..=5).contains(&hdr[18]) {
            return Marker::Found(at);
        }
    }
    Marker::None
}
