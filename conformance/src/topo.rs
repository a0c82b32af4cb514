//! Network-namespace test beds: a hub namespace with a bridge, and nodes attached to it by veth.
//!
//! ```text
//!            hub netns PREFIX-hub, bridge br0
//!        PREFIXh1 |          | PREFIXh2   ...
//!           eth0  |          | eth0
//!   netns PREFIX-NODE1    netns PREFIX-NODE2
//!   fd00::1/64 10.0.0.1/24  fd00::2/64 10.0.0.2/24
//!   lo: fc00:0:1::1/128 192.0.2.1/32 ...
//! ```
//!
//! Node `k` (1-based, in the order added) gets the addresses above. IPv6 addresses are added with
//! `nodad` and DAD is off, so they are usable at once. Every namespace is deleted on drop, and
//! `build` first deletes leftovers of an earlier run with the same prefix: give each test its own
//! prefix. Drop the daemons running in a topology before the topology (declare it first).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::Command;
use std::time::Duration;

use crate::cmd::{self, run};
use crate::error::{Error, Result};
use crate::wait::{Check, wait_until};

/// The interface of every node toward the hub.
pub const NODE_IF: &str = "eth0";
/// The bridge in the hub namespace.
pub const HUB_BRIDGE: &str = "br0";

/// One node of a topology.
#[derive(Clone, Debug)]
pub struct Node {
    /// The short name given to the builder.
    pub name: String,
    /// Its network namespace, `PREFIX-NAME`.
    pub ns: String,
    /// 1-based position.
    pub index: u8,
    pub ipv6: Ipv6Addr,
    pub ipv4: Ipv4Addr,
    pub loopback6: Ipv6Addr,
    pub loopback4: Ipv4Addr,
}

/// Builds a [`Topology`].
#[derive(Debug)]
pub struct TopologyBuilder {
    prefix: String,
    nodes: Vec<String>,
    seg6: bool,
}

/// A running test bed; deleted on drop.
#[derive(Debug)]
pub struct Topology {
    prefix: String,
    hub: String,
    nodes: Vec<Node>,
    /// Namespaces created so far, deleted in reverse order.
    created: Vec<String>,
}

fn valid_name(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn ip() -> Result<Command> {
    Ok(Command::new(cmd::find(cmd::IP)?))
}

impl Topology {
    /// Start describing a topology whose namespaces are named `PREFIX-...` (prefix: up to 8
    /// lowercase letters and digits, unique per test).
    pub fn builder(prefix: &str) -> TopologyBuilder {
        TopologyBuilder {
            prefix: prefix.to_string(),
            nodes: Vec::new(),
            seg6: false,
        }
    }

    /// The node called `name`.
    pub fn node(&self, name: &str) -> Result<&Node> {
        self.nodes
            .iter()
            .find(|n| n.name == name)
            .ok_or_else(|| Error::Other(format!("topology {}: no node {name}", self.prefix)))
    }

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The hub namespace (holds bridge [`HUB_BRIDGE`]).
    pub fn hub(&self) -> &str {
        &self.hub
    }

    /// Delete every namespace named `PREFIX-...` (leftovers of an interrupted run).
    pub fn sweep(prefix: &str) -> Result<()> {
        let list = run(ip()?.args(["netns", "list"]))?;
        let start = format!("{prefix}-");
        for ns in list.lines().filter_map(|l| l.split_whitespace().next()) {
            if !ns.starts_with(&start) {
                continue;
            }
            let pids = run(ip()?.args(["netns", "pids", ns])).unwrap_or_default();
            if !pids.trim().is_empty() {
                eprintln!(
                    "leftover namespace {ns} still has processes {} (not killed)",
                    pids.split_whitespace().collect::<Vec<_>>().join(" ")
                );
            }
            eprintln!("deleting leftover namespace {ns}");
            run(ip()?.args(["netns", "del", ns]))?;
        }
        Ok(())
    }

    fn add_ns(&mut self, ns: &str) -> Result<()> {
        run(ip()?.args(["netns", "add", ns]))?;
        self.created.push(ns.to_string());
        run(ip()?.args(["-n", ns, "link", "set", "lo", "up"]))?;
        Ok(())
    }

    fn add_node(&mut self, name: &str, index: u8, seg6: bool) -> Result<()> {
        let ns = format!("{}-{name}", self.prefix);
        self.add_ns(&ns)?;
        let mut sysctls = vec![
            "net.ipv6.conf.all.accept_dad=0",
            "net.ipv6.conf.default.accept_dad=0",
            "net.ipv6.conf.all.forwarding=1",
            "net.ipv4.ip_forward=1",
        ];
        if seg6 {
            sysctls.extend([
                "net.ipv6.conf.all.seg6_enabled=1",
                "net.ipv6.conf.default.seg6_enabled=1",
            ]);
        }
        let sysctl = cmd::find(cmd::SYSCTL)?;
        run(cmd::netns_command(&ns, sysctl).arg("-qw").args(&sysctls))?;
        let hub_if = format!("{}h{index}", self.prefix);
        run(ip()?
            .args([
                "-n", &self.hub, "link", "add", &hub_if, "type", "veth", "peer", "name",
            ])
            .args([NODE_IF, "netns", &ns]))?;
        run(ip()?.args([
            "-n", &self.hub, "link", "set", &hub_if, "master", HUB_BRIDGE, "up",
        ]))?;
        let node = Node {
            name: name.to_string(),
            ns: ns.clone(),
            index,
            ipv6: Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, u16::from(index)),
            ipv4: Ipv4Addr::new(10, 0, 0, index),
            loopback6: Ipv6Addr::new(0xfc00, 0, u16::from(index), 0, 0, 0, 0, 1),
            loopback4: Ipv4Addr::new(192, 0, 2, index),
        };
        let addrs = [
            (format!("{}/64", node.ipv6), NODE_IF, true),
            (format!("{}/24", node.ipv4), NODE_IF, false),
            (format!("{}/128", node.loopback6), "lo", true),
            (format!("{}/32", node.loopback4), "lo", false),
        ];
        for (addr, dev, v6) in addrs {
            let mut c = ip()?;
            c.args(["-n", &ns, "addr", "add", &addr, "dev", dev]);
            if v6 {
                c.arg("nodad");
            }
            run(&mut c)?;
        }
        run(ip()?.args(["-n", &ns, "link", "set", NODE_IF, "up"]))?;
        self.nodes.push(node);
        Ok(())
    }

    /// Wait until every node's link to the hub is up.
    fn wait_links_up(&self) -> Result<()> {
        for node in &self.nodes {
            wait_until(
                &format!("{} {NODE_IF} up", node.ns),
                Duration::from_secs(10),
                Duration::from_millis(20),
                || {
                    let out = run(ip()?.args(["-n", &node.ns, "-j", "link", "show", NODE_IF]))?;
                    let v: serde_json::Value = serde_json::from_str(&out)
                        .map_err(|e| Error::Other(format!("ip -j link: {e}: {out}")))?;
                    let state = v[0]["operstate"].as_str().unwrap_or("?").to_string();
                    Ok(if state == "UP" {
                        Check::Ready(())
                    } else {
                        Check::NotYet(state)
                    })
                },
            )?;
        }
        Ok(())
    }
}

impl TopologyBuilder {
    /// Add a node (name: up to 6 lowercase letters and digits).
    pub fn node(mut self, name: &str) -> Self {
        self.nodes.push(name.to_string());
        self
    }

    /// Enable SRv6 processing (`seg6_enabled`) on every node.
    pub fn seg6(mut self, on: bool) -> Self {
        self.seg6 = on;
        self
    }

    /// Create the namespaces, bridge, links and addresses. On error, what was created is deleted.
    pub fn build(self) -> Result<Topology> {
        if !valid_name(&self.prefix, 8) {
            return Err(Error::Other(format!(
                "bad topology prefix {:?}",
                self.prefix
            )));
        }
        if let Some(bad) = self
            .nodes
            .iter()
            .find(|n| !valid_name(n, 6) || n.as_str() == "hub")
        {
            return Err(Error::Other(format!("bad node name {bad:?}")));
        }
        if self.nodes.len() > 200 {
            return Err(Error::Other("too many nodes".into()));
        }
        cmd::require(&[cmd::IP, cmd::SYSCTL])?;
        Topology::sweep(&self.prefix)?;
        let mut topo = Topology {
            hub: format!("{}-hub", self.prefix),
            prefix: self.prefix,
            nodes: Vec::new(),
            created: Vec::new(),
        };
        let hub = topo.hub.clone();
        topo.add_ns(&hub)?;
        run(ip()?.args(["-n", &hub, "link", "add", HUB_BRIDGE, "type", "bridge"]))?;
        run(ip()?.args(["-n", &hub, "link", "set", HUB_BRIDGE, "up"]))?;
        for (i, name) in self.nodes.iter().enumerate() {
            let index = u8::try_from(i + 1).map_err(|_| Error::Other("too many nodes".into()))?;
            topo.add_node(name, index, self.seg6)?;
        }
        topo.wait_links_up()?;
        Ok(topo)
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        for ns in self.created.iter().rev() {
            if let Err(e) = ip().and_then(|mut c| run(c.args(["netns", "del", ns]))) {
                eprintln!("deleting namespace {ns}: {e}");
            }
        }
    }
}
