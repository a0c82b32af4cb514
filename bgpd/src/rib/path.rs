//! Paths and the attribute sets they share.
//!
//! Every UPDATE's attributes (all but MP_REACH_NLRI / MP_UNREACH_NLRI) plus its next hop form
//! one [`PathAttrs`]; identical sets are interned so that a million routes from one peer that
//! share a few thousand attribute sets hold a few thousand copies, not a million.

use std::hash::{BuildHasher, Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use crate::packet::attribute::community::LLGR_STALE;
use crate::packet::attribute::{AsPath, AttrValue, NextHop, PathAttribute, attr_type};
use crate::packet::prefix_sid::PrefixSid;
use crate::packet::{Family, FamilySet};

/// Index of a peer in the RIB; [`LOCAL_PEER`] is sidra itself (originated routes).
pub type PeerId = u32;
pub const LOCAL_PEER: PeerId = 0;

/// What the decision process and the export rules need to know about a peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerInfo {
    pub id: PeerId,
    pub address: IpAddr,
    pub local_as: u32,
    pub remote_as: u32,
    /// The peer's BGP Identifier (from its OPEN).
    pub bgp_id: Ipv4Addr,
    /// RFC 4456: this peer is our route-reflector client.
    pub rr_client: bool,
    /// Families negotiated with the peer.
    pub families: FamilySet,
    /// Families for which we send ADD-PATH path identifiers.
    pub add_path_tx: FamilySet,
    /// Families for which RFC 8950 lets us send an IPv6 next hop for IPv4 NLRI.
    pub extended_nexthop: FamilySet,
    /// Our address on the session (next hop when we set next-hop-self).
    pub local_address: Option<IpAddr>,
    /// RFC 9494: Long-Lived Graceful Restart was negotiated (it may be sent LLGR_STALE routes).
    pub llgr: bool,
}

impl PeerInfo {
    pub fn is_ibgp(&self) -> bool {
        self.local_as == self.remote_as
    }
}

/// Decision-process values read once from the attributes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecisionValues {
    pub origin: u8,
    pub local_pref: Option<u32>,
    pub med: Option<u32>,
    pub as_path_len: u32,
    /// The neighbouring AS (first AS of the AS_PATH), for MED comparison.
    pub neighbor_as: Option<u32>,
    pub originator_id: Option<Ipv4Addr>,
    pub cluster_list_len: u32,
    /// RFC 9494 §4.1: LLGR_STALE routes are the least preferred.
    pub llgr_stale: bool,
}

/// An attribute set: the attributes of one UPDATE except the MP attributes, with its next hop.
///
/// Built only through [`PathAttrs::new`] (and the `with*` copies), which hash the content once:
/// interning looks the set up, and the interner's table rehashes every set it holds as it
/// grows; with a set per UPDATE (a quarter of a million in the harness's `v4-uniq-1m`), hashing
/// the nested attribute values each time was the largest cost.
#[derive(Clone, Debug)]
pub struct PathAttrs {
    /// In the order received (or, for our own routes, by type code).
    pub attrs: Vec<PathAttribute>,
    pub next_hop: Option<NextHop>,
    pub decision: DecisionValues,
    /// The hash of `next_hop` and `attrs` (a per-process random seed: see `content_hash`).
    hash: u64,
}

/// The hash of an attribute set's content, seeded once per process so that a peer cannot
/// choose attribute sets that collide in everyone's interner.
fn content_hash(next_hop: &Option<NextHop>, attrs: &[PathAttribute]) -> u64 {
    static SEED: std::sync::OnceLock<foldhash::fast::RandomState> = std::sync::OnceLock::new();
    SEED.get_or_init(foldhash::fast::RandomState::default)
        .hash_one((next_hop, attrs))
}

impl PartialEq for PathAttrs {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.next_hop == other.next_hop && self.attrs == other.attrs
    }
}
impl Eq for PathAttrs {}
impl Hash for PathAttrs {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl PathAttrs {
    /// Build from attributes (MP attributes are dropped) and a next hop.
    pub fn new(attrs: Vec<PathAttribute>, next_hop: Option<NextHop>) -> Self {
        let attrs: Vec<PathAttribute> = attrs
            .into_iter()
            .filter(|a| !matches!(a.value, AttrValue::MpReach(_) | AttrValue::MpUnreach(_)))
            .collect();
        let mut d = DecisionValues::default();
        for a in &attrs {
            match &a.value {
                AttrValue::Origin(o) => d.origin = *o,
                AttrValue::LocalPref(l) => d.local_pref = Some(*l),
                AttrValue::Med(m) => d.med = Some(*m),
                AttrValue::AsPath(p) => {
                    d.as_path_len = u32::try_from(p.path_len()).unwrap_or(u32::MAX);
                    d.neighbor_as = p.first_as();
                }
                AttrValue::OriginatorId(o) => d.originator_id = Some(*o),
                AttrValue::ClusterList(c) => {
                    d.cluster_list_len = u32::try_from(c.len()).unwrap_or(u32::MAX)
                }
                AttrValue::Communities(c) => d.llgr_stale |= c.contains(&LLGR_STALE),
                _ => {}
            }
        }
        PathAttrs {
            hash: content_hash(&next_hop, &attrs),
            attrs,
            next_hop,
            decision: d,
        }
    }

    pub fn get(&self, code: u8) -> Option<&PathAttribute> {
        self.attrs.iter().find(|a| a.type_code() == code)
    }

    pub fn as_path(&self) -> Option<&AsPath> {
        self.attrs.iter().find_map(|a| match &a.value {
            AttrValue::AsPath(p) => Some(p),
            _ => None,
        })
    }

    pub fn prefix_sid(&self) -> Option<&PrefixSid> {
        self.attrs.iter().find_map(|a| match &a.value {
            AttrValue::PrefixSid(p) => Some(p),
            _ => None,
        })
    }

    pub fn communities(&self) -> &[u32] {
        self.attrs
            .iter()
            .find_map(|a| match &a.value {
                AttrValue::Communities(c) => Some(c.as_slice()),
                _ => None,
            })
            .unwrap_or(&[])
    }

    /// Does the AS_PATH contain `asn` (RFC 4271 §9.1.2 loop detection)?
    pub fn as_path_contains(&self, asn: u32) -> bool {
        self.as_path()
            .is_some_and(|p| p.segments.iter().any(|s| s.asns.contains(&asn)))
    }

    /// A copy with attribute `code` replaced (or added, keeping type-code order) or removed.
    pub fn with(&self, code: u8, value: Option<PathAttribute>) -> PathAttrs {
        let mut attrs: Vec<PathAttribute> = self
            .attrs
            .iter()
            .filter(|a| a.type_code() != code)
            .cloned()
            .collect();
        if let Some(v) = value {
            let at = attrs
                .iter()
                .position(|a| a.type_code() > code)
                .unwrap_or(attrs.len());
            attrs.insert(at, v);
        }
        PathAttrs::new(attrs, self.next_hop)
    }

    pub fn with_next_hop(&self, nh: Option<NextHop>) -> PathAttrs {
        PathAttrs {
            hash: content_hash(&nh, &self.attrs),
            next_hop: nh,
            ..self.clone()
        }
    }

    pub fn has(&self, code: u8) -> bool {
        self.get(code).is_some()
    }
}

/// One path to a prefix, from one peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    pub peer: PeerId,
    /// RFC 7911 path identifier as received (0 without ADD-PATH).
    pub path_id: u32,
    /// The VPN label field as received (24 bits), for VPN families.
    pub label: Option<u32>,
    pub attrs: Arc<PathAttrs>,
    /// RFC 4724: kept from a restarting peer until it re-announces or the timer ends.
    pub stale: bool,
}

/// The attribute sets in use, one copy each.
#[derive(Default)]
pub struct AttrInterner {
    set: super::FastSet<Arc<PathAttrs>>,
}

impl AttrInterner {
    pub fn intern(&mut self, mut a: PathAttrs) -> Arc<PathAttrs> {
        if let Some(x) = self.set.get(&a) {
            return x.clone();
        }
        // Kept for as long as a path uses it: no spare capacity (an exported set, built by
        // pushing onto the received list, had room for 8 attributes where it holds 6).
        a.attrs.shrink_to_fit();
        let arc = Arc::new(a);
        self.set.insert(arc.clone());
        arc
    }

    /// Drop the sets no path uses any more.
    pub fn collect(&mut self) {
        self.set.retain(|a| Arc::strong_count(a) > 1);
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

/// Does this family carry a label and RD?
pub fn is_vpn(f: Family) -> bool {
    f.safi == crate::packet::Safi::MplsVpn
}

/// The attribute type codes that never leave the AS (RFC 4271 §5.1.5, RFC 4456 §8).
pub fn is_ibgp_only(code: u8) -> bool {
    matches!(
        code,
        attr_type::LOCAL_PREF | attr_type::ORIGINATOR_ID | attr_type::CLUSTER_LIST
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(capacity: usize, local_pref: u32) -> Vec<PathAttribute> {
        let mut v = Vec::with_capacity(capacity);
        v.push(PathAttribute::new(AttrValue::Origin(0)));
        v.push(PathAttribute::new(AttrValue::LocalPref(local_pref)));
        v
    }

    /// A stored set keeps no spare capacity; an equal set built with room to spare finds it.
    #[test]
    fn interned_sets_are_shared_and_tight() {
        let mut i = AttrInterner::default();
        let a = i.intern(PathAttrs::new(list(16, 100), None));
        assert_eq!(a.attrs.len(), 2);
        assert_eq!(a.attrs.capacity(), 2);
        let b = i.intern(PathAttrs::new(list(8, 100), None));
        assert!(Arc::ptr_eq(&a, &b));
        let c = i.intern(PathAttrs::new(list(8, 200), None));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(i.len(), 2);
    }
}
