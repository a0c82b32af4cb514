//! `sidra.v1.ConfigService` and the [`Reloader`] that SIGHUP and the API share.

use std::path::PathBuf;
use std::sync::Arc;

use sidra_proto::v1 as pb;
use sidra_proto::v1::config_service_server::ConfigService;
use tokio::sync::watch;
use tonic::{Request, Response, Status};
use tracing::{error, info, warn};

use super::{Ctx, status};
use crate::config::{self, Config, ConfigErrors};
use crate::daemon::{DaemonHandle, ReloadReport};

/// Why a reload was refused (the running configuration stays).
#[derive(Debug)]
pub enum ReloadError {
    /// The file has problems (each names its key).
    Invalid(ConfigErrors),
    /// The daemon refused the change (e.g. one that needs a restart).
    Refused(String),
    /// sidrad is stopping.
    Unavailable,
    /// sidrad was started without a configuration file.
    NoFile,
}

impl std::fmt::Display for ReloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReloadError::Invalid(errs) => write!(f, "{errs}"),
            ReloadError::Refused(e) => f.write_str(e),
            ReloadError::Unavailable => f.write_str(status::SHUTTING_DOWN),
            ReloadError::NoFile => f.write_str("sidrad runs without a configuration file"),
        }
    }
}

/// Reads the configuration file again and applies it; keeps the configuration in force (the
/// API's AddNeighbor resolves new neighbors against its `[global]` and policies).
#[derive(Clone)]
pub struct Reloader {
    path: Option<PathBuf>,
    daemon: DaemonHandle,
    current: Arc<watch::Sender<Arc<Config>>>,
}

impl Reloader {
    /// `path`: the file sidrad was started with (`None`: reload is refused).
    pub fn new(path: Option<PathBuf>, config: Config, daemon: DaemonHandle) -> Self {
        Reloader {
            path,
            daemon,
            current: Arc::new(watch::Sender::new(Arc::new(config))),
        }
    }

    /// The configuration in force.
    pub fn current(&self) -> Arc<Config> {
        self.current.borrow().clone()
    }

    /// Load the file (with the `SIDRA_` environment) and apply it; every outcome is logged.
    pub async fn reload(&self) -> Result<ReloadReport, ReloadError> {
        let Some(path) = &self.path else {
            return Err(ReloadError::NoFile);
        };
        info!(file = %path.display(), "reloading the configuration");
        let new = match config::load(path) {
            Ok(c) => c,
            Err(errs) => {
                for e in errs.iter() {
                    error!("reload refused: {e}");
                }
                return Err(ReloadError::Invalid(errs));
            }
        };
        let old = self.current();
        match self.daemon.reload(new.clone()).await {
            Ok(r) => {
                if new.api != old.api || new.metrics != old.metrics {
                    warn!("[api] and [metrics] changes take effect when sidrad restarts");
                }
                info!(?r, "reload applied");
                self.current.send_replace(Arc::new(new));
                Ok(r)
            }
            Err(e) => {
                let gone = status::from_daemon(e.clone(), Status::internal).code()
                    == tonic::Code::Unavailable;
                if gone {
                    return Err(ReloadError::Unavailable);
                }
                error!("reload refused: {e}");
                Err(ReloadError::Refused(e))
            }
        }
    }
}

pub(super) struct ConfigApi(pub Ctx);

#[tonic::async_trait]
impl ConfigService for ConfigApi {
    async fn reload(
        &self,
        _req: Request<pb::ReloadRequest>,
    ) -> Result<Response<pb::ReloadResponse>, Status> {
        self.0.check_open()?;
        let addrs = |v: &[std::net::IpAddr]| v.iter().map(|a| a.to_string()).collect();
        match self.0.reloader.reload().await {
            Ok(r) => Ok(Response::new(pb::ReloadResponse {
                added: addrs(&r.added),
                removed: addrs(&r.removed),
                reset: addrs(&r.reset),
                unchanged: u32::try_from(r.unchanged).unwrap_or(u32::MAX),
            })),
            Err(e @ ReloadError::Invalid(_)) => Err(Status::invalid_argument(format!(
                "the configuration file has problems; the running configuration stays:\n{e}"
            ))),
            Err(e @ (ReloadError::Refused(_) | ReloadError::NoFile)) => {
                Err(Status::failed_precondition(format!(
                    "reload refused; the running configuration stays: {e}"
                )))
            }
            Err(ReloadError::Unavailable) => Err(Status::unavailable(status::SHUTTING_DOWN)),
        }
    }
}
