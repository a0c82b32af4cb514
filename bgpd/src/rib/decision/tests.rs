//! Decision-process tests: a table with one case (at least) per step, each checked under every
//! order of its candidates; multipath; and property tests over random candidate sets.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::packet::FamilySet;
use crate::packet::attribute::as_path::{AS_CONFED_SEQUENCE, AS_SEQUENCE, AS_SET};
use crate::packet::attribute::community::LLGR_STALE;
use crate::packet::attribute::{AsPath, AsSegment, AttrValue, PathAttribute};
use crate::rib::path::PathAttrs;

const LOCAL_AS: u32 = 65000;

fn peer(id: PeerId, address: &str, remote_as: u32, bgp_id: [u8; 4]) -> PeerInfo {
    PeerInfo {
        id,
        address: address.parse().unwrap(),
        local_as: LOCAL_AS,
        remote_as,
        bgp_id: Ipv4Addr::from(bgp_id),
        rr_client: false,
        families: FamilySet::new(),
        add_path_tx: FamilySet::new(),
        extended_nexthop: FamilySet::new(),
        local_address: None,
        llgr: false,
    }
}

/// sidra itself (originated routes).
fn local() -> PeerInfo {
    peer(LOCAL_PEER, "0.0.0.0", LOCAL_AS, [10, 255, 0, 1])
}
fn ibgp(id: PeerId, address: &str, bgp_id: [u8; 4]) -> PeerInfo {
    peer(id, address, LOCAL_AS, bgp_id)
}
fn ebgp(id: PeerId, address: &str, asn: u32, bgp_id: [u8; 4]) -> PeerInfo {
    peer(id, address, asn, bgp_id)
}
fn r1() -> PeerInfo {
    ibgp(1, "10.0.0.1", [1, 1, 1, 1])
}
fn r2() -> PeerInfo {
    ibgp(2, "10.0.0.2", [2, 2, 2, 2])
}
fn r3() -> PeerInfo {
    ibgp(3, "10.0.0.3", [3, 3, 3, 3])
}
fn e100() -> PeerInfo {
    ebgp(4, "192.0.2.1", 100, [4, 4, 4, 4])
}
fn e200() -> PeerInfo {
    ebgp(5, "192.0.2.5", 200, [5, 5, 5, 5])
}

fn seq(asns: &[u32]) -> AttrValue {
    AttrValue::AsPath(AsPath::sequence(asns.to_vec()))
}
fn segments(segs: &[(u8, &[u32])]) -> AttrValue {
    AttrValue::AsPath(AsPath {
        segments: segs
            .iter()
            .map(|&(kind, asns)| AsSegment {
                kind,
                asns: asns.to_vec(),
            })
            .collect(),
    })
}
fn lp(v: u32) -> AttrValue {
    AttrValue::LocalPref(v)
}
fn med(v: u32) -> AttrValue {
    AttrValue::Med(v)
}
fn origin(v: u8) -> AttrValue {
    AttrValue::Origin(v)
}
fn llgr() -> AttrValue {
    AttrValue::Communities(vec![0xFDE8_0001, LLGR_STALE])
}
fn originator(id: [u8; 4]) -> AttrValue {
    AttrValue::OriginatorId(Ipv4Addr::from(id))
}
fn cluster(len: u8) -> AttrValue {
    AttrValue::ClusterList((1..=len).map(|i| Ipv4Addr::new(10, 9, 9, i)).collect())
}

/// One candidate, owned: the peer, the path and the IGP cost.
#[derive(Clone, Debug)]
struct Row {
    peer: PeerInfo,
    path: Path,
    igp: Option<u32>,
}

fn row(peer: &PeerInfo, attrs: Vec<AttrValue>) -> Row {
    let attrs = attrs.into_iter().map(PathAttribute::new).collect();
    Row {
        peer: peer.clone(),
        path: Path {
            peer: peer.id,
            path_id: 0,
            label: None,
            attrs: Arc::new(PathAttrs::new(attrs, None)),
            stale: false,
        },
        igp: None,
    }
}

impl Row {
    fn igp(mut self, cost: u32) -> Self {
        self.igp = Some(cost);
        self
    }
    fn path_id(mut self, id: u32) -> Self {
        self.path.path_id = id;
        self
    }
    fn gr_stale(mut self) -> Self {
        self.path.stale = true;
        self
    }
    fn candidate(&self) -> Candidate<'_> {
        Candidate {
            path: &self.path,
            peer: &self.peer,
            igp_cost: self.igp,
        }
    }
    /// The identity of the path: (peer, path id).
    fn identity(&self) -> (PeerId, u32) {
        (self.peer.id, self.path.path_id)
    }
}

/// Select among `rows` presented in `order`; the indices of the result are mapped back to
/// positions in `rows`.
fn select_in_order(rows: &[Row], order: &[usize], opts: &DecisionOptions) -> Option<Selection> {
    let cands: Vec<Candidate<'_>> = order.iter().map(|&i| rows[i].candidate()).collect();
    select(&cands, opts).map(|s| Selection {
        best: order[s.best],
        multipath: s.multipath.iter().map(|&k| order[k]).collect(),
        reason: s.reason,
    })
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    fn rec(k: usize, p: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if k == p.len() {
            out.push(p.clone());
            return;
        }
        for i in k..p.len() {
            p.swap(k, i);
            rec(k + 1, p, out);
            p.swap(k, i);
        }
    }
    let mut out = Vec::new();
    rec(0, &mut (0..n).collect(), &mut out);
    out
}

const DEFAULT: DecisionOptions = DecisionOptions {
    always_compare_med: false,
    multipath: false,
};
const ALWAYS_MED: DecisionOptions = DecisionOptions {
    always_compare_med: true,
    multipath: false,
};
const MULTIPATH: DecisionOptions = DecisionOptions {
    always_compare_med: false,
    multipath: true,
};

struct Case {
    name: &'static str,
    opts: DecisionOptions,
    rows: Vec<Row>,
    best: usize,
    reason: Reason,
    /// The expected multipath list (`[best]` when not given).
    multipath: Option<Vec<usize>>,
}

fn case(name: &'static str, rows: Vec<Row>, best: usize, reason: Reason) -> Case {
    Case {
        name,
        opts: DEFAULT,
        rows,
        best,
        reason,
        multipath: None,
    }
}

impl Case {
    fn opts(mut self, opts: DecisionOptions) -> Self {
        self.opts = opts;
        self
    }
    fn multipath(mut self, mp: Vec<usize>) -> Self {
        self.multipath = Some(mp);
        self
    }
}

/// The classic MED triple: A beats B on MED (same neighbour AS 100), B beats C on IGP cost
/// (MED not comparable, AS 100 vs 200), C beats A on IGP cost. Pairwise comparison cycles.
fn med_triple() -> Vec<Row> {
    vec![
        row(&r1(), vec![seq(&[100]), med(10)]).igp(30),
        row(&r2(), vec![seq(&[100]), med(20)]).igp(10),
        row(&r3(), vec![seq(&[200]), med(50)]).igp(20),
    ]
}

fn cases() -> Vec<Case> {
    use Reason::*;
    let same_router_a = ibgp(1, "10.0.0.9", [1, 1, 1, 1]);
    let same_router_b = ibgp(2, "10.0.0.3", [1, 1, 1, 1]);
    vec![
        case("one candidate", vec![row(&r1(), vec![])], 0, OnlyPath),
        case(
            "one candidate with multipath",
            vec![row(&r1(), vec![]).igp(3)],
            0,
            OnlyPath,
        )
        .opts(MULTIPATH),
        // Step 0.
        case(
            "LLGR_STALE loses even with a higher local-pref",
            vec![
                row(&r1(), vec![lp(300), seq(&[100]), llgr()]),
                row(&r2(), vec![lp(100), seq(&[100, 200, 300])]),
            ],
            1,
            NotStale,
        ),
        case(
            "two LLGR_STALE paths are compared as usual",
            vec![
                row(&r1(), vec![lp(300), llgr()]),
                row(&r2(), vec![lp(100), llgr()]),
            ],
            0,
            LocalPref,
        ),
        case(
            "a GR-stale path is not demoted",
            vec![
                row(&r1(), vec![lp(200)]).gr_stale(),
                row(&r2(), vec![lp(100)]),
            ],
            0,
            LocalPref,
        ),
        // Step 1.
        case(
            "highest local-pref beats a shorter AS path",
            vec![
                row(&r1(), vec![lp(150), seq(&[100])]),
                row(&r2(), vec![lp(200), seq(&[100, 200, 300])]),
            ],
            1,
            LocalPref,
        ),
        case(
            "missing local-pref counts as 100 (beats 99)",
            vec![
                row(&r1(), vec![seq(&[100])]),
                row(&r2(), vec![lp(99), seq(&[100])]),
            ],
            0,
            LocalPref,
        ),
        case(
            "missing local-pref ties with 100",
            vec![
                row(&r1(), vec![seq(&[100, 200])]),
                row(&r2(), vec![lp(100), seq(&[100])]),
            ],
            1,
            AsPathLength,
        ),
        case(
            "a locally originated path is not special at local-pref",
            vec![
                row(&local(), vec![lp(100)]),
                row(&r1(), vec![lp(200), seq(&[100])]),
            ],
            1,
            LocalPref,
        ),
        // Step 2.
        case(
            "shortest AS path",
            vec![
                row(&r1(), vec![seq(&[100, 200])]),
                row(&r2(), vec![seq(&[300])]),
            ],
            1,
            AsPathLength,
        ),
        case(
            "an AS_SET counts as one",
            vec![
                row(
                    &r1(),
                    vec![segments(&[(AS_SEQUENCE, &[100]), (AS_SET, &[1, 2, 3])])],
                ),
                row(&r2(), vec![seq(&[100, 200, 300])]),
            ],
            0,
            AsPathLength,
        ),
        case(
            "confederation segments count zero",
            vec![
                row(
                    &r1(),
                    vec![segments(&[
                        (AS_CONFED_SEQUENCE, &[65001, 65002]),
                        (AS_SEQUENCE, &[100]),
                    ])],
                ),
                row(&r2(), vec![seq(&[100, 200])]),
            ],
            0,
            AsPathLength,
        ),
        case(
            "locally originated (empty AS path) wins on AS path length",
            vec![
                row(&e100(), vec![seq(&[100])]).igp(0),
                row(&local(), vec![]),
            ],
            1,
            AsPathLength,
        ),
        // Step 3.
        case(
            "lowest origin",
            vec![
                row(&r1(), vec![origin(2)]),
                row(&r2(), vec![origin(1)]),
                row(&r3(), vec![origin(2)]),
            ],
            1,
            Origin,
        ),
        // Step 4.
        case(
            "lowest MED within one neighbour AS",
            vec![
                row(&r1(), vec![seq(&[100]), med(20)]),
                row(&r2(), vec![seq(&[100]), med(10)]),
            ],
            1,
            Med,
        ),
        case(
            "MED is not compared across neighbour ASes",
            vec![
                row(&r1(), vec![seq(&[100]), med(20)]).igp(5),
                row(&r2(), vec![seq(&[200]), med(10)]).igp(10),
            ],
            0,
            IgpCost,
        ),
        case(
            "a missing MED counts as 0",
            vec![
                row(&r1(), vec![seq(&[100])]),
                row(&r2(), vec![seq(&[100]), med(5)]),
            ],
            0,
            Med,
        ),
        case("MED triple (non-transitive)", med_triple(), 2, IgpCost),
        case("MED triple with always-compare-med", med_triple(), 0, Med).opts(ALWAYS_MED),
        case(
            "always-compare-med compares across neighbour ASes",
            vec![
                row(&r1(), vec![seq(&[100]), med(20)]).igp(5),
                row(&r2(), vec![seq(&[200]), med(10)]).igp(10),
            ],
            1,
            Med,
        )
        .opts(ALWAYS_MED),
        case(
            "empty AS paths share the local AS for MED",
            vec![row(&r1(), vec![med(10)]), row(&r2(), vec![med(5)])],
            1,
            Med,
        ),
        case(
            "a locally originated path shares the local AS for MED",
            vec![row(&local(), vec![med(10)]), row(&r1(), vec![med(5)])],
            1,
            Med,
        ),
        case(
            "an eBGP path beginning with an AS_SET has the peer's AS for MED",
            vec![
                row(&e200(), vec![segments(&[(AS_SET, &[7, 8])]), med(10)]),
                row(
                    &ebgp(6, "192.0.2.6", 200, [6, 6, 6, 6]),
                    vec![seq(&[200]), med(5)],
                ),
            ],
            1,
            Med,
        ),
        // Step 5.
        case(
            "eBGP over iBGP",
            vec![
                row(&r1(), vec![seq(&[100])]).igp(1),
                row(&e100(), vec![seq(&[100])]).igp(5),
            ],
            1,
            EbgpOverIbgp,
        ),
        case(
            "a locally originated path counts as external against iBGP",
            vec![row(&r1(), vec![]).igp(0), row(&local(), vec![])],
            1,
            EbgpOverIbgp,
        ),
        case(
            "locally originated and eBGP both stay at step 5",
            vec![row(&local(), vec![]), row(&e100(), vec![]).igp(0)],
            1,
            BgpIdentifier,
        ),
        // Step 6.
        case(
            "lowest IGP cost",
            vec![row(&r1(), vec![]).igp(20), row(&r2(), vec![]).igp(10)],
            1,
            IgpCost,
        ),
        case(
            "an unknown IGP cost is equal to any",
            vec![
                row(&r3(), vec![]).igp(20),
                row(&r2(), vec![]).igp(10),
                row(&r1(), vec![]),
            ],
            2,
            BgpIdentifier,
        ),
        case(
            "an unknown IGP cost is equal to any: multipath",
            vec![
                row(&r3(), vec![]).igp(20),
                row(&r2(), vec![]).igp(10),
                row(&r1(), vec![]),
            ],
            2,
            BgpIdentifier,
        )
        .opts(MULTIPATH)
        .multipath(vec![2, 1]),
        // Step 7.
        case(
            "lowest BGP identifier",
            vec![row(&r2(), vec![]), row(&r1(), vec![])],
            1,
            BgpIdentifier,
        ),
        case(
            "ORIGINATOR_ID replaces the BGP identifier",
            vec![
                row(&r1(), vec![originator([9, 9, 9, 9])]),
                row(&r2(), vec![]),
            ],
            1,
            BgpIdentifier,
        ),
        case(
            "BGP identifier comes before CLUSTER_LIST (RFC 4456 §9)",
            vec![
                row(&r1(), vec![originator([7, 7, 7, 7]), cluster(1)]),
                row(&r2(), vec![originator([6, 6, 6, 6]), cluster(2)]),
            ],
            1,
            BgpIdentifier,
        ),
        // Step 8.
        case(
            "shortest CLUSTER_LIST",
            vec![
                row(&r1(), vec![originator([7, 7, 7, 7]), cluster(2)]),
                row(&r2(), vec![originator([7, 7, 7, 7]), cluster(1)]),
            ],
            1,
            ClusterListLength,
        ),
        case(
            "a missing CLUSTER_LIST is length 0",
            vec![
                row(&r1(), vec![originator([7, 7, 7, 7]), cluster(1)]),
                row(&r2(), vec![originator([7, 7, 7, 7])]),
            ],
            1,
            ClusterListLength,
        ),
        // Step 9.
        case(
            "lowest peer address",
            vec![row(&same_router_a, vec![]), row(&same_router_b, vec![])],
            1,
            PeerAddress,
        ),
        case(
            "an IPv4 peer address before an IPv6 one",
            vec![
                row(&ibgp(1, "2001:db8::1", [1, 1, 1, 1]), vec![]),
                row(&ibgp(2, "192.0.2.200", [1, 1, 1, 1]), vec![]),
            ],
            1,
            PeerAddress,
        ),
        // Step 10.
        case(
            "lowest ADD-PATH path id from one peer",
            vec![
                row(&r1(), vec![]).path_id(7),
                row(&r1(), vec![]).path_id(3),
                row(&r1(), vec![]).path_id(5),
            ],
            1,
            PathId,
        ),
        case(
            "lowest peer id last",
            vec![
                row(&ibgp(3, "10.0.0.1", [1, 1, 1, 1]), vec![]),
                row(&ibgp(2, "10.0.0.1", [1, 1, 1, 1]), vec![]),
            ],
            1,
            PathId,
        ),
        // Multipath.
        case(
            "multipath: the ECMP set stops before the router-id and cluster-list steps",
            ecmp_rows(),
            2,
            BgpIdentifier,
        )
        .opts(MULTIPATH)
        .multipath(vec![2, 1, 0]),
        case(
            "multipath off: just the best",
            ecmp_rows(),
            2,
            BgpIdentifier,
        ),
        case(
            "multipath: decided before the boundary",
            vec![row(&r1(), vec![lp(200)]), row(&r2(), vec![lp(100)])],
            0,
            LocalPref,
        )
        .opts(MULTIPATH),
        case(
            "multipath: eBGP paths from different ASes, equal up to IGP cost",
            vec![
                row(&e200(), vec![seq(&[200, 300])]),
                row(&e100(), vec![seq(&[100, 300])]),
                row(&r1(), vec![seq(&[100, 300])]),
            ],
            1,
            BgpIdentifier,
        )
        .opts(MULTIPATH)
        .multipath(vec![1, 0]),
    ]
}

/// Four paths: three equal up to the IGP cost (differing in CLUSTER_LIST length and BGP
/// identifier) and one with a higher IGP cost.
fn ecmp_rows() -> Vec<Row> {
    vec![
        row(&r3(), vec![seq(&[100])]).igp(10),
        row(&r2(), vec![seq(&[100]), cluster(1)]).igp(10),
        row(&r1(), vec![seq(&[100]), cluster(2)]).igp(10),
        row(&r1(), vec![seq(&[100])]).path_id(1).igp(20),
    ]
}

#[test]
fn table_every_step_decides_in_every_order() {
    for c in cases() {
        let expected_mp = c.multipath.clone().unwrap_or_else(|| vec![c.best]);
        for order in permutations(c.rows.len()) {
            let got = select_in_order(&c.rows, &order, &c.opts)
                .unwrap_or_else(|| panic!("{}: no selection", c.name));
            assert_eq!(
                (got.best, got.reason),
                (c.best, c.reason),
                "{}: order {order:?}",
                c.name
            );
            assert_eq!(got.multipath, expected_mp, "{}: order {order:?}", c.name);
        }
    }
}

#[test]
fn every_step_has_a_deciding_case() {
    let covered: HashSet<&str> = cases().iter().map(|c| c.reason.name()).collect();
    for r in Reason::ALL {
        assert!(covered.contains(r.name()), "no case decided by {r:?}");
    }
}

#[test]
fn pairwise_comparison_of_the_med_triple_cycles() {
    // What a pairwise "better than" would say, by the same rules: each pair alone.
    let rows = med_triple();
    let winner = |a: usize, b: usize| select_in_order(&rows, &[a, b], &DEFAULT).unwrap().best;
    assert_eq!(winner(0, 1), 0); // A beats B on MED
    assert_eq!(winner(1, 2), 1); // B beats C on IGP cost
    assert_eq!(winner(2, 0), 2); // C beats A on IGP cost
    // The elimination does not cycle: C, whatever the order (checked in the table).
    assert_eq!(
        select_in_order(&rows, &[0, 1, 2], &DEFAULT).unwrap().best,
        2
    );
}

#[test]
fn no_candidates_no_selection() {
    assert_eq!(select(&[], &DEFAULT), None);
    assert_eq!(select(&[], &MULTIPATH), None);
}

#[test]
fn duplicate_candidates_do_not_panic() {
    let r = row(&r1(), vec![lp(200)]);
    let cands = [r.candidate(), r.candidate(), r.candidate()];
    let got = select(&cands, &MULTIPATH).unwrap();
    assert_eq!(got.best, 0);
    assert_eq!(got.reason, Reason::PathId);
    assert_eq!(got.multipath, vec![0, 1, 2]);
}

#[test]
fn reasons_are_listed_in_step_order_and_explained() {
    let steps: Vec<Reason> = ECMP_STEPS
        .iter()
        .chain(TIE_BREAK_STEPS.iter())
        .map(|&(r, _)| r)
        .collect();
    assert_eq!(Reason::ALL[0], Reason::OnlyPath);
    assert_eq!(&Reason::ALL[1..], steps.as_slice());
    let names: HashSet<&str> = Reason::ALL.iter().map(|r| r.name()).collect();
    let texts: HashSet<&str> = Reason::ALL.iter().map(|&r| explain(r)).collect();
    assert_eq!(names.len(), Reason::ALL.len());
    assert_eq!(texts.len(), Reason::ALL.len());
    assert_eq!(explain(Reason::LocalPref), "higher local preference");
    assert_eq!(Reason::Med.to_string(), explain(Reason::Med));
}

#[test]
fn default_local_pref_is_100() {
    assert_eq!(DEFAULT_LOCAL_PREF, 100);
}

// Property tests.

/// A random path: small value ranges so that ties (and hence the later steps) are common.
#[derive(Clone, Debug)]
struct Spec {
    peer: usize,
    path_id: u32,
    llgr: bool,
    local_pref: Option<u32>,
    as_path: Vec<u32>,
    origin: u8,
    med: Option<u32>,
    igp: Option<u32>,
    originator: Option<u8>,
    cluster_len: u8,
    gr_stale: bool,
}

fn peers() -> Vec<PeerInfo> {
    vec![
        local(),
        r1(),
        r2(),
        e100(),
        e200(),
        // Same BGP identifier as r1: decided by peer address.
        ibgp(6, "2001:db8::6", [1, 1, 1, 1]),
        // Same BGP identifier and address as r2: decided by peer id.
        ibgp(7, "10.0.0.2", [2, 2, 2, 2]),
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    use prop::sample::select;
    (
        (0usize..7, 0u32..3, prop::bool::weighted(0.1)),
        prop_oneof![8 => Just(None), 1 => Just(Some(100u32)), 1 => Just(Some(200))],
        prop_oneof![
            8 => prop::collection::vec(select(vec![100u32, 200, 300]), 1..2),
            1 => prop::collection::vec(select(vec![100u32, 200, 300]), 0..3),
        ],
        prop_oneof![8 => Just(0u8), 1 => 0u8..3],
        prop::option::of(select(vec![0u32, 10, 20])),
        prop_oneof![2 => Just(None), 6 => Just(Some(10u32)), 2 => Just(Some(20))],
        prop::option::weighted(0.3, 1u8..4),
        prop_oneof![6 => Just(0u8), 1 => 1u8..3],
        any::<bool>(),
    )
        .prop_map(
            |(
                (peer, path_id, llgr),
                local_pref,
                as_path,
                origin,
                med,
                igp,
                originator,
                cluster_len,
                gr_stale,
            )| Spec {
                peer,
                path_id,
                llgr,
                local_pref,
                as_path,
                origin,
                med,
                igp,
                originator,
                cluster_len,
                gr_stale,
            },
        )
}

fn build(specs: &[Spec]) -> Vec<Row> {
    let peers = peers();
    let mut seen = HashSet::new();
    let mut rows = Vec::new();
    for s in specs {
        let Some(p) = peers.get(s.peer) else { continue };
        if !seen.insert((p.id, s.path_id)) {
            continue;
        }
        let mut attrs = vec![origin(s.origin), seq(&s.as_path)];
        attrs.extend(s.local_pref.map(lp));
        attrs.extend(s.med.map(med));
        attrs.extend(s.originator.map(|o| originator([o, o, o, o])));
        if s.cluster_len > 0 {
            attrs.push(cluster(s.cluster_len));
        }
        if s.llgr {
            attrs.push(llgr());
        }
        let mut r = row(p, attrs).path_id(s.path_id);
        r.igp = s.igp;
        r.path.stale = s.gr_stale;
        rows.push(r);
    }
    rows
}

/// Random distinct candidates and a random order of them.
fn rows_and_order() -> impl Strategy<Value = (Vec<Row>, Vec<usize>)> {
    prop::collection::vec(spec(), 1..8)
        .prop_map(|specs| build(&specs))
        .prop_flat_map(|rows| {
            let order: Vec<usize> = (0..rows.len()).collect();
            (Just(rows), Just(order).prop_shuffle())
        })
}

type Identity = (PeerId, u32);

fn identities(rows: &[Row], s: &Selection) -> (Identity, Vec<Identity>, Reason) {
    (
        rows[s.best].identity(),
        s.multipath.iter().map(|&i| rows[i].identity()).collect(),
        s.reason,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn selection_is_independent_of_candidate_order(
        (rows, order) in rows_and_order(),
        always_compare_med in any::<bool>(),
        multipath in any::<bool>(),
    ) {
        let opts = DecisionOptions { always_compare_med, multipath };
        let n = rows.len();
        let straight: Vec<usize> = (0..n).collect();
        let reversed: Vec<usize> = (0..n).rev().collect();
        let a = select_in_order(&rows, &straight, &opts).unwrap();
        let b = select_in_order(&rows, &order, &opts).unwrap();
        let c = select_in_order(&rows, &reversed, &opts).unwrap();
        prop_assert_eq!(identities(&rows, &a), identities(&rows, &b));
        prop_assert_eq!(identities(&rows, &a), identities(&rows, &c));
        prop_assert_eq!(a.reason == Reason::OnlyPath, n == 1);
    }

    #[test]
    fn best_is_first_in_the_multipath_set(
        (rows, order) in rows_and_order(),
        always_compare_med in any::<bool>(),
    ) {
        let on = DecisionOptions { always_compare_med, multipath: true };
        let off = DecisionOptions { always_compare_med, multipath: false };
        let s = select_in_order(&rows, &order, &on).unwrap();
        prop_assert_eq!(s.multipath.first(), Some(&s.best));
        let distinct: HashSet<usize> = s.multipath.iter().copied().collect();
        prop_assert_eq!(distinct.len(), s.multipath.len());
        // Multipath does not change the best path, and without it the set is just the best.
        let single = select_in_order(&rows, &order, &off).unwrap();
        prop_assert_eq!(single.best, s.best);
        prop_assert_eq!(single.reason, s.reason);
        prop_assert_eq!(single.multipath, vec![s.best]);
        // Every member is equal to the best on the scalar steps before the boundary.
        let key = |r: &Row| {
            let d = r.path.attrs.decision;
            let external = r.peer.id == LOCAL_PEER || !r.peer.is_ibgp();
            (d.llgr_stale, d.local_pref.unwrap_or(100), d.as_path_len, d.origin, external)
        };
        let best_key = key(&rows[s.best]);
        for &i in &s.multipath {
            prop_assert_eq!(key(&rows[i]), best_key);
        }
        let costs: HashSet<u32> = s.multipath.iter().filter_map(|&i| rows[i].igp).collect();
        prop_assert!(costs.len() <= 1);
        // A multipath set of more than one means the tie-break steps decided.
        if s.multipath.len() > 1 {
            prop_assert!(matches!(
                s.reason,
                Reason::BgpIdentifier
                    | Reason::ClusterListLength
                    | Reason::PeerAddress
                    | Reason::PathId
            ));
        }
    }
}
