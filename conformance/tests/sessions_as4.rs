//! 4-octet AS numbers (RFC 6793): sidrad in AS 4200000001 and eBGP peers in AS 4200000002.
//!
//! ```text
//!   sa1-sid  fd00::1  sidrad AS 4200000001, dials both (tcpdump on its eth0)
//!   sa1-frr  fd00::2  FRR 8.4 AS 4200000002 (passive)
//!   sa1-gbp  fd00::3  GoBGP 3.10 AS 4200000002 (passive)
//! ```
//!
//! 1. Both sessions reach Established on both sides.
//! 2. Each peer shows sidrad's AS as 4200000001 and the 4-octet AS capability as advertised
//!    and received.
//! 3. On the wire, every OPEN carries AS_TRANS (23456) in My Autonomous System and the real AS in
//!    the 4-octet AS capability (RFC 6793 §4.1).
//!
//! Needs root; see `conformance::require_root`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::net::IpAddr;
use std::time::{Duration, Instant};

use bgpd::packet::{DecodeContext, Message, decode_message};
use conformance::peers::{Frr, GoBgp, IPV4_UNICAST, IPV6_UNICAST, Session, Sidrad, SidradConfig};
use conformance::{Check, Result, Tcpdump, TestDir, Topology, cmd, require_root, wait_until};

const SIDRAD_AS: u32 = 4_200_000_001;
const PEER_AS: u32 = 4_200_000_002;
const AS_TRANS: u16 = 23456;

#[test]
fn sessions_four_octet_as() {
    if !require_root("sessions_four_octet_as") {
        return;
    }
    cmd::require(&[
        cmd::IP,
        cmd::TCPDUMP,
        cmd::FRR_ZEBRA,
        cmd::FRR_BGPD,
        cmd::VTYSH,
        cmd::GOBGPD,
        cmd::GOBGP,
    ])
    .unwrap();
    let start = Instant::now();
    let topo = Topology::builder("sa1")
        .node("sid")
        .node("frr")
        .node("gbp")
        .build()
        .unwrap();
    let dir = TestDir::new("sessions_as4").unwrap();
    if let Err(e) = scenario(&topo, &dir) {
        panic!("sessions_four_octet_as: {e}");
    }
    eprintln!("sessions_four_octet_as: passed in {:.1?}", start.elapsed());
}

fn scenario(topo: &Topology, dir: &TestDir) -> Result<()> {
    let sid = topo.node("sid")?;
    let frr_node = topo.node("frr")?;
    let gbp_node = topo.node("gbp")?;
    let sid_addr = IpAddr::V6(sid.ipv6);
    let (frr_addr, gbp_addr) = (IpAddr::V6(frr_node.ipv6), IpAddr::V6(gbp_node.ipv6));
    let families = [IPV4_UNICAST, IPV6_UNICAST];

    let frr_session = Session::ebgp(frr_node, PEER_AS, sid, SIDRAD_AS)
        .families(&families)
        .passive(true);
    let mut frr = Frr::start(
        &frr_node.ns,
        &dir.subdir("frr")?,
        "hostname frr\n",
        &Frr::config(&frr_session, "frr", "")?,
    )?;
    let gobgp_session = Session::ebgp(gbp_node, PEER_AS, sid, SIDRAD_AS)
        .families(&families)
        .passive(true);
    let mut gobgp = GoBgp::start(
        &gbp_node.ns,
        &dir.subdir("gobgp")?,
        &GoBgp::config(&gobgp_session)?,
        conformance::peers::gobgp::DEFAULT_API_PORT,
    )?;

    let pcap = dir.join("bgp.pcap");
    let mut capture = Tcpdump::start(&sid.ns, conformance::topo::NODE_IF, &pcap, "tcp port 179")?;

    let config = SidradConfig::from_session(
        &Session::ebgp(sid, SIDRAD_AS, frr_node, PEER_AS).families(&families),
    )
    .neighbor(conformance::peers::SidradNeighbor::from_session(
        &Session::ebgp(sid, SIDRAD_AS, gbp_node, PEER_AS).families(&families),
    ));
    let mut sidrad = Sidrad::start(&sid.ns, &dir.subdir("sidrad")?, &config)?;

    // 1. Established on both sides.
    wait_until(
        "both 4-octet AS sessions Established on both sides",
        Duration::from_secs(30),
        Duration::from_millis(100),
        || {
            let f = frr.neighbor_state(sid_addr)?;
            let g = gobgp.neighbor_state(sid_addr)?;
            let (sf, sg) = (
                sidrad.established_count(frr_addr),
                sidrad.established_count(gbp_addr),
            );
            sidrad.daemon().check_running()?;
            Ok(
                if f == "Established" && g == "established" && sf >= 1 && sg >= 1 {
                    Check::Ready(())
                } else {
                    Check::NotYet(format!(
                        "frr {f}, gobgp {g}, sidrad established with frr {sf}x, gobgp {sg}x"
                    ))
                },
            )
        },
    )?;

    // 2. The peers' view of sidrad's AS.
    let v = frr.vtysh_json(&format!("show bgp neighbors {sid_addr} json"))?;
    let n = &v[sid_addr.to_string()];
    assert_eq!(n["remoteAs"], SIDRAD_AS, "FRR's remoteAs: {n}");
    assert_eq!(n["localAs"], PEER_AS, "FRR's localAs: {n}");
    assert_eq!(
        n["neighborCapabilities"]["4byteAs"], "advertisedAndReceived",
        "FRR's 4-octet AS capability: {}",
        n["neighborCapabilities"]
    );
    let v = gobgp.query(&["neighbor", &sid_addr.to_string()])?;
    assert_eq!(v["state"]["peer_asn"], SIDRAD_AS, "GoBGP's peer_asn: {v}");
    assert_eq!(
        v["conf"]["local_asn"], PEER_AS,
        "GoBGP's local_asn: {}",
        v["conf"]
    );

    // 3. The OPENs on the wire: AS_TRANS in the 2-octet field, the real AS in the capability.
    capture.wait_for_messages(
        "the four OPENs in the capture",
        Duration::from_secs(10),
        |msgs| msgs.iter().filter(|m| m.bytes.get(18) == Some(&1)).count() >= 4,
    )?;
    let file = capture.stop()?;
    let msgs = bgpd::capture::Capture::from_file(&file, &[])
        .map_err(|e| conformance::Error::Other(format!("reading {}: {e}", file.display())))?
        .messages;
    let mut opens = Vec::new();
    for m in msgs.iter().filter(|m| m.bytes.get(18) == Some(&1)) {
        let Ok(Message::Open(open)) = decode_message(&m.bytes, &DecodeContext::default()) else {
            panic!("undecodable OPEN {} -> {}: {:02x?}", m.src, m.dst, m.bytes);
        };
        let want = if m.src.ip() == sid_addr {
            SIDRAD_AS
        } else {
            PEER_AS
        };
        assert_eq!(
            (open.my_as, open.asn()),
            (AS_TRANS, want),
            "OPEN {} -> {}: My AS {} and 4-octet AS {}",
            m.src,
            m.dst,
            open.my_as,
            open.asn()
        );
        opens.push((m.src.ip(), m.dst.ip()));
    }
    for peer in [frr_addr, gbp_addr] {
        assert!(
            opens.contains(&(sid_addr, peer)) && opens.contains(&(peer, sid_addr)),
            "an OPEN each way with {peer}: {opens:?}"
        );
    }
    Ok(())
}
