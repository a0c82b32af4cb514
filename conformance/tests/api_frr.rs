//! The gRPC API against a running sidrad peering with real FRR 8.4 (issue 7, acceptance): list
//! neighbors and routes, add a neighbor at run time and see it establish, disable it and see FRR
//! receive the shutdown message (RFC 9003), add pod CIDRs as the CNI agent would and see FRR
//! learn them with their SRv6 SID, and watch the stream report them.
//!
//! sidrad is driven only through its API, with `sidractl` (what operators and the CNI agent's
//! scripts use) over the unix socket DIR/sidrad.sock; its `--json` output is parsed, and its
//! tables are checked for a few calls.
//!
//! ```text
//!              hub (bridge br0) fd00::/64
//!      ┌──────────────────┬──────────────────────┐
//!  sid fd00::1         frr1 fd00::2            frr2 fd00::3
//!  sidrad, AS 65000    FRR 8.4, AS 65000       FRR 8.4, AS 65002
//!  locator             ipv4/ipv6 unicast +     ipv6 unicast, configured in
//!  fc00:0:1:1::/64     ipv4/ipv6 vpn           sidrad at run time (API)
//!  vpn service "pods"  (in sidrad's config)
//! ```
//!
//! Needs root; see `conformance::require_root`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::fs::File;
use std::net::{IpAddr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use conformance::peers::frr::FrrOptions;
use conformance::peers::{Frr, IPV4_UNICAST, IPV4_VPN, IPV6_UNICAST, IPV6_VPN, Session, Sidrad};
use conformance::{Check, Error, Node, TestDir, Topology, cmd, require_root, wait_until};
use serde_json::Value;

/// sidrad's and frr1's AS (iBGP); frr2 is eBGP.
const ASN: u32 = 65000;
const FRR2_AS: u32 = 65002;
/// The routes frr1 originates (IPv4 and IPv6 unicast).
const FRR_NET4: &str = "198.51.100.0/24";
const FRR_NET6: &str = "2001:db8:ff::/48";
/// The pod CIDRs the "CNI agent" adds, and the service's SIDs: End.DT4 is function 1 and
/// End.DT6 function 2 of locator fc00:0:1:1::/64 (block 40, node 24, function 16).
const POD4: &str = "10.1.1.0/24";
const POD6: &str = "2001:db8:1:1::/64";
const LOCATOR: &str = "fc00:0:1:1::/64";
const DT4: &str = "fc00:0:1:1:1::";
const DT6: &str = "fc00:0:1:1:2::";
const RD: &str = "65000:1";
const RT: &str = "65000:100";
/// The RFC 9003 shutdown communication sent to frr2.
const SHUTDOWN_MSG: &str = "sidra api_frr: planned maintenance, back in 5 min";

/// `sidractl`: `$SIDRACTL`, else next to the sidrad binary (`cargo build -p bgpd --bins`).
fn sidractl_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("SIDRACTL") {
        return PathBuf::from(p);
    }
    let p = Sidrad::binary().unwrap().with_file_name("sidractl");
    assert!(
        p.is_file(),
        "{} not built: run `cargo build -p bgpd --bins` first",
        p.display()
    );
    p
}

/// `sidractl --socket SOCKET ARGS...`: its output, or the error (with sidractl's stderr).
fn sidractl(socket: &Path, args: &[&str]) -> conformance::Result<String> {
    let mut c = Command::new(sidractl_binary());
    c.arg("--socket").arg(socket).args(args);
    cmd::run_timeout(&mut c, Duration::from_secs(15))
}

/// `sidractl ... --json`, parsed.
fn sidractl_json(socket: &Path, args: &[&str]) -> conformance::Result<Value> {
    let mut a = args.to_vec();
    a.push("--json");
    let out = sidractl(socket, &a)?;
    serde_json::from_str(&out)
        .map_err(|e| Error::Other(format!("sidractl {}: {e}: {out}", a.join(" "))))
}

/// The neighbor `addr` of a `ListNeighborsResponse`.
fn neighbor(list: &Value, addr: IpAddr) -> Option<&Value> {
    list["neighbors"]
        .as_array()?
        .iter()
        .find(|n| n["config"]["address"] == addr.to_string())
}

/// Wait until sidrad's API says the session with `addr` is established; the neighbor.
fn wait_api_established(socket: &Path, addr: IpAddr) -> Value {
    wait_until(
        &format!("the API to show {addr} established"),
        Duration::from_secs(30),
        Duration::from_millis(200),
        || {
            let n = sidractl_json(socket, &["neighbor", &addr.to_string()])?;
            Ok(if n["status"]["state"] == "SESSION_STATE_ESTABLISHED" {
                Check::Ready(n)
            } else {
                Check::NotYet(n["status"].to_string())
            })
        },
    )
    .unwrap()
}

/// Wait until FRR's session with `addr` is in `state`.
fn wait_frr_state(frr: &mut Frr, addr: IpAddr, state: &str) {
    wait_until(
        &format!("FRR's session with {addr} to be {state}"),
        Duration::from_secs(30),
        Duration::from_millis(200),
        || {
            let s = frr.neighbor_state(addr)?;
            Ok(if s == state {
                Check::Ready(())
            } else {
                Check::NotYet(s)
            })
        },
    )
    .unwrap();
}

/// A `sidractl watch --json` running in the background, writing one event per line into a
/// file; killed (by its PID) on drop.
struct Watch {
    child: Child,
    out: PathBuf,
}

impl Watch {
    fn start(socket: &Path, out: PathBuf, args: &[&str]) -> Watch {
        let file = File::create(&out).unwrap();
        let err = File::create(out.with_extension("err")).unwrap();
        let child = Command::new(sidractl_binary())
            .arg("--socket")
            .arg(socket)
            .arg("watch")
            .args(args)
            .arg("--json")
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .spawn()
            .unwrap();
        Watch { child, out }
    }

    /// The events so far (complete lines only).
    fn events(&mut self) -> conformance::Result<Vec<Value>> {
        if let Some(status) = self
            .child
            .try_wait()
            .map_err(|e| Error::Other(format!("sidractl watch: {e}")))?
        {
            let err = std::fs::read_to_string(self.out.with_extension("err")).unwrap_or_default();
            return Err(Error::Other(format!(
                "sidractl watch exited ({status}): {err}"
            )));
        }
        let text = std::fs::read_to_string(&self.out).unwrap_or_default();
        let complete = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
        complete
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .map_err(|e| Error::Other(format!("sidractl watch line {l:?}: {e}")))
            })
            .collect()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // Our own child, by PID (Child::kill); reaped so that nothing is left behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sidrad_config(sid: &Node, frr1: &Node) -> String {
    format!(
        r#"[global]
asn = {ASN}
router_id = "{rid}"
listen = ["[::]:179"]

[[neighbors]]
address = "{frr1}"
remote_as = {ASN}
description = "frr1 (from the config file)"
local_address = "{me}"
hold_time = 9
connect_retry = 1
idle_hold = 1
max_idle_hold = 4
families = ["ipv4-unicast", "ipv6-unicast", "ipv4-vpn", "ipv6-vpn"]

[srv6]
source_address = "{me}"

[[srv6.locators]]
name = "main"
prefix = "{LOCATOR}"

[[srv6.services]]
name = "pods"
mode = "vpn"
rd = "{RD}"
route_targets = ["{RT}"]

[dataplane]
backend = "none"
"#,
        rid = sid.loopback4,
        frr1 = frr1.ipv6,
        me = sid.ipv6,
    )
}

/// The service `name` of a `PodCidrsResponse`.
fn service<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["services"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["service"] == name)
        .unwrap_or_else(|| panic!("no service {name}: {r}"))
}

/// The SID FRR 8.4 would use for a path: its `remoteSid` (as sent, the function transposed out)
/// with the top 16 bits of the 20-bit `remoteLabel` put back at bit 64 (RFC 9252 §4, the
/// transposition sidra and FRR use: offset 64, length 16).
fn frr_full_sid(remote_sid: &str, label: u64) -> Ipv6Addr {
    let sid: Ipv6Addr = remote_sid.parse().unwrap();
    let function = u128::from(label >> 4) & 0xffff;
    Ipv6Addr::from((u128::from(sid) & !(0xffff << 48)) | (function << 48))
}

/// FRR's paths for `prefix` in a VPN RIB (`show bgp ipv4|ipv6 vpn json` groups routes by RD:
/// `{"routes": {"routeDistinguishers": {RD: {PREFIX: [paths]}}}}`).
fn frr_vpn_paths(frr: &mut Frr, family: &str, rd: &str, prefix: &str) -> Vec<Value> {
    let rib = frr.rib(family).unwrap();
    rib["routes"]["routeDistinguishers"][rd][prefix]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn grpc_api_drives_sidrad_against_frr() {
    if !require_root("grpc_api_drives_sidrad_against_frr") {
        return;
    }
    let dir = TestDir::new("api-frr").unwrap();
    let topo = Topology::builder("sapi")
        .node("sid")
        .node("frr1")
        .node("frr2")
        .build()
        .unwrap();
    let sid = topo.node("sid").unwrap().clone();
    let (n1, n2) = (
        topo.node("frr1").unwrap().clone(),
        topo.node("frr2").unwrap().clone(),
    );
    let (frr1_addr, frr2_addr, sid_addr) = (
        IpAddr::V6(n1.ipv6),
        IpAddr::V6(n2.ipv6),
        IpAddr::V6(sid.ipv6),
    );

    // frr1: iBGP with sidrad, unicast (two networks of its own) and the VPN families.
    let s1 =
        Session::ibgp(&n1, &sid, ASN).families(&[IPV4_UNICAST, IPV6_UNICAST, IPV4_VPN, IPV6_VPN]);
    let o1 = FrrOptions {
        networks: vec![FRR_NET4.into(), FRR_NET6.into()],
        ..Default::default()
    };
    let conf1 = Frr::config_with(&[s1], "frr1", &o1).unwrap();
    let mut frr1 = Frr::start(
        &n1.ns,
        &dir.subdir("frr1").unwrap(),
        "hostname frr1\n",
        &conf1,
    )
    .unwrap();
    // frr2: eBGP, dials sidrad, which does not know it yet (sidrad refuses it until it is added).
    let s2 = Session::ebgp(&n2, FRR2_AS, &sid, ASN).families(&[IPV6_UNICAST]);
    let conf2 = Frr::config(&s2, "frr2", "").unwrap();
    let mut frr2 = Frr::start(
        &n2.ns,
        &dir.subdir("frr2").unwrap(),
        "hostname frr2\n",
        &conf2,
    )
    .unwrap();

    let sdir = dir.subdir("sidrad").unwrap();
    let mut sidrad = Sidrad::start_text(&sid.ns, &sdir, &sidrad_config(&sid, &n1), 1).unwrap();
    let socket = sidrad
        .api_socket()
        .expect("the test directory path is short enough for a socket")
        .to_path_buf();
    sidrad
        .wait_established(frr1_addr, 1, Duration::from_secs(30))
        .unwrap();

    // (1) Neighbors: frr1, established, as the API and FRR both say.
    let n = wait_api_established(&socket, frr1_addr);
    assert_eq!(n["config"]["remote_as"], ASN, "{n}");
    wait_frr_state(&mut frr1, sid_addr, "Established");
    let list = sidractl_json(&socket, &["neighbor"]).unwrap();
    assert_eq!(
        list["neighbors"].as_array().map(Vec::len),
        Some(1),
        "only frr1 is configured: {list}"
    );
    let one = neighbor(&list, frr1_addr).unwrap_or_else(|| panic!("no {frr1_addr}: {list}"));
    assert_eq!(one["status"]["state"], "SESSION_STATE_ESTABLISHED", "{one}");
    assert_eq!(one["config"]["description"], "frr1 (from the config file)");
    assert_eq!(
        one["status"]["peer_bgp_id"],
        n1.loopback4.to_string(),
        "{one}"
    );
    let table = sidractl(&socket, &["neighbor"]).unwrap();
    let row = table
        .lines()
        .find(|l| l.starts_with(&frr1_addr.to_string()))
        .unwrap_or_else(|| panic!("no row for {frr1_addr}:\n{table}"));
    assert!(
        table.lines().next().unwrap().contains("NEIGHBOR")
            && row.split_whitespace().nth(2) == Some("established"),
        "{table}"
    );
    // An unknown neighbor: a gRPC NOT_FOUND, exit status 1.
    let e = sidractl(&socket, &["neighbor", "fd00::99"])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("NOT_FOUND") && e.contains("exit status: 1"),
        "{e}"
    );

    // (1) Routes: frr1's networks in sidrad's Loc-RIB, from frr1.
    for (family, prefix) in [("ipv4-unicast", FRR_NET4), ("ipv6-unicast", FRR_NET6)] {
        let r = wait_until(
            &format!("sidrad's RIB to hold {prefix}"),
            Duration::from_secs(30),
            Duration::from_millis(200),
            || {
                let r = sidractl_json(&socket, &["rib", "-a", family])?;
                let found = r["routes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|x| x["prefix"] == prefix)
                    .cloned();
                Ok(match found {
                    Some(x) => Check::Ready(x),
                    None => Check::NotYet(r.to_string()),
                })
            },
        )
        .unwrap();
        assert_eq!(r["family"], family, "{r}");
        let best = &r["paths"][0];
        assert_eq!(best["neighbor"], frr1_addr.to_string(), "{r}");
        assert_eq!(best["best"], true, "{r}");
    }
    let table = sidractl(&socket, &["rib", "-a", "ipv4-unicast"]).unwrap();
    let row = table
        .lines()
        .find(|l| l.starts_with(FRR_NET4))
        .unwrap_or_else(|| panic!("no row for {FRR_NET4}:\n{table}"));
    assert!(
        table.lines().next().unwrap().contains("PREFIX") && row.contains(&frr1_addr.to_string()),
        "{table}"
    );

    // The service's SIDs, as the API lists them.
    let sids = sidractl_json(&socket, &["srv6", "sids"]).unwrap();
    for (want, behavior) in [(DT4, "End.DT4"), (DT6, "End.DT6")] {
        let s = sids["sids"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["sid"] == want)
            .unwrap_or_else(|| panic!("no local SID {want}: {sids}"));
        assert_eq!(s["behavior"], behavior, "{s}");
        assert_eq!(s["service"], "pods", "{s}");
    }

    // (2) The watch stream, started before anything changes: the initial snapshot, then events.
    let mut watch = Watch::start(
        &socket,
        dir.join("watch.jsonl"),
        &["-a", "ipv4-vpn", "-a", "ipv6-vpn", "--initial"],
    );
    wait_until(
        "the watch stream's end of snapshot",
        Duration::from_secs(15),
        Duration::from_millis(100),
        || {
            let ev = watch.events()?;
            Ok(
                if ev.iter().any(|e| e["event"]["end_of_snapshot"] == true) {
                    Check::Ready(())
                } else {
                    Check::NotYet(format!("{ev:?}"))
                },
            )
        },
    )
    .unwrap();

    // (3) A second neighbor added at run time through the API: it establishes.
    let added = sidractl_json(
        &socket,
        &[
            "neighbor",
            &frr2_addr.to_string(),
            "add",
            "--remote-as",
            &FRR2_AS.to_string(),
            "--description",
            "frr2 (added at run time)",
            "--family",
            "ipv6-unicast",
            "--local-address",
            &sid_addr.to_string(),
            "--hold-time",
            "9",
        ],
    )
    .unwrap();
    assert_eq!(added["config"]["address"], frr2_addr.to_string(), "{added}");
    assert_eq!(added["config"]["remote_as"], FRR2_AS, "{added}");
    let n = wait_api_established(&socket, frr2_addr);
    assert_eq!(
        n["config"]["description"], "frr2 (added at run time)",
        "{n}"
    );
    wait_frr_state(&mut frr2, sid_addr, "Established");
    let list = sidractl_json(&socket, &["neighbor"]).unwrap();
    assert_eq!(
        list["neighbors"].as_array().map(Vec::len),
        Some(2),
        "{list}"
    );

    // (4) Disabled with a shutdown communication: FRR receives the Cease and the text.
    let disabled = sidractl_json(
        &socket,
        &[
            "neighbor",
            &frr2_addr.to_string(),
            "disable",
            "-m",
            SHUTDOWN_MSG,
        ],
    )
    .unwrap();
    assert_eq!(disabled["config"]["shutdown"], true, "{disabled}");
    let frr_view = wait_until(
        "frr2 to receive the shutdown communication",
        Duration::from_secs(20),
        Duration::from_millis(200),
        || {
            let v = frr2.vtysh_json(&format!("show bgp neighbors {sid_addr} json"))?;
            let n = v[sid_addr.to_string()].clone();
            Ok(
                if n["bgpState"] != "Established" && n["lastShutdownDescription"].is_string() {
                    Check::Ready(n)
                } else {
                    Check::NotYet(n.to_string())
                },
            )
        },
    )
    .unwrap();
    // FRR 8.4's JSON: the NOTIFICATION's code/subcode and the RFC 9003 text.
    assert_eq!(
        frr_view["lastShutdownDescription"], SHUTDOWN_MSG,
        "{frr_view}"
    );
    assert_eq!(frr_view["lastErrorCodeSubcode"], "0602", "{frr_view}");
    assert_eq!(
        frr_view["lastNotificationReason"], "Cease/Administrative Shutdown",
        "{frr_view}"
    );
    assert_eq!(
        frr_view["lastResetDueTo"], "BGP Notification received",
        "{frr_view}"
    );
    // The API: disabled, not established, and it stays down (FRR keeps dialing).
    let n = sidractl_json(&socket, &["neighbor", &frr2_addr.to_string()]).unwrap();
    assert_eq!(n["config"]["shutdown"], true, "{n}");
    assert_ne!(n["status"]["state"], "SESSION_STATE_ESTABLISHED", "{n}");
    let table = sidractl(&socket, &["neighbor"]).unwrap();
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&frr2_addr.to_string()) && l.contains("(disabled)")),
        "{table}"
    );
    // Enabled again: back to established on both sides.
    let enabled = sidractl_json(&socket, &["neighbor", &frr2_addr.to_string(), "enable"]).unwrap();
    assert_eq!(enabled["config"]["shutdown"], false, "{enabled}");
    let n = wait_api_established(&socket, frr2_addr);
    assert_eq!(n["status"]["established_transitions"], 2, "{n}");
    wait_frr_state(&mut frr2, sid_addr, "Established");
    // Deleted: FRR is told the peer was de-configured (Cease 6/3), the API forgets it.
    let deleted = sidractl_json(&socket, &["neighbor", &frr2_addr.to_string(), "delete"]).unwrap();
    assert_eq!(deleted["deleted"], frr2_addr.to_string(), "{deleted}");
    wait_until(
        "frr2 to receive the de-configuration Cease",
        Duration::from_secs(20),
        Duration::from_millis(200),
        || {
            let v = frr2.vtysh_json(&format!("show bgp neighbors {sid_addr} json"))?;
            let n = &v[sid_addr.to_string()];
            Ok(
                if n["bgpState"] != "Established" && n["lastErrorCodeSubcode"] == "0603" {
                    Check::Ready(())
                } else {
                    Check::NotYet(n.to_string())
                },
            )
        },
    )
    .unwrap();
    let e = sidractl(&socket, &["neighbor", &frr2_addr.to_string()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("NOT_FOUND"), "{e}");
    // The session with frr1 never dropped through all this.
    let n = sidractl_json(&socket, &["neighbor", &frr1_addr.to_string()]).unwrap();
    assert_eq!(n["status"]["state"], "SESSION_STATE_ESTABLISHED", "{n}");
    assert_eq!(n["status"]["established_transitions"], 1, "{n}");

    // (5) Pod CIDRs added as the CNI agent does (generation 1), idempotently.
    let before = sidractl_json(&socket, &["node", "pods", "list"]).unwrap();
    let svc = service(&before, "pods");
    assert_eq!(svc["cidrs"], serde_json::json!([]), "{before}");
    assert_eq!(svc["mode"], "vpn", "{before}");
    let gen0 = svc["generation"].as_u64().unwrap();
    let added = sidractl_json(&socket, &["node", "pods", "add", "pods", POD4, POD6]).unwrap();
    let svc = service(&added, "pods");
    assert_eq!(svc["cidrs"], serde_json::json!([POD4, POD6]), "{added}");
    assert_eq!(svc["configured_cidrs"], serde_json::json!([]), "{added}");
    let gen1 = svc["generation"].as_u64().unwrap();
    assert!(
        gen1 > gen0,
        "adding CIDRs moves the generation: {before} -> {added}"
    );
    // Adding a CIDR that is already there (an agent retrying) leaves the set and the
    // generation as they are.
    let again = sidractl_json(&socket, &["node", "pods", "add", "pods", POD6]).unwrap();
    let svc = service(&again, "pods");
    assert_eq!(svc["cidrs"], serde_json::json!([POD4, POD6]), "{again}");
    assert_eq!(svc["generation"].as_u64().unwrap(), gen1, "{again}");
    let table = sidractl(&socket, &["node", "pods", "list"]).unwrap();
    for cidr in [POD4, POD6] {
        assert!(
            table
                .lines()
                .any(|l| l.contains(cidr) && l.trim_end().ends_with("agent")),
            "{cidr} from the agent:\n{table}"
        );
    }

    // FRR learns them as VPN routes (RD, route target, next hop sidrad) with the service's SIDs:
    // FRR 8.4 shows the SID as sent, its function transposed into the label (RFC 9252 §4).
    for (family, af, prefix, want_sid) in
        [(IPV4_VPN, "ipv4", POD4, DT4), (IPV6_VPN, "ipv6", POD6, DT6)]
    {
        let paths = wait_until(
            &format!("frr1 to learn {prefix} ({family})"),
            Duration::from_secs(30),
            Duration::from_millis(200),
            || {
                let p = frr_vpn_paths(&mut frr1, family, RD, prefix);
                Ok(if p.is_empty() {
                    Check::NotYet(frr1.rib(family)?.to_string())
                } else {
                    Check::Ready(p)
                })
            },
        )
        .unwrap();
        assert_eq!(paths.len(), 1, "{paths:?}");
        assert_eq!(paths[0]["peerId"], sid_addr.to_string(), "{paths:?}");
        assert_eq!(paths[0]["valid"], true, "{paths:?}");
        assert!(
            paths[0]["nexthops"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|n| n["ip"] == sid_addr.to_string()),
            "next hop {sid_addr}: {paths:?}"
        );
        let detail = frr1
            .vtysh_json(&format!("show bgp {af} vpn {prefix} json"))
            .unwrap();
        let path = &detail[RD]["paths"][0];
        assert_eq!(
            path["extendedCommunity"]["string"],
            format!("RT:{RT}"),
            "{detail}"
        );
        let remote_sid = path["remoteSid"]
            .as_str()
            .unwrap_or_else(|| panic!("FRR shows no SRv6 SID for {prefix}: {detail}"));
        let label = path["remoteLabel"]
            .as_u64()
            .unwrap_or_else(|| panic!("no remoteLabel for {prefix}: {detail}"));
        assert_eq!(
            frr_full_sid(remote_sid, label),
            want_sid.parse::<Ipv6Addr>().unwrap(),
            "{prefix}: remote SID {remote_sid} with label {label}: {detail}"
        );
        let text = frr1.vtysh(&[&format!("show bgp {af} vpn")]).unwrap();
        assert!(
            text.contains(&format!("sid={remote_sid} sid_structure=[40,24,16,0]")),
            "{text}"
        );
    }

    // sidrad's own view of them: local routes with the SIDs (JSON and the table).
    for (family, prefix, want_sid) in [(IPV4_VPN, POD4, DT4), (IPV6_VPN, POD6, DT6)] {
        let r = sidractl_json(&socket, &["rib", "-a", family, "--neighbor", "local"]).unwrap();
        let route = r["routes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|x| x["prefix"] == prefix)
            .unwrap_or_else(|| panic!("no local {prefix}: {r}"));
        assert_eq!(route["rd"], RD, "{route}");
        assert_eq!(route["paths"][0]["srv6_sid"], want_sid, "{route}");
        assert_eq!(route["paths"][0]["neighbor"], "local", "{route}");
        // The 20-bit label: the transposed function (End.DT4 1, End.DT6 2) in its top 16 bits,
        // as FRR shows it (remoteLabel 16 / 32).
        let function = if family == IPV4_VPN { 1 } else { 2 };
        assert_eq!(route["paths"][0]["label"], function << 4, "{route}");
        let table = sidractl(&socket, &["rib", "-a", family]).unwrap();
        assert!(
            table
                .lines()
                .any(|l| l.starts_with(&format!("{RD}:{prefix}")) && l.contains(want_sid)),
            "{table}"
        );
    }

    // (6) The watch stream reported both pod routes, with their SIDs.
    let updates = wait_until(
        "the watch stream to report the pod routes",
        Duration::from_secs(15),
        Duration::from_millis(100),
        || {
            let ev = watch.events()?;
            let ups: Vec<Value> = ev
                .iter()
                .filter_map(|e| e["event"].get("update").cloned())
                .filter(|u| u["prefix"] == POD4 || u["prefix"] == POD6)
                .collect();
            Ok(if ups.len() >= 2 {
                Check::Ready(ups)
            } else {
                Check::NotYet(format!("{ev:?}"))
            })
        },
    )
    .unwrap();
    for (family, prefix, want_sid) in [(IPV4_VPN, POD4, DT4), (IPV6_VPN, POD6, DT6)] {
        let u = updates
            .iter()
            .find(|u| u["prefix"] == prefix)
            .unwrap_or_else(|| panic!("no update for {prefix}: {updates:?}"));
        assert_eq!(u["family"], family, "{u}");
        assert_eq!(u["rd"], RD, "{u}");
        assert_eq!(u["paths"][0]["srv6_sid"], want_sid, "{u}");
        assert!(
            u["paths"][0]["ext_communities"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c == &format!("rt:{RT}")),
            "{u}"
        );
    }
    // Only the filtered families, and nothing about frr1's unicast routes.
    let ev = watch.events().unwrap();
    assert!(
        ev.iter().all(|e| e["event"]["update"].is_null()
            || e["event"]["update"]["family"] == IPV4_VPN
            || e["event"]["update"]["family"] == IPV6_VPN),
        "{ev:?}"
    );

    // A pod CIDR removed: FRR loses it, the stream reports the withdrawal.
    let removed = sidractl_json(&socket, &["node", "pods", "del", "pods", POD4]).unwrap();
    assert_eq!(
        service(&removed, "pods")["cidrs"],
        serde_json::json!([POD6]),
        "{removed}"
    );
    wait_until(
        "frr1 to lose the removed pod CIDR",
        Duration::from_secs(30),
        Duration::from_millis(200),
        || {
            let p = frr_vpn_paths(&mut frr1, IPV4_VPN, RD, POD4);
            Ok(if p.is_empty() {
                Check::Ready(())
            } else {
                Check::NotYet(format!("{p:?}"))
            })
        },
    )
    .unwrap();
    assert_eq!(frr_vpn_paths(&mut frr1, IPV6_VPN, RD, POD6).len(), 1);
    wait_until(
        "the watch stream to report the withdrawal",
        Duration::from_secs(15),
        Duration::from_millis(100),
        || {
            let ev = watch.events()?;
            Ok(
                if ev.iter().any(|e| {
                    let w = &e["event"]["withdraw"];
                    w["prefix"] == POD4 && w["family"] == IPV4_VPN && w["rd"] == RD
                }) {
                    Check::Ready(())
                } else {
                    Check::NotYet(format!("{ev:?}"))
                },
            )
        },
    )
    .unwrap();
    drop(watch);
    sidrad.daemon().check_running().unwrap();
}
