//! The SRv6 lab: sidra nodes with pods, a route reflector and an IPv6-only fabric, built in
//! network namespaces. Used by the SRv6 conformance tests and by the lab command
//! (`scripts/lab.sh`).
//!
//! ```text
//!                         hub (bridge br0): the IPv6-only fabric fd00::/64
//!            ┌──────────────────┬───────────────────────┬──────────────────────┐
//!        rr  fd00::1        n2  fd00::2                n3  fd00::3               ...
//!     (FRR / GoBGP / BIRD)   sidrad, locator           sidrad, locator
//!                            fc00:0:2:1::/64           fc00:0:3:1::/64
//!                              │ veth p2                 │ veth p3
//!                            pod 10.2.1.2/24           pod 10.3.1.2/24
//!                                2001:db8:2:1::2/64        2001:db8:3:1::2/64
//! ```
//!
//! Node `k` (2..) owns the pod CIDRs 10.k.1.0/24 and 2001:db8:k:1::/64 and the locator
//! fc00:0:k:1::/64; its sidrad peers with the reflector over IPv6, advertises its pods behind its
//! SIDs, learns the other nodes' and programs the kernel (seg6 encap routes, local SIDs,
//! routes to the other locators). The IPv4 fabric addresses are removed: IPv4 pods talk over
//! IPv6 only.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::cmd::{self, run, run_timeout};
use crate::error::{Error, Result};
use crate::peers::bird::BirdOptions;
use crate::peers::frr::FrrOptions;
use crate::peers::gobgp::GoBgpNeighbor;
use crate::peers::{
    Bird, Frr, GoBgp, IPV4_UNICAST, IPV4_VPN, IPV6_UNICAST, IPV6_VPN, Session, Sidrad,
};
use crate::topo::{NODE_IF, Node, Topology};
use crate::wait::{Check, wait_until};

/// The AS of every lab node (iBGP with a reflector).
pub const ASN: u32 = 65000;
/// The route target every node's service imports and exports (vpn mode).
pub const ROUTE_TARGET: &str = "65000:100";
/// The protocol number of sidrad's kernel routes.
pub const PROTO: u8 = 99;

/// How pod CIDRs are advertised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// VPNv4/VPNv6 (RFC 9252 §5.1/5.2), as FRR sends them.
    Vpn,
    /// IPv4/IPv6 unicast with a Prefix-SID (RFC 9252 §5.3/5.4), as GoBGP sends them.
    Global,
}

/// The route reflector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reflector {
    Frr,
    GoBgp,
    Bird,
}

impl Reflector {
    pub fn name(self) -> &'static str {
        match self {
            Reflector::Frr => "frr",
            Reflector::GoBgp => "gobgp",
            Reflector::Bird => "bird",
        }
    }
}

/// A running reflector.
#[derive(Debug)]
pub enum RunningReflector {
    Frr(Frr),
    GoBgp(GoBgp),
    Bird(Bird),
}

/// A pod: a namespace behind a node, with one IPv4 and one IPv6 address.
#[derive(Clone, Debug)]
pub struct Pod {
    pub ns: String,
    pub v4: Ipv4Addr,
    pub v6: Ipv6Addr,
}

/// One sidra node of the lab.
#[derive(Debug)]
pub struct LabNode {
    pub node: Node,
    pub pod: Pod,
    pub dir: PathBuf,
    pub config: String,
    pub sidrad: Option<Sidrad>,
}

impl LabNode {
    pub fn pod_cidr4(&self) -> String {
        format!("10.{}.1.0/24", self.node.index)
    }
    pub fn pod_cidr6(&self) -> String {
        format!("2001:db8:{}:1::/64", self.node.index)
    }
    pub fn locator(&self) -> String {
        format!("fc00:0:{}:1::/64", self.node.index)
    }

    /// Start (or restart) this node's sidrad.
    pub fn start(&mut self) -> Result<()> {
        self.sidrad = None;
        self.sidrad = Some(Sidrad::start_text(
            &self.node.ns,
            &self.dir,
            &self.config,
            1,
        )?);
        Ok(())
    }

    /// Stop this node's sidrad (SIGTERM).
    pub fn stop(&mut self) -> Result<()> {
        if let Some(mut s) = self.sidrad.take() {
            s.daemon().stop("TERM", Duration::from_secs(5))?;
        }
        Ok(())
    }

    /// This node's kernel routes of sidrad's protocol (`ip -d route show proto 99` for both
    /// families, all tables).
    pub fn kernel_routes(&self) -> Result<String> {
        let mut out = String::new();
        for fam in ["-4", "-6"] {
            let proto = PROTO.to_string();
            out.push_str(&run(Command::new(cmd::find(cmd::IP)?).args([
                "-n",
                &self.node.ns,
                fam,
                "-d",
                "route",
                "show",
                "table",
                "all",
                "proto",
                &proto,
            ]))?);
        }
        Ok(out)
    }
}

/// The lab: declared fields drop in order, so the daemons stop before the namespaces go.
#[derive(Debug)]
pub struct Lab {
    pub mode: Mode,
    pub reflector: Option<RunningReflector>,
    pub nodes: Vec<LabNode>,
    /// Held for its drop (deletes the pod namespaces before the topology goes).
    _pods: PodNamespaces,
    pub topo: Topology,
}

/// The pod namespaces (the topology only knows its nodes), deleted on drop (last first).
#[derive(Debug, Default)]
pub struct PodNamespaces(Vec<String>);

impl Drop for PodNamespaces {
    fn drop(&mut self) {
        for ns in self.0.iter().rev() {
            if let Ok(ip) = cmd::find(cmd::IP) {
                let _ = run(Command::new(ip).args(["netns", "del", ns]));
            }
        }
    }
}

fn ip(args: &[&str]) -> Result<String> {
    run(Command::new(cmd::find(cmd::IP)?).args(args))
}

fn in_ns(ns: &str, args: &[&str]) -> Result<String> {
    run(Command::new(cmd::find(cmd::IP)?)
        .args(["netns", "exec", ns])
        .args(args))
}

/// Options of [`Lab::build`].
#[derive(Clone, Debug)]
pub struct LabOptions {
    /// Namespace prefix (up to 8 lowercase letters and digits, unique per test).
    pub prefix: String,
    pub mode: Mode,
    pub reflector: Reflector,
    /// sidra nodes (2 or 3).
    pub nodes: usize,
    /// `dataplane.restart_hold` of every node (seconds).
    pub restart_hold: u16,
    /// More hub nodes (no sidrad, no pod) for the test's own peers, named as given.
    pub extra_nodes: Vec<String>,
    /// Those of `extra_nodes` that are route-reflector clients too (VPN families only: FRR
    /// PEs exporting the default VRF must have only VPN sessions, interop.md §3.3).
    pub extra_rr_clients: Vec<String>,
}

impl Lab {
    /// Build the namespaces and start the reflector; the sidra nodes are configured but not
    /// started ([`Lab::start_nodes`]).
    pub fn build(o: &LabOptions, dir: &Path) -> Result<Lab> {
        if !(1..=8).contains(&o.nodes) {
            return Err(Error::Other("a lab has 1 to 8 sidra nodes".into()));
        }
        let mut b = Topology::builder(&o.prefix).seg6(true).node("rr");
        for k in 0..o.nodes {
            b = b.node(&format!("n{}", k + 2));
        }
        for x in &o.extra_nodes {
            b = b.node(x);
        }
        let topo = b.build()?;
        let mut pods = PodNamespaces::default();
        let mut nodes = Vec::new();
        let sidra_nodes = topo
            .nodes()
            .iter()
            .filter(|n| n.name != "rr" && !o.extra_nodes.contains(&n.name));
        for node in sidra_nodes {
            // IPv6-only fabric.
            ip(&[
                "-n",
                &node.ns,
                "addr",
                "del",
                &format!("{}/24", node.ipv4),
                "dev",
                NODE_IF,
            ])?;
            let (pod, _) = add_pod(&o.prefix, node, "p", 1, &mut pods)?;
            let ndir = dir.join(&node.name);
            std::fs::create_dir_all(&ndir)
                .map_err(Error::io(format!("creating {}", ndir.display())))?;
            let rr = topo.node("rr")?;
            let config = node_config(node, rr, o);
            nodes.push(LabNode {
                node: node.clone(),
                pod,
                dir: ndir,
                config,
                sidrad: None,
            });
        }
        let rdir = dir.join("rr");
        std::fs::create_dir_all(&rdir)
            .map_err(Error::io(format!("creating {}", rdir.display())))?;
        let reflector = Some(start_reflector(&topo, &nodes, o, &rdir)?);
        Ok(Lab {
            mode: o.mode,
            reflector,
            nodes,
            _pods: pods,
            topo,
        })
    }

    /// Start every node's sidrad.
    pub fn start_nodes(&mut self) -> Result<()> {
        for n in &mut self.nodes {
            n.start()?;
        }
        Ok(())
    }

    /// Wait until every node's kernel has an encap route to every other node's pod CIDRs.
    pub fn wait_converged(&self, timeout: Duration) -> Result<()> {
        let want: Vec<(usize, String)> = self
            .nodes
            .iter()
            .enumerate()
            .flat_map(|(i, _)| {
                self.nodes
                    .iter()
                    .enumerate()
                    .filter(move |(j, _)| *j != i)
                    .flat_map(move |(_, m)| [(i, m.pod_cidr4()), (i, m.pod_cidr6())])
            })
            .collect();
        wait_until(
            "every node to steer every other node's pods",
            timeout,
            Duration::from_millis(200),
            || {
                let mut missing = Vec::new();
                for (i, cidr) in &want {
                    let routes = self.nodes[*i].kernel_routes()?;
                    if !routes
                        .lines()
                        .any(|l| route_to(l, cidr) && l.contains("encap seg6"))
                    {
                        missing.push(format!("{} lacks {cidr}", self.nodes[*i].node.name));
                    }
                }
                Ok(if missing.is_empty() {
                    Check::Ready(())
                } else {
                    Check::NotYet(missing.join(", "))
                })
            },
        )
    }

    /// Ping from every pod to every other pod in both families; the failures.
    pub fn ping_all(&self, count: u32) -> Vec<String> {
        let mut failed = Vec::new();
        for a in &self.nodes {
            for b in self.nodes.iter().filter(|b| b.node.name != a.node.name) {
                for dst in [IpAddr::V4(b.pod.v4), IpAddr::V6(b.pod.v6)] {
                    if let Err(e) = ping(&a.pod.ns, dst, count) {
                        failed.push(format!("{} -> {} ({dst}): {e}", a.node.name, b.node.name));
                    }
                }
            }
        }
        failed
    }
}

/// Whether a line of `ip -d route show` is a route to `prefix` (with `-d`, a route type such as
/// `unicast` may come first).
pub fn route_to(line: &str, prefix: &str) -> bool {
    line.split_whitespace()
        .take(2)
        .any(|w| w == prefix || prefix.strip_suffix("/128").is_some_and(|a| a == w))
}

/// `ping -c COUNT -W 1` from `ns` to `dst` (bounded: at most COUNT + 2 s).
pub fn ping(ns: &str, dst: IpAddr, count: u32) -> Result<String> {
    let mut c = Command::new(cmd::find(cmd::IP)?);
    c.args([
        "netns",
        "exec",
        ns,
        "ping",
        "-n",
        "-c",
        &count.to_string(),
        "-i",
        "0.2",
        "-W",
        "1",
    ]);
    if dst.is_ipv6() {
        c.arg("-6");
    }
    c.arg(dst.to_string());
    run_timeout(&mut c, Duration::from_secs(u64::from(count) + 5))
}

/// A pod behind `node`: namespace `PREFIX-TAGK` with `eth0` 10.K.S.2/24 and 2001:db8:K:S::2/64,
/// joined by a veth pair to `node`'s interface `TAGK` (.1 / ::1, the pod's default routes).
/// Returns the pod and the name of its interface on the node.
pub fn add_pod(
    prefix: &str,
    node: &Node,
    tag: &str,
    subnet: u8,
    pods: &mut PodNamespaces,
) -> Result<(Pod, String)> {
    let (k, s) = (node.index, subnet);
    let ns = format!("{prefix}-{tag}{k}");
    ip(&["netns", "add", &ns])?;
    pods.0.push(ns.clone());
    let host_if = format!("{tag}{k}");
    ip(&["-n", &ns, "link", "set", "lo", "up"])?;
    in_ns(
        &ns,
        &[
            "sysctl",
            "-qw",
            "net.ipv6.conf.all.accept_dad=0",
            "net.ipv6.conf.default.accept_dad=0",
        ],
    )?;
    ip(&[
        "-n", &node.ns, "link", "add", &host_if, "type", "veth", "peer", "name", "eth0", "netns",
        &ns,
    ])?;
    let (n4, n6) = (format!("10.{k}.{s}.1"), format!("2001:db8:{k}:{s}::1"));
    // Written as the pod CIDRs are (`pod_cidr6`: K and S in decimal inside the hextets).
    let v4 = Ipv4Addr::new(10, k, s, 2);
    let v6_text = format!("2001:db8:{k}:{s}::2");
    let v6: Ipv6Addr = v6_text
        .parse()
        .map_err(|e| Error::Other(format!("{v6_text}: {e}")))?;
    for (dev_ns, dev, addr, nodad) in [
        (
            node.ns.as_str(),
            host_if.as_str(),
            format!("{n4}/24"),
            false,
        ),
        (node.ns.as_str(), host_if.as_str(), format!("{n6}/64"), true),
        (ns.as_str(), "eth0", format!("{v4}/24"), false),
        (ns.as_str(), "eth0", format!("{v6}/64"), true),
    ] {
        let mut args = vec!["-n", dev_ns, "addr", "add", &addr, "dev", dev];
        if nodad {
            args.push("nodad");
        }
        ip(&args)?;
    }
    ip(&["-n", &node.ns, "link", "set", &host_if, "up"])?;
    ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
    ip(&["-n", &ns, "route", "add", "default", "via", &n4])?;
    ip(&["-n", &ns, "-6", "route", "add", "default", "via", &n6])?;
    // The inner packet of a decapsulated SRv6 packet is re-received on the fabric interface:
    // strict reverse-path filtering would drop it (kernel.md §5).
    in_ns(
        &node.ns,
        &[
            "sysctl",
            "-qw",
            "net.ipv4.conf.all.rp_filter=0",
            &format!("net.ipv4.conf.{NODE_IF}.rp_filter=0"),
        ],
    )?;
    Ok((Pod { ns, v4, v6 }, host_if))
}

fn families(mode: Mode) -> Vec<&'static str> {
    match mode {
        Mode::Vpn => vec![IPV4_VPN, IPV6_VPN, IPV6_UNICAST],
        Mode::Global => vec![IPV4_UNICAST, IPV6_UNICAST],
    }
}

/// A lab node's sidrad.toml.
pub fn node_config(node: &Node, rr: &Node, o: &LabOptions) -> String {
    let k = node.index;
    let fams: Vec<String> = families(o.mode)
        .iter()
        .map(|f| format!("\"{f}\""))
        .collect();
    let mut c = String::new();
    let _ = writeln!(
        c,
        "[global]\nasn = {ASN}\nrouter_id = \"{}\"\nlisten = [\"[::]:179\"]",
        node.loopback4
    );
    let _ = writeln!(
        c,
        "\n[[neighbors]]\naddress = \"{}\"\nremote_as = {ASN}",
        rr.ipv6
    );
    let _ = writeln!(
        c,
        "description = \"route reflector ({})\"",
        o.reflector.name()
    );
    let _ = writeln!(c, "local_address = \"{}\"", node.ipv6);
    let _ = writeln!(
        c,
        "hold_time = 9\nconnect_retry = 1\nidle_hold = 1\nmax_idle_hold = 4"
    );
    let _ = writeln!(
        c,
        "families = [{}]\nextended_nexthop = true",
        fams.join(", ")
    );
    let _ = writeln!(c, "graceful_restart = true\nrestart_time = 30");
    let _ = writeln!(c, "\n[srv6]\nsource_address = \"{}\"", node.ipv6);
    let _ = writeln!(
        c,
        "\n[[srv6.locators]]\nname = \"main\"\nprefix = \"fc00:0:{k}:1::/64\""
    );
    let mode = match o.mode {
        Mode::Vpn => "vpn",
        Mode::Global => "global",
    };
    let _ = writeln!(c, "\n[[srv6.services]]\nname = \"pods\"\nmode = \"{mode}\"");
    let _ = writeln!(c, "pods = [\"10.{k}.1.0/24\", \"2001:db8:{k}:1::/64\"]");
    if o.mode == Mode::Vpn {
        let _ = writeln!(
            c,
            "rd = \"{ASN}:{k}\"\nroute_targets = [\"{ROUTE_TARGET}\"]"
        );
    }
    let _ = writeln!(
        c,
        "\n[dataplane]\nbackend = \"kernel\"\nkernel_protocol = {PROTO}"
    );
    let _ = writeln!(
        c,
        "underlay_routes = true\nrestart_hold = {}",
        o.restart_hold
    );
    c
}

fn start_reflector(
    topo: &Topology,
    nodes: &[LabNode],
    o: &LabOptions,
    dir: &Path,
) -> Result<RunningReflector> {
    let rr = topo.node("rr")?;
    let sessions: Vec<Session> = nodes
        .iter()
        .map(|n| {
            let mut s = Session::ibgp(rr, &n.node, ASN);
            s.families = families(o.mode);
            s.passive = false;
            s
        })
        .collect();
    let mut sessions = sessions;
    for name in &o.extra_rr_clients {
        let mut s = Session::ibgp(rr, topo.node(name)?, ASN);
        s.families = vec![IPV4_VPN, IPV6_VPN];
        sessions.push(s);
    }
    let cluster = rr.loopback4;
    Ok(match o.reflector {
        Reflector::Frr => {
            let opts = FrrOptions {
                cluster_id: Some(cluster),
                rr_clients: sessions.iter().map(|s| s.peer_addr).collect(),
                ..Default::default()
            };
            let conf = Frr::config_with(&sessions, "rr", &opts)?;
            RunningReflector::Frr(Frr::start(&rr.ns, dir, "hostname rr\n", &conf)?)
        }
        Reflector::GoBgp => {
            let ns: Vec<GoBgpNeighbor> = sessions
                .into_iter()
                .map(|s| {
                    GoBgpNeighbor::new(s)
                        .rr_client(cluster)
                        .graceful_restart(30)
                })
                .collect();
            let conf = GoBgp::config_multi(&ns)?;
            RunningReflector::GoBgp(GoBgp::start(&rr.ns, dir, &conf, 50051)?)
        }
        Reflector::Bird => {
            let mut protocols = Vec::new();
            for (i, s) in sessions.iter().enumerate() {
                let opts = BirdOptions {
                    rr_client: true,
                    rr_cluster_id: Some(cluster),
                    graceful_restart: true,
                };
                protocols.push(Bird::protocol(s, &format!("n{i}"), &opts)?);
            }
            let conf = Bird::config_multi(rr.loopback4, "", &protocols);
            RunningReflector::Bird(Bird::start(&rr.ns, dir, &conf)?)
        }
    })
}
