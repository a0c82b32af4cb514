//! The two-namespace test bed: `PREFIX-t` (the target daemon) and `PREFIX-i` (the injector
//! peers and the sink), joined by one veth pair.
//!
//! ```text
//!  PREFIX-t  eth0: fd00::1/64 10.0.0.1/24  <-- veth -->  PREFIX-i  eth0: fd00::2/64 10.0.0.2/24
//!                                                                  fd00::2:1.. (peer k), fd00::3:1.. (sink j)
//! ```
//!
//! Dropping the [`Topology`] deletes both namespaces; [`Topology::build`] first deletes leftovers
//! with the same prefix (an interrupted earlier run).

use std::process::Command;

use conformance::cmd::run;

use crate::peers::{next_hop4, next_hop6, peer_addr, sink_addr, target_addr};

pub const IFACE: &str = "eth0";

#[derive(Debug)]
pub struct Topology {
    pub prefix: String,
    pub target_ns: String,
    pub injector_ns: String,
    created: Vec<String>,
}

fn ip(args: &[&str]) -> Result<String, String> {
    run(Command::new("ip").args(args)).map_err(|e| e.to_string())
}

/// Delete every namespace called `PREFIX-...`.
pub fn sweep(prefix: &str) -> Result<(), String> {
    let start = format!("{prefix}-");
    let list = ip(&["netns", "list"])?;
    for ns in list.lines().filter_map(|l| l.split_whitespace().next()) {
        if ns.starts_with(&start) {
            eprintln!("deleting leftover namespace {ns}");
            ip(&["netns", "del", ns])?;
        }
    }
    Ok(())
}

impl Topology {
    /// Build the test bed with addresses for `peers` injector peers and `sinks` sinks.
    pub fn build(prefix: &str, peers: usize, sinks: usize) -> Result<Topology, String> {
        if prefix.is_empty()
            || prefix.len() > 8
            || !prefix.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(format!("bad namespace prefix {prefix:?}"));
        }
        sweep(prefix)?;
        let mut t = Topology {
            prefix: prefix.to_string(),
            target_ns: format!("{prefix}-t"),
            injector_ns: format!("{prefix}-i"),
            created: Vec::new(),
        };
        for ns in [t.target_ns.clone(), t.injector_ns.clone()] {
            ip(&["netns", "add", &ns])?;
            t.created.push(ns.clone());
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
            run(conformance::cmd::netns_command(&ns, "sysctl").args([
                "-qw",
                "net.ipv6.conf.all.accept_dad=0",
                "net.ipv6.conf.default.accept_dad=0",
            ]))
            .map_err(|e| e.to_string())?;
        }
        let (tns, ins) = (t.target_ns.clone(), t.injector_ns.clone());
        let tmp = format!("{prefix}x");
        ip(&[
            "-n", &tns, "link", "add", IFACE, "type", "veth", "peer", "name", &tmp, "netns", &ins,
        ])?;
        ip(&["-n", &ins, "link", "set", &tmp, "name", IFACE])?;
        let mut batch = format!(
            "addr add {}/64 dev {IFACE} nodad\naddr add 10.0.0.1/24 dev {IFACE}\nlink set {IFACE} up\n",
            target_addr()
        );
        run_batch(&tns, &batch)?;
        batch = format!(
            "addr add {}/64 dev {IFACE} nodad\naddr add {}/24 dev {IFACE}\n",
            next_hop6(),
            next_hop4(),
        );
        for j in 0..sinks {
            batch.push_str(&format!("addr add {}/64 dev {IFACE} nodad\n", sink_addr(j)));
        }
        for k in 0..peers {
            batch.push_str(&format!("addr add {}/64 dev {IFACE} nodad\n", peer_addr(k)));
        }
        batch.push_str(&format!("link set {IFACE} up\n"));
        run_batch(&ins, &batch)?;
        Ok(t)
    }
}

fn run_batch(ns: &str, batch: &str) -> Result<(), String> {
    let path = std::env::temp_dir().join(format!("sidra-bench-{ns}.ip"));
    std::fs::write(&path, batch).map_err(|e| format!("{}: {e}", path.display()))?;
    let p = path.display().to_string();
    let r = ip(&["-n", ns, "-batch", &p]).map(drop);
    let _ = std::fs::remove_file(&path);
    r
}

impl Drop for Topology {
    fn drop(&mut self) {
        for ns in self.created.iter().rev() {
            if let Err(e) = ip(&["netns", "del", ns]) {
                eprintln!("deleting namespace {ns}: {e}");
            }
        }
    }
}
