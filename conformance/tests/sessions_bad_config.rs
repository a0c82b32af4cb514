//! Bad configurations: `sidrad --check-config FILE` and `sidrad --config FILE` both exit with
//! status 2, name the key of every problem (`neighbors[0].hold_time: ...`), never echo a password,
//! and never panic. The example `etc/sidrad.toml` is valid.
//!
//! No namespaces: this test does not need root.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use conformance::TestDir;
use conformance::peers::Sidrad;
use conformance::peers::sidrad::CliRun;

/// A run is killed after this long (sidrad must exit at once on a bad config).
const LIMIT: Duration = Duration::from_secs(10);

const GLOBAL: &str = "[global]\nasn = 65001\nrouter_id = \"10.0.0.1\"\nlisten = []\n";
const NEIGHBOR: &str = "[[neighbors]]\naddress = \"fd00::2\"\nremote_as = 65002\n";

/// A password that must never be echoed (81 bytes: one too many).
fn long_password() -> String {
    format!("do-not-echo-{}", "p".repeat(81 - 12))
}

/// (name, file text, keys that must be named).
fn cases() -> Vec<(&'static str, String, Vec<&'static str>)> {
    let n = |extra: &str| format!("{GLOBAL}{NEIGHBOR}{extra}\n");
    vec![
        (
            "hold time 2",
            n("hold_time = 2"),
            vec!["neighbors[0].hold_time"],
        ),
        (
            "keepalive above a third of the hold time",
            n("hold_time = 9\nkeepalive = 4"),
            vec!["neighbors[0].keepalive"],
        ),
        (
            "misspelt key",
            n("hold_tme = 9"),
            vec!["neighbors[0].hold_tme"],
        ),
        (
            "unknown family",
            n("families = [\"ipv9-unicast\"]"),
            vec!["neighbors[0].families[0]"],
        ),
        (
            "password too long",
            n(&format!("password = \"{}\"", long_password())),
            vec!["neighbors[0].password"],
        ),
        (
            "local address of the other family",
            n("local_address = \"10.0.0.1\""),
            vec!["neighbors[0].local_address"],
        ),
        (
            "ttl_security out of range",
            n("ttl_security = 255"),
            vec!["neighbors[0].ttl_security"],
        ),
        (
            "neighbor configured twice",
            format!("{GLOBAL}{NEIGHBOR}{NEIGHBOR}"),
            vec!["neighbors[1].address"],
        ),
        (
            "AS_TRANS and a zero router id",
            "[global]\nasn = 23456\nrouter_id = \"0.0.0.0\"\n".to_string(),
            vec!["global.asn", "global.router_id"],
        ),
        (
            "missing global keys",
            "[global]\n".to_string(),
            vec!["global.asn", "global.router_id"],
        ),
        (
            "bad listen address",
            "[global]\nasn = 65001\nrouter_id = \"10.0.0.1\"\nlisten = [\"bogus\"]\n".to_string(),
            vec!["global.listen[0]"],
        ),
        (
            "string where a number goes",
            n("port = \"179\""),
            vec!["neighbors[0].port"],
        ),
        (
            "every problem at once",
            n("hold_time = 2\nttl_security = 0\nfamilies = [\"nope\"]"),
            vec![
                "neighbors[0].hold_time",
                "neighbors[0].ttl_security",
                "neighbors[0].families[0]",
            ],
        ),
        (
            "TOML syntax error",
            "[global\nasn = 1\n".to_string(),
            vec!["TOML syntax error"],
        ),
    ]
}

fn run(args: &[&str], dir: &Path) -> CliRun {
    let r = Sidrad::run_cli(args, &[], dir, LIMIT).unwrap();
    assert!(
        !r.timed_out,
        "sidrad {args:?} did not exit within {LIMIT:?} (killed)"
    );
    r
}

/// Exit 2, every key named, no panic, no password.
fn check(what: &str, r: &CliRun, keys: &[&str], failures: &mut Vec<String>) {
    let all = format!("{}{}", r.stdout, r.stderr);
    let mut problems = Vec::new();
    if r.code != Some(2) {
        problems.push(format!("exit status {:?}, expected 2", r.code));
    }
    for k in keys {
        if !r.stderr.contains(k) {
            problems.push(format!("does not name `{k}`"));
        }
    }
    if all.contains("panicked") || all.contains("RUST_BACKTRACE") {
        problems.push("panicked".into());
    }
    if all.contains("do-not-echo") {
        problems.push("echoes the password".into());
    }
    if !problems.is_empty() {
        failures.push(format!(
            "{what}: {}\n  stdout: {}\n  stderr: {}",
            problems.join(", "),
            r.stdout.trim(),
            r.stderr.trim()
        ));
    }
}

#[test]
fn sessions_bad_config() {
    let start = Instant::now();
    let dir = TestDir::new("sessions_bad_config").unwrap();
    let mut failures = Vec::new();
    for (i, (name, text, keys)) in cases().into_iter().enumerate() {
        let file = dir.join(format!("bad{i}.toml"));
        std::fs::write(&file, &text).unwrap();
        let f = file.display().to_string();
        let r = run(&["--check-config", &f], dir.path());
        check(
            &format!("--check-config ({name})"),
            &r,
            &keys,
            &mut failures,
        );
        let r = run(&["--config", &f, "--log-format", "json"], dir.path());
        check(&format!("--config ({name})"), &r, &keys, &mut failures);
    }

    // A file that cannot be read names the file.
    let missing = dir.join("missing.toml").display().to_string();
    let r = run(&["--check-config", &missing], dir.path());
    check(
        "--check-config (missing file)",
        &r,
        &["cannot be read"],
        &mut failures,
    );
    let r = run(&["--config", &missing], dir.path());
    check(
        "--config (missing file)",
        &r,
        &["cannot be read"],
        &mut failures,
    );

    // An environment override with a bad value names the key and the variable.
    let example: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../etc/sidrad.toml");
    let e = example.display().to_string();
    let r = Sidrad::run_cli(
        &["--check-config", &e],
        &[("SIDRA_GLOBAL__ASN", "x")],
        dir.path(),
        LIMIT,
    )
    .unwrap();
    check(
        "--check-config (SIDRA_GLOBAL__ASN=x)",
        &r,
        &["global.asn", "SIDRA_GLOBAL__ASN"],
        &mut failures,
    );

    // The example config is valid.
    let r = run(&["--check-config", &e], dir.path());
    if r.code != Some(0) || !r.stdout.contains("valid") {
        failures.push(format!(
            "--check-config {e}: exit {:?}, stdout {}, stderr {}",
            r.code,
            r.stdout.trim(),
            r.stderr.trim()
        ));
    }
    assert!(
        failures.is_empty(),
        "sessions_bad_config:\n{}",
        failures.join("\n")
    );
    eprintln!("sessions_bad_config: passed in {:.1?}", start.elapsed());
}
