//! The daemon configuration: a TOML file plus `SIDRA_` environment overrides, checked so that
//! every problem names its key.
//!
//! ```toml
//! [global]
//! asn = 65001
//! router_id = "10.0.0.1"
//!
//! [neighbor_groups.rr]          # a template: a neighbor takes its group's values
//! remote_as = 65001             # unless it sets its own
//! hold_time = 9
//!
//! [[neighbors]]
//! address = "fd00::2"
//! group = "rr"
//! ```
//!
//! `etc/sidrad.toml` is the commented example of every key.
//!
//! # Policies
//!
//! `[prefix_lists.NAME]` and `[[policies.NAME]]` define the routing policy (see
//! [`crate::policy`]); a neighbor or group names its policies with `import_policy` and
//! `export_policy`, and `global.ebgp_requires_policy` (default true) applies RFC 8212 to eBGP
//! neighbors without one. A policy statement's keys are named like any other:
//! `policies.from-rr[1].set.local_pref`, `prefix_lists.pods.entries[0].le`.
//!
//! # Environment
//!
//! `SIDRA_<SECTION>__<KEY>` overrides a key of the file: `SIDRA_GLOBAL__ASN=65002`,
//! `SIDRA_GLOBAL__ROUTER_ID=1.2.3.4`, `SIDRA_NEIGHBOR_GROUPS__RR__HOLD_TIME=30`. Lists are
//! comma-separated (`SIDRA_GLOBAL__LISTEN=[::]:1790,0.0.0.0:1790`; empty for an empty list).
//! Variables without `__` after the prefix (`SIDRA_LOG`, ...) are not configuration and are
//! left alone; any other `SIDRA_..__..` variable must name a known key.
//!
//! # Problems
//!
//! Loading collects every problem ([`ConfigErrors`]) instead of stopping at the first, each
//! displayed as `KEY: PROBLEM`:
//!
//! ```text
//! neighbors[1].hold_time: 2 is not allowed (must be 0 or 3..=65535)
//! neighbors[0].group: no neighbor group named "rrr"
//! neighbors[0].hold_tme: unknown key (did you mean hold_time?)
//! global.asn: expected an integer, found "x" (from environment variable SIDRA_GLOBAL__ASN)
//! ```
//!
//! Unknown keys are errors so that a typo fails loudly instead of silently taking a default.

mod api;
mod error;
mod policy;
mod resolve;
mod settings;
mod source;
mod srv6;
mod types;
mod walk;

use std::path::Path;

pub use api::{ApiConfig, ApiTls, DEFAULT_SOCKET, MetricsConfig};
pub use error::{ConfigError, ConfigErrors};
pub use srv6::{
    Backend, DataplaneConfig, LocatorConfig, ServiceBehavior, ServiceConfig, ServiceMode,
    Srv6Config,
};
pub use types::{
    AddPathMode, Config, GlobalConfig, MaxPrefixesAction, NeighborConfig, RequiredCapability,
    Secret,
};

/// The prefix of environment overrides.
pub const ENV_PREFIX: &str = "SIDRA";
/// The separator between the levels of a key in an environment variable name.
pub const ENV_SEPARATOR: &str = "__";

/// The defaults of unset keys.
pub mod defaults {
    use std::net::SocketAddr;

    use crate::packet::Family;

    /// `global.listen`.
    pub fn listen() -> Vec<SocketAddr> {
        vec![SocketAddr::from(([0u16; 8], 179))]
    }
    pub const HOLD_TIME: u16 = 90;
    /// RFC 4271 §10 suggests 120 s.
    pub const CONNECT_RETRY: u16 = 120;
    pub const IDLE_HOLD: u16 = 5;
    /// The default `max_idle_hold` is this or `idle_hold`, whichever is larger.
    pub const MAX_IDLE_HOLD: u16 = 60;
    pub const PORT: u16 = 179;
    pub const RESTART_TIME: u16 = 120;
    pub fn families() -> Vec<Family> {
        vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST]
    }
}

/// Load `path`, with the process environment's `SIDRA_` overrides.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let mut errs = ConfigErrors::default();
    let env = source::process_env(&mut errs);
    let config = load_with_env(path, env);
    match (config, errs.is_empty()) {
        (Ok(config), true) => Ok(config),
        (Ok(_), false) => Err(errs),
        (Err(more), _) => {
            errs.0.extend(more);
            Err(errs)
        }
    }
}

/// Load `path` with the given environment instead of the process's (only its `SIDRA_` variables
/// are looked at).
pub fn load_with_env<I>(path: &Path, env: I) -> Result<Config, ConfigErrors>
where
    I: IntoIterator<Item = (String, String)>,
{
    let key = format!("file {}", path.display());
    match std::fs::read_to_string(path) {
        Ok(text) => source::load(&key, &text, env),
        Err(e) => Err(ConfigErrors(vec![ConfigError::new(
            key,
            format!("cannot be read: {}", source::io_message(&e)),
        )])),
    }
}

/// Load a configuration from a string, without the environment. Syntax errors are keyed
/// `config`.
pub fn load_str(toml: &str) -> Result<Config, ConfigErrors> {
    load_str_with_env(toml, [])
}

/// Load a configuration from a string with the given environment overrides.
pub fn load_str_with_env<I>(toml: &str, env: I) -> Result<Config, ConfigErrors>
where
    I: IntoIterator<Item = (String, String)>,
{
    source::load("config", toml, env)
}

#[cfg(test)]
mod tests;
