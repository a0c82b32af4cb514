//! BGP messages out of packet captures (pcap and pcapng), for `sidractl decode --pcap` and tests.
//!
//! ```text
//!  pcap / pcapng records ──> link layer (Ethernet, VLAN, Linux SLL/SLL2, raw IP, BSD loopback)
//!    ──> IPv4 / IPv6 (extension headers skipped) ──> TCP, port 179 or a caller's port
//!    ──> per-direction reassembly by sequence number (duplicates trimmed, out-of-order held)
//!    ──> BGP framing with `packet::frame_len` ──> CapturedMessage, in capture order
//! ```
//!
//! The OPEN each side of a connection sent is remembered; once both are seen, later messages carry
//! the negotiated [`DecodeContext`] of their direction. Nothing in here panics on a malformed file:
//! an unreadable or unrecognised file is an error, while damage inside it (truncated records,
//! holes in a TCP stream, broken BGP framing) is skipped and described in [`Capture::notes`].

mod net;
mod stream;

use std::fs::File;
use std::io::{BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use pcap_parser::pcapng::Block;
use pcap_parser::{Linktype, PcapBlockOwned, PcapError};

use crate::packet::DecodeContext;

/// Read buffer of the pcap reader: must hold the largest record (a 64 KiB TSO frame and more).
const READ_CAPACITY: usize = 1 << 20;
/// Smallest read buffer (the pcap reader parses headers of up to a few hundred bytes).
const MIN_CAPACITY: usize = 4096;
/// Consecutive refills without a parsed record before giving up.
const MAX_REFILLS: usize = 4096;

/// One BGP message found in a capture.
#[derive(Clone, Debug, PartialEq)]
pub struct CapturedMessage {
    /// Capture time of the packet that completed the message, in seconds since the Unix epoch.
    pub timestamp: f64,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// The whole message, header included (or the bad header where framing failed).
    pub bytes: Vec<u8>,
    /// How to decode it, as negotiated by the two OPENs of its connection; `None` when the capture
    /// does not hold both (callers then fall back to a default or operator-given context).
    pub context: Option<DecodeContext>,
}

/// The messages of one capture and what was noticed while reading it.
#[derive(Clone, Debug, Default)]
pub struct Capture {
    pub messages: Vec<CapturedMessage>,
    /// Human-readable notes: truncated records, holes in TCP streams, framing errors.
    pub notes: Vec<String>,
}

/// Why a capture could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: empty file")]
    Empty { path: PathBuf },
    #[error("{path}: not a pcap or pcapng file")]
    NotPcap { path: PathBuf },
    #[error("{path}: bad record at byte {offset}: {reason}")]
    Format {
        path: PathBuf,
        offset: usize,
        reason: String,
    },
}

/// Read the BGP messages of a capture file; `extra_ports` are BGP ports besides 179.
pub fn read_pcap_file(
    path: &Path,
    extra_ports: &[u16],
) -> Result<Vec<CapturedMessage>, CaptureError> {
    Capture::from_file(path, extra_ports).map(|c| c.messages)
}

/// Per-interface facts of a pcapng section.
struct Interface {
    linktype: Linktype,
    /// Timestamp units per second (`None` when the file gives an invalid resolution).
    units: Option<u64>,
    offset: i64,
}

impl Capture {
    /// Read a capture file; `extra_ports` are BGP ports besides 179.
    pub fn from_file(path: &Path, extra_ports: &[u16]) -> Result<Capture, CaptureError> {
        let file = File::open(path).map_err(|source| CaptureError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        // A record never exceeds its file: small files get a small buffer.
        let len = file.metadata().map_or(usize::MAX, |m| {
            usize::try_from(m.len()).unwrap_or(usize::MAX)
        });
        let capacity = len.clamp(MIN_CAPACITY, READ_CAPACITY);
        read_capture(
            BufReader::new(file),
            capacity,
            len <= capacity,
            path,
            extra_ports,
        )
    }

    /// Read a capture held in memory; `path` only names it in errors.
    pub fn from_bytes(
        data: &[u8],
        path: &Path,
        extra_ports: &[u16],
    ) -> Result<Capture, CaptureError> {
        let capacity = data.len().clamp(MIN_CAPACITY, READ_CAPACITY);
        read_capture(data, capacity, data.len() <= capacity, path, extra_ports)
    }

    /// Read a capture from any reader; `path` only names it in errors.
    pub fn from_reader<R: Read + Send>(
        reader: R,
        path: &Path,
        extra_ports: &[u16],
    ) -> Result<Capture, CaptureError> {
        read_capture(reader, READ_CAPACITY, false, path, extra_ports)
    }
}

/// Read a capture with a read buffer of `capacity` bytes; `fits` tells that the whole input fits in
/// it, so that a record too large for the buffer can only be a truncated last record.
fn read_capture<R: Read + Send>(
    reader: R,
    capacity: usize,
    fits: bool,
    path: &Path,
    extra_ports: &[u16],
) -> Result<Capture, CaptureError> {
    let path_buf = || path.to_path_buf();
    let mut rd = match pcap_parser::create_reader(capacity, reader) {
        Ok(rd) => rd,
        Err(PcapError::Eof) => return Err(CaptureError::Empty { path: path_buf() }),
        Err(PcapError::ReadError) => {
            let source = std::io::Error::other("read failed");
            return Err(CaptureError::Io {
                path: path_buf(),
                source,
            });
        }
        Err(_) => return Err(CaptureError::NotPcap { path: path_buf() }),
    };
    let mut asm = stream::Reassembler::new(extra_ports);
    let mut legacy: Option<(Linktype, f64)> = None;
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut index: u64 = 0;
    let mut refills = 0;
    loop {
        match rd.next() {
            Ok((offset, block)) => {
                refills = 0;
                let packet = match &block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        let unit = if h.is_nanosecond_precision() {
                            1e-9
                        } else {
                            1e-6
                        };
                        legacy = Some((h.network, unit));
                        None
                    }
                    PcapBlockOwned::Legacy(b) => legacy.map(|(lt, unit)| {
                        (
                            lt,
                            f64::from(b.ts_sec) + f64::from(b.ts_usec) * unit,
                            b.data,
                        )
                    }),
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => {
                        interfaces.clear();
                        None
                    }
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        interfaces.push(Interface {
                            linktype: idb.linktype,
                            units: pcap_parser::build_ts_resolution(idb.if_tsresol),
                            offset: idb.if_tsoffset,
                        });
                        None
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => usize::try_from(epb.if_id)
                        .ok()
                        .and_then(|i| interfaces.get(i))
                        .map(|i| {
                            let ts = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                            (i.linktype, ng_time(ts, i), ng_data(epb.data, epb.caplen))
                        }),
                    // Simple packets have no timestamp and belong to the first interface.
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => interfaces
                        .first()
                        .map(|i| (i.linktype, 0.0, ng_data(spb.data, spb.origlen))),
                    PcapBlockOwned::NG(_) => None,
                };
                if let Some((linktype, time, data)) = packet {
                    if let Some(seg) = net::parse_frame(linktype, data) {
                        asm.segment(time, index, &seg);
                    }
                    index += 1;
                }
                rd.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) if refills < MAX_REFILLS => {
                refills += 1;
                if rd.refill().is_err() {
                    let source = std::io::Error::other("read failed");
                    return Err(CaptureError::Io {
                        path: path_buf(),
                        source,
                    });
                }
            }
            Err(PcapError::BufferTooSmall) if fits => {
                asm.notes.push(format!(
                    "the capture ends inside a record at byte {} (truncated file?)",
                    rd.consumed()
                ));
                break;
            }
            Err(PcapError::UnexpectedEof) | Err(PcapError::Incomplete(_)) => {
                asm.notes.push(format!(
                    "the capture ends inside a record at byte {} (truncated file?)",
                    rd.consumed()
                ));
                break;
            }
            Err(e) => {
                let reason = format!("{e:?}");
                let reason: String = reason.chars().take(200).collect();
                return Err(CaptureError::Format {
                    path: path_buf(),
                    offset: rd.consumed(),
                    reason,
                });
            }
        }
    }
    let (messages, notes) = asm.finish();
    Ok(Capture { messages, notes })
}

/// A pcapng timestamp in seconds, computed without overflow whatever the file says.
fn ng_time(ts: u64, iface: &Interface) -> f64 {
    let Some(units) = iface.units.filter(|&u| u > 0) else {
        return 0.0;
    };
    let secs = ts / units;
    let frac = ts % units;
    iface.offset as f64 + secs as f64 + frac as f64 / units as f64
}

/// The captured bytes of a pcapng packet block (its data field is padded to 32 bits).
fn ng_data(data: &[u8], caplen: u32) -> &[u8] {
    let n = usize::try_from(caplen)
        .unwrap_or(usize::MAX)
        .min(data.len());
    &data[..n]
}

#[cfg(test)]
mod tests;
