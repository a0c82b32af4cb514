//! Human and JSON views of decoded messages, for `sidractl decode` and logs. STUB: being written.

pub mod update;
