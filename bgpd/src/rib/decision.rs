//! The decision process (RFC 4271 §9.1.2.2, RFC 4456 §9, RFC 9494 §4.1), as a pure function
//! over the candidate paths of one prefix. STUB: being written.

use std::net::IpAddr;

use super::path::{Path, PeerInfo};

/// Options of the decision process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecisionOptions {
    /// Compare MED between paths from different neighbouring ASes.
    pub always_compare_med: bool,
    /// Return every path equal to the best up to (and including) the IGP-cost step as
    /// multipath (ECMP).
    pub multipath: bool,
}

/// One candidate: a path, the peer it came from, and the IGP cost to its next hop if known.
#[derive(Clone, Copy, Debug)]
pub struct Candidate<'a> {
    pub path: &'a Path,
    pub peer: &'a PeerInfo,
    pub igp_cost: Option<u32>,
}

/// Which step decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    OnlyPath,
    NotStale,
    LocalPref,
    AsPathLength,
    Origin,
    Med,
    EbgpOverIbgp,
    IgpCost,
    ClusterListLength,
    BgpIdentifier,
    PeerAddress,
    PathId,
}

/// The outcome for one prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// Index of the best candidate.
    pub best: usize,
    /// Indices of the multipath set (the best first); just `[best]` without multipath.
    pub multipath: Vec<usize>,
    /// The step that eliminated the last competitor of the best path.
    pub reason: Reason,
}

/// Select the best path among `cands` (None when empty).
pub fn select(_cands: &[Candidate<'_>], _opts: &DecisionOptions) -> Option<Selection> {
    let _ = IpAddr::from([0, 0, 0, 0]);
    None
}
