#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::packet::nlri::RouteDistinguisher;

fn key(s: &str, rd: Option<u64>) -> RouteKey {
    RouteKey {
        prefix: s.parse().unwrap(),
        rd: rd.map(|r| RouteDistinguisher(r.to_be_bytes())),
    }
}

/// A deterministic pseudo-random sequence (xorshift), so a failure reproduces.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The key of `n` in one of the four shapes (IPv4, IPv6, with an RD, with a path id).
fn shaped(shape: u64, n: u64) -> (RouteKey, u32) {
    match shape % 4 {
        0 => (key(&format!("10.{}.{}.0/24", n / 256, n % 256), None), 0),
        1 => (key(&format!("2001:db8:{n:x}::/48"), None), 0),
        2 => (key(&format!("2001:db8:{n:x}::/48"), Some(n % 7)), 0),
        _ => (
            key(&format!("10.{}.{}.0/24", n / 256, n % 256), None),
            1 + (n % 3) as u32,
        ),
    }
}

/// What the reference knows of a live key: its value, and the serial number of the insert
/// that made it live (a key removed and inserted again is a new entry).
type Live = BTreeMap<(RouteKey, u32), (u32, u32)>;

/// Iteration yields every live entry once, with its value, and the entries that were in the
/// previous snapshot (same serial) are in the same relative order.
fn check_iteration(m: &PrefixMap<u32>, reference: &Live, before: &[(u32, (RouteKey, u32))]) {
    let seen: Vec<((RouteKey, u32), u32)> = m.iter().map(|(k, id, v)| ((k, id), *v)).collect();
    assert_eq!(seen.len(), reference.len(), "every live entry once");
    let mut sorted = seen.clone();
    sorted.sort();
    let want: Vec<((RouteKey, u32), u32)> = reference.iter().map(|(k, (v, _))| (*k, *v)).collect();
    assert_eq!(sorted, want);
    let now: Vec<u32> = seen.iter().map(|(k, _)| reference[k].1).collect();
    let now_set: BTreeSet<u32> = now.iter().copied().collect();
    let kept: Vec<u32> = before
        .iter()
        .map(|(serial, _)| *serial)
        .filter(|s| now_set.contains(s))
        .collect();
    let kept_set: BTreeSet<u32> = kept.iter().copied().collect();
    let still: Vec<u32> = now
        .iter()
        .copied()
        .filter(|s| kept_set.contains(s))
        .collect();
    assert_eq!(kept, still, "surviving entries keep their relative order");
}

/// Random inserts, replacements and removals of every key shape agree with an ordered map at
/// every step, through phases that grow, shrink (tombstones pile up and get compacted) and
/// churn (freed slots are reused): lookups, length and iteration (complete, each entry once,
/// order kept) stay right, the slots never outnumber the peak of live entries (holes are
/// refilled before the vector grows), and tombstones stay bounded by the live entries.
#[test]
fn agrees_with_a_reference_map_through_inserts_and_removals() {
    let mut m: PrefixMap<u32> = PrefixMap::default();
    let mut reference: Live = BTreeMap::new();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut serial = 0u32;
    let mut peaks = [0usize; 3];
    let mut compacted = false;
    let mut snapshot: Vec<(u32, (RouteKey, u32))> = Vec::new();
    for step in 0..72_000u32 {
        let r = rng.next();
        let (mut k, mut id) = shaped(r, (r >> 8) % 3000);
        // Phases of 12000 steps: grow (1 in 8 removes), shrink (15 in 16, of live keys:
        // the drawn one or the next one present), churn (1 in 2).
        let phase = (step / 12_000) % 3;
        let removes = [2, 15, 8][phase as usize];
        if phase == 1
            && let Some(&next) = reference.range((k, id)..).next().map(|(x, _)| x)
        {
            (k, id) = next;
        }
        let slots_before = m.slot_count();
        if (r >> 40) % 16 < removes {
            let gone = m.remove(&k, id);
            assert_eq!(gone, reference.remove(&(k, id)).map(|v| v.0), "step {step}");
            compacted |= m.slot_count() < slots_before;
        } else if (r >> 44).is_multiple_of(2) {
            let old = m.insert(&k, id, step);
            let fresh = (step, serial);
            let was = reference.insert((k, id), fresh);
            if let Some(w) = was {
                // A replacement keeps the entry (and its place).
                reference.insert((k, id), (step, w.1));
            } else {
                serial += 1;
            }
            assert_eq!(old, was.map(|v| v.0), "step {step}");
        } else {
            let v = *m.get_or_insert_with(&k, id, || step);
            let want = reference.entry((k, id)).or_insert_with(|| {
                serial += 1;
                (step, serial - 1)
            });
            assert_eq!(v, want.0, "step {step}");
        }
        let shapes = [
            (m.v4.len(), m.v4.slot_count()),
            (m.v6.len(), m.v6.slot_count()),
            (m.other.len(), m.other.slot_count()),
        ];
        for (peak, (len, slots)) in peaks.iter_mut().zip(shapes) {
            *peak = (*peak).max(len);
            assert!(slots <= *peak, "step {step}: holes are refilled first");
        }
        assert!(
            m.slot_count() <= 4 * m.len() + 3 * 1024,
            "step {step}: tombstones are compacted"
        );
        if step.is_multiple_of(997) {
            assert_eq!(m.len(), reference.len());
            for ((k, id), (v, _)) in &reference {
                assert_eq!(m.get(k, *id), Some(v), "{k:?} {id}");
            }
            check_iteration(&m, &reference, &snapshot);
            snapshot = m
                .iter()
                .map(|(k, id, _)| (reference[&(k, id)].1, (k, id)))
                .collect();
        }
    }
    assert!(compacted, "the shrinking phases compact");
    check_iteration(&m, &reference, &snapshot);
    let want: Vec<(RouteKey, u32)> = reference.keys().copied().collect();
    for (k, id) in &want {
        *m.get_mut(k, *id).unwrap() += 1;
        assert!(m.remove(k, *id).is_some());
        assert!(m.get(k, *id).is_none());
    }
    assert!(m.is_empty());
    assert_eq!(m.slot_count(), 0, "an emptied map gives its slots back");
    assert_eq!(m.iter().count(), 0);
}

/// A removal leaves a hole the next insert fills (no growth), iteration skips holes, and
/// inserts after a removal land where the removed entries were.
#[test]
fn removed_slots_are_reused() {
    let mut m: PrefixMap<u32> = PrefixMap::default();
    for n in 0..100u64 {
        assert!(m.insert(&shaped(0, n).0, 0, n as u32).is_none());
    }
    for n in (0..100u64).step_by(10) {
        assert_eq!(m.remove(&shaped(0, n).0, 0), Some(n as u32));
    }
    assert_eq!((m.len(), m.slot_count()), (90, 100));
    assert!(m.iter().all(|(_, _, v)| v % 10 != 0));
    for n in 100..110u64 {
        *m.get_or_insert_with(&shaped(0, n).0, 0, || 0) = n as u32;
    }
    assert_eq!((m.len(), m.slot_count()), (100, 100));
    // The new entries took the removed ones' places: iteration still runs 0..100 in place.
    let order: Vec<u32> = m.iter().map(|(_, _, v)| *v).collect();
    for (i, v) in order.iter().enumerate() {
        if i % 10 == 0 {
            assert!((100..110).contains(v), "slot {i}: {v}");
        } else {
            assert_eq!(*v as usize, i);
        }
    }
    assert!(m.insert(&shaped(0, 200).0, 0, 200).is_none());
    assert_eq!(m.slot_count(), 101);
}

/// Removing most of a large map compacts it: the survivors keep their order and values, the
/// slots shrink to a bound of the live entries, and lookups still find every survivor.
#[test]
fn removing_most_entries_compacts() {
    let mut m: PrefixMap<u32> = PrefixMap::default();
    for n in 0..20_000u64 {
        m.insert(&shaped(0, n).0, 0, n as u32);
    }
    for n in 0..20_000u64 {
        if n % 20 != 0 {
            assert_eq!(m.remove(&shaped(0, n).0, 0), Some(n as u32));
        }
    }
    assert_eq!(m.len(), 1000);
    assert!(m.slot_count() <= 4 * 1000 + 1024, "{}", m.slot_count());
    let order: Vec<u32> = m.iter().map(|(_, _, v)| *v).collect();
    let want: Vec<u32> = (0..20_000u32).step_by(20).collect();
    assert_eq!(order, want);
    for n in (0..20_000u64).step_by(20) {
        assert_eq!(m.get(&shaped(0, n).0, 0), Some(&(n as u32)));
        assert_eq!(m.get(&shaped(0, n + 1).0, 0), None);
    }
}

/// An IPv4 route's slot in an Adj-RIB-Out (label and attribute set) stays small.
#[test]
fn ipv4_slots_are_small() {
    type Out = (Option<u32>, std::sync::Arc<crate::rib::PathAttrs>);
    assert!(std::mem::size_of::<(Ipv4Net, Out)>() <= 24);
}

/// Growth rebuilds the index from the slots: at each growth every key inserted so far is still
/// found, the bucket count doubles and the index's tombstones are gone; the load stays at most
/// 7/8 throughout.
#[test]
fn growth_keeps_every_key_and_drops_tombstones() {
    let mut m: PrefixMap<u32> = PrefixMap::default();
    let mut buckets = 0;
    let mut growths = 0;
    for n in 0..20_000u64 {
        let k = shaped(0, n).0;
        assert!(m.insert(&k, 0, n as u32).is_none());
        // One in 5 is removed again: tombstones in the index.
        if n % 5 == 4 {
            assert_eq!(m.remove(&k, 0), Some(n as u32));
        }
        let index = &m.v4.index;
        let now = index.buckets().len();
        assert!(now.is_power_of_two());
        assert!(index.len() + index.deleted() <= now / 8 * 7, "{n}");
        if now != buckets {
            growths += 1;
            assert!(now == 2 * buckets || buckets == 0, "{buckets} -> {now}");
            assert!(index.deleted() <= 1, "{n}: a rebuild drops tombstones");
            for i in 0..=n {
                let want = (i % 5 != 4).then_some(i as u32);
                assert_eq!(m.get(&shaped(0, i).0, 0).copied(), want, "{i}");
            }
            buckets = now;
        }
    }
    assert!(growths >= 10, "{growths}");
}
