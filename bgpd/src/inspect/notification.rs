//! Views of NOTIFICATION messages.
//!
//! JSON: `{"type":"notification","code","subcode","code_name","subcode_name","data"}` (data in
//! hex), plus `"data_text"` when the data is printable text (ExaBGP sends text),
//! `"shutdown_message"` for a Cease with an RFC 9003 Shutdown Communication, and `"hard_reset"`
//! (the inner NOTIFICATION) for an RFC 8538 Hard Reset.

use serde_json::{Value, json};

use super::hex;
use crate::packet::NotificationMessage;
use crate::packet::notification::{code_name, subcode_name};

/// The data as text, when it is non-empty UTF-8 without control characters.
fn printable(data: &[u8]) -> Option<&str> {
    let s = std::str::from_utf8(data).ok()?;
    (!s.is_empty() && !s.chars().any(char::is_control)).then_some(s)
}

/// The JSON object for one NOTIFICATION.
pub fn notification_json(m: &NotificationMessage) -> Value {
    let mut o = json!({
        "type": "notification",
        "code": m.code,
        "subcode": m.subcode,
        "code_name": m.code_name(),
        "subcode_name": m.subcode_name(),
        "data": hex(&m.data),
    });
    if let Some(obj) = o.as_object_mut() {
        if let Some(text) = printable(&m.data) {
            obj.insert("data_text".into(), json!(text));
        }
        if let Some(msg) = m.shutdown_message() {
            obj.insert("shutdown_message".into(), json!(msg));
        }
        if let Some((code, subcode, data)) = m.hard_reset_inner() {
            obj.insert(
                "hard_reset".into(),
                json!({
                    "code": code,
                    "subcode": subcode,
                    "code_name": code_name(code),
                    "subcode_name": subcode_name(code, subcode),
                    "data": hex(data),
                }),
            );
        }
    }
    o
}

/// One readable line for one NOTIFICATION.
pub fn notification_text(m: &NotificationMessage) -> String {
    let mut s = format!(
        "NOTIFICATION {}/{} {} / {}",
        m.code,
        m.subcode,
        m.code_name(),
        m.subcode_name()
    );
    if let Some(msg) = m.shutdown_message() {
        s.push_str(&format!(" shutdown={msg:?}"));
    } else if let Some((code, subcode, data)) = m.hard_reset_inner() {
        s.push_str(&format!(
            " hard-reset={code}/{subcode} {} / {}",
            code_name(code),
            subcode_name(code, subcode)
        ));
        if !data.is_empty() {
            s.push_str(&format!(" data={}", hex(data)));
        }
    } else if let Some(text) = printable(&m.data) {
        s.push_str(&format!(" data={text:?}"));
    } else if !m.data.is_empty() {
        s.push_str(&format!(" data={}", hex(&m.data)));
    }
    s
}
