//! RFC 9252 transposition: part of the SID carried in the MPLS label field.
//!
//! RFC 9252 §4: "this document allows either 1) the encoding of the SRv6
//! Service SID as a whole in the SRv6 Services TLVs or 2) the encoding of
//! only the common part of the SRv6 SID (e.g., Locator) in the SRv6
//! Services TLVs and the encoding of the variable (e.g., Function or
//! Argument parts) in the existing label fields specific to that service
//! encoding. This later form of encoding is referred to as the
//! Transposition Scheme".
//!
//! RFC 9252 §3.2.1, as corrected by erratum 7652: "Transposition Offset
//! indicates the bit position and Transposition Length indicates the number
//! of bits that are being taken out of the SRv6 SID value and put into high
//! order bits of MPLS label field. The bits that have been shifted out MUST
//! be set to 0 in the SID value."
//!
//! The label field of a VPN NLRI (RFC 8277 §2.2) is 3 octets:
//!
//! ```text
//!   0                   1                   2
//!   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3
//!  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!  |                 Label                 | TC  |S|
//!  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! With FRR's 40/24/16/0 structure, transposition length 16 at offset 64:
//!
//! ```text
//!  SID with the function:   fc00:0:2:1:0100::
//!                                      ^^^^ bits 64..80
//!  SID sent in the TLV:     fc00:0:2:1::         (those bits set to 0)
//!  label (20 bits):         0000 0001 0000 0000 | 0000
//!                           \__ the 16 bits ___/  (low 4 bits unused)
//!  label field (24 bits):   label << 4 | TC << 1 | S  = 0x010001 (sidra)
//!                                                     = 0x010003 (FRR, TC=1)
//! ```
//!
//! A receiver takes the 20-bit label, ignores TC and S (FRR sends TC=1,
//! GoBGP TC=0), and writes its high-order bits back into the SID.

use std::net::Ipv6Addr;

use crate::SidError;
use crate::bits::{read_field, write_field};
use crate::structure::SidStructure;

/// Bits in an MPLS label value.
pub const MPLS_LABEL_BITS: u8 = 20;

/// Largest 24-bit label field (label, TC, S).
pub const MPLS_LABEL_FIELD_MAX: u32 = 0xff_ffff;

/// Lowest label outside the reserved range 0–15 (RFC 3032 §2.1). FRR
/// refuses to allocate, and to install received routes with, a transposed
/// SID whose label is below it; the check is left to the caller, since
/// [`untranspose`] and [`transpose`] are exact inverses for every value.
pub const MPLS_LABEL_UNRESERVED_MIN: u32 = 16;

/// The Implicit NULL label (RFC 3032 §2.1), sent when nothing is transposed.
pub const MPLS_LABEL_IMPLICIT_NULL: u32 = 3;

/// The bottom-of-stack bit S of a label field, set in every label sidra
/// sends (one label per NLRI).
const BOTTOM_OF_STACK: u32 = 1;

/// The 20-bit label value of a 24-bit label field, without TC and S.
pub const fn label_value(label_field: u32) -> u32 {
    (label_field >> 4) & 0xf_ffff
}

/// Which bits of a SID travel in the MPLS label field: `length` bits starting
/// at bit `offset` (bit 0 = most significant bit of the SID). `length` 0
/// means no transposition: the SID in the TLV is complete.
///
/// The fields are public because the values arrive as plain octets from the
/// SID Structure Sub-Sub-TLV; use [`Transposition::new`] or
/// [`Transposition::validate`] before trusting them. [`transpose`] and
/// [`untranspose`] validate again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Transposition {
    /// Transposition Offset: bit position of the first transposed bit.
    pub offset: u8,
    /// Transposition Length: number of transposed bits (at most 20).
    pub length: u8,
}

impl Transposition {
    /// No transposition (length 0, offset 0): the SID is sent whole.
    pub const NONE: Self = Self {
        offset: 0,
        length: 0,
    };

    /// Largest transposition length for an MPLS label field (RFC 9252
    /// §5.1).
    pub const MAX_LENGTH: u8 = MPLS_LABEL_BITS;

    /// A validated transposition; see [`Transposition::validate`].
    pub fn new(offset: u8, length: u8) -> Result<Self, SidError> {
        let transposition = Self { offset, length };
        transposition.validate()?;
        Ok(transposition)
    }

    /// What FRR advertises for a locator of this structure: the whole
    /// function field when it is 1 to 20 bits wide, nothing otherwise (the
    /// SID is then sent whole).
    pub fn for_function(structure: &SidStructure) -> Self {
        let function_len = structure.function_len;
        if function_len == 0 || function_len > Self::MAX_LENGTH {
            return Self::NONE;
        }
        Self {
            offset: structure.locator_len(),
            length: function_len,
        }
    }

    /// Whether nothing is transposed (length 0).
    pub fn is_none(&self) -> bool {
        self.length == 0
    }

    /// Checks that the transposed bits fit a label and a SID.
    ///
    /// Fails with [`SidError::TranspositionTooLong`] if `length` is over 20,
    /// and with [`SidError::TranspositionBeyondSid`] if `offset + length` is
    /// over 128.
    pub fn validate(&self) -> Result<(), SidError> {
        // RFC 9252 §5.1: "When using the Transposition Scheme, the
        // Transposition Length MUST be less than or equal to 20".
        if self.length > Self::MAX_LENGTH {
            return Err(SidError::TranspositionTooLong {
                length: self.length,
                max_length: Self::MAX_LENGTH,
            });
        }
        // The transposed bits are bits of the 128-bit SID.
        let end = self.end();
        if end > 128 {
            return Err(SidError::TranspositionBeyondSid {
                offset: self.offset,
                length: self.length,
                end,
            });
        }
        Ok(())
    }

    /// [`Transposition::validate`], then checks the transposition against
    /// the SID structure advertised with it.
    ///
    /// Fails with [`SidError::StructureTooLong`] if the structure is
    /// invalid, and with [`SidError::TranspositionBeyondStructure`] if the
    /// transposed bits end after the structure's last bit.
    pub fn validate_for_structure(&self, structure: &SidStructure) -> Result<(), SidError> {
        self.validate()?;
        structure.validate()?;
        // RFC 9252 §3.2.1 (erratum 7817): "the sum of the Locator Block
        // Length (LBL), Locator Node Length (LNL), Function Length (FL), and
        // Argument Length (AL) fields MUST be less than or equal to 128 and
        // greater than or equal to the sum of Transposition Offset and
        // Transposition Length."
        let end = self.end();
        let total_len = structure.total_len();
        if end > u16::from(total_len) {
            return Err(SidError::TranspositionBeyondStructure {
                offset: self.offset,
                length: self.length,
                end,
                total_len,
            });
        }
        Ok(())
    }

    fn end(&self) -> u16 {
        u16::from(self.offset) + u16::from(self.length)
    }
}

/// Splits a complete SID for sending: returns the SID with the transposed
/// bits set to 0 and the 24-bit label field that carries them.
///
/// The bits go into the high-order bits of the 20-bit label, the label is
/// shifted left 4, TC is 0 and the bottom-of-stack bit S is 1 (FRR and GoBGP
/// both send S=1). With [`Transposition::NONE`] the SID is returned whole
/// with the Implicit NULL label (field 0x000031), as RFC 9252 §5.1 says:
/// the label value is set to the Function part "when the Transposition
/// Scheme of encoding (Section 4) is used; otherwise, it is set to Implicit
/// NULL."
///
/// Fails when the transposition is invalid ([`Transposition::validate`]).
pub fn transpose(full_sid: Ipv6Addr, t: Transposition) -> Result<(Ipv6Addr, u32), SidError> {
    t.validate()?;
    if t.is_none() {
        return Ok((full_sid, MPLS_LABEL_IMPLICIT_NULL << 4 | BOTTOM_OF_STACK));
    }
    let sid = full_sid.to_bits();
    // At most 20 bits, so it fits a u32.
    let bits = u32::try_from(read_field(sid, t.offset, t.length)).unwrap_or(0);
    // RFC 9252 §3.2.1 (erratum 7652): the bits are "put into high order bits
    // of MPLS label field. The bits that have been shifted out MUST be set to
    // 0 in the SID value."
    let label = bits << (MPLS_LABEL_BITS - t.length);
    let stripped = write_field(sid, t.offset, t.length, 0);
    Ok((Ipv6Addr::from_bits(stripped), label << 4 | BOTTOM_OF_STACK))
}

/// Rebuilds the complete SID from the SID of the TLV and the 24-bit label
/// field of the NLRI.
///
/// Takes the 20-bit label (`label_field >> 4`; TC and S are ignored), takes
/// its high-order `t.length` bits and writes them into the SID at bit
/// `t.offset`. The label is authoritative for those bits: whatever the
/// sender left there is overwritten. With length 0 the SID is returned
/// unchanged whatever the label.
///
/// Fails when the transposition is invalid ([`Transposition::validate`]), or
/// with [`SidError::LabelFieldTooWide`] when `label_field` has bits above
/// the 24 of a label field.
pub fn untranspose(
    sid: Ipv6Addr,
    label_field: u32,
    t: Transposition,
) -> Result<Ipv6Addr, SidError> {
    t.validate()?;
    if t.is_none() {
        return Ok(sid);
    }
    if label_field > MPLS_LABEL_FIELD_MAX {
        return Err(SidError::LabelFieldTooWide { label_field });
    }
    let bits = label_value(label_field) >> (MPLS_LABEL_BITS - t.length);
    let full = write_field(sid.to_bits(), t.offset, t.length, u128::from(bits));
    Ok(Ipv6Addr::from_bits(full))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> Ipv6Addr {
        text.parse().unwrap()
    }

    const FRR: Transposition = Transposition {
        offset: 64,
        length: 16,
    };

    #[test]
    fn new_and_validate() {
        assert_eq!(Transposition::new(64, 16), Ok(FRR));
        assert_eq!(Transposition::new(0, 0), Ok(Transposition::NONE));
        assert_eq!(Transposition::default(), Transposition::NONE);
        assert!(Transposition::new(108, 20).is_ok());
        assert!(Transposition::new(128, 0).is_ok());
        assert_eq!(
            Transposition::new(64, 21),
            Err(SidError::TranspositionTooLong {
                length: 21,
                max_length: 20
            })
        );
        assert_eq!(
            Transposition::new(120, 16),
            Err(SidError::TranspositionBeyondSid {
                offset: 120,
                length: 16,
                end: 136
            })
        );
        assert_eq!(
            Transposition::new(255, 0).unwrap_err().to_string(),
            "transposition offset 255 + length 0 = 255 is past the 128 bits of a SID"
        );
        assert!(FRR.validate().is_ok());
        assert!(!FRR.is_none());
        assert!(Transposition::NONE.is_none());
    }

    #[test]
    fn validate_for_structure() {
        assert!(FRR.validate_for_structure(&SidStructure::DEFAULT).is_ok());
        // Erratum 7817: offset + length may equal the structure's length.
        let structure = SidStructure::new(40, 24, 16, 0).unwrap();
        assert!(
            Transposition::new(60, 20)
                .unwrap()
                .validate_for_structure(&structure)
                .is_ok()
        );
        assert_eq!(
            Transposition::new(72, 16)
                .unwrap()
                .validate_for_structure(&structure),
            Err(SidError::TranspositionBeyondStructure {
                offset: 72,
                length: 16,
                end: 88,
                total_len: 80,
            })
        );
        let too_long = SidStructure {
            block_len: 100,
            node_len: 29,
            function_len: 0,
            argument_len: 0,
        };
        assert!(matches!(
            FRR.validate_for_structure(&too_long),
            Err(SidError::StructureTooLong { .. })
        ));
        assert!(matches!(
            Transposition {
                offset: 64,
                length: 21
            }
            .validate_for_structure(&structure),
            Err(SidError::TranspositionTooLong { .. })
        ));
    }

    #[test]
    fn for_function_follows_frr() {
        assert_eq!(Transposition::for_function(&SidStructure::DEFAULT), FRR);
        assert_eq!(
            Transposition::for_function(&SidStructure::USID_F3216),
            Transposition {
                offset: 48,
                length: 16
            }
        );
        let wide = SidStructure::new(40, 24, 32, 0).unwrap();
        assert_eq!(Transposition::for_function(&wide), Transposition::NONE);
        let twenty = SidStructure::new(40, 24, 20, 0).unwrap();
        assert_eq!(
            Transposition::for_function(&twenty),
            Transposition {
                offset: 64,
                length: 20
            }
        );
        let none = SidStructure::new(64, 64, 0, 0).unwrap();
        assert_eq!(Transposition::for_function(&none), Transposition::NONE);
    }

    #[test]
    fn label_value_drops_tc_and_s() {
        assert_eq!(label_value(0x010003), 0x01000);
        assert_eq!(label_value(0x004401), 0x00440);
        assert_eq!(label_value(0x00003f), 3);
        assert_eq!(label_value(0xff_ffff), 0xf_ffff);
    }

    #[test]
    fn frr_and_gobgp_vectors() {
        assert_eq!(
            untranspose(addr("fc00:0:2:1::"), 0x010003, FRR),
            Ok(addr("fc00:0:2:1:100::"))
        );
        assert_eq!(
            untranspose(addr("fc00:0:2:1::"), 0x020003, FRR),
            Ok(addr("fc00:0:2:1:200::"))
        );
        assert_eq!(
            untranspose(addr("fc00:0:4:1::"), 0x004401, FRR),
            Ok(addr("fc00:0:4:1:44::"))
        );
    }

    #[test]
    fn transpose_sets_bos_and_zeroes_the_bits() {
        assert_eq!(
            transpose(addr("fc00:0:2:1:100::"), FRR),
            Ok((addr("fc00:0:2:1::"), 0x010001))
        );
        assert_eq!(
            transpose(addr("fc00:0:4:1:44::"), FRR),
            Ok((addr("fc00:0:4:1::"), 0x004401))
        );
        // 20 bits: the label is the bits themselves.
        let t = Transposition::new(64, 20).unwrap();
        assert_eq!(
            transpose(addr("fc00:0:2:1:1234:5000::"), t),
            Ok((addr("fc00:0:2:1::"), 0x123451))
        );
        // Bits outside the transposed range stay.
        assert_eq!(
            transpose(addr("fc00:0:2:1:100:0:0:1"), FRR),
            Ok((addr("fc00:0:2:1::1"), 0x010001))
        );
    }

    #[test]
    fn no_transposition_sends_implicit_null() {
        let sid = addr("fc00:0:4:1:0:44::");
        assert_eq!(transpose(sid, Transposition::NONE), Ok((sid, 0x000031)));
        assert_eq!(untranspose(sid, 0x000031, Transposition::NONE), Ok(sid));
        assert_eq!(untranspose(sid, 0x010003, Transposition::NONE), Ok(sid));
        assert_eq!(untranspose(sid, u32::MAX, Transposition::NONE), Ok(sid));
        // Offset without length is still no transposition.
        let t = Transposition::new(64, 0).unwrap();
        assert_eq!(untranspose(sid, 0x010003, t), Ok(sid));
        assert_eq!(transpose(sid, t), Ok((sid, 0x000031)));
    }

    #[test]
    fn untranspose_ignores_tc_and_s() {
        let sid = addr("fc00:0:2:1::");
        for low_bits in 0..16 {
            assert_eq!(
                untranspose(sid, 0x010000 | low_bits, FRR),
                Ok(addr("fc00:0:2:1:100::"))
            );
        }
    }

    #[test]
    fn untranspose_overwrites_the_transposed_bits() {
        assert_eq!(
            untranspose(addr("fc00:0:2:1:ffff::"), 0x010001, FRR),
            Ok(addr("fc00:0:2:1:100::"))
        );
    }

    #[test]
    fn untranspose_errors() {
        let sid = addr("fc00:0:2:1::");
        assert_eq!(
            untranspose(sid, 0x100_0000, FRR),
            Err(SidError::LabelFieldTooWide {
                label_field: 0x100_0000
            })
        );
        assert_eq!(
            untranspose(
                sid,
                0x010003,
                Transposition {
                    offset: 64,
                    length: 24
                }
            ),
            Err(SidError::TranspositionTooLong {
                length: 24,
                max_length: 20
            })
        );
        assert_eq!(
            untranspose(
                sid,
                0x010003,
                Transposition {
                    offset: 120,
                    length: 16
                }
            ),
            Err(SidError::TranspositionBeyondSid {
                offset: 120,
                length: 16,
                end: 136
            })
        );
        assert_eq!(
            transpose(
                sid,
                Transposition {
                    offset: 64,
                    length: 21
                }
            ),
            Err(SidError::TranspositionTooLong {
                length: 21,
                max_length: 20
            })
        );
        assert_eq!(
            transpose(
                sid,
                Transposition {
                    offset: 200,
                    length: 0
                }
            ),
            Err(SidError::TranspositionBeyondSid {
                offset: 200,
                length: 0,
                end: 200
            })
        );
    }

    #[test]
    fn edges_of_the_sid() {
        let t = Transposition::new(0, 20).unwrap();
        let (stripped, field) = transpose(addr("fc00:1000::1"), t).unwrap();
        assert_eq!(stripped, addr("::1"));
        assert_eq!(field, 0xfc001 << 4 | 1);
        assert_eq!(untranspose(stripped, field, t), Ok(addr("fc00:1000::1")));
        let t = Transposition::new(108, 20).unwrap();
        let (stripped, field) = transpose(addr("fc00::a:bcde"), t).unwrap();
        assert_eq!(stripped, addr("fc00::"));
        assert_eq!(field, 0xabcde1);
        assert_eq!(untranspose(stripped, field, t), Ok(addr("fc00::a:bcde")));
    }
}
