//! The Linux kernel backend: sidra's objects as routes over rtnetlink, tagged with sidra's
//! route protocol number (default 99, `sidra` in `/etc/iproute2/rt_protos.d/`) so they are
//! found, replaced and swept after a restart. See [`routes`] for the route of each object.
//!
//! Modes (decided at start, reported in [`Capabilities::modes`]):
//! * End.DT6: seg6local `End.DT6 table N` (legacy table mode, no VRF needed).
//! * End.DT4 / End.DT46: seg6local with `vrftable N` when a VRF device is bound to table N;
//!   otherwise (no VRF in the kernel, as on the test machines) a `local SID/128` route in the
//!   local table: a packet to it with an SRH whose segments-left is 0 is decapsulated by the
//!   kernel's SRH handling and the inner packet re-injected, so it is routed by the main table
//!   (DT46-like; only table 254 is possible).
//! * Policies and steering, with nexthop objects (Linux 5.3+; probed at start): each policy
//!   is a seg6 encap nexthop (or a weighted group of them), recorded by a route at its binding
//!   SID in a table nothing looks up, and each steering entry a route `PREFIX nhid N` (see
//!   [`policies`]). The kernel builds the encapsulation once per policy, not once per route,
//!   and a modified policy is replaced in place: every route steered into it follows.
//! * Otherwise (per-route mode): policies as `End.B6.Encaps` routes at the binding SID (so
//!   [`Dataplane::read`] finds the policies and their real BSIDs after a restart; if the
//!   kernel refuses that action the policies are kept in memory only), and steering as
//!   `encap seg6 mode encap` routes, one nexthop per segment list (weights as nexthop
//!   weights), pointing where the kernel routes the first segment (IPv6 routes via `lo`
//!   become reject routes, and IPv6 multipath needs gateways).
//! * Encapsulation source: `ip sr tunsrc` (the SEG6 generic netlink family).
//! * The PMTU relay ([`pmtu_relay`], on unless [`KernelOptions::pmtu_relay`] is off): a task
//!   that turns the kernel's "packet too big" about an encapsulated pod packet (sent to the
//!   encapsulation source) into the ICMP error the pod should have got.
//!
//! Requests are pipelined (see [`nl`]): 100k routes take a fraction of a second.

mod nexthop;
mod nl;
pub mod pmtu_relay;
mod policies;
mod probe;
mod ptb;
mod routes;
mod tunsrc;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::Ipv6Addr;
use std::sync::{Arc, Mutex};

use ipnet::IpNet;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_DUMP, NLM_F_REPLACE, NetlinkMessage};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::route::RouteMessage;
use tokio::sync::watch;
use tracing::{debug, warn};

use super::{
    Capabilities, Change, Dataplane, DataplaneError, DataplaneState, LocalBehavior, LocalSid,
    MAIN_TABLE, Policy, SegmentList,
};
use nexthop::Req;
use nl::{ENETUNREACH, ENOENT, ESRCH, Netlink, NlError, message};
use pmtu_relay::PmtuRelay;
use probe::{Link, Probe};
use routes::{Hop, Parsed, SidMode};
use tunsrc::TunSrc;

/// sidra's route protocol number by default.
pub const DEFAULT_PROTOCOL: u8 = 99;

/// How the kernel backend is set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelOptions {
    /// The route protocol of every route sidra installs (name it `sidra` in
    /// `/etc/iproute2/rt_protos.d/sidra.conf`).
    pub protocol: u8,
    /// The device of the seg6local routes (End.DT6, End.DT4 with a VRF); default: the first
    /// non-loopback device that is up. IPv6 routes on `lo` are turned into reject routes by
    /// the kernel, so it must not be `lo`.
    pub device: Option<String>,
    /// Run the PMTU relay ([`pmtu_relay`]; `dataplane.pmtu_relay`, default on).
    pub pmtu_relay: bool,
}

impl Default for KernelOptions {
    fn default() -> Self {
        KernelOptions {
            protocol: DEFAULT_PROTOCOL,
            device: None,
            pmtu_relay: true,
        }
    }
}

/// The Linux kernel data plane.
pub struct KernelDataplane {
    inner: Arc<Mutex<Inner>>,
    caps: Capabilities,
    /// Stops with the backend.
    _relay: Option<PmtuRelay>,
}

struct Inner {
    nl: Netlink,
    tunsrc: Option<TunSrc>,
    proto: u8,
    device: Option<String>,
    probe: Probe,
    /// Tables asked for (the kernel creates tables as routes use them).
    tables: BTreeSet<(u32, bool)>,
    /// The policy each steering entry was installed from (several policies may have the same
    /// segment lists).
    steering_bsid: HashMap<(u32, IpNet), Ipv6Addr>,
    /// The policies as applied (their weights when there is one list; all of them when the
    /// kernel has no End.B6.Encaps), per-route mode.
    policies: BTreeMap<Ipv6Addr, Policy>,
    /// The nexthop mode's state (`None`: per-route mode).
    nh: Option<policies::NhState>,
    /// The encapsulation source as programmed, for the PMTU relay.
    encap_source: watch::Sender<Option<Ipv6Addr>>,
    /// The PMTU relay runs (the encapsulation source must then be a local address).
    relay_on: bool,
}

fn err(e: impl std::fmt::Display) -> DataplaneError {
    DataplaneError::new(e.to_string())
}

impl KernelDataplane {
    /// Open the netlink sockets in the current network namespace and probe the kernel; use
    /// nexthop objects if the kernel has them.
    pub fn new(opts: KernelOptions) -> Result<Self, DataplaneError> {
        Self::open(opts, true)
    }

    /// As [`KernelDataplane::new`], but with every steering route carrying its own
    /// encapsulation even if the kernel has nexthop objects (for comparisons and tests).
    pub fn new_per_route(opts: KernelOptions) -> Result<Self, DataplaneError> {
        Self::open(opts, false)
    }

    fn open(opts: KernelOptions, nexthops: bool) -> Result<Self, DataplaneError> {
        let mut nl = Netlink::open(netlink_sys::protocols::NETLINK_ROUTE)
            .map_err(|e| err(format!("cannot open a netlink socket: {e}")))?;
        nl.set_strict_check()
            .map_err(|e| err(format!("netlink strict checking: {e}")))?;
        let links = probe::links(&mut nl)
            .map_err(|e| err(format!("cannot list links: {}", e.describe())))?;
        let lo = links
            .iter()
            .find(|l| l.loopback)
            .map(|l| l.index)
            .ok_or_else(|| err("no loopback device"))?;
        if let Some(d) = &opts.device
            && !links.iter().any(|l| &l.name == d)
        {
            return Err(err(format!("device {d} does not exist")));
        }
        let probe = probe::probe(&mut nl, opts.protocol, lo);
        let tunsrc = TunSrc::open();
        let mut modes = Vec::new();
        let dev = match &opts.device {
            Some(d) => format!("device {d}"),
            None => "the first non-loopback device that is up".to_string(),
        };
        if probe.dt6_table {
            modes.push(format!(
                "End.DT6 as seg6local End.DT6 with `table N` (legacy table mode), on {dev}"
            ));
        } else {
            modes.push(
                "End.DT6: the kernel refused seg6local End.DT6 (no seg6local support?)".to_string(),
            );
        }
        let vrfs: Vec<String> = links
            .iter()
            .filter_map(|l| l.vrf_table.map(|t| format!("{} (table {t})", l.name)))
            .collect();
        modes.push(format!(
            "End.DT4/End.DT46 as seg6local with `vrftable N` where a VRF device is bound to table N \
             (now: {}); otherwise as SRH decapsulation at a local address (a `local SID/128` route \
             in table local, no VRF), re-injected into the main table (table 254 only)",
            if vrfs.is_empty() { "none".to_string() } else { vrfs.join(", ") }
        ));
        let use_nh = nexthops && probe.nexthops.is_ok();
        if use_nh {
            modes.push(format!(
                "policies as seg6 encap nexthop objects (a weighted group for several segment \
                 lists; ids from {:#x}), recorded by `BSID/128 nhid N` routes in table {}; \
                 steering as `PREFIX nhid N` routes; protocol {}, metric {}",
                policies::ID_BASE,
                routes::BSID_TABLE,
                opts.protocol,
                routes::METRIC
            ));
        } else {
            if let (true, Err(e)) = (nexthops, &probe.nexthops) {
                modes.push(format!("no nexthop objects: {e}"));
            }
            if probe.b6_encaps {
                modes.push("policies as End.B6.Encaps routes at their binding SIDs (read back after a restart)".to_string());
            } else {
                modes
                    .push("policies kept in memory (the kernel refused End.B6.Encaps)".to_string());
            }
            modes.push(format!(
                "steering as `encap seg6 mode encap` routes (one nexthop per segment list, weights as \
                 nexthop weights) via the route to the first segment; protocol {}, metric {}",
                opts.protocol,
                routes::METRIC
            ));
        }
        let tunsrc = match tunsrc {
            Ok(t) => {
                modes.push(
                    "encapsulation source set with `ip sr tunsrc` (SEG6 generic netlink)"
                        .to_string(),
                );
                Some(t)
            }
            Err(e) => {
                modes.push(format!(
                    "encapsulation source not settable (no SEG6 generic netlink family: {}); the kernel picks it",
                    e.describe()
                ));
                None
            }
        };
        let (encap_source, source_rx) = watch::channel(None);
        let relay = if opts.pmtu_relay {
            match PmtuRelay::start(source_rx) {
                Ok(r) => {
                    modes.push(format!(
                        "PMTU relay: \"packet too big\" about encapsulated pod packets relayed to \
                         the pods (ICMPv4 fragmentation needed / ICMPv6 packet too big, at most \
                         {} a second; the encapsulation source must be an address of this node)",
                        pmtu_relay::RATE
                    ));
                    Some(r)
                }
                Err(e) => {
                    modes.push(e);
                    None
                }
            }
        } else {
            modes.push("PMTU relay off (dataplane.pmtu_relay = false)".to_string());
            None
        };
        let inner = Inner {
            nl,
            tunsrc,
            proto: opts.protocol,
            device: opts.device,
            probe,
            tables: BTreeSet::new(),
            steering_bsid: HashMap::new(),
            policies: BTreeMap::new(),
            nh: use_nh.then(policies::NhState::default),
            encap_source,
            relay_on: relay.is_some(),
        };
        Ok(KernelDataplane {
            inner: Arc::new(Mutex::new(inner)),
            caps: Capabilities {
                inline_policies: !use_nh,
                modes,
            },
            _relay: relay,
        })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Inner) -> T + Send + 'static,
    ) -> Result<T, DataplaneError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut g = inner.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut g)
        })
        .await
        .map_err(|e| err(format!("the kernel backend's worker failed: {e}")))
    }
}

impl Dataplane for KernelDataplane {
    fn name(&self) -> &'static str {
        "kernel"
    }

    fn capabilities(&self) -> Capabilities {
        self.caps.clone()
    }

    async fn read(&mut self) -> Result<DataplaneState, DataplaneError> {
        self.blocking(|i| i.read()).await?
    }

    async fn apply(&mut self, changes: &[Change]) -> Vec<Result<(), DataplaneError>> {
        let n = changes.len();
        let owned = changes.to_vec();
        match self.blocking(move |i| i.apply(&owned)).await {
            Ok(r) => r,
            Err(e) => vec![Err(e); n],
        }
    }
}

/// The name of a change's object, for errors.
fn what(c: &Change) -> String {
    match c {
        Change::SetEncapSource(a) => format!("encap source {a}"),
        Change::AddTable(t, _) => format!("table {t}"),
        Change::AddLocalSid(s) | Change::DelLocalSid(s) => format!("{} {}", s.behavior, s.sid),
        Change::AddUnderlay(r) | Change::DelUnderlay(r) => {
            format!("underlay {} via {}", r.prefix, r.via)
        }
        Change::AddPolicy(p) | Change::ModPolicy { new: p, .. } | Change::DelPolicy(p) => {
            format!("policy {}", p.bsid)
        }
        Change::SetSteering { steering: s, .. } | Change::DelSteering(s) => {
            format!("steering {} table {}", s.prefix, s.table)
        }
    }
}

/// A hint for a kernel error of a change.
fn hint(c: &Change, e: &NlError) -> &'static str {
    match (c, e.errno) {
        (Change::AddLocalSid(s), nl::EINVAL)
            if matches!(s.behavior, LocalBehavior::EndDt4 | LocalBehavior::EndDt46) =>
        {
            " (the kernel needs a VRF for End.DT4/End.DT46)"
        }
        _ => "",
    }
}

type Msg = NetlinkMessage<Req>;

fn new_route(m: RouteMessage) -> Msg {
    message(
        Req::Route(RouteNetlinkMessage::NewRoute(m)),
        NLM_F_CREATE | NLM_F_REPLACE,
    )
}

fn del_route(m: RouteMessage) -> Msg {
    message(Req::Route(RouteNetlinkMessage::DelRoute(m)), 0)
}

fn same_lists(a: &[SegmentList], b: &[SegmentList]) -> bool {
    match (a, b) {
        ([x], [y]) => x.segments == y.segments,
        _ => a == b,
    }
}

impl Inner {
    fn read(&mut self) -> Result<DataplaneState, DataplaneError> {
        let mut st = DataplaneState {
            tables: self.tables.clone(),
            ..Default::default()
        };
        if let Some(t) = self.tunsrc.as_mut() {
            st.encap_source = t
                .get()
                .map_err(|e| err(format!("cannot read the encap source: {}", e.describe())))?;
            self.note_encap_source(st.encap_source);
        }
        let nexthops = match self.nh {
            Some(_) => self
                .nl
                .request(nexthop::dump())
                .map_err(|e| err(format!("cannot dump the nexthops: {}", e.describe())))?
                .iter()
                .filter_map(nexthop::parse)
                .collect(),
            None => Vec::new(),
        };
        let mut nh_routes = Vec::new();
        let mut steering = Vec::new();
        for v6 in [false, true] {
            let replies = self
                .nl
                .request(message(
                    RouteNetlinkMessage::GetRoute(routes::dump(self.proto, v6)),
                    NLM_F_DUMP,
                ))
                .map_err(|e| err(format!("cannot dump the routes: {}", e.describe())))?;
            for r in replies {
                let RouteNetlinkMessage::NewRoute(m) = r else {
                    continue;
                };
                if u8::from(m.header.protocol) != self.proto {
                    continue;
                }
                let parsed = routes::parse(&m);
                if self.nh.is_some()
                    && matches!(
                        parsed,
                        Parsed::Policy(_)
                            | Parsed::Steering { .. }
                            | Parsed::SteeringNh { .. }
                            | Parsed::Bsid { .. }
                    )
                {
                    nh_routes.push(parsed);
                    continue;
                }
                match parsed {
                    Parsed::LocalSid(s) => st.add_local_sid(s),
                    Parsed::Policy(mut p) => {
                        if let Some(mem) = self.policies.get(&p.bsid)
                            && same_lists(&mem.segment_lists, &p.segment_lists)
                        {
                            p = mem.clone();
                        }
                        st.add_policy(p);
                    }
                    Parsed::Steering {
                        table,
                        prefix,
                        lists,
                    } => steering.push((table, prefix, lists)),
                    Parsed::Underlay(u) => st.add_underlay(u),
                    Parsed::Other | Parsed::SteeringNh { .. } | Parsed::Bsid { .. } => {
                        debug!(?m, "a route of sidra's protocol that sidra does not use")
                    }
                }
            }
        }
        if self.nh.is_some() {
            self.read_nexthops(&mut st, nexthops, nh_routes);
            return Ok(st);
        }
        if !self.probe.b6_encaps {
            for (b, p) in &self.policies {
                st.policies.insert(*b, p.clone());
            }
        }
        for (table, prefix, lists) in steering {
            let remembered = self
                .steering_bsid
                .get(&(table, prefix))
                .filter(|b| {
                    st.policies
                        .get(b)
                        .is_some_and(|p| same_lists(&p.segment_lists, &lists))
                })
                .copied();
            let bsid = remembered
                .or_else(|| {
                    st.policies
                        .values()
                        .find(|p| same_lists(&p.segment_lists, &lists))
                        .map(|p| p.bsid)
                })
                // No policy with these segments: reported as steering into `::`, which the
                // next diff replaces or removes.
                .unwrap_or(Ipv6Addr::UNSPECIFIED);
            st.add_steering(super::Steering {
                table,
                prefix,
                bsid,
            });
        }
        Ok(st)
    }

    /// Tell the PMTU relay the encapsulation source; warn when the kernel would not deliver
    /// the "packet too big" messages sent to it (not an address of this node).
    fn note_encap_source(&mut self, src: Option<Ipv6Addr>) {
        let changed = self.encap_source.send_if_modified(|cur| {
            let changed = *cur != src;
            *cur = src;
            changed
        });
        let Some(a) = src.filter(|_| changed && self.relay_on) else {
            return;
        };
        let local = self
            .nl
            .request(message(RouteNetlinkMessage::GetRoute(routes::lookup(a)), 0))
            .ok()
            .and_then(|r| match r.first() {
                Some(RouteNetlinkMessage::NewRoute(m)) => Some(routes::hop_of(m).2),
                _ => None,
            })
            .unwrap_or(false);
        if !local {
            warn!(
                "the encapsulation source {a} (srv6.source_address) is not an address of this \
                 node: the kernel drops the \"packet too big\" messages sent to it, so the PMTU \
                 relay cannot tell pods that their packets are too big for SRv6 (add the address \
                 to a device, e.g. `ip addr add {a}/128 dev lo`)"
            );
        }
    }

    fn seg6local_dev(&self, links: &[Link]) -> Result<u32, String> {
        match &self.device {
            Some(d) => links
                .iter()
                .find(|l| &l.name == d)
                .map(|l| l.index)
                .ok_or_else(|| format!("device {d} does not exist")),
            None => links
                .iter()
                .find(|l| l.up && !l.loopback && l.vrf_table.is_none())
                .map(|l| l.index)
                .ok_or_else(|| {
                    "no device for seg6local routes: no non-loopback device is up (set the kernel backend's device)"
                        .to_string()
                }),
        }
    }

    fn sid_mode(&self, s: &LocalSid, links: &[Link]) -> Result<SidMode, String> {
        let vrf = links.iter().find(|l| l.vrf_table == Some(s.table));
        match (s.behavior, vrf) {
            (LocalBehavior::EndDt6, _) if self.probe.dt6_table => Ok(SidMode::Dt6Table {
                oif: self.seg6local_dev(links)?,
            }),
            (_, Some(v)) => Ok(SidMode::VrfTable { oif: v.index }),
            (LocalBehavior::EndDt6, None) => Err(format!(
                "the kernel refused End.DT6 in table mode and has no VRF device for table {}",
                s.table
            )),
            (_, None) if s.table == MAIN_TABLE => {
                let lo = links
                    .iter()
                    .find(|l| l.loopback)
                    .map(|l| l.index)
                    .ok_or_else(|| "no loopback device".to_string())?;
                Ok(SidMode::LocalAddress { lo })
            }
            (b, None) => Err(format!(
                "no VRF device is bound to table {t}: without a VRF, {b} is SRH decapsulation at a \
                 local address, which can only look up the main table ({MAIN_TABLE})",
                t = s.table
            )),
        }
    }

    /// Where the kernel routes `seg` now.
    fn resolve(&mut self, seg: Ipv6Addr) -> Result<Hop, String> {
        let replies = self
            .nl
            .request(message(
                RouteNetlinkMessage::GetRoute(routes::lookup(seg)),
                0,
            ))
            .map_err(|e| {
                let hint = if e.errno == ENETUNREACH {
                    " (no underlay route to its locator)"
                } else {
                    ""
                };
                format!(
                    "no route to the first segment {seg}: {}{hint}",
                    e.describe()
                )
            })?;
        let Some(RouteNetlinkMessage::NewRoute(m)) = replies.first() else {
            return Err(format!("no route to the first segment {seg}"));
        };
        match routes::hop_of(m) {
            (_, _, true) => Err(format!(
                "the first segment {seg} is a local address of this node"
            )),
            (Some(oif), gateway, false) => Ok(Hop {
                oif,
                gateway,
                onlink: false,
            }),
            (None, _, false) => Err(format!(
                "the route to the first segment {seg} has no device"
            )),
        }
    }

    /// The nexthops of `p`'s segment lists (IPv6 multipath needs a gateway on each: an
    /// on-link first segment is its own gateway).
    fn hops(
        &mut self,
        p: &Policy,
        cache: &mut HashMap<Ipv6Addr, Result<Hop, String>>,
        v6: bool,
    ) -> Result<Vec<Hop>, String> {
        let multi = p.segment_lists.len() > 1;
        let mut out = Vec::with_capacity(p.segment_lists.len());
        for l in &p.segment_lists {
            let Some(first) = l.segments.first().copied() else {
                return Err(format!("policy {} has an empty segment list", p.bsid));
            };
            let hop = match cache.get(&first) {
                Some(h) => h.clone()?,
                None => {
                    let h = self.resolve(first);
                    cache.insert(first, h.clone());
                    h?
                }
            };
            let hop = if multi && v6 && hop.gateway.is_none() {
                Hop {
                    oif: hop.oif,
                    gateway: Some(first),
                    onlink: true,
                }
            } else {
                hop
            };
            out.push(hop);
        }
        Ok(out)
    }

    fn apply(&mut self, changes: &[Change]) -> Vec<Result<(), DataplaneError>> {
        let mut results: Vec<Option<Result<(), DataplaneError>>> = vec![None; changes.len()];
        let mut pending: Vec<(usize, Msg)> = Vec::new();
        let mut cache: HashMap<Ipv6Addr, Result<Hop, String>> = HashMap::new();
        // Routes changed since the lookups in `cache` were made.
        let mut dirty = true;
        let mut links: Option<Vec<Link>> = None;
        let nh_mode = self.nh.is_some();
        for (i, c) in changes.iter().enumerate() {
            let needs_lookup = match c {
                Change::AddPolicy(_) | Change::ModPolicy { .. } => nh_mode || self.probe.b6_encaps,
                Change::SetSteering { .. } => !nh_mode,
                _ => false,
            };
            if needs_lookup && dirty {
                self.flush(changes, &mut pending, &mut results);
                cache.clear();
                dirty = false;
            }
            let built: Result<Vec<Msg>, String> = match c {
                Change::SetEncapSource(a) => {
                    let r = match self.tunsrc.as_mut() {
                        Some(t) => t.set(*a).map_err(|e| e.describe()),
                        None => Err("the kernel has no SEG6 generic netlink family".to_string()),
                    };
                    if r.is_ok() {
                        self.note_encap_source(Some(*a));
                    }
                    r.map(|()| Vec::new())
                }
                Change::AddTable(t, v6) => {
                    self.tables.insert((*t, *v6));
                    Ok(Vec::new())
                }
                Change::AddLocalSid(s) | Change::DelLocalSid(s) => {
                    dirty = true;
                    if links.is_none() {
                        links = probe::links(&mut self.nl).ok();
                    }
                    let l = links.as_deref().unwrap_or(&[]);
                    let mode = self.sid_mode(s, l);
                    match (c, mode) {
                        (Change::AddLocalSid(_), Ok(mode)) => {
                            Ok(vec![new_route(routes::local_sid(self.proto, s, mode))])
                        }
                        (Change::AddLocalSid(_), Err(e)) => Err(e),
                        (_, mode) => {
                            let local = matches!(mode, Ok(SidMode::LocalAddress { .. }))
                                || (mode.is_err() && s.behavior != LocalBehavior::EndDt6);
                            Ok(vec![del_route(routes::local_sid_key(self.proto, s, local))])
                        }
                    }
                }
                Change::AddUnderlay(r) => {
                    dirty = true;
                    Ok(vec![new_route(routes::underlay(self.proto, r))])
                }
                Change::DelUnderlay(r) => {
                    dirty = true;
                    Ok(vec![del_route(routes::key(
                        self.proto,
                        IpNet::V6(r.prefix),
                        MAIN_TABLE,
                    ))])
                }
                Change::AddPolicy(p) | Change::ModPolicy { new: p, .. } if nh_mode => {
                    self.nh_set_policy(p, &mut cache)
                }
                Change::AddPolicy(p) | Change::ModPolicy { new: p, .. } => {
                    if self.probe.b6_encaps {
                        self.hops(p, &mut cache, true)
                            .and_then(|h| routes::policy(self.proto, p, &h))
                            .map(|m| vec![new_route(m)])
                    } else {
                        Ok(Vec::new())
                    }
                }
                Change::DelPolicy(p) if nh_mode => self.nh_del_policy(p),
                Change::DelPolicy(p) => {
                    if self.probe.b6_encaps {
                        Ok(vec![del_route(routes::key(
                            self.proto,
                            IpNet::V6(p.bsid.into()),
                            MAIN_TABLE,
                        ))])
                    } else {
                        Ok(Vec::new())
                    }
                }
                Change::SetSteering { steering, .. } if nh_mode => {
                    self.nh_steering(steering).map(|m| vec![m])
                }
                Change::SetSteering {
                    steering, policy, ..
                } => {
                    let v6 = matches!(steering.prefix, IpNet::V6(_));
                    self.hops(policy, &mut cache, v6)
                        .and_then(|h| routes::steering(self.proto, steering, policy, &h))
                        .map(|m| vec![new_route(m)])
                }
                Change::DelSteering(s) => {
                    self.nh_del_steering(s);
                    Ok(vec![del_route(routes::key(self.proto, s.prefix, s.table))])
                }
            };
            match built {
                Ok(msgs) if msgs.is_empty() => results[i] = Some(Ok(())),
                Ok(msgs) => pending.extend(msgs.into_iter().map(|m| (i, m))),
                Err(e) => results[i] = Some(Err(err(format!("{}: {e}", what(c))))),
            }
        }
        self.flush(changes, &mut pending, &mut results);
        let cleanup = self.nh_cleanup();
        if !cleanup.is_empty() {
            // Best effort: what fails is found again by the next read.
            let _ = self.nl.batch(cleanup);
        }
        let out: Vec<Result<(), DataplaneError>> = results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(err("not applied"))))
            .collect();
        for (c, r) in changes.iter().zip(&out) {
            match (c, r.is_ok()) {
                (Change::AddPolicy(p), false) if nh_mode => self.nh_forget(p.bsid),
                (_, false) => {}
                // The nexthop mode keeps its own state.
                _ if nh_mode => {}
                (Change::AddPolicy(p) | Change::ModPolicy { new: p, .. }, true) => {
                    self.policies.insert(p.bsid, p.clone());
                }
                (Change::DelPolicy(p), true) => {
                    self.policies.remove(&p.bsid);
                }
                (Change::SetSteering { steering: s, .. }, true) => {
                    self.steering_bsid.insert(s.key(), s.bsid);
                }
                (Change::DelSteering(s), true) => {
                    self.steering_bsid.remove(&s.key());
                }
                _ => {}
            }
        }
        out
    }

    /// Send the pending route messages and record their results.
    fn flush(
        &mut self,
        changes: &[Change],
        pending: &mut Vec<(usize, Msg)>,
        results: &mut [Option<Result<(), DataplaneError>>],
    ) {
        if pending.is_empty() {
            return;
        }
        let (idx, msgs): (Vec<usize>, Vec<Msg>) = std::mem::take(pending).into_iter().unzip();
        for (i, r) in idx.into_iter().zip(self.nl.batch(msgs)) {
            let c = &changes[i];
            // A change of several messages: the first failure stands.
            if matches!(results[i], Some(Err(_))) {
                continue;
            }
            results[i] = Some(match r {
                Ok(()) => Ok(()),
                // Already gone.
                Err(e) if c.removes() && (e.errno == ESRCH || e.errno == ENOENT) => Ok(()),
                Err(e) => Err(err(format!("{}: {}{}", what(c), e.describe(), hint(c, &e)))),
            });
        }
    }
}
