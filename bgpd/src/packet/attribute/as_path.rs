//! AS_PATH and AS4_PATH (RFC 4271 §4.3, RFC 6793 §3).
//!
//! ```text
//! +--------------+--------------+--------------------------------+
//! | Segment Type | Segment Len  | AS numbers (2 or 4 octets each) |  ... repeated
//! +--------------+--------------+--------------------------------+
//! types: 1 AS_SET, 2 AS_SEQUENCE, 3 AS_CONFED_SEQUENCE, 4 AS_CONFED_SET (RFC 5065)
//! ```

use std::fmt;

use bytes::{BufMut, BytesMut};

pub const AS_SET: u8 = 1;
pub const AS_SEQUENCE: u8 = 2;
pub const AS_CONFED_SEQUENCE: u8 = 3;
pub const AS_CONFED_SET: u8 = 4;
/// RFC 6793 §9: the 2-octet placeholder for a 4-octet AS number.
pub const AS_TRANS: u32 = 23456;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AsSegment {
    pub kind: u8,
    pub asns: Vec<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AsPath {
    pub segments: Vec<AsSegment>,
}

impl AsPath {
    /// A path of one AS_SEQUENCE.
    pub fn sequence(asns: Vec<u32>) -> Self {
        if asns.is_empty() {
            return AsPath::default();
        }
        AsPath {
            segments: vec![AsSegment {
                kind: AS_SEQUENCE,
                asns,
            }],
        }
    }

    /// RFC 4271 §9.1.2.2 (a): the length used by the decision process: an AS_SET counts 1,
    /// confederation segments count 0 (RFC 5065 §5.3).
    pub fn path_len(&self) -> usize {
        self.segments
            .iter()
            .map(|s| match s.kind {
                AS_SEQUENCE => s.asns.len(),
                AS_SET => 1,
                _ => 0,
            })
            .sum()
    }

    /// The neighbouring AS (first AS of a leading AS_SEQUENCE), used for MED comparison.
    pub fn first_as(&self) -> Option<u32> {
        self.segments
            .iter()
            .find(|s| s.kind == AS_SEQUENCE || s.kind == AS_SET)
            .filter(|s| s.kind == AS_SEQUENCE)
            .and_then(|s| s.asns.first().copied())
    }
}

impl fmt::Display for AsPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in &self.segments {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            let (open, close) = match s.kind {
                AS_SET => ("{", "}"),
                AS_CONFED_SEQUENCE => ("(", ")"),
                AS_CONFED_SET => ("[", "]"),
                _ => ("", ""),
            };
            f.write_str(open)?;
            for (i, a) in s.asns.iter().enumerate() {
                if i > 0 {
                    f.write_str(if s.kind == AS_SEQUENCE || s.kind == AS_CONFED_SEQUENCE {
                        " "
                    } else {
                        ","
                    })?;
                }
                write!(f, "{a}")?;
            }
            f.write_str(close)?;
        }
        Ok(())
    }
}

/// Decode an AS_PATH value with `width` (2 or 4) octets per AS number.
///
/// RFC 7606 §7.2: a segment that overruns the attribute, a zero-length segment, or an unknown
/// segment type makes the AS_PATH malformed (the caller applies treat-as-withdraw).
pub fn decode_as_path(mut buf: &[u8], width: usize) -> Result<AsPath, String> {
    let mut segments = Vec::new();
    while !buf.is_empty() {
        let [kind, count, rest @ ..] = buf else {
            return Err(format!(
                "AS_PATH segment header truncated ({} byte left)",
                buf.len()
            ));
        };
        if !(AS_SET..=AS_CONFED_SET).contains(kind) {
            return Err(format!("AS_PATH segment type {kind} is not defined"));
        }
        if *count == 0 {
            return Err("AS_PATH segment of length 0".into());
        }
        let n = usize::from(*count) * width;
        if rest.len() < n {
            return Err(format!(
                "AS_PATH segment of {count} ASes needs {n} bytes, {} left",
                rest.len()
            ));
        }
        let asns = if width == 4 {
            rest[..n]
                .chunks_exact(4)
                .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                .collect()
        } else {
            rest[..n]
                .chunks_exact(2)
                .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
                .collect()
        };
        segments.push(AsSegment { kind: *kind, asns });
        buf = &rest[n..];
    }
    Ok(AsPath { segments })
}

/// Encode with `width` octets per AS; 4-octet numbers become AS_TRANS in 2-octet form
/// (RFC 6793 §4.2.2). Segments longer than 255 ASes are split.
pub fn encode_as_path(p: &AsPath, width: usize, out: &mut BytesMut) {
    for s in &p.segments {
        for chunk in s.asns.chunks(255) {
            out.put_u8(s.kind);
            out.put_u8(u8::try_from(chunk.len()).unwrap_or(u8::MAX));
            for &a in chunk {
                if width == 4 {
                    out.put_u32(a);
                } else {
                    out.put_u16(u16::try_from(a).unwrap_or(AS_TRANS as u16));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_and_four_octet_paths() {
        let wire2 = [2, 2, 0xfd, 0xe8, 0xfd, 0xe9, 1, 1, 0, 100];
        let p = decode_as_path(&wire2, 2).unwrap();
        assert_eq!(p.to_string(), "65000 65001 {100}");
        assert_eq!(p.path_len(), 3);
        assert_eq!(p.first_as(), Some(65000));
        let mut b = BytesMut::new();
        encode_as_path(&p, 2, &mut b);
        assert_eq!(&b[..], &wire2);

        let p4 = AsPath::sequence(vec![4_200_000_001, 65000]);
        let mut b4 = BytesMut::new();
        encode_as_path(&p4, 4, &mut b4);
        assert_eq!(decode_as_path(&b4, 4).unwrap(), p4);
        let mut b2 = BytesMut::new();
        encode_as_path(&p4, 2, &mut b2);
        assert_eq!(decode_as_path(&b2, 2).unwrap().to_string(), "23456 65000");
    }

    #[test]
    fn malformed_segments() {
        assert!(
            decode_as_path(&[2, 2, 0, 1], 2)
                .unwrap_err()
                .contains("needs 4 bytes")
        );
        assert!(
            decode_as_path(&[5, 1, 0, 1], 2)
                .unwrap_err()
                .contains("type 5")
        );
        assert!(decode_as_path(&[2, 0], 2).unwrap_err().contains("length 0"));
        assert!(decode_as_path(&[2], 4).unwrap_err().contains("truncated"));
    }

    #[test]
    fn confederation_segments_do_not_count() {
        let p = AsPath {
            segments: vec![
                AsSegment {
                    kind: AS_CONFED_SEQUENCE,
                    asns: vec![1, 2],
                },
                AsSegment {
                    kind: AS_SEQUENCE,
                    asns: vec![3],
                },
            ],
        };
        assert_eq!(p.path_len(), 1);
        assert_eq!(p.to_string(), "(1 2) 3");
    }
}
