//! Views of UPDATE messages. STUB: being written.

use serde_json::{Value, json};

use crate::packet::UpdateMessage;

/// The JSON object for one UPDATE (`"type": "update"`, announced, withdrawn, errors, attributes).
pub fn update_json(_m: &UpdateMessage) -> Value {
    json!({"type": "update"})
}

/// One readable line (or a few) for one UPDATE.
pub fn update_text(_m: &UpdateMessage) -> String {
    "UPDATE".to_string()
}
