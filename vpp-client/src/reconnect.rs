//! A supervised connection: reconnects with exponential backoff when VPP goes away and tells
//! the owner, through a [`watch`] of [`LinkState`], so it can resync.
//!
//! ```text
//!            connect ok                    EOF / read or write error
//! Connecting ----------> Up{generation} ------------------------------+
//!     ^  | refused (ECONNREFUSED while VPP is down: the socket file stays)
//!     |  +-- backoff (min, x2, ..., max) --+                           |
//!     +--------------------------------------------------------------- +
//!  incompatible VPP (missing message / refused handshake) -> Incompatible (stops)
//!  shutdown() -> sockclnt_delete, close -> Closed
//! ```
//!
//! After a VPP restart all API state is gone (policies, SIDs, steering), the client handle and
//! table are usually the same and `vpe_pid` differs. Every `Up` carries a new `generation`:
//! whenever it changes, the owner dumps, diffs and re-programs everything.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::client::{Client, ClientConfig};
use crate::error::Error;

/// The state of a supervised connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// Not connected; trying with backoff.
    Connecting {
        /// Failed attempts since the link went down.
        failed_attempts: u32,
        /// The last error (or why the link went down).
        last_error: Option<String>,
    },
    /// Connected. `generation` increases on every (re)connect: resync when it changes.
    Up {
        /// 1 for the first connection, then +1 per reconnect.
        generation: u64,
        /// Failed attempts before this connection succeeded.
        failed_attempts: u32,
    },
    /// VPP is incompatible (e.g. a message with our CRC is missing); no more attempts.
    Incompatible(String),
    /// Shut down by the owner.
    Closed,
}

/// Reconnection settings.
#[derive(Debug, Clone)]
pub struct ReconnectConfig {
    /// The client settings used for every connection.
    pub client: ClientConfig,
    /// First backoff delay.
    pub min_backoff: Duration,
    /// Largest backoff delay.
    pub max_backoff: Duration,
}

impl ReconnectConfig {
    /// Backoff from 100 ms to 5 s.
    pub fn new(client: ClientConfig) -> Self {
        Self {
            client,
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

struct Inner {
    current: Mutex<Option<Arc<Client>>>,
    state: watch::Sender<LinkState>,
    stop: watch::Sender<bool>,
}

impl Inner {
    fn set_current(&self, c: Option<Arc<Client>>) {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = c;
    }

    fn current(&self) -> Option<Arc<Client>> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A VPP client that reconnects by itself. Cheap to share behind an `Arc`.
pub struct Reconnecting {
    inner: Arc<Inner>,
    task: JoinHandle<()>,
}

impl Drop for Reconnecting {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Reconnecting {
    /// Connects once, failing with that error (so a daemon can refuse to start against an
    /// incompatible or absent VPP), then supervises the connection.
    pub async fn connect(cfg: ReconnectConfig) -> Result<Self, Error> {
        let first = Arc::new(Client::connect_with(&cfg.client).await?);
        Ok(Self::spawn(cfg, Some(first)))
    }

    /// Starts supervising without waiting: connects in the background (VPP may start later).
    pub fn start(cfg: ReconnectConfig) -> Self {
        Self::spawn(cfg, None)
    }

    fn spawn(cfg: ReconnectConfig, first: Option<Arc<Client>>) -> Self {
        let initial = match &first {
            Some(_) => LinkState::Up {
                generation: 1,
                failed_attempts: 0,
            },
            None => LinkState::Connecting {
                failed_attempts: 0,
                last_error: None,
            },
        };
        let (state, _) = watch::channel(initial);
        let (stop, _) = watch::channel(false);
        let inner = Arc::new(Inner {
            current: Mutex::new(first.clone()),
            state,
            stop,
        });
        let task = tokio::spawn(supervise(cfg, inner.clone(), first));
        Self { inner, task }
    }

    /// The current client, or [`Error::Disconnected`] while the link is down.
    pub fn client(&self) -> Result<Arc<Client>, Error> {
        match self.inner.current() {
            Some(c) if !c.is_closed() => Ok(c),
            Some(c) => Err(Error::Disconnected(
                c.closed_reason().unwrap_or_else(|| "closed".into()),
            )),
            None => Err(Error::Disconnected("not connected to VPP".into())),
        }
    }

    /// The link state now.
    pub fn state(&self) -> LinkState {
        self.inner.state.borrow().clone()
    }

    /// A receiver of link-state changes: resync whenever `Up { generation }` changes.
    pub fn subscribe(&self) -> watch::Receiver<LinkState> {
        self.inner.state.subscribe()
    }

    /// Waits until the link is up with a generation greater than `after` and returns the
    /// client and the generation. Fails if the link becomes incompatible or closed.
    pub async fn wait_up(&self, after: u64) -> Result<(Arc<Client>, u64), Error> {
        let mut rx = self.subscribe();
        loop {
            let st = rx.borrow_and_update().clone();
            match st {
                LinkState::Up { generation, .. } if generation > after => {
                    if let Some(c) = self.inner.current() {
                        return Ok((c, generation));
                    }
                }
                LinkState::Incompatible(e) => return Err(Error::Handshake(e)),
                LinkState::Closed => return Err(Error::Disconnected("shut down".into())),
                _ => {}
            }
            if rx.changed().await.is_err() {
                return Err(Error::Disconnected("supervisor gone".into()));
            }
        }
    }

    /// Stops reconnecting and says goodbye (`sockclnt_delete`) on the current connection.
    pub async fn shutdown(&self) -> Result<(), Error> {
        self.inner.stop.send_replace(true);
        let res = match self.inner.current() {
            Some(c) if !c.is_closed() => c.disconnect().await,
            _ => Ok(()),
        };
        self.inner.set_current(None);
        self.task.abort();
        self.inner.state.send_replace(LinkState::Closed);
        res
    }
}

async fn supervise(cfg: ReconnectConfig, inner: Arc<Inner>, first: Option<Arc<Client>>) {
    let mut generation = u64::from(first.is_some());
    let mut current = first;
    let mut stop = inner.stop.subscribe();
    loop {
        if let Some(c) = current.take() {
            let reason = tokio::select! {
                biased;
                _ = stop.wait_for(|s| *s) => return,
                r = c.closed() => r,
            };
            if *stop.borrow() {
                return;
            }
            tracing::warn!(%reason, generation, "VPP link down; reconnecting");
            inner.state.send_replace(LinkState::Connecting {
                failed_attempts: 0,
                last_error: Some(reason.to_string()),
            });
        }
        let mut failed = 0u32;
        let mut backoff = cfg.min_backoff;
        let client = loop {
            if *stop.borrow() {
                return;
            }
            match Client::connect_with(&cfg.client).await {
                Ok(c) => break Arc::new(c),
                Err(e) if e.is_incompatible() => {
                    tracing::error!(error = %e, "VPP is incompatible; giving up");
                    inner.set_current(None);
                    inner
                        .state
                        .send_replace(LinkState::Incompatible(e.to_string()));
                    return;
                }
                Err(e) => {
                    failed += 1;
                    tracing::debug!(error = %e, failed, ?backoff, "VPP connect failed");
                    inner.state.send_replace(LinkState::Connecting {
                        failed_attempts: failed,
                        last_error: Some(e.to_string()),
                    });
                    tokio::select! {
                        biased;
                        _ = stop.wait_for(|s| *s) => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(cfg.max_backoff);
                }
            }
        };
        generation += 1;
        tracing::info!(generation, failed_attempts = failed, "VPP link up");
        inner.set_current(Some(client.clone()));
        inner.state.send_replace(LinkState::Up {
            generation,
            failed_attempts: failed,
        });
        current = Some(client);
    }
}
