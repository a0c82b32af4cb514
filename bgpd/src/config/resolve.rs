//! From the merged tree to a [`Config`]: the sections, the neighbor groups, and each neighbor
//! with its group and the defaults merged in and the checks that span several settings.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use super::policy::Defined;
use super::settings::{self, Settings};
use super::walk::{Field, Node};
use super::{
    AddPathMode, Config, ConfigErrors, GlobalConfig, MaxPrefixesAction, NeighborConfig, defaults,
};

const SECTIONS: &[&str] = &[
    "global",
    "neighbor_groups",
    "neighbors",
    "policies",
    "prefix_lists",
    "api",
    "metrics",
    "srv6",
    "dataplane",
];
const GLOBAL_KEYS: &[&str] = &[
    "asn",
    "router_id",
    "listen",
    "cluster_id",
    "networks",
    "ebgp_requires_policy",
    "always_compare_med",
    "multipath",
];

/// Read and check the whole tree; `None` if any problem was reported.
///
/// The sections are read definitions first: global, prefix lists, policies, neighbor groups,
/// neighbors.
pub(super) fn config(root: &Node<'_>, errs: &mut ConfigErrors) -> Option<Config> {
    let before = errs.len();
    let mut global = None;
    let (mut groups, mut neighbors, mut lists, mut policies) = (None, Vec::new(), None, None);
    let mut saw_global = false;
    let (mut api, mut metrics) = (Default::default(), Default::default());
    let (mut srv6, mut dataplane) = (Default::default(), Default::default());
    for section in root.table("a table", errs).unwrap_or_default() {
        match section.name() {
            "global" => {
                saw_global = true;
                global = read_global(&section, errs);
            }
            "neighbor_groups" => groups = Some(section),
            "neighbors" => {
                neighbors = section
                    .array("an array of tables ([[neighbors]])", errs)
                    .unwrap_or_default()
            }
            "prefix_lists" => lists = Some(section),
            "policies" => policies = Some(section),
            "api" => api = super::api::read_api(&section, errs),
            "metrics" => metrics = super::api::read_metrics(&section, errs),
            "srv6" => srv6 = super::srv6::read_srv6(&section, errs),
            "dataplane" => dataplane = super::srv6::read_dataplane(&section, errs),
            _ => section.unknown(SECTIONS, errs),
        }
    }
    if !saw_global {
        errs.push("global.asn", "missing (required)");
        errs.push("global.router_id", "missing (required)");
    }
    let defined = Defined::read(lists.as_ref(), policies.as_ref(), errs);
    let groups = match &groups {
        Some(node) => read_groups(node, &defined, errs),
        None => BTreeMap::new(),
    };
    let neighbors = read_neighbors(&neighbors, &groups, global.as_ref(), &defined, errs);
    match global {
        Some(global) if errs.len() == before => Some(Config {
            global,
            neighbors,
            policies: Arc::new(defined.policies),
            api,
            metrics,
            srv6,
            dataplane,
        }),
        _ => None,
    }
}

fn read_global(node: &Node<'_>, errs: &mut ConfigErrors) -> Option<GlobalConfig> {
    let (mut asn, mut router_id, mut listen, mut cluster_id) = (None, None, None, None);
    let (mut networks, mut ebgp_requires_policy) = (None, None);
    let (mut always_compare_med, mut multipath) = (None, None);
    for entry in node.table("a table ([global])", errs)? {
        match entry.name() {
            "asn" => asn = entry.int(errs).and_then(|f| settings::asn(f, errs)),
            "router_id" => router_id = entry.string(errs).and_then(|f| router_id_of(f, errs)),
            "listen" => listen = entry.strings(errs).and_then(|f| listen_of(f, errs)),
            "cluster_id" => cluster_id = entry.string(errs).and_then(|f| router_id_of(f, errs)),
            "networks" => networks = entry.strings(errs).and_then(|f| networks_of(f, errs)),
            "ebgp_requires_policy" => ebgp_requires_policy = entry.boolean(errs),
            "always_compare_med" => always_compare_med = entry.boolean(errs),
            "multipath" => multipath = entry.boolean(errs),
            _ => entry.unknown(GLOBAL_KEYS, errs),
        }
    }
    let required = "missing (required)";
    missing(&node.key, "asn", asn.is_none(), required, errs);
    missing(&node.key, "router_id", router_id.is_none(), required, errs);
    Some(GlobalConfig {
        asn: asn?.value,
        router_id: router_id?.value,
        listen: match listen {
            Some(f) => f.value,
            None => defaults::listen(),
        },
        cluster_id: cluster_id.map(|f| f.value),
        networks: networks.map(|f| f.value).unwrap_or_default(),
        ebgp_requires_policy: ebgp_requires_policy.is_none_or(|f| f.value),
        always_compare_med: always_compare_med.is_some_and(|f| f.value),
        multipath: multipath.is_some_and(|f| f.value),
    })
}

/// Report `parent.name` as missing, unless a problem with its value was already reported.
fn missing(parent: &str, name: &str, is_missing: bool, problem: &str, errs: &mut ConfigErrors) {
    let key = format!("{parent}.{name}");
    if is_missing && errs.for_key(&key).next().is_none() {
        errs.push(key, problem);
    }
}

fn router_id_of(f: Field<String>, errs: &mut ConfigErrors) -> Option<Field<Ipv4Addr>> {
    match f.value.trim().parse::<Ipv4Addr>() {
        Ok(id) if id.is_unspecified() => {
            f.problem(
                errs,
                "0.0.0.0 is not allowed (RFC 6286: the BGP Identifier is non-zero)",
            );
            None
        }
        Ok(id) => Some(f.map(|_| id)),
        Err(_) => {
            f.problem(errs, format!("{:?} is not an IPv4 address", f.value));
            None
        }
    }
}

/// Prefixes to originate: `10.1.0.0/24`, `2001:db8:1::/48` (host bits must be zero).
pub(super) fn networks_of(
    f: Field<Vec<Field<String>>>,
    errs: &mut ConfigErrors,
) -> Option<Field<Vec<ipnet::IpNet>>> {
    let mut out = Vec::new();
    let mut ok = true;
    for item in &f.value {
        match item.value.trim().parse::<ipnet::IpNet>() {
            Ok(net) if net.trunc() == net => out.push(net),
            Ok(net) => {
                item.problem(
                    errs,
                    format!("{net} has host bits set (did you mean {}?)", net.trunc()),
                );
                ok = false;
            }
            Err(_) => {
                item.problem(
                    errs,
                    format!(
                        "{:?} is not a prefix like 10.1.0.0/24 or 2001:db8::/48",
                        item.value
                    ),
                );
                ok = false;
            }
        }
    }
    ok.then(|| f.map(|_| out))
}

fn listen_of(
    f: Field<Vec<Field<String>>>,
    errs: &mut ConfigErrors,
) -> Option<Field<Vec<SocketAddr>>> {
    let mut out: Vec<SocketAddr> = Vec::new();
    let mut ok = true;
    for item in &f.value {
        match item.value.trim().parse::<SocketAddr>() {
            Ok(addr) if out.contains(&addr) => {
                item.problem(errs, format!("{addr} is listed twice"));
                ok = false;
            }
            Ok(addr) => out.push(addr),
            Err(_) => {
                let problem = format!(
                    "{:?} is not a socket address (e.g. \"[::]:179\" or \"0.0.0.0:179\")",
                    item.value
                );
                item.problem(errs, problem);
                ok = false;
            }
        }
    }
    ok.then(|| f.map(|_| out))
}

fn read_groups(
    node: &Node<'_>,
    defined: &Defined,
    errs: &mut ConfigErrors,
) -> BTreeMap<String, Settings> {
    let mut groups = BTreeMap::new();
    for group in node
        .table("a table of neighbor groups", errs)
        .unwrap_or_default()
    {
        let mut s = Settings::default();
        for entry in group
            .table("a table ([neighbor_groups.NAME])", errs)
            .unwrap_or_default()
        {
            if NEIGHBOR_ONLY_KEYS.contains(&entry.name()) {
                errs.push(
                    entry.key.clone(),
                    "is not allowed in a neighbor group (set it on each [[neighbors]] entry)",
                );
            } else if !s.read(&entry, errs) {
                entry.unknown(Settings::KEYS, errs);
            }
        }
        check_pairs(&group.key, &s, errs);
        defined.check_refs(&s, errs);
        groups.insert(group.name().to_owned(), s);
    }
    groups
}

const NEIGHBOR_ONLY_KEYS: &[&str] = &["address", "group"];

fn read_neighbors(
    nodes: &[Node<'_>],
    groups: &BTreeMap<String, Settings>,
    global: Option<&GlobalConfig>,
    defined: &Defined,
    errs: &mut ConfigErrors,
) -> Vec<NeighborConfig> {
    let mut seen: HashMap<IpAddr, &str> = HashMap::new();
    let mut out = Vec::new();
    for node in nodes {
        let Some((address, group, s)) = read_neighbor(node, groups, defined, errs) else {
            continue;
        };
        if let Some(first) = seen.get(&address.value) {
            let problem = format!("{} is configured twice (also {first})", address.value);
            address.problem(errs, problem);
            continue;
        }
        seen.insert(address.value, &node.key);
        if let Some(n) = global.and_then(|g| neighbor(address.value, group, &s, g, defined)) {
            out.push(n);
        }
    }
    out
}

/// One neighbor, merged with its group, and the checks that need nothing else. `None` without
/// an address.
fn read_neighbor(
    node: &Node<'_>,
    groups: &BTreeMap<String, Settings>,
    defined: &Defined,
    errs: &mut ConfigErrors,
) -> Option<(Field<IpAddr>, Option<String>, Settings)> {
    let known: Vec<&str> = NEIGHBOR_ONLY_KEYS
        .iter()
        .chain(Settings::KEYS)
        .copied()
        .collect();
    let (mut address, mut group, mut own) = (None, None, Settings::default());
    for entry in node.table("a table ([[neighbors]])", errs)? {
        match entry.name() {
            "address" => address = entry.string(errs).and_then(|f| settings::ip(f, errs)),
            "group" => group = entry.string(errs),
            _ if own.read(&entry, errs) => {}
            _ => entry.unknown(&known, errs),
        }
    }
    // The group's own references were checked with the group.
    defined.check_refs(&own, errs);
    let none = Settings::default();
    let (group_settings, group_ok) = match &group {
        Some(g) => match groups.get(&g.value) {
            Some(s) => {
                let key = format!("neighbor_groups.{}.remote_as", g.value);
                (s, errs.for_key(&key).next().is_none())
            }
            None => {
                g.problem(errs, format!("no neighbor group named {:?}", g.value));
                (&none, false)
            }
        },
        None => (&none, true),
    };
    let s = own.over(group_settings);
    check_pairs(&node.key, &own_or_pairs(&own, &s), errs);
    let required = "missing (required)";
    missing(&node.key, "address", address.is_none(), required, errs);
    let problem = match &group {
        Some(g) => format!("missing (set it here or in neighbor group {:?})", g.value),
        None => "missing (required; set it here or in a neighbor group)".to_owned(),
    };
    let no_remote_as = s.remote_as.is_none() && group_ok;
    missing(&node.key, "remote_as", no_remote_as, &problem, errs);
    let address = address?;
    if let Some(local) = &s.local_address
        && local.value.is_ipv4() != address.value.is_ipv4()
    {
        let problem = format!(
            "{} is {} but {} {} is {}",
            local.value,
            family_name(local.value),
            address.key,
            address.value,
            family_name(address.value),
        );
        local.problem(errs, problem);
    }
    Some((address, group.map(|g| g.value), s))
}

fn family_name(a: IpAddr) -> &'static str {
    if a.is_ipv4() { "IPv4" } else { "IPv6" }
}

/// The merged settings, restricted to the pairs in which this neighbor sets at least one side:
/// a pair set entirely in the group was already checked there.
fn own_or_pairs(own: &Settings, merged: &Settings) -> Settings {
    let mut s = Settings::default();
    if own.keepalive.is_some() || own.hold_time.is_some() {
        s.keepalive = merged.keepalive.clone();
        s.hold_time = merged.hold_time.clone();
    }
    if own.idle_hold.is_some() || own.max_idle_hold.is_some() {
        s.idle_hold = merged.idle_hold.clone();
        s.max_idle_hold = merged.max_idle_hold.clone();
    }
    s
}

/// The checks between two settings, with defaults for the unset side. The problem is reported
/// at the key written in `here` (the keepalive or idle_hold if both are), naming the other.
fn check_pairs(here: &str, s: &Settings, errs: &mut ConfigErrors) {
    let local = |f: &Field<u16>| f.key.starts_with(&format!("{here}."));
    let other = |f: Option<&Field<u16>>, default: u16| match f {
        Some(f) if local(f) => format!("{}", f.value),
        Some(f) => format!("{} ({})", f.value, f.key),
        None => format!("{default} (default)"),
    };
    let hold = s
        .hold_time
        .as_ref()
        .map_or(defaults::HOLD_TIME, |f| f.value);
    if let Some(k) = &s.keepalive
        && hold != 0
        && k.value > hold / 3
    {
        match &s.hold_time {
            Some(h) if !local(k) => {
                let problem = format!(
                    "{} is too short for keepalive {} ({}): must be 0 or at least {}",
                    h.value,
                    k.value,
                    k.key,
                    u32::from(k.value) * 3
                );
                h.problem(errs, problem);
            }
            h => {
                let hold_text = other(h.as_ref(), defaults::HOLD_TIME);
                let problem = format!(
                    "{} is not allowed (must be at most a third of hold_time {hold_text}: 1..={})",
                    k.value,
                    hold / 3
                );
                k.problem(errs, problem);
            }
        }
    }
    let idle = s
        .idle_hold
        .as_ref()
        .map_or(defaults::IDLE_HOLD, |f| f.value);
    if let Some(m) = &s.max_idle_hold
        && m.value < idle
    {
        match &s.idle_hold {
            Some(i) if !local(m) => {
                let problem = format!(
                    "{} is more than max_idle_hold {}",
                    i.value,
                    other(Some(m), 0)
                );
                i.problem(errs, problem);
            }
            i => {
                let idle_text = other(i.as_ref(), defaults::IDLE_HOLD);
                m.problem(
                    errs,
                    format!("{} is less than idle_hold {idle_text}", m.value),
                );
            }
        }
    }
}

/// The resolved neighbor, with the defaults for what neither it nor its group sets.
fn neighbor(
    address: IpAddr,
    group: Option<String>,
    s: &Settings,
    global: &GlobalConfig,
    defined: &Defined,
) -> Option<NeighborConfig> {
    fn get<T: Clone>(f: &Option<Field<T>>, default: T) -> T {
        f.as_ref().map_or(default, |f| f.value.clone())
    }
    let idle_hold = get(&s.idle_hold, defaults::IDLE_HOLD);
    Some(NeighborConfig {
        address,
        remote_as: s.remote_as.as_ref()?.value,
        local_as: global.asn,
        router_id: global.router_id,
        hold_time: get(&s.hold_time, defaults::HOLD_TIME),
        keepalive: s.keepalive.as_ref().map(|f| f.value),
        connect_retry: secs(get(&s.connect_retry, defaults::CONNECT_RETRY)),
        delay_open: s
            .delay_open
            .as_ref()
            .filter(|f| f.value != 0)
            .map(|f| secs(f.value)),
        idle_hold: secs(idle_hold),
        max_idle_hold: secs(get(
            &s.max_idle_hold,
            defaults::MAX_IDLE_HOLD.max(idle_hold),
        )),
        families: get(&s.families, defaults::families()),
        passive: get(&s.passive, false),
        password: s.password.as_ref().map(|f| f.value.clone()),
        ttl_security: s.ttl_security.as_ref().map(|f| f.value),
        local_address: s.local_address.as_ref().map(|f| f.value),
        port: get(&s.port, defaults::PORT),
        description: s.description.as_ref().map(|f| f.value.clone()),
        extended_nexthop: get(&s.extended_nexthop, true),
        add_path: get(&s.add_path, AddPathMode::None),
        graceful_restart: get(&s.graceful_restart, true),
        restart_time: get(&s.restart_time, defaults::RESTART_TIME),
        long_lived_stale_time: get(&s.long_lived_stale_time, 0),
        advertisement_interval: Duration::from_secs(u64::from(get(&s.advertisement_interval, 0))),
        required_capabilities: get(&s.required_capabilities, Vec::new()),
        shutdown: get(&s.shutdown, false),
        route_reflector_client: get(&s.route_reflector_client, false),
        import_policy: s.import_policy.as_ref().and_then(|f| defined.get(&f.value)),
        export_policy: s.export_policy.as_ref().and_then(|f| defined.get(&f.value)),
        max_prefixes: s.max_prefixes.as_ref().map(|f| f.value),
        max_prefixes_action: get(&s.max_prefixes_action, MaxPrefixesAction::default()),
        soft_reconfiguration_inbound: get(&s.soft_reconfiguration_inbound, false),
        group,
    })
}

fn secs(s: u16) -> Duration {
    Duration::from_secs(u64::from(s))
}
