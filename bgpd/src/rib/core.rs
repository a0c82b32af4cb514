//! The RIB core (pure, single owner): paths per prefix per family, the decision process on
//! every change, and the per-peer Adj-RIB-Out diffed into each peer's [`Outbox`].
//!
//! ```text
//!  peer UPDATE --> import checks --> Loc-RIB entry (all paths) --> select()
//!                                                     | best changed
//!                                                     v
//!          for each established peer: may_advertise + export_attrs (+ policy)
//!                                                     | differs from Adj-RIB-Out
//!                                                     v
//!                                               Outbox::put --> peer task packs UPDATEs
//! ```

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use ipnet::IpNet;

use super::adj_out::{AdjRibOut, Advertised};
use super::counts::FamilyCounts;
use super::decision::{Candidate, select};
use super::export::{ExportMarks, RibSettings, Source, export_attrs, may_advertise, self_next_hop};
use super::outbox::{NOT_QUEUED, OutKey, OutState, Outbox};
use super::path::{AttrInterner, LOCAL_PEER, Path, PathAttrs, PeerId, PeerInfo, is_vpn};
use super::peer_policy::PeerPolicy;
use super::table::{Entry, Table, Tables};
use super::{FastMap, FastSet};
use crate::config::MaxPrefixesAction;
use crate::packet::attribute::{AttrValue, NextHop, PathAttribute, attr_type};
use crate::packet::nlri::{Nlri, RouteDistinguisher};
use crate::packet::{Family, FamilySet, UpdateMessage};
use crate::policy::{Direction, Effective, RouteView, Verdict};

/// A prefix in a family's table (VPN prefixes are qualified by their RD).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouteKey {
    pub prefix: IpNet,
    pub rd: Option<RouteDistinguisher>,
}

impl RouteKey {
    pub fn of(n: &Nlri) -> Self {
        RouteKey {
            prefix: n.prefix,
            rd: n.vpn.map(|v| v.rd),
        }
    }
}

/// A peer's route counts ([`Rib::peer_counters`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerCounters {
    pub address: IpAddr,
    pub received: Vec<(Family, usize)>,
    pub accepted: Vec<(Family, usize)>,
    pub advertised: Vec<(Family, usize)>,
}

/// A route as received: its label and attributes before the import policy.
type AsReceived = (Option<u32>, Arc<PathAttrs>);

struct PeerSlot {
    info: PeerInfo,
    outbox: Arc<Outbox>,
    adj_out: AdjRibOut,
    policy: PeerPolicy,
    /// Routes in the Loc-RIB from this peer, per family (for max-prefix).
    accepted: FamilyCounts,
    /// Families over their limit (warned once per crossing).
    over_limit: FastSet<Family>,
    /// RFC 7911: the path ids sent per prefix to a peer we send ADD-PATH to.
    addpath_ids: FastMap<(Family, RouteKey), Vec<u32>>,
    /// Routes received but not used (import policy or loop), for the received count.
    rejected: FastSet<(Family, RouteKey, u32)>,
    /// `rejected` counted per family (kept with it, so counting never walks the set).
    rejected_count: FamilyCounts,
    /// With soft reconfiguration inbound: every route as received, before the import policy.
    pre_policy: FastMap<(Family, RouteKey, u32), AsReceived>,
    /// Families whose End-of-RIB the peer sent since it came up (RFC 4724 §2).
    end_of_rib: FamilySet,
    /// `adj_out` counted per family (kept with it, so counting never walks it).
    advertised: FamilyCounts,
}

impl PeerSlot {
    fn reject(&mut self, key: (Family, RouteKey, u32)) {
        if self.rejected.insert(key) {
            self.rejected_count.add(key.0);
        }
    }

    fn unreject(&mut self, key: (Family, RouteKey, u32)) {
        // Most peers never have a route rejected: skip the hashing then.
        if !self.rejected.is_empty() && self.rejected.remove(&key) {
            self.rejected_count.sub(key.0);
        }
    }
}

/// One import run (an UPDATE, or a policy change): the peer's policy, and the verdict per
/// family while the policy does not look at the prefix.
struct ImportMemo {
    policy: PeerPolicy,
    verdicts: Vec<(Family, Option<Arc<PathAttrs>>)>,
}

impl ImportMemo {
    fn new(peers: &FastMap<PeerId, PeerSlot>, id: PeerId) -> Self {
        ImportMemo {
            policy: peers.get(&id).map(|s| s.policy.clone()).unwrap_or_default(),
            verdicts: Vec::new(),
        }
    }
}

/// The peer a path came from: ourselves for our own paths and, defensively, for a peer that
/// is gone. (A function of the fields, not of the `Rib`, so that it can be called while a
/// table entry is borrowed.)
fn source_of<'a>(
    local: &'a PeerInfo,
    peers: &'a FastMap<PeerId, PeerSlot>,
    stale: &'a FastMap<PeerId, PeerInfo>,
    id: PeerId,
) -> &'a PeerInfo {
    if id == LOCAL_PEER {
        return local;
    }
    peers
        .get(&id)
        .map(|s| &s.info)
        .or_else(|| stale.get(&id))
        .unwrap_or(local)
}

/// Why a path was not taken into the RIB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejected {
    AsLoop,
    OriginatorIsUs,
    ClusterLoop,
    NoNextHop,
    Policy,
}

/// Counters the API and metrics read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RibStats {
    pub decision_runs: u64,
    /// Routes not used because of a loop or a missing next hop.
    pub rejected: u64,
    /// Routes an import policy rejected.
    pub rejected_by_policy: u64,
}

/// RFC 4724 §4.1: while restarting, route selection is deferred until every peer that will
/// send one has sent its End-of-RIB (or the Selection_Deferral_Timer runs out).
#[derive(Debug, Default)]
struct Deferral {
    /// Peers whose End-of-RIB we still wait for.
    waiting: FastSet<PeerId>,
    /// Families whose End-of-RIB each waiting peer has sent.
    received: FastMap<PeerId, FamilySet>,
}

/// Export results of one batch: (best attributes, from, to, family) -> what `to` is sent.
/// Valid only within a batch (the interner keeps every attribute set alive until `collect`).
type ExportCache = FastMap<(usize, PeerId, PeerId, Family), Option<Arc<PathAttrs>>>;

pub struct Rib {
    pub settings: RibSettings,
    deferral: Option<Deferral>,
    export_cache: ExportCache,
    local: PeerInfo,
    peers: FastMap<PeerId, PeerSlot>,
    /// RFC 4724 helper mode: peers that went down gracefully and whose paths are kept stale.
    stale_peers: FastMap<PeerId, PeerInfo>,
    tables: Tables,
    /// The number of the last batch of changes (see [`Changed`]).
    batch: u32,
    /// The list of the last batch, emptied, for the next (a fresh one per UPDATE cost a page
    /// fault per few routes).
    spare: Vec<(Family, RouteKey, Prior)>,
    scratch: Scratch,
    interner: AttrInterner,
    pub stats: RibStats,
    /// The change feed (API WatchRoutes): see `rib::watch`.
    pub watch: super::watch::Feed,
}

/// [`Rib::reselect`]'s per-batch buffers, kept from batch to batch.
#[derive(Default)]
struct Scratch {
    /// The established peers.
    ids: Vec<PeerId>,
    /// Per peer of `ids` (same position): something was queued for it.
    touched: Vec<bool>,
    /// (position in `ids`, family) for every family a peer is sent every path of (ADD-PATH).
    add_path: Vec<(usize, Family)>,
    /// A chunk of decided prefixes: family, prefix, new best path, and whether it is the
    /// same as before the batch.
    decided: Vec<(Family, RouteKey, Option<Path>, bool)>,
}

/// How many changed prefixes [`Rib::reselect`] decides before exporting them.
const DECIDED_CHUNK: usize = 256;

impl Scratch {
    fn fill(&mut self, peers: &FastMap<PeerId, PeerSlot>) {
        self.ids.clear();
        self.add_path.clear();
        for (i, (id, slot)) in peers.iter().enumerate() {
            self.ids.push(*id);
            self.add_path
                .extend(slot.info.add_path_tx.iter().map(|f| (i, f)));
        }
        self.touched.clear();
        self.touched.resize(self.ids.len(), false);
    }
}

/// The prefixes a batch changed, each with what its best path was before the batch, in the
/// order first changed. A prefix is recorded once per batch: its entry remembers the number of
/// the batch that last recorded it (cheaper than a set of the batch's prefixes).
struct Changed {
    batch: u32,
    list: Vec<(Family, RouteKey, Prior)>,
}

impl Changed {
    /// Record that a prefix changed; `e` is its entry before the change (the first record of
    /// a batch wins).
    fn mark(&mut self, f: Family, k: RouteKey, e: &mut Entry) {
        if e.batch() != self.batch {
            e.set_batch(self.batch);
            self.list.push((f, k, Prior::Best(e.best_path().cloned())));
        }
    }

    /// Record a change whose prior best path is not known (export to every peer).
    fn mark_unknown(&mut self, f: Family, k: RouteKey, e: &mut Entry) {
        if e.batch() != self.batch {
            e.set_batch(self.batch);
            self.list.push((f, k, Prior::Unknown));
        }
    }

    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// A changed prefix's best path before the batch. When the decision process picks the very
/// same path again (same peer, path id, label, staleness and attribute set), what a peer is
/// sent for the prefix cannot have changed (export is a function of the best path and of the
/// peers, which a batch does not change), so only ADD-PATH peers, which are sent every path,
/// are looked at again.
#[derive(Clone, Debug)]
enum Prior {
    /// Not recorded: export to every peer.
    Unknown,
    Best(Option<Path>),
}

/// The same path: same source, identifiers, staleness and (interned) attribute set.
fn same_path(a: Option<&Path>, b: Option<&Path>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.peer == b.peer
                && a.path_id == b.path_id
                && a.label == b.label
                && a.stale == b.stale
                && Arc::ptr_eq(&a.attrs, &b.attrs)
        }
        _ => false,
    }
}

/// Remove the paths `gone` selects from `e`; if there were any, record the prefix in
/// `changed` (with its best path from before).
fn remove_where(
    changed: &mut Changed,
    f: Family,
    k: RouteKey,
    e: &mut Entry,
    gone: impl Fn(&Path) -> bool,
) -> bool {
    if !e.paths().iter().any(&gone) {
        return false;
    }
    changed.mark(f, k, e);
    e.retain(|p| !gone(p));
    true
}

impl Rib {
    pub fn new(settings: RibSettings) -> Rib {
        let local = PeerInfo {
            id: LOCAL_PEER,
            address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            local_as: settings.local_as,
            remote_as: settings.local_as,
            bgp_id: settings.router_id,
            rr_client: false,
            families: FamilySet::all_supported(),
            add_path_tx: FamilySet::new(),
            extended_nexthop: FamilySet::new(),
            local_address: None,
            llgr: true,
        };
        Rib {
            settings,
            local,
            peers: FastMap::default(),
            deferral: None,
            export_cache: FastMap::default(),
            stale_peers: FastMap::default(),
            tables: Tables::default(),
            batch: 0,
            spare: Vec::new(),
            scratch: Scratch::default(),
            interner: AttrInterner::default(),
            stats: RibStats::default(),
            watch: Default::default(),
        }
    }

    pub fn table(&self, f: Family) -> Option<&Table> {
        self.tables.get(f)
    }

    pub fn entry(&self, f: Family, k: &RouteKey) -> Option<&Entry> {
        self.tables.get(f)?.get(k)
    }

    /// A new batch of changes. Batch numbers wrap after 2^32 batches: then every entry's
    /// record is reset, so an old record can never pass for the new batch's.
    fn batch(&mut self) -> Changed {
        self.batch = self.batch.wrapping_add(1);
        if self.batch == 0 {
            for (_, t) in self.tables.iter_mut() {
                for (_, e) in t.iter_mut() {
                    e.set_batch(0);
                }
            }
            self.batch = 1;
        }
        Changed {
            batch: self.batch,
            list: std::mem::take(&mut self.spare),
        }
    }

    /// A peer's info: established, or down with stale paths kept (graceful restart).
    pub fn peer_info(&self, id: PeerId) -> Option<&PeerInfo> {
        if id == LOCAL_PEER {
            return Some(&self.local);
        }
        self.peers
            .get(&id)
            .map(|p| &p.info)
            .or_else(|| self.stale_peers.get(&id))
    }

    /// How many stale paths a peer has (RFC 4724 helper mode).
    pub fn stale_paths(&self, id: PeerId) -> usize {
        self.tables
            .iter()
            .flat_map(|(_, t)| t.iter())
            .flat_map(|(_, e)| e.paths().iter())
            .filter(|p| p.peer == id && p.stale)
            .count()
    }

    pub fn attribute_sets(&self) -> usize {
        self.interner.len()
    }

    /// Routes advertised to a peer (its Adj-RIB-Out).
    /// Every established peer's Adj-RIB-Out keys (for the API and metrics).
    pub fn adj_out_keys(&self) -> impl Iterator<Item = (&PeerInfo, OutKey)> + '_ {
        self.peers
            .values()
            .flat_map(|p| p.adj_out.keys().map(move |k| (&p.info, k)))
    }

    pub fn advertised(&self, id: PeerId) -> usize {
        self.peers.get(&id).map_or(0, |p| p.adj_out.len())
    }

    /// A session came up: send it the whole table, then End-of-RIB per family (RFC 4724 §2).
    pub fn peer_up(&mut self, info: PeerInfo, outbox: Arc<Outbox>, policy: PeerPolicy) {
        let id = info.id;
        outbox.clear();
        // Stale paths from before a graceful restart stay stale until re-announced or swept.
        self.stale_peers.remove(&id);
        self.peers.insert(
            id,
            PeerSlot {
                info,
                outbox,
                adj_out: AdjRibOut::default(),
                policy,
                accepted: FamilyCounts::default(),
                over_limit: FastSet::default(),
                rejected: FastSet::default(),
                rejected_count: FamilyCounts::default(),
                addpath_ids: FastMap::default(),
                end_of_rib: FamilySet::new(),
                advertised: FamilyCounts::default(),
                pre_policy: FastMap::default(),
            },
        );
        if self.deferral.is_none() {
            self.send_table(id);
        }
    }

    /// The whole table to one peer, then End-of-RIB per family (RFC 4724 §2).
    fn send_table(&mut self, id: PeerId) {
        self.export_cache.clear();
        let keys: Vec<(Family, RouteKey)> = self
            .tables
            .iter()
            .flat_map(|(f, t)| t.iter().map(move |(k, _)| (f, k)))
            .collect();
        for (f, k) in keys {
            self.export_to(id, f, &k);
        }
        if let Some(p) = self.peers.get(&id) {
            for f in p.info.families.iter() {
                p.outbox.end_of_rib(f);
            }
            p.outbox.wake();
        }
    }

    /// RFC 4724 §4.1: "the Restarting Speaker MUST defer route selection for an address family
    /// until it either (a) receives the End-of-RIB marker from all its peers (excluding the ones
    /// with the 'Restart State' bit set in the received capability and excluding the ones that
    /// do not advertise the graceful restart capability) or (b) the Selection_Deferral_Timer
    /// ... has expired." Nothing is advertised meanwhile.
    pub fn defer_selection(&mut self, peers: impl IntoIterator<Item = PeerId>) {
        let waiting: FastSet<PeerId> = peers.into_iter().collect();
        if !waiting.is_empty() {
            self.deferral = Some(Deferral {
                waiting,
                received: FastMap::default(),
            });
        }
    }

    /// The peers that are up and sent End-of-RIB for every negotiated family: their routes
    /// are all in (a restarted node may then remove what they no longer announce).
    pub fn synced_peers(&self) -> Vec<IpAddr> {
        self.peers
            .values()
            .filter(|s| s.info.families.iter().all(|f| s.end_of_rib.contains(f)))
            .map(|s| s.info.address)
            .collect()
    }

    pub fn is_deferring(&self) -> bool {
        self.deferral.is_some()
    }

    /// Whether a peer that came up will send End-of-RIB markers we must wait for (it
    /// advertised graceful restart without the Restart State bit).
    pub fn expect_end_of_rib(&mut self, id: PeerId, expected: bool) {
        if expected {
            return;
        }
        if let Some(d) = &mut self.deferral {
            d.waiting.remove(&id);
        }
        self.maybe_end_deferral();
    }

    /// A peer's End-of-RIB for a family.
    pub fn end_of_rib(&mut self, id: PeerId, family: Family) {
        if let Some(slot) = self.peers.get_mut(&id) {
            slot.end_of_rib.insert(family);
        }
        let families = self.peers.get(&id).map(|s| s.info.families.clone());
        if let (Some(d), Some(families)) = (&mut self.deferral, families) {
            let got = d.received.entry(id).or_default();
            got.insert(family);
            if families.iter().all(|f| got.contains(f)) {
                d.waiting.remove(&id);
            }
        }
        self.maybe_end_deferral();
    }

    fn maybe_end_deferral(&mut self) {
        if self.deferral.as_ref().is_some_and(|d| d.waiting.is_empty()) {
            self.end_deferral();
        }
    }

    /// Selection deferral is over (all End-of-RIBs, or the timer): advertise to everyone.
    pub fn end_deferral(&mut self) {
        if self.deferral.take().is_none() {
            return;
        }
        tracing::info!("route selection deferral over: advertising the table");
        let ids: Vec<PeerId> = self.peers.keys().copied().collect();
        for id in ids {
            self.send_table(id);
        }
    }

    /// RFC 2918 §4 / RFC 7313 §4: the peer asked for our routes of a family again: re-send
    /// its Adj-RIB-Out, between BoRR and EoRR markers when enhanced route refresh is on.
    pub fn refresh(&mut self, id: PeerId, family: Family, enhanced: bool) {
        let Some(slot) = self.peers.get_mut(&id) else {
            return;
        };
        if !slot.info.families.contains(family) {
            return;
        }
        if enhanced {
            slot.outbox.refresh_marker(family, true);
        }
        let mut routes: Vec<(OutKey, Advertised)> = slot
            .adj_out
            .of_family(family)
            .map(|(k, v)| (k, v.clone()))
            .collect();
        routes.sort_by_key(|(k, _)| *k);
        for (k, v) in routes {
            let n = slot.outbox.put_again(k, Some((v.label, v.attrs)), v.queued);
            if let Some(e) = slot.adj_out.get_mut(&k) {
                e.queued = n;
            }
        }
        if enhanced {
            slot.outbox.refresh_marker(family, false);
        }
        slot.outbox.wake();
    }

    /// A session went down: its paths go, and with them what we derived from them.
    pub fn peer_down(&mut self, id: PeerId) {
        self.peer_down_graceful(id, &FamilySet::new());
    }

    /// RFC 4724 §4.2: a graceful-restart peer went down. "The Receiving Speaker MUST retain
    /// the routes received from the peer for all the address families that were previously
    /// received in the Graceful Restart Capability and MUST mark them as stale routing
    /// information." Paths of the other families go now.
    pub fn peer_down_graceful(&mut self, id: PeerId, keep: &FamilySet) {
        let Some(slot) = self.peers.remove(&id) else {
            return;
        };
        slot.outbox.clear();
        let mut changed = self.batch();
        let mut kept = false;
        for (f, t) in self.tables.iter_mut() {
            let retain = keep.contains(f);
            for (k, e) in t.iter_mut() {
                if retain {
                    for p in e.paths_mut().iter_mut().filter(|p| p.peer == id) {
                        p.stale = true;
                        kept = true;
                    }
                    continue;
                }
                remove_where(&mut changed, f, k, e, |p| p.peer == id);
            }
        }
        if kept {
            self.stale_peers.insert(id, slot.info);
        }
        self.reselect(changed);
        self.interner.collect();
    }

    /// RFC 9494 §4.2: the peer's restart time ran out but Long-Lived Graceful Restart keeps its
    /// stale paths of `families`: "the LLGR_STALE community is attached" to each, and a path
    /// carrying NO_LLGR is removed ("routes marked with the NO_LLGR community ... MUST be
    /// removed"). LLGR_STALE paths are the least preferred (decision step 0) and are sent only
    /// to LLGR peers (`export::may_advertise`).
    pub fn mark_llgr_stale(&mut self, id: PeerId, families: &FamilySet) {
        use crate::packet::attribute::community::{LLGR_STALE, NO_LLGR};
        let mut changed = self.batch();
        for (f, t) in self.tables.iter_mut() {
            if !families.contains(f) {
                continue;
            }
            for (k, e) in t.iter_mut() {
                let before = e.paths().len();
                e.retain(|p| {
                    !(p.peer == id && p.stale && p.attrs.communities().contains(&NO_LLGR))
                });
                let mut touched = e.paths().len() != before;
                for p in e.paths_mut().iter_mut().filter(|p| p.peer == id && p.stale) {
                    if p.attrs.decision.llgr_stale {
                        continue;
                    }
                    let mut list = p.attrs.communities().to_vec();
                    list.push(LLGR_STALE);
                    let attr = PathAttribute::new(AttrValue::Communities(list));
                    p.attrs = self
                        .interner
                        .intern(p.attrs.with(attr_type::COMMUNITIES, Some(attr)));
                    touched = true;
                }
                if touched {
                    changed.mark_unknown(f, k, e);
                }
            }
        }
        self.reselect(changed);
        self.interner.collect();
    }

    /// Remove a peer's stale paths: of one family (its End-of-RIB arrived, RFC 4724 §4.2) or
    /// of all families (the restart or stale timer ran out, or the restart was not graceful).
    pub fn sweep_stale(&mut self, id: PeerId, family: Option<Family>) {
        let mut changed = self.batch();
        for (f, t) in self.tables.iter_mut() {
            if family.is_some_and(|x| x != f) {
                continue;
            }
            for (k, e) in t.iter_mut() {
                remove_where(&mut changed, f, k, e, |p| p.peer == id && p.stale);
            }
        }
        self.reselect(changed);
        if !self.peers.contains_key(&id) && self.stale_paths(id) == 0 {
            self.stale_peers.remove(&id);
        }
        self.interner.collect();
    }

    /// Apply an UPDATE from a peer (errors already folded into announced/withdrawn).
    pub fn update(&mut self, id: PeerId, u: &UpdateMessage) {
        let Some(from) = self.peers.get(&id).map(|p| p.info.clone()) else {
            return;
        };
        let mut changed = self.batch();
        let withdrawals = u.withdrawals();
        let announced = u.announced();
        self.warm(withdrawals.iter().chain(&announced));
        for (f, n) in withdrawals {
            let k = RouteKey::of(n);
            let path_id = n.path_id.unwrap_or(0);
            if let Some(slot) = self.peers.get_mut(&id) {
                slot.pre_policy.remove(&(f, k, path_id));
                slot.unreject((f, k, path_id));
            }
            self.remove_path(id, f, &k, path_id, &mut changed);
        }
        if !announced.is_empty() {
            let attrs = PathAttrs::new(u.attributes.clone(), next_hop_of(u));
            match self.import_check(&from, &attrs) {
                Ok(()) => {
                    let pre = self.interner.intern(attrs);
                    let mut memo = ImportMemo::new(&self.peers, id);
                    for (f, n) in announced {
                        let (k, path_id, label) = (
                            RouteKey::of(n),
                            n.path_id.unwrap_or(0),
                            n.vpn.map(|v| v.label),
                        );
                        self.import_route(
                            &from,
                            f,
                            k,
                            path_id,
                            label,
                            &pre,
                            &mut memo,
                            &mut changed,
                        );
                    }
                }
                Err(_) => {
                    // RFC 4271 §9.1.2: a looped route is not used; what it replaces goes.
                    for (f, n) in announced {
                        self.stats.rejected += 1;
                        let k = RouteKey::of(n);
                        if let Some(slot) = self.peers.get_mut(&id) {
                            slot.reject((f, k, n.path_id.unwrap_or(0)));
                        }
                        self.remove_path(id, f, &k, n.path_id.unwrap_or(0), &mut changed);
                    }
                }
            }
        }
        self.check_limits(id);
        self.reselect(changed);
        self.publish_received(id);
    }

    /// Look an UPDATE's prefixes up in their tables before applying it (see
    /// [`super::prefix_map::PrefixMap::warm`]).
    fn warm<'a>(&self, routes: impl Iterator<Item = &'a (Family, &'a Nlri)>) {
        let mut table: Option<(Family, &Table)> = None;
        for (f, n) in routes {
            if table.is_none_or(|(x, _)| x != *f) {
                table = self.tables.get(*f).map(|t| (*f, t));
            }
            if let Some((_, t)) = table {
                t.warm(&RouteKey::of(n));
            }
        }
    }

    /// Per up peer: its address, and per family the routes received, accepted (in the Loc-RIB)
    /// and advertised to it. O(peers x families): every count is kept as routes change.
    pub fn peer_counters(&self) -> Vec<PeerCounters> {
        self.peers
            .iter()
            .map(|(id, slot)| PeerCounters {
                address: slot.info.address,
                received: self.received(*id),
                accepted: slot.accepted.nonzero(),
                advertised: slot.advertised.nonzero(),
            })
            .collect()
    }

    /// Routes received from a peer per family: used ones plus the ones not used.
    pub fn received(&self, id: PeerId) -> Vec<(Family, usize)> {
        let Some(slot) = self.peers.get(&id) else {
            return Vec::new();
        };
        slot.accepted.plus(&slot.rejected_count)
    }

    fn publish_received(&self, id: PeerId) {
        if let Some(slot) = self.peers.get(&id) {
            slot.outbox.set_received(self.received(id));
        }
    }

    /// One received route through the import policy into the Loc-RIB. `memo` holds the
    /// peer's policy and keeps the verdict per family when the policy does not look at the
    /// prefix (one evaluation per UPDATE and family).
    #[allow(clippy::too_many_arguments)]
    fn import_route(
        &mut self,
        from: &PeerInfo,
        f: Family,
        k: RouteKey,
        path_id: u32,
        label: Option<u32>,
        pre: &Arc<PathAttrs>,
        memo: &mut ImportMemo,
        changed: &mut Changed,
    ) {
        let Some(slot) = self.peers.get_mut(&from.id) else {
            return;
        };
        if memo.policy.soft_reconfiguration_inbound {
            slot.pre_policy
                .insert((f, k, path_id), (label, pre.clone()));
        }
        let eff = memo.policy.import(!from.is_ibgp());
        let per_prefix = matches!(eff, Effective::Use(p) if p.per_prefix());
        let known = memo.verdicts.iter().find(|(x, _)| *x == f);
        let post = match known {
            Some((_, v)) if !per_prefix => v.clone(),
            _ => {
                let view = RouteView {
                    family: f,
                    prefix: k.prefix,
                    peer: from,
                    direction: Direction::Import,
                    self_next_hop: from.local_address.map(|a| NextHop {
                        global: a,
                        link_local: None,
                    }),
                };
                let v = match eff.apply(&view, pre) {
                    Verdict::Reject => None,
                    Verdict::Accept { attrs: None, .. } => Some(pre.clone()),
                    Verdict::Accept { attrs: Some(a), .. } => Some(self.interner.intern(a)),
                };
                if !per_prefix {
                    memo.verdicts.push((f, v.clone()));
                }
                v
            }
        };
        if let Some(slot) = self.peers.get_mut(&from.id) {
            if post.is_some() {
                slot.unreject((f, k, path_id));
            } else {
                slot.reject((f, k, path_id));
            }
        }
        match post {
            Some(attrs) => {
                let path = Path {
                    peer: from.id,
                    path_id,
                    label,
                    attrs,
                    stale: false,
                };
                self.insert_path(f, k, path, changed);
            }
            None => {
                self.stats.rejected_by_policy += 1;
                self.remove_path(from.id, f, &k, path_id, changed);
            }
        }
    }

    /// RFC 4486: past `max_prefixes`, warn once or have the session closed with Cease 6/1.
    fn check_limits(&mut self, id: PeerId) {
        let Some(slot) = self.peers.get_mut(&id) else {
            return;
        };
        let Some((max, action)) = slot.policy.max_prefixes else {
            return;
        };
        for (f, n) in slot.accepted.iter() {
            let over = n > usize::try_from(max).unwrap_or(usize::MAX);
            if !over {
                slot.over_limit.remove(&f);
                continue;
            }
            if !slot.over_limit.insert(f) {
                continue;
            }
            match action {
                MaxPrefixesAction::Warn => tracing::warn!(
                    peer = %slot.info.address, family = %f, limit = max, received = n,
                    "maximum number of prefixes exceeded (warning only)"
                ),
                MaxPrefixesAction::Teardown => {
                    tracing::warn!(
                        peer = %slot.info.address, family = %f, limit = max, received = n,
                        "maximum number of prefixes exceeded: closing the session"
                    );
                    slot.outbox.limit_exceeded(f, max);
                }
            }
        }
    }

    /// A peer's policy changed (reload): re-export everything to it (only differences are
    /// sent) and, with soft reconfiguration inbound, re-apply the import policy to the routes
    /// as received. Returns false when the import side needs a ROUTE-REFRESH from the peer.
    pub fn set_policy(&mut self, id: PeerId, policy: PeerPolicy) -> bool {
        let Some(slot) = self.peers.get_mut(&id) else {
            return true;
        };
        slot.policy = policy;
        let soft = slot.policy.soft_reconfiguration_inbound;
        let from = slot.info.clone();
        let mut entries: Vec<_> = match soft {
            true => slot
                .pre_policy
                .iter()
                .map(|(k, v)| (*k, v.clone()))
                .collect(),
            false => Vec::new(),
        };
        entries.sort_by_key(|e| e.0);
        let mut changed = self.batch();
        if soft {
            let mut memo = ImportMemo::new(&self.peers, id);
            for ((f, k, path_id), (label, pre)) in entries {
                self.import_route(&from, f, k, path_id, label, &pre, &mut memo, &mut changed);
            }
            self.check_limits(id);
        }
        self.reselect(changed);
        let keys: Vec<(Family, RouteKey)> = self
            .tables
            .iter()
            .flat_map(|(f, t)| t.iter().map(move |(k, _)| (f, k)))
            .collect();
        for (f, k) in keys {
            self.export_to(id, f, &k);
        }
        if let Some(p) = self.peers.get(&id) {
            p.outbox.wake();
        }
        soft
    }

    /// Routes in the Loc-RIB from a peer, per family.
    pub fn accepted(&self, id: PeerId) -> Vec<(Family, usize)> {
        self.peers
            .get(&id)
            .map(|s| s.accepted.nonzero())
            .unwrap_or_default()
    }

    /// Originate (or replace) one of our own routes.
    pub fn originate(&mut self, f: Family, n: &Nlri, attrs: PathAttrs) {
        let k = RouteKey::of(n);
        let path = Path {
            peer: LOCAL_PEER,
            path_id: 0,
            label: n.vpn.map(|v| v.label),
            attrs: self.interner.intern(attrs),
            stale: false,
        };
        let mut changed = self.batch();
        self.insert_path(f, k, path, &mut changed);
        self.reselect(changed);
    }

    /// Withdraw one of our own routes.
    pub fn withdraw_local(&mut self, f: Family, n: &Nlri) {
        let k = RouteKey::of(n);
        let mut changed = self.batch();
        if let Some(e) = self.tables.get_mut(f).and_then(|t| t.get_mut(&k)) {
            remove_where(&mut changed, f, k, e, |p| p.peer == LOCAL_PEER);
        }
        if !changed.is_empty() {
            self.reselect(changed);
        }
    }

    fn import_check(&self, from: &PeerInfo, a: &PathAttrs) -> Result<(), Rejected> {
        // RFC 4271 §9.1.2: a route whose AS_PATH contains our AS is not used (eBGP loop).
        if !from.is_ibgp() && a.as_path_contains(self.settings.local_as) {
            return Err(Rejected::AsLoop);
        }
        // RFC 4456 §8: "a router that recognizes the ORIGINATOR_ID attribute SHOULD ignore a
        // route received with its BGP Identifier as the ORIGINATOR_ID", and a route whose
        // CLUSTER_LIST holds our CLUSTER_ID.
        if a.decision.originator_id == Some(self.settings.router_id) {
            return Err(Rejected::OriginatorIsUs);
        }
        if let Some(crate::packet::attribute::AttrValue::ClusterList(c)) = a
            .get(crate::packet::attribute::attr_type::CLUSTER_LIST)
            .map(|x| &x.value)
            && c.contains(&self.settings.cluster_id)
        {
            return Err(Rejected::ClusterLoop);
        }
        if a.next_hop.is_none() {
            return Err(Rejected::NoNextHop);
        }
        Ok(())
    }

    /// Insert or replace a path (same peer and path id), recording the prefix in `changed`.
    fn insert_path(&mut self, f: Family, k: RouteKey, path: Path, changed: &mut Changed) {
        let peer = path.peer;
        let e = self.tables.or_insert(f).get_or_insert(k);
        changed.mark(f, k, e);
        let fresh = match e
            .paths_mut()
            .iter_mut()
            .find(|p| p.peer == peer && p.path_id == path.path_id)
        {
            Some(p) => {
                let was_stale = p.stale;
                *p = path;
                was_stale
            }
            None => {
                e.push(path);
                true
            }
        };
        if fresh && let Some(slot) = self.peers.get_mut(&peer) {
            slot.accepted.add(f);
        }
    }

    /// Remove a path; if it was there, record the prefix in `changed`.
    fn remove_path(
        &mut self,
        id: PeerId,
        f: Family,
        k: &RouteKey,
        path_id: u32,
        changed: &mut Changed,
    ) -> bool {
        let Some(e) = self.tables.get_mut(f).and_then(|t| t.get_mut(k)) else {
            return false;
        };
        let Some(i) = e
            .paths()
            .iter()
            .position(|p| p.peer == id && p.path_id == path_id)
        else {
            return false;
        };
        changed.mark(f, *k, e);
        let stale = e.remove(i).is_some_and(|p| p.stale);
        if !stale && let Some(slot) = self.peers.get_mut(&id) {
            slot.accepted.sub(f);
        }
        true
    }

    /// Run the decision process for every changed prefix and export what changed.
    fn reselect(&mut self, changed: Changed) {
        self.export_cache.clear();
        // The batch's peers, which of them to wake, and the (peer, family) pairs sent every
        // path (ADD-PATH: re-exported on any change): buffers kept from batch to batch (one
        // batch per UPDATE; allocating them each time showed with few prefixes per UPDATE).
        let mut s = std::mem::take(&mut self.scratch);
        s.fill(&self.peers);
        let mut list = changed.list;
        let mut rest = list.drain(..);
        loop {
            // A chunk at a time: decide, look the Adj-RIB-Out entries up (see `warm_adj_out`),
            // then export.
            s.decided.clear();
            for (f, k, prior) in rest.by_ref() {
                let Some(best) = self.decide(f, &k) else {
                    continue;
                };
                let unchanged = match &prior {
                    Prior::Best(old) => same_path(old.as_ref(), best.as_ref()),
                    Prior::Unknown => false,
                };
                s.decided.push((f, k, best, unchanged));
                if s.decided.len() == DECIDED_CHUNK {
                    break;
                }
            }
            if s.decided.is_empty() {
                break;
            }
            self.warm_adj_out(&s);
            for (f, k, best, unchanged) in &s.decided {
                let (f, best) = (*f, best.as_ref());
                if *unchanged {
                    for &(i, _) in s.add_path.iter().filter(|(_, x)| *x == f) {
                        if let Some(&id) = s.ids.get(i)
                            && self.export_best(id, f, k, best)
                        {
                            s.touched[i] = true;
                        }
                    }
                    continue;
                }
                for (i, id) in s.ids.iter().enumerate() {
                    if self.export_best(*id, f, k, best) {
                        s.touched[i] = true;
                    }
                }
            }
        }
        drop(rest);
        s.decided.clear();
        // Kept for the next batch, unless a big one (a peer down) made it large.
        if list.capacity() <= 1 << 14 {
            self.spare = list;
        }
        for (id, _) in s.ids.iter().zip(&s.touched).filter(|(_, t)| **t) {
            if let Some(p) = self.peers.get(id) {
                p.outbox.wake();
            }
        }
        self.scratch = s;
    }

    /// Before exporting a chunk of changed prefixes whose best path changed: look each up in
    /// the Adj-RIB-Out of every peer that has routes of its family, so that those independent
    /// lookups overlap their cache misses (the export then finds the lines cached). Only the
    /// changes sent to every peer: the others go to ADD-PATH peers only.
    fn warm_adj_out(&self, s: &Scratch) {
        if s.decided.len() < 2 {
            return;
        }
        for id in &s.ids {
            let Some(slot) = self.peers.get(id) else {
                continue;
            };
            for (f, k, _, unchanged) in &s.decided {
                if *unchanged || slot.advertised.get(*f) == 0 {
                    continue;
                }
                slot.adj_out.warm(&OutKey {
                    family: *f,
                    prefix: k.prefix,
                    rd: k.rd,
                    path_id: 0,
                });
            }
        }
    }

    /// Run the decision process on one prefix, store its outcome (an entry left without
    /// paths goes) and tell the watchers; the new best path, or None when the prefix is not
    /// in the table.
    fn decide(&mut self, f: Family, k: &RouteKey) -> Option<Option<Path>> {
        let table = self.tables.get_mut(f)?;
        let e = table.get_mut(k)?;
        let (local, peers, stale) = (&self.local, &self.peers, &self.stale_peers);
        self.stats.decision_runs += 1;
        let publish = |e: Option<&Entry>| {
            if self.watch.watchers() > 0 {
                let neighbor = e
                    .and_then(Entry::best_path)
                    .filter(|p| p.peer != LOCAL_PEER)
                    .map(|p| source_of(local, peers, stale, p.peer).address);
                self.watch.publish(f, k, e, neighbor);
            }
        };
        match e.paths().len() {
            0 => {
                table.remove(k);
                publish(None);
                return Some(None);
            }
            // The common case, one path, needs no decision (and no candidate list).
            1 => e.choose_only(),
            _ => {
                let sel = {
                    let cands: Vec<Candidate<'_>> = e
                        .paths()
                        .iter()
                        .map(|path| Candidate {
                            path,
                            peer: source_of(local, peers, stale, path.peer),
                            igp_cost: None,
                        })
                        .collect();
                    select(&cands, &self.settings.decision)
                };
                e.choose(sel);
            }
        }
        publish(Some(e));
        Some(e.best_path().cloned())
    }

    /// Bring one peer's Adj-RIB-Out for one prefix in line with the best path; true if
    /// something was queued.
    fn export_to(&mut self, id: PeerId, f: Family, k: &RouteKey) -> bool {
        if self.deferral.is_some() {
            return false;
        }
        let best = self.entry(f, k).and_then(|e| e.best_path()).cloned();
        self.export_best(id, f, k, best.as_ref())
    }

    /// [`Self::export_to`] with the prefix's best path already looked up (once per prefix,
    /// not once per peer).
    fn export_best(&mut self, id: PeerId, f: Family, k: &RouteKey, best: Option<&Path>) -> bool {
        if self.deferral.is_some() {
            return false;
        }
        let Some(slot) = self.peers.get(&id) else {
            return false;
        };
        if !slot.info.families.contains(f) {
            return false;
        }
        let cacheable = match slot.policy.export(!slot.info.is_ibgp()) {
            Effective::Use(p) => !p.per_prefix(),
            _ => true,
        };
        if slot.info.add_path_tx.contains(f) {
            return self.export_all_paths(id, f, k, cacheable);
        }
        // Never back to where it came from (`may_advertise`): no export to compute.
        if best.is_some_and(|p| p.peer == id) {
            return self.adj_out_put(id, f, k, 0, None);
        }
        let cache_key = best
            .filter(|_| cacheable)
            .map(|p| (Arc::as_ptr(&p.attrs) as usize, p.peer, id, f));
        let cached = cache_key.and_then(|ck| self.export_cache.get(&ck).cloned());
        let desired: OutState = match cached {
            Some(hit) => best.and_then(|p| hit.map(|a| (p.label, a))),
            None => self.export_fresh(id, f, k, best, cache_key),
        };
        self.adj_out_put(id, f, k, 0, desired)
    }

    /// RFC 7911: to a peer that receives ADD-PATH for the family, every path that passes
    /// export goes out with its own path identifier (so a reflector passes several paths on),
    /// and the identifiers that are gone are withdrawn. The identifier is stable per path:
    /// (source peer << 16) | (received path id & 0xffff).
    fn export_all_paths(&mut self, id: PeerId, f: Family, k: &RouteKey, cacheable: bool) -> bool {
        let paths: Vec<Path> = self
            .entry(f, k)
            .map(|e| e.paths().to_vec())
            .unwrap_or_default();
        let mut sent = Vec::with_capacity(paths.len());
        let mut changed = false;
        for p in &paths {
            let tx_id = ((p.peer & 0xffff) << 16) | (p.path_id & 0xffff);
            let ck = cacheable.then_some((Arc::as_ptr(&p.attrs) as usize, p.peer, id, f));
            let cached = ck.and_then(|c| self.export_cache.get(&c).cloned());
            let desired = match cached {
                Some(hit) => hit.map(|a| (p.label, a)),
                None => self.export_fresh(id, f, k, Some(p), ck),
            };
            if desired.is_some() {
                sent.push(tx_id);
            }
            changed |= self.adj_out_put(id, f, k, tx_id, desired);
        }
        let before = self
            .peers
            .get_mut(&id)
            .and_then(|s| s.addpath_ids.remove(&(f, *k)))
            .unwrap_or_default();
        for gone in before.into_iter().filter(|x| !sent.contains(x)) {
            changed |= self.adj_out_put(id, f, k, gone, None);
        }
        if !sent.is_empty()
            && let Some(slot) = self.peers.get_mut(&id)
        {
            slot.addpath_ids.insert((f, *k), sent);
        }
        changed
    }

    /// What `id` is sent for `best`, computed (and cached under `cache_key`).
    fn export_fresh(
        &mut self,
        id: PeerId,
        f: Family,
        k: &RouteKey,
        best: Option<&Path>,
        cache_key: Option<(usize, PeerId, PeerId, Family)>,
    ) -> OutState {
        let slot = self.peers.get(&id)?;
        let desired: OutState = best
            .cloned()
            .and_then(|p| {
                let from = if p.peer == LOCAL_PEER {
                    Source::Local
                } else {
                    Source::Peer(
                        self.peers
                            .get(&p.peer)
                            .map(|s| &s.info)
                            .or_else(|| self.stale_peers.get(&p.peer))?,
                    )
                };
                if !may_advertise(from, &slot.info, &p.attrs) {
                    return None;
                }
                let view = RouteView {
                    family: f,
                    prefix: k.prefix,
                    peer: &slot.info,
                    direction: Direction::Export,
                    self_next_hop: self_next_hop(&slot.info, f),
                };
                let out = match slot
                    .policy
                    .export(!slot.info.is_ibgp())
                    .apply(&view, &p.attrs)
                {
                    Verdict::Reject => return None,
                    Verdict::Accept {
                        attrs,
                        next_hop,
                        med_set,
                    } => {
                        let marks = ExportMarks {
                            keep_next_hop: next_hop.keep(),
                            keep_med: med_set,
                        };
                        let a = attrs.as_ref().unwrap_or(&p.attrs);
                        export_attrs(&self.settings, f, from, &slot.info, a, marks)?
                    }
                };
                Some((p.label, out))
            })
            .map(|(label, out)| (label, self.interner.intern(out)));
        if let Some(ck) = cache_key {
            self.export_cache
                .insert(ck, desired.as_ref().map(|(_, a)| a.clone()));
        }
        desired
    }

    /// Record what a peer is sent for a prefix; queue it if it changed.
    fn adj_out_put(
        &mut self,
        id: PeerId,
        f: Family,
        k: &RouteKey,
        path_id: u32,
        desired: OutState,
    ) -> bool {
        let Some(slot) = self.peers.get_mut(&id) else {
            return false;
        };
        // Nothing to withdraw where nothing of the family was sent (no lookup needed).
        if desired.is_none() && slot.advertised.get(f) == 0 {
            return false;
        }
        let key = OutKey {
            family: f,
            prefix: k.prefix,
            rd: k.rd,
            path_id,
        };
        // One lookup; the outbox item number kept in the entry lets the outbox replace a
        // still-queued state in place.
        match desired {
            Some((label, attrs)) => {
                let mut fresh = false;
                let e = slot.adj_out.get_or_insert_with(&key, || {
                    fresh = true;
                    Advertised {
                        label,
                        attrs: attrs.clone(),
                        queued: NOT_QUEUED,
                    }
                });
                if fresh {
                    slot.advertised.add(f);
                } else {
                    if e.label == label && Arc::ptr_eq(&e.attrs, &attrs) {
                        return false;
                    }
                    e.label = label;
                    e.attrs = attrs.clone();
                }
                e.queued = slot.outbox.put(key, Some((label, attrs)), e.queued);
            }
            None => {
                let Some(gone) = slot.adj_out.remove(&key) else {
                    return false;
                };
                slot.advertised.sub(f);
                // Its number is forgotten with the entry: a re-announcement before this
                // withdrawal is sent queues behind it (both go out, in order).
                slot.outbox.put(key, None, gone.queued);
            }
        }
        true
    }
}

/// The next hop of an UPDATE's routes: MP_REACH_NLRI's, else the NEXT_HOP attribute.
pub fn next_hop_of(u: &UpdateMessage) -> Option<NextHop> {
    if let Some(m) = u.mp_reach() {
        return m.next_hop().ok();
    }
    u.attributes.iter().find_map(|a| match a.value {
        crate::packet::attribute::AttrValue::NextHop(ip) => Some(NextHop {
            global: IpAddr::V4(ip),
            link_local: None,
        }),
        _ => None,
    })
}

/// Is a family one whose routes carry a label (VPN)?
pub fn carries_label(f: Family) -> bool {
    is_vpn(f)
}

#[cfg(test)]
mod tests;
