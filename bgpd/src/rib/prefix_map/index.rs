//! The hash index of a [`super::Keyed`]: slot indices in one array of 4-octet buckets, so a
//! lookup reads one bucket cache line, then the slot.
//!
//! ```text
//!  bucket (u32):  | tag: high 32-shift bits of hash >> 32 | slot + 2: low `shift` bits |
//!                 0 = empty, 1 = deleted (a tombstone)
//! ```
//!
//! Open addressing with linear probing from `hash & (buckets - 1)`, a power of two. The tag
//! (as many hash bits as the slot index leaves free, 9 at a million entries) rejects almost
//! every bucket of another key without reading its slot. Deletion leaves a tombstone: a
//! backward shift would need the home bucket of every later bucket in the cluster, which a
//! 4-octet bucket has no room for, so it would read (a cache miss each) and rehash their
//! slots. Tombstones count towards the load; an insert of a new key takes the first
//! tombstone or empty bucket on its probe path, and the owner rebuilds the index from its
//! slots (which drops the tombstones) when the load would pass [`MAX_LOAD_NUM`] /
//! [`MAX_LOAD_DEN`] or a slot index outgrows its field.

const EMPTY: u32 = 0;
const DELETED: u32 = 1;
/// Buckets live or deleted at most this fraction of all buckets.
const MAX_LOAD_NUM: usize = 7;
const MAX_LOAD_DEN: usize = 8;
/// Never fewer buckets than this (once there are any).
const MIN_BUCKETS: usize = 8;

#[derive(Default)]
pub(super) struct SlotIndex {
    buckets: Vec<u32>,
    /// Buckets holding a slot.
    live: usize,
    /// Buckets holding a slot or a tombstone.
    used: usize,
    /// The low bits of a bucket that hold slot + 2 (the rest are the tag).
    idx_mask: u32,
}

/// How many of `buckets` (a power of two, at least [`MIN_BUCKETS`], or none) may be used.
fn room(buckets: usize) -> usize {
    buckets / MAX_LOAD_DEN * MAX_LOAD_NUM
}

/// Bits to write `x` in.
fn bits(x: usize) -> u32 {
    usize::BITS - x.leading_zeros()
}

impl SlotIndex {
    /// An index for `entries` entries (more may follow until [`Self::needs_rebuild`]) whose
    /// slot indices stay below `slots` (with headroom for four times as many).
    pub(super) fn with_capacity(entries: usize, slots: usize) -> Self {
        let mut n = MIN_BUCKETS;
        while room(n) < entries {
            n *= 2;
        }
        let shift = (bits(slots + 2).max(bits(n - 1)) + 2).min(32);
        SlotIndex {
            buckets: vec![EMPTY; n],
            live: 0,
            used: 0,
            idx_mask: u32::MAX >> (32 - shift),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.live
    }

    /// Whether inserting `slot` (a new entry) needs a rebuilt index first: no buckets, the
    /// load would pass the maximum, or `slot` does not fit a bucket's slot field.
    pub(super) fn needs_rebuild(&self, slot: usize) -> bool {
        self.used + 1 > room(self.buckets.len())
            || u32::try_from(slot + 2).map_or(true, |s| s > self.idx_mask)
    }

    fn tag(&self, hash: u64) -> u32 {
        ((hash >> 32) as u32) & !self.idx_mask
    }

    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }

    /// The bucket position and slot of the entry whose slot satisfies `eq`, among those
    /// with this hash.
    fn probe(&self, hash: u64, mut eq: impl FnMut(usize) -> bool) -> Option<(usize, usize)> {
        if self.buckets.is_empty() {
            return None;
        }
        let (tag, mask) = (self.tag(hash), self.mask());
        let mut pos = hash as usize & mask;
        loop {
            let b = self.buckets[pos];
            if b == EMPTY {
                return None;
            }
            if b & !self.idx_mask == tag && b != DELETED {
                let slot = (b & self.idx_mask) as usize - 2;
                if eq(slot) {
                    return Some((pos, slot));
                }
            }
            pos = (pos + 1) & mask;
        }
    }

    /// The slot of the entry with this hash that `eq` accepts.
    pub(super) fn find(&self, hash: u64, eq: impl FnMut(usize) -> bool) -> Option<usize> {
        self.probe(hash, eq).map(|(_, slot)| slot)
    }

    /// Forget the entry with this hash that `eq` accepts; its slot.
    pub(super) fn remove(&mut self, hash: u64, eq: impl FnMut(usize) -> bool) -> Option<usize> {
        let (pos, slot) = self.probe(hash, eq)?;
        self.buckets[pos] = DELETED;
        self.live -= 1;
        Some(slot)
    }

    /// Index `slot` under `hash`; its key is not in the index and [`Self::needs_rebuild`]
    /// said no.
    pub(super) fn insert_new(&mut self, hash: u64, slot: usize) {
        let mask = self.mask();
        let mut pos = hash as usize & mask;
        while self.buckets[pos] > DELETED {
            pos = (pos + 1) & mask;
        }
        if self.buckets[pos] == EMPTY {
            self.used += 1;
        }
        self.live += 1;
        self.buckets[pos] = self.tag(hash) | (slot + 2) as u32;
    }

    /// The raw buckets (for tests of the layout).
    #[cfg(test)]
    pub(super) fn buckets(&self) -> &[u32] {
        &self.buckets
    }

    /// Tombstones left (for tests).
    #[cfg(test)]
    pub(super) fn deleted(&self) -> usize {
        self.used - self.live
    }
}

#[cfg(test)]
mod tests;
