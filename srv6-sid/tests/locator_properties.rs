//! Property tests of SID structures and locators.

use std::net::Ipv6Addr;

use ipnet::Ipv6Net;
use proptest::prelude::*;
use srv6_sid::{Locator, SidError, SidStructure};

/// Any valid structure.
fn structure() -> impl Strategy<Value = SidStructure> {
    (0u8..=128)
        .prop_flat_map(|block_len| (Just(block_len), 0..=128 - block_len))
        .prop_flat_map(|(block_len, node_len)| {
            (
                Just(block_len),
                Just(node_len),
                0..=128 - block_len - node_len,
            )
        })
        .prop_flat_map(|(block_len, node_len, function_len)| {
            let argument_len = 0..=128 - block_len - node_len - function_len;
            (
                Just(block_len),
                Just(node_len),
                Just(function_len),
                argument_len,
            )
        })
        .prop_map(
            |(block_len, node_len, function_len, argument_len)| SidStructure {
                block_len,
                node_len,
                function_len,
                argument_len,
            },
        )
}

fn locator() -> impl Strategy<Value = Locator> {
    (structure(), any::<u128>()).prop_filter_map("a valid locator", |(structure, bits)| {
        let prefix = Ipv6Net::new(Ipv6Addr::from_bits(bits), structure.locator_len()).ok()?;
        Locator::new(prefix.trunc(), structure).ok()
    })
}

proptest! {
    #[test]
    fn structure_is_valid_exactly_when_it_fits_128_bits(
        block_len in any::<u8>(),
        node_len in any::<u8>(),
        function_len in any::<u8>(),
        argument_len in any::<u8>(),
    ) {
        let total = u16::from(block_len)
            + u16::from(node_len)
            + u16::from(function_len)
            + u16::from(argument_len);
        let result = SidStructure::new(block_len, node_len, function_len, argument_len);
        if total <= 128 {
            let structure = result.unwrap();
            prop_assert_eq!(u16::from(structure.total_len()), total);
            prop_assert_eq!(u16::from(structure.locator_len()), u16::from(block_len) + u16::from(node_len));
        } else {
            prop_assert_eq!(result, Err(SidError::StructureTooLong {
                block_len, node_len, function_len, argument_len, total_len: total,
            }));
        }
    }

    #[test]
    fn sid_fields_read_back(locator in locator(), function in any::<u64>(), argument in any::<u64>()) {
        let function = function & locator.max_function();
        let argument = argument & locator.max_argument();
        let sid = locator.sid(function, argument).unwrap();
        prop_assert!(locator.contains(sid));
        prop_assert_eq!(locator.function_of(sid), Some(function));
        prop_assert_eq!(locator.argument_of(sid), Some(argument));
        // RFC 8986 §3.1: the bits after L+F+A are zero.
        let total_len = u32::from(locator.structure().total_len());
        if total_len < 128 {
            prop_assert_eq!(sid.to_bits() & (u128::MAX >> total_len), 0);
        }
    }

    #[test]
    fn values_wider_than_their_field_are_rejected(locator in locator(), value in any::<u64>()) {
        let structure = locator.structure();
        if value > locator.max_function() {
            prop_assert_eq!(
                locator.sid(value, 0),
                Err(SidError::FunctionTooWide { function: value, function_len: structure.function_len })
            );
        }
        if value > locator.max_argument() {
            prop_assert_eq!(
                locator.sid(0, value),
                Err(SidError::ArgumentTooWide { argument: value, argument_len: structure.argument_len })
            );
        }
    }

    #[test]
    fn addresses_outside_the_locator_have_no_function(locator in locator(), bits in any::<u128>()) {
        let address = Ipv6Addr::from_bits(bits);
        let inside = locator.prefix().contains(&address);
        prop_assert_eq!(locator.contains(address), inside);
        if !inside {
            prop_assert_eq!(locator.function_of(address), None);
            prop_assert_eq!(locator.argument_of(address), None);
        }
    }

    #[test]
    fn prefix_length_must_match(structure in structure(), bits in any::<u128>(), len in 0u8..=128) {
        let prefix = Ipv6Net::new(Ipv6Addr::from_bits(bits), len).unwrap().trunc();
        let result = Locator::new(prefix, structure);
        prop_assert_eq!(result.is_ok(), len == structure.locator_len());
    }
}
