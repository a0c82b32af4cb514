//! Path attributes (RFC 4271 §4.3 and §5) with RFC 7606 error handling.
//!
//! ```text
//! +---------------+---------------+-------------------------------+
//! | Attr. Flags   | Attr. Type    | Length (1, or 2 if Ext. Len.) |  Value ...
//! +---------------+---------------+-------------------------------+
//! flags: 0x80 Optional, 0x40 Transitive, 0x20 Partial, 0x10 Extended Length
//! ```
//!
//! Every attribute keeps its flags as received and its position in the message, so that a
//! well-formed UPDATE re-encodes byte for byte; unknown attributes are kept as bytes.

pub mod as_path;
pub mod community;
pub mod mp;

use std::net::Ipv4Addr;

use bytes::{BufMut, BytesMut};
use nom::IResult;
use nom::bytes::complete::take;
use nom::number::complete::{be_u8, be_u16};

pub use as_path::{AsPath, AsSegment};
pub use community::{ExtendedCommunity, LargeCommunity};
pub use mp::{MpNlri, MpReach, MpUnreach, NextHop};

use super::error::{AttributeError, ErrorAction};
use super::family::Family;
use super::prefix_sid::{PrefixSid, decode_prefix_sid, encode_prefix_sid};
use super::{EncodeContext, MessageError, error::code};

pub const FLAG_OPTIONAL: u8 = 0x80;
pub const FLAG_TRANSITIVE: u8 = 0x40;
pub const FLAG_PARTIAL: u8 = 0x20;
pub const FLAG_EXTENDED_LENGTH: u8 = 0x10;

/// Attribute type codes (IANA "BGP Path Attributes").
pub mod attr_type {
    pub const ORIGIN: u8 = 1;
    pub const AS_PATH: u8 = 2;
    pub const NEXT_HOP: u8 = 3;
    pub const MULTI_EXIT_DISC: u8 = 4;
    pub const LOCAL_PREF: u8 = 5;
    pub const ATOMIC_AGGREGATE: u8 = 6;
    pub const AGGREGATOR: u8 = 7;
    pub const COMMUNITIES: u8 = 8;
    pub const ORIGINATOR_ID: u8 = 9;
    pub const CLUSTER_LIST: u8 = 10;
    pub const MP_REACH_NLRI: u8 = 14;
    pub const MP_UNREACH_NLRI: u8 = 15;
    pub const EXTENDED_COMMUNITIES: u8 = 16;
    pub const AS4_PATH: u8 = 17;
    pub const AS4_AGGREGATOR: u8 = 18;
    pub const LARGE_COMMUNITY: u8 = 32;
    pub const PREFIX_SID: u8 = 40;
}

/// The name of an attribute type, for logs and the decoder.
pub fn attr_name(t: u8) -> String {
    use attr_type::*;
    match t {
        ORIGIN => "origin".into(),
        AS_PATH => "as-path".into(),
        NEXT_HOP => "next-hop".into(),
        MULTI_EXIT_DISC => "med".into(),
        LOCAL_PREF => "local-pref".into(),
        ATOMIC_AGGREGATE => "atomic-aggregate".into(),
        AGGREGATOR => "aggregator".into(),
        COMMUNITIES => "communities".into(),
        ORIGINATOR_ID => "originator-id".into(),
        CLUSTER_LIST => "cluster-list".into(),
        MP_REACH_NLRI => "mp-reach-nlri".into(),
        MP_UNREACH_NLRI => "mp-unreach-nlri".into(),
        EXTENDED_COMMUNITIES => "extended-communities".into(),
        AS4_PATH => "as4-path".into(),
        AS4_AGGREGATOR => "as4-aggregator".into(),
        LARGE_COMMUNITY => "large-communities".into(),
        PREFIX_SID => "prefix-sid".into(),
        t => format!("attribute-{t}"),
    }
}

/// The Optional and Transitive bits an attribute must carry (RFC 4271 §5, RFC 4456 §8,
/// RFC 4760 §3-4, RFC 4360 §2, RFC 6793 §3, RFC 8092 §3, RFC 8669 §3).
fn expected_flags(t: u8) -> Option<u8> {
    use attr_type::*;
    Some(match t {
        ORIGIN | AS_PATH | NEXT_HOP | LOCAL_PREF | ATOMIC_AGGREGATE => FLAG_TRANSITIVE,
        MULTI_EXIT_DISC | ORIGINATOR_ID | CLUSTER_LIST | MP_REACH_NLRI | MP_UNREACH_NLRI => {
            FLAG_OPTIONAL
        }
        AGGREGATOR | COMMUNITIES | EXTENDED_COMMUNITIES | AS4_PATH | AS4_AGGREGATOR
        | LARGE_COMMUNITY | PREFIX_SID => FLAG_OPTIONAL | FLAG_TRANSITIVE,
        _ => return None,
    })
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AttrValue {
    /// RFC 4271 §5.1.1: 0 IGP, 1 EGP, 2 INCOMPLETE.
    Origin(u8),
    AsPath(AsPath),
    NextHop(Ipv4Addr),
    Med(u32),
    LocalPref(u32),
    AtomicAggregate,
    Aggregator {
        asn: u32,
        address: Ipv4Addr,
    },
    Communities(Vec<u32>),
    OriginatorId(Ipv4Addr),
    ClusterList(Vec<Ipv4Addr>),
    /// Boxed: the largest value by far (64 octets), and never kept in the RIB; inline it
    /// made every attribute of every stored set 72 octets instead of 40.
    MpReach(Box<MpReach>),
    MpUnreach(Box<MpUnreach>),
    ExtendedCommunities(Vec<ExtendedCommunity>),
    As4Path(AsPath),
    As4Aggregator {
        asn: u32,
        address: Ipv4Addr,
    },
    LargeCommunities(Vec<LargeCommunity>),
    PrefixSid(PrefixSid),
    /// Not understood: type code and value kept byte for byte.
    Unknown {
        code: u8,
        value: Vec<u8>,
    },
}

impl AttrValue {
    pub fn type_code(&self) -> u8 {
        use attr_type::*;
        match self {
            AttrValue::Origin(_) => ORIGIN,
            AttrValue::AsPath(_) => AS_PATH,
            AttrValue::NextHop(_) => NEXT_HOP,
            AttrValue::Med(_) => MULTI_EXIT_DISC,
            AttrValue::LocalPref(_) => LOCAL_PREF,
            AttrValue::AtomicAggregate => ATOMIC_AGGREGATE,
            AttrValue::Aggregator { .. } => AGGREGATOR,
            AttrValue::Communities(_) => COMMUNITIES,
            AttrValue::OriginatorId(_) => ORIGINATOR_ID,
            AttrValue::ClusterList(_) => CLUSTER_LIST,
            AttrValue::MpReach(_) => MP_REACH_NLRI,
            AttrValue::MpUnreach(_) => MP_UNREACH_NLRI,
            AttrValue::ExtendedCommunities(_) => EXTENDED_COMMUNITIES,
            AttrValue::As4Path(_) => AS4_PATH,
            AttrValue::As4Aggregator { .. } => AS4_AGGREGATOR,
            AttrValue::LargeCommunities(_) => LARGE_COMMUNITY,
            AttrValue::PrefixSid(_) => PREFIX_SID,
            AttrValue::Unknown { code, .. } => *code,
        }
    }
}

/// One path attribute: its flags as received and its value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PathAttribute {
    pub flags: u8,
    pub value: AttrValue,
}

impl PathAttribute {
    /// An attribute with the flags its type requires (Extended Length added when encoding
    /// if the value needs it).
    pub fn new(value: AttrValue) -> Self {
        let flags = match &value {
            AttrValue::Unknown { .. } => FLAG_OPTIONAL | FLAG_TRANSITIVE,
            v => expected_flags(v.type_code()).unwrap_or(FLAG_OPTIONAL),
        };
        PathAttribute { flags, value }
    }

    pub fn type_code(&self) -> u8 {
        self.value.type_code()
    }
}

/// The outcome of decoding the Path Attributes field.
#[derive(Debug, Default)]
pub struct DecodedAttributes {
    pub attributes: Vec<PathAttribute>,
    pub errors: Vec<AttributeError>,
}

/// The raw header of one attribute.
fn attr_header(input: &[u8]) -> IResult<&[u8], (u8, u8, &[u8])> {
    let (input, flags) = be_u8(input)?;
    let (input, code) = be_u8(input)?;
    let (input, len) = if flags & FLAG_EXTENDED_LENGTH != 0 {
        be_u16(input)?
    } else {
        let (i, l) = be_u8(input)?;
        (i, u16::from(l))
    };
    let (input, value) = take(len)(input)?;
    Ok((input, (flags, code, value)))
}

/// Decode the Path Attributes field of an UPDATE.
///
/// Problems RFC 7606 answers with attribute-discard, treat-as-withdraw or AFI/SAFI disable are
/// collected in [`DecodedAttributes::errors`]; the session-reset cases are an `Err`.
pub fn decode_attributes(
    mut buf: &[u8],
    four_octet_as: bool,
    add_path: &dyn Fn(Family) -> bool,
) -> Result<DecodedAttributes, MessageError> {
    let mut out = DecodedAttributes {
        attributes: Vec::with_capacity(8),
        errors: Vec::new(),
    };
    let mut seen = [false; 256];
    while !buf.is_empty() {
        let (rest, (flags, code, value)) = match attr_header(buf) {
            Ok(x) => x,
            Err(_) => {
                // RFC 7606 §4: "If the Attribute Length of a path attribute is such that it
                // would extend beyond the end of the Path Attributes field, or if the
                // attribute header is too short, ... the 'treat-as-withdraw' approach MUST be
                // used" (the MP attributes already parsed still allow it).
                let code = buf.get(1).copied();
                out.errors.push(AttributeError::new(
                    code,
                    ErrorAction::TreatAsWithdraw,
                    format!(
                        "{} overruns the path attributes ({} bytes left)",
                        code.map_or("attribute header".into(), attr_name),
                        buf.len()
                    ),
                ));
                break;
            }
        };
        buf = rest;
        // Named only when something is wrong (no allocation on the normal path).
        let name = || attr_name(code);
        // RFC 7606 §3(g): "If the MP_REACH_NLRI attribute or the MP_UNREACH_NLRI attribute
        // appears more than once in the UPDATE message, then a NOTIFICATION message MUST be
        // sent with the Error Subcode 'Malformed Attribute List'. If any other attribute ...
        // appears more than once ... all the occurrences of the attribute other than the
        // first one SHALL be discarded".
        if seen[usize::from(code)] {
            if code == attr_type::MP_REACH_NLRI || code == attr_type::MP_UNREACH_NLRI {
                return Err(MessageError::update(
                    code::MALFORMED_ATTRIBUTE_LIST,
                    Vec::new(),
                    format!("{} appears twice", name()),
                ));
            }
            out.errors.push(AttributeError::new(
                Some(code),
                ErrorAction::AttributeDiscard,
                format!("{} appears again; later copies discarded", name()),
            ));
            continue;
        }
        seen[usize::from(code)] = true;
        // RFC 7606 §3(a): "If the value of either the Optional or Transitive bits in the
        // Attribute Flags is in conflict with their specified values, then the attribute MUST
        // be treated as malformed and the 'treat-as-withdraw' approach used".
        if let Some(want) = expected_flags(code)
            && flags & (FLAG_OPTIONAL | FLAG_TRANSITIVE) != want
        {
            out.errors.push(AttributeError::new(
                Some(code),
                ErrorAction::TreatAsWithdraw,
                format!(
                    "{} flags 0x{flags:02x} conflict with the required 0x{want:02x}",
                    name()
                ),
            ));
            // The MP attributes are still read so that their NLRI can be withdrawn.
            if code != attr_type::MP_REACH_NLRI && code != attr_type::MP_UNREACH_NLRI {
                continue;
            }
        }
        match decode_value(flags, code, value, four_octet_as, add_path) {
            Ok(v) => out.attributes.push(PathAttribute { flags, value: v }),
            Err(ValueError::Soft(e)) => out.errors.push(e),
            Err(ValueError::Hard(e)) => return Err(e),
        }
    }
    Ok(out)
}

enum ValueError {
    Soft(AttributeError),
    Hard(MessageError),
}

fn decode_value(
    flags: u8,
    code: u8,
    v: &[u8],
    four_octet_as: bool,
    add_path: &dyn Fn(Family) -> bool,
) -> Result<AttrValue, ValueError> {
    use attr_type::*;
    let soft = |action, reason: String| {
        ValueError::Soft(AttributeError::new(
            Some(code),
            action,
            format!("{}: {reason}", attr_name(code)),
        ))
    };
    let withdraw = |reason: String| soft(ErrorAction::TreatAsWithdraw, reason);
    let discard = |reason: String| soft(ErrorAction::AttributeDiscard, reason);
    let u32_of = |v: &[u8]| -> Option<u32> { Some(u32::from_be_bytes(v.try_into().ok()?)) };
    let ip_of = |v: &[u8]| -> Option<Ipv4Addr> { u32_of(v).map(Ipv4Addr::from) };
    let len_is = |n: usize| format!("length {} != {n}", v.len());
    Ok(match code {
        // RFC 7606 §7.1: wrong length or undefined value -> treat-as-withdraw.
        ORIGIN => match v {
            [o @ 0..=2] => AttrValue::Origin(*o),
            [o] => return Err(withdraw(format!("undefined value {o}"))),
            _ => return Err(withdraw(len_is(1))),
        },
        // RFC 7606 §7.2: a malformed AS_PATH -> treat-as-withdraw.
        AS_PATH => AttrValue::AsPath(
            as_path::decode_as_path(v, if four_octet_as { 4 } else { 2 }).map_err(withdraw)?,
        ),
        // RFC 7606 §7.3: NEXT_HOP length other than 4 -> treat-as-withdraw.
        NEXT_HOP => AttrValue::NextHop(ip_of(v).ok_or_else(|| withdraw(len_is(4)))?),
        // RFC 7606 §7.4, §7.5: length other than 4 -> treat-as-withdraw.
        MULTI_EXIT_DISC => AttrValue::Med(u32_of(v).ok_or_else(|| withdraw(len_is(4)))?),
        LOCAL_PREF => AttrValue::LocalPref(u32_of(v).ok_or_else(|| withdraw(len_is(4)))?),
        // RFC 7606 §7.6: length other than 0 -> attribute discard.
        ATOMIC_AGGREGATE => {
            if !v.is_empty() {
                return Err(discard(len_is(0)));
            }
            AttrValue::AtomicAggregate
        }
        // RFC 7606 §7.7: length other than 6 (or 8 with 4-octet AS) -> attribute discard.
        AGGREGATOR => match (four_octet_as, v.len()) {
            (true, 8) => AttrValue::Aggregator {
                asn: u32::from_be_bytes([v[0], v[1], v[2], v[3]]),
                address: Ipv4Addr::new(v[4], v[5], v[6], v[7]),
            },
            (false, 6) => AttrValue::Aggregator {
                asn: u32::from(u16::from_be_bytes([v[0], v[1]])),
                address: Ipv4Addr::new(v[2], v[3], v[4], v[5]),
            },
            (true, _) => return Err(discard(len_is(8))),
            (false, _) => return Err(discard(len_is(6))),
        },
        // RFC 7606 §7.8: length not a non-zero multiple of 4 -> treat-as-withdraw.
        COMMUNITIES => {
            if v.is_empty() || !v.len().is_multiple_of(4) {
                return Err(withdraw(format!(
                    "length {} is not a non-zero multiple of 4",
                    v.len()
                )));
            }
            AttrValue::Communities(
                v.chunks_exact(4)
                    .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            )
        }
        // RFC 7606 §7.9: ORIGINATOR_ID length other than 4 -> treat-as-withdraw.
        ORIGINATOR_ID => AttrValue::OriginatorId(ip_of(v).ok_or_else(|| withdraw(len_is(4)))?),
        // RFC 7606 §7.10: CLUSTER_LIST length not a non-zero multiple of 4 -> treat-as-withdraw.
        CLUSTER_LIST => {
            if v.is_empty() || !v.len().is_multiple_of(4) {
                return Err(withdraw(format!(
                    "length {} is not a non-zero multiple of 4",
                    v.len()
                )));
            }
            AttrValue::ClusterList(
                v.chunks_exact(4)
                    .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
                    .collect(),
            )
        }
        // RFC 7606 §7.11: a malformed MP attribute -> AFI/SAFI disable (or session reset when
        // the family cannot even be determined).
        MP_REACH_NLRI | MP_UNREACH_NLRI => {
            let r = if code == MP_REACH_NLRI {
                mp::decode_mp_reach(v, add_path).map(|m| AttrValue::MpReach(Box::new(m)))
            } else {
                mp::decode_mp_unreach(v, add_path).map(|m| AttrValue::MpUnreach(Box::new(m)))
            };
            match r {
                Ok(a) => a,
                Err(e) => match e.family {
                    Some(f) => {
                        let mut ae = AttributeError::new(
                            Some(code),
                            ErrorAction::AfiSafiDisable,
                            format!("{} ({f}): {}", attr_name(code), e.reason),
                        );
                        ae.family = Some(f);
                        return Err(ValueError::Soft(ae));
                    }
                    None => {
                        return Err(ValueError::Hard(MessageError::update(
                            code::OPTIONAL_ATTRIBUTE_ERROR,
                            attr_bytes(flags, code, v),
                            format!("{}: {}", attr_name(code), e.reason),
                        )));
                    }
                },
            }
        }
        // RFC 7606 §7.14: length not a non-zero multiple of 8 -> treat-as-withdraw.
        EXTENDED_COMMUNITIES => {
            if v.is_empty() || !v.len().is_multiple_of(8) {
                return Err(withdraw(format!(
                    "length {} is not a non-zero multiple of 8",
                    v.len()
                )));
            }
            AttrValue::ExtendedCommunities(
                v.chunks_exact(8)
                    .map(|c| {
                        let mut b = [0u8; 8];
                        b.copy_from_slice(c);
                        ExtendedCommunity(b)
                    })
                    .collect(),
            )
        }
        // RFC 6793 §6: a malformed AS4_PATH or AS4_AGGREGATOR is discarded.
        AS4_PATH => AttrValue::As4Path(as_path::decode_as_path(v, 4).map_err(discard)?),
        AS4_AGGREGATOR => {
            if v.len() != 8 {
                return Err(discard(len_is(8)));
            }
            AttrValue::As4Aggregator {
                asn: u32::from_be_bytes([v[0], v[1], v[2], v[3]]),
                address: Ipv4Addr::new(v[4], v[5], v[6], v[7]),
            }
        }
        // RFC 8092 §5: length not a non-zero multiple of 12 -> treat-as-withdraw.
        LARGE_COMMUNITY => {
            if v.is_empty() || !v.len().is_multiple_of(12) {
                return Err(withdraw(format!(
                    "length {} is not a non-zero multiple of 12",
                    v.len()
                )));
            }
            AttrValue::LargeCommunities(
                v.chunks_exact(12)
                    .map(|c| LargeCommunity {
                        global: u32::from_be_bytes([c[0], c[1], c[2], c[3]]),
                        local1: u32::from_be_bytes([c[4], c[5], c[6], c[7]]),
                        local2: u32::from_be_bytes([c[8], c[9], c[10], c[11]]),
                    })
                    .collect(),
            )
        }
        PREFIX_SID => {
            AttrValue::PrefixSid(decode_prefix_sid(v).map_err(|e| soft(e.action, e.reason))?)
        }
        code => {
            // RFC 4271 §6.3: "If any of the well-known mandatory attributes are not
            // recognized, then the Error Subcode MUST be set to Unrecognized Well-known
            // Attribute. The Data field MUST contain the unrecognized attribute".
            if flags & FLAG_OPTIONAL == 0 {
                return Err(ValueError::Hard(MessageError::update(
                    code::UNRECOGNIZED_WELL_KNOWN,
                    attr_bytes(flags, code, v),
                    format!("unrecognized well-known attribute {code}"),
                )));
            }
            AttrValue::Unknown {
                code,
                value: v.to_vec(),
            }
        }
    })
}

/// The whole attribute as on the wire (for NOTIFICATION data).
fn attr_bytes(flags: u8, code: u8, v: &[u8]) -> Vec<u8> {
    let mut b = BytesMut::new();
    put_attr(&mut b, flags, code, |o| o.put_slice(v));
    b.to_vec()
}

/// Write one attribute: the Extended Length flag is kept if it was set, and added when the
/// value needs more than 255 octets.
fn put_attr(out: &mut BytesMut, flags: u8, code: u8, body: impl FnOnce(&mut BytesMut)) {
    let start = out.len();
    out.put_u8(flags);
    out.put_u8(code);
    let ext = flags & FLAG_EXTENDED_LENGTH != 0;
    out.put_u8(0);
    if ext {
        out.put_u8(0);
    }
    let vstart = out.len();
    body(out);
    let len = out.len() - vstart;
    if ext {
        let l = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
        out[vstart - 2] = l[0];
        out[vstart - 1] = l[1];
    } else if let Ok(l) = u8::try_from(len) {
        out[vstart - 1] = l;
    } else {
        // Needs the 2-octet length after all: move the value up one octet.
        out[start] |= FLAG_EXTENDED_LENGTH;
        out.put_u8(0);
        out.copy_within(vstart..vstart + len, vstart + 1);
        let l = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
        out[vstart - 1] = l[0];
        out[vstart] = l[1];
    }
}

/// Encode one attribute.
pub fn encode_attribute(a: &PathAttribute, cx: &EncodeContext, out: &mut BytesMut) {
    let code = a.type_code();
    put_attr(out, a.flags, code, |o| encode_value(&a.value, cx, o));
}

fn encode_value(v: &AttrValue, cx: &EncodeContext, o: &mut BytesMut) {
    match v {
        AttrValue::Origin(x) => o.put_u8(*x),
        AttrValue::AsPath(p) => as_path::encode_as_path(p, if cx.four_octet_as { 4 } else { 2 }, o),
        AttrValue::NextHop(a) | AttrValue::OriginatorId(a) => o.put_slice(&a.octets()),
        AttrValue::Med(x) | AttrValue::LocalPref(x) => o.put_u32(*x),
        AttrValue::AtomicAggregate => {}
        AttrValue::Aggregator { asn, address } => {
            if cx.four_octet_as {
                o.put_u32(*asn);
            } else {
                o.put_u16(u16::try_from(*asn).unwrap_or(as_path::AS_TRANS as u16));
            }
            o.put_slice(&address.octets());
        }
        AttrValue::Communities(c) => c.iter().for_each(|x| o.put_u32(*x)),
        AttrValue::ClusterList(c) => c.iter().for_each(|x| o.put_slice(&x.octets())),
        AttrValue::MpReach(m) => mp::encode_mp_reach(m, cx.add_path.contains(m.family), o),
        AttrValue::MpUnreach(m) => mp::encode_mp_unreach(m, cx.add_path.contains(m.family), o),
        AttrValue::ExtendedCommunities(c) => c.iter().for_each(|x| o.put_slice(&x.0)),
        AttrValue::As4Path(p) => as_path::encode_as_path(p, 4, o),
        AttrValue::As4Aggregator { asn, address } => {
            o.put_u32(*asn);
            o.put_slice(&address.octets());
        }
        AttrValue::LargeCommunities(c) => c.iter().for_each(|x| {
            o.put_u32(x.global);
            o.put_u32(x.local1);
            o.put_u32(x.local2);
        }),
        AttrValue::PrefixSid(p) => encode_prefix_sid(p, o),
        AttrValue::Unknown { value, .. } => o.put_slice(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_value_gets_extended_length() {
        let a = PathAttribute::new(AttrValue::Communities((0..100).collect()));
        let mut b = BytesMut::new();
        encode_attribute(&a, &EncodeContext::default(), &mut b);
        assert_eq!(b[0], FLAG_OPTIONAL | FLAG_TRANSITIVE | FLAG_EXTENDED_LENGTH);
        assert_eq!(u16::from_be_bytes([b[2], b[3]]), 400);
        assert_eq!(b.len(), 404);
        let d = decode_attributes(&b, true, &|_| false).unwrap();
        assert!(d.errors.is_empty());
        assert_eq!(d.attributes[0].value, a.value);
    }

    #[test]
    fn extended_length_flag_is_kept_on_short_values() {
        let wire = [0x50, 2, 0, 6, 2, 1, 0, 0, 0xfd, 0xe8];
        let d = decode_attributes(&wire, true, &|_| false).unwrap();
        let mut b = BytesMut::new();
        encode_attribute(&d.attributes[0], &EncodeContext::default(), &mut b);
        assert_eq!(&b[..], &wire);
    }
}
