//! gRPC status codes for what goes wrong, with messages an operator can act on: the field in
//! question, the value, and what is expected.

use std::net::IpAddr;

use ipnet::IpNet;
use tonic::Status;

use crate::packet::Family;

/// The message of UNAVAILABLE while sidrad stops.
pub const SHUTTING_DOWN: &str = "sidrad is shutting down";

/// The daemon's own text for "gone" (see `daemon::control`).
const DAEMON_GONE: &str = "the daemon is shutting down";

/// A daemon command failed: UNAVAILABLE when the daemon is stopping, else `code`.
pub fn from_daemon(e: String, code: fn(String) -> Status) -> Status {
    if e == DAEMON_GONE {
        Status::unavailable(SHUTTING_DOWN)
    } else {
        code(e)
    }
}

/// The RIB task is gone (sidrad is stopping).
pub fn rib_gone() -> Status {
    Status::unavailable(SHUTTING_DOWN)
}

/// An address field: `neighbor.address: "fd00::x" is not an IP address`.
pub fn address(field: &str, s: &str) -> Result<IpAddr, Status> {
    let t = s.trim();
    if t.is_empty() {
        return Err(Status::invalid_argument(format!(
            "{field}: missing (an IPv4 or IPv6 address, e.g. \"192.0.2.1\" or \"fd00::2\")"
        )));
    }
    t.parse::<IpAddr>()
        .map(|a| a.to_canonical())
        .map_err(|_| Status::invalid_argument(format!("{field}: {s:?} is not an IP address")))
}

/// A family name; empty gives `default`.
pub fn family(field: &str, s: &str, default: Family) -> Result<Family, Status> {
    if s.trim().is_empty() {
        return Ok(default);
    }
    Family::from_name(s.trim()).ok_or_else(|| {
        Status::invalid_argument(format!(
            "{field}: {s:?} is not a family (ipv4-unicast, ipv6-unicast, ipv4-vpn, ipv6-vpn)"
        ))
    })
}

/// A prefix, or an address meaning its host prefix.
pub fn prefix(field: &str, s: &str) -> Result<IpNet, Status> {
    let t = s.trim();
    if let Ok(n) = t.parse::<IpNet>() {
        return Ok(n);
    }
    if let Ok(a) = t.parse::<IpAddr>() {
        return Ok(IpNet::from(a));
    }
    Err(Status::invalid_argument(format!(
        "{field}: {s:?} is not a prefix (e.g. \"10.1.0.0/24\", \"2001:db8::/48\") or an address"
    )))
}

/// NOT_FOUND for an address that is not a configured neighbor.
pub fn no_neighbor(addr: IpAddr) -> Status {
    Status::not_found(format!("no neighbor {addr} is configured"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        let e = address("neighbor.address", "fd00::x").expect_err("bad");
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
        assert_eq!(
            e.message(),
            "neighbor.address: \"fd00::x\" is not an IP address"
        );
        assert_eq!(
            address("a", "::ffff:10.0.0.1").ok(),
            Some("10.0.0.1".parse().expect("ip"))
        );
        assert_eq!(
            family("family", "ipv5", Family::IPV4_UNICAST)
                .expect_err("bad")
                .code(),
            tonic::Code::InvalidArgument
        );
        assert_eq!(
            prefix("prefix", "10.0.0.1").ok(),
            Some("10.0.0.1/32".parse().expect("net"))
        );
        let gone = from_daemon(DAEMON_GONE.into(), Status::internal);
        assert_eq!(gone.code(), tonic::Code::Unavailable);
        let other = from_daemon("x".into(), Status::not_found);
        assert_eq!(other.code(), tonic::Code::NotFound);
    }
}
