//! The one error type of this crate.
//!
//! Every variant carries the values that were rejected, so a log line or a
//! configuration error message says exactly what is wrong without the caller
//! having to add context.

use ipnet::Ipv6Net;

/// Everything that can go wrong when building or using SRv6 SIDs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SidError {
    /// RFC 8986 §3.1: "F and A may be any value as long as L+F+A <= 128."
    #[error(
        "SID structure {block_len}/{node_len}/{function_len}/{argument_len} \
         (block/node/function/argument bits) adds up to {total_len} bits, \
         more than the 128 bits of a SID"
    )]
    StructureTooLong {
        /// Locator block length in bits.
        block_len: u8,
        /// Locator node length in bits.
        node_len: u8,
        /// Function length in bits.
        function_len: u8,
        /// Argument length in bits.
        argument_len: u8,
        /// The sum of the four lengths.
        total_len: u16,
    },

    /// The locator prefix length is not block length + node length.
    #[error(
        "locator prefix {prefix} is a /{prefix_len}, but the SID structure \
         says block {block_len} + node {node_len} = {locator_len} bits"
    )]
    LocatorLengthMismatch {
        /// The prefix that was given.
        prefix: Ipv6Net,
        /// Its prefix length.
        prefix_len: u8,
        /// Locator block length of the structure.
        block_len: u8,
        /// Locator node length of the structure.
        node_len: u8,
        /// Block + node, the prefix length the structure requires.
        locator_len: u8,
    },

    /// The locator prefix has bits set after its prefix length.
    #[error(
        "locator prefix {prefix} has bits set after bit {prefix_len} \
         (the locator itself would be {truncated})"
    )]
    LocatorHostBitsSet {
        /// The prefix that was given.
        prefix: Ipv6Net,
        /// Its prefix length.
        prefix_len: u8,
        /// The same prefix with the host bits cleared.
        truncated: Ipv6Net,
    },

    /// A function value does not fit in the function field of the structure.
    #[error("function {function:#x} does not fit in the {function_len}-bit function field")]
    FunctionTooWide {
        /// The rejected function value.
        function: u64,
        /// Width of the function field in bits.
        function_len: u8,
    },

    /// An argument value does not fit in the argument field of the structure.
    #[error("argument {argument:#x} does not fit in the {argument_len}-bit argument field")]
    ArgumentTooWide {
        /// The rejected argument value.
        argument: u64,
        /// Width of the argument field in bits.
        argument_len: u8,
    },

    /// Every function value an allocator may hand out is in use.
    #[error(
        "locator {locator}: every function from {first_function:#x} to \
         {last_function:#x} is allocated"
    )]
    FunctionSpaceExhausted {
        /// Prefix of the locator whose function space is full.
        locator: Ipv6Net,
        /// First function value the allocator hands out.
        first_function: u64,
        /// Last function value the allocator hands out.
        last_function: u64,
    },

    /// A function value asked for explicitly is already in use.
    #[error("locator {locator}: function {function:#x} is already allocated")]
    FunctionAlreadyAllocated {
        /// Prefix of the locator.
        locator: Ipv6Net,
        /// The function value that is taken.
        function: u64,
    },

    /// RFC 9252 §5.1: "the Transposition Length MUST be less than or equal
    /// to 20".
    #[error(
        "transposition length {length} is more than the {max_length} bits \
         of an MPLS label value"
    )]
    TranspositionTooLong {
        /// The rejected transposition length.
        length: u8,
        /// The largest length allowed (20).
        max_length: u8,
    },

    /// Transposition offset + length reaches past the end of the SID.
    #[error(
        "transposition offset {offset} + length {length} = {end} is past \
         the 128 bits of a SID"
    )]
    TranspositionBeyondSid {
        /// The transposition offset.
        offset: u8,
        /// The transposition length.
        length: u8,
        /// offset + length.
        end: u16,
    },

    /// RFC 9252 §3.2.1 (erratum 7817): block + node + function + argument
    /// lengths MUST be greater than or equal to offset + length.
    #[error(
        "transposition offset {offset} + length {length} = {end} is past \
         the {total_len} bits of the SID structure"
    )]
    TranspositionBeyondStructure {
        /// The transposition offset.
        offset: u8,
        /// The transposition length.
        length: u8,
        /// offset + length.
        end: u16,
        /// block + node + function + argument lengths of the structure.
        total_len: u8,
    },

    /// An MPLS label field (label, TC, S) is 24 bits; this value is wider.
    #[error("MPLS label field {label_field:#x} does not fit in 24 bits")]
    LabelFieldTooWide {
        /// The rejected label field.
        label_field: u32,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_values() {
        let error = SidError::FunctionTooWide {
            function: 0x1_0000,
            function_len: 16,
        };
        assert_eq!(
            error.to_string(),
            "function 0x10000 does not fit in the 16-bit function field"
        );
        let error = SidError::TranspositionTooLong {
            length: 21,
            max_length: 20,
        };
        assert_eq!(
            error.to_string(),
            "transposition length 21 is more than the 20 bits of an MPLS label value"
        );
        let error = SidError::LabelFieldTooWide {
            label_field: 0x100_0000,
        };
        assert_eq!(
            error.to_string(),
            "MPLS label field 0x1000000 does not fit in 24 bits"
        );
    }
}
