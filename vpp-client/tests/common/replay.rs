//! A replay server for the recorded VPP transcripts (`../shared/vpp/README.md` §4): it serves
//! a unix socket, matches every client frame against the next recorded `out` line (context and
//! client index masked per `masks.json`), and answers with the recorded `in` lines, their
//! context replaced by the one the client used.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

use super::api_json::shared_dir;

const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A transcript: the header line and the message/event lines.
#[derive(Clone)]
pub struct Transcript {
    pub name: String,
    pub header: Value,
    pub lines: Vec<Value>,
}

impl Transcript {
    pub fn load(name: &str) -> Self {
        let path = shared_dir()
            .join("vpp/transcripts")
            .join(format!("{name}.jsonl"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read transcript {}: {e}", path.display()));
        let mut it = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap());
        let header = it.next().unwrap();
        assert_eq!(
            header["format"], "vpp-api-transcript/1",
            "{name}: unknown format"
        );
        Self {
            name: name.into(),
            header,
            lines: it.collect(),
        }
    }

    /// Every transcript file in the shared directory.
    pub fn all_names() -> Vec<String> {
        let dir = shared_dir().join("vpp/transcripts");
        let mut v: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| {
                let n = e.unwrap().file_name().to_string_lossy().into_owned();
                n.strip_suffix(".jsonl").map(str::to_string)
            })
            .collect();
        v.sort();
        v
    }

    pub fn count(&self, dir: &str) -> usize {
        self.lines.iter().filter(|l| l["dir"] == dir).count()
    }
}

/// A fresh directory and socket path for one test (tests run in parallel).
pub fn temp_socket(tag: &str) -> (PathBuf, PathBuf) {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("vpp-client-test-{}-{n}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("api.sock");
    (dir, socket)
}

pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Byte ranges `[offset, size]` not compared in client requests, per message name.
pub struct Masks(HashMap<String, Vec<(usize, usize)>>);

impl Masks {
    pub fn load() -> Self {
        let path = shared_dir().join("vpp/masks.json");
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut m = HashMap::new();
        for (name, e) in v.as_object().unwrap() {
            if e["kind"] != "request" {
                continue;
            }
            let mut ranges = Vec::new();
            for key in ["client_index", "context"] {
                if let Some(r) = e[key].as_array() {
                    ranges.push((
                        r[0].as_u64().unwrap() as usize,
                        r[1].as_u64().unwrap() as usize,
                    ));
                }
            }
            for f in e["varying"].as_array().unwrap() {
                if let (Some(o), Some(s)) = (f["offset"].as_u64(), f["size"].as_u64()) {
                    ranges.push((o as usize, s as usize));
                }
            }
            m.insert(name.clone(), ranges);
        }
        Self(m)
    }

    fn for_name(&self, name: &str) -> Vec<(usize, usize)> {
        // Names not in masks.json (the deliberately unknown id) follow the general request rule.
        self.0
            .get(name)
            .cloned()
            .unwrap_or_else(|| vec![(2, 4), (6, 4)])
    }
}

/// Options that alter the replay.
#[derive(Default, Clone)]
pub struct Options {
    /// Permute message ids (old -> new) in the table and in every message, to prove that the
    /// client resolves ids from the table.
    pub id_map: HashMap<u16, u16>,
    /// Rename table entries (old name_crc -> new), e.g. to fake a CRC change.
    pub rename: HashMap<String, String>,
    /// How long the socket refuses connections on `connect_while_down`.
    pub down_for: Duration,
}

/// What the server did.
#[derive(Debug, Default)]
pub struct Report {
    pub out_matched: usize,
    pub in_sent: usize,
    pub connections: usize,
    pub eofs_seen: usize,
}

pub struct Server {
    path: PathBuf,
    listener: Option<UnixListener>,
}

impl Server {
    pub fn bind(path: &Path) -> Self {
        let _ = std::fs::remove_file(path);
        Self {
            path: path.into(),
            listener: Some(UnixListener::bind(path).unwrap()),
        }
    }

    fn ctx_range(id: u16) -> std::ops::Range<usize> {
        if id == 15 || id == 16 { 2..6 } else { 6..10 }
    }

    fn map_id(opts: &Options, id: u16) -> u16 {
        opts.id_map.get(&id).copied().unwrap_or(id)
    }

    /// Rewrites a recorded `in` body: id permutation, context substitution, table edits.
    fn outgoing(
        opts: &Options,
        line: &Value,
        ctx_of: &HashMap<u32, u32>,
    ) -> Result<Vec<u8>, String> {
        let mut body = hex(line["hex"].as_str().unwrap());
        let id = u16::from_be_bytes([body[0], body[1]]);
        let cr = if id == 16 { 6..10 } else { 2..6 };
        let recorded = u32::from_be_bytes(body[cr.clone()].try_into().unwrap());
        let ctx = ctx_of
            .get(&recorded)
            .ok_or_else(|| format!("in-line context {recorded:#x} answers no request seen"))?;
        body[cr].copy_from_slice(&ctx.to_be_bytes());
        body[..2].copy_from_slice(&Self::map_id(opts, id).to_be_bytes());
        if id == 16 {
            let count = u16::from_be_bytes([body[18], body[19]]) as usize;
            for i in 0..count {
                let at = 20 + 66 * i;
                let eid = u16::from_be_bytes([body[at], body[at + 1]]);
                body[at..at + 2].copy_from_slice(&Self::map_id(opts, eid).to_be_bytes());
                let name_bytes = &body[at + 2..at + 66];
                let end = name_bytes.iter().position(|&c| c == 0).unwrap_or(64);
                let name = String::from_utf8_lossy(&name_bytes[..end]).into_owned();
                if let Some(new) = opts.rename.get(&name) {
                    let mut buf = [0u8; 64];
                    buf[..new.len()].copy_from_slice(new.as_bytes());
                    body[at + 2..at + 66].copy_from_slice(&buf);
                }
            }
        }
        Ok(body)
    }

    async fn read_frame(s: &mut UnixStream) -> Result<Option<Vec<u8>>, String> {
        let mut h = [0u8; 16];
        match tokio::time::timeout(IO_TIMEOUT, s.read(&mut h[..1])).await {
            Err(_) => return Err("timed out waiting for a client frame".into()),
            Ok(Err(e)) => return Err(format!("read: {e}")),
            Ok(Ok(0)) => return Ok(None),
            Ok(Ok(_)) => {}
        }
        s.read_exact(&mut h[1..])
            .await
            .map_err(|e| format!("read header: {e}"))?;
        if h[..8] != [0; 8] || h[12..] != [0; 4] {
            return Err(format!(
                "client header must have q = 0 and gc_mark = 0: {h:02x?}"
            ));
        }
        let len = u32::from_be_bytes(h[8..12].try_into().unwrap()) as usize;
        let mut body = vec![0; len];
        s.read_exact(&mut body)
            .await
            .map_err(|e| format!("read body: {e}"))?;
        Ok(Some(body))
    }

    /// Plays the transcript. Returns an error describing the first divergence.
    pub async fn run(
        mut self,
        t: Transcript,
        masks: Masks,
        opts: Options,
    ) -> Result<Report, String> {
        let mut rep = Report::default();
        let mut conns: HashMap<u64, UnixStream> = HashMap::new();
        // Per connection: recorded context -> the client's context.
        let mut ctx_of: HashMap<u64, HashMap<u32, u32>> = HashMap::new();
        for (i, line) in t.lines.iter().enumerate() {
            let at = format!("{} line {}", t.name, i + 2);
            let conn = line["conn"].as_u64().unwrap_or(0);
            match line["dir"].as_str().unwrap() {
                "event" => match line["event"].as_str().unwrap() {
                    "connect" => {
                        let l = self
                            .listener
                            .as_ref()
                            .ok_or(format!("{at}: connect while down"))?;
                        let (s, _) = tokio::time::timeout(IO_TIMEOUT, l.accept())
                            .await
                            .map_err(|_| format!("{at}: no client connection"))?
                            .map_err(|e| format!("{at}: accept: {e}"))?;
                        conns.insert(conn, s);
                        rep.connections += 1;
                    }
                    "close" => {
                        if let Some(mut s) = conns.remove(&conn) {
                            match Self::read_frame(&mut s).await {
                                Ok(None) => rep.eofs_seen += 1,
                                Ok(Some(b)) => {
                                    return Err(format!(
                                        "{at}: expected EOF, got a {}-byte frame {:02x?}",
                                        b.len(),
                                        &b[..b.len().min(12)]
                                    ));
                                }
                                Err(e) => return Err(format!("{at}: expected EOF: {e}")),
                            }
                        }
                    }
                    "vpp_stopped" => {
                        conns.clear();
                        self.listener = None; // the socket file stays: connect() is refused
                    }
                    "connect_while_down" => tokio::time::sleep(opts.down_for).await,
                    "vpp_started" => {
                        let _ = std::fs::remove_file(&self.path);
                        self.listener =
                            Some(UnixListener::bind(&self.path).map_err(|e| e.to_string())?);
                    }
                    "no_reply" | "eof" | "send_error" => {}
                    other => return Err(format!("{at}: unknown event {other}")),
                },
                "out" => {
                    let s = conns
                        .get_mut(&conn)
                        .ok_or(format!("{at}: no connection {conn}"))?;
                    let name = line["name"].as_str().unwrap();
                    let want = hex(line["hex"].as_str().unwrap());
                    let got = Self::read_frame(s)
                        .await
                        .map_err(|e| format!("{at} ({name}): {e}"))?
                        .ok_or(format!("{at}: EOF instead of {name}"))?;
                    let rec_id = u16::from_be_bytes([want[0], want[1]]);
                    let got_id = u16::from_be_bytes([got[0], got[1]]);
                    if got_id != Self::map_id(&opts, rec_id) {
                        return Err(format!(
                            "{at}: expected {name} (id {}), client sent id {got_id}",
                            Self::map_id(&opts, rec_id)
                        ));
                    }
                    if got.len() != want.len() {
                        return Err(format!(
                            "{at}: {name}: client sent {} bytes, recorded {}",
                            got.len(),
                            want.len()
                        ));
                    }
                    let ranges = masks.for_name(name);
                    let masked =
                        |k: usize| k < 2 || ranges.iter().any(|&(o, n)| k >= o && k < o + n);
                    let diffs: Vec<usize> = (0..got.len())
                        .filter(|&k| !masked(k) && got[k] != want[k])
                        .collect();
                    if !diffs.is_empty() {
                        return Err(format!(
                            "{at}: {name} differs at offsets {diffs:?}\n client: {:02x?}\n record: {:02x?}",
                            &got, &want
                        ));
                    }
                    let cr = Self::ctx_range(rec_id);
                    let rec_ctx = u32::from_be_bytes(want[cr.clone()].try_into().unwrap());
                    let cli_ctx = u32::from_be_bytes(got[cr].try_into().unwrap());
                    let map = ctx_of.entry(conn).or_default();
                    if let Some(prev) = map.insert(rec_ctx, cli_ctx)
                        && prev != cli_ctx
                    {
                        return Err(format!(
                            "{at}: control_ping of a dump must reuse the dump's context \
                             ({prev:#x}), got {cli_ctx:#x}"
                        ));
                    }
                    rep.out_matched += 1;
                }
                "in" => {
                    let body = Self::outgoing(&opts, line, ctx_of.entry(conn).or_default())
                        .map_err(|e| format!("{at}: {e}"))?;
                    let s = conns
                        .get_mut(&conn)
                        .ok_or(format!("{at}: no connection {conn}"))?;
                    let mut frame = vec![0u8; 8];
                    frame.extend((body.len() as u32).to_be_bytes());
                    frame.extend([0; 4]);
                    frame.extend(&body);
                    s.write_all(&frame)
                        .await
                        .map_err(|e| format!("{at}: write: {e}"))?;
                    rep.in_sent += 1;
                }
                d => return Err(format!("{at}: unknown dir {d}")),
            }
        }
        Ok(rep)
    }
}
