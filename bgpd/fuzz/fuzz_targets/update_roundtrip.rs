//! Any input as the body of an UPDATE; one that decodes with no errors re-encodes (with the
//! mirrored context) to a message that decodes to an equal UPDATE.
#![no_main]

use bgpd::packet::{EncodeContext, Message, decode_message, encode_to_vec, msg_type};
use bgpd_fuzz::{check, contexts, with_header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let Some(msg) = with_header(msg_type::UPDATE, body) else {
        return;
    };
    for cx in contexts() {
        let first = decode_message(&msg, &cx);
        check(&first, msg.len());
        let Ok(Message::Update(u)) = first else {
            continue;
        };
        if !u.errors.is_empty() {
            continue;
        }
        let m = Message::Update(u);
        let wire = encode_to_vec(&m, &EncodeContext::mirror(&cx));
        let again = decode_message(&wire, &cx);
        assert_eq!(again.as_ref(), Ok(&m), "re-encoded as {wire:02x?}");
    }
});
