//! MP_REACH_NLRI (type 14) and MP_UNREACH_NLRI (type 15), RFC 4760 §3-4, with the next-hop
//! forms of RFC 4364, RFC 4659 and RFC 8950.
//!
//! ```text
//! MP_REACH_NLRI                               MP_UNREACH_NLRI
//! +---------------------------------------+   +---------------------------------+
//! | AFI (2) | SAFI (1) | Next Hop Len (1) |   | AFI (2) | SAFI (1)              |
//! +---------------------------------------+   +---------------------------------+
//! | Network Address of Next Hop (var)     |   | Withdrawn Routes (var)          |
//! +---------------------------------------+   +---------------------------------+
//! | Reserved (1)                          |
//! +---------------------------------------+
//! | NLRI (var)                            |
//! +---------------------------------------+
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, BytesMut};

use crate::packet::family::{Afi, Family, Safi};
use crate::packet::nlri::{Nlri, decode_mp_nlri, encode_nlri};

/// The NLRI of an MP attribute: decoded for the families sidra understands, raw otherwise (so
/// that they are re-emitted unchanged).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MpNlri {
    Prefixes(Vec<Nlri>),
    Raw(Vec<u8>),
}

impl MpNlri {
    pub fn prefixes(&self) -> &[Nlri] {
        match self {
            MpNlri::Prefixes(p) => p,
            MpNlri::Raw(_) => &[],
        }
    }
    pub fn is_empty(&self) -> bool {
        match self {
            MpNlri::Prefixes(p) => p.is_empty(),
            MpNlri::Raw(r) => r.is_empty(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MpReach {
    pub family: Family,
    /// The next hop field as on the wire (4, 12, 16, 24, 32 or 48 octets by family).
    pub next_hop: Vec<u8>,
    /// RFC 4760 §3: one reserved octet (formerly the SNPA count), kept as received.
    pub reserved: u8,
    pub nlri: MpNlri,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MpUnreach {
    pub family: Family,
    pub nlri: MpNlri,
}

/// A next hop read from MP_REACH_NLRI: the global address and, for IPv6, an optional
/// link-local one (RFC 2545 §3, RFC 8950 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NextHop {
    pub global: IpAddr,
    pub link_local: Option<Ipv6Addr>,
}

fn v6(b: &[u8]) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(&b[..16]);
    Ipv6Addr::from(o)
}

fn v4(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

/// Parse a next hop field. The lengths allowed per family:
/// IPv4 unicast 4 (RFC 4760) or 16/32 (RFC 8950); IPv6 unicast 16/32 (RFC 2545);
/// VPN-IPv4 12 (RFC 4364 §4.3.2) or 24/48 (RFC 8950); VPN-IPv6 24/48 (RFC 4659 §3.2).
/// The RD in VPN next hops is carried and ignored.
pub fn parse_next_hop(family: Family, nh: &[u8]) -> Result<NextHop, String> {
    let ll = |b: &[u8]| Some(v6(b));
    let r = match (family.afi, family.safi, nh.len()) {
        (Afi::Ipv4, Safi::Unicast, 4) => NextHop {
            global: IpAddr::V4(v4(nh)),
            link_local: None,
        },
        (Afi::Ipv4 | Afi::Ipv6, Safi::Unicast, 16) => NextHop {
            global: IpAddr::V6(v6(nh)),
            link_local: None,
        },
        (Afi::Ipv4 | Afi::Ipv6, Safi::Unicast, 32) => NextHop {
            global: IpAddr::V6(v6(nh)),
            link_local: ll(&nh[16..]),
        },
        (Afi::Ipv4, Safi::MplsVpn, 12) => NextHop {
            global: IpAddr::V4(v4(&nh[8..])),
            link_local: None,
        },
        (Afi::Ipv4 | Afi::Ipv6, Safi::MplsVpn, 24) => NextHop {
            global: IpAddr::V6(v6(&nh[8..])),
            link_local: None,
        },
        (Afi::Ipv4 | Afi::Ipv6, Safi::MplsVpn, 48) => NextHop {
            global: IpAddr::V6(v6(&nh[8..])),
            link_local: ll(&nh[32..]),
        },
        (_, _, n) => {
            return Err(format!("next hop length {n} is not valid for {family}"));
        }
    };
    Ok(r)
}

/// Build the next-hop field for `family` (VPN next hops get the zero RD).
pub fn next_hop_bytes(family: Family, nh: &NextHop) -> Vec<u8> {
    let mut out = Vec::with_capacity(48);
    let vpn = family.safi == Safi::MplsVpn;
    if vpn {
        out.extend_from_slice(&[0; 8]);
    }
    match nh.global {
        IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
        IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
    }
    if let Some(ll) = nh.link_local {
        if vpn {
            out.extend_from_slice(&[0; 8]);
        }
        out.extend_from_slice(&ll.octets());
    }
    out
}

impl MpReach {
    pub fn next_hop(&self) -> Result<NextHop, String> {
        parse_next_hop(self.family, &self.next_hop)
    }
}

/// What went wrong in an MP attribute; RFC 7606 §7.11 makes both cases "AFI/SAFI disable"
/// or session reset, since the NLRI cannot be reliably located or read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MpError {
    pub family: Option<Family>,
    pub reason: String,
}

fn header(v: &[u8]) -> Result<(Family, &[u8]), MpError> {
    let [a0, a1, safi, rest @ ..] = v else {
        return Err(MpError {
            family: None,
            reason: format!("{} bytes, AFI/SAFI needs 3", v.len()),
        });
    };
    Ok((Family::new(u16::from_be_bytes([*a0, *a1]), *safi), rest))
}

fn nlri(family: Family, buf: &[u8], add_path: &dyn Fn(Family) -> bool) -> Result<MpNlri, MpError> {
    if !family.is_supported() {
        return Ok(MpNlri::Raw(buf.to_vec()));
    }
    let mut out = Vec::new();
    decode_mp_nlri(buf, family, add_path(family), &mut out).map_err(|e| MpError {
        family: Some(family),
        reason: e.0,
    })?;
    Ok(MpNlri::Prefixes(out))
}

pub fn decode_mp_reach(v: &[u8], add_path: &dyn Fn(Family) -> bool) -> Result<MpReach, MpError> {
    let (family, rest) = header(v)?;
    let err = |reason: String| MpError {
        family: Some(family),
        reason,
    };
    let Some((&nh_len, rest)) = rest.split_first() else {
        return Err(err("next hop length missing".into()));
    };
    let nh_len = usize::from(nh_len);
    if rest.len() < nh_len + 1 {
        return Err(err(format!(
            "next hop of {nh_len} bytes overruns the attribute"
        )));
    }
    let next_hop = rest[..nh_len].to_vec();
    // RFC 7606 §7.11: "If the Length of Next Hop Network Address field of the MP_REACH
    // attribute is inconsistent with that which was expected, the attribute is considered
    // malformed."
    if family.is_supported() {
        parse_next_hop(family, &next_hop).map_err(err)?;
    }
    let reserved = rest[nh_len];
    let nlri = nlri(family, &rest[nh_len + 1..], add_path)?;
    Ok(MpReach {
        family,
        next_hop,
        reserved,
        nlri,
    })
}

pub fn decode_mp_unreach(
    v: &[u8],
    add_path: &dyn Fn(Family) -> bool,
) -> Result<MpUnreach, MpError> {
    let (family, rest) = header(v)?;
    Ok(MpUnreach {
        family,
        nlri: nlri(family, rest, add_path)?,
    })
}

fn put_nlri(n: &MpNlri, add_path: bool, out: &mut BytesMut) {
    match n {
        MpNlri::Prefixes(p) => p.iter().for_each(|x| encode_nlri(x, add_path, out)),
        MpNlri::Raw(r) => out.put_slice(r),
    }
}

pub fn encode_mp_reach(m: &MpReach, add_path: bool, out: &mut BytesMut) {
    out.put_u16(m.family.afi.to_u16());
    out.put_u8(m.family.safi.to_u8());
    out.put_u8(u8::try_from(m.next_hop.len()).unwrap_or(u8::MAX));
    out.put_slice(&m.next_hop);
    out.put_u8(m.reserved);
    put_nlri(&m.nlri, add_path, out);
}

pub fn encode_mp_unreach(m: &MpUnreach, add_path: bool, out: &mut BytesMut) {
    out.put_u16(m.family.afi.to_u16());
    out.put_u8(m.family.safi.to_u8());
    put_nlri(&m.nlri, add_path, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_hop_forms() {
        let g: Ipv6Addr = "fd00::2".parse().unwrap();
        let l: Ipv6Addr = "fe80::1".parse().unwrap();
        for fam in [
            Family::IPV4_UNICAST,
            Family::IPV6_UNICAST,
            Family::IPV4_VPN,
            Family::IPV6_VPN,
        ] {
            for nh in [
                NextHop {
                    global: IpAddr::V6(g),
                    link_local: None,
                },
                NextHop {
                    global: IpAddr::V6(g),
                    link_local: Some(l),
                },
            ] {
                let b = next_hop_bytes(fam, &nh);
                assert_eq!(parse_next_hop(fam, &b).unwrap(), nh, "{fam}");
            }
        }
        let v4nh = NextHop {
            global: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            link_local: None,
        };
        assert_eq!(next_hop_bytes(Family::IPV4_VPN, &v4nh).len(), 12);
        assert!(parse_next_hop(Family::IPV6_UNICAST, &[0; 4]).is_err());
        assert!(parse_next_hop(Family::IPV6_VPN, &[0; 16]).is_err());
    }

    #[test]
    fn unknown_family_nlri_is_kept_raw() {
        // AFI 25 (L2VPN) SAFI 70 (EVPN), next hop 4 bytes, reserved, 3 raw bytes
        let v = [0, 25, 70, 4, 10, 0, 0, 1, 0, 1, 2, 3];
        let m = decode_mp_reach(&v, &|_| false).unwrap();
        assert_eq!(m.nlri, MpNlri::Raw(vec![1, 2, 3]));
        let mut b = BytesMut::new();
        encode_mp_reach(&m, false, &mut b);
        assert_eq!(&b[..], &v);
    }

    #[test]
    fn bad_next_hop_length_is_reported_with_family() {
        let v = [0, 2, 1, 4, 10, 0, 0, 1, 0];
        let e = decode_mp_reach(&v, &|_| false).unwrap_err();
        assert_eq!(e.family, Some(Family::IPV6_UNICAST));
        assert!(e.reason.contains("next hop length 4"), "{}", e.reason);
        assert!(decode_mp_reach(&[0, 2], &|_| false).is_err());
        assert!(decode_mp_reach(&[0, 2, 1, 16, 0], &|_| false).is_err());
    }
}
