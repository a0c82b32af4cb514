//! Any input as the value of a BGP Prefix-SID attribute (RFC 8669, RFC 9252). A decoded value
//! re-encodes to something that decodes to the same value.
#![no_main]

use bgpd::packet::prefix_sid::{decode_prefix_sid, encode_prefix_sid};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|value: &[u8]| {
    if let Ok(p) = decode_prefix_sid(value) {
        let mut out = BytesMut::new();
        encode_prefix_sid(&p, &mut out);
        let again = decode_prefix_sid(&out);
        assert_eq!(
            again.as_ref(),
            Ok(&p),
            "re-encoded Prefix-SID {:02x?}",
            &out[..]
        );
    }
});
