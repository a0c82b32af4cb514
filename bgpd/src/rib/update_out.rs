//! Packing outgoing routes into UPDATE messages (pure). STUB: being written.

use std::sync::Arc;

use super::path::PathAttrs;
use crate::packet::nlri::Nlri;
use crate::packet::{EncodeContext, Family};

/// One change to send: an announcement (with the exact attributes to send, next hop included)
/// or a withdrawal (`attrs: None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutRoute {
    pub family: Family,
    pub nlri: Nlri,
    pub attrs: Option<Arc<PathAttrs>>,
}

/// Pack `routes` into as few encoded UPDATE messages as the maximum message size allows.
pub fn pack(_routes: &[OutRoute], _cx: &EncodeContext) -> Vec<bytes::Bytes> {
    Vec::new()
}
