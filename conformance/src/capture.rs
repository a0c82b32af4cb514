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
        Tcpdump::start_with(ns, iface, file, filter, 0, None)
    }

    /// [`Tcpdump::start`] keeping only the first `snaplen` octets of each packet (0: all) and
    /// stopping by itself after `count` packets (a bounded capture beside a throughput test).
    pub fn start_with(
        ns: &str,
        iface: &str,
        file: &Path,
        filter: &str,
        snaplen: u32,
        count: Option<u32>,
    ) -> Result<Tcpdump> {
        let program = cmd::find(cmd::TCPDUMP)?;
        // --immediate-mode: hand each packet over at once rather than per ring block, so that
        // what was seen before the stop is written; -U: write each packet as it comes.
        // -B: with a snapshot length of 256 KiB every slot of the kernel's ring is that big, and
        // the default 2 MiB holds 8 packets: a burst while tcpdump waits for a CPU (tests run
        // side by side on small machines) was "dropped by kernel". 64 MiB holds 256.
        let snaplen = snaplen.to_string();
        let mut args: Vec<String> = [
            "-i",
            iface,
            "-n",
            "--immediate-mode",
            "-U",
            "-B",
            "65536",
            "-s",
            &snaplen,
            "-Z",
            "root",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        if let Some(n) = count {
            args.extend(["-c".to_string(), n.to_string()]);
        }
        args.extend(["-w".to_string(), file.display().to_string()]);
        args.extend(filter.split_whitespace().map(String::from));
        let log = PathBuf::from(format!("{}.log", file.display()));
        let mut daemon = Daemon::spawn("tcpdump", ns, &program, &args, &[], &log)?;
        daemon.set_stop_signal("INT");
        daemon.wait_for_log(
            &format!("tcpdump on {ns}/{iface} to listen"),
            "listening on",
            5,
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

/// A path attribute as it is on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawAttribute {
    pub flags: u8,
    pub type_code: u8,
    pub value: Vec<u8>,
}

/// The path attributes of a whole UPDATE message (header included), read straight from the bytes
/// (RFC 4271 §4.3), without any decoding of their values; `None` if `msg` is not a well-formed
/// UPDATE.
pub fn raw_attributes(msg: &[u8]) -> Option<Vec<RawAttribute>> {
    let u16_at = |b: &[u8], i: usize| -> Option<usize> {
        Some(usize::from(u16::from_be_bytes([
            *b.get(i)?,
            *b.get(i + 1)?,
        ])))
    };
    if msg.get(18) != Some(&2) {
        return None;
    }
    let body = msg.get(19..)?;
    let withdrawn = u16_at(body, 0)?;
    let attrs_len = u16_at(body, 2 + withdrawn)?;
    let mut attrs = body.get(4 + withdrawn..4 + withdrawn + attrs_len)?;
    let mut out = Vec::new();
    while !attrs.is_empty() {
        let (flags, type_code) = (*attrs.first()?, *attrs.get(1)?);
        let (len, start) = if flags & 0x10 != 0 {
            (u16_at(attrs, 2)?, 4)
        } else {
            (usize::from(*attrs.get(2)?), 3)
        };
        out.push(RawAttribute {
            flags,
            type_code,
            value: attrs.get(start..start + len)?.to_vec(),
        });
        attrs = &attrs[start + len..];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_attributes_of_an_update() {
        // ORIGIN IGP, empty AS_PATH, an extended-length unknown attribute, one IPv4 NLRI.
        let mut m = vec![0xff; 16];
        let attrs = [0x40, 1, 1, 0, 0x40, 2, 0, 0xd0, 0xf0, 0, 2, 0xab, 0xcd];
        let nlri = [24, 198, 18, 1];
        let len = 19 + 2 + 2 + attrs.len() + nlri.len();
        m.extend_from_slice(&(len as u16).to_be_bytes());
        m.push(2);
        m.extend_from_slice(&[0, 0, 0, attrs.len() as u8]);
        m.extend_from_slice(&attrs);
        m.extend_from_slice(&nlri);
        let got = raw_attributes(&m).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[2].flags, 0xd0);
        assert_eq!(got[2].type_code, 0xf0);
        assert_eq!(got[2].value, vec![0xab, 0xcd]);
        assert!(raw_attributes(&m[..m.len() - 8]).is_none());
        m[18] = 4;
        assert!(raw_attributes(&m).is_none());
    }
}
