//! Translation between sidra's data plane model and VPP's SRv6 API (pure, no I/O).
//!
//! | sidra | VPP |
//! |---|---|
//! | table [`MAIN_TABLE`] (254) | table 0 (other ids 1:1) |
//! | End.DT4 / End.DT6 | `sr_behavior` DT4 = 9 / DT6 = 8 (API values, not the IANA 19 / 18), lookup table in `sw_if_index`, SID installed in table 0 |
//! | End.DT46 | none: VPP has no End.DT46 (refused) |
//! | policy | H.Encaps, default type, BSID in table 0, one VPP SID list per segment list (weight >= 1) |
//! | steering | L3 steering entry (traffic type from the prefix family) |

use std::fmt::Display;

use vpp_client as vc;

use super::super::{
    DataplaneError, LocalBehavior, LocalSid, MAIN_TABLE, Policy, SegmentList, Steering,
};

/// The VPP table id of sidra's `table`.
pub fn to_vpp_table(table: u32) -> u32 {
    if table == MAIN_TABLE { 0 } else { table }
}

/// sidra's table id of VPP's `table`.
pub fn from_vpp_table(table: u32) -> u32 {
    if table == 0 { MAIN_TABLE } else { table }
}

/// A dumped local SID as sidra's, when it is one sidra could have made (End.DT4 or End.DT6
/// installed in table 0); other behaviours (End, End.X, uN, ...) are not sidra's.
pub fn local_sid_from_vpp(s: &vc::LocalSid) -> Option<LocalSid> {
    let behavior = match s.behavior {
        vc::SrBehavior::DT4 => LocalBehavior::EndDt4,
        vc::SrBehavior::DT6 => LocalBehavior::EndDt6,
        _ => return None,
    };
    if s.fib_table != 0 {
        return None;
    }
    Some(LocalSid {
        sid: s.addr,
        behavior,
        table: from_vpp_table(s.iface_or_table),
    })
}

/// The reason End.DT46 is refused.
pub const NO_DT46: &str = "End.DT46 does not exist in VPP's SRv6 engine: configure the \
                           service with behavior = \"dt4-dt6\" (one End.DT4 and one End.DT6 SID)";

/// sidra's local SID as VPP's (End.DT46 refused).
pub fn local_sid_to_vpp(s: &LocalSid) -> Result<vc::LocalSid, DataplaneError> {
    let table = to_vpp_table(s.table);
    match s.behavior {
        LocalBehavior::EndDt4 => Ok(vc::LocalSid::end_dt4(s.sid, table)),
        LocalBehavior::EndDt6 => Ok(vc::LocalSid::end_dt6(s.sid, table)),
        LocalBehavior::EndDt46 => Err(DataplaneError::new(format!(
            "local SID {}: {NO_DT46}",
            s.sid
        ))),
    }
}

/// For a delete only the address matters (VPP finds the SID by address).
pub fn local_sid_key(s: &LocalSid) -> vc::LocalSid {
    vc::LocalSid::end_dt6(s.sid, to_vpp_table(s.table))
}

/// The family of the VRF a DT SID looks up in (`true`: IPv6).
pub fn lookup_family(b: LocalBehavior) -> Option<bool> {
    match b {
        LocalBehavior::EndDt4 => Some(false),
        LocalBehavior::EndDt6 => Some(true),
        LocalBehavior::EndDt46 => None,
    }
}

/// A dumped policy as sidra's. The lists are sorted: VPP's order depends on its pools'
/// history and carries no meaning (the lists share the traffic by weight).
pub fn policy_from_vpp(p: &vc::SrPolicy) -> Policy {
    let mut segment_lists: Vec<SegmentList> = p
        .sid_lists
        .iter()
        .map(|l| SegmentList {
            segments: l.sids.clone(),
            weight: l.weight,
        })
        .collect();
    segment_lists.sort();
    Policy {
        bsid: p.bsid,
        segment_lists,
    }
}

/// A policy's segment lists as VPP SID lists: 1 to 16 SIDs each, weight at least 1 (VPP keeps
/// a weight of 0, which would carry no traffic).
pub fn sid_lists(p: &Policy) -> Result<Vec<vc::SidList>, DataplaneError> {
    if p.segment_lists.is_empty() {
        return Err(DataplaneError::new(format!(
            "policy {}: no segment list",
            p.bsid
        )));
    }
    p.segment_lists
        .iter()
        .map(|l| {
            let n = l.segments.len();
            if n == 0 || n > vc::messages::types::MAX_SIDS {
                return Err(DataplaneError::new(format!(
                    "policy {}: a segment list needs 1 to {} SIDs, this one has {n}",
                    p.bsid,
                    vc::messages::types::MAX_SIDS
                )));
            }
            Ok(vc::SidList {
                weight: l.weight.max(1),
                sids: l.segments.clone(),
            })
        })
        .collect()
}

/// A dumped steering entry as sidra's (L3 entries only; L2 steering is not sidra's).
pub fn steering_from_vpp(s: &vc::Steering) -> Option<Steering> {
    match s.traffic {
        vc::SteerTraffic::L3(prefix) => Some(Steering {
            table: from_vpp_table(s.table_id),
            prefix,
            bsid: s.bsid,
        }),
        vc::SteerTraffic::L2 { .. } => None,
    }
}

/// sidra's steering entry as VPP's.
pub fn steering_to_vpp(s: &Steering) -> vc::Steering {
    vc::Steering {
        bsid: s.bsid,
        table_id: to_vpp_table(s.table),
        traffic: vc::SteerTraffic::L3(s.prefix),
    }
}

/// A failed VPP request as a data plane error naming the object (`what`) and saying what VPP's
/// code means.
pub fn error(what: impl Display, e: &vc::Error) -> DataplaneError {
    use vc::VppErrorKind as K;
    let hint = match e {
        vc::Error::Vpp(v) => match v.kind {
            K::AlreadyExists => "it already exists",
            K::NotFound => "VPP does not know it (or the policy it refers to)",
            K::NoSuchTable => "the table does not exist in VPP",
            K::FibEntryExists => "another FIB entry (a binding SID or route) holds that address",
            K::LastSidList => "a policy cannot lose its last SID list",
            K::BadSlIndex => "the SID list index is stale",
            K::InvalidInterface => "invalid interface",
            K::InvalidValue => "VPP refused a value",
            K::Other => "unexpected VPP error",
        },
        vc::Error::Timeout { .. } => "VPP did not answer (it silently drops bad requests)",
        vc::Error::Disconnected(_) => "the connection to VPP is lost (it will be read again)",
        vc::Error::Unsupported { .. } => "this VPP lacks the message",
        _ => "VPP API error",
    };
    DataplaneError::new(format!("{what}: {hint}: {e}"))
}

/// True when `e` is VPP saying "already exists" (an add that is already done).
pub fn is_already_exists(e: &vc::Error) -> bool {
    e.vpp().is_some_and(|v| v.is_already_exists())
}

/// True when `e` is VPP saying "not found" (a delete that is already done).
pub fn is_not_found(e: &vc::Error) -> bool {
    e.vpp().is_some_and(|v| v.is_not_found())
}
