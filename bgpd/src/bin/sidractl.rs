//! `sidractl`: the sidra operator CLI.
//!
//! Today it has one subcommand, `decode`, which reads BGP messages offline (hex, a file of hex
//! lines, or a packet capture) and prints them as text or JSON lines. The subcommands that talk to
//! the daemon over gRPC (`neighbor`, `rib`, `srv6`, `node`, `watch`) come with the API server.
//!
//! Exit status: 0 when all input was read (malformed messages are reported, not fatal: finding
//! them is what the tool is for), 2 for bad usage or unreadable input.

use std::fmt::Display;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bgpd::capture::{Capture, CapturedMessage};
use bgpd::inspect::{error_json, message_json, message_text};
use bgpd::packet::notification::{code_name, subcode_name};
use bgpd::packet::{self, DecodeContext, Family, FamilySet, MessageError};
use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand};
use serde_json::{Map, Value};

#[derive(Parser, Debug)]
#[command(name = "sidractl", version, about = "sidra operator CLI")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Decode BGP messages from hex, a file of hex lines, or a pcap/pcapng capture.
    Decode(DecodeArgs),
    // Later, over the daemon's gRPC API: Neighbor, Rib, Srv6, Node, Watch.
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("input").required(true).args(["hex", "file", "pcap"]))]
struct DecodeArgs {
    /// One whole message (marker included) as hex; whitespace is ignored.
    #[arg(long, value_name = "HEX")]
    hex: Option<String>,
    /// A file with one hex message per line; blank lines and `#` comments are skipped ("-" = stdin).
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
    /// A pcap or pcapng capture: BGP messages of TCP port 179 (and --port), reassembled.
    #[arg(long, value_name = "PATH")]
    pcap: Option<PathBuf>,
    /// Another TCP port that carries BGP in the capture (repeatable).
    #[arg(long = "port", value_name = "N")]
    ports: Vec<u16>,
    /// Print one JSON object per message per line.
    #[arg(long)]
    json: bool,
    /// AS_PATH carries 2-octet AS numbers (no RFC 6793 capability on the session).
    #[arg(long)]
    two_octet_as: bool,
    /// Path identifiers are present for FAMILY (RFC 7911): ipv4-unicast, ipv6-unicast, ipv4-vpn,
    /// ipv6-vpn (repeatable). For a capture these apply only where its OPENs were not captured.
    #[arg(long = "add-path", value_name = "FAMILY", value_parser = parse_family)]
    add_path: Vec<Family>,
}

fn parse_family(s: &str) -> Result<Family, String> {
    Family::from_name(s).ok_or_else(|| {
        format!("unknown family {s:?} (ipv4-unicast, ipv6-unicast, ipv4-vpn, ipv6-vpn)")
    })
}

/// Input that cannot be read: reported on stderr, exit status 2.
struct Unreadable(String);

impl<T: Display> From<T> for Unreadable {
    fn from(e: T) -> Self {
        Unreadable(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Decode(d) = &cli.command
        && !d.ports.is_empty()
        && d.pcap.is_none()
    {
        Cli::command()
            .error(ErrorKind::ArgumentConflict, "--port applies only to --pcap")
            .exit();
    }
    let result = match cli.command {
        Command::Decode(args) => decode(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Unreadable(msg)) => {
            eprintln!("sidractl: {msg}");
            ExitCode::from(2)
        }
    }
}

fn decode(args: &DecodeArgs) -> Result<(), Unreadable> {
    let cx = DecodeContext {
        four_octet_as: !args.two_octet_as,
        add_path: args.add_path.iter().copied().collect::<FamilySet>(),
        ..DecodeContext::default()
    };
    let mut out = Output {
        w: BufWriter::new(io::stdout().lock()),
        json: args.json,
    };
    let result = if let Some(hex) = &args.hex {
        let bytes = parse_hex(hex).map_err(|e| format!("--hex: {e}"))?;
        out.message(&bytes, &cx, Map::new())
    } else if let Some(path) = &args.file {
        decode_file(path, &cx, &mut out)
    } else if let Some(path) = &args.pcap {
        decode_pcap(path, &args.ports, &cx, &mut out)
    } else {
        Err(Unreadable("one of --hex, --file, --pcap is needed".into()))
    };
    let flushed = out.w.flush();
    result?;
    flushed.map_err(|e| Unreadable(format!("writing output: {e}")))
}

fn decode_file(path: &Path, cx: &DecodeContext, out: &mut Output<'_>) -> Result<(), Unreadable> {
    let name = path.display();
    let mut text = String::new();
    let read = if path == Path::new("-") {
        io::stdin().read_to_string(&mut text)
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_string(&mut text))
    };
    read.map_err(|e| format!("{name}: {e}"))?;
    let mut bad_lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let n = i + 1;
        match parse_hex(line) {
            Ok(bytes) => {
                let mut extra = Map::new();
                extra.insert("line".into(), n.into());
                out.message(&bytes, cx, extra)?;
            }
            Err(e) => {
                // Keep going: report every bad line, then fail.
                eprintln!("sidractl: {name}:{n}: {e}");
                bad_lines.push(n);
            }
        }
    }
    match bad_lines.as_slice() {
        [] => Ok(()),
        lines => Err(Unreadable(format!(
            "{name}: unreadable hex on line(s) {lines:?}"
        ))),
    }
}

fn decode_pcap(
    path: &Path,
    ports: &[u16],
    cx: &DecodeContext,
    out: &mut Output<'_>,
) -> Result<(), Unreadable> {
    let capture = Capture::from_file(path, ports)?;
    for note in &capture.notes {
        eprintln!("sidractl: {}: note: {note}", path.display());
    }
    for m in &capture.messages {
        let CapturedMessage {
            timestamp,
            src,
            dst,
            bytes,
            context,
        } = m;
        let mut extra = Map::new();
        extra.insert("time".into(), Value::from(*timestamp));
        extra.insert("src".into(), src.to_string().into());
        extra.insert("dst".into(), dst.to_string().into());
        out.message(bytes, context.as_ref().unwrap_or(cx), extra)?;
    }
    Ok(())
}

/// Hex digits, case-insensitive, whitespace ignored, an optional `0x` prefix.
fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let digits = digits.strip_prefix(b"0x").unwrap_or(&digits);
    if digits.is_empty() {
        return Err("no hex digits".into());
    }
    if !digits.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    let nibble = |c: u8, at: usize| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(format!(
            "not a hex digit: {:?} at digit {}",
            char::from(c),
            at + 1
        )),
    };
    digits
        .chunks(2)
        .enumerate()
        .map(|(i, p)| Ok(nibble(p[0], 2 * i)? << 4 | nibble(p[1], 2 * i + 1)?))
        .collect()
}

struct Output<'a> {
    w: BufWriter<io::StdoutLock<'a>>,
    json: bool,
}

impl Output<'_> {
    /// Decode and print one message; `extra` holds fields that say where it came from.
    fn message(
        &mut self,
        bytes: &[u8],
        cx: &DecodeContext,
        extra: Map<String, Value>,
    ) -> Result<(), Unreadable> {
        let decoded = packet::decode_message(bytes, cx);
        let line = if self.json {
            let mut v = match &decoded {
                Ok(m) => message_json(m),
                Err(e) => error_json(e),
            };
            if let Value::Object(o) = &mut v {
                o.extend(extra);
            }
            v.to_string()
        } else {
            let body = match &decoded {
                Ok(m) => message_text(m),
                Err(e) => error_text(e),
            };
            let prefix = match (extra.get("time"), extra.get("src"), extra.get("dst")) {
                (Some(t), Some(Value::String(s)), Some(Value::String(d))) => {
                    format!(
                        "{} {s} > {d}: ",
                        t.as_f64().map_or(String::new(), |t| format!("{t:.6}"))
                    )
                }
                _ => extra
                    .get("line")
                    .map_or(String::new(), |n| format!("line {n}: ")),
            };
            format!("{prefix}{body}")
        };
        match writeln!(self.w, "{line}") {
            Ok(()) => Ok(()),
            // A closed pipe (`| head`) ends the output quietly.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
            Err(e) => Err(Unreadable(format!("writing output: {e}"))),
        }
    }
}

fn error_text(e: &MessageError) -> String {
    format!(
        "ERROR {}/{} ({} / {}): {}",
        e.code,
        e.subcode,
        code_name(e.code),
        subcode_name(e.code, e.subcode),
        e.reason
    )
}
