//! Per-test scratch directories and guards for the daemons a test starts.
//!
//! A [`Daemon`] runs in the foreground inside a network namespace (`ip netns exec NS ...`, which
//! execs, so the child's PID is the daemon's), with stdout and stderr in a log file. Dropping it
//! sends SIGTERM (or the signal chosen with [`Daemon::stop`]) to that PID only, waits a bounded
//! time, then sends SIGKILL and reaps it.

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::cmd;
use crate::error::{Error, Result};

/// How long a daemon gets to exit after SIGTERM/SIGINT before SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// A scratch directory for one test: configs, logs, sockets, captures.
///
/// Removed on drop, unless the test is failing (panicking), [`TestDir::keep`] was called, or
/// `SIDRA_KEEP_TEST_DIRS=1` is set; its path is then printed.
#[derive(Debug)]
pub struct TestDir {
    path: PathBuf,
    keep: bool,
}

impl TestDir {
    /// `$TMPDIR/sidra-<test>-<pid>`, emptied if a previous run left it.
    pub fn new(test: &str) -> Result<TestDir> {
        let path = std::env::temp_dir().join(format!("sidra-{test}-{}", std::process::id()));
        if path.exists() {
            fs::remove_dir_all(&path).map_err(Error::io(format!("removing {}", path.display())))?;
        }
        fs::create_dir_all(&path).map_err(Error::io(format!("creating {}", path.display())))?;
        Ok(TestDir {
            path,
            keep: std::env::var("SIDRA_KEEP_TEST_DIRS").is_ok_and(|v| v == "1"),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }

    /// A subdirectory, created if needed.
    pub fn subdir(&self, name: &str) -> Result<PathBuf> {
        let p = self.path.join(name);
        fs::create_dir_all(&p).map_err(Error::io(format!("creating {}", p.display())))?;
        Ok(p)
    }

    /// Keep the directory after the test, whatever its outcome.
    pub fn keep(&mut self) {
        self.keep = true;
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if self.keep || thread::panicking() {
            // Straight to stderr, so that it shows for passing tests too.
            let _ = writeln!(io::stderr(), "test files kept in {}", self.path.display());
        } else {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// A daemon started by the test, stopped by PID when dropped.
#[derive(Debug)]
pub struct Daemon {
    name: String,
    child: Child,
    log: PathBuf,
    stop_signal: &'static str,
    exited: Option<ExitStatus>,
}

impl Daemon {
    /// Start `program args...` inside namespace `ns`, with stdout and stderr in `log` and the
    /// log's directory as working directory. `env` is added to the environment.
    pub fn spawn(
        name: &str,
        ns: &str,
        program: &Path,
        args: &[String],
        env: &[(String, String)],
        log: &Path,
    ) -> Result<Daemon> {
        let out = File::create(log).map_err(Error::io(format!("creating {}", log.display())))?;
        let err = out
            .try_clone()
            .map_err(Error::io(format!("cloning {}", log.display())))?;
        let mut c = Command::new(cmd::find(cmd::IP)?);
        c.args(["netns", "exec", ns]).arg(program).args(args);
        c.envs(env.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = log.parent() {
            c.current_dir(dir);
        }
        c.stdin(Stdio::null()).stdout(out).stderr(err);
        let what = format!("starting {name}: {}", cmd::describe(&c));
        let child = c.spawn().map_err(Error::io(what))?;
        Ok(Daemon {
            name: name.to_string(),
            child,
            log: log.to_path_buf(),
            stop_signal: "TERM",
            exited: None,
        })
    }

    /// The signal sent first on drop (`TERM` by default; `INT` suits tcpdump as well).
    pub fn set_stop_signal(&mut self, signal: &'static str) {
        self.stop_signal = signal;
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> &Path {
        &self.log
    }

    /// The last `n` lines of the log.
    pub fn log_tail(&self, n: usize) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Wait (up to 10 s) until the last `lines` lines of the log contain `needle` (a server's
    /// "listening" line); an error if the daemon exits first or the time runs out.
    pub fn wait_for_log(&mut self, what: &str, needle: &str, lines: usize) -> Result<()> {
        crate::wait_until(
            what,
            Duration::from_secs(10),
            Duration::from_millis(10),
            || {
                self.check_running()?;
                let tail = self.log_tail(lines);
                Ok(if tail.contains(needle) {
                    crate::Check::Ready(())
                } else {
                    crate::Check::NotYet(tail)
                })
            },
        )
    }

    /// `Ok` while the daemon runs; an error with its exit status and log tail once it has exited.
    pub fn check_running(&mut self) -> Result<()> {
        if self.exited.is_none() {
            self.exited = self
                .child
                .try_wait()
                .map_err(Error::io(format!("checking {}", self.name)))?;
        }
        match self.exited {
            None => Ok(()),
            Some(status) => Err(Error::Other(format!(
                "{} (pid {}) exited: {status}; log {}:\n{}",
                self.name,
                self.pid(),
                self.log.display(),
                self.log_tail(20)
            ))),
        }
    }

    /// Send `signal` (e.g. `TERM`, `INT`) to the daemon's PID, wait up to `grace` for it to exit,
    /// then SIGKILL it. Returns its exit status.
    pub fn stop(&mut self, signal: &str, grace: Duration) -> Result<ExitStatus> {
        if let Some(status) = self.exited {
            return Ok(status);
        }
        if let Some(status) = self.child.try_wait().ok().flatten() {
            self.exited = Some(status);
            return Ok(status);
        }
        let pid = self.pid().to_string();
        // The child is not reaped yet, so its PID cannot have been reused.
        let _ = cmd::run(Command::new("kill").args(["-s", signal, &pid]));
        let start = Instant::now();
        while start.elapsed() < grace {
            if let Some(status) = self.child.try_wait().ok().flatten() {
                self.exited = Some(status);
                return Ok(status);
            }
            thread::sleep(Duration::from_millis(10));
        }
        eprintln!(
            "{} (pid {pid}) ignored SIG{signal} for {grace:?}: SIGKILL",
            self.name
        );
        let _ = self.child.kill();
        let status = self
            .child
            .wait()
            .map_err(Error::io(format!("reaping {}", self.name)))?;
        self.exited = Some(status);
        Ok(status)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let signal = self.stop_signal;
        if let Err(e) = self.stop(signal, STOP_GRACE) {
            eprintln!("stopping {}: {e}", self.name);
        }
    }
}
