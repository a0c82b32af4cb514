//! Per-peer queue of routes to send, coalesced by route: if a route changes twice before the
//! peer task takes it, only the latest state is sent. Its size is bounded by the number of
//! distinct routes, never by how slowly the peer reads (RFC 4271 §9.2.1.1 leaves the rate to
//! the implementation; this is the "MinRouteAdvertisementInterval = 0 with coalescing" model).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use ipnet::IpNet;
use tokio::sync::Notify;

use super::path::PathAttrs;
use crate::packet::Family;
use crate::packet::nlri::RouteDistinguisher;

/// A route as a peer sees it: family, prefix, RD, and the path id we send (ADD-PATH).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutKey {
    pub family: Family,
    pub prefix: IpNet,
    pub rd: Option<RouteDistinguisher>,
    pub path_id: u32,
}

/// What to send for a route: its label (VPN) and attributes, or `None` to withdraw it.
pub type OutState = Option<(Option<u32>, Arc<PathAttrs>)>;

#[derive(Debug)]
pub enum OutItem {
    Route(OutKey, OutState),
    /// RFC 4724 §2: the End-of-RIB marker, after the initial table of a family.
    EndOfRib(Family),
    /// RFC 7313 §4: Beginning (true) or End (false) of a route refresh of a family.
    RefreshMarker(Family, bool),
}

/// The queue: items in the order they go out, each with a number. The producer keeps the
/// number of a route's item (the RIB in its Adj-RIB-Out entry) and passes it back with the
/// route's next state: while that item is still queued, the new state replaces it in place
/// (coalescing without any lookup here).
#[derive(Default)]
struct Inner {
    order: VecDeque<Queued>,
    /// The number of `order[0]`; item i has number `head + i`.
    head: u64,
}

/// "No queued item" for [`Outbox::put`].
pub const NOT_QUEUED: u64 = u64::MAX;

#[derive(Debug)]
enum Queued {
    Route(OutKey, OutState),
    /// A route queued again further back (a route refresh): skipped when taken.
    Moved,
    EndOfRib(Family),
    RefreshMarker(Family, bool),
}

impl Inner {
    fn push(&mut self, item: Queued) -> u64 {
        self.order.push_back(item);
        self.head + self.order.len() as u64 - 1
    }

    /// The item numbered `seq` if it is still queued and carries `key`.
    fn queued_mut(&mut self, key: &OutKey, seq: u64) -> Option<&mut Queued> {
        let i = usize::try_from(seq.checked_sub(self.head)?).ok()?;
        let item = self.order.get_mut(i)?;
        match item {
            Queued::Route(k, _) if k == key => Some(item),
            _ => None,
        }
    }
}

/// Shared between the RIB (producer) and one peer task (consumer).
#[derive(Default)]
pub struct Outbox {
    inner: Mutex<Inner>,
    pub notify: Notify,
    /// RFC 4486: a family went past its prefix limit with the teardown action.
    limit: Mutex<Option<(Family, u32)>>,
    /// Routes received from the peer per family, as the RIB counts them.
    received: Mutex<Vec<(Family, usize)>>,
}

impl Outbox {
    pub fn new() -> Arc<Outbox> {
        Arc::new(Outbox::default())
    }

    /// Queue the latest state of a route (replacing its queued state, in its place).
    ///
    /// `queued` is the number this returned for the route's previous state ([`NOT_QUEUED`] if
    /// none is known); the number of the item that now carries the route is returned. A stale
    /// or foreign number only costs the coalescing: the state is queued anew.
    pub fn put(&self, key: OutKey, state: OutState, queued: u64) -> u64 {
        let Ok(mut g) = self.inner.lock() else {
            return NOT_QUEUED;
        };
        if let Some(Queued::Route(_, s)) = g.queued_mut(&key, queued) {
            *s = state;
            return queued;
        }
        g.push(Queued::Route(key, state))
    }

    pub fn end_of_rib(&self, family: Family) {
        if let Ok(mut g) = self.inner.lock() {
            g.push(Queued::EndOfRib(family));
        }
    }

    /// RFC 7313: mark the beginning or end of a re-advertisement.
    pub fn refresh_marker(&self, family: Family, begin: bool) {
        if let Ok(mut g) = self.inner.lock() {
            g.push(Queued::RefreshMarker(family, begin));
        }
    }

    /// Queue a route at the back even if it is already queued (a route refresh re-sends
    /// it: RFC 7313 §4 wants it between the BoRR and EoRR markers, after the marker queued
    /// just before, so an earlier queued copy is dropped rather than sent before the BoRR).
    /// Returns the new item's number (see [`Outbox::put`]).
    pub fn put_again(&self, key: OutKey, state: OutState, queued: u64) -> u64 {
        let Ok(mut g) = self.inner.lock() else {
            return NOT_QUEUED;
        };
        if let Some(item) = g.queued_mut(&key, queued) {
            *item = Queued::Moved;
        }
        g.push(Queued::Route(key, state))
    }

    /// Ask the peer task to close the session: `family` went past `max` prefixes.
    pub fn limit_exceeded(&self, family: Family, max: u32) {
        if let Ok(mut g) = self.limit.lock() {
            *g = Some((family, max));
        }
        self.notify.notify_one();
    }

    pub fn set_received(&self, counts: Vec<(Family, usize)>) {
        if let Ok(mut g) = self.received.lock() {
            *g = counts;
        }
    }

    pub fn received(&self) -> Vec<(Family, usize)> {
        self.received.lock().map(|g| g.clone()).unwrap_or_default()
    }

    /// Take the limit signal, if any.
    pub fn take_limit(&self) -> Option<(Family, u32)> {
        self.limit.lock().ok().and_then(|mut g| g.take())
    }

    /// Wake the consumer (once per batch of puts).
    pub fn wake(&self) {
        self.notify.notify_one();
    }

    /// Take up to `max` items in order.
    pub fn take(&self, max: usize) -> Vec<OutItem> {
        let Ok(mut g) = self.inner.lock() else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(max.min(g.order.len()));
        while out.len() < max {
            let Some(item) = g.order.pop_front() else {
                break;
            };
            g.head += 1;
            match item {
                Queued::Route(k, s) => out.push(OutItem::Route(k, s)),
                Queued::Moved => {}
                Queued::EndOfRib(f) => out.push(OutItem::EndOfRib(f)),
                Queued::RefreshMarker(f, b) => out.push(OutItem::RefreshMarker(f, b)),
            }
        }
        if g.order.is_empty() {
            // Give the memory of a large burst back.
            g.order = VecDeque::new();
        }
        out
    }

    pub fn len(&self) -> usize {
        self.inner.lock().map(|g| g.order.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forget everything queued (the session went down).
    pub fn clear(&self) {
        if let Ok(mut g) = self.inner.lock() {
            let next = g.head + g.order.len() as u64;
            g.order = VecDeque::new();
            g.head = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn key(p: &str) -> OutKey {
        OutKey {
            family: Family::IPV4_UNICAST,
            prefix: p.parse().unwrap(),
            rd: None,
            path_id: 0,
        }
    }

    /// The producer's side as the RIB does it: the number of each route's item, passed back.
    struct Producer {
        o: Arc<Outbox>,
        queued: HashMap<OutKey, u64>,
    }

    impl Producer {
        fn new() -> Self {
            Producer {
                o: Outbox::new(),
                queued: HashMap::new(),
            }
        }
        fn put(&mut self, p: &str, state: OutState) {
            let at = self.queued.get(&key(p)).copied().unwrap_or(NOT_QUEUED);
            let n = self.o.put(key(p), state, at);
            self.queued.insert(key(p), n);
        }
        fn put_again(&mut self, p: &str, state: OutState) {
            let at = self.queued.get(&key(p)).copied().unwrap_or(NOT_QUEUED);
            let n = self.o.put_again(key(p), state, at);
            self.queued.insert(key(p), n);
        }
    }

    fn attrs() -> Arc<PathAttrs> {
        Arc::new(PathAttrs::new(Vec::new(), None))
    }

    #[test]
    fn coalesces_and_keeps_order() {
        let mut p = Producer::new();
        let a = attrs();
        p.put("10.0.0.0/8", Some((None, a.clone())));
        p.put("10.1.0.0/16", Some((None, a.clone())));
        p.put("10.0.0.0/8", None);
        p.o.end_of_rib(Family::IPV4_UNICAST);
        assert_eq!(p.o.len(), 3);
        let items = p.o.take(10);
        assert_eq!(items.len(), 3);
        assert!(matches!(&items[0], OutItem::Route(k, None) if *k == key("10.0.0.0/8")));
        assert!(matches!(&items[1], OutItem::Route(k, Some(_)) if *k == key("10.1.0.0/16")));
        assert!(matches!(items[2], OutItem::EndOfRib(Family::IPV4_UNICAST)));
        assert!(p.o.is_empty());
    }

    /// RFC 7313 §4: a route queued before a refresh goes out once, between the markers.
    #[test]
    fn a_refreshed_route_goes_between_the_markers() {
        let mut p = Producer::new();
        let a = attrs();
        p.put("10.0.0.0/8", Some((None, a.clone())));
        p.put("10.1.0.0/16", Some((None, a.clone())));
        p.o.refresh_marker(Family::IPV4_UNICAST, true);
        p.put_again("10.0.0.0/8", Some((None, a.clone())));
        p.o.refresh_marker(Family::IPV4_UNICAST, false);
        // A change after the refresh replaces the re-sent copy, not the moved one.
        p.put("10.0.0.0/8", None);
        let items = p.o.take(10);
        let shape: Vec<String> = items
            .iter()
            .map(|i| match i {
                OutItem::Route(k, None) => format!("{} withdraw", k.prefix),
                OutItem::Route(k, Some(_)) => k.prefix.to_string(),
                OutItem::EndOfRib(_) => "eor".into(),
                OutItem::RefreshMarker(_, b) => format!("marker {b}"),
            })
            .collect();
        assert_eq!(
            shape,
            [
                "10.1.0.0/16",
                "marker true",
                "10.0.0.0/8 withdraw",
                "marker false"
            ]
        );
        assert!(p.o.is_empty());
    }

    /// After a partial take, a newer state of a route still queued replaces it in place, and
    /// a route already taken is queued again; after `clear` old numbers coalesce nothing.
    #[test]
    fn coalesces_across_takes_and_clears() {
        let mut p = Producer::new();
        let a = attrs();
        for i in 0..4u8 {
            p.put(&format!("10.{i}.0.0/16"), Some((None, a.clone())));
        }
        assert_eq!(p.o.take(2).len(), 2);
        p.put("10.3.0.0/16", None);
        p.put("10.0.0.0/16", None);
        let rest = p.o.take(10);
        assert_eq!(rest.len(), 3);
        assert!(matches!(&rest[0], OutItem::Route(k, Some(_)) if *k == key("10.2.0.0/16")));
        assert!(matches!(&rest[1], OutItem::Route(k, None) if *k == key("10.3.0.0/16")));
        assert!(matches!(&rest[2], OutItem::Route(k, None) if *k == key("10.0.0.0/16")));
        p.put("10.9.0.0/16", None);
        p.o.clear();
        p.put("10.9.0.0/16", Some((None, a.clone())));
        p.put("10.8.0.0/16", None);
        p.put("10.8.0.0/16", Some((None, a.clone())));
        let after = p.o.take(10);
        assert_eq!(after.len(), 2, "{after:?}");
        assert!(matches!(&after[0], OutItem::Route(k, Some(_)) if *k == key("10.9.0.0/16")));
        assert!(matches!(&after[1], OutItem::Route(k, Some(_)) if *k == key("10.8.0.0/16")));
    }

    /// A number that belongs to another route's item never overwrites that item.
    #[test]
    fn a_foreign_number_queues_anew() {
        let o = Outbox::new();
        let a = attrs();
        let n = o.put(key("10.0.0.0/8"), Some((None, a.clone())), NOT_QUEUED);
        let m = o.put(key("10.1.0.0/16"), None, n);
        assert_ne!(m, n);
        let items = o.take(10);
        assert_eq!(items.len(), 2);
        assert!(matches!(&items[0], OutItem::Route(k, Some(_)) if *k == key("10.0.0.0/8")));
    }

    #[test]
    fn take_is_bounded() {
        let o = Outbox::new();
        for i in 0..10u8 {
            o.put(key(&format!("10.{i}.0.0/16")), None, NOT_QUEUED);
        }
        assert_eq!(o.take(4).len(), 4);
        assert_eq!(o.take(100).len(), 6);
    }
}
