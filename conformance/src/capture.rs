//! Packet captures with tcpdump inside a namespace.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bgpd::capture::CapturedMessage;

use crate::cmd;
use crate::error::{Error, Result};
use crate::process::{Daemon, STOP_GRACE};
use crate::wait::{Check, wait_until};

/// A running `tcpdump -w`; [`Tcpdump::stop`] (or drop) ends it with SIGINT so the file is complete.
#[derive(Debug)]
pub struct Tcpdump {
    daemon: Daemon,
    file: PathBuf,
}

impl Tcpdump {
    /// Capture on `iface` in namespace `ns` into `file` (pcap), with an optional BPF `filter`
    /// (e.g. `tcp port 179`). Returns once tcpdump is listening. Its log is `file` + `.log`.
    pub fn start(ns: &str, iface: &str, file: &Path, filter: &str) -> Result<Tcpdump> {
        let program = cmd::find(cmd::TCPDUMP)?;
        // --immediate-mode: hand each packet over at once rather than per ring block, so that
        // what was seen before the stop is written; -U: write each packet as it comes.
        let mut args: Vec<String> = [
            "-i",
            iface,
            "-n",
            "--immediate-mode",
            "-U",
            "-s",
            "0",
            "-Z",
            "root",
            "-w",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        args.push(file.display().to_string());
        args.extend(filter.split_whitespace().map(String::from));
        let log = PathBuf::from(format!("{}.log", file.display()));
        let mut daemon = Daemon::spawn("tcpdump", ns, &program, &args, &[], &log)?;
        daemon.set_stop_signal("INT");
        wait_until(
            &format!("tcpdump on {ns}/{iface} to listen"),
            Duration::from_secs(10),
            Duration::from_millis(10),
            || {
                daemon.check_running()?;
                let tail = daemon.log_tail(5);
                Ok(if tail.contains("listening on") {
                    Check::Ready(())
                } else {
                    Check::NotYet(tail)
                })
            },
        )?;
        Ok(Tcpdump {
            daemon,
            file: file.to_path_buf(),
        })
    }

    /// The capture file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Wait until the BGP messages written so far satisfy `done` (given the messages decoded by
    /// [`bgpd::capture`]); on timeout the error lists what the capture holds.
    pub fn wait_for_messages(
        &mut self,
        what: &str,
        timeout: Duration,
        mut done: impl FnMut(&[CapturedMessage]) -> bool,
    ) -> Result<()> {
        wait_until(what, timeout, Duration::from_millis(50), || {
            self.daemon.check_running()?;
            let msgs = match bgpd::capture::Capture::from_file(&self.file, &[]) {
                Ok(c) => c.messages,
                Err(e) => return Ok(Check::NotYet(e.to_string())),
            };
            if done(&msgs) {
                return Ok(Check::Ready(()));
            }
            let seen: Vec<String> = msgs
                .iter()
                .map(|m| {
                    format!(
                        "{}->{} type {}",
                        m.src,
                        m.dst,
                        m.bytes.get(18).copied().unwrap_or(0)
                    )
                })
                .collect();
            Ok(Check::NotYet(format!(
                "{} messages: {}",
                msgs.len(),
                seen.join(", ")
            )))
        })
    }

    /// Stop with SIGINT, wait for tcpdump to flush and exit, and return the capture file.
    pub fn stop(mut self) -> Result<PathBuf> {
        let status = self.daemon.stop("INT", STOP_GRACE)?;
        if !self.file.is_file() {
            return Err(Error::Other(format!(
                "tcpdump ({status}) wrote no {}: {}",
                self.file.display(),
                self.daemon.log_tail(5)
            )));
        }
        Ok(self.file.clone())
    }
}
