//! Bad OPENs and bad headers from a raw TCP client: sidrad answers each with the NOTIFICATION
//! RFC 4271 §6.1/§6.2 asks for, keeps running, and still accepts a good session afterwards.
//!
//! ```text
//!   sb1-sid  10.0.0.1  sidrad AS 65001, neighbor 10.0.0.2 AS 65002, passive
//!   sb1-raw  10.0.0.2  this test binary, re-executed inside the namespace as a raw BGP client
//!                      (test `raw_bgp_client_helper`, which does nothing unless told to)
//! ```
//!
//! | sent | expected from sidrad |
//! |---|---|
//! | OPEN with AS 65099 | OPEN, NOTIFICATION 2/2 Bad Peer AS |
//! | OPEN with hold time 1 | OPEN, NOTIFICATION 2/6 Unacceptable Hold Time |
//! | OPEN with version 3 | OPEN, NOTIFICATION 2/1 Unsupported Version Number, data 0x0004 |
//! | OPEN with a bad marker | OPEN, NOTIFICATION 1/1 Connection Not Synchronized |
//! | a header with length 4097 | OPEN, NOTIFICATION 1/2 Bad Message Length, data 0x1001 |
//! | a header with type 9 | OPEN, NOTIFICATION 1/3 Bad Message Type, data 0x09 |
//! | a good OPEN and a KEEPALIVE | OPEN, KEEPALIVE (maybe an End-of-RIB); sidrad logs the session established |
//!
//! Each case is its own connection. After each error sidrad goes Idle (its idle hold) and back
//! to Active; the test waits for that before the next case. sidrad's log names each
//! NOTIFICATION it sent, and sidrad is still running at the end.
//!
//! Needs root; see `conformance::require_root`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use bgpd::packet::capability::Capability;
use bgpd::packet::{
    DecodeContext, EncodeContext, Family, Message, OpenMessage, decode_message, encode_to_vec,
};
use conformance::peers::sidrad::raw;
use conformance::peers::{IPV4_UNICAST, Sidrad, SidradConfig, SidradNeighbor};
use conformance::{Result, TestDir, Topology, cmd, require_root};

const SIDRAD_AS: u32 = 65001;
const PEER_AS: u32 = 65002;

/// How long the raw client waits for answers.
const CLIENT_WAIT: Duration = Duration::from_secs(5);

/// Not a test: the raw BGP client the main test runs inside the client namespace (see
/// `conformance::peers::sidrad::raw`); without its environment it returns at once.
#[test]
fn raw_bgp_client_helper() {
    raw::helper_main();
}

fn open(asn: u32, hold_time: u16) -> OpenMessage {
    OpenMessage::new(
        asn,
        hold_time,
        Ipv4Addr::new(192, 0, 2, 2),
        vec![
            Capability::MultiProtocol(Family::IPV4_UNICAST),
            Capability::RouteRefresh,
            Capability::FourOctetAs(asn),
        ],
    )
}

fn encode(m: Message) -> Vec<u8> {
    encode_to_vec(&m, &EncodeContext::default())
}

/// A message header alone: marker, `length`, `kind`.
fn header(length: u16, kind: u8) -> Vec<u8> {
    let mut h = vec![0xff; 16];
    h.extend_from_slice(&length.to_be_bytes());
    h.push(kind);
    h
}

/// One case: what to send, and the NOTIFICATION (code, subcode, data) expected, or `None` for
/// the good session.
struct Case {
    name: &'static str,
    send: Vec<u8>,
    expect: Option<(u8, u8, Option<Vec<u8>>)>,
}

fn cases() -> Vec<Case> {
    let mut version3 = open(PEER_AS, 9);
    version3.version = 3;
    let mut bad_marker = encode(Message::Open(open(PEER_AS, 9)));
    bad_marker[0] = 0x00;
    let mut good = encode(Message::Open(open(PEER_AS, 9)));
    good.extend(encode(Message::Keepalive));
    vec![
        Case {
            name: "OPEN with the wrong AS",
            send: encode(Message::Open(open(65099, 9))),
            expect: Some((2, 2, None)),
        },
        Case {
            name: "OPEN with hold time 1",
            send: encode(Message::Open(open(PEER_AS, 1))),
            expect: Some((2, 6, None)),
        },
        Case {
            name: "OPEN with version 3",
            send: encode(Message::Open(version3)),
            expect: Some((2, 1, Some(vec![0, 4]))),
        },
        Case {
            name: "OPEN with a bad marker",
            send: bad_marker,
            expect: Some((1, 1, None)),
        },
        Case {
            name: "header with length 4097",
            send: header(4097, 4),
            expect: Some((1, 2, Some(vec![0x10, 0x01]))),
        },
        Case {
            name: "header with type 9",
            send: header(19, 9),
            expect: Some((1, 3, Some(vec![9]))),
        },
        Case {
            name: "good OPEN and KEEPALIVE",
            send: good,
            expect: None,
        },
    ]
}

#[test]
fn sessions_bad_open() {
    if !require_root("sessions_bad_open") {
        return;
    }
    cmd::require(&[cmd::IP]).unwrap();
    let start = Instant::now();
    let topo = Topology::builder("sb1")
        .node("sid")
        .node("raw")
        .build()
        .unwrap();
    let dir = TestDir::new("sessions_bad_open").unwrap();
    if let Err(e) = scenario(&topo, &dir) {
        panic!("sessions_bad_open: {e}");
    }
    eprintln!("sessions_bad_open: passed in {:.1?}", start.elapsed());
}

fn describe(msgs: &[Vec<u8>]) -> String {
    msgs.iter()
        .map(|m| match decode_message(m, &DecodeContext::default()) {
            Ok(Message::Notification(n)) => {
                format!("NOTIFICATION {}/{} data {:02x?}", n.code, n.subcode, n.data)
            }
            Ok(Message::Open(_)) => "OPEN".into(),
            Ok(Message::Keepalive) => "KEEPALIVE".into(),
            Ok(other) => format!("{other:?}"),
            Err(e) => format!("undecodable ({e})"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn scenario(topo: &Topology, dir: &TestDir) -> Result<()> {
    let sid = topo.node("sid")?;
    let raw = topo.node("raw")?;
    let config = SidradConfig {
        asn: SIDRAD_AS,
        router_id: sid.loopback4,
        listen: vec!["[::]:179".parse().unwrap()],
        neighbors: vec![SidradNeighbor {
            address: raw.ipv4.into(),
            remote_as: PEER_AS,
            local_address: Some(sid.ipv4.into()),
            port: None,
            families: vec![IPV4_UNICAST],
            passive: true,
            password: None,
            ttl_security: None,
            hold_time: 9,
            connect_retry: 1,
            idle_hold: 1,
            max_idle_hold: 2,
            description: Some("raw client".into()),
        }],
    };
    let mut sidrad = Sidrad::start(&sid.ns, &dir.subdir("sidrad")?, &config)?;
    let peer = raw.ipv4.into();
    let to = SocketAddr::new(sid.ipv4.into(), 179);
    let work = dir.subdir("raw")?;
    // Passive: Idle -> Active at start.
    sidrad.wait_for_log("the neighbor Active", Duration::from_secs(10), |l| {
        l.is_about(peer) && l.message.ends_with("-> active")
    })?;

    let mut failures = Vec::new();
    for (n, case) in cases().into_iter().enumerate() {
        let mark = sidrad.log_len();
        let got = raw::exchange(
            &raw.ns,
            to,
            &case.send,
            CLIENT_WAIT,
            &work,
            &format!("case{n}"),
        )?;
        let msgs = raw::frames(&got);
        let seen = describe(&msgs);
        let decoded: Vec<Message> = msgs
            .iter()
            .filter_map(|m| decode_message(m, &DecodeContext::default()).ok())
            .collect();
        let starts_with_open = matches!(decoded.first(), Some(Message::Open(_)));
        match &case.expect {
            Some((code, subcode, data)) => {
                let n = decoded.iter().find_map(|m| match m {
                    Message::Notification(n) => Some(n),
                    _ => None,
                });
                let ok = starts_with_open
                    && n.is_some_and(|n| {
                        n.code == *code
                            && n.subcode == *subcode
                            && data.as_ref().is_none_or(|d| &n.data == d)
                    });
                if !ok {
                    failures.push(format!(
                        "{}: expected OPEN then NOTIFICATION {code}/{subcode}{}, got [{seen}]",
                        case.name,
                        data.as_ref()
                            .map(|d| format!(" data {d:02x?}"))
                            .unwrap_or_default()
                    ));
                }
                // The log names it too.
                let logged = sidrad
                    .wait_for_log_since(
                        mark,
                        &format!("sending NOTIFICATION {code}/{subcode}"),
                        Duration::from_secs(5),
                        |l| {
                            l.is_about(peer)
                                && l.message
                                    .starts_with(&format!("sending NOTIFICATION {code}/{subcode} "))
                        },
                    )
                    .is_ok();
                if !logged {
                    failures.push(format!(
                        "{}: sidrad did not log sending NOTIFICATION {code}/{subcode}:\n{}",
                        case.name,
                        sidrad.log_about(peer, 8)
                    ));
                }
                // Back to Active (after its idle hold) before the next case.
                sidrad.wait_for_log_since(
                    mark,
                    &format!("the neighbor Active again after \"{}\"", case.name),
                    Duration::from_secs(10),
                    |l| l.is_about(peer) && l.message == "idle -> active",
                )?;
            }
            None => {
                // OPEN, KEEPALIVE, then possibly UPDATEs (End-of-RIB), never a NOTIFICATION.
                let types: Vec<&str> = decoded
                    .iter()
                    .map(|m| match m {
                        Message::Open(_) => "OPEN",
                        Message::Keepalive => "KEEPALIVE",
                        Message::Update(_) => "UPDATE",
                        _ => "other",
                    })
                    .collect();
                let rest_ok = types.iter().skip(2).all(|t| *t == "UPDATE");
                if types.len() < 2 || types[..2] != ["OPEN", "KEEPALIVE"] || !rest_ok {
                    failures.push(format!(
                        "{}: expected OPEN and KEEPALIVE (then UPDATEs at most), got [{seen}]",
                        case.name
                    ));
                }
                if let Err(e) =
                    sidrad.wait_for_log_since(mark, "session established", CLIENT_WAIT, |l| {
                        l.is_about(peer) && l.message == "session established"
                    })
                {
                    failures.push(format!("{}: {e}", case.name));
                }
            }
        }
    }
    sidrad.daemon().check_running()?;
    let panicked = std::fs::read_to_string(sidrad.daemon().log())
        .unwrap_or_default()
        .contains("panicked");
    assert!(!panicked, "sidrad's log shows a panic");
    assert!(
        failures.is_empty(),
        "sessions_bad_open:\n{}\n(sidrad log {})",
        failures.join("\n"),
        sidrad.daemon().log().display()
    );
    Ok(())
}
