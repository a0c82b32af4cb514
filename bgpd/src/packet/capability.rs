//! Capabilities Advertisement (RFC 5492) and the capabilities sidra understands (IANA "Capability
//! Codes" registry).
//!
//! RFC 5492 §4: capabilities travel inside Optional Parameter type 2 of the OPEN message, as a
//! sequence of triples:
//!
//! ```text
//! +------------------------------+
//! | Capability Code (1 octet)    |
//! +------------------------------+
//! | Capability Length (1 octet)  |
//! +------------------------------+
//! | Capability Value (variable)  |
//! ~                              ~
//! +------------------------------+
//! ```
//!
//! # Values that do not parse
//!
//! A capability whose *value* does not have the layout its RFC defines (a wrong length, an
//! out-of-range field) is kept as [`Capability::Unknown`] with its code and raw bytes instead of
//! failing the whole OPEN. RFC 5492 §5 only asks a speaker to *ignore* capabilities it does not
//! understand, none of the RFCs implemented here makes a malformed value a session error, and
//! keeping the bytes means `encode(decode(b)) == b` still holds and the operator can see what the
//! peer sent. Only a capability whose *length* overruns its Optional Parameter is an error:
//! then the parameter itself is malformed (RFC 4271 §6.2, OPEN Message Error / 0 Unspecific),
//! see [`decode_capabilities`].

use bytes::{BufMut, BytesMut};
use nom::IResult;
use nom::bytes::complete::take;
use nom::number::complete::{be_u8, be_u16, be_u32};

use std::net::Ipv4Addr;

use super::error::code as err;
use super::family::{Afi, Family};
use super::open::OpenMessage;
use super::{
    DecodeContext, EncodeContext, FamilySet, MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN,
    MessageError,
};

/// Capability codes (IANA "Capability Codes").
pub mod code {
    /// RFC 4760 §8.
    pub const MULTIPROTOCOL: u8 = 1;
    /// RFC 2918 §2.
    pub const ROUTE_REFRESH: u8 = 2;
    /// RFC 5291.
    pub const OUTBOUND_ROUTE_FILTERING: u8 = 3;
    /// RFC 8950 §3.
    pub const EXTENDED_NEXT_HOP: u8 = 5;
    /// RFC 8654 §3.
    pub const EXTENDED_MESSAGE: u8 = 6;
    /// RFC 8205.
    pub const BGPSEC: u8 = 7;
    /// RFC 8277.
    pub const MULTIPLE_LABELS: u8 = 8;
    /// RFC 9234.
    pub const BGP_ROLE: u8 = 9;
    /// RFC 4724 §3, RFC 8538.
    pub const GRACEFUL_RESTART: u8 = 64;
    /// RFC 6793 §9.
    pub const FOUR_OCTET_AS: u8 = 65;
    /// RFC 7911 §4.
    pub const ADD_PATH: u8 = 69;
    /// RFC 7313 §3.
    pub const ENHANCED_ROUTE_REFRESH: u8 = 70;
    /// RFC 9494 §3.
    pub const LONG_LIVED_GRACEFUL_RESTART: u8 = 71;
    /// draft-walton-bgp-hostname-capability (IANA code 73).
    pub const FQDN: u8 = 73;
    /// The pre-standard route refresh code still sent by FRR and Cisco (IANA: "Route Refresh
    /// Capability for BGP-4 (Cisco)", deprecated).
    pub const ROUTE_REFRESH_CISCO: u8 = 128;
}

/// RFC 4724 §3: "Restart State (R): ... the BGP speaker has restarted" (bit 0 of the 4 flag bits).
pub const GR_RESTART_STATE: u8 = 0x8;
/// RFC 8538 §2: "N bit": the speaker supports Graceful Restart for the NOTIFICATION message.
pub const GR_NOTIFICATION: u8 = 0x4;
/// RFC 4724 §3: "Forwarding State (F)" in the per-family flags; RFC 9494 §3 uses the same bit.
pub const GR_FORWARDING_STATE: u8 = 0x80;

/// RFC 7911 §4 "Send/Receive" field of one ADD-PATH tuple.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddPathMode {
    /// 1: "the sender is able to receive multiple paths from its peer".
    Receive,
    /// 2: "the sender is able to send multiple paths to its peer".
    Send,
    /// 3: both.
    Both,
}

impl AddPathMode {
    pub const fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(AddPathMode::Receive),
            2 => Some(AddPathMode::Send),
            3 => Some(AddPathMode::Both),
            _ => None,
        }
    }
    pub const fn to_u8(self) -> u8 {
        match self {
            AddPathMode::Receive => 1,
            AddPathMode::Send => 2,
            AddPathMode::Both => 3,
        }
    }
    /// The advertiser is able to receive path identifiers.
    pub const fn receives(self) -> bool {
        matches!(self, AddPathMode::Receive | AddPathMode::Both)
    }
    /// The advertiser is able to send path identifiers.
    pub const fn sends(self) -> bool {
        matches!(self, AddPathMode::Send | AddPathMode::Both)
    }
    pub const fn name(self) -> &'static str {
        match self {
            AddPathMode::Receive => "receive",
            AddPathMode::Send => "send",
            AddPathMode::Both => "both",
        }
    }
}

/// One capability of an OPEN message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Capability {
    /// Code 1, RFC 4760 §8.
    ///
    /// ```text
    /// 0       7      15      23      31
    /// +-------+-------+-------+-------+
    /// |      AFI      | Res.  | SAFI  |
    /// +-------+-------+-------+-------+
    /// ```
    /// A value with a non-zero Reserved octet is kept as `Unknown` so that it re-encodes exactly;
    /// [`Capability::multiprotocol_family`] still reads its family (RFC 4760 §8: the Reserved
    /// field is "ignored by the receiver").
    MultiProtocol(Family),
    /// Code 2, RFC 2918 §2: empty value.
    RouteRefresh,
    /// Code 128, the pre-standard route refresh: empty value.
    RouteRefreshCisco,
    /// Code 5, RFC 8950 §3: `(NLRI family, next hop AFI)` tuples.
    ///
    /// ```text
    /// +-----------------------------------------------------+
    /// | NLRI AFI - 1 (2 octets)                             |
    /// +-----------------------------------------------------+
    /// | NLRI SAFI - 1 (2 octets)                            |
    /// +-----------------------------------------------------+
    /// | Nexthop AFI - 1 (2 octets)                          |
    /// +-----------------------------------------------------+
    /// | .....                                               |
    /// ```
    /// The NLRI SAFI is two octets here; one above 255 makes the value `Unknown`.
    ExtendedNextHop(Vec<(Family, Afi)>),
    /// Code 6, RFC 8654 §3: empty value.
    ExtendedMessage,
    /// Code 64, RFC 4724 §3 (N bit from RFC 8538 §2).
    ///
    /// ```text
    /// +--------------------------------------------------+
    /// | Restart Flags (4 bits)                           |
    /// +--------------------------------------------------+
    /// | Restart Time in seconds (12 bits)                |
    /// +--------------------------------------------------+
    /// | Address Family Identifier (16 bits)              |
    /// +--------------------------------------------------+
    /// | Subsequent Address Family Identifier (8 bits)    |
    /// +--------------------------------------------------+
    /// | Flags for Address Family (8 bits)                |
    /// +--------------------------------------------------+
    /// | ...                                              |
    /// ```
    GracefulRestart {
        /// The 4 flag bits, in the low nibble: [`GR_RESTART_STATE`], [`GR_NOTIFICATION`].
        restart_flags: u8,
        /// 12 bits.
        restart_time: u16,
        /// Per-family flags: [`GR_FORWARDING_STATE`].
        families: Vec<(Family, u8)>,
    },
    /// Code 65, RFC 6793 §9: the 4-octet AS number.
    FourOctetAs(u32),
    /// Code 69, RFC 7911 §4: `AFI (2) | SAFI (1) | Send/Receive (1)` tuples. A Send/Receive value
    /// outside 1..=3 makes the value `Unknown`.
    AddPath(Vec<(Family, AddPathMode)>),
    /// Code 70, RFC 7313 §3: empty value.
    EnhancedRouteRefresh,
    /// Code 71, RFC 9494 §3: `(family, flags, long-lived stale time)` tuples.
    ///
    /// ```text
    /// +--------------------------------------------------+
    /// | Address Family Identifier (16 bits)              |
    /// +--------------------------------------------------+
    /// | Subsequent Address Family Identifier (8 bits)    |
    /// +--------------------------------------------------+
    /// | Flags for Address Family (8 bits)                |
    /// +--------------------------------------------------+
    /// | Long-lived Stale Time (24 bits)                  |
    /// +--------------------------------------------------+
    /// | ...                                              |
    /// ```
    /// BIRD sends it with an empty value (no families); that is kept as an empty list.
    LongLivedGracefulRestart(Vec<(Family, u8, u32)>),
    /// Code 73, draft-walton-bgp-hostname-capability:
    /// `Hostname Length (1) | Hostname | Domain Name Length (1) | Domain Name`.
    /// The names are raw bytes (the draft asks for UTF-8 but a peer may send anything), so that
    /// they re-encode exactly; see [`Capability::fqdn_hostname`].
    Fqdn { hostname: Vec<u8>, domain: Vec<u8> },
    /// Any other code, or a known code whose value did not parse (see the module docs).
    Unknown { code: u8, value: Vec<u8> },
}

impl Capability {
    /// The capability code.
    pub const fn code(&self) -> u8 {
        match self {
            Capability::MultiProtocol(_) => code::MULTIPROTOCOL,
            Capability::RouteRefresh => code::ROUTE_REFRESH,
            Capability::RouteRefreshCisco => code::ROUTE_REFRESH_CISCO,
            Capability::ExtendedNextHop(_) => code::EXTENDED_NEXT_HOP,
            Capability::ExtendedMessage => code::EXTENDED_MESSAGE,
            Capability::GracefulRestart { .. } => code::GRACEFUL_RESTART,
            Capability::FourOctetAs(_) => code::FOUR_OCTET_AS,
            Capability::AddPath(_) => code::ADD_PATH,
            Capability::EnhancedRouteRefresh => code::ENHANCED_ROUTE_REFRESH,
            Capability::LongLivedGracefulRestart(_) => code::LONG_LIVED_GRACEFUL_RESTART,
            Capability::Fqdn { .. } => code::FQDN,
            Capability::Unknown { code, .. } => *code,
        }
    }

    /// The display name: `multiprotocol`, `route-refresh`, `graceful-restart`, ...
    /// An `Unknown` capability is named after its registry entry when it has a well-known code
    /// (`bgp-role`, ...), else `unknown`.
    pub const fn name(&self) -> &'static str {
        match self {
            Capability::Unknown { code, .. } => code_name(*code),
            known => code_name(known.code()),
        }
    }

    /// The family of a Multiprotocol Extensions capability, including one kept as `Unknown`
    /// because of a non-zero Reserved octet (RFC 4760 §8: Reserved is "ignored by the receiver").
    pub fn multiprotocol_family(&self) -> Option<Family> {
        match self {
            Capability::MultiProtocol(f) => Some(*f),
            Capability::Unknown {
                code: code::MULTIPROTOCOL,
                value,
            } => match value.as_slice() {
                [a0, a1, _reserved, safi] => {
                    Some(Family::new(u16::from_be_bytes([*a0, *a1]), *safi))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// The FQDN hostname and domain as text, when both are valid UTF-8.
    pub fn fqdn_hostname(&self) -> Option<(&str, &str)> {
        match self {
            Capability::Fqdn { hostname, domain } => Some((
                std::str::from_utf8(hostname).ok()?,
                std::str::from_utf8(domain).ok()?,
            )),
            _ => None,
        }
    }

    /// Encode the capability triple (code, length, value), appending to `out`.
    ///
    /// The length octet caps a value at 255 octets (RFC 5492 §4); a longer value (which no
    /// decoded capability can have) is cut at 255 octets so that the output stays parseable.
    pub fn encode(&self, out: &mut BytesMut) {
        let mut value = BytesMut::new();
        self.encode_value(&mut value);
        let len = value.len().min(usize::from(u8::MAX));
        out.put_u8(self.code());
        out.put_u8(u8::try_from(len).unwrap_or(u8::MAX));
        out.put_slice(value.get(..len).unwrap_or_default());
    }

    /// Encode the capability value only.
    pub fn encode_value(&self, out: &mut BytesMut) {
        match self {
            Capability::MultiProtocol(f) => {
                out.put_u16(f.afi.to_u16());
                out.put_u8(0);
                out.put_u8(f.safi.to_u8());
            }
            Capability::RouteRefresh
            | Capability::RouteRefreshCisco
            | Capability::ExtendedMessage
            | Capability::EnhancedRouteRefresh => {}
            Capability::ExtendedNextHop(entries) => {
                for (f, nh_afi) in entries {
                    out.put_u16(f.afi.to_u16());
                    out.put_u16(u16::from(f.safi.to_u8()));
                    out.put_u16(nh_afi.to_u16());
                }
            }
            Capability::GracefulRestart {
                restart_flags,
                restart_time,
                families,
            } => {
                out.put_u16((u16::from(*restart_flags & 0x0f) << 12) | (*restart_time & 0x0fff));
                for (f, flags) in families {
                    out.put_u16(f.afi.to_u16());
                    out.put_u8(f.safi.to_u8());
                    out.put_u8(*flags);
                }
            }
            Capability::FourOctetAs(asn) => out.put_u32(*asn),
            Capability::AddPath(entries) => {
                for (f, mode) in entries {
                    out.put_u16(f.afi.to_u16());
                    out.put_u8(f.safi.to_u8());
                    out.put_u8(mode.to_u8());
                }
            }
            Capability::LongLivedGracefulRestart(entries) => {
                for (f, flags, stale) in entries {
                    out.put_u16(f.afi.to_u16());
                    out.put_u8(f.safi.to_u8());
                    out.put_u8(*flags);
                    let s = (*stale & 0x00ff_ffff).to_be_bytes();
                    out.put_slice(s.get(1..).unwrap_or_default());
                }
            }
            Capability::Fqdn { hostname, domain } => {
                put_short_string(out, hostname);
                put_short_string(out, domain);
            }
            Capability::Unknown { value, .. } => out.put_slice(value),
        }
    }

    /// The encoded triple as a vector (used for NOTIFICATION data, RFC 5492 §3).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = BytesMut::new();
        self.encode(&mut out);
        out.to_vec()
    }
}

/// A one-octet length followed by at most 255 octets.
fn put_short_string(out: &mut BytesMut, s: &[u8]) {
    let s = s
        .get(..s.len().min(usize::from(u8::MAX)))
        .unwrap_or_default();
    out.put_u8(u8::try_from(s.len()).unwrap_or(u8::MAX));
    out.put_slice(s);
}

/// Whether sidra decodes the value of this capability code into a structured variant; an
/// [`Capability::Unknown`] with such a code had a malformed value.
pub const fn is_understood(c: u8) -> bool {
    matches!(
        c,
        code::MULTIPROTOCOL
            | code::ROUTE_REFRESH
            | code::EXTENDED_NEXT_HOP
            | code::EXTENDED_MESSAGE
            | code::GRACEFUL_RESTART
            | code::FOUR_OCTET_AS
            | code::ADD_PATH
            | code::ENHANCED_ROUTE_REFRESH
            | code::LONG_LIVED_GRACEFUL_RESTART
            | code::FQDN
            | code::ROUTE_REFRESH_CISCO
    )
}

/// The display name of a capability code.
pub const fn code_name(c: u8) -> &'static str {
    match c {
        code::MULTIPROTOCOL => "multiprotocol",
        code::ROUTE_REFRESH => "route-refresh",
        code::OUTBOUND_ROUTE_FILTERING => "outbound-route-filtering",
        code::EXTENDED_NEXT_HOP => "extended-next-hop",
        code::EXTENDED_MESSAGE => "extended-message",
        code::BGPSEC => "bgpsec",
        code::MULTIPLE_LABELS => "multiple-labels",
        code::BGP_ROLE => "bgp-role",
        code::GRACEFUL_RESTART => "graceful-restart",
        code::FOUR_OCTET_AS => "four-octet-as",
        code::ADD_PATH => "add-path",
        code::ENHANCED_ROUTE_REFRESH => "enhanced-route-refresh",
        code::LONG_LIVED_GRACEFUL_RESTART => "long-lived-graceful-restart",
        code::FQDN => "fqdn",
        code::ROUTE_REFRESH_CISCO => "route-refresh-cisco",
        _ => "unknown",
    }
}

type Res<'a, T> = IResult<&'a [u8], T, ()>;

fn u8_(i: &[u8]) -> Res<'_, u8> {
    be_u8(i)
}
fn u16_(i: &[u8]) -> Res<'_, u16> {
    be_u16(i)
}
fn u32_(i: &[u8]) -> Res<'_, u32> {
    be_u32(i)
}
fn bytes(n: usize) -> impl Fn(&[u8]) -> Res<'_, &[u8]> {
    move |i| take(n)(i)
}

/// `AFI (2) | SAFI (1)`, the family layout of RFC 4760.
fn family(i: &[u8]) -> Res<'_, Family> {
    let (i, afi) = u16_(i)?;
    let (i, safi) = u8_(i)?;
    Ok((i, Family::new(afi, safi)))
}

/// Run `item` until the input is used up; any failure or leftover fails the whole list.
fn list<'a, T>(mut i: &'a [u8], item: impl Fn(&'a [u8]) -> Res<'a, T>) -> Option<Vec<T>> {
    let mut out = Vec::new();
    while !i.is_empty() {
        let (rest, v) = item(i).ok()?;
        out.push(v);
        i = rest;
    }
    Some(out)
}

fn empty(value: &[u8], cap: Capability) -> Option<Capability> {
    value.is_empty().then_some(cap)
}

/// Decode one capability value. Never fails: see the module docs.
pub fn decode_capability(code: u8, value: &[u8]) -> Capability {
    parse_value(code, value).unwrap_or_else(|| Capability::Unknown {
        code,
        value: value.to_vec(),
    })
}

fn parse_value(c: u8, value: &[u8]) -> Option<Capability> {
    match c {
        // RFC 4760 §8: "Capability Length is set to 4".
        code::MULTIPROTOCOL => match value {
            [a0, a1, 0, safi] => Some(Capability::MultiProtocol(Family::new(
                u16::from_be_bytes([*a0, *a1]),
                *safi,
            ))),
            _ => None,
        },
        code::ROUTE_REFRESH => empty(value, Capability::RouteRefresh),
        code::ROUTE_REFRESH_CISCO => empty(value, Capability::RouteRefreshCisco),
        // RFC 8654 §3: "Capability Length 0".
        code::EXTENDED_MESSAGE => empty(value, Capability::ExtendedMessage),
        code::ENHANCED_ROUTE_REFRESH => empty(value, Capability::EnhancedRouteRefresh),
        code::EXTENDED_NEXT_HOP => list(value, |i| {
            let (i, afi) = u16_(i)?;
            let (i, safi) = u16_(i)?;
            let (i, nh) = u16_(i)?;
            let safi = u8::try_from(safi).map_err(|_| nom::Err::Error(()))?;
            Ok((i, (Family::new(afi, safi), Afi::from_u16(nh))))
        })
        .map(Capability::ExtendedNextHop),
        code::GRACEFUL_RESTART => {
            let (rest, head) = u16_(value).ok()?;
            let families = list(rest, |i| {
                let (i, f) = family(i)?;
                let (i, flags) = u8_(i)?;
                Ok((i, (f, flags)))
            })?;
            Some(Capability::GracefulRestart {
                restart_flags: u8::try_from(head >> 12).ok()?,
                restart_time: head & 0x0fff,
                families,
            })
        }
        // RFC 6793 §9: "the Capability Length field ... is set to 4".
        code::FOUR_OCTET_AS => match u32_(value) {
            Ok(([], asn)) => Some(Capability::FourOctetAs(asn)),
            _ => None,
        },
        code::ADD_PATH => list(value, |i| {
            let (i, f) = family(i)?;
            let (i, m) = u8_(i)?;
            let mode = AddPathMode::from_u8(m).ok_or(nom::Err::Error(()))?;
            Ok((i, (f, mode)))
        })
        .map(Capability::AddPath),
        code::LONG_LIVED_GRACEFUL_RESTART => list(value, |i| {
            let (i, f) = family(i)?;
            let (i, flags) = u8_(i)?;
            let (i, t) = bytes(3)(i)?;
            let stale = t.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
            Ok((i, (f, flags, stale)))
        })
        .map(Capability::LongLivedGracefulRestart),
        code::FQDN => {
            let (i, hl) = u8_(value).ok()?;
            let (i, hostname) = bytes(usize::from(hl))(i).ok()?;
            let (i, dl) = u8_(i).ok()?;
            let (i, domain) = bytes(usize::from(dl))(i).ok()?;
            i.is_empty().then(|| Capability::Fqdn {
                hostname: hostname.to_vec(),
                domain: domain.to_vec(),
            })
        }
        _ => None,
    }
}

/// The OPEN Message Error / 0 Unspecific that RFC 4271 §6.2 asks for when an Optional Parameter
/// "is recognized, but is malformed".
pub(crate) fn malformed_param(reason: impl Into<String>) -> MessageError {
    MessageError::new(err::OPEN, 0, Vec::new(), reason)
}

/// Decode the value of a Capabilities Optional Parameter (RFC 5492 §4) into its capabilities.
///
/// A capability header cut short, or a Capability Length that runs past the end of the
/// parameter, makes the parameter malformed: RFC 4271 §6.2, "If one of the Optional Parameters
/// in the OPEN message is recognized, but is malformed, then the Error Subcode MUST be set to 0
/// (Unspecific)."
pub fn decode_capabilities(mut buf: &[u8]) -> Result<Vec<Capability>, MessageError> {
    let mut caps = Vec::new();
    while !buf.is_empty() {
        let header: Res<'_, (u8, u8)> = (|i| {
            let (i, c) = u8_(i)?;
            let (i, l) = u8_(i)?;
            Ok((i, (c, l)))
        })(buf);
        let Ok((rest, (c, len))) = header else {
            return Err(malformed_param(format!(
                "capability header truncated: {} byte(s) left in the parameter",
                buf.len()
            )));
        };
        let Ok((rest, value)) = bytes(usize::from(len))(rest) else {
            return Err(malformed_param(format!(
                "capability {c} length {len} overruns its parameter ({} byte(s) left)",
                rest.len()
            )));
        };
        caps.push(decode_capability(c, value));
        buf = rest;
    }
    Ok(caps)
}

/// What an OPEN exchange settled between us and a peer (pure; from the two OPENs only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// The peer's AS ([`OpenMessage::asn`]).
    pub peer_asn: u32,
    pub peer_bgp_id: Ipv4Addr,
    /// RFC 6793 §4: both sides advertised the 4-octet AS capability.
    pub four_octet_as: bool,
    /// Families both sides advertised (see [`advertised_families`]).
    pub families: FamilySet,
    /// RFC 7911: families whose NLRI we receive with path identifiers.
    pub add_path_rx: FamilySet,
    /// RFC 7911: families whose NLRI we send with path identifiers.
    pub add_path_tx: FamilySet,
    /// RFC 8654: both sides advertised Extended Message (messages up to 65535 octets).
    pub extended_message: bool,
    /// RFC 8950: the `(NLRI family, next hop AFI)` tuples both sides advertised.
    pub extended_next_hop: Vec<(Family, Afi)>,
    /// RFC 2918 (code 2 or the pre-standard 128): both sides advertised route refresh.
    pub route_refresh: bool,
    /// RFC 7313: both sides advertised Enhanced Route Refresh.
    pub enhanced_route_refresh: bool,
    /// RFC 4724: both sides advertised Graceful Restart.
    pub graceful_restart: bool,
    /// RFC 9494: both sides advertised Long-Lived Graceful Restart.
    pub long_lived_graceful_restart: bool,
    /// RFC 4271 §4.2: the smaller of the two Hold Times (0: no keepalives, no hold timer).
    pub hold_time: u16,
}

impl Negotiated {
    /// RFC 4271 §10: "A reasonable maximum time between KEEPALIVE messages would be one third
    /// of the Hold Time interval."
    pub const fn keepalive_time(&self) -> u16 {
        self.hold_time / 3
    }

    /// The context for decoding what the peer sends.
    pub fn decode_context(&self) -> DecodeContext {
        DecodeContext {
            four_octet_as: self.four_octet_as,
            add_path: self.add_path_rx.clone(),
            max_message_len: self.max_message_len(),
        }
    }

    /// The context for encoding what we send.
    pub fn encode_context(&self) -> EncodeContext {
        EncodeContext {
            four_octet_as: self.four_octet_as,
            add_path: self.add_path_tx.clone(),
            max_message_len: self.max_message_len(),
        }
    }

    /// RFC 8654 §4: 65535 once both sides advertised Extended Message, else RFC 4271's 4096.
    pub const fn max_message_len(&self) -> usize {
        if self.extended_message {
            MAX_EXTENDED_MESSAGE_LEN
        } else {
            MAX_MESSAGE_LEN
        }
    }
}

/// The families an OPEN advertises through Multiprotocol Extensions capabilities.
///
/// RFC 4760 §8 negotiates multiprotocol use through the capability; a speaker that advertises
/// none of them speaks plain RFC 4271, which carries IPv4 unicast only, so that is its set.
pub fn advertised_families(open: &OpenMessage) -> FamilySet {
    let set: FamilySet = open
        .capabilities()
        .filter_map(Capability::multiprotocol_family)
        .collect();
    if set.is_empty() {
        [Family::IPV4_UNICAST].into_iter().collect()
    } else {
        set
    }
}

/// The ADD-PATH mode an OPEN advertises for a family (first tuple wins).
fn add_path_mode(open: &OpenMessage, family: Family) -> Option<AddPathMode> {
    open.capabilities()
        .filter_map(|c| match c {
            Capability::AddPath(entries) => Some(entries.as_slice()),
            _ => None,
        })
        .flatten()
        .find_map(|(f, m)| (*f == family).then_some(*m))
}

fn has(open: &OpenMessage, pred: impl Fn(&Capability) -> bool) -> bool {
    open.capabilities().any(pred)
}

/// Combine the OPEN we sent with the OPEN we received.
pub fn negotiate(sent: &OpenMessage, received: &OpenMessage) -> Negotiated {
    let ours = advertised_families(sent);
    let theirs = advertised_families(received);
    let families: FamilySet = ours.iter().filter(|f| theirs.contains(*f)).collect();

    // RFC 7911 §4-5, in short: a path identifier is carried for a family when its sender
    // advertised "send" (2 or 3) and its receiver advertised "receive" (1 or 3) for that family.
    let add_path_families: FamilySet = sent
        .capabilities()
        .chain(received.capabilities())
        .filter_map(|c| match c {
            Capability::AddPath(entries) => Some(entries.iter().map(|(f, _)| *f)),
            _ => None,
        })
        .flatten()
        .collect();
    let mut add_path_rx = FamilySet::new();
    let mut add_path_tx = FamilySet::new();
    for f in add_path_families.iter() {
        let (Some(us), Some(peer)) = (add_path_mode(sent, f), add_path_mode(received, f)) else {
            continue;
        };
        if us.receives() && peer.sends() {
            add_path_rx.insert(f);
        }
        if us.sends() && peer.receives() {
            add_path_tx.insert(f);
        }
    }

    let enhe = |open: &OpenMessage| -> Vec<(Family, Afi)> {
        open.capabilities()
            .filter_map(|c| match c {
                Capability::ExtendedNextHop(entries) => Some(entries.iter().copied()),
                _ => None,
            })
            .flatten()
            .collect()
    };
    let peer_enhe = enhe(received);
    let mut extended_next_hop: Vec<(Family, Afi)> = Vec::new();
    for e in enhe(sent) {
        if peer_enhe.contains(&e) && !extended_next_hop.contains(&e) {
            extended_next_hop.push(e);
        }
    }

    let both = |pred: fn(&Capability) -> bool| has(sent, pred) && has(received, pred);
    Negotiated {
        peer_asn: received.asn(),
        peer_bgp_id: received.bgp_id,
        four_octet_as: both(|c| matches!(c, Capability::FourOctetAs(_))),
        families,
        add_path_rx,
        add_path_tx,
        extended_message: both(|c| matches!(c, Capability::ExtendedMessage)),
        extended_next_hop,
        route_refresh: both(|c| {
            matches!(c, Capability::RouteRefresh | Capability::RouteRefreshCisco)
        }),
        enhanced_route_refresh: both(|c| matches!(c, Capability::EnhancedRouteRefresh)),
        graceful_restart: both(|c| matches!(c, Capability::GracefulRestart { .. })),
        long_lived_graceful_restart: both(|c| matches!(c, Capability::LongLivedGracefulRestart(_))),
        hold_time: sent.hold_time.min(received.hold_time),
    }
}
