//! What a peer is sent for a best path: whether it may have it at all (iBGP split horizon and
//! route reflection, RFC 4271 §9.2.1 and RFC 4456 §6), and with which attributes (RFC 4271 §5,
//! RFC 4456 §8). Pure functions; policy comes on top of them.

use std::net::{IpAddr, Ipv4Addr};

use super::path::{LOCAL_PEER, PathAttrs, PeerInfo};
use crate::packet::attribute::{
    AsPath, AsSegment, AttrValue, FLAG_PARTIAL, FLAG_TRANSITIVE, NextHop, PathAttribute,
    as_path::AS_SEQUENCE, attr_type,
};
use crate::packet::{Afi, Family};

/// RIB-wide settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RibSettings {
    pub local_as: u32,
    pub router_id: Ipv4Addr,
    /// RFC 4456 §7: the cluster id (the router id unless configured).
    pub cluster_id: Ipv4Addr,
    pub decision: super::decision::DecisionOptions,
}

/// Where a path came from, for the export decision.
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    Local,
    Peer(&'a PeerInfo),
}

/// RFC 4456 §6 / RFC 4271 §9.2.1: may a path from `from` be advertised to `to` at all?
pub fn may_advertise(from: Source<'_>, to: &PeerInfo, attrs: &PathAttrs) -> bool {
    // RFC 1997: NO_ADVERTISE goes to no peer, NO_EXPORT to no external peer.
    let c = attrs.communities();
    if c.contains(&crate::packet::attribute::community::NO_ADVERTISE) {
        return false;
    }
    if !to.is_ibgp() && c.contains(&crate::packet::attribute::community::NO_EXPORT) {
        return false;
    }
    // RFC 9494 §4.6: a long-lived stale route goes only to peers that negotiated LLGR (to the
    // others it is withdrawn).
    if attrs.decision.llgr_stale && !to.llgr {
        return false;
    }
    let Source::Peer(from) = from else {
        return true;
    };
    if from.id == to.id {
        return false; // never back to where it came from
    }
    if from.is_ibgp() && to.is_ibgp() {
        // RFC 4456 §6: "A route from a Client peer: reflect to all the Non-Client peers and
        // also to the Client peers. ... A route from a Non-Client peer: reflect to all the
        // Client peers." Without clients this is plain iBGP split horizon (RFC 4271 §9.2.1).
        if !(from.rr_client || to.rr_client) {
            return false;
        }
        // RFC 4456 §8: never reflect a route back to its originator.
        if let Some(o) = attrs.decision.originator_id
            && o == to.bgp_id
        {
            return false;
        }
    }
    true
}

/// The next hop we use toward `to` when we set next-hop-self: our session address, IPv6 for
/// IPv4 NLRI only where RFC 8950 extended next hop was negotiated for the family.
pub fn self_next_hop(to: &PeerInfo, family: Family) -> Option<NextHop> {
    let local = to.local_address?;
    match (family.afi, local) {
        (Afi::Ipv4, IpAddr::V4(_)) | (Afi::Ipv6, IpAddr::V6(_)) => Some(NextHop {
            global: local,
            link_local: None,
        }),
        (Afi::Ipv4, IpAddr::V6(_)) if to.extended_nexthop.contains(family) => Some(NextHop {
            global: local,
            link_local: None,
        }),
        _ => None,
    }
}

/// What an export policy asked for beyond the attributes it returned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportMarks {
    /// Keep `attrs.next_hop` as it is (policy `next_hop = self | unchanged | ADDRESS`).
    pub keep_next_hop: bool,
    /// The policy set the MED: send it toward eBGP too.
    pub keep_med: bool,
}

/// The attributes to send to `to` for a path from `from` (None if it cannot be expressed,
/// e.g. no usable next hop).
pub fn export_attrs(
    s: &RibSettings,
    family: Family,
    from: Source<'_>,
    to: &PeerInfo,
    attrs: &PathAttrs,
    marks: ExportMarks,
) -> Option<PathAttrs> {
    // RFC 4271 §5: unrecognized optional transitive attributes are passed on with the
    // Partial bit set; unrecognized optional non-transitive ones are dropped.
    let mut list: Vec<PathAttribute> = attrs
        .attrs
        .iter()
        .filter_map(|a| match &a.value {
            AttrValue::Unknown { .. } if a.flags & FLAG_TRANSITIVE == 0 => None,
            AttrValue::Unknown { .. } if from_peer(from) => Some(PathAttribute {
                flags: a.flags | FLAG_PARTIAL,
                value: a.value.clone(),
            }),
            _ => Some(a.clone()),
        })
        .collect();
    let mut next_hop = attrs.next_hop;
    if to.is_ibgp() {
        // RFC 4271 §5.1.5: LOCAL_PREF is included in every UPDATE to an internal peer.
        if !list.iter().any(|a| a.type_code() == attr_type::LOCAL_PREF) {
            insert_ordered(&mut list, PathAttribute::new(AttrValue::LocalPref(100)));
        }
        match from {
            Source::Local => next_hop = self_next_hop(to, family),
            Source::Peer(p) if !p.is_ibgp() => {
                // eBGP-learned, sent into the AS: next hop unchanged (as FRR/BIRD default),
                // except that a link-local next hop only makes sense on its own link.
                next_hop = next_hop.map(|n| NextHop {
                    link_local: None,
                    ..n
                });
            }
            Source::Peer(p) => {
                // RFC 4456 §8: when reflecting, set ORIGINATOR_ID (if absent) to the BGP
                // Identifier of the peer the route came from, and prepend our CLUSTER_ID.
                if !list
                    .iter()
                    .any(|a| a.type_code() == attr_type::ORIGINATOR_ID)
                {
                    insert_ordered(
                        &mut list,
                        PathAttribute::new(AttrValue::OriginatorId(p.bgp_id)),
                    );
                }
                let mut cl = vec![s.cluster_id];
                if let Some(AttrValue::ClusterList(old)) = list
                    .iter()
                    .find(|a| a.type_code() == attr_type::CLUSTER_LIST)
                    .map(|a| &a.value)
                {
                    cl.extend_from_slice(old);
                }
                replace(&mut list, PathAttribute::new(AttrValue::ClusterList(cl)));
                next_hop = next_hop.map(|n| NextHop {
                    link_local: None,
                    ..n
                });
            }
        }
    } else {
        // To eBGP: RFC 4271 §5.1.2 prepend our AS; §5.1.5 no LOCAL_PREF; RFC 4456 §8 the RR
        // attributes are non-transitive; §5.1.4 a MED learned from another AS is not passed on.
        list.retain(|a| {
            !matches!(
                a.type_code(),
                attr_type::LOCAL_PREF | attr_type::ORIGINATOR_ID | attr_type::CLUSTER_LIST
            )
        });
        if from_peer(from) && !marks.keep_med {
            list.retain(|a| a.type_code() != attr_type::MULTI_EXIT_DISC);
        }
        let path = prepend(attrs.as_path(), s.local_as);
        replace(&mut list, PathAttribute::new(AttrValue::AsPath(path)));
        next_hop = self_next_hop(to, family);
    }
    if marks.keep_next_hop {
        next_hop = attrs.next_hop;
    }
    // Our own (type-code) NEXT_HOP attribute is rebuilt by the packer from `next_hop`.
    list.retain(|a| a.type_code() != attr_type::NEXT_HOP);
    let next_hop = next_hop?;
    // An IPv4 NLRI with an IPv6 next hop needs RFC 8950 on this session.
    if family.afi == Afi::Ipv4 && next_hop.global.is_ipv6() && !to.extended_nexthop.contains(family)
    {
        return None;
    }
    Some(PathAttrs::new(list, Some(next_hop)))
}

fn from_peer(s: Source<'_>) -> bool {
    matches!(s, Source::Peer(p) if p.id != LOCAL_PEER)
}

fn insert_ordered(list: &mut Vec<PathAttribute>, a: PathAttribute) {
    let code = a.type_code();
    let at = list
        .iter()
        .position(|x| x.type_code() > code)
        .unwrap_or(list.len());
    list.insert(at, a);
}

/// Replace an attribute in place (keeping its position and flags' transitivity) or insert it.
fn replace(list: &mut Vec<PathAttribute>, a: PathAttribute) {
    match list.iter_mut().find(|x| x.type_code() == a.type_code()) {
        Some(x) => x.value = a.value,
        None => insert_ordered(list, a),
    }
}

/// RFC 4271 §5.1.2: prepend `asn` to the leading AS_SEQUENCE (or add one).
pub fn prepend(path: Option<&AsPath>, asn: u32) -> AsPath {
    let mut p = path.cloned().unwrap_or_default();
    match p.segments.first_mut() {
        Some(seg) if seg.kind == AS_SEQUENCE && seg.asns.len() < 255 => seg.asns.insert(0, asn),
        _ => p.segments.insert(
            0,
            AsSegment {
                kind: AS_SEQUENCE,
                asns: vec![asn],
            },
        ),
    }
    p
}

#[cfg(test)]
mod tests;
