//! A peer's routing policy as the RIB applies it: import and export filters (RFC 8212
//! defaults), the prefix limit, and whether the routes are kept as received (soft
//! reconfiguration inbound).

use std::sync::Arc;

use crate::config::{MaxPrefixesAction, NeighborConfig};
use crate::policy::{Effective, Policy, effective};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerPolicy {
    pub import: Option<Arc<Policy>>,
    pub export: Option<Arc<Policy>>,
    /// RFC 8212: without a policy, an eBGP peer gets nothing and gives nothing.
    pub ebgp_requires_policy: bool,
    /// Per family, accepted routes (RFC 4486 Cease 6/1 when exceeded with `Teardown`).
    pub max_prefixes: Option<(u32, MaxPrefixesAction)>,
    /// Keep the routes as received, so that a changed import policy applies without a
    /// ROUTE-REFRESH.
    pub soft_reconfiguration_inbound: bool,
}

impl PeerPolicy {
    pub fn of(n: &NeighborConfig, ebgp_requires_policy: bool) -> Self {
        PeerPolicy {
            import: n.import_policy.clone(),
            export: n.export_policy.clone(),
            ebgp_requires_policy,
            max_prefixes: n.max_prefixes.map(|m| (m, n.max_prefixes_action)),
            soft_reconfiguration_inbound: n.soft_reconfiguration_inbound,
        }
    }

    /// What applies to routes received from a peer (`ebgp`: the peer is external).
    pub fn import(&self, ebgp: bool) -> Effective<'_> {
        effective(self.import.as_ref(), ebgp, self.ebgp_requires_policy)
    }

    pub fn export(&self, ebgp: bool) -> Effective<'_> {
        effective(self.export.as_ref(), ebgp, self.ebgp_requires_policy)
    }
}
