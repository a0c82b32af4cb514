//! NLRI encodings: IP prefixes (RFC 4271 §4.3, RFC 4760 §5), ADD-PATH path identifiers
//! (RFC 7911 §3) and labeled VPN prefixes (RFC 4364 §4.3.4, RFC 4659 §3.2, RFC 8277 §2).
//!
//! ```text
//! IPv4/IPv6 unicast                    VPN-IPv4 / VPN-IPv6
//! +---------------------------+        +---------------------------+
//! | Path Identifier (4, opt.) |        | Path Identifier (4, opt.) |
//! +---------------------------+        +---------------------------+
//! | Length (1, bits)          |        | Length (1, bits: 24+64+n) |
//! +---------------------------+        +---------------------------+
//! | Prefix (ceil(n/8) octets) |        | Label (3: 20 label,3 TC,S)|
//! +---------------------------+        +---------------------------+
//!                                      | Route Distinguisher (8)   |
//!                                      +---------------------------+
//!                                      | Prefix (ceil(n/8) octets) |
//!                                      +---------------------------+
//! ```

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, BytesMut};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::family::{Afi, Family, Safi};

/// RFC 4364 §4.2: the 8-octet Route Distinguisher, kept as on the wire.
///
/// ```text
/// +--------+--------+--------+--------+--------+--------+--------+--------+
/// |  Type (2)       |                  Value (6)                          |
/// +--------+--------+--------+--------+--------+--------+--------+--------+
/// type 0: 2-octet ASN + 4-octet number;  type 1: IPv4 address + 2-octet number;
/// type 2: 4-octet ASN + 2-octet number
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouteDistinguisher(pub [u8; 8]);

impl RouteDistinguisher {
    pub const ZERO: RouteDistinguisher = RouteDistinguisher([0; 8]);

    pub fn kind(&self) -> u16 {
        u16::from_be_bytes([self.0[0], self.0[1]])
    }

    /// Type 0 RD `asn:number`.
    pub fn from_asn2(asn: u16, number: u32) -> Self {
        let mut b = [0u8; 8];
        b[2..4].copy_from_slice(&asn.to_be_bytes());
        b[4..8].copy_from_slice(&number.to_be_bytes());
        RouteDistinguisher(b)
    }

    /// Parse `65000:4` (type 0, or type 2 when the ASN exceeds 16 bits) or `1.2.3.4:5` (type 1).
    pub fn parse(s: &str) -> Option<Self> {
        let (admin, num) = s.rsplit_once(':')?;
        if let Ok(ip) = admin.parse::<Ipv4Addr>() {
            let n: u16 = num.parse().ok()?;
            let mut b = [0u8; 8];
            b[1] = 1;
            b[2..6].copy_from_slice(&ip.octets());
            b[6..8].copy_from_slice(&n.to_be_bytes());
            return Some(RouteDistinguisher(b));
        }
        let asn: u32 = admin.parse().ok()?;
        if let Ok(asn2) = u16::try_from(asn) {
            Some(Self::from_asn2(asn2, num.parse().ok()?))
        } else {
            let n: u16 = num.parse().ok()?;
            let mut b = [0u8; 8];
            b[1] = 2;
            b[2..6].copy_from_slice(&asn.to_be_bytes());
            b[6..8].copy_from_slice(&n.to_be_bytes());
            Some(RouteDistinguisher(b))
        }
    }
}

impl fmt::Display for RouteDistinguisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        match self.kind() {
            0 => write!(
                f,
                "{}:{}",
                u16::from_be_bytes([b[2], b[3]]),
                u32::from_be_bytes([b[4], b[5], b[6], b[7]])
            ),
            1 => write!(
                f,
                "{}:{}",
                Ipv4Addr::new(b[2], b[3], b[4], b[5]),
                u16::from_be_bytes([b[6], b[7]])
            ),
            2 => write!(
                f,
                "{}:{}",
                u32::from_be_bytes([b[2], b[3], b[4], b[5]]),
                u16::from_be_bytes([b[6], b[7]])
            ),
            _ => {
                for (i, x) in b.iter().enumerate() {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    write!(f, "{x:02x}")?;
                }
                Ok(())
            }
        }
    }
}

/// The VPN part of a labeled VPN NLRI: one label field and the RD.
///
/// The label field is the raw 24 bits (20-bit label, 3 TC bits, S bit): with SRv6 transposition
/// (RFC 9252 §4) the label carries SID bits and the S bit is not significant, so it is kept as
/// received and interpreted by the SRv6 layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VpnLabel {
    pub label: u32,
    pub rd: RouteDistinguisher,
}

impl VpnLabel {
    /// The 20-bit label value (TC and S bits removed).
    pub fn label_value(&self) -> u32 {
        self.label >> 4
    }
}

/// One NLRI: a prefix, its ADD-PATH identifier if the session carries them, and for VPN
/// families the label and RD.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Nlri {
    pub path_id: Option<u32>,
    pub prefix: IpNet,
    pub vpn: Option<VpnLabel>,
}

impl Nlri {
    pub fn new(prefix: IpNet) -> Self {
        Nlri {
            path_id: None,
            prefix,
            vpn: None,
        }
    }
}

/// Why an NLRI field could not be parsed (RFC 7606 §5.3: the NLRI field is then unusable).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NlriError(pub String);

/// Decode a run of IPv4 unicast prefixes (the UPDATE's Withdrawn Routes or NLRI field).
///
/// This is the codec's hottest loop (a full table is a million of these): one length check per
/// prefix, the address read with one 4-octet load and a mask rather than a variable-length
/// copy, and no allocation beyond `out`.
pub fn decode_ipv4_prefixes(
    mut buf: &[u8],
    add_path: bool,
    out: &mut Vec<Nlri>,
) -> Result<(), NlriError> {
    // A table's prefixes take 4 octets each (3 for /16 and shorter; 4 more with ADD-PATH):
    // reserving for 3 (7) avoids growing the vector half-way through a full UPDATE.
    out.reserve(buf.len() / if add_path { 7 } else { 3 });
    while !buf.is_empty() {
        let mut path_id = None;
        if add_path {
            let Some((id, rest)) = buf.split_first_chunk::<4>() else {
                return Err(NlriError(format!(
                    "{} bytes left, path identifier needs 4",
                    buf.len()
                )));
            };
            path_id = Some(u32::from_be_bytes(*id));
            buf = rest;
        }
        let Some((&len, rest)) = buf.split_first() else {
            return Err(NlriError(
                "missing prefix length after path identifier".into(),
            ));
        };
        // RFC 7606 §5.3: a length field larger than the maximum for the family is an error.
        if len > 32 {
            return Err(NlriError(format!("IPv4 prefix length {len} > 32")));
        }
        let n = usize::from(len).div_ceil(8);
        if rest.len() < n {
            return Err(NlriError(format!(
                "IPv4 prefix /{len} needs {n} bytes, {} left",
                rest.len()
            )));
        }
        let prefix = Ipv4Net::new(Ipv4Addr::from(ipv4_prefix_bits(rest, n)), len)
            .map_err(|_| NlriError(format!("IPv4 prefix length {len} > 32")))?;
        out.push(Nlri {
            path_id,
            prefix: IpNet::V4(prefix),
            vpn: None,
        });
        buf = &rest[n..];
    }
    Ok(())
}

/// The first `n` (at most 4, and at most `rest.len()`) octets of `rest` as the high-order
/// octets of an IPv4 address, the others zero. Bits past the prefix length inside the last
/// octet are kept as received, so that the prefix re-encodes byte for byte.
#[inline]
fn ipv4_prefix_bits(rest: &[u8], n: usize) -> u32 {
    match rest.first_chunk::<4>() {
        // One unaligned load and a mask: `n` is 0..=4, so the shift is 0..=32 (32 gives 0).
        Some(w) => {
            let keep = u32::MAX.checked_shl(32 - 8 * (n as u32)).unwrap_or(0);
            u32::from_be_bytes(*w) & keep
        }
        // Fewer than 4 octets left (the last prefix of the field): copy them one by one.
        None => {
            let mut oct = [0u8; 4];
            for (o, b) in oct.iter_mut().zip(rest.iter().take(n)) {
                *o = *b;
            }
            u32::from_be_bytes(oct)
        }
    }
}

/// [`ipv4_prefix_bits`] for IPv6: the first `n` (at most 16, and at most `rest.len()`) octets
/// of `rest` as the high-order octets of an IPv6 address.
#[inline]
fn ipv6_prefix_bits(rest: &[u8], n: usize) -> u128 {
    match rest.first_chunk::<16>() {
        Some(w) => {
            let keep = u128::MAX.checked_shl(128 - 8 * (n as u32)).unwrap_or(0);
            u128::from_be_bytes(*w) & keep
        }
        None => {
            let mut oct = [0u8; 16];
            for (o, b) in oct.iter_mut().zip(rest.iter().take(n)) {
                *o = *b;
            }
            u128::from_be_bytes(oct)
        }
    }
}

/// Decode the NLRI of one MP_REACH_NLRI / MP_UNREACH_NLRI for a supported family.
pub fn decode_mp_nlri(
    mut buf: &[u8],
    family: Family,
    add_path: bool,
    out: &mut Vec<Nlri>,
) -> Result<(), NlriError> {
    let (max_bits, vpn) = match (family.afi, family.safi) {
        (Afi::Ipv4, Safi::Unicast) => return decode_ipv4_prefixes(buf, add_path, out),
        (Afi::Ipv6, Safi::Unicast) => (128u16, false),
        (Afi::Ipv4, Safi::MplsVpn) => (32, true),
        (Afi::Ipv6, Safi::MplsVpn) => (128, true),
        _ => return Err(NlriError(format!("family {family} is not decoded"))),
    };
    while !buf.is_empty() {
        let mut path_id = None;
        if add_path {
            let Some((id, rest)) = buf.split_first_chunk::<4>() else {
                return Err(NlriError(format!(
                    "{} bytes left, path identifier needs 4",
                    buf.len()
                )));
            };
            path_id = Some(u32::from_be_bytes(*id));
            buf = rest;
        }
        let Some((&len, mut rest)) = buf.split_first() else {
            return Err(NlriError(
                "missing prefix length after path identifier".into(),
            ));
        };
        let mut bits = u16::from(len);
        let mut vpn_label = None;
        if vpn {
            // RFC 8277 §2: without the Multiple Labels capability exactly one label is carried;
            // RFC 4364 §4.3.4: then the 8-octet RD.
            if bits < 88 {
                return Err(NlriError(format!(
                    "VPN NLRI length {bits} < 88 (label + RD)"
                )));
            }
            let Some((lab, r)) = rest.split_first_chunk::<3>() else {
                return Err(NlriError("VPN NLRI truncated in label".into()));
            };
            let Some((rd, r)) = r.split_first_chunk::<8>() else {
                return Err(NlriError(
                    "VPN NLRI truncated in route distinguisher".into(),
                ));
            };
            let label = u32::from_be_bytes([0, lab[0], lab[1], lab[2]]);
            vpn_label = Some(VpnLabel {
                label,
                rd: RouteDistinguisher(*rd),
            });
            rest = r;
            bits -= 88;
        }
        if bits > max_bits {
            return Err(NlriError(format!(
                "prefix length {bits} > {max_bits} for {family}"
            )));
        }
        let n = usize::from(bits).div_ceil(8);
        if rest.len() < n {
            return Err(NlriError(format!(
                "prefix /{bits} needs {n} bytes, {} left",
                rest.len()
            )));
        }
        let plen = bits as u8; // bits <= 128 checked above
        let range = |_| NlriError(format!("prefix length {plen} out of range"));
        let prefix = if max_bits == 32 {
            let addr = Ipv4Addr::from(ipv4_prefix_bits(rest, n));
            IpNet::V4(Ipv4Net::new(addr, plen).map_err(range)?)
        } else {
            let addr = Ipv6Addr::from(ipv6_prefix_bits(rest, n));
            IpNet::V6(Ipv6Net::new(addr, plen).map_err(range)?)
        };
        out.push(Nlri {
            path_id,
            prefix,
            vpn: vpn_label,
        });
        buf = &rest[n..];
    }
    Ok(())
}

/// Encode one NLRI (path identifier if `add_path`, label and RD if it has them).
pub fn encode_nlri(n: &Nlri, add_path: bool, out: &mut BytesMut) {
    if add_path {
        out.put_u32(n.path_id.unwrap_or(0));
    }
    let plen = n.prefix.prefix_len();
    let bytes = usize::from(plen).div_ceil(8);
    match &n.vpn {
        Some(v) => {
            let l = v.label.to_be_bytes();
            let mut head = [0u8; 12];
            head[0] = plen.saturating_add(88);
            head[1..4].copy_from_slice(&l[1..4]);
            head[4..12].copy_from_slice(&v.rd.0);
            out.put_slice(&head);
        }
        None => out.put_u8(plen),
    }
    // The whole address is written (a fixed-size copy) and the octets past the prefix dropped
    // again: cheaper than a variable-length copy per prefix, which calls memcpy.
    let keep = out.len() + bytes;
    match n.prefix {
        IpNet::V4(p) => out.put_slice(&p.addr().octets()),
        IpNet::V6(p) => out.put_slice(&p.addr().octets()),
    }
    out.truncate(keep);
}

/// How many bytes [`encode_nlri`] writes for `n`.
pub fn encoded_len(n: &Nlri, add_path: bool) -> usize {
    let base = 1 + usize::from(n.prefix.prefix_len()).div_ceil(8);
    base + if add_path { 4 } else { 0 } + if n.vpn.is_some() { 11 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_prefixes_decode_and_reencode() {
        let wire = [24, 10, 1, 2, 0, 32, 192, 0, 2, 1, 8, 10];
        let mut out = Vec::new();
        decode_ipv4_prefixes(&wire, false, &mut out).unwrap();
        let got: Vec<String> = out.iter().map(|n| n.prefix.to_string()).collect();
        assert_eq!(
            got,
            ["10.1.2.0/24", "0.0.0.0/0", "192.0.2.1/32", "10.0.0.0/8"]
        );
        let mut enc = BytesMut::new();
        for n in &out {
            encode_nlri(n, false, &mut enc);
        }
        assert_eq!(&enc[..], &wire[..]);
    }

    #[test]
    fn ipv4_prefix_bits_match_a_plain_copy_at_every_length() {
        // Every prefix length, both with octets following (4-octet load and mask) and as the
        // last prefix of the field (octet by octet); host bits inside the last octet are kept.
        let addr = [0xc6, 0x33, 0x65, 0xff];
        for len in 0..=32u8 {
            let n = usize::from(len).div_ceil(8);
            let mut want = [0u8; 4];
            want[..n].copy_from_slice(&addr[..n]);
            let want = Ipv4Net::new(Ipv4Addr::from(want), len).unwrap();
            let mut wire = vec![len];
            wire.extend_from_slice(&addr[..n]);
            for trailing in [&[][..], &[24, 10, 1, 2][..]] {
                let mut field = wire.clone();
                field.extend_from_slice(trailing);
                let mut out = Vec::new();
                decode_ipv4_prefixes(&field, false, &mut out).unwrap();
                assert_eq!(out[0].prefix, IpNet::V4(want), "/{len} {trailing:?}");
                assert_eq!(out.len(), 1 + usize::from(!trailing.is_empty()));
                let mut enc = BytesMut::new();
                encode_nlri(&out[0], false, &mut enc);
                assert_eq!(&enc[..], &wire[..], "/{len}");
            }
        }
    }

    #[test]
    fn mp_prefix_bits_match_a_plain_copy_at_every_length() {
        // IPv6 unicast, VPN-IPv6 and VPN-IPv4 at every prefix length, followed by another NLRI
        // (16-octet load and mask) or last in the field (octet by octet).
        let addr: [u8; 16] = [
            0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x11, 0x22,
            0x33, 0xff,
        ];
        let vpn = [0x00, 0x44, 0x01, 0, 0, 0xfd, 0xe8, 0, 0, 0, 4];
        for (family, max) in [
            (Family::IPV6_UNICAST, 128u8),
            (Family::IPV6_VPN, 128),
            (Family::IPV4_VPN, 32),
        ] {
            let is_vpn = family.safi == Safi::MplsVpn;
            for len in 0..=max {
                let n = usize::from(len).div_ceil(8);
                let mut wire = vec![if is_vpn { len + 88 } else { len }];
                if is_vpn {
                    wire.extend_from_slice(&vpn);
                }
                wire.extend_from_slice(&addr[..n]);
                let next = wire.clone();
                for trailing in [&[][..], &next[..]] {
                    let mut field = wire.clone();
                    field.extend_from_slice(trailing);
                    let mut out = Vec::new();
                    decode_mp_nlri(&field, family, false, &mut out).unwrap();
                    assert_eq!(out.len(), 1 + usize::from(!trailing.is_empty()));
                    let want = if max == 32 {
                        let mut o = [0u8; 4];
                        o[..n].copy_from_slice(&addr[..n]);
                        IpNet::V4(Ipv4Net::new(Ipv4Addr::from(o), len).unwrap())
                    } else {
                        let mut o = [0u8; 16];
                        o[..n].copy_from_slice(&addr[..n]);
                        IpNet::V6(Ipv6Net::new(Ipv6Addr::from(o), len).unwrap())
                    };
                    assert_eq!(out[0].prefix, want, "{family} /{len}");
                    let mut enc = BytesMut::new();
                    encode_nlri(&out[0], false, &mut enc);
                    assert_eq!(&enc[..], &wire[..], "{family} /{len}");
                }
            }
        }
    }

    #[test]
    fn ipv4_prefix_too_long_is_an_error() {
        let mut out = Vec::new();
        let e = decode_ipv4_prefixes(&[33, 1, 2, 3, 4, 5], false, &mut out).unwrap_err();
        assert!(e.0.contains("33 > 32"), "{e:?}");
    }

    #[test]
    fn truncated_prefix_is_an_error() {
        let mut out = Vec::new();
        assert!(decode_ipv4_prefixes(&[24, 10, 1], false, &mut out).is_err());
        assert!(decode_ipv4_prefixes(&[0, 0, 0], true, &mut out).is_err());
    }

    #[test]
    fn add_path_ids_are_read() {
        let wire = [0, 0, 0, 7, 16, 10, 20];
        let mut out = Vec::new();
        decode_ipv4_prefixes(&wire, true, &mut out).unwrap();
        assert_eq!(out[0].path_id, Some(7));
        assert_eq!(out[0].prefix.to_string(), "10.20.0.0/16");
    }

    #[test]
    fn vpnv6_nlri_with_label_and_rd() {
        // label=8192 (raw 020003) rd=65000:2 2001:db8:2::/48 (FRR 8.4 PE)
        let wire = [
            136, 0x02, 0x00, 0x03, 0, 0, 0xfd, 0xe8, 0, 0, 0, 2, 0x20, 0x01, 0x0d, 0xb8, 0, 2,
        ];
        let mut out = Vec::new();
        decode_mp_nlri(&wire, Family::IPV6_VPN, false, &mut out).unwrap();
        let n = out[0];
        let v = n.vpn.unwrap();
        assert_eq!(v.label, 0x020003);
        assert_eq!(v.label_value(), 8192);
        assert_eq!(v.rd.to_string(), "65000:2");
        assert_eq!(n.prefix.to_string(), "2001:db8:2::/48");
        let mut enc = BytesMut::new();
        encode_nlri(&n, false, &mut enc);
        assert_eq!(&enc[..], &wire[..]);
        assert_eq!(encoded_len(&n, false), wire.len());
    }

    #[test]
    fn vpn_nlri_shorter_than_label_and_rd_is_an_error() {
        let mut out = Vec::new();
        let e = decode_mp_nlri(&[80, 0, 0, 0], Family::IPV4_VPN, false, &mut out).unwrap_err();
        assert!(e.0.contains("< 88"), "{e:?}");
    }

    #[test]
    fn route_distinguisher_forms() {
        for s in ["65000:4", "1.2.3.4:5", "4200000001:7"] {
            assert_eq!(RouteDistinguisher::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(RouteDistinguisher::parse("4200000001:7").unwrap().kind(), 2);
        assert!(RouteDistinguisher::parse("x:1").is_none());
    }
}
