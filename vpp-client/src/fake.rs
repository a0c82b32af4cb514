//! An in-process fake VPP (feature `fake-vpp`) for tests of code that drives VPP: it serves
//! the socket protocol and keeps SRv6 state with the semantics and return codes recorded from
//! VPP 26.06 (reference/vpp.md §3, the transcripts in `../shared/vpp/transcripts`), including
//! its traps:
//!
//! * silent drops: a wrong client index, an unknown message id or a short body get no reply;
//! * `sr_policy_del` leaves the policy's steering entries behind (dangling);
//! * an End.DT4/DT6/T pointing at a missing VRF is accepted, and the next `sr_localsids_dump`
//!   "crashes" the fake (every connection is closed and all state is lost, like a VPP restart);
//! * [`FakeVpp::restart`] emulates a VPP restart (EOF, refused connects while down, new pid).
//!
//! Every request is logged ([`FakeVpp::log`]) so tests can check the order of operations.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::{BufMut, Bytes, BytesMut};
use ipnet::IpNet;
use tokio::io::AsyncWriteExt;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

use crate::framing::{encode_frame, read_frame};
use crate::messages::defs::*;
use crate::messages::types::{SidList, SrBehavior};
use crate::messages::{MsgDef, REQUEST_HEADER_LEN};
use crate::wire::{Reader, put_address, put_fixed_str, put_ip6, put_prefix};

#[derive(Clone)]
struct Policy {
    encap_src: Ipv6Addr,
    is_encap: bool,
    policy_type: u8,
    fib_table: u32,
    lists: Vec<(u32, SidList)>,
}

/// A stored local SID: end_psp, behavior, fib_table, vlan_index, sw_if_index, nh_addr bytes.
type StoredSid = (bool, u8, u32, u32, u32, [u8; 17]);

#[derive(Default)]
struct State {
    tables: BTreeMap<(bool, u32), String>,
    localsids: BTreeMap<Ipv6Addr, StoredSid>,
    policies: BTreeMap<Ipv6Addr, Policy>,
    steering: BTreeMap<(u8, u32, String), (IpNet, Ipv6Addr)>,
    encap_src: Option<Ipv6Addr>,
    next_sl: u32,
    crash_armed: bool,
    fail_next: HashMap<&'static str, i32>,
    log: Vec<String>,
}

struct Shared {
    state: Mutex<State>,
    ids: HashMap<u16, MsgDef>,
    by_name: HashMap<&'static str, u16>,
    pid: Mutex<u32>,
    epoch: watch::Sender<u64>,
    path: PathBuf,
    listener_task: Mutex<Option<tokio::task::AbortHandle>>,
}

/// A running fake VPP. Dropping it stops it.
pub struct FakeVpp {
    shared: Arc<Shared>,
}

impl Drop for FakeVpp {
    fn drop(&mut self) {
        if let Some(t) = self.shared.lock_task().take() {
            t.abort();
        }
        self.shared.epoch.send_modify(|e| *e += 1);
    }
}

impl Shared {
    fn st(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
    fn lock_task(&self) -> std::sync::MutexGuard<'_, Option<tokio::task::AbortHandle>> {
        self.listener_task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl FakeVpp {
    /// Starts listening on `path` (removed first if it exists).
    pub fn start(path: &Path) -> std::io::Result<Self> {
        let mut ids = HashMap::new();
        let mut by_name = HashMap::new();
        for (i, d) in REQUIRED.iter().chain(OPTIONAL).enumerate() {
            let id = match d.name {
                "control_ping" => 23,
                "control_ping_reply" => 24,
                "sockclnt_delete" => 17,
                "sockclnt_delete_reply" => 18,
                _ => 300 + i as u16,
            };
            ids.insert(id, *d);
            by_name.insert(d.name, id);
        }
        let (epoch, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            ids,
            by_name,
            pid: Mutex::new(4242),
            epoch,
            path: path.to_path_buf(),
            listener_task: Mutex::new(None),
        });
        listen(&shared)?;
        Ok(Self { shared })
    }

    /// The requests handled so far, e.g. `"sr_policy_del fc00::1 -> 0"`.
    pub fn log(&self) -> Vec<String> {
        self.shared.st().log.clone()
    }

    /// Makes the next `message` (a name like `sr_steering_add_del`) fail with `retval`.
    pub fn fail_next(&self, message: &'static str, retval: i32) {
        self.shared.st().fail_next.insert(message, retval);
    }

    /// Numbers of (VRF tables other than 0, local SIDs, policies, steering entries).
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let st = self.shared.st();
        let t = st.tables.keys().filter(|(_, id)| *id != 0).count();
        (t, st.localsids.len(), st.policies.len(), st.steering.len())
    }

    /// True once the fake "crashed" (a dump with a DT SID whose VRF was missing).
    pub fn crashed_and_restarted(&self) -> bool {
        *self
            .shared
            .pid
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            != 4242
    }

    /// Emulates a VPP restart: closes every connection (clients see EOF), refuses connections
    /// for `down_for`, then serves again with empty state and a new pid.
    pub async fn restart(&self, down_for: std::time::Duration) -> std::io::Result<()> {
        stop_all(&self.shared);
        tokio::time::sleep(down_for).await;
        listen(&self.shared)
    }
}

fn stop_all(sh: &Arc<Shared>) {
    if let Some(t) = sh.lock_task().take() {
        t.abort(); // the listener is dropped; the socket file stays: connect() is refused
    }
    sh.epoch.send_modify(|e| *e += 1);
    *sh.st() = State::default();
    *sh.pid.lock().unwrap_or_else(PoisonError::into_inner) += 1;
}

fn listen(sh: &Arc<Shared>) -> std::io::Result<()> {
    let _ = std::fs::remove_file(&sh.path);
    let l = UnixListener::bind(&sh.path)?;
    let sh2 = sh.clone();
    let task = tokio::spawn(async move {
        let mut n = 0u32;
        while let Ok((s, _)) = l.accept().await {
            n += 1;
            tokio::spawn(serve(sh2.clone(), s, 0x8000_0000 | n));
        }
    });
    *sh.lock_task() = Some(task.abort_handle());
    Ok(())
}

async fn serve(sh: Arc<Shared>, mut s: UnixStream, handle: u32) {
    let mut epoch = sh.epoch.subscribe();
    epoch.borrow_and_update();
    loop {
        let frame = tokio::select! {
            f = read_frame(&mut s) => f,
            _ = epoch.changed() => return,
        };
        let Ok(Some(body)) = frame else { return };
        let out = handle_msg(&sh, &body, handle);
        let crash = out.as_ref().is_some_and(|o| o.is_empty());
        if crash {
            stop_all(&sh);
            let _ = listen(&sh);
            return;
        }
        if let Some(replies) = out {
            let mut buf = BytesMut::new();
            for r in replies {
                encode_frame(&r, &mut buf);
            }
            if s.write_all(&buf).await.is_err() {
                return;
            }
        }
    }
}

/// `None`: no reply (silent drop). `Some(empty)`: crash.
fn handle_msg(sh: &Shared, body: &[u8], handle: u32) -> Option<Vec<Bytes>> {
    if body.len() < 6 {
        return None;
    }
    let id = u16::from_be_bytes([body[0], body[1]]);
    if id == 15 {
        return Some(vec![create_reply(sh, body, handle)]);
    }
    let def = *sh.ids.get(&id)?; // unknown id: "no handler", no reply
    if body.len() < def.size || body.len() < REQUEST_HEADER_LEN {
        return None; // truncated: dropped
    }
    let ci = u32::from_be_bytes([body[2], body[3], body[4], body[5]]);
    let ctx = u32::from_be_bytes([body[6], body[7], body[8], body[9]]);
    if ci != handle {
        return None; // wrong client index: no registration, no reply
    }
    let reply_def = |name: &str| {
        REQUIRED
            .iter()
            .chain(OPTIONAL)
            .find(|d| d.name == name)
            .copied()
    };
    let mut st = sh.st();
    let pid = *sh.pid.lock().unwrap_or_else(PoisonError::into_inner);
    let mut r = Reader::new(def.name, body, REQUEST_HEADER_LEN);
    let head = |name: &str| {
        let mut b = BytesMut::new();
        b.put_u16(sh.by_name.get(name).copied().unwrap_or(0));
        b.put_u32(ctx);
        b
    };
    let retval_reply = |name: &str, rv: i32| {
        let mut b = head(name);
        b.put_i32(rv);
        b.freeze()
    };
    if let Some(rv) = st.fail_next.remove(def.name) {
        st.log.push(format!("{} (injected) -> {rv}", def.name));
        return Some(vec![retval_reply(&format!("{}_reply", def.name), rv)]);
    }
    let out = match def.name {
        "control_ping" => vec![ping_reply(head("control_ping_reply"), pid)],
        "show_version" => {
            let mut b = head("show_version_reply");
            b.put_i32(0);
            for (s, n) in [("vpe", 32), ("26.06-fake", 32), ("", 32), ("", 256)] {
                let _ = put_fixed_str(&mut b, "s", s, n);
            }
            vec![b.freeze()]
        }
        "sockclnt_delete" => {
            let mut b = head("sockclnt_delete_reply");
            b.put_i32(1);
            vec![b.freeze()]
        }
        "sr_localsids_dump" if st.crash_armed => return Some(Vec::new()),
        n if n.ends_with("_dump") => {
            let details = dump(&st, n, &head);
            drop(st);
            let mut v = details;
            v.push(ping_reply(head("control_ping_reply"), pid));
            return Some(v);
        }
        _ => {
            let rv = apply(&mut st, def.name, &mut r).unwrap_or(-1);
            let reply = reply_def(&format!("{}_reply", def.name))?;
            vec![retval_reply(reply.name, rv)]
        }
    };
    Some(out)
}

fn ping_reply(mut b: BytesMut, pid: u32) -> Bytes {
    b.put_i32(0);
    b.put_u32(0);
    b.put_u32(pid);
    b.freeze()
}

fn create_reply(sh: &Shared, body: &[u8], handle: u32) -> Bytes {
    let ctx = u32::from_be_bytes([body[2], body[3], body[4], body[5]]);
    let mut b = BytesMut::new();
    b.put_u16(16);
    b.put_u32(0);
    b.put_u32(ctx);
    b.put_i32(0);
    b.put_u32(handle);
    b.put_u16(sh.ids.len() as u16);
    for (id, d) in &sh.ids {
        b.put_u16(*id);
        let _ = put_fixed_str(&mut b, "name", d.name_crc, 64);
    }
    b.freeze()
}

/// Applies a state-changing request; returns VPP's retval.
fn apply(
    st: &mut State,
    name: &'static str,
    r: &mut Reader<'_>,
) -> Result<i32, crate::DecodeError> {
    let rv = match name {
        "sr_set_encap_source" => {
            st.encap_src = Some(r.ip6("src")?);
            0
        }
        "sr_set_encap_hop_limit" => {
            if r.u8("hop_limit")? == 0 {
                -7
            } else {
                0
            }
        }
        "ip_table_add_del" => {
            let is_add = r.bool("is_add")?;
            let id = r.u32("table_id")?;
            let v6 = r.bool("is_ip6")?;
            if id != 0 {
                if is_add {
                    let af = if v6 { "ipv6" } else { "ipv4" };
                    st.tables
                        .entry((v6, id))
                        .or_insert(format!("{af}-VRF:{id}"));
                } else {
                    st.tables.remove(&(v6, id));
                }
            }
            0
        }
        "sr_localsid_add_del" => {
            let is_del = r.bool("is_del")?;
            let addr = r.ip6("localsid")?;
            let psp = r.bool("end_psp")?;
            let beh = r.u8("behavior")?;
            let sw = r.u32("sw_if_index")?;
            let vlan = r.u32("vlan_index")?;
            let fib = r.u32("fib_table")?;
            let mut nh = [0u8; 17];
            let p = r.address("nh")?;
            let mut b = BytesMut::new();
            put_address(&mut b, Some(p));
            nh.copy_from_slice(&b);
            if is_del {
                if st.localsids.remove(&addr).is_some() {
                    0
                } else {
                    -2
                }
            } else if st.localsids.contains_key(&addr) {
                -1
            } else if fib != 0 && !st.tables.contains_key(&(true, fib)) {
                -3
            } else if st.policies.contains_key(&addr) {
                -4
            } else {
                let b = SrBehavior::from_u8(beh);
                let v6 = b == SrBehavior::DT6 || b == SrBehavior::T;
                if b.uses_table() && sw != 0 && !st.tables.contains_key(&(v6, sw)) {
                    st.crash_armed = true; // VPP 26.06 segfaults on the next localsids dump
                }
                st.localsids.insert(addr, (psp, beh, fib, vlan, sw, nh));
                0
            }
        }
        "sr_policy_add" | "sr_policy_add_v2" => {
            let bsid = r.ip6("bsid")?;
            let _weight = r.u32("weight")?;
            let is_encap = r.bool("is_encap")?;
            let policy_type = r.u8("type")?;
            let fib = r.u32("fib_table")?;
            let (list, _) = SidList::decode(r, false)?;
            let src = if name == "sr_policy_add_v2" {
                Some(r.ip6("encap_src")?)
            } else {
                None
            };
            if st.policies.contains_key(&bsid) || st.localsids.contains_key(&bsid) {
                -12
            } else if fib != 0 && !st.tables.contains_key(&(true, fib)) {
                -13
            } else {
                let encap_src = src
                    .filter(|s| !s.is_unspecified())
                    .or(st.encap_src)
                    .unwrap_or(Ipv6Addr::UNSPECIFIED);
                let sl = st.next_sl;
                st.next_sl += 1;
                let p = Policy {
                    encap_src,
                    is_encap,
                    policy_type,
                    fib_table: fib,
                    lists: vec![(sl, list)],
                };
                st.policies.insert(bsid, p);
                0
            }
        }
        "sr_policy_del" => {
            let bsid = r.ip6("bsid")?;
            // Steering entries pointing at it are left behind, as VPP does.
            if st.policies.remove(&bsid).is_some() {
                0
            } else {
                -1
            }
        }
        "sr_policy_mod" | "sr_policy_mod_v2" => {
            let bsid = r.ip6("bsid")?;
            r.skip(8, "index+fib")?;
            let op = r.u8("operation")?;
            let sl_index = r.u32("sl_index")?;
            r.skip(4, "weight")?;
            let (list, _) = SidList::decode(r, false)?;
            let next = st.next_sl;
            match st.policies.get_mut(&bsid) {
                None => -1,
                Some(p) => match op {
                    1 => {
                        p.lists.push((next, list));
                        st.next_sl += 1;
                        0
                    }
                    2 if p.lists.len() == 1 => -21,
                    2 => match p.lists.iter().position(|(i, _)| *i == sl_index) {
                        Some(k) => {
                            p.lists.remove(k);
                            0
                        }
                        None => -22,
                    },
                    3 => match p.lists.iter_mut().find(|(i, _)| *i == sl_index) {
                        Some((_, l)) => {
                            l.weight = list.weight;
                            0
                        }
                        None => -32,
                    },
                    _ => -7,
                },
            }
        }
        "sr_steering_add_del" => {
            let is_del = r.bool("is_del")?;
            let bsid = r.ip6("bsid")?;
            r.skip(4, "sr_policy_index")?;
            let table = r.u32("table_id")?;
            let prefix = r.prefix("prefix")?;
            r.skip(4, "sw_if_index")?;
            let tt = r.u8("traffic_type")?;
            let key = (tt, table, prefix.to_string());
            if is_del {
                if st.steering.remove(&key).is_some() {
                    0
                } else {
                    -4
                }
            } else if !st.policies.contains_key(&bsid) {
                -2
            } else {
                st.steering.insert(key, (prefix, bsid));
                0
            }
        }
        _ => -9,
    };
    st.log.push(format!("{name} -> {rv}"));
    Ok(rv)
}

fn dump(st: &State, name: &str, head: &dyn Fn(&str) -> BytesMut) -> Vec<Bytes> {
    let mut out = Vec::new();
    let lists = |b: &mut BytesMut, p: &Policy, with_index: bool| {
        b.put_u8(p.lists.len() as u8);
        for (i, l) in &p.lists {
            b.put_u8(l.sids.len() as u8);
            b.put_u32(l.weight);
            if with_index {
                b.put_u32(*i);
            }
            for k in 0..16 {
                put_ip6(b, l.sids.get(k).copied().unwrap_or(Ipv6Addr::UNSPECIFIED));
            }
        }
    };
    match name {
        "ip_table_dump" => {
            let mut all = st.tables.clone();
            all.insert((false, 0), "ipv4-VRF:0".into());
            all.insert((true, 0), "ipv6-VRF:0".into());
            for ((v6, id), n) in all {
                let mut b = head("ip_table_details");
                b.put_u32(id);
                b.put_u8(u8::from(v6));
                let _ = put_fixed_str(&mut b, "name", &n, 64);
                out.push(b.freeze());
            }
        }
        "sr_localsids_dump" | "sr_localsids_with_packet_stats_dump" => {
            let stats = name.contains("stats");
            let dn = if stats {
                "sr_localsids_with_packet_stats_details"
            } else {
                "sr_localsids_details"
            };
            for (a, (psp, beh, fib, vlan, sw, nh)) in &st.localsids {
                let mut b = head(dn);
                put_ip6(&mut b, *a);
                b.put_u8(u8::from(*psp));
                b.put_u8(*beh);
                b.put_u32(*fib);
                b.put_u32(*vlan);
                b.put_slice(nh);
                b.put_u32(*sw);
                if stats {
                    b.put_bytes(0, 32);
                }
                out.push(b.freeze());
            }
        }
        "sr_policies_v2_dump" => {
            for (bsid, p) in &st.policies {
                let mut b = head("sr_policies_v2_details");
                put_ip6(&mut b, *bsid);
                put_ip6(&mut b, p.encap_src);
                b.put_u8(p.policy_type);
                b.put_u8(u8::from(p.is_encap));
                b.put_u32(p.fib_table);
                lists(&mut b, p, false);
                out.push(b.freeze());
            }
        }
        "sr_policies_dump" | "sr_policies_with_sl_index_dump" => {
            let idx = name.contains("sl_index");
            let dn = if idx {
                "sr_policies_with_sl_index_details"
            } else {
                "sr_policies_details"
            };
            for (bsid, p) in &st.policies {
                let mut b = head(dn);
                put_ip6(&mut b, *bsid);
                b.put_u8(u8::from(p.policy_type == 1));
                b.put_u8(u8::from(p.is_encap));
                b.put_u32(p.fib_table);
                lists(&mut b, p, idx);
                out.push(b.freeze());
            }
        }
        "sr_steering_pol_dump" => {
            for ((tt, table, _), (prefix, bsid)) in &st.steering {
                let mut b = head("sr_steering_pol_details");
                b.put_u8(*tt);
                b.put_u32(*table);
                put_prefix(&mut b, *prefix);
                b.put_u32(0);
                put_ip6(&mut b, *bsid);
                out.push(b.freeze());
            }
        }
        _ => {}
    }
    out
}
