//! Bit fields of a 128-bit SID, numbered the way RFC 9252 numbers them.
//!
//! ```text
//!  bit 0                                                      bit 127
//!  |<-------- offset -------->|<-- len -->|                         |
//!  +--------------------------+-----------+-------------------------+
//!  |                          |   field   |                         |
//!  +--------------------------+-----------+-------------------------+
//!  most significant bit of the IPv6 address         least significant
//! ```
//!
//! Bit 0 is the most significant bit of the address, as in the SID Structure
//! Sub-Sub-TLV's Transposition Offset and in RFC 8986's LOC:FUNCT:ARG layout.
//! A field that does not lie inside the 128 bits (offset + len > 128) reads
//! as 0 and is never written; callers validate their lengths first, so this
//! only keeps these helpers free of panics.

/// Number of bits between the end of the field and the end of the SID, or
/// `None` if the field is empty or reaches past bit 127.
fn shift_of(offset: u8, len: u8) -> Option<u32> {
    if len == 0 {
        return None;
    }
    128u32.checked_sub(u32::from(offset) + u32::from(len))
}

/// A mask with ones exactly over the field `[offset, offset + len)`.
pub(crate) fn field_mask(offset: u8, len: u8) -> u128 {
    match shift_of(offset, len) {
        // len is 1..=128 here, so both shifts are 0..=127.
        Some(shift) => (u128::MAX >> (128 - u32::from(len))) << shift,
        None => 0,
    }
}

/// The value of the field `[offset, offset + len)` of `word`, right-aligned.
pub(crate) fn read_field(word: u128, offset: u8, len: u8) -> u128 {
    match shift_of(offset, len) {
        Some(shift) => (word & field_mask(offset, len)) >> shift,
        None => 0,
    }
}

/// `word` with the field `[offset, offset + len)` replaced by the low `len`
/// bits of `value` (higher bits of `value` are dropped).
pub(crate) fn write_field(word: u128, offset: u8, len: u8, value: u128) -> u128 {
    match shift_of(offset, len) {
        Some(shift) => {
            let mask = field_mask(offset, len);
            (word & !mask) | ((value << shift) & mask)
        }
        None => word,
    }
}

/// Largest value a field of `len` bits can hold, capped at `u64::MAX`.
pub(crate) fn max_value_u64(len: u8) -> u64 {
    if len >= 64 {
        u64::MAX
    } else {
        (1u64 << len) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_covers_exactly_the_field() {
        assert_eq!(field_mask(0, 0), 0);
        assert_eq!(field_mask(0, 1), 1 << 127);
        assert_eq!(field_mask(127, 1), 1);
        assert_eq!(field_mask(0, 128), u128::MAX);
        assert_eq!(field_mask(64, 16), 0xffff << 48);
        // Past the end of the SID: nothing.
        assert_eq!(field_mask(120, 16), 0);
    }

    #[test]
    fn read_and_write_are_inverse() {
        let word = 0xfc00_0000_0002_0001_0100_0000_0000_0000u128;
        assert_eq!(read_field(word, 64, 16), 0x0100);
        assert_eq!(read_field(word, 0, 16), 0xfc00);
        assert_eq!(read_field(word, 0, 0), 0);
        assert_eq!(read_field(word, 100, 40), 0);
        let cleared = write_field(word, 64, 16, 0);
        assert_eq!(cleared, 0xfc00_0000_0002_0001_0000_0000_0000_0000);
        assert_eq!(write_field(cleared, 64, 16, 0x0100), word);
        // Bits of the value above the field width are dropped.
        assert_eq!(write_field(cleared, 64, 16, 0x1_0100), word);
        assert_eq!(write_field(word, 64, 0, 0xffff), word);
        assert_eq!(write_field(word, 120, 16, 0xffff), word);
        assert_eq!(write_field(0, 0, 128, u128::MAX), u128::MAX);
    }

    #[test]
    fn max_value_of_widths() {
        assert_eq!(max_value_u64(0), 0);
        assert_eq!(max_value_u64(1), 1);
        assert_eq!(max_value_u64(16), 0xffff);
        assert_eq!(max_value_u64(63), u64::MAX >> 1);
        assert_eq!(max_value_u64(64), u64::MAX);
        assert_eq!(max_value_u64(128), u64::MAX);
    }
}
