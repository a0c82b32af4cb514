//! Route counts per family, kept as routes change (so that reading them never walks a table).

use crate::packet::Family;

/// A count per family. A peer has a handful of families: a short list scanned in order is
/// cheaper than hashing the family on every route.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FamilyCounts(Vec<(Family, usize)>);

impl FamilyCounts {
    fn slot(&mut self, f: Family) -> &mut usize {
        super::family_slot(&mut self.0, f)
    }

    pub fn add(&mut self, f: Family) {
        *self.slot(f) += 1;
    }

    /// One fewer (never below zero).
    pub fn sub(&mut self, f: Family) {
        let n = self.slot(f);
        *n = n.saturating_sub(1);
    }

    pub fn get(&self, f: Family) -> usize {
        self.0.iter().find(|(x, _)| *x == f).map_or(0, |(_, n)| *n)
    }

    /// Every family with its count (zeros included).
    pub fn iter(&self) -> impl Iterator<Item = (Family, usize)> + '_ {
        self.0.iter().copied()
    }

    /// The families with a count above zero, in family order.
    pub fn nonzero(&self) -> Vec<(Family, usize)> {
        let mut v: Vec<(Family, usize)> = self.iter().filter(|(_, n)| *n > 0).collect();
        v.sort();
        v
    }

    /// This count plus `other`'s, per family, above zero, in family order.
    pub fn plus(&self, other: &FamilyCounts) -> Vec<(Family, usize)> {
        let mut sum = self.clone();
        for (f, n) in other.iter() {
            *sum.slot(f) += n;
        }
        sum.nonzero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_family_and_never_below_zero() {
        let mut c = FamilyCounts::default();
        c.add(Family::IPV6_UNICAST);
        c.add(Family::IPV6_UNICAST);
        c.add(Family::IPV4_UNICAST);
        c.sub(Family::IPV4_UNICAST);
        c.sub(Family::IPV4_UNICAST);
        assert_eq!(c.get(Family::IPV6_UNICAST), 2);
        assert_eq!(c.get(Family::IPV4_UNICAST), 0);
        assert_eq!(c.nonzero(), vec![(Family::IPV6_UNICAST, 2)]);
        let mut d = FamilyCounts::default();
        d.add(Family::IPV4_UNICAST);
        d.add(Family::IPV6_UNICAST);
        assert_eq!(
            c.plus(&d),
            vec![(Family::IPV4_UNICAST, 1), (Family::IPV6_UNICAST, 3)]
        );
    }
}
