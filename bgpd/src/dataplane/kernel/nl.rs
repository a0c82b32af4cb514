//! A blocking netlink socket that pipelines requests: many messages are written with one
//! `sendmsg` (the kernel handles them in order and keeps going after a failed one), only the
//! last of each chunk asks for an ACK, and the errors are mapped back to their requests by
//! sequence number. Dumps and single requests with a reply are here too.

use std::io;
use std::time::Duration;

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_MULTIPART, NLM_F_REQUEST, NLMSG_DONE,
    NLMSG_ERROR, NetlinkDeserializable, NetlinkHeader, NetlinkMessage, NetlinkPayload,
    NetlinkSerializable,
};
use netlink_sys::{Socket, SocketAddr};

/// Most requests written by one `sendmsg` (the ACK queue of a chunk must fit the socket's
/// receive buffer even if every request fails).
const CHUNK_MESSAGES: usize = 256;
/// Most bytes written by one `sendmsg` (below the default socket send buffer).
const CHUNK_BYTES: usize = 96 * 1024;
/// A reply that takes longer than this is given up (the kernel answers synchronously).
const RECV_TIMEOUT: Duration = Duration::from_secs(5);
/// Most attempts at a dump interrupted by concurrent changes (`NLM_F_DUMP_INTR`).
const DUMP_ATTEMPTS: usize = 5;

const NLMSG_HDR_LEN: usize = 16;
/// `NLMSGERR_ATTR_MSG`: the extended ACK's message.
const NLMSGERR_ATTR_MSG: u16 = 1;

/// A failed netlink request: the errno and the kernel's extended ACK message, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct NlError {
    pub errno: i32,
    pub msg: Option<String>,
}

impl NlError {
    pub fn other(errno: i32, msg: impl Into<String>) -> Self {
        NlError {
            errno,
            msg: Some(msg.into()),
        }
    }

    fn io(e: &io::Error) -> Self {
        NlError {
            errno: e.raw_os_error().unwrap_or(libc_eio()),
            msg: None,
        }
    }

    /// `Invalid argument` or `Invalid argument: <extended ACK message>`.
    pub fn describe(&self) -> String {
        let base = errno_text(self.errno);
        match &self.msg {
            Some(m) if !m.is_empty() => format!("{base}: {m}"),
            _ => base,
        }
    }
}

/// The errno's text without Rust's " (os error N)".
pub(super) fn errno_text(errno: i32) -> String {
    let s = io::Error::from_raw_os_error(errno).to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

pub(super) const EIO: i32 = 5;
pub(super) const ENOENT: i32 = 2;
pub(super) const ESRCH: i32 = 3;
pub(super) const EINVAL: i32 = 22;
pub(super) const ENETUNREACH: i32 = 101;

const fn libc_eio() -> i32 {
    EIO
}

/// One netlink socket of a protocol (`NETLINK_ROUTE` or `NETLINK_GENERIC`).
pub(super) struct Netlink {
    sock: Socket,
    seq: u32,
    rx: Vec<u8>,
    tx: Vec<u8>,
}

impl Netlink {
    pub fn open(protocol: isize) -> io::Result<Self> {
        let mut sock = Socket::new(protocol)?;
        sock.bind_auto()?;
        sock.connect(&SocketAddr::new(0, 0))?;
        // Best effort: error messages from the kernel and small ACKs.
        let _ = sock.set_ext_ack(true);
        let _ = sock.set_cap_ack(true);
        let _ = sock.set_rx_buf_sz(8usize << 20);
        socket2::SockRef::from(&sock).set_read_timeout(Some(RECV_TIMEOUT))?;
        Ok(Netlink {
            sock,
            seq: 1,
            rx: Vec::with_capacity(1 << 20),
            tx: Vec::with_capacity(CHUNK_BYTES + 4096),
        })
    }

    /// Ask the kernel to filter dumps by the request's header (rtm_protocol, RTA_TABLE).
    pub fn set_strict_check(&self) -> io::Result<()> {
        self.sock.set_netlink_get_strict_chk(true)
    }

    fn next_seq(&mut self) -> u32 {
        let s = self.seq;
        self.seq = self.seq.wrapping_add(1).max(1);
        s
    }

    /// Send every message (its flags besides REQUEST/ACK set by the caller) and report one
    /// result per message, in order.
    pub fn batch<I: NetlinkSerializable + std::fmt::Debug>(
        &mut self,
        msgs: Vec<NetlinkMessage<I>>,
    ) -> Vec<Result<(), NlError>> {
        let n = msgs.len();
        let mut results: Vec<Result<(), NlError>> = vec![Ok(()); n];
        let mut iter = msgs.into_iter().enumerate();
        let mut sent_all = n == 0;
        while !sent_all {
            self.tx.clear();
            // (index in `results`, sequence number) of this chunk's messages.
            let mut chunk: Vec<(usize, u32)> = Vec::new();
            for (i, mut m) in iter.by_ref() {
                let seq = self.next_seq();
                m.header.sequence_number = seq;
                m.header.flags |= NLM_F_REQUEST;
                let last =
                    chunk.len() + 1 >= CHUNK_MESSAGES || i + 1 == n || self.tx.len() >= CHUNK_BYTES;
                if last {
                    m.header.flags |= NLM_F_ACK;
                }
                m.finalize();
                let start = self.tx.len();
                self.tx.resize(start + m.buffer_len(), 0);
                m.serialize(&mut self.tx[start..]);
                chunk.push((i, seq));
                sent_all = i + 1 == n;
                if last {
                    break;
                }
            }
            let (first_seq, last_seq) = match (chunk.first(), chunk.last()) {
                (Some(f), Some(l)) => (f.1, l.1),
                _ => break,
            };
            if let Err(e) = self.sock.send(&self.tx, 0) {
                let err = NlError::io(&e);
                for (i, _) in &chunk {
                    results[*i] = Err(err.clone());
                }
                continue;
            }
            let lost = self.collect_acks(first_seq, last_seq, |seq, err| {
                let k = seq.wrapping_sub(first_seq) as usize;
                if let Some((i, _)) = chunk.get(k) {
                    results[*i] = Err(err);
                }
            });
            if let Some(e) = lost {
                // Some results were lost: report the chunk's unconfirmed requests as failed
                // (the reconciler reads the kernel again and retries).
                for (i, _) in &chunk {
                    if results[*i].is_ok() {
                        results[*i] = Err(NlError::other(
                            e.errno,
                            format!("result unknown ({})", e.describe()),
                        ));
                    }
                }
            }
        }
        results
    }

    /// Read until the ACK of `last_seq`, reporting every error of `first_seq..=last_seq`.
    /// `Some` if receiving failed before (results may be lost).
    fn collect_acks(
        &mut self,
        first_seq: u32,
        last_seq: u32,
        mut on_error: impl FnMut(u32, NlError),
    ) -> Option<NlError> {
        // Bounded: at most one datagram per request plus a few others.
        let max_reads = (last_seq.wrapping_sub(first_seq) as usize + 1) * 2 + 16;
        for _ in 0..max_reads {
            self.rx.clear();
            if let Err(e) = self.sock.recv(&mut self.rx, 0) {
                return Some(NlError::io(&e));
            }
            let mut done = false;
            for (hdr, body) in messages(&self.rx) {
                if hdr.message_type != NLMSG_ERROR {
                    continue;
                }
                let seq = hdr.sequence_number;
                if seq.wrapping_sub(first_seq) > last_seq.wrapping_sub(first_seq) {
                    continue;
                }
                let (code, msg) = parse_error(hdr.flags, body);
                if code != 0 {
                    on_error(seq, NlError { errno: -code, msg });
                }
                if seq == last_seq {
                    done = true;
                }
            }
            if done {
                return None;
            }
        }
        Some(NlError::other(EIO, "too many replies"))
    }

    /// Send one request and collect its replies: a dump (until NLMSG_DONE, restarted if
    /// interrupted) or a single answer.
    pub fn request<I>(&mut self, msg: NetlinkMessage<I>) -> Result<Vec<I>, NlError>
    where
        I: NetlinkSerializable + NetlinkDeserializable + Clone,
    {
        let dump = msg.header.flags & NLM_F_DUMP == NLM_F_DUMP;
        for _ in 0..DUMP_ATTEMPTS {
            match self.request_once(msg.clone(), dump)? {
                Some(out) => return Ok(out),
                None => continue,
            }
        }
        Err(NlError::other(EIO, "the dump was interrupted too often"))
    }

    fn request_once<I>(
        &mut self,
        mut msg: NetlinkMessage<I>,
        dump: bool,
    ) -> Result<Option<Vec<I>>, NlError>
    where
        I: NetlinkSerializable + NetlinkDeserializable,
    {
        let seq = self.next_seq();
        msg.header.sequence_number = seq;
        msg.header.flags |= NLM_F_REQUEST;
        msg.finalize();
        self.tx.clear();
        self.tx.resize(msg.buffer_len(), 0);
        msg.serialize(&mut self.tx);
        self.sock.send(&self.tx, 0).map_err(|e| NlError::io(&e))?;
        let mut out = Vec::new();
        let mut interrupted = false;
        // Bounded: a dump of a few million routes at most.
        for _ in 0..1_000_000 {
            self.rx.clear();
            self.sock
                .recv(&mut self.rx, 0)
                .map_err(|e| NlError::io(&e))?;
            for (hdr, body) in messages(&self.rx) {
                if hdr.sequence_number != seq {
                    continue;
                }
                if hdr.flags & NLM_F_DUMP_INTR != 0 {
                    interrupted = true;
                }
                match hdr.message_type {
                    NLMSG_ERROR => {
                        let (code, m) = parse_error(hdr.flags, body);
                        if code != 0 {
                            return Err(NlError {
                                errno: -code,
                                msg: m,
                            });
                        }
                        return Ok(Some(out));
                    }
                    NLMSG_DONE => {
                        return Ok(if interrupted { None } else { Some(out) });
                    }
                    t => {
                        let m = I::deserialize(&hdr, body).map_err(|e| {
                            NlError::other(EIO, format!("cannot parse a reply: {e}"))
                        })?;
                        out.push(m);
                        let _ = t;
                        if !dump && hdr.flags & NLM_F_MULTIPART == 0 {
                            return Ok(Some(out));
                        }
                    }
                }
            }
        }
        Err(NlError::other(EIO, "the reply does not end"))
    }
}

/// A request message with `payload` and `flags` (REQUEST is added when sent).
pub(super) fn message<I: NetlinkSerializable>(payload: I, flags: u16) -> NetlinkMessage<I> {
    let mut h = NetlinkHeader::default();
    h.flags = flags;
    NetlinkMessage::new(h, NetlinkPayload::InnerMessage(payload))
}

/// The netlink messages of a datagram: each header and its payload.
fn messages(buf: &[u8]) -> Vec<(NetlinkHeader, &[u8])> {
    let mut out = Vec::new();
    let mut off = 0usize;
    while off + NLMSG_HDR_LEN <= buf.len() {
        let b = &buf[off..];
        let len = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize;
        if len < NLMSG_HDR_LEN || len > b.len() {
            break;
        }
        let mut h = NetlinkHeader::default();
        h.length = len as u32;
        h.message_type = u16::from_ne_bytes([b[4], b[5]]);
        h.flags = u16::from_ne_bytes([b[6], b[7]]);
        h.sequence_number = u32::from_ne_bytes([b[8], b[9], b[10], b[11]]);
        h.port_number = u32::from_ne_bytes([b[12], b[13], b[14], b[15]]);
        out.push((h, &b[NLMSG_HDR_LEN..len]));
        off += (len + 3) & !3;
    }
    out
}

/// An NLMSG_ERROR body: the (negative) error code and the extended ACK message.
fn parse_error(flags: u16, body: &[u8]) -> (i32, Option<String>) {
    if body.len() < 4 {
        return (-EIO, None);
    }
    let code = i32::from_ne_bytes([body[0], body[1], body[2], body[3]]);
    // struct nlmsgerr: error, then the request's header (and its payload unless capped).
    const NLM_F_CAPPED: u16 = 0x100;
    const NLM_F_ACK_TLVS: u16 = 0x200;
    if flags & NLM_F_ACK_TLVS == 0 || body.len() < 4 + NLMSG_HDR_LEN {
        return (code, None);
    }
    let orig = &body[4..];
    let orig_len = u32::from_ne_bytes([orig[0], orig[1], orig[2], orig[3]]) as usize;
    let skip = if flags & NLM_F_CAPPED != 0 {
        NLMSG_HDR_LEN
    } else {
        (orig_len + 3) & !3
    };
    let mut tlvs = orig.get(skip..).unwrap_or(&[]);
    let mut msg = None;
    while tlvs.len() >= 4 {
        let l = u16::from_ne_bytes([tlvs[0], tlvs[1]]) as usize;
        let t = u16::from_ne_bytes([tlvs[2], tlvs[3]]) & 0x3fff;
        if l < 4 || l > tlvs.len() {
            break;
        }
        if t == NLMSGERR_ATTR_MSG {
            let v = &tlvs[4..l];
            let end = v.iter().position(|&c| c == 0).unwrap_or(v.len());
            msg = Some(String::from_utf8_lossy(&v[..end]).into_owned());
        }
        tlvs = tlvs.get((l + 3) & !3..).unwrap_or(&[]);
    }
    (code, msg)
}
