//! The typed client: one connection, one method per VPP operation.

use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::connection::Connection;
use crate::error::{DecodeError, Error, VppError, check_retval};
use crate::messages::MsgDef;
use crate::messages::control::{
    Version, decode_control_ping_reply, decode_retval_reply, decode_show_version_reply,
    decode_sockclnt_delete_reply, encode_sockclnt_delete,
};
use crate::messages::defs::*;
use crate::messages::ip::{IpTable, decode_ip_table_details, encode_ip_table_add_del};
use crate::messages::sr::*;
use crate::table::MessageTable;

/// How to reach VPP.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The API socket (`socksvr { socket-name ... }`, usually `/run/vpp/api.sock`).
    pub socket: PathBuf,
    /// The name registered with `sockclnt_create` (up to 63 bytes).
    pub name: String,
    /// Timeout of every request and dump (VPP does not answer malformed requests).
    pub request_timeout: Duration,
    /// Timeout of `connect()` plus the `sockclnt_create` handshake.
    pub connect_timeout: Duration,
}

impl ClientConfig {
    /// Defaults: name `sidra`, 5 s timeouts.
    pub fn new(socket: impl Into<PathBuf>) -> Self {
        Self {
            socket: socket.into(),
            name: "sidra".into(),
            request_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// A connected VPP API client. Methods may be called concurrently (`&self`); replies are
/// matched by context. Once the connection is lost every call fails with
/// [`Error::Disconnected`]: make a new client (or use [`crate::Reconnecting`]) and resync.
pub struct Client {
    conn: Connection,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field(
                "client_index",
                &format_args!("{:#x}", self.conn.client_index()),
            )
            .field("closed", &self.conn.closed_reason())
            .finish()
    }
}

type Decoder<T> = fn(&[u8]) -> Result<T, DecodeError>;

impl Client {
    /// Connects to `socket` with `timeout` for the connection and for each request.
    pub async fn connect(socket: impl AsRef<Path>, timeout: Duration) -> Result<Self, Error> {
        let mut cfg = ClientConfig::new(socket.as_ref());
        cfg.request_timeout = timeout;
        cfg.connect_timeout = timeout;
        Self::connect_with(&cfg).await
    }

    /// Connects with a full configuration. Fails with [`Error::MissingMessage`] naming the
    /// message if this VPP lacks one this client needs with the CRC it was built for.
    pub async fn connect_with(cfg: &ClientConfig) -> Result<Self, Error> {
        let (conn, hs) = Connection::establish(&cfg.socket, &cfg.name, cfg.connect_timeout).await?;
        tracing::info!(
            socket = %cfg.socket.display(),
            client_index = format_args!("{:#x}", hs.client_index),
            messages = conn.resolved().table().len(),
            "connected to VPP"
        );
        Ok(Self {
            conn,
            timeout: cfg.request_timeout,
        })
    }

    /// The request timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Changes the request timeout.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// The client handle VPP assigned (`sockclnt_create_reply.index`).
    pub fn client_index(&self) -> u32 {
        self.conn.client_index()
    }

    /// VPP's full message table.
    pub fn message_table(&self) -> &MessageTable {
        self.conn.resolved().table()
    }

    /// Every message this client resolved, as `(name_crc, id)` (for the startup log).
    pub fn resolved_messages(&self) -> Vec<(&'static str, u16)> {
        self.conn.resolved().resolved()
    }

    /// True if this VPP has `def` (e.g. [`SR_POLICY_ADD_V2`]).
    pub fn supports(&self, def: &MsgDef) -> bool {
        self.conn.resolved().has(def)
    }

    /// VPP's pid from the latest `control_ping_reply` (every dump ends with one); it changes
    /// when VPP restarts.
    pub fn vpe_pid(&self) -> Option<u32> {
        self.conn.vpe_pid()
    }

    /// True once the connection is lost or closed.
    pub fn is_closed(&self) -> bool {
        self.conn.closed_reason().is_some()
    }

    /// Why the connection is closed, if it is.
    pub fn closed_reason(&self) -> Option<Arc<str>> {
        self.conn.closed_reason()
    }

    /// Resolves when the connection is lost or closed (e.g. VPP restarted), with the reason.
    pub async fn closed(&self) -> Arc<str> {
        self.conn.closed().await
    }

    /// Orderly goodbye: `sockclnt_delete` (success is `response == 1`), then closes the socket.
    /// The socket is closed even if the request fails.
    pub async fn disconnect(&self) -> Result<(), Error> {
        let mut f = BytesMut::new();
        encode_sockclnt_delete(self.client_index(), &mut f);
        let res = self
            .conn
            .request(&SOCKCLNT_DELETE, &SOCKCLNT_DELETE_REPLY, &f, self.timeout)
            .await;
        self.conn.close("disconnected by the client").await;
        let response = decode_sockclnt_delete_reply(&res?)?;
        if response == 1 {
            Ok(())
        } else {
            Err(Error::Vpp(VppError::new(SOCKCLNT_DELETE.name, response)))
        }
    }

    async fn call(&self, req: &MsgDef, reply: &MsgDef, fields: &[u8]) -> Result<(), Error> {
        let body = self.conn.request(req, reply, fields, self.timeout).await?;
        check_retval(req.name, decode_retval_reply(reply, &body)?)
    }

    async fn dump<T>(
        &self,
        dump: &MsgDef,
        details: &MsgDef,
        dec: Decoder<T>,
    ) -> Result<Vec<T>, Error> {
        let bodies = self.conn.dump(dump, details, self.timeout).await?;
        bodies.iter().map(|b| dec(b).map_err(Error::from)).collect()
    }

    /// Sends a raw message: `id`, then `client_index` (ours unless overridden), a fresh
    /// context, then `fields`; returns the body of whatever VPP answers with that context.
    /// Nothing is checked, so VPP may drop it silently ([`Error::Timeout`] after `timeout`).
    pub async fn request_raw(
        &self,
        id: u16,
        client_index: Option<u32>,
        fields: &[u8],
        timeout: Duration,
    ) -> Result<Bytes, Error> {
        self.conn
            .request_raw(id, client_index, fields, timeout)
            .await
    }

    /// `show_version`.
    pub async fn version(&self) -> Result<Version, Error> {
        let body = self
            .conn
            .request(&SHOW_VERSION, &SHOW_VERSION_REPLY, &[], self.timeout)
            .await?;
        let (retval, v) = decode_show_version_reply(&body)?;
        check_retval(SHOW_VERSION.name, retval)?;
        Ok(v)
    }

    /// `control_ping`; returns VPP's pid.
    pub async fn ping(&self) -> Result<u32, Error> {
        let body = self
            .conn
            .request(&CONTROL_PING, &CONTROL_PING_REPLY, &[], self.timeout)
            .await?;
        let r = decode_control_ping_reply(&body)?;
        check_retval(CONTROL_PING.name, r.retval)?;
        Ok(r.vpe_pid)
    }

    /// `sr_set_encap_source`. Set it **before** adding policies: VPP copies the source into
    /// each SID list's rewrite when the list is created; existing lists keep the old one.
    pub async fn set_encap_source(&self, src: Ipv6Addr) -> Result<(), Error> {
        let mut f = BytesMut::new();
        encode_set_encap_source(src, &mut f);
        self.call(&SR_SET_ENCAP_SOURCE, &SR_SET_ENCAP_SOURCE_REPLY, &f)
            .await
    }

    /// `sr_set_encap_hop_limit` (0 is refused by VPP with -7).
    pub async fn set_encap_hop_limit(&self, hop_limit: u8) -> Result<(), Error> {
        self.call(
            &SR_SET_ENCAP_HOP_LIMIT,
            &SR_SET_ENCAP_HOP_LIMIT_REPLY,
            &[hop_limit],
        )
        .await
    }

    /// `ip_table_add_del` with `is_add`. Create the IPv4 and IPv6 VRF before any End.DT4/DT6
    /// pointing at it, and delete it only after those SIDs.
    pub async fn ip_table_add_del(&self, is_add: bool, table: &IpTable) -> Result<(), Error> {
        let mut f = BytesMut::new();
        encode_ip_table_add_del(is_add, table, &mut f)?;
        self.call(&IP_TABLE_ADD_DEL, &IP_TABLE_ADD_DEL_REPLY, &f)
            .await
    }

    /// `ip_table_dump`: every IPv4 and IPv6 table.
    pub async fn ip_tables(&self) -> Result<Vec<IpTable>, Error> {
        self.dump(&IP_TABLE_DUMP, &IP_TABLE_DETAILS, decode_ip_table_details)
            .await
    }

    /// `sr_localsid_add_del` with `is_del`.
    ///
    /// Trap: VPP accepts an End.DT4/DT6/T whose VRF table does not exist and then crashes on
    /// the next `sr_localsids_dump`. This method does not check (that needs a dump); the
    /// caller must create the table first ([`Client::ip_table_add_del`]).
    pub async fn localsid_add_del(&self, is_del: bool, sid: &LocalSid) -> Result<(), Error> {
        let mut f = BytesMut::new();
        encode_localsid_add_del(is_del, sid, &mut f);
        self.call(&SR_LOCALSID_ADD_DEL, &SR_LOCALSID_ADD_DEL_REPLY, &f)
            .await
    }

    /// Adds a local SID (duplicate: [`crate::VppErrorKind::AlreadyExists`]).
    pub async fn localsid_add(&self, sid: &LocalSid) -> Result<(), Error> {
        self.localsid_add_del(false, sid).await
    }

    /// Deletes a local SID (missing: [`crate::VppErrorKind::NotFound`]).
    pub async fn localsid_del(&self, sid: &LocalSid) -> Result<(), Error> {
        self.localsid_add_del(true, sid).await
    }

    /// `sr_localsids_dump`.
    pub async fn localsids(&self) -> Result<Vec<LocalSid>, Error> {
        self.dump(
            &SR_LOCALSIDS_DUMP,
            &SR_LOCALSIDS_DETAILS,
            decode_localsid_details,
        )
        .await
    }

    /// `sr_localsids_with_packet_stats_dump`: local SIDs with their counters
    /// ([`Error::Unsupported`] if this VPP lacks it).
    pub async fn localsids_with_stats(&self) -> Result<Vec<LocalSidStats>, Error> {
        self.dump(
            &SR_LOCALSIDS_WITH_PACKET_STATS_DUMP,
            &SR_LOCALSIDS_WITH_PACKET_STATS_DETAILS,
            decode_localsid_stats_details,
        )
        .await
    }

    /// `sr_policy_add` (v1: default or spray, global encap source).
    pub async fn policy_add(&self, p: &PolicyAdd) -> Result<(), Error> {
        let mut f = BytesMut::new();
        encode_policy_add(p, &mut f)?;
        self.call(&SR_POLICY_ADD, &SR_POLICY_ADD_REPLY, &f).await
    }

    /// `sr_policy_add_v2` (type TEF, per-policy encap source; VPP >= 23.06).
    pub async fn policy_add_v2(&self, p: &PolicyAdd) -> Result<(), Error> {
        let mut f = BytesMut::new();
        encode_policy_add_v2(p, &mut f)?;
        self.call(&SR_POLICY_ADD_V2, &SR_POLICY_ADD_V2_REPLY, &f)
            .await
    }

    /// `sr_policy_mod` (v1).
    pub async fn policy_mod(&self, m: &PolicyMod) -> Result<(), Error> {
        let mut f = BytesMut::new();
        encode_policy_mod(m, &mut f)?;
        self.call(&SR_POLICY_MOD, &SR_POLICY_MOD_REPLY, &f).await
    }

    /// `sr_policy_mod_v2`.
    pub async fn policy_mod_v2(&self, m: &PolicyMod) -> Result<(), Error> {
        let mut f = BytesMut::new();
        encode_policy_mod_v2(m, &mut f)?;
        self.call(&SR_POLICY_MOD_V2, &SR_POLICY_MOD_V2_REPLY, &f)
            .await
    }

    /// `sr_policy_del` by BSID. Delete the policy's steering entries **first**: VPP leaves
    /// them behind with a dangling policy index.
    pub async fn policy_del(&self, bsid: Ipv6Addr) -> Result<(), Error> {
        let mut f = BytesMut::new();
        encode_policy_del(bsid, &mut f);
        self.call(&SR_POLICY_DEL, &SR_POLICY_DEL_REPLY, &f).await
    }

    /// Policies: `sr_policies_v2_dump` when VPP has it, else `sr_policies_dump`.
    pub async fn policies(&self) -> Result<Vec<SrPolicy>, Error> {
        if self.supports(&SR_POLICIES_V2_DUMP) {
            self.policies_v2().await
        } else {
            self.policies_v1().await
        }
    }

    /// `sr_policies_v2_dump` (with encap source and type).
    pub async fn policies_v2(&self) -> Result<Vec<SrPolicy>, Error> {
        self.dump(
            &SR_POLICIES_V2_DUMP,
            &SR_POLICIES_V2_DETAILS,
            decode_policies_v2_details,
        )
        .await
    }

    /// `sr_policies_dump` (deprecated; no encap source, no TEF).
    pub async fn policies_v1(&self) -> Result<Vec<SrPolicy>, Error> {
        self.dump(
            &SR_POLICIES_DUMP,
            &SR_POLICIES_DETAILS,
            decode_policies_details,
        )
        .await
    }

    /// `sr_policies_with_sl_index_dump`: the global SID-list indexes `sr_policy_mod` needs.
    pub async fn policies_with_sl_index(&self) -> Result<Vec<SrPolicyWithSlIndex>, Error> {
        self.dump(
            &SR_POLICIES_WITH_SL_INDEX_DUMP,
            &SR_POLICIES_WITH_SL_INDEX_DETAILS,
            decode_policies_with_sl_index_details,
        )
        .await
    }

    /// `sr_steering_add_del` with `is_del`. Adding an existing (prefix, table, type) re-points
    /// it to the new BSID.
    pub async fn steering_add_del(&self, is_del: bool, s: &Steering) -> Result<(), Error> {
        let mut f = BytesMut::new();
        encode_steering_add_del(is_del, s, &mut f);
        self.call(&SR_STEERING_ADD_DEL, &SR_STEERING_ADD_DEL_REPLY, &f)
            .await
    }

    /// Adds a steering entry (unknown BSID: [`crate::VppErrorKind::NotFound`]).
    pub async fn steering_add(&self, s: &Steering) -> Result<(), Error> {
        self.steering_add_del(false, s).await
    }

    /// Deletes a steering entry (missing: [`crate::VppErrorKind::NotFound`]).
    pub async fn steering_del(&self, s: &Steering) -> Result<(), Error> {
        self.steering_add_del(true, s).await
    }

    /// `sr_steering_pol_dump`.
    pub async fn steering(&self) -> Result<Vec<Steering>, Error> {
        self.dump(
            &SR_STEERING_POL_DUMP,
            &SR_STEERING_POL_DETAILS,
            decode_steering_details,
        )
        .await
    }
}
