//! The SRv6 service: this node's SIDs and pod routes (the [`local`] side), other nodes' pod
//! routes turned into SR policies and steering entries (the [`remote`] side), and the task that
//! keeps the RIB and the data plane in step with both ([`service`]).
//!
//! ```text
//!  config / CNI agent ──pods──▶ ┌──────────────┐ ──Originate──▶ RIB ──feed──┐
//!                               │ Srv6Service  │ ◀────────── best routes ───┘
//!                               │ (one task)   │ ──desired state──▶ reconciler ──▶ Dataplane
//!                               └──────────────┘                    (kernel / VPP / none)
//! ```

pub mod bsid;
pub mod local;
pub mod remote;
pub mod service;

pub use service::{
    PodsError, ServiceView, Srv6Command, Srv6Error, Srv6Handle, Srv6Snapshot, start,
};
