//! Link-layer, IP and TCP header parsing for [`crate::capture`]: just enough to find TCP segments.
//!
//! Every function returns `None` for anything it does not understand or that is cut short; nothing
//! here panics on malformed input (all indexing goes through `get`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use pcap_parser::Linktype;

/// TCP flags (RFC 9293 §3.1).
#[cfg(test)]
pub(crate) const TCP_FIN: u8 = 0x01;
pub(crate) const TCP_SYN: u8 = 0x02;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;

const IPPROTO_TCP: u8 = 6;
/// At most this many IPv6 extension headers are walked before giving up on a packet.
const MAX_IPV6_EXT_HEADERS: usize = 16;

/// One TCP segment, borrowed from the captured frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TcpSegment<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub flags: u8,
    pub payload: &'a [u8],
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Parse one captured frame of link type `linktype` down to its TCP segment.
pub(crate) fn parse_frame(linktype: Linktype, frame: &[u8]) -> Option<TcpSegment<'_>> {
    match linktype {
        Linktype::ETHERNET => parse_ethernet(frame),
        // Linux cooked capture v1: 16-byte header, protocol type in the last two bytes.
        Linktype::LINUX_SLL => parse_ethertype(be16(frame, 14)?, frame.get(16..)?),
        // Linux cooked capture v2: 20-byte header, protocol type first.
        Linktype::LINUX_SLL2 => parse_ethertype(be16(frame, 0)?, frame.get(20..)?),
        Linktype::RAW | Linktype::IPV4 | Linktype::IPV6 => parse_ip(frame),
        // BSD loopback: a 4-byte address family in the capturing host's byte order.
        Linktype::NULL => {
            let fam = frame.get(..4)?;
            let v = u32::from_le_bytes([fam[0], fam[1], fam[2], fam[3]]);
            let w = u32::from_be_bytes([fam[0], fam[1], fam[2], fam[3]]);
            let is_ip = |f: u32| matches!(f, 2 | 24 | 28 | 30);
            if is_ip(v) || is_ip(w) {
                parse_ip(frame.get(4..)?)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn parse_ethernet(frame: &[u8]) -> Option<TcpSegment<'_>> {
    let mut ethertype = be16(frame, 12)?;
    let mut at = 14;
    // Up to two VLAN tags (802.1Q, 802.1ad).
    for _ in 0..2 {
        if ethertype != ETHERTYPE_VLAN && ethertype != ETHERTYPE_QINQ {
            break;
        }
        ethertype = be16(frame, at + 2)?;
        at += 4;
    }
    parse_ethertype(ethertype, frame.get(at..)?)
}

fn parse_ethertype(ethertype: u16, payload: &[u8]) -> Option<TcpSegment<'_>> {
    match ethertype {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => parse_ip(payload),
        _ => None,
    }
}

/// Parse an IPv4 or IPv6 packet (chosen by its version nibble).
pub(crate) fn parse_ip(pkt: &[u8]) -> Option<TcpSegment<'_>> {
    match pkt.first()? >> 4 {
        4 => parse_ipv4(pkt),
        6 => parse_ipv6(pkt),
        _ => None,
    }
}

fn parse_ipv4(pkt: &[u8]) -> Option<TcpSegment<'_>> {
    let ihl = usize::from(pkt.first()? & 0x0f) * 4;
    let total = usize::from(be16(pkt, 2)?);
    if ihl < 20 || total < ihl {
        return None;
    }
    // Fragments are not reassembled: BGP speakers use path MTU discovery and TCP segments.
    let frag = be16(pkt, 6)?;
    if frag & 0x3fff != 0 {
        return None;
    }
    if *pkt.get(9)? != IPPROTO_TCP {
        return None;
    }
    let src = Ipv4Addr::from(be32(pkt, 12)?);
    let dst = Ipv4Addr::from(be32(pkt, 16)?);
    // Trim Ethernet padding; tolerate a snap length that cut the packet (the TCP payload then
    // comes out short and reassembly sees a gap).
    let end = total.min(pkt.len());
    parse_tcp(IpAddr::V4(src), IpAddr::V4(dst), pkt.get(ihl..end)?)
}

fn parse_ipv6(pkt: &[u8]) -> Option<TcpSegment<'_>> {
    let payload_len = usize::from(be16(pkt, 4)?);
    let mut next = *pkt.get(6)?;
    let src = Ipv6Addr::from(<[u8; 16]>::try_from(pkt.get(8..24)?).ok()?);
    let dst = Ipv6Addr::from(<[u8; 16]>::try_from(pkt.get(24..40)?).ok()?);
    // Payload length 0 is a jumbogram (RFC 2675): take everything captured.
    let end = if payload_len == 0 {
        pkt.len()
    } else {
        (40 + payload_len).min(pkt.len())
    };
    let mut at = 40;
    for _ in 0..MAX_IPV6_EXT_HEADERS {
        match next {
            IPPROTO_TCP => {
                return parse_tcp(IpAddr::V6(src), IpAddr::V6(dst), pkt.get(at..end)?);
            }
            // Hop-by-Hop Options, Routing (SRv6 SRH included), Destination Options (RFC 8200 §4).
            0 | 43 | 60 => {
                let len = (usize::from(*pkt.get(at + 1)?) + 1) * 8;
                next = *pkt.get(at)?;
                at += len;
            }
            // Fragment (RFC 8200 §4.5): only an unfragmented "atomic fragment" is usable.
            44 => {
                let off_m = be16(pkt, at + 2)?;
                if off_m & 0xfff9 != 0 {
                    return None;
                }
                next = *pkt.get(at)?;
                at += 8;
            }
            // Authentication Header (RFC 4302 §2.2): length in 4-octet units, minus 2.
            51 => {
                let len = (usize::from(*pkt.get(at + 1)?) + 2) * 4;
                next = *pkt.get(at)?;
                at += len;
            }
            _ => return None,
        }
    }
    None
}

fn parse_tcp(src: IpAddr, dst: IpAddr, seg: &[u8]) -> Option<TcpSegment<'_>> {
    let sport = be16(seg, 0)?;
    let dport = be16(seg, 2)?;
    let seq = be32(seg, 4)?;
    let data_off = usize::from(seg.get(12)? >> 4) * 4;
    if data_off < 20 {
        return None;
    }
    let flags = *seg.get(13)?;
    let payload = seg.get(data_off..)?;
    Some(TcpSegment {
        src: SocketAddr::new(src, sport),
        dst: SocketAddr::new(dst, dport),
        seq,
        flags,
        payload,
    })
}

#[cfg(test)]
pub(crate) mod build {
    //! Hand-built frames for the capture tests.

    use std::net::SocketAddr;

    /// A TCP header (20 bytes, no options) followed by `payload`.
    pub fn tcp(src: SocketAddr, dst: SocketAddr, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let mut t = Vec::new();
        t.extend_from_slice(&src.port().to_be_bytes());
        t.extend_from_slice(&dst.port().to_be_bytes());
        t.extend_from_slice(&seq.to_be_bytes());
        t.extend_from_slice(&0u32.to_be_bytes()); // ack
        t.push(5 << 4);
        t.push(flags | 0x10);
        t.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]); // window, checksum, urgent
        t.extend_from_slice(payload);
        t
    }

    /// An IP packet (v4 or v6 by address family) around a TCP segment, with optional IPv6
    /// extension headers (already encoded, `first_ext` is the type of the first one).
    pub fn ip(src: SocketAddr, dst: SocketAddr, tcp: &[u8], ext: Option<(u8, &[u8])>) -> Vec<u8> {
        let mut p = Vec::new();
        match (src, dst) {
            (SocketAddr::V4(s), SocketAddr::V4(d)) => {
                let total = u16::try_from(20 + tcp.len()).unwrap();
                p.extend_from_slice(&[0x45, 0]);
                p.extend_from_slice(&total.to_be_bytes());
                p.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
                p.extend_from_slice(&s.ip().octets());
                p.extend_from_slice(&d.ip().octets());
            }
            (SocketAddr::V6(s), SocketAddr::V6(d)) => {
                let (next, ext_bytes): (u8, &[u8]) = ext.unwrap_or((6, &[]));
                let plen = u16::try_from(ext_bytes.len() + tcp.len()).unwrap();
                p.extend_from_slice(&[0x60, 0, 0, 0]);
                p.extend_from_slice(&plen.to_be_bytes());
                p.extend_from_slice(&[next, 64]);
                p.extend_from_slice(&s.ip().octets());
                p.extend_from_slice(&d.ip().octets());
                p.extend_from_slice(ext_bytes);
            }
            _ => panic!("mixed address families"),
        }
        p.extend_from_slice(tcp);
        p
    }

    /// An Ethernet frame around an IP packet.
    pub fn ethernet(ip: &[u8]) -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
        let ethertype: u16 = if ip[0] >> 4 == 6 { 0x86dd } else { 0x0800 };
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(ip);
        f
    }
}

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::*;

    fn addrs6() -> (SocketAddr, SocketAddr) {
        (
            "[fd00::1]:40000".parse().unwrap(),
            "[fd00::2]:179".parse().unwrap(),
        )
    }

    #[test]
    fn ethernet_ipv6_tcp() {
        let (a, b) = addrs6();
        let frame = ethernet(&ip(a, b, &tcp(a, b, 7, 0, b"hello"), None));
        let seg = parse_frame(Linktype::ETHERNET, &frame).unwrap();
        assert_eq!(
            (seg.src, seg.dst, seg.seq, seg.payload),
            (a, b, 7, &b"hello"[..])
        );
    }

    #[test]
    fn ipv6_extension_headers_are_skipped() {
        let (a, b) = addrs6();
        // Hop-by-Hop (8 bytes, next = Routing), Routing header (24 bytes, next = TCP).
        let mut ext = vec![43, 0, 1, 4, 0, 0, 0, 0];
        ext.extend_from_slice(&[6, 2, 4, 0, 0, 0, 0, 0]);
        ext.extend_from_slice(&[0xfc; 16]);
        let frame = ip(a, b, &tcp(a, b, 1, 0, b"x"), Some((0, &ext)));
        let seg = parse_frame(Linktype::RAW, &frame).unwrap();
        assert_eq!(seg.payload, b"x");
    }

    #[test]
    fn cooked_captures_and_vlan() {
        let (a, b): (SocketAddr, SocketAddr) = (
            "10.0.0.1:179".parse().unwrap(),
            "10.0.0.2:5000".parse().unwrap(),
        );
        let pkt = ip(a, b, &tcp(a, b, 9, 0, b"abc"), None);
        let mut sll = vec![0; 14];
        sll.extend_from_slice(&0x0800u16.to_be_bytes());
        sll.extend_from_slice(&pkt);
        let mut sll2 = 0x0800u16.to_be_bytes().to_vec();
        sll2.extend_from_slice(&[0; 18]);
        sll2.extend_from_slice(&pkt);
        let mut vlan = vec![0; 12];
        vlan.extend_from_slice(&[0x81, 0, 0, 5, 0x08, 0]);
        vlan.extend_from_slice(&pkt);
        for (lt, f) in [
            (Linktype::LINUX_SLL, sll),
            (Linktype::LINUX_SLL2, sll2),
            (Linktype::ETHERNET, vlan),
        ] {
            let seg = parse_frame(lt, &f).unwrap();
            assert_eq!((seg.src, seg.seq, seg.payload), (a, 9, &b"abc"[..]));
        }
    }

    #[test]
    fn every_truncation_is_rejected_or_short_without_panic() {
        let (a, b) = addrs6();
        let frame = ethernet(&ip(a, b, &tcp(a, b, 1, 0, b"payload"), None));
        for n in 0..frame.len() {
            let _ = parse_frame(Linktype::ETHERNET, &frame[..n]);
        }
        // Garbage of every length and a few patterns.
        for n in 0..80 {
            for fill in [0u8, 0x45, 0x60, 0xff] {
                let f = vec![fill; n];
                for lt in [
                    Linktype::ETHERNET,
                    Linktype::RAW,
                    Linktype::LINUX_SLL2,
                    Linktype::NULL,
                ] {
                    let _ = parse_frame(lt, &f);
                }
            }
        }
    }
}
