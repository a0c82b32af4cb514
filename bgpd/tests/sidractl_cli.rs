//! `sidractl decode` run as a binary on the captured vectors (../../shared/vectors/bgp).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/bgp")
}

fn sidractl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sidractl"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn json_lines(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A scratch file removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &[u8]) -> Self {
        let p = std::env::temp_dir().join(format!("sidractl-{}-{name}", std::process::id()));
        std::fs::write(&p, contents).unwrap();
        TempFile(p)
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// All vector files, with the JSON type their name announces.
fn vector_files() -> Vec<(PathBuf, &'static str)> {
    let mut v: Vec<_> = std::fs::read_dir(vectors())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "hex"))
        .map(|p| {
            let name = p.file_name().unwrap().to_str().unwrap().to_string();
            let kind = match name.split('_').next().unwrap() {
                "open" => "open",
                "upd" => "update",
                "notif" => "notification",
                other => panic!("unexpected vector {other}"),
            };
            (p, kind)
        })
        .collect();
    v.sort();
    assert!(
        v.len() >= 20,
        "vectors missing from {}",
        vectors().display()
    );
    v
}

fn vector_hex(name: &str) -> String {
    std::fs::read_to_string(vectors().join(name))
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn every_vector_decodes_to_json_of_its_type() {
    for (path, kind) in vector_files() {
        let o = sidractl(&["decode", "--json", "--file", path.to_str().unwrap()]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}: {}",
            path.display(),
            stderr(&o)
        );
        let lines = json_lines(&o);
        assert_eq!(lines.len(), 1, "{}", path.display());
        assert_eq!(lines[0]["type"], kind, "{}: {}", path.display(), lines[0]);
        assert_eq!(lines[0]["line"], 1);
    }
}

#[test]
fn a_file_of_many_messages_with_comments_and_blank_lines() {
    let mut text = String::from("# all vectors\n\n");
    let files = vector_files();
    for (path, _) in &files {
        text.push_str(&format!("  # {}\n", path.display()));
        text.push_str(std::fs::read_to_string(path).unwrap().trim());
        text.push_str("\n\n");
    }
    let f = TempFile::new("all.hex", text.as_bytes());
    let o = sidractl(&["decode", "--json", "--file", f.path()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let kinds: Vec<_> = json_lines(&o)
        .iter()
        .map(|v| v["type"].as_str().unwrap().to_string())
        .collect();
    let want: Vec<_> = files.iter().map(|(_, k)| k.to_string()).collect();
    assert_eq!(kinds, want);
    // Text mode: one line per message too.
    let o = sidractl(&["decode", "--file", f.path()]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o).lines().count(), files.len());
}

#[test]
fn hex_input_in_text_and_json() {
    let hex = vector_hex("open_gobgp310_minimal_ipv6.hex");
    let o = sidractl(&["decode", "--hex", &hex]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("OPEN"), "{}", stdout(&o));
    // Upper case, spaces and a 0x prefix are accepted.
    let spaced: String = hex
        .to_uppercase()
        .as_bytes()
        .chunks(8)
        .map(|c| format!("{} ", std::str::from_utf8(c).unwrap()))
        .collect();
    let o = sidractl(&["decode", "--json", "--hex", &format!("0x{spaced}")]);
    assert_eq!(json_lines(&o)[0]["type"], "open");
    let o = sidractl(&[
        "decode",
        "--json",
        "--hex",
        "ffffffffffffffffffffffffffffffff001304",
    ]);
    assert_eq!(json_lines(&o)[0]["type"], "keepalive");
}

#[test]
fn malformed_messages_are_error_objects_and_exit_zero() {
    let hex = vector_hex("upd_gobgp310_ipv6uc_srv6_dt6.hex");
    let cut = &hex[..hex.len() - 10];
    let bad_marker = format!("00{}", &hex[2..]);
    let f = TempFile::new(
        "bad.hex",
        format!("{cut}\n{bad_marker}\n{hex}\n").as_bytes(),
    );
    let o = sidractl(&["decode", "--json", "--file", f.path()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines = json_lines(&o);
    assert_eq!(lines.len(), 3);
    for (v, sub) in lines[..2].iter().zip([2, 1]) {
        assert_eq!(v["type"], "error", "{v}");
        assert_eq!(
            (v["code"].as_u64(), v["subcode"].as_u64()),
            (Some(1), Some(sub)),
            "{v}"
        );
        assert!(v["reason"].as_str().is_some_and(|r| !r.is_empty()), "{v}");
    }
    assert_eq!(lines[2]["type"], "update");
    let o = sidractl(&["decode", "--hex", cut]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("ERROR 1/2"), "{}", stdout(&o));
}

#[test]
fn bad_hex_and_missing_files_exit_2_naming_the_input() {
    let o = sidractl(&["decode", "--hex", "ffzz"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--hex"), "{}", stderr(&o));
    let o = sidractl(&["decode", "--hex", "fff"]);
    assert_eq!(o.status.code(), Some(2));

    let good = vector_hex("open_bird2012_rr.hex");
    let f = TempFile::new(
        "badline.hex",
        format!("# c\n{good}\nnot hex\n{good}\n").as_bytes(),
    );
    let o = sidractl(&["decode", "--json", "--file", f.path()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&format!("{}:3:", f.path())),
        "{}",
        stderr(&o)
    );
    assert_eq!(json_lines(&o).len(), 2, "the good lines are still decoded");

    for flag in ["--file", "--pcap"] {
        let o = sidractl(&["decode", flag, "/nonexistent/sidra/input"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            stderr(&o).contains("/nonexistent/sidra/input"),
            "{}",
            stderr(&o)
        );
    }
    let f = TempFile::new("notpcap.pcap", b"this is not a capture file at all");
    let o = sidractl(&["decode", "--pcap", f.path()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a pcap"), "{}", stderr(&o));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["decode"][..],
        &["decode", "--hex", "00", "--file", "x"],
        &["decode", "--hex", "00", "--add-path", "l2vpn-evpn"],
        &["decode", "--hex", "00", "--port", "1790"],
        &["frobnicate"],
    ] {
        let o = sidractl(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn context_options_are_accepted() {
    let hex = vector_hex("upd_gobgp310_ipv6uc_srv6_dt6.hex");
    let o = sidractl(&[
        "decode",
        "--json",
        "--two-octet-as",
        "--add-path",
        "ipv4-unicast",
        "--add-path",
        "ipv6-vpn",
        "--hex",
        &hex,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json_lines(&o)[0]["type"], "update");
}

/// A one-record little-endian pcap: Ethernet + IPv4 + TCP carrying `payload`.
fn tiny_pcap(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut tcp = Vec::new();
    tcp.extend_from_slice(&sport.to_be_bytes());
    tcp.extend_from_slice(&dport.to_be_bytes());
    tcp.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]);
    tcp.extend_from_slice(payload);
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&u16::try_from(20 + tcp.len()).unwrap().to_be_bytes());
    ip.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    ip.extend_from_slice(&tcp);
    let mut frame = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    frame.extend_from_slice(&ip);
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    f.extend_from_slice(&[2, 0, 4, 0]);
    for v in [0u32, 0, 65535, 1] {
        f.extend_from_slice(&v.to_le_bytes());
    }
    let len = u32::try_from(frame.len()).unwrap();
    for v in [1_700_000_000u32, 250_000, len, len] {
        f.extend_from_slice(&v.to_le_bytes());
    }
    f.extend_from_slice(&frame);
    f
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn pcap_messages_carry_src_dst_and_time() {
    let mut payload = unhex(&vector_hex("open_exabgp4221_minimal_ipv6.hex"));
    payload.extend_from_slice(&unhex("ffffffffffffffffffffffffffffffff001304"));
    let f = TempFile::new("one.pcap", &tiny_pcap(40000, 1790, &payload));
    // Port 1790 is not BGP unless told.
    let o = sidractl(&["decode", "--json", "--pcap", f.path()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(json_lines(&o).is_empty());
    let o = sidractl(&["decode", "--json", "--pcap", f.path(), "--port", "1790"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines = json_lines(&o);
    let kinds: Vec<_> = lines.iter().map(|v| v["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["open", "keepalive"]);
    for v in &lines {
        assert_eq!(v["src"], "10.0.0.1:40000");
        assert_eq!(v["dst"], "10.0.0.2:1790");
        assert!(
            (v["time"].as_f64().unwrap() - 1_700_000_000.25).abs() < 1e-6,
            "{v}"
        );
    }
    let o = sidractl(&["decode", "--pcap", f.path(), "--port", "1790"]);
    let text = stdout(&o);
    assert!(
        text.lines()
            .all(|l| l.contains("10.0.0.1:40000 > 10.0.0.2:1790: ")),
        "{text}"
    );
}
