//! NOTIFICATION message (RFC 4271 §4.5). STUB: being written.

use bytes::BytesMut;

use super::MessageError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationMessage {
    pub code: u8,
    pub subcode: u8,
    pub data: Vec<u8>,
}

pub fn decode_notification(body: &[u8]) -> Result<NotificationMessage, MessageError> {
    Ok(NotificationMessage {
        code: body[0],
        subcode: body[1],
        data: body[2..].to_vec(),
    })
}

pub fn encode_notification(m: &NotificationMessage, out: &mut BytesMut) {
    out.extend_from_slice(&[m.code, m.subcode]);
    out.extend_from_slice(&m.data);
}
