//! The text forms of communities in policies, and how an extended community in a policy
//! matches one on a route.
//!
//! | kind      | forms                                                                  |
//! |-----------|------------------------------------------------------------------------|
//! | standard  | `ASN:N` (16 bits each), `no-export`, `no-advertise`, `no-export-subconfed`, `llgr-stale`, `no-llgr` |
//! | extended  | `rt:ASN:N`, `rt:1.2.3.4:N`, `soo:ASN:N`, `soo:1.2.3.4:N`, `color:N`, `0x` + 16 hex digits |
//! | large     | `GLOBAL:LOCAL1:LOCAL2` (32 bits each)                                  |
//!
//! In `rt:ASN:N` an ASN up to 65535 gives the 2-octet-AS form (N: 32 bits), a larger one the
//! 4-octet-AS form (N: 16 bits); `rt:1.2.3.4:N` is the IPv4-address form (N: 16 bits).

use std::net::Ipv4Addr;

use crate::packet::attribute::community::{
    LLGR_STALE, NO_ADVERTISE, NO_EXPORT, NO_EXPORT_SUBCONFED, NO_LLGR,
};
use crate::packet::attribute::{ExtendedCommunity, LargeCommunity};

/// The well-known community names accepted wherever a community is.
pub const WELL_KNOWN: [(&str, u32); 5] = [
    ("no-export", NO_EXPORT),
    ("no-advertise", NO_ADVERTISE),
    ("no-export-subconfed", NO_EXPORT_SUBCONFED),
    ("llgr-stale", LLGR_STALE),
    ("no-llgr", NO_LLGR),
];

/// RFC 4360 sub-types of the AS and IPv4-address forms.
const SUB_ROUTE_TARGET: u8 = 0x02;
const SUB_ROUTE_ORIGIN: u8 = 0x03;

/// A standard community (RFC 1997): `ASN:N` or a well-known name.
pub fn parse_community(s: &str) -> Result<u32, String> {
    let t = s.trim();
    if let Some((_, c)) = WELL_KNOWN.iter().find(|(n, _)| *n == t) {
        return Ok(*c);
    }
    let bad = || {
        let names: Vec<&str> = WELL_KNOWN.iter().map(|(n, _)| *n).collect();
        format!(
            "{s:?} is not a community (ASN:N with 16-bit numbers, or one of {})",
            names.join(", ")
        )
    };
    let (hi, lo) = t.split_once(':').ok_or_else(bad)?;
    let hi: u16 = hi.parse().map_err(|_| bad())?;
    let lo: u16 = lo.parse().map_err(|_| bad())?;
    Ok((u32::from(hi) << 16) | u32::from(lo))
}

/// A large community (RFC 8092): `GLOBAL:LOCAL1:LOCAL2`.
pub fn parse_large_community(s: &str) -> Result<LargeCommunity, String> {
    let bad = || format!("{s:?} is not a large community (GLOBAL:LOCAL1:LOCAL2, 32-bit numbers)");
    let mut parts = s.trim().split(':').map(str::parse::<u32>);
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(Ok(global)), Some(Ok(local1)), Some(Ok(local2)), None) => Ok(LargeCommunity {
            global,
            local1,
            local2,
        }),
        _ => Err(bad()),
    }
}

/// An extended community: `rt:...`, `soo:...`, `color:N` or `0x` and 16 hex digits.
pub fn parse_ext_community(s: &str) -> Result<ExtendedCommunity, String> {
    let t = s.trim();
    let bad = || {
        format!(
            "{s:?} is not an extended community (rt:ASN:N, rt:1.2.3.4:N, soo:ASN:N, \
             soo:1.2.3.4:N, color:N or 0x and 16 hex digits)"
        )
    };
    if let Some(hex) = t.strip_prefix("0x") {
        if hex.len() != 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let v = u64::from_str_radix(hex, 16).map_err(|_| bad())?;
        return Ok(ExtendedCommunity(v.to_be_bytes()));
    }
    let (kind, rest) = t.split_once(':').ok_or_else(bad)?;
    let sub = match kind {
        "color" => {
            let color: u32 = rest
                .parse()
                .map_err(|_| format!("{s:?}: the color must be a number 0..=4294967295"))?;
            return Ok(ExtendedCommunity::color(color));
        }
        "rt" => SUB_ROUTE_TARGET,
        "soo" => SUB_ROUTE_ORIGIN,
        _ => return Err(bad()),
    };
    let (admin, value) = rest.rsplit_once(':').ok_or_else(bad)?;
    let mut b = [0u8; 8];
    b[1] = sub;
    if let Ok(ip) = admin.parse::<Ipv4Addr>() {
        let v: u16 = value
            .parse()
            .map_err(|_| format!("{s:?}: with an IPv4 address the value must be 0..=65535"))?;
        b[0] = 0x01;
        b[2..6].copy_from_slice(&ip.octets());
        b[6..8].copy_from_slice(&v.to_be_bytes());
        return Ok(ExtendedCommunity(b));
    }
    let asn: u32 = admin.parse().map_err(|_| bad())?;
    match u16::try_from(asn) {
        Ok(asn) => {
            let v: u32 = value.parse().map_err(|_| {
                format!("{s:?}: with a 2-octet AS the value must be 0..=4294967295")
            })?;
            b[2..4].copy_from_slice(&asn.to_be_bytes());
            b[4..8].copy_from_slice(&v.to_be_bytes());
        }
        Err(_) => {
            let v: u16 = value.parse().map_err(|_| {
                format!("{s:?}: with a 4-octet AS (above 65535) the value must be 0..=65535")
            })?;
            b[0] = 0x02;
            b[2..6].copy_from_slice(&asn.to_be_bytes());
            b[6..8].copy_from_slice(&v.to_be_bytes());
        }
    }
    Ok(ExtendedCommunity(b))
}

/// Does the extended community `c` on a route match `pattern` from a policy? The type's
/// transitive bit (0x40) is ignored, and a color pattern matches any color community with the
/// same color whatever its flags (RFC 9256 §8.8.1 puts them in octets 2-3).
pub fn ext_community_matches(pattern: &ExtendedCommunity, c: &ExtendedCommunity) -> bool {
    if let Some(color) = pattern.color_value() {
        return c.color_value() == Some(color);
    }
    let (p, c) = (&pattern.0, &c.0);
    p[0] & 0xbf == c[0] & 0xbf && p[1..] == c[1..]
}

/// RFC 6996 private-use AS numbers: 64512..=65534 and 4200000000..=4294967294.
pub fn is_private_as(asn: u32) -> bool {
    (64512..=65534).contains(&asn) || (4_200_000_000..=4_294_967_294).contains(&asn)
}
