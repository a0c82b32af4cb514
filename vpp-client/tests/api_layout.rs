//! Every message encoding and decoding checked against the sizes and offsets computed from
//! VPP 26.06's `.api.json` files in `../shared/vpp/api`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{IpAddr, Ipv6Addr};

use bytes::{BufMut, BytesMut};
use common::api_json::Api;
use vpp_client::messages::control::*;
use vpp_client::messages::defs::{OPTIONAL, REQUIRED, SOCKCLNT_CREATE, SOCKCLNT_CREATE_REPLY};
use vpp_client::messages::ip::*;
use vpp_client::messages::sr::*;
use vpp_client::{PolicyType, SidList, SrBehavior, SteerTraffic};

fn ip6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// A request body: 10-byte header (id 0x0102, client_index 0xa1a2a3a4, context 0xc1c2c3c4) plus
/// the encoded fields.
fn request(fields: BytesMut) -> BytesMut {
    let mut b = BytesMut::new();
    b.put_u16(0x0102);
    b.put_u32(0xa1a2_a3a4);
    b.put_u32(0xc1c2_c3c4);
    b.put_slice(&fields);
    b
}

fn at<'a>(api: &Api, msg: &str, path: &str, body: &'a [u8]) -> &'a [u8] {
    let (off, size) = api.field(msg, path);
    &body[off..off + size]
}

#[test]
fn every_message_name_crc_and_size_matches_the_api_json() {
    let api = Api::load();
    let mut checked = 0;
    for def in REQUIRED
        .iter()
        .chain(OPTIONAL)
        .chain([&SOCKCLNT_CREATE, &SOCKCLNT_CREATE_REPLY])
    {
        let crc = api.crc(def.name);
        assert_eq!(
            def.name_crc,
            format!("{}_{crc}", def.name),
            "CRC of {}",
            def.name
        );
        let (fixed, elem) = api.size(def.name);
        assert_eq!(def.size, fixed, "size of {}", def.name);
        assert_eq!(def.elem_size, elem, "trailing element size of {}", def.name);
        checked += 1;
    }
    assert_eq!(checked, REQUIRED.len() + OPTIONAL.len() + 2);
}

#[test]
fn localsid_add_del_offsets() {
    let api = Api::load();
    let m = "sr_localsid_add_del";
    let mut s = LocalSid::end_dt4(ip6("fc00:0:1::10"), 0x0a0b_0c0d);
    s.end_psp = true;
    s.fib_table = 0x1122_3344;
    s.vlan_index = 0x5566_7788;
    s.nh_addr = Some(IpAddr::V6(ip6("2001:db8::9")));
    let mut f = BytesMut::new();
    encode_localsid_add_del(true, &s, &mut f);
    let b = request(f);
    assert_eq!(b.len(), api.size(m).0);
    assert_eq!(at(&api, m, "is_del", &b), [1]);
    assert_eq!(at(&api, m, "localsid", &b), ip6("fc00:0:1::10").octets());
    assert_eq!(at(&api, m, "end_psp", &b), [1]);
    assert_eq!(at(&api, m, "behavior", &b), [9]);
    assert_eq!(at(&api, m, "sw_if_index", &b), 0x0a0b_0c0du32.to_be_bytes());
    assert_eq!(at(&api, m, "vlan_index", &b), 0x5566_7788u32.to_be_bytes());
    assert_eq!(at(&api, m, "fib_table", &b), 0x1122_3344u32.to_be_bytes());
    assert_eq!(at(&api, m, "nh_addr.af", &b), [1]);
    let (un, _) = api.field(m, "nh_addr.un");
    assert_eq!(&b[un..un + 16], ip6("2001:db8::9").octets());
}

fn sid_list_checks(api: &Api, msg: &str, prefix: &str, b: &[u8], list: &SidList) {
    assert_eq!(
        at(api, msg, &format!("{prefix}.num_sids"), b),
        [list.sids.len() as u8]
    );
    assert_eq!(
        at(api, msg, &format!("{prefix}.weight"), b),
        list.weight.to_be_bytes()
    );
    let (off, size) = api.field(msg, &format!("{prefix}.sids"));
    assert_eq!(size, 256);
    for (i, s) in list.sids.iter().enumerate() {
        assert_eq!(&b[off + 16 * i..off + 16 * i + 16], s.octets());
    }
    assert!(
        b[off + 16 * list.sids.len()..off + size]
            .iter()
            .all(|&x| x == 0)
    );
}

#[test]
fn policy_add_v1_and_v2_offsets() {
    let api = Api::load();
    let list = SidList {
        weight: 0x0102_0304,
        sids: vec![ip6("fc00:0:2::1"), ip6("fc00:0:3::1"), ip6("fc00:0:4::10")],
    };
    let mut p = PolicyAdd::encap(ip6("fc00:0:1::101"), list.clone());
    p.policy_type = PolicyType::Spray;
    p.fib_table = 0x0000_0a0b;

    let m = "sr_policy_add";
    let mut f = BytesMut::new();
    encode_policy_add(&p, &mut f).unwrap();
    let b = request(f);
    assert_eq!(b.len(), api.size(m).0);
    assert_eq!(at(&api, m, "bsid_addr", &b), ip6("fc00:0:1::101").octets());
    assert_eq!(at(&api, m, "weight", &b), list.weight.to_be_bytes());
    assert_eq!(at(&api, m, "is_encap", &b), [1]);
    assert_eq!(at(&api, m, "is_spray", &b), [1]);
    assert_eq!(at(&api, m, "fib_table", &b), 0x0a0bu32.to_be_bytes());
    sid_list_checks(&api, m, "sids", &b, &list);

    let m = "sr_policy_add_v2";
    p.policy_type = PolicyType::Tef;
    p.encap_src = Some(ip6("fc00:0:ffff::1"));
    let mut f = BytesMut::new();
    encode_policy_add_v2(&p, &mut f).unwrap();
    let b = request(f);
    assert_eq!(b.len(), api.size(m).0);
    assert_eq!(at(&api, m, "type", &b), [2]);
    assert_eq!(at(&api, m, "encap_src", &b), ip6("fc00:0:ffff::1").octets());
    sid_list_checks(&api, m, "sids", &b, &list);
    // v1 cannot express TEF or a per-policy source.
    assert!(encode_policy_add(&p, &mut BytesMut::new()).is_err());
}

#[test]
fn policy_mod_and_del_offsets() {
    let api = Api::load();
    let list = SidList {
        weight: 5,
        sids: vec![ip6("fc00:0:5::1"), ip6("fc00:0:6::1")],
    };
    for (m, v2) in [("sr_policy_mod", false), ("sr_policy_mod_v2", true)] {
        for (op, code, sl, w) in [
            (PolicyModOp::AddSidList(list.clone()), 1u8, 0u32, 5u32),
            (PolicyModOp::DelSidList { sl_index: 7 }, 2, 7, 0),
            (
                PolicyModOp::SetWeight {
                    sl_index: 9,
                    weight: 3,
                },
                3,
                9,
                3,
            ),
        ] {
            let pm = PolicyMod {
                bsid: ip6("fc00:0:1::100"),
                fib_table: 0x0102_0304,
                op: op.clone(),
                encap_src: v2.then(|| ip6("fc00::5")),
            };
            let mut f = BytesMut::new();
            if v2 {
                encode_policy_mod_v2(&pm, &mut f).unwrap();
            } else {
                encode_policy_mod(&pm, &mut f).unwrap();
            }
            let b = request(f);
            assert_eq!(b.len(), api.size(m).0, "{m}");
            assert_eq!(at(&api, m, "bsid_addr", &b), ip6("fc00:0:1::100").octets());
            assert_eq!(at(&api, m, "sr_policy_index", &b), [0; 4]);
            assert_eq!(at(&api, m, "fib_table", &b), 0x0102_0304u32.to_be_bytes());
            assert_eq!(at(&api, m, "operation", &b), [code]);
            assert_eq!(at(&api, m, "sl_index", &b), sl.to_be_bytes());
            assert_eq!(at(&api, m, "weight", &b), w.to_be_bytes());
            assert_eq!(at(&api, m, "sids.weight", &b), w.to_be_bytes());
            if let PolicyModOp::AddSidList(l) = &op {
                sid_list_checks(&api, m, "sids", &b, l);
            } else {
                assert_eq!(at(&api, m, "sids.num_sids", &b), [0]);
            }
            if v2 {
                assert_eq!(at(&api, m, "encap_src", &b), ip6("fc00::5").octets());
            }
        }
    }

    let m = "sr_policy_del";
    let mut f = BytesMut::new();
    encode_policy_del(ip6("fc00:0:1::101"), &mut f);
    let b = request(f);
    assert_eq!(b.len(), api.size(m).0);
    assert_eq!(at(&api, m, "bsid_addr", &b), ip6("fc00:0:1::101").octets());

    let m = "sr_set_encap_source";
    let mut f = BytesMut::new();
    encode_set_encap_source(ip6("fc00:0:ffff::1"), &mut f);
    let b = request(f);
    assert_eq!(b.len(), api.size(m).0);
    assert_eq!(
        at(&api, m, "encaps_source", &b),
        ip6("fc00:0:ffff::1").octets()
    );
}

#[test]
fn steering_add_del_offsets() {
    let api = Api::load();
    let m = "sr_steering_add_del";
    let cases = [
        (SteerTraffic::L3("10.1.0.0/16".parse().unwrap()), 4u8),
        (SteerTraffic::L3("2001:db8:1::/48".parse().unwrap()), 6),
        (
            SteerTraffic::L2 {
                sw_if_index: 0x0102_0304,
            },
            2,
        ),
    ];
    for (traffic, tt) in cases {
        let s = Steering {
            bsid: ip6("fc00:0:1::100"),
            table_id: 0x0a0b_0c0d,
            traffic,
        };
        let mut f = BytesMut::new();
        encode_steering_add_del(false, &s, &mut f);
        let b = request(f);
        assert_eq!(b.len(), api.size(m).0);
        assert_eq!(at(&api, m, "is_del", &b), [0]);
        assert_eq!(at(&api, m, "bsid_addr", &b), ip6("fc00:0:1::100").octets());
        assert_eq!(at(&api, m, "table_id", &b), 0x0a0b_0c0du32.to_be_bytes());
        assert_eq!(at(&api, m, "traffic_type", &b), [tt]);
        match traffic {
            SteerTraffic::L3(p) => {
                assert_eq!(at(&api, m, "prefix.len", &b), [p.prefix_len()]);
                let af = at(&api, m, "prefix.address.af", &b);
                assert_eq!(af, [u8::from(tt == 6)]);
                let (un, _) = api.field(m, "prefix.address.un");
                match p.addr() {
                    IpAddr::V4(a) => assert_eq!(&b[un..un + 4], a.octets()),
                    IpAddr::V6(a) => assert_eq!(&b[un..un + 16], a.octets()),
                }
            }
            SteerTraffic::L2 { sw_if_index } => {
                assert_eq!(at(&api, m, "sw_if_index", &b), sw_if_index.to_be_bytes());
            }
        }
    }
}

#[test]
fn control_and_ip_requests_offsets() {
    let api = Api::load();
    let b = encode_sockclnt_create(0x0102_0304, "sidra").unwrap();
    let m = "sockclnt_create";
    assert_eq!(b.len(), api.size(m).0);
    assert_eq!(at(&api, m, "context", &b), 0x0102_0304u32.to_be_bytes());
    assert_eq!(&at(&api, m, "name", &b)[..6], b"sidra\0");

    let m = "sockclnt_delete";
    let mut f = BytesMut::new();
    encode_sockclnt_delete(0x8000_0001, &mut f);
    let b = request(f);
    assert_eq!(b.len(), api.size(m).0);
    assert_eq!(at(&api, m, "index", &b), 0x8000_0001u32.to_be_bytes());

    let m = "ip_table_add_del";
    let t = IpTable {
        table_id: 0x0102_0304,
        is_ip6: true,
        name: "blue".into(),
    };
    let mut f = BytesMut::new();
    encode_ip_table_add_del(true, &t, &mut f).unwrap();
    let b = request(f);
    assert_eq!(b.len(), api.size(m).0);
    assert_eq!(at(&api, m, "is_add", &b), [1]);
    assert_eq!(
        at(&api, m, "table.table_id", &b),
        0x0102_0304u32.to_be_bytes()
    );
    assert_eq!(at(&api, m, "table.is_ip6", &b), [1]);
    assert_eq!(&at(&api, m, "table.name", &b)[..5], b"blue\0");
}

/// Writes `bytes` at the offset of `path` in a zeroed body of the message's size (+ `extra`).
struct Builder<'a> {
    api: &'a Api,
    msg: &'static str,
    body: Vec<u8>,
}

impl<'a> Builder<'a> {
    fn new(api: &'a Api, msg: &'static str, extra: usize) -> Self {
        Self {
            api,
            msg,
            body: vec![0; api.size(msg).0 + extra],
        }
    }
    fn put(mut self, path: &str, bytes: &[u8]) -> Self {
        let (off, size) = self.api.field(self.msg, path);
        assert!(bytes.len() <= size.max(bytes.len()));
        self.body[off..off + bytes.len()].copy_from_slice(bytes);
        self
    }
    fn put_at(mut self, off: usize, bytes: &[u8]) -> Self {
        self.body[off..off + bytes.len()].copy_from_slice(bytes);
        self
    }
}

fn sid_list_bytes(weight: u32, sids: &[Ipv6Addr], sl_index: Option<u32>) -> Vec<u8> {
    let mut v = vec![sids.len() as u8];
    v.extend(weight.to_be_bytes());
    if let Some(i) = sl_index {
        v.extend(i.to_be_bytes());
    }
    for i in 0..16 {
        v.extend(sids.get(i).map(|s| s.octets()).unwrap_or([0; 16]));
    }
    v
}

#[test]
fn details_and_replies_decode_at_json_offsets() {
    let api = Api::load();
    let nh = {
        let mut v = vec![1u8];
        v.extend(ip6("2001:db8::7").octets());
        v
    };
    let b = Builder::new(&api, "sr_localsids_details", 0)
        .put("addr", &ip6("fc00:0:1::11").octets())
        .put("end_psp", &[1])
        .put("behavior", &[8])
        .put("fib_table", &3u32.to_be_bytes())
        .put("vlan_index", &4u32.to_be_bytes())
        .put("xconnect_nh_addr", &nh)
        .put("xconnect_iface_or_vrf_table", &10u32.to_be_bytes());
    let s = decode_localsid_details(&b.body).unwrap();
    assert_eq!(s.addr, ip6("fc00:0:1::11"));
    assert!(s.end_psp);
    assert_eq!(s.behavior, SrBehavior::DT6);
    assert_eq!((s.fib_table, s.vlan_index, s.iface_or_table), (3, 4, 10));
    assert_eq!(s.nh_addr, Some(IpAddr::V6(ip6("2001:db8::7"))));
    let mut longer = b.body.clone();
    longer.push(0);
    assert!(
        decode_localsid_details(&longer).is_err(),
        "trailing bytes must be refused"
    );
    assert!(decode_localsid_details(&b.body[..52]).is_err());

    let st = Builder::new(&api, "sr_localsids_with_packet_stats_details", 0)
        .put("addr", &ip6("fc00::1").octets())
        .put("behavior", &[1])
        .put("good_traffic_bytes", &1u64.to_be_bytes())
        .put("good_traffic_pkt_count", &2u64.to_be_bytes())
        .put("bad_traffic_bytes", &3u64.to_be_bytes())
        .put("bad_traffic_pkt_count", &4u64.to_be_bytes());
    let s = decode_localsid_stats_details(&st.body).unwrap();
    assert_eq!(
        (s.good_bytes, s.good_packets, s.bad_bytes, s.bad_packets),
        (1, 2, 3, 4)
    );
    assert_eq!(s.sid.behavior, SrBehavior::End);
    assert_eq!(s.sid.nh_addr, None);

    let lists = [
        (1u32, vec![ip6("fc00:0:2::1")]),
        (5, vec![ip6("fc00:0:5::1"), ip6("fc00:0:6::1")]),
    ];
    let (head, elem) = api.size("sr_policies_v2_details");
    let mut bld = Builder::new(&api, "sr_policies_v2_details", 2 * elem)
        .put("bsid", &ip6("fc00:0:1::100").octets())
        .put("encap_src", &ip6("fc00:0:ffff::1").octets())
        .put("type", &[1])
        .put("is_encap", &[1])
        .put("fib_table", &7u32.to_be_bytes())
        .put("num_sid_lists", &[2]);
    for (i, (w, s)) in lists.iter().enumerate() {
        bld = bld.put_at(head + i * elem, &sid_list_bytes(*w, s, None));
    }
    let p = decode_policies_v2_details(&bld.body).unwrap();
    assert_eq!(p.bsid, ip6("fc00:0:1::100"));
    assert_eq!(p.encap_src, Some(ip6("fc00:0:ffff::1")));
    assert_eq!(
        (p.policy_type, p.is_encap, p.fib_table),
        (PolicyType::Spray, true, 7)
    );
    let got: Vec<_> = p
        .sid_lists
        .iter()
        .map(|l| (l.weight, l.sids.clone()))
        .collect();
    assert_eq!(got, lists.to_vec());
    // num_sid_lists promising more lists than the body holds.
    let mut bad = bld.body.clone();
    bad[api.field("sr_policies_v2_details", "num_sid_lists").0] = 3;
    assert!(decode_policies_v2_details(&bad).is_err());

    let (head, elem) = api.size("sr_policies_details");
    let b = Builder::new(&api, "sr_policies_details", elem)
        .put("bsid", &ip6("fc00:0:1::101").octets())
        .put("is_spray", &[0])
        .put("is_encap", &[1])
        .put("fib_table", &0u32.to_be_bytes())
        .put("num_sid_lists", &[1])
        .put_at(head, &sid_list_bytes(1, &lists[1].1, None));
    let p = decode_policies_details(&b.body).unwrap();
    assert_eq!(
        (p.bsid, p.encap_src, p.policy_type),
        (ip6("fc00:0:1::101"), None, PolicyType::Default)
    );
    assert_eq!(p.sid_lists[0].sids, lists[1].1);

    let (head, elem) = api.size("sr_policies_with_sl_index_details");
    let b = Builder::new(&api, "sr_policies_with_sl_index_details", 2 * elem)
        .put("bsid", &ip6("fc00:0:1::100").octets())
        .put("is_encap", &[1])
        .put("num_sid_lists", &[2])
        .put_at(head, &sid_list_bytes(1, &lists[0].1, Some(0)))
        .put_at(head + elem, &sid_list_bytes(5, &lists[1].1, Some(1)));
    let p = decode_policies_with_sl_index_details(&b.body).unwrap();
    let idx: Vec<_> = p
        .sid_lists
        .iter()
        .map(|l| (l.sl_index, l.sid_list.weight))
        .collect();
    assert_eq!(idx, vec![(0, 1), (1, 5)]);

    let mut prefix = vec![1u8];
    prefix.extend(ip6("2001:db8:1::").octets());
    prefix.push(48);
    let b = Builder::new(&api, "sr_steering_pol_details", 0)
        .put("traffic_type", &[6])
        .put("fib_table", &9u32.to_be_bytes())
        .put("prefix", &prefix)
        .put("sw_if_index", &0xb80d_0120u32.to_be_bytes())
        .put("bsid", &ip6("fc00:0:1::101").octets());
    let s = decode_steering_details(&b.body).unwrap();
    assert_eq!(s.bsid, ip6("fc00:0:1::101"));
    assert_eq!(s.table_id, 9);
    assert_eq!(
        s.traffic,
        SteerTraffic::L3("2001:db8:1::/48".parse().unwrap())
    );

    let b = Builder::new(&api, "ip_table_details", 0)
        .put("table.table_id", &10u32.to_be_bytes())
        .put("table.is_ip6", &[1])
        .put("table.name", b"ipv6-VRF:10");
    let t = decode_ip_table_details(&b.body).unwrap();
    assert_eq!(
        t,
        IpTable {
            table_id: 10,
            is_ip6: true,
            name: "ipv6-VRF:10".into()
        }
    );

    let b = Builder::new(&api, "control_ping_reply", 0)
        .put("retval", &0i32.to_be_bytes())
        .put("client_index", &0x1111_2222u32.to_be_bytes())
        .put("vpe_pid", &23656u32.to_be_bytes());
    assert_eq!(decode_control_ping_reply(&b.body).unwrap().vpe_pid, 23656);

    let b = Builder::new(&api, "show_version_reply", 0)
        .put("retval", &0i32.to_be_bytes())
        .put("program", b"vpe")
        .put("version", b"26.06-release")
        .put("build_date", b"2026-11-22")
        .put("build_directory", b"/src");
    let (rv, v) = decode_show_version_reply(&b.body).unwrap();
    assert_eq!(rv, 0);
    assert_eq!(
        (
            v.program.as_str(),
            v.version.as_str(),
            v.build_date.as_str(),
            v.build_directory.as_str()
        ),
        ("vpe", "26.06-release", "2026-11-22", "/src")
    );

    let b = Builder::new(&api, "sockclnt_delete_reply", 0).put("response", &1i32.to_be_bytes());
    assert_eq!(decode_sockclnt_delete_reply(&b.body).unwrap(), 1);

    for reply in [
        "sr_policy_add_reply",
        "sr_steering_add_del_reply",
        "ip_table_add_del_reply",
    ] {
        let b = Builder::new(&api, reply, 0).put("retval", &(-12i32).to_be_bytes());
        let def = REQUIRED.iter().find(|d| d.name == reply).unwrap();
        assert_eq!(decode_retval_reply(def, &b.body).unwrap(), -12);
    }
}
