//! The little BGP the injector and the sink speak: an OPEN, KEEPALIVEs, framing, and a counter of
//! the prefixes that UPDATEs leave announced (no attribute is decoded).

use std::collections::HashSet;
use std::net::Ipv4Addr;

use crate::stream::{Family, HEADER, frame};

/// Message types.
pub const OPEN: u8 = 1;
pub const UPDATE: u8 = 2;
pub const NOTIFICATION: u8 = 3;
pub const KEEPALIVE: u8 = 4;

/// Hold time we offer (GoBGP 3.10 fails every write at once with hold time 0); the peers process
/// sends a KEEPALIVE every [`KEEPALIVE_EVERY`] seconds.
pub const HOLD_TIME: u16 = 90;
pub const KEEPALIVE_EVERY: u64 = 20;

/// An OPEN with hold time [`HOLD_TIME`], 4-octet AS, route refresh and
/// the multiprotocol capability for `family`.
pub fn open(asn: u32, bgp_id: Ipv4Addr, family: Family) -> Vec<u8> {
    let (afi, safi) = family.afi_safi();
    let mut caps = vec![1u8, 4];
    caps.extend_from_slice(&afi.to_be_bytes());
    caps.extend_from_slice(&[0, safi]);
    caps.extend_from_slice(&[65, 4]);
    caps.extend_from_slice(&asn.to_be_bytes());
    caps.extend_from_slice(&[2, 0]);
    let mut body = vec![4u8];
    let my_as = u16::try_from(asn).unwrap_or(23456);
    body.extend_from_slice(&my_as.to_be_bytes());
    body.extend_from_slice(&HOLD_TIME.to_be_bytes());
    body.extend_from_slice(&bgp_id.octets());
    body.push((caps.len() + 2) as u8);
    body.extend_from_slice(&[2, caps.len() as u8]);
    body.extend_from_slice(&caps);
    let mut out = Vec::with_capacity(64);
    frame(&mut out, OPEN, &body);
    out
}

pub fn keepalive() -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER);
    frame(&mut out, KEEPALIVE, &[]);
    out
}

/// The length of the message at the start of `buf`, once its header is there.
pub fn message_len(buf: &[u8]) -> Result<Option<usize>, String> {
    if buf.len() < HEADER {
        return Ok(None);
    }
    if buf[..16].iter().any(|b| *b != 0xff) {
        return Err("bad marker".into());
    }
    let len = usize::from(u16::from_be_bytes([buf[16], buf[17]]));
    if !(HEADER..=65535).contains(&len) {
        return Err(format!("bad message length {len}"));
    }
    Ok(Some(len))
}

/// A prefix as the counter keys it: family tag, prefix length and up to 24 octets (RD + address
/// for VPN; the label is not part of the route's identity).
type Key = [u8; 26];

/// Counts the prefixes left announced by a sequence of UPDATEs (announce adds, withdraw removes,
/// a repeated announcement counts once).
#[derive(Debug, Default)]
pub struct Counter {
    live: HashSet<Key>,
    pub updates: u64,
    pub announced: u64,
    pub withdrawn: u64,
}

fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if buf.len() < n {
        return Err(format!("truncated: need {n}, have {}", buf.len()));
    }
    let (head, rest) = buf.split_at(n);
    *buf = rest;
    Ok(head)
}

impl Counter {
    /// Prefixes announced and not withdrawn.
    pub fn live(&self) -> usize {
        self.live.len()
    }

    /// One whole message (header included); anything but an UPDATE is ignored.
    pub fn feed(&mut self, msg: &[u8]) -> Result<(), String> {
        if msg.len() < HEADER || msg[18] != UPDATE {
            return Ok(());
        }
        self.updates += 1;
        let mut b = &msg[HEADER..];
        let w = take(&mut b, 2)?;
        let wlen = usize::from(u16::from_be_bytes([w[0], w[1]]));
        let withdrawn = take(&mut b, wlen)?;
        self.nlri(0, withdrawn, false)?;
        let a = take(&mut b, 2)?;
        let alen = usize::from(u16::from_be_bytes([a[0], a[1]]));
        let mut attrs = take(&mut b, alen)?;
        while !attrs.is_empty() {
            let head = take(&mut attrs, 2)?;
            let (flags, code) = (head[0], head[1]);
            let len = if flags & 0x10 != 0 {
                let l = take(&mut attrs, 2)?;
                usize::from(u16::from_be_bytes([l[0], l[1]]))
            } else {
                usize::from(take(&mut attrs, 1)?[0])
            };
            let mut v = take(&mut attrs, len)?;
            match code {
                14 => {
                    let h = take(&mut v, 4)?;
                    let safi = h[2];
                    take(&mut v, usize::from(h[3]))?;
                    take(&mut v, 1)?;
                    self.nlri(safi, v, true)?;
                }
                15 => {
                    let h = take(&mut v, 3)?;
                    self.nlri(h[2], v, false)?;
                }
                _ => {}
            }
        }
        self.nlri(0, b, true)
    }

    /// A run of NLRI: `safi` 0 = the IPv4 fields of the UPDATE, 128 = VPN (label + RD), else
    /// plain prefixes of an MP attribute.
    fn nlri(&mut self, safi: u8, mut b: &[u8], announce: bool) -> Result<(), String> {
        while !b.is_empty() {
            let mut bits = usize::from(take(&mut b, 1)?[0]);
            let mut key: Key = [0; 26];
            key[0] = if safi == 0 { 1 } else { safi.wrapping_add(2) };
            let mut at = 2;
            if safi == 128 {
                bits = bits
                    .checked_sub(88)
                    .ok_or_else(|| format!("VPN NLRI of {bits} bits"))?;
                take(&mut b, 3)?;
                key[2..10].copy_from_slice(take(&mut b, 8)?);
                at = 10;
            }
            let octets = bits.div_ceil(8);
            if at + octets > key.len() {
                return Err(format!("prefix of {bits} bits"));
            }
            key[1] = bits as u8;
            key[at..at + octets].copy_from_slice(take(&mut b, octets)?);
            if announce {
                self.announced += 1;
                self.live.insert(key);
            } else {
                self.withdrawn += 1;
                self.live.remove(&key);
            }
        }
        Ok(())
    }
}
