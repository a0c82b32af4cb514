//! Connecting to sidrad's API (sidractl, tests, tools): a unix socket by default, or a URL
//! (`http://127.0.0.1:50051`, `https://...` with TLS and an optional client certificate).

use std::error::Error as _;
use std::path::PathBuf;
use std::time::Duration;

use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

/// Where the API is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Socket(PathBuf),
    /// `http://HOST:PORT` or `https://HOST:PORT`.
    Url(String),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Socket(p) => write!(f, "unix:{}", p.display()),
            Target::Url(u) => f.write_str(u),
        }
    }
}

/// PEM files for an `https://` target.
#[derive(Clone, Debug, Default)]
pub struct TlsFiles {
    /// The CA that signed the server's certificate.
    pub ca: Option<PathBuf>,
    /// A client certificate and its key (servers with `api.client_ca` require one).
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// The name to check the server's certificate against (default: the URL's host).
    pub domain: Option<String>,
}

/// An error with its causes, one after the other ("transport error: ...: No such file").
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// Connect (within `timeout`).
pub async fn connect(
    target: &Target,
    tls: &TlsFiles,
    timeout: Duration,
) -> Result<Channel, String> {
    let endpoint = match target {
        Target::Socket(p) => Endpoint::from_shared(format!("unix://{}", p.display())),
        Target::Url(u) => Endpoint::from_shared(u.clone()),
    }
    .map_err(|e| format!("{target}: not a valid address: {}", chain(&e)))?
    .connect_timeout(timeout);
    let endpoint = match target {
        Target::Url(u) if u.starts_with("https://") => {
            let read = |what: &str, p: &PathBuf| {
                std::fs::read(p).map_err(|e| format!("{what} {}: {e}", p.display()))
            };
            let mut t = ClientTlsConfig::new();
            if let Some(ca) = &tls.ca {
                t = t.ca_certificate(Certificate::from_pem(read("--tls-ca", ca)?));
            }
            match (&tls.cert, &tls.key) {
                (Some(c), Some(k)) => {
                    t = t.identity(Identity::from_pem(
                        read("--tls-cert", c)?,
                        read("--tls-key", k)?,
                    ))
                }
                (None, None) => {}
                _ => return Err("--tls-cert and --tls-key go together".into()),
            }
            if let Some(d) = &tls.domain {
                t = t.domain_name(d.clone());
            }
            endpoint
                .tls_config(t)
                .map_err(|e| format!("{target}: TLS: {}", chain(&e)))?
        }
        _ => endpoint,
    };
    let hint = match target {
        Target::Socket(_) => " (is sidrad running? another socket: --socket PATH)",
        Target::Url(_) => "",
    };
    match tokio::time::timeout(timeout, endpoint.connect()).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(format!(
            "cannot connect to sidrad at {target}: {}{hint}",
            chain(&e)
        )),
        Err(_) => Err(format!(
            "cannot connect to sidrad at {target}: no answer in {}s{hint}",
            timeout.as_secs()
        )),
    }
}

/// A gRPC error as sidractl prints it: `NOT_FOUND: no neighbor 192.0.2.9 is configured`.
pub fn status_text(s: &tonic::Status) -> String {
    let code = match s.code() {
        tonic::Code::Ok => "OK",
        tonic::Code::Cancelled => "CANCELLED",
        tonic::Code::Unknown => "UNKNOWN",
        tonic::Code::InvalidArgument => "INVALID_ARGUMENT",
        tonic::Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        tonic::Code::NotFound => "NOT_FOUND",
        tonic::Code::AlreadyExists => "ALREADY_EXISTS",
        tonic::Code::PermissionDenied => "PERMISSION_DENIED",
        tonic::Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        tonic::Code::FailedPrecondition => "FAILED_PRECONDITION",
        tonic::Code::Aborted => "ABORTED",
        tonic::Code::OutOfRange => "OUT_OF_RANGE",
        tonic::Code::Unimplemented => "UNIMPLEMENTED",
        tonic::Code::Internal => "INTERNAL",
        tonic::Code::Unavailable => "UNAVAILABLE",
        tonic::Code::DataLoss => "DATA_LOSS",
        tonic::Code::Unauthenticated => "UNAUTHENTICATED",
    };
    let mut msg = s.message().to_string();
    if let Some(src) = s.source() {
        let t = chain(src);
        if !msg.contains(&t) {
            msg = if msg.is_empty() {
                t
            } else {
                format!("{msg}: {t}")
            };
        }
    }
    format!("{code}: {msg}")
}
