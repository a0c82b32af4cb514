//! NOTIFICATION message (RFC 4271 §4.5), with the Cease data formats of RFC 9003 (Shutdown
//! Communication) and RFC 8538 (Hard Reset), and the names of every code and subcode.
//!
//! RFC 4271 §4.5:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Error code    | Error subcode |   Data (variable)             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use bytes::{BufMut, BytesMut};
use nom::IResult;
use nom::number::complete::be_u8;

use super::error::code;
use super::{HEADER_LEN, MessageError, bad_length};

/// Cease subcodes (RFC 4486 §4, RFC 8538 §3, RFC 9384 §3).
pub mod cease {
    pub const MAX_PREFIXES: u8 = 1;
    pub const ADMINISTRATIVE_SHUTDOWN: u8 = 2;
    pub const PEER_DECONFIGURED: u8 = 3;
    pub const ADMINISTRATIVE_RESET: u8 = 4;
    pub const CONNECTION_REJECTED: u8 = 5;
    pub const OTHER_CONFIGURATION_CHANGE: u8 = 6;
    pub const CONNECTION_COLLISION_RESOLUTION: u8 = 7;
    pub const OUT_OF_RESOURCES: u8 = 8;
    pub const HARD_RESET: u8 = 9;
    pub const BFD_DOWN: u8 = 10;
}

/// RFC 9003 §2: the Shutdown Communication holds at most 255 octets of UTF-8.
pub const MAX_SHUTDOWN_COMMUNICATION_LEN: usize = 255;

/// A NOTIFICATION message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationMessage {
    pub code: u8,
    pub subcode: u8,
    pub data: Vec<u8>,
}

impl NotificationMessage {
    pub fn new(code: u8, subcode: u8, data: impl Into<Vec<u8>>) -> Self {
        NotificationMessage {
            code,
            subcode,
            data: data.into(),
        }
    }

    /// A Cease with a Shutdown Communication (RFC 9003 §2), for subcode 2 (Administrative
    /// Shutdown) or 4 (Administrative Reset). The message is cut to 255 octets at a UTF-8
    /// character boundary.
    ///
    /// ```text
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// | Error code 6  |    Subcode    |    Length     |     ...       \
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+               /
    /// \                                                               \
    /// /                 ... Shutdown Communication ...                /
    /// \                                                               \
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// ```
    pub fn cease_shutdown(subcode: u8, msg: &str) -> Self {
        let mut end = msg.len().min(MAX_SHUTDOWN_COMMUNICATION_LEN);
        while !msg.is_char_boundary(end) {
            end -= 1;
        }
        let text = msg.get(..end).unwrap_or_default().as_bytes();
        let mut data = Vec::with_capacity(1 + text.len());
        data.push(u8::try_from(text.len()).unwrap_or(u8::MAX));
        data.extend_from_slice(text);
        NotificationMessage {
            code: code::CEASE,
            subcode,
            data,
        }
    }

    /// A Cease / Hard Reset (RFC 8538 §3.1) wrapping the NOTIFICATION that would otherwise have
    /// been sent: its "Data field ... MUST contain the ErrCode and Subcode of the NOTIFICATION
    /// that would have been sent, followed by the data".
    ///
    /// ```text
    /// +--------+--------+--------+--------+---------------------------+
    /// | Code 6 | Sub 9  | ErrCode| Subcode|   Data (of the inner one) |
    /// +--------+--------+--------+--------+---------------------------+
    /// ```
    pub fn hard_reset(inner: &NotificationMessage) -> Self {
        let mut data = Vec::with_capacity(2 + inner.data.len());
        data.push(inner.code);
        data.push(inner.subcode);
        data.extend_from_slice(&inner.data);
        NotificationMessage {
            code: code::CEASE,
            subcode: cease::HARD_RESET,
            data,
        }
    }

    /// The Shutdown Communication of a Cease 6/2 or 6/4 (RFC 9003 §2).
    ///
    /// `None` when this is another NOTIFICATION, when the data is empty, or when the
    /// communication is malformed (a Length past the data, invalid UTF-8): RFC 9003 §3 only asks
    /// that such a communication be logged, so it never fails the decode. Octets after the
    /// communication are ignored. A Length of 0 gives `Some("")`.
    pub fn shutdown_message(&self) -> Option<String> {
        if self.code != code::CEASE
            || !matches!(
                self.subcode,
                cease::ADMINISTRATIVE_SHUTDOWN | cease::ADMINISTRATIVE_RESET
            )
        {
            return None;
        }
        let (rest, len) = be_u8::<_, ()>(self.data.as_slice()).ok()?;
        let text = rest.get(..usize::from(len))?;
        std::str::from_utf8(text).ok().map(str::to_owned)
    }

    /// The inner `(code, subcode, data)` of a Cease / Hard Reset (RFC 8538 §3.1), or `None` for
    /// any other NOTIFICATION or a Hard Reset with less than two octets of data.
    pub fn hard_reset_inner(&self) -> Option<(u8, u8, &[u8])> {
        if self.code != code::CEASE || self.subcode != cease::HARD_RESET {
            return None;
        }
        match self.data.as_slice() {
            [c, s, rest @ ..] => Some((*c, *s, rest)),
            _ => None,
        }
    }

    pub const fn code_name(&self) -> &'static str {
        code_name(self.code)
    }

    pub const fn subcode_name(&self) -> &'static str {
        subcode_name(self.code, self.subcode)
    }
}

impl From<&MessageError> for NotificationMessage {
    fn from(e: &MessageError) -> Self {
        NotificationMessage {
            code: e.code,
            subcode: e.subcode,
            data: e.data.clone(),
        }
    }
}

/// The name of an Error Code (RFC 4271 §4.5, RFC 7313 §5, RFC 9687 §3).
pub const fn code_name(c: u8) -> &'static str {
    match c {
        code::MESSAGE_HEADER => "Message Header Error",
        code::OPEN => "OPEN Message Error",
        code::UPDATE => "UPDATE Message Error",
        code::HOLD_TIMER_EXPIRED => "Hold Timer Expired",
        code::FSM => "Finite State Machine Error",
        code::CEASE => "Cease",
        code::ROUTE_REFRESH => "ROUTE-REFRESH Message Error",
        8 => "Send Hold Timer Expired",
        _ => "Unknown",
    }
}

/// The name of an Error Subcode, per Error Code (IANA "BGP Error Subcodes"). Subcode 0 is
/// "Unspecific" (RFC 4271 §6.2 for OPEN errors, and the value used where a code has no
/// subcodes).
pub const fn subcode_name(c: u8, s: u8) -> &'static str {
    if s == 0 {
        return "Unspecific";
    }
    match (c, s) {
        // RFC 4271 §6.1
        (code::MESSAGE_HEADER, 1) => "Connection Not Synchronized",
        (code::MESSAGE_HEADER, 2) => "Bad Message Length",
        (code::MESSAGE_HEADER, 3) => "Bad Message Type",
        // RFC 4271 §6.2, RFC 5492 §5, RFC 9234 §4.2
        (code::OPEN, 1) => "Unsupported Version Number",
        (code::OPEN, 2) => "Bad Peer AS",
        (code::OPEN, 3) => "Bad BGP Identifier",
        (code::OPEN, 4) => "Unsupported Optional Parameter",
        (code::OPEN, 5) => "Authentication Failure (deprecated)",
        (code::OPEN, 6) => "Unacceptable Hold Time",
        (code::OPEN, 7) => "Unsupported Capability",
        (code::OPEN, 11) => "Role Mismatch",
        // RFC 4271 §6.3
        (code::UPDATE, 1) => "Malformed Attribute List",
        (code::UPDATE, 2) => "Unrecognized Well-known Attribute",
        (code::UPDATE, 3) => "Missing Well-known Attribute",
        (code::UPDATE, 4) => "Attribute Flags Error",
        (code::UPDATE, 5) => "Attribute Length Error",
        (code::UPDATE, 6) => "Invalid ORIGIN Attribute",
        (code::UPDATE, 7) => "AS Routing Loop (deprecated)",
        (code::UPDATE, 8) => "Invalid NEXT_HOP Attribute",
        (code::UPDATE, 9) => "Optional Attribute Error",
        (code::UPDATE, 10) => "Invalid Network Field",
        (code::UPDATE, 11) => "Malformed AS_PATH",
        // RFC 6608 §3
        (code::FSM, 1) => "Receive Unexpected Message in OpenSent State",
        (code::FSM, 2) => "Receive Unexpected Message in OpenConfirm State",
        (code::FSM, 3) => "Receive Unexpected Message in Established State",
        // RFC 4486 §4, RFC 8538 §3, RFC 9384 §3
        (code::CEASE, cease::MAX_PREFIXES) => "Maximum Number of Prefixes Reached",
        (code::CEASE, cease::ADMINISTRATIVE_SHUTDOWN) => "Administrative Shutdown",
        (code::CEASE, cease::PEER_DECONFIGURED) => "Peer De-configured",
        (code::CEASE, cease::ADMINISTRATIVE_RESET) => "Administrative Reset",
        (code::CEASE, cease::CONNECTION_REJECTED) => "Connection Rejected",
        (code::CEASE, cease::OTHER_CONFIGURATION_CHANGE) => "Other Configuration Change",
        (code::CEASE, cease::CONNECTION_COLLISION_RESOLUTION) => "Connection Collision Resolution",
        (code::CEASE, cease::OUT_OF_RESOURCES) => "Out of Resources",
        (code::CEASE, cease::HARD_RESET) => "Hard Reset",
        (code::CEASE, cease::BFD_DOWN) => "BFD Down",
        // RFC 7313 §5
        (code::ROUTE_REFRESH, 1) => "Invalid Message Length",
        _ => "Unknown",
    }
}

/// Decode a NOTIFICATION body (the message without its header).
///
/// RFC 4271 §6.1: "if the Length field of a NOTIFICATION message is less than the minimum length
/// of the NOTIFICATION message, then the Error Subcode MUST be set to Bad Message Length" (1/2,
/// data = the erroneous Length field); the minimum is 21 octets, a 2-octet body.
pub fn decode_notification(body: &[u8]) -> Result<NotificationMessage, MessageError> {
    let parsed: IResult<&[u8], (u8, u8), ()> =
        be_u8(body).and_then(|(i, c)| be_u8(i).map(|(i, s)| (i, (c, s))));
    let Ok((data, (code, subcode))) = parsed else {
        let len = body.len() + HEADER_LEN;
        return Err(bad_length(
            len,
            format!("NOTIFICATION of length {len}, minimum is 21"),
        ));
    };
    Ok(NotificationMessage {
        code,
        subcode,
        data: data.to_vec(),
    })
}

/// Encode a NOTIFICATION body, appending to `out`.
pub fn encode_notification(m: &NotificationMessage, out: &mut BytesMut) {
    out.put_u8(m.code);
    out.put_u8(m.subcode);
    out.put_slice(&m.data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shutdown_communication() {
        let n = NotificationMessage::cease_shutdown(2, "maintenance");
        assert_eq!(n.data[0], 11);
        assert_eq!(n.shutdown_message().as_deref(), Some("maintenance"));
        let long = "é".repeat(200); // 400 octets: cut to 254 (127 characters)
        let n = NotificationMessage::cease_shutdown(4, &long);
        assert_eq!(n.data[0], 254);
        assert_eq!(n.shutdown_message().map(|s| s.chars().count()), Some(127));
        let bad = NotificationMessage::new(6, 2, vec![5, b'a']);
        assert_eq!(bad.shutdown_message(), None);
        let bad = NotificationMessage::new(6, 2, vec![1, 0xff]);
        assert_eq!(bad.shutdown_message(), None);
        assert_eq!(
            NotificationMessage::new(6, 3, vec![1, b'a']).shutdown_message(),
            None
        );
    }

    #[test]
    fn hard_reset_wraps() {
        let inner = NotificationMessage::new(4, 0, vec![]);
        let n = NotificationMessage::hard_reset(&inner);
        assert_eq!(
            (n.code, n.subcode, n.data.as_slice()),
            (6, 9, &[4u8, 0][..])
        );
        assert_eq!(n.hard_reset_inner(), Some((4, 0, &[][..])));
        assert_eq!(
            NotificationMessage::new(6, 9, vec![4]).hard_reset_inner(),
            None
        );
    }

    #[test]
    fn names() {
        assert_eq!(subcode_name(6, 10), "BFD Down");
        assert_eq!(
            subcode_name(5, 3),
            "Receive Unexpected Message in Established State"
        );
        assert_eq!(subcode_name(7, 1), "Invalid Message Length");
        assert_eq!(code_name(42), "Unknown");
    }

    #[test]
    fn short_body_is_bad_length() {
        let e = decode_notification(&[6]).unwrap_err();
        assert_eq!(
            (e.code, e.subcode, e.data.as_slice()),
            (1, 2, &[0u8, 20][..])
        );
    }
}
