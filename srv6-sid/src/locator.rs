//! Locators, and SIDs composed from a locator, a function and an argument.
//!
//! RFC 8986 §3.1:
//!
//! > This document defines an SRv6 SID as consisting of LOC:FUNCT:ARG,
//! > where a locator (LOC) is encoded in the L most significant bits of the
//! > SID, followed by F bits of function (FUNCT) and A bits of arguments
//! > (ARG). [...] When L+F+A is less than 128, then the remaining bits of the
//! > SID MUST be zero.
//!
//! With the default structure (40/24/16/0), locator `fc00:0:2::/64` and
//! function `0x100`:
//!
//! ```text
//!  bit 0          40          64          80                        127
//!  +--------------+-----------+-----------+--------------------------+
//!  | fc00:0000:00 | 02:0000   | 0100      | 0000:0000:0000           |
//!  +--------------+-----------+-----------+--------------------------+
//!     block (40)    node (24)   function    (no argument) zeros
//!
//!  SID = fc00:0:2:0:100::
//! ```

use std::fmt;
use std::net::Ipv6Addr;

use ipnet::Ipv6Net;

use crate::SidError;
use crate::bits::{max_value_u64, read_field, write_field};
use crate::structure::SidStructure;

/// A locator prefix together with the structure of the SIDs inside it.
///
/// The prefix length is always block + node length and the prefix has no
/// bits set after it; [`Locator::new`] is the only way to build one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Locator {
    prefix: Ipv6Net,
    structure: SidStructure,
}

impl Locator {
    /// A locator, checked against its structure.
    ///
    /// Fails with
    /// - [`SidError::StructureTooLong`] if the structure is invalid,
    /// - [`SidError::LocatorLengthMismatch`] if the prefix length is not
    ///   block + node length,
    /// - [`SidError::LocatorHostBitsSet`] if the prefix has bits set after
    ///   its length (`fc00:0:2::1/64`).
    pub fn new(prefix: Ipv6Net, structure: SidStructure) -> Result<Self, SidError> {
        structure.validate()?;
        let prefix_len = prefix.prefix_len();
        if prefix_len != structure.locator_len() {
            return Err(SidError::LocatorLengthMismatch {
                prefix,
                prefix_len,
                block_len: structure.block_len,
                node_len: structure.node_len,
                locator_len: structure.locator_len(),
            });
        }
        let truncated = prefix.trunc();
        if truncated != prefix {
            return Err(SidError::LocatorHostBitsSet {
                prefix,
                prefix_len,
                truncated,
            });
        }
        Ok(Self { prefix, structure })
    }

    /// The locator prefix (block and node).
    pub fn prefix(&self) -> Ipv6Net {
        self.prefix
    }

    /// The structure of the SIDs of this locator.
    pub fn structure(&self) -> SidStructure {
        self.structure
    }

    /// Largest function value that fits in the function field (capped at
    /// `u64::MAX` for fields of 64 bits or more).
    pub fn max_function(&self) -> u64 {
        max_value_u64(self.structure.function_len)
    }

    /// Largest argument value that fits in the argument field (capped at
    /// `u64::MAX` for fields of 64 bits or more).
    pub fn max_argument(&self) -> u64 {
        max_value_u64(self.structure.argument_len)
    }

    /// The SID LOC:FUNCT:ARG: `function` right after the locator, `argument`
    /// right after the function, zeros after that.
    ///
    /// Any value that fits its field is accepted, function 0 included (it
    /// gives the locator address itself, which uSID deployments use as the
    /// node's uN SID). Which functions to hand out is the business of
    /// [`crate::FunctionAllocator`].
    ///
    /// Fails with [`SidError::FunctionTooWide`] or
    /// [`SidError::ArgumentTooWide`] when a value does not fit its field.
    pub fn sid(&self, function: u64, argument: u64) -> Result<Ipv6Addr, SidError> {
        let structure = self.structure;
        if function > self.max_function() {
            return Err(SidError::FunctionTooWide {
                function,
                function_len: structure.function_len,
            });
        }
        if argument > self.max_argument() {
            return Err(SidError::ArgumentTooWide {
                argument,
                argument_len: structure.argument_len,
            });
        }
        let mut sid = self.prefix.network().to_bits();
        sid = write_field(
            sid,
            structure.locator_len(),
            structure.function_len,
            u128::from(function),
        );
        sid = write_field(
            sid,
            structure.argument_offset(),
            structure.argument_len,
            u128::from(argument),
        );
        Ok(Ipv6Addr::from_bits(sid))
    }

    /// Whether `sid` starts with this locator.
    pub fn contains(&self, sid: Ipv6Addr) -> bool {
        self.prefix.contains(&sid)
    }

    /// The function field of `sid`, or `None` if `sid` is not inside this
    /// locator (or, for function fields wider than 64 bits, if the value
    /// does not fit in a `u64`).
    pub fn function_of(&self, sid: Ipv6Addr) -> Option<u64> {
        if !self.contains(sid) {
            return None;
        }
        let structure = self.structure;
        let function = read_field(
            sid.to_bits(),
            structure.locator_len(),
            structure.function_len,
        );
        u64::try_from(function).ok()
    }

    /// The argument field of `sid`, or `None` if `sid` is not inside this
    /// locator (or, for argument fields wider than 64 bits, if the value
    /// does not fit in a `u64`).
    pub fn argument_of(&self, sid: Ipv6Addr) -> Option<u64> {
        if !self.contains(sid) {
            return None;
        }
        let structure = self.structure;
        let argument = read_field(
            sid.to_bits(),
            structure.argument_offset(),
            structure.argument_len,
        );
        u64::try_from(argument).ok()
    }
}

/// Formats as `prefix (block/node/function/argument)`, e.g.
/// `fc00:0:2::/64 (40/24/16/0)`.
impl fmt::Display for Locator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.prefix, self.structure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> Ipv6Net {
        text.parse().unwrap()
    }

    fn addr(text: &str) -> Ipv6Addr {
        text.parse().unwrap()
    }

    fn frr_locator() -> Locator {
        Locator::new(net("fc00:0:2::/64"), SidStructure::DEFAULT).unwrap()
    }

    #[test]
    fn accessors_and_display() {
        let locator = frr_locator();
        assert_eq!(locator.prefix(), net("fc00:0:2::/64"));
        assert_eq!(locator.structure(), SidStructure::DEFAULT);
        assert_eq!(locator.max_function(), 0xffff);
        assert_eq!(locator.max_argument(), 0);
        assert_eq!(locator.to_string(), "fc00:0:2::/64 (40/24/16/0)");
    }

    #[test]
    fn prefix_length_must_be_block_plus_node() {
        let error = Locator::new(net("fc00:0:2::/48"), SidStructure::DEFAULT).unwrap_err();
        assert_eq!(
            error,
            SidError::LocatorLengthMismatch {
                prefix: net("fc00:0:2::/48"),
                prefix_len: 48,
                block_len: 40,
                node_len: 24,
                locator_len: 64,
            }
        );
        assert_eq!(
            error.to_string(),
            "locator prefix fc00:0:2::/48 is a /48, but the SID structure says \
             block 40 + node 24 = 64 bits"
        );
    }

    #[test]
    fn host_bits_must_be_zero() {
        let error = Locator::new(net("fc00:0:2::1/64"), SidStructure::DEFAULT).unwrap_err();
        assert_eq!(
            error,
            SidError::LocatorHostBitsSet {
                prefix: net("fc00:0:2::1/64"),
                prefix_len: 64,
                truncated: net("fc00:0:2::/64"),
            }
        );
        assert_eq!(
            error.to_string(),
            "locator prefix fc00:0:2::1/64 has bits set after bit 64 \
             (the locator itself would be fc00:0:2::/64)"
        );
    }

    #[test]
    fn structure_must_be_valid() {
        let structure = SidStructure {
            block_len: 64,
            node_len: 0,
            function_len: 64,
            argument_len: 1,
        };
        let error = Locator::new(net("fc00:0:2::/64"), structure).unwrap_err();
        assert!(matches!(
            error,
            SidError::StructureTooLong { total_len: 129, .. }
        ));
    }

    #[test]
    fn sid_places_function_after_locator() {
        let locator = frr_locator();
        assert_eq!(locator.sid(0x100, 0).unwrap(), addr("fc00:0:2:0:100::"));
        assert_eq!(locator.sid(0xffff, 0).unwrap(), addr("fc00:0:2:0:ffff::"));
        assert_eq!(locator.sid(0, 0).unwrap(), addr("fc00:0:2::"));
    }

    #[test]
    fn sid_places_argument_after_function() {
        let structure = SidStructure::new(32, 16, 16, 16).unwrap();
        let locator = Locator::new(net("fc00:0:1::/48"), structure).unwrap();
        assert_eq!(
            locator.sid(0x44, 0xabcd).unwrap(),
            addr("fc00:0:1:44:abcd::")
        );
        assert_eq!(
            locator.argument_of(addr("fc00:0:1:44:abcd::")),
            Some(0xabcd)
        );
        assert_eq!(locator.function_of(addr("fc00:0:1:44:abcd::")), Some(0x44));
    }

    #[test]
    fn sid_rejects_values_wider_than_their_field() {
        let locator = frr_locator();
        assert_eq!(
            locator.sid(0x1_0000, 0),
            Err(SidError::FunctionTooWide {
                function: 0x1_0000,
                function_len: 16
            })
        );
        assert_eq!(
            locator.sid(1, 1),
            Err(SidError::ArgumentTooWide {
                argument: 1,
                argument_len: 0
            })
        );
    }

    #[test]
    fn odd_widths() {
        // FRR topotest style: /64 locator with 8 function bits.
        let structure = SidStructure::new(40, 24, 8, 0).unwrap();
        let locator = Locator::new(net("2001:db8:1:1::/64"), structure).unwrap();
        assert_eq!(locator.sid(0x42, 0).unwrap(), addr("2001:db8:1:1:4200::"));
        assert_eq!(
            locator.sid(0x100, 0).unwrap_err().to_string(),
            "function 0x100 does not fit in the 8-bit function field"
        );
        // A 64-bit function field takes every u64.
        let structure = SidStructure::new(48, 16, 64, 0).unwrap();
        let locator = Locator::new(net("fc00:0:1::/64"), structure).unwrap();
        let sid = locator.sid(u64::MAX, 0).unwrap();
        assert_eq!(sid, addr("fc00:0:1:0:ffff:ffff:ffff:ffff"));
        assert_eq!(locator.function_of(sid), Some(u64::MAX));
    }

    #[test]
    fn function_wider_than_u64() {
        let structure = SidStructure::new(32, 16, 80, 0).unwrap();
        let locator = Locator::new(net("fc00:0:1::/48"), structure).unwrap();
        let small = locator.sid(7, 0).unwrap();
        assert_eq!(locator.function_of(small), Some(7));
        // A function above u64::MAX cannot be returned.
        assert_eq!(locator.function_of(addr("fc00:0:1:1::")), None);
    }

    #[test]
    fn contains_and_function_of() {
        let locator = frr_locator();
        assert!(locator.contains(addr("fc00:0:2:0:100::")));
        assert!(!locator.contains(addr("fc00:0:3:0:100::")));
        assert_eq!(locator.function_of(addr("fc00:0:2:0:100::")), Some(0x100));
        assert_eq!(locator.function_of(addr("fc00:0:2::")), Some(0));
        assert_eq!(locator.function_of(addr("fc00:0:3:0:100::")), None);
        assert_eq!(locator.argument_of(addr("fc00:0:2:0:100::")), Some(0));
        assert_eq!(locator.argument_of(addr("fc00:0:3:0:100::")), None);
    }

    #[test]
    fn zero_length_locator_and_full_length_locator() {
        let structure = SidStructure::new(0, 0, 16, 0).unwrap();
        let locator = Locator::new(net("::/0"), structure).unwrap();
        assert_eq!(locator.sid(0xfc00, 0).unwrap(), addr("fc00::"));
        let structure = SidStructure::new(64, 64, 0, 0).unwrap();
        let locator = Locator::new(net("fc00::1/128"), structure).unwrap();
        assert_eq!(locator.sid(0, 0).unwrap(), addr("fc00::1"));
        assert_eq!(locator.function_of(addr("fc00::1")), Some(0));
        assert!(locator.sid(1, 0).is_err());
    }
}
