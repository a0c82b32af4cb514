//! The overlay benchmark's parsers and proof (`conformance::overlay`), on recorded output of
//! iperf3 3.12, ping (iputils) and tcpdump: no root needed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::collections::BTreeMap;

use conformance::overlay::{
    CaptureCounts, Family, Metric, MtuVariant, Overlay, Run, classify_capture, markdown_tables,
    parse_iperf_tcp, parse_iperf_udp, parse_ping, prove, relative,
};

/// `iperf3 -c ... -t 1 -J` (TCP), trimmed to the parts the parser reads.
const TCP_JSON: &str = r#"{"start": {"version": "iperf 3.12"}, "intervals": [],
 "end": {"streams": [],
  "sum_sent": {"start": 0, "end": 1.000145, "seconds": 1.000145, "bytes": 1465516032,
               "bits_per_second": 11722428503.866938, "retransmits": 90, "sender": true},
  "sum_received": {"start": 0, "end": 1.002847, "seconds": 1.002847, "bytes": 1462042248,
                   "bits_per_second": 11663133044.223097, "sender": true},
  "sender_tcp_congestion": "cubic", "receiver_tcp_congestion": "cubic"}}"#;

/// A TCP connection black-holed after its handshake (SRv6, pod MTU 1500).
const TCP_BLACKHOLE_JSON: &str = r#"{"end": {
  "sum_sent": {"bytes": 79560, "bits_per_second": 318283.8887265297, "retransmits": 3},
  "sum_received": {"bytes": 0, "bits_per_second": 0.0}}}"#;

/// `iperf3 -c ... -u -l 512 -b 0 -t 1 -J`, trimmed.
const UDP_JSON: &str = r#"{"end": {
  "sum": {"bits_per_second": 922866422.4117242, "lost_packets": 134276, "packets": 225320,
          "lost_percent": 59.59346706905734, "sender": true},
  "sum_sent": {"bytes": 115363840, "bits_per_second": 922866422.4117242, "jitter_ms": 0,
               "lost_packets": 0, "packets": 225320, "lost_percent": 0, "sender": true},
  "sum_received": {"bytes": 46614528, "bits_per_second": 372860294.9557566,
                   "jitter_ms": 0.0011799934970434139, "lost_packets": 134276, "packets": 225320,
                   "lost_percent": 59.59346706905734, "sender": false}}}"#;

/// Nothing arrived (1400-byte payloads over SRv6 from an IPv6 pod with MTU 1500): iperf3 says
/// 0 % loss, since the server saw no gap.
const UDP_NOTHING_JSON: &str = r#"{"end": {
  "sum_sent": {"bits_per_second": 1966757263.2239976, "lost_packets": 0, "packets": 175600,
               "lost_percent": 0},
  "sum_received": {"bits_per_second": 0.0, "lost_packets": 0, "packets": 0,
                   "lost_percent": 0}}}"#;

const IPERF_ERROR_JSON: &str = r#"{"start": {}, "intervals": [], "end": {},
  "error": "unable to connect to server: Connection refused"}"#;

const PING: &str = "PING 10.3.1.2 (10.3.1.2) 56(84) bytes of data.
64 bytes from 10.3.1.2: icmp_seq=1 ttl=62 time=2.55 ms
64 bytes from 10.3.1.2: icmp_seq=2 ttl=62 time=0.053 ms
64 bytes from 10.3.1.2: icmp_seq=3 ttl=62 time=0.062 ms
64 bytes from 10.3.1.2: icmp_seq=5 ttl=62 time=0.061 ms

--- 10.3.1.2 ping statistics ---
5 packets transmitted, 4 received, 20% packet loss, time 55ms
rtt min/avg/max/mdev = 0.053/0.681/2.550/1.079 ms
";

/// `tcpdump -nn -tt -r` of fabric captures (the inner packet of VXLAN on its own line).
const SRV6_CAPTURE: &str = "\
1763862413.496032 IP6 fd00::2 > fc00:0:3:1:1::: RT6 (len=2, type=4, segleft=0, last-entry=0, tag=0, [0]fc00:0:3:1:1::) IP 10.2.1.2.41234 > 10.3.1.2.5201: Flags [S], seq 1, win 64240, length 0
1763862413.496100 IP6 fd00::3 > fc00:0:2:1:1::: RT6 (len=2, type=4, segleft=0, last-entry=0, tag=0, [0]fc00:0:2:1:1::) IP 10.3.1.2.5201 > 10.2.1.2.41234: Flags [S.], seq 2, ack 2, win 65160, length 0
1763862413.497000 IP6 fe80::1061:32ff:fe7d:71fa > ff02::16: HBH ICMP6, multicast listener report v2, 2 group record(s), length 48
";
const VXLAN_CAPTURE: &str = "\
1763862410.528504 IP6 fd00::2.36197 > fd00::3.4789: VXLAN, flags [I] (0x08), vni 42
IP 10.2.3.2.52002 > 10.3.3.2.5201: UDP, length 64
1763862410.528600 IP6 fd00::2.36197 > fd00::3.4789: VXLAN, flags [I] (0x08), vni 42
IP6 2001:db8:2:3::2.52002 > 2001:db8:3:3::2.5201: UDP, length 64
1763862410.848480 IP6 fe80::e089:31ff:fedb:8cac > ff02::1:ff00:3: ICMP6, neighbor solicitation, who has fd00::3, length 32
";
const NATIVE_CAPTURE: &str = "\
1763862400.100000 IP 10.2.2.2.41000 > 10.3.2.2.5201: Flags [P.], seq 1:1449, ack 1, win 502, length 1448
1763862400.100100 IP6 2001:db8:3:2::2 > 2001:db8:2:2::2: ICMP6, echo reply, id 7, seq 1, length 64
1763862400.100200 ARP, Request who-has 10.0.0.3 tell 10.0.0.2, length 28
";

fn pods(s: u8) -> Vec<String> {
    [2, 3]
        .iter()
        .flat_map(|k| [format!("10.{k}.{s}.2"), format!("2001:db8:{k}:{s}::2")])
        .collect()
}

#[test]
fn iperf3_tcp_json() {
    let t = parse_iperf_tcp(TCP_JSON).unwrap();
    assert!((t.received_bps - 11_663_133_044.2).abs() < 1.0);
    assert!((t.sent_bps - 11_722_428_503.9).abs() < 1.0);
    assert_eq!(t.retransmits, 90);
    let b = parse_iperf_tcp(TCP_BLACKHOLE_JSON).unwrap();
    assert_eq!(b.received_bps, 0.0);
    assert_eq!(b.retransmits, 3);
    let e = parse_iperf_tcp(IPERF_ERROR_JSON).unwrap_err();
    assert!(e.contains("Connection refused"), "{e}");
    assert!(parse_iperf_tcp("iperf3: error - the server is busy").is_err());
    assert!(
        parse_iperf_tcp(r#"{"end": {}}"#)
            .unwrap_err()
            .contains("sum_received")
    );
}

#[test]
fn iperf3_udp_json_loss_counts_what_never_arrived() {
    let u = parse_iperf_udp(UDP_JSON).unwrap();
    assert_eq!(u.sent_packets, 225_320);
    assert_eq!(u.delivered_packets, 225_320 - 134_276);
    assert!((u.lost_percent - 59.593).abs() < 0.01, "{}", u.lost_percent);
    assert!((u.received_bps - 372_860_294.96).abs() < 1.0);
    // iperf3 says 0 % here; nothing arrived, so the loss is 100 %.
    let n = parse_iperf_udp(UDP_NOTHING_JSON).unwrap();
    assert_eq!(n.delivered_packets, 0);
    assert_eq!(n.lost_percent, 100.0);
    assert_eq!(n.received_bps, 0.0);
    assert!(parse_iperf_udp(IPERF_ERROR_JSON).is_err());
}

#[test]
fn ping_round_trips_and_percentiles() {
    let p = parse_ping(PING);
    assert_eq!((p.transmitted, p.received), (5, 4));
    assert_eq!(p.rtt_ms, vec![2.55, 0.053, 0.062, 0.061]);
    // Sorted: 0.053 0.061 0.062 2.55 -> median 0.0615 ms.
    assert!((p.percentile_us(50.0).unwrap() - 61.5).abs() < 1e-6);
    assert!((p.percentile_us(100.0).unwrap() - 2550.0).abs() < 1e-6);
    assert_eq!(parse_ping("connect: Network is unreachable").received, 0);
}

#[test]
fn captures_are_classified_packet_by_packet() {
    let srv6 = classify_capture(SRV6_CAPTURE, &pods(1));
    assert_eq!(
        srv6,
        CaptureCounts {
            srv6: 2,
            vxlan: 0,
            plain_pod: 0,
            other: 1
        }
    );
    // The inner packets of VXLAN (continuation lines) are not counted as plain pod packets.
    let vx = classify_capture(VXLAN_CAPTURE, &pods(3));
    assert_eq!((vx.vxlan, vx.plain_pod, vx.srv6, vx.other), (2, 0, 0, 1));
    let native = classify_capture(NATIVE_CAPTURE, &pods(2));
    assert_eq!(
        (native.plain_pod, native.vxlan, native.srv6, native.other),
        (2, 0, 0, 1)
    );
    // Another overlay's pod addresses are not this one's: 10.2.2.2 is not 10.2.2.20 either.
    let other = classify_capture(NATIVE_CAPTURE, &["10.2.2.20".to_string()]);
    assert_eq!(other.plain_pod, 0);
}

#[test]
fn the_proof_accepts_only_the_overlay_under_test() {
    let srv6 = classify_capture(SRV6_CAPTURE, &pods(1));
    let vx = classify_capture(VXLAN_CAPTURE, &pods(3));
    let native = classify_capture(NATIVE_CAPTURE, &pods(2));
    assert!(prove(Overlay::Srv6, &srv6).is_ok());
    assert!(prove(Overlay::Vxlan, &vx).is_ok());
    assert!(prove(Overlay::Native, &native).is_ok());
    // An SRv6 run whose packets left unencapsulated (steering missing) fails, naming why.
    let e = prove(Overlay::Srv6, &classify_capture(NATIVE_CAPTURE, &pods(2))).unwrap_err();
    assert!(e.contains("no SRv6"), "{e}");
    assert!(
        prove(Overlay::Vxlan, &srv6)
            .unwrap_err()
            .contains("no VXLAN")
    );
    assert!(
        prove(Overlay::Native, &vx)
            .unwrap_err()
            .contains("no unencapsulated")
    );
    // Encapsulated packets during a native run, or leaks next to the right overlay, fail too.
    let mixed = CaptureCounts {
        srv6: 10,
        vxlan: 0,
        plain_pod: 3,
        other: 0,
    };
    let e = prove(Overlay::Srv6, &mixed).unwrap_err();
    assert!(e.contains("3 unencapsulated pod packets"), "{e}");
    let e = prove(Overlay::Native, &mixed).unwrap_err();
    assert!(e.contains("10 SRv6"), "{e}");
    assert!(prove(Overlay::Srv6, &CaptureCounts::default()).is_err());
}

fn run(o: Overlay, m: MtuVariant, rep: usize, gbps: f64) -> Run {
    Run {
        overlay: o,
        family: Family::V4,
        mtu: m,
        rep,
        pod_mtu: o.pod_mtu(m),
        load1: 1.0,
        tcp: Some(conformance::overlay::TcpResult {
            received_bps: gbps * 1e9,
            sent_bps: gbps * 1e9,
            retransmits: 0,
        }),
        udp: BTreeMap::new(),
        ping: None,
        errors: Vec::new(),
        capture: CaptureCounts::default(),
        proof: Ok(()),
    }
}

#[test]
fn srv6_is_compared_per_repetition_and_native_stands_for_both_variants() {
    let a = MtuVariant::Adjusted;
    let runs = vec![
        run(Overlay::Native, MtuVariant::Unadjusted, 1, 10.0),
        run(Overlay::Native, MtuVariant::Unadjusted, 2, 8.0),
        run(Overlay::Srv6, a, 1, 9.0),
        run(Overlay::Srv6, a, 2, 8.0),
        run(Overlay::Vxlan, a, 1, 9.0),
        run(Overlay::Vxlan, a, 2, 10.0),
    ];
    let r = relative(&runs, Overlay::Native, Family::V4, a, Metric::TcpGbps).unwrap();
    // rep 1: 9/10 - 1 = -10 %, rep 2: 8/8 - 1 = 0 %.
    assert!((r.min + 0.1).abs() < 1e-9 && r.max.abs() < 1e-9, "{r:?}");
    assert!((r.median + 0.05).abs() < 1e-9);
    let v = relative(&runs, Overlay::Vxlan, Family::V4, a, Metric::TcpGbps).unwrap();
    assert!((v.median - (0.0 + (-0.2)) / 2.0).abs() < 1e-9, "{v:?}");
    let md = markdown_tables(&runs);
    assert!(md.contains("### IPv4 pods") && md.contains("### IPv6 pods"));
    let row = md
        .lines()
        .find(|l| l.starts_with("| TCP throughput (Gbit/s) | adjusted"))
        .unwrap();
    assert!(
        row.contains("| 9.00 [8.00–10.0] |"),
        "native in the adjusted row: {row}"
    );
    assert!(row.contains("-5 % [-10…+0]"), "{row}");
}
