//! Property tests of the function allocator against a naive model.

use std::collections::BTreeSet;
use std::net::Ipv6Addr;

use ipnet::Ipv6Net;
use proptest::prelude::*;
use srv6_sid::{FunctionAllocator, Locator, SidError, SidStructure};

#[derive(Clone, Copy, Debug)]
enum Op {
    Allocate,
    AllocateSpecific(u64),
    Release(u64),
}

fn op(max_value: u64) -> impl Strategy<Value = Op> {
    // Values up to one past the field, to hit the out-of-range error.
    prop_oneof![
        3 => Just(Op::Allocate),
        1 => (0..=max_value + 1).prop_map(Op::AllocateSpecific),
        2 => (0..=max_value + 1).prop_map(Op::Release),
    ]
}

/// A small function field so that sequences reach exhaustion, a first
/// function anywhere in it, and a sequence of operations.
fn scenario() -> impl Strategy<Value = (u8, u64, Vec<Op>)> {
    (1u8..=6).prop_flat_map(|function_len| {
        let max_value = (1u64 << function_len) - 1;
        (
            Just(function_len),
            0..=max_value,
            proptest::collection::vec(op(max_value), 0..200),
        )
    })
}

#[track_caller]
fn locator(function_len: u8) -> Locator {
    let structure = SidStructure {
        block_len: 40,
        node_len: 24,
        function_len,
        argument_len: 0,
    };
    let prefix = Ipv6Net::new(Ipv6Addr::new(0xfc00, 0, 2, 0, 0, 0, 0, 0), 64);
    match prefix.map(|prefix| Locator::new(prefix, structure)) {
        Ok(Ok(locator)) => locator,
        other => panic!("no locator with a {function_len}-bit function: {other:?}"),
    }
}

/// The obvious implementation: scan for the lowest free value.
struct Model {
    first: u64,
    last: u64,
    allocated: BTreeSet<u64>,
}

impl Model {
    fn allocate(&mut self) -> Option<u64> {
        let free = (self.first..=self.last).find(|value| !self.allocated.contains(value))?;
        self.allocated.insert(free);
        Some(free)
    }
}

/// Runs `ops`, returning what each one returned.
fn run(allocator: &mut FunctionAllocator, ops: &[Op]) -> Vec<Result<Option<u64>, SidError>> {
    ops.iter()
        .map(|op| match *op {
            Op::Allocate => allocator.allocate().map(Some),
            Op::AllocateSpecific(value) => allocator.allocate_specific(value).map(|()| None),
            Op::Release(value) => Ok(allocator.release(value).then_some(value)),
        })
        .collect()
}

proptest! {
    #[test]
    fn behaves_like_the_model((function_len, first, ops) in scenario()) {
        let mut allocator =
            FunctionAllocator::with_first_function(locator(function_len), first).unwrap();
        let last = (1u64 << function_len) - 1;
        let mut model = Model { first, last, allocated: BTreeSet::new() };
        for op in ops {
            match op {
                Op::Allocate => {
                    let before: BTreeSet<u64> = allocator.allocated().collect();
                    match (allocator.allocate(), model.allocate()) {
                        (Ok(value), Some(expected)) => {
                            // Never a value that is in use.
                            prop_assert!(!before.contains(&value));
                            prop_assert_eq!(value, expected);
                        }
                        (Err(error), None) => prop_assert_eq!(
                            error,
                            SidError::FunctionSpaceExhausted {
                                locator: allocator.locator().prefix(),
                                first_function: first,
                                last_function: last,
                            }
                        ),
                        (got, expected) => {
                            prop_assert!(false, "allocate gave {:?}, model {:?}", got, expected);
                        }
                    }
                }
                Op::AllocateSpecific(value) => {
                    let result = allocator.allocate_specific(value);
                    if value > last {
                        let too_wide = matches!(result, Err(SidError::FunctionTooWide { .. }));
                        prop_assert!(too_wide);
                    } else if model.allocated.insert(value) {
                        prop_assert_eq!(result, Ok(()));
                    } else {
                        let taken = matches!(result, Err(SidError::FunctionAlreadyAllocated { .. }));
                        prop_assert!(taken);
                    }
                }
                Op::Release(value) => {
                    prop_assert_eq!(allocator.release(value), model.allocated.remove(&value));
                }
            }
            prop_assert_eq!(allocator.len(), model.allocated.len());
            prop_assert_eq!(allocator.is_empty(), model.allocated.is_empty());
            let allocated: Vec<u64> = allocator.allocated().collect();
            let expected: Vec<u64> = model.allocated.iter().copied().collect();
            prop_assert_eq!(allocated, expected);
        }
        for value in 0..=last + 1 {
            prop_assert_eq!(allocator.is_allocated(value), model.allocated.contains(&value));
        }
    }

    #[test]
    fn a_released_value_can_be_allocated_again((function_len, first, ops) in scenario()) {
        let mut allocator =
            FunctionAllocator::with_first_function(locator(function_len), first).unwrap();
        run(&mut allocator, &ops);
        let allocated: Vec<u64> = allocator.allocated().collect();
        for value in allocated {
            let mut specific = allocator.clone();
            prop_assert!(specific.release(value));
            prop_assert!(!specific.is_allocated(value));
            prop_assert_eq!(specific.allocate_specific(value), Ok(()));
            if value >= first {
                // Lowest free first: after releasing it, allocate() returns it
                // or a lower free value, and eventually it.
                let mut dynamic = allocator.clone();
                prop_assert!(dynamic.release(value));
                let mut handed_out = Vec::new();
                while let Ok(next) = dynamic.allocate() {
                    handed_out.push(next);
                    if next == value {
                        break;
                    }
                }
                prop_assert_eq!(handed_out.last(), Some(&value));
            }
        }
    }

    #[test]
    fn the_same_operations_give_the_same_results((function_len, first, ops) in scenario()) {
        let mut one = FunctionAllocator::with_first_function(locator(function_len), first).unwrap();
        let mut two = FunctionAllocator::with_first_function(locator(function_len), first).unwrap();
        prop_assert_eq!(run(&mut one, &ops), run(&mut two, &ops));
        prop_assert_eq!(one.allocated().collect::<Vec<_>>(), two.allocated().collect::<Vec<_>>());
    }
}
