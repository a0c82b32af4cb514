//! Pre-encoded UPDATE streams: every message of a run is built before the clock starts, so the
//! injector only writes bytes.
//!
//! The encoder is written out here octet by octet (not with `bgpd::packet`), so the daemons are fed
//! bytes sidra's own codec did not produce; the tests decode them with `bgpd::packet`.
//!
//! * IPv4 unicast: /24 prefixes from 11.0.0.0 up, in the NLRI field, NEXT_HOP = the injector.
//! * IPv6 unicast: /48 prefixes from 2a00::/16 up, MP_REACH_NLRI (Extended Length) with the
//!   injector's global address as next hop.
//! * IPv6 unicast over SRv6 (RFC 9252 §5, [`StreamSpec::prefix_sid`]): /64 prefixes from
//!   2a00::/16 up, each UPDATE with a Prefix-SID holding one SRv6 L3 Service TLV (End.DT6, the
//!   whole SID in the TLV: structure 40/24/16/0, no transposition). The SID is the sending node's
//!   (`fc00:0:0:N:1::`, N = peer + 1), or with [`StreamSpec::distinct`] every route's own (N = the
//!   route's number + 1: one route per node, so one route per UPDATE).
//! * VPN-IPv6 with SRv6 (RFC 9252), as FRR 8.4 packs it: /64 prefixes in 10 VRFs (RD 65000:V,
//!   RT 65000:V), label = function << 4 | 1 (the SID's function transposed, 16 bits at offset
//!   64), Prefix-SID with one SRv6 L3 Service TLV (End.DT6, structure 40/24/16/0/16/64).
//!
//! Every UPDATE has its own attribute set (its MED is unique in the stream and per peer), and
//! every peer sends the same prefixes in the same order (different attributes): best-path
//! contention when there are several peers; with [`StreamSpec::distinct`], peer `k` sends its own
//! block of prefixes instead (`k * prefixes ..`).

use std::net::{Ipv4Addr, Ipv6Addr};

/// Largest BGP message without RFC 8654.
pub const MAX_MESSAGE: usize = 4096;
/// BGP message header length.
pub const HEADER: usize = 19;

/// Address family of a workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Family {
    Ipv4,
    Ipv6,
    Vpnv6,
}

impl Family {
    /// (AFI, SAFI) for the multiprotocol capability.
    pub fn afi_safi(self) -> (u16, u8) {
        match self {
            Family::Ipv4 => (1, 1),
            Family::Ipv6 => (2, 1),
            Family::Vpnv6 => (2, 128),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Family::Ipv4 => "ipv4-unicast",
            Family::Ipv6 => "ipv6-unicast",
            Family::Vpnv6 => "ipv6-vpn",
        }
    }
}

/// What one injector peer sends.
#[derive(Clone, Debug)]
pub struct StreamSpec {
    pub family: Family,
    /// Prefixes announced (and later withdrawn).
    pub prefixes: usize,
    /// At most this many prefixes per UPDATE (0 = as many as fit in 4096 octets).
    pub per_update: usize,
    /// Index of the peer (0-based): varies the attributes, not the prefixes.
    pub peer: usize,
    /// IPv4 next hop (the injector's address on the link).
    pub next_hop4: Ipv4Addr,
    /// IPv6 next hop (the injector's global address on the link).
    pub next_hop6: Ipv6Addr,
    /// IPv6 unicast only: /64 prefixes with an SRv6 Prefix-SID (End.DT6).
    pub prefix_sid: bool,
    /// Every peer its own prefixes (and, with `prefix_sid`, every route its own SID).
    pub distinct: bool,
}

impl StreamSpec {
    /// The workload-wide number of this peer's `j`-th route.
    pub fn route_number(&self, j: usize) -> usize {
        if self.distinct {
            self.peer * self.prefixes + j
        } else {
            j
        }
    }

    /// Whether every route has its own SID (so its own attribute set and UPDATE).
    fn sid_per_route(&self) -> bool {
        self.prefix_sid && self.distinct
    }

    /// The SRv6 SID (End.DT6) that comes with this peer's `j`-th route: `fc00:0:0:N:1::` in a
    /// 40-bit block `fc00::/40` with a 24-bit node part N and the 16-bit function 1.
    pub fn sid(&self, j: usize) -> Ipv6Addr {
        let node = if self.sid_per_route() {
            self.route_number(j) + 1
        } else {
            self.peer + 1
        };
        let v = (0xfc00u128 << 112) | (((node as u128) & 0xff_ffff) << 64) | (1u128 << 48);
        Ipv6Addr::from(v)
    }

    /// This peer's `j`-th prefix as (length in bits, network octets).
    pub fn prefix(&self, j: usize) -> (u8, Vec<u8>) {
        let i = self.route_number(j);
        if self.family == Family::Ipv6 && self.prefix_sid {
            let a = (0x2a00u128 << 112) | ((i as u128) << 64);
            return (64, a.to_be_bytes()[..8].to_vec());
        }
        prefix(self.family, i)
    }
}

/// One peer's pre-encoded messages.
#[derive(Clone, Debug, Default)]
pub struct Encoded {
    /// Back-to-back UPDATE messages announcing every prefix.
    pub announce: Vec<u8>,
    pub announce_messages: usize,
    /// Back-to-back UPDATE messages withdrawing every prefix.
    pub withdraw: Vec<u8>,
    pub withdraw_messages: usize,
}

/// The `i`-th prefix of a family as (length in bits, network octets).
pub fn prefix(family: Family, i: usize) -> (u8, Vec<u8>) {
    match family {
        Family::Ipv4 => {
            // 11.0.0.0/24 + i: 1M /24s end at 26.65.35.0.
            let a = (0x0b00_0000u32).wrapping_add((i as u32) << 8);
            (24, a.to_be_bytes()[..3].to_vec())
        }
        Family::Ipv6 => {
            let a = (0x2a00u128 << 112) | ((i as u128) << 80);
            (48, a.to_be_bytes()[..6].to_vec())
        }
        Family::Vpnv6 => {
            let a = (0x2001_0db8u128 << 96) | ((i as u128) << 64);
            (64, a.to_be_bytes()[..8].to_vec())
        }
    }
}

/// VRFs of the VPN workload (routes are split evenly, RD/RT 65000:1..=10).
pub const VRFS: usize = 10;

fn vrf_of(i: usize, total: usize) -> u16 {
    let per = total.div_ceil(VRFS).max(1);
    1 + (i / per) as u16
}

fn rd(vrf: u16) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[2..4].copy_from_slice(&65000u16.to_be_bytes());
    b[4..8].copy_from_slice(&u32::from(vrf).to_be_bytes());
    b
}

/// The MPLS label field of VPN route `i`: the SID function (1..=0xfffe) << 4, S bit set.
pub fn vpn_label(i: usize) -> u32 {
    let function = 1 + (i % 0xfffe) as u32;
    (function << 4) | 1
}

/// One NLRI as it goes on the wire (announce: the label; withdraw: 0x800000).
fn put_nlri(out: &mut Vec<u8>, spec: &StreamSpec, i: usize, withdraw: bool) {
    let (family, total) = (spec.family, spec.prefixes);
    let (len, octets) = spec.prefix(i);
    if family == Family::Vpnv6 {
        out.push(len + 88);
        let label = if withdraw { 0x80_0000 } else { vpn_label(i) };
        out.extend_from_slice(&label.to_be_bytes()[1..]);
        out.extend_from_slice(&rd(vrf_of(i, total)));
    } else {
        out.push(len);
    }
    out.extend_from_slice(&octets);
}

fn nlri_len(spec: &StreamSpec) -> usize {
    match spec.family {
        Family::Ipv4 => 4,
        Family::Ipv6 if spec.prefix_sid => 9,
        Family::Ipv6 => 7,
        Family::Vpnv6 => 1 + 3 + 8 + 8,
    }
}

fn attr(out: &mut Vec<u8>, flags: u8, code: u8, value: &[u8]) {
    if value.len() > 255 {
        out.extend_from_slice(&[flags | 0x10, code]);
        out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    } else {
        out.extend_from_slice(&[flags, code, value.len() as u8]);
    }
    out.extend_from_slice(value);
}

/// RFC 9252 Prefix-SID value of the VPN routes: one SRv6 L3 Service TLV, one SID Information
/// sub-TLV (End.DT6, function bits zeroed), one SID Structure sub-sub-TLV 40/24/16/0,
/// transposition 16 @ 64.
pub fn prefix_sid_value() -> Vec<u8> {
    srv6_l3_service(Ipv6Addr::new(0xfc00, 0, 2, 0, 0, 0, 0, 0), 16, 64)
}

/// RFC 9252 §2 / §3.1-3.2: a Prefix-SID value with one SRv6 L3 Service TLV (type 5) holding one
/// SRv6 SID Information sub-TLV (type 1, End.DT6 = 0x0012) with one SID Structure sub-sub-TLV
/// (type 1: 40/24/16/0 and the given transposition length and offset).
pub fn srv6_l3_service(sid: Ipv6Addr, transposition_len: u8, transposition_offset: u8) -> Vec<u8> {
    let mut sub = vec![0u8]; // reserved
    sub.extend_from_slice(&sid.octets());
    sub.push(0); // flags
    sub.extend_from_slice(&0x0012u16.to_be_bytes()); // End.DT6
    sub.push(0); // reserved
    sub.extend_from_slice(&[
        1,
        0,
        6,
        40,
        24,
        16,
        0,
        transposition_len,
        transposition_offset,
    ]);
    let mut tlv = vec![0u8]; // reserved
    tlv.push(1);
    tlv.extend_from_slice(&(sub.len() as u16).to_be_bytes());
    tlv.extend_from_slice(&sub);
    let mut v = vec![5u8];
    v.extend_from_slice(&(tlv.len() as u16).to_be_bytes());
    v.extend_from_slice(&tlv);
    v
}

/// The path attributes of UPDATE number `msg` of peer `spec.peer`, whose first route is the
/// peer's `first`-th (MP_REACH without its NLRI, which the caller appends last, so the attribute
/// is built in place).
fn attributes(spec: &StreamSpec, msg: usize, first: usize, vrf: u16) -> Vec<u8> {
    let mut a = Vec::with_capacity(128);
    attr(
        &mut a,
        0x40,
        1,
        &[if spec.family == Family::Vpnv6 { 2 } else { 0 }],
    );
    // AS_PATH: AS_SEQUENCE of two 4-octet ASes, the first one per peer.
    let mut path = vec![2u8, 2];
    path.extend_from_slice(&(64600 + (spec.peer % 100) as u32).to_be_bytes());
    path.extend_from_slice(&(3000 + (msg % 1000) as u32).to_be_bytes());
    if spec.family == Family::Vpnv6 {
        path.clear(); // FRR's own VPN routes: empty AS_PATH
    }
    attr(&mut a, 0x40, 2, &path);
    if spec.family == Family::Ipv4 {
        attr(&mut a, 0x40, 3, &spec.next_hop4.octets());
    }
    // MED: unique per UPDATE and peer, so no two UPDATEs share an attribute set.
    let med = (msg as u32)
        .wrapping_mul(128)
        .wrapping_add(spec.peer as u32);
    attr(&mut a, 0x80, 4, &med.to_be_bytes());
    attr(&mut a, 0x40, 5, &100u32.to_be_bytes());
    if spec.family == Family::Vpnv6 {
        let mut rt = vec![0x00, 0x02];
        rt.extend_from_slice(&65000u16.to_be_bytes());
        rt.extend_from_slice(&u32::from(vrf).to_be_bytes());
        attr(&mut a, 0xc0, 16, &rt);
        attr(&mut a, 0xc0, 40, &prefix_sid_value());
    } else {
        let mut comm = Vec::new();
        for c in [1u32, 2 + (msg % 97) as u32] {
            comm.extend_from_slice(&((65001u32 << 16) | c).to_be_bytes());
        }
        attr(&mut a, 0xc0, 8, &comm);
        if spec.prefix_sid && spec.family == Family::Ipv6 {
            attr(&mut a, 0xc0, 40, &srv6_l3_service(spec.sid(first), 0, 0));
        }
    }
    a
}

fn mp_head(spec: &StreamSpec, reach: bool) -> Vec<u8> {
    let (afi, safi) = spec.family.afi_safi();
    let mut v = afi.to_be_bytes().to_vec();
    v.push(safi);
    if reach {
        if spec.family == Family::Vpnv6 {
            v.push(24);
            v.extend_from_slice(&[0; 8]);
        } else {
            v.push(16);
        }
        v.extend_from_slice(&spec.next_hop6.octets());
        v.push(0);
    }
    v
}

/// Frame `body` (everything after the 19-octet header) as a message of `kind`.
pub fn frame(out: &mut Vec<u8>, kind: u8, body: &[u8]) {
    out.extend_from_slice(&[0xff; 16]);
    out.extend_from_slice(&((HEADER + body.len()) as u16).to_be_bytes());
    out.push(kind);
    out.extend_from_slice(body);
}

/// One UPDATE: `withdrawn` (IPv4), `attrs` (without MP), then either an MP attribute holding
/// `nlri` (with its head `mp`) or `nlri` in the NLRI field.
fn update(out: &mut Vec<u8>, withdrawn: &[u8], attrs: &[u8], mp: Option<(u8, &[u8])>, nlri: &[u8]) {
    let mut body = Vec::with_capacity(MAX_MESSAGE);
    body.extend_from_slice(&(withdrawn.len() as u16).to_be_bytes());
    body.extend_from_slice(withdrawn);
    let mut path = Vec::with_capacity(MAX_MESSAGE);
    if let Some((code, head)) = mp {
        // Extended Length always, as FRR sends MP_REACH_NLRI.
        path.extend_from_slice(&[0x90, code]);
        path.extend_from_slice(&((head.len() + nlri.len()) as u16).to_be_bytes());
        path.extend_from_slice(head);
        path.extend_from_slice(nlri);
    }
    path.extend_from_slice(attrs);
    body.extend_from_slice(&(path.len() as u16).to_be_bytes());
    body.extend_from_slice(&path);
    if mp.is_none() {
        body.extend_from_slice(nlri);
    }
    frame(out, 2, &body);
}

/// Build the announce and withdraw streams of one peer.
pub fn encode(spec: &StreamSpec) -> Encoded {
    let mut e = Encoded {
        announce: Vec::with_capacity(spec.prefixes * (nlri_len(spec) + 1) + 4096),
        ..Encoded::default()
    };
    let per = nlri_len(spec);
    let limit = if spec.per_update == 0 {
        usize::MAX
    } else {
        spec.per_update
    };
    let mp = spec.family != Family::Ipv4;
    // Announcements.
    let mut i = 0;
    while i < spec.prefixes {
        let vrf = vrf_of(i, spec.prefixes);
        let attrs = attributes(spec, e.announce_messages, i, vrf);
        let head = mp_head(spec, true);
        let fixed = HEADER + 4 + attrs.len() + if mp { 4 + head.len() } else { 0 };
        let mut nlri = Vec::with_capacity(MAX_MESSAGE);
        let mut n = 0;
        while i < spec.prefixes
            && n < limit
            && fixed + nlri.len() + per <= MAX_MESSAGE
            && (spec.family != Family::Vpnv6 || vrf_of(i, spec.prefixes) == vrf)
            && (n == 0 || !spec.sid_per_route())
        {
            put_nlri(&mut nlri, spec, i, false);
            i += 1;
            n += 1;
        }
        let mp_attr = mp.then_some((14u8, head.as_slice()));
        update(&mut e.announce, &[], &attrs, mp_attr, &nlri);
        e.announce_messages += 1;
    }
    // Withdrawals: as many as fit.
    let head = mp_head(spec, false);
    let fixed = HEADER + 4 + if mp { 4 + head.len() } else { 0 };
    let mut i = 0;
    while i < spec.prefixes {
        let mut nlri = Vec::with_capacity(MAX_MESSAGE);
        while i < spec.prefixes && fixed + nlri.len() + per <= MAX_MESSAGE {
            put_nlri(&mut nlri, spec, i, true);
            i += 1;
        }
        if mp {
            update(&mut e.withdraw, &[], &[], Some((15, &head)), &nlri);
        } else {
            update(&mut e.withdraw, &nlri, &[], None, &[]);
        }
        e.withdraw_messages += 1;
    }
    e
}
