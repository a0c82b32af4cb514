//! TCP for BGP: dialing and listening over IPv4 and IPv6 with a chosen local address and
//! port, TCP-MD5 (RFC 2385), GTSM (RFC 5082) and TCP_NODELAY.

use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// How to reach one peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub address: IpAddr,
    pub port: u16,
    pub local_address: Option<IpAddr>,
    /// TCP-MD5 key.
    pub password: Option<String>,
    /// GTSM: the peer is at most this many hops away (1 = directly connected).
    pub ttl_security: Option<u8>,
}

impl Endpoint {
    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::new(self.address, self.port)
    }
}

/// An IPv4 peer seen on a dual-stack socket arrives as `::ffff:a.b.c.d`: map it back.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// RFC 5082 §3: send with TTL 255 and accept only TTL >= 256 - hops.
fn apply_gtsm(sock: &TcpSocket, is_v6: bool, hops: u8) -> io::Result<()> {
    let s = socket2::SockRef::from(sock);
    if is_v6 {
        s.set_unicast_hops_v6(255)?;
    } else {
        s.set_ttl_v4(255)?;
    }
    netsock::set_min_ttl(sock, is_v6, min_ttl(hops))
}

/// RFC 5082 §3: a peer `hops` away arrives with a TTL of at least 256 - hops.
pub fn min_ttl(hops: u8) -> u8 {
    255u8.saturating_sub(hops.saturating_sub(1))
}

/// Open a connection to the peer, bounded by `timeout`.
pub async fn connect(ep: &Endpoint, timeout: Duration) -> io::Result<TcpStream> {
    let is_v6 = ep.address.is_ipv6();
    let sock = if is_v6 {
        TcpSocket::new_v6()?
    } else {
        TcpSocket::new_v4()?
    };
    if let Some(local) = ep.local_address {
        sock.bind(SocketAddr::new(local, 0))?;
    }
    if let Some(key) = &ep.password {
        netsock::set_tcp_md5(&sock, is_v6, ep.address, Some(key.as_bytes()))?;
    }
    if let Some(hops) = ep.ttl_security {
        apply_gtsm(&sock, is_v6, hops)?;
    }
    sock.set_nodelay(true)?;
    let stream = tokio::time::timeout(timeout, sock.connect(ep.socket_addr()))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
    Ok(stream)
}

/// A BGP listening socket.
pub struct Listener {
    pub listener: TcpListener,
    pub local: SocketAddr,
    is_v6: bool,
}

impl Listener {
    pub fn bind(addr: SocketAddr) -> io::Result<Listener> {
        let is_v6 = addr.is_ipv6();
        let sock = if is_v6 {
            TcpSocket::new_v6()?
        } else {
            TcpSocket::new_v4()?
        };
        sock.set_reuseaddr(true)?;
        sock.bind(addr)?;
        let listener = sock.listen(128)?;
        let local = listener.local_addr()?;
        Ok(Listener {
            listener,
            local,
            is_v6,
        })
    }

    /// Install the TCP-MD5 key of a peer (the kernel checks the SYN against it).
    pub fn set_peer_password(&self, peer: IpAddr, key: Option<&str>) -> io::Result<()> {
        if !self.is_v6 && peer.is_ipv6() {
            return Ok(());
        }
        netsock::set_tcp_md5(&self.listener, self.is_v6, peer, key.map(str::as_bytes))
    }

    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (s, a) = self.listener.accept().await?;
        s.set_nodelay(true)?;
        Ok((s, SocketAddr::new(canonical_ip(a.ip()), a.port())))
    }
}

/// GTSM on an accepted connection (the listener is shared by peers with different settings).
pub fn secure_accepted(stream: &TcpStream, hops: u8) -> io::Result<()> {
    let is_v6 = stream.local_addr()?.is_ipv6();
    let s = socket2::SockRef::from(stream);
    if is_v6 {
        s.set_unicast_hops_v6(255)?;
    } else {
        s.set_ttl_v4(255)?;
    }
    netsock::set_min_ttl(stream, is_v6, min_ttl(hops))
}

/// The unspecified address of a family, for binding listeners.
pub fn any_v6(port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port)
}
