//! Policies as kernel nexthop objects (the mode when the kernel has them): each policy is one
//! nexthop (one segment list) or a group of them (several, weighted), and every steering route
//! to a policy is `PREFIX nhid N`. Changing a policy replaces its nexthop (or its members and
//! group) in place: every route steered into it follows at once, without being rewritten.
//!
//! Ids are derived from the binding SID (a hash into sidra's range, the next free one on a
//! collision) and remembered in the kernel by a route `BSID/128 nhid N` in
//! [`routes::BSID_TABLE`], which no rule looks up; [`Inner::read_nexthops`] rebuilds the
//! policies, their ids and the steering from the nexthops and routes of sidra's protocol.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::Ipv6Addr;

use ipnet::IpNet;

use super::nexthop::{self, Nexthop, NhKind};
use super::routes::{self, Hop, Parsed};
use super::{Inner, Msg, del_route, new_route};
use crate::dataplane::{DataplaneState, Policy, SegmentList, Steering};

/// sidra's nexthop ids: `0x5d000000..0x5e000000` (FRR's zebra uses `0x10000000..0x20000000`
/// for its protocols and lower ids for itself).
pub(super) const ID_BASE: u32 = 0x5d00_0000;
const ID_SPAN: u32 = 1 << 24;

/// A policy as programmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Installed {
    pub policy: Policy,
    /// The nexthop (one list) or group (several) that routes point at.
    pub id: u32,
    /// The group's members, one per list (empty with one list).
    pub members: Vec<u32>,
}

/// What the nexthop mode keeps between calls (rebuilt by every read).
#[derive(Debug, Default)]
pub(super) struct NhState {
    pub installed: BTreeMap<Ipv6Addr, Installed>,
    pub by_id: HashMap<u32, Ipv6Addr>,
    /// Every nexthop id in the kernel (any protocol) and every one allocated since.
    pub used: HashSet<u32>,
    /// The nexthop each steering route points at.
    pub steering: HashMap<(u32, IpNet), u32>,
    /// sidra's nexthops that belong to no policy (left by an interrupted change), deleted once
    /// no route uses them.
    pub orphans: Vec<u32>,
    /// End.B6.Encaps routes of the per-route mode (an older sidra), deleted by the next apply.
    pub legacy_b6: Vec<Ipv6Addr>,
}

fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

impl NhState {
    /// A free id for object `salt` of policy `bsid` (0: the policy, i: its i-th member).
    fn alloc(&mut self, bsid: Ipv6Addr, salt: u32) -> Result<u32, String> {
        let h = fnv1a(bsid.octets().into_iter().chain(salt.to_be_bytes()));
        // Bounded: at most one step per used id.
        for i in 0..=self.used.len() as u32 {
            let id = ID_BASE + h.wrapping_add(i) % ID_SPAN;
            if self.used.insert(id) {
                return Ok(id);
            }
        }
        Err("no free nexthop id".to_string())
    }

    fn free(&mut self, ids: impl IntoIterator<Item = u32>) {
        for id in ids {
            self.used.remove(&id);
            self.by_id.remove(&id);
        }
    }
}

/// The kernel weights of a policy's lists.
fn weights(p: &Policy) -> Result<Vec<u8>, String> {
    p.segment_lists
        .iter()
        .map(|l| nexthop::group_weight(l.weight))
        .collect()
}

impl Inner {
    fn nh_state(&mut self) -> Result<&mut NhState, String> {
        self.nh
            .as_mut()
            .ok_or_else(|| "nexthop objects are not in use".to_string())
    }

    /// New objects for `p` (fresh ids): (id, members, messages).
    fn create(&mut self, p: &Policy, hops: &[Hop]) -> Result<(u32, Vec<u32>, Vec<Msg>), String> {
        let proto = self.proto;
        let w = weights(p)?;
        let nh = self.nh_state()?;
        let id = nh.alloc(p.bsid, 0)?;
        let mut msgs = Vec::with_capacity(p.segment_lists.len() + 1);
        match (p.segment_lists.as_slice(), hops) {
            ([l], [h]) => {
                msgs.push(nexthop::encap(id, proto, &l.segments, *h, false));
                Ok((id, Vec::new(), msgs))
            }
            (lists, hops) => {
                let mut members = Vec::with_capacity(lists.len());
                for (i, (l, h)) in lists.iter().zip(hops).enumerate() {
                    let m = nh.alloc(p.bsid, i as u32 + 1)?;
                    msgs.push(nexthop::encap(m, proto, &l.segments, *h, false));
                    members.push(m);
                }
                let g: Vec<(u32, u8)> = members.iter().copied().zip(w).collect();
                msgs.push(nexthop::group(id, proto, &g, false));
                Ok((id, members, msgs))
            }
        }
    }

    /// Add or modify policy `p`: its nexthop (or members and group) replaced in place when
    /// the number of lists keeps one or several; otherwise new objects, the steering routes
    /// moved to them, and the old ones deleted.
    pub(super) fn nh_set_policy(
        &mut self,
        p: &Policy,
        cache: &mut HashMap<Ipv6Addr, Result<Hop, String>>,
    ) -> Result<Vec<Msg>, String> {
        if p.segment_lists.is_empty() {
            return Err(format!("policy {} has no segment list", p.bsid));
        }
        let hops = self.hops(p, cache, false)?;
        let proto = self.proto;
        let w = weights(p)?;
        let multi = p.segment_lists.len() > 1;
        let old = self.nh_state()?.installed.get(&p.bsid).cloned();
        let mut msgs = Vec::new();
        let (id, members) = match old {
            Some(o) if o.members.is_empty() != multi => {
                let nh = self.nh_state()?;
                let mut members = Vec::new();
                if multi {
                    for (i, (l, h)) in p.segment_lists.iter().zip(&hops).enumerate() {
                        let (m, replace) = match o.members.get(i) {
                            Some(m) => (*m, true),
                            None => (nh.alloc(p.bsid, i as u32 + 1)?, false),
                        };
                        msgs.push(nexthop::encap(m, proto, &l.segments, *h, replace));
                        members.push(m);
                    }
                    let g: Vec<(u32, u8)> = members.iter().copied().zip(w).collect();
                    msgs.push(nexthop::group(o.id, proto, &g, true));
                    for m in o.members.iter().skip(members.len()) {
                        msgs.push(nexthop::del(*m));
                    }
                    nh.free(o.members.iter().skip(members.len()).copied());
                } else {
                    let l = &p.segment_lists[0];
                    msgs.push(nexthop::encap(o.id, proto, &l.segments, hops[0], true));
                }
                (o.id, members)
            }
            Some(o) => {
                let (id, members, created) = self.create(p, &hops)?;
                msgs.extend(created);
                let nh = self.nh_state()?;
                for (k, v) in nh.steering.iter_mut().filter(|(_, v)| **v == o.id) {
                    msgs.push(new_route(routes::steering_nh(proto, k.0, k.1, id)));
                    *v = id;
                }
                msgs.push(nexthop::del(o.id));
                msgs.extend(o.members.iter().map(|m| nexthop::del(*m)));
                nh.free(std::iter::once(o.id).chain(o.members.iter().copied()));
                (id, members)
            }
            None => {
                let (id, members, created) = self.create(p, &hops)?;
                msgs.extend(created);
                (id, members)
            }
        };
        // Before the old objects go (their deletion would take the record with them).
        let at = msgs
            .iter()
            .position(|m| matches!(&m.payload, netlink_packet_core::NetlinkPayload::InnerMessage(nexthop::Req::Nh(n)) if n.kind == nexthop::RTM_DELNEXTHOP))
            .unwrap_or(msgs.len());
        msgs.insert(at, new_route(routes::bsid_record(proto, p.bsid, id)));
        let nh = self.nh_state()?;
        nh.by_id.insert(id, p.bsid);
        nh.installed.insert(
            p.bsid,
            Installed {
                policy: p.clone(),
                id,
                members,
            },
        );
        Ok(msgs)
    }

    /// Forget a policy whose change failed (the next read finds what the kernel has).
    pub(super) fn nh_forget(&mut self, bsid: Ipv6Addr) {
        if let Some(nh) = self.nh.as_mut()
            && let Some(o) = nh.installed.remove(&bsid)
        {
            nh.by_id.remove(&o.id);
        }
    }

    pub(super) fn nh_del_policy(&mut self, p: &Policy) -> Result<Vec<Msg>, String> {
        let proto = self.proto;
        let nh = self.nh_state()?;
        let mut msgs = vec![del_route(routes::key(
            proto,
            IpNet::V6(p.bsid.into()),
            routes::BSID_TABLE,
        ))];
        if let Some(o) = nh.installed.remove(&p.bsid) {
            msgs.push(nexthop::del(o.id));
            msgs.extend(o.members.iter().map(|m| nexthop::del(*m)));
            nh.free(std::iter::once(o.id).chain(o.members));
        }
        Ok(msgs)
    }

    pub(super) fn nh_steering(&mut self, s: &Steering) -> Result<Msg, String> {
        let proto = self.proto;
        let nh = self.nh_state()?;
        let id = nh
            .installed
            .get(&s.bsid)
            .map(|i| i.id)
            .ok_or_else(|| format!("policy {} is not installed", s.bsid))?;
        nh.steering.insert(s.key(), id);
        Ok(new_route(routes::steering_nh(proto, s.table, s.prefix, id)))
    }

    pub(super) fn nh_del_steering(&mut self, s: &Steering) {
        if let Some(nh) = self.nh.as_mut() {
            nh.steering.remove(&s.key());
        }
    }

    /// Deletions of what is left over: End.B6.Encaps routes of the per-route mode, and
    /// orphan nexthops no route uses any more.
    pub(super) fn nh_cleanup(&mut self) -> Vec<Msg> {
        let proto = self.proto;
        let Some(nh) = self.nh.as_mut() else {
            return Vec::new();
        };
        let mut out: Vec<Msg> = std::mem::take(&mut nh.legacy_b6)
            .into_iter()
            .map(|b| {
                del_route(routes::key(
                    proto,
                    IpNet::V6(b.into()),
                    crate::dataplane::MAIN_TABLE,
                ))
            })
            .collect();
        if !nh.orphans.is_empty() {
            let in_use: HashSet<u32> = nh.steering.values().copied().collect();
            let (keep, gone): (Vec<u32>, Vec<u32>) =
                nh.orphans.iter().partition(|id| in_use.contains(id));
            nh.orphans = keep;
            out.extend(gone.iter().map(|id| nexthop::del(*id)));
            nh.free(gone);
        }
        out
    }

    /// The policies and steering of the nexthop mode, from sidra's nexthops and the routes to
    /// them; `legacy` are the per-route mode's steering routes and End.B6.Encaps policies.
    pub(super) fn read_nexthops(
        &mut self,
        st: &mut DataplaneState,
        nexthops: Vec<Nexthop>,
        routes: Vec<Parsed>,
    ) {
        let proto = self.proto;
        let Some(nh) = self.nh.as_mut() else {
            return;
        };
        let old = std::mem::take(&mut nh.installed);
        nh.by_id.clear();
        nh.steering.clear();
        nh.legacy_b6.clear();
        nh.used = nexthops.iter().map(|n| n.id).collect();
        let ours: HashMap<u32, NhKind> = nexthops
            .into_iter()
            .filter(|n| n.protocol == proto)
            .map(|n| (n.id, n.kind))
            .collect();
        let mut claimed = HashSet::new();
        let mut steering = Vec::new();
        for r in routes {
            match r {
                Parsed::Bsid { bsid, nhid } => {
                    let Some(i) = installed_of(&ours, bsid, nhid, old.get(&bsid)) else {
                        continue;
                    };
                    claimed.insert(i.id);
                    claimed.extend(i.members.iter().copied());
                    nh.by_id.insert(i.id, bsid);
                    st.add_policy(i.policy.clone());
                    nh.installed.insert(bsid, i);
                }
                Parsed::SteeringNh {
                    table,
                    prefix,
                    nhid,
                } => steering.push((table, prefix, nhid)),
                // The per-route mode's: replaced (steering into `::` is set again by the next
                // diff) or deleted.
                Parsed::Steering { table, prefix, .. } => st.add_steering(Steering {
                    table,
                    prefix,
                    bsid: Ipv6Addr::UNSPECIFIED,
                }),
                Parsed::Policy(p) => nh.legacy_b6.push(p.bsid),
                _ => {}
            }
        }
        for (table, prefix, nhid) in steering {
            nh.steering.insert((table, prefix), nhid);
            st.add_steering(Steering {
                table,
                prefix,
                bsid: nh
                    .by_id
                    .get(&nhid)
                    .copied()
                    .unwrap_or(Ipv6Addr::UNSPECIFIED),
            });
        }
        nh.orphans = ours
            .keys()
            .filter(|id| !claimed.contains(id))
            .copied()
            .collect();
    }
}

/// The policy `bsid` whose record points at `nhid`, if its objects are whole.
fn installed_of(
    ours: &HashMap<u32, NhKind>,
    bsid: Ipv6Addr,
    nhid: u32,
    before: Option<&Installed>,
) -> Option<Installed> {
    let encap = |id: &u32| match ours.get(id) {
        Some(NhKind::Encap { segments }) => Some(segments.clone()),
        _ => None,
    };
    match ours.get(&nhid)? {
        NhKind::Encap { segments } => {
            // One list has no weight in the kernel: the one applied if the segments agree.
            let weight = match before.map(|b| b.policy.segment_lists.as_slice()) {
                Some([l]) if &l.segments == segments => l.weight,
                _ => 1,
            };
            Some(Installed {
                policy: Policy {
                    bsid,
                    segment_lists: vec![SegmentList {
                        segments: segments.clone(),
                        weight,
                    }],
                },
                id: nhid,
                members: Vec::new(),
            })
        }
        NhKind::Group(g) => {
            let mut lists = Vec::with_capacity(g.len());
            for (m, weight) in g {
                lists.push(SegmentList {
                    segments: encap(m)?,
                    weight: *weight,
                });
            }
            Some(Installed {
                policy: Policy {
                    bsid,
                    segment_lists: lists,
                },
                id: nhid,
                members: g.iter().map(|(m, _)| *m).collect(),
            })
        }
        NhKind::Other => None,
    }
}
