//! Property tests of RFC 9252 transposition.

use std::net::Ipv6Addr;

use proptest::prelude::*;
use srv6_sid::{
    Locator, SidError, SidStructure, Transposition, label_value, transpose, untranspose,
};

/// Any valid transposition, length 0 included.
fn transposition() -> impl Strategy<Value = Transposition> {
    (0u8..=20).prop_flat_map(|length| {
        (0..=128 - length).prop_map(move |offset| Transposition { offset, length })
    })
}

fn sid() -> impl Strategy<Value = Ipv6Addr> {
    any::<u128>().prop_map(Ipv6Addr::from_bits)
}

fn field_mask(t: Transposition) -> u128 {
    if t.length == 0 {
        return 0;
    }
    (u128::MAX >> (128 - u32::from(t.length))) << (128 - u32::from(t.offset + t.length))
}

proptest! {
    #[test]
    fn untranspose_inverts_transpose(sid in sid(), t in transposition()) {
        let (stripped, label_field) = transpose(sid, t).unwrap();
        prop_assert_eq!(untranspose(stripped, label_field, t), Ok(sid));
    }

    #[test]
    fn transpose_zeroes_the_bits_and_sends_bos(sid in sid(), t in transposition()) {
        let (stripped, label_field) = transpose(sid, t).unwrap();
        prop_assert!(label_field <= 0xff_ffff);
        // S = 1, TC = 0.
        prop_assert_eq!(label_field & 0xf, 1);
        // Only the transposed bits changed, and they are now 0.
        prop_assert_eq!(stripped.to_bits() & field_mask(t), 0);
        prop_assert_eq!(stripped.to_bits() & !field_mask(t), sid.to_bits() & !field_mask(t));
        // The label's bits below the transposed ones are 0.
        if t.length > 0 {
            let unused = 20 - u32::from(t.length);
            prop_assert_eq!(label_value(label_field) & ((1 << unused) - 1), 0);
        } else {
            prop_assert_eq!(label_value(label_field), 3);
        }
    }

    #[test]
    fn untranspose_ignores_tc_and_s(
        sid in sid(),
        t in transposition(),
        label_field in 0u32..=0xff_ffff,
        tc_and_s in 0u32..16,
    ) {
        let other_field = (label_field & !0xf) | tc_and_s;
        prop_assert_eq!(
            untranspose(sid, label_field, t),
            untranspose(sid, other_field, t)
        );
    }

    #[test]
    fn untranspose_writes_only_the_transposed_bits(
        sid in sid(),
        t in transposition(),
        label_field in 0u32..=0xff_ffff,
    ) {
        let full = untranspose(sid, label_field, t).unwrap();
        prop_assert_eq!(full.to_bits() & !field_mask(t), sid.to_bits() & !field_mask(t));
        // Sending it again gives the same label value, low bits cleared.
        let (stripped, sent_field) = transpose(full, t).unwrap();
        prop_assert_eq!(stripped.to_bits(), sid.to_bits() & !field_mask(t));
        if t.length > 0 {
            let unused = 20 - u32::from(t.length);
            prop_assert_eq!(
                label_value(sent_field),
                label_value(label_field) >> unused << unused
            );
        }
    }

    #[test]
    fn invalid_transpositions_are_rejected(
        sid in sid(),
        offset in any::<u8>(),
        length in any::<u8>(),
        label_field in 0u32..=0xff_ffff,
    ) {
        let t = Transposition { offset, length };
        let valid = length <= 20 && u16::from(offset) + u16::from(length) <= 128;
        prop_assert_eq!(Transposition::new(offset, length).is_ok(), valid);
        prop_assert_eq!(transpose(sid, t).is_ok(), valid);
        prop_assert_eq!(untranspose(sid, label_field, t).is_ok(), valid);
        if length > 20 {
            let too_long = matches!(
                Transposition::new(offset, length),
                Err(SidError::TranspositionTooLong { .. })
            );
            prop_assert!(too_long);
        }
    }

    #[test]
    fn label_fields_wider_than_24_bits_are_rejected(
        sid in sid(),
        label_field in 0x100_0000u32..,
    ) {
        let t = Transposition { offset: 64, length: 16 };
        prop_assert_eq!(
            untranspose(sid, label_field, t),
            Err(SidError::LabelFieldTooWide { label_field })
        );
        // Without transposition the label is not looked at.
        prop_assert_eq!(untranspose(sid, label_field, Transposition::NONE), Ok(sid));
    }

    /// style.md §6: compose → transpose → untranspose is the identity.
    #[test]
    fn compose_transpose_untranspose(
        prefix_bits in any::<u128>(),
        block_len in 0u8..=64,
        node_len in 0u8..=32,
        function_len in 0u8..=32,
        function in any::<u64>(),
    ) {
        let structure = SidStructure::new(block_len, node_len, function_len, 0).unwrap();
        let prefix = ipnet::Ipv6Net::new(Ipv6Addr::from_bits(prefix_bits), structure.locator_len())
            .unwrap()
            .trunc();
        let locator = Locator::new(prefix, structure).unwrap();
        let function = function & locator.max_function();
        let sid = locator.sid(function, 0).unwrap();
        let t = Transposition::for_function(&structure);
        t.validate_for_structure(&structure).unwrap();
        let (stripped, label_field) = transpose(sid, t).unwrap();
        if !t.is_none() {
            prop_assert_eq!(stripped, locator.prefix().network());
        }
        let received = untranspose(stripped, label_field, t).unwrap();
        prop_assert_eq!(received, sid);
        prop_assert_eq!(locator.function_of(received), Some(function));
    }
}
