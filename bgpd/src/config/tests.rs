use super::source::{io_message, is_ours, line_column};
use super::*;

const GLOBAL: &str = "[global]\nasn = 65001\nrouter_id = \"10.0.0.1\"\n";

fn env_errors(name: &str, value: &str) -> String {
    match load_str_with_env(GLOBAL, [(name.to_owned(), value.to_owned())]) {
        Ok(c) => format!("loaded: {c:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn line_and_column() {
    assert_eq!(line_column("a\nbc\nd", 0), (1, 1));
    assert_eq!(line_column("a\nbc\nd", 3), (2, 2));
    assert_eq!(line_column("a\nbc\nd", 5), (3, 1));
    assert_eq!(line_column("é\nx", 3), (2, 1));
    assert_eq!(line_column("éa", 2), (1, 2));
}

#[test]
fn io_message_has_no_os_error_number() {
    let e = std::io::Error::from_raw_os_error(2);
    assert_eq!(io_message(&e), "No such file or directory");
}

#[test]
fn which_variables_are_overrides() {
    assert!(is_ours("SIDRA_GLOBAL__ASN"));
    assert!(is_ours("SIDRA_NEIGHBOR_GROUPS__RR__HOLD_TIME"));
    assert!(!is_ours("SIDRA_LOG"));
    assert!(!is_ours("SIDRAGLOBAL__ASN"));
    assert!(!is_ours("RUST_LOG"));
    // Not ours: loads cleanly.
    assert!(load_str_with_env(GLOBAL, [("SIDRA_LOG".into(), "debug".into())]).is_ok());
}

#[test]
fn malformed_variable_names() {
    assert_eq!(
        env_errors("SIDRA_GLOBAL__ROUTER_ID__", "1"),
        "environment variable SIDRA_GLOBAL__ROUTER_ID__: is not of the form \
         SIDRA_<SECTION>__<KEY>"
    );
    assert_eq!(
        env_errors("SIDRA_NEIGHBORS__0__ADDRESS", "fd00::9"),
        "environment variable SIDRA_NEIGHBORS__0__ADDRESS: [[neighbors]] entries cannot be set \
         from the environment (a neighbor group's keys can: \
         SIDRA_NEIGHBOR_GROUPS__<GROUP>__<KEY>)"
    );
    assert_eq!(
        env_errors("SIDRA_POLICY__X", "1"),
        "policy: unknown key (known keys: global, neighbor_groups, neighbors, policies, prefix_lists, \
         api, metrics, srv6, dataplane)"
    );
}

#[test]
fn numbers_too_large_for_the_config_crate_name_the_key() {
    let e = load_str("[global]\nasn = 99999999999999999999\nrouter_id = \"10.0.0.1\"\n");
    assert_eq!(
        e.map_err(|e| e.to_string()),
        Err("global.asn: 99999999999999999999 is too large".to_owned())
    );
    let e = load_str("[[neighbors]]\nhold_time = [1e999]\n");
    assert_eq!(
        e.map_err(|e| e.to_string()),
        Err("neighbors[0].hold_time[0]: 1e999 is too large".to_owned())
    );
}

#[test]
fn group_only_from_environment() {
    let toml = format!("{GLOBAL}[[neighbors]]\naddress = \"fd00::2\"\ngroup = \"edge\"\n");
    let c = load_str_with_env(
        &toml,
        [(
            "SIDRA_NEIGHBOR_GROUPS__EDGE__REMOTE_AS".into(),
            "65010".into(),
        )],
    );
    assert_eq!(c.map(|c| c.neighbors[0].remote_as), Ok(65010));
}

#[test]
fn defaults_load_together() {
    let toml = format!("{GLOBAL}[[neighbors]]\naddress = \"192.0.2.1\"\nremote_as = 1\n");
    let c = load_str(&toml).map_err(|e| e.to_string());
    let n = c.as_ref().map(|c| &c.neighbors[0]);
    assert_eq!(n.map(|n| n.hold_time), Ok(defaults::HOLD_TIME));
    assert_eq!(
        n.map(|n| n.max_idle_hold.as_secs()),
        Ok(u64::from(defaults::MAX_IDLE_HOLD))
    );
    assert_eq!(c.map(|c| c.global.listen), Ok(defaults::listen()));
}
