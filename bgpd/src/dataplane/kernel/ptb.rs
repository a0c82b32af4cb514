//! The pure core of the PMTU relay ([`super::pmtu_relay`]): from an ICMPv6 "packet too big"
//! about an SRv6 packet this node encapsulated, the error the pod packet's source should have
//! got, or why there is none.
//!
//! The seg6 encapsulation route takes over a forwarded pod packet's input path, so the kernel
//! checks no MTU for the pod packet; only the encapsulated packet fails the MTU check, and the
//! kernel sends its "packet too big" to the outer source: this node's encapsulation source
//! (`srv6.source_address`). A fabric router with a smaller MTU does the same. The relay turns
//! such a message into the error a router would have sent the pod (a headend "PTB relay").
//!
//! What the raw ICMPv6 socket returns (the ICMPv6 message, without its own IPv6 header):
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +---------------+---------------+-------------------------------+
//! |   Type = 2    |   Code = 0    |           Checksum            |  RFC 4443 §3.2
//! +---------------+---------------+-------------------------------+
//! |                              MTU                              |
//! +===============================================================+  the quoted packet
//! | Ver=6 | Traffic Class |              Flow Label               |  outer IPv6 header,
//! |        Payload Length         |  Next Hdr=43  |   Hop Limit   |  40 octets
//! |        Source Address = the encapsulation source (16)         |  (RFC 8200 §3)
//! |        Destination Address (16)                               |
//! +===============================================================+
//! |Next Hdr=4/41  |  Hdr Ext Len  | Routing Type=4| Segments Left |  SRH, RFC 8754 §2:
//! |  Last Entry   |     Flags     |              Tag              |  8 + 8 * Hdr Ext Len
//! |        Segment List[0..n] (16 each), optional TLVs            |  octets
//! +===============================================================+
//! | the pod's IPv4 or IPv6 packet, as much as the kernel quoted   |
//! +---------------------------------------------------------------+
//! ```
//!
//! (Reduced encapsulation has no SRH: the outer next header is then 4 or 41 directly.) The
//! kernel quotes as much of the packet as fits in 1280 octets (RFC 4443 §3.2), so the inner
//! headers are there unless the SRH is very long; whatever inner bytes are there are quoted on.

use std::net::{Ipv4Addr, Ipv6Addr};

/// ICMPv6 Packet Too Big (RFC 4443 §3.2).
pub(crate) const ICMP6_PACKET_TOO_BIG: u8 = 2;
/// IPv6 next header values (IANA "Assigned Internet Protocol Numbers").
const NH_IPV4: u8 = 4;
const NH_IPV6: u8 = 41;
const NH_ROUTING: u8 = 43;
const NH_ICMPV6: u8 = 58;
const IPPROTO_ICMP: u8 = 1;
/// The Segment Routing Header's routing type (RFC 8754 §2).
const ROUTING_TYPE_SRH: u8 = 4;
const IPV6_HEADER: usize = 40;
/// RFC 8200 §5: the IPv6 minimum link MTU; also the largest ICMPv6 error (RFC 4443 §2.4(c)).
pub(crate) const IPV6_MIN_MTU: u32 = 1280;
/// RFC 791: every IPv4 host accepts 576-octet datagrams; the smallest next-hop MTU reported.
pub(crate) const IPV4_MIN_MTU: u32 = 576;
/// RFC 1812 §4.3.2.3: an ICMPv4 error quotes as much of the datagram as fits in 576 octets.
const ICMP4_MAX: usize = 576;
const IPV4_HEADER: usize = 20;
/// ICMPv4 error types (RFC 792, RFC 1812 §4.3.2.7: no error about an error): destination
/// unreachable, source quench, redirect, time exceeded, parameter problem.
const ICMP4_ERRORS: [u8; 5] = [3, 4, 5, 11, 12];

/// The error to send the pod packet's source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Relay {
    /// ICMPv4 destination unreachable, fragmentation needed and DF set (type 3, code 4) with
    /// the next-hop MTU (RFC 1191 §4): the whole ICMP message, checksummed.
    V4 {
        to: Ipv4Addr,
        mtu: u16,
        icmp: Vec<u8>,
    },
    /// ICMPv6 Packet Too Big (RFC 4443 §3.2); the checksum is left 0 for the kernel (a raw
    /// ICMPv6 socket always fills it).
    V6 {
        to: Ipv6Addr,
        mtu: u32,
        icmp: Vec<u8>,
    },
}

/// Why a message is not relayed (the `reason` label of `sidra_dataplane_pmtu_dropped_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ignored {
    /// Another ICMPv6 message (not counted: a raw ICMPv6 socket may see all of them).
    NotPacketTooBig,
    /// The message ends inside a header it needs.
    Truncated,
    /// A header has the wrong version or an impossible length.
    Malformed,
    /// The quoted packet's source is not this node's encapsulation source (or none is known).
    ForeignSource,
    /// The quoted packet is not SRv6 encapsulation of IPv4 or IPv6 (another next header or
    /// routing type, e.g. the node's own traffic).
    NotSrv6,
    /// An IPv4 pod packet without DF: its source asked for fragmentation, not for an error.
    DfClear,
    /// RFC 1812 §4.3.2.7 / RFC 4443 §2.4(e): no error about an ICMP error, a non-first
    /// fragment, or to a source that is not one node (unspecified, multicast, broadcast,
    /// loopback).
    NotAllowed,
}

impl Ignored {
    pub(crate) const fn label(self) -> &'static str {
        match self {
            Ignored::NotPacketTooBig => "not_packet_too_big",
            Ignored::Truncated => "truncated",
            Ignored::Malformed => "malformed",
            Ignored::ForeignSource => "foreign_source",
            Ignored::NotSrv6 => "not_srv6",
            Ignored::DfClear => "df_clear",
            Ignored::NotAllowed => "not_allowed",
        }
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes(s.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(s.try_into().ok()?))
}

fn v6addr(b: &[u8], at: usize) -> Option<Ipv6Addr> {
    let s: [u8; 16] = b.get(at..at.checked_add(16)?)?.try_into().ok()?;
    Some(Ipv6Addr::from(s))
}

fn v4addr(b: &[u8], at: usize) -> Option<Ipv4Addr> {
    let s: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(Ipv4Addr::from(s))
}

fn byte(b: &[u8], at: usize) -> Option<u8> {
    b.get(at).copied()
}

/// The error for the pod behind an ICMPv6 message `msg` received by this node, whose
/// encapsulation source is `encap_source`.
///
/// The pod's MTU is the reported MTU minus the encapsulation (the outer IPv6 header and the
/// SRH: 40 + 8 + 8 * Hdr Ext Len), at least [`IPV6_MIN_MTU`] for an IPv6 pod (RFC 8201 §4)
/// and [`IPV4_MIN_MTU`] for an IPv4 pod.
pub(crate) fn relay(msg: &[u8], encap_source: Option<Ipv6Addr>) -> Result<Relay, Ignored> {
    use Ignored::*;
    if byte(msg, 0).ok_or(Truncated)? != ICMP6_PACKET_TOO_BIG {
        return Err(NotPacketTooBig);
    }
    let mtu = be32(msg, 4).ok_or(Truncated)?;
    let outer = msg.get(8..).ok_or(Truncated)?;
    if outer.len() < IPV6_HEADER {
        return Err(Truncated);
    }
    if byte(outer, 0).ok_or(Truncated)? >> 4 != 6 {
        return Err(Malformed);
    }
    let src = v6addr(outer, 8).ok_or(Truncated)?;
    if encap_source != Some(src) {
        return Err(ForeignSource);
    }
    let (inner_nh, encap_len) = match byte(outer, 6).ok_or(Truncated)? {
        NH_ROUTING => {
            // RFC 8754 §2: Next Header, Hdr Ext Len (8-octet units beyond the first 8),
            // Routing Type 4, Segments Left, ...
            let nh = byte(outer, IPV6_HEADER).ok_or(Truncated)?;
            let ext = byte(outer, IPV6_HEADER + 1).ok_or(Truncated)?;
            if byte(outer, IPV6_HEADER + 2).ok_or(Truncated)? != ROUTING_TYPE_SRH {
                return Err(NotSrv6);
            }
            (nh, IPV6_HEADER + 8 + 8 * usize::from(ext))
        }
        nh => (nh, IPV6_HEADER),
    };
    let encap = u32::try_from(encap_len).map_err(|_| Malformed)?;
    let inner_mtu = mtu.saturating_sub(encap);
    match inner_nh {
        NH_IPV4 => ipv4(outer.get(encap_len..).ok_or(Truncated)?, inner_mtu),
        NH_IPV6 => ipv6(outer.get(encap_len..).ok_or(Truncated)?, inner_mtu),
        _ => Err(NotSrv6),
    }
}

/// RFC 1191 §4 / RFC 792: "fragmentation needed and DF set" with the next-hop MTU in the low
/// 16 bits of the second word, quoting the datagram's header and as much of its data as fits
/// in 576 octets (RFC 1812 §4.3.2.3; RFC 792 asks for at least the first 8 data octets).
///
/// ```text
/// +---------------+---------------+-------------------------------+
/// |   Type = 3    |   Code = 4    |           Checksum            |
/// +---------------+---------------+-------------------------------+
/// |          unused = 0           |         Next-Hop MTU          |
/// +---------------+---------------+-------------------------------+
/// |      Internet Header + leading octets of original datagram    |
/// ```
fn ipv4(inner: &[u8], mtu: u32) -> Result<Relay, Ignored> {
    use Ignored::*;
    let vihl = byte(inner, 0).ok_or(Truncated)?;
    if vihl >> 4 != 4 {
        return Err(Malformed);
    }
    let ihl = usize::from(vihl & 0x0f) * 4;
    if ihl < IPV4_HEADER {
        return Err(Malformed);
    }
    if inner.len() < ihl {
        return Err(Truncated);
    }
    let total = usize::from(be16(inner, 2).ok_or(Truncated)?);
    if total < ihl {
        return Err(Malformed);
    }
    let frag = be16(inner, 6).ok_or(Truncated)?;
    let (src, dst) = (
        v4addr(inner, 12).ok_or(Truncated)?,
        v4addr(inner, 16).ok_or(Truncated)?,
    );
    if frag & 0x4000 == 0 {
        return Err(DfClear);
    }
    let not_one_node =
        |a: Ipv4Addr| a.is_unspecified() || a.is_broadcast() || a.is_multicast() || a.is_loopback();
    if frag & 0x1fff != 0 || not_one_node(src) || dst.is_multicast() || dst.is_broadcast() {
        return Err(NotAllowed);
    }
    if byte(inner, 9) == Some(IPPROTO_ICMP)
        && byte(inner, ihl).is_some_and(|t| ICMP4_ERRORS.contains(&t))
    {
        return Err(NotAllowed);
    }
    let mtu = u16::try_from(mtu.max(IPV4_MIN_MTU)).unwrap_or(u16::MAX);
    let quote = inner
        .get(..inner.len().min(total).min(ICMP4_MAX - IPV4_HEADER - 8))
        .ok_or(Truncated)?;
    let mut icmp = Vec::with_capacity(8 + quote.len());
    icmp.extend_from_slice(&[3, 4, 0, 0, 0, 0]);
    icmp.extend_from_slice(&mtu.to_be_bytes());
    icmp.extend_from_slice(quote);
    let sum = checksum(&icmp);
    if let Some(c) = icmp.get_mut(2..4) {
        c.copy_from_slice(&sum.to_be_bytes());
    }
    Ok(Relay::V4 { to: src, mtu, icmp })
}

/// RFC 4443 §3.2: Packet Too Big with the MTU, quoting "as much of invoking packet as possible
/// without the ICMPv6 packet exceeding the minimum IPv6 MTU".
///
/// ```text
/// +---------------+---------------+-------------------------------+
/// |   Type = 2    |   Code = 0    |    Checksum (by the kernel)   |
/// +---------------+---------------+-------------------------------+
/// |                              MTU                              |
/// +---------------+---------------+-------------------------------+
/// |                    As much of invoking packet                 |
/// ```
fn ipv6(inner: &[u8], mtu: u32) -> Result<Relay, Ignored> {
    use Ignored::*;
    if byte(inner, 0).ok_or(Truncated)? >> 4 != 6 {
        return Err(Malformed);
    }
    if inner.len() < IPV6_HEADER {
        return Err(Truncated);
    }
    let payload = usize::from(be16(inner, 4).ok_or(Truncated)?);
    let src = v6addr(inner, 8).ok_or(Truncated)?;
    // RFC 4443 §2.4(e.6): not to a source that does not identify a single node; (e.1) not
    // about an ICMPv6 error message (types below 128).
    if src.is_unspecified() || src.is_multicast() || src.is_loopback() {
        return Err(NotAllowed);
    }
    if byte(inner, 6) == Some(NH_ICMPV6) && byte(inner, IPV6_HEADER).is_some_and(|t| t < 128) {
        return Err(NotAllowed);
    }
    // A jumbogram (payload length 0) has no length here: quote what there is.
    let whole = if payload == 0 {
        inner.len()
    } else {
        IPV6_HEADER + payload
    };
    let room = IPV6_MIN_MTU as usize - IPV6_HEADER - 8;
    let quote = inner
        .get(..inner.len().min(whole).min(room))
        .ok_or(Truncated)?;
    let mtu = mtu.max(IPV6_MIN_MTU);
    let mut icmp = Vec::with_capacity(8 + quote.len());
    icmp.extend_from_slice(&[ICMP6_PACKET_TOO_BIG, 0, 0, 0]);
    icmp.extend_from_slice(&mtu.to_be_bytes());
    icmp.extend_from_slice(quote);
    Ok(Relay::V6 { to: src, mtu, icmp })
}

/// The Internet checksum (RFC 1071): the one's complement of the one's complement sum of the
/// 16-bit words (an odd last octet padded with zero).
pub(crate) fn checksum(data: &[u8]) -> u16 {
    let mut sum: u64 = 0;
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        if let Ok(w) = <[u8; 2]>::try_from(w) {
            sum += u64::from(u16::from_be_bytes(w));
        }
    }
    if let Some(last) = words.remainder().first() {
        sum += u64::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The IPv4 datagram carrying `icmp` to `to` through a raw `IPPROTO_RAW` socket (which sends
/// the header as given, raw(7)): the kernel fills the zero source address (the route's
/// preferred source: the node's address towards the pod), the identification, the total
/// length and the header checksum. TOS 0xc0 (internetwork control) as the kernel's own ICMP
/// errors, TTL 64.
pub(crate) fn ipv4_datagram(to: Ipv4Addr, icmp: &[u8]) -> Vec<u8> {
    let total = u16::try_from(IPV4_HEADER + icmp.len()).unwrap_or(u16::MAX);
    let mut d = Vec::with_capacity(IPV4_HEADER + icmp.len());
    d.extend_from_slice(&[0x45, 0xc0]);
    d.extend_from_slice(&total.to_be_bytes());
    d.extend_from_slice(&[0, 0, 0, 0, 64, IPPROTO_ICMP, 0, 0, 0, 0, 0, 0]);
    d.extend_from_slice(&to.octets());
    d.extend_from_slice(icmp);
    d
}

#[cfg(test)]
#[path = "ptb_tests.rs"]
mod tests;
