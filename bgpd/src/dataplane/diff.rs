//! The difference between two [`DataplaneState`]s as an ordered list of changes.
//!
//! Order (issue: "local SIDs and policies before steering; steering removed before its
//! policy"), which every backend relies on:
//!
//! 1. the encapsulation source (VPP: before any policy);
//! 2. tables (VPP: a DT4/DT6 pointing at a missing table crashes it on the next dump);
//! 3. local SIDs, replaced ones removed first;
//! 4. underlay routes (the remote locators must be reachable before traffic is steered);
//! 5. new and modified policies;
//! 6. new and changed steering entries;
//! 7. steering entries that are gone;
//! 8. policies that are gone (no entry steers into them any more);
//! 9. local SIDs and underlay routes that are gone.
//!
//! Tables are never removed: a VPP table may hold routes of others, and an empty table costs
//! nothing.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;

use super::state::{DataplaneState, LocalSid, Policy, Steering, UnderlayRoute};

/// One operation on a data plane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    SetEncapSource(Ipv6Addr),
    /// Create a lookup table (`true`: IPv6).
    AddTable(u32, bool),
    AddLocalSid(LocalSid),
    DelLocalSid(LocalSid),
    AddUnderlay(UnderlayRoute),
    DelUnderlay(UnderlayRoute),
    AddPolicy(Policy),
    /// Same binding SID, other segment lists.
    ModPolicy {
        old: Policy,
        new: Policy,
    },
    DelPolicy(Policy),
    /// Add or replace (`old`) a steering entry; `policy` is the policy it steers into, for
    /// backends without policy objects (the kernel writes its segments into the route).
    SetSteering {
        steering: Steering,
        policy: Policy,
        old: Option<Steering>,
    },
    DelSteering(Steering),
}

impl Change {
    /// A short name of the operation, for logs and the `kind` label of the metrics.
    pub const fn kind(&self) -> &'static str {
        match self {
            Change::SetEncapSource(_) => "encap_source",
            Change::AddTable(..) => "table_add",
            Change::AddLocalSid(_) => "local_sid_add",
            Change::DelLocalSid(_) => "local_sid_del",
            Change::AddUnderlay(_) => "underlay_add",
            Change::DelUnderlay(_) => "underlay_del",
            Change::AddPolicy(_) => "policy_add",
            Change::ModPolicy { .. } => "policy_mod",
            Change::DelPolicy(_) => "policy_del",
            Change::SetSteering { .. } => "steering_set",
            Change::DelSteering(_) => "steering_del",
        }
    }

    /// Whether this change removes something (held back while the first sync after a restart
    /// waits for the routes to come back).
    pub const fn removes(&self) -> bool {
        matches!(
            self,
            Change::DelLocalSid(_)
                | Change::DelUnderlay(_)
                | Change::DelPolicy(_)
                | Change::DelSteering(_)
        )
    }

    /// Record the effect of this change, once applied, in `state`.
    pub fn apply_to(&self, state: &mut DataplaneState) {
        match self {
            Change::SetEncapSource(a) => state.encap_source = Some(*a),
            Change::AddTable(t, v6) => {
                state.tables.insert((*t, *v6));
            }
            Change::AddLocalSid(s) => state.add_local_sid(*s),
            Change::DelLocalSid(s) => {
                state.local_sids.remove(&s.sid);
            }
            Change::AddUnderlay(r) => state.add_underlay(*r),
            Change::DelUnderlay(r) => {
                state.underlay.remove(&r.prefix);
            }
            Change::AddPolicy(p) | Change::ModPolicy { new: p, .. } => state.add_policy(p.clone()),
            Change::DelPolicy(p) => {
                state.policies.remove(&p.bsid);
            }
            Change::SetSteering { steering, .. } => state.add_steering(*steering),
            Change::DelSteering(s) => {
                state.steering.remove(&s.key());
            }
        }
    }
}

/// How to diff.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiffOptions {
    /// Leave out every removal (the first sync after a restart, before the routes are back).
    pub keep_extra: bool,
    /// The backend writes a policy's segments into each steering entry (the kernel): a
    /// modified policy replaces every entry steered into it.
    pub inline_policies: bool,
}

/// The changes that turn `have` into `want`, in dependency order.
pub fn diff(have: &DataplaneState, want: &DataplaneState, opts: DiffOptions) -> Vec<Change> {
    let mut out = Vec::new();
    if let Some(src) = want.encap_source
        && have.encap_source != Some(src)
    {
        out.push(Change::SetEncapSource(src));
    }
    for (t, v6) in want.tables.difference(&have.tables) {
        out.push(Change::AddTable(*t, *v6));
    }
    for (sid, s) in &want.local_sids {
        match have.local_sids.get(sid) {
            Some(h) if h == s => {}
            Some(h) => {
                out.push(Change::DelLocalSid(*h));
                out.push(Change::AddLocalSid(*s));
            }
            None => out.push(Change::AddLocalSid(*s)),
        }
    }
    for (p, r) in &want.underlay {
        if have.underlay.get(p) != Some(r) {
            out.push(Change::AddUnderlay(*r));
        }
    }
    let mut modified = BTreeMap::new();
    for (bsid, p) in &want.policies {
        match have.policies.get(bsid) {
            Some(h) if h == p => {}
            Some(h) => {
                modified.insert(*bsid, ());
                out.push(Change::ModPolicy {
                    old: h.clone(),
                    new: p.clone(),
                });
            }
            None => out.push(Change::AddPolicy(p.clone())),
        }
    }
    for (k, s) in &want.steering {
        let old = have.steering.get(k).copied();
        let changed = old != Some(*s);
        let policy_changed = opts.inline_policies && modified.contains_key(&s.bsid);
        if !(changed || policy_changed) {
            continue;
        }
        // A steering entry into a policy we do not have is a bug of the caller; skip it
        // rather than program a route to nowhere.
        let Some(policy) = want.policies.get(&s.bsid) else {
            continue;
        };
        out.push(Change::SetSteering {
            steering: *s,
            policy: policy.clone(),
            old,
        });
    }
    if opts.keep_extra {
        return out;
    }
    for (k, s) in &have.steering {
        if !want.steering.contains_key(k) {
            out.push(Change::DelSteering(*s));
        }
    }
    for (bsid, p) in &have.policies {
        if !want.policies.contains_key(bsid) {
            out.push(Change::DelPolicy(p.clone()));
        }
    }
    for (sid, s) in &have.local_sids {
        if !want.local_sids.contains_key(sid) {
            out.push(Change::DelLocalSid(*s));
        }
    }
    for (p, r) in &have.underlay {
        if !want.underlay.contains_key(p) {
            out.push(Change::DelUnderlay(*r));
        }
    }
    out
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
