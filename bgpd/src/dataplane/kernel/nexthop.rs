//! Kernel nexthop objects (RTM_NEWNEXTHOP / RTM_DELNEXTHOP / RTM_GETNEXTHOP, Linux 5.3+),
//! which netlink-packet-route 0.34 does not type: built and parsed here from `struct nhmsg`
//! and its `NHA_*` attributes (`include/uapi/linux/nexthop.h`). The seg6 encapsulation inside
//! is netlink-packet-route's [`RouteSeg6IpTunnel`].
//!
//! | object | nexthop |
//! |---|---|
//! | policy with one segment list | `id N encap seg6 mode encap segs [..] via GW dev OIF proto P` |
//! | policy with several | one such nexthop per list, and `id N group M1,W1/M2,W2.. proto P` |

use std::net::Ipv6Addr;

use netlink_packet_core::{Emitable, NetlinkDeserializable, NetlinkSerializable, NlaBuffer};
use netlink_packet_core::{NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE};
use netlink_packet_route::route::{RouteSeg6IpTunnel, Seg6Header, Seg6Mode};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::nl::message;
use super::routes::Hop;

pub(super) const RTM_NEWNEXTHOP: u16 = 104;
pub(super) const RTM_DELNEXTHOP: u16 = 105;
pub(super) const RTM_GETNEXTHOP: u16 = 106;

const NHA_ID: u16 = 1;
const NHA_GROUP: u16 = 2;
const NHA_OIF: u16 = 5;
const NHA_GATEWAY: u16 = 6;
const NHA_ENCAP_TYPE: u16 = 7;
const NHA_ENCAP: u16 = 8;
const LWTUNNEL_ENCAP_SEG6: u16 = 5;
const SEG6_IPTUNNEL_SRH: u16 = 1;
const NLA_F_NESTED: u16 = 0x8000;
const NLA_TYPE_MASK: u16 = 0x3fff;
const RTNH_F_ONLINK: u32 = 4;
const NHMSG_LEN: usize = 8;

/// A nexthop message as bytes: its type and its payload (`struct nhmsg` and attributes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct NhMessage {
    pub kind: u16,
    pub payload: Vec<u8>,
}

impl NetlinkSerializable for NhMessage {
    fn message_type(&self) -> u16 {
        self.kind
    }
    fn buffer_len(&self) -> usize {
        self.payload.len()
    }
    fn serialize(&self, buffer: &mut [u8]) {
        buffer.copy_from_slice(&self.payload);
    }
}

impl NetlinkDeserializable for NhMessage {
    type Error = std::convert::Infallible;
    fn deserialize(
        header: &netlink_packet_core::NetlinkHeader,
        payload: &[u8],
    ) -> Result<Self, Self::Error> {
        Ok(NhMessage {
            kind: header.message_type,
            payload: payload.to_vec(),
        })
    }
}

/// A request on the route socket: a route or a nexthop message, so that both go down one
/// pipeline in order (a nexthop before the routes that use it).
#[derive(Clone, Debug)]
pub(super) enum Req {
    Route(RouteNetlinkMessage),
    Nh(NhMessage),
}

impl NetlinkSerializable for Req {
    fn message_type(&self) -> u16 {
        match self {
            Req::Route(m) => NetlinkSerializable::message_type(m),
            Req::Nh(m) => m.message_type(),
        }
    }
    fn buffer_len(&self) -> usize {
        match self {
            Req::Route(m) => NetlinkSerializable::buffer_len(m),
            Req::Nh(m) => m.buffer_len(),
        }
    }
    fn serialize(&self, buffer: &mut [u8]) {
        match self {
            Req::Route(m) => NetlinkSerializable::serialize(m, buffer),
            Req::Nh(m) => m.serialize(buffer),
        }
    }
}

fn header(buf: &mut Vec<u8>, family: AddressFamily, proto: u8, flags: u32) {
    buf.push(u8::from(family));
    buf.push(0); // scope
    buf.push(proto);
    buf.push(0);
    buf.extend_from_slice(&flags.to_ne_bytes());
}

fn put(buf: &mut Vec<u8>, kind: u16, value: &[u8]) {
    let len = 4 + value.len();
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(value);
    buf.resize((buf.len() + 3) & !3, 0);
}

/// `NHA_ENCAP`'s nested value: `SEG6_IPTUNNEL_SRH` with an encap-mode SRH of `segments`.
fn seg6_encap(segments: &[Ipv6Addr]) -> Vec<u8> {
    let mut h = Seg6Header::default();
    h.mode = Seg6Mode::Encap;
    h.segments = segments.to_vec();
    let nla = RouteSeg6IpTunnel::Seg6(h);
    let mut v = vec![0u8; nla.buffer_len()];
    nla.emit(&mut v);
    v
}

fn new_msg(payload: Vec<u8>) -> Req {
    Req::Nh(NhMessage {
        kind: RTM_NEWNEXTHOP,
        payload,
    })
}

/// Flags of a RTM_NEWNEXTHOP: replace what has the id, or create it only if the id is free
/// (another program may use it).
fn new_flags(replace: bool) -> u16 {
    if replace {
        NLM_F_CREATE | NLM_F_REPLACE
    } else {
        NLM_F_CREATE | NLM_F_EXCL
    }
}

/// A nexthop that encapsulates into `segments`, out of `hop`.
pub(super) fn encap(
    id: u32,
    proto: u8,
    segments: &[Ipv6Addr],
    hop: Hop,
    replace: bool,
) -> netlink_packet_core::NetlinkMessage<Req> {
    let mut b = Vec::with_capacity(128);
    let flags = if hop.onlink { RTNH_F_ONLINK } else { 0 };
    header(&mut b, AddressFamily::Inet6, proto, flags);
    put(&mut b, NHA_ID, &id.to_ne_bytes());
    put(&mut b, NHA_OIF, &hop.oif.to_ne_bytes());
    if let Some(gw) = hop.gateway {
        put(&mut b, NHA_GATEWAY, &gw.octets());
    }
    put(&mut b, NHA_ENCAP_TYPE, &LWTUNNEL_ENCAP_SEG6.to_ne_bytes());
    put(&mut b, NHA_ENCAP | NLA_F_NESTED, &seg6_encap(segments));
    message(new_msg(b), new_flags(replace))
}

/// A weight as the kernel's group entry weight (weight - 1).
pub(super) fn group_weight(weight: u32) -> Result<u8, String> {
    match weight {
        0 => Ok(0),
        1..=256 => Ok((weight - 1) as u8),
        w => Err(format!(
            "weight {w} is above the kernel's limit of 256 per nexthop"
        )),
    }
}

/// A multipath group of `members` (id, kernel weight).
pub(super) fn group(
    id: u32,
    proto: u8,
    members: &[(u32, u8)],
    replace: bool,
) -> netlink_packet_core::NetlinkMessage<Req> {
    let mut b = Vec::with_capacity(32 + 8 * members.len());
    header(&mut b, AddressFamily::Unspec, proto, 0);
    put(&mut b, NHA_ID, &id.to_ne_bytes());
    let mut g = Vec::with_capacity(8 * members.len());
    for (m, w) in members {
        g.extend_from_slice(&m.to_ne_bytes());
        g.extend_from_slice(&[*w, 0, 0, 0]);
    }
    put(&mut b, NHA_GROUP, &g);
    message(new_msg(b), new_flags(replace))
}

/// Delete nexthop `id` (the kernel deletes the routes that use it too).
pub(super) fn del(id: u32) -> netlink_packet_core::NetlinkMessage<Req> {
    let mut b = Vec::with_capacity(16);
    header(&mut b, AddressFamily::Unspec, 0, 0);
    put(&mut b, NHA_ID, &id.to_ne_bytes());
    message(
        Req::Nh(NhMessage {
            kind: RTM_DELNEXTHOP,
            payload: b,
        }),
        0,
    )
}

/// The dump request of every nexthop (the kernel cannot filter by protocol).
pub(super) fn dump() -> netlink_packet_core::NetlinkMessage<NhMessage> {
    let mut b = Vec::with_capacity(NHMSG_LEN);
    header(&mut b, AddressFamily::Unspec, 0, 0);
    message(
        NhMessage {
            kind: RTM_GETNEXTHOP,
            payload: b,
        },
        NLM_F_DUMP,
    )
}

/// A nexthop as the kernel reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Nexthop {
    pub id: u32,
    pub protocol: u8,
    pub kind: NhKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum NhKind {
    /// An encap seg6 (mode encap) nexthop.
    Encap { segments: Vec<Ipv6Addr> },
    /// A group: (member id, weight 1..=256).
    Group(Vec<(u32, u32)>),
    /// Anything else (another encapsulation, a plain gateway, a blackhole).
    Other,
}

fn attrs(mut b: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    // Bounded by the length of `b`: every step consumes at least 4 bytes.
    while b.len() >= 4 {
        let len = u16::from_ne_bytes([b[0], b[1]]) as usize;
        let kind = u16::from_ne_bytes([b[2], b[3]]) & NLA_TYPE_MASK;
        if len < 4 || len > b.len() {
            break;
        }
        out.push((kind, &b[4..len]));
        b = b.get((len + 3) & !3..).unwrap_or(&[]);
    }
    out
}

fn u32_of(v: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(v.get(..4)?.try_into().ok()?))
}

/// The segments of an `NHA_ENCAP` of type seg6 (encap mode only).
fn seg6_segments(nested: &[u8]) -> Option<Vec<Ipv6Addr>> {
    let mut b = nested;
    while b.len() >= 4 {
        let len = u16::from_ne_bytes([b[0], b[1]]) as usize;
        let kind = u16::from_ne_bytes([b[2], b[3]]) & NLA_TYPE_MASK;
        if len < 4 || len > b.len() {
            return None;
        }
        if kind == SEG6_IPTUNNEL_SRH {
            let nla = NlaBuffer::new_checked(&b[..len]).ok()?;
            use netlink_packet_core::Parseable;
            return match RouteSeg6IpTunnel::parse(&nla).ok()? {
                RouteSeg6IpTunnel::Seg6(h) if h.mode == Seg6Mode::Encap => Some(h.segments),
                _ => None,
            };
        }
        b = b.get((len + 3) & !3..).unwrap_or(&[]);
    }
    None
}

/// A nexthop of a dump (`None` if it is not a nexthop message or has no id).
pub(super) fn parse(m: &NhMessage) -> Option<Nexthop> {
    if m.kind != RTM_NEWNEXTHOP || m.payload.len() < NHMSG_LEN {
        return None;
    }
    let protocol = m.payload[2];
    let mut id = None;
    let mut group = None;
    let mut encap_type = None;
    let mut encap = None;
    for (k, v) in attrs(&m.payload[NHMSG_LEN..]) {
        match k {
            NHA_ID => id = u32_of(v),
            NHA_GROUP => {
                group = Some(
                    v.chunks_exact(8)
                        .filter_map(|e| Some((u32_of(e)?, u32::from(e[4]) + 1)))
                        .collect::<Vec<_>>(),
                )
            }
            NHA_ENCAP_TYPE if v.len() >= 2 => encap_type = Some(u16::from_ne_bytes([v[0], v[1]])),
            NHA_ENCAP => encap = Some(v),
            _ => {}
        }
    }
    let kind = match (group, encap_type, encap) {
        (Some(g), _, _) => NhKind::Group(g),
        (None, Some(LWTUNNEL_ENCAP_SEG6), Some(e)) => match seg6_segments(e) {
            Some(segments) => NhKind::Encap { segments },
            None => NhKind::Other,
        },
        _ => NhKind::Other,
    };
    Some(Nexthop {
        id: id?,
        protocol,
        kind,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn reply(req: netlink_packet_core::NetlinkMessage<Req>) -> NhMessage {
        match req.payload {
            netlink_packet_core::NetlinkPayload::InnerMessage(Req::Nh(m)) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn encap_and_group_round_trip() {
        let segs = vec!["fc00:3::7".parse().unwrap(), "fc00:2::6".parse().unwrap()];
        let hop = Hop {
            oif: 3,
            gateway: Some("fd00::2".parse().unwrap()),
            onlink: false,
        };
        let got = parse(&reply(encap(77, 99, &segs, hop, false))).unwrap();
        assert_eq!(
            got,
            Nexthop {
                id: 77,
                protocol: 99,
                kind: NhKind::Encap { segments: segs }
            }
        );
        let got = parse(&reply(group(78, 99, &[(1, 0), (2, 2)], true))).unwrap();
        assert_eq!(got.kind, NhKind::Group(vec![(1, 1), (2, 3)]));
        assert_eq!(got.id, 78);
    }
}
