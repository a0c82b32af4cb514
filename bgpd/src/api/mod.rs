//! The gRPC API server (`sidra.v1`, see `proto/sidra/v1/sidra.proto`), on top of
//! [`DaemonHandle`] and the RIB handle; plus `grpc.health.v1` and server reflection.
//!
//! ```text
//!  sidractl / CNI agent --unix socket (0600)--+
//!  remote client ---------TCP + TLS (mTLS)----+--> [tonic server] --> DaemonHandle --> daemon task
//!                                                                 --> RibHandle::query --> RIB task
//!                                                                 <-- rib::watch feed (WatchRoutes)
//! ```
//!
//! Every call is a message to the daemon or RIB task (nothing reaches into their state), so a
//! slow client slows nobody else. Errors are gRPC status codes an operator can act on
//! ([`status`]).

pub mod client;
mod config;
mod neighbor;
pub mod render;
mod rib;
mod srv6;
pub mod status;

use std::fs::DirBuilder;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sidra_proto::v1::config_service_server::ConfigServiceServer;
use sidra_proto::v1::neighbor_service_server::NeighborServiceServer;
use sidra_proto::v1::node_service_server::NodeServiceServer;
use sidra_proto::v1::rib_service_server::RibServiceServer;
use sidra_proto::v1::srv6_service_server::Srv6ServiceServer;
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::{TcpListenerStream, UnixListenerStream};
use tonic::transport::server::Router;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tracing::{info, warn};

pub use self::config::Reloader;
use crate::config::ApiConfig;
use crate::daemon::DaemonHandle;

/// The gRPC services sidrad serves (the names clients and reflection see).
pub const SERVICES: [&str; 5] = [
    "sidra.v1.NeighborService",
    "sidra.v1.RibService",
    "sidra.v1.Srv6Service",
    "sidra.v1.NodeService",
    "sidra.v1.ConfigService",
];

/// Why the API server could not start; the message names the configuration key.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {problem}")]
pub struct ApiError {
    pub key: &'static str,
    pub problem: String,
}

fn err(key: &'static str, problem: impl Into<String>) -> ApiError {
    ApiError {
        key,
        problem: problem.into(),
    }
}

/// Shared by every service: the daemon, the reload source, and whether sidrad is stopping.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub daemon: DaemonHandle,
    pub reloader: Reloader,
    pub closing: watch::Receiver<bool>,
}

impl Ctx {
    /// UNAVAILABLE once sidrad is stopping.
    pub fn check_open(&self) -> Result<(), tonic::Status> {
        if *self.closing.borrow() {
            return Err(tonic::Status::unavailable(status::SHUTTING_DOWN));
        }
        Ok(())
    }
}

/// The running API server.
pub struct ApiServer {
    tasks: Vec<JoinHandle<()>>,
    closing: watch::Sender<bool>,
    health: HealthReporter,
    /// The socket we created, with its inode: removed on stop unless someone replaced it.
    socket: Option<(PathBuf, u64)>,
    /// Where the TCP listener is bound (the port chosen when the configuration says 0).
    pub tcp: Option<SocketAddr>,
}

impl ApiServer {
    /// Bind the unix socket and the TCP listener of `config` and serve the API on them.
    pub async fn start(
        config: &ApiConfig,
        daemon: DaemonHandle,
        reloader: Reloader,
    ) -> Result<ApiServer, ApiError> {
        let (closing_tx, closing) = watch::channel(false);
        let ctx = Ctx {
            daemon,
            reloader,
            closing,
        };
        let (health, health_svc) = tonic_health::server::health_reporter();
        health.set_service_status("", ServingStatus::Serving).await;
        for s in SERVICES {
            health.set_service_status(s, ServingStatus::Serving).await;
        }
        let router = |builder: &mut Server| -> Result<Router, ApiError> {
            let reflection = tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(sidra_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .build_v1()
                .map_err(|e| err("api", format!("server reflection: {e}")))?;
            Ok(builder
                .add_service(health_svc.clone())
                .add_service(reflection)
                .add_service(NeighborServiceServer::new(neighbor::Neighbors(ctx.clone())))
                .add_service(RibServiceServer::new(rib::Routes(ctx.clone())))
                .add_service(Srv6ServiceServer::new(srv6::Srv6(ctx.clone())))
                .add_service(NodeServiceServer::new(srv6::Node(ctx.clone())))
                .add_service(ConfigServiceServer::new(config::ConfigApi(ctx.clone()))))
        };
        let mut tasks = Vec::new();
        let mut socket = None;
        if let Some(path) = &config.socket {
            let (listener, ino) = bind_unix(path)?;
            info!(socket = %path.display(), "API listening");
            let r = router(&mut Server::builder())?;
            let mut stop = ctx.closing.clone();
            tasks.push(tokio::spawn(async move {
                let incoming = UnixListenerStream::new(listener);
                let done = async move {
                    let _ = stop.wait_for(|c| *c).await;
                };
                if let Err(e) = r.serve_with_incoming_shutdown(incoming, done).await {
                    warn!("API server (unix socket) stopped: {e}");
                }
            }));
            socket = Some((path.clone(), ino));
        }
        let mut tcp = None;
        if let Some(addr) = config.listen {
            let mut builder = Server::builder();
            if let Some(tls) = &config.tls {
                let read = |key: &'static str, p: &Path| {
                    std::fs::read(p).map_err(|e| err(key, format!("{}: {e}", p.display())))
                };
                let identity = Identity::from_pem(
                    read("api.tls_cert", &tls.cert)?,
                    read("api.tls_key", &tls.key)?,
                );
                let mut t = ServerTlsConfig::new().identity(identity);
                if let Some(ca) = &tls.client_ca {
                    t = t.client_ca_root(Certificate::from_pem(read("api.client_ca", ca)?));
                }
                builder = builder.tls_config(t).map_err(|e| {
                    err(
                        "api.tls_cert",
                        format!("cannot use the certificate and key (PEM expected): {e}"),
                    )
                })?;
            }
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|e| err("api.listen", format!("cannot listen on {addr}: {e}")))?;
            let local = listener.local_addr().unwrap_or(addr);
            info!(
                listen = %local,
                tls = config.tls.is_some(),
                client_auth = config.tls.as_ref().is_some_and(|t| t.client_ca.is_some()),
                "API listening"
            );
            let r = router(&mut builder)?;
            let mut stop = ctx.closing.clone();
            tasks.push(tokio::spawn(async move {
                let incoming = TcpListenerStream::new(listener);
                let done = async move {
                    let _ = stop.wait_for(|c| *c).await;
                };
                if let Err(e) = r.serve_with_incoming_shutdown(incoming, done).await {
                    warn!("API server (TCP) stopped: {e}");
                }
            }));
            tcp = Some(local);
        }
        Ok(ApiServer {
            tasks,
            closing: closing_tx,
            health,
            socket,
            tcp,
        })
    }

    /// Health NOT_SERVING and UNAVAILABLE for new calls (sidrad is stopping); the listeners
    /// stay until [`ApiServer::stop`].
    pub async fn closing(&self) {
        self.health
            .set_service_status("", ServingStatus::NotServing)
            .await;
        for s in SERVICES {
            self.health
                .set_service_status(s, ServingStatus::NotServing)
                .await;
        }
        self.closing.send_replace(true);
    }

    /// Stop serving (open streams end) and remove the socket.
    pub async fn stop(self) {
        self.closing().await;
        for mut t in self.tasks {
            if tokio::time::timeout(Duration::from_secs(2), &mut t)
                .await
                .is_err()
            {
                t.abort();
            }
        }
        if let Some((path, ino)) = &self.socket {
            // Only our own socket: another sidrad may have taken the path since.
            if std::fs::symlink_metadata(path).is_ok_and(|m| m.ino() == *ino) {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// Create the socket's directory (0700 when we create it), replace a stale socket, bind, and
/// restrict the socket to its owner (0600). Returns the listener and the socket's inode.
fn bind_unix(path: &Path) -> Result<(UnixListener, u64), ApiError> {
    const KEY: &str = "api.socket";
    let shown = path.display();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| {
                err(
                    KEY,
                    format!("cannot create {}: {}", dir.display(), io_text(&e)),
                )
            })?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                warn!(socket = %shown, "another process is serving this socket: taking it over");
            }
            std::fs::remove_file(path).map_err(|e| {
                err(
                    KEY,
                    format!("cannot remove the old socket {shown}: {}", io_text(&e)),
                )
            })?;
        }
        Ok(_) => {
            return Err(err(
                KEY,
                format!("{shown} exists and is not a socket (remove it or choose another path)"),
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(KEY, format!("{shown}: {}", io_text(&e)))),
    }
    let listener = UnixListener::bind(path)
        .map_err(|e| err(KEY, format!("cannot listen on {shown}: {}", io_text(&e))))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| {
        err(
            KEY,
            format!("cannot set the mode of {shown} to 0600: {}", io_text(&e)),
        )
    })?;
    let ino = std::fs::symlink_metadata(path)
        .map(|m| m.ino())
        .map_err(|e| err(KEY, format!("{shown}: {}", io_text(&e))))?;
    Ok((listener, ino))
}

/// An I/O error without the "(os error N)" suffix.
fn io_text(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
