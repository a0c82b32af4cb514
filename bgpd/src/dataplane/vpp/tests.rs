use std::net::Ipv6Addr;

use vpp_client as vc;

use super::map::*;
use crate::dataplane::{LocalBehavior, LocalSid, MAIN_TABLE, Policy, SegmentList, Steering};

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn policy(lists: Vec<Vec<Ipv6Addr>>) -> Policy {
    Policy {
        bsid: a("fcff::1"),
        segment_lists: lists
            .into_iter()
            .map(|segments| SegmentList {
                segments,
                weight: 1,
            })
            .collect(),
    }
}

#[test]
fn the_main_table_is_vpp_table_0_and_back() {
    assert_eq!(to_vpp_table(MAIN_TABLE), 0);
    assert_eq!(from_vpp_table(0), MAIN_TABLE);
    assert_eq!(to_vpp_table(10), 10);
    assert_eq!(from_vpp_table(10), 10);
}

#[test]
fn dt4_and_dt6_use_vpp_api_values_not_iana_codepoints() {
    let dt4 = LocalSid {
        sid: a("fc00:0:1:1::"),
        behavior: LocalBehavior::EndDt4,
        table: 10,
    };
    let v = local_sid_to_vpp(&dt4).unwrap();
    assert_eq!(v.behavior.to_u8(), 9, "VPP's DT4 is 9 (IANA: 19)");
    assert_eq!(v.iface_or_table, 10, "the lookup table goes in sw_if_index");
    assert_eq!(v.fib_table, 0, "the SID itself lives in table 0");
    assert_eq!(local_sid_from_vpp(&v), Some(dt4));

    let dt6 = LocalSid {
        behavior: LocalBehavior::EndDt6,
        table: MAIN_TABLE,
        ..dt4
    };
    let v = local_sid_to_vpp(&dt6).unwrap();
    assert_eq!((v.behavior.to_u8(), v.iface_or_table), (8, 0));
    assert_eq!(local_sid_from_vpp(&v), Some(dt6));
}

#[test]
fn dt46_is_refused_with_a_clear_error() {
    let s = LocalSid {
        sid: a("fc00:0:1:1::"),
        behavior: LocalBehavior::EndDt46,
        table: 10,
    };
    let e = local_sid_to_vpp(&s).unwrap_err().to_string();
    assert!(e.contains("End.DT46") && e.contains("dt4-dt6"), "{e}");
}

#[test]
fn other_vpp_local_sids_are_not_sidras() {
    let end = vc::LocalSid::end(a("fc00:0:1:1::5"));
    assert_eq!(local_sid_from_vpp(&end), None);
    let mut dt6 = vc::LocalSid::end_dt6(a("fc00:0:1:1::6"), 0);
    dt6.fib_table = 7;
    assert_eq!(local_sid_from_vpp(&dt6), None, "installed in another table");
}

#[test]
fn odd_segment_lists_are_errors_not_panics() {
    assert!(sid_lists(&policy(vec![])).is_err(), "no list");
    assert!(sid_lists(&policy(vec![vec![]])).is_err(), "an empty list");
    let seventeen = (0..17u16)
        .map(|i| Ipv6Addr::new(0xfc00, 0, 2, 1, 0, 0, 0, i))
        .collect();
    let e = sid_lists(&policy(vec![seventeen])).unwrap_err().to_string();
    assert!(e.contains("1 to 16") && e.contains("fcff::1"), "{e}");
    let ok = sid_lists(&policy(vec![vec![a("fc00:0:2:1::")]])).unwrap();
    assert_eq!(ok[0].weight, 1);
}

#[test]
fn dumped_lists_are_sorted_and_l2_steering_ignored() {
    let p = vc::SrPolicy {
        bsid: a("fcff::1"),
        policy_type: vc::PolicyType::Default,
        is_encap: true,
        fib_table: 0,
        encap_src: None,
        sid_lists: vec![
            vc::SidList::new(vec![a("fc00:0:3::")]),
            vc::SidList::new(vec![a("fc00:0:2::")]),
        ],
    };
    let got = policy_from_vpp(&p);
    assert_eq!(
        got,
        policy(vec![vec![a("fc00:0:2::")], vec![a("fc00:0:3::")]])
    );

    let l2 = vc::Steering {
        bsid: a("fcff::1"),
        table_id: 0,
        traffic: vc::SteerTraffic::L2 { sw_if_index: 3 },
    };
    assert_eq!(steering_from_vpp(&l2), None);
    let s = Steering {
        table: MAIN_TABLE,
        prefix: "10.2.0.0/24".parse().unwrap(),
        bsid: a("fcff::1"),
    };
    let v = steering_to_vpp(&s);
    assert_eq!(v.table_id, 0);
    assert_eq!(steering_from_vpp(&v), Some(s));
}

#[test]
fn vpp_errors_name_the_object_and_the_meaning() {
    let e = vc::Error::Vpp(vc::VppError::new("sr_localsid_add_del", -3));
    let d = error("adding local SID fc00::1", &e).to_string();
    assert!(
        d.contains("fc00::1") && d.contains("table does not exist") && d.contains("-3"),
        "{d}"
    );
    assert!(is_not_found(&vc::Error::Vpp(vc::VppError::new(
        "sr_steering_add_del",
        -4
    ))));
    assert!(is_already_exists(&vc::Error::Vpp(vc::VppError::new(
        "sr_localsid_add_del",
        -1
    ))));
}
