//! Binding SIDs: one per distinct set of segment lists, allocated from the configured range,
//! lowest free address first, and kept while the policy exists. At start the allocator adopts
//! the binding SIDs the data plane already holds (a restarted sidrad keeps its policies'
//! names, so nothing is re-programmed).

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv6Addr;

use ipnet::Ipv6Net;

use crate::dataplane::SegmentList;

#[derive(Clone, Debug)]
pub struct BsidAllocator {
    range: Ipv6Net,
    by_lists: BTreeMap<Vec<SegmentList>, Ipv6Addr>,
    used: BTreeSet<Ipv6Addr>,
}

impl BsidAllocator {
    pub fn new(range: Ipv6Net) -> Self {
        BsidAllocator {
            range: range.trunc(),
            by_lists: BTreeMap::new(),
            used: BTreeSet::new(),
        }
    }

    pub fn range(&self) -> Ipv6Net {
        self.range
    }

    /// Take over a binding SID found in the data plane (ignored when outside the range or
    /// already taken).
    pub fn adopt(&mut self, bsid: Ipv6Addr, lists: Vec<SegmentList>) -> bool {
        if !self.range.contains(&bsid) || self.used.contains(&bsid) {
            return false;
        }
        if self.by_lists.contains_key(&lists) {
            return false;
        }
        self.used.insert(bsid);
        self.by_lists.insert(lists, bsid);
        true
    }

    /// The binding SID of `lists`, allocating one if needed; `None` when the range is full.
    pub fn get(&mut self, lists: &[SegmentList]) -> Option<Ipv6Addr> {
        if let Some(b) = self.by_lists.get(lists) {
            return Some(*b);
        }
        // The range's first address is its subnet-router anycast address: skip it.
        let base = self.range.network().to_bits();
        let size = 1u128
            .checked_shl(128 - u32::from(self.range.prefix_len()))
            .unwrap_or(u128::MAX);
        let mut i = 1u128;
        for u in self.used.range(Ipv6Addr::from_bits(base + 1)..) {
            if u.to_bits() != base + i {
                break;
            }
            i += 1;
        }
        if i >= size {
            return None;
        }
        let b = Ipv6Addr::from_bits(base + i);
        self.used.insert(b);
        self.by_lists.insert(lists.to_vec(), b);
        Some(b)
    }

    /// Release every binding SID whose lists are not in `keep`.
    pub fn retain(&mut self, keep: impl Fn(&[SegmentList]) -> bool) {
        let used = &mut self.used;
        self.by_lists.retain(|lists, b| {
            let k = keep(lists);
            if !k {
                used.remove(b);
            }
            k
        });
    }

    pub fn len(&self) -> usize {
        self.by_lists.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_lists.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(s: &str) -> Vec<SegmentList> {
        vec![SegmentList {
            segments: vec![s.parse().unwrap()],
            weight: 1,
        }]
    }

    #[test]
    fn stable_lowest_free_and_reused_after_release() {
        let mut a = BsidAllocator::new("fcff::/120".parse().unwrap());
        let b1 = a.get(&list("fc00:2::1")).unwrap();
        let b2 = a.get(&list("fc00:3::1")).unwrap();
        assert_eq!(b1, "fcff::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(b2, "fcff::2".parse::<Ipv6Addr>().unwrap());
        assert_eq!(a.get(&list("fc00:2::1")), Some(b1), "same lists, same BSID");
        a.retain(|l| l != list("fc00:2::1").as_slice());
        assert_eq!(a.len(), 1);
        assert_eq!(a.get(&list("fc00:4::1")), Some(b1), "lowest free again");
    }

    #[test]
    fn adopted_bsids_are_kept_and_skipped() {
        let mut a = BsidAllocator::new("fcff::/120".parse().unwrap());
        assert!(a.adopt("fcff::1".parse().unwrap(), list("fc00:9::1")));
        assert!(
            !a.adopt("fcfe::1".parse().unwrap(), list("fc00:8::1")),
            "outside the range"
        );
        assert_eq!(a.get(&list("fc00:9::1")), Some("fcff::1".parse().unwrap()));
        assert_eq!(a.get(&list("fc00:2::1")), Some("fcff::2".parse().unwrap()));
    }

    #[test]
    fn a_full_range_says_so() {
        let mut a = BsidAllocator::new("fcff::/127".parse().unwrap());
        assert!(a.get(&list("fc00:2::1")).is_some());
        assert_eq!(a.get(&list("fc00:3::1")), None);
    }
}
