//! One statement of a policy: its conditions ([`Match`]), its changes ([`Set`]) and what it
//! decides ([`StatementAction`]).

use std::net::IpAddr;
use std::sync::Arc;

use super::community::{ext_community_matches, is_private_as};
use super::prefix_list::PrefixList;
use super::{NextHopMark, RouteView};
use crate::packet::attribute::as_path::{AS_SEQUENCE, AS_SET};
use crate::packet::attribute::{
    AttrValue, ExtendedCommunity, LargeCommunity, NextHop, PathAttribute, attr_type,
};
use crate::packet::{Afi, Family};
use crate::rib::PathAttrs;

/// What a statement whose conditions hold does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum StatementAction {
    /// Apply the changes and accept the route: the policy ends.
    #[default]
    Accept,
    /// Reject the route: the policy ends.
    Reject,
    /// Apply the changes and go on with the next statement.
    Next,
}

/// A statement: when all of `matches` hold, `set` is applied and `action` taken.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Statement {
    pub matches: Match,
    pub set: Set,
    pub action: StatementAction,
}

/// The conditions of a statement; all must hold. An empty one matches every route.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Match {
    /// The route's prefix is permitted by the list (for VPN routes: the prefix without RD).
    pub prefix_list: Option<Arc<PrefixList>>,
    /// The route's family is one of these (empty: any).
    pub families: Vec<Family>,
    /// One of these communities is on the route (empty: no condition).
    pub community: Vec<u32>,
    /// One of these extended communities is on the route (see
    /// [`super::community::ext_community_matches`]).
    pub ext_community: Vec<ExtendedCommunity>,
    pub large_community: Vec<LargeCommunity>,
    /// The AS_PATH length as the decision process counts it (an AS_SET counts 1,
    /// confederation segments 0) is in this range.
    pub as_path_length: Option<AsPathLength>,
}

/// An inclusive range of AS_PATH lengths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AsPathLength {
    pub min: u32,
    pub max: u32,
}

/// The next hop a statement sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NextHopSet {
    /// Our address on the session ([`RouteView::self_next_hop`]).
    SelfAddr,
    /// Keep the route's next hop, even toward an eBGP peer.
    Unchanged,
    Address(IpAddr),
}

/// The changes of a statement.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Set {
    pub local_pref: Option<u32>,
    pub med: Option<u32>,
    /// Removed first, then the added ones that are not there yet are appended: the others
    /// keep their order. An attribute left empty is removed.
    pub community_add: Vec<u32>,
    pub community_remove: Vec<u32>,
    pub ext_community_add: Vec<ExtendedCommunity>,
    /// Removes every extended community that matches one of these, as in [`Match`].
    pub ext_community_remove: Vec<ExtendedCommunity>,
    pub large_community_add: Vec<LargeCommunity>,
    pub large_community_remove: Vec<LargeCommunity>,
    pub next_hop: Option<NextHopSet>,
    /// Remove the RFC 6996 private AS numbers from the AS_SEQUENCE and AS_SET segments of
    /// AS_PATH and AS4_PATH (confederation segments are left alone); empty segments go.
    pub strip_private_as: bool,
}

impl Match {
    pub fn is_empty(&self) -> bool {
        *self == Match::default()
    }

    /// Do all the conditions hold for this route?
    pub fn matches(&self, route: &RouteView<'_>, attrs: &PathAttrs) -> bool {
        if !self.families.is_empty() && !self.families.contains(&route.family) {
            return false;
        }
        if let Some(r) = self.as_path_length
            && !(r.min..=r.max).contains(&attrs.decision.as_path_len)
        {
            return false;
        }
        if let Some(list) = &self.prefix_list
            && !list.permits(&route.prefix)
        {
            return false;
        }
        if !self.community.is_empty() {
            let on = attrs.communities();
            if !self.community.iter().any(|c| on.contains(c)) {
                return false;
            }
        }
        if !self.ext_community.is_empty() {
            let on = ext_communities(attrs);
            let hit = |p: &ExtendedCommunity| on.iter().any(|c| ext_community_matches(p, c));
            if !self.ext_community.iter().any(hit) {
                return false;
            }
        }
        if !self.large_community.is_empty() {
            let on = large_communities(attrs);
            if !self.large_community.iter().any(|c| on.contains(c)) {
                return false;
            }
        }
        true
    }
}

/// Why a statement's changes cannot be made: the route is rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Unusable;

/// What the changes said beyond the attributes, for the caller's export rules.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Marks {
    pub next_hop: NextHopMark,
    pub med_set: bool,
}

impl Set {
    pub fn is_empty(&self) -> bool {
        *self == Set::default()
    }

    /// Does it change anything but the next hop?
    fn edits_attributes(&self) -> bool {
        self.local_pref.is_some()
            || self.med.is_some()
            || !self.community_add.is_empty()
            || !self.community_remove.is_empty()
            || !self.ext_community_add.is_empty()
            || !self.ext_community_remove.is_empty()
            || !self.large_community_add.is_empty()
            || !self.large_community_remove.is_empty()
            || self.strip_private_as
    }

    /// Make the changes to `attrs`: `Ok(None)` if nothing changed. `Err` when the next hop
    /// cannot be set (`self` without [`RouteView::self_next_hop`], or an IPv4 address for an
    /// IPv6 route).
    pub(super) fn apply(
        &self,
        route: &RouteView<'_>,
        attrs: &PathAttrs,
        marks: &mut Marks,
    ) -> Result<Option<PathAttrs>, Unusable> {
        let mut next_hop = attrs.next_hop;
        match self.next_hop {
            None => {}
            Some(NextHopSet::Unchanged) => marks.next_hop = NextHopMark::Unchanged,
            Some(NextHopSet::SelfAddr) => {
                next_hop = Some(route.self_next_hop.ok_or(Unusable)?);
                marks.next_hop = NextHopMark::Set;
            }
            Some(NextHopSet::Address(ip)) => {
                if route.family.afi == Afi::Ipv6 && ip.is_ipv4() {
                    return Err(Unusable);
                }
                next_hop = Some(NextHop {
                    global: ip,
                    link_local: None,
                });
                marks.next_hop = NextHopMark::Set;
            }
        }
        let mut changed = next_hop != attrs.next_hop;
        if !self.edits_attributes() {
            return Ok(changed.then(|| attrs.with_next_hop(next_hop)));
        }
        let mut list = attrs.attrs.clone();
        if let Some(v) = self.local_pref {
            changed |= put(&mut list, AttrValue::LocalPref(v));
        }
        if let Some(v) = self.med {
            changed |= put(&mut list, AttrValue::Med(v));
            marks.med_set = true;
        }
        if !self.community_add.is_empty() || !self.community_remove.is_empty() {
            changed |= edit_values(
                &mut list,
                attr_type::COMMUNITIES,
                |v| match v {
                    AttrValue::Communities(c) => Some(c),
                    _ => None,
                },
                AttrValue::Communities,
                |c| self.community_remove.contains(c),
                &self.community_add,
            );
        }
        if !self.ext_community_add.is_empty() || !self.ext_community_remove.is_empty() {
            let remove = &self.ext_community_remove;
            changed |= edit_values(
                &mut list,
                attr_type::EXTENDED_COMMUNITIES,
                |v| match v {
                    AttrValue::ExtendedCommunities(c) => Some(c),
                    _ => None,
                },
                AttrValue::ExtendedCommunities,
                |c| remove.iter().any(|p| ext_community_matches(p, c)),
                &self.ext_community_add,
            );
        }
        if !self.large_community_add.is_empty() || !self.large_community_remove.is_empty() {
            changed |= edit_values(
                &mut list,
                attr_type::LARGE_COMMUNITY,
                |v| match v {
                    AttrValue::LargeCommunities(c) => Some(c),
                    _ => None,
                },
                AttrValue::LargeCommunities,
                |c| self.large_community_remove.contains(c),
                &self.large_community_add,
            );
        }
        if self.strip_private_as {
            changed |= strip_private_as(&mut list);
        }
        Ok(changed.then(|| PathAttrs::new(list, next_hop)))
    }
}

fn ext_communities(attrs: &PathAttrs) -> &[ExtendedCommunity] {
    attrs
        .attrs
        .iter()
        .find_map(|a| match &a.value {
            AttrValue::ExtendedCommunities(c) => Some(c.as_slice()),
            _ => None,
        })
        .unwrap_or(&[])
}

fn large_communities(attrs: &PathAttrs) -> &[LargeCommunity] {
    attrs
        .attrs
        .iter()
        .find_map(|a| match &a.value {
            AttrValue::LargeCommunities(c) => Some(c.as_slice()),
            _ => None,
        })
        .unwrap_or(&[])
}

/// Replace the attribute of `value`'s type in place, or insert it in type-code order; true if
/// that changed something.
fn put(list: &mut Vec<PathAttribute>, value: AttrValue) -> bool {
    let code = value.type_code();
    match list.iter_mut().find(|a| a.type_code() == code) {
        Some(a) if a.value == value => false,
        Some(a) => {
            a.value = value;
            true
        }
        None => {
            insert_ordered(list, PathAttribute::new(value));
            true
        }
    }
}

fn insert_ordered(list: &mut Vec<PathAttribute>, a: PathAttribute) {
    let code = a.type_code();
    let at = list
        .iter()
        .position(|x| x.type_code() > code)
        .unwrap_or(list.len());
    list.insert(at, a);
}

/// Edit a list-valued attribute: drop the values `remove` selects, append those of `add` not
/// present; an empty result removes the attribute (RFC 7606 makes an empty one malformed).
/// True if that changed something.
fn edit_values<T: Clone + PartialEq>(
    list: &mut Vec<PathAttribute>,
    code: u8,
    get: impl Fn(&AttrValue) -> Option<&Vec<T>>,
    make: impl Fn(Vec<T>) -> AttrValue,
    remove: impl Fn(&T) -> bool,
    add: &[T],
) -> bool {
    let pos = list.iter().position(|a| a.type_code() == code);
    let old: &[T] = pos
        .and_then(|i| list.get(i))
        .and_then(|a| get(&a.value))
        .map_or(&[], Vec::as_slice);
    let mut new: Vec<T> = old.iter().filter(|c| !remove(c)).cloned().collect();
    for a in add {
        if !new.contains(a) {
            new.push(a.clone());
        }
    }
    if new.as_slice() == old {
        return false;
    }
    match (pos, new.is_empty()) {
        (Some(i), true) => {
            list.remove(i);
        }
        (Some(i), false) => {
            if let Some(a) = list.get_mut(i) {
                a.value = make(new);
            }
        }
        (None, false) => insert_ordered(list, PathAttribute::new(make(new))),
        (None, true) => {}
    }
    true
}

/// Remove private AS numbers from AS_PATH and AS4_PATH; true if any was there.
fn strip_private_as(list: &mut [PathAttribute]) -> bool {
    let mut changed = false;
    for a in list {
        if let AttrValue::AsPath(p) | AttrValue::As4Path(p) = &mut a.value {
            for s in &mut p.segments {
                if s.kind == AS_SEQUENCE || s.kind == AS_SET {
                    let before = s.asns.len();
                    s.asns.retain(|asn| !is_private_as(*asn));
                    changed |= s.asns.len() != before;
                }
            }
            p.segments.retain(|s| !s.asns.is_empty());
        }
    }
    changed
}
