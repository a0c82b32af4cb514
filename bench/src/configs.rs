//! Equivalent configs for the four daemons: AS 65000, router id 10.0.0.1, listening on fd00::1;
//! K passive iBGP injector neighbors (import everything), and S sinks (usually one) as passive
//! route-reflector clients (everything exported to them). No kernel/FIB installation anywhere.

use std::fmt::Write as _;
use std::path::Path;

use crate::peers::{peer_addr, sink_addr, target_addr};
use crate::stream::Family;

/// What every config describes.
#[derive(Clone, Copy, Debug)]
pub struct Setup {
    pub family: Family,
    pub peers: usize,
    pub sinks: usize,
}

pub fn sidrad(s: &Setup, dir: &Path) -> String {
    let mut c = String::new();
    let _ = writeln!(
        c,
        "[global]\nasn = 65000\nrouter_id = \"10.0.0.1\"\nlisten = [\"[{}]:179\"]",
        target_addr()
    );
    let _ = writeln!(
        c,
        "\n[api]\nsocket = \"{}\"",
        dir.join("sidrad.sock").display()
    );
    let mut neighbor = |addr: String, rr: bool| {
        let _ = writeln!(
            c,
            "\n[[neighbors]]\naddress = \"{addr}\"\nremote_as = 65000"
        );
        let _ = writeln!(c, "passive = true\nfamilies = [\"{}\"]", s.family.name());
        if rr {
            let _ = writeln!(c, "route_reflector_client = true");
        }
    };
    for k in 0..s.peers {
        neighbor(peer_addr(k).to_string(), false);
    }
    for j in 0..s.sinks {
        neighbor(sink_addr(j).to_string(), true);
    }
    c
}

pub fn bird(s: &Setup, dir: &Path) -> String {
    let mut c = String::new();
    let _ = writeln!(c, "log \"{}\" all;", dir.join("bird.log").display());
    let _ = writeln!(c, "router id 10.0.0.1;\nprotocol device {{ }}");
    let channel = match s.family {
        Family::Ipv4 => "ipv4",
        Family::Ipv6 => "ipv6",
        Family::Vpnv6 => {
            let _ = writeln!(c, "vpn6 table vpntab6;");
            "vpn6 mpls"
        }
    };
    let table = if s.family == Family::Vpnv6 {
        " table vpntab6;"
    } else {
        ""
    };
    let _ = writeln!(
        c,
        "template bgp inj {{\n  local {} as 65000;\n  direct;\n  passive on;",
        target_addr()
    );
    let _ = writeln!(
        c,
        "  {channel} {{{table} import all; export none; gateway direct; }};\n}}"
    );
    for k in 0..s.peers {
        let _ = writeln!(
            c,
            "protocol bgp p{k} from inj {{ neighbor {} as 65000; }}",
            peer_addr(k)
        );
    }
    if s.sinks > 0 {
        let _ = writeln!(
            c,
            "template bgp sinks {{\n  local {} as 65000;\n  direct;\n  passive on;\n  rr client;",
            target_addr()
        );
        let _ = writeln!(
            c,
            "  {channel} {{{table} import none; export all; gateway direct; }};\n}}"
        );
    }
    for j in 0..s.sinks {
        let _ = writeln!(
            c,
            "protocol bgp sink{j} from sinks {{ neighbor {} as 65000; }}",
            sink_addr(j)
        );
    }
    c
}

pub fn frr_af(f: Family) -> &'static str {
    match f {
        Family::Ipv4 => "ipv4 unicast",
        Family::Ipv6 => "ipv6 unicast",
        Family::Vpnv6 => "ipv6 vpn",
    }
}

pub fn frr(s: &Setup) -> String {
    let mut c = String::from("hostname bench\nrouter bgp 65000\n bgp router-id 10.0.0.1\n");
    for l in [
        "no bgp default ipv4-unicast",
        "no bgp network import-check",
        "no bgp ebgp-requires-policy",
        "coalesce-time 0",
        "neighbor INJ peer-group",
        "neighbor INJ remote-as 65000",
        "neighbor INJ passive",
    ] {
        let _ = writeln!(c, " {l}");
    }
    for k in 0..s.peers {
        let _ = writeln!(c, " neighbor {} peer-group INJ", peer_addr(k));
    }
    if s.sinks > 0 {
        let _ = writeln!(
            c,
            " neighbor SINK peer-group\n neighbor SINK remote-as 65000\n neighbor SINK passive"
        );
    }
    for j in 0..s.sinks {
        let _ = writeln!(c, " neighbor {} peer-group SINK", sink_addr(j));
    }
    let _ = writeln!(
        c,
        " address-family {}\n  neighbor INJ activate",
        frr_af(s.family)
    );
    if s.sinks > 0 {
        let _ = writeln!(
            c,
            "  neighbor SINK activate\n  neighbor SINK route-reflector-client"
        );
    }
    let _ = writeln!(c, " exit-address-family");
    c
}

pub fn gobgp(s: &Setup) -> String {
    let family = match s.family {
        Family::Ipv4 => "ipv4-unicast",
        Family::Ipv6 => "ipv6-unicast",
        Family::Vpnv6 => "l3vpn-ipv6-unicast",
    };
    let mut c = String::new();
    let _ = writeln!(
        c,
        "[global.config]\n  as = 65000\n  router-id = \"10.0.0.1\"\n  local-address-list = [\"{}\"]",
        target_addr()
    );
    let mut neighbor = |addr: String, rr: bool| {
        let _ = writeln!(c, "\n[[neighbors]]\n  [neighbors.config]");
        let _ = writeln!(c, "    neighbor-address = \"{addr}\"\n    peer-as = 65000");
        let _ = writeln!(
            c,
            "  [neighbors.transport.config]\n    passive-mode = true\n    local-address = \"{}\"",
            target_addr()
        );
        if rr {
            let _ = writeln!(
                c,
                "  [neighbors.route-reflector.config]\n    route-reflector-client = true\n    route-reflector-cluster-id = \"10.0.0.1\""
            );
        }
        let _ = writeln!(
            c,
            "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = \"{family}\""
        );
    };
    for k in 0..s.peers {
        neighbor(peer_addr(k).to_string(), false);
    }
    for j in 0..s.sinks {
        neighbor(sink_addr(j).to_string(), true);
    }
    c
}
