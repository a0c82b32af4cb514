//! What a data plane holds for sidra: local SIDs, SR policies, steering entries and (kernel
//! only) underlay routes to remote locators. The service layer computes the desired
//! [`DataplaneState`]; a backend reports the one it has; [`super::diff`] turns the difference
//! into ordered [`super::Change`]s.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::Ipv6Addr;

use ipnet::{IpNet, Ipv6Net};

/// The main routing table (Linux `RT_TABLE_MAIN`; VPP's table 0 is mapped to it by the VPP
/// backend).
pub const MAIN_TABLE: u32 = 254;

/// RFC 8986 §4.4-§4.8: the decapsulating behaviours sidra programs for its services.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LocalBehavior {
    /// Decapsulate and look the inner IPv4 packet up in `table`.
    EndDt4,
    /// Decapsulate and look the inner IPv6 packet up in `table`.
    EndDt6,
    /// Either inner family (one SID for both).
    EndDt46,
}

impl LocalBehavior {
    pub const fn name(self) -> &'static str {
        match self {
            LocalBehavior::EndDt4 => "End.DT4",
            LocalBehavior::EndDt6 => "End.DT6",
            LocalBehavior::EndDt46 => "End.DT46",
        }
    }

    /// The IANA "SRv6 Endpoint Behaviors" codepoint (RFC 8986 §10.2), as advertised in the
    /// SRv6 SID Information sub-TLV.
    pub const fn codepoint(self) -> u16 {
        match self {
            LocalBehavior::EndDt6 => 18,
            LocalBehavior::EndDt4 => 19,
            LocalBehavior::EndDt46 => 20,
        }
    }
}

impl fmt::Display for LocalBehavior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A SID of this node and what it does with packets addressed to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalSid {
    pub sid: Ipv6Addr,
    pub behavior: LocalBehavior,
    /// The table the inner packet is looked up in.
    pub table: u32,
}

/// One segment list of a policy: the SIDs in order (the first is the outer destination).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SegmentList {
    pub segments: Vec<Ipv6Addr>,
    /// Share of the flows with several lists (ECMP); 1 when there is one.
    pub weight: u32,
}

/// An SR policy: H.Encaps (RFC 8986 §5.1) over one or more weighted segment lists, named by its
/// binding SID.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Policy {
    pub bsid: Ipv6Addr,
    pub segment_lists: Vec<SegmentList>,
}

/// A prefix of `table` steered into the policy `bsid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Steering {
    pub table: u32,
    pub prefix: IpNet,
    pub bsid: Ipv6Addr,
}

impl Steering {
    pub fn key(&self) -> (u32, IpNet) {
        (self.table, self.prefix)
    }
}

/// A plain IPv6 route to a remote locator, for nodes whose underlay is not routed by someone
/// else (the kernel backend only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnderlayRoute {
    pub prefix: Ipv6Net,
    pub via: Ipv6Addr,
}

/// Everything sidra holds in one data plane.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DataplaneState {
    /// The source address of every encapsulation (VPP: `sr_set_encap_source`).
    pub encap_source: Option<Ipv6Addr>,
    /// The lookup tables the local SIDs and the steering entries use, with their family
    /// (`true`: IPv6). VPP needs them created before any SID points at them.
    pub tables: BTreeSet<(u32, bool)>,
    pub local_sids: BTreeMap<Ipv6Addr, LocalSid>,
    pub policies: BTreeMap<Ipv6Addr, Policy>,
    pub steering: BTreeMap<(u32, IpNet), Steering>,
    pub underlay: BTreeMap<Ipv6Net, UnderlayRoute>,
}

impl DataplaneState {
    pub fn add_local_sid(&mut self, s: LocalSid) {
        self.local_sids.insert(s.sid, s);
    }
    pub fn add_policy(&mut self, p: Policy) {
        self.policies.insert(p.bsid, p);
    }
    pub fn add_steering(&mut self, s: Steering) {
        self.steering.insert(s.key(), s);
    }
    pub fn add_underlay(&mut self, r: UnderlayRoute) {
        self.underlay.insert(r.prefix, r);
    }

    /// How many objects it holds (tables and the encap source not counted).
    pub fn len(&self) -> usize {
        self.local_sids.len() + self.policies.len() + self.steering.len() + self.underlay.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
