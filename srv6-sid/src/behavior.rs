//! SRv6 Endpoint Behavior codepoints.
//!
//! RFC 9252 §3.1 carries a 2-octet "SRv6 Endpoint Behavior" in every SRv6
//! SID Information Sub-TLV; its values come from the IANA "SRv6 Endpoint
//! Behaviors" registry created by RFC 8986 §10.2. RFC 9800 and
//! draft-filsfils-spring-net-pgm-extension-srv6-usid registered the
//! NEXT-CSID (uSID) flavors. 0xFFFF is the registry's "Opaque" value, which
//! FRR 8.4 sends for its VPN SIDs.
//!
//! | codepoint | variant               | name          |
//! |-----------|-----------------------|---------------|
//! | 1         | [`Behavior::End`]     | End           |
//! | 5         | [`Behavior::EndX`]    | End.X         |
//! | 9         | [`Behavior::EndT`]    | End.T         |
//! | 14        | [`Behavior::EndB6Encaps`] | End.B6.Encaps |
//! | 15        | [`Behavior::EndBm`]   | End.BM        |
//! | 16        | [`Behavior::EndDx6`]  | End.DX6       |
//! | 17        | [`Behavior::EndDx4`]  | End.DX4       |
//! | 18        | [`Behavior::EndDt6`]  | End.DT6       |
//! | 19        | [`Behavior::EndDt4`]  | End.DT4       |
//! | 20        | [`Behavior::EndDt46`] | End.DT46      |
//! | 21        | [`Behavior::EndDx2`]  | End.DX2       |
//! | 22        | [`Behavior::EndDx2v`] | End.DX2V      |
//! | 23        | [`Behavior::EndDt2u`] | End.DT2U      |
//! | 24        | [`Behavior::EndDt2m`] | End.DT2M      |
//! | 27        | [`Behavior::EndB6EncapsRed`] | End.B6.Encaps.Red |
//! | 43        | [`Behavior::EndNextCsid`]  | uN (End with NEXT-CSID)   |
//! | 52        | [`Behavior::EndXNextCsid`] | uA (End.X with NEXT-CSID) |
//! | 60        | [`Behavior::UDx6`]    | uDX6          |
//! | 61        | [`Behavior::UDx4`]    | uDX4          |
//! | 62        | [`Behavior::UDt6`]    | uDT6          |
//! | 63        | [`Behavior::UDt4`]    | uDT4          |
//! | 64        | [`Behavior::UDt46`]   | uDT46         |
//! | 65        | [`Behavior::UDx2`]    | uDX2          |
//! | 66        | [`Behavior::UDx2v`]   | uDX2V         |
//! | 67        | [`Behavior::UDt2u`]   | uDT2U         |
//! | 68        | [`Behavior::UDt2m`]   | uDT2M         |
//! | 65535     | [`Behavior::Opaque`]  | opaque        |
//! | any other | [`Behavior::Other`]   | other         |

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// An SRv6 Endpoint Behavior codepoint.
///
/// Every `u16` converts losslessly: [`Behavior::from_u16`] gives the named
/// variant for known codepoints and [`Behavior::Other`] for the rest, and
/// [`Behavior::to_u16`] gives the codepoint back. Equality, ordering and
/// hashing compare codepoints, so `Behavior::Other(18) == Behavior::EndDt6`.
#[derive(Clone, Copy, Debug)]
pub enum Behavior {
    /// End (1).
    End,
    /// End.X, Layer-3 cross-connect (5).
    EndX,
    /// End.T, specific IPv6 table lookup (9).
    EndT,
    /// End.B6.Encaps, endpoint bound to an SRv6 policy with encapsulation
    /// (14).
    EndB6Encaps,
    /// End.BM, endpoint bound to an SR-MPLS policy (15).
    EndBm,
    /// End.DX6, decapsulation and IPv6 cross-connect (16).
    EndDx6,
    /// End.DX4, decapsulation and IPv4 cross-connect (17).
    EndDx4,
    /// End.DT6, decapsulation and IPv6 table lookup (18).
    EndDt6,
    /// End.DT4, decapsulation and IPv4 table lookup (19).
    EndDt4,
    /// End.DT46, decapsulation and IP table lookup (20).
    EndDt46,
    /// End.DX2, decapsulation and L2 cross-connect (21).
    EndDx2,
    /// End.DX2V, decapsulation and VLAN L2 table lookup (22).
    EndDx2v,
    /// End.DT2U, decapsulation and unicast MAC L2 table lookup (23).
    EndDt2u,
    /// End.DT2M, decapsulation and L2 table flooding (24).
    EndDt2m,
    /// End.B6.Encaps.Red, End.B6.Encaps with reduced SRH (27).
    EndB6EncapsRed,
    /// End with NEXT-CSID, the uSID "uN" (43, RFC 9800).
    EndNextCsid,
    /// End.X with NEXT-CSID, the uSID "uA" (52, RFC 9800).
    EndXNextCsid,
    /// End.DX6 with NEXT-CSID, "uDX6" (60).
    UDx6,
    /// End.DX4 with NEXT-CSID, "uDX4" (61).
    UDx4,
    /// End.DT6 with NEXT-CSID, "uDT6" (62).
    UDt6,
    /// End.DT4 with NEXT-CSID, "uDT4" (63).
    UDt4,
    /// End.DT46 with NEXT-CSID, "uDT46" (64).
    UDt46,
    /// End.DX2 with NEXT-CSID, "uDX2" (65).
    UDx2,
    /// End.DX2V with NEXT-CSID, "uDX2V" (66).
    UDx2v,
    /// End.DT2U with NEXT-CSID, "uDT2U" (67).
    UDt2u,
    /// End.DT2M with NEXT-CSID, "uDT2M" (68).
    UDt2m,
    /// Opaque (65535): the behavior is not disclosed. FRR 8.4 advertises
    /// its VPN SIDs with it.
    Opaque,
    /// Any codepoint without a variant of its own.
    Other(u16),
}

/// The decapsulation service a behavior gives, the same for its classic and
/// its uSID (NEXT-CSID) codepoint.
///
/// A headend only needs the SID value to steer traffic, so it treats End.DT4
/// and uDT4 (and the other pairs) the same (standards.md §0 item 11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceKind {
    /// Decapsulation and IPv6 cross-connect: End.DX6 (16) ≡ uDX6 (60).
    Dx6,
    /// Decapsulation and IPv4 cross-connect: End.DX4 (17) ≡ uDX4 (61).
    Dx4,
    /// Decapsulation and IPv6 table lookup: End.DT6 (18) ≡ uDT6 (62).
    Dt6,
    /// Decapsulation and IPv4 table lookup: End.DT4 (19) ≡ uDT4 (63).
    Dt4,
    /// Decapsulation and IP table lookup: End.DT46 (20) ≡ uDT46 (64).
    Dt46,
    /// Decapsulation and L2 cross-connect: End.DX2 (21) ≡ uDX2 (65).
    Dx2,
    /// Decapsulation and VLAN L2 table lookup: End.DX2V (22) ≡ uDX2V (66).
    Dx2v,
    /// Decapsulation and unicast MAC lookup: End.DT2U (23) ≡ uDT2U (67).
    Dt2u,
    /// Decapsulation and L2 flooding: End.DT2M (24) ≡ uDT2M (68).
    Dt2m,
}

impl Behavior {
    /// The behavior for a codepoint; [`Behavior::Other`] for codepoints
    /// without a variant.
    pub const fn from_u16(codepoint: u16) -> Self {
        match codepoint {
            1 => Self::End,
            5 => Self::EndX,
            9 => Self::EndT,
            14 => Self::EndB6Encaps,
            15 => Self::EndBm,
            16 => Self::EndDx6,
            17 => Self::EndDx4,
            18 => Self::EndDt6,
            19 => Self::EndDt4,
            20 => Self::EndDt46,
            21 => Self::EndDx2,
            22 => Self::EndDx2v,
            23 => Self::EndDt2u,
            24 => Self::EndDt2m,
            27 => Self::EndB6EncapsRed,
            43 => Self::EndNextCsid,
            52 => Self::EndXNextCsid,
            60 => Self::UDx6,
            61 => Self::UDx4,
            62 => Self::UDt6,
            63 => Self::UDt4,
            64 => Self::UDt46,
            65 => Self::UDx2,
            66 => Self::UDx2v,
            67 => Self::UDt2u,
            68 => Self::UDt2m,
            0xffff => Self::Opaque,
            other => Self::Other(other),
        }
    }

    /// The codepoint sent on the wire.
    pub const fn to_u16(self) -> u16 {
        match self {
            Self::End => 1,
            Self::EndX => 5,
            Self::EndT => 9,
            Self::EndB6Encaps => 14,
            Self::EndBm => 15,
            Self::EndDx6 => 16,
            Self::EndDx4 => 17,
            Self::EndDt6 => 18,
            Self::EndDt4 => 19,
            Self::EndDt46 => 20,
            Self::EndDx2 => 21,
            Self::EndDx2v => 22,
            Self::EndDt2u => 23,
            Self::EndDt2m => 24,
            Self::EndB6EncapsRed => 27,
            Self::EndNextCsid => 43,
            Self::EndXNextCsid => 52,
            Self::UDx6 => 60,
            Self::UDx4 => 61,
            Self::UDt6 => 62,
            Self::UDt4 => 63,
            Self::UDt46 => 64,
            Self::UDx2 => 65,
            Self::UDx2v => 66,
            Self::UDt2u => 67,
            Self::UDt2m => 68,
            Self::Opaque => 0xffff,
            Self::Other(codepoint) => codepoint,
        }
    }

    /// The short name used in CLIs and logs ("End.DT6", "uDT4", "opaque");
    /// "other" for codepoints without a variant ([`fmt::Display`] adds the
    /// number).
    pub const fn name(self) -> &'static str {
        // Go through the codepoint so that `Other(18)` is named "End.DT6".
        match Self::from_u16(self.to_u16()) {
            Self::End => "End",
            Self::EndX => "End.X",
            Self::EndT => "End.T",
            Self::EndB6Encaps => "End.B6.Encaps",
            Self::EndBm => "End.BM",
            Self::EndDx6 => "End.DX6",
            Self::EndDx4 => "End.DX4",
            Self::EndDt6 => "End.DT6",
            Self::EndDt4 => "End.DT4",
            Self::EndDt46 => "End.DT46",
            Self::EndDx2 => "End.DX2",
            Self::EndDx2v => "End.DX2V",
            Self::EndDt2u => "End.DT2U",
            Self::EndDt2m => "End.DT2M",
            Self::EndB6EncapsRed => "End.B6.Encaps.Red",
            Self::EndNextCsid => "uN",
            Self::EndXNextCsid => "uA",
            Self::UDx6 => "uDX6",
            Self::UDx4 => "uDX4",
            Self::UDt6 => "uDT6",
            Self::UDt4 => "uDT4",
            Self::UDt46 => "uDT46",
            Self::UDx2 => "uDX2",
            Self::UDx2v => "uDX2V",
            Self::UDt2u => "uDT2U",
            Self::UDt2m => "uDT2M",
            Self::Opaque => "opaque",
            Self::Other(_) => "other",
        }
    }

    /// The decapsulation service of this behavior, the same for the classic
    /// and the uSID codepoint (End.DT4 and uDT4 both give
    /// [`ServiceKind::Dt4`]). `None` for behaviors that are not service
    /// decapsulations (End, End.X, ...) and for [`Behavior::Opaque`].
    pub const fn service_kind(self) -> Option<ServiceKind> {
        match Self::from_u16(self.to_u16()) {
            Self::EndDx6 | Self::UDx6 => Some(ServiceKind::Dx6),
            Self::EndDx4 | Self::UDx4 => Some(ServiceKind::Dx4),
            Self::EndDt6 | Self::UDt6 => Some(ServiceKind::Dt6),
            Self::EndDt4 | Self::UDt4 => Some(ServiceKind::Dt4),
            Self::EndDt46 | Self::UDt46 => Some(ServiceKind::Dt46),
            Self::EndDx2 | Self::UDx2 => Some(ServiceKind::Dx2),
            Self::EndDx2v | Self::UDx2v => Some(ServiceKind::Dx2v),
            Self::EndDt2u | Self::UDt2u => Some(ServiceKind::Dt2u),
            Self::EndDt2m | Self::UDt2m => Some(ServiceKind::Dt2m),
            _ => None,
        }
    }

    /// Whether this is a NEXT-CSID (uSID, RFC 9800) flavor: 43–50 (End with
    /// NEXT-CSID and its PSP/USP/USD combinations), 52–59 (End.X with
    /// NEXT-CSID and combinations) and 60–68 (the service behaviors).
    pub const fn is_usid(self) -> bool {
        matches!(self.to_u16(), 43..=50 | 52..=68)
    }
}

impl ServiceKind {
    /// The classic (RFC 8986) behavior of this service, e.g. End.DT4.
    pub const fn classic_behavior(self) -> Behavior {
        match self {
            Self::Dx6 => Behavior::EndDx6,
            Self::Dx4 => Behavior::EndDx4,
            Self::Dt6 => Behavior::EndDt6,
            Self::Dt4 => Behavior::EndDt4,
            Self::Dt46 => Behavior::EndDt46,
            Self::Dx2 => Behavior::EndDx2,
            Self::Dx2v => Behavior::EndDx2v,
            Self::Dt2u => Behavior::EndDt2u,
            Self::Dt2m => Behavior::EndDt2m,
        }
    }

    /// The uSID (NEXT-CSID) behavior of this service, e.g. uDT4, to
    /// advertise for a SID of a uSID locator.
    pub const fn usid_behavior(self) -> Behavior {
        match self {
            Self::Dx6 => Behavior::UDx6,
            Self::Dx4 => Behavior::UDx4,
            Self::Dt6 => Behavior::UDt6,
            Self::Dt4 => Behavior::UDt4,
            Self::Dt46 => Behavior::UDt46,
            Self::Dx2 => Behavior::UDx2,
            Self::Dx2v => Behavior::UDx2v,
            Self::Dt2u => Behavior::UDt2u,
            Self::Dt2m => Behavior::UDt2m,
        }
    }
}

impl From<u16> for Behavior {
    fn from(codepoint: u16) -> Self {
        Self::from_u16(codepoint)
    }
}

impl From<Behavior> for u16 {
    fn from(behavior: Behavior) -> Self {
        behavior.to_u16()
    }
}

impl PartialEq for Behavior {
    fn eq(&self, other: &Self) -> bool {
        self.to_u16() == other.to_u16()
    }
}

impl Eq for Behavior {}

impl Hash for Behavior {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.to_u16().hash(state);
    }
}

impl PartialOrd for Behavior {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Orders by codepoint.
impl Ord for Behavior {
    fn cmp(&self, other: &Self) -> Ordering {
        self.to_u16().cmp(&other.to_u16())
    }
}

/// Formats as [`Behavior::name`]; codepoints without a variant as
/// `other(42)`.
impl fmt::Display for Behavior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Self::from_u16(self.to_u16()) {
            Self::Other(codepoint) => write!(f, "other({codepoint})"),
            known => f.write_str(known.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_u16_round_trips() {
        for codepoint in 0..=u16::MAX {
            let behavior = Behavior::from_u16(codepoint);
            assert_eq!(behavior.to_u16(), codepoint);
            assert_eq!(u16::from(Behavior::from(codepoint)), codepoint);
        }
    }

    #[test]
    fn required_codepoints() {
        let expected = [
            (Behavior::End, 1, "End"),
            (Behavior::EndX, 5, "End.X"),
            (Behavior::EndT, 9, "End.T"),
            (Behavior::EndB6Encaps, 14, "End.B6.Encaps"),
            (Behavior::EndBm, 15, "End.BM"),
            (Behavior::EndDx6, 16, "End.DX6"),
            (Behavior::EndDx4, 17, "End.DX4"),
            (Behavior::EndDt6, 18, "End.DT6"),
            (Behavior::EndDt4, 19, "End.DT4"),
            (Behavior::EndDt46, 20, "End.DT46"),
            (Behavior::EndDx2, 21, "End.DX2"),
            (Behavior::EndDx2v, 22, "End.DX2V"),
            (Behavior::EndDt2u, 23, "End.DT2U"),
            (Behavior::EndDt2m, 24, "End.DT2M"),
            (Behavior::EndB6EncapsRed, 27, "End.B6.Encaps.Red"),
            (Behavior::EndNextCsid, 43, "uN"),
            (Behavior::EndXNextCsid, 52, "uA"),
            (Behavior::UDx6, 60, "uDX6"),
            (Behavior::UDx4, 61, "uDX4"),
            (Behavior::UDt6, 62, "uDT6"),
            (Behavior::UDt4, 63, "uDT4"),
            (Behavior::UDt46, 64, "uDT46"),
            (Behavior::UDx2, 65, "uDX2"),
            (Behavior::UDx2v, 66, "uDX2V"),
            (Behavior::UDt2u, 67, "uDT2U"),
            (Behavior::UDt2m, 68, "uDT2M"),
            (Behavior::Opaque, 0xffff, "opaque"),
        ];
        for (behavior, codepoint, name) in expected {
            assert_eq!(behavior.to_u16(), codepoint, "{name}");
            // A named variant, not Other with the same codepoint.
            let decoded = Behavior::from_u16(codepoint);
            assert!(!matches!(decoded, Behavior::Other(_)), "{name}");
            assert_eq!(decoded, behavior);
            assert_eq!(behavior.name(), name);
            assert_eq!(behavior.to_string(), name);
        }
    }

    #[test]
    fn other_codepoints() {
        let behavior = Behavior::from_u16(42);
        assert!(matches!(behavior, Behavior::Other(42)));
        assert_eq!(behavior.name(), "other");
        assert_eq!(behavior.to_string(), "other(42)");
        assert_eq!(Behavior::from_u16(0).to_string(), "other(0)");
        assert_eq!(behavior.service_kind(), None);
    }

    #[test]
    fn equality_compares_codepoints() {
        assert_eq!(Behavior::Other(18), Behavior::EndDt6);
        assert_eq!(Behavior::Other(18).name(), "End.DT6");
        assert_eq!(Behavior::Other(18).to_string(), "End.DT6");
        assert_eq!(Behavior::Other(63).service_kind(), Some(ServiceKind::Dt4));
        assert_ne!(Behavior::EndDt6, Behavior::UDt6);
        let set: HashSet<Behavior> = [Behavior::Other(19), Behavior::EndDt4].into();
        assert_eq!(set.len(), 1);
        assert!(Behavior::EndDt6 < Behavior::EndDt4);
        assert!(Behavior::Other(100) < Behavior::Opaque);
    }

    #[test]
    fn classic_and_usid_services_are_equivalent() {
        let pairs = [
            (16, 60, ServiceKind::Dx6),
            (17, 61, ServiceKind::Dx4),
            (18, 62, ServiceKind::Dt6),
            (19, 63, ServiceKind::Dt4),
            (20, 64, ServiceKind::Dt46),
            (21, 65, ServiceKind::Dx2),
            (22, 66, ServiceKind::Dx2v),
            (23, 67, ServiceKind::Dt2u),
            (24, 68, ServiceKind::Dt2m),
        ];
        for (classic, usid, kind) in pairs {
            let classic = Behavior::from_u16(classic);
            let usid = Behavior::from_u16(usid);
            assert_eq!(classic.service_kind(), Some(kind));
            assert_eq!(usid.service_kind(), Some(kind));
            assert_eq!(kind.classic_behavior(), classic);
            assert_eq!(kind.usid_behavior(), usid);
            assert!(!classic.is_usid());
            assert!(usid.is_usid());
        }
    }

    #[test]
    fn non_services_have_no_service_kind() {
        for behavior in [
            Behavior::End,
            Behavior::EndX,
            Behavior::EndT,
            Behavior::EndB6Encaps,
            Behavior::EndBm,
            Behavior::EndB6EncapsRed,
            Behavior::EndNextCsid,
            Behavior::EndXNextCsid,
            Behavior::Opaque,
            Behavior::Other(2),
        ] {
            assert_eq!(behavior.service_kind(), None, "{behavior}");
        }
    }

    #[test]
    fn usid_flavors() {
        assert!(Behavior::EndNextCsid.is_usid());
        assert!(Behavior::EndXNextCsid.is_usid());
        assert!(Behavior::from_u16(44).is_usid());
        assert!(Behavior::from_u16(50).is_usid());
        assert!(!Behavior::from_u16(51).is_usid());
        assert!(Behavior::from_u16(59).is_usid());
        assert!(!Behavior::from_u16(69).is_usid());
        assert!(!Behavior::End.is_usid());
        assert!(!Behavior::Opaque.is_usid());
        assert!(!Behavior::from_u16(42).is_usid());
    }
}
