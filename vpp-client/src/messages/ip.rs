//! `ip_table_add_del` and `ip_table_dump`: VRF tables, which must exist before any End.DT4 /
//! End.DT6 / End.T local SID points at them.

use bytes::{BufMut, BytesMut};

use super::REPLY_HEADER_LEN;
use super::defs::IP_TABLE_DETAILS;
use crate::error::{DecodeError, Error};
use crate::wire::{Reader, put_bool, put_fixed_str};

/// An IP table (`vl_api_ip_table_t`): `u32 table_id | bool is_ip6 | string name[64]` (69 bytes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IpTable {
    /// Table id (0 is the default table, which always exists; VPP ignores add/del of it).
    pub table_id: u32,
    /// IPv6 (true) or IPv4 table.
    pub is_ip6: bool,
    /// Name (up to 63 bytes); empty lets VPP name it (`ipv4-VRF:10`).
    pub name: String,
}

impl IpTable {
    /// An unnamed table.
    pub fn new(table_id: u32, is_ip6: bool) -> Self {
        Self {
            table_id,
            is_ip6,
            name: String::new(),
        }
    }
}

/// `ip_table_add_del` fields (80 bytes in all):
///
/// ```text
/// | hdr (10) | bool is_add @10 | u32 table_id @11 | bool is_ip6 @15 | string name[64] @16 |
/// ```
pub fn encode_ip_table_add_del(is_add: bool, t: &IpTable, buf: &mut BytesMut) -> Result<(), Error> {
    put_bool(buf, is_add);
    buf.put_u32(t.table_id);
    put_bool(buf, t.is_ip6);
    put_fixed_str(buf, "ip_table.name", &t.name, 64)
}

/// `ip_table_details` (75 bytes): `| u16 id | u32 context @2 | u32 table_id @6 | bool is_ip6 @10 |
/// string name[64] @11 |`.
pub fn decode_ip_table_details(body: &[u8]) -> Result<IpTable, DecodeError> {
    let mut r = Reader::new(IP_TABLE_DETAILS.name, body, REPLY_HEADER_LEN);
    let t = IpTable {
        table_id: r.u32("table.table_id")?,
        is_ip6: r.bool("table.is_ip6")?,
        name: r.fixed_str("table.name", 64)?,
    };
    r.finish()?;
    Ok(t)
}
