//! Running short commands with a time limit, and finding the tools the tests need.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How long a query or setup command may take.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(10);

/// A tool and the Debian package that ships it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tool {
    pub name: &'static str,
    pub package: &'static str,
}

pub const IP: Tool = Tool {
    name: "ip",
    package: "iproute2",
};
pub const SYSCTL: Tool = Tool {
    name: "sysctl",
    package: "procps",
};
pub const TCPDUMP: Tool = Tool {
    name: "tcpdump",
    package: "tcpdump",
};
pub const GOBGPD: Tool = Tool {
    name: "gobgpd",
    package: "gobgpd",
};
pub const GOBGP: Tool = Tool {
    name: "gobgp",
    package: "gobgpd",
};
pub const BIRD: Tool = Tool {
    name: "bird",
    package: "bird2",
};
pub const BIRDC: Tool = Tool {
    name: "birdc",
    package: "bird2",
};
pub const EXABGP: Tool = Tool {
    name: "exabgp",
    package: "exabgp",
};
pub const FRR_ZEBRA: Tool = Tool {
    name: "/usr/lib/frr/zebra",
    package: "frr",
};
pub const FRR_BGPD: Tool = Tool {
    name: "/usr/lib/frr/bgpd",
    package: "frr",
};
pub const VTYSH: Tool = Tool {
    name: "vtysh",
    package: "frr",
};

/// The full path of `tool`, searched in PATH and the sbin directories root's PATH may lack.
pub fn find(tool: Tool) -> Result<PathBuf> {
    let missing = || Error::MissingTool {
        tool: tool.name.to_string(),
        package: tool.package.to_string(),
    };
    if tool.name.starts_with('/') {
        let p = PathBuf::from(tool.name);
        return if p.is_file() { Ok(p) } else { Err(missing()) };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let extra = ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from);
    std::env::split_paths(&path)
        .chain(extra)
        .map(|d| d.join(tool.name))
        .find(|p| p.is_file())
        .ok_or_else(missing)
}

/// Check that every tool is installed, naming the missing Debian packages otherwise.
pub fn require(tools: &[Tool]) -> Result<()> {
    let missing: Vec<Tool> = tools
        .iter()
        .copied()
        .filter(|t| find(*t).is_err())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut packages: Vec<&str> = missing.iter().map(|t| t.package).collect();
    packages.dedup();
    Err(Error::MissingTool {
        tool: missing
            .iter()
            .map(|t| t.name)
            .collect::<Vec<_>>()
            .join(", "),
        package: packages.join(" "),
    })
}

/// A command line as text, for error messages.
pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Run `cmd` to completion within `timeout` (killed, by its own `Child`, after it): its exit
/// status, stdout and stderr.
pub fn output_timeout(
    cmd: &mut Command,
    timeout: Duration,
) -> Result<(std::process::ExitStatus, String, String)> {
    let text = describe(cmd);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(Error::io(format!("starting `{text}`")))?;
    let reader = |r: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() < timeout => thread::sleep(POLL),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                let stderr = err.join().unwrap_or_default();
                return Err(Error::Command {
                    cmd: text,
                    detail: format!("no answer in {timeout:?}: {}", stderr.trim()),
                });
            }
            Err(e) => return Err(Error::io(format!("waiting for `{text}`"))(e)),
        }
    };
    Ok((
        status,
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    ))
}

/// Run `cmd` to completion within `timeout`; its stdout on success (exit status 0).
pub fn run_timeout(cmd: &mut Command, timeout: Duration) -> Result<String> {
    let text = describe(cmd);
    let (status, stdout, stderr) = output_timeout(cmd, timeout)?;
    if status.success() {
        Ok(stdout)
    } else {
        let detail = format!("{status}: {}", stderr.trim());
        Err(Error::Command { cmd: text, detail })
    }
}

/// Run `cmd` within [`COMMAND_TIMEOUT`].
pub fn run(cmd: &mut Command) -> Result<String> {
    run_timeout(cmd, COMMAND_TIMEOUT)
}

/// `ip netns exec NS PROGRAM ARGS...` as a command to complete.
pub fn netns_command(ns: &str, program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns]).arg(program);
    c
}
