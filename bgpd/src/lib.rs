//! sidra's BGP daemon library: wire codec, and (as they land) FSM, sessions, RIB, policy, the SRv6
//! service and the API server.

pub mod api;
pub mod capture;
pub mod config;
pub mod daemon;
pub mod dataplane;
pub mod fsm;
pub mod inspect;
pub mod packet;
pub mod policy;
pub mod rib;
pub mod session;
pub mod srv6;
pub mod telemetry;
