//! Allocation of function values inside one locator.
//!
//! RFC 8986 §3.1 splits a SID into LOC:FUNCT:ARG and leaves the choice of
//! FUNCT values to the node that instantiates the SID. [`FunctionAllocator`]
//! hands them out deterministically, so that a restarted daemon given the
//! same requests in the same order advertises the same SIDs.
//!
//! ```text
//!  0        first_function                                 last_function
//!  |  ...   |<------------- handed out by allocate() ------------->|
//!  |<----------- accepted by allocate_specific() ----------------->|
//! ```
//!
//! # Which values are handed out
//!
//! [`FunctionAllocator::allocate`] returns the lowest free value in
//! `first_function..=last_function`; `last_function` is the largest value
//! the function field holds. [`FunctionAllocator::allocate_specific`]
//! reserves any value that fits the function field, below `first_function`
//! included, so static SIDs from the configuration can live below the
//! dynamic range.
//!
//! The default `first_function` ([`FunctionAllocator::default_first_function`])
//! is 1 for function fields of up to 16 bits: function 0 is the locator
//! address itself (the uSID node SID, uN) and would be transposed into MPLS
//! label 0. For 17 to 20 bit fields it is the lowest function whose
//! transposed label is at least 16, because FRR refuses to allocate or
//! install a transposed SID whose label falls in the reserved range 0–15.
//! (FRR 8.4 itself allocates 0x100, 0x200, … on a 16-bit field, which is
//! label 4096, 8192, …; any value from 1 up is valid on the wire.)
//!
//! # Cost
//!
//! With n values allocated: `allocate`, `allocate_specific`, `release` and
//! `is_allocated` take O(log n) amortized time, `len` O(1), and memory is
//! O(n). Values freed below the high-water mark are kept in a second ordered
//! set so the lowest free value is found without scanning.

use std::collections::BTreeSet;

use crate::SidError;
use crate::locator::Locator;
use crate::transposition::{MPLS_LABEL_BITS, MPLS_LABEL_UNRESERVED_MIN};

/// Hands out function values of one locator, lowest free value first.
///
/// Invariants, with `high_water` the value from which never-touched values
/// start:
/// - every value in `first_function..high_water` is either in `allocated` or
///   in `released`, never both;
/// - a value at or above `high_water` is free exactly when it is not in
///   `allocated` (`allocate_specific` may reserve values there);
/// - `released` is empty or its largest value is below `high_water - 1`
///   (released values at the top are folded back into the fresh range).
#[derive(Clone, Debug)]
pub struct FunctionAllocator {
    locator: Locator,
    first_function: u64,
    last_function: u64,
    allocated: BTreeSet<u64>,
    released: BTreeSet<u64>,
    /// `u128` so that it can pass `u64::MAX` (64-bit function fields).
    high_water: u128,
}

impl FunctionAllocator {
    /// An allocator for `locator` starting at
    /// [`FunctionAllocator::default_first_function`].
    pub fn new(locator: Locator) -> Self {
        let first_function = Self::default_first_function(&locator);
        Self::with_bounds(locator, first_function)
    }

    /// An allocator for `locator` whose [`FunctionAllocator::allocate`]
    /// starts at `first_function` (for example 0x100 to leave the values
    /// below it to static configuration).
    ///
    /// Fails with [`SidError::FunctionTooWide`] if `first_function` does not
    /// fit the function field.
    pub fn with_first_function(locator: Locator, first_function: u64) -> Result<Self, SidError> {
        if first_function > locator.max_function() {
            return Err(SidError::FunctionTooWide {
                function: first_function,
                function_len: locator.structure().function_len,
            });
        }
        Ok(Self::with_bounds(locator, first_function))
    }

    /// The default first function of `locator`: the lowest non-zero value
    /// whose label is not in the reserved MPLS range 0–15 when the function
    /// is transposed as FRR does (function field of 20 bits or less, moved
    /// whole into the high-order bits of the 20-bit label). That is 1 for
    /// function fields of up to 16 bits, 2, 4, 8, 16 for 17, 18, 19, 20
    /// bits. Function fields of 0 bits have no value to hand out.
    pub fn default_first_function(locator: &Locator) -> u64 {
        let function_len = locator.structure().function_len;
        if function_len == 0 || function_len > MPLS_LABEL_BITS {
            return 1;
        }
        let unused_label_bits = MPLS_LABEL_BITS - function_len;
        u64::from(MPLS_LABEL_UNRESERVED_MIN >> unused_label_bits).max(1)
    }

    fn with_bounds(locator: Locator, first_function: u64) -> Self {
        Self {
            locator,
            first_function,
            last_function: locator.max_function(),
            allocated: BTreeSet::new(),
            released: BTreeSet::new(),
            high_water: u128::from(first_function),
        }
    }

    /// The locator whose functions are allocated.
    pub fn locator(&self) -> &Locator {
        &self.locator
    }

    /// First value [`FunctionAllocator::allocate`] may return.
    pub fn first_function(&self) -> u64 {
        self.first_function
    }

    /// Last value [`FunctionAllocator::allocate`] may return: the largest
    /// value of the function field (capped at `u64::MAX`).
    pub fn last_function(&self) -> u64 {
        self.last_function
    }

    /// The lowest free function value from `first_function` on, now
    /// allocated.
    ///
    /// Fails with [`SidError::FunctionSpaceExhausted`] when every value in
    /// `first_function..=last_function` is allocated.
    pub fn allocate(&mut self) -> Result<u64, SidError> {
        // Every released value is below every fresh one, so the lowest
        // released value, if any, is the lowest free value.
        if let Some(function) = self.released.pop_first() {
            self.allocated.insert(function);
            return Ok(function);
        }
        // Skip fresh values reserved by allocate_specific. Each is skipped
        // once, since high_water never moves back over an allocated value.
        while self.high_water <= u128::from(self.last_function) {
            let candidate = u64::try_from(self.high_water).unwrap_or(u64::MAX);
            self.high_water += 1;
            if self.allocated.insert(candidate) {
                return Ok(candidate);
            }
        }
        Err(SidError::FunctionSpaceExhausted {
            locator: self.locator.prefix(),
            first_function: self.first_function,
            last_function: self.last_function,
        })
    }

    /// Allocates `function` itself, which may be any value of the function
    /// field, below `first_function` included.
    ///
    /// Fails with [`SidError::FunctionTooWide`] if `function` does not fit
    /// the function field, and with [`SidError::FunctionAlreadyAllocated`]
    /// if it is in use.
    pub fn allocate_specific(&mut self, function: u64) -> Result<(), SidError> {
        if function > self.last_function {
            return Err(SidError::FunctionTooWide {
                function,
                function_len: self.locator.structure().function_len,
            });
        }
        if !self.allocated.insert(function) {
            return Err(SidError::FunctionAlreadyAllocated {
                locator: self.locator.prefix(),
                function,
            });
        }
        self.released.remove(&function);
        Ok(())
    }

    /// Frees `function`. Returns whether it was allocated.
    pub fn release(&mut self, function: u64) -> bool {
        if !self.allocated.remove(&function) {
            return false;
        }
        let below_high_water = u128::from(function) < self.high_water;
        if function >= self.first_function && below_high_water {
            self.released.insert(function);
            self.fold_released_top();
        }
        true
    }

    /// Gives released values just below the high-water mark back to the
    /// fresh range, so `released` only holds holes.
    fn fold_released_top(&mut self) {
        while let Some(&top) = self.released.last() {
            if u128::from(top) + 1 != self.high_water {
                break;
            }
            self.released.pop_last();
            self.high_water -= 1;
        }
    }

    /// Whether `function` is allocated.
    pub fn is_allocated(&self, function: u64) -> bool {
        self.allocated.contains(&function)
    }

    /// Number of allocated values.
    pub fn len(&self) -> usize {
        self.allocated.len()
    }

    /// Whether no value is allocated.
    pub fn is_empty(&self) -> bool {
        self.allocated.is_empty()
    }

    /// The allocated values in increasing order.
    pub fn allocated(&self) -> impl Iterator<Item = u64> + '_ {
        self.allocated.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use ipnet::Ipv6Net;

    use super::*;
    use crate::structure::SidStructure;

    fn locator(function_len: u8) -> Locator {
        let structure = SidStructure::new(40, 24, function_len, 0).unwrap();
        let prefix: Ipv6Net = "fc00:0:2::/64".parse().unwrap();
        Locator::new(prefix, structure).unwrap()
    }

    #[test]
    fn default_first_function_keeps_labels_out_of_the_reserved_range() {
        assert_eq!(FunctionAllocator::default_first_function(&locator(0)), 1);
        assert_eq!(FunctionAllocator::default_first_function(&locator(8)), 1);
        assert_eq!(FunctionAllocator::default_first_function(&locator(16)), 1);
        assert_eq!(FunctionAllocator::default_first_function(&locator(17)), 2);
        assert_eq!(FunctionAllocator::default_first_function(&locator(18)), 4);
        assert_eq!(FunctionAllocator::default_first_function(&locator(19)), 8);
        assert_eq!(FunctionAllocator::default_first_function(&locator(20)), 16);
        assert_eq!(FunctionAllocator::default_first_function(&locator(32)), 1);
    }

    #[test]
    fn allocates_lowest_first() {
        let mut allocator = FunctionAllocator::new(locator(16));
        assert!(allocator.is_empty());
        assert_eq!(allocator.first_function(), 1);
        assert_eq!(allocator.last_function(), 0xffff);
        assert_eq!(allocator.allocate(), Ok(1));
        assert_eq!(allocator.allocate(), Ok(2));
        assert_eq!(allocator.allocate(), Ok(3));
        assert_eq!(allocator.len(), 3);
        assert!(allocator.is_allocated(2));
        assert!(!allocator.is_allocated(4));
        assert_eq!(allocator.allocated().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(allocator.locator(), &locator(16));
    }

    #[test]
    fn released_values_come_back_lowest_first() {
        let mut allocator = FunctionAllocator::new(locator(16));
        for _ in 0..5 {
            allocator.allocate().unwrap();
        }
        assert!(allocator.release(4));
        assert!(allocator.release(2));
        assert!(!allocator.release(2));
        assert!(!allocator.release(100));
        assert_eq!(allocator.len(), 3);
        assert_eq!(allocator.allocate(), Ok(2));
        assert_eq!(allocator.allocate(), Ok(4));
        assert_eq!(allocator.allocate(), Ok(6));
    }

    #[test]
    fn releasing_the_top_value_reuses_it() {
        let mut allocator = FunctionAllocator::new(locator(16));
        assert_eq!(allocator.allocate(), Ok(1));
        assert_eq!(allocator.allocate(), Ok(2));
        assert!(allocator.release(2));
        assert!(allocator.release(1));
        assert_eq!(allocator.allocate(), Ok(1));
        assert_eq!(allocator.allocate(), Ok(2));
    }

    #[test]
    fn allocate_skips_specific_values() {
        let mut allocator = FunctionAllocator::new(locator(16));
        allocator.allocate_specific(2).unwrap();
        allocator.allocate_specific(3).unwrap();
        assert_eq!(allocator.allocate(), Ok(1));
        assert_eq!(allocator.allocate(), Ok(4));
        // A value below the first function is allowed and never handed out.
        allocator.allocate_specific(0).unwrap();
        assert!(allocator.is_allocated(0));
        assert!(allocator.release(0));
        assert_eq!(allocator.allocate(), Ok(5));
        // A released fresh-range value is handed out again.
        assert!(allocator.release(3));
        assert_eq!(allocator.allocate(), Ok(3));
    }

    #[test]
    fn allocate_specific_errors() {
        let mut allocator = FunctionAllocator::new(locator(16));
        assert_eq!(allocator.allocate(), Ok(1));
        let prefix: Ipv6Net = "fc00:0:2::/64".parse().unwrap();
        assert_eq!(
            allocator.allocate_specific(1),
            Err(SidError::FunctionAlreadyAllocated {
                locator: prefix,
                function: 1
            })
        );
        assert_eq!(
            allocator.allocate_specific(0x1_0000),
            Err(SidError::FunctionTooWide {
                function: 0x1_0000,
                function_len: 16
            })
        );
        assert_eq!(
            allocator.allocate_specific(1).unwrap_err().to_string(),
            "locator fc00:0:2::/64: function 0x1 is already allocated"
        );
    }

    #[test]
    fn allocate_specific_of_a_released_value() {
        let mut allocator = FunctionAllocator::new(locator(16));
        for _ in 0..4 {
            allocator.allocate().unwrap();
        }
        assert!(allocator.release(2));
        allocator.allocate_specific(2).unwrap();
        assert_eq!(allocator.allocate(), Ok(5));
    }

    #[test]
    fn exhaustion() {
        let mut allocator = FunctionAllocator::new(locator(2));
        assert_eq!(allocator.allocate(), Ok(1));
        assert_eq!(allocator.allocate(), Ok(2));
        assert_eq!(allocator.allocate(), Ok(3));
        let exhausted = SidError::FunctionSpaceExhausted {
            locator: "fc00:0:2::/64".parse().unwrap(),
            first_function: 1,
            last_function: 3,
        };
        assert_eq!(allocator.allocate(), Err(exhausted));
        assert_eq!(
            exhausted.to_string(),
            "locator fc00:0:2::/64: every function from 0x1 to 0x3 is allocated"
        );
        // Function 0 is still free for allocate_specific.
        allocator.allocate_specific(0).unwrap();
        assert!(allocator.release(2));
        assert_eq!(allocator.allocate(), Ok(2));
        assert_eq!(allocator.allocate(), Err(exhausted));
    }

    #[test]
    fn zero_width_function_field() {
        let mut allocator = FunctionAllocator::new(locator(0));
        assert!(allocator.allocate().is_err());
        allocator.allocate_specific(0).unwrap();
        let mut allocator = FunctionAllocator::with_first_function(locator(0), 0).unwrap();
        assert_eq!(allocator.allocate(), Ok(0));
        assert!(allocator.allocate().is_err());
    }

    #[test]
    fn configurable_first_function() {
        let mut allocator = FunctionAllocator::with_first_function(locator(16), 0x100).unwrap();
        assert_eq!(allocator.first_function(), 0x100);
        assert_eq!(allocator.allocate(), Ok(0x100));
        assert_eq!(allocator.allocate(), Ok(0x101));
        allocator.allocate_specific(0x10).unwrap();
        assert_eq!(allocator.allocate(), Ok(0x102));
        assert_eq!(
            FunctionAllocator::with_first_function(locator(16), 0x1_0000).unwrap_err(),
            SidError::FunctionTooWide {
                function: 0x1_0000,
                function_len: 16
            }
        );
        let mut allocator = FunctionAllocator::with_first_function(locator(16), 0xffff).unwrap();
        assert_eq!(allocator.allocate(), Ok(0xffff));
        assert!(allocator.allocate().is_err());
    }

    #[test]
    fn sixty_four_bit_function_field_reaches_u64_max() {
        let structure = SidStructure::new(48, 16, 64, 0).unwrap();
        let locator = Locator::new("fc00:0:1::/64".parse().unwrap(), structure).unwrap();
        let mut allocator = FunctionAllocator::with_first_function(locator, u64::MAX - 1).unwrap();
        assert_eq!(allocator.last_function(), u64::MAX);
        assert_eq!(allocator.allocate(), Ok(u64::MAX - 1));
        assert_eq!(allocator.allocate(), Ok(u64::MAX));
        assert!(allocator.allocate().is_err());
        assert!(allocator.release(u64::MAX));
        assert_eq!(allocator.allocate(), Ok(u64::MAX));
    }

    #[test]
    fn tens_of_thousands_of_functions() {
        let mut allocator = FunctionAllocator::new(locator(16));
        for expected in 1..=0xffff {
            assert_eq!(allocator.allocate(), Ok(expected));
        }
        assert!(allocator.allocate().is_err());
        for function in (1..=0xffff).step_by(2) {
            assert!(allocator.release(function));
        }
        for expected in (1..=0xffff).step_by(2) {
            assert_eq!(allocator.allocate(), Ok(expected));
        }
        assert_eq!(allocator.len(), 0xffff);
    }
}
