//! Launchers for real BGP daemons as peers: configs written into the test directory, daemons run
//! in the foreground inside a namespace, and helpers to query their session state and routes.
//!
//! Timers follow interop.md §10 (hold 9 s, keepalive 3 s, connect retry 1 s), so sessions come up
//! in about a second when the side that starts second dials the other.

pub mod bird;
pub mod exabgp;
pub mod frr;
pub mod gobgp;
pub mod sidrad;

use std::net::{IpAddr, Ipv4Addr};

use crate::topo::Node;

pub use bird::Bird;
pub use exabgp::ExaBgp;
pub use frr::Frr;
pub use gobgp::GoBgp;
pub use sidrad::{Sidrad, SidradConfig, SidradNeighbor};

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

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use super::*;

    fn nodes() -> (Node, Node) {
        let node = |k: u8| Node {
            name: format!("n{k}"),
            ns: format!("t-n{k}"),
            index: k,
            ipv6: Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, u16::from(k)),
            ipv4: Ipv4Addr::new(10, 0, 0, k),
            loopback6: Ipv6Addr::new(0xfc00, 0, u16::from(k), 0, 0, 0, 0, 1),
            loopback4: Ipv4Addr::new(192, 0, 2, k),
        };
        (node(1), node(2))
    }

    #[test]
    fn configs_carry_the_session() {
        let (a, b) = nodes();
        let s = Session::ibgp(&a, &b, 65000).passive(true);
        let g = GoBgp::config(&s).unwrap();
        for want in [
            "as = 65000",
            "neighbor-address = \"fd00::2\"",
            "passive-mode = true",
            "afi-safi-name = \"ipv4-unicast\"",
            "afi-safi-name = \"ipv6-unicast\"",
        ] {
            assert!(g.contains(want), "{want} in\n{g}");
        }
        let f = Frr::config(&s, "r1", "").unwrap();
        for want in [
            "router bgp 65000",
            "neighbor fd00::2 remote-as 65000",
            "neighbor fd00::2 capability extended-nexthop",
            "neighbor fd00::2 passive",
            " address-family ipv6 unicast\n  neighbor fd00::2 activate",
        ] {
            assert!(f.contains(want), "{want} in\n{f}");
        }
        let e = ExaBgp::config(
            &s,
            std::path::Path::new("/t"),
            &["route 2001:db8::/48 next-hop fd00::1".into()],
        )
        .unwrap();
        for want in [
            "neighbor fd00::2 {",
            "passive true;",
            "nexthop { ipv4 unicast ipv6; }",
            "capability { nexthop true; }",
            "route 2001:db8::/48 next-hop fd00::1;",
            "run /bin/sh /t/exabgp-events.sh /t/events.jsonl;",
        ] {
            assert!(e.contains(want), "{want} in\n{e}");
        }
        let bird = Bird::config(&s, "p1", "").unwrap();
        for want in [
            "protocol bgp p1 {",
            "local fd00::1 as 65000;",
            "neighbor fd00::2 as 65000;",
            "passive on;",
            "extended next hop on;",
        ] {
            assert!(bird.contains(want), "{want} in\n{bird}");
        }
        let vpn = Session::ibgp(&a, &b, 65000).families(&[IPV6_VPN]);
        assert!(Bird::config(&vpn, "p1", "").is_err(), "bird: unicast only");
        assert!(GoBgp::config(&vpn).unwrap().contains("l3vpn-ipv6-unicast"));
    }
}
