//! OPEN message (RFC 4271 §4.2, RFC 5492, RFC 9072), its checks (RFC 4271 §6.2) and the
//! capability negotiation that follows it.
//!
//! RFC 4271 §4.2:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+
//! |    Version    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     My Autonomous System      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Hold Time           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         BGP Identifier                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Opt Parm Len  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |             Optional Parameters (variable)                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!
//! Each Optional Parameter:
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Parm. Type   | Parm. Length  |  Parameter Value (variable)
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! RFC 9072 §2, the extended form (Non-Ext OP Type 255 announces it; each Parm. Length is then
//! two octets):
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Non-Ext OP Len.|Non-Ext OP Type|  Extended Opt. Parm. Length   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |             Optional Parameters (variable)                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Parm. Type   |        Parameter Length       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~            Parameter Value (variable)         ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Decoding keeps the parameter structure exactly as received (one capability per parameter as
//! FRR and ExaBGP send, or all capabilities in one parameter as GoBGP and BIRD do, and which of
//! the two length forms was used), so `encode(decode(b)) == b`.
//!
//! Error split: [`decode_open`] only reports what makes the bytes unreadable; the semantic checks
//! of RFC 4271 §6.2 (version, peer AS, BGP Identifier, Hold Time, parameters, required
//! capabilities) are in the pure [`validate_open`].

use std::net::Ipv4Addr;

use bytes::{BufMut, BytesMut};
use nom::IResult;
use nom::bytes::complete::take;
use nom::number::complete::{be_u8, be_u16, be_u32};

use super::capability::{Capability, decode_capabilities, malformed_param};
use super::error::code as err;
use super::{HEADER_LEN, MessageError, bad_length};

pub use super::capability::{Negotiated, negotiate};

/// The BGP version sidra speaks (RFC 4271 §4.2).
pub const BGP_VERSION: u8 = 4;
/// RFC 6793 §9: "AS_TRANS ... 23456", sent in My Autonomous System by a speaker whose AS does not
/// fit in two octets.
pub const AS_TRANS: u16 = 23456;
/// RFC 4271 §4.2: the OPEN body without optional parameters (29-octet message minus header).
pub const MIN_OPEN_BODY_LEN: usize = 10;

/// Optional Parameter types (IANA "BGP OPEN Optional Parameter Types").
pub mod param_type {
    /// RFC 5492 §4.
    pub const CAPABILITIES: u8 = 2;
    /// RFC 9072 §2: reserved as the "Extended Length" marker.
    pub const EXTENDED_LENGTH: u8 = 255;
}

/// One Optional Parameter of an OPEN message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionalParameter {
    /// Type 2 (RFC 5492 §4): the capabilities it carries, in wire order (possibly none).
    Capabilities(Vec<Capability>),
    /// Any other type (type 1, Authentication, was deprecated by RFC 5492).
    Unknown { kind: u8, value: Vec<u8> },
}

impl OptionalParameter {
    pub const fn kind(&self) -> u8 {
        match self {
            OptionalParameter::Capabilities(_) => param_type::CAPABILITIES,
            OptionalParameter::Unknown { kind, .. } => *kind,
        }
    }

    fn value_bytes(&self) -> BytesMut {
        let mut v = BytesMut::new();
        match self {
            OptionalParameter::Capabilities(caps) => caps.iter().for_each(|c| c.encode(&mut v)),
            OptionalParameter::Unknown { value, .. } => v.put_slice(value),
        }
        v
    }
}

/// Which encoding of the Optional Parameters length an OPEN uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ParamsFormat {
    /// RFC 4271 §4.2: one-octet lengths.
    #[default]
    Standard,
    /// RFC 9072 §2: two-octet lengths. `non_ext_len` is the Non-Ext OP Len octet as received
    /// ("SHOULD be set to 255 on transmission", "MUST be ignored on receipt"), kept so the
    /// message re-encodes exactly.
    Extended { non_ext_len: u8 },
}

/// How the capabilities are spread over the Optional Parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParamsStyle {
    /// No capabilities parameter at all.
    None,
    /// One capability per parameter (FRR, ExaBGP).
    OnePerParameter,
    /// Every capability in a single parameter (GoBGP, BIRD).
    AllInOne,
    /// Anything else.
    Mixed,
}

impl ParamsStyle {
    pub const fn name(self) -> &'static str {
        match self {
            ParamsStyle::None => "none",
            ParamsStyle::OnePerParameter => "one-per-parameter",
            ParamsStyle::AllInOne => "all-in-one",
            ParamsStyle::Mixed => "mixed",
        }
    }
}

/// An OPEN message, parameters kept as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenMessage {
    pub version: u8,
    /// The two-octet My Autonomous System field ([`AS_TRANS`] for a 4-octet AS).
    pub my_as: u16,
    pub hold_time: u16,
    pub bgp_id: Ipv4Addr,
    pub params: Vec<OptionalParameter>,
    pub params_format: ParamsFormat,
}

impl OpenMessage {
    /// The OPEN sidra sends: version 4, `my_as` set to [`AS_TRANS`] when `asn` needs four
    /// octets (RFC 6793 §9), and all capabilities in one parameter. A
    /// [`Capability::FourOctetAs`]`(asn)` is added when `caps` has none (RFC 6793 §9: a speaker
    /// that supports 4-octet AS numbers advertises the capability).
    pub fn new(asn: u32, hold_time: u16, bgp_id: Ipv4Addr, mut caps: Vec<Capability>) -> Self {
        if !caps.iter().any(|c| matches!(c, Capability::FourOctetAs(_))) {
            caps.push(Capability::FourOctetAs(asn));
        }
        OpenMessage {
            version: BGP_VERSION,
            my_as: u16::try_from(asn).unwrap_or(AS_TRANS),
            hold_time,
            bgp_id,
            params: vec![OptionalParameter::Capabilities(caps)],
            params_format: ParamsFormat::Standard,
        }
    }

    /// Every capability of every Capabilities parameter, in wire order.
    pub fn capabilities(&self) -> impl Iterator<Item = &Capability> {
        self.params.iter().flat_map(|p| match p {
            OptionalParameter::Capabilities(caps) => caps.as_slice(),
            OptionalParameter::Unknown { .. } => &[],
        })
    }

    /// The first capability with this code.
    pub fn capability(&self, code: u8) -> Option<&Capability> {
        self.capabilities().find(|c| c.code() == code)
    }

    /// The speaker's AS: from the 4-octet AS capability if present (RFC 6793 §4.1), else
    /// My Autonomous System.
    pub fn asn(&self) -> u32 {
        self.capabilities()
            .find_map(|c| match c {
                Capability::FourOctetAs(asn) => Some(*asn),
                _ => None,
            })
            .unwrap_or(u32::from(self.my_as))
    }

    /// How the capabilities are spread over the parameters.
    pub fn params_style(&self) -> ParamsStyle {
        let sizes: Vec<usize> = self
            .params
            .iter()
            .filter_map(|p| match p {
                OptionalParameter::Capabilities(caps) => Some(caps.len()),
                OptionalParameter::Unknown { .. } => None,
            })
            .collect();
        match sizes.as_slice() {
            [] => ParamsStyle::None,
            [_] => ParamsStyle::AllInOne,
            many if many.iter().all(|&n| n == 1) => ParamsStyle::OnePerParameter,
            _ => ParamsStyle::Mixed,
        }
    }
}

type Res<'a, T> = IResult<&'a [u8], T, ()>;

fn u8_(i: &[u8]) -> Res<'_, u8> {
    be_u8(i)
}
fn u16_(i: &[u8]) -> Res<'_, u16> {
    be_u16(i)
}

/// The fixed part: Version, My AS, Hold Time, BGP Identifier, Opt Parm Len.
fn fixed(i: &[u8]) -> Res<'_, (u8, u16, u16, Ipv4Addr, u8)> {
    let (i, version) = u8_(i)?;
    let (i, my_as) = u16_(i)?;
    let (i, hold_time) = u16_(i)?;
    let (i, id) = be_u32(i)?;
    let (i, opt_len) = u8_(i)?;
    Ok((i, (version, my_as, hold_time, Ipv4Addr::from(id), opt_len)))
}

/// Decode an OPEN body (the message without its 19-octet header).
///
/// Errors:
/// * a body shorter than 10 octets: RFC 4271 §6.1, "if the Length field of an OPEN message is
///   less than the minimum length of the OPEN message ... Bad Message Length" (1/2, data = the
///   erroneous Length field);
/// * an Optional Parameters length that disagrees with the bytes present, a parameter or a
///   capability that overruns what contains it: RFC 4271 §6.2, a parameter that "is recognized,
///   but is malformed" (2/0 Unspecific, no data).
pub fn decode_open(body: &[u8]) -> Result<OpenMessage, MessageError> {
    let msg_len = body.len() + HEADER_LEN;
    let Ok((rest, (version, my_as, hold_time, bgp_id, opt_len))) = fixed(body) else {
        return Err(bad_length(
            msg_len,
            format!("OPEN of length {msg_len}, minimum is 29"),
        ));
    };
    // RFC 9072 §2: "On receipt, a value of 255 for this field [Non-Ext OP Type] is the indication
    // that the extended format is in use." (It exists only when Non-Ext OP Len is not 0.)
    let extended = opt_len != 0 && rest.first() == Some(&param_type::EXTENDED_LENGTH);
    let (params_format, params_bytes) = if extended {
        let Ok((params, ext_len)) = u8_(rest).and_then(|(i, _)| u16_(i)) else {
            return Err(malformed_param(
                "RFC 9072 extended parameters length truncated",
            ));
        };
        if params.len() != usize::from(ext_len) {
            return Err(malformed_param(format!(
                "extended optional parameters length {ext_len} but {} byte(s) follow",
                params.len()
            )));
        }
        (
            ParamsFormat::Extended {
                non_ext_len: opt_len,
            },
            params,
        )
    } else {
        if rest.len() != usize::from(opt_len) {
            return Err(malformed_param(format!(
                "optional parameters length {opt_len} but {} byte(s) follow",
                rest.len()
            )));
        }
        (ParamsFormat::Standard, rest)
    };
    let params = decode_params(params_bytes, extended)?;
    Ok(OpenMessage {
        version,
        my_as,
        hold_time,
        bgp_id,
        params,
        params_format,
    })
}

fn decode_params(mut i: &[u8], extended: bool) -> Result<Vec<OptionalParameter>, MessageError> {
    let mut params = Vec::new();
    while !i.is_empty() {
        let header = u8_(i).and_then(|(r, kind)| {
            let (r, len) = if extended {
                u16_(r)?
            } else {
                u8_(r).map(|(r, l)| (r, l.into()))?
            };
            Ok((r, (kind, len)))
        });
        let Ok((rest, (kind, len))) = header else {
            return Err(malformed_param(format!(
                "optional parameter header truncated: {} byte(s) left",
                i.len()
            )));
        };
        let taken: Res<'_, &[u8]> = take(usize::from(len))(rest);
        let Ok((rest, value)) = taken else {
            return Err(malformed_param(format!(
                "optional parameter type {kind} length {len} overruns the parameters \
                 ({} byte(s) left)",
                rest.len()
            )));
        };
        params.push(match kind {
            param_type::CAPABILITIES => {
                OptionalParameter::Capabilities(decode_capabilities(value)?)
            }
            _ => OptionalParameter::Unknown {
                kind,
                value: value.to_vec(),
            },
        });
        i = rest;
    }
    Ok(params)
}

/// Encode an OPEN body, appending to `out`.
///
/// The RFC 9072 extended form is used when `params_format` says so, or when the parameters do
/// not fit one-octet lengths (RFC 9072 §2: "if the length of the Optional Parameters in the BGP
/// OPEN message does exceed 255, the OPEN message MUST be encoded according to the procedure
/// below"); a decoded message never needs that switch, so decoded messages re-encode exactly.
pub fn encode_open(m: &OpenMessage, out: &mut BytesMut) {
    out.put_u8(m.version);
    out.put_u16(m.my_as);
    out.put_u16(m.hold_time);
    out.put_slice(&m.bgp_id.octets());
    let values: Vec<(u8, BytesMut)> = m
        .params
        .iter()
        .map(|p| (p.kind(), p.value_bytes()))
        .collect();
    let standard_len: usize = values.iter().map(|(_, v)| 2 + v.len()).sum();
    let too_long = standard_len > 255 || values.iter().any(|(_, v)| v.len() > 255);
    let non_ext_len = match m.params_format {
        ParamsFormat::Extended { non_ext_len } => Some(non_ext_len),
        ParamsFormat::Standard if too_long => Some(u8::MAX),
        ParamsFormat::Standard => None,
    };
    match non_ext_len {
        Some(non_ext_len) => {
            // RFC 9072 §2: Non-Ext OP Len "MUST NOT be set to 0"; Non-Ext OP Type "MUST be set
            // to 255 on transmission".
            out.put_u8(if non_ext_len == 0 {
                u8::MAX
            } else {
                non_ext_len
            });
            out.put_u8(param_type::EXTENDED_LENGTH);
            let total: usize = values.iter().map(|(_, v)| 3 + v.len()).sum();
            out.put_u16(u16::try_from(total).unwrap_or(u16::MAX));
            for (kind, v) in &values {
                out.put_u8(*kind);
                out.put_u16(u16::try_from(v.len()).unwrap_or(u16::MAX));
                out.put_slice(v);
            }
        }
        None => {
            out.put_u8(u8::try_from(standard_len).unwrap_or(u8::MAX));
            for (kind, v) in &values {
                out.put_u8(*kind);
                out.put_u8(u8::try_from(v.len()).unwrap_or(u8::MAX));
                out.put_slice(v);
            }
        }
    }
}

/// What the local configuration expects of a peer's OPEN.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenExpectations {
    /// The configured peer AS; `None` accepts any (non-zero) AS.
    pub peer_as: Option<u32>,
    /// Our own AS, to tell internal peers (same AS) from external ones.
    pub local_as: Option<u32>,
    /// Our own BGP Identifier: an internal peer must not use it (RFC 6286 §2.2).
    pub local_bgp_id: Option<Ipv4Addr>,
    /// Capabilities the peer must advertise. A required capability is met by a received one with
    /// the same code and, for [`Capability::MultiProtocol`], the same family.
    pub required_capabilities: Vec<Capability>,
}

fn open_error(subcode: u8, data: Vec<u8>, reason: String) -> MessageError {
    MessageError::new(err::OPEN, subcode, data, reason)
}

fn meets(required: &Capability, open: &OpenMessage) -> bool {
    match required.multiprotocol_family() {
        Some(f) => open
            .capabilities()
            .any(|c| c.multiprotocol_family() == Some(f)),
        None => open.capabilities().any(|c| c.code() == required.code()),
    }
}

/// The semantic checks of RFC 4271 §6.2 on a decoded OPEN, in the order the RFC lists them.
pub fn validate_open(open: &OpenMessage, expected: &OpenExpectations) -> Result<(), MessageError> {
    // RFC 4271 §6.2: "If the version number in the Version field of the received OPEN message is
    // not supported, then the Error Subcode MUST be set to Unsupported Version Number. The Data
    // field is a 2-octet unsigned integer, which indicates the largest, locally-supported
    // version number less than the version the remote BGP peer bid ..., or if the smallest,
    // locally-supported version number is greater than the version the remote BGP peer bid,
    // then the smallest, locally-supported version number." sidra supports only 4.
    if open.version != BGP_VERSION {
        return Err(open_error(
            err::UNSUPPORTED_VERSION,
            u16::from(BGP_VERSION).to_be_bytes().to_vec(),
            format!("unsupported BGP version {}", open.version),
        ));
    }
    // RFC 4271 §6.2: "If the Autonomous System field of the OPEN message is unacceptable, then
    // the Error Subcode MUST be set to Bad Peer AS."
    // RFC 7607 §2: "If a BGP speaker receives zero as the peer AS in an OPEN message, it MUST
    // abort the connection and send a NOTIFICATION with Error Code "OPEN Message Error" and
    // subcode "Bad Peer AS"".
    let asn = open.asn();
    if asn == 0 {
        return Err(open_error(err::BAD_PEER_AS, Vec::new(), "peer AS 0".into()));
    }
    if let Some(want) = expected.peer_as.filter(|&want| want != asn) {
        return Err(open_error(
            err::BAD_PEER_AS,
            Vec::new(),
            format!("peer AS {asn}, configured {want}"),
        ));
    }
    // RFC 4271 §6.2: "If the Hold Time field of the OPEN message is unacceptable, then the Error
    // Subcode MUST be set to Unacceptable Hold Time. An implementation MUST reject Hold Time
    // values of one or two seconds."
    if matches!(open.hold_time, 1 | 2) {
        return Err(open_error(
            err::UNACCEPTABLE_HOLD_TIME,
            Vec::new(),
            format!("hold time {} (must be 0 or at least 3)", open.hold_time),
        ));
    }
    // RFC 6286 §2.2: "If the BGP Identifier field of the OPEN message is zero, or if it is the
    // same as the BGP Identifier of the local BGP speaker and the message is from an internal
    // peer, then the Error Subcode is set to "Bad BGP Identifier"."
    if open.bgp_id.is_unspecified() {
        return Err(open_error(
            err::BAD_BGP_IDENTIFIER,
            Vec::new(),
            "BGP identifier 0".into(),
        ));
    }
    if expected.local_bgp_id == Some(open.bgp_id) && expected.local_as == Some(asn) {
        return Err(open_error(
            err::BAD_BGP_IDENTIFIER,
            Vec::new(),
            format!("internal peer uses our BGP identifier {}", open.bgp_id),
        ));
    }
    // RFC 4271 §6.2: "If one of the Optional Parameters in the OPEN message is not recognized,
    // then the Error Subcode MUST be set to Unsupported Optional Parameters."
    if let Some(kind) = open.params.iter().find_map(|p| match p {
        OptionalParameter::Unknown { kind, .. } => Some(*kind),
        OptionalParameter::Capabilities(_) => None,
    }) {
        return Err(open_error(
            err::UNSUPPORTED_OPTIONAL_PARAMETER,
            Vec::new(),
            format!("unsupported optional parameter type {kind}"),
        ));
    }
    // RFC 5492 §3: "If a BGP speaker that supports a certain capability determines that its peer
    // doesn't support this capability, the speaker MAY send a NOTIFICATION message to the peer
    // and terminate peering ... The Error Subcode in the message MUST be set to Unsupported
    // Capability. The message MUST contain the capability or capabilities that cause the speaker
    // to send the message."
    let missing: Vec<&Capability> = expected
        .required_capabilities
        .iter()
        .filter(|c| !meets(c, open))
        .collect();
    if !missing.is_empty() {
        let names: Vec<String> = missing
            .iter()
            .map(|c| match c.multiprotocol_family() {
                Some(f) => format!("{}({f})", c.name()),
                None => c.name().to_string(),
            })
            .collect();
        return Err(open_error(
            err::UNSUPPORTED_CAPABILITY,
            missing.iter().flat_map(|c| c.to_bytes()).collect(),
            format!("peer lacks required capabilities: {}", names.join(", ")),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Family;

    #[test]
    fn new_uses_as_trans_and_one_parameter() {
        let m = OpenMessage::new(
            4_200_000_001,
            90,
            Ipv4Addr::new(1, 1, 1, 1),
            vec![Capability::MultiProtocol(Family::IPV6_VPN)],
        );
        assert_eq!(m.my_as, AS_TRANS);
        assert_eq!(m.asn(), 4_200_000_001);
        assert_eq!(m.params.len(), 1);
        assert_eq!(m.params_style(), ParamsStyle::AllInOne);
        let mut b = BytesMut::new();
        encode_open(&m, &mut b);
        assert_eq!(decode_open(&b).unwrap(), m);
        validate_open(&m, &OpenExpectations::default()).unwrap();
    }

    #[test]
    fn long_parameters_switch_to_rfc9072() {
        let caps = (0..100).map(Capability::FourOctetAs).collect();
        let mut m = OpenMessage::new(65000, 9, Ipv4Addr::new(1, 1, 1, 1), caps);
        let mut b = BytesMut::new();
        encode_open(&m, &mut b);
        assert_eq!(b[9..11], [255, 255]);
        let back = decode_open(&b).unwrap();
        m.params_format = ParamsFormat::Extended { non_ext_len: 255 };
        assert_eq!(back, m);
    }
}
