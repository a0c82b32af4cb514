//! The SRv6 overlay end to end: sidra nodes with pods behind a real route reflector, the Linux
//! kernel programmed by sidrad, and pods pinging each other across SRv6 (issue: SRv6 service).
//!
//! Each test builds its own lab (`conformance::srv6lab`: reflector `rr` fd00::1, sidra nodes
//! n2, n3 at fd00::2, fd00::3, pods 10.K.1.2 / 2001:db8:K:1::2, locators fc00:0:K:1::/64, an
//! IPv6-only fabric), with its own namespace prefix.
//!
//! Needs root; see `conformance::require_root`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use conformance::peers::sidrad::signal;
use conformance::peers::{ExaBgp, Frr, IPV6_UNICAST, Session};
use conformance::srv6lab::{Lab, LabOptions, Mode, Reflector, route_to};
use conformance::{Check, Tcpdump, TestDir, cmd, require_root, wait_until};

fn options(prefix: &str, mode: Mode, reflector: Reflector) -> LabOptions {
    LabOptions {
        prefix: prefix.into(),
        mode,
        reflector,
        nodes: 2,
        restart_hold: 30,
        extra_nodes: Vec::new(),
        extra_rr_clients: Vec::new(),
    }
}

/// Build and start a lab, wait until every node steers every other node's pods.
fn lab(o: &LabOptions, dir: &TestDir) -> Lab {
    let mut lab = Lab::build(o, dir.path()).unwrap();
    lab.start_nodes().unwrap();
    lab.wait_converged(Duration::from_secs(60)).unwrap();
    lab
}

fn assert_pings(lab: &Lab) {
    let failed = lab.ping_all(2);
    assert!(failed.is_empty(), "pings failed: {failed:#?}");
}

/// The SIDs of node `k`'s service: End.DT4 = function 1, End.DT6 = function 2.
fn dt4(k: u8) -> String {
    format!("fc00:0:{k}:1:1::")
}
fn dt6(k: u8) -> String {
    format!("fc00:0:{k}:1:2::")
}

#[test]
fn vpn_mode_over_an_frr_reflector() {
    if !require_root("vpn_mode_over_an_frr_reflector") {
        return;
    }
    let dir = TestDir::new("srv6-vpn").unwrap();
    let lab = lab(&options("svpn", Mode::Vpn, Reflector::Frr), &dir);
    let (n2, n3) = (&lab.nodes[0], &lab.nodes[1]);
    // The kernel routes point at the other node's full SIDs (FRR transposes nothing here, but
    // sidra sends them transposed and FRR rewrites the behavior: both must be undone).
    let routes = n2.kernel_routes().unwrap();
    for (cidr, sid) in [(n3.pod_cidr4(), dt4(3)), (n3.pod_cidr6(), dt6(3))] {
        let line = routes
            .lines()
            .find(|l| route_to(l, &cidr))
            .unwrap_or_else(|| panic!("no route to {cidr}:\n{routes}"));
        assert!(
            line.contains("encap seg6 mode encap") && line.contains(&sid),
            "{cidr} should be encapsulated to {sid}: {line}"
        );
    }
    // A capture on the fabric shows outer IPv6 packets with a routing header (SRH) to the SIDs.
    let pcap = dir.join("fabric.pcap");
    let cap = Tcpdump::start(lab.topo.hub(), "br0", &pcap, "ip6 proto 43").unwrap();
    assert_pings(&lab);
    let file = cap.stop().unwrap();
    let text = cmd::run(
        Command::new(cmd::find(cmd::TCPDUMP).unwrap())
            .args(["-nn", "-v", "-r"])
            .arg(&file),
    )
    .unwrap();
    for sid in [dt4(3), dt6(3), dt4(2), dt6(2)] {
        assert!(
            text.lines()
                .any(|l| l.contains(&format!("> {sid}")) || l.contains(&format!("[0]{sid}"))),
            "no SRv6 packet to {sid} in the capture:\n{}",
            text.lines().take(40).collect::<Vec<_>>().join("\n")
        );
    }
    assert!(
        text.contains("srcrt") || text.contains("RT6"),
        "no segment routing header decoded:\n{text}"
    );
}

#[test]
fn global_mode_over_gobgp_and_bird_reflectors() {
    if !require_root("global_mode_over_gobgp_and_bird_reflectors") {
        return;
    }
    for (prefix, reflector) in [("sglg", Reflector::GoBgp), ("sglb", Reflector::Bird)] {
        let dir = TestDir::new(&format!("srv6-global-{}", reflector.name())).unwrap();
        let lab = lab(&options(prefix, Mode::Global, reflector), &dir);
        let routes = lab.nodes[0].kernel_routes().unwrap();
        assert!(
            routes.contains(&dt4(3)) && routes.contains(&dt6(3)),
            "{}: {routes}",
            reflector.name()
        );
        assert_pings(&lab);
    }
}

#[test]
fn a_stopped_node_is_withdrawn_and_comes_back() {
    if !require_root("a_stopped_node_is_withdrawn_and_comes_back") {
        return;
    }
    let dir = TestDir::new("srv6-fail").unwrap();
    let mut lab = lab(&options("sfail", Mode::Vpn, Reflector::Frr), &dir);
    let cidr = lab.nodes[1].pod_cidr4();
    // Freeze n3's sidrad: no keepalives, the reflector's hold timer (9 s) runs out.
    let n3 = lab.nodes[1].sidrad.as_mut().unwrap();
    signal(n3.daemon(), "STOP").unwrap();
    let gone = wait_until(
        "n2 to remove n3's pods",
        Duration::from_secs(40),
        Duration::from_millis(200),
        || {
            let r = lab.nodes[0].kernel_routes()?;
            Ok(if r.lines().any(|l| route_to(l, &cidr)) {
                Check::NotYet(r)
            } else {
                Check::Ready(r)
            })
        },
    );
    let n3 = lab.nodes[1].sidrad.as_mut().unwrap();
    signal(n3.daemon(), "CONT").unwrap();
    let left = gone.unwrap();
    assert!(
        !left.contains(&dt4(3)) && !left.contains(&dt6(3)),
        "n3's policies are gone too: {left}"
    );
    // Back without operator action.
    lab.wait_converged(Duration::from_secs(60)).unwrap();
    assert_pings(&lab);
}

#[test]
fn a_restarting_sidrad_keeps_forwarding() {
    if !require_root("a_restarting_sidrad_keeps_forwarding") {
        return;
    }
    let dir = TestDir::new("srv6-restart").unwrap();
    let mut lab = lab(&options("srst", Mode::Vpn, Reflector::Frr), &dir);
    let dst = IpAddr::V4(lab.nodes[1].pod.v4);
    // 60 pings, 5 per second, for 12 s, across the restart.
    let mut ping = Command::new(cmd::find(cmd::IP).unwrap())
        .args([
            "netns",
            "exec",
            &lab.nodes[0].pod.ns,
            "ping",
            "-n",
            "-i",
            "0.2",
            "-c",
            "60",
            "-W",
            "1",
        ])
        .arg(dst.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let before = lab.nodes[0].kernel_routes().unwrap();
    // A crash: no NOTIFICATION, the reflector keeps n2's routes as stale (graceful restart).
    let n2 = lab.nodes[0].sidrad.as_mut().unwrap();
    signal(n2.daemon(), "KILL").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let during = lab.nodes[0].kernel_routes().unwrap();
    assert_eq!(
        before, during,
        "the kernel state stays while sidrad is down"
    );
    lab.nodes[0].sidrad = None;
    lab.nodes[0].start().unwrap();
    let n2 = lab.nodes[0].sidrad.as_mut().unwrap();
    n2.wait_for_log(
        "the previous run's state to be adopted",
        Duration::from_secs(10),
        |l| {
            l.message
                .starts_with("the data plane holds state from a previous run")
        },
    )
    .unwrap();
    lab.wait_converged(Duration::from_secs(60)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = ping.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "ping did not finish");
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = std::io::read_to_string(ping.stdout.take().unwrap()).unwrap();
    let received: u32 = out
        .lines()
        .find(|l| l.contains("packets transmitted"))
        .and_then(|l| l.split(", ").nth(1))
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    // At most one second (5 pings) lost across the restart.
    assert!(
        received >= 55,
        "{received} of 60 pings answered ({status}):\n{out}"
    );
    // After the restart, nothing was re-programmed for nothing: the same routes as before.
    assert_eq!(lab.nodes[0].kernel_routes().unwrap(), before);
}

/// An SRv6 L3 Service TLV (RFC 9252 §2) with one SID Information sub-TLV (End.DT6) for `sid`
/// (16 octets as hex) and a SID Structure 40/24/16/0.
fn l3_service(sid_hex: &str) -> String {
    format!("0500220001001e00{sid_hex}00001200010006281810000000")
}

#[test]
fn unusable_routes_are_not_installed_and_say_why() {
    if !require_root("unusable_routes_are_not_installed_and_say_why") {
        return;
    }
    let dir = TestDir::new("srv6-bad").unwrap();
    let mut o = options("sbad", Mode::Global, Reflector::GoBgp);
    o.extra_nodes = vec!["exa".into()];
    let mut lab = Lab::build(&o, dir.path()).unwrap();
    let exa = lab.topo.node("exa").unwrap().clone();
    let n2 = lab.nodes[0].node.clone();
    // n2 also peers with ExaBGP, which sends crafted Prefix-SIDs (and is sent nothing: ExaBGP
    // 4.2 resets the session on any RFC 9252 Prefix-SID it receives, interop.md §0).
    lab.nodes[0].config.push_str(&format!(
        "\n[[neighbors]]\naddress = \"{}\"\nremote_as = 65000\npassive = true\nhold_time = 9\nfamilies = [\"ipv6-unicast\"]\nexport_policy = \"reject-all\"\n",
        exa.ipv6
    ));
    // The config's [srv6] section must stay after every [[neighbors]]: move it.
    let text = lab.nodes[0].config.clone();
    let (head, tail) = text.split_at(text.find("\n[srv6]").unwrap());
    let (srv6, neighbor) = tail.split_at(tail.find("\n[[neighbors]]").unwrap());
    lab.nodes[0].config = format!("{head}{neighbor}{srv6}");
    lab.start_nodes().unwrap();
    let unreachable = "fc000000009900010002000000000000";
    let routes = vec![
        // A valid SID in a locator nobody advertises.
        format!(
            "route 2001:db8:99::/64 next-hop {} attribute [ 0x28 0xc0 0x{} ]",
            exa.ipv6,
            l3_service(unreachable)
        ),
        // A malformed SRv6 L3 Service TLV (its length overruns the attribute): RFC 9252 §7
        // treat-as-withdraw.
        format!(
            "route 2001:db8:98::/64 next-hop {} attribute [ 0x28 0xc0 0x0500ff0001001e00 ]",
            exa.ipv6
        ),
    ];
    let exa_dir = dir.subdir("exabgp").unwrap();
    let conf = ExaBgp::config(
        &Session::ibgp(&exa, &n2, 65000).families(&[IPV6_UNICAST]),
        &exa_dir,
        &routes,
    )
    .unwrap();
    let _exabgp = ExaBgp::start(&exa.ns, &exa_dir, &conf).unwrap();
    lab.wait_converged(Duration::from_secs(60)).unwrap();
    let sidrad = lab.nodes[0].sidrad.as_mut().unwrap();
    let line = sidrad
        .wait_for_log(
            "the unreachable route's reason",
            Duration::from_secs(30),
            |l| {
                l.message.starts_with("route not installed")
                    && l.json.to_string().contains("2001:db8:99::/64")
            },
        )
        .unwrap();
    assert!(
        line.message.contains("fc00:0:99:1:2:: is not reachable"),
        "{}",
        line.message
    );
    let bad = sidrad
        .wait_for_log(
            "the malformed Prefix-SID to be reported",
            Duration::from_secs(30),
            |l| {
                l.message.starts_with("UPDATE problem")
                    && l.json.to_string().contains("treat-as-withdraw")
            },
        )
        .unwrap();
    assert!(bad.message.contains("TLV type 5"), "{}", bad.message);
    let kernel = lab.nodes[0].kernel_routes().unwrap();
    assert!(
        !kernel.contains("2001:db8:99:") && !kernel.contains("2001:db8:98:"),
        "{kernel}"
    );
    // The good routes are unaffected.
    assert_pings(&lab);
}

/// FRR 8.4 as an SRv6 L3VPN PE exporting its default VRF (interop.md §3.3): zebra holds the
/// locator; `sid vpn export auto` is given once zebra has handed bgpd its locator chunk.
fn start_frr_pe(lab: &Lab, name: &str, dir: &TestDir) -> Frr {
    let pe = lab.topo.node(name).unwrap();
    let rr = lab.topo.node("rr").unwrap();
    let k = pe.index;
    for (fam, prefix) in [
        ("-4", format!("198.51.100.{k}/32")),
        ("-6", format!("2001:db8:{k}::/48")),
    ] {
        cmd::run(Command::new(cmd::find(cmd::IP).unwrap()).args([
            "-n",
            &pe.ns,
            fam,
            "route",
            "add",
            "blackhole",
            &prefix,
        ]))
        .unwrap();
    }
    let zebra = format!(
        "hostname {name}\nsegment-routing\n srv6\n  locators\n   locator loc1\n    prefix fc00:0:{k}:1::/64\n   exit\n  exit\n exit\nexit\n"
    );
    let mut bgpd = format!(
        "hostname {name}\nrouter bgp 65000\n bgp router-id {}\n no bgp default ipv4-unicast\n no bgp network import-check\n timers bgp 3 9\n",
        pe.loopback4
    );
    bgpd.push_str(&format!(
        " neighbor {0} remote-as internal\n neighbor {0} timers connect 1\n neighbor {0} capability extended-nexthop\n neighbor {0} update-source {1}\n",
        rr.ipv6, pe.ipv6
    ));
    bgpd.push_str(" segment-routing srv6\n  locator loc1\n exit\n");
    for af in ["ipv4", "ipv6"] {
        bgpd.push_str(&format!(
            " address-family {af} unicast\n  redistribute kernel\n  rd vpn export 65000:{k}\n  rt vpn both 65000:100\n  export vpn\n  import vpn\n exit-address-family\n"
        ));
    }
    for af in ["ipv4", "ipv6"] {
        bgpd.push_str(&format!(
            " address-family {af} vpn\n  neighbor {} activate\n exit-address-family\n",
            rr.ipv6
        ));
    }
    let frr = Frr::start(&pe.ns, &dir.subdir(name).unwrap(), &zebra, &bgpd).unwrap();
    wait_until(
        "FRR's locator chunk",
        Duration::from_secs(10),
        Duration::from_millis(50),
        || {
            let out = frr.vtysh(&["show bgp segment-routing srv6"])?;
            Ok(
                if out
                    .lines()
                    .skip_while(|l| !l.starts_with("locator_chunks:"))
                    .nth(1)
                    .is_some_and(|l| l.starts_with("- "))
                {
                    Check::Ready(())
                } else {
                    Check::NotYet(out)
                },
            )
        },
    )
    .unwrap();
    for af in ["ipv4", "ipv6"] {
        frr.vtysh(&[
            "configure terminal",
            "router bgp",
            &format!("address-family {af} unicast"),
            "sid vpn export auto",
        ])
        .unwrap();
    }
    frr
}

#[test]
fn sidra_and_an_frr_srv6_pe_install_each_others_sids() {
    if !require_root("sidra_and_an_frr_srv6_pe_install_each_others_sids") {
        return;
    }
    let dir = TestDir::new("srv6-mixed").unwrap();
    let mut o = options("smix", Mode::Vpn, Reflector::Frr);
    o.nodes = 1;
    o.extra_nodes = vec!["pe".into()];
    o.extra_rr_clients = vec!["pe".into()];
    let mut lab = Lab::build(&o, dir.path()).unwrap();
    let pe = lab.topo.node("pe").unwrap().clone();
    let n2 = lab.nodes[0].node.clone();
    // The PE does not advertise its locator in BGP: here the fabric routes it (a static route
    // stands in for the fabric's IGP), and sidrad is told to trust it.
    let k = pe.index;
    cmd::run(Command::new(cmd::find(cmd::IP).unwrap()).args([
        "-n",
        &n2.ns,
        "-6",
        "route",
        "add",
        &format!("fc00:0:{k}:1::/64"),
        "via",
        &pe.ipv6.to_string(),
    ]))
    .unwrap();
    lab.nodes[0].config = lab.nodes[0]
        .config
        .replace("[srv6]\n", "[srv6]\nunderlay_prefixes = [\"fc00::/16\"]\n");
    let _frr = start_frr_pe(&lab, "pe", &dir);
    lab.start_nodes().unwrap();
    // sidra rebuilt FRR's transposed SIDs (function 0x100 / 0x200 in the label, behavior
    // 0xFFFF): the kernel routes carry the full SIDs.
    let want = [
        (format!("198.51.100.{k}/32"), format!("fc00:0:{k}:1:100::")),
        (format!("2001:db8:{k}::/48"), format!("fc00:0:{k}:1:200::")),
    ];
    wait_until(
        "sidra to install encapsulation to FRR's SIDs",
        Duration::from_secs(60),
        Duration::from_millis(200),
        || {
            let r = lab.nodes[0].kernel_routes()?;
            let ok = want.iter().all(|(p, sid)| {
                r.lines().any(|l| {
                    (route_to(l, p) || route_to(l, p.trim_end_matches("/32")))
                        && l.contains(&format!("[ {sid} ]"))
                })
            });
            Ok(if ok {
                Check::Ready(())
            } else {
                Check::NotYet(r)
            })
        },
    )
    .unwrap();
    // FRR installed encapsulation to sidra's SIDs (End.DT4 function 1, End.DT6 function 2).
    let frr_routes = [
        ("-4", lab.nodes[0].pod_cidr4(), dt4(2)),
        ("-6", lab.nodes[0].pod_cidr6(), dt6(2)),
    ];
    wait_until(
        "FRR to install encapsulation to sidra's SIDs",
        Duration::from_secs(60),
        Duration::from_millis(200),
        || {
            let mut missing = Vec::new();
            for (fam, prefix, sid) in &frr_routes {
                let r = cmd::run(
                    Command::new(cmd::find(cmd::IP)?)
                        .args(["-n", &pe.ns, fam, "route", "show", prefix]),
                )?;
                if !(r.contains("encap seg6") && r.contains(&format!("[ {sid} ]"))) {
                    missing.push(format!("{prefix}: {r}"));
                }
            }
            Ok(if missing.is_empty() {
                Check::Ready(())
            } else {
                Check::NotYet(missing.join("; "))
            })
        },
    )
    .unwrap();
}
