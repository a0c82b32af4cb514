//! Views of ROUTE-REFRESH messages.
//!
//! JSON: `{"type":"route-refresh","family":"ipv6-vpn","subtype":"borr","subtype_code":1}`.
//! Text: `ROUTE-REFRESH ipv6-vpn borr`.

use serde_json::{Value, json};

use crate::packet::RouteRefreshMessage;
use crate::packet::route_refresh::RouteRefreshSubtype;

/// The JSON object for one ROUTE-REFRESH.
pub fn route_refresh_json(m: &RouteRefreshMessage) -> Value {
    json!({
        "type": "route-refresh",
        "family": m.family.name(),
        "subtype": m.subtype.name(),
        "subtype_code": m.subtype.to_u8(),
    })
}

/// One readable line for one ROUTE-REFRESH.
pub fn route_refresh_text(m: &RouteRefreshMessage) -> String {
    match m.subtype {
        RouteRefreshSubtype::Other(v) => format!("ROUTE-REFRESH {} subtype-{v}", m.family),
        s => format!("ROUTE-REFRESH {} {}", m.family, s.name()),
    }
}
