//! Per-peer queue of routes to send, coalesced by route: if a route changes twice before the
//! peer task takes it, only the latest state is sent. Its size is bounded by the number of
//! distinct routes, never by how slowly the peer reads (RFC 4271 §9.2.1.1 leaves the rate to
//! the implementation; this is the "MinRouteAdvertisementInterval = 0 with coalescing" model).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use ipnet::IpNet;
use tokio::sync::Notify;

use super::adj_out::ByFamily;
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

/// The queue: items in the order they go out, and per queued route its position (so that a
/// newer state replaces the queued one in place: coalescing without a second copy of it).
#[derive(Default)]
struct Inner {
    order: VecDeque<Queued>,
    /// The sequence number of `order[0]`; item i has number `head + i`.
    head: u64,
    /// Per route queued since the queue was last empty, the sequence number of its latest item
    /// (below `head`: taken already).
    position: ByFamily<u64>,
}

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

    /// The queued item of a route, if it is queued.
    fn queued_mut(&mut self, key: &OutKey) -> Option<&mut Queued> {
        let seq = *self.position.get(key)?;
        let i = usize::try_from(seq.checked_sub(self.head)?).ok()?;
        self.order.get_mut(i)
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
    pub fn put(&self, key: OutKey, state: OutState) {
        let Ok(mut g) = self.inner.lock() else { return };
        let g = &mut *g;
        // One lookup: the route's queue position, or a new entry for it (u64::MAX: none).
        let at = g.position.get_or_insert(&key, u64::MAX);
        if let Some(i) = at.checked_sub(g.head).and_then(|i| usize::try_from(i).ok())
            && let Some(Queued::Route(_, queued)) = g.order.get_mut(i)
        {
            *queued = state;
            return;
        }
        *at = g.head + g.order.len() as u64;
        g.order.push_back(Queued::Route(key, state));
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
    pub fn put_again(&self, key: OutKey, state: OutState) {
        let Ok(mut g) = self.inner.lock() else { return };
        if let Some(item) = g.queued_mut(&key) {
            *item = Queued::Moved;
        }
        let seq = g.push(Queued::Route(key, state));
        g.position.insert(&key, seq);
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
                // Its position stays behind (a number below `head` means "not queued") until
                // the queue is empty: no lookup per route taken.
                Queued::Route(k, s) => out.push(OutItem::Route(k, s)),
                Queued::Moved => {}
                Queued::EndOfRib(f) => out.push(OutItem::EndOfRib(f)),
                Queued::RefreshMarker(f, b) => out.push(OutItem::RefreshMarker(f, b)),
            }
        }
        if g.order.is_empty() {
            // Give the memory of a large burst back.
            g.order = VecDeque::new();
            g.position.clear();
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
            g.position.clear();
            g.head = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(p: &str) -> OutKey {
        OutKey {
            family: Family::IPV4_UNICAST,
            prefix: p.parse().unwrap(),
            rd: None,
            path_id: 0,
        }
    }

    #[test]
    fn coalesces_and_keeps_order() {
        let o = Outbox::new();
        let a = Arc::new(PathAttrs::new(Vec::new(), None));
        o.put(key("10.0.0.0/8"), Some((None, a.clone())));
        o.put(key("10.1.0.0/16"), Some((None, a.clone())));
        o.put(key("10.0.0.0/8"), None);
        o.end_of_rib(Family::IPV4_UNICAST);
        assert_eq!(o.len(), 3);
        let items = o.take(10);
        assert_eq!(items.len(), 3);
        assert!(matches!(&items[0], OutItem::Route(k, None) if *k == key("10.0.0.0/8")));
        assert!(matches!(&items[1], OutItem::Route(k, Some(_)) if *k == key("10.1.0.0/16")));
        assert!(matches!(items[2], OutItem::EndOfRib(Family::IPV4_UNICAST)));
        assert!(o.is_empty());
    }

    /// RFC 7313 §4: a route queued before a refresh goes out once, between the markers.
    #[test]
    fn a_refreshed_route_goes_between_the_markers() {
        let o = Outbox::new();
        let a = Arc::new(PathAttrs::new(Vec::new(), None));
        o.put(key("10.0.0.0/8"), Some((None, a.clone())));
        o.put(key("10.1.0.0/16"), Some((None, a.clone())));
        o.refresh_marker(Family::IPV4_UNICAST, true);
        o.put_again(key("10.0.0.0/8"), Some((None, a.clone())));
        o.refresh_marker(Family::IPV4_UNICAST, false);
        let items = o.take(10);
        let shape: Vec<String> = items
            .iter()
            .map(|i| match i {
                OutItem::Route(k, _) => k.prefix.to_string(),
                OutItem::EndOfRib(_) => "eor".into(),
                OutItem::RefreshMarker(_, b) => format!("marker {b}"),
            })
            .collect();
        assert_eq!(
            shape,
            ["10.1.0.0/16", "marker true", "10.0.0.0/8", "marker false"]
        );
        assert!(o.is_empty());
    }

    /// After a partial take, a newer state of a route still queued replaces it in place, and
    /// a route already taken is queued again; after `clear` nothing old comes back.
    #[test]
    fn coalesces_across_takes_and_clears() {
        let o = Outbox::new();
        let a = Arc::new(PathAttrs::new(Vec::new(), None));
        for i in 0..4u8 {
            o.put(key(&format!("10.{i}.0.0/16")), Some((None, a.clone())));
        }
        assert_eq!(o.take(2).len(), 2);
        o.put(key("10.3.0.0/16"), None);
        o.put(key("10.0.0.0/16"), None);
        let rest = o.take(10);
        assert_eq!(rest.len(), 3);
        assert!(matches!(&rest[0], OutItem::Route(k, Some(_)) if *k == key("10.2.0.0/16")));
        assert!(matches!(&rest[1], OutItem::Route(k, None) if *k == key("10.3.0.0/16")));
        assert!(matches!(&rest[2], OutItem::Route(k, None) if *k == key("10.0.0.0/16")));
        o.put(key("10.9.0.0/16"), None);
        o.clear();
        o.put(key("10.8.0.0/16"), None);
        o.put(key("10.8.0.0/16"), Some((None, a.clone())));
        let after = o.take(10);
        assert_eq!(after.len(), 1);
        assert!(matches!(&after[0], OutItem::Route(k, Some(_)) if *k == key("10.8.0.0/16")));
    }

    #[test]
    fn take_is_bounded() {
        let o = Outbox::new();
        for i in 0..10u8 {
            o.put(key(&format!("10.{i}.0.0/16")), None);
        }
        assert_eq!(o.take(4).len(), 4);
        assert_eq!(o.take(100).len(), 6);
    }
}
