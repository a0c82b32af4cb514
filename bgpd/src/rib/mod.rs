//! The RIB: the Loc-RIB per family with every path and the decision process, and the
//! Adj-RIB-Out per peer with update generation (RFC 4271 §3.2, §9).

pub mod core;
pub mod decision;
pub mod export;
pub mod outbox;
pub mod path;
pub mod peer_policy;
pub mod task;
pub mod update_out;
pub mod watch;

pub use self::core::{Entry, Rib, RibStats, RouteKey};
pub use export::RibSettings;
pub use outbox::{OutItem, OutKey, Outbox};
pub use path::{AttrInterner, LOCAL_PEER, Path, PathAttrs, PeerId, PeerInfo};
pub use peer_policy::PeerPolicy;
pub use task::{RibHandle, RibInput, spawn_rib};
