//! The Loc-RIB's storage: per family a [`Table`] of [`Entry`]s (every path to a prefix and the
//! decision's outcome), laid out for a million prefixes per family.
//!
//! ```text
//!  Tables: [(Family, Table)]   a handful of families: a linear scan, no hashing
//!  Table:  PrefixMap<Entry>    dense slots behind an index of u32 (see `prefix_map`)
//!  Entry:  paths  One(Path) inline | Many(Vec<Path>); the best path first, then the rest of
//!                 the multipath set, then the others
//! ```
//!
//! An IPv4 prefix learned from one peer costs one 48-octet slot (key and entry, its path
//! inline) plus about 10 octets of index: about 60 octets with the slack of growth, where a
//! `HashMap<RouteKey, Entry>` with a heap vector of paths per prefix cost 380.

use super::core::RouteKey;
use super::decision::{Reason, Selection};
use super::path::Path;
use super::prefix_map::PrefixMap;
use crate::packet::Family;

/// The paths to one prefix: the only one inline (the common case: a prefix learned from one
/// peer), several on the heap.
#[derive(Clone, Debug)]
enum Paths {
    One(Path),
    Many(Vec<Path>),
}

impl Default for Paths {
    fn default() -> Self {
        Paths::Many(Vec::new())
    }
}

impl Paths {
    fn as_slice(&self) -> &[Path] {
        match self {
            Paths::One(p) => std::slice::from_ref(p),
            Paths::Many(v) => v,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [Path] {
        match self {
            Paths::One(p) => std::slice::from_mut(p),
            Paths::Many(v) => v,
        }
    }

    fn push(&mut self, path: Path) {
        match self {
            Paths::Many(v) if v.is_empty() => *self = Paths::One(path),
            Paths::Many(v) => v.push(path),
            Paths::One(_) => {
                if let Paths::One(first) = std::mem::take(self) {
                    *self = Paths::Many(vec![first, path]);
                }
            }
        }
    }

    /// Remove the path at `i` (back inline when one is left).
    fn remove(&mut self, i: usize) -> Option<Path> {
        match self {
            Paths::One(_) if i == 0 => match std::mem::take(self) {
                Paths::One(p) => Some(p),
                Paths::Many(_) => None,
            },
            Paths::One(_) => None,
            Paths::Many(v) => {
                let p = (i < v.len()).then(|| v.remove(i));
                if v.len() == 1
                    && let Some(last) = v.pop()
                {
                    *self = Paths::One(last);
                }
                p
            }
        }
    }

    /// Keep the paths `keep` selects (back inline when one is left).
    fn retain(&mut self, mut keep: impl FnMut(&Path) -> bool) {
        match self {
            Paths::One(p) => {
                if !keep(p) {
                    *self = Paths::default();
                }
            }
            Paths::Many(v) => {
                v.retain(|p| keep(p));
                if v.len() == 1
                    && let Some(p) = v.pop()
                {
                    *self = Paths::One(p);
                }
            }
        }
    }
}

/// What the decision process chose for a prefix: the best path is the entry's first path,
/// and the multipath set its first `multipath` paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Chosen {
    reason: Reason,
    multipath: u16,
}

/// All paths to one prefix and the current selection.
#[derive(Clone, Debug, Default)]
pub struct Entry {
    paths: Paths,
    chosen: Option<Chosen>,
    /// The last batch of changes that recorded this prefix (see `core::Changed`).
    batch: u32,
}

impl Entry {
    /// Every path, the best first, then the rest of the multipath set, then the others.
    pub fn paths(&self) -> &[Path] {
        self.paths.as_slice()
    }

    pub fn best_path(&self) -> Option<&Path> {
        self.chosen.and_then(|_| self.paths().first())
    }

    /// The step of the decision process that chose the best path.
    pub fn reason(&self) -> Option<Reason> {
        self.chosen.map(|c| c.reason)
    }

    /// The paths of the multipath set other than the best (`global.multipath`).
    pub fn multipath_others(&self) -> &[Path] {
        let n = self.chosen.map_or(0, |c| usize::from(c.multipath));
        self.paths().get(1..n).unwrap_or(&[])
    }

    pub(super) fn batch(&self) -> u32 {
        self.batch
    }

    pub(super) fn set_batch(&mut self, batch: u32) {
        self.batch = batch;
    }

    /// The only path is the best (no decision to run).
    pub(super) fn choose_only(&mut self) {
        self.chosen = Some(Chosen {
            reason: Reason::OnlyPath,
            multipath: 1,
        });
    }

    pub(super) fn paths_mut(&mut self) -> &mut [Path] {
        self.paths.as_mut_slice()
    }

    pub(super) fn push(&mut self, path: Path) {
        self.paths.push(path);
    }

    pub(super) fn remove(&mut self, i: usize) -> Option<Path> {
        self.paths.remove(i)
    }

    pub(super) fn retain(&mut self, keep: impl FnMut(&Path) -> bool) {
        self.paths.retain(keep);
    }

    /// Store the decision's outcome over the current paths: reorder them so that the best
    /// comes first, then the rest of the multipath set in its order, then the others in their
    /// present order.
    pub(super) fn choose(&mut self, sel: Option<Selection>) {
        let Some(sel) = sel else {
            self.chosen = None;
            return;
        };
        let multipath = u16::try_from(sel.multipath.len()).unwrap_or(u16::MAX);
        self.chosen = Some(Chosen {
            reason: sel.reason,
            multipath,
        });
        let Paths::Many(v) = &mut self.paths else {
            return;
        };
        let in_order = sel.multipath.iter().enumerate().all(|(i, x)| i == *x);
        if in_order && sel.multipath.first() == Some(&sel.best) {
            return;
        }
        let mut old: Vec<Option<Path>> = std::mem::take(v).into_iter().map(Some).collect();
        let mut order: Vec<usize> = Vec::with_capacity(old.len());
        order.push(sel.best);
        order.extend(sel.multipath.iter().copied().filter(|i| *i != sel.best));
        order.extend((0..old.len()).filter(|i| !sel.multipath.contains(i) && *i != sel.best));
        for i in order {
            if let Some(p) = old.get_mut(i).and_then(Option::take) {
                v.push(p);
            }
        }
        // Indices the selection did not name (none, when it came from these paths) stay.
        v.extend(old.into_iter().flatten());
    }
}

/// The Loc-RIB of one family.
#[derive(Default)]
pub struct Table(PrefixMap<Entry>);

impl Table {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, key: &RouteKey) -> Option<&Entry> {
        self.0.get(key, 0)
    }

    /// See [`PrefixMap::warm`].
    pub(super) fn warm(&self, key: &RouteKey) {
        self.0.warm(key, 0);
    }

    pub(super) fn get_mut(&mut self, key: &RouteKey) -> Option<&mut Entry> {
        self.0.get_mut(key, 0)
    }

    pub(super) fn get_or_insert(&mut self, key: RouteKey) -> &mut Entry {
        self.0.get_or_insert_with(&key, 0, Entry::default)
    }

    pub(super) fn remove(&mut self, key: &RouteKey) -> Option<Entry> {
        self.0.remove(key, 0)
    }

    /// Every prefix and its entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (RouteKey, &Entry)> + '_ {
        self.0.iter().map(|(k, _, e)| (k, e))
    }

    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = (RouteKey, &mut Entry)> + '_ {
        self.0.iter_mut().map(|(k, _, e)| (k, e))
    }
}

/// The tables of every family (a short list: a scan is cheaper than hashing the family).
#[derive(Default)]
pub struct Tables(Vec<(Family, Table)>);

impl Tables {
    pub fn get(&self, f: Family) -> Option<&Table> {
        self.0.iter().find(|(x, _)| *x == f).map(|(_, t)| t)
    }

    pub fn get_mut(&mut self, f: Family) -> Option<&mut Table> {
        self.0.iter_mut().find(|(x, _)| *x == f).map(|(_, t)| t)
    }

    pub fn or_insert(&mut self, f: Family) -> &mut Table {
        super::family_slot(&mut self.0, f)
    }

    pub fn iter(&self) -> impl Iterator<Item = (Family, &Table)> + '_ {
        self.0.iter().map(|(f, t)| (*f, t))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Family, &mut Table)> + '_ {
        self.0.iter_mut().map(|(f, t)| (*f, t))
    }
}

#[cfg(test)]
mod tests;
