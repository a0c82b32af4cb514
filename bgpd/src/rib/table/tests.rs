#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use super::*;
use crate::packet::nlri::RouteDistinguisher;
use crate::rib::decision::Selection;
use crate::rib::path::{Path, PathAttrs};
use ipnet::Ipv4Net;

fn path(peer: u32) -> Path {
    Path {
        peer,
        path_id: 0,
        label: None,
        attrs: Arc::new(PathAttrs::new(Vec::new(), None)),
        stale: false,
    }
}

fn key(s: &str, rd: Option<u64>) -> RouteKey {
    RouteKey {
        prefix: s.parse().unwrap(),
        rd: rd.map(|r| RouteDistinguisher(r.to_be_bytes())),
    }
}

fn peers(e: &Entry) -> Vec<u32> {
    e.paths().iter().map(|p| p.peer).collect()
}

#[test]
fn paths_go_inline_and_back() {
    let mut e = Entry::default();
    e.push(path(1));
    assert!(matches!(e.paths, Paths::One(_)));
    e.push(path(2));
    e.push(path(3));
    assert_eq!(peers(&e), vec![1, 2, 3]);
    assert_eq!(e.remove(1).map(|p| p.peer), Some(2));
    assert_eq!(e.remove(5).map(|p| p.peer), None);
    e.retain(|p| p.peer != 1);
    assert!(
        matches!(e.paths, Paths::One(_)),
        "one path left: inline again"
    );
    assert_eq!(peers(&e), vec![3]);
    assert_eq!(e.remove(0).map(|p| p.peer), Some(3));
    assert!(e.paths().is_empty());
}

#[test]
fn choosing_puts_the_best_first_then_the_multipath_set_then_the_rest() {
    let mut e = Entry::default();
    for p in 1..=5 {
        e.push(path(p));
    }
    assert!(e.best_path().is_none());
    e.choose(Some(Selection {
        best: 3,
        multipath: vec![3, 1],
        reason: Reason::BgpIdentifier,
    }));
    assert_eq!(peers(&e), vec![4, 2, 1, 3, 5]);
    assert_eq!(e.best_path().map(|p| p.peer), Some(4));
    assert_eq!(
        e.multipath_others()
            .iter()
            .map(|p| p.peer)
            .collect::<Vec<_>>(),
        vec![2]
    );
    assert_eq!(e.reason(), Some(Reason::BgpIdentifier));
    // Without multipath the set is the best alone.
    e.choose(Some(Selection {
        best: 4,
        multipath: vec![4],
        reason: Reason::Med,
    }));
    assert_eq!(peers(&e), vec![5, 4, 2, 1, 3]);
    assert!(e.multipath_others().is_empty());
    e.choose(None);
    assert!(e.best_path().is_none() && e.reason().is_none());
    assert_eq!(e.paths().len(), 5, "no selection keeps every path");
}

/// The layout the module doc promises (a regression guard on memory per route).
#[test]
fn slots_stay_small() {
    assert!(
        std::mem::size_of::<Entry>() <= 40,
        "{}",
        std::mem::size_of::<Entry>()
    );
    assert!(std::mem::size_of::<(Ipv4Net, Entry)>() <= 48);
}

#[test]
fn tables_per_family() {
    let mut ts = Tables::default();
    ts.or_insert(Family::IPV6_UNICAST)
        .get_or_insert(key("2001:db8::/32", None))
        .push(path(1));
    assert!(ts.get(Family::IPV4_UNICAST).is_none());
    assert_eq!(ts.get(Family::IPV6_UNICAST).map(Table::len), Some(1));
    ts.or_insert(Family::IPV4_UNICAST);
    assert_eq!(ts.iter().count(), 2);
}
