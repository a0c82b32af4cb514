//! Human and JSON views of decoded messages, for `sidractl decode` and logs.
//!
//! [`message_json`] and [`message_text`] dispatch on the message type; each message type has its
//! own module. JSON objects always carry a `"type"` field (`open`, `update`, `notification`,
//! `keepalive`, `route-refresh`, or `error` for [`error_json`]); text views are one line.

pub mod notification;
pub mod open;
pub mod route_refresh;
pub mod update;

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::packet::notification::{code_name, subcode_name};
use crate::packet::{Afi, Message, MessageError};

/// The JSON object for one message.
pub fn message_json(msg: &Message) -> Value {
    match msg {
        Message::Open(m) => open::open_json(m),
        Message::Update(m) => update::update_json(m),
        Message::Notification(m) => notification::notification_json(m),
        Message::Keepalive => json!({"type": "keepalive"}),
        Message::RouteRefresh(m) => route_refresh::route_refresh_json(m),
    }
}

/// One readable line for one message.
pub fn message_text(msg: &Message) -> String {
    match msg {
        Message::Open(m) => open::open_text(m),
        Message::Update(m) => update::update_text(m),
        Message::Notification(m) => notification::notification_text(m),
        Message::Keepalive => "KEEPALIVE".to_string(),
        Message::RouteRefresh(m) => route_refresh::route_refresh_text(m),
    }
}

/// The JSON object for a decode error: the NOTIFICATION it calls for, and why.
pub fn error_json(err: &MessageError) -> Value {
    json!({
        "type": "error",
        "code": err.code,
        "subcode": err.subcode,
        "code_name": code_name(err.code),
        "subcode_name": subcode_name(err.code, err.subcode),
        "reason": err.reason,
        "data": hex(&err.data),
    })
}

/// Lowercase hex, no separators.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// `ipv4`, `ipv6`, `l2vpn` or `afi-N`.
pub fn afi_name(afi: Afi) -> String {
    match afi {
        Afi::Ipv4 => "ipv4".into(),
        Afi::Ipv6 => "ipv6".into(),
        Afi::L2vpn => "l2vpn".into(),
        Afi::Unknown(v) => format!("afi-{v}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalive_and_error() {
        assert_eq!(
            message_json(&Message::Keepalive),
            json!({"type": "keepalive"})
        );
        assert_eq!(message_text(&Message::Keepalive), "KEEPALIVE");
        let e = MessageError::new(1, 2, vec![0, 18], "short");
        let j = error_json(&e);
        assert_eq!(j["type"], "error");
        assert_eq!(j["subcode_name"], "Bad Message Length");
        assert_eq!(j["data"], "0012");
        assert_eq!(j["reason"], "short");
    }
}
