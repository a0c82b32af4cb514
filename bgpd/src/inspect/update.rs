//! Views of UPDATE messages for `sidractl decode` and logs.
//!
//! The JSON shape (one object per UPDATE):
//! `{"type":"update", "announced":[{family, prefix, next_hop, rd, labels, path_id, srv6}],
//!   "withdrawn":[{family, prefix, rd, path_id}], "errors":[{attribute, action, reason}],
//!   "attributes":[{code, name, flags, value}], "end_of_rib": family|null}`.
//! `srv6.sid` is the effective SID (un-transposed); routes of an UPDATE treated as withdraw
//! appear under `withdrawn`.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::packet::UpdateMessage;
use crate::packet::attribute::community::community_to_string;
use crate::packet::attribute::{AttrValue, MpNlri, PathAttribute, attr_name};
use crate::packet::family::Family;
use crate::packet::nlri::Nlri;
use crate::packet::prefix_sid::{
    PrefixSid, PrefixSidTlv, SidInformation, SidStructureTlv, SidSubSubTlv, Srv6ServiceSubTlv,
    Srv6ServiceTlv,
};
use crate::packet::srv6::service_sid;

fn hex(b: &[u8]) -> String {
    b.iter()
        .fold(String::with_capacity(b.len() * 2), |mut s, x| {
            let _ = write!(s, "{x:02x}");
            s
        })
}

fn structure_json(s: &SidStructureTlv) -> Value {
    json!({
        "locator_block_len": s.block_len,
        "locator_node_len": s.node_len,
        "function_len": s.function_len,
        "argument_len": s.argument_len,
        "transposition_len": s.transposition_len,
        "transposition_offset": s.transposition_offset,
    })
}

fn behavior_name(b: u16) -> String {
    srv6_sid::Behavior::from_u16(b).name().to_string()
}

/// The SRv6 part of one announced route, `null` when it has none.
fn srv6_json(psid: Option<&PrefixSid>, n: &Nlri) -> Value {
    let Some(p) = psid else { return Value::Null };
    match service_sid(p, n) {
        Ok(Some(s)) => json!({
            "sid": s.sid.to_string(),
            "behavior": s.behavior,
            "behavior_name": behavior_name(s.behavior),
            "structure": s.structure.as_ref().map(structure_json),
        }),
        Ok(None) => Value::Null,
        Err(e) => json!({ "error": e }),
    }
}

fn nlri_json(family: Family, n: &Nlri) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("family".into(), json!(family.name()));
    m.insert("prefix".into(), json!(n.prefix.to_string()));
    m.insert(
        "rd".into(),
        n.vpn.map_or(Value::Null, |v| json!(v.rd.to_string())),
    );
    m.insert(
        "path_id".into(),
        n.path_id.map_or(Value::Null, |p| json!(p)),
    );
    m
}

/// The JSON object for one UPDATE.
pub fn update_json(u: &UpdateMessage) -> Value {
    let psid = u.prefix_sid();
    let v4_next_hop = u.attributes.iter().find_map(|a| match a.value {
        AttrValue::NextHop(nh) => Some(nh.to_string()),
        _ => None,
    });
    let mp_next_hop = u.mp_reach().and_then(|m| m.next_hop().ok());
    let announced: Vec<Value> = u
        .announced()
        .into_iter()
        .map(|(family, n)| {
            let mut m = nlri_json(family, n);
            let nh = if family == Family::IPV4_UNICAST && u.nlri.contains(n) {
                v4_next_hop.clone().map(Value::from)
            } else {
                mp_next_hop.map(|h| json!(h.global.to_string()))
            };
            m.insert("next_hop".into(), nh.unwrap_or(Value::Null));
            if let Some(ll) = mp_next_hop
                .and_then(|h| h.link_local)
                .filter(|_| family != Family::IPV4_UNICAST || !u.nlri.contains(n))
            {
                m.insert("next_hop_link_local".into(), json!(ll.to_string()));
            }
            m.insert(
                "labels".into(),
                n.vpn
                    .map_or_else(|| json!([]), |v| json!([v.label_value()])),
            );
            m.insert("srv6".into(), srv6_json(psid, n));
            Value::Object(m)
        })
        .collect();
    let withdrawn: Vec<Value> = u
        .withdrawals()
        .into_iter()
        .map(|(f, n)| Value::Object(nlri_json(f, n)))
        .collect();
    let errors: Vec<Value> = u
        .errors
        .iter()
        .map(|e| {
            json!({
                "attribute": e.attribute.map(attr_name),
                "action": e.action.name(),
                "reason": e.reason,
            })
        })
        .collect();
    json!({
        "type": "update",
        "announced": announced,
        "withdrawn": withdrawn,
        "errors": errors,
        "attributes": u.attributes.iter().map(attribute_json).collect::<Vec<_>>(),
        "end_of_rib": u.end_of_rib().map(|f| f.name()),
    })
}

fn attribute_json(a: &PathAttribute) -> Value {
    let value = match &a.value {
        AttrValue::Origin(o) => json!(match o {
            0 => "igp",
            1 => "egp",
            _ => "incomplete",
        }),
        AttrValue::AsPath(p) | AttrValue::As4Path(p) => json!(p.to_string()),
        AttrValue::NextHop(a) | AttrValue::OriginatorId(a) => json!(a.to_string()),
        AttrValue::Med(x) | AttrValue::LocalPref(x) => json!(x),
        AttrValue::AtomicAggregate => Value::Null,
        AttrValue::Aggregator { asn, address } | AttrValue::As4Aggregator { asn, address } => {
            json!({"asn": asn, "address": address.to_string()})
        }
        AttrValue::Communities(c) => {
            json!(
                c.iter()
                    .map(|x| community_to_string(*x))
                    .collect::<Vec<_>>()
            )
        }
        AttrValue::ClusterList(c) => json!(c.iter().map(|x| x.to_string()).collect::<Vec<_>>()),
        AttrValue::MpReach(m) => json!({
            "family": m.family.name(),
            "next_hop": hex(&m.next_hop),
            "nlri_count": m.nlri.prefixes().len(),
            "raw_nlri": match &m.nlri { MpNlri::Raw(r) => Value::from(hex(r)), MpNlri::Prefixes(_) => Value::Null },
        }),
        AttrValue::MpUnreach(m) => json!({
            "family": m.family.name(),
            "nlri_count": m.nlri.prefixes().len(),
        }),
        AttrValue::ExtendedCommunities(c) => {
            json!(c.iter().map(|x| x.to_string()).collect::<Vec<_>>())
        }
        AttrValue::LargeCommunities(c) => {
            json!(c.iter().map(|x| x.to_string()).collect::<Vec<_>>())
        }
        AttrValue::PrefixSid(p) => prefix_sid_json(p),
        AttrValue::Unknown { value, .. } => json!(hex(value)),
    };
    json!({
        "code": a.type_code(),
        "name": attr_name(a.type_code()),
        "flags": format!("0x{:02x}", a.flags),
        "value": value,
    })
}

fn sid_info_json(i: &SidInformation) -> Value {
    json!({
        "sid": i.sid.to_string(),
        "flags": i.flags,
        "behavior": i.behavior,
        "behavior_name": behavior_name(i.behavior),
        "sub_sub_tlvs": i.sub_sub_tlvs.iter().map(|s| match s {
            SidSubSubTlv::Structure(st) => json!({"type": 1, "structure": structure_json(st)}),
            SidSubSubTlv::Unknown { kind, value } => json!({"type": kind, "value": hex(value)}),
        }).collect::<Vec<_>>(),
    })
}

fn service_json(kind: &str, s: &Srv6ServiceTlv) -> Value {
    json!({
        "tlv": kind,
        "sub_tlvs": s.sub_tlvs.iter().map(|x| match x {
            Srv6ServiceSubTlv::SidInformation(i) => json!({"type": 1, "sid_information": sid_info_json(i)}),
            Srv6ServiceSubTlv::Unknown { kind, value } => json!({"type": kind, "value": hex(value)}),
        }).collect::<Vec<_>>(),
    })
}

fn prefix_sid_json(p: &PrefixSid) -> Value {
    json!(
        p.tlvs
            .iter()
            .map(|t| match t {
                PrefixSidTlv::LabelIndex {
                    flags, label_index, ..
                } => {
                    json!({"tlv": "label-index", "flags": flags, "label_index": label_index})
                }
                PrefixSidTlv::OriginatorSrgb { flags, ranges } => {
                    json!({"tlv": "originator-srgb", "flags": flags, "ranges": ranges})
                }
                PrefixSidTlv::Srv6L3Service(s) => service_json("srv6-l3-service", s),
                PrefixSidTlv::Srv6L2Service(s) => service_json("srv6-l2-service", s),
                PrefixSidTlv::Unknown { kind, value } => {
                    json!({"tlv": format!("type-{kind}"), "value": hex(value)})
                }
            })
            .collect::<Vec<_>>()
    )
}

/// One readable line for one UPDATE.
pub fn update_text(u: &UpdateMessage) -> String {
    let mut s = String::from("UPDATE");
    if let Some(f) = u.end_of_rib() {
        let _ = write!(s, " End-of-RIB {f}");
        return s;
    }
    let psid = u.prefix_sid();
    for (f, n) in u.announced() {
        let _ = write!(s, " +{f} {}", n.prefix);
        if let Some(v) = n.vpn {
            let _ = write!(s, " rd={} label={}", v.rd, v.label_value());
        }
        if let Some(p) = n.path_id {
            let _ = write!(s, " path-id={p}");
        }
        if let Some(p) = psid {
            match service_sid(p, n) {
                Ok(Some(sid)) => {
                    let _ = write!(s, " sid={} ({})", sid.sid, behavior_name(sid.behavior));
                }
                Ok(None) => {}
                Err(e) => {
                    let _ = write!(s, " sid-error=\"{e}\"");
                }
            }
        }
    }
    for (f, n) in u.withdrawals() {
        let _ = write!(s, " -{f} {}", n.prefix);
        if let Some(v) = n.vpn {
            let _ = write!(s, " rd={}", v.rd);
        }
    }
    if let Some(m) = u.mp_reach().and_then(|m| m.next_hop().ok()) {
        let _ = write!(s, " nh={}", m.global);
        if let Some(ll) = m.link_local {
            let _ = write!(s, "+{ll}");
        }
    }
    for a in &u.attributes {
        match &a.value {
            AttrValue::MpReach(_) | AttrValue::MpUnreach(_) => {}
            AttrValue::Origin(o) => {
                let _ = write!(
                    s,
                    " origin={}",
                    ["igp", "egp", "incomplete"][usize::from(*o).min(2)]
                );
            }
            AttrValue::AsPath(p) => {
                let _ = write!(s, " as-path=[{p}]");
            }
            AttrValue::NextHop(n) => {
                let _ = write!(s, " next-hop={n}");
            }
            AttrValue::Med(m) => {
                let _ = write!(s, " med={m}");
            }
            AttrValue::LocalPref(l) => {
                let _ = write!(s, " local-pref={l}");
            }
            AttrValue::OriginatorId(o) => {
                let _ = write!(s, " originator-id={o}");
            }
            AttrValue::ClusterList(c) => {
                let l: Vec<String> = c.iter().map(|x| x.to_string()).collect();
                let _ = write!(s, " cluster-list=[{}]", l.join(" "));
            }
            AttrValue::ExtendedCommunities(c) => {
                let l: Vec<String> = c.iter().map(|x| x.to_string()).collect();
                let _ = write!(s, " ext-communities=[{}]", l.join(" "));
            }
            AttrValue::Communities(c) => {
                let l: Vec<String> = c.iter().map(|x| community_to_string(*x)).collect();
                let _ = write!(s, " communities=[{}]", l.join(" "));
            }
            AttrValue::PrefixSid(_) => {}
            other => {
                let _ = write!(s, " {}", attr_name(other.type_code()));
            }
        }
    }
    for e in &u.errors {
        let _ = write!(
            s,
            " ERROR[{}: {}: {}]",
            e.attribute.map_or("nlri".into(), attr_name),
            e.action,
            e.reason
        );
    }
    s
}
