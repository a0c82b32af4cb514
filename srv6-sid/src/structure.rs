//! The SID structure: how many bits each part of a SID takes.
//!
//! RFC 8986 §3.1:
//!
//! > This document defines an SRv6 SID as consisting of LOC:FUNCT:ARG,
//! > where a locator (LOC) is encoded in the L most significant bits of the
//! > SID, followed by F bits of function (FUNCT) and A bits of arguments
//! > (ARG). [...] F and A may be any value as long as L+F+A <= 128. When
//! > L+F+A is less than 128, then the remaining bits of the SID MUST be zero.
//! >
//! > A locator may be represented as B:N where B is the SRv6 SID block [...]
//! > and N is the identifier of the parent node instantiating the SID.
//!
//! ```text
//!  0                                                                127
//!  +-------------+-----------+---------------+-------------+---------+
//!  |    block    |   node    |   function    |  argument   |  zeros  |
//!  +-------------+-----------+---------------+-------------+---------+
//!  |<------- locator ------->|
//!  |<---------------------- total_len ---------------------->|
//! ```
//!
//! RFC 9252 §3.2.1 carries the same four lengths, one octet each, in the SRv6
//! SID Structure Sub-Sub-TLV (Locator Block Length, Locator Node Length,
//! Function Length, Argument Length), followed by the transposition length
//! and offset (see [`crate::Transposition`]).

use std::fmt;

use crate::SidError;

/// Bit lengths of the four parts of a SID: block, node, function, argument.
///
/// The fields are public because the values arrive as plain octets from the
/// wire; use [`SidStructure::new`] or [`SidStructure::validate`] before
/// trusting them. Every function of this crate that takes a structure
/// validates it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SidStructure {
    /// Locator block length in bits (the "B" of RFC 8986 §3.1).
    pub block_len: u8,
    /// Locator node length in bits (the "N" of RFC 8986 §3.1).
    pub node_len: u8,
    /// Function length in bits.
    pub function_len: u8,
    /// Argument length in bits.
    pub argument_len: u8,
}

impl SidStructure {
    /// FRR's default structure: 40-bit block, 24-bit node, 16-bit function,
    /// no argument (`uncompressed-f4024`, /64 locators). Advertised with a
    /// 16-bit transposition at offset 64 it is the 40/24/16/0/16/64 SID
    /// Structure seen from FRR and in GoBGP's tests.
    pub const DEFAULT: Self = Self {
        block_len: 40,
        node_len: 24,
        function_len: 16,
        argument_len: 0,
    };

    /// The usual uSID (RFC 9800 NEXT-CSID) format F3216: 32-bit block,
    /// 16-bit node, 16-bit function, no argument (/48 locators).
    pub const USID_F3216: Self = Self {
        block_len: 32,
        node_len: 16,
        function_len: 16,
        argument_len: 0,
    };

    /// A validated structure.
    ///
    /// Fails with [`SidError::StructureTooLong`] when the four lengths add
    /// up to more than 128 bits.
    pub fn new(
        block_len: u8,
        node_len: u8,
        function_len: u8,
        argument_len: u8,
    ) -> Result<Self, SidError> {
        let structure = Self {
            block_len,
            node_len,
            function_len,
            argument_len,
        };
        structure.validate()?;
        Ok(structure)
    }

    /// Checks the RFC 8986 §3.1 rule "L+F+A <= 128".
    pub fn validate(&self) -> Result<(), SidError> {
        // RFC 8986 §3.1: "F and A may be any value as long as L+F+A <= 128."
        let total_len = self.exact_total_len();
        if total_len > 128 {
            return Err(SidError::StructureTooLong {
                block_len: self.block_len,
                node_len: self.node_len,
                function_len: self.function_len,
                argument_len: self.argument_len,
                total_len,
            });
        }
        Ok(())
    }

    /// Locator length in bits: block + node. This is the prefix length of
    /// the locator and the bit offset of the function.
    ///
    /// Exact for a valid structure; saturates at 255 otherwise.
    pub fn locator_len(&self) -> u8 {
        self.block_len.saturating_add(self.node_len)
    }

    /// Bits used by the SID: block + node + function + argument. This is
    /// the bit offset at which the trailing zero bits start.
    ///
    /// Exact for a valid structure; saturates at 255 otherwise.
    pub fn total_len(&self) -> u8 {
        u8::try_from(self.exact_total_len()).unwrap_or(u8::MAX)
    }

    /// Bit offset of the argument: block + node + function.
    ///
    /// Exact for a valid structure; saturates at 255 otherwise.
    pub fn argument_offset(&self) -> u8 {
        self.locator_len().saturating_add(self.function_len)
    }

    fn exact_total_len(&self) -> u16 {
        u16::from(self.block_len)
            + u16::from(self.node_len)
            + u16::from(self.function_len)
            + u16::from(self.argument_len)
    }
}

impl Default for SidStructure {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Formats as `block/node/function/argument`, e.g. `40/24/16/0`.
impl fmt::Display for SidStructure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.block_len, self.node_len, self.function_len, self.argument_len
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_frr_f4024() {
        let structure = SidStructure::default();
        assert_eq!(structure, SidStructure::new(40, 24, 16, 0).unwrap());
        assert_eq!(structure.locator_len(), 64);
        assert_eq!(structure.total_len(), 80);
        assert_eq!(structure.argument_offset(), 80);
        assert_eq!(structure.to_string(), "40/24/16/0");
    }

    #[test]
    fn usid_f3216() {
        let structure = SidStructure::USID_F3216;
        assert_eq!(structure.locator_len(), 48);
        assert_eq!(structure.total_len(), 64);
    }

    #[test]
    fn full_128_bits_is_allowed() {
        let structure = SidStructure::new(64, 32, 16, 16).unwrap();
        assert_eq!(structure.total_len(), 128);
        assert!(SidStructure::new(128, 0, 0, 0).is_ok());
        assert!(SidStructure::new(0, 0, 0, 0).is_ok());
    }

    #[test]
    fn more_than_128_bits_is_rejected() {
        assert_eq!(
            SidStructure::new(64, 32, 16, 17),
            Err(SidError::StructureTooLong {
                block_len: 64,
                node_len: 32,
                function_len: 16,
                argument_len: 17,
                total_len: 129,
            })
        );
        // No overflow with the largest octets.
        let error = SidStructure::new(255, 255, 255, 255).unwrap_err();
        assert_eq!(
            error.to_string(),
            "SID structure 255/255/255/255 (block/node/function/argument bits) \
             adds up to 1020 bits, more than the 128 bits of a SID"
        );
    }

    #[test]
    fn lengths_of_an_invalid_structure_saturate() {
        let structure = SidStructure {
            block_len: 200,
            node_len: 100,
            function_len: 0,
            argument_len: 0,
        };
        assert!(structure.validate().is_err());
        assert_eq!(structure.locator_len(), 255);
        assert_eq!(structure.total_len(), 255);
        assert_eq!(structure.argument_offset(), 255);
    }
}
