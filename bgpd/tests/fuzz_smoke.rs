//! A short fuzz-like run that is part of `cargo test` (the long runs are the cargo-fuzz targets
//! in bgpd/fuzz/): random bodies behind a valid header of every message type, and the captured
//! vectors of ../shared/vectors/bgp/ mutated (bit flips, byte replacements, truncations,
//! insertions, corrupted length fields), decoded with several session contexts.
//!
//! Whatever the input, `decode_message` must not panic and must return either a message or a
//! NOTIFICATION with an RFC 4271 §4.5 code (1..=7). A decoded UPDATE's non-fatal errors never
//! call for a session reset (that is an `Err`), an AFI/SAFI disable names its family, and the
//! UPDATE holds at most one prefix per octet of the message (every prefix takes at least one
//! octet: nothing is allocated out of proportion to the input).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use bgpd::packet::{
    DecodeContext, ErrorAction, FamilySet, HEADER_LEN, MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN,
    Message, decode_message,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

/// The session contexts every input is decoded with.
fn contexts() -> [DecodeContext; 3] {
    [
        DecodeContext::default(),
        // An old speaker: 2-octet AS, ADD-PATH on every family, no extended messages.
        DecodeContext {
            four_octet_as: false,
            add_path: FamilySet::all_supported(),
            max_message_len: MAX_MESSAGE_LEN,
        },
        DecodeContext {
            four_octet_as: true,
            add_path: FamilySet::all_supported(),
            max_message_len: MAX_EXTENDED_MESSAGE_LEN,
        },
    ]
}

/// Decode `msg` with every context and check the invariants; the message is shown on failure.
fn check(msg: &[u8]) {
    for cx in contexts() {
        match decode_message(msg, &cx) {
            Err(e) => assert!(
                (1..=7).contains(&e.code),
                "NOTIFICATION code {} ({e}) for {msg:02x?} with {cx:?}",
                e.code
            ),
            Ok(Message::Update(u)) => {
                for e in &u.errors {
                    assert_ne!(
                        e.action,
                        ErrorAction::SessionReset,
                        "{e:?} for {msg:02x?} with {cx:?}"
                    );
                    if e.action == ErrorAction::AfiSafiDisable {
                        assert!(e.family.is_some(), "{e:?} for {msg:02x?} with {cx:?}");
                    }
                }
                let prefixes = u.withdrawn.len()
                    + u.nlri.len()
                    + u.mp_reach().map_or(0, |m| m.nlri.prefixes().len())
                    + u.mp_unreach().map_or(0, |m| m.nlri.prefixes().len());
                assert!(
                    prefixes <= msg.len(),
                    "{prefixes} prefixes from {} octets: {msg:02x?} with {cx:?}",
                    msg.len()
                );
            }
            Ok(_) => {}
        }
    }
}

/// Marker, length (of `HEADER_LEN + body`, saturated) and type, then the body.
fn with_header(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    let len = u16::try_from(HEADER_LEN + body.len()).unwrap_or(u16::MAX);
    m.extend_from_slice(&len.to_be_bytes());
    m.push(kind);
    m.extend_from_slice(body);
    m
}

/// Set the header's length field to the message's real length (so that a mutation reaches the
/// body instead of stopping at the length check), when it fits.
fn patch_len(m: &mut [u8]) {
    if m.len() >= HEADER_LEN
        && let Ok(l) = u16::try_from(m.len())
    {
        m[16..18].copy_from_slice(&l.to_be_bytes());
    }
}

/// The captured vectors: (file name, message).
fn vectors() -> &'static [(String, Vec<u8>)] {
    static V: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    V.get_or_init(|| {
        let dir = format!("{}/../../shared/vectors/bgp", env!("CARGO_MANIFEST_DIR"));
        let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "hex"))
            .map(|p| {
                let hex = std::fs::read_to_string(&p).unwrap();
                let hex = hex.trim();
                let bytes = (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                    .collect();
                (p.file_name().unwrap().to_string_lossy().into_owned(), bytes)
            })
            .collect();
        v.sort();
        assert!(v.len() >= 20, "only {} vectors in {dir}", v.len());
        v
    })
}

/// The offsets of the length fields inside an UPDATE message (withdrawn routes length, total
/// path attribute length, and each attribute's length), as far as they can be located.
fn update_length_fields(m: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    if m.len() < HEADER_LEN + 4 || m[18] != 2 {
        return out;
    }
    out.push((HEADER_LEN, 2));
    let wl = usize::from(u16::from_be_bytes([m[19], m[20]]));
    let at = HEADER_LEN + 2 + wl;
    if at + 2 > m.len() {
        return out;
    }
    out.push((at, 2));
    let al = usize::from(u16::from_be_bytes([m[at], m[at + 1]]));
    let end = (at + 2 + al).min(m.len());
    let mut i = at + 2;
    while i + 3 <= end {
        let ext = m[i] & 0x10 != 0;
        let (len, hl) = if ext && i + 4 <= end {
            (usize::from(u16::from_be_bytes([m[i + 2], m[i + 3]])), 4)
        } else {
            (usize::from(m[i + 2]), 3)
        };
        out.push((i + 2, hl - 2));
        i += hl + len;
    }
    out
}

#[derive(Clone, Debug)]
enum Mutation {
    FlipBit(Index, u8),
    Replace(Index, u8),
    Truncate(Index),
    Insert(Index, Vec<u8>),
    Remove(Index, usize),
    /// Overwrite a length field of the UPDATE (header length excluded) with `value`.
    LengthField(Index, u16),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => (any::<Index>(), vec(any::<u8>(), 1..16)).prop_map(|(i, b)| Mutation::Insert(i, b)),
        1 => (any::<Index>(), 1usize..8).prop_map(|(i, n)| Mutation::Remove(i, n)),
        2 => (any::<Index>(), prop_oneof![0u16..300, any::<u16>()])
            .prop_map(|(i, v)| Mutation::LengthField(i, v)),
    ]
}

/// Apply one mutation to the body part of `m` (the marker and header stay valid).
fn apply(m: &mut Vec<u8>, mutation: &Mutation) {
    let body = m.len().saturating_sub(HEADER_LEN);
    match mutation {
        Mutation::FlipBit(i, b) if body > 0 => m[HEADER_LEN + i.index(body)] ^= 1 << b,
        Mutation::Replace(i, v) if body > 0 => m[HEADER_LEN + i.index(body)] = *v,
        Mutation::Truncate(i) => m.truncate(HEADER_LEN + i.index(body + 1)),
        Mutation::Insert(i, bytes) => {
            let at = HEADER_LEN + i.index(body + 1);
            m.splice(at..at, bytes.iter().copied());
        }
        Mutation::Remove(i, n) if body > 0 => {
            let at = HEADER_LEN + i.index(body);
            m.drain(at..(at + n).min(m.len()));
        }
        Mutation::LengthField(i, v) => {
            let fields = update_length_fields(m);
            if !fields.is_empty() {
                let (at, width) = fields[i.index(fields.len())];
                let v = v.to_be_bytes();
                if width == 2 {
                    m[at..at + 2].copy_from_slice(&v);
                } else {
                    m[at] = v[1];
                }
            }
        }
        _ => {}
    }
}

#[test]
fn every_vector_decodes_within_the_invariants() {
    for (_, m) in vectors() {
        check(m);
    }
}

#[test]
fn every_truncation_and_bit_flip_of_every_vector() {
    for (name, m) in vectors() {
        for len in HEADER_LEN..m.len() {
            let mut t = m[..len].to_vec();
            check(&t);
            patch_len(&mut t);
            check(&t);
        }
        for i in HEADER_LEN..m.len() {
            for b in 0..8 {
                let mut f = m.clone();
                f[i] ^= 1 << b;
                check(&f);
            }
        }
        // A header length that disagrees with the bytes present, both ways.
        for delta in [-1i32, 1, 1000] {
            let mut f = m.clone();
            let l = i32::try_from(m.len()).unwrap() + delta;
            f[16..18].copy_from_slice(&u16::try_from(l).unwrap().to_be_bytes());
            check(&f);
        }
        assert!(m.len() > HEADER_LEN, "{name}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    /// Random bodies behind a valid header of each message type (and of an unknown type).
    #[test]
    fn random_body_after_a_valid_header(
        kind in prop_oneof![1u8..=5, Just(0u8), Just(6u8), any::<u8>()],
        body in prop_oneof![
            vec(any::<u8>(), 0..64),
            vec(any::<u8>(), 0..600),
            // UPDATE-shaped: small withdrawn and attribute lengths, so the fields are reached.
            (0u8..4, 0u8..64, vec(any::<u8>(), 0..300)).prop_map(|(w, a, rest)| {
                let mut b = vec![0, w];
                b.extend(std::iter::repeat_n(24, usize::from(w)));
                b.extend([0, a]);
                b.extend(rest);
                b
            }),
        ],
    ) {
        check(&with_header(kind, &body));
    }

    /// The captured vectors with one to four random mutations, header length patched after
    /// (and sometimes left wrong).
    #[test]
    fn mutated_vectors(
        which in any::<Index>(),
        mutations in vec(mutation(), 1..5),
        fix_len in prop_oneof![4 => Just(true), 1 => Just(false)],
    ) {
        let all = vectors();
        let mut m = all[which.index(all.len())].1.clone();
        for mu in &mutations {
            apply(&mut m, mu);
        }
        if fix_len {
            patch_len(&mut m);
        }
        check(&m);
    }
}
