//! The decision process (RFC 4271 §9.1.2.2, RFC 4456 §9, RFC 9494), as a pure function over
//! the candidate paths of one prefix.
//!
//! RFC 4271 §9.1.2.2: "The tie-breaking algorithm begins by considering all equally preferable
//! routes to the same destination, and then selects routes to be removed from consideration.
//! The algorithm terminates as soon as only one route remains in consideration. The criteria
//! MUST be applied in the order specified."
//!
//! [`select`] is that elimination procedure, not a pairwise comparison: MED is comparable only
//! between routes from the same neighbouring AS, so "is better than" is not transitive (A beats
//! B on MED, B beats C on IGP cost, C beats A on IGP cost) and a sort would depend on the order
//! of its input. Each step here keeps the candidates that are best by one criterion, so the
//! outcome (best path, reason and multipath set) depends only on the set of candidates.
//!
//! The steps, in order (each one documented on its function below):
//!
//! | # | step | [`Reason`] |
//! |---|---|---|
//! | 0 | not LLGR-stale (RFC 9494) | [`Reason::NotStale`] |
//! | 1 | highest LOCAL_PREF (missing = [`DEFAULT_LOCAL_PREF`]) | [`Reason::LocalPref`] |
//! | 2 | shortest AS_PATH (RFC 4271 (a)) | [`Reason::AsPathLength`] |
//! | 3 | lowest ORIGIN (RFC 4271 (b)) | [`Reason::Origin`] |
//! | 4 | lowest MED per neighbouring AS (RFC 4271 (c)) | [`Reason::Med`] |
//! | 5 | eBGP (or local) over iBGP (RFC 4271 (d)) | [`Reason::EbgpOverIbgp`] |
//! | 6 | lowest IGP cost to the next hop (RFC 4271 (e)) | [`Reason::IgpCost`] |
//! |   | *multipath boundary* | |
//! | 7 | lowest BGP Identifier / ORIGINATOR_ID (RFC 4271 (f), RFC 4456 §9) | [`Reason::BgpIdentifier`] |
//! | 8 | shortest CLUSTER_LIST (RFC 4456 §9, between (f) and (g)) | [`Reason::ClusterListLength`] |
//! | 9 | lowest peer address (RFC 4271 (g)) | [`Reason::PeerAddress`] |
//! | 10 | lowest path identifier, then peer id (sidra) | [`Reason::PathId`] |
//!
//! Cost: every step is one or two passes over the remaining candidates (the MED step sorts
//! them by neighbouring AS, O(n log n)); the only allocations are the working list of
//! candidates and the returned multipath list (plus one copy of the ECMP set with multipath).

use std::cmp::Reverse;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use super::path::{LOCAL_PEER, Path, PeerId, PeerInfo};

/// The LOCAL_PREF of a path that has none (the conventional default; import policy sets it on
/// eBGP-learned paths before the decision process runs).
pub const DEFAULT_LOCAL_PREF: u32 = 100;

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

impl Reason {
    /// Every reason: [`Reason::OnlyPath`], then the steps in the order they are applied.
    pub const ALL: [Reason; 12] = [
        Reason::OnlyPath,
        Reason::NotStale,
        Reason::LocalPref,
        Reason::AsPathLength,
        Reason::Origin,
        Reason::Med,
        Reason::EbgpOverIbgp,
        Reason::IgpCost,
        Reason::BgpIdentifier,
        Reason::ClusterListLength,
        Reason::PeerAddress,
        Reason::PathId,
    ];

    /// A stable machine-readable name (kebab-case), for JSON and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Reason::OnlyPath => "only-path",
            Reason::NotStale => "not-stale",
            Reason::LocalPref => "local-pref",
            Reason::AsPathLength => "as-path-length",
            Reason::Origin => "origin",
            Reason::Med => "med",
            Reason::EbgpOverIbgp => "ebgp-over-ibgp",
            Reason::IgpCost => "igp-cost",
            Reason::ClusterListLength => "cluster-list-length",
            Reason::BgpIdentifier => "bgp-identifier",
            Reason::PeerAddress => "peer-address",
            Reason::PathId => "path-id",
        }
    }
}

impl fmt::Display for Reason {
    /// The operator-facing explanation, as [`explain`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(explain(*self))
    }
}

/// Why the best path won, in words (for the API and the CLI).
pub fn explain(reason: Reason) -> &'static str {
    match reason {
        Reason::OnlyPath => "only path",
        Reason::NotStale => "not long-lived stale (LLGR_STALE)",
        Reason::LocalPref => "higher local preference",
        Reason::AsPathLength => "shorter AS path",
        Reason::Origin => "lower origin type",
        Reason::Med => "lower MED",
        Reason::EbgpOverIbgp => "external path preferred over internal",
        Reason::IgpCost => "lower IGP cost to the next hop",
        Reason::ClusterListLength => "shorter cluster list",
        Reason::BgpIdentifier => "lower BGP identifier (or originator ID)",
        Reason::PeerAddress => "lower peer address",
        Reason::PathId => "lower path identifier",
    }
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

/// A candidate still under consideration: its index in the input, and the candidate.
type Entry<'c, 'p> = (usize, &'c Candidate<'p>);
/// One elimination step: removes from the list the candidates that are worse by its criterion
/// than the best remaining one. It never empties a non-empty list.
type Step = fn(&mut Vec<Entry<'_, '_>>, &DecisionOptions);

/// Steps 0-6: a path that survives them all is equal to the best for multipath.
const ECMP_STEPS: [(Reason, Step); 7] = [
    (Reason::NotStale, not_stale),
    (Reason::LocalPref, local_pref),
    (Reason::AsPathLength, as_path_length),
    (Reason::Origin, origin),
    (Reason::Med, med),
    (Reason::EbgpOverIbgp, ebgp_over_ibgp),
    (Reason::IgpCost, igp_cost),
];

/// Steps 7-10: the tie-breaks that pick one path among equals.
const TIE_BREAK_STEPS: [(Reason, Step); 4] = [
    (Reason::BgpIdentifier, bgp_identifier),
    (Reason::ClusterListLength, cluster_list_length),
    (Reason::PeerAddress, peer_address),
    (Reason::PathId, path_id),
];

/// Select the best path among `cands` (None when empty).
///
/// The candidates are expected to be distinct paths (no two with the same peer and path
/// identifier); duplicates are tolerated and resolved by their position (lowest index).
pub fn select(cands: &[Candidate<'_>], opts: &DecisionOptions) -> Option<Selection> {
    if cands.len() <= 1 {
        return cands.first().map(|_| Selection {
            best: 0,
            multipath: vec![0],
            reason: Reason::OnlyPath,
        });
    }
    let mut set: Vec<Entry<'_, '_>> = cands.iter().enumerate().collect();
    let decided = eliminate(&mut set, &ECMP_STEPS, opts);
    let ecmp = match decided {
        None if opts.multipath => set.clone(),
        _ => Vec::new(),
    };
    let decided = decided.or_else(|| eliminate(&mut set, &TIE_BREAK_STEPS, opts));
    let &(best, _) = set.first()?;
    // Unreachable fallback: the path-id step ends on the (unique) input index.
    let reason = decided.unwrap_or(Reason::PathId);
    let multipath = if ecmp.len() > 1 {
        ecmp_order(ecmp, best)
    } else {
        vec![best]
    };
    Some(Selection {
        best,
        multipath,
        reason,
    })
}

/// Apply `steps` in order until one candidate remains; the step that got there.
fn eliminate(
    set: &mut Vec<Entry<'_, '_>>,
    steps: &[(Reason, Step)],
    opts: &DecisionOptions,
) -> Option<Reason> {
    for &(reason, step) in steps {
        if set.len() <= 1 {
            break;
        }
        step(set, opts);
        if set.len() == 1 {
            return Some(reason);
        }
    }
    None
}

/// The ECMP set as indices, `best` first, then the others in the order the tie-break steps
/// would rank them (independent of the order of the input).
fn ecmp_order(mut ecmp: Vec<Entry<'_, '_>>, best: usize) -> Vec<usize> {
    ecmp.sort_unstable_by_key(|&(i, c)| tie_break_key(i, c));
    let mut out: Vec<usize> = ecmp.into_iter().map(|(i, _)| i).collect();
    if let Some(pos) = out.iter().position(|&i| i == best) {
        out[..=pos].rotate_right(1);
    }
    out
}

/// Steps 7-10 as one lexicographic key (lowest wins), for ordering the multipath set.
fn tie_break_key(index: usize, c: &Candidate<'_>) -> (Ipv4Addr, u32, IpAddr, u32, PeerId, usize) {
    (
        bgp_id(c),
        c.path.attrs.decision.cluster_list_len,
        c.peer.address,
        c.path.path_id,
        c.peer.id,
        index,
    )
}

/// Keep the candidates whose `key` is the lowest among those remaining.
fn keep_lowest<K: Ord>(set: &mut Vec<Entry<'_, '_>>, key: impl Fn(usize, &Candidate<'_>) -> K) {
    let Some(lowest) = set.iter().map(|&(i, c)| key(i, c)).min() else {
        return;
    };
    set.retain(|&(i, c)| key(i, c) == lowest);
}

/// Was the path learned over eBGP? Locally originated paths are not.
fn is_ebgp(c: &Candidate<'_>) -> bool {
    c.peer.id != LOCAL_PEER && !c.peer.is_ibgp()
}

/// Step 0. RFC 9494 (abstract): "We also specify that such long-lived stale routes be treated
/// as the least preferred". A path carrying the LLGR_STALE community loses to any path without
/// it, before LOCAL_PREF is even looked at.
///
/// Paths kept by plain Graceful Restart (`Path::stale`, RFC 4724) are not demoted: RFC 4724
/// keeps using them for forwarding and route selection as before the restart.
fn not_stale(set: &mut Vec<Entry<'_, '_>>, _: &DecisionOptions) {
    keep_lowest(set, |_, c| c.path.attrs.decision.llgr_stale);
}

/// Step 1. RFC 4271 §9.1.1: the degree of preference of a route learned from an internal peer
/// is its LOCAL_PREF; for eBGP-learned routes import policy sets it before this runs. Highest
/// wins; a path without LOCAL_PREF counts as [`DEFAULT_LOCAL_PREF`]. Locally originated paths
/// are not special here (their empty AS_PATH normally makes them win at step 2).
fn local_pref(set: &mut Vec<Entry<'_, '_>>, _: &DecisionOptions) {
    keep_lowest(set, |_, c| {
        Reverse(
            c.path
                .attrs
                .decision
                .local_pref
                .unwrap_or(DEFAULT_LOCAL_PREF),
        )
    });
}

/// Step 2. RFC 4271 §9.1.2.2 (a): "Remove from consideration all routes that are not tied for
/// having the smallest number of AS numbers present in their AS_PATH attributes. Note that
/// when counting this number, an AS_SET counts as 1, no matter how many ASes are in the set."
/// (`as_path_len` already counts confederation segments as 0, RFC 5065 §5.3.)
fn as_path_length(set: &mut Vec<Entry<'_, '_>>, _: &DecisionOptions) {
    keep_lowest(set, |_, c| c.path.attrs.decision.as_path_len);
}

/// Step 3. RFC 4271 §9.1.2.2 (b): "Remove from consideration all routes that are not tied for
/// having the lowest Origin number in their Origin attribute." (IGP 0 < EGP 1 < INCOMPLETE 2.)
fn origin(set: &mut Vec<Entry<'_, '_>>, _: &DecisionOptions) {
    keep_lowest(set, |_, c| c.path.attrs.decision.origin);
}

/// Step 4. RFC 4271 §9.1.2.2 (c): "Remove from consideration routes with less-preferred
/// MULTI_EXIT_DISC attributes. MULTI_EXIT_DISC is only comparable between routes learned from
/// the same neighboring AS (the neighboring AS is determined from the AS_PATH attribute).
/// Routes that do not have the MULTI_EXIT_DISC attribute are considered to have the lowest
/// possible MULTI_EXIT_DISC value."
///
/// The candidates are grouped by [`neighbor_as`] (all in one group with `always_compare_med`)
/// and, in each group, those with a MED higher than the group's lowest are removed. A missing
/// MED is 0.
fn med(set: &mut Vec<Entry<'_, '_>>, opts: &DecisionOptions) {
    let med = |c: &Candidate<'_>| c.path.attrs.decision.med.unwrap_or(0);
    if opts.always_compare_med {
        keep_lowest(set, |_, c| med(c));
        return;
    }
    // Sorted by (group, MED), the first entry of each group carries the group's lowest MED.
    set.sort_unstable_by_key(|&(_, c)| (neighbor_as(c), med(c)));
    let mut group: Option<(u32, u32)> = None;
    set.retain(|&(_, c)| {
        let (asn, m) = (neighbor_as(c), med(c));
        match group {
            Some((g, lowest)) if g == asn => m == lowest,
            _ => {
                group = Some((asn, m));
                true
            }
        }
    });
}

/// The neighbouring AS of a path for MED comparison. RFC 4271 §9.1.2.2 (c): "neighborAS(n) is
/// a function that returns the neighbor AS from which the route was received. If the route is
/// learned via IBGP, and the other IBGP speaker didn't originate the route, it is the neighbor
/// AS from which the other IBGP speaker learned the route. If the route is learned via IBGP,
/// and the other IBGP speaker either (a) originated the route, or (b) created the route by
/// aggregation and the AS_PATH attribute of the aggregate route is either empty or begins with
/// an AS_SET, it is the local AS."
///
/// So: the first AS of the AS_PATH when it begins with an AS_SEQUENCE; otherwise (empty or
/// AS_SET first) the peer's AS for an eBGP-learned path ("the neighbor AS from which the route
/// was received"), and the local AS for iBGP-learned and locally originated paths.
fn neighbor_as(c: &Candidate<'_>) -> u32 {
    match c.path.attrs.decision.neighbor_as {
        Some(asn) => asn,
        None if is_ebgp(c) => c.peer.remote_as,
        None => c.peer.local_as,
    }
}

/// Step 5. RFC 4271 §9.1.2.2 (d): "If at least one of the candidate routes was received via
/// EBGP, remove from consideration all routes that were received via IBGP."
///
/// Locally originated paths (peer [`LOCAL_PEER`]) count as external here: a route sidra
/// originates is preferred to an iBGP-learned one that ties with it so far (normally the
/// local one has already won on AS_PATH length), and is not removed by an eBGP one (they go
/// on to the IGP cost and the tie-breaks).
fn ebgp_over_ibgp(set: &mut Vec<Entry<'_, '_>>, _: &DecisionOptions) {
    keep_lowest(set, |_, c| !(is_ebgp(c) || c.peer.id == LOCAL_PEER));
}

/// Step 6. RFC 4271 §9.1.2.2 (e): "Remove from consideration any routes with less-preferred
/// interior cost. The interior cost of a route is determined by calculating the metric to the
/// NEXT_HOP for the route using the Routing Table."
///
/// A candidate whose cost is unknown (`None`) is treated as equal to every other: it is never
/// removed here and does not remove others. The known costs are compared among themselves
/// (the lowest survive). RFC 4271 says to skip the step when "no cost can be determined";
/// this is that, per path, and still depends only on the set of candidates.
fn igp_cost(set: &mut Vec<Entry<'_, '_>>, _: &DecisionOptions) {
    let Some(lowest) = set.iter().filter_map(|&(_, c)| c.igp_cost).min() else {
        return;
    };
    set.retain(|&(_, c)| c.igp_cost.is_none_or(|cost| cost == lowest));
}

/// The "BGP Identifier" of a path for step 7: its ORIGINATOR_ID if it has one, else the BGP
/// Identifier of the peer it came from.
fn bgp_id(c: &Candidate<'_>) -> Ipv4Addr {
    c.path.attrs.decision.originator_id.unwrap_or(c.peer.bgp_id)
}

/// Step 7. RFC 4271 §9.1.2.2 (f): "Remove from consideration all routes other than the route
/// that was advertised by the BGP speaker with the lowest BGP Identifier value." RFC 4456 §9:
/// "If a route carries the ORIGINATOR_ID attribute, then in Step f) the ORIGINATOR_ID SHOULD
/// be treated as the BGP Identifier of the BGP speaker that has advertised the route."
///
/// Applied to every remaining path, eBGP-learned ones included (their ORIGINATOR_ID is
/// normally absent, so their peer's identifier is used).
fn bgp_identifier(set: &mut Vec<Entry<'_, '_>>, _: &DecisionOptions) {
    keep_lowest(set, |_, c| bgp_id(c));
}

/// Step 8. RFC 4456 §9: "In addition, the following rule SHOULD be inserted between Steps f)
/// and g): a BGP Speaker SHOULD prefer a route with the shorter CLUSTER_LIST length. The
/// CLUSTER_LIST length is zero if a route does not carry the CLUSTER_LIST attribute."
///
/// Hence after the BGP Identifier step: it separates copies of one route (same
/// ORIGINATOR_ID) reflected along different paths.
fn cluster_list_length(set: &mut Vec<Entry<'_, '_>>, _: &DecisionOptions) {
    keep_lowest(set, |_, c| c.path.attrs.decision.cluster_list_len);
}

/// Step 9. RFC 4271 §9.1.2.2 (g): "Prefer the route received from the lowest peer address."
/// Addresses compare as `IpAddr` does: every IPv4 address before every IPv6 address, each
/// family numerically.
fn peer_address(set: &mut Vec<Entry<'_, '_>>, _: &DecisionOptions) {
    keep_lowest(set, |_, c| c.peer.address);
}

/// Step 10 (sidra): the lowest received ADD-PATH path identifier (RFC 7911), then the lowest
/// peer id, so that several paths from one peer, or two sessions with the same address, are
/// still decided deterministically. The input index last makes it total even for duplicate
/// candidates.
fn path_id(set: &mut Vec<Entry<'_, '_>>, _: &DecisionOptions) {
    keep_lowest(set, |i, c| (c.path.path_id, c.peer.id, i));
}

#[cfg(test)]
mod tests;
