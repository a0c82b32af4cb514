//! A reflected Prefix-SID (RFC 8669, RFC 9252) reaches the other clients byte for byte, unknown
//! TLVs included; an unknown optional transitive attribute is passed on with the Partial bit
//! (RFC 4271 §5).
//!
//! ```text
//!   hub rbs-hub (bridge): fd00::K/64, router id 192.0.2.K
//!   rbs-sid  fd00::1  sidrad AS 65001, route reflector, every neighbor an RR client
//!   rbs-exa  fd00::2  ExaBGP 4.2: sends crafted attributes (interop.md §6 generic attribute)
//!   rbs-gbp  fd00::3  GoBGP (keeps Prefix-SIDs on receive)
//!   rbs-s2   fd00::4  a second sidrad
//! ```
//!
//! ExaBGP announces (next hop fd00::2):
//!
//! | prefix | attribute sent (flags type value) |
//! |---|---|
//! | 2001:db8:66::/48 | 0xc0 40: unknown Prefix-SID TLV 99 (`63 0004 deadbeef`), then an SRv6 L3 Service TLV (RFC 9252: SID Information with a SID Structure) |
//! | 2001:db8:67::/48 | 0xc0 40: an SRv6 L3 Service TLV whose SID Information holds the SID Structure and an unknown sub-sub-TLV 9 |
//! | 198.51.100.66/32 | 0xc0 40: as the first one (IPv4 unicast, RFC 8950 next hop) |
//! | 2001:db8:6a::/48 | 0xe0 40: an SRv6 L3 Service TLV, with the Partial bit set (as BIRD passes it on) |
//! | 2001:db8:69::/48 | 0xc0 200: an unknown optional transitive attribute |
//!
//! A capture on the hub holds what ExaBGP sent and what sidrad sent GoBGP and the second sidrad.
//! For every route and both receivers, the attribute's value is the same bytes as ExaBGP's; the
//! flags are the same but for the Extended Length bit (a sender's choice) and, for the unknown
//! attribute only, the Partial bit, which RFC 4271 §5 makes sidrad set ("If an optional
//! transitive attribute is unrecognized, the Partial bit ... is set to 1"); the Prefix-SID is a
//! recognized attribute, so its flags stay as they came: 0xc0, or 0xe0 for the one whose Partial
//! bit an earlier speaker set ("it MUST NOT be set back to 0", RFC 4271 §5). GoBGP's RIB and the second sidrad's Loc-RIB hold
//! the routes.
//!
//! Needs root; see `conformance::require_root`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use conformance::capture::RawAttribute;
use conformance::peers::gobgp::{DEFAULT_API_PORT, GoBgpNeighbor};
use conformance::peers::sidrad::{SidradRib, SidradRibNeighbor};
use conformance::peers::{
    ExaBgp, GoBgp, IPV4_UNICAST, IPV6_UNICAST, Session, Sidrad, SidradConfig, SidradNeighbor,
};
use conformance::routes::{self, SeenUpdate};
use conformance::{Check, Result, Tcpdump, TestDir, Topology, cmd, require_root, wait_until};

const ASN: u32 = 65001;
const FAMILIES: &[&str] = &[IPV4_UNICAST, IPV6_UNICAST];
const PREFIX_SID: u8 = 40;
const UNKNOWN_ATTR: u8 = 200;
const FLAG_PARTIAL: u8 = 0x20;
const FLAG_EXTENDED_LENGTH: u8 = 0x10;

/// An SRv6 L3 Service TLV (RFC 9252 §2): SID Information (SID fc00:0:6:1:0:NN::, End.DT6 0x0012)
/// with a SID Structure (32/16/16/0, no transposition) and `extra` sub-sub-TLV bytes after it.
fn l3_service(nn: u8, extra: &str) -> String {
    let extra_len = extra.len() / 2;
    let sub_len = 21 + 9 + extra_len;
    let tlv_len = 1 + 3 + sub_len;
    format!(
        "05{tlv_len:04x}00\
         01{sub_len:04x}00\
         fc00000000060001000000{nn:02x}00000000\
         00001200\
         010006201010000000{extra}"
    )
}

/// The routes ExaBGP sends: (family, prefix, attribute type, flags, value as hex).
fn crafted() -> Vec<(&'static str, &'static str, u8, u8, String)> {
    let unknown_tlv = "630004deadbeef";
    vec![
        (
            IPV6_UNICAST,
            "2001:db8:66::/48",
            PREFIX_SID,
            0xc0,
            format!("{unknown_tlv}{}", l3_service(0x66, "")),
        ),
        (
            IPV6_UNICAST,
            "2001:db8:67::/48",
            PREFIX_SID,
            0xc0,
            l3_service(0x67, "090002abcd"),
        ),
        (
            IPV4_UNICAST,
            "198.51.100.66/32",
            PREFIX_SID,
            0xc0,
            format!("{unknown_tlv}{}", l3_service(0x68, "")),
        ),
        (
            IPV6_UNICAST,
            "2001:db8:6a::/48",
            PREFIX_SID,
            0xe0,
            l3_service(0x6a, ""),
        ),
        (
            IPV6_UNICAST,
            "2001:db8:69::/48",
            UNKNOWN_ATTR,
            0xc0,
            "0102030405".to_string(),
        ),
    ]
}

fn hex(b: &[u8]) -> String {
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

#[test]
fn rib_prefix_sid_reflected_byte_for_byte() {
    if !require_root("rib_prefix_sid_reflected_byte_for_byte") {
        return;
    }
    cmd::require(&[cmd::IP, cmd::TCPDUMP, cmd::EXABGP, cmd::GOBGPD, cmd::GOBGP]).unwrap();
    let start = Instant::now();
    let topo = Topology::builder("rbs")
        .node("sid")
        .node("exa")
        .node("gbp")
        .node("s2")
        .build()
        .unwrap();
    let dir = TestDir::new("rib_prefix_sid").unwrap();
    if let Err(e) = scenario(&topo, &dir) {
        panic!("rib_prefix_sid_reflected_byte_for_byte: {e}");
    }
    eprintln!(
        "rib_prefix_sid_reflected_byte_for_byte: passed in {:.1?}",
        start.elapsed()
    );
}

fn scenario(topo: &Topology, dir: &TestDir) -> Result<()> {
    let (sid, exa, gbp, s2) = (
        topo.node("sid")?,
        topo.node("exa")?,
        topo.node("gbp")?,
        topo.node("s2")?,
    );
    let sid_addr = IpAddr::V6(sid.ipv6);
    let (exa_addr, gbp_addr, s2_addr) = (
        IpAddr::V6(exa.ipv6),
        IpAddr::V6(gbp.ipv6),
        IpAddr::V6(s2.ipv6),
    );
    let capture = Tcpdump::start(
        topo.hub(),
        conformance::topo::HUB_BRIDGE,
        &dir.join("hub.pcap"),
        "tcp port 179",
    )?;

    // The receivers first (passive), then the reflector, then ExaBGP.
    let mut gobgp = GoBgp::start(
        &gbp.ns,
        &dir.subdir("gobgp")?,
        &GoBgp::config_multi(&[GoBgpNeighbor::new(
            Session::ibgp(gbp, sid, ASN)
                .families(FAMILIES)
                .passive(true),
        )])?,
        DEFAULT_API_PORT,
    )?;
    let mut sidrad2 = Sidrad::start_rib(
        &s2.ns,
        &dir.subdir("s2")?,
        &SidradConfig::from_session(&Session::ibgp(s2, sid, ASN).families(FAMILIES).passive(true)),
        &SidradRib::default(),
    )?;
    let mut config = SidradConfig::from_session(&Session::ibgp(sid, exa, ASN).families(FAMILIES));
    let mut rib = SidradRib::default();
    for n in [gbp, s2] {
        config = config.neighbor(SidradNeighbor::from_session(
            &Session::ibgp(sid, n, ASN).families(FAMILIES),
        ));
    }
    for n in [exa, gbp, s2] {
        rib = rib.neighbor(IpAddr::V6(n.ipv6), SidradRibNeighbor::rr_client());
    }
    // ExaBGP dials; sidrad waits for it.
    config.neighbors[0].passive = true;
    let mut sidrad = Sidrad::start_rib(&sid.ns, &dir.subdir("sid")?, &config, &rib)?;
    let lines: Vec<String> = crafted()
        .iter()
        .map(|(_, prefix, code, flags, value)| {
            format!(
                "route {prefix} next-hop {} attribute [ {code:#04x} {flags:#04x} 0x{value} ]",
                exa.ipv6
            )
        })
        .collect();
    let exa_conf = ExaBgp::config(
        &Session::ibgp(exa, sid, ASN).families(FAMILIES),
        &dir.subdir("exabgp")?,
        &lines,
    )?;
    let exa_dir = dir.subdir("exabgp")?;
    let mut exabgp = ExaBgp::start(&exa.ns, &exa_dir, &exa_conf)?;
    exabgp.wait_up(sid_addr, Duration::from_secs(20))?;

    // Both receivers hold every route.
    let socket2 = sidrad2
        .api_socket()
        .map(std::path::Path::to_path_buf)
        .ok_or_else(|| conformance::Error::Other("second sidrad without an API socket".into()))?;
    wait_until(
        "GoBGP and the second sidrad to hold ExaBGP's routes",
        Duration::from_secs(20),
        Duration::from_millis(200),
        || {
            sidrad.daemon().check_running()?;
            sidrad2.daemon().check_running()?;
            exabgp.daemon().check_running()?;
            let mut missing = String::new();
            for (family, prefix, code, _, _) in crafted() {
                let g = gobgp.paths(family, prefix)?;
                let has_attr = g.iter().any(|p| {
                    p["attrs"].as_array().is_some_and(|a| {
                        a.iter()
                            .any(|x| x["type"].as_u64() == Some(u64::from(code)))
                    })
                });
                if !has_attr {
                    let _ = writeln!(missing, "GoBGP {prefix} (with attribute {code}): {g:?}");
                }
                let s = routes::sidrad_paths(&socket2, family, prefix)?;
                if !s.iter().any(|p| p.best && p.from == Some(sid_addr)) {
                    let _ = writeln!(missing, "sidrad 2 {prefix}: {}", routes::show(&s));
                }
            }
            Ok(if missing.is_empty() {
                Check::Ready(())
            } else {
                Check::NotYet(missing)
            })
        },
    )?;

    let pcap = capture.stop()?;
    let all = routes::updates(&pcap)?;
    let find =
        |src: IpAddr, dst: IpAddr, prefix: &str, code: u8| -> Option<(SeenUpdate, RawAttribute)> {
            let u = all
                .iter()
                .rev()
                .find(|u| u.src == src && u.dst == dst && u.announces(prefix))?;
            let a = u.attr(code)?.clone();
            Some((u.clone(), a))
        };
    let mut report = String::new();
    for (_, prefix, code, flags, value) in crafted() {
        let (_, sent) = find(exa_addr, sid_addr, prefix, code).unwrap_or_else(|| {
            panic!(
                "ExaBGP's {prefix} with attribute {code} not in the capture:\n{}",
                routes::show_updates(&all, exa_addr, sid_addr)
            )
        });
        assert_eq!(
            (sent.flags, hex(&sent.value)),
            (flags, value.clone()),
            "ExaBGP did not send {prefix} as configured"
        );
        for (name, to) in [("GoBGP", gbp_addr), ("sidrad 2", s2_addr)] {
            let (u, got) = find(sid_addr, to, prefix, code).unwrap_or_else(|| {
                panic!(
                    "sidrad sent {name} {prefix} without attribute {code} (or not at all):\n{}",
                    routes::show_updates(&all, sid_addr, to)
                )
            });
            let want_flags = if code == PREFIX_SID {
                flags
            } else {
                flags | FLAG_PARTIAL
            };
            assert_eq!(
                hex(&got.value),
                hex(&sent.value),
                "attribute {code} of {prefix} to {name} ({u}) differs from what ExaBGP sent"
            );
            assert_eq!(
                got.flags & !FLAG_EXTENDED_LENGTH,
                want_flags & !FLAG_EXTENDED_LENGTH,
                "flags of attribute {code} of {prefix} to {name}: {:#04x}, want {want_flags:#04x}",
                got.flags
            );
            let _ = writeln!(
                report,
                "{prefix} -> {name}: attribute {code} flags {:#04x} ({} bytes) as sent",
                got.flags,
                got.value.len()
            );
        }
    }
    eprintln!("{report}");
    Ok(())
}
