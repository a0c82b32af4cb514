//! The SRv6 messages (`sr.api` 2.1.0): local SIDs, policies, steering, and their dumps.
//!
//! Encoders write the fields after the 10-byte request header; decoders take a whole details
//! body. Offsets below are from the start of the body.

use std::net::{IpAddr, Ipv6Addr};

use bytes::{BufMut, BytesMut};
use ipnet::IpNet;

use super::REPLY_HEADER_LEN;
use super::defs::*;
use super::types::{PolicyType, SidList, SrBehavior, SteerType};
use crate::error::{DecodeError, Error};
use crate::wire::{PREFIX_LEN, Reader, put_address, put_bool, put_ip6, put_prefix};

/// A local SID: the request of `sr_localsid_add_del` and an entry of `sr_localsids_dump`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocalSid {
    /// The SID (installed as a /128 in `fib_table`).
    pub addr: Ipv6Addr,
    /// The endpoint behavior.
    pub behavior: SrBehavior,
    /// Penultimate segment pop.
    pub end_psp: bool,
    /// For End.X/DX*/uA the outgoing interface; **for End.T/End.DT4/End.DT6 the VRF table id**
    /// to look up in (`sw_if_index` on the wire, `xconnect_iface_or_vrf_table` in dumps).
    pub iface_or_table: u32,
    /// Table id in which the SID itself is installed (normally 0).
    pub fib_table: u32,
    /// Unused by VPP.
    pub vlan_index: u32,
    /// Next hop for End.X/DX4/DX6/uA; `None` is sent as (and dumped back as) IPv4 `0.0.0.0`.
    pub nh_addr: Option<IpAddr>,
}

impl LocalSid {
    fn base(addr: Ipv6Addr, behavior: SrBehavior, iface_or_table: u32) -> Self {
        Self {
            addr,
            behavior,
            end_psp: false,
            iface_or_table,
            fib_table: 0,
            vlan_index: 0,
            nh_addr: None,
        }
    }

    /// End (`sw_if_index` left at its API default `0xffffffff`).
    pub fn end(addr: Ipv6Addr) -> Self {
        Self::base(addr, SrBehavior::End, u32::MAX)
    }

    /// End.DT4 looking up in IPv4 VRF `vrf_table` (which must exist first).
    pub fn end_dt4(addr: Ipv6Addr, vrf_table: u32) -> Self {
        Self::base(addr, SrBehavior::DT4, vrf_table)
    }

    /// End.DT6 looking up in IPv6 VRF `vrf_table` (which must exist first).
    pub fn end_dt6(addr: Ipv6Addr, vrf_table: u32) -> Self {
        Self::base(addr, SrBehavior::DT6, vrf_table)
    }

    /// End.X towards `nh` on interface `sw_if_index`.
    pub fn end_x(addr: Ipv6Addr, sw_if_index: u32, nh: Ipv6Addr) -> Self {
        let mut s = Self::base(addr, SrBehavior::X, sw_if_index);
        s.nh_addr = Some(IpAddr::V6(nh));
        s
    }
}

/// `sr_localsid_add_del` (58 bytes):
///
/// ```text
/// | hdr (10) | bool is_del @10 | ip6 localsid @11 | bool end_psp @27 | u8 behavior @28 |
/// | u32 sw_if_index @29 | u32 vlan_index @33 | u32 fib_table @37 | address nh_addr @41 |
/// ```
pub fn encode_localsid_add_del(is_del: bool, s: &LocalSid, buf: &mut BytesMut) {
    put_bool(buf, is_del);
    put_ip6(buf, s.addr);
    put_bool(buf, s.end_psp);
    buf.put_u8(s.behavior.to_u8());
    buf.put_u32(s.iface_or_table);
    buf.put_u32(s.vlan_index);
    buf.put_u32(s.fib_table);
    put_address(buf, s.nh_addr);
}

fn decode_localsid_fields(r: &mut Reader<'_>) -> Result<LocalSid, DecodeError> {
    let addr = r.ip6("addr")?;
    let end_psp = r.bool("end_psp")?;
    let behavior = SrBehavior::from_u8(r.u8("behavior")?);
    let fib_table = r.u32("fib_table")?;
    let vlan_index = r.u32("vlan_index")?;
    let nh = r.address("xconnect_nh_addr")?;
    let iface_or_table = r.u32("xconnect_iface_or_vrf_table")?;
    Ok(LocalSid {
        addr,
        behavior,
        end_psp,
        iface_or_table,
        fib_table,
        vlan_index,
        nh_addr: (!nh.is_unspecified()).then_some(nh),
    })
}

/// `sr_localsids_details` (53 bytes):
///
/// ```text
/// | u16 id | u32 context @2 | ip6 addr @6 | bool end_psp @22 | u8 behavior @23 |
/// | u32 fib_table @24 | u32 vlan_index @28 | address xconnect_nh_addr @32 |
/// | u32 xconnect_iface_or_vrf_table @49 |
/// ```
///
/// There is no prefix length: a uN /48 and a /128 look the same.
pub fn decode_localsid_details(body: &[u8]) -> Result<LocalSid, DecodeError> {
    let mut r = Reader::new(SR_LOCALSIDS_DETAILS.name, body, REPLY_HEADER_LEN);
    let s = decode_localsid_fields(&mut r)?;
    r.finish()?;
    Ok(s)
}

/// A local SID with its packet counters (`sr_localsids_with_packet_stats_details`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalSidStats {
    /// The SID.
    pub sid: LocalSid,
    /// Bytes processed.
    pub good_bytes: u64,
    /// Packets processed.
    pub good_packets: u64,
    /// Bytes dropped.
    pub bad_bytes: u64,
    /// Packets dropped.
    pub bad_packets: u64,
}

/// `sr_localsids_with_packet_stats_details` (85 bytes): the 53 bytes of `sr_localsids_details`,
/// then `u64 good_traffic_bytes @53 | u64 good_traffic_pkt_count @61 | u64 bad_traffic_bytes @69
/// | u64 bad_traffic_pkt_count @77`.
pub fn decode_localsid_stats_details(body: &[u8]) -> Result<LocalSidStats, DecodeError> {
    let mut r = Reader::new(
        SR_LOCALSIDS_WITH_PACKET_STATS_DETAILS.name,
        body,
        REPLY_HEADER_LEN,
    );
    let sid = decode_localsid_fields(&mut r)?;
    let s = LocalSidStats {
        sid,
        good_bytes: r.u64("good_traffic_bytes")?,
        good_packets: r.u64("good_traffic_pkt_count")?,
        bad_bytes: r.u64("bad_traffic_bytes")?,
        bad_packets: r.u64("bad_traffic_pkt_count")?,
    };
    r.finish()?;
    Ok(s)
}

/// A policy to add (`sr_policy_add`, or `sr_policy_add_v2` for TEF or a per-policy source).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyAdd {
    /// Binding SID (installed as a /128 in `fib_table`).
    pub bsid: Ipv6Addr,
    /// The first SID list (more with [`PolicyMod`]).
    pub sid_list: SidList,
    /// H.Encaps (true) or SRH insertion.
    pub is_encap: bool,
    /// Policy type (v1 can only send default or spray).
    pub policy_type: PolicyType,
    /// Table id for the BSID (a missing table gives -13).
    pub fib_table: u32,
    /// v2 only: encapsulation source for this policy; `None` uses the global one, which is
    /// copied into each SID list when the list is created (set it first).
    pub encap_src: Option<Ipv6Addr>,
}

impl PolicyAdd {
    /// An encapsulating default policy in table 0.
    pub fn encap(bsid: Ipv6Addr, sid_list: SidList) -> Self {
        Self {
            bsid,
            sid_list,
            is_encap: true,
            policy_type: PolicyType::Default,
            fib_table: 0,
            encap_src: None,
        }
    }
}

/// `sr_policy_add` (297 bytes):
///
/// ```text
/// | hdr (10) | ip6 bsid_addr @10 | u32 weight @26 | bool is_encap @30 | bool is_spray @31 |
/// | u32 fib_table @32 | srv6_sid_list sids @36 (261) |
/// ```
///
/// The top-level `weight` is ignored by VPP; it is sent equal to the list's weight.
pub fn encode_policy_add(p: &PolicyAdd, buf: &mut BytesMut) -> Result<(), Error> {
    p.sid_list.validate()?;
    let is_spray = match p.policy_type {
        PolicyType::Default => false,
        PolicyType::Spray => true,
        t => {
            return Err(Error::InvalidArgument(format!(
                "sr_policy_add (v1) cannot express policy type {t:?}; use sr_policy_add_v2"
            )));
        }
    };
    if p.encap_src.is_some() {
        return Err(Error::InvalidArgument(
            "sr_policy_add (v1) has no per-policy encap_src; use sr_policy_add_v2".into(),
        ));
    }
    put_ip6(buf, p.bsid);
    buf.put_u32(p.sid_list.weight);
    put_bool(buf, p.is_encap);
    put_bool(buf, is_spray);
    buf.put_u32(p.fib_table);
    p.sid_list.encode(buf)
}

/// `sr_policy_add_v2` (313 bytes): as v1 but `u8 type @31` and `ip6 encap_src @297`
/// (`::` = use the global source).
pub fn encode_policy_add_v2(p: &PolicyAdd, buf: &mut BytesMut) -> Result<(), Error> {
    p.sid_list.validate()?;
    put_ip6(buf, p.bsid);
    buf.put_u32(p.sid_list.weight);
    put_bool(buf, p.is_encap);
    buf.put_u8(p.policy_type.to_u8());
    buf.put_u32(p.fib_table);
    p.sid_list.encode(buf)?;
    put_ip6(buf, p.encap_src.unwrap_or(Ipv6Addr::UNSPECIFIED));
    Ok(())
}

/// What `sr_policy_mod` does (`vl_api_sr_policy_op_t`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyModOp {
    /// Operation 1: add a SID list.
    AddSidList(SidList),
    /// Operation 2: delete the SID list with this **global** pool index (from
    /// `sr_policies_with_sl_index_dump`). Deleting the last list gives -21.
    DelSidList {
        /// Global SID-list index.
        sl_index: u32,
    },
    /// Operation 3: change the weight of a SID list.
    SetWeight {
        /// Global SID-list index.
        sl_index: u32,
        /// New weight.
        weight: u32,
    },
}

/// A policy modification, addressed by BSID (VPP ignores `sr_policy_index`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyMod {
    /// Binding SID of the policy.
    pub bsid: Ipv6Addr,
    /// Table id of the BSID.
    pub fib_table: u32,
    /// The operation.
    pub op: PolicyModOp,
    /// v2 only: encapsulation source for an added list.
    pub encap_src: Option<Ipv6Addr>,
}

/// `sr_policy_mod` (304 bytes):
///
/// ```text
/// | hdr (10) | ip6 bsid_addr @10 | u32 sr_policy_index @26 | u32 fib_table @30 |
/// | u8 operation @34 | u32 sl_index @35 | u32 weight @39 | srv6_sid_list sids @43 (261) |
/// ```
pub fn encode_policy_mod(m: &PolicyMod, buf: &mut BytesMut) -> Result<(), Error> {
    if m.encap_src.is_some() {
        return Err(Error::InvalidArgument(
            "sr_policy_mod (v1) has no encap_src; use sr_policy_mod_v2".into(),
        ));
    }
    encode_policy_mod_common(m, buf)
}

/// `sr_policy_mod_v2` (320 bytes): v1 plus `ip6 encap_src @304`.
pub fn encode_policy_mod_v2(m: &PolicyMod, buf: &mut BytesMut) -> Result<(), Error> {
    encode_policy_mod_common(m, buf)?;
    put_ip6(buf, m.encap_src.unwrap_or(Ipv6Addr::UNSPECIFIED));
    Ok(())
}

fn encode_policy_mod_common(m: &PolicyMod, buf: &mut BytesMut) -> Result<(), Error> {
    let empty = SidList {
        weight: 0,
        sids: Vec::new(),
    };
    let (op, sl_index, list) = match &m.op {
        PolicyModOp::AddSidList(l) => {
            l.validate()?;
            (1u8, 0, l.clone())
        }
        PolicyModOp::DelSidList { sl_index } => (2, *sl_index, empty),
        PolicyModOp::SetWeight { sl_index, weight } => (
            3,
            *sl_index,
            SidList {
                weight: *weight,
                sids: Vec::new(),
            },
        ),
    };
    put_ip6(buf, m.bsid);
    buf.put_u32(0); // sr_policy_index: ignored, the BSID is used
    buf.put_u32(m.fib_table);
    buf.put_u8(op);
    buf.put_u32(sl_index);
    buf.put_u32(list.weight); // top-level weight: ignored by VPP, kept equal
    list.encode(buf)
}

/// `sr_policy_del` (30 bytes): `| hdr (10) | ip6 bsid_addr @10 | u32 sr_policy_index @26 |`.
/// It does **not** remove steering entries pointing at the policy: delete those first.
pub fn encode_policy_del(bsid: Ipv6Addr, buf: &mut BytesMut) {
    put_ip6(buf, bsid);
    buf.put_u32(0);
}

/// `sr_set_encap_source` (26 bytes): `| hdr (10) | ip6 encaps_source @10 |`.
pub fn encode_set_encap_source(src: Ipv6Addr, buf: &mut BytesMut) {
    put_ip6(buf, src);
}

/// What a steering entry matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SteerTraffic {
    /// IPv4 or IPv6 traffic to a prefix (traffic type 4 or 6, from the prefix family).
    L3(IpNet),
    /// L2 traffic of an interface (traffic type 2).
    L2 {
        /// Incoming interface.
        sw_if_index: u32,
    },
}

/// A steering entry: traffic into the policy with binding SID `bsid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Steering {
    /// The policy's BSID (VPP finds the policy by BSID; an unknown one gives -2).
    pub bsid: Ipv6Addr,
    /// VRF table id of the steered prefix.
    pub table_id: u32,
    /// What is steered.
    pub traffic: SteerTraffic,
}

impl Steering {
    /// The wire traffic type.
    pub fn steer_type(&self) -> SteerType {
        match self.traffic {
            SteerTraffic::L3(IpNet::V4(_)) => SteerType::Ipv4,
            SteerTraffic::L3(IpNet::V6(_)) => SteerType::Ipv6,
            SteerTraffic::L2 { .. } => SteerType::L2,
        }
    }
}

/// `sr_steering_add_del` (58 bytes):
///
/// ```text
/// | hdr (10) | bool is_del @10 | ip6 bsid_addr @11 | u32 sr_policy_index @27 | u32 table_id @31 |
/// | prefix @35 (18) | u32 sw_if_index @53 | u8 traffic_type @57 |
/// ```
pub fn encode_steering_add_del(is_del: bool, s: &Steering, buf: &mut BytesMut) {
    put_bool(buf, is_del);
    put_ip6(buf, s.bsid);
    buf.put_u32(0); // sr_policy_index: ignored, the BSID is used
    buf.put_u32(s.table_id);
    match s.traffic {
        SteerTraffic::L3(p) => {
            put_prefix(buf, p);
            buf.put_u32(0);
        }
        SteerTraffic::L2 { sw_if_index } => {
            buf.put_bytes(0, PREFIX_LEN);
            buf.put_u32(sw_if_index);
        }
    }
    buf.put_u8(s.steer_type().to_u8());
}

/// `sr_steering_pol_details` (49 bytes):
///
/// ```text
/// | u16 id | u32 context @2 | u8 traffic_type @6 | u32 fib_table @7 | prefix @11 |
/// | u32 sw_if_index @29 | ip6 bsid @33 |
/// ```
///
/// For L3 entries `sw_if_index` is meaningless (union-aliased bytes of the stored prefix, e.g.
/// `0xb80d0120` for `2001:db8::/..`) and is ignored.
pub fn decode_steering_details(body: &[u8]) -> Result<Steering, DecodeError> {
    let mut r = Reader::new(SR_STEERING_POL_DETAILS.name, body, REPLY_HEADER_LEN);
    let tt = r.u8("traffic_type")?;
    let table_id = r.u32("fib_table")?;
    let prefix = r.prefix("prefix")?;
    let sw_if_index = r.u32("sw_if_index")?;
    let bsid = r.ip6("bsid")?;
    r.finish()?;
    let traffic = match SteerType::from_u8(tt) {
        Some(SteerType::L2) => SteerTraffic::L2 { sw_if_index },
        Some(SteerType::Ipv4 | SteerType::Ipv6) => SteerTraffic::L3(prefix),
        None => {
            return Err(DecodeError {
                message: SR_STEERING_POL_DETAILS.name,
                field: "traffic_type",
                offset: 6,
                detail: format!("unknown traffic type {tt}"),
            });
        }
    };
    Ok(Steering {
        bsid,
        table_id,
        traffic,
    })
}

/// A policy as dumped by `sr_policies_v2_dump` (or `sr_policies_dump`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrPolicy {
    /// Binding SID.
    pub bsid: Ipv6Addr,
    /// Policy type (v1 dumps only tell default from spray).
    pub policy_type: PolicyType,
    /// H.Encaps or SRH insertion.
    pub is_encap: bool,
    /// Table id of the BSID.
    pub fib_table: u32,
    /// Encapsulation source (v2 dumps only; `::` if none was set when the lists were created).
    pub encap_src: Option<Ipv6Addr>,
    /// The SID lists with their weights. Order follows VPP's pools: do not rely on it.
    pub sid_lists: Vec<SidList>,
}

fn decode_lists(
    r: &mut Reader<'_>,
    with_sl_index: bool,
) -> Result<Vec<(SidList, Option<u32>)>, DecodeError> {
    let n = r.u8("num_sid_lists")?;
    (0..n).map(|_| SidList::decode(r, with_sl_index)).collect()
}

/// `sr_policies_v2_details` (45 + 261·n bytes):
///
/// ```text
/// | u16 id | u32 context @2 | ip6 bsid @6 | ip6 encap_src @22 | u8 type @38 | bool is_encap @39 |
/// | u32 fib_table @40 | u8 num_sid_lists @44 | srv6_sid_list sid_lists[n] @45 |
/// ```
pub fn decode_policies_v2_details(body: &[u8]) -> Result<SrPolicy, DecodeError> {
    let mut r = Reader::new(SR_POLICIES_V2_DETAILS.name, body, REPLY_HEADER_LEN);
    let bsid = r.ip6("bsid")?;
    let encap_src = r.ip6("encap_src")?;
    let policy_type = PolicyType::from_u8(r.u8("type")?);
    let is_encap = r.bool("is_encap")?;
    let fib_table = r.u32("fib_table")?;
    let sid_lists = decode_lists(&mut r, false)?
        .into_iter()
        .map(|(l, _)| l)
        .collect();
    r.finish()?;
    Ok(SrPolicy {
        bsid,
        policy_type,
        is_encap,
        fib_table,
        encap_src: Some(encap_src),
        sid_lists,
    })
}

/// `sr_policies_details` (29 + 261·n bytes, deprecated dump):
///
/// ```text
/// | u16 id | u32 context @2 | ip6 bsid @6 | bool is_spray @22 | bool is_encap @23 |
/// | u32 fib_table @24 | u8 num_sid_lists @28 | srv6_sid_list sid_lists[n] @29 |
/// ```
pub fn decode_policies_details(body: &[u8]) -> Result<SrPolicy, DecodeError> {
    let mut r = Reader::new(SR_POLICIES_DETAILS.name, body, REPLY_HEADER_LEN);
    let bsid = r.ip6("bsid")?;
    let is_spray = r.bool("is_spray")?;
    let is_encap = r.bool("is_encap")?;
    let fib_table = r.u32("fib_table")?;
    let sid_lists = decode_lists(&mut r, false)?
        .into_iter()
        .map(|(l, _)| l)
        .collect();
    r.finish()?;
    let policy_type = if is_spray {
        PolicyType::Spray
    } else {
        PolicyType::Default
    };
    Ok(SrPolicy {
        bsid,
        policy_type,
        is_encap,
        fib_table,
        encap_src: None,
        sid_lists,
    })
}

/// A SID list with its global pool index (what `sr_policy_mod` delete/weight operations need).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedSidList {
    /// Global SID-list pool index (history-dependent).
    pub sl_index: u32,
    /// The list.
    pub sid_list: SidList,
}

/// A policy from `sr_policies_with_sl_index_dump`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrPolicyWithSlIndex {
    /// Binding SID.
    pub bsid: Ipv6Addr,
    /// Default or spray.
    pub policy_type: PolicyType,
    /// H.Encaps or SRH insertion.
    pub is_encap: bool,
    /// Table id of the BSID.
    pub fib_table: u32,
    /// The lists with their indexes.
    pub sid_lists: Vec<IndexedSidList>,
}

/// `sr_policies_with_sl_index_details` (29 + 265·n bytes): the head of `sr_policies_details`
/// with `srv6_sid_list_with_sl_index` elements (`u8 num_sids @0 | u32 weight @1 |
/// u32 sl_index @5 | ip6 sids[16] @9`).
pub fn decode_policies_with_sl_index_details(
    body: &[u8],
) -> Result<SrPolicyWithSlIndex, DecodeError> {
    let mut r = Reader::new(
        SR_POLICIES_WITH_SL_INDEX_DETAILS.name,
        body,
        REPLY_HEADER_LEN,
    );
    let bsid = r.ip6("bsid")?;
    let is_spray = r.bool("is_spray")?;
    let is_encap = r.bool("is_encap")?;
    let fib_table = r.u32("fib_table")?;
    let sid_lists = decode_lists(&mut r, true)?
        .into_iter()
        .map(|(sid_list, i)| IndexedSidList {
            sl_index: i.unwrap_or_default(),
            sid_list,
        })
        .collect();
    r.finish()?;
    let policy_type = if is_spray {
        PolicyType::Spray
    } else {
        PolicyType::Default
    };
    Ok(SrPolicyWithSlIndex {
        bsid,
        policy_type,
        is_encap,
        fib_table,
        sid_lists,
    })
}
