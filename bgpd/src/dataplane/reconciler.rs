//! The reconciler: the async shell that makes a backend hold the desired state.
//!
//! It owns the backend. Each round it diffs what it believes the backend holds with the latest
//! desired state ([`super::diff`]), applies the changes, and records each success in its
//! belief. The belief is replaced by a fresh [`Dataplane::read`] at start, after any failure,
//! after the backend restarted, and every [`RESYNC_INTERVAL`] (so a change made behind sidra's
//! back is repaired). Failures are retried with exponential backoff ([`RETRY_MIN`] to
//! [`RETRY_MAX`]). Desired states that arrive while a round runs are coalesced: the next round
//! diffs against the latest one only.
//!
//! After a restart the backend still holds the previous run's state, and the routes that
//! justify it come back only as the BGP sessions do. While [`ReconcilerHandle::hold_removals`]
//! is on, nothing is removed (the diff's `keep_extra`), so existing encapsulations keep
//! forwarding until the routes are back.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use metrics::{counter, gauge};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::{Change, Dataplane, DataplaneState, DiffOptions, diff};

pub const RETRY_MIN: Duration = Duration::from_secs(1);
pub const RETRY_MAX: Duration = Duration::from_secs(30);
pub const RESYNC_INTERVAL: Duration = Duration::from_secs(300);

/// What the reconciler reports (API, metrics).
#[derive(Clone, Debug, Default)]
pub struct SyncStatus {
    pub backend: &'static str,
    /// How the backend programs each behaviour.
    pub modes: Vec<String>,
    /// The backend holds the desired state.
    pub in_sync: bool,
    /// Changes still to apply (0 when in sync).
    pub pending: usize,
    /// Removals held back until the routes are back after a restart.
    pub holding_removals: bool,
    pub last_error: Option<String>,
    pub last_error_at: Option<SystemTime>,
    pub last_sync: Option<SystemTime>,
    pub applied_total: u64,
    pub failed_total: u64,
    /// How many times the backend was read in full.
    pub reads_total: u64,
    /// What the backend holds, as far as sidra knows.
    pub programmed: Arc<DataplaneState>,
}

/// The owner's side of a running reconciler.
pub struct ReconcilerHandle {
    desired: watch::Sender<Option<Arc<DataplaneState>>>,
    hold: watch::Sender<bool>,
    pub status: watch::Receiver<SyncStatus>,
    pub task: JoinHandle<()>,
}

impl ReconcilerHandle {
    /// Make `state` the desired state (replacing any not yet applied).
    pub fn set_desired(&self, state: Arc<DataplaneState>) {
        self.desired.send_replace(Some(state));
    }

    /// Hold back (or release) removals.
    pub fn hold_removals(&self, on: bool) {
        self.hold.send_replace(on);
    }

    /// Wait until the backend holds the latest desired state (or `timeout`); true if it does.
    pub async fn wait_in_sync(&mut self, timeout: Duration) -> bool {
        tokio::time::timeout(timeout, self.status.wait_for(|s| s.in_sync))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

/// Start reconciling `backend`. Nothing is changed until the first desired state is set. The
/// returned receiver gets the backend's state as first read (the owner adopts binding SIDs
/// from it so that they stay stable across restarts).
pub fn spawn<D: Dataplane>(
    backend: D,
    hold_removals: bool,
) -> (ReconcilerHandle, oneshot::Receiver<DataplaneState>) {
    let (desired_tx, desired) = watch::channel(None);
    let (hold_tx, hold) = watch::channel(hold_removals);
    let caps = backend.capabilities();
    for m in &caps.modes {
        info!(backend = backend.name(), "data plane: {m}");
    }
    let (status_tx, status) = watch::channel(SyncStatus {
        backend: backend.name(),
        modes: caps.modes.clone(),
        holding_removals: hold_removals,
        ..Default::default()
    });
    let (first_tx, first) = oneshot::channel();
    let r = Reconciler {
        backend,
        opts: DiffOptions {
            keep_extra: hold_removals,
            inline_policies: caps.inline_policies,
        },
        desired,
        hold,
        status: status_tx,
        first: Some(first_tx),
    };
    let task = tokio::spawn(r.run());
    (
        ReconcilerHandle {
            desired: desired_tx,
            hold: hold_tx,
            status,
            task,
        },
        first,
    )
}

struct Reconciler<D> {
    backend: D,
    opts: DiffOptions,
    desired: watch::Receiver<Option<Arc<DataplaneState>>>,
    hold: watch::Receiver<bool>,
    status: watch::Sender<SyncStatus>,
    first: Option<oneshot::Sender<DataplaneState>>,
}

enum Wake {
    Desired,
    Restarted,
    Resync,
    Closed,
}

impl<D: Dataplane> Reconciler<D> {
    async fn run(mut self) {
        let name = self.backend.name();
        let mut have: Option<DataplaneState> = None;
        let mut retry = RETRY_MIN;
        loop {
            let Some(current) = have.as_mut() else {
                match self.backend.read().await {
                    Ok(s) => {
                        debug!(backend = name, objects = s.len(), "read the data plane");
                        self.status.send_modify(|st| st.reads_total += 1);
                        if let Some(tx) = self.first.take() {
                            let _ = tx.send(s.clone());
                        }
                        have = Some(s);
                        retry = RETRY_MIN;
                    }
                    Err(e) => {
                        self.failed(&format!("cannot read the data plane: {e}"));
                        retry = self.back_off(retry).await;
                    }
                }
                continue;
            };
            let want = self.desired.borrow_and_update().clone();
            self.opts.keep_extra = *self.hold.borrow_and_update();
            let changes = match &want {
                Some(w) => diff(current, w, self.opts),
                None => Vec::new(),
            };
            if changes.is_empty() {
                let programmed = Arc::new(current.clone());
                let in_sync = want.is_some();
                let holding = self.opts.keep_extra;
                self.status.send_modify(|st| {
                    st.in_sync = in_sync;
                    st.pending = 0;
                    st.holding_removals = holding;
                    st.programmed = programmed;
                    if in_sync {
                        st.last_sync = Some(SystemTime::now());
                    }
                });
                gauge!("sidra_dataplane_pending_changes").set(0.0);
                match self.wait().await {
                    Wake::Desired => {}
                    Wake::Restarted => {
                        warn!(backend = name, "the data plane restarted: reading it again");
                        have = None;
                    }
                    Wake::Resync => have = None,
                    Wake::Closed => return,
                }
                continue;
            }
            let n = changes.len();
            self.status.send_modify(|st| {
                st.in_sync = false;
                st.pending = n;
            });
            gauge!("sidra_dataplane_pending_changes").set(n as f64);
            let started = std::time::Instant::now();
            let results = self.backend.apply(&changes).await;
            let mut failures = 0usize;
            for (i, c) in changes.iter().enumerate() {
                match results.get(i) {
                    Some(Ok(())) => {
                        counter!("sidra_dataplane_operations_total", "kind" => c.kind(), "result" => "ok")
                            .increment(1);
                        c.apply_to(current);
                    }
                    Some(Err(e)) => {
                        failures += 1;
                        counter!("sidra_dataplane_operations_total", "kind" => c.kind(), "result" => "error")
                            .increment(1);
                        warn!(
                            backend = name,
                            op = c.kind(),
                            "data plane change failed: {e}: {}",
                            describe(c)
                        );
                        self.failed(&format!("{}: {e}", describe(c)));
                    }
                    None => {
                        failures += 1;
                        self.failed(&format!("{}: the backend gave no result", describe(c)));
                    }
                }
            }
            let secs = started.elapsed().as_secs_f64();
            metrics::histogram!("sidra_dataplane_apply_seconds").record(secs);
            let ok = n - failures;
            self.status.send_modify(|st| {
                st.applied_total += ok as u64;
                st.failed_total += failures as u64;
            });
            info!(
                backend = name,
                applied = ok,
                failed = failures,
                seconds = secs,
                "data plane updated"
            );
            if failures > 0 {
                // The backend may hold something else than we think: read it again after
                // the backoff, then diff and retry.
                have = None;
                retry = self.back_off(retry).await;
            } else {
                retry = RETRY_MIN;
            }
        }
    }

    fn failed(&self, msg: &str) {
        self.status.send_modify(|st| {
            st.last_error = Some(msg.to_string());
            st.last_error_at = Some(SystemTime::now());
        });
    }

    /// Sleep `retry` (a restart of the backend cuts it short); the next backoff.
    async fn back_off(&mut self, retry: Duration) -> Duration {
        tokio::select! {
            _ = tokio::time::sleep(retry) => {}
            _ = self.backend.restarted() => {}
        }
        (retry * 2).min(RETRY_MAX)
    }

    async fn wait(&mut self) -> Wake {
        tokio::select! {
            r = self.desired.changed() => if r.is_ok() { Wake::Desired } else { Wake::Closed },
            r = self.hold.changed() => if r.is_ok() { Wake::Desired } else { Wake::Closed },
            _ = self.backend.restarted() => Wake::Restarted,
            _ = tokio::time::sleep(RESYNC_INTERVAL) => Wake::Resync,
        }
    }
}

/// A change as a log line.
pub fn describe(c: &Change) -> String {
    match c {
        Change::SetEncapSource(a) => format!("encap source {a}"),
        Change::AddTable(t, v6) => format!("table {t} ({})", if *v6 { "ipv6" } else { "ipv4" }),
        Change::AddLocalSid(s) | Change::DelLocalSid(s) => {
            format!("{} {} {} table {}", c.kind(), s.sid, s.behavior, s.table)
        }
        Change::AddUnderlay(r) | Change::DelUnderlay(r) => {
            format!("{} {} via {}", c.kind(), r.prefix, r.via)
        }
        Change::AddPolicy(p) | Change::ModPolicy { new: p, .. } | Change::DelPolicy(p) => {
            let lists: Vec<String> = p
                .segment_lists
                .iter()
                .map(|l| {
                    let s: Vec<String> = l.segments.iter().map(|s| s.to_string()).collect();
                    format!("[{}] weight {}", s.join(", "), l.weight)
                })
                .collect();
            format!("{} bsid {} {}", c.kind(), p.bsid, lists.join(" "))
        }
        Change::SetSteering { steering: s, .. } | Change::DelSteering(s) => {
            format!(
                "{} {} table {} -> bsid {}",
                c.kind(),
                s.prefix,
                s.table,
                s.bsid
            )
        }
    }
}

#[cfg(test)]
#[path = "reconciler_tests.rs"]
mod tests;
