//! The session settings a neighbor group and a neighbor share, each checked on its own where it
//! is written (ranges, address syntax, names). Checks that involve two settings or the neighbor
//! address are in `resolve`, once the group and the defaults are merged.

use std::net::IpAddr;

use super::walk::{Field, Node};
use super::{AddPathMode, ConfigErrors, MaxPrefixesAction, RequiredCapability, Secret};
use crate::packet::Family;

/// RFC 2385 does not bound the key; Linux's `TCP_MD5SIG_MAXKEYLEN` is 80 bytes.
pub(super) const MAX_PASSWORD_LEN: usize = 80;

/// AS_TRANS (RFC 6793 §9): a placeholder in 2-octet fields, never a real AS.
pub(super) const AS_TRANS: i64 = 23456;

/// Expands to the settings struct, its list of keys, and the merge with a group.
macro_rules! settings {
    ($($name:ident: $ty:ty,)*) => {
        /// Settings of a neighbor group or a neighbor, as written: `None` where not set.
        #[derive(Clone, Debug, Default)]
        pub(super) struct Settings {
            $(pub $name: Option<Field<$ty>>,)*
        }

        impl Settings {
            /// The keys of a neighbor group (a neighbor adds `address` and `group`).
            pub const KEYS: &[&str] = &[$(stringify!($name),)*];

            /// These settings, with the unset ones taken from `group`.
            pub fn over(&self, group: &Settings) -> Settings {
                Settings {
                    $($name: self.$name.clone().or_else(|| group.$name.clone()),)*
                }
            }
        }
    };
}

settings! {
    remote_as: u32,
    hold_time: u16,
    keepalive: u16,
    connect_retry: u16,
    delay_open: u16,
    idle_hold: u16,
    max_idle_hold: u16,
    families: Vec<Family>,
    passive: bool,
    password: Secret,
    ttl_security: u8,
    local_address: IpAddr,
    port: u16,
    description: String,
    extended_nexthop: bool,
    add_path: AddPathMode,
    graceful_restart: bool,
    restart_time: u16,
    advertisement_interval: u16,
    long_lived_stale_time: u32,
    required_capabilities: Vec<RequiredCapability>,
    shutdown: bool,
    route_reflector_client: bool,
    import_policy: String,
    export_policy: String,
    max_prefixes: u32,
    max_prefixes_action: MaxPrefixesAction,
    soft_reconfiguration_inbound: bool,
}

impl Settings {
    /// Read one entry of a group or neighbor table. Returns false if `node` names no setting.
    /// A value with a problem is reported and left unset.
    pub fn read(&mut self, node: &Node<'_>, errs: &mut ConfigErrors) -> bool {
        let e = errs;
        match node.name() {
            "remote_as" => self.remote_as = node.int(e).and_then(|f| asn(f, e)),
            "hold_time" => self.hold_time = node.int(e).and_then(|f| hold_time(f, e)),
            // The upper bound against hold_time is checked in `resolve`.
            "keepalive" => self.keepalive = node.int(e).and_then(|f| range(f, 1, 21845, e)),
            "connect_retry" => self.connect_retry = node.int(e).and_then(|f| seconds(f, 1, e)),
            "delay_open" => self.delay_open = node.int(e).and_then(|f| seconds(f, 0, e)),
            "idle_hold" => self.idle_hold = node.int(e).and_then(|f| seconds(f, 1, e)),
            "max_idle_hold" => self.max_idle_hold = node.int(e).and_then(|f| seconds(f, 1, e)),
            "families" => self.families = node.strings(e).and_then(|f| families(f, e)),
            "passive" => self.passive = node.boolean(e),
            "password" => self.password = node.string(e).and_then(|f| password(f, e)),
            "ttl_security" => self.ttl_security = node.int(e).and_then(|f| range(f, 1, 254, e)),
            "local_address" => self.local_address = node.string(e).and_then(|f| ip(f, e)),
            "port" => self.port = node.int(e).and_then(|f| range(f, 1, 65535, e)),
            "description" => self.description = node.string(e),
            "extended_nexthop" => self.extended_nexthop = node.boolean(e),
            "add_path" => self.add_path = node.string(e).and_then(|f| add_path(f, e)),
            "graceful_restart" => self.graceful_restart = node.boolean(e),
            "restart_time" => self.restart_time = node.int(e).and_then(|f| range(f, 1, 4095, e)),
            "long_lived_stale_time" => {
                self.long_lived_stale_time = node.int(e).and_then(|f| range(f, 0, 16_777_215, e))
            }
            "advertisement_interval" => {
                self.advertisement_interval = node.int(e).and_then(|f| range(f, 0, 600, e))
            }
            "required_capabilities" => {
                self.required_capabilities = node.strings(e).and_then(|f| capabilities(f, e))
            }
            "shutdown" => self.shutdown = node.boolean(e),
            "route_reflector_client" => self.route_reflector_client = node.boolean(e),
            // Checked against the policies in `resolve`.
            "import_policy" => self.import_policy = node.string(e),
            "export_policy" => self.export_policy = node.string(e),
            "max_prefixes" => {
                self.max_prefixes = node
                    .int(e)
                    .and_then(|f| range(f, 1, i64::from(u32::MAX), e))
            }
            "max_prefixes_action" => {
                self.max_prefixes_action = node.string(e).and_then(|f| max_prefixes_action(f, e))
            }
            "soft_reconfiguration_inbound" => self.soft_reconfiguration_inbound = node.boolean(e),
            _ => return false,
        }
        true
    }
}

/// `lo..=hi`, converted to the field's integer type.
pub(super) fn range<T: TryFrom<i64>>(
    f: Field<i64>,
    lo: i64,
    hi: i64,
    errs: &mut ConfigErrors,
) -> Option<Field<T>> {
    match T::try_from(f.value) {
        Ok(v) if (lo..=hi).contains(&f.value) => Some(f.map(|_| v)),
        _ => {
            f.problem(
                errs,
                format!("{} is out of range (must be {lo}..={hi})", f.value),
            );
            None
        }
    }
}

fn seconds(f: Field<i64>, lo: i64, errs: &mut ConfigErrors) -> Option<Field<u16>> {
    range(f, lo, i64::from(u16::MAX), errs)
}

/// An AS number: 1..=4294967295, not AS_TRANS.
pub(super) fn asn(f: Field<i64>, errs: &mut ConfigErrors) -> Option<Field<u32>> {
    if f.value == AS_TRANS {
        f.problem(
            errs,
            "23456 is not allowed (AS_TRANS, RFC 6793, is not a real AS number)",
        );
        return None;
    }
    range(f, 1, i64::from(u32::MAX), errs)
}

/// RFC 4271 §4.2: "the Hold Time MUST be either zero or at least three seconds".
fn hold_time(f: Field<i64>, errs: &mut ConfigErrors) -> Option<Field<u16>> {
    match u16::try_from(f.value) {
        Ok(v) if v == 0 || v >= 3 => Some(f.map(|_| v)),
        _ => {
            let problem = format!("{} is not allowed (must be 0 or 3..=65535)", f.value);
            f.problem(errs, problem);
            None
        }
    }
}

pub(super) fn families(
    f: Field<Vec<Field<String>>>,
    errs: &mut ConfigErrors,
) -> Option<Field<Vec<Family>>> {
    let known = ["ipv4-unicast", "ipv6-unicast", "ipv4-vpn", "ipv6-vpn"];
    let mut out = Vec::new();
    let mut ok = true;
    for item in &f.value {
        match Family::from_name(&item.value) {
            Some(family) if out.contains(&family) => {
                item.problem(errs, format!("{:?} is listed twice", item.value));
                ok = false;
            }
            Some(family) => out.push(family),
            None => {
                let problem = format!(
                    "unknown family {:?} (known: {})",
                    item.value,
                    known.join(", ")
                );
                item.problem(errs, problem);
                ok = false;
            }
        }
    }
    if ok && out.is_empty() {
        f.problem(errs, "is empty (list at least one family)");
        ok = false;
    }
    ok.then(|| f.map(|_| out))
}

fn capabilities(
    f: Field<Vec<Field<String>>>,
    errs: &mut ConfigErrors,
) -> Option<Field<Vec<RequiredCapability>>> {
    let mut out = Vec::new();
    let mut ok = true;
    for item in &f.value {
        match RequiredCapability::from_name(&item.value) {
            Some(c) if out.contains(&c) => {
                item.problem(errs, format!("{:?} is listed twice", item.value));
                ok = false;
            }
            Some(c) => out.push(c),
            None => {
                let known: Vec<_> = RequiredCapability::ALL.iter().map(|c| c.name()).collect();
                let problem = format!(
                    "unknown capability {:?} (known: {})",
                    item.value,
                    known.join(", ")
                );
                item.problem(errs, problem);
                ok = false;
            }
        }
    }
    ok.then(|| f.map(|_| out))
}

/// Never echoes the password.
fn password(f: Field<String>, errs: &mut ConfigErrors) -> Option<Field<Secret>> {
    let len = f.value.len();
    if (1..=MAX_PASSWORD_LEN).contains(&len) {
        Some(f.map(Secret::new))
    } else {
        f.problem(
            errs,
            format!("must be 1..={MAX_PASSWORD_LEN} bytes long (is {len} bytes)"),
        );
        None
    }
}

pub(super) fn ip(f: Field<String>, errs: &mut ConfigErrors) -> Option<Field<IpAddr>> {
    match f.value.trim().parse::<IpAddr>() {
        Ok(addr) if addr.is_unspecified() || addr.is_multicast() => {
            f.problem(
                errs,
                format!("{addr} is not allowed (must be a unicast address)"),
            );
            None
        }
        // An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is the IPv4 address.
        Ok(addr) => Some(f.map(|_| addr.to_canonical())),
        Err(_) => {
            f.problem(errs, format!("{:?} is not an IP address", f.value));
            None
        }
    }
}

fn add_path(f: Field<String>, errs: &mut ConfigErrors) -> Option<Field<AddPathMode>> {
    match AddPathMode::from_name(&f.value) {
        Some(m) => Some(f.map(|_| m)),
        None => {
            let problem = format!("{:?} is not one of none, receive, send, both", f.value);
            f.problem(errs, problem);
            None
        }
    }
}

fn max_prefixes_action(
    f: Field<String>,
    errs: &mut ConfigErrors,
) -> Option<Field<MaxPrefixesAction>> {
    match MaxPrefixesAction::from_name(&f.value) {
        Some(a) => Some(f.map(|_| a)),
        None => {
            let problem = format!("{:?} is not one of warn, teardown", f.value);
            f.problem(errs, problem);
            None
        }
    }
}
