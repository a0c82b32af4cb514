//! Communities (RFC 1997), extended communities (RFC 4360, RFC 9256/RFC 9012 color) and large
//! communities (RFC 8092).

use std::fmt;
use std::net::Ipv4Addr;

/// RFC 1997 well-known communities used by sidra.
pub const NO_EXPORT: u32 = 0xFFFF_FF01;
pub const NO_ADVERTISE: u32 = 0xFFFF_FF02;
pub const NO_EXPORT_SUBCONFED: u32 = 0xFFFF_FF03;
/// RFC 9494 §4.1 / §4.2.
pub const LLGR_STALE: u32 = 0xFFFF_0006;
pub const NO_LLGR: u32 = 0xFFFF_0007;

/// Format a standard community as `asn:value` (or its well-known name).
pub fn community_to_string(c: u32) -> String {
    match c {
        NO_EXPORT => "no-export".into(),
        NO_ADVERTISE => "no-advertise".into(),
        NO_EXPORT_SUBCONFED => "no-export-subconfed".into(),
        LLGR_STALE => "llgr-stale".into(),
        NO_LLGR => "no-llgr".into(),
        c => format!("{}:{}", c >> 16, c & 0xffff),
    }
}

/// One 8-octet extended community, kept as on the wire (RFC 4360 §2).
///
/// ```text
/// +--------+--------+----------------------------------------+
/// | Type   |Sub-Type|          Value (6 octets)              |
/// +--------+--------+----------------------------------------+
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExtendedCommunity(pub [u8; 8]);

impl ExtendedCommunity {
    /// RFC 4360 §4: Route Target with a 2-octet AS (type 0x00, sub-type 0x02).
    pub fn route_target_as2(asn: u16, value: u32) -> Self {
        let mut b = [0u8; 8];
        b[1] = 0x02;
        b[2..4].copy_from_slice(&asn.to_be_bytes());
        b[4..8].copy_from_slice(&value.to_be_bytes());
        ExtendedCommunity(b)
    }

    /// RFC 9012 §4.3 / RFC 9256 §8.8: Color (opaque type 0x03, sub-type 0x0b).
    pub fn color(color: u32) -> Self {
        let mut b = [0u8; 8];
        b[0] = 0x03;
        b[1] = 0x0b;
        b[4..8].copy_from_slice(&color.to_be_bytes());
        ExtendedCommunity(b)
    }

    /// Is this a Route Target (any of the three RFC 4360 / RFC 5668 forms)?
    pub fn is_route_target(&self) -> bool {
        matches!(self.0[0] & 0xbf, 0x00..=0x02) && self.0[1] == 0x02
    }

    /// The color value, if this is a Color extended community.
    pub fn color_value(&self) -> Option<u32> {
        (self.0[0] & 0xbf == 0x03 && self.0[1] == 0x0b)
            .then(|| u32::from_be_bytes([self.0[4], self.0[5], self.0[6], self.0[7]]))
    }
}

impl fmt::Display for ExtendedCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        let sub = match b[1] {
            0x02 => "rt",
            0x03 => "soo",
            _ => "",
        };
        match (b[0] & 0xbf, sub) {
            (0x00, "rt" | "soo") => write!(
                f,
                "{sub}:{}:{}",
                u16::from_be_bytes([b[2], b[3]]),
                u32::from_be_bytes([b[4], b[5], b[6], b[7]])
            ),
            (0x01, "rt" | "soo") => write!(
                f,
                "{sub}:{}:{}",
                Ipv4Addr::new(b[2], b[3], b[4], b[5]),
                u16::from_be_bytes([b[6], b[7]])
            ),
            (0x02, "rt" | "soo") => write!(
                f,
                "{sub}:{}:{}",
                u32::from_be_bytes([b[2], b[3], b[4], b[5]]),
                u16::from_be_bytes([b[6], b[7]])
            ),
            _ => match self.color_value() {
                Some(c) => write!(f, "color:{c}"),
                None => {
                    f.write_str("0x")?;
                    for x in b {
                        write!(f, "{x:02x}")?;
                    }
                    Ok(())
                }
            },
        }
    }
}

/// RFC 8092 §3: global administrator, local data 1, local data 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LargeCommunity {
    pub global: u32,
    pub local1: u32,
    pub local2: u32,
}

impl fmt::Display for LargeCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.global, self.local1, self.local2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_community_forms() {
        let rt = ExtendedCommunity::route_target_as2(65000, 100);
        assert_eq!(rt.0, [0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 100]);
        assert!(rt.is_route_target());
        assert_eq!(rt.to_string(), "rt:65000:100");
        let c = ExtendedCommunity::color(42);
        assert_eq!(c.color_value(), Some(42));
        assert!(!c.is_route_target());
        assert_eq!(c.to_string(), "color:42");
        assert_eq!(
            ExtendedCommunity([0x80, 0x06, 0, 0, 0, 0, 0, 0]).to_string(),
            "0x8006000000000000"
        );
    }

    #[test]
    fn community_names() {
        assert_eq!(community_to_string(0xfde8_0064), "65000:100");
        assert_eq!(community_to_string(LLGR_STALE), "llgr-stale");
        assert_eq!(
            LargeCommunity {
                global: 1,
                local1: 2,
                local2: 3
            }
            .to_string(),
            "1:2:3"
        );
    }
}
