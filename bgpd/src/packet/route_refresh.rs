//! ROUTE-REFRESH message (RFC 2918, RFC 7313). STUB: being written.

use bytes::BytesMut;

use super::MessageError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteRefreshMessage {
    pub raw: Vec<u8>,
}

pub fn decode_route_refresh(body: &[u8]) -> Result<RouteRefreshMessage, MessageError> {
    Ok(RouteRefreshMessage { raw: body.to_vec() })
}

pub fn encode_route_refresh(m: &RouteRefreshMessage, out: &mut BytesMut) {
    out.extend_from_slice(&m.raw);
}
