//! What the fuzz targets share: the decode contexts, message framing and the invariants every
//! decode result must satisfy. A broken invariant panics, which libFuzzer reports as a crash.

use bgpd::packet::{
    DecodeContext, ErrorAction, FamilySet, HEADER_LEN, MAX_MESSAGE_LEN, Message, MessageError,
};

/// The contexts every input is decoded with: an offline decoder's default (4-octet AS, no
/// ADD-PATH, extended messages) and an old-style session (2-octet AS, ADD-PATH receive on every
/// supported family, 4096-octet messages).
pub fn contexts() -> [DecodeContext; 2] {
    [
        DecodeContext::default(),
        DecodeContext {
            four_octet_as: false,
            add_path: FamilySet::all_supported(),
            max_message_len: MAX_MESSAGE_LEN,
        },
    ]
}

/// A whole message: marker, length and `kind`, then `body`; `None` when it would not fit the
/// 2-octet length field.
pub fn with_header(kind: u8, body: &[u8]) -> Option<Vec<u8>> {
    let len = u16::try_from(HEADER_LEN + body.len()).ok()?;
    let mut m = Vec::with_capacity(usize::from(len));
    m.extend_from_slice(&[0xff; 16]);
    m.extend_from_slice(&len.to_be_bytes());
    m.push(kind);
    m.extend_from_slice(body);
    Some(m)
}

/// The invariants of one `decode_message` result for an input of `len` octets:
/// * an error is a NOTIFICATION with a code of RFC 4271 §4.5 (1..=7);
/// * an UPDATE's non-fatal errors never ask for a session reset (that is an `Err`), and an
///   AFI/SAFI disable names its family;
/// * every prefix takes at least one octet, so an UPDATE cannot hold more prefixes than the
///   message has octets (no allocation out of proportion to the input).
pub fn check(result: &Result<Message, MessageError>, len: usize) {
    match result {
        Err(e) => assert!(
            (1..=7).contains(&e.code),
            "NOTIFICATION code {}: {e}",
            e.code
        ),
        Ok(Message::Update(u)) => {
            for e in &u.errors {
                assert_ne!(e.action, ErrorAction::SessionReset, "{e:?}");
                if e.action == ErrorAction::AfiSafiDisable {
                    assert!(
                        e.family.is_some(),
                        "AFI/SAFI disable without a family: {e:?}"
                    );
                }
            }
            let prefixes = u.withdrawn.len()
                + u.nlri.len()
                + u.mp_reach().map_or(0, |m| m.nlri.prefixes().len())
                + u.mp_unreach().map_or(0, |m| m.nlri.prefixes().len());
            assert!(prefixes <= len, "{prefixes} prefixes out of {len} octets");
        }
        Ok(_) => {}
    }
}
