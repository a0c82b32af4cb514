//! Data planes: what sidra programs (local SIDs, SR policies, steering entries) and where
//! (the Linux kernel, VPP, or nowhere).
//!
//! The SRv6 service computes a desired [`DataplaneState`]; the [`reconciler`] diffs it with
//! what the backend reports ([`Dataplane::read`]) and applies the [`Change`]s in dependency
//! order ([`diff`]), retrying failures with backoff and reading the backend again after it
//! restarted. Backends only translate changes into their own API.

pub mod diff;
pub mod kernel;
pub mod none;
pub mod reconciler;
pub mod state;
pub mod vpp;

use std::future::Future;

pub use diff::{Change, DiffOptions, diff};
pub use state::{
    DataplaneState, LocalBehavior, LocalSid, MAIN_TABLE, Policy, SegmentList, Steering,
    UnderlayRoute,
};

/// A failed data plane operation or read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DataplaneError(pub String);

impl DataplaneError {
    pub fn new(msg: impl Into<String>) -> Self {
        DataplaneError(msg.into())
    }
}

/// What a backend can do, decided when it starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Policies have no object of their own: a policy's segments are written into each of its
    /// steering entries (see [`DiffOptions::inline_policies`]).
    pub inline_policies: bool,
    /// How the backend programs each behaviour, for the logs and the API (e.g. "End.DT4 as
    /// SRH decapsulation at a local address (no VRF in this kernel)").
    pub modes: Vec<String>,
}

/// A data plane backend.
///
/// `read` reports sidra's own objects only (the kernel backend finds them by its route
/// protocol number); `apply` performs the changes in the order given and reports each one's
/// result (a backend may batch them, but a failed change must not stop later independent
/// ones: the reconciler retries what failed).
pub trait Dataplane: Send + 'static {
    /// `kernel`, `vpp` or `none`.
    fn name(&self) -> &'static str;

    fn capabilities(&self) -> Capabilities;

    /// What is programmed now.
    fn read(&mut self) -> impl Future<Output = Result<DataplaneState, DataplaneError>> + Send;

    /// Apply `changes` in order; one result per change.
    fn apply(
        &mut self,
        changes: &[Change],
    ) -> impl Future<Output = Vec<Result<(), DataplaneError>>> + Send;

    /// Completes when the backend lost its state or its connection since the last call (VPP
    /// restarted): the reconciler then reads it again. Never completes for backends that
    /// cannot lose state behind sidra's back.
    fn restarted(&mut self) -> impl Future<Output = ()> + Send {
        std::future::pending()
    }
}
