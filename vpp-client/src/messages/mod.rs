//! Message definitions (name, CRC, size) and typed encoders/decoders.
//!
//! Every body starts with the big-endian `u16 _vl_msg_id`. Then:
//!
//! ```text
//! request / dump:      | u16 id | u32 client_index | u32 context | fields...      (fields @10)
//! reply:               | u16 id | u32 context | i32 retval | fields...           (retval @6)
//! details:             | u16 id | u32 context | fields...                        (fields @6)
//! sockclnt_create:     | u16 15 | u32 context | char name[64] |                  (no client_index)
//! sockclnt_create_reply| u16 16 | u32 0 | u32 context | i32 response | u32 index | u16 count | ...
//! ```
//!
//! Only `sockclnt_create` (15) has a fixed id; every other id is resolved at connect time from
//! VPP's message table by `<name>_<crc>` ([`MsgDef::name_crc`]), the CRC being the one in the
//! VPP 26.06 `.api.json` files (unchanged from 22.10 to master for all messages used here).

pub mod control;
pub mod ip;
pub mod sr;
pub mod types;

/// One API message as this client was built for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MsgDef {
    /// Message name, e.g. `sr_policy_add`.
    pub name: &'static str,
    /// `<name>_<crc>` (lower-case hex, no `0x`): the key in VPP's message table.
    pub name_crc: &'static str,
    /// Body size in bytes including `_vl_msg_id`; for messages ending in a variable array, the
    /// size with zero elements.
    pub size: usize,
    /// Size of one element of the trailing variable array (0 if none).
    pub elem_size: usize,
}

impl MsgDef {
    const fn new(name: &'static str, name_crc: &'static str, size: usize) -> Self {
        Self {
            name,
            name_crc,
            size,
            elem_size: 0,
        }
    }

    const fn var(name: &'static str, name_crc: &'static str, size: usize, elem: usize) -> Self {
        Self {
            name,
            name_crc,
            size,
            elem_size: elem,
        }
    }
}

/// The definitions of every message this client uses.
pub mod defs {
    use super::MsgDef;

    // memclnt
    /// `sockclnt_create` (id 15, hard-coded).
    pub const SOCKCLNT_CREATE: MsgDef =
        MsgDef::new("sockclnt_create", "sockclnt_create_455fb9c4", 70);
    /// `sockclnt_create_reply` (id 16); 66-byte table entries.
    pub const SOCKCLNT_CREATE_REPLY: MsgDef = MsgDef::var(
        "sockclnt_create_reply",
        "sockclnt_create_reply_35166268",
        20,
        66,
    );
    /// `sockclnt_delete`.
    pub const SOCKCLNT_DELETE: MsgDef =
        MsgDef::new("sockclnt_delete", "sockclnt_delete_8ac76db6", 14);
    /// `sockclnt_delete_reply` (response 1 = deleted).
    pub const SOCKCLNT_DELETE_REPLY: MsgDef = MsgDef::new(
        "sockclnt_delete_reply",
        "sockclnt_delete_reply_8f38b1ee",
        10,
    );
    /// `control_ping`.
    pub const CONTROL_PING: MsgDef = MsgDef::new("control_ping", "control_ping_51077d14", 10);
    /// `control_ping_reply`.
    pub const CONTROL_PING_REPLY: MsgDef =
        MsgDef::new("control_ping_reply", "control_ping_reply_f6b0b8ca", 18);
    // vpe
    /// `show_version`.
    pub const SHOW_VERSION: MsgDef = MsgDef::new("show_version", "show_version_51077d14", 10);
    /// `show_version_reply`.
    pub const SHOW_VERSION_REPLY: MsgDef =
        MsgDef::new("show_version_reply", "show_version_reply_c919bde1", 362);
    // ip
    /// `ip_table_add_del`.
    pub const IP_TABLE_ADD_DEL: MsgDef =
        MsgDef::new("ip_table_add_del", "ip_table_add_del_0ffdaec0", 80);
    /// `ip_table_add_del_reply`.
    pub const IP_TABLE_ADD_DEL_REPLY: MsgDef = MsgDef::new(
        "ip_table_add_del_reply",
        "ip_table_add_del_reply_e8d4e804",
        10,
    );
    /// `ip_table_dump`.
    pub const IP_TABLE_DUMP: MsgDef = MsgDef::new("ip_table_dump", "ip_table_dump_51077d14", 10);
    /// `ip_table_details`.
    pub const IP_TABLE_DETAILS: MsgDef =
        MsgDef::new("ip_table_details", "ip_table_details_c79fca0f", 75);
    // sr
    /// `sr_set_encap_source`.
    pub const SR_SET_ENCAP_SOURCE: MsgDef =
        MsgDef::new("sr_set_encap_source", "sr_set_encap_source_d3bad5e1", 26);
    /// `sr_set_encap_source_reply`.
    pub const SR_SET_ENCAP_SOURCE_REPLY: MsgDef = MsgDef::new(
        "sr_set_encap_source_reply",
        "sr_set_encap_source_reply_e8d4e804",
        10,
    );
    /// `sr_set_encap_hop_limit`.
    pub const SR_SET_ENCAP_HOP_LIMIT: MsgDef = MsgDef::new(
        "sr_set_encap_hop_limit",
        "sr_set_encap_hop_limit_aa75d7d0",
        11,
    );
    /// `sr_set_encap_hop_limit_reply`.
    pub const SR_SET_ENCAP_HOP_LIMIT_REPLY: MsgDef = MsgDef::new(
        "sr_set_encap_hop_limit_reply",
        "sr_set_encap_hop_limit_reply_e8d4e804",
        10,
    );
    /// `sr_localsid_add_del`.
    pub const SR_LOCALSID_ADD_DEL: MsgDef =
        MsgDef::new("sr_localsid_add_del", "sr_localsid_add_del_5a36c324", 58);
    /// `sr_localsid_add_del_reply`.
    pub const SR_LOCALSID_ADD_DEL_REPLY: MsgDef = MsgDef::new(
        "sr_localsid_add_del_reply",
        "sr_localsid_add_del_reply_e8d4e804",
        10,
    );
    /// `sr_policy_add` (v1).
    pub const SR_POLICY_ADD: MsgDef = MsgDef::new("sr_policy_add", "sr_policy_add_44ac92e8", 297);
    /// `sr_policy_add_reply`.
    pub const SR_POLICY_ADD_REPLY: MsgDef =
        MsgDef::new("sr_policy_add_reply", "sr_policy_add_reply_e8d4e804", 10);
    /// `sr_policy_add_v2` (since 23.06).
    pub const SR_POLICY_ADD_V2: MsgDef =
        MsgDef::new("sr_policy_add_v2", "sr_policy_add_v2_f6297f36", 313);
    /// `sr_policy_add_v2_reply`.
    pub const SR_POLICY_ADD_V2_REPLY: MsgDef = MsgDef::new(
        "sr_policy_add_v2_reply",
        "sr_policy_add_v2_reply_e8d4e804",
        10,
    );
    /// `sr_policy_mod` (v1).
    pub const SR_POLICY_MOD: MsgDef = MsgDef::new("sr_policy_mod", "sr_policy_mod_b97bb56e", 304);
    /// `sr_policy_mod_reply`.
    pub const SR_POLICY_MOD_REPLY: MsgDef =
        MsgDef::new("sr_policy_mod_reply", "sr_policy_mod_reply_e8d4e804", 10);
    /// `sr_policy_mod_v2` (since 23.06).
    pub const SR_POLICY_MOD_V2: MsgDef =
        MsgDef::new("sr_policy_mod_v2", "sr_policy_mod_v2_c0544823", 320);
    /// `sr_policy_mod_v2_reply`.
    pub const SR_POLICY_MOD_V2_REPLY: MsgDef = MsgDef::new(
        "sr_policy_mod_v2_reply",
        "sr_policy_mod_v2_reply_e8d4e804",
        10,
    );
    /// `sr_policy_del`.
    pub const SR_POLICY_DEL: MsgDef = MsgDef::new("sr_policy_del", "sr_policy_del_cb4d48d5", 30);
    /// `sr_policy_del_reply`.
    pub const SR_POLICY_DEL_REPLY: MsgDef =
        MsgDef::new("sr_policy_del_reply", "sr_policy_del_reply_e8d4e804", 10);
    /// `sr_steering_add_del`.
    pub const SR_STEERING_ADD_DEL: MsgDef =
        MsgDef::new("sr_steering_add_del", "sr_steering_add_del_e46b0a0f", 58);
    /// `sr_steering_add_del_reply`.
    pub const SR_STEERING_ADD_DEL_REPLY: MsgDef = MsgDef::new(
        "sr_steering_add_del_reply",
        "sr_steering_add_del_reply_e8d4e804",
        10,
    );
    /// `sr_localsids_dump`.
    pub const SR_LOCALSIDS_DUMP: MsgDef =
        MsgDef::new("sr_localsids_dump", "sr_localsids_dump_51077d14", 10);
    /// `sr_localsids_details`.
    pub const SR_LOCALSIDS_DETAILS: MsgDef =
        MsgDef::new("sr_localsids_details", "sr_localsids_details_2e9221b9", 53);
    /// `sr_localsids_with_packet_stats_dump` (per-SID counters, "in_progress").
    pub const SR_LOCALSIDS_WITH_PACKET_STATS_DUMP: MsgDef = MsgDef::new(
        "sr_localsids_with_packet_stats_dump",
        "sr_localsids_with_packet_stats_dump_51077d14",
        10,
    );
    /// `sr_localsids_with_packet_stats_details`.
    pub const SR_LOCALSIDS_WITH_PACKET_STATS_DETAILS: MsgDef = MsgDef::new(
        "sr_localsids_with_packet_stats_details",
        "sr_localsids_with_packet_stats_details_ce0b1ce0",
        85,
    );
    /// `sr_policies_dump` (deprecated, still served).
    pub const SR_POLICIES_DUMP: MsgDef =
        MsgDef::new("sr_policies_dump", "sr_policies_dump_51077d14", 10);
    /// `sr_policies_details`; 261-byte SID lists.
    pub const SR_POLICIES_DETAILS: MsgDef = MsgDef::var(
        "sr_policies_details",
        "sr_policies_details_db6ff2a1",
        29,
        261,
    );
    /// `sr_policies_v2_dump` (since 23.06).
    pub const SR_POLICIES_V2_DUMP: MsgDef =
        MsgDef::new("sr_policies_v2_dump", "sr_policies_v2_dump_51077d14", 10);
    /// `sr_policies_v2_details`; 261-byte SID lists.
    pub const SR_POLICIES_V2_DETAILS: MsgDef = MsgDef::var(
        "sr_policies_v2_details",
        "sr_policies_v2_details_96dcb699",
        45,
        261,
    );
    /// `sr_policies_with_sl_index_dump` ("in_progress").
    pub const SR_POLICIES_WITH_SL_INDEX_DUMP: MsgDef = MsgDef::new(
        "sr_policies_with_sl_index_dump",
        "sr_policies_with_sl_index_dump_51077d14",
        10,
    );
    /// `sr_policies_with_sl_index_details`; 265-byte SID lists.
    pub const SR_POLICIES_WITH_SL_INDEX_DETAILS: MsgDef = MsgDef::var(
        "sr_policies_with_sl_index_details",
        "sr_policies_with_sl_index_details_ca2e9bc8",
        29,
        265,
    );
    /// `sr_steering_pol_dump`.
    pub const SR_STEERING_POL_DUMP: MsgDef =
        MsgDef::new("sr_steering_pol_dump", "sr_steering_pol_dump_51077d14", 10);
    /// `sr_steering_pol_details`.
    pub const SR_STEERING_POL_DETAILS: MsgDef = MsgDef::new(
        "sr_steering_pol_details",
        "sr_steering_pol_details_d41258c9",
        49,
    );

    /// Messages VPP must have, or [`crate::Client::connect`] refuses with
    /// [`crate::Error::MissingMessage`] naming the first one missing.
    pub const REQUIRED: &[MsgDef] = &[
        CONTROL_PING,
        CONTROL_PING_REPLY,
        SOCKCLNT_DELETE,
        SOCKCLNT_DELETE_REPLY,
        SHOW_VERSION,
        SHOW_VERSION_REPLY,
        IP_TABLE_ADD_DEL,
        IP_TABLE_ADD_DEL_REPLY,
        IP_TABLE_DUMP,
        IP_TABLE_DETAILS,
        SR_SET_ENCAP_SOURCE,
        SR_SET_ENCAP_SOURCE_REPLY,
        SR_LOCALSID_ADD_DEL,
        SR_LOCALSID_ADD_DEL_REPLY,
        SR_POLICY_ADD,
        SR_POLICY_ADD_REPLY,
        SR_POLICY_MOD,
        SR_POLICY_MOD_REPLY,
        SR_POLICY_DEL,
        SR_POLICY_DEL_REPLY,
        SR_STEERING_ADD_DEL,
        SR_STEERING_ADD_DEL_REPLY,
        SR_LOCALSIDS_DUMP,
        SR_LOCALSIDS_DETAILS,
        SR_STEERING_POL_DUMP,
        SR_STEERING_POL_DETAILS,
    ];

    /// Messages used when VPP has them ([`crate::Error::Unsupported`] otherwise). At least one
    /// of `sr_policies_v2_dump` and `sr_policies_dump` (with its details) is required.
    pub const OPTIONAL: &[MsgDef] = &[
        SR_SET_ENCAP_HOP_LIMIT,
        SR_SET_ENCAP_HOP_LIMIT_REPLY,
        SR_POLICY_ADD_V2,
        SR_POLICY_ADD_V2_REPLY,
        SR_POLICY_MOD_V2,
        SR_POLICY_MOD_V2_REPLY,
        SR_POLICIES_DUMP,
        SR_POLICIES_DETAILS,
        SR_POLICIES_V2_DUMP,
        SR_POLICIES_V2_DETAILS,
        SR_POLICIES_WITH_SL_INDEX_DUMP,
        SR_POLICIES_WITH_SL_INDEX_DETAILS,
        SR_LOCALSIDS_WITH_PACKET_STATS_DUMP,
        SR_LOCALSIDS_WITH_PACKET_STATS_DETAILS,
    ];
}

/// Offset of the first field of a request (after id, client_index, context).
pub const REQUEST_HEADER_LEN: usize = 10;
/// Offset of the first field of a reply or details message (after id, context).
pub const REPLY_HEADER_LEN: usize = 6;
