//! ROUTE-REFRESH message (RFC 2918 §3), with the Message Subtype of RFC 7313 §3.
//!
//! ```text
//!  0       7      15      23      31
//!  +-------+-------+-------+-------+
//!  |      AFI      |Subtype| SAFI  |
//!  +-------+-------+-------+-------+
//! ```
//!
//! RFC 7313 §3: "the 'Reserved' field of the ROUTE-REFRESH message specified in [RFC2918] is
//! re-defined as the 'Message Subtype'": 0 normal route refresh, 1 BoRR (Beginning of
//! ROUTE-REFRESH), 2 EoRR (End of ROUTE-REFRESH).

use bytes::{BufMut, BytesMut};
use nom::IResult;
use nom::number::complete::{be_u8, be_u16};

use super::error::code;
use super::family::Family;
use super::{HEADER_LEN, MessageError, bad_length, msg_type};

/// The ROUTE-REFRESH body length (RFC 2918 §3).
pub const ROUTE_REFRESH_BODY_LEN: usize = 4;

/// RFC 7313 §3 Message Subtype.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RouteRefreshSubtype {
    /// 0: a normal route refresh request (RFC 2918).
    Normal,
    /// 1: Beginning of ROUTE-REFRESH.
    BeginningOfRouteRefresh,
    /// 2: End of ROUTE-REFRESH.
    EndOfRouteRefresh,
    /// Anything else. RFC 7313 §5: "When the BGP speaker receives a ROUTE-REFRESH message with
    /// a "Message Subtype" field other than 0, 1, or 2, it MUST ignore the received
    /// ROUTE-REFRESH message." Ignoring it is the session's job; the codec keeps the value.
    Other(u8),
}

impl RouteRefreshSubtype {
    pub const fn from_u8(v: u8) -> Self {
        match v {
            0 => RouteRefreshSubtype::Normal,
            1 => RouteRefreshSubtype::BeginningOfRouteRefresh,
            2 => RouteRefreshSubtype::EndOfRouteRefresh,
            other => RouteRefreshSubtype::Other(other),
        }
    }
    pub const fn to_u8(self) -> u8 {
        match self {
            RouteRefreshSubtype::Normal => 0,
            RouteRefreshSubtype::BeginningOfRouteRefresh => 1,
            RouteRefreshSubtype::EndOfRouteRefresh => 2,
            RouteRefreshSubtype::Other(v) => v,
        }
    }
    /// `normal`, `borr`, `eorr` or `unknown`.
    pub const fn name(self) -> &'static str {
        match self {
            RouteRefreshSubtype::Normal => "normal",
            RouteRefreshSubtype::BeginningOfRouteRefresh => "borr",
            RouteRefreshSubtype::EndOfRouteRefresh => "eorr",
            RouteRefreshSubtype::Other(_) => "unknown",
        }
    }
}

/// A ROUTE-REFRESH message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteRefreshMessage {
    pub family: Family,
    pub subtype: RouteRefreshSubtype,
}

impl RouteRefreshMessage {
    /// A normal (RFC 2918) route refresh request for `family`.
    pub const fn new(family: Family) -> Self {
        RouteRefreshMessage {
            family,
            subtype: RouteRefreshSubtype::Normal,
        }
    }
}

type Res<'a, T> = IResult<&'a [u8], T, ()>;

fn body(i: &[u8]) -> Res<'_, (u16, u8, u8)> {
    let (i, afi) = be_u16(i)?;
    let (i, subtype) = be_u8(i)?;
    let (i, safi) = be_u8(i)?;
    Ok((i, (afi, subtype, safi)))
}

/// Decode a ROUTE-REFRESH body (the message without its header).
///
/// The body must be exactly 4 octets:
/// * with subtype 1 or 2 (BoRR/EoRR), RFC 7313 §5: "If the length, excluding the fixed-size
///   message header, of the received ROUTE-REFRESH message with Message Subtype 1 and 2 is not
///   4, then the BGP speaker MUST send a NOTIFICATION message with the Error Code of
///   "ROUTE-REFRESH Message Error" and the subcode of "Invalid Message Length". The Data field
///   of the NOTIFICATION message MUST contain the complete ROUTE-REFRESH message." (7/1, data =
///   header and body);
/// * otherwise (subtype 0, another subtype, or a body too short to hold one) RFC 7313 gives no
///   rule, and the message's length is wrong for its type: RFC 4271 §6.1 Bad Message Length
///   (1/2, data = the erroneous Length field). For subtypes other than 0-2 this means such a
///   message is reported rather than ignored, since there is no family to keep.
pub fn decode_route_refresh(b: &[u8]) -> Result<RouteRefreshMessage, MessageError> {
    let len = b.len() + HEADER_LEN;
    let subtype = b.get(2).copied().map(RouteRefreshSubtype::from_u8);
    if b.len() != ROUTE_REFRESH_BODY_LEN {
        return Err(match subtype {
            Some(
                s @ (RouteRefreshSubtype::BeginningOfRouteRefresh
                | RouteRefreshSubtype::EndOfRouteRefresh),
            ) => MessageError::new(
                code::ROUTE_REFRESH,
                code::INVALID_MESSAGE_LENGTH,
                whole_message(b),
                format!("ROUTE-REFRESH ({}) of length {len}, must be 23", s.name()),
            ),
            _ => bad_length(len, format!("ROUTE-REFRESH of length {len}, must be 23")),
        });
    }
    let Ok((_, (afi, subtype, safi))) = body(b) else {
        return Err(bad_length(
            len,
            format!("ROUTE-REFRESH of length {len}, must be 23"),
        ));
    };
    Ok(RouteRefreshMessage {
        family: Family::new(afi, safi),
        subtype: RouteRefreshSubtype::from_u8(subtype),
    })
}

/// The complete message (header included) for RFC 7313 §5 error data.
fn whole_message(b: &[u8]) -> Vec<u8> {
    let len = u16::try_from(b.len() + HEADER_LEN).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(HEADER_LEN + b.len());
    out.extend_from_slice(&[0xff; 16]);
    out.extend_from_slice(&len.to_be_bytes());
    out.push(msg_type::ROUTE_REFRESH);
    out.extend_from_slice(b);
    out
}

/// Encode a ROUTE-REFRESH body, appending to `out`.
pub fn encode_route_refresh(m: &RouteRefreshMessage, out: &mut BytesMut) {
    out.put_u16(m.family.afi.to_u16());
    out.put_u8(m.subtype.to_u8());
    out.put_u8(m.family.safi.to_u8());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_subtypes() {
        for s in [0u8, 1, 2, 7] {
            let b = [0, 2, s, 128];
            let m = decode_route_refresh(&b).unwrap();
            assert_eq!(m.family, Family::IPV6_VPN);
            assert_eq!(m.subtype.to_u8(), s);
            let mut out = BytesMut::new();
            encode_route_refresh(&m, &mut out);
            assert_eq!(out.as_ref(), b);
        }
    }

    #[test]
    fn wrong_lengths() {
        let e = decode_route_refresh(&[0, 2, 1, 128, 0]).unwrap_err();
        assert_eq!((e.code, e.subcode), (7, 1));
        assert_eq!(e.data.len(), 24);
        assert_eq!(e.data[16..], [0, 24, 5, 0, 2, 1, 128, 0]);
        let e = decode_route_refresh(&[0, 2, 0]).unwrap_err();
        assert_eq!(
            (e.code, e.subcode, e.data.as_slice()),
            (1, 2, &[0u8, 22][..])
        );
        let e = decode_route_refresh(&[]).unwrap_err();
        assert_eq!((e.code, e.subcode), (1, 2));
    }
}
