//! The overlay data-plane benchmark (`overlay-bench`, `scripts/overlay-bench.sh`): pod-to-pod
//! traffic over native routing, VXLAN and SRv6, measured with iperf3 and ping.
//!
//! This module holds what does not need root: the result types, the parsers of iperf3's JSON,
//! of ping's output and of tcpdump's text, the proof that a run was carried by the overlay it
//! claims to measure, the statistics and the Markdown report. The binary
//! (`src/bin/overlay-bench.rs`) builds the namespaces and runs the tools; the charts are in
//! [`chart`] (`overlay_chart.rs`).

#[path = "overlay_chart.rs"]
pub mod chart;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

/// The fabric (node uplink) MTU.
pub const FABRIC_MTU: u32 = 1500;
/// SRv6 H.Encaps with one segment, as the kernel's `encap seg6 mode encap` builds it: outer IPv6
/// header (40) + SRH (8 fixed + 16 per segment).
pub const SRV6_OVERHEAD: u32 = 40 + 8 + 16;
/// VXLAN over IPv6: outer IPv6 (40) + UDP (8) + VXLAN (8) + the inner Ethernet header (14).
pub const VXLAN6_OVERHEAD: u32 = 40 + 8 + 8 + 14;
/// The UDP destination port of VXLAN (IANA).
pub const VXLAN_PORT: u16 = 4789;
/// UDP payload sizes measured.
pub const UDP_SIZES: [u32; 3] = [64, 512, 1400];

/// How pod traffic crosses the fabric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Overlay {
    /// Plain routes to the other node's pod CIDRs over the fabric: no encapsulation.
    Native,
    /// Kernel VXLAN device between the nodes over the IPv6 fabric.
    Vxlan,
    /// sidrad-programmed seg6 encap (H.Encaps) and decap.
    Srv6,
}

impl Overlay {
    pub const ALL: [Overlay; 3] = [Overlay::Native, Overlay::Vxlan, Overlay::Srv6];

    pub fn name(self) -> &'static str {
        match self {
            Overlay::Native => "native",
            Overlay::Vxlan => "VXLAN",
            Overlay::Srv6 => "SRv6",
        }
    }

    /// Bytes the overlay adds to each pod packet on the fabric.
    pub fn overhead(self) -> u32 {
        match self {
            Overlay::Native => 0,
            Overlay::Vxlan => VXLAN6_OVERHEAD,
            Overlay::Srv6 => SRV6_OVERHEAD,
        }
    }

    /// The pod MTU of a variant: 1500 unadjusted, 1500 minus the overhead adjusted.
    pub fn pod_mtu(self, mtu: MtuVariant) -> u32 {
        match mtu {
            MtuVariant::Unadjusted => FABRIC_MTU,
            MtuVariant::Adjusted => FABRIC_MTU - self.overhead(),
        }
    }
}

/// The pods' address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub const ALL: [Family; 2] = [Family::V4, Family::V6];

    pub fn name(self) -> &'static str {
        match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        }
    }
}

/// Whether the pod MTU leaves room for the overlay's headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MtuVariant {
    /// Pods keep 1500, like the fabric: full-size packets do not fit once encapsulated.
    Unadjusted,
    /// Pods get 1500 minus the overlay's overhead.
    Adjusted,
}

impl MtuVariant {
    pub const ALL: [MtuVariant; 2] = [MtuVariant::Unadjusted, MtuVariant::Adjusted];

    pub fn name(self) -> &'static str {
        match self {
            MtuVariant::Unadjusted => "unadjusted",
            MtuVariant::Adjusted => "adjusted",
        }
    }
}

/// A TCP iperf3 run, as the receiver saw it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TcpResult {
    pub received_bps: f64,
    pub sent_bps: f64,
    pub retransmits: u64,
}

/// A UDP iperf3 run: what was offered and what arrived.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UdpResult {
    pub sent_bps: f64,
    pub received_bps: f64,
    /// Datagrams the client sent.
    pub sent_packets: u64,
    /// Datagrams the server received.
    pub delivered_packets: u64,
    /// `1 - delivered / sent`, in percent.
    pub lost_percent: f64,
}

/// A ping run: round-trip times of the replies that came back.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PingResult {
    pub transmitted: u64,
    pub received: u64,
    pub rtt_ms: Vec<f64>,
}

impl PingResult {
    /// The `p`-th percentile (0..=100) of the round-trip times, in microseconds.
    pub fn percentile_us(&self, p: f64) -> Option<f64> {
        let mut v = self.rtt_ms.clone();
        v.sort_by(f64::total_cmp);
        percentile(&v, p).map(|ms| ms * 1000.0)
    }
}

fn error_of(v: &serde_json::Value) -> Option<String> {
    v.get("error").and_then(|e| e.as_str()).map(String::from)
}

fn number(v: &serde_json::Value, path: &[&str]) -> Result<f64, String> {
    let mut cur = v;
    for p in path {
        cur = cur
            .get(p)
            .ok_or_else(|| format!("iperf3 JSON has no {}", path.join(".")))?;
    }
    cur.as_f64()
        .ok_or_else(|| format!("iperf3 JSON: {} is not a number", path.join(".")))
}

fn parse_json(json: &str) -> Result<serde_json::Value, String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("iperf3 output is not JSON: {e}"))?;
    if let Some(e) = error_of(&v) {
        return Err(format!("iperf3: {e}"));
    }
    Ok(v)
}

/// Parse `iperf3 -c ... -J` (TCP): the receiver's rate is the throughput.
pub fn parse_iperf_tcp(json: &str) -> Result<TcpResult, String> {
    let v = parse_json(json)?;
    Ok(TcpResult {
        received_bps: number(&v, &["end", "sum_received", "bits_per_second"])?,
        sent_bps: number(&v, &["end", "sum_sent", "bits_per_second"])?,
        retransmits: number(&v, &["end", "sum_sent", "retransmits"]).unwrap_or(0.0) as u64,
    })
}

/// Parse `iperf3 -c ... -u -J` (UDP): offered rate, received rate (bytes that arrived over the
/// test's duration) and loss as the server counted it.
pub fn parse_iperf_udp(json: &str) -> Result<UdpResult, String> {
    let v = parse_json(json)?;
    let sent = number(&v, &["end", "sum_sent", "bits_per_second"])?;
    let sent_packets = number(&v, &["end", "sum_sent", "packets"])?;
    let received = number(&v, &["end", "sum_received", "bits_per_second"])?;
    let packets = number(&v, &["end", "sum_received", "packets"])?;
    let lost = number(&v, &["end", "sum_received", "lost_packets"])?;
    let delivered = (packets - lost).max(0.0);
    // iperf3's own loss counts gaps in what arrived: when nothing arrives it says 0 %. Loss
    // against what the client sent counts the packets it never heard of too.
    let lost_percent = if sent_packets > 0.0 {
        100.0 * (1.0 - delivered / sent_packets).clamp(0.0, 1.0)
    } else {
        number(&v, &["end", "sum_received", "lost_percent"])?
    };
    Ok(UdpResult {
        sent_bps: sent,
        received_bps: received,
        sent_packets: sent_packets as u64,
        delivered_packets: delivered as u64,
        lost_percent,
    })
}

/// Parse the output of `ping -n`: one `time=X ms` per reply, and the summary's counts.
pub fn parse_ping(text: &str) -> PingResult {
    let mut r = PingResult::default();
    for line in text.lines() {
        if let Some(t) = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("time="))
            .and_then(|t| t.parse::<f64>().ok())
        {
            r.rtt_ms.push(t);
        }
        if line.contains("packets transmitted") {
            let n = |word: &str| {
                let words: Vec<&str> = line.split([',', ' ']).filter(|w| !w.is_empty()).collect();
                words
                    .windows(2)
                    .find(|w| w[1] == word)
                    .and_then(|w| w[0].parse().ok())
            };
            r.transmitted = n("packets").unwrap_or(0);
            r.received = n("received").unwrap_or(0);
        }
    }
    r
}

/// The `p`-th percentile (0..=100) of sorted values, by linear interpolation.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0).clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    let frac = rank - lo as f64;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * frac)
}

/// Median and range of repeated measurements.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

/// The spread of `values`; `None` if there are none.
pub fn spread(values: &[f64]) -> Option<Spread> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    Some(Spread {
        median: percentile(&v, 50.0)?,
        min: *v.first()?,
        max: *v.last()?,
        n: v.len(),
    })
}

/// What a capture on the fabric saw, packet by packet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CaptureCounts {
    /// IPv6 packets with a segment routing header (routing header type 4).
    pub srv6: u64,
    /// UDP packets to port 4789.
    pub vxlan: u64,
    /// IPv4/IPv6 packets between pod addresses, without encapsulation.
    pub plain_pod: u64,
    /// Anything else (neighbor discovery, ARP, BGP...).
    pub other: u64,
}

/// Whether a tcpdump address field (`10.2.2.2.5201`, `2001:db8:2:2::2.5201`, `10.2.2.2:`) is
/// one of `addrs`, with or without a port.
fn is_addr(field: &str, addrs: &[String]) -> bool {
    let f = field.trim_end_matches([':', ',']);
    addrs.iter().any(|a| {
        f == a
            || f.strip_prefix(a.as_str())
                .is_some_and(|r| r.starts_with('.'))
    })
}

/// Classify the packets of `tcpdump -nn -tt -r FILE` output. A packet starts with a timestamp;
/// lines that do not (the inner packet of VXLAN) belong to the packet before. `pod_addrs` are
/// the addresses of the pods under test.
pub fn classify_capture(text: &str, pod_addrs: &[String]) -> CaptureCounts {
    let mut c = CaptureCounts::default();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let Some(ts) = words.next() else { continue };
        if !ts.starts_with(|ch: char| ch.is_ascii_digit()) || !ts.contains('.') {
            continue;
        }
        let rest: Vec<&str> = words.collect();
        let proto = rest.first().copied().unwrap_or("");
        if proto == "IP6" && (line.contains(" RT6 (") || line.contains(" srcrt (")) {
            if line.contains("type=4") {
                c.srv6 += 1;
            } else {
                c.other += 1;
            }
        } else if (proto == "IP" || proto == "IP6")
            && rest
                .get(3)
                .is_some_and(|d| d.trim_end_matches(':').ends_with(&format!(".{VXLAN_PORT}")))
            && line.contains("VXLAN")
        {
            c.vxlan += 1;
        } else if (proto == "IP" || proto == "IP6")
            && rest.get(2) == Some(&">")
            && (rest.get(1).is_some_and(|s| is_addr(s, pod_addrs))
                || rest.get(3).is_some_and(|d| is_addr(d, pod_addrs)))
        {
            c.plain_pod += 1;
        } else {
            c.other += 1;
        }
    }
    c
}

/// Check that a capture taken during a run of `overlay` shows that overlay carried the pods'
/// traffic, and nothing else did: SRv6 packets and no VXLAN or plain pod packets for SRv6,
/// VXLAN packets and no SRv6 or plain pod packets for VXLAN, plain pod packets and no
/// encapsulation for native.
pub fn prove(overlay: Overlay, c: &CaptureCounts) -> Result<(), String> {
    let (want, want_n, others): (&str, u64, [(&str, u64); 2]) = match overlay {
        Overlay::Srv6 => (
            "SRv6 (IPv6 + SRH) packets",
            c.srv6,
            [("VXLAN", c.vxlan), ("unencapsulated pod", c.plain_pod)],
        ),
        Overlay::Vxlan => (
            "VXLAN (UDP 4789) packets",
            c.vxlan,
            [("SRv6", c.srv6), ("unencapsulated pod", c.plain_pod)],
        ),
        Overlay::Native => (
            "unencapsulated pod packets",
            c.plain_pod,
            [("SRv6", c.srv6), ("VXLAN", c.vxlan)],
        ),
    };
    if want_n == 0 {
        return Err(format!(
            "{} run: the fabric capture has no {want} ({c:?})",
            overlay.name()
        ));
    }
    for (what, n) in others {
        if n > 0 {
            return Err(format!(
                "{} run: the fabric capture has {n} {what} packets ({c:?})",
                overlay.name()
            ));
        }
    }
    Ok(())
}

/// One measured cell: an overlay, a family and an MTU variant, in one repetition.
#[derive(Clone, Debug, Serialize)]
pub struct Run {
    pub overlay: Overlay,
    pub family: Family,
    pub mtu: MtuVariant,
    pub rep: usize,
    pub pod_mtu: u32,
    /// 1-minute load average when the run started.
    pub load1: f64,
    pub tcp: Option<TcpResult>,
    /// Per UDP payload size.
    pub udp: BTreeMap<u32, UdpResult>,
    pub ping: Option<PingResult>,
    /// Tools that failed or gave no result (a black-holed TCP connection, a refused size...).
    pub errors: Vec<String>,
    pub capture: CaptureCounts,
    pub proof: Result<(), String>,
}

/// A reported quantity of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    TcpGbps,
    TcpRetransmits,
    UdpMbps(u32),
    UdpLoss(u32),
    PingP50,
    PingP90,
    PingP99,
}

impl Metric {
    pub fn all() -> Vec<Metric> {
        let mut v = vec![Metric::TcpGbps, Metric::TcpRetransmits];
        for s in UDP_SIZES {
            v.push(Metric::UdpMbps(s));
            v.push(Metric::UdpLoss(s));
        }
        v.extend([Metric::PingP50, Metric::PingP90, Metric::PingP99]);
        v
    }

    pub fn label(self) -> String {
        match self {
            Metric::TcpGbps => "TCP throughput (Gbit/s)".into(),
            Metric::TcpRetransmits => "TCP retransmits".into(),
            Metric::UdpMbps(s) => format!("UDP {s} B received (Mbit/s)"),
            Metric::UdpLoss(s) => format!("UDP {s} B loss (%)"),
            Metric::PingP50 => "ping RTT p50 (µs)".into(),
            Metric::PingP90 => "ping RTT p90 (µs)".into(),
            Metric::PingP99 => "ping RTT p99 (µs)".into(),
        }
    }

    /// Whether a larger value is better (throughput) rather than worse (loss, latency).
    pub fn higher_is_better(self) -> bool {
        matches!(self, Metric::TcpGbps | Metric::UdpMbps(_))
    }

    pub fn of(self, r: &Run) -> Option<f64> {
        match self {
            Metric::TcpGbps => r.tcp.as_ref().map(|t| t.received_bps / 1e9),
            Metric::TcpRetransmits => r.tcp.as_ref().map(|t| t.retransmits as f64),
            Metric::UdpMbps(s) => r.udp.get(&s).map(|u| u.received_bps / 1e6),
            Metric::UdpLoss(s) => r.udp.get(&s).map(|u| u.lost_percent),
            Metric::PingP50 => r.ping.as_ref().and_then(|p| p.percentile_us(50.0)),
            Metric::PingP90 => r.ping.as_ref().and_then(|p| p.percentile_us(90.0)),
            Metric::PingP99 => r.ping.as_ref().and_then(|p| p.percentile_us(99.0)),
        }
    }
}

/// The runs of one cell. Native needs no MTU adjustment: its unadjusted runs stand for both
/// variants.
pub fn cell(runs: &[Run], o: Overlay, f: Family, m: MtuVariant) -> Vec<&Run> {
    let m = if o == Overlay::Native {
        MtuVariant::Unadjusted
    } else {
        m
    };
    runs.iter()
        .filter(|r| r.overlay == o && r.family == f && r.mtu == m)
        .collect()
}

/// The spread of `metric` over a cell's runs.
pub fn cell_spread(
    runs: &[Run],
    o: Overlay,
    f: Family,
    m: MtuVariant,
    metric: Metric,
) -> Option<Spread> {
    let v: Vec<f64> = cell(runs, o, f, m)
        .iter()
        .filter_map(|r| metric.of(r))
        .collect();
    spread(&v)
}

/// SRv6 relative to `base`, per repetition (runs paired by `rep`): the spread of
/// `srv6 / base - 1`.
pub fn relative(
    runs: &[Run],
    base: Overlay,
    f: Family,
    m: MtuVariant,
    metric: Metric,
) -> Option<Spread> {
    let srv6 = cell(runs, Overlay::Srv6, f, m);
    let b = cell(runs, base, f, m);
    let ratios: Vec<f64> = srv6
        .iter()
        .filter_map(|s| {
            let sv = metric.of(s)?;
            let bv = b
                .iter()
                .find(|r| r.rep == s.rep)
                .and_then(|r| metric.of(r))?;
            (bv.abs() > f64::EPSILON).then(|| sv / bv - 1.0)
        })
        .collect();
    spread(&ratios)
}

fn fmt_value(x: f64) -> String {
    let a = x.abs();
    if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// `median [min–max]`, or `—` when there is no value.
pub fn fmt_spread(s: Option<Spread>) -> String {
    match s {
        None => "—".into(),
        Some(s) if s.n == 1 => fmt_value(s.median),
        Some(s) => format!(
            "{} [{}–{}]",
            fmt_value(s.median),
            fmt_value(s.min),
            fmt_value(s.max)
        ),
    }
}

/// A relative spread as signed percentages: `-12 % [-20…-5]`.
pub fn fmt_relative(s: Option<Spread>) -> String {
    let pct = |x: f64| format!("{:+.0} %", x * 100.0);
    match s {
        None => "—".into(),
        Some(s) if s.n == 1 => pct(s.median),
        Some(s) => format!(
            "{} [{:+.0}…{:+.0}]",
            pct(s.median),
            s.min * 100.0,
            s.max * 100.0
        ),
    }
}

/// The Markdown tables of the report: one per family; rows are the metrics in each MTU variant,
/// columns the overlays and SRv6 relative to native and to VXLAN.
pub fn markdown_tables(runs: &[Run]) -> String {
    let mut out = String::new();
    for f in Family::ALL {
        let _ = writeln!(out, "### {} pods\n", f.name());
        let _ = writeln!(
            out,
            "| case | pod MTU (VXLAN / SRv6) | native | VXLAN | SRv6 | SRv6 vs native | SRv6 vs VXLAN |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|");
        for metric in Metric::all() {
            for m in MtuVariant::ALL {
                let cols: Vec<String> = Overlay::ALL
                    .iter()
                    .map(|o| fmt_spread(cell_spread(runs, *o, f, m, metric)))
                    .collect();
                let _ = writeln!(
                    out,
                    "| {} | {} ({} / {}) | {} | {} | {} | {} | {} |",
                    metric.label(),
                    m.name(),
                    Overlay::Vxlan.pod_mtu(m),
                    Overlay::Srv6.pod_mtu(m),
                    cols[0],
                    cols[1],
                    cols[2],
                    fmt_relative(relative(runs, Overlay::Native, f, m, metric)),
                    fmt_relative(relative(runs, Overlay::Vxlan, f, m, metric)),
                );
            }
        }
        out.push('\n');
    }
    out
}

/// One line per run that had errors (tools that failed), for the report.
pub fn error_lines(runs: &[Run]) -> Vec<String> {
    runs.iter()
        .flat_map(|r| {
            r.errors.iter().map(move |e| {
                format!(
                    "{} {} {} rep {}: {e}",
                    r.overlay.name(),
                    r.family.name(),
                    r.mtu.name(),
                    r.rep
                )
            })
        })
        .collect()
}

/// The report's opening: what was measured and how (static text).
pub fn report_header() -> String {
    REPORT_HEADER.to_string()
}

/// The report's closing: the overhead explained (static text).
pub fn report_footer() -> String {
    REPORT_FOOTER.to_string()
}

const REPORT_HEADER: &str = r#"# Overlay data-plane benchmark: SRv6 against VXLAN and native routing

What it costs to carry pod traffic over sidra's SRv6 overlay, compared with routing it natively
and with a VXLAN overlay, on the Linux kernel data plane, pod to pod across two nodes, for IPv4
and IPv6 pods (issue 9; the Kites-style comparison of the research behind sidra).

Reproduce the whole page, its charts and its JSON with one command (root; it installs iperf3,
FRR, tcpdump if missing, builds, and runs in its own network namespaces, prefix `ob-`):

```sh
sudo scripts/overlay-bench.sh            # 3 repetitions, about 12 minutes, writes docs/overlay-benchmark*
sudo scripts/overlay-bench.sh --quick    # 1 short repetition, writes target/overlay-bench/
sudo scripts/overlay-bench.sh --reps 5 --tcp-secs 10 --udp-rate 1G
```

## Set-up

The test bed is sidra's SRv6 lab (`conformance::srv6lab`): two node namespaces `n2`, `n3`
on a fabric (a bridge in a hub namespace; each node's uplink `eth0` is a veth with MTU 1500,
addresses fd00::2, fd00::3 and, for the native overlay only, 10.0.0.2, 10.0.0.3), an FRR 8.4
route reflector, and sidrad on each node in `vpn` mode with the kernel backend. Each node has
three pods, one per overlay, built the same way: a namespace whose `eth0` is a veth pair to the
node, with an IPv4 /24 and an IPv6 /64 and default routes to the node.

| overlay | pods (node K) | how the traffic crosses the fabric |
|---|---|---|
| native | 10.K.2.2, 2001:db8:K:2::2 | static routes to the other node's pod CIDRs via its fabric address (10.0.0.J / fd00::J): no encapsulation |
| VXLAN | 10.K.3.2, 2001:db8:K:3::2 | a kernel `vxlan` device per node (VNI 42, `local fd00::K remote fd00::J dstport 4789 dev eth0`, MTU 1430 set by the kernel), an inner subnet 10.254.0.0/24 + fd01::/64, routes to the other node's pod CIDRs via it |
| SRv6 | 10.K.1.2, 2001:db8:K:1::2 | sidrad: the pod CIDRs advertised as VPNv4/VPNv6 with their SIDs through the reflector; the other node installs `encap seg6 mode encap segs [SID]` routes (H.Encaps, one segment, with an SRH) and the SIDs decapsulate into the main table |

Measured between the two pods of each overlay, client on n2, server on n3:

* **TCP**: `iperf3 -c POD -t N -J`, one stream, the receiver's rate.
* **UDP**: `iperf3 -u -l SIZE -b RATE` for payloads of 64, 512 and 1400 bytes; the received rate
  and the loss as `1 − datagrams received / datagrams sent` (iperf3's own loss percentage counts
  only gaps in what arrived and says 0 % when nothing arrives). Default `-b 0`: the client sends
  as fast as it can, so these are the highest rates each path takes on this machine, and the
  loss is what the receiving side could not keep up with.
* **Latency**: `ping -i 0.01 -c 200` (56-byte payload), the 50th, 90th and 99th percentiles of the
  round-trip times.
* Each in two MTU variants: **unadjusted** (pods keep MTU 1500, like the fabric) and **adjusted**
  (pod MTU 1500 minus the overlay's overhead: 1436 for SRv6, 1430 for VXLAN). Native has nothing
  to adjust.

Every repetition runs every case once (overlay by overlay, so slow changes in the machine's
load hit all of them alike); the tables give the median and the range over the repetitions.

**Proof that each overlay carried its traffic.** During every case a capture on the fabric
(tcpdump on the hub bridge, the first 400 packets that are not BGP) is classified packet by
packet: SRv6 (IPv6 with a routing header of type 4), VXLAN (UDP to port 4789), plain packets
between pod addresses, other. An SRv6 case must show SRv6 packets and neither VXLAN nor plain
pod packets, a VXLAN case VXLAN packets only, a native case plain pod packets and no
encapsulation. Otherwise the command exits 1 naming the case and writes no report. The counts
of every case are in `overlay-benchmark/results.json`.

**Noise.** The machine has 2 virtual CPUs shared with other work (builds and tests of other
sessions ran at the same time): both iperf3 ends, the forwarding in the node namespaces and the
captures compete for them. The load average is recorded at the start and end of the run and
before every case (in the JSON). Read differences smaller than the spread as no difference.

"#;

const REPORT_FOOTER: &str = r#"## Where the overhead comes from

**Header bytes.** Per packet on the fabric:

| overlay | added bytes | made of | pod MTU that fits a 1500-byte fabric |
|---|---:|---|---:|
| native | 0 | — | 1500 |
| SRv6, H.Encaps with one SID (what sidra programs) | 64 | outer IPv6 header 40 + SRH 24 (8 fixed + 16 per segment) | 1436 |
| SRv6, H.Encaps.Red with one SID (VPP's reduced encap; not on this kernel path) | 40 | outer IPv6 header only, no SRH | 1460 |
| VXLAN over IPv6 | 70 | outer IPv6 40 + UDP 8 + VXLAN 8 + inner Ethernet 14 | 1430 |
| VXLAN over IPv4 (for comparison) | 50 | outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14 | 1450 |

(The issue's "40/56 bytes" are the reduced encapsulation and 40 + 16 for one segment without the
SRH's own 8 bytes; the kernel's `encap seg6 mode encap` always adds the full SRH, so 64.) Each
additional segment adds 16 bytes. For a 1400-byte UDP payload the inner packet is 1428 bytes
(IPv4) or 1448 bytes (IPv6); with SRv6 that makes 1492 or 1512 bytes on the fabric, with VXLAN
1498 or 1518.

**MTU: what happens when the pods are not adjusted.**

* SRv6: a pod packet larger than 1436 bytes becomes a fabric packet larger than 1500 at the
  head-end, which cannot send it. The kernel's seg6 encapsulation does not fragment the outer
  IPv6 packet and does not report the problem to the pod: the "packet too big" goes to the outer
  source address, the node itself (checked by hand: `ping -M do -s 1472` from a pod gets no
  answer and no "frag needed"; the head-end's `Ip6FragFails` and `Icmp6OutPktTooBigs` counters
  rise, its `IcmpOutDestUnreachs` does not). Path MTU discovery cannot work, so a TCP connection
  with the default MSS (1460) is black-holed after its handshake: the TCP rows show 0 delivered
  and the sender retransmitting. UDP with 1400-byte payloads is lost entirely over IPv6 pods
  (1512 bytes) and passes over IPv4 pods (1492 bytes). With the kernel alone, the pod MTU
  (or the pods' MSS) **must** leave 64 bytes per segment. An `mtu` on the encap routes does not
  help: the seg6 route sends forwarded packets to the encapsulation directly, past the
  forwarding MTU check that reads it (checked: `mtu lock 1436` on both route forms, still
  silence; see docs/deployment.md "Pod MTU"), and `advmss` only applies to the node's own
  connections. **Fixed** since these rows were measured, by sidrad's PMTU relay (commit
  24bdf3a; `dataplane.pmtu_relay`, on by default with the kernel backend): sidrad reads that
  "packet too big" and sends the pod the ICMPv4 "frag needed" / ICMPv6 "packet too big" naming
  the MTU left after the encapsulation (1436), so path MTU discovery works (checked by
  `bgpd/tests/kernel_pmtu.rs`: DF pings get the error naming 1436, 4 MB of TCP cross over IPv4
  and IPv6 pods at MTU 1500, both route forms). The unadjusted SRv6 rows above predate it; a
  new run of `scripts/overlay-bench.sh` measures with it. A pod MTU that leaves 64 bytes per
  segment still spares the pod the first drop and round trip.
* VXLAN: the kernel gives the vxlan device the fabric MTU minus 70 (1430), so an oversized pod
  packet fails an ordinary routing MTU check on the node, which answers the pod with ICMP "frag
  needed" / "packet too big". Path MTU discovery works: TCP lowers its segment size after the
  first losses and runs at about the adjusted rate; UDP datagrams too large for the path are
  dropped until the pod learns the path MTU, then fragmented by the pod.
* Adjusted, no overlay fragments anything; IPv6 pods fragment 1400-byte UDP payloads themselves
  when 1448 bytes exceed the pod MTU (1430 for VXLAN).

**Offloads.** Everything here is veth between namespaces, on one kernel:

* veth advertises TSO/GSO, so a pod's TCP hands its veth packets of up to 64 KiB and the nodes
  forward them as such as far as they can. TCP throughput therefore measures mostly the CPU cost
  per packet of each path (routing lookups, encapsulation and decapsulation, the namespace hops)
  on 2 shared CPUs, not the bytes on the wire: a pod MTU of 1436 or 1430 instead of 1500 costs
  little here.
* Checksums are never computed on veth (CHECKSUM_PARTIAL all the way); VXLAN over IPv6 needs an
  outer UDP checksum (zero checksums are off by default for IPv6), which the kernel fills in
  cheaply from the inner packet's partial checksum (local checksum offload); SRv6 has no checksum of its own.
* veth runs GRO only with NAPI (XDP or `ethtool -K gro on`), off here, so nothing coalesces on
  receive; UDP from iperf3 is one datagram per packet, so the UDP rows measure per-packet cost (64-byte payloads most of
  all), where the extra work of an overlay shows more than in TCP.
* Latency is dominated by the wake-ups of the namespaces' softirq processing and of ping on
  shared CPUs; the overlay's encap/decap adds a few microseconds at most.

**Where VPP would differ.** sidra also programs VPP (the same SIDs and policies through VPP's
binary API). None of the numbers above transfer directly:

* VPP processes packets in vectors on dedicated polling cores (DPDK or memif/af_packet
  interfaces), not in the kernel's softirqs on shared cores, so both overlays would run at
  millions of packets per second per core, and the small-packet UDP rows would move most.
* Without veth's GSO, TCP pays per 1500-byte packet, so the MTU and the header bytes matter
  more: at the same pod MTU the overlay's bytes are a fixed 64/1500 ≈ 4 % (SRv6 with SRH),
  40/1500 ≈ 2.7 % (reduced encapsulation), 70/1500 ≈ 4.7 % (VXLAN over IPv6) of the wire.
* VPP's H.Encaps.Red with a single SID emits no SRH (40 bytes); a Linux tail-end then needs a
  seg6local SID (End.DX4 / End.DT6), not the SRH-based decap (see the kernel reference notes).
* The black-hole behaviour above is the kernel's (sidrad's PMTU relay is part of its kernel
  backend); VPP's MTU handling on the encap path is its own and was not measured here.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_spread() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&v, 50.0), Some(2.5));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&v, 100.0), Some(4.0));
        assert_eq!(percentile(&[], 50.0), None);
        let s = spread(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.n), (2.0, 1.0, 3.0, 3));
    }

    #[test]
    fn overheads() {
        assert_eq!(SRV6_OVERHEAD, 64);
        assert_eq!(VXLAN6_OVERHEAD, 70);
        assert_eq!(Overlay::Srv6.pod_mtu(MtuVariant::Adjusted), 1436);
        assert_eq!(Overlay::Vxlan.pod_mtu(MtuVariant::Adjusted), 1430);
        assert_eq!(Overlay::Native.pod_mtu(MtuVariant::Adjusted), 1500);
    }
}
