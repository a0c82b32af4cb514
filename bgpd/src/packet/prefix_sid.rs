//! The BGP Prefix-SID attribute (type 40; RFC 8669 §3) and its SRv6 Service TLVs (RFC 9252 §2-3).
//!
//! Four levels, each a type-length-value with an `Unknown` variant so that what we do not
//! understand is re-emitted byte for byte:
//!
//! ```text
//! Prefix-SID attribute value = sequence of TLVs
//!   +--------+--------+--------+-----------------------------+
//!   | Type   | Length (2 octets)| Value                       |   1 Label-Index, 3 Originator SRGB,
//!   +--------+--------+--------+-----------------------------+   5 SRv6 L3 Service, 6 SRv6 L2 Service
//!
//! SRv6 Service TLV value (RFC 9252 §2):
//!   +--------+---------------------------------+
//!   |RESERVED| SRv6 Service Sub-TLVs ...       |
//!   +--------+---------------------------------+
//!
//! SRv6 SID Information Sub-TLV (type 1, RFC 9252 §3.1):
//!   +--------+--------+--------+--------+
//!   | Type=1 |     Length      |RESERVED1|
//!   +--------+--------+--------+--------+
//!   |  SRv6 SID Value (16 octets)       |
//!   +--------+--------+--------+--------+
//!   |SID Flags| Endpoint Behavior|RESERVED2|
//!   +--------+--------+--------+--------+
//!   |  SRv6 Service Data Sub-Sub-TLVs   |
//!   +-----------------------------------+
//!
//! SRv6 SID Structure Sub-Sub-TLV (type 1, length 6, RFC 9252 §3.2.1):
//!   +--------+--------+--------+--------+--------+--------+
//!   | LB Len | LN Len | Fun.Len| Arg.Len| Tpose L| Tpose O|
//!   +--------+--------+--------+--------+--------+--------+
//! ```

use std::net::Ipv6Addr;

use bytes::{BufMut, BytesMut};
use nom::IResult;
use nom::bytes::complete::take;
use nom::number::complete::{be_u8, be_u16};

use super::error::ErrorAction;

pub const TLV_LABEL_INDEX: u8 = 1;
pub const TLV_ORIGINATOR_SRGB: u8 = 3;
pub const TLV_SRV6_L3_SERVICE: u8 = 5;
pub const TLV_SRV6_L2_SERVICE: u8 = 6;
pub const SUB_TLV_SID_INFORMATION: u8 = 1;
pub const SUB_SUB_TLV_SID_STRUCTURE: u8 = 1;

/// The decoded attribute: its TLVs in wire order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PrefixSid {
    pub tlvs: Vec<PrefixSidTlv>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PrefixSidTlv {
    /// RFC 8669 §3.1 (SR-MPLS): kept and propagated, not used.
    LabelIndex {
        reserved: u8,
        flags: u16,
        label_index: u32,
    },
    /// RFC 8669 §3.2 (SR-MPLS): flags and (base, range) pairs of 3 octets each.
    OriginatorSrgb {
        flags: u16,
        ranges: Vec<(u32, u32)>,
    },
    Srv6L3Service(Srv6ServiceTlv),
    Srv6L2Service(Srv6ServiceTlv),
    Unknown {
        kind: u8,
        value: Vec<u8>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Srv6ServiceTlv {
    pub reserved: u8,
    pub sub_tlvs: Vec<Srv6ServiceSubTlv>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Srv6ServiceSubTlv {
    SidInformation(SidInformation),
    Unknown { kind: u8, value: Vec<u8> },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SidInformation {
    pub reserved1: u8,
    pub sid: Ipv6Addr,
    pub flags: u8,
    pub behavior: u16,
    pub reserved2: u8,
    pub sub_sub_tlvs: Vec<SidSubSubTlv>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SidSubSubTlv {
    Structure(SidStructureTlv),
    Unknown { kind: u8, value: Vec<u8> },
}

/// RFC 9252 §3.2.1 SID Structure, lengths in bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SidStructureTlv {
    pub block_len: u8,
    pub node_len: u8,
    pub function_len: u8,
    pub argument_len: u8,
    pub transposition_len: u8,
    pub transposition_offset: u8,
}

/// A problem in the attribute and what RFC 8669 / RFC 9252 say to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixSidError {
    pub action: ErrorAction,
    pub reason: String,
}

impl PrefixSid {
    /// The SRv6 L3 Service SID a receiver uses.
    ///
    /// RFC 9252 §7 (as FRR reads it): only the first SRv6 L3 Service TLV and within it the
    /// first SID Information sub-TLV are used; further instances are ignored.
    pub fn l3_service_sid(&self) -> Option<&SidInformation> {
        self.tlvs.iter().find_map(|t| match t {
            PrefixSidTlv::Srv6L3Service(s) => Some(s.first_sid_information()),
            _ => None,
        })?
    }

    /// An SRv6 L3 Service attribute as sidra sends it: exactly one SID Information sub-TLV
    /// with at most one SID Structure sub-sub-TLV (more resets FRR 8.4 sessions).
    pub fn srv6_l3_service(
        sid: Ipv6Addr,
        behavior: u16,
        structure: Option<SidStructureTlv>,
    ) -> Self {
        let sub_sub_tlvs = structure.map(SidSubSubTlv::Structure).into_iter().collect();
        let info = SidInformation {
            reserved1: 0,
            sid,
            flags: 0,
            behavior,
            reserved2: 0,
            sub_sub_tlvs,
        };
        PrefixSid {
            tlvs: vec![PrefixSidTlv::Srv6L3Service(Srv6ServiceTlv {
                reserved: 0,
                sub_tlvs: vec![Srv6ServiceSubTlv::SidInformation(info)],
            })],
        }
    }
}

impl Srv6ServiceTlv {
    pub fn first_sid_information(&self) -> Option<&SidInformation> {
        self.sub_tlvs.iter().find_map(|s| match s {
            Srv6ServiceSubTlv::SidInformation(i) => Some(i),
            Srv6ServiceSubTlv::Unknown { .. } => None,
        })
    }
}

impl SidInformation {
    pub fn structure(&self) -> Option<&SidStructureTlv> {
        self.sub_sub_tlvs.iter().find_map(|s| match s {
            SidSubSubTlv::Structure(st) => Some(st),
            SidSubSubTlv::Unknown { .. } => None,
        })
    }
}

/// One type-length-value with a 2-octet length (all Prefix-SID levels use this framing).
fn tlv(input: &[u8]) -> IResult<&[u8], (u8, &[u8])> {
    let (input, kind) = be_u8(input)?;
    let (input, len) = be_u16(input)?;
    let (input, value) = take(len)(input)?;
    Ok((input, (kind, value)))
}

/// A TLV that runs past its container: its type (if readable) and the reason.
type TlvOverrun = (Option<u8>, String);

/// Split `buf` into TLVs, or say which one runs past the end.
fn tlvs<'a>(mut buf: &'a [u8], level: &str) -> Result<Vec<(u8, &'a [u8])>, TlvOverrun> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        match tlv(buf) {
            Ok((rest, t)) => {
                out.push(t);
                buf = rest;
            }
            Err(_) => {
                let kind = buf.first().copied();
                return Err((
                    kind,
                    format!(
                        "{level} type {} overruns its container ({} bytes left)",
                        kind.map_or("?".into(), |k| k.to_string()),
                        buf.len()
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// Decode the attribute value.
pub fn decode_prefix_sid(value: &[u8]) -> Result<PrefixSid, PrefixSidError> {
    let discard = |reason: String| PrefixSidError {
        action: ErrorAction::AttributeDiscard,
        reason,
    };
    let withdraw = |reason: String| PrefixSidError {
        action: ErrorAction::TreatAsWithdraw,
        reason,
    };
    let list = tlvs(value, "Prefix-SID TLV").map_err(|(kind, reason)| match kind {
        // RFC 9252 §7: "The treat-as-withdraw action [RFC7606] MUST be performed when at
        // least one malformed SRv6 Service TLV is present in the BGP Prefix-SID attribute."
        Some(TLV_SRV6_L3_SERVICE | TLV_SRV6_L2_SERVICE) => withdraw(reason),
        // RFC 8669 §6: a malformed Prefix-SID attribute is otherwise discarded.
        _ => discard(reason),
    })?;
    let mut out = Vec::with_capacity(list.len());
    for (kind, v) in list {
        let tlv = match kind {
            TLV_LABEL_INDEX => {
                // RFC 8669 §3.1: Length 7 (reserved 1, flags 2, label index 4).
                let [reserved, f0, f1, i0, i1, i2, i3] = *v else {
                    return Err(discard(format!("Label-Index TLV length {} != 7", v.len())));
                };
                PrefixSidTlv::LabelIndex {
                    reserved,
                    flags: u16::from_be_bytes([f0, f1]),
                    label_index: u32::from_be_bytes([i0, i1, i2, i3]),
                }
            }
            TLV_ORIGINATOR_SRGB => {
                // RFC 8669 §3.2: flags (2) then one or more 6-octet SRGB entries.
                if v.len() < 8 || (v.len() - 2) % 6 != 0 {
                    return Err(discard(format!(
                        "Originator SRGB TLV length {} is not 2 + 6n",
                        v.len()
                    )));
                }
                let ranges = v[2..]
                    .chunks_exact(6)
                    .map(|c| {
                        (
                            u32::from_be_bytes([0, c[0], c[1], c[2]]),
                            u32::from_be_bytes([0, c[3], c[4], c[5]]),
                        )
                    })
                    .collect();
                PrefixSidTlv::OriginatorSrgb {
                    flags: u16::from_be_bytes([v[0], v[1]]),
                    ranges,
                }
            }
            TLV_SRV6_L3_SERVICE => PrefixSidTlv::Srv6L3Service(
                decode_service(v).map_err(|r| withdraw(format!("SRv6 L3 Service TLV: {r}")))?,
            ),
            TLV_SRV6_L2_SERVICE => PrefixSidTlv::Srv6L2Service(
                decode_service(v).map_err(|r| withdraw(format!("SRv6 L2 Service TLV: {r}")))?,
            ),
            kind => PrefixSidTlv::Unknown {
                kind,
                value: v.to_vec(),
            },
        };
        out.push(tlv);
    }
    Ok(PrefixSid { tlvs: out })
}

fn decode_service(v: &[u8]) -> Result<Srv6ServiceTlv, String> {
    let Some((&reserved, rest)) = v.split_first() else {
        return Err("empty (no RESERVED octet)".into());
    };
    let subs = tlvs(rest, "sub-TLV").map_err(|(_, r)| r)?;
    let mut sub_tlvs = Vec::with_capacity(subs.len());
    for (kind, sv) in subs {
        sub_tlvs.push(match kind {
            SUB_TLV_SID_INFORMATION => Srv6ServiceSubTlv::SidInformation(decode_sid_info(sv)?),
            kind => Srv6ServiceSubTlv::Unknown {
                kind,
                value: sv.to_vec(),
            },
        });
    }
    Ok(Srv6ServiceTlv { reserved, sub_tlvs })
}

fn decode_sid_info(v: &[u8]) -> Result<SidInformation, String> {
    // RFC 9252 §3.1: reserved1 (1) + SID (16) + flags (1) + behavior (2) + reserved2 (1) = 21.
    if v.len() < 21 {
        return Err(format!("SID Information sub-TLV length {} < 21", v.len()));
    }
    let mut sid = [0u8; 16];
    sid.copy_from_slice(&v[1..17]);
    let subs = tlvs(&v[21..], "sub-sub-TLV").map_err(|(_, r)| r)?;
    let mut sub_sub_tlvs = Vec::with_capacity(subs.len());
    for (kind, sv) in subs {
        sub_sub_tlvs.push(match kind {
            SUB_SUB_TLV_SID_STRUCTURE => SidSubSubTlv::Structure(decode_structure(sv)?),
            kind => SidSubSubTlv::Unknown {
                kind,
                value: sv.to_vec(),
            },
        });
    }
    Ok(SidInformation {
        reserved1: v[0],
        sid: Ipv6Addr::from(sid),
        flags: v[17],
        behavior: u16::from_be_bytes([v[18], v[19]]),
        reserved2: v[20],
        sub_sub_tlvs,
    })
}

fn decode_structure(v: &[u8]) -> Result<SidStructureTlv, String> {
    let [bl, nl, fl, al, tl, to] = *v else {
        return Err(format!("SID Structure sub-sub-TLV length {} != 6", v.len()));
    };
    let s = SidStructureTlv {
        block_len: bl,
        node_len: nl,
        function_len: fl,
        argument_len: al,
        transposition_len: tl,
        transposition_offset: to,
    };
    // RFC 9252 §4: the transposed bits fit the 20-bit label and lie within the 128-bit SID.
    if tl > 20 {
        return Err(format!("transposition length {tl} > 20"));
    }
    if u16::from(tl) + u16::from(to) > 128 {
        return Err(format!("transposition offset {to} + length {tl} > 128"));
    }
    if u16::from(bl) + u16::from(nl) + u16::from(fl) + u16::from(al) > 128 {
        return Err(format!(
            "SID structure {bl}+{nl}+{fl}+{al} exceeds 128 bits"
        ));
    }
    Ok(s)
}

fn put_tlv(out: &mut BytesMut, kind: u8, body: impl FnOnce(&mut BytesMut)) {
    out.put_u8(kind);
    let at = out.len();
    out.put_u16(0);
    body(out);
    let len = u16::try_from(out.len() - at - 2)
        .unwrap_or(u16::MAX)
        .to_be_bytes();
    out[at] = len[0];
    out[at + 1] = len[1];
}

/// Encode the attribute value.
pub fn encode_prefix_sid(p: &PrefixSid, out: &mut BytesMut) {
    for t in &p.tlvs {
        match t {
            PrefixSidTlv::LabelIndex {
                reserved,
                flags,
                label_index,
            } => put_tlv(out, TLV_LABEL_INDEX, |o| {
                o.put_u8(*reserved);
                o.put_u16(*flags);
                o.put_u32(*label_index);
            }),
            PrefixSidTlv::OriginatorSrgb { flags, ranges } => {
                put_tlv(out, TLV_ORIGINATOR_SRGB, |o| {
                    o.put_u16(*flags);
                    for (base, range) in ranges {
                        o.put_slice(&base.to_be_bytes()[1..]);
                        o.put_slice(&range.to_be_bytes()[1..]);
                    }
                })
            }
            PrefixSidTlv::Srv6L3Service(s) => {
                put_tlv(out, TLV_SRV6_L3_SERVICE, |o| encode_service(s, o))
            }
            PrefixSidTlv::Srv6L2Service(s) => {
                put_tlv(out, TLV_SRV6_L2_SERVICE, |o| encode_service(s, o))
            }
            PrefixSidTlv::Unknown { kind, value } => put_tlv(out, *kind, |o| o.put_slice(value)),
        }
    }
}

fn encode_service(s: &Srv6ServiceTlv, o: &mut BytesMut) {
    o.put_u8(s.reserved);
    for sub in &s.sub_tlvs {
        match sub {
            Srv6ServiceSubTlv::SidInformation(i) => put_tlv(o, SUB_TLV_SID_INFORMATION, |o| {
                o.put_u8(i.reserved1);
                o.put_slice(&i.sid.octets());
                o.put_u8(i.flags);
                o.put_u16(i.behavior);
                o.put_u8(i.reserved2);
                for ss in &i.sub_sub_tlvs {
                    match ss {
                        SidSubSubTlv::Structure(st) => put_tlv(o, SUB_SUB_TLV_SID_STRUCTURE, |o| {
                            o.put_slice(&[
                                st.block_len,
                                st.node_len,
                                st.function_len,
                                st.argument_len,
                                st.transposition_len,
                                st.transposition_offset,
                            ])
                        }),
                        SidSubSubTlv::Unknown { kind, value } => {
                            put_tlv(o, *kind, |o| o.put_slice(value))
                        }
                    }
                }
            }),
            Srv6ServiceSubTlv::Unknown { kind, value } => put_tlv(o, *kind, |o| o.put_slice(value)),
        }
    }
}
