//! `[api]` (the gRPC API server) and `[metrics]` (the Prometheus exporter).
//!
//! ```toml
//! [api]
//! socket = "/run/sidra/sidrad.sock"   # the default; "" = no unix socket
//! listen = "127.0.0.1:50051"          # TCP as well (off when absent)
//! tls_cert = "/etc/sidra/api.crt"     # PEM; required unless listen is a loopback address
//! tls_key = "/etc/sidra/api.key"
//! client_ca = "/etc/sidra/clients.crt" # require client certificates signed by it
//!
//! [metrics]
//! listen = "127.0.0.1:9179"           # off when absent
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::ConfigErrors;
use super::walk::{Field, Node};

/// The default `api.socket`.
pub const DEFAULT_SOCKET: &str = "/run/sidra/sidrad.sock";

/// The longest path a unix socket address holds (`sun_path` is 108 bytes with the NUL).
const MAX_SOCKET_PATH: usize = 107;

const API_KEYS: &[&str] = &["socket", "listen", "tls_cert", "tls_key", "client_ca"];
const METRICS_KEYS: &[&str] = &["listen"];

/// `[api]`: where the gRPC API is served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiConfig {
    /// The unix socket (mode 0600); `None` when `api.socket = ""`.
    pub socket: Option<PathBuf>,
    /// A TCP listener as well.
    pub listen: Option<SocketAddr>,
    /// TLS on the TCP listener (required unless it is a loopback address).
    pub tls: Option<ApiTls>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            socket: Some(PathBuf::from(DEFAULT_SOCKET)),
            listen: None,
            tls: None,
        }
    }
}

/// The PEM files of the TCP listener's TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiTls {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// When set, clients must present a certificate signed by one of these CAs.
    pub client_ca: Option<PathBuf>,
}

/// `[metrics]`: the Prometheus exporter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetricsConfig {
    /// Where `/metrics` is served over HTTP; `None`: no exporter.
    pub listen: Option<SocketAddr>,
}

pub(super) fn read_api(node: &Node<'_>, errs: &mut ConfigErrors) -> ApiConfig {
    let mut api = ApiConfig::default();
    let (mut cert, mut key, mut client_ca) = (None, None, None);
    for entry in node.table("a table ([api])", errs).unwrap_or_default() {
        match entry.name() {
            "socket" => {
                if let Some(f) = entry.string(errs) {
                    api.socket = socket_path(f, errs);
                }
            }
            "listen" => api.listen = entry.string(errs).and_then(|f| socket_addr(f, errs)),
            "tls_cert" => cert = entry.string(errs).and_then(|f| pem_file(f, errs)),
            "tls_key" => key = entry.string(errs).and_then(|f| pem_file(f, errs)),
            "client_ca" => client_ca = entry.string(errs).and_then(|f| pem_file(f, errs)),
            _ => entry.unknown(API_KEYS, errs),
        }
    }
    let at = |name: &str| format!("{}.{name}", node.key);
    match (&cert, &key) {
        (Some(_), None) if errs.for_key(&at("tls_key")).next().is_none() => errs.push(
            at("tls_key"),
            "missing (api.tls_cert is set: both are needed)",
        ),
        (None, Some(_)) if errs.for_key(&at("tls_cert")).next().is_none() => errs.push(
            at("tls_cert"),
            "missing (api.tls_key is set: both are needed)",
        ),
        _ => {}
    }
    if let Some(ca) = &client_ca
        && cert.is_none()
        && key.is_none()
    {
        ca.problem(
            errs,
            "needs api.tls_cert and api.tls_key (client certificates are checked over TLS)",
        );
    }
    if (cert.is_some() || key.is_some()) && api.listen.is_none() {
        let f = cert.as_ref().or(key.as_ref());
        if let Some(f) = f {
            f.problem(
                errs,
                "is set but api.listen is not (TLS is for the TCP listener)",
            );
        }
    }
    if let Some(addr) = api.listen
        && !addr.ip().is_loopback()
        && cert.is_none()
        && key.is_none()
    {
        errs.push(
            at("listen"),
            format!(
                "{addr} is not a loopback address: set api.tls_cert and api.tls_key \
                 (plaintext is allowed on loopback only)"
            ),
        );
    }
    if let (Some(cert), Some(key)) = (cert, key) {
        api.tls = Some(ApiTls {
            cert: cert.value,
            key: key.value,
            client_ca: client_ca.map(|f| f.value),
        });
    }
    api
}

pub(super) fn read_metrics(node: &Node<'_>, errs: &mut ConfigErrors) -> MetricsConfig {
    let mut m = MetricsConfig::default();
    for entry in node.table("a table ([metrics])", errs).unwrap_or_default() {
        match entry.name() {
            "listen" => m.listen = entry.string(errs).and_then(|f| socket_addr(f, errs)),
            _ => entry.unknown(METRICS_KEYS, errs),
        }
    }
    m
}

/// An absolute path no longer than a socket address holds, or "" for none.
fn socket_path(f: Field<String>, errs: &mut ConfigErrors) -> Option<PathBuf> {
    let s = f.value.trim();
    if s.is_empty() {
        return None;
    }
    let path = Path::new(s);
    if !path.is_absolute() {
        f.problem(
            errs,
            format!("{s:?} is not an absolute path (or \"\" to serve no unix socket)"),
        );
    } else if s.len() > MAX_SOCKET_PATH {
        f.problem(
            errs,
            format!(
                "is {} bytes long: a unix socket path is at most {MAX_SOCKET_PATH}",
                s.len()
            ),
        );
    } else if s.ends_with('/') {
        f.problem(errs, format!("{s:?} is a directory, not a socket path"));
    }
    Some(path.to_path_buf())
}

fn socket_addr(f: Field<String>, errs: &mut ConfigErrors) -> Option<SocketAddr> {
    match f.value.trim().parse::<SocketAddr>() {
        Ok(a) => Some(a),
        Err(_) => {
            let problem = format!(
                "{:?} is not a socket address (e.g. \"127.0.0.1:50051\" or \"[::1]:50051\")",
                f.value
            );
            f.problem(errs, problem);
            None
        }
    }
}

/// A file that exists (it is read when the server starts; problems then name the key too).
fn pem_file(f: Field<String>, errs: &mut ConfigErrors) -> Option<Field<PathBuf>> {
    let path = PathBuf::from(f.value.trim());
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => Some(f.map(|_| path)),
        Ok(_) => {
            f.problem(errs, format!("{} is not a file", path.display()));
            None
        }
        Err(e) => {
            let problem = format!(
                "{}: {}",
                path.display(),
                super::source::io_message(&e).to_lowercase()
            );
            f.problem(errs, problem);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{ApiConfig, load_str};

    const GLOBAL: &str = "[global]\nasn = 65001\nrouter_id = \"10.0.0.1\"\n";

    fn errors(extra: &str) -> String {
        match load_str(&format!("{GLOBAL}{extra}")) {
            Ok(c) => format!("loaded: {:?} {:?}", c.api, c.metrics),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn defaults() {
        let c = load_str(GLOBAL).expect("valid");
        assert_eq!(c.api, ApiConfig::default());
        assert_eq!(
            c.api.socket.as_deref(),
            Some(std::path::Path::new("/run/sidra/sidrad.sock"))
        );
        assert_eq!(c.metrics.listen, None);
    }

    #[test]
    fn values() {
        let c = load_str(&format!(
            "{GLOBAL}[api]\nsocket = \"/tmp/x.sock\"\nlisten = \"127.0.0.1:50051\"\n\
             [metrics]\nlisten = \"127.0.0.1:9179\"\n"
        ))
        .expect("valid");
        assert_eq!(
            c.api.socket.as_deref(),
            Some(std::path::Path::new("/tmp/x.sock"))
        );
        assert_eq!(c.api.listen, Some("127.0.0.1:50051".parse().expect("addr")));
        assert_eq!(
            c.metrics.listen,
            Some("127.0.0.1:9179".parse().expect("addr"))
        );
        let c = load_str(&format!("{GLOBAL}[api]\nsocket = \"\"\n")).expect("valid");
        assert_eq!(c.api.socket, None);
    }

    #[test]
    fn problems_name_the_key() {
        assert_eq!(
            errors("[api]\nsocket = \"run/x.sock\"\n"),
            "api.socket: \"run/x.sock\" is not an absolute path (or \"\" to serve no unix socket)"
        );
        assert_eq!(
            errors("[api]\nlisten = \"localhost\"\n"),
            "api.listen: \"localhost\" is not a socket address (e.g. \"127.0.0.1:50051\" or \
             \"[::1]:50051\")"
        );
        assert_eq!(
            errors("[api]\nlisten = \"0.0.0.0:50051\"\n"),
            "api.listen: 0.0.0.0:50051 is not a loopback address: set api.tls_cert and \
             api.tls_key (plaintext is allowed on loopback only)"
        );
        assert_eq!(
            errors("[api]\ntls_cert = \"/nonexistent/c.pem\"\n"),
            "api.tls_cert: /nonexistent/c.pem: no such file or directory"
        );
        assert_eq!(
            errors("[api]\nsockett = \"/x\"\n"),
            "api.sockett: unknown key (did you mean socket?)"
        );
        assert_eq!(
            errors("[metrics]\nlisten = \"9179\"\n"),
            "metrics.listen: \"9179\" is not a socket address (e.g. \"127.0.0.1:50051\" or \
             \"[::1]:50051\")"
        );
        let long = format!("/{}", "a".repeat(120));
        assert!(errors(&format!("[api]\nsocket = \"{long}\"\n")).contains("at most 107"));
    }

    #[test]
    fn tls_pairs() {
        let dir = std::env::temp_dir();
        let file = dir.join(format!("sidra-config-api-{}.pem", std::process::id()));
        std::fs::write(&file, "x").expect("write");
        let f = file.display();
        assert_eq!(
            errors(&format!(
                "[api]\nlisten = \"[::]:50051\"\ntls_cert = \"{f}\"\n"
            )),
            "api.tls_key: missing (api.tls_cert is set: both are needed)"
        );
        assert_eq!(
            errors(&format!("[api]\ntls_cert = \"{f}\"\ntls_key = \"{f}\"\n")),
            "api.tls_cert: is set but api.listen is not (TLS is for the TCP listener)"
        );
        assert_eq!(
            errors(&format!("[api]\nclient_ca = \"{f}\"\n")),
            "api.client_ca: needs api.tls_cert and api.tls_key (client certificates are \
             checked over TLS)"
        );
        let c = load_str(&format!(
            "{GLOBAL}[api]\nlisten = \"[::]:50051\"\ntls_cert = \"{f}\"\ntls_key = \"{f}\"\n\
             client_ca = \"{f}\"\n"
        ))
        .expect("valid");
        let tls = c.api.tls.expect("tls");
        assert_eq!(tls.client_ca.as_deref(), Some(file.as_path()));
        let _ = std::fs::remove_file(&file);
    }
}
