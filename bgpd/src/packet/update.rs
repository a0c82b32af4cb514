//! UPDATE message. STUB: being written.

use bytes::BytesMut;

use super::{DecodeContext, EncodeContext, MessageError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateMessage {
    pub raw: Vec<u8>,
}

pub fn decode_update(body: &[u8], _cx: &DecodeContext) -> Result<UpdateMessage, MessageError> {
    Ok(UpdateMessage { raw: body.to_vec() })
}

pub fn encode_update(m: &UpdateMessage, _cx: &EncodeContext, out: &mut BytesMut) {
    out.extend_from_slice(&m.raw);
}
