#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

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

/// Random inserts, replacements and removals of every key shape (IPv4, IPv6, with an RD, with
/// a path id) agree with an ordered map at every step: the swap-remove re-points the moved
/// slot's index, and the rebuilds on growth keep every key.
#[test]
fn agrees_with_a_reference_map_through_inserts_and_removals() {
    let mut m: PrefixMap<u32> = PrefixMap::default();
    let mut reference: BTreeMap<(RouteKey, u32), u32> = BTreeMap::new();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for step in 0..30_000u32 {
        let r = rng.next();
        let n = (r >> 8) % 3000;
        let (k, id) = match r % 4 {
            0 => (key(&format!("10.{}.{}.0/24", n / 256, n % 256), None), 0),
            1 => (key(&format!("2001:db8:{n:x}::/48"), None), 0),
            2 => (key(&format!("2001:db8:{n:x}::/48"), Some(n % 7)), 0),
            _ => (
                key(&format!("10.{}.{}.0/24", n / 256, n % 256), None),
                1 + (n % 3) as u32,
            ),
        };
        match (r >> 40) % 4 {
            0 => {
                let gone = m.remove(&k, id);
                assert_eq!(gone, reference.remove(&(k, id)), "step {step}");
            }
            1 => {
                let old = m.insert(&k, id, step);
                assert_eq!(old, reference.insert((k, id), step), "step {step}");
            }
            _ => {
                let v = *m.get_or_insert_with(&k, id, || step);
                assert_eq!(v, *reference.entry((k, id)).or_insert(step), "step {step}");
            }
        }
        if step.is_multiple_of(997) {
            assert_eq!(m.len(), reference.len());
            for ((k, id), v) in &reference {
                assert_eq!(m.get(k, *id), Some(v), "{k:?} {id}");
            }
        }
    }
    let mut seen: Vec<((RouteKey, u32), u32)> = m.iter().map(|(k, id, v)| ((k, id), *v)).collect();
    seen.sort();
    let want: Vec<((RouteKey, u32), u32)> = reference.into_iter().collect();
    assert_eq!(seen, want);
    for ((k, id), _) in &want {
        *m.get_mut(k, *id).unwrap() += 1;
        assert!(m.remove(k, *id).is_some());
    }
    assert!(m.is_empty());
    assert!(m.get(&want[0].0.0, want[0].0.1).is_none());
}

/// An IPv4 route's slot in an Adj-RIB-Out (label and attribute set) stays small.
#[test]
fn ipv4_slots_are_small() {
    type Out = (Option<u32>, std::sync::Arc<crate::rib::PathAttrs>);
    assert!(std::mem::size_of::<(Ipv4Net, Out)>() <= 24);
}
