//! Daemons running in the test process, with their API on a unix socket (shared by the tests
//! that need a few sidrad instances peering over loopback).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use bgpd::api::client::{Target, TlsFiles, connect};
use bgpd::api::{ApiServer, Reloader};
use bgpd::config;
use bgpd::daemon::Daemon;
use tokio::sync::oneshot;
use tonic::transport::Channel;

/// A scratch directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("sidra-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running daemon and its API server.
pub struct Node {
    pub socket: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    api: Option<ApiServer>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Node {
    /// Start a daemon from a config text.
    pub async fn start(toml: &str) -> Node {
        let config = config::load_str(toml).unwrap();
        let socket = config.api.socket.clone().unwrap();
        let daemon = Daemon::start(&config).await.unwrap();
        let reloader = Reloader::new(None, config.clone(), daemon.handle());
        let api = ApiServer::start(&config.api, daemon.handle(), reloader)
            .await
            .unwrap();
        let (stop, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(daemon.run(async move {
            let _ = rx.await;
        }));
        Node {
            socket,
            stop: Some(stop),
            api: Some(api),
            task: Some(task),
        }
    }

    pub async fn channel(&self) -> Channel {
        connect(
            &Target::Socket(self.socket.clone()),
            &TlsFiles::default(),
            Duration::from_secs(5),
        )
        .await
        .unwrap()
    }

    pub async fn shutdown(mut self) {
        if let Some(api) = self.api.take() {
            api.stop().await;
        }
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
    }
}

/// A free TCP port on `ip`.
pub fn free_port(ip: &str) -> u16 {
    std::net::TcpListener::bind((ip, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
