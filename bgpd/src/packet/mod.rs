//! The BGP wire codec: decode with `nom`, encode with `bytes`.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! +                           Marker (16 x 0xff)                  +
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Length               |      Type     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! (RFC 4271 §4.1)
//!
//! Decoding takes a [`DecodeContext`] and encoding an [`EncodeContext`]: both carry what the
//! OPEN exchange negotiated (4-octet AS, ADD-PATH, extended message length).

pub mod attribute;
pub mod capability;
pub mod error;
pub mod family;
pub mod nlri;
pub mod notification;
pub mod open;
pub mod prefix_sid;
pub mod route_refresh;
pub mod srv6;
pub mod update;

use bytes::{BufMut, BytesMut};

pub use error::{AttributeError, ErrorAction, MessageError};
pub use family::{Afi, Family, Safi};
pub use notification::NotificationMessage;
pub use open::OpenMessage;
pub use route_refresh::RouteRefreshMessage;
pub use update::UpdateMessage;

/// RFC 4271 §4.1: header length.
pub const HEADER_LEN: usize = 19;
/// RFC 4271 §4.1: maximum message size without RFC 8654.
pub const MAX_MESSAGE_LEN: usize = 4096;
/// RFC 8654 §4: maximum message size when the Extended Message capability is negotiated.
pub const MAX_EXTENDED_MESSAGE_LEN: usize = 65535;

/// Message type codes (RFC 4271 §4.1, RFC 2918 §3).
pub mod msg_type {
    pub const OPEN: u8 = 1;
    pub const UPDATE: u8 = 2;
    pub const NOTIFICATION: u8 = 3;
    pub const KEEPALIVE: u8 = 4;
    pub const ROUTE_REFRESH: u8 = 5;
}

/// A set of address families, small and cheap to test.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FamilySet(Vec<Family>);

impl FamilySet {
    pub fn new() -> Self {
        FamilySet(Vec::new())
    }
    pub fn all_supported() -> Self {
        FamilySet(vec![
            Family::IPV4_UNICAST,
            Family::IPV6_UNICAST,
            Family::IPV4_VPN,
            Family::IPV6_VPN,
        ])
    }
    pub fn insert(&mut self, f: Family) {
        if !self.0.contains(&f) {
            self.0.push(f);
        }
    }
    pub fn contains(&self, f: Family) -> bool {
        self.0.contains(&f)
    }
    pub fn iter(&self) -> impl Iterator<Item = Family> + '_ {
        self.0.iter().copied()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<Family> for FamilySet {
    fn from_iter<T: IntoIterator<Item = Family>>(iter: T) -> Self {
        let mut s = FamilySet::new();
        for f in iter {
            s.insert(f);
        }
        s
    }
}

/// What the decoder needs to know about the session (RFC 6793, RFC 7911, RFC 8654).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeContext {
    /// Both sides advertised the 4-octet AS capability: AS_PATH carries 4-octet AS numbers.
    pub four_octet_as: bool,
    /// Families for which we receive path identifiers (we advertised receive, the peer send).
    pub add_path: FamilySet,
    /// Largest message accepted: 4096, or 65535 with RFC 8654.
    pub max_message_len: usize,
}

impl Default for DecodeContext {
    /// The context of an offline decoder that saw no OPEN: 4-octet AS (what every modern
    /// speaker negotiates), no ADD-PATH, extended messages allowed.
    fn default() -> Self {
        DecodeContext {
            four_octet_as: true,
            add_path: FamilySet::new(),
            max_message_len: MAX_EXTENDED_MESSAGE_LEN,
        }
    }
}

/// What the encoder needs to know about the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodeContext {
    pub four_octet_as: bool,
    /// Families for which we send path identifiers.
    pub add_path: FamilySet,
    pub max_message_len: usize,
}

impl Default for EncodeContext {
    fn default() -> Self {
        EncodeContext {
            four_octet_as: true,
            add_path: FamilySet::new(),
            max_message_len: MAX_MESSAGE_LEN,
        }
    }
}

impl EncodeContext {
    /// The encode context that mirrors a decode context (used to re-encode what was decoded).
    pub fn mirror(cx: &DecodeContext) -> Self {
        EncodeContext {
            four_octet_as: cx.four_octet_as,
            add_path: cx.add_path.clone(),
            max_message_len: cx.max_message_len,
        }
    }
}

/// One BGP message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Open(OpenMessage),
    Update(UpdateMessage),
    Notification(NotificationMessage),
    Keepalive,
    RouteRefresh(RouteRefreshMessage),
}

impl Message {
    pub const fn type_code(&self) -> u8 {
        match self {
            Message::Open(_) => msg_type::OPEN,
            Message::Update(_) => msg_type::UPDATE,
            Message::Notification(_) => msg_type::NOTIFICATION,
            Message::Keepalive => msg_type::KEEPALIVE,
            Message::RouteRefresh(_) => msg_type::ROUTE_REFRESH,
        }
    }
}

/// How many bytes the message at the start of `buf` takes, once its header is complete.
///
/// Returns `Ok(None)` when fewer than 19 bytes are buffered, `Ok(Some(len))` otherwise, and an
/// error for a bad marker or a length outside 19..=`max_len` (RFC 4271 §6.1).
pub fn frame_len(buf: &[u8], max_len: usize) -> Result<Option<usize>, MessageError> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    // RFC 4271 §6.1: "If the Marker field of the message header is not as expected, then a
    // synchronization error has occurred and the Error Subcode MUST be set to Connection Not
    // Synchronized."
    if buf[..16].iter().any(|&b| b != 0xff) {
        return Err(MessageError::new(
            error::code::MESSAGE_HEADER,
            error::code::CONNECTION_NOT_SYNCHRONIZED,
            Vec::new(),
            "marker is not all ones",
        ));
    }
    let len = u16::from_be_bytes([buf[16], buf[17]]) as usize;
    if !(HEADER_LEN..=max_len).contains(&len) {
        return Err(bad_length(
            len,
            format!("message length {len} outside 19..={max_len}"),
        ));
    }
    Ok(Some(len))
}

pub(crate) fn bad_length(len: usize, reason: String) -> MessageError {
    // RFC 4271 §6.1: "the Data field MUST contain the erroneous Length field."
    let l = u16::try_from(len).unwrap_or(u16::MAX);
    MessageError::new(
        error::code::MESSAGE_HEADER,
        error::code::BAD_MESSAGE_LENGTH,
        l.to_be_bytes().to_vec(),
        reason,
    )
}

/// Decode one whole message (header included).
///
/// UPDATE problems that RFC 7606 does not answer with a session reset are reported in
/// [`UpdateMessage::errors`]; everything that ends the session is an `Err`.
pub fn decode_message(buf: &[u8], cx: &DecodeContext) -> Result<Message, MessageError> {
    let Some(len) = frame_len(buf, cx.max_message_len)? else {
        return Err(bad_length(
            buf.len(),
            format!("truncated header: {} bytes", buf.len()),
        ));
    };
    if len != buf.len() {
        return Err(bad_length(
            len,
            format!("header length {len} but {} bytes supplied", buf.len()),
        ));
    }
    let body = &buf[HEADER_LEN..];
    let kind = buf[18];
    // RFC 4271 §6.1: minimum lengths per type are checked by each decoder; KEEPALIVE is exact.
    match kind {
        msg_type::OPEN => open::decode_open(body).map(Message::Open),
        msg_type::UPDATE => update::decode_update(body, cx).map(Message::Update),
        msg_type::NOTIFICATION => {
            notification::decode_notification(body).map(Message::Notification)
        }
        msg_type::KEEPALIVE => {
            if body.is_empty() {
                Ok(Message::Keepalive)
            } else {
                Err(bad_length(len, format!("KEEPALIVE of length {len}")))
            }
        }
        msg_type::ROUTE_REFRESH => {
            route_refresh::decode_route_refresh(body).map(Message::RouteRefresh)
        }
        other => Err(MessageError::new(
            error::code::MESSAGE_HEADER,
            error::code::BAD_MESSAGE_TYPE,
            vec![other],
            format!("unknown message type {other}"),
        )),
    }
}

/// Encode one message, header included, appending to `out`.
pub fn encode_message(msg: &Message, cx: &EncodeContext, out: &mut BytesMut) {
    let start = out.len();
    out.put_slice(&[0xff; 16]);
    out.put_u16(0); // length, patched below
    out.put_u8(msg.type_code());
    match msg {
        Message::Open(m) => open::encode_open(m, out),
        Message::Update(m) => update::encode_update(m, cx, out),
        Message::Notification(m) => notification::encode_notification(m, out),
        Message::Keepalive => {}
        Message::RouteRefresh(m) => route_refresh::encode_route_refresh(m, out),
    }
    patch_len(out, start);
}

/// Write the total length of the message that starts at `start` into its header.
pub(crate) fn patch_len(out: &mut BytesMut, start: usize) {
    let len = out.len() - start;
    let l = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
    out[start + 16] = l[0];
    out[start + 17] = l[1];
}

/// Encode one message into a fresh buffer.
pub fn encode_to_vec(msg: &Message, cx: &EncodeContext) -> Vec<u8> {
    let mut out = BytesMut::with_capacity(64);
    encode_message(msg, cx, &mut out);
    out.to_vec()
}
