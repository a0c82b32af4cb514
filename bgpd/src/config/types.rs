//! The resolved configuration the daemon runs on.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::packet::Family;
use crate::packet::capability::{self, Capability, code};
use crate::policy::{Policies, Policy};

/// A checked configuration: every neighbor has its group's values and the defaults merged in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub global: GlobalConfig,
    /// In the order of the file; addresses are unique.
    pub neighbors: Vec<NeighborConfig>,
    /// Every policy and prefix list (`[[policies.NAME]]`, `[prefix_lists.NAME]`), compiled,
    /// with the built-ins `accept-all` and `reject-all`.
    pub policies: Arc<Policies>,
    /// `[api]`: the gRPC API server.
    pub api: super::ApiConfig,
    /// `[metrics]`: the Prometheus exporter.
    pub metrics: super::MetricsConfig,
    /// `[srv6]`: locators, services, pod CIDRs.
    pub srv6: super::Srv6Config,
    /// `[dataplane]`: where SRv6 state is programmed.
    pub dataplane: super::DataplaneConfig,
}

impl Config {
    /// The neighbor configured at `address` (an IPv4-mapped IPv6 address matches the IPv4 one).
    pub fn neighbor(&self, address: IpAddr) -> Option<&NeighborConfig> {
        let address = address.to_canonical();
        self.neighbors.iter().find(|n| n.address == address)
    }
}

/// `[global]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalConfig {
    /// Our AS: 1..=4294967295, not AS_TRANS (23456).
    pub asn: u32,
    /// Our BGP Identifier, non-zero.
    pub router_id: Ipv4Addr,
    /// Where to accept BGP connections; empty: do not listen.
    pub listen: Vec<SocketAddr>,
    /// RFC 4456 §7: the CLUSTER_ID when reflecting; `None`: the router id.
    pub cluster_id: Option<Ipv4Addr>,
    /// Prefixes this node originates as IPv4/IPv6 unicast (next hop self, origin IGP).
    pub networks: Vec<ipnet::IpNet>,
    /// RFC 8212: an eBGP neighbor without an import (export) policy accepts (sends) nothing.
    /// See [`crate::policy::effective`].
    pub ebgp_requires_policy: bool,
    /// Compare MED between paths from different neighbouring ASes (default false).
    pub always_compare_med: bool,
    /// Keep the ECMP multipath set of every prefix (default false).
    pub multipath: bool,
}

/// One `[[neighbors]]` entry, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeighborConfig {
    /// Unique; an IPv4-mapped IPv6 address is stored as the IPv4 address.
    pub address: IpAddr,
    pub remote_as: u32,
    /// `global.asn`.
    pub local_as: u32,
    /// `global.router_id`.
    pub router_id: Ipv4Addr,
    /// The Hold Time we offer: 0 or 3..=65535 s.
    pub hold_time: u16,
    /// The keepalive interval if configured (at most `hold_time / 3`); `None`: a third of the
    /// negotiated hold time.
    pub keepalive: Option<u16>,
    pub connect_retry: Duration,
    /// `None` when 0 (DelayOpen off).
    pub delay_open: Option<Duration>,
    /// The first wait before an automatic restart after an error; it doubles up to
    /// `max_idle_hold` (which is at least `idle_hold`).
    pub idle_hold: Duration,
    pub max_idle_hold: Duration,
    /// Distinct and non-empty.
    pub families: Vec<Family>,
    pub passive: bool,
    /// TCP-MD5 key (RFC 2385), 1..=80 bytes.
    pub password: Option<Secret>,
    /// GTSM (RFC 5082): the number of hops the peer may be away, 1..=254.
    pub ttl_security: Option<u8>,
    /// Bind address for outgoing connections; same family as `address`.
    pub local_address: Option<IpAddr>,
    pub port: u16,
    pub description: Option<String>,
    /// Advertise the RFC 8950 capability for the IPv4 families.
    pub extended_nexthop: bool,
    pub add_path: AddPathMode,
    /// Advertise the Graceful Restart capability (RFC 4724).
    pub graceful_restart: bool,
    /// GR restart time, 1..=4095 s.
    pub restart_time: u16,
    /// RFC 9494 Long-Lived Graceful Restart: keep a gone peer's routes this long after its
    /// restart time, as LLGR_STALE (least preferred); 0: no LLGR (the default).
    pub long_lived_stale_time: u32,
    /// RFC 4271 §9.2.1.1 MinRouteAdvertisementIntervalTimer: after a burst of UPDATEs, the
    /// next waits this long, and what changed meanwhile is sent once (0: no wait, the default).
    pub advertisement_interval: std::time::Duration,
    /// Refuse the session (NOTIFICATION 2/7) if the peer does not advertise these.
    pub required_capabilities: Vec<RequiredCapability>,
    /// Administratively down.
    pub shutdown: bool,
    /// RFC 4456: this iBGP neighbor is our route-reflector client.
    pub route_reflector_client: bool,
    /// The policy for the routes received from the neighbor; `None`: not configured (see
    /// [`crate::policy::effective`] for what that means).
    pub import_policy: Option<Arc<Policy>>,
    /// The policy for the routes sent to the neighbor; `None`: not configured.
    pub export_policy: Option<Arc<Policy>>,
    /// The most prefixes accepted from the neighbor per family (after the import policy);
    /// `None`: no limit. Enforced by the RIB and the session.
    pub max_prefixes: Option<u32>,
    /// What exceeding `max_prefixes` does.
    pub max_prefixes_action: MaxPrefixesAction,
    /// Keep the routes as received (before the import policy) so that a changed import policy
    /// can be applied again without a ROUTE-REFRESH.
    pub soft_reconfiguration_inbound: bool,
    /// The neighbor group it took values from.
    pub group: Option<String>,
}

impl NeighborConfig {
    /// Internal peer: same AS as ours.
    pub fn is_ibgp(&self) -> bool {
        self.remote_as == self.local_as
    }

    /// A short name for logs: the description if there is one, else the address.
    pub fn display_name(&self) -> String {
        match &self.description {
            Some(d) => format!("{} ({d})", self.address),
            None => self.address.to_string(),
        }
    }
}

/// `max_prefixes_action`: what a neighbor exceeding `max_prefixes` gets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MaxPrefixesAction {
    /// Log a warning (once per crossing) and keep the session and the routes.
    Warn,
    /// Close the session with a Cease NOTIFICATION, subcode 1 "Maximum Number of Prefixes
    /// Reached" (RFC 4486).
    #[default]
    Teardown,
}

impl MaxPrefixesAction {
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "warn" => Some(MaxPrefixesAction::Warn),
            "teardown" => Some(MaxPrefixesAction::Teardown),
            _ => None,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            MaxPrefixesAction::Warn => "warn",
            MaxPrefixesAction::Teardown => "teardown",
        }
    }
}

impl fmt::Display for MaxPrefixesAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A password. Its `Debug` and `Display` print `***`: use [`Secret::expose`] where the key is
/// needed (the TCP-MD5 socket option), nowhere else.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// `add_path`: what we advertise in the ADD-PATH capability (RFC 7911) for each family.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AddPathMode {
    /// No ADD-PATH capability.
    #[default]
    None,
    Receive,
    Send,
    Both,
}

impl AddPathMode {
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "none" => AddPathMode::None,
            "receive" => AddPathMode::Receive,
            "send" => AddPathMode::Send,
            "both" => AddPathMode::Both,
            _ => return None,
        })
    }

    pub const fn name(self) -> &'static str {
        match self {
            AddPathMode::None => "none",
            AddPathMode::Receive => "receive",
            AddPathMode::Send => "send",
            AddPathMode::Both => "both",
        }
    }

    /// The Send/Receive value to advertise, or `None` for no capability.
    pub const fn capability(self) -> Option<capability::AddPathMode> {
        match self {
            AddPathMode::None => None,
            AddPathMode::Receive => Some(capability::AddPathMode::Receive),
            AddPathMode::Send => Some(capability::AddPathMode::Send),
            AddPathMode::Both => Some(capability::AddPathMode::Both),
        }
    }
}

/// A capability the peer must advertise (`required_capabilities`), named as in
/// [`capability::code_name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequiredCapability {
    RouteRefresh,
    EnhancedRouteRefresh,
    ExtendedNextHop,
    ExtendedMessage,
    GracefulRestart,
    LongLivedGracefulRestart,
    FourOctetAs,
    AddPath,
    Fqdn,
}

impl RequiredCapability {
    pub const ALL: [RequiredCapability; 9] = [
        RequiredCapability::RouteRefresh,
        RequiredCapability::EnhancedRouteRefresh,
        RequiredCapability::ExtendedNextHop,
        RequiredCapability::ExtendedMessage,
        RequiredCapability::GracefulRestart,
        RequiredCapability::LongLivedGracefulRestart,
        RequiredCapability::FourOctetAs,
        RequiredCapability::AddPath,
        RequiredCapability::Fqdn,
    ];

    /// The capability code (RFC 5492 / IANA).
    pub const fn code(self) -> u8 {
        match self {
            RequiredCapability::RouteRefresh => code::ROUTE_REFRESH,
            RequiredCapability::EnhancedRouteRefresh => code::ENHANCED_ROUTE_REFRESH,
            RequiredCapability::ExtendedNextHop => code::EXTENDED_NEXT_HOP,
            RequiredCapability::ExtendedMessage => code::EXTENDED_MESSAGE,
            RequiredCapability::GracefulRestart => code::GRACEFUL_RESTART,
            RequiredCapability::LongLivedGracefulRestart => code::LONG_LIVED_GRACEFUL_RESTART,
            RequiredCapability::FourOctetAs => code::FOUR_OCTET_AS,
            RequiredCapability::AddPath => code::ADD_PATH,
            RequiredCapability::Fqdn => code::FQDN,
        }
    }

    /// `route-refresh`, `four-octet-as`, ...
    pub const fn name(self) -> &'static str {
        capability::code_name(self.code())
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == s)
    }

    /// A capability with this code, for `packet::open::OpenExpectations::required_capabilities`
    /// (which compares codes only, except for Multiprotocol).
    pub fn capability(self) -> Capability {
        match self {
            RequiredCapability::RouteRefresh => Capability::RouteRefresh,
            RequiredCapability::EnhancedRouteRefresh => Capability::EnhancedRouteRefresh,
            RequiredCapability::ExtendedNextHop => Capability::ExtendedNextHop(Vec::new()),
            RequiredCapability::ExtendedMessage => Capability::ExtendedMessage,
            RequiredCapability::GracefulRestart => Capability::GracefulRestart {
                restart_flags: 0,
                restart_time: 0,
                families: Vec::new(),
            },
            RequiredCapability::LongLivedGracefulRestart => {
                Capability::LongLivedGracefulRestart(Vec::new())
            }
            RequiredCapability::FourOctetAs => Capability::FourOctetAs(0),
            RequiredCapability::AddPath => Capability::AddPath(Vec::new()),
            RequiredCapability::Fqdn => Capability::Fqdn {
                hostname: Vec::new(),
                domain: Vec::new(),
            },
        }
    }
}

impl fmt::Display for RequiredCapability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for AddPathMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
