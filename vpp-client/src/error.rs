//! Errors: transport, protocol, and VPP's own return codes.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Everything that can go wrong talking to VPP.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `connect()` to the API socket failed (`ECONNREFUSED` while VPP is down: the socket file
    /// stays behind when VPP exits).
    #[error("cannot connect to VPP API socket {path}: {source}")]
    Connect {
        /// The socket path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// `sockclnt_create` was refused or its reply was malformed.
    #[error("VPP refused or broke the sockclnt_create handshake: {0}")]
    Handshake(String),
    /// VPP's message table lacks a message with the CRC this client was built for: the VPP
    /// build is incompatible (the message changed, or its plugin is not loaded).
    #[error(
        "VPP lacks message {name_crc} (this client's CRC): the VPP build is incompatible \
         (message changed or plugin not loaded)"
    )]
    MissingMessage {
        /// `<name>_<crc>` as this client expects it.
        name_crc: &'static str,
    },
    /// An optional message (e.g. a `_v2` variant) that this VPP does not have.
    #[error("VPP does not provide {name_crc}")]
    Unsupported {
        /// `<name>_<crc>`.
        name_crc: &'static str,
    },
    /// No reply within the request timeout. VPP silently drops requests with a wrong client
    /// index, an unknown message id, or a body shorter than the message size; the connection
    /// stays usable after this error.
    #[error("no reply to {message} (context {context:#x}) within {after:?}")]
    Timeout {
        /// The request's message name.
        message: &'static str,
        /// The request's context.
        context: u32,
        /// The timeout that expired.
        after: Duration,
    },
    /// The connection is gone (VPP closed it, e.g. on restart, or a read/write failed, or the
    /// client was disconnected). Reconnect and resync.
    #[error("VPP connection lost: {0}")]
    Disconnected(Arc<str>),
    /// VPP answered with a negative `retval`.
    #[error(transparent)]
    Vpp(#[from] VppError),
    /// A message from VPP did not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// VPP answered a request with a message of an unexpected type.
    #[error("{request}: expected {expected} (id {expected_id}), got message id {got_id}")]
    UnexpectedReply {
        /// The request's message name.
        request: &'static str,
        /// The expected reply name.
        expected: &'static str,
        /// Its id in this VPP's table.
        expected_id: u16,
        /// The id received.
        got_id: u16,
    },
    /// A request argument cannot be encoded (e.g. more than 16 SIDs in a list).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl Error {
    /// True for errors that reconnecting will not fix (an incompatible VPP build).
    pub fn is_incompatible(&self) -> bool {
        matches!(self, Error::MissingMessage { .. } | Error::Handshake(_))
    }

    /// The VPP error if this is a negative `retval`.
    pub fn vpp(&self) -> Option<&VppError> {
        match self {
            Error::Vpp(e) => Some(e),
            _ => None,
        }
    }
}

/// A message from VPP that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode {message} field {field} at offset {offset}: {detail}")]
pub struct DecodeError {
    /// Message name.
    pub message: &'static str,
    /// Field name.
    pub field: &'static str,
    /// Byte offset in the body.
    pub offset: usize,
    /// What was wrong.
    pub detail: String,
}

/// What a negative `retval` means for the message that returned it.
///
/// The SRv6 handlers return their own codes, not `VNET_API_ERROR_*` values (e.g. -12 from
/// `sr_policy_add` means "BSID exists", not `SYSCALL_ERROR_2`), so the meaning depends on the
/// message; see [`VppError::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VppErrorKind {
    /// The object exists already (duplicate local SID, duplicate BSID).
    AlreadyExists,
    /// The object does not exist (delete of a missing local SID, policy or steering entry; an
    /// unknown BSID).
    NotFound,
    /// The FIB table given does not exist.
    NoSuchTable,
    /// A FIB entry exists at that address (e.g. the local SID address is a BSID).
    FibEntryExists,
    /// `sr_policy_mod`: cannot delete the last SID list of a policy.
    LastSidList,
    /// `sr_policy_mod`: bad `sl_index`.
    BadSlIndex,
    /// An interface index that does not exist.
    InvalidInterface,
    /// A value VPP rejects (e.g. hop limit 0).
    InvalidValue,
    /// Any other code; [`VppError::vnet_name`] may still name it.
    Other,
}

/// VPP's negative `retval` for a request, with its meaning where known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} failed: retval {retval} ({})", self.describe())]
pub struct VppError {
    /// The request's message name.
    pub message: &'static str,
    /// The raw return value.
    pub retval: i32,
    /// Its meaning for this message.
    pub kind: VppErrorKind,
}

impl VppError {
    /// Classifies `retval` for `message` (codes observed on VPP 26.06, reference/vpp.md §3).
    pub fn new(message: &'static str, retval: i32) -> Self {
        use VppErrorKind::*;
        let kind = match (message, retval) {
            ("sr_localsid_add_del" | "sr_localsid_add_del_v2", -1) => AlreadyExists,
            ("sr_localsid_add_del" | "sr_localsid_add_del_v2", -2) => NotFound,
            ("sr_localsid_add_del" | "sr_localsid_add_del_v2", -3) => NoSuchTable,
            ("sr_localsid_add_del" | "sr_localsid_add_del_v2", -4) => FibEntryExists,
            ("sr_policy_add" | "sr_policy_add_v2", -12) => AlreadyExists,
            ("sr_policy_add" | "sr_policy_add_v2", -13) => NoSuchTable,
            ("sr_policy_del" | "sr_policy_mod" | "sr_policy_mod_v2", -1) => NotFound,
            ("sr_policy_mod" | "sr_policy_mod_v2", -21) => LastSidList,
            ("sr_policy_mod" | "sr_policy_mod_v2", -22 | -32) => BadSlIndex,
            ("sr_steering_add_del", -2) => NotFound,
            ("sr_steering_add_del", -4) => NotFound,
            (_, -2) => InvalidInterface,
            (_, -3) => NoSuchTable,
            (_, -6) => NotFound,
            (_, -7 | -8) => InvalidValue,
            _ => Other,
        };
        Self {
            message,
            retval,
            kind,
        }
    }

    /// True if the object was missing (useful to make deletes idempotent).
    pub fn is_not_found(&self) -> bool {
        self.kind == VppErrorKind::NotFound
    }

    /// True if the object already existed.
    pub fn is_already_exists(&self) -> bool {
        self.kind == VppErrorKind::AlreadyExists
    }

    /// The generic `VNET_API_ERROR_*` name of `retval` (vnet/api_errno.h), where it has one.
    /// Only meaningful for handlers that use those codes.
    pub fn vnet_name(&self) -> Option<&'static str> {
        Some(match self.retval {
            -1 => "UNSPECIFIED",
            -2 => "INVALID_SW_IF_INDEX",
            -3 => "NO_SUCH_FIB",
            -4 => "NO_SUCH_INNER_FIB",
            -5 => "NO_SUCH_LABEL",
            -6 => "NO_SUCH_ENTRY",
            -7 => "INVALID_VALUE",
            -8 => "INVALID_VALUE_2",
            -9 => "UNIMPLEMENTED",
            -10 => "INVALID_SW_IF_INDEX_2",
            -30 => "FEATURE_DISABLED",
            -31 => "INVALID_REGISTRATION",
            _ => return None,
        })
    }

    fn describe(&self) -> String {
        let what = match (self.kind, self.message) {
            (VppErrorKind::AlreadyExists, "sr_policy_add" | "sr_policy_add_v2") => {
                "BSID already exists, or a FIB entry exists for it"
            }
            (VppErrorKind::AlreadyExists, _) => "already exists",
            (VppErrorKind::NotFound, "sr_steering_add_del") if self.retval == -2 => "unknown BSID",
            (VppErrorKind::NotFound, "sr_steering_add_del") => "no such steering entry",
            (VppErrorKind::NotFound, "sr_policy_del" | "sr_policy_mod" | "sr_policy_mod_v2") => {
                "no policy with that BSID"
            }
            (VppErrorKind::NotFound, _) => "does not exist",
            (VppErrorKind::NoSuchTable, _) => "FIB table does not exist",
            (VppErrorKind::FibEntryExists, _) => "a FIB entry already exists at that address",
            (VppErrorKind::LastSidList, _) => "cannot delete the last SID list",
            (VppErrorKind::BadSlIndex, _) => "no SID list with that sl_index",
            (VppErrorKind::InvalidInterface, _) => "invalid interface index",
            (VppErrorKind::InvalidValue, _) => "invalid value",
            (VppErrorKind::Other, _) => {
                return match self.vnet_name() {
                    Some(n) => format!("VNET_API_ERROR_{n}?"),
                    None => "unknown error".to_string(),
                };
            }
        };
        what.to_string()
    }
}

/// Turns a `retval` into `Ok(())` or a [`VppError`].
pub(crate) fn check_retval(message: &'static str, retval: i32) -> Result<(), Error> {
    if retval == 0 {
        Ok(())
    } else {
        Err(Error::Vpp(VppError::new(message, retval)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_codes_are_classified() {
        let e = VppError::new("sr_localsid_add_del", -1);
        assert!(e.is_already_exists());
        assert!(e.to_string().contains("already exists"), "{e}");
        assert!(VppError::new("sr_localsid_add_del", -2).is_not_found());
        assert!(VppError::new("sr_policy_add", -12).is_already_exists());
        assert_eq!(
            VppError::new("sr_policy_add", -13).kind,
            VppErrorKind::NoSuchTable
        );
        assert!(VppError::new("sr_policy_del", -1).is_not_found());
        let s = VppError::new("sr_steering_add_del", -4);
        assert!(s.is_not_found());
        assert!(s.to_string().contains("no such steering entry"), "{s}");
        assert!(
            VppError::new("sr_steering_add_del", -2)
                .to_string()
                .contains("unknown BSID")
        );
        assert_eq!(
            VppError::new("sr_policy_mod", -21).kind,
            VppErrorKind::LastSidList
        );
        assert_eq!(
            VppError::new("sr_set_encap_hop_limit", -7).kind,
            VppErrorKind::InvalidValue
        );
        let o = VppError::new("ip_table_add_del", -9);
        assert_eq!(o.kind, VppErrorKind::Other);
        assert!(o.to_string().contains("UNIMPLEMENTED"), "{o}");
        assert!(check_retval("x", 0).is_ok());
    }
}
