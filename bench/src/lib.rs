//! Whole-daemon benchmark harness (issue 8): sidrad against BIRD 2, FRR bgpd and GoBGP, each fed
//! the same pre-encoded UPDATE streams from K peers in a network namespace, measured from the
//! outside (the daemon's own counters, a sink peer, /proc).
//!
//! * [`stream`]: the pre-encoded UPDATE streams (announce and withdraw-all).
//! * [`wire`]: OPEN/KEEPALIVE, framing, and the sink's prefix counter.
//! * [`peers`]: the injector and sink process (`sidra-bench peers`, in the injector namespace).
//! * [`topo`]: the two namespaces, deleted on drop.
//! * [`configs`], [`targets`]: equivalent daemon configs, start, counter polling.
//! * [`run`]: one measured run; [`report`]: JSON and the Markdown table.

pub mod configs;
pub mod peers;
pub mod procstat;
pub mod report;
pub mod run;
pub mod stream;
pub mod targets;
pub mod topo;
pub mod wire;
