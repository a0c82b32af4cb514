//! Packing outgoing routes into UPDATE messages (pure).
//!
//! [`pack`] turns one batch of changes for a peer ([`OutRoute`]: an announcement with the exact
//! attributes to send, or a withdrawal) into whole encoded UPDATE messages, header included,
//! none longer than `cx.max_message_len`. Four kinds of message come out:
//!
//! ```text
//! kind                 Withdrawn Routes   Path Attributes                              NLRI
//! IPv4 withdrawal      prefixes           -                                            -
//! other withdrawal     -                  MP_UNREACH_NLRI(AFI, SAFI, prefixes)         -
//! IPv4 announcement    -                  attributes, NEXT_HOP among them              prefixes
//! other announcement   -                  MP_REACH_NLRI(AFI, SAFI, next hop, prefixes),
//!                                         then the attributes (no NEXT_HOP)
//! ```
//!
//! How: one pass over the routes, each read once. Every route is put in a *group*:
//! withdrawals by family, announcements by attribute set (the same `Arc<PathAttrs>`, found by
//! address with a one-entry cache for runs, or an equal one, found by value) and family. A
//! group's attributes are encoded once, when the group is created. Each group fills one open
//! message in a `BytesMut` it reuses: the fixed part, then the route's NLRI (written with
//! [`encode_nlri`]) while [`encoded_len`] says the next one still fits; a full message gets its
//! lengths (and, for MP_REACH_NLRI, the attributes that follow) and is copied into one
//! allocation of exactly its size. Nothing is allocated per route.
//!
//! Order (deterministic: the same input gives the same bytes): all withdrawals first, then all
//! announcements; within each, groups in the order of their first route in the input, and
//! within a group the routes in input order. A batch should hold at most one change per
//! (family, NLRI, path id); if it holds a withdrawal and an announcement of the same route,
//! the announcement is what the peer ends up with.
//!
//! Routes that cannot be sent are skipped and counted in [`PackStats`]: no next hop, an
//! attribute set that leaves no room for the NLRI, an NLRI that is not of its family (or of a
//! family whose NLRI sidra cannot encode), a next hop that the family cannot carry.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use ipnet::IpNet;

use super::path::PathAttrs;
use crate::packet::attribute::mp::{NextHop, next_hop_bytes, parse_next_hop};
use crate::packet::attribute::{
    AttrValue, FLAG_EXTENDED_LENGTH, FLAG_OPTIONAL, PathAttribute, attr_type, encode_attribute,
};
use crate::packet::nlri::{Nlri, encode_nlri, encoded_len};
use crate::packet::{
    Afi, EncodeContext, Family, HEADER_LEN, MAX_EXTENDED_MESSAGE_LEN, Safi, msg_type,
};

#[cfg(test)]
mod tests;

/// One change to send: an announcement (with the exact attributes to send, next hop included)
/// or a withdrawal (`attrs: None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutRoute {
    pub family: Family,
    /// The route; its path identifier is sent when `family` is in the context's `add_path`
    /// (0 if it has none).
    pub nlri: Nlri,
    /// The attribute set to send, next hop included; `None` withdraws the route.
    pub attrs: Option<Arc<PathAttrs>>,
}

/// What one [`pack_with_stats`] call did, route by route.
///
/// `announced + withdrawn + skipped_*` is the number of input routes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PackStats {
    /// UPDATE messages produced.
    pub updates: usize,
    /// Announcements carried.
    pub announced: usize,
    /// Withdrawals carried.
    pub withdrawn: usize,
    /// Announcements whose attribute set has no next hop (neither `PathAttrs::next_hop` nor,
    /// for IPv4 unicast, a NEXT_HOP attribute).
    pub skipped_no_next_hop: usize,
    /// Routes that do not fit in one message even alone (the attribute set is too large for
    /// `max_message_len`).
    pub skipped_too_large: usize,
    /// Routes that cannot be encoded: the NLRI is not of the route's family (address family,
    /// label and RD present exactly for VPN families, a label field of at most 24 bits), the
    /// family is not one whose NLRI sidra encodes, or the next hop cannot be carried in the
    /// family (e.g. an IPv4 next hop for IPv6 unicast).
    pub skipped_invalid: usize,
}

/// Pack `routes` into as few encoded UPDATE messages as the maximum message size allows.
///
/// Each element is one whole message, header included, at most `cx.max_message_len` bytes.
/// Routes that cannot be sent are left out; [`pack_with_stats`] counts them.
pub fn pack(routes: &[OutRoute], cx: &EncodeContext) -> Vec<Bytes> {
    pack_with_stats(routes, cx).0
}

/// [`pack`], with what was carried and what was skipped.
pub fn pack_with_stats(routes: &[OutRoute], cx: &EncodeContext) -> (Vec<Bytes>, PackStats) {
    let mut out = Vec::new();
    let stats = pack_into(routes, cx, &mut out);
    (out, stats)
}

/// [`pack_with_stats`], appending the messages to `out` after what it already holds (so that a
/// caller can reuse its vector).
pub fn pack_into(routes: &[OutRoute], cx: &EncodeContext, out: &mut Vec<Bytes>) -> PackStats {
    let mut st = PackStats::default();
    // RFC 4271 §4.1: "The value of the Length field MUST always be at least 19 and no greater
    // than 4096"; RFC 8654 raises the bound to 65535, all that the 2-octet field can hold.
    let max = cx.max_message_len.min(MAX_EXTENDED_MESSAGE_LEN);
    // One pass over the routes, each read once: its group, then into the group's open message.
    let mut groups = Groups::new(cx);
    for r in routes {
        if let Some(g) = groups.classify(r, &mut st) {
            g.push(&r.nlri, max, &mut st);
        }
    }
    // Withdrawals first, then announcements; groups in order of their first route.
    for withdrawals in [true, false] {
        for g in &mut groups.list {
            if g.layout.is_withdrawal() == withdrawals {
                out.append(&mut g.done);
                out.extend(g.close(&mut st));
            }
        }
    }
    st
}

/// Header, Withdrawn Routes Length and Total Path Attribute Length (RFC 4271 §4.1, §4.3).
const FIXED_LEN: usize = HEADER_LEN + 2 + 2;
/// Offsets in a message: the Length field, the Withdrawn Routes Length, the Total Path
/// Attribute Length, the first attribute and, when it is an MP attribute written with a 2-octet
/// length, its value.
const AT_LEN: usize = 16;
const AT_WITHDRAWN_LEN: usize = HEADER_LEN;
const AT_ATTRS_LEN: usize = HEADER_LEN + 2;
const AT_FIRST_ATTR: usize = FIXED_LEN;
const AT_MP_VALUE: usize = FIXED_LEN + 4;

/// The routes that go into the same messages, how those messages are laid out, and the
/// message being filled.
struct Group {
    family: Family,
    /// RFC 7911: the NLRI carry path identifiers.
    add_path: bool,
    layout: Layout,
    /// The open message (empty when `routes` is 0): reused from one message to the next.
    buf: BytesMut,
    /// Octets of NLRI and routes in the open message.
    nlri: usize,
    routes: usize,
    /// The finished messages, in order.
    done: Vec<Bytes>,
}

/// One kind of message: the octets before the NLRI (`start`), the NLRI, the octets after them
/// (`finish`).
///
/// RFC 7606 §5.1: "An UPDATE message MUST NOT contain more than one of the following:
/// non-empty Withdrawn Routes field, non-empty Network Layer Reachability Information field,
/// MP_REACH_NLRI attribute, and MP_UNREACH_NLRI attribute." So every message is of exactly one
/// of these kinds (IPv4 withdrawals never ride along with IPv4 announcements).
enum Layout {
    /// IPv4 unicast withdrawals in the Withdrawn Routes field.
    Withdrawn,
    /// Withdrawals of another family in MP_UNREACH_NLRI.
    MpUnreach,
    /// IPv4 unicast announcements in the NLRI field, after `attrs` (every path attribute,
    /// NEXT_HOP included, encoded).
    Nlri { attrs: BytesMut },
    /// Announcements in MP_REACH_NLRI: `head` is its value up to the NLRI (AFI, SAFI, next hop
    /// length, next hop, reserved octet); `attrs` are the other attributes, encoded.
    MpReach { head: Vec<u8>, attrs: BytesMut },
    /// The routes of this group cannot be sent (they are counted when classified).
    Skip(SkipReason),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SkipReason {
    NoNextHop,
    Invalid,
}

/// The whole length of an MP attribute whose value is `value` octets: flags, type and a 1-octet
/// length, or a 2-octet one (Extended Length) past 255.
fn mp_attr_len(value: usize) -> usize {
    value + if value > 255 { 4 } else { 3 }
}

/// A length that the callers have bounded by 65535 (the message length).
fn len16(n: usize) -> [u8; 2] {
    u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes()
}

fn patch16(buf: &mut BytesMut, at: usize, n: usize) {
    if let Some(b) = buf.get_mut(at..at + 2) {
        b.copy_from_slice(&len16(n));
    }
}

impl Layout {
    fn is_withdrawal(&self) -> bool {
        matches!(self, Layout::Withdrawn | Layout::MpUnreach)
    }

    /// The length of the whole message when it carries `nlri` octets of NLRI.
    fn message_len(&self, nlri: usize) -> usize {
        match self {
            Layout::Withdrawn => FIXED_LEN + nlri,
            Layout::MpUnreach => FIXED_LEN + mp_attr_len(3 + nlri),
            Layout::Nlri { attrs } => FIXED_LEN + attrs.len() + nlri,
            Layout::MpReach { head, attrs } => {
                FIXED_LEN + mp_attr_len(head.len() + nlri) + attrs.len()
            }
            Layout::Skip(_) => usize::MAX,
        }
    }

    /// Write into the empty `out` everything that comes before the NLRI; the lengths that
    /// depend on the NLRI are zero until [`Layout::finish`].
    fn start(&self, family: Family, out: &mut BytesMut) {
        out.put_slice(&[0xff; 16]);
        out.put_u16(0);
        out.put_u8(msg_type::UPDATE);
        out.put_u16(0); // Withdrawn Routes Length
        match self {
            Layout::Withdrawn | Layout::Skip(_) => {}
            // RFC 7606 §5.1: "The MP_REACH_NLRI or MP_UNREACH_NLRI attribute (if present) SHALL
            // be encoded as the very first path attribute in an UPDATE message." It is written
            // with a 2-octet length; `finish` shortens that when the value turns out short.
            Layout::MpUnreach => {
                out.put_u16(0);
                out.put_slice(&[
                    FLAG_OPTIONAL | FLAG_EXTENDED_LENGTH,
                    attr_type::MP_UNREACH_NLRI,
                ]);
                out.put_u16(0);
                out.put_u16(family.afi.to_u16());
                out.put_u8(family.safi.to_u8());
            }
            Layout::Nlri { attrs } => {
                out.put_slice(&len16(attrs.len()));
                out.put_slice(attrs);
            }
            Layout::MpReach { head, .. } => {
                out.put_u16(0);
                out.put_slice(&[
                    FLAG_OPTIONAL | FLAG_EXTENDED_LENGTH,
                    attr_type::MP_REACH_NLRI,
                ]);
                out.put_u16(0);
                out.put_slice(head);
            }
        }
    }

    /// Complete the message in `out`, which holds [`Layout::start`] and `nlri` octets of NLRI.
    fn finish(&self, nlri: usize, out: &mut BytesMut) {
        match self {
            Layout::Withdrawn => {
                patch16(out, AT_WITHDRAWN_LEN, nlri);
                out.put_u16(0); // Total Path Attribute Length
            }
            Layout::MpUnreach | Layout::MpReach { .. } => {
                let value = out.len().saturating_sub(AT_MP_VALUE);
                if let Ok(short) = u8::try_from(value) {
                    // One-octet length: the value moves down by the octet saved.
                    out[AT_FIRST_ATTR] = FLAG_OPTIONAL;
                    out[AT_MP_VALUE - 2] = short;
                    out.copy_within(AT_MP_VALUE.., AT_MP_VALUE - 1);
                    out.truncate(out.len() - 1);
                } else {
                    patch16(out, AT_MP_VALUE - 2, value);
                }
                // RFC 7606 §5.1 (as above): the other attributes after MP_REACH_NLRI.
                if let Layout::MpReach { attrs, .. } = self {
                    out.put_slice(attrs);
                }
                let attrs_len = out.len() - FIXED_LEN;
                patch16(out, AT_ATTRS_LEN, attrs_len);
            }
            Layout::Nlri { .. } | Layout::Skip(_) => {}
        }
        let len = out.len();
        patch16(out, AT_LEN, len);
    }
}

impl Group {
    /// Add one route to the open message, first closing it if the route does not fit.
    fn push(&mut self, n: &Nlri, max: usize, st: &mut PackStats) {
        let l = encoded_len(n, self.add_path);
        if self.layout.message_len(self.nlri + l) > max {
            if self.layout.message_len(l) > max {
                st.skipped_too_large += 1;
                return;
            }
            if let Some(m) = self.close(st) {
                self.done.push(m);
            }
        }
        if self.routes == 0 {
            self.layout.start(self.family, &mut self.buf);
        }
        encode_nlri(n, self.add_path, &mut self.buf);
        self.nlri += l;
        self.routes += 1;
    }

    /// Close the open message, if any, into one allocation of exactly its size.
    fn close(&mut self, st: &mut PackStats) -> Option<Bytes> {
        if self.routes == 0 {
            return None;
        }
        self.layout.finish(self.nlri, &mut self.buf);
        debug_assert_eq!(self.buf.len(), self.layout.message_len(self.nlri));
        let msg = Bytes::copy_from_slice(&self.buf);
        self.buf.clear();
        st.updates += 1;
        if self.layout.is_withdrawal() {
            st.withdrawn += self.routes;
        } else {
            st.announced += self.routes;
        }
        self.nlri = 0;
        self.routes = 0;
        Some(msg)
    }
}

/// The groups of one batch, found by attribute-set pointer first and value second.
///
/// RFC 4271 §4.3: "An UPDATE message is used to advertise feasible routes that share common
/// path attributes to a peer, or to withdraw multiple unfeasible routes from service".
struct Groups<'a> {
    cx: &'a EncodeContext,
    list: Vec<Group>,
    /// Withdrawal groups by family (a handful).
    withdrawals: Vec<(Family, usize)>,
    /// Announcement groups by attribute-set address and family.
    by_ptr: HashMap<(usize, Family), usize, BuildHasherDefault<AddrHasher>>,
    /// Announcement groups by attribute-set value and family (equal sets held in different
    /// `Arc`s share messages).
    by_value: HashMap<(&'a PathAttrs, Family), usize>,
    /// The last announcement lookup: runs of routes usually share their attribute set.
    last: Option<(usize, Family, usize)>,
}

impl<'a> Groups<'a> {
    fn new(cx: &'a EncodeContext) -> Self {
        Groups {
            cx,
            list: Vec::new(),
            withdrawals: Vec::new(),
            by_ptr: HashMap::default(),
            by_value: HashMap::new(),
            last: None,
        }
    }

    /// The group of `r`, or `None` (counted in `st`) if it cannot be sent.
    fn classify(&mut self, r: &'a OutRoute, st: &mut PackStats) -> Option<&mut Group> {
        if !nlri_matches(r.family, &r.nlri) {
            st.skipped_invalid += 1;
            return None;
        }
        let g = match &r.attrs {
            None => self.withdrawal_group(r.family),
            Some(a) => self.announcement_group(a, r.family),
        };
        let group = self.list.get_mut(g)?;
        match group.layout {
            Layout::Skip(SkipReason::NoNextHop) => {
                st.skipped_no_next_hop += 1;
                None
            }
            Layout::Skip(SkipReason::Invalid) => {
                st.skipped_invalid += 1;
                None
            }
            _ => Some(group),
        }
    }

    fn add(&mut self, family: Family, layout: Layout) -> usize {
        self.list.push(Group {
            family,
            add_path: self.cx.add_path.contains(family),
            layout,
            buf: BytesMut::new(),
            nlri: 0,
            routes: 0,
            done: Vec::new(),
        });
        self.list.len() - 1
    }

    fn withdrawal_group(&mut self, family: Family) -> usize {
        if let Some(&(_, g)) = self.withdrawals.iter().find(|(f, _)| *f == family) {
            return g;
        }
        // RFC 4760 §4: "An UPDATE message that contains the MP_UNREACH_NLRI is not required to
        // carry any other path attributes."
        let layout = if family == Family::IPV4_UNICAST {
            Layout::Withdrawn
        } else {
            Layout::MpUnreach
        };
        let g = self.add(family, layout);
        self.withdrawals.push((family, g));
        g
    }

    fn announcement_group(&mut self, attrs: &'a Arc<PathAttrs>, family: Family) -> usize {
        // The address identifies the set while `attrs` is borrowed (it cannot be freed and
        // reused meanwhile).
        let p = Arc::as_ptr(attrs).addr();
        if let Some((lp, lf, g)) = self.last
            && lp == p
            && lf == family
        {
            return g;
        }
        let g = match self.by_ptr.get(&(p, family)) {
            Some(&g) => g,
            None => {
                let pa: &'a PathAttrs = attrs;
                let g = match self.by_value.get(&(pa, family)) {
                    Some(&g) => g,
                    None => {
                        let layout = announcement_layout(pa, family, self.cx);
                        let g = self.add(family, layout);
                        self.by_value.insert((pa, family), g);
                        g
                    }
                };
                self.by_ptr.insert((p, family), g);
                g
            }
        };
        self.last = Some((p, family, g));
        g
    }
}

/// A hasher for the (address, family) keys of `Groups::by_ptr`: the keys are our own
/// addresses, so no protection against chosen keys is needed, only speed and spread (the low
/// bits of an address are zero, so the result goes through a full 64-bit mix).
#[derive(Default)]
struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn finish(&self) -> u64 {
        // The finalizer of MurmurHash3 (fmix64).
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// Is `n` an NLRI of `family` that [`encode_nlri`] writes faithfully?
fn nlri_matches(family: Family, n: &Nlri) -> bool {
    let afi = matches!(
        (family.afi, n.prefix),
        (Afi::Ipv4, IpNet::V4(_)) | (Afi::Ipv6, IpNet::V6(_))
    );
    let safi = match (family.safi, &n.vpn) {
        (Safi::Unicast, None) => true,
        // The label field is 3 octets on the wire (RFC 8277 §2).
        (Safi::MplsVpn, Some(v)) => v.label <= 0x00ff_ffff,
        _ => false,
    };
    afi && safi
}

/// How the announcements of `family` with attribute set `pa` are sent.
fn announcement_layout(pa: &PathAttrs, family: Family, cx: &EncodeContext) -> Layout {
    let has_next_hop_attr = pa.has(attr_type::NEXT_HOP);
    if family == Family::IPV4_UNICAST {
        // RFC 4271 §5.1.3: "The NEXT_HOP is a well-known mandatory attribute that defines the
        // IP address of the router that SHOULD be used as the next hop to the destinations
        // listed in the UPDATE message." An IPv4 next hop goes there, the NEXT_HOP the set
        // carries first; an IPv6 one needs MP_REACH_NLRI (RFC 8950, below).
        match pa.next_hop {
            Some(NextHop {
                global: IpAddr::V6(_),
                ..
            }) => {}
            Some(NextHop {
                global: IpAddr::V4(a),
                ..
            }) => {
                let insert = (!has_next_hop_attr).then_some(a);
                return Layout::Nlri {
                    attrs: encode_attrs(pa, cx, insert, false),
                };
            }
            None if has_next_hop_attr => {
                return Layout::Nlri {
                    attrs: encode_attrs(pa, cx, None, false),
                };
            }
            None => return Layout::Skip(SkipReason::NoNextHop),
        }
    }
    let Some(nh) = pa.next_hop else {
        return Layout::Skip(SkipReason::NoNextHop);
    };
    // RFC 8950 §3: "When the AFI/SAFI is <1/1>, <1/2>, or <1/4> and when the Length of Next
    // Hop Address field is equal to 16 or 32, the next-hop address is of type IPv6."
    // `next_hop_bytes` gives that form (and RFC 4364 / RFC 4659 forms with a zero RD for the
    // VPN families); a length the receiver would not accept for the family is not sent.
    let next_hop = next_hop_bytes(family, &nh);
    let Ok(nh_len) = u8::try_from(next_hop.len()) else {
        return Layout::Skip(SkipReason::Invalid);
    };
    if parse_next_hop(family, &next_hop).is_err() {
        return Layout::Skip(SkipReason::Invalid);
    }
    let mut head = Vec::with_capacity(5 + next_hop.len());
    head.extend_from_slice(&family.afi.to_u16().to_be_bytes());
    head.push(family.safi.to_u8());
    head.push(nh_len);
    head.extend_from_slice(&next_hop);
    // RFC 4760 §3, Reserved: "A 1 octet field that MUST be set to 0".
    head.push(0);
    // RFC 4760 §3: "An UPDATE message that carries no NLRI, other than the one encoded in the
    // MP_REACH_NLRI attribute, SHOULD NOT carry the NEXT_HOP attribute."
    Layout::MpReach {
        head,
        attrs: encode_attrs(pa, cx, None, true),
    }
}

/// Encode the attributes of `pa` in their order, without MP attributes (they are built here),
/// without NEXT_HOP if `drop_next_hop`, and with a NEXT_HOP for `insert` added.
fn encode_attrs(
    pa: &PathAttrs,
    cx: &EncodeContext,
    insert: Option<Ipv4Addr>,
    drop_next_hop: bool,
) -> BytesMut {
    let mut b = BytesMut::new();
    // RFC 4271 §5: "The sender of an UPDATE message SHOULD order path attributes within the
    // UPDATE message in ascending order of attribute type." The set is kept in the order the
    // RIB wants (type-code order for our routes, as received when reflected); the NEXT_HOP we
    // add goes before the first attribute of a higher type code.
    let mut pending = insert.map(|a| PathAttribute::new(AttrValue::NextHop(a)));
    for a in &pa.attrs {
        match a.value {
            AttrValue::MpReach(_) | AttrValue::MpUnreach(_) => continue,
            AttrValue::NextHop(_) if drop_next_hop => continue,
            _ => {}
        }
        if let Some(nh) = pending.take_if(|_| a.type_code() > attr_type::NEXT_HOP) {
            encode_attribute(&nh, cx, &mut b);
        }
        encode_attribute(a, cx, &mut b);
    }
    if let Some(nh) = pending {
        encode_attribute(&nh, cx, &mut b);
    }
    b
}
