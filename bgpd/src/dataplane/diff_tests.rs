use std::net::Ipv6Addr;

use super::*;
use crate::dataplane::state::{LocalBehavior, MAIN_TABLE, SegmentList};

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn policy(bsid: &str, sid: &str) -> Policy {
    Policy {
        bsid: a(bsid),
        segment_lists: vec![SegmentList {
            segments: vec![a(sid)],
            weight: 1,
        }],
    }
}

fn steer(prefix: &str, bsid: &str) -> Steering {
    Steering {
        table: MAIN_TABLE,
        prefix: prefix.parse().unwrap(),
        bsid: a(bsid),
    }
}

fn node() -> DataplaneState {
    let mut s = DataplaneState {
        encap_source: Some(a("fd00::1")),
        ..Default::default()
    };
    s.tables.insert((MAIN_TABLE, false));
    s.tables.insert((MAIN_TABLE, true));
    s.add_local_sid(LocalSid {
        sid: a("fc00:0:1:1::"),
        behavior: LocalBehavior::EndDt4,
        table: MAIN_TABLE,
    });
    s.add_policy(policy("fcff::1", "fc00:0:2:1::"));
    s.add_steering(steer("10.2.0.0/24", "fcff::1"));
    s.add_steering(steer("2001:db8:2::/64", "fcff::1"));
    s
}

fn kinds(c: &[Change]) -> Vec<&'static str> {
    c.iter().map(Change::kind).collect()
}

#[test]
fn from_empty_everything_is_added_in_dependency_order() {
    let want = node();
    let c = diff(&DataplaneState::default(), &want, DiffOptions::default());
    assert_eq!(
        kinds(&c),
        [
            "encap_source",
            "table_add",
            "table_add",
            "local_sid_add",
            "policy_add",
            "steering_set",
            "steering_set"
        ]
    );
    let mut have = DataplaneState::default();
    for x in &c {
        x.apply_to(&mut have);
    }
    assert_eq!(have, want);
    assert!(diff(&have, &want, DiffOptions::default()).is_empty());
}

#[test]
fn to_empty_steering_goes_before_its_policy_and_tables_stay() {
    let have = node();
    let c = diff(&have, &DataplaneState::default(), DiffOptions::default());
    assert_eq!(
        kinds(&c),
        [
            "steering_del",
            "steering_del",
            "policy_del",
            "local_sid_del"
        ]
    );
}

#[test]
fn keep_extra_adds_but_never_removes() {
    let mut have = node();
    have.add_steering(steer("10.9.0.0/24", "fcff::1"));
    let mut want = node();
    want.add_policy(policy("fcff::2", "fc00:0:3:1::"));
    want.add_steering(steer("10.3.0.0/24", "fcff::2"));
    want.steering
        .remove(&(MAIN_TABLE, "10.2.0.0/24".parse().unwrap()));
    let opts = DiffOptions {
        keep_extra: true,
        ..Default::default()
    };
    let c = diff(&have, &want, opts);
    assert_eq!(kinds(&c), ["policy_add", "steering_set"]);
    assert!(c.iter().all(|x| !x.removes()));
    let all = diff(&have, &want, DiffOptions::default());
    assert_eq!(all.iter().filter(|x| x.removes()).count(), 2);
}

#[test]
fn a_modified_policy_replaces_its_steering_only_for_inline_backends() {
    let have = node();
    let mut want = node();
    want.add_policy(Policy {
        bsid: a("fcff::1"),
        segment_lists: vec![
            SegmentList {
                segments: vec![a("fc00:0:2:1::")],
                weight: 1,
            },
            SegmentList {
                segments: vec![a("fc00:0:3:1::")],
                weight: 1,
            },
        ],
    });
    let vpp = diff(&have, &want, DiffOptions::default());
    assert_eq!(kinds(&vpp), ["policy_mod"]);
    let kernel = diff(
        &have,
        &want,
        DiffOptions {
            inline_policies: true,
            ..Default::default()
        },
    );
    assert_eq!(
        kinds(&kernel),
        ["policy_mod", "steering_set", "steering_set"]
    );
    for c in &kernel {
        if let Change::SetSteering { policy, old, .. } = c {
            assert_eq!(policy.segment_lists.len(), 2);
            assert!(old.is_some());
        }
    }
}

#[test]
fn a_changed_local_sid_is_removed_then_added() {
    let have = node();
    let mut want = node();
    want.add_local_sid(LocalSid {
        sid: a("fc00:0:1:1::"),
        behavior: LocalBehavior::EndDt6,
        table: MAIN_TABLE,
    });
    let c = diff(&have, &want, DiffOptions::default());
    assert_eq!(kinds(&c), ["local_sid_del", "local_sid_add"]);
}

#[test]
fn steering_into_a_missing_policy_is_not_programmed() {
    let mut want = node();
    want.add_steering(steer("10.7.0.0/24", "fcff::99"));
    let c = diff(&node(), &want, DiffOptions::default());
    assert!(c.is_empty(), "{c:?}");
}
