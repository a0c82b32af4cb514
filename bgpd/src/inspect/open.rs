//! Views of OPEN messages and their capabilities.
//!
//! JSON: `{"type":"open","version","asn","my_as","hold_time","bgp_id","params_style",
//! "extended_params","capabilities":[{"code":1,"name":"multiprotocol","family":"ipv6-unicast"},
//! ...]}`, plus `"unknown_params"` when the OPEN has parameters other than capabilities.
//! Text: `OPEN v4 as=65000 hold=9 id=2.2.2.2 caps=[multiprotocol(ipv4-unicast), ...]`.

use serde_json::{Map, Value, json};

use super::{afi_name, hex};
use crate::packet::capability::{
    Capability, GR_FORWARDING_STATE, GR_NOTIFICATION, GR_RESTART_STATE, is_understood,
};
use crate::packet::open::{OpenMessage, OptionalParameter, ParamsFormat};

/// The JSON object for one OPEN.
pub fn open_json(m: &OpenMessage) -> Value {
    let mut o = json!({
        "type": "open",
        "version": m.version,
        "asn": m.asn(),
        "my_as": m.my_as,
        "hold_time": m.hold_time,
        "bgp_id": m.bgp_id.to_string(),
        "params_style": m.params_style().name(),
        "extended_params": matches!(m.params_format, ParamsFormat::Extended { .. }),
        "capabilities": m.capabilities().map(capability_json).collect::<Vec<_>>(),
    });
    let unknown: Vec<Value> = m
        .params
        .iter()
        .filter_map(|p| match p {
            OptionalParameter::Unknown { kind, value } => {
                Some(json!({"type": kind, "value": hex(value)}))
            }
            OptionalParameter::Capabilities(_) => None,
        })
        .collect();
    if let (false, Some(obj)) = (unknown.is_empty(), o.as_object_mut()) {
        obj.insert("unknown_params".into(), Value::Array(unknown));
    }
    o
}

fn names_json(bytes: &[u8], key: &str, obj: &mut Map<String, Value>) {
    obj.insert(
        key.into(),
        Value::String(String::from_utf8_lossy(bytes).into_owned()),
    );
    if std::str::from_utf8(bytes).is_err() {
        obj.insert(format!("{key}_hex"), Value::String(hex(bytes)));
    }
}

/// The JSON object for one capability: `code`, `name`, and its fields.
pub fn capability_json(c: &Capability) -> Value {
    let mut o = Map::new();
    o.insert("code".into(), json!(c.code()));
    o.insert("name".into(), json!(c.name()));
    match c {
        Capability::MultiProtocol(f) => {
            o.insert("family".into(), json!(f.name()));
        }
        Capability::RouteRefresh
        | Capability::RouteRefreshCisco
        | Capability::ExtendedMessage
        | Capability::EnhancedRouteRefresh => {}
        Capability::ExtendedNextHop(entries) => {
            let e: Vec<Value> = entries
                .iter()
                .map(|(f, nh)| json!({"family": f.name(), "next_hop_afi": afi_name(*nh)}))
                .collect();
            o.insert("entries".into(), Value::Array(e));
        }
        Capability::GracefulRestart {
            restart_flags,
            restart_time,
            families,
        } => {
            o.insert("restart_flags".into(), json!(restart_flags));
            o.insert(
                "restart_state".into(),
                json!(restart_flags & GR_RESTART_STATE != 0),
            );
            o.insert(
                "notification".into(),
                json!(restart_flags & GR_NOTIFICATION != 0),
            );
            o.insert("restart_time".into(), json!(restart_time));
            let fams: Vec<Value> = families
                .iter()
                .map(|(f, flags)| {
                    json!({
                        "family": f.name(),
                        "flags": flags,
                        "forwarding_state": flags & GR_FORWARDING_STATE != 0,
                    })
                })
                .collect();
            o.insert("families".into(), Value::Array(fams));
        }
        Capability::FourOctetAs(asn) => {
            o.insert("asn".into(), json!(asn));
        }
        Capability::AddPath(entries) => {
            let e: Vec<Value> = entries
                .iter()
                .map(|(f, mode)| json!({"family": f.name(), "mode": mode.name()}))
                .collect();
            o.insert("families".into(), Value::Array(e));
        }
        Capability::LongLivedGracefulRestart(entries) => {
            let e: Vec<Value> = entries
                .iter()
                .map(|(f, flags, stale)| {
                    json!({
                        "family": f.name(),
                        "flags": flags,
                        "forwarding_state": flags & GR_FORWARDING_STATE != 0,
                        "stale_time": stale,
                    })
                })
                .collect();
            o.insert("families".into(), Value::Array(e));
        }
        Capability::Fqdn { hostname, domain } => {
            names_json(hostname, "hostname", &mut o);
            names_json(domain, "domain", &mut o);
        }
        Capability::Unknown { code, value } => {
            if is_understood(*code) {
                o.insert("malformed".into(), json!(true));
            }
            o.insert("value".into(), json!(hex(value)));
        }
    }
    Value::Object(o)
}

/// One readable line for one OPEN.
pub fn open_text(m: &OpenMessage) -> String {
    let caps: Vec<String> = m.capabilities().map(capability_text).collect();
    let mut s = format!("OPEN v{} as={}", m.version, m.asn());
    if m.asn() != u32::from(m.my_as) {
        s.push_str(&format!(" my_as={}", m.my_as));
    }
    s.push_str(&format!(
        " hold={} id={} caps=[{}] params={}",
        m.hold_time,
        m.bgp_id,
        caps.join(", "),
        m.params_style().name()
    ));
    if matches!(m.params_format, ParamsFormat::Extended { .. }) {
        s.push_str(" extended-params");
    }
    for p in &m.params {
        if let OptionalParameter::Unknown { kind, value } = p {
            s.push_str(&format!(" param{kind}={}", hex(value)));
        }
    }
    s
}

/// `name` or `name(fields)` for one capability.
pub fn capability_text(c: &Capability) -> String {
    let inner: Option<String> = match c {
        Capability::MultiProtocol(f) => Some(f.name()),
        Capability::RouteRefresh
        | Capability::RouteRefreshCisco
        | Capability::ExtendedMessage
        | Capability::EnhancedRouteRefresh => None,
        Capability::ExtendedNextHop(entries) => Some(
            entries
                .iter()
                .map(|(f, nh)| format!("{f}->{}", afi_name(*nh)))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Capability::GracefulRestart {
            restart_flags,
            restart_time,
            families,
        } => {
            let mut s = format!("flags=0x{restart_flags:x} time={restart_time}");
            for (f, flags) in families {
                s.push_str(&format!(" {f}:0x{flags:02x}"));
            }
            Some(s)
        }
        Capability::FourOctetAs(asn) => Some(asn.to_string()),
        Capability::AddPath(entries) => Some(
            entries
                .iter()
                .map(|(f, mode)| format!("{f}:{}", mode.name()))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Capability::LongLivedGracefulRestart(entries) => Some(
            entries
                .iter()
                .map(|(f, flags, stale)| format!("{f}:0x{flags:02x}/{stale}s"))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Capability::Fqdn { hostname, domain } => {
            let h = String::from_utf8_lossy(hostname);
            Some(if domain.is_empty() {
                h.into_owned()
            } else {
                format!("{h}.{}", String::from_utf8_lossy(domain))
            })
        }
        Capability::Unknown { code, value } if is_understood(*code) => {
            Some(format!("malformed value={}", hex(value)))
        }
        Capability::Unknown { code, value } => Some(format!("code={code} value={}", hex(value))),
    };
    match inner {
        Some(i) => format!("{}({i})", c.name()),
        None => c.name().to_string(),
    }
}
