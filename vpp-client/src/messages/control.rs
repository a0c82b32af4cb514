//! memclnt and vpe messages: the socket handshake, `control_ping`, `show_version`, and the
//! plain `retval` reply shared by most requests.

use bytes::{BufMut, BytesMut};

use super::defs::*;
use super::{MsgDef, REPLY_HEADER_LEN};
use crate::error::{DecodeError, Error};
use crate::table::MessageTable;
use crate::wire::{Reader, put_fixed_str};

/// The fixed id of `sockclnt_create`: memclnt messages are registered first, in `memclnt.api`
/// order, so this is the same on every VPP release. Everything else comes from the table.
pub const SOCKCLNT_CREATE_ID: u16 = 15;
/// The fixed id of `sockclnt_create_reply`.
pub const SOCKCLNT_CREATE_REPLY_ID: u16 = 16;

/// `sockclnt_create` (70 bytes; the one request without `client_index`):
///
/// ```text
/// | u16 id = 15 @0 | u32 context @2 | char name[64] @6 |
/// ```
pub fn encode_sockclnt_create(context: u32, name: &str) -> Result<BytesMut, Error> {
    let mut b = BytesMut::with_capacity(SOCKCLNT_CREATE.size);
    b.put_u16(SOCKCLNT_CREATE_ID);
    b.put_u32(context);
    put_fixed_str(&mut b, "sockclnt_create.name", name, 64)?;
    Ok(b)
}

/// The decoded `sockclnt_create_reply`.
#[derive(Debug, Clone)]
pub struct CreateReply {
    /// The context echoed (at @6 in this message, not @2).
    pub context: u32,
    /// 0 = OK.
    pub response: i32,
    /// The client handle (`index` @14, e.g. `0x80000001`): sent back verbatim as
    /// `client_index` in every later request and as `sockclnt_delete.index`.
    pub client_index: u32,
    /// The message table: `<name>_<crc>` -> id.
    pub table: MessageTable,
}

/// Decodes `sockclnt_create_reply`:
///
/// ```text
/// | u16 16 @0 | u32 client_index = 0 @2 | u32 context @6 | i32 response @10 | u32 index @14 |
/// | u16 count @18 | count x { u16 id, char name[64] } @20 |
/// ```
pub fn decode_sockclnt_create_reply(body: &[u8]) -> Result<CreateReply, DecodeError> {
    let mut r = Reader::new(SOCKCLNT_CREATE_REPLY.name, body, 2);
    r.skip(4, "client_index")?;
    let context = r.u32("context")?;
    let response = r.i32("response")?;
    let client_index = r.u32("index")?;
    let count = u16_at(&mut r, "count")?;
    let mut entries = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let id = u16_at(&mut r, "message_table.index")?;
        let name = r.fixed_str("message_table.name", 64)?;
        entries.push((name, id));
    }
    r.finish()?;
    Ok(CreateReply {
        context,
        response,
        client_index,
        table: MessageTable::new(entries),
    })
}

fn u16_at(r: &mut Reader<'_>, field: &'static str) -> Result<u16, DecodeError> {
    let hi = r.u8(field)?;
    let lo = r.u8(field)?;
    Ok(u16::from_be_bytes([hi, lo]))
}

/// `sockclnt_delete` fields after the request header: `u32 index @10` (the client handle).
pub fn encode_sockclnt_delete(client_index: u32, buf: &mut BytesMut) {
    buf.put_u32(client_index);
}

/// `sockclnt_delete_reply`: `u32 context @2 | i32 response @6`. **1 means deleted** (not 0).
pub fn decode_sockclnt_delete_reply(body: &[u8]) -> Result<i32, DecodeError> {
    let mut r = Reader::new(SOCKCLNT_DELETE_REPLY.name, body, REPLY_HEADER_LEN);
    let response = r.i32("response")?;
    r.finish()?;
    Ok(response)
}

/// The decoded `control_ping_reply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PingReply {
    /// `retval` (0).
    pub retval: i32,
    /// VPP's process id: it changes on every VPP start, so it reveals a restart.
    pub vpe_pid: u32,
}

/// `control_ping_reply` (18 bytes):
///
/// ```text
/// | u16 id | u32 context @2 | i32 retval @6 | u32 client_index @10 | u32 vpe_pid @14 |
/// ```
///
/// `client_index` here is not a handle: VPP never writes it (stale ring-buffer bytes), so it is
/// skipped.
pub fn decode_control_ping_reply(body: &[u8]) -> Result<PingReply, DecodeError> {
    let mut r = Reader::new(CONTROL_PING_REPLY.name, body, REPLY_HEADER_LEN);
    let retval = r.i32("retval")?;
    r.skip(4, "client_index")?;
    let vpe_pid = r.u32("vpe_pid")?;
    r.finish()?;
    Ok(PingReply { retval, vpe_pid })
}

/// VPP's version (`show_version_reply`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// Program name (`vpe`).
    pub program: String,
    /// Version, e.g. `26.06-release`.
    pub version: String,
    /// Build date.
    pub build_date: String,
    /// Build directory (often empty).
    pub build_directory: String,
}

/// `show_version_reply` (362 bytes):
///
/// ```text
/// | u16 id | u32 context @2 | i32 retval @6 | string program[32] @10 | string version[32] @42 |
/// | string build_date[32] @74 | string build_directory[256] @106 |
/// ```
///
/// The last byte of each string is never written by VPP (`strncpy(.., N - 1)`) and may hold
/// stale bytes: strings are read up to the first NUL.
pub fn decode_show_version_reply(body: &[u8]) -> Result<(i32, Version), DecodeError> {
    let mut r = Reader::new(SHOW_VERSION_REPLY.name, body, REPLY_HEADER_LEN);
    let retval = r.i32("retval")?;
    let v = Version {
        program: r.fixed_str("program", 32)?,
        version: r.fixed_str("version", 32)?,
        build_date: r.fixed_str("build_date", 32)?,
        build_directory: r.fixed_str("build_directory", 256)?,
    };
    r.finish()?;
    Ok((retval, v))
}

/// The common `*_reply` (`e8d4e804`, 10 bytes): `u16 id | u32 context @2 | i32 retval @6`.
pub fn decode_retval_reply(def: &MsgDef, body: &[u8]) -> Result<i32, DecodeError> {
    let mut r = Reader::new(def.name, body, REPLY_HEADER_LEN);
    let retval = r.i32("retval")?;
    r.finish()?;
    Ok(retval)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockclnt_create_layout() {
        let b = encode_sockclnt_create(0x101, "vpp-vectors").unwrap();
        assert_eq!(b.len(), SOCKCLNT_CREATE.size);
        assert_eq!(&b[..6], &[0, 15, 0, 0, 1, 1]);
        assert_eq!(&b[6..17], b"vpp-vectors");
        assert!(b[17..].iter().all(|&x| x == 0));
        assert!(encode_sockclnt_create(1, &"x".repeat(64)).is_err());
    }

    #[test]
    fn create_reply_parses_table() {
        let mut b = BytesMut::new();
        b.put_u16(16);
        b.put_u32(0);
        b.put_u32(7);
        b.put_i32(0);
        b.put_u32(0x8000_0001);
        b.put_u16(2);
        for (id, name) in [
            (23u16, "control_ping_51077d14"),
            (618, "sr_policy_add_44ac92e8"),
        ] {
            b.put_u16(id);
            put_fixed_str(&mut b, "n", name, 64).unwrap();
        }
        let r = decode_sockclnt_create_reply(&b).unwrap();
        assert_eq!((r.context, r.response, r.client_index), (7, 0, 0x8000_0001));
        assert_eq!(r.table.len(), 2);
        assert_eq!(r.table.get("sr_policy_add_44ac92e8"), Some(618));
        // A count that promises more entries than the body holds is an error.
        let mut short = b.clone();
        short[19] = 3;
        assert!(decode_sockclnt_create_reply(&short).is_err());
    }

    #[test]
    fn ping_and_version_replies() {
        let ping = [
            0, 24, 0, 0, 1, 3, 0, 0, 0, 0, 0x11, 0x11, 0x22, 0x22, 0, 0, 0x5c, 0x68,
        ];
        let p = decode_control_ping_reply(&ping).unwrap();
        assert_eq!(
            p,
            PingReply {
                retval: 0,
                vpe_pid: 23656
            }
        );
        assert!(decode_control_ping_reply(&ping[..17]).is_err());

        let mut v = BytesMut::new();
        v.put_u16(825);
        v.put_u32(1);
        v.put_i32(0);
        put_fixed_str(&mut v, "p", "vpe", 32).unwrap();
        put_fixed_str(&mut v, "v", "26.06-release", 32).unwrap();
        put_fixed_str(&mut v, "d", "today", 32).unwrap();
        put_fixed_str(&mut v, "b", "", 256).unwrap();
        v[73] = 0xff; // stale last byte of `version`
        assert_eq!(v.len(), SHOW_VERSION_REPLY.size);
        let (rv, ver) = decode_show_version_reply(&v).unwrap();
        assert_eq!(
            (rv, ver.program.as_str(), ver.version.as_str()),
            (0, "vpe", "26.06-release")
        );
    }
}
