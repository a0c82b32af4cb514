//! Address families (RFC 4760 §3, IANA AFI and SAFI registries).

use std::fmt;

/// Address Family Identifier (IANA "Address Family Numbers").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Afi {
    Ipv4,
    Ipv6,
    L2vpn,
    Unknown(u16),
}

impl Afi {
    pub const fn from_u16(v: u16) -> Self {
        match v {
            1 => Afi::Ipv4,
            2 => Afi::Ipv6,
            25 => Afi::L2vpn,
            other => Afi::Unknown(other),
        }
    }
    pub const fn to_u16(self) -> u16 {
        match self {
            Afi::Ipv4 => 1,
            Afi::Ipv6 => 2,
            Afi::L2vpn => 25,
            Afi::Unknown(v) => v,
        }
    }
}

/// Subsequent Address Family Identifier (IANA "SAFI Values").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Safi {
    Unicast,
    Multicast,
    LabeledUnicast,
    Evpn,
    SrPolicy,
    MplsVpn,
    Unknown(u8),
}

impl Safi {
    pub const fn from_u8(v: u8) -> Self {
        match v {
            1 => Safi::Unicast,
            2 => Safi::Multicast,
            4 => Safi::LabeledUnicast,
            70 => Safi::Evpn,
            73 => Safi::SrPolicy,
            128 => Safi::MplsVpn,
            other => Safi::Unknown(other),
        }
    }
    pub const fn to_u8(self) -> u8 {
        match self {
            Safi::Unicast => 1,
            Safi::Multicast => 2,
            Safi::LabeledUnicast => 4,
            Safi::Evpn => 70,
            Safi::SrPolicy => 73,
            Safi::MplsVpn => 128,
            Safi::Unknown(v) => v,
        }
    }
}

/// An AFI/SAFI pair as carried in capabilities, MP_REACH_NLRI and ROUTE-REFRESH.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Family {
    pub afi: Afi,
    pub safi: Safi,
}

impl Family {
    pub const IPV4_UNICAST: Family = Family {
        afi: Afi::Ipv4,
        safi: Safi::Unicast,
    };
    pub const IPV6_UNICAST: Family = Family {
        afi: Afi::Ipv6,
        safi: Safi::Unicast,
    };
    pub const IPV4_VPN: Family = Family {
        afi: Afi::Ipv4,
        safi: Safi::MplsVpn,
    };
    pub const IPV6_VPN: Family = Family {
        afi: Afi::Ipv6,
        safi: Safi::MplsVpn,
    };

    pub const fn new(afi: u16, safi: u8) -> Self {
        Family {
            afi: Afi::from_u16(afi),
            safi: Safi::from_u8(safi),
        }
    }

    /// The families whose NLRI sidra understands (decodes into prefixes).
    pub const fn is_supported(self) -> bool {
        matches!(
            (self.afi, self.safi),
            (Afi::Ipv4 | Afi::Ipv6, Safi::Unicast | Safi::MplsVpn)
        )
    }

    /// The operator-facing name (`ipv4-unicast`, `ipv6-vpn`, ...), or `afi-A/safi-S`.
    pub fn name(self) -> String {
        match (self.afi, self.safi) {
            (Afi::Ipv4, Safi::Unicast) => "ipv4-unicast".into(),
            (Afi::Ipv6, Safi::Unicast) => "ipv6-unicast".into(),
            (Afi::Ipv4, Safi::MplsVpn) => "ipv4-vpn".into(),
            (Afi::Ipv6, Safi::MplsVpn) => "ipv6-vpn".into(),
            (Afi::Ipv4, Safi::LabeledUnicast) => "ipv4-labeled-unicast".into(),
            (Afi::Ipv6, Safi::LabeledUnicast) => "ipv6-labeled-unicast".into(),
            (Afi::L2vpn, Safi::Evpn) => "l2vpn-evpn".into(),
            (Afi::Ipv4, Safi::SrPolicy) => "ipv4-sr-policy".into(),
            (Afi::Ipv6, Safi::SrPolicy) => "ipv6-sr-policy".into(),
            (afi, safi) => format!("afi-{}/safi-{}", afi.to_u16(), safi.to_u8()),
        }
    }

    /// Parse an operator-facing name as produced by [`Family::name`].
    pub fn from_name(s: &str) -> Option<Family> {
        Some(match s {
            "ipv4-unicast" => Family::IPV4_UNICAST,
            "ipv6-unicast" => Family::IPV6_UNICAST,
            "ipv4-vpn" => Family::IPV4_VPN,
            "ipv6-vpn" => Family::IPV6_VPN,
            _ => return None,
        })
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}
