//! The RIB's change feed and read-only summaries for the API and metrics.
//!
//! Every run of the decision process on a prefix ([`super::core::Rib`]'s `reselect`) calls
//! [`Feed::publish`] with the entry and the new selection, and one [`RouteChange`] (the best
//! path now, or none) goes on a `tokio::sync::broadcast` channel. Nothing is
//! built while nobody watches (one atomic load per decision run), and publishing never blocks
//! the RIB task: a watcher that falls more than [`FEED_CAPACITY`] changes behind loses the
//! oldest ones and is told so by its receiver (`RecvError::Lagged`).
//!
//! A watcher subscribes from inside the RIB task (through [`super::RibHandle::query`]) and can
//! take a snapshot of the best paths in the same closure, so that no change falls between the
//! snapshot and the feed.

use std::collections::HashMap;
use std::net::IpAddr;

use tokio::sync::broadcast;

use super::core::{Rib, RouteKey};
use super::decision::Reason;
use super::path::{LOCAL_PEER, Path};
use super::table::Entry;
use crate::packet::Family;

/// How many changes a watcher may fall behind before it loses some.
pub const FEED_CAPACITY: usize = 8192;

/// The families the RIB holds tables for.
pub const FAMILIES: [Family; 4] = [
    Family::IPV4_UNICAST,
    Family::IPV6_UNICAST,
    Family::IPV4_VPN,
    Family::IPV6_VPN,
];

/// A prefix's best path, as the feed and the snapshots report it.
#[derive(Clone, Debug)]
pub struct BestPath {
    pub path: Path,
    /// The neighbor it came from; `None` for our own routes.
    pub neighbor: Option<IpAddr>,
    pub reason: Reason,
    /// The other paths of the multipath set (`global.multipath`), best first excluded.
    pub multipath: Vec<Path>,
}

/// A prefix's best path changed: `best` is the new one, or `None` when the prefix is gone.
#[derive(Clone, Debug)]
pub struct RouteChange {
    pub family: Family,
    pub key: RouteKey,
    pub best: Option<BestPath>,
}

/// The sending side of the feed, owned by the RIB.
pub struct Feed {
    tx: broadcast::Sender<RouteChange>,
}

impl Default for Feed {
    fn default() -> Self {
        Feed {
            tx: broadcast::Sender::new(FEED_CAPACITY),
        }
    }
}

impl Feed {
    /// A new watcher: it sees every change published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<RouteChange> {
        self.tx.subscribe()
    }

    /// How many watchers there are.
    pub fn watchers(&self) -> usize {
        self.tx.receiver_count()
    }

    /// The decision process ran on `key`: `entry` is the prefix's entry with the new
    /// selection (`None` when the prefix is gone), `neighbor` the address of the peer the best
    /// path came from. Published on every run while someone watches (the best path may be the
    /// same as before when only another path changed: the RIB replaces paths in place, so the
    /// feed cannot tell a re-announcement from no change; a duplicate event is possible, a
    /// missed change is not).
    pub fn publish(
        &self,
        family: Family,
        key: &RouteKey,
        entry: Option<&Entry>,
        neighbor: Option<IpAddr>,
    ) {
        if self.tx.receiver_count() == 0 {
            return;
        }
        let best = entry.and_then(|e| best_of(e, neighbor));
        // No receiver left between the check and now is not an error.
        let _ = self.tx.send(RouteChange {
            family,
            key: *key,
            best,
        });
    }
}

/// An entry's best path as the feed reports it.
fn best_of(e: &Entry, neighbor: Option<IpAddr>) -> Option<BestPath> {
    Some(BestPath {
        path: e.best_path()?.clone(),
        neighbor,
        reason: e.reason()?,
        multipath: e.multipath_others().to_vec(),
    })
}

/// The best path of every prefix of `family` (a snapshot for a new watcher), in prefix order.
pub fn best_routes(rib: &Rib, family: Family) -> Vec<RouteChange> {
    let Some(table) = rib.table(family) else {
        return Vec::new();
    };
    let mut out: Vec<RouteChange> = table
        .iter()
        .filter_map(|(key, e)| {
            let neighbor = neighbor_of(rib, e.best_path()?);
            Some(RouteChange {
                family,
                key,
                best: Some(best_of(e, neighbor)?),
            })
        })
        .collect();
    out.sort_by_key(|c| c.key);
    out
}

/// The neighbor a path came from (`None` for our own routes).
pub fn neighbor_of(rib: &Rib, path: &Path) -> Option<IpAddr> {
    if path.peer == LOCAL_PEER {
        return None;
    }
    rib.peer_info(path.peer).map(|p| p.address)
}

/// Sizes of the RIB for metrics: per family, the prefixes and the paths.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RibSizes {
    /// (family, prefixes, paths).
    pub tables: Vec<(Family, usize, usize)>,
    /// Paths in the Loc-RIB per neighbor and family (the routes accepted from it).
    pub accepted: HashMap<(IpAddr, Family), usize>,
    /// Routes in each established neighbor's Adj-RIB-Out, per family.
    pub advertised: HashMap<(IpAddr, Family), usize>,
    /// Routes received from each up neighbor (used or not), per family.
    pub received: HashMap<(IpAddr, Family), usize>,
    pub attribute_sets: usize,
    pub decision_runs: u64,
    pub rejected: u64,
    pub watchers: usize,
}

/// The per-neighbor counts alone: O(peers x families), cheap enough for every API call.
pub fn peer_counts(rib: &Rib) -> RibSizes {
    let mut s = RibSizes {
        attribute_sets: rib.attribute_sets(),
        decision_runs: rib.stats.decision_runs,
        rejected: rib.stats.rejected,
        watchers: rib.watch.watchers(),
        ..RibSizes::default()
    };
    for p in rib.peer_counters() {
        for (f, n) in p.accepted {
            s.accepted.insert((p.address, f), n);
        }
        for (f, n) in p.advertised {
            s.advertised.insert((p.address, f), n);
        }
        for (f, n) in p.received {
            s.received.insert((p.address, f), n);
        }
    }
    s
}

/// [`peer_counts`] plus the size of every table (one pass over every path: for the metrics,
/// not for every API call).
pub fn sizes(rib: &Rib) -> RibSizes {
    let mut s = peer_counts(rib);
    for f in FAMILIES {
        let Some(t) = rib.table(f) else {
            s.tables.push((f, 0, 0));
            continue;
        };
        let paths = t.iter().map(|(_, e)| e.paths().len()).sum();
        s.tables.push((f, t.len(), paths));
    }
    s
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::rib::RibSettings;
    use crate::rib::path::PathAttrs;

    fn rib() -> Rib {
        Rib::new(RibSettings {
            local_as: 65001,
            router_id: Ipv4Addr::new(10, 0, 0, 1),
            cluster_id: Ipv4Addr::new(10, 0, 0, 1),
            decision: Default::default(),
        })
    }

    #[test]
    fn originate_and_withdraw_are_published() {
        let mut rib = rib();
        let mut rx = rib.watch.subscribe();
        let (f, n, a) = crate::daemon::local_network("10.1.0.0/24".parse().expect("net"));
        rib.originate(f, &n, a);
        let c = rx.try_recv().expect("an event");
        assert_eq!(c.family, Family::IPV4_UNICAST);
        assert_eq!(c.key.prefix.to_string(), "10.1.0.0/24");
        let best = c.best.expect("best");
        assert_eq!(best.neighbor, None);
        assert_eq!(best.reason, Reason::OnlyPath);
        assert_eq!(best_routes(&rib, f).len(), 1);
        rib.withdraw_local(f, &n);
        let c = rx.try_recv().expect("an event");
        assert!(c.best.is_none());
        assert!(rx.try_recv().is_err());
        assert!(best_routes(&rib, f).is_empty());
    }

    #[test]
    fn nothing_is_built_without_watchers() {
        let mut rib = rib();
        let (f, n, a) = crate::daemon::local_network("10.1.0.0/24".parse().expect("net"));
        rib.originate(f, &n, a.clone());
        let mut rx = rib.watch.subscribe();
        assert_eq!(rib.watch.watchers(), 1);
        // Same route again: re-selected and reported again.
        rib.originate(f, &n, a);
        assert!(rx.try_recv().is_ok());
        let s = sizes(&rib);
        assert_eq!(s.tables[0], (Family::IPV4_UNICAST, 1, 1));
        assert_eq!(s.watchers, 1);
        let _ = PathAttrs::new(Vec::new(), None);
    }
}
