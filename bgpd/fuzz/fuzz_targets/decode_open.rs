//! Any input as the body of an OPEN. A decoded OPEN re-encodes to something that decodes to
//! the same message (the decoder keeps the parameter format it read).
#![no_main]

use bgpd::packet::open::{decode_open, encode_open};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    match decode_open(body) {
        Err(e) => assert!(
            (1..=7).contains(&e.code),
            "NOTIFICATION code {}: {e}",
            e.code
        ),
        Ok(open) => {
            let mut out = BytesMut::new();
            encode_open(&open, &mut out);
            let again = decode_open(&out);
            assert_eq!(
                again.as_ref(),
                Ok(&open),
                "re-encoded OPEN {:02x?}",
                &out[..]
            );
        }
    }
});
