//! `[srv6]` (locators, services, pod CIDRs) and `[dataplane]` (where SRv6 state is programmed).
//!
//! ```toml
//! [srv6]
//! source_address = "fd00::1"              # outer source of every encapsulation (required
//!                                         # when a service is configured)
//! bsid_range = "fcff:0:1::/64"            # binding SIDs of the policies (default: function
//!                                         # 0xff00.. of the first locator)
//! underlay_prefixes = ["fc00::/16"]       # SIDs in these are reachable without a BGP route
//! advertise_locators = true               # locators as IPv6 unicast routes (default true)
//!
//! [[srv6.locators]]
//! name = "main"
//! prefix = "fc00:0:1:1::/64"              # block + node bits
//! block_len = 40                          # default 40; node_len = prefix length - block_len
//! function_len = 16                       # default 16
//! argument_len = 0                        # default 0
//!
//! [[srv6.services]]
//! name = "pods"
//! mode = "vpn"                            # "global" (RFC 9252 §5.3/5.4) or "vpn" (§5.1/5.2)
//! locator = "main"                        # default: the only locator
//! pods = ["10.1.1.0/24", "2001:db8:1:1::/64"]
//! table = 254                             # lookup table of the decapsulated packets
//! rd = "65000:1"                          # vpn: required
//! route_targets = ["65000:100"]           # vpn: import and export (or import_/export_route_targets)
//! transposition = true                    # vpn: function bits in the label (as FRR 8.4)
//! behavior = "dt4-dt6"                    # or "dt46" (one SID for both families)
//!
//! [dataplane]
//! backend = "kernel"                      # "kernel", "vpp" or "none"
//! kernel_protocol = 99                    # route protocol number of sidra's kernel routes
//! vpp_socket = "/run/vpp/api.sock"
//! underlay_routes = false                 # install learnt locator routes (kernel)
//! pmtu_relay = true                       # relay "packet too big" to pods (kernel; needs
//!                                         # CAP_NET_RAW and srv6.source_address on the node)
//! restart_hold = 60                       # seconds removals wait after a restart
//! ```

use std::net::{IpAddr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Duration;

use ipnet::{IpNet, Ipv6Net};
use srv6_sid::{Locator, SidStructure};

use super::ConfigErrors;
use super::walk::{Field, Node};
use crate::packet::attribute::community::ExtendedCommunity;
use crate::packet::nlri::RouteDistinguisher;

const SRV6_KEYS: &[&str] = &[
    "source_address",
    "bsid_range",
    "underlay_prefixes",
    "advertise_locators",
    "locators",
    "services",
];
const LOCATOR_KEYS: &[&str] = &[
    "name",
    "prefix",
    "block_len",
    "function_len",
    "argument_len",
];
const SERVICE_KEYS: &[&str] = &[
    "name",
    "mode",
    "locator",
    "pods",
    "table",
    "rd",
    "route_targets",
    "import_route_targets",
    "export_route_targets",
    "transposition",
    "behavior",
];
const DATAPLANE_KEYS: &[&str] = &[
    "backend",
    "kernel_protocol",
    "vpp_socket",
    "underlay_routes",
    "restart_hold",
    "pmtu_relay",
];

/// `[srv6]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Srv6Config {
    pub source_address: Option<Ipv6Addr>,
    pub bsid_range: Option<Ipv6Net>,
    pub underlay_prefixes: Vec<Ipv6Net>,
    pub advertise_locators: bool,
    pub locators: Vec<LocatorConfig>,
    pub services: Vec<ServiceConfig>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocatorConfig {
    pub name: String,
    pub locator: Locator,
}

/// How a service's pod CIDRs are advertised (RFC 9252 §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceMode {
    /// IPv4/IPv6 unicast with a Prefix-SID (§5.3/§5.4), as GoBGP sends them.
    Global,
    /// VPNv4/VPNv6 with RD and route targets (§5.1/§5.2), as FRR sends them.
    Vpn,
}

impl ServiceMode {
    pub const fn name(self) -> &'static str {
        match self {
            ServiceMode::Global => "global",
            ServiceMode::Vpn => "vpn",
        }
    }
}

/// Which decapsulation SIDs a service gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceBehavior {
    /// One End.DT4 and one End.DT6 SID (VPP has no End.DT46).
    Dt4Dt6,
    /// One End.DT46 SID for both families.
    Dt46,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceConfig {
    pub name: String,
    pub mode: ServiceMode,
    /// Index into [`Srv6Config::locators`].
    pub locator: usize,
    pub pods: Vec<IpNet>,
    pub table: u32,
    pub rd: Option<RouteDistinguisher>,
    pub import_route_targets: Vec<ExtendedCommunity>,
    pub export_route_targets: Vec<ExtendedCommunity>,
    pub transposition: bool,
    pub behavior: ServiceBehavior,
}

/// `[dataplane] backend`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    None,
    Kernel,
    Vpp,
}

/// `[dataplane]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataplaneConfig {
    pub backend: Backend,
    pub kernel_protocol: u8,
    pub vpp_socket: PathBuf,
    pub underlay_routes: bool,
    pub restart_hold: Duration,
    /// The kernel backend's PMTU relay: the kernel's "packet too big" about an encapsulated
    /// pod packet becomes the ICMP error the pod should have got (default on).
    pub pmtu_relay: bool,
}

pub const DEFAULT_KERNEL_PROTOCOL: u8 = 99;
pub const DEFAULT_VPP_SOCKET: &str = "/run/vpp/api.sock";

impl Default for DataplaneConfig {
    fn default() -> Self {
        DataplaneConfig {
            backend: Backend::None,
            kernel_protocol: DEFAULT_KERNEL_PROTOCOL,
            vpp_socket: PathBuf::from(DEFAULT_VPP_SOCKET),
            underlay_routes: false,
            restart_hold: Duration::from_secs(60),
            pmtu_relay: true,
        }
    }
}

pub(super) fn read_srv6(node: &Node<'_>, errs: &mut ConfigErrors) -> Srv6Config {
    let mut c = Srv6Config {
        advertise_locators: true,
        ..Default::default()
    };
    let mut services = Vec::new();
    for entry in node.table("a table ([srv6])", errs).unwrap_or_default() {
        match entry.name() {
            "source_address" => {
                c.source_address = entry.string(errs).and_then(|f| ipv6(&f, errs));
            }
            "bsid_range" => c.bsid_range = entry.string(errs).and_then(|f| ipv6_net(&f, errs)),
            "underlay_prefixes" => {
                if let Some(list) = entry.strings(errs) {
                    c.underlay_prefixes = list
                        .value
                        .iter()
                        .filter_map(|f| ipv6_net(f, errs))
                        .collect();
                }
            }
            "advertise_locators" => {
                if let Some(f) = entry.boolean(errs) {
                    c.advertise_locators = f.value;
                }
            }
            "locators" => {
                for l in entry
                    .array("an array of tables ([[srv6.locators]])", errs)
                    .unwrap_or_default()
                {
                    if let Some(l) = read_locator(&l, errs) {
                        if c.locators.iter().any(|o: &LocatorConfig| o.name == l.name) {
                            errs.push(
                                format!("{}.name", l_key(&entry, c.locators.len())),
                                format!("locator {:?} is defined twice", l.name),
                            );
                        }
                        c.locators.push(l);
                    }
                }
            }
            "services" => {
                services = entry
                    .array("an array of tables ([[srv6.services]])", errs)
                    .unwrap_or_default();
            }
            _ => entry.unknown(SRV6_KEYS, errs),
        }
    }
    for s in &services {
        if let Some(s) = read_service(s, &c.locators, errs) {
            c.services.push(s);
        }
    }
    if !services.is_empty() && c.source_address.is_none() {
        errs.push(
            format!("{}.source_address", node.key),
            "missing (required when srv6.services are configured: the outer source address of the encapsulation)",
        );
    }
    check_overlaps(&c, &node.key, errs);
    c
}

fn l_key(entry: &Node<'_>, i: usize) -> String {
    format!("{}[{i}]", entry.key)
}

fn read_locator(node: &Node<'_>, errs: &mut ConfigErrors) -> Option<LocatorConfig> {
    let (mut name, mut prefix) = (None, None);
    let (mut block, mut function, mut argument) = (None, None, None);
    for e in node.table("a table", errs)? {
        match e.name() {
            "name" => name = e.string(errs),
            "prefix" => {
                prefix = e
                    .string(errs)
                    .and_then(|f| ipv6_net(&f, errs).map(|n| (n, f)))
            }
            "block_len" => block = e.int(errs).and_then(|f| bits(f, 1, 120, errs)),
            "function_len" => function = e.int(errs).and_then(|f| bits(f, 1, 64, errs)),
            "argument_len" => argument = e.int(errs).and_then(|f| bits(f, 0, 64, errs)),
            _ => e.unknown(LOCATOR_KEYS, errs),
        }
    }
    let at = |k: &str| format!("{}.{k}", node.key);
    let Some(name) = name else {
        errs.push(at("name"), "missing (required)");
        return None;
    };
    let Some((prefix, pf)) = prefix else {
        if errs.for_key(&at("prefix")).next().is_none() {
            errs.push(at("prefix"), "missing (required, e.g. \"fc00:0:1:1::/64\")");
        }
        return None;
    };
    let block_len = block.map(|f| f.value).unwrap_or(40);
    let Some(node_len) = prefix.prefix_len().checked_sub(block_len) else {
        errs.push(
            at("block_len"),
            format!(
                "{block_len} is longer than the locator prefix /{}",
                prefix.prefix_len()
            ),
        );
        return None;
    };
    let structure = SidStructure {
        block_len,
        node_len,
        function_len: function.map(|f| f.value).unwrap_or(16),
        argument_len: argument.map(|f| f.value).unwrap_or(0),
    };
    match Locator::new(prefix, structure) {
        Ok(locator) => Some(LocatorConfig {
            name: name.value,
            locator,
        }),
        Err(e) => {
            pf.problem(
                errs,
                format!(
                    "is not a valid locator with structure {block_len}/{node_len}/{}/{}: {e}",
                    structure.function_len, structure.argument_len
                ),
            );
            None
        }
    }
}

fn read_service(
    node: &Node<'_>,
    locators: &[LocatorConfig],
    errs: &mut ConfigErrors,
) -> Option<ServiceConfig> {
    let before = errs.len();
    let (mut name, mut mode, mut locator, mut pods) = (None, None, None, Vec::new());
    let (mut table, mut rd, mut transposition, mut behavior) =
        (254, None, true, ServiceBehavior::Dt4Dt6);
    let (mut both, mut import, mut export) = (None, None, None);
    for e in node.table("a table", errs)? {
        match e.name() {
            "name" => name = e.string(errs).map(|f| f.value),
            "mode" => {
                if let Some(f) = e.string(errs) {
                    match f.value.as_str() {
                        "global" => mode = Some(ServiceMode::Global),
                        "vpn" => mode = Some(ServiceMode::Vpn),
                        other => {
                            f.problem(errs, format!("{other:?} is not a mode (global or vpn)"))
                        }
                    }
                }
            }
            "locator" => {
                if let Some(f) = e.string(errs) {
                    match locators.iter().position(|l| l.name == f.value) {
                        Some(i) => locator = Some(i),
                        None => f.problem(
                            errs,
                            format!("no locator named {:?} in srv6.locators", f.value),
                        ),
                    }
                }
            }
            "pods" => {
                if let Some(list) = e.strings(errs)
                    && let Some(nets) = super::resolve::networks_of(list, errs)
                {
                    pods = nets.value;
                }
            }
            "table" => {
                if let Some(f) = e.int(errs) {
                    match u32::try_from(f.value) {
                        Ok(t) if t > 0 => table = t,
                        _ => f.problem(
                            errs,
                            format!("{} is not a table id (1..=4294967295)", f.value),
                        ),
                    }
                }
            }
            "rd" => {
                if let Some(f) = e.string(errs) {
                    match RouteDistinguisher::parse(&f.value) {
                        Some(r) => rd = Some(r),
                        None => f.problem(
                            errs,
                            format!(
                                "{:?} is not a route distinguisher (ASN:N or A.B.C.D:N)",
                                f.value
                            ),
                        ),
                    }
                }
            }
            "route_targets" => both = e.strings(errs).map(|l| route_targets(l, errs)),
            "import_route_targets" => import = e.strings(errs).map(|l| route_targets(l, errs)),
            "export_route_targets" => export = e.strings(errs).map(|l| route_targets(l, errs)),
            "transposition" => {
                if let Some(f) = e.boolean(errs) {
                    transposition = f.value;
                }
            }
            "behavior" => {
                if let Some(f) = e.string(errs) {
                    match f.value.as_str() {
                        "dt4-dt6" => behavior = ServiceBehavior::Dt4Dt6,
                        "dt46" => behavior = ServiceBehavior::Dt46,
                        other => f.problem(
                            errs,
                            format!("{other:?} is not a behavior (dt4-dt6 or dt46)"),
                        ),
                    }
                }
            }
            _ => e.unknown(SERVICE_KEYS, errs),
        }
    }
    let at = |k: &str| format!("{}.{k}", node.key);
    let name = name.unwrap_or_else(|| {
        errs.push(at("name"), "missing (required)");
        String::new()
    });
    let Some(mode) = mode else {
        if errs.for_key(&at("mode")).next().is_none() {
            errs.push(at("mode"), "missing (required: global or vpn)");
        }
        return None;
    };
    let locator = match (locator, locators.len()) {
        (Some(i), _) => i,
        (None, 1) => 0,
        (None, 0) => {
            errs.push(at("locator"), "no (valid) srv6.locators are configured");
            return None;
        }
        (None, _) => {
            if errs.for_key(&at("locator")).next().is_none() {
                errs.push(
                    at("locator"),
                    "missing (required when there are several locators)",
                );
            }
            return None;
        }
    };
    let import_route_targets = import.or_else(|| both.clone()).unwrap_or_default();
    let export_route_targets = export.or(both).unwrap_or_default();
    if mode == ServiceMode::Vpn {
        if rd.is_none() && errs.for_key(&at("rd")).next().is_none() {
            errs.push(at("rd"), "missing (required in vpn mode)");
        }
        if import_route_targets.is_empty() && export_route_targets.is_empty() {
            errs.push(
                at("route_targets"),
                "missing (vpn mode needs route targets to import and export)",
            );
        }
    }
    (errs.len() == before).then_some(ServiceConfig {
        name,
        mode,
        locator,
        pods,
        table,
        rd,
        import_route_targets,
        export_route_targets,
        transposition,
        behavior,
    })
}

fn route_targets(
    list: Field<Vec<Field<String>>>,
    errs: &mut ConfigErrors,
) -> Vec<ExtendedCommunity> {
    let mut out = Vec::new();
    for f in &list.value {
        let text = f.value.trim();
        let with_type = if text.starts_with("rt:") {
            text.to_string()
        } else {
            format!("rt:{text}")
        };
        match crate::policy::community::parse_ext_community(&with_type) {
            Ok(c) => out.push(c),
            Err(_) => f.problem(
                errs,
                format!("{text:?} is not a route target (ASN:N or A.B.C.D:N)"),
            ),
        }
    }
    out
}

/// Two services must not share pods, and a locator must not overlap another.
fn check_overlaps(c: &Srv6Config, key: &str, errs: &mut ConfigErrors) {
    for (i, a) in c.locators.iter().enumerate() {
        for b in &c.locators[..i] {
            let (pa, pb) = (a.locator.prefix(), b.locator.prefix());
            if pa.contains(&pb) || pb.contains(&pa) {
                errs.push(
                    format!("{key}.locators[{i}].prefix"),
                    format!("{pa} overlaps locator {:?} ({pb})", b.name),
                );
            }
        }
    }
    let mut seen: Vec<(IpNet, &str)> = Vec::new();
    for (i, s) in c.services.iter().enumerate() {
        for p in &s.pods {
            if let Some((q, other)) = seen.iter().find(|(q, _)| q.contains(p) || p.contains(q)) {
                errs.push(
                    format!("{key}.services[{i}].pods"),
                    format!("{p} overlaps {q} of service {other:?}"),
                );
            }
        }
        seen.extend(s.pods.iter().map(|p| (*p, s.name.as_str())));
    }
}

pub(super) fn read_dataplane(node: &Node<'_>, errs: &mut ConfigErrors) -> DataplaneConfig {
    let mut d = DataplaneConfig::default();
    for e in node
        .table("a table ([dataplane])", errs)
        .unwrap_or_default()
    {
        match e.name() {
            "backend" => {
                if let Some(f) = e.string(errs) {
                    match f.value.as_str() {
                        "none" => d.backend = Backend::None,
                        "kernel" => d.backend = Backend::Kernel,
                        "vpp" => d.backend = Backend::Vpp,
                        other => f.problem(
                            errs,
                            format!("{other:?} is not a backend (kernel, vpp or none)"),
                        ),
                    }
                }
            }
            "kernel_protocol" => {
                if let Some(f) = e.int(errs) {
                    match u8::try_from(f.value) {
                        // 0-4 are the kernel's own (unspec, redirect, kernel, boot, static).
                        Ok(p) if p > 4 => d.kernel_protocol = p,
                        _ => f.problem(
                            errs,
                            format!("{} is not a free route protocol number (5..=255)", f.value),
                        ),
                    }
                }
            }
            "vpp_socket" => {
                if let Some(f) = e.string(errs) {
                    d.vpp_socket = PathBuf::from(f.value);
                }
            }
            "underlay_routes" => {
                if let Some(f) = e.boolean(errs) {
                    d.underlay_routes = f.value;
                }
            }
            "pmtu_relay" => {
                if let Some(f) = e.boolean(errs) {
                    d.pmtu_relay = f.value;
                }
            }
            "restart_hold" => {
                if let Some(f) = e.int(errs) {
                    match u64::try_from(f.value) {
                        Ok(s) if s <= 3600 => d.restart_hold = Duration::from_secs(s),
                        _ => f.problem(
                            errs,
                            format!("{} is not allowed (0..=3600 seconds)", f.value),
                        ),
                    }
                }
            }
            _ => e.unknown(DATAPLANE_KEYS, errs),
        }
    }
    d
}

fn ipv6(f: &Field<String>, errs: &mut ConfigErrors) -> Option<Ipv6Addr> {
    match f.value.trim().parse::<IpAddr>() {
        Ok(IpAddr::V6(a)) => Some(a),
        _ => {
            f.problem(errs, format!("{:?} is not an IPv6 address", f.value));
            None
        }
    }
}

fn ipv6_net(f: &Field<String>, errs: &mut ConfigErrors) -> Option<Ipv6Net> {
    match f.value.trim().parse::<Ipv6Net>() {
        Ok(n) if n.trunc() == n => Some(n),
        Ok(n) => {
            f.problem(
                errs,
                format!("{n} has host bits set (did you mean {}?)", n.trunc()),
            );
            None
        }
        Err(_) => {
            f.problem(
                errs,
                format!("{:?} is not an IPv6 prefix like fc00:0:1::/48", f.value),
            );
            None
        }
    }
}

fn bits(f: Field<i64>, min: u8, max: u8, errs: &mut ConfigErrors) -> Option<Field<u8>> {
    match u8::try_from(f.value) {
        Ok(b) if (min..=max).contains(&b) => Some(f.map(|_| b)),
        _ => {
            f.problem(
                errs,
                format!("{} is not allowed ({min}..={max} bits)", f.value),
            );
            None
        }
    }
}
