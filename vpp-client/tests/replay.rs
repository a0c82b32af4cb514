//! Replay tests: the client against a server that replays the real VPP 26.06 transcripts in
//! `../shared/vpp/transcripts/`.
//!
//! The driver walks the same transcript as the server: for each recorded request it calls the
//! client's typed method with the arguments taken from the recorded `fields`, so the server's
//! byte comparison (context and client index masked) checks the encoders; each recorded reply,
//! error and dump is decoded by the client and compared with the recorded `fields`. Silent drops
//! must time out with the connection still usable; a VPP restart must be seen as EOF, followed
//! by a reconnect with a new generation and a resync.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use common::replay::{Masks, Options, Report, Server, Transcript, hex, temp_socket};
use serde_json::{Value, json};
use vpp_client::*;

const RAW_TIMEOUT: Duration = Duration::from_millis(300);

fn ip6(v: &Value) -> Ipv6Addr {
    v.as_str().unwrap().parse().unwrap()
}

fn u32v(v: &Value) -> u32 {
    v.as_u64().unwrap() as u32
}

fn base_name(name_crc: &str) -> &str {
    name_crc
        .rsplit_once('_')
        .map(|(n, _)| n)
        .unwrap_or(name_crc)
}

fn sid_list(v: &Value) -> SidList {
    let n = v["num_sids"].as_u64().unwrap() as usize;
    let sids = v["sids"].as_array().unwrap()[..n].iter().map(ip6).collect();
    SidList {
        weight: u32v(&v["weight"]),
        sids,
    }
}

fn sid_list_json(l: &SidList, sl_index: Option<u32>) -> Value {
    let mut sids: Vec<String> = l.sids.iter().map(|s| s.to_string()).collect();
    sids.resize(16, "::".into());
    let mut v = json!({"num_sids": l.sids.len(), "weight": l.weight, "sids": sids});
    if let Some(i) = sl_index {
        v["sl_index"] = json!(i);
    }
    v
}

fn addr_text(a: Option<IpAddr>) -> String {
    a.map(|a| a.to_string()).unwrap_or_else(|| "0.0.0.0".into())
}

/// The recorded `fields` without the header fields the client does not expose.
fn recorded(line: &Value) -> Value {
    let mut f = line["fields"].clone();
    let o = f.as_object_mut().unwrap();
    o.remove("_vl_msg_id");
    o.remove("context");
    f
}

fn local_sid_from(f: &Value) -> LocalSid {
    let nh: IpAddr = f["nh_addr"].as_str().unwrap().parse().unwrap();
    LocalSid {
        addr: ip6(&f["localsid"]),
        behavior: SrBehavior::from_u8(f["behavior"].as_u64().unwrap() as u8),
        end_psp: f["end_psp"].as_bool().unwrap(),
        iface_or_table: u32v(&f["sw_if_index"]),
        fib_table: u32v(&f["fib_table"]),
        vlan_index: u32v(&f["vlan_index"]),
        nh_addr: (!nh.is_unspecified()).then_some(nh),
    }
}

fn steering_from(f: &Value) -> Steering {
    let traffic = match f["traffic_type"].as_u64().unwrap() {
        2 => SteerTraffic::L2 {
            sw_if_index: u32v(&f["sw_if_index"]),
        },
        _ => SteerTraffic::L3(f["prefix"].as_str().unwrap().parse().unwrap()),
    };
    Steering {
        bsid: ip6(&f["bsid_addr"]),
        table_id: u32v(&f["table_id"]),
        traffic,
    }
}

fn policy_json(p: &SrPolicy, v2: bool) -> Value {
    let lists: Vec<Value> = p.sid_lists.iter().map(|l| sid_list_json(l, None)).collect();
    let mut v = json!({
        "bsid": p.bsid.to_string(), "is_encap": p.is_encap, "fib_table": p.fib_table,
        "num_sid_lists": lists.len(), "sid_lists": lists,
    });
    if v2 {
        v["encap_src"] = json!(p.encap_src.unwrap().to_string());
        v["type"] = json!(p.policy_type.to_u8());
    } else {
        v["is_spray"] = json!(p.policy_type == PolicyType::Spray);
    }
    v
}

/// What the driver checked.
#[derive(Debug, Default)]
struct Checked {
    requests: usize,
    errors: usize,
    details: usize,
    timeouts: usize,
    reconnects: usize,
}

struct Driver {
    t: Arc<Transcript>,
    socket: PathBuf,
    rc: Option<Reconnecting>,
    old: Option<std::sync::Arc<Client>>,
    checked: Checked,
    saw_refused_window: bool,
}

impl Driver {
    fn client(&self) -> std::sync::Arc<Client> {
        self.rc.as_ref().unwrap().client().unwrap()
    }

    /// The `in` lines answering the request at `i` (for a dump: the details and the ping reply,
    /// after the dump's `control_ping` out-line).
    fn answers(t: &Transcript, i: usize) -> (Vec<&Value>, usize) {
        let lines = &t.lines;
        let mut j = i + 1;
        if lines.get(j).is_some_and(|l| {
            l["dir"] == "out" && base_name(l["name"].as_str().unwrap()) == "control_ping"
        }) && base_name(lines[i]["name"].as_str().unwrap()).ends_with("_dump")
        {
            assert_eq!(lines[j]["fields"]["context"], lines[i]["fields"]["context"]);
            j += 1;
        }
        let start = j;
        while lines.get(j).is_some_and(|l| l["dir"] == "in") {
            j += 1;
        }
        (lines[start..j].iter().collect(), j)
    }

    /// Compares a request's outcome with the recorded reply's retval.
    fn check_outcome(&mut self, what: &str, res: Result<(), Error>, reply: &Value) {
        let retval = reply["fields"]["retval"].as_i64().unwrap() as i32;
        self.checked.requests += 1;
        match res {
            Ok(()) => assert_eq!(
                retval, 0,
                "{what}: client reported success, VPP said {retval}"
            ),
            Err(Error::Vpp(e)) => {
                assert_eq!(e.retval, retval, "{what}");
                assert_ne!(
                    e.kind,
                    VppErrorKind::Other,
                    "{what}: recorded code {retval} not mapped"
                );
                assert!(!e.to_string().is_empty());
                self.checked.errors += 1;
            }
            Err(e) => panic!("{what}: unexpected error {e}"),
        }
    }

    /// Compares decoded details with the recorded ones and the dump's ping reply with vpe_pid.
    fn check_details(&mut self, what: &str, got: Vec<Value>, answers: &[&Value]) {
        let (ping, details) = answers.split_last().unwrap();
        assert_eq!(
            base_name(ping["name"].as_str().unwrap()),
            "control_ping_reply",
            "{what}"
        );
        let want: Vec<Value> = details.iter().map(|l| recorded(l)).collect();
        assert_eq!(got.len(), want.len(), "{what}: number of details");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g, w, "{what}: decoded details differ from the recording");
        }
        let pid = ping["fields"]["vpe_pid"].as_u64().unwrap() as u32;
        assert_eq!(
            self.old.as_ref().unwrap().vpe_pid(),
            Some(pid),
            "{what}: vpe_pid of the ping reply"
        );
        self.checked.details += got.len();
        self.checked.requests += 1;
    }

    async fn raw_must_time_out(&mut self, line: &Value) {
        let c = self.client();
        let body = hex(line["hex"].as_str().unwrap());
        let name = line["name"].as_str().unwrap();
        // Resolve the id from the table (so a permuted table still works), except for the
        // deliberately unknown id.
        let id = c
            .message_table()
            .get(name)
            .unwrap_or(line["id"].as_u64().unwrap() as u16);
        let ci = u32::from_be_bytes(body[2..6].try_into().unwrap());
        let r = c.request_raw(id, Some(ci), &body[10..], RAW_TIMEOUT).await;
        assert!(
            matches!(r, Err(Error::Timeout { .. })),
            "{name}: expected a timeout, got {r:?}"
        );
        assert!(
            !c.is_closed(),
            "a silent drop must leave the connection usable"
        );
        self.checked.timeouts += 1;
    }

    async fn run(&mut self) -> Checked {
        let t = self.t.clone();
        let lines = &t.lines;
        let mut i = 0;
        while i < lines.len() {
            let line = &lines[i];
            let conn = line["conn"].as_u64().unwrap_or(0);
            if line["dir"] == "event" {
                self.event(line, conn).await;
                i += 1;
                continue;
            }
            assert_eq!(
                line["dir"], "out",
                "{}: unexpected in-line at {i}",
                self.t.name
            );
            if lines.get(i + 1).is_some_and(|l| l["event"] == "no_reply") {
                self.raw_must_time_out(line).await;
                i += 1;
                continue;
            }
            let (answers, next) = Self::answers(&t, i);
            self.request(line, &answers).await;
            i = next;
        }
        std::mem::take(&mut self.checked)
    }

    async fn event(&mut self, line: &Value, conn: u64) {
        match line["event"].as_str().unwrap() {
            "connect" if conn == 1 => {
                let mut cfg = ClientConfig::new(&self.socket);
                cfg.name = "sidra-replay".into();
                cfg.request_timeout = Duration::from_secs(5);
                let mut rcfg = ReconnectConfig::new(cfg);
                rcfg.min_backoff = Duration::from_millis(20);
                rcfg.max_backoff = Duration::from_millis(100);
                self.rc = Some(Reconnecting::connect(rcfg).await.unwrap());
                assert_eq!(
                    self.rc.as_ref().unwrap().state(),
                    LinkState::Up {
                        generation: 1,
                        failed_attempts: 0
                    }
                );
            }
            "connect" => {
                let (c, generation) = tokio::time::timeout(
                    Duration::from_secs(10),
                    self.rc.as_ref().unwrap().wait_up(conn - 1),
                )
                .await
                .expect("no reconnect after VPP came back")
                .unwrap();
                assert_eq!(generation, conn, "generation counts connections");
                let LinkState::Up {
                    failed_attempts, ..
                } = self.rc.as_ref().unwrap().state()
                else {
                    panic!("link not up after wait_up");
                };
                if self.saw_refused_window {
                    assert!(
                        failed_attempts >= 1,
                        "connects while VPP was down must fail"
                    );
                }
                assert!(!c.is_closed());
                self.checked.reconnects += 1;
            }
            "vpp_stopped" => {
                // The client used last, before VPP went away.
                let old = self.old.clone().expect("a request before the restart");
                let reason = tokio::time::timeout(Duration::from_secs(5), old.closed())
                    .await
                    .expect("EOF not noticed");
                assert!(reason.contains("EOF"), "{reason}");
            }
            "eof" => {
                let old = self.old.as_ref().unwrap();
                assert!(old.is_closed());
                assert!(
                    self.rc.as_ref().unwrap().client().is_err()
                        || !matches!(
                            self.rc.as_ref().unwrap().state(),
                            LinkState::Up { generation: 1, .. }
                        )
                );
            }
            "send_error" => {
                let r = self.old.as_ref().unwrap().ping().await;
                assert!(matches!(r, Err(Error::Disconnected(_))), "{r:?}");
            }
            "connect_while_down" => self.saw_refused_window = true,
            "close" | "no_reply" | "vpp_started" => {}
            e => panic!("unknown event {e}"),
        }
    }

    async fn request(&mut self, line: &Value, answers: &[&Value]) {
        let name = base_name(line["name"].as_str().unwrap());
        let f = &line["fields"];
        let c = self.client();
        self.old = Some(c.clone());
        let reply = answers.first().copied();
        match name {
            "sockclnt_create" => {
                let r = &reply.unwrap()["fields"];
                assert_eq!(r["response"], 0);
                assert_eq!(c.client_index(), u32v(&r["index"]));
                assert_eq!(
                    c.message_table().len(),
                    r["count"].as_u64().unwrap() as usize
                );
                self.checked.requests += 1;
            }
            "show_version" => {
                let v = c.version().await.unwrap();
                let got = json!({"retval": 0, "program": v.program, "version": v.version,
                    "build_date": v.build_date, "build_directory": v.build_directory});
                assert_eq!(got, recorded(reply.unwrap()));
                assert_eq!(v.version, self.t.header["vpp_version"].as_str().unwrap());
                self.checked.requests += 1;
            }
            "control_ping" => {
                let pid = c.ping().await.unwrap();
                assert_eq!(pid, u32v(&reply.unwrap()["fields"]["vpe_pid"]));
                assert_eq!(c.vpe_pid(), Some(pid));
                self.checked.requests += 1;
            }
            "sockclnt_delete" => {
                assert_eq!(reply.unwrap()["fields"]["response"], 1);
                self.rc.as_ref().unwrap().shutdown().await.unwrap();
                assert!(c.is_closed());
                assert_eq!(self.rc.as_ref().unwrap().state(), LinkState::Closed);
                self.checked.requests += 1;
            }
            "ip_table_add_del" => {
                let t = IpTable {
                    table_id: u32v(&f["table"]["table_id"]),
                    is_ip6: f["table"]["is_ip6"].as_bool().unwrap(),
                    name: f["table"]["name"].as_str().unwrap().into(),
                };
                let r = c.ip_table_add_del(f["is_add"].as_bool().unwrap(), &t).await;
                self.check_outcome(name, r, reply.unwrap());
            }
            "ip_table_dump" => {
                let got = c.ip_tables().await.unwrap().into_iter().map(|t| {
                    json!({"table": {"table_id": t.table_id, "is_ip6": t.is_ip6, "name": t.name}})
                });
                self.check_details(name, got.collect(), answers);
            }
            "sr_localsid_add_del" => {
                let r = c
                    .localsid_add_del(f["is_del"].as_bool().unwrap(), &local_sid_from(f))
                    .await;
                self.check_outcome(name, r, reply.unwrap());
            }
            "sr_localsids_dump" => {
                let got = c.localsids().await.unwrap().into_iter().map(|s| {
                    json!({"addr": s.addr.to_string(), "end_psp": s.end_psp,
                        "behavior": s.behavior.to_u8(), "fib_table": s.fib_table,
                        "vlan_index": s.vlan_index, "xconnect_nh_addr": addr_text(s.nh_addr),
                        "xconnect_iface_or_vrf_table": s.iface_or_table})
                });
                self.check_details(name, got.collect(), answers);
            }
            "sr_set_encap_source" => {
                let r = c.set_encap_source(ip6(&f["encaps_source"])).await;
                self.check_outcome(name, r, reply.unwrap());
            }
            "sr_policy_add" => {
                let list = sid_list(&f["sids"]);
                assert_eq!(u32v(&f["weight"]), list.weight, "recorded top-level weight");
                let mut p = PolicyAdd::encap(ip6(&f["bsid_addr"]), list);
                p.is_encap = f["is_encap"].as_bool().unwrap();
                p.fib_table = u32v(&f["fib_table"]);
                if f["is_spray"].as_bool().unwrap() {
                    p.policy_type = PolicyType::Spray;
                }
                let r = c.policy_add(&p).await;
                self.check_outcome(name, r, reply.unwrap());
            }
            "sr_policy_del" => {
                let r = c.policy_del(ip6(&f["bsid_addr"])).await;
                self.check_outcome(name, r, reply.unwrap());
            }
            "sr_policy_mod" => {
                let sl_index = u32v(&f["sl_index"]);
                let op = match f["operation"].as_u64().unwrap() {
                    1 => PolicyModOp::AddSidList(sid_list(&f["sids"])),
                    2 => PolicyModOp::DelSidList { sl_index },
                    _ => PolicyModOp::SetWeight {
                        sl_index,
                        weight: u32v(&f["sids"]["weight"]),
                    },
                };
                let m = PolicyMod {
                    bsid: ip6(&f["bsid_addr"]),
                    fib_table: u32v(&f["fib_table"]),
                    op,
                    encap_src: None,
                };
                let r = c.policy_mod(&m).await;
                self.check_outcome(name, r, reply.unwrap());
            }
            "sr_steering_add_del" => {
                let r = c
                    .steering_add_del(f["is_del"].as_bool().unwrap(), &steering_from(f))
                    .await;
                self.check_outcome(name, r, reply.unwrap());
            }
            "sr_policies_v2_dump" => {
                let got = c.policies_v2().await.unwrap();
                let got = got.iter().map(|p| policy_json(p, true)).collect();
                self.check_details(name, got, answers);
            }
            "sr_policies_dump" => {
                let got = c.policies_v1().await.unwrap();
                let got = got.iter().map(|p| policy_json(p, false)).collect();
                self.check_details(name, got, answers);
            }
            "sr_policies_with_sl_index_dump" => {
                let got = c.policies_with_sl_index().await.unwrap().into_iter().map(|p| {
                    let lists: Vec<Value> =
                        p.sid_lists.iter().map(|l| sid_list_json(&l.sid_list, Some(l.sl_index))).collect();
                    json!({"bsid": p.bsid.to_string(), "is_spray": p.policy_type == PolicyType::Spray,
                        "is_encap": p.is_encap, "fib_table": p.fib_table,
                        "num_sid_lists": lists.len(), "sid_lists": lists})
                });
                self.check_details(name, got.collect(), answers);
            }
            "sr_steering_pol_dump" => {
                let got: Vec<Value> = c
                    .steering()
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|s| {
                        let SteerTraffic::L3(p) = s.traffic else {
                            panic!("L2 entry")
                        };
                        json!({"traffic_type": s.steer_type().to_u8(), "fib_table": s.table_id,
                        "prefix": p.to_string(), "bsid": s.bsid.to_string()})
                    })
                    .collect();
                // sw_if_index is meaningless for L3 entries (union-aliased prefix bytes): the
                // client drops it, so it is left out of the comparison.
                let answers: Vec<Value> = answers
                    .iter()
                    .map(|l| {
                        let mut l = (*l).clone();
                        if l["name"]
                            .as_str()
                            .unwrap()
                            .starts_with("sr_steering_pol_details")
                        {
                            l["fields"].as_object_mut().unwrap().remove("sw_if_index");
                        }
                        l
                    })
                    .collect();
                self.check_details(name, got, &answers.iter().collect::<Vec<_>>());
            }
            other => panic!("{}: no driver for {other}", self.t.name),
        }
    }
}

async fn replay_with(name: &str, opts: Options) -> (Report, Checked) {
    let t = Arc::new(Transcript::load(name));
    let (dir, socket) = temp_socket(name);
    let server = Server::bind(&socket);
    let srv = tokio::spawn(server.run((*t).clone(), Masks::load(), opts));
    let mut d = Driver {
        t: t.clone(),
        socket,
        rc: None,
        old: None,
        checked: Checked::default(),
        saw_refused_window: false,
    };
    let drv = tokio::spawn(async move {
        tokio::time::timeout(Duration::from_secs(60), d.run())
            .await
            .expect("driver hung")
    });
    // The server's account of a divergence is the useful one: report it first.
    let report = srv
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("replay of {name} diverged: {e}"));
    let checked = drv
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        report.out_matched,
        t.count("out"),
        "{name}: every recorded request was sent"
    );
    assert_eq!(
        report.in_sent,
        t.count("in"),
        "{name}: every recorded reply was delivered"
    );
    (report, checked)
}

async fn replay(name: &str) -> (Report, Checked) {
    let opts = Options {
        down_for: Duration::from_millis(300),
        ..Options::default()
    };
    replay_with(name, opts).await
}

#[tokio::test]
async fn connect_and_version() {
    let (rep, c) = replay("connect_and_version").await;
    assert_eq!(
        (rep.connections, rep.eofs_seen),
        (1, 1),
        "orderly close after sockclnt_delete"
    );
    assert_eq!(c.requests, 4);
}

#[tokio::test]
async fn localsid_lifecycle() {
    let (_, c) = replay("localsid_lifecycle").await;
    assert_eq!(c.errors, 2, "duplicate add (-1) and missing delete (-2)");
    assert_eq!(c.details, 4 + 2, "4 tables, 2 local SIDs");
}

#[tokio::test]
async fn policy_and_steering() {
    let (_, c) = replay("policy_and_steering").await;
    assert_eq!(
        c.errors, 3,
        "duplicate BSID (-12), missing steering (-4), missing policy (-1)"
    );
    assert_eq!(c.details, 2 + 2 + 2 + 1 + 1);
}

#[tokio::test]
async fn silent_drop_times_out_and_connection_stays_usable() {
    let (_, c) = replay("silent_drop").await;
    assert_eq!(
        c.timeouts, 4,
        "wrong index, zero index, unknown id, truncated body"
    );
    assert!(
        c.requests >= 3,
        "ping, dump and delete answered after the drops"
    );
}

#[tokio::test]
async fn vpp_restart_reconnects_and_resyncs() {
    let (rep, c) = replay("reconnect_after_restart").await;
    assert_eq!(rep.connections, 2);
    assert_eq!(c.reconnects, 1);
}

#[tokio::test]
async fn every_transcript_has_a_test() {
    let known = [
        "connect_and_version",
        "localsid_lifecycle",
        "policy_and_steering",
        "reconnect_after_restart",
        "silent_drop",
    ];
    assert_eq!(
        Transcript::all_names(),
        known,
        "a new transcript needs its replay test"
    );
}

#[tokio::test]
async fn permuted_message_ids_still_replay() {
    // Shift every id except the fixed sockclnt_create/_reply: a client with hard-coded ids
    // would send the wrong ones and the server would report the divergence.
    let table: Value = serde_json::from_str(
        &std::fs::read_to_string(common::api_json::shared_dir().join("vpp/message_table.json"))
            .unwrap(),
    )
    .unwrap();
    let ids: Vec<u16> = table["table"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_u64().unwrap() as u16)
        .filter(|&id| id != 15 && id != 16)
        .collect();
    let mut id_map = HashMap::new();
    for (k, &id) in ids.iter().enumerate() {
        id_map.insert(id, ids[(k + 7) % ids.len()]);
    }
    for name in ["policy_and_steering", "localsid_lifecycle"] {
        let opts = Options {
            id_map: id_map.clone(),
            down_for: Duration::from_millis(300),
            ..Options::default()
        };
        replay_with(name, opts).await;
    }
}

#[tokio::test]
async fn changed_crc_refuses_to_connect_naming_the_message() {
    let t = Transcript::load("connect_and_version");
    let (dir, socket) = temp_socket("crc");
    let server = Server::bind(&socket);
    let mut rename = HashMap::new();
    rename.insert(
        "sr_steering_add_del_e46b0a0f".to_string(),
        "sr_steering_add_del_0badc0de".to_string(),
    );
    let opts = Options {
        rename,
        ..Options::default()
    };
    let srv = tokio::spawn(server.run(t, Masks::load(), opts));
    let err = Client::connect(&socket, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingMessage {
                name_crc: "sr_steering_add_del_e46b0a0f"
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("sr_steering_add_del_e46b0a0f"));
    assert!(err.is_incompatible());
    // The server then waits for show_version, which never comes.
    let res = srv.await.unwrap();
    assert!(res.is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
