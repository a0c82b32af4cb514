//! Who may use sidrad's API: the unix socket is private to sidrad's user (mode 0600, in a
//! directory sidrad creates 0700), so another user's `sidractl` is refused by the kernel
//! (EACCES) while the owner's works; and the TLS listener with `api.client_ca` refuses client
//! certificates it cannot trust (another CA, expired), through `sidractl` as operators run it.
//! (tests/api.rs covers the TLS listener with the right certificate, none, and plaintext.)
//!
//! The other-user test needs root (to run `sidractl` as `nobody`); without root it fails with a
//! message, or is skipped with `SIDRA_SKIP_ROOT_TESTS=1`, as the conformance tests are.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;
use common::TempDir;
use std::io::Write as _;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use bgpd::api::{ApiServer, Reloader};
use bgpd::config;
use bgpd::daemon::Daemon;
use tokio::sync::oneshot;

/// The user and group `sidractl` runs as in the other-user test (`nobody`, `nogroup`).
const NOBODY: u32 = 65534;

/// The effective user id, from /proc/self/status.
fn effective_uid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    line.split_whitespace().nth(2).unwrap().parse().unwrap()
}

/// Whether a root-only test may run (as in conformance::require_root): as root, yes; otherwise
/// skipped with a message when `SIDRA_SKIP_ROOT_TESTS=1`, failed with one when not.
fn require_root(test: &str) -> bool {
    if effective_uid() == 0 {
        return true;
    }
    if std::env::var("SIDRA_SKIP_ROOT_TESTS").is_ok_and(|v| v == "1") {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: needs root (runs sidractl as another user); \
             SIDRA_SKIP_ROOT_TESTS=1 is set"
        );
        return false;
    }
    panic!(
        "{test} needs root (it runs sidractl as the user nobody): run the tests as root \
         (e.g. `sudo -E scripts/test.sh`), or set SIDRA_SKIP_ROOT_TESTS=1 to skip it"
    );
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A daemon with its API, in this process, until `shutdown`.
struct Node {
    stop: Option<oneshot::Sender<()>>,
    api: Option<ApiServer>,
    task: Option<tokio::task::JoinHandle<()>>,
    tcp: Option<std::net::SocketAddr>,
}

impl Node {
    async fn start(toml: &str) -> Node {
        let config = config::load_str(toml).unwrap();
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
            tcp: api.tcp,
            stop: Some(stop),
            api: Some(api),
            task: Some(task),
        }
    }

    async fn shutdown(mut self) {
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

const GLOBAL: &str = r#"[global]
asn = 65001
router_id = "10.0.0.1"
listen = []

[[neighbors]]
address = "192.0.2.77"
remote_as = 65002
shutdown = true
"#;

fn sidractl() -> &'static str {
    env!("CARGO_BIN_EXE_sidractl")
}

/// `sidractl ARGS` run as the user and group `uid`/`gid` with no supplementary groups.
fn sidractl_as(uid: u32, gid: u32, args: &[&str]) -> Output {
    Command::new("setpriv")
        .arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"))
        .arg("--clear-groups")
        .arg(sidractl())
        .args(args)
        .output()
        .expect("setpriv (util-linux) is needed to run sidractl as another user")
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// Without root: the socket sidrad creates is a socket of mode 0600 owned by our user, in a
/// directory it creates with mode 0700, and our own `sidractl` is served through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_socket_is_private_to_its_owner() {
    let dir = TempDir::new("owner");
    let api_dir = dir.0.join("run/sidra");
    let socket = api_dir.join("sidrad.sock");
    let toml = format!("{GLOBAL}\n[api]\nsocket = \"{}\"\n", socket.display());
    let node = Node::start(&toml).await;

    let meta = std::fs::symlink_metadata(&socket).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o7777, 0o600, "socket mode");
    assert_eq!(meta.uid(), effective_uid(), "socket owner");
    assert_eq!(mode(&api_dir), 0o700, "the directory sidrad created");
    assert_eq!(std::fs::metadata(&api_dir).unwrap().uid(), effective_uid());

    let s = socket.to_str().unwrap();
    let out = Command::new(sidractl())
        .args(["--socket", s, "--timeout", "5", "neighbor", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("192.0.2.77"),
        "{}",
        text(&out)
    );
    node.shutdown().await;
    assert!(!socket.exists(), "the socket is removed on stop");
}

/// As root: `sidractl` run as nobody is refused by the socket's mode (EACCES, "Permission
/// denied") while root's is served; the same nobody is served once the socket is opened to
/// everyone, which shows that the mode alone refused it (not the directory, not the binary).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_socket_refuses_other_users() {
    if !require_root("api_socket_refuses_other_users") {
        return;
    }
    let dir = TempDir::new("others");
    // Every directory on the way is traversable by nobody (the temp dir's parents are); the
    // socket's directory is made so after sidrad creates it 0700.
    std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o711)).unwrap();
    let api_dir = dir.0.join("sidra");
    let socket = api_dir.join("sidrad.sock");
    let toml = format!("{GLOBAL}\n[api]\nsocket = \"{}\"\n", socket.display());
    let node = Node::start(&toml).await;
    assert_eq!(mode(&api_dir), 0o700);
    std::fs::set_permissions(&api_dir, std::fs::Permissions::from_mode(0o711)).unwrap();
    let meta = std::fs::symlink_metadata(&socket).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
    assert_eq!(meta.uid(), 0);
    assert_ne!(meta.uid(), NOBODY);

    // nobody can run sidractl at all (else the refusal below would prove nothing).
    let version = sidractl_as(NOBODY, NOBODY, &["--version"]);
    assert!(
        version.status.success(),
        "nobody cannot run {}: make its directories world-executable\n{}",
        sidractl(),
        text(&version)
    );

    let s = socket.to_str().unwrap();
    let args = ["--socket", s, "--timeout", "5", "neighbor", "--json"];
    // Root: served.
    let root = sidractl_as(0, 0, &args);
    assert!(root.status.success(), "{}", text(&root));
    assert!(
        String::from_utf8_lossy(&root.stdout).contains("192.0.2.77"),
        "{}",
        text(&root)
    );
    // nobody: refused at connect(2) with EACCES.
    let nobody = sidractl_as(NOBODY, NOBODY, &args);
    assert!(!nobody.status.success(), "{}", text(&nobody));
    let err = String::from_utf8_lossy(&nobody.stderr);
    assert!(
        err.contains("Permission denied (os error 13)"),
        "not EACCES: {}",
        text(&nobody)
    );
    assert!(err.contains(s), "the error names the socket: {err}");
    assert!(nobody.stdout.is_empty(), "{}", text(&nobody));

    // The control: the same call, with the socket opened to everyone, is served.
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    let opened = sidractl_as(NOBODY, NOBODY, &args);
    assert!(opened.status.success(), "{}", text(&opened));
    node.shutdown().await;
}

/// PEM files in `dir`: `ca` (trusted by the server for clients and signing its certificate),
/// `server` (127.0.0.1), `client` (signed by `ca`), `rogue-client` (signed by another CA with
/// another name), `impostor-client` (signed by a CA with the trusted CA's name but not its key),
/// and `expired-client` (signed by `ca`, expired).
fn certificates(dir: &Path) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, date_time_ymd,
    };
    let write = |name: &str, pem: String| std::fs::write(dir.join(name), pem).unwrap();
    let mut issuers = Vec::new();
    for (name, cn) in [
        ("ca", "sidra API clients"),
        ("rogue-ca", "rogue"),
        ("impostor-ca", "sidra API clients"),
    ] {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        write(
            &format!("{name}.pem"),
            params.self_signed(&key).unwrap().pem(),
        );
        issuers.push(Issuer::new(params, key));
    }
    let leaves: [(&str, &str, usize, bool); 5] = [
        ("server", "127.0.0.1", 0, false),
        ("client", "sidractl", 0, false),
        ("rogue-client", "sidractl", 1, false),
        ("impostor-client", "sidractl", 2, false),
        ("expired-client", "sidractl", 0, true),
    ];
    for (name, san, issuer, expired) in leaves {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![san.to_string()]).unwrap();
        if expired {
            params.not_before = date_time_ymd(2020, 1, 1);
            params.not_after = date_time_ymd(2021, 1, 1);
        }
        let cert = params.signed_by(&key, &issuers[issuer]).unwrap();
        write(&format!("{name}.pem"), cert.pem());
        write(&format!("{name}.key"), key.serialize_pem());
    }
}

/// The TLS listener with `api.client_ca`: `sidractl` with a certificate from the trusted CA is
/// served; with one from another CA (named differently or alike), an expired one, or none, it
/// is refused (exit 1, the error on stderr, nothing on stdout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_listener_refuses_untrusted_client_certificates() {
    let dir = TempDir::new("tls");
    certificates(&dir.0);
    let d = dir.0.display();
    let toml = format!(
        "{GLOBAL}\n[api]\nsocket = \"\"\nlisten = \"127.0.0.1:0\"\n\
         tls_cert = \"{d}/server.pem\"\ntls_key = \"{d}/server.key\"\n\
         client_ca = \"{d}/ca.pem\"\n"
    );
    let node = Node::start(&toml).await;
    let url = format!("https://127.0.0.1:{}", node.tcp.unwrap().port());
    let ca = format!("{d}/ca.pem");
    let run = |client: Option<&str>| {
        let mut cmd = Command::new(sidractl());
        cmd.args(["--addr", &url, "--tls-ca", &ca, "--timeout", "5"]);
        if let Some(c) = client {
            cmd.arg("--tls-cert")
                .arg(format!("{d}/{c}.pem"))
                .arg("--tls-key")
                .arg(format!("{d}/{c}.key"));
        }
        cmd.args(["neighbor", "--json"]).output().unwrap()
    };
    // Blocking calls: the server runs on the other worker thread.
    let ok = run(Some("client"));
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(
        String::from_utf8_lossy(&ok.stdout).contains("192.0.2.77"),
        "{}",
        text(&ok)
    );
    for client in [
        Some("rogue-client"),
        Some("impostor-client"),
        Some("expired-client"),
        None,
    ] {
        let out = run(client);
        assert_eq!(out.status.code(), Some(1), "{client:?}: {}", text(&out));
        assert!(out.stdout.is_empty(), "{client:?}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with("sidractl: "),
            "{client:?}: {}",
            text(&out)
        );
    }
    node.shutdown().await;
}
