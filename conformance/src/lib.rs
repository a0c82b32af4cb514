//! sidra's conformance harness: real BGP daemons in network namespaces, for session, RIB and SRv6
//! tests.
//!
//! * [`topo::Topology`]: namespaces, a hub bridge, veth links, addresses and sysctls, deleted on drop.
//! * [`process::Daemon`] and [`process::TestDir`]: processes started in a namespace, logged into a
//!   per-test directory, stopped by PID (SIGTERM, then SIGKILL after a bounded wait) on drop.
//! * [`wait::wait_until`]: polling with a deadline that reports the last state seen.
//! * [`peers`]: FRR, GoBGP, BIRD and ExaBGP launchers with state and RIB queries.
//! * [`capture::Tcpdump`]: a capture started before the session and flushed on stop.
//! * [`routes`]: paths to a prefix as each daemon shows them, and the UPDATEs of a capture.
//!
//! Tests need root and the Debian packages frr, gobgpd, bird2, exabgp, tcpdump and iproute2;
//! a missing tool is an error naming its package. Start each root test with [`require_root`].
//!
//! ```no_run
//! use conformance::{Topology, TestDir, require_root};
//! if !require_root("example") {
//!     return;
//! }
//! let topo = Topology::builder("ex1").node("a").node("b").build().unwrap();
//! let dir = TestDir::new("example").unwrap();
//! // ... start peers in topo.node("a").unwrap().ns, files in dir ...
//! ```

pub mod capture;
pub mod cmd;
pub mod error;
pub mod overlay;
pub mod peers;
pub mod process;
pub mod routes;
pub mod srv6lab;
pub mod topo;
pub mod wait;

use std::io::Write as _;

pub use capture::Tcpdump;
pub use error::{Error, Result};
pub use process::{Daemon, TestDir};
pub use topo::{Node, Topology};
pub use wait::{Check, wait_until};

/// Set to `1` to skip (with a message) tests that need root when not running as root.
pub const SKIP_ROOT_ENV: &str = "SIDRA_SKIP_ROOT_TESTS";

/// The effective user id, from /proc/self/status (no libc needed).
pub fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Whether a root-only test may run: `true` as root. Otherwise, with `SIDRA_SKIP_ROOT_TESTS=1`
/// it prints that `test` is skipped and returns `false`; without it, it panics with a message
/// that says how to run or skip the test.
pub fn require_root(test: &str) -> bool {
    if effective_uid() == Some(0) {
        return true;
    }
    if std::env::var(SKIP_ROOT_ENV).is_ok_and(|v| v == "1") {
        // Straight to stderr: the test harness hides eprintln! output of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: needs root (network namespaces); {SKIP_ROOT_ENV}=1 is set"
        );
        return false;
    }
    panic!(
        "{test} needs root (it creates network namespaces and runs BGP daemons): run the tests as \
         root (e.g. `sudo -E scripts/test.sh`), or set {SKIP_ROOT_ENV}=1 to skip them"
    );
}
