//! `sidrad`: the sidra daemon.
//!
//! ```text
//! sidrad --config /etc/sidra/sidrad.toml [--log-format human|json]
//! sidrad --check-config /etc/sidra/sidrad.toml
//! ```
//! Exit codes: 0 success, 1 runtime failure (e.g. cannot listen), 2 bad usage or bad config.

use std::path::PathBuf;
use std::process::ExitCode;

use bgpd::config;
use bgpd::daemon::Daemon;
use clap::{Parser, ValueEnum};
use tracing::{error, info};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(Parser, Debug)]
#[command(
    name = "sidrad",
    version,
    about = "sidra: SRv6 services for Kubernetes pod networks over BGP"
)]
struct Args {
    /// The configuration file (TOML); SIDRA_* environment variables override it.
    #[arg(
        short,
        long,
        value_name = "FILE",
        default_value = "/etc/sidra/sidrad.toml"
    )]
    config: PathBuf,
    /// Validate FILE (with the environment overrides) and exit: 0 if valid, 2 with the
    /// problems otherwise.
    #[arg(long, value_name = "FILE")]
    check_config: Option<PathBuf>,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,
    /// Log filter (tracing EnvFilter syntax), e.g. `info` or `bgpd=debug`; RUST_LOG also works.
    #[arg(long, value_name = "FILTER")]
    log: Option<String>,
}

fn init_logs(format: LogFormat, filter: Option<&str>) {
    let filter = filter
        .map(tracing_subscriber::EnvFilter::new)
        .or_else(|| tracing_subscriber::EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(path) = &args.check_config {
        return match config::load(path) {
            Ok(c) => {
                println!(
                    "{}: valid ({} neighbors)",
                    path.display(),
                    c.neighbors.len()
                );
                ExitCode::SUCCESS
            }
            Err(errs) => {
                eprintln!("{}: invalid configuration:", path.display());
                eprintln!("{errs}");
                ExitCode::from(2)
            }
        };
    }
    let config = match config::load(&args.config) {
        Ok(c) => c,
        Err(errs) => {
            eprintln!("{}: invalid configuration:", args.config.display());
            eprintln!("{errs}");
            return ExitCode::from(2);
        }
    };
    init_logs(args.log_format, args.log.as_deref());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sidrad: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async move {
        info!(
            version = env!("CARGO_PKG_VERSION"),
            asn = config.global.asn,
            router_id = %config.global.router_id,
            "sidrad starting"
        );
        // The metrics recorder first: counts made while the daemon starts (the data plane's
        // first operations) would otherwise go to no recorder and be lost.
        if let Some(addr) = config.metrics.listen
            && let Err(e) = bgpd::telemetry::install(addr)
        {
            error!("{e}");
            return ExitCode::from(1);
        }
        let daemon = match Daemon::start(&config).await {
            Ok(d) => d,
            Err(e) => {
                error!("{e}");
                return ExitCode::from(1);
            }
        };
        // The operator surface: metrics, the gRPC API, reload (SIGHUP and the API).
        let reloader =
            bgpd::api::Reloader::new(Some(args.config.clone()), config.clone(), daemon.handle());
        if config.metrics.listen.is_some() {
            tokio::spawn(bgpd::telemetry::refresher(daemon.handle()));
        }
        let api = match bgpd::api::ApiServer::start(&config.api, daemon.handle(), reloader.clone())
            .await
        {
            Ok(a) => a,
            Err(e) => {
                error!("{e}");
                return ExitCode::from(1);
            }
        };
        tokio::spawn(reload_on_sighup(reloader));
        daemon.run(shutdown_signal()).await;
        api.stop().await;
        info!("sidrad stopped");
        ExitCode::SUCCESS
    })
}

/// SIGHUP: read the configuration file again and apply it; a file with problems is refused
/// with every problem logged, and the running configuration stays (the API's Reload does the
/// same through the same [`bgpd::api::Reloader`]).
async fn reload_on_sighup(reloader: bgpd::api::Reloader) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        return;
    };
    while hup.recv().await.is_some() {
        info!("SIGHUP received");
        // Every outcome is logged by the reloader.
        let _ = reloader.reload().await;
    }
}

/// SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => info!("SIGTERM received"),
        _ = int.recv() => info!("SIGINT received"),
    }
}
