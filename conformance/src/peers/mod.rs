//! Launchers for real BGP daemons as peers: configs written into the test directory, daemons run
//! in the foreground inside a namespace, and helpers to query their session state and routes.
//!
//! Timers follow interop.md §10 (hold 9 s, keepalive 3 s, connect retry 1 s), so sessions come up
//! in about a second when the side that starts second dials the other.

pub mod bird;
pub mod exabgp;
pub mod frr;
pub mod gobgp;

use std::net::{IpAddr, Ipv4Addr};

use crate::topo::Node;

pub use bird::Bird;
pub use exabgp::ExaBgp;
pub use frr::Frr;
pub use gobgp::GoBgp;

/// Address families by their sidra names.
pub const IPV4_UNICAST: &str = "ipv4-unicast";
pub const IPV6_UNICAST: &str = "ipv6-unicast";
pub const IPV4_VPN: &str = "ipv4-vpn";
pub const IPV6_VPN: &str = "ipv6-vpn";

/// One BGP session as seen from the daemon being configured.
#[derive(Clone, Debug)]
pub struct Session {
    pub local_addr: IpAddr,
    pub local_as: u32,
    pub router_id: Ipv4Addr,
    pub peer_addr: IpAddr,
    pub peer_as: u32,
    /// sidra family names ([`IPV4_UNICAST`], ...).
    pub families: Vec<&'static str>,
    /// Only accept the connection, never dial.
    pub passive: bool,
}

impl Session {
    /// An iBGP session over the nodes' IPv6 link addresses, IPv4 and IPv6 unicast, router id =
    /// the local node's loopback IPv4 address.
    pub fn ibgp(local: &Node, peer: &Node, asn: u32) -> Session {
        Session {
            local_addr: IpAddr::V6(local.ipv6),
            local_as: asn,
            router_id: local.loopback4,
            peer_addr: IpAddr::V6(peer.ipv6),
            peer_as: asn,
            families: vec![IPV4_UNICAST, IPV6_UNICAST],
            passive: false,
        }
    }

    /// An eBGP session over the nodes' IPv6 link addresses (IPv4 and IPv6 unicast).
    pub fn ebgp(local: &Node, local_as: u32, peer: &Node, peer_as: u32) -> Session {
        Session {
            peer_as,
            ..Session::ibgp(local, peer, local_as)
        }
    }

    pub fn passive(mut self, on: bool) -> Self {
        self.passive = on;
        self
    }

    pub fn families(mut self, families: &[&'static str]) -> Self {
        self.families = families.to_vec();
        self
    }
}
