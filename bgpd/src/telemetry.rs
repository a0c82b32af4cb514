//! Prometheus metrics (`[metrics] listen = "127.0.0.1:9179"`).
//!
//! Three sources, chosen so that the session and RIB code carry no metrics logic:
//!
//! * **Counters at the wire**: every BGP message read or written by a
//!   [`crate::session::conn::Connection`] is counted by type ([`MessageCounters`]: the counter
//!   handles are registered once per connection, so a message costs one atomic add).
//! * **Snapshots**: every [`REFRESH`] the [`refresher`] reads the neighbors' status (the same
//!   `PeerStatus` the API shows) and one summary of the RIB ([`crate::rib::watch::sizes`]) and
//!   sets the gauges (session state, uptime, prefixes per peer and family, RIB sizes) and the
//!   counters the status already keeps (established transitions, decision runs); with an SRv6
//!   service, also the data plane gauges from its snapshot and the reconciler's sync status
//!   (the same ones `sidractl srv6 status` shows).
//! * **The data plane reconciler** ([`crate::dataplane::reconciler`]) counts its operations by
//!   kind and result, times each batch it applies and sets the pending changes.
//!
//! Series of a deleted neighbor: its gauges stop being set and the exporter drops them after
//! [`GAUGE_IDLE`]; its counters stay (a counter must not go back to zero while scraped).
//!
//! Names follow the Prometheus conventions (`sidra_` prefix, `_total` counters, `_seconds`);
//! labels are bounded: `peer` (a configured neighbor's address), `family` (4 values; the PMTU
//! relay's `ipv4`/`ipv6`), `reason` (8 values), `type`
//! (6 values), `kind` (the data plane's object or change kinds), `result` (`ok`, `error`);
//! the session's `state` is a value, not a label (`sidra_srv6_routes`' `state` has 2 values).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `sidra_build_info` | gauge (1) | `version` |
//! | `sidra_bgp_session_state` | gauge: 1 idle, 2 connect, 3 active, 4 open-sent, 5 open-confirm, 6 established | `peer` |
//! | `sidra_bgp_session_established` | gauge 0/1 | `peer` |
//! | `sidra_bgp_session_uptime_seconds` | gauge | `peer` |
//! | `sidra_bgp_session_established_transitions_total` | counter | `peer` |
//! | `sidra_bgp_messages_received_total` | counter | `peer`, `type` |
//! | `sidra_bgp_messages_sent_total` | counter | `peer`, `type` |
//! | `sidra_bgp_updates_received_total` | counter | `peer` |
//! | `sidra_bgp_prefixes_received` | gauge | `peer`, `family` |
//! | `sidra_bgp_prefixes_accepted` | gauge | `peer`, `family` |
//! | `sidra_bgp_prefixes_advertised` | gauge | `peer`, `family` |
//! | `sidra_rib_prefixes` | gauge | `family` |
//! | `sidra_rib_paths` | gauge | `family` |
//! | `sidra_rib_attribute_sets` | gauge | |
//! | `sidra_rib_decision_runs_total` | counter | |
//! | `sidra_rib_rejected_paths_total` | counter | |
//! | `sidra_api_watchers` | gauge | |
//! | `sidra_dataplane_operations_total` | counter | `kind` (`local_sid_add`, `policy_mod`, `steering_set`, ... 11 values), `result` (`ok`, `error`) |
//! | `sidra_dataplane_pending_changes` | gauge | |
//! | `sidra_dataplane_apply_seconds` | histogram | |
//! | `sidra_dataplane_in_sync` | gauge 0/1 | |
//! | `sidra_dataplane_objects` | gauge: programmed objects | `kind` (`local_sids`, `policies`, `steering`) |
//! | `sidra_srv6_routes` | gauge: remote SRv6 routes | `state` (`installed`, `not_installed`) |
//! | `sidra_dataplane_pmtu_relayed_total` | counter: "packet too big" relayed to pods by the kernel backend's PMTU relay | `family` (`ipv4`, `ipv6`) |
//! | `sidra_dataplane_pmtu_dropped_total` | counter: messages the PMTU relay did not relay | `reason` (`truncated`, `malformed`, `foreign_source`, `not_srv6`, `df_clear`, `not_allowed`, `rate_limited`, `send_error`) |
//!
//! The data plane and SRv6 metrics exist only when sidrad runs an SRv6 service (an `[srv6]`
//! section or a data plane backend).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime};

use metrics::{
    Counter, Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use metrics_util::MetricKindMask;

use crate::daemon::DaemonHandle;
use crate::fsm::State;
use crate::packet::msg_type;

/// Every metric sidrad exports, with its Prometheus type (the table above; the dashboard in
/// `etc/grafana/sidra.json` uses only these, which a test checks).
pub const METRICS: &[(&str, &str)] = &[
    ("sidra_build_info", "gauge"),
    ("sidra_bgp_session_state", "gauge"),
    ("sidra_bgp_session_established", "gauge"),
    ("sidra_bgp_session_uptime_seconds", "gauge"),
    ("sidra_bgp_session_established_transitions_total", "counter"),
    ("sidra_bgp_messages_received_total", "counter"),
    ("sidra_bgp_messages_sent_total", "counter"),
    ("sidra_bgp_updates_received_total", "counter"),
    ("sidra_bgp_prefixes_received", "gauge"),
    ("sidra_bgp_prefixes_accepted", "gauge"),
    ("sidra_bgp_prefixes_advertised", "gauge"),
    ("sidra_rib_prefixes", "gauge"),
    ("sidra_rib_paths", "gauge"),
    ("sidra_rib_attribute_sets", "gauge"),
    ("sidra_rib_decision_runs_total", "counter"),
    ("sidra_rib_rejected_paths_total", "counter"),
    ("sidra_api_watchers", "gauge"),
    ("sidra_dataplane_operations_total", "counter"),
    ("sidra_dataplane_pending_changes", "gauge"),
    ("sidra_dataplane_apply_seconds", "histogram"),
    ("sidra_dataplane_in_sync", "gauge"),
    ("sidra_dataplane_objects", "gauge"),
    ("sidra_srv6_routes", "gauge"),
    ("sidra_dataplane_pmtu_relayed_total", "counter"),
    ("sidra_dataplane_pmtu_dropped_total", "counter"),
];

/// The buckets of `sidra_dataplane_apply_seconds` (a batch takes from microseconds with the
/// `none` backend to seconds for a full table through VPP's API).
pub const APPLY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often the snapshot metrics are refreshed.
pub const REFRESH: Duration = Duration::from_secs(5);
/// How long a gauge that is no longer set stays exported.
pub const GAUGE_IDLE: Duration = Duration::from_secs(60);

/// The `type` label of a BGP message type code.
pub fn message_type_name(t: u8) -> &'static str {
    match t {
        msg_type::OPEN => "open",
        msg_type::UPDATE => "update",
        msg_type::NOTIFICATION => "notification",
        msg_type::KEEPALIVE => "keepalive",
        msg_type::ROUTE_REFRESH => "route-refresh",
        _ => "other",
    }
}

/// The message counters of one connection, by type (index = type code, 0 = other).
#[derive(Clone)]
pub struct MessageCounters {
    received: [Counter; 6],
    sent: [Counter; 6],
}

impl MessageCounters {
    pub fn new(peer: IpAddr) -> Self {
        let peer = peer.to_canonical().to_string();
        let make = |name: &'static str| -> [Counter; 6] {
            std::array::from_fn(|i| {
                let t = u8::try_from(i).unwrap_or(0);
                counter!(name, "peer" => peer.clone(), "type" => message_type_name(t))
            })
        };
        MessageCounters {
            received: make("sidra_bgp_messages_received_total"),
            sent: make("sidra_bgp_messages_sent_total"),
        }
    }

    fn slot(msg: &[u8]) -> usize {
        // The type is the octet after the 16-octet marker and the 2-octet length.
        match msg.get(18) {
            Some(t @ 1..=5) => usize::from(*t),
            _ => 0,
        }
    }

    /// A whole message (header included) was read.
    pub fn received(&self, msg: &[u8]) {
        if let Some(c) = self.received.get(Self::slot(msg)) {
            c.increment(1);
        }
    }

    /// A whole message (header included) was written.
    pub fn sent(&self, msg: &[u8]) {
        if let Some(c) = self.sent.get(Self::slot(msg)) {
            c.increment(1);
        }
    }
}

/// Install the Prometheus recorder and serve `/metrics` on `listen` (inside a tokio runtime).
pub fn install(listen: SocketAddr) -> Result<(), String> {
    PrometheusBuilder::new()
        .with_http_listener(listen)
        .idle_timeout(MetricKindMask::GAUGE, Some(GAUGE_IDLE))
        .set_buckets_for_metric(
            Matcher::Full("sidra_dataplane_apply_seconds".into()),
            APPLY_BUCKETS,
        )
        .map_err(|e| format!("metrics: {e}"))?
        .install()
        .map_err(|e| format!("metrics.listen: cannot serve on {listen}: {e}"))?;
    describe();
    gauge!("sidra_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    Ok(())
}

fn describe() {
    describe_gauge!(
        "sidra_build_info",
        "sidra's version (the value is always 1)"
    );
    describe_gauge!(
        "sidra_bgp_session_state",
        "BGP session state: 1 idle, 2 connect, 3 active, 4 open-sent, 5 open-confirm, 6 established"
    );
    describe_gauge!(
        "sidra_bgp_session_established",
        "1 when the BGP session is established"
    );
    describe_gauge!(
        "sidra_bgp_session_uptime_seconds",
        Unit::Seconds,
        "How long the BGP session has been established (0 when it is not)"
    );
    describe_counter!(
        "sidra_bgp_session_established_transitions_total",
        "Times the BGP session reached Established"
    );
    describe_counter!(
        "sidra_bgp_messages_received_total",
        "BGP messages read from the neighbor, by type"
    );
    describe_counter!(
        "sidra_bgp_messages_sent_total",
        "BGP messages written to the neighbor, by type"
    );
    describe_counter!(
        "sidra_bgp_updates_received_total",
        "UPDATE messages received and processed from the neighbor"
    );
    describe_gauge!(
        "sidra_bgp_prefixes_received",
        "Prefixes held from the neighbor, per family"
    );
    describe_gauge!(
        "sidra_bgp_prefixes_accepted",
        "Paths from the neighbor in the Loc-RIB (after import checks and policy), per family"
    );
    describe_gauge!(
        "sidra_bgp_prefixes_advertised",
        "Routes in the neighbor's Adj-RIB-Out, per family"
    );
    describe_gauge!("sidra_rib_prefixes", "Prefixes in the Loc-RIB, per family");
    describe_gauge!(
        "sidra_rib_paths",
        "Paths in the Loc-RIB (all candidates), per family"
    );
    describe_gauge!(
        "sidra_rib_attribute_sets",
        "Distinct (interned) path attribute sets in use"
    );
    describe_counter!(
        "sidra_rib_decision_runs_total",
        "Runs of the decision process (one per changed prefix)"
    );
    describe_counter!(
        "sidra_rib_rejected_paths_total",
        "Received routes not used (AS or cluster loop, own originator id, no next hop)"
    );
    describe_gauge!("sidra_api_watchers", "gRPC WatchRoutes streams open");
    describe_counter!(
        "sidra_dataplane_operations_total",
        "Data plane changes applied, by kind and result (ok, error)"
    );
    describe_gauge!(
        "sidra_dataplane_pending_changes",
        "Data plane changes still to apply (0 when in sync)"
    );
    describe_histogram!(
        "sidra_dataplane_apply_seconds",
        Unit::Seconds,
        "Time to apply one batch of data plane changes"
    );
    describe_gauge!(
        "sidra_dataplane_in_sync",
        "1 when the data plane holds the desired SRv6 state"
    );
    describe_gauge!(
        "sidra_dataplane_objects",
        "Objects programmed in the data plane, by kind (local_sids, policies, steering)"
    );
    describe_gauge!(
        "sidra_srv6_routes",
        "Remote SRv6 routes, by state (installed: a policy and steering desired; not_installed)"
    );
    describe_counter!(
        "sidra_dataplane_pmtu_relayed_total",
        "Packet too big messages about SRv6-encapsulated pod packets relayed to the pods (kernel backend), by family"
    );
    describe_counter!(
        "sidra_dataplane_pmtu_dropped_total",
        "Packet too big messages the PMTU relay did not relay, by reason"
    );
}

/// Set the SRv6 and data plane gauges from the service's snapshot and the reconciler's status.
pub fn refresh_srv6(srv6: &crate::srv6::Srv6Handle) {
    let installed = srv6
        .snapshot
        .borrow()
        .routes
        .iter()
        .filter(|r| matches!(r.verdict, crate::srv6::remote::Verdict::Installed { .. }))
        .count();
    let total = srv6.snapshot.borrow().routes.len();
    let sync = srv6.sync.borrow().clone();
    gauge!("sidra_dataplane_in_sync").set(f64::from(u8::from(sync.in_sync)));
    gauge!("sidra_dataplane_pending_changes").set(sync.pending as f64);
    let p = &sync.programmed;
    for (kind, n) in [
        ("local_sids", p.local_sids.len()),
        ("policies", p.policies.len()),
        ("steering", p.steering.len()),
    ] {
        gauge!("sidra_dataplane_objects", "kind" => kind).set(n as f64);
    }
    // At zero until the kernel backend's PMTU relay counts something (0 with other backends).
    crate::dataplane::kernel::pmtu_relay::register_metrics();
    gauge!("sidra_srv6_routes", "state" => "installed").set(installed as f64);
    gauge!("sidra_srv6_routes", "state" => "not_installed")
        .set(total.saturating_sub(installed) as f64);
}

/// The `sidra_bgp_session_state` value.
pub fn state_value(s: State) -> f64 {
    match s {
        State::Idle => 1.0,
        State::Connect => 2.0,
        State::Active => 3.0,
        State::OpenSent => 4.0,
        State::OpenConfirm => 5.0,
        State::Established => 6.0,
    }
}

/// Refresh the snapshot metrics every [`REFRESH`] until the daemon is gone.
pub async fn refresher(handle: DaemonHandle) {
    let mut tick = tokio::time::interval(REFRESH);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if !refresh(&handle).await {
            return;
        }
    }
}

/// Set the snapshot metrics once; false when the RIB is gone.
pub async fn refresh(handle: &DaemonHandle) -> bool {
    let neighbors = handle.neighbors().await;
    let Some(sizes) = handle.rib.query(crate::rib::watch::sizes).await else {
        return false;
    };
    let now = SystemTime::now();
    for n in &neighbors {
        let s = &n.status;
        let peer = s.address.to_string();
        gauge!("sidra_bgp_session_state", "peer" => peer.clone()).set(state_value(s.state));
        let up = s.state == State::Established;
        gauge!("sidra_bgp_session_established", "peer" => peer.clone())
            .set(f64::from(u8::from(up)));
        let uptime = s
            .established_since
            .and_then(|t| now.duration_since(t).ok())
            .map_or(0.0, |d| d.as_secs_f64());
        gauge!("sidra_bgp_session_uptime_seconds", "peer" => peer.clone()).set(uptime);
        counter!("sidra_bgp_session_established_transitions_total", "peer" => peer.clone())
            .absolute(u64::from(s.established_transitions));
        counter!("sidra_bgp_updates_received_total", "peer" => peer.clone())
            .absolute(s.updates_received);
        for f in crate::rib::watch::FAMILIES {
            if !n.config.families.contains(&f) {
                continue;
            }
            let family = f.name();
            let received = sizes.received.get(&(s.address, f)).copied().unwrap_or(0);
            let accepted = sizes.accepted.get(&(s.address, f)).copied().unwrap_or(0);
            let advertised = sizes.advertised.get(&(s.address, f)).copied().unwrap_or(0);
            gauge!("sidra_bgp_prefixes_received", "peer" => peer.clone(), "family" => family.clone())
                .set(received as f64);
            gauge!("sidra_bgp_prefixes_accepted", "peer" => peer.clone(), "family" => family.clone())
                .set(accepted as f64);
            gauge!("sidra_bgp_prefixes_advertised", "peer" => peer.clone(), "family" => family)
                .set(advertised as f64);
        }
    }
    for (f, prefixes, paths) in &sizes.tables {
        gauge!("sidra_rib_prefixes", "family" => f.name()).set(*prefixes as f64);
        gauge!("sidra_rib_paths", "family" => f.name()).set(*paths as f64);
    }
    gauge!("sidra_rib_attribute_sets").set(sizes.attribute_sets as f64);
    counter!("sidra_rib_decision_runs_total").absolute(sizes.decision_runs);
    counter!("sidra_rib_rejected_paths_total").absolute(sizes.rejected);
    gauge!("sidra_api_watchers").set(sizes.watchers as f64);
    if let Some(srv6) = &handle.srv6 {
        refresh_srv6(srv6);
    }
    gauge!("sidra_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_slots() {
        let mut m = vec![0xffu8; 19];
        for (t, name) in [
            (1u8, "open"),
            (2, "update"),
            (3, "notification"),
            (4, "keepalive"),
            (5, "route-refresh"),
            (9, "other"),
        ] {
            m[18] = t;
            let slot = MessageCounters::slot(&m);
            assert_eq!(message_type_name(u8::try_from(slot).unwrap_or(0)), name);
        }
        assert_eq!(MessageCounters::slot(&[0; 3]), 0);
    }
}
