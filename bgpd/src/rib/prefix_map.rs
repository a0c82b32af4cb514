//! A map from (prefix, RD, path id) to a value, laid out for a million prefixes: the storage
//! of the Loc-RIB tables ([`super::table`]) and of every peer's Adj-RIB-Out.
//!
//! ```text
//!  PrefixMap: v4    Keyed<Ipv4Net>            IPv4, no RD, path id 0 (5-octet keys)
//!             v6    Keyed<Ipv6Net>            IPv6, no RD, path id 0 (17-octet keys)
//!             other Keyed<(RouteKey, u32)>    everything else (VPN, ADD-PATH ids)
//!  Keyed:     index  u32 buckets (tag, slot) ---> slots [(key, Some(value)), (key, None), ...]
//!             free   tombstoned slots, refilled by inserts
//! ```
//!
//! Why not a `HashMap<(RouteKey, u32), V>`: its buckets hold the full key and value and sit
//! at a load factor of 0.44 to 0.875, so each entry pays for about two buckets of the
//! largest key shape. Here the index holds 4-octet buckets (a slot index and a few bits of
//! the key's hash, see [`index`]) into a vector of slots sized for the shape of their key: a
//! lookup reads one bucket line and the slot. A removal only touches the removed key's index
//! bucket and slot (both leave a tombstone); see [`Keyed`].

use std::hash::{BuildHasher, Hash};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::core::RouteKey;
use index::SlotIndex;

mod index;

/// A key of one shape: what it hashes as, and the (prefix, path id) it stands for.
trait SlotKey: Copy + Eq {
    type Hashed: Hash;
    fn hashed(&self) -> Self::Hashed;
    fn full(&self) -> (RouteKey, u32);
}

impl SlotKey for Ipv4Net {
    type Hashed = u64;
    fn hashed(&self) -> u64 {
        (u64::from(u32::from(self.addr())) << 8) | u64::from(self.prefix_len())
    }
    fn full(&self) -> (RouteKey, u32) {
        let k = RouteKey {
            prefix: IpNet::V4(*self),
            rd: None,
        };
        (k, 0)
    }
}

impl SlotKey for Ipv6Net {
    type Hashed = (u128, u8);
    fn hashed(&self) -> (u128, u8) {
        (u128::from(self.addr()), self.prefix_len())
    }
    fn full(&self) -> (RouteKey, u32) {
        let k = RouteKey {
            prefix: IpNet::V6(*self),
            rd: None,
        };
        (k, 0)
    }
}

impl SlotKey for (RouteKey, u32) {
    type Hashed = (RouteKey, u32);
    fn hashed(&self) -> (RouteKey, u32) {
        *self
    }
    fn full(&self) -> (RouteKey, u32) {
        *self
    }
}

/// Entries of one key shape: a vector of slots and an index of the live ones ([`SlotIndex`]).
/// Removal leaves a tombstone (`None`) whose index goes on a free list; inserts fill the most
/// recently freed hole before growing the vector. (Swapping the last slot into the hole, as
/// before, cost a second random index lookup per removal: the moved slot's.) When tombstones
/// outnumber the live slots [`COMPACT_FACTOR`] times over, the slots are compacted (order
/// kept) and the index rebuilt, so iteration and memory stay proportional to the live
/// entries. Indices are u32: a shape holds at most 2^32 - 2 slots (far beyond any memory
/// this runs in).
struct Keyed<K, V> {
    index: SlotIndex,
    slots: Vec<(K, Option<V>)>,
    /// Tombstoned slots, the most recently freed last.
    free: Vec<u32>,
    state: foldhash::fast::RandomState,
}

/// Compact when tombstones exceed this many times the live slots (and [`COMPACT_MIN`]).
const COMPACT_FACTOR: usize = 3;
/// Fewer tombstones than this are never worth a compaction.
const COMPACT_MIN: usize = 1024;

impl<K, V> Default for Keyed<K, V> {
    fn default() -> Self {
        Keyed {
            index: SlotIndex::default(),
            slots: Vec::new(),
            free: Vec::new(),
            state: foldhash::fast::RandomState::default(),
        }
    }
}

impl<K: SlotKey, V> Keyed<K, V> {
    fn hash(&self, k: &K) -> u64 {
        self.state.hash_one(k.hashed())
    }

    /// Live entries (the index holds exactly those).
    fn len(&self) -> usize {
        self.index.len()
    }

    fn find(&self, k: &K) -> Option<usize> {
        let slots = &self.slots;
        self.index.find(self.hash(k), |i| {
            slots.get(i).is_some_and(|s| s.0 == *k && s.1.is_some())
        })
    }

    fn get(&self, k: &K) -> Option<&V> {
        self.find(k)
            .and_then(|i| self.slots.get(i))
            .and_then(|s| s.1.as_ref())
    }

    fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        let i = self.find(k)?;
        self.slots.get_mut(i).and_then(|s| s.1.as_mut())
    }

    fn get_or_insert_with(&mut self, k: K, new: impl FnOnce() -> V) -> &mut V {
        match self.find(&k) {
            // A found slot is live: `new` is not called.
            Some(i) => self.slots[i].1.get_or_insert_with(new),
            None => self.push(k, new()),
        }
    }

    fn insert(&mut self, k: K, v: V) -> Option<V> {
        match self.find(&k).and_then(|i| self.slots.get_mut(i)) {
            Some(slot) => slot.1.replace(v),
            None => {
                self.push(k, v);
                None
            }
        }
    }

    /// A new entry (its key is not in the map): into the last freed hole, else at the end.
    fn push(&mut self, k: K, v: V) -> &mut V {
        let h = self.hash(&k);
        let i = match self.free.pop() {
            Some(i) if (i as usize) < self.slots.len() => {
                self.slots[i as usize].0 = k;
                i as usize
            }
            _ => {
                self.slots.push((k, None));
                self.slots.len() - 1
            }
        };
        if self.index.needs_rebuild(i) {
            // The new slot is not live yet: the rebuild leaves it out.
            self.rebuild(self.len() + self.len() / 8 + 1);
        }
        self.index.insert_new(h, i);
        self.slots[i].1.insert(v)
    }

    /// A fresh index for every live slot with room for `capacity` (and no tombstones): the
    /// slots are read in order (no random access to them, unlike a rehash that looks each
    /// key up through its index).
    fn rebuild(&mut self, capacity: usize) {
        let mut index = SlotIndex::with_capacity(capacity.max(self.len()), self.slots.len());
        for (i, (k, v)) in self.slots.iter().enumerate() {
            if v.is_some() {
                index.insert_new(self.state.hash_one(k.hashed()), i);
            }
        }
        self.index = index;
    }

    fn remove(&mut self, k: &K) -> Option<V> {
        let h = self.hash(k);
        let slots = &self.slots;
        let i = self.index.remove(h, |i| {
            slots.get(i).is_some_and(|s| s.0 == *k && s.1.is_some())
        })?;
        let gone = self.slots.get_mut(i).and_then(|s| s.1.take());
        self.free.push(i as u32);
        self.maybe_compact();
        gone
    }

    /// Drop the tombstones once they dominate: everything, when nothing is left; else the
    /// live slots move down in order and get a fresh index.
    fn maybe_compact(&mut self) {
        let live = self.len();
        if live == 0 {
            *self = Keyed {
                state: self.state.clone(),
                ..Keyed::default()
            };
            return;
        }
        if self.free.len() < COMPACT_MIN || self.free.len() <= live * COMPACT_FACTOR {
            return;
        }
        self.slots.retain(|s| s.1.is_some());
        self.slots.shrink_to(live + live / 8 + 1);
        self.free = Vec::new();
        self.rebuild(live + live / 8 + 1);
    }

    /// Every live entry, in slot order.
    fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.slots
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> + '_ {
        self.slots
            .iter_mut()
            .filter_map(|(k, v)| v.as_mut().map(|v| (&*k, v)))
    }

    /// Slots in use or tombstoned (for tests of reuse and compaction).
    #[cfg(test)]
    fn slot_count(&self) -> usize {
        self.slots.len()
    }
}

/// A map keyed by (prefix and RD, path id); see the module doc.
pub struct PrefixMap<V> {
    v4: Keyed<Ipv4Net, V>,
    v6: Keyed<Ipv6Net, V>,
    other: Keyed<(RouteKey, u32), V>,
}

impl<V> Default for PrefixMap<V> {
    fn default() -> Self {
        PrefixMap {
            v4: Keyed::default(),
            v6: Keyed::default(),
            other: Keyed::default(),
        }
    }
}

/// Run `$body` on the part of `$map` that holds the shape of (`$key`, `$id`), with the key
/// of that shape as `$k`.
macro_rules! by_shape {
    ($map:ident, $key:expr, $id:expr, |$keyed:ident, $k:ident| $body:expr) => {
        by_shape!(@ (&$map.v4, &$map.v6, &$map.other), $key, $id, |$keyed, $k| $body)
    };
    (mut $map:ident, $key:expr, $id:expr, |$keyed:ident, $k:ident| $body:expr) => {
        by_shape!(@ (&mut $map.v4, &mut $map.v6, &mut $map.other), $key, $id, |$keyed, $k| $body)
    };
    (@ ($v4:expr, $v6:expr, $other:expr), $key:expr, $id:expr, |$keyed:ident, $k:ident| $body:expr) => {
        match ($key.rd, $id, $key.prefix) {
            (None, 0, IpNet::V4($k)) => {
                let $keyed = $v4;
                $body
            }
            (None, 0, IpNet::V6($k)) => {
                let $keyed = $v6;
                $body
            }
            _ => {
                let $k = (*$key, $id);
                let $keyed = $other;
                $body
            }
        }
    };
}

impl<V> PrefixMap<V> {
    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len() + self.other.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, key: &RouteKey, path_id: u32) -> Option<&V> {
        by_shape!(self, key, path_id, |t, k| t.get(&k))
    }

    /// Look a key up and forget the answer: a pass of these over a batch of keys brings their
    /// index buckets and slots into the cache with the lookups' misses overlapping (they are
    /// independent), before the batch is applied one key at a time.
    pub fn warm(&self, key: &RouteKey, path_id: u32) {
        std::hint::black_box(by_shape!(self, key, path_id, |t, k| t.find(&k)));
    }

    pub fn get_mut(&mut self, key: &RouteKey, path_id: u32) -> Option<&mut V> {
        by_shape!(mut self, key, path_id, |t, k| t.get_mut(&k))
    }

    pub fn get_or_insert_with(
        &mut self,
        key: &RouteKey,
        path_id: u32,
        new: impl FnOnce() -> V,
    ) -> &mut V {
        by_shape!(mut self, key, path_id, |t, k| t.get_or_insert_with(k, new))
    }

    /// Insert or replace; the value replaced.
    pub fn insert(&mut self, key: &RouteKey, path_id: u32, v: V) -> Option<V> {
        by_shape!(mut self, key, path_id, |t, k| t.insert(k, v))
    }

    pub fn remove(&mut self, key: &RouteKey, path_id: u32) -> Option<V> {
        by_shape!(mut self, key, path_id, |t, k| t.remove(&k))
    }

    /// Every entry, each once: per key shape in slot order (an entry keeps its place
    /// relative to the others until it is removed; a new one may fill an earlier hole).
    pub fn iter(&self) -> impl Iterator<Item = (RouteKey, u32, &V)> + '_ {
        let v4 = self.v4.iter().map(|(k, v)| (k.full(), v));
        let v6 = self.v6.iter().map(|(k, v)| (k.full(), v));
        let other = self.other.iter().map(|(k, v)| (*k, v));
        v4.chain(v6).chain(other).map(|((k, id), v)| (k, id, v))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (RouteKey, u32, &mut V)> + '_ {
        let v4 = self.v4.iter_mut().map(|(k, v)| (k.full(), v));
        let v6 = self.v6.iter_mut().map(|(k, v)| (k.full(), v));
        let other = self.other.iter_mut().map(|(k, v)| (*k, v));
        v4.chain(v6).chain(other).map(|((k, id), v)| (k, id, v))
    }

    /// Slots in use or tombstoned, over every key shape.
    #[cfg(test)]
    fn slot_count(&self) -> usize {
        self.v4.slot_count() + self.v6.slot_count() + self.other.slot_count()
    }
}

#[cfg(test)]
mod tests;
