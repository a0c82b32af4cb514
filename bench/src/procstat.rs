//! CPU time and memory of a process from /proc, and the machine's load.

use std::sync::OnceLock;

/// One sample of a process.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Sample {
    /// utime + stime (all threads), seconds.
    pub cpu_s: f64,
    pub rss_kb: u64,
    /// Peak RSS so far.
    pub hwm_kb: u64,
}

fn clock_ticks() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// utime + stime of `/proc/PID/stat` text, in ticks (fields 14 and 15, counted after the
/// parenthesised command name, which may hold blanks).
pub fn cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// The value in kB of `KEY:` in `/proc/PID/status` text.
pub fn status_kb(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

pub fn sample(pid: u32) -> Sample {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    Sample {
        cpu_s: cpu_ticks(&stat).unwrap_or(0) as f64 / clock_ticks(),
        rss_kb: status_kb(&status, "VmRSS").unwrap_or(0),
        hwm_kb: status_kb(&status, "VmHWM").unwrap_or(0),
    }
}

/// `/proc/loadavg`, trimmed.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}
