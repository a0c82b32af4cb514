//! Async client for VPP's binary API over its unix socket (`socksvr`), for the SRv6 engine.
//!
//! * [`framing`]: the 16-byte `msgbuf_t` header of the socket transport.
//! * [`Client`]: `sockclnt_create` handshake, message-table resolution by `name_crc` (refuses an
//!   incompatible VPP, naming the message), per-request contexts, dumps ended by
//!   `control_ping`, a timeout on every request, `sockclnt_delete`.
//! * [`Reconnecting`]: reconnect with backoff and a [`LinkState`] watch so the owner resyncs.
//! * [`messages`]: the typed messages with their wire layouts.
//!
//! ```no_run
//! # async fn demo() -> Result<(), vpp_client::Error> {
//! use std::time::Duration;
//! use vpp_client::{Client, IpTable, LocalSid, PolicyAdd, SidList, SteerTraffic, Steering};
//!
//! let vpp = Client::connect("/run/vpp/api.sock", Duration::from_secs(5)).await?;
//! println!("VPP {}", vpp.version().await?.version);
//! vpp.ip_table_add_del(true, &IpTable::new(10, false)).await?; // VRF before End.DT4
//! vpp.localsid_add(&LocalSid::end_dt4("fc00:0:1::10".parse().unwrap(), 10)).await?;
//! vpp.set_encap_source("fc00:0:1::1".parse().unwrap()).await?; // before any policy
//! let bsid = "fc00:0:1::100".parse().unwrap();
//! vpp.policy_add(&PolicyAdd::encap(bsid, SidList::new(vec!["fc00:0:2::1".parse().unwrap()])))
//!     .await?;
//! let steer = Steering { bsid, table_id: 0, traffic: SteerTraffic::L3("10.1.0.0/16".parse().unwrap()) };
//! vpp.steering_add(&steer).await?;
//! for p in vpp.policies().await? {
//!     println!("{} -> {:?}", p.bsid, p.sid_lists);
//! }
//! vpp.steering_del(&steer).await?; // steering before its policy
//! vpp.policy_del(bsid).await?;
//! vpp.disconnect().await
//! # }
//! ```

mod client;
mod connection;
pub mod error;
#[cfg(feature = "fake-vpp")]
pub mod fake;
pub mod framing;
pub mod messages;
mod reconnect;
pub mod smoke;
mod table;
mod wire;

pub use client::{Client, ClientConfig};
pub use error::{DecodeError, Error, VppError, VppErrorKind};
pub use messages::MsgDef;
pub use messages::control::Version;
pub use messages::ip::IpTable;
pub use messages::sr::{
    IndexedSidList, LocalSid, LocalSidStats, PolicyAdd, PolicyMod, PolicyModOp, SrPolicy,
    SrPolicyWithSlIndex, SteerTraffic, Steering,
};
pub use messages::types::{PolicyType, SidList, SrBehavior, SteerType};
pub use reconnect::{LinkState, ReconnectConfig, Reconnecting};
pub use table::MessageTable;
