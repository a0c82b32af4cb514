//! OPEN message (RFC 4271 §4.2, RFC 5492, RFC 9072). STUB: being written.

use bytes::BytesMut;

use super::MessageError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenMessage {
    pub raw: Vec<u8>,
}

pub fn decode_open(body: &[u8]) -> Result<OpenMessage, MessageError> {
    Ok(OpenMessage { raw: body.to_vec() })
}

pub fn encode_open(m: &OpenMessage, out: &mut BytesMut) {
    out.extend_from_slice(&m.raw);
}
