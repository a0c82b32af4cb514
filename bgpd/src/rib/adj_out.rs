//! One peer's Adj-RIB-Out (RFC 4271 §3.2): what we advertised to it, per route; and the
//! per-family route map it is built on.

use std::sync::Arc;

use super::core::RouteKey;
use super::outbox::OutKey;
use super::path::PathAttrs;
use super::prefix_map::PrefixMap;
use crate::packet::Family;

/// What a peer was sent for a route: its label (VPN) and attribute set, and the number of
/// the outbox item that carries it (see [`super::outbox::Outbox::put`]: while that item is
/// still queued, a newer state replaces it in place).
#[derive(Clone, Debug)]
pub struct Advertised {
    pub label: Option<u32>,
    pub attrs: Arc<PathAttrs>,
    pub queued: u64,
}

/// Per family a [`PrefixMap`] (a 32-octet slot per IPv4 route, where a map keyed by
/// [`OutKey`] cost about 120 octets per route and peer, plus a queue position map).
pub type AdjRibOut = ByFamily<Advertised>;

/// A value per route, keyed by [`OutKey`]: per family a [`PrefixMap`] (the Adj-RIB-Out, and
/// the outbox's index of queued routes).
pub struct ByFamily<V>(Vec<(Family, PrefixMap<V>)>);

impl<V> Default for ByFamily<V> {
    fn default() -> Self {
        ByFamily(Vec::new())
    }
}

fn route_key(k: &OutKey) -> RouteKey {
    RouteKey {
        prefix: k.prefix,
        rd: k.rd,
    }
}

impl<V> ByFamily<V> {
    fn family(&self, f: Family) -> Option<&PrefixMap<V>> {
        self.0.iter().find(|(x, _)| *x == f).map(|(_, m)| m)
    }

    fn family_mut(&mut self, f: Family) -> &mut PrefixMap<V> {
        super::family_slot(&mut self.0, f)
    }

    pub fn get(&self, k: &OutKey) -> Option<&V> {
        self.family(k.family)?.get(&route_key(k), k.path_id)
    }

    /// See [`PrefixMap::warm`].
    pub fn warm(&self, k: &OutKey) {
        if let Some(m) = self.family(k.family) {
            m.warm(&route_key(k), k.path_id);
        }
    }

    /// Insert or replace; the previous value.
    pub fn insert(&mut self, k: &OutKey, v: V) -> Option<V> {
        self.family_mut(k.family)
            .insert(&route_key(k), k.path_id, v)
    }

    /// The value of `k`, inserted from `new` if missing (one lookup).
    pub fn get_or_insert_with(&mut self, k: &OutKey, new: impl FnOnce() -> V) -> &mut V {
        self.family_mut(k.family)
            .get_or_insert_with(&route_key(k), k.path_id, new)
    }

    pub fn get_mut(&mut self, k: &OutKey) -> Option<&mut V> {
        let i = self.0.iter().position(|(x, _)| *x == k.family)?;
        self.0.get_mut(i)?.1.get_mut(&route_key(k), k.path_id)
    }

    pub fn remove(&mut self, k: &OutKey) -> Option<V> {
        let i = self.0.iter().position(|(x, _)| *x == k.family)?;
        self.0.get_mut(i)?.1.remove(&route_key(k), k.path_id)
    }

    pub fn len(&self) -> usize {
        self.0.iter().map(|(_, m)| m.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forget everything (keeping nothing allocated).
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Every route of one family with its value, in no particular order.
    pub fn of_family(&self, f: Family) -> impl Iterator<Item = (OutKey, &V)> + '_ {
        self.family(f).into_iter().flat_map(move |m| {
            m.iter().map(move |(k, path_id, v)| {
                let key = OutKey {
                    family: f,
                    prefix: k.prefix,
                    rd: k.rd,
                    path_id,
                };
                (key, v)
            })
        })
    }

    /// Every route, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = OutKey> + '_ {
        self.0
            .iter()
            .flat_map(|(f, _)| self.of_family(*f).map(|(k, _)| k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(f: Family, p: &str, path_id: u32) -> OutKey {
        OutKey {
            family: f,
            prefix: p.parse().unwrap(),
            rd: None,
            path_id,
        }
    }

    #[test]
    fn routes_per_family_and_path_id() {
        let a = Arc::new(PathAttrs::new(Vec::new(), None));
        let mut out: ByFamily<(Option<u32>, Arc<PathAttrs>)> = ByFamily::default();
        let v4 = key(Family::IPV4_UNICAST, "10.0.0.0/24", 0);
        let v4b = key(Family::IPV4_UNICAST, "10.0.0.0/24", 7);
        let v6 = key(Family::IPV6_UNICAST, "2001:db8::/32", 0);
        assert!(out.insert(&v4, (None, a.clone())).is_none());
        assert!(out.insert(&v4b, (None, a.clone())).is_none());
        assert!(out.insert(&v6, (Some(3), a.clone())).is_none());
        assert_eq!(
            out.insert(&v6, (Some(5), a.clone())).map(|v| v.0),
            Some(Some(3))
        );
        assert_eq!(out.len(), 3);
        assert_eq!(out.get(&v6).map(|v| v.0), Some(Some(5)));
        let mut v4s: Vec<OutKey> = out
            .of_family(Family::IPV4_UNICAST)
            .map(|(k, _)| k)
            .collect();
        v4s.sort();
        assert_eq!(v4s, vec![v4, v4b]);
        assert!(out.remove(&v4).is_some());
        assert!(out.remove(&v4).is_none());
        assert!(out.get(&v4).is_none() && out.get(&v4b).is_some());
        assert!(
            out.remove(&key(Family::IPV4_VPN, "10.0.0.0/24", 0))
                .is_none()
        );
        let mut all: Vec<OutKey> = out.keys().collect();
        all.sort();
        assert_eq!(all, vec![v4b, v6]);
    }
}
