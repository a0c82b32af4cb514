//! The RIB: Adj-RIB-In per peer, the Loc-RIB per family with the decision process, and the
//! Adj-RIB-Out per peer with update generation (RFC 4271 §3.2, §9).

pub mod decision;
pub mod path;
pub mod update_out;

pub use path::{AttrInterner, LOCAL_PEER, Path, PathAttrs, PeerId, PeerInfo};
