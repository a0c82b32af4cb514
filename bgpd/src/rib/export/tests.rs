use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::packet::FamilySet;
use crate::packet::attribute::as_path::AS_SET;

fn peer(id: u32, asn: u32, rr_client: bool) -> PeerInfo {
    PeerInfo {
        id,
        address: IpAddr::V6(format!("fd00::{id}").parse().unwrap()),
        local_as: 65000,
        remote_as: asn,
        bgp_id: Ipv4Addr::new(10, 0, 0, id as u8),
        rr_client,
        families: FamilySet::all_supported(),
        add_path_tx: FamilySet::new(),
        extended_nexthop: [Family::IPV4_UNICAST, Family::IPV4_VPN]
            .into_iter()
            .collect(),
        local_address: Some("fd00::100".parse().unwrap()),
        llgr: false,
    }
}

fn settings() -> RibSettings {
    RibSettings {
        local_as: 65000,
        router_id: Ipv4Addr::new(1, 1, 1, 1),
        cluster_id: Ipv4Addr::new(1, 1, 1, 1),
        decision: Default::default(),
    }
}

fn attrs(extra: Vec<PathAttribute>) -> PathAttrs {
    let mut v = vec![
        PathAttribute::new(AttrValue::Origin(0)),
        PathAttribute::new(AttrValue::AsPath(AsPath::sequence(vec![65001]))),
        PathAttribute::new(AttrValue::Med(5)),
    ];
    v.extend(extra);
    PathAttrs::new(
        v,
        Some(NextHop {
            global: "fd00::7".parse().unwrap(),
            link_local: Some("fe80::7".parse().unwrap()),
        }),
    )
}

#[test]
fn ibgp_split_horizon_and_route_reflection() {
    let a = attrs(vec![]);
    let (client1, client2, nonclient) = (
        peer(1, 65000, true),
        peer(2, 65000, true),
        peer(3, 65000, false),
    );
    let ebgp = peer(4, 65001, false);
    // client -> client and non-client
    assert!(may_advertise(Source::Peer(&client1), &client2, &a));
    assert!(may_advertise(Source::Peer(&client1), &nonclient, &a));
    // non-client -> clients only
    assert!(may_advertise(Source::Peer(&nonclient), &client1, &a));
    assert!(!may_advertise(
        Source::Peer(&nonclient),
        &peer(5, 65000, false),
        &a
    ));
    // never back to the sender
    assert!(!may_advertise(Source::Peer(&client1), &client1, &a));
    // eBGP-learned goes everywhere, local too
    assert!(may_advertise(Source::Peer(&ebgp), &nonclient, &a));
    assert!(may_advertise(Source::Local, &ebgp, &a));
    // never back to the originator (RFC 4456 §8)
    let with_orig = a.with(
        attr_type::ORIGINATOR_ID,
        Some(PathAttribute::new(AttrValue::OriginatorId(client2.bgp_id))),
    );
    assert!(!may_advertise(Source::Peer(&client1), &client2, &with_orig));
}

#[test]
fn reflection_adds_originator_and_cluster_list_and_keeps_the_rest() {
    let unknown = PathAttribute {
        flags: 0xc0,
        value: AttrValue::Unknown {
            code: 99,
            value: vec![1, 2, 3],
        },
    };
    let a = attrs(vec![unknown.clone()]);
    let (c1, c2) = (peer(1, 65000, true), peer(2, 65000, true));
    let out = export_attrs(
        &settings(),
        Family::IPV6_UNICAST,
        Source::Peer(&c1),
        &c2,
        &a,
        ExportMarks::default(),
    )
    .unwrap();
    assert_eq!(out.decision.originator_id, Some(c1.bgp_id));
    assert!(matches!(&out.get(attr_type::CLUSTER_LIST).unwrap().value,
        AttrValue::ClusterList(c) if c == &vec![Ipv4Addr::new(1, 1, 1, 1)]));
    assert_eq!(out.decision.local_pref, Some(100));
    assert_eq!(out.decision.med, Some(5));
    // next hop unchanged, link-local dropped
    assert_eq!(
        out.next_hop.unwrap().global,
        "fd00::7".parse::<IpAddr>().unwrap()
    );
    assert_eq!(out.next_hop.unwrap().link_local, None);
    // the unknown transitive attribute is passed on with the Partial bit
    assert_eq!(out.get(99).unwrap().flags, 0xe0);
    // codes stay in order
    let codes: Vec<u8> = out.attrs.iter().map(|a| a.type_code()).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(codes, sorted);
    // a second reflection prepends to the cluster list and keeps the ORIGINATOR_ID
    let again = export_attrs(
        &settings(),
        Family::IPV6_UNICAST,
        Source::Peer(&c2),
        &c1,
        &out,
        ExportMarks::default(),
    );
    let again = again.unwrap();
    assert_eq!(again.decision.originator_id, Some(c1.bgp_id));
    assert_eq!(again.decision.cluster_list_len, 2);
}

#[test]
fn ebgp_export_prepends_and_strips() {
    let a = attrs(vec![
        PathAttribute::new(AttrValue::LocalPref(300)),
        PathAttribute::new(AttrValue::OriginatorId(Ipv4Addr::new(9, 9, 9, 9))),
        PathAttribute {
            flags: 0x80,
            value: AttrValue::Unknown {
                code: 98,
                value: vec![],
            },
        },
    ]);
    let from = peer(1, 65000, false);
    let to = peer(2, 65002, false);
    let out = export_attrs(
        &settings(),
        Family::IPV6_UNICAST,
        Source::Peer(&from),
        &to,
        &a,
        ExportMarks::default(),
    )
    .unwrap();
    assert_eq!(out.as_path().unwrap().to_string(), "65000 65001");
    assert!(!out.has(attr_type::LOCAL_PREF));
    assert!(!out.has(attr_type::ORIGINATOR_ID));
    assert!(!out.has(attr_type::MULTI_EXIT_DISC));
    assert!(
        !out.has(98),
        "optional non-transitive unknown attributes are not passed on"
    );
    assert_eq!(
        out.next_hop.unwrap().global,
        "fd00::100".parse::<IpAddr>().unwrap()
    );
}

#[test]
fn prepend_handles_sets_and_empty_paths() {
    assert_eq!(prepend(None, 1).to_string(), "1");
    let set = AsPath {
        segments: vec![AsSegment {
            kind: AS_SET,
            asns: vec![2, 3],
        }],
    };
    assert_eq!(prepend(Some(&set), 1).to_string(), "1 {2,3}");
}

#[test]
fn ipv4_over_ipv6_needs_extended_next_hop() {
    let a = attrs(vec![]);
    let mut to = peer(2, 65002, false);
    assert!(
        export_attrs(
            &settings(),
            Family::IPV4_UNICAST,
            Source::Local,
            &to,
            &a,
            ExportMarks::default()
        )
        .is_some()
    );
    to.extended_nexthop = FamilySet::new();
    assert!(
        export_attrs(
            &settings(),
            Family::IPV4_UNICAST,
            Source::Local,
            &to,
            &a,
            ExportMarks::default()
        )
        .is_none()
    );
}

#[test]
fn well_known_communities() {
    use crate::packet::attribute::community::{NO_ADVERTISE, NO_EXPORT};
    let ne = attrs(vec![PathAttribute::new(AttrValue::Communities(vec![
        NO_EXPORT,
    ]))]);
    assert!(!may_advertise(Source::Local, &peer(2, 65002, false), &ne));
    assert!(!may_advertise(
        Source::Peer(&peer(1, 65001, false)),
        &peer(2, 65002, false),
        &ne
    ));
    assert!(may_advertise(
        Source::Peer(&peer(1, 65001, false)),
        &peer(3, 65000, false),
        &ne
    ));
    let na = attrs(vec![PathAttribute::new(AttrValue::Communities(vec![
        NO_ADVERTISE,
    ]))]);
    assert!(!may_advertise(
        Source::Peer(&peer(1, 65001, false)),
        &peer(3, 65000, false),
        &na
    ));
}

#[test]
fn policy_marks_keep_the_next_hop_and_the_med_toward_ebgp() {
    let a = attrs(vec![]);
    let from = peer(1, 65001, false);
    let to = peer(2, 65002, false);
    let marks = ExportMarks {
        keep_next_hop: true,
        keep_med: true,
    };
    let out = export_attrs(
        &settings(),
        Family::IPV6_UNICAST,
        Source::Peer(&from),
        &to,
        &a,
        marks,
    )
    .unwrap();
    assert_eq!(
        out.next_hop.unwrap().global,
        "fd00::7".parse::<IpAddr>().unwrap()
    );
    assert_eq!(out.decision.med, Some(5));
}
