//! Encoding helpers for VPP's packed, big-endian API structs.
//!
//! All multi-byte scalars are big-endian; `bool`, `u8` enums, addresses and strings are raw
//! bytes. The composite types used by the SRv6 messages:
//!
//! ```text
//! vl_api_address_t (17 bytes)        vl_api_prefix_t (18 bytes)
//! +----+---------------------+       +---------------------------+-----+
//! | af | un[16]              |       | vl_api_address_t (17)     | len |
//! +----+---------------------+       +---------------------------+-----+
//!  af: 0 = IPv4 (un[0..4], rest 0), 1 = IPv6
//!
//! string name[64] (fixed): exactly 64 bytes, NUL-padded, not length-prefixed
//! ```
//!
//! Fixed strings are decoded up to the first NUL and the last byte is not required to be NUL:
//! VPP fills `show_version_reply` strings with `strncpy(dst, src, N - 1)` and never writes the
//! last byte, which then holds stale buffer bytes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, BytesMut};
use ipnet::IpNet;

use crate::error::{DecodeError, Error};

/// Size of `vl_api_address_t`.
pub const ADDRESS_LEN: usize = 17;
/// Size of `vl_api_prefix_t`.
pub const PREFIX_LEN: usize = 18;

pub(crate) fn put_bool(buf: &mut BytesMut, v: bool) {
    buf.put_u8(u8::from(v));
}

pub(crate) fn put_ip6(buf: &mut BytesMut, a: Ipv6Addr) {
    buf.put_slice(&a.octets());
}

/// `vl_api_address_t`; `None` is encoded as af = IPv4 with all zeros, as VPP reports "unset".
pub(crate) fn put_address(buf: &mut BytesMut, a: Option<IpAddr>) {
    match a {
        None => buf.put_bytes(0, ADDRESS_LEN),
        Some(IpAddr::V4(v4)) => {
            buf.put_u8(0);
            buf.put_slice(&v4.octets());
            buf.put_bytes(0, 12);
        }
        Some(IpAddr::V6(v6)) => {
            buf.put_u8(1);
            buf.put_slice(&v6.octets());
        }
    }
}

/// `vl_api_prefix_t`.
pub(crate) fn put_prefix(buf: &mut BytesMut, p: IpNet) {
    put_address(buf, Some(p.addr()));
    buf.put_u8(p.prefix_len());
}

/// A fixed `string x[n]`: the text, NUL-padded to `n` bytes. The text must leave room for a NUL.
pub(crate) fn put_fixed_str(
    buf: &mut BytesMut,
    field: &'static str,
    s: &str,
    n: usize,
) -> Result<(), Error> {
    if s.len() >= n || s.as_bytes().contains(&0) {
        return Err(Error::InvalidArgument(format!(
            "{field}: {s:?} must be at most {} bytes without NUL",
            n - 1
        )));
    }
    buf.put_slice(s.as_bytes());
    buf.put_bytes(0, n - s.len());
    Ok(())
}

/// A bounds-checked reader over one message body. Every error names the message and the offset.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    message: &'static str,
}

impl<'a> Reader<'a> {
    /// Starts reading `data` at `pos` (e.g. 6 for the fields after `_vl_msg_id` and `context`).
    pub(crate) fn new(message: &'static str, data: &'a [u8], pos: usize) -> Self {
        Self { data, pos, message }
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        match end {
            Some(end) => {
                let s = &self.data[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(DecodeError {
                message: self.message,
                field,
                offset: self.pos,
                detail: format!("need {n} bytes, body has {}", self.data.len()),
            }),
        }
    }

    pub(crate) fn invalid(&self, field: &'static str, detail: String) -> DecodeError {
        DecodeError {
            message: self.message,
            field,
            offset: self.pos,
            detail,
        }
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, field)?[0])
    }

    pub(crate) fn bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        Ok(self.u8(field)? != 0)
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, field)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn i32(&mut self, field: &'static str) -> Result<i32, DecodeError> {
        let b = self.take(4, field)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        let b = self.take(8, field)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    pub(crate) fn ip6(&mut self, field: &'static str) -> Result<Ipv6Addr, DecodeError> {
        let b = self.take(16, field)?;
        let mut a = [0u8; 16];
        a.copy_from_slice(b);
        Ok(Ipv6Addr::from(a))
    }

    pub(crate) fn address(&mut self, field: &'static str) -> Result<IpAddr, DecodeError> {
        let at = self.pos;
        let b = self.take(ADDRESS_LEN, field)?;
        match b[0] {
            0 => Ok(IpAddr::V4(Ipv4Addr::new(b[1], b[2], b[3], b[4]))),
            1 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(&b[1..]);
                Ok(IpAddr::V6(Ipv6Addr::from(a)))
            }
            af => Err(DecodeError {
                message: self.message,
                field,
                offset: at,
                detail: format!("address family {af} (expected 0 or 1)"),
            }),
        }
    }

    pub(crate) fn prefix(&mut self, field: &'static str) -> Result<IpNet, DecodeError> {
        let addr = self.address(field)?;
        let len = self.u8(field)?;
        IpNet::new(addr, len).map_err(|_| self.invalid(field, format!("prefix length {len}")))
    }

    pub(crate) fn fixed_str(
        &mut self,
        field: &'static str,
        n: usize,
    ) -> Result<String, DecodeError> {
        let b = self.take(n, field)?;
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        Ok(String::from_utf8_lossy(&b[..end]).into_owned())
    }

    pub(crate) fn skip(&mut self, n: usize, field: &'static str) -> Result<(), DecodeError> {
        self.take(n, field).map(|_| ())
    }

    /// Fails if bytes are left over: every message we decode has an exactly known size.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        if self.pos == self.data.len() {
            Ok(())
        } else {
            Err(self.invalid(
                "<end>",
                format!(
                    "{} trailing bytes after the last field",
                    self.data.len() - self.pos
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_and_prefix_layout() {
        let mut b = BytesMut::new();
        put_prefix(&mut b, "10.1.0.0/16".parse().unwrap());
        assert_eq!(b.len(), PREFIX_LEN);
        assert_eq!(&b[..5], &[0, 10, 1, 0, 0]);
        assert!(b[5..17].iter().all(|&x| x == 0));
        assert_eq!(b[17], 16);
        let mut r = Reader::new("t", &b, 0);
        assert_eq!(
            r.prefix("p").unwrap(),
            "10.1.0.0/16".parse::<IpNet>().unwrap()
        );
        r.finish().unwrap();

        let mut b = BytesMut::new();
        put_address(&mut b, Some("2001:db8::1".parse().unwrap()));
        put_address(&mut b, None);
        assert_eq!(b.len(), 2 * ADDRESS_LEN);
        assert_eq!(b[0], 1);
        assert_eq!(&b[1..5], &[0x20, 0x01, 0x0d, 0xb8]);
        assert!(b[17..].iter().all(|&x| x == 0));
    }

    #[test]
    fn fixed_strings() {
        let mut b = BytesMut::new();
        put_fixed_str(&mut b, "name", "vrf", 8).unwrap();
        assert_eq!(&b[..], b"vrf\0\0\0\0\0");
        assert!(put_fixed_str(&mut b, "name", "12345678", 8).is_err());
        // Stale last byte (strncpy n-1): decoded up to the first NUL.
        let raw = b"26.06\0\0\xff";
        assert_eq!(Reader::new("t", raw, 0).fixed_str("v", 8).unwrap(), "26.06");
        let full = b"abcdefg\xff";
        assert_eq!(
            Reader::new("t", full, 0).fixed_str("v", 8).unwrap(),
            "abcdefg\u{fffd}"
        );
    }

    #[test]
    fn short_body_errors_name_the_field() {
        let mut r = Reader::new("sr_x", &[0, 1, 2], 1);
        let e = r.u32("weight").unwrap_err();
        assert_eq!((e.message, e.field, e.offset), ("sr_x", "weight", 1));
        let mut r = Reader::new("sr_x", &[7; 17], 0);
        assert!(r.address("nh").is_err());
    }
}
