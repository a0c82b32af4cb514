//! Any input as a whole message (marker, length, type, body), decoded with each context.
#![no_main]

use bgpd::packet::decode_message;
use bgpd_fuzz::{check, contexts};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for cx in contexts() {
        check(&decode_message(data, &cx), data.len());
    }
});
