//! Socket options that BGP and the data plane need and that neither `socket2`, `nix` nor `rustix` exposes:
//!
//! * TCP-MD5 signatures (RFC 2385) through Linux's `TCP_MD5SIG`, keyed by peer address;
//! * the minimum TTL / hop count of received packets for GTSM (RFC 5082) through `IP_MINTTL`
//!   and `IPV6_MINHOPCOUNT`;
//! * the ICMPv6 type filter of a raw ICMPv6 socket (`ICMP6_FILTER`, RFC 3542 §3.2), so the
//!   data plane's PMTU relay only wakes up for the messages it handles.
//!
//! This is the only crate of the workspace with `unsafe` code: one `setsockopt` call, in
//! [`setsockopt_bytes`], behind safe, typed functions.

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd};

/// Linux `TCP_MD5SIG_MAXKEYLEN`.
pub const MD5_MAX_KEY_LEN: usize = 80;

/// Linux `struct tcp_md5sig` (include/uapi/linux/tcp.h):
///
/// ```text
/// struct __kernel_sockaddr_storage tcpm_addr;   128 bytes
/// __u8  tcpm_flags;  __u8 tcpm_prefixlen;  __u16 tcpm_keylen;  __u32 tcpm_ifindex;
/// __u8  tcpm_key[TCP_MD5SIG_MAXKEYLEN];          80 bytes
/// ```
///
/// Built as bytes in native order, so no `repr(C)` struct or pointer cast is needed.
fn md5sig_bytes(peer: IpAddr, socket_is_v6: bool, key: &[u8]) -> [u8; 216] {
    let mut b = [0u8; 216];
    // sockaddr_in / sockaddr_in6 in the first 128 bytes; family in native order, port 0.
    match (peer, socket_is_v6) {
        (IpAddr::V4(a), false) => {
            b[0..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
            b[4..8].copy_from_slice(&a.octets());
        }
        (IpAddr::V4(a), true) => {
            // An IPv6 socket sees IPv4 peers as v4-mapped addresses.
            b[0..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
            b[8..24].copy_from_slice(&a.to_ipv6_mapped().octets());
        }
        (IpAddr::V6(a), _) => {
            b[0..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
            b[8..24].copy_from_slice(&a.octets());
        }
    }
    let len = key.len().min(MD5_MAX_KEY_LEN);
    b[130..132].copy_from_slice(&(len as u16).to_ne_bytes());
    b[136..136 + len].copy_from_slice(&key[..len]);
    b
}

#[allow(unsafe_code)]
fn setsockopt_bytes(
    fd: &impl AsFd,
    level: libc::c_int,
    name: libc::c_int,
    value: &[u8],
) -> io::Result<()> {
    let len = libc::socklen_t::try_from(value.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "option value too long"))?;
    // SAFETY: the descriptor is borrowed from a live socket for the duration of the call, and
    // `value` is a valid, initialized buffer of exactly `len` bytes that the kernel only reads.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_fd().as_raw_fd(),
            level,
            name,
            value.as_ptr().cast(),
            len,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Install (or with `None` remove) the TCP-MD5 key for `peer` on a socket: on a listening
/// socket before accepting, on a connecting socket before `connect`. `socket_is_v6` says
/// whether the socket is AF_INET6 (then IPv4 peers are keyed by their v4-mapped address).
pub fn set_tcp_md5(
    fd: &impl AsFd,
    socket_is_v6: bool,
    peer: IpAddr,
    key: Option<&[u8]>,
) -> io::Result<()> {
    let key = key.unwrap_or(&[]);
    if key.len() > MD5_MAX_KEY_LEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "TCP-MD5 key of {} bytes is longer than {MD5_MAX_KEY_LEN}",
                key.len()
            ),
        ));
    }
    setsockopt_bytes(
        fd,
        libc::IPPROTO_TCP,
        libc::TCP_MD5SIG,
        &md5sig_bytes(peer, socket_is_v6, key),
    )
}

/// GTSM (RFC 5082 §3): drop received packets whose TTL (IPv4) or hop limit (IPv6) is below
/// `min`. For a peer `hops` away, `min = 256 - hops`. On an IPv6 socket that also carries
/// IPv4 (dual stack), both options are set.
pub fn set_min_ttl(fd: &impl AsFd, socket_is_v6: bool, min: u8) -> io::Result<()> {
    let v = libc::c_int::from(min).to_ne_bytes();
    if socket_is_v6 {
        setsockopt_bytes(fd, libc::IPPROTO_IPV6, libc::IPV6_MINHOPCOUNT, &v)?;
        // Dual-stack sockets receive IPv4 too; IPv6-only sockets refuse IP_MINTTL, harmlessly.
        let _ = setsockopt_bytes(fd, libc::IPPROTO_IP, libc::IP_MINTTL, &v);
        Ok(())
    } else {
        setsockopt_bytes(fd, libc::IPPROTO_IP, libc::IP_MINTTL, &v)
    }
}

/// Linux `ICMP6_FILTER` (include/uapi/linux/icmpv6.h), at level `IPPROTO_ICMPV6`.
const ICMP6_FILTER: libc::c_int = 1;

/// Linux `struct icmp6_filter` (`__u32 data[8]`, native order): a bit per ICMPv6 type, set =
/// blocked. Every type blocked but `pass`.
fn icmp6_filter_bytes(pass: &[u8]) -> [u8; 32] {
    let mut words = [u32::MAX; 8];
    for t in pass {
        if let Some(w) = words.get_mut(usize::from(t >> 5)) {
            *w &= !(1u32 << (t & 31));
        }
    }
    let mut b = [0u8; 32];
    for (chunk, w) in b.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&w.to_ne_bytes());
    }
    b
}

/// Let a raw ICMPv6 socket receive only the ICMPv6 types in `pass` (RFC 3542 §3.2,
/// `ICMP6_FILTER_SETBLOCKALL` then `ICMP6_FILTER_SETPASS` for each).
pub fn set_icmp6_filter(fd: &impl AsFd, pass: &[u8]) -> io::Result<()> {
    setsockopt_bytes(
        fd,
        libc::IPPROTO_ICMPV6,
        ICMP6_FILTER,
        &icmp6_filter_bytes(pass),
    )
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr, TcpListener};

    use super::*;

    #[test]
    fn md5_key_is_accepted_by_the_kernel_and_can_be_removed() {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        set_tcp_md5(&l, false, IpAddr::V4(Ipv4Addr::LOCALHOST), Some(b"secret")).unwrap();
        set_tcp_md5(&l, false, IpAddr::V4(Ipv4Addr::LOCALHOST), None).unwrap();
        let l6 = TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).unwrap();
        set_tcp_md5(&l6, true, IpAddr::V6(Ipv6Addr::LOCALHOST), Some(b"secret")).unwrap();
        set_tcp_md5(
            &l6,
            true,
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            Some(b"k"),
        )
        .unwrap();
    }

    #[test]
    fn md5_key_too_long_is_refused() {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let e = set_tcp_md5(
            &l,
            false,
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            Some(&[b'x'; 81]),
        )
        .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn md5_layout() {
        let b = md5sig_bytes(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), true, b"abc");
        assert_eq!(u16::from_ne_bytes([b[0], b[1]]), libc::AF_INET6 as u16);
        assert_eq!(
            &b[8..24],
            &Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped().octets()
        );
        assert_eq!(u16::from_ne_bytes([b[130], b[131]]), 3);
        assert_eq!(&b[136..139], b"abc");
    }

    #[test]
    fn icmp6_filter_layout() {
        let b = icmp6_filter_bytes(&[2, 135]);
        let word =
            |i: usize| u32::from_ne_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]);
        assert_eq!(word(0), !(1 << 2));
        assert_eq!(word(4), !(1 << (135 - 128)));
        for i in [1, 2, 3, 5, 6, 7] {
            assert_eq!(word(i), u32::MAX);
        }
    }

    #[test]
    fn min_ttl_is_accepted_by_the_kernel() {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        set_min_ttl(&l, false, 255).unwrap();
        let l6 = TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).unwrap();
        set_min_ttl(&l6, true, 254).unwrap();
    }
}
