#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use super::*;

/// A hash with home bucket `home` (of 8 buckets, or more) and tag bits `tag`.
fn hash(home: u64, tag: u32) -> u64 {
    (u64::from(tag) << 32) | home
}

/// The index of a small table: `keys[slot]` is the hash of the key in `slot` (here the
/// hash is the key).
struct Small {
    index: SlotIndex,
    keys: Vec<u64>,
}

impl Small {
    fn new() -> Self {
        let index = SlotIndex::with_capacity(4, 16);
        assert_eq!(index.buckets().len(), 8);
        Small {
            index,
            keys: Vec::new(),
        }
    }
    fn insert(&mut self, h: u64) -> usize {
        assert!(self.find(h).is_none());
        self.keys.push(h);
        let slot = self.keys.len() - 1;
        assert!(!self.index.needs_rebuild(slot));
        self.index.insert_new(h, slot);
        slot
    }
    fn find(&self, h: u64) -> Option<usize> {
        self.index.find(h, |s| self.keys[s] == h)
    }
    fn remove(&mut self, h: u64) -> Option<usize> {
        let keys = &self.keys;
        self.index.remove(h, |s| keys[s] == h)
    }
    /// The slot each bucket holds (`None`: empty, `Some(None)`: deleted).
    fn layout(&self) -> Vec<Option<Option<usize>>> {
        let mask = self.index.idx_mask;
        self.index
            .buckets()
            .iter()
            .map(|&b| match b {
                EMPTY => None,
                DELETED => Some(None),
                b => Some(Some((b & mask) as usize - 2)),
            })
            .collect()
    }
}

/// Keys whose home is the last bucket continue at the first: the probe wraps around the end
/// of the array, both to insert and to find, and a miss stops at the first empty bucket after
/// the wrap.
#[test]
fn probes_wrap_around_the_end() {
    let mut t = Small::new();
    let keys: Vec<u64> = (0..5).map(|n| hash(7, 100 + n)).collect();
    for &k in &keys {
        t.insert(k);
    }
    let l = t.layout();
    assert_eq!(l[7], Some(Some(0)));
    assert_eq!(
        &l[..5],
        &[
            Some(Some(1)),
            Some(Some(2)),
            Some(Some(3)),
            Some(Some(4)),
            None
        ]
    );
    for (slot, &k) in keys.iter().enumerate() {
        assert_eq!(t.find(k), Some(slot));
    }
    assert_eq!(t.find(hash(7, 999)), None);
    assert_eq!(t.find(hash(2, 101)), None, "same tag, other home");
    assert_eq!(t.index.len(), 5);
}

/// Removing a key in the middle of a cluster leaves a tombstone the probes of the keys behind
/// it pass over; the next new key on that path takes the tombstone.
#[test]
fn deletion_in_the_middle_of_a_cluster() {
    let mut t = Small::new();
    // Homes 6, 6, 7, 6, 0: one cluster over buckets 6, 7, 0, 1, 2.
    let keys = [hash(6, 1), hash(6, 2), hash(7, 3), hash(6, 4), hash(0, 5)];
    for &k in &keys {
        t.insert(k);
    }
    assert_eq!(t.layout()[6..], [Some(Some(0)), Some(Some(1))]);
    assert_eq!(
        t.layout()[..3],
        [Some(Some(2)), Some(Some(3)), Some(Some(4))]
    );
    assert_eq!(t.remove(keys[2]), Some(2));
    assert_eq!(t.remove(keys[2]), None);
    assert_eq!(t.layout()[0], Some(None));
    assert_eq!((t.index.len(), t.index.deleted()), (4, 1));
    for (slot, &k) in keys.iter().enumerate() {
        assert_eq!(t.find(k), (slot != 2).then_some(slot), "{k:x}");
    }
    // A new key whose path crosses the tombstone takes it (no new bucket used).
    let slot = t.insert(hash(7, 6));
    assert_eq!(t.layout()[0], Some(Some(slot)));
    assert_eq!((t.index.len(), t.index.deleted()), (5, 0));
    // Removing the cluster's head: the rest stays reachable.
    assert_eq!(t.remove(keys[0]), Some(0));
    for &k in &[keys[1], keys[3], keys[4], hash(7, 6)] {
        assert!(t.find(k).is_some(), "{k:x}");
    }
}

/// Keys with the same home and tag are told apart by their slots.
#[test]
fn equal_hashes_are_told_apart_by_the_slot() {
    let mut t = Small::new();
    let mut index = SlotIndex::with_capacity(4, 16);
    let keys = [10u64, 11, 12];
    for (slot, _) in keys.iter().enumerate() {
        index.insert_new(hash(3, 7), slot);
    }
    for (slot, k) in keys.iter().enumerate() {
        assert_eq!(index.find(hash(3, 7), |s| keys[s] == *k), Some(slot));
    }
    assert_eq!(index.remove(hash(3, 7), |s| keys[s] == 11), Some(1));
    assert_eq!(index.find(hash(3, 7), |s| keys[s] == 12), Some(2));
    assert_eq!(index.find(hash(3, 7), |s| keys[s] == 11), None);
    t.index = index;
    assert_eq!(t.layout()[3..6], [Some(Some(0)), Some(None), Some(Some(2))]);
}

/// The load never passes 7/8 of the buckets (tombstones included), and a slot index too
/// large for a bucket's field asks for a rebuild.
#[test]
fn rebuilds_are_asked_for_in_time() {
    let mut t = Small::new();
    for n in 0..7 {
        assert!(!t.index.needs_rebuild(t.keys.len()));
        t.insert(hash(n, 1));
    }
    assert!(t.index.needs_rebuild(t.keys.len()), "8 buckets hold 7");
    t.remove(hash(0, 1));
    assert!(
        t.index.needs_rebuild(t.keys.len()),
        "a tombstone still counts"
    );
    let index = SlotIndex::with_capacity(1, 1);
    let largest = index.idx_mask as usize - 2;
    assert!(!index.needs_rebuild(largest));
    assert!(index.needs_rebuild(largest + 1));
    assert!(SlotIndex::default().needs_rebuild(0));
    assert_eq!(SlotIndex::default().find(5, |_| true), None);
}

/// Random inserts and removals over a few homes and tags (long clusters, wrap-arounds,
/// tombstones, tag collisions), rebuilt the way the map rebuilds (from the live slots in
/// order) when asked, agree with an ordered map at every step.
#[test]
fn agrees_with_a_reference_under_collisions() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut index = SlotIndex::default();
    let mut slots: Vec<Option<u64>> = Vec::new();
    let mut reference: BTreeMap<u64, usize> = BTreeMap::new();
    let (mut rebuilds, mut tombstones_reused) = (0, 0);
    for step in 0..40_000u32 {
        let r = next();
        // 48 homes wrap-around in tables of 8 to 64 buckets; 4 tags.
        let k = hash(r % 48 + (r >> 8) % 2 * 56, ((r >> 16) % 4) as u32);
        let grow = (step / 5000) % 2 == 0;
        if (r >> 24) % 8 < if grow { 3 } else { 5 } {
            let keys = &slots;
            let gone = index.remove(k, |s| keys[s] == Some(k));
            assert_eq!(gone, reference.remove(&k), "step {step}");
            if let Some(s) = gone {
                slots[s] = None;
            }
        } else if !reference.contains_key(&k) {
            slots.push(Some(k));
            let slot = slots.len() - 1;
            if index.needs_rebuild(slot) {
                let live = reference.len();
                index = SlotIndex::with_capacity(live + live / 8 + 1, slots.len());
                for (s, key) in slots.iter().enumerate() {
                    if let Some(key) = key.filter(|_| s != slot) {
                        index.insert_new(key, s);
                    }
                }
                assert_eq!(index.deleted(), 0);
                rebuilds += 1;
            }
            let deleted = index.deleted();
            index.insert_new(k, slot);
            tombstones_reused += usize::from(index.deleted() < deleted);
            reference.insert(k, slot);
        }
        assert_eq!(index.len(), reference.len());
        let n = index.buckets().len();
        assert!(index.len() + index.deleted() <= n / 8 * 7, "step {step}");
        for probe in 0..8 {
            let q = hash((r >> (probe * 4)) % 112, probe as u32 % 4);
            let got = index.find(q, |s| slots[s] == Some(q));
            assert_eq!(got, reference.get(&q).copied(), "step {step}");
        }
        if step % 512 == 0 {
            for (&q, &s) in &reference {
                assert_eq!(index.find(q, |x| slots[x] == Some(q)), Some(s));
            }
        }
    }
    assert!(
        rebuilds > 5 && tombstones_reused > 100,
        "{rebuilds} {tombstones_reused}"
    );
}
