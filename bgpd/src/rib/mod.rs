//! The RIB: the Loc-RIB per family with every path and the decision process, and the
//! Adj-RIB-Out per peer with update generation (RFC 4271 §3.2, §9).

pub mod adj_out;
pub mod core;
pub mod counts;
pub mod decision;
pub mod export;
pub mod outbox;
pub mod path;
pub mod peer_policy;
pub mod prefix_map;
pub mod table;
pub mod task;
pub mod update_out;
pub mod watch;

/// The RIB's internal maps and sets: foldhash (seeded per map, several times faster than the
/// standard SipHash on the short keys used here: prefixes, peer ids, pointers).
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// The value of family `f` in a short per-family list, added (as its default) if missing. A
/// RIB has a handful of families: scanning them is cheaper than hashing one on every route.
pub(crate) fn family_slot<T: Default>(
    list: &mut Vec<(crate::packet::Family, T)>,
    f: crate::packet::Family,
) -> &mut T {
    let i = match list.iter().position(|(x, _)| *x == f) {
        Some(i) => i,
        None => {
            list.push((f, T::default()));
            list.len() - 1
        }
    };
    &mut list[i].1
}

pub use self::core::{Rib, RibStats, RouteKey};
pub use export::RibSettings;
pub use outbox::{OutItem, OutKey, Outbox};
pub use path::{AttrInterner, LOCAL_PEER, Path, PathAttrs, PeerId, PeerInfo};
pub use peer_policy::PeerPolicy;
pub use table::{Entry, Table};
pub use task::{RibHandle, RibInput, spawn_rib};
