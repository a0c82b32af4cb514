//! Decode errors as data (RFC 4271 §6, RFC 7606, RFC 9252 §7).
//!
//! Every problem found while decoding maps to an [`ErrorAction`]. The actions are ordered by
//! strength; when an UPDATE has several problems the strongest one wins (RFC 7606 §3,
//! "the most severe of the approaches is used").

use std::fmt;

use super::family::Family;

/// What a receiver does about a decode problem, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorAction {
    /// RFC 7606 §2: "attribute discard": the attribute is dropped, the route is kept.
    AttributeDiscard,
    /// RFC 7606 §2: "treat-as-withdraw": every NLRI of the UPDATE is withdrawn.
    TreatAsWithdraw,
    /// RFC 7606 §2 / RFC 4760 §7: "AFI/SAFI disable" for the family named.
    AfiSafiDisable,
    /// RFC 4271 §6: NOTIFICATION and session reset.
    SessionReset,
}

impl ErrorAction {
    pub const fn name(self) -> &'static str {
        match self {
            ErrorAction::AttributeDiscard => "attribute-discard",
            ErrorAction::TreatAsWithdraw => "treat-as-withdraw",
            ErrorAction::AfiSafiDisable => "afi-safi-disable",
            ErrorAction::SessionReset => "session-reset",
        }
    }
}

impl fmt::Display for ErrorAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// RFC 4271 §4.5 NOTIFICATION error codes and the subcodes sidra sends.
pub mod code {
    pub const MESSAGE_HEADER: u8 = 1;
    pub const OPEN: u8 = 2;
    pub const UPDATE: u8 = 3;
    pub const HOLD_TIMER_EXPIRED: u8 = 4;
    pub const FSM: u8 = 5;
    pub const CEASE: u8 = 6;
    pub const ROUTE_REFRESH: u8 = 7;

    // Message Header Error subcodes (RFC 4271 §6.1)
    pub const CONNECTION_NOT_SYNCHRONIZED: u8 = 1;
    pub const BAD_MESSAGE_LENGTH: u8 = 2;
    pub const BAD_MESSAGE_TYPE: u8 = 3;

    // OPEN Message Error subcodes (RFC 4271 §6.2, RFC 5492, RFC 9234)
    pub const UNSUPPORTED_VERSION: u8 = 1;
    pub const BAD_PEER_AS: u8 = 2;
    pub const BAD_BGP_IDENTIFIER: u8 = 3;
    pub const UNSUPPORTED_OPTIONAL_PARAMETER: u8 = 4;
    pub const UNACCEPTABLE_HOLD_TIME: u8 = 6;
    pub const UNSUPPORTED_CAPABILITY: u8 = 7;
    pub const ROLE_MISMATCH: u8 = 11;

    // UPDATE Message Error subcodes (RFC 4271 §6.3)
    pub const MALFORMED_ATTRIBUTE_LIST: u8 = 1;
    pub const UNRECOGNIZED_WELL_KNOWN: u8 = 2;
    pub const MISSING_WELL_KNOWN: u8 = 3;
    pub const ATTRIBUTE_FLAGS_ERROR: u8 = 4;
    pub const ATTRIBUTE_LENGTH_ERROR: u8 = 5;
    pub const INVALID_ORIGIN: u8 = 6;
    pub const INVALID_NEXT_HOP: u8 = 8;
    pub const OPTIONAL_ATTRIBUTE_ERROR: u8 = 9;
    pub const INVALID_NETWORK_FIELD: u8 = 10;
    pub const MALFORMED_AS_PATH: u8 = 11;

    // ROUTE-REFRESH Message Error subcodes (RFC 7313 §5)
    pub const INVALID_MESSAGE_LENGTH: u8 = 1;
}

/// A problem that ends the session: the NOTIFICATION to send and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason} (NOTIFICATION {code}/{subcode})")]
pub struct MessageError {
    pub code: u8,
    pub subcode: u8,
    /// The NOTIFICATION data field (RFC 4271 §6: e.g. the offending attribute or length).
    pub data: Vec<u8>,
    pub reason: String,
}

impl MessageError {
    pub fn new(code: u8, subcode: u8, data: impl Into<Vec<u8>>, reason: impl Into<String>) -> Self {
        MessageError {
            code,
            subcode,
            data: data.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for UPDATE Message Errors.
    pub fn update(subcode: u8, data: impl Into<Vec<u8>>, reason: impl Into<String>) -> Self {
        Self::new(code::UPDATE, subcode, data, reason)
    }
}

/// One problem found in an UPDATE that did not end the session by itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributeError {
    /// Path attribute type code, or `None` for problems outside any attribute (NLRI fields).
    pub attribute: Option<u8>,
    pub action: ErrorAction,
    /// The family an `AfiSafiDisable` applies to.
    pub family: Option<Family>,
    pub reason: String,
}

impl AttributeError {
    pub fn new(attribute: Option<u8>, action: ErrorAction, reason: impl Into<String>) -> Self {
        AttributeError {
            attribute,
            action,
            family: None,
            reason: reason.into(),
        }
    }
}
