//! Routing policy: per-neighbor import and export filters (pure: no I/O).
//!
//! A [`Policy`] is an ordered list of [`Statement`]s. The first statement whose conditions
//! ([`Match`]) all hold applies its changes ([`Set`]) and then accepts the route, rejects it, or
//! (`next`) goes on with the following statements, which see the changed attributes. A route
//! that reaches the end of the policy without a decision is rejected. [`Policies`] holds every
//! named policy and prefix list of the configuration, compiled; `config::Config::policies`
//! holds it in an `Arc`, and each `config::NeighborConfig` holds its resolved
//! `import_policy` / `export_policy` (`Option<Arc<Policy>>`, `None` when not configured).
//! Two built-ins always exist: [`ACCEPT_ALL`] and [`REJECT_ALL`].
//!
//! # Calling it from the RIB
//!
//! 1. Pick the policy with [`effective`], which applies RFC 8212 ("an eBGP speaker without a
//!    policy accepts and sends nothing", switched by `global.ebgp_requires_policy`):
//!    ```text
//!    effective(n.import_policy.as_ref(), !peer.is_ibgp(), global.ebgp_requires_policy)
//!        -> AcceptAll | RejectAll | Use(&Arc<Policy>)
//!    ```
//!    `AcceptAll` and `RejectAll` need no evaluation (the built-ins and policies equivalent
//!    to them compile to these), so the common cases cost one match. Compute it once per peer
//!    and direction when the peer comes up or the configuration changes.
//! 2. For `Use(p)`, call [`Policy::apply`] with a [`RouteView`] and the route's attributes.
//!    It allocates nothing unless a statement changes the attributes, and then one copy.
//!    * **Import**: after the RIB's own import checks (AS loop, ORIGINATOR_ID, CLUSTER_LIST)
//!      and before interning. `Reject` is handled like a looped route: the peer's previous
//!      path to the prefix goes. The verdict depends on the prefix only through prefix lists;
//!      when [`Policy::per_prefix`] is false one evaluation per UPDATE and family serves every
//!      prefix of it.
//!    * **Export**: on the Loc-RIB best path's attributes, *before* `rib::export::export_attrs`
//!      (so the policy sees the route as selected, and `strip_private_as` never strips the AS
//!      we prepend), then `export_attrs` on the result, honouring the marks of
//!      [`Verdict::Accept`]: with [`NextHopMark::keep`] keep `attrs.next_hop` instead of the
//!      eBGP next-hop-self rewrite, and with `med_set` keep the MED toward eBGP (RFC 4271
//!      §5.1.4 drops only a MED *learned* from another AS). LOCAL_PREF set on export to an
//!      eBGP peer is dropped by `export_attrs`, as it must be.
//! 3. [`RouteView::self_next_hop`] is the address `next_hop = "self"` sets (for export:
//!    `rib::export::self_next_hop(peer, family)`; for import: our address on that session).
//!    A statement that sets `self` without one, or an IPv4 next hop on an IPv6 route, rejects
//!    the route rather than send it with a next hop the operator did not ask for.
//!
//! `max_prefixes` and `soft_reconfiguration_inbound` are neighbor settings the RIB and the
//! session enforce; this module only defines the filters.

pub mod community;
pub mod prefix_list;
mod statement;

use std::collections::BTreeMap;
use std::sync::Arc;

use ipnet::IpNet;

pub use prefix_list::{EntryError, ListAction, PrefixList, PrefixListEntry};
pub use statement::{AsPathLength, Match, NextHopSet, Set, Statement, StatementAction};

use crate::packet::Family;
use crate::packet::attribute::NextHop;
use crate::rib::{PathAttrs, PeerInfo};
use statement::{Marks, Unusable};

/// The built-in policy that accepts every route unchanged.
pub const ACCEPT_ALL: &str = "accept-all";
/// The built-in policy that rejects every route.
pub const REJECT_ALL: &str = "reject-all";

/// Which way a route is going through the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Received from `peer`, on its way into the Loc-RIB.
    Import,
    /// Selected in the Loc-RIB, on its way to `peer`.
    Export,
}

/// The route a policy looks at, besides its attributes.
#[derive(Clone, Copy, Debug)]
pub struct RouteView<'a> {
    pub family: Family,
    /// The prefix (for VPN families, without the route distinguisher).
    pub prefix: IpNet,
    /// The neighbor the policy belongs to: where the route comes from on import, where it
    /// goes on export.
    pub peer: &'a PeerInfo,
    pub direction: Direction,
    /// The next hop `next_hop = "self"` sets; `None` if there is none usable.
    pub self_next_hop: Option<NextHop>,
}

/// What a policy said about the next hop, beyond `attrs.next_hop`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum NextHopMark {
    /// Nothing: the usual export rules choose the next hop.
    #[default]
    Default,
    /// `self` or an address: `attrs.next_hop` holds it; keep it, toward eBGP too.
    Set,
    /// `unchanged`: keep the route's next hop, toward eBGP too.
    Unchanged,
}

impl NextHopMark {
    /// Must the export rules keep `attrs.next_hop` as it is?
    pub fn keep(self) -> bool {
        self != NextHopMark::Default
    }
}

/// The outcome of a policy for one route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accept {
        /// `Some`: the changed attributes; `None`: the input attributes, unchanged.
        attrs: Option<PathAttrs>,
        next_hop: NextHopMark,
        /// A statement set the MED: send it toward eBGP too.
        med_set: bool,
    },
    Reject,
}

impl Verdict {
    /// Accepted unchanged.
    pub const ACCEPT: Verdict = Verdict::Accept {
        attrs: None,
        next_hop: NextHopMark::Default,
        med_set: false,
    };

    pub fn is_accept(&self) -> bool {
        matches!(self, Verdict::Accept { .. })
    }
}

/// A named, compiled policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    name: String,
    statements: Vec<Statement>,
    /// `Some(true)`: accepts everything unchanged; `Some(false)`: rejects everything.
    trivial: Option<bool>,
    per_prefix: bool,
}

impl Policy {
    pub fn new(name: impl Into<String>, statements: Vec<Statement>) -> Self {
        let per_prefix = statements.iter().any(|s| s.matches.prefix_list.is_some());
        let trivial = trivial(&statements);
        Policy {
            name: name.into(),
            statements,
            trivial,
            per_prefix,
        }
    }

    /// The built-in [`ACCEPT_ALL`].
    pub fn accept_all() -> Self {
        Policy::new(ACCEPT_ALL, vec![Statement::default()])
    }

    /// The built-in [`REJECT_ALL`].
    pub fn reject_all() -> Self {
        Policy::new(REJECT_ALL, Vec::new())
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// Does it accept every route unchanged?
    pub fn is_accept_all(&self) -> bool {
        self.trivial == Some(true)
    }

    /// Does it reject every route?
    pub fn is_reject_all(&self) -> bool {
        self.trivial == Some(false)
    }

    /// Can two prefixes of one family with the same attributes get different verdicts?
    pub fn per_prefix(&self) -> bool {
        self.per_prefix
    }

    /// Run the policy on one route.
    pub fn apply(&self, route: &RouteView<'_>, attrs: &PathAttrs) -> Verdict {
        match self.trivial {
            Some(true) => return Verdict::ACCEPT,
            Some(false) => return Verdict::Reject,
            None => {}
        }
        let mut work: Option<PathAttrs> = None;
        let mut marks = Marks::default();
        for st in &self.statements {
            let cur = work.as_ref().unwrap_or(attrs);
            if !st.matches.matches(route, cur) {
                continue;
            }
            if st.action == StatementAction::Reject {
                return Verdict::Reject;
            }
            match st.set.apply(route, cur, &mut marks) {
                Ok(Some(changed)) => work = Some(changed),
                Ok(None) => {}
                Err(Unusable) => return Verdict::Reject,
            }
            if st.action == StatementAction::Accept {
                return Verdict::Accept {
                    attrs: work,
                    next_hop: marks.next_hop,
                    med_set: marks.med_set,
                };
            }
        }
        Verdict::Reject
    }
}

/// Whether the statements decide every route the same way without changing it.
fn trivial(statements: &[Statement]) -> Option<bool> {
    for s in statements {
        if !s.matches.is_empty() || !s.set.is_empty() {
            return None;
        }
        match s.action {
            StatementAction::Accept => return Some(true),
            StatementAction::Reject => return Some(false),
            StatementAction::Next => {}
        }
    }
    Some(false)
}

/// The policy to use for a neighbor in one direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effective<'a> {
    AcceptAll,
    RejectAll,
    Use(&'a Arc<Policy>),
}

impl Effective<'_> {
    pub fn apply(self, route: &RouteView<'_>, attrs: &PathAttrs) -> Verdict {
        match self {
            Effective::AcceptAll => Verdict::ACCEPT,
            Effective::RejectAll => Verdict::Reject,
            Effective::Use(p) => p.apply(route, attrs),
        }
    }
}

/// RFC 8212 §2: "the default behavior ... MUST be that ... Routes are neither imported nor
/// exported" for an eBGP session without a configured policy, unless `ebgp_requires_policy` is
/// switched off. iBGP sessions without a policy accept and send everything. Policies that
/// accept or reject everything unchanged become `AcceptAll` / `RejectAll`.
pub fn effective(
    policy: Option<&Arc<Policy>>,
    ebgp: bool,
    ebgp_requires_policy: bool,
) -> Effective<'_> {
    match policy {
        None if ebgp && ebgp_requires_policy => Effective::RejectAll,
        None => Effective::AcceptAll,
        Some(p) if p.is_accept_all() => Effective::AcceptAll,
        Some(p) if p.is_reject_all() => Effective::RejectAll,
        Some(p) => Effective::Use(p),
    }
}

/// Every named policy and prefix list, compiled; the built-ins included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policies {
    prefix_lists: BTreeMap<String, Arc<PrefixList>>,
    policies: BTreeMap<String, Arc<Policy>>,
}

impl Default for Policies {
    fn default() -> Self {
        Policies::new()
    }
}

impl Policies {
    /// The built-ins only.
    pub fn new() -> Self {
        let mut policies = BTreeMap::new();
        for p in [Policy::accept_all(), Policy::reject_all()] {
            policies.insert(p.name().to_owned(), Arc::new(p));
        }
        Policies {
            prefix_lists: BTreeMap::new(),
            policies,
        }
    }

    /// Is `name` one of the built-in policies?
    pub fn is_builtin(name: &str) -> bool {
        name == ACCEPT_ALL || name == REJECT_ALL
    }

    /// Add (or replace) a prefix list.
    pub fn insert_prefix_list(&mut self, list: PrefixList) -> Arc<PrefixList> {
        let list = Arc::new(list);
        self.prefix_lists
            .insert(list.name().to_owned(), Arc::clone(&list));
        list
    }

    /// Add (or replace) a policy.
    pub fn insert(&mut self, policy: Policy) -> Arc<Policy> {
        let policy = Arc::new(policy);
        self.policies
            .insert(policy.name().to_owned(), Arc::clone(&policy));
        policy
    }

    /// The policy named `name` (a built-in or a configured one).
    pub fn get(&self, name: &str) -> Option<&Arc<Policy>> {
        self.policies.get(name)
    }

    pub fn prefix_list(&self, name: &str) -> Option<&Arc<PrefixList>> {
        self.prefix_lists.get(name)
    }

    /// Every policy, the built-ins included, by name.
    pub fn policies(&self) -> impl Iterator<Item = &Arc<Policy>> {
        self.policies.values()
    }

    /// Every prefix list, by name.
    pub fn prefix_lists(&self) -> impl Iterator<Item = &Arc<PrefixList>> {
        self.prefix_lists.values()
    }
}
