//! Any input as the body of an UPDATE: the header is synthesized so that every input reaches
//! `decode_update` (through `decode_message`, as a session would call it).
#![no_main]

use bgpd::packet::{decode_message, msg_type};
use bgpd_fuzz::{check, contexts, with_header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let Some(msg) = with_header(msg_type::UPDATE, body) else {
        return;
    };
    for cx in contexts() {
        check(&decode_message(&msg, &cx), msg.len());
    }
});
