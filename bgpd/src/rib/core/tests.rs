use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::packet::attribute::{
    AsPath, AttrValue, MpNlri, MpReach, MpUnreach, PathAttribute, attr_type,
};
use crate::rib::PeerPolicy;
use crate::rib::outbox::OutItem;

fn settings() -> RibSettings {
    RibSettings {
        local_as: 65000,
        router_id: Ipv4Addr::new(1, 1, 1, 1),
        cluster_id: Ipv4Addr::new(1, 1, 1, 1),
        decision: Default::default(),
    }
}

fn peer(id: PeerId, asn: u32, rr_client: bool) -> PeerInfo {
    PeerInfo {
        id,
        address: IpAddr::V6(format!("fd00::{id}").parse().unwrap()),
        local_as: 65000,
        remote_as: asn,
        bgp_id: Ipv4Addr::new(10, 0, 0, id as u8),
        rr_client,
        families: FamilySet::all_supported(),
        add_path_tx: FamilySet::new(),
        extended_nexthop: [Family::IPV4_UNICAST].into_iter().collect(),
        local_address: Some(format!("fd00::10{id}").parse().unwrap()),
        llgr: false,
    }
}

/// An IPv6 unicast UPDATE announcing `prefixes` from a peer with next hop fd00::N.
fn announce(prefixes: &[&str], nh: &str, extra: Vec<PathAttribute>) -> UpdateMessage {
    let nlri = prefixes
        .iter()
        .map(|p| Nlri::new(p.parse().unwrap()))
        .collect();
    let mut attributes = vec![
        PathAttribute::new(AttrValue::MpReach(Box::new(MpReach {
            family: Family::IPV6_UNICAST,
            next_hop: nh.parse::<std::net::Ipv6Addr>().unwrap().octets().to_vec(),
            reserved: 0,
            nlri: MpNlri::Prefixes(nlri),
        }))),
        PathAttribute::new(AttrValue::Origin(0)),
        PathAttribute::new(AttrValue::AsPath(AsPath::default())),
    ];
    attributes.extend(extra);
    UpdateMessage {
        attributes,
        ..Default::default()
    }
}

fn withdraw(prefixes: &[&str]) -> UpdateMessage {
    let nlri = prefixes
        .iter()
        .map(|p| Nlri::new(p.parse().unwrap()))
        .collect();
    UpdateMessage {
        attributes: vec![PathAttribute::new(AttrValue::MpUnreach(Box::new(
            MpUnreach {
                family: Family::IPV6_UNICAST,
                nlri: MpNlri::Prefixes(nlri),
            },
        )))],
        ..Default::default()
    }
}

fn routes(o: &Outbox) -> Vec<(String, bool)> {
    o.take(1000)
        .into_iter()
        .filter_map(|i| match i {
            OutItem::Route(k, s) => Some((k.prefix.to_string(), s.is_some())),
            OutItem::EndOfRib(_) | OutItem::RefreshMarker(..) => None,
        })
        .collect()
}

fn key(p: &str) -> RouteKey {
    RouteKey {
        prefix: p.parse().unwrap(),
        rd: None,
    }
}

#[test]
fn a_reflector_passes_client_routes_to_other_clients_with_rr_attributes() {
    let mut rib = Rib::new(settings());
    let (o1, o2, o3) = (Outbox::new(), Outbox::new(), Outbox::new());
    rib.peer_up(peer(1, 65000, true), o1.clone(), PeerPolicy::default());
    rib.peer_up(peer(2, 65000, true), o2.clone(), PeerPolicy::default());
    rib.peer_up(peer(3, 65000, false), o3.clone(), PeerPolicy::default());
    for o in [&o1, &o2, &o3] {
        let eors = o.take(100);
        assert_eq!(eors.len(), 4, "one End-of-RIB per family");
    }
    rib.update(1, &announce(&["2001:db8:1::/48"], "fd00::1", vec![]));
    assert!(routes(&o1).is_empty(), "never back to the sender");
    assert_eq!(routes(&o2), vec![("2001:db8:1::/48".to_string(), true)]);
    assert_eq!(routes(&o3), vec![("2001:db8:1::/48".to_string(), true)]);
    let e = rib
        .entry(Family::IPV6_UNICAST, &key("2001:db8:1::/48"))
        .unwrap();
    assert_eq!(e.best_path().unwrap().peer, 1);
    assert_eq!(rib.advertised(2), 1);
    // A non-client's route goes to clients only.
    rib.update(3, &announce(&["2001:db8:3::/48"], "fd00::3", vec![]));
    assert_eq!(routes(&o1).len(), 1);
    assert_eq!(routes(&o2).len(), 1);
    assert!(routes(&o3).is_empty());
    // Withdraw goes out too.
    rib.update(1, &withdraw(&["2001:db8:1::/48"]));
    assert_eq!(routes(&o2), vec![("2001:db8:1::/48".to_string(), false)]);
    assert!(
        rib.entry(Family::IPV6_UNICAST, &key("2001:db8:1::/48"))
            .is_none()
    );
}

#[test]
fn routes_looping_back_to_us_are_not_used() {
    let mut rib = Rib::new(settings());
    let o = Outbox::new();
    rib.peer_up(peer(1, 65000, true), Outbox::new(), PeerPolicy::default());
    rib.peer_up(peer(2, 65000, true), o.clone(), PeerPolicy::default());
    o.take(100);
    let ours = PathAttribute::new(AttrValue::OriginatorId(Ipv4Addr::new(1, 1, 1, 1)));
    rib.update(1, &announce(&["2001:db8:9::/48"], "fd00::1", vec![ours]));
    let cluster = PathAttribute::new(AttrValue::ClusterList(vec![Ipv4Addr::new(1, 1, 1, 1)]));
    rib.update(1, &announce(&["2001:db8:8::/48"], "fd00::1", vec![cluster]));
    assert!(routes(&o).is_empty());
    assert_eq!(rib.stats.rejected, 2);
    // eBGP AS loop
    rib.peer_up(peer(4, 65004, false), Outbox::new(), PeerPolicy::default());
    let looped = PathAttribute::new(AttrValue::AsPath(AsPath::sequence(vec![65004, 65000])));
    let mut u = announce(&["2001:db8:7::/48"], "fd00::4", vec![]);
    u.attributes[2] = looped;
    rib.update(4, &u);
    assert!(
        rib.entry(Family::IPV6_UNICAST, &key("2001:db8:7::/48"))
            .is_none()
    );
}

#[test]
fn best_path_changes_and_falls_back_when_a_peer_goes_down() {
    let mut rib = Rib::new(settings());
    let o = Outbox::new();
    rib.peer_up(peer(1, 65000, true), Outbox::new(), PeerPolicy::default());
    rib.peer_up(peer(2, 65000, true), Outbox::new(), PeerPolicy::default());
    rib.peer_up(peer(3, 65000, true), o.clone(), PeerPolicy::default());
    o.take(100);
    let lp = |v| PathAttribute::new(AttrValue::LocalPref(v));
    rib.update(1, &announce(&["2001:db8:5::/48"], "fd00::1", vec![lp(100)]));
    rib.update(2, &announce(&["2001:db8:5::/48"], "fd00::2", vec![lp(200)]));
    let best = |rib: &Rib| {
        rib.entry(Family::IPV6_UNICAST, &key("2001:db8:5::/48"))
            .and_then(|e| e.best_path())
            .map(|p| p.peer)
    };
    assert_eq!(best(&rib), Some(2));
    rib.peer_down(2);
    assert_eq!(best(&rib), Some(1));
    // o saw the route announced (coalesced to the latest state)
    let r = routes(&o);
    assert_eq!(r, vec![("2001:db8:5::/48".to_string(), true)]);
    rib.peer_down(1);
    assert_eq!(best(&rib), None);
    assert_eq!(routes(&o), vec![("2001:db8:5::/48".to_string(), false)]);
    assert_eq!(rib.attribute_sets(), 0, "unused attribute sets are dropped");
}

#[test]
fn local_routes_go_to_everyone_with_next_hop_self_and_a_new_peer_gets_the_table() {
    let mut rib = Rib::new(settings());
    let net: ipnet::IpNet = "10.9.0.0/24".parse().unwrap();
    let attrs = PathAttrs::new(
        vec![
            PathAttribute::new(AttrValue::Origin(0)),
            PathAttribute::new(AttrValue::AsPath(AsPath::default())),
        ],
        None,
    );
    rib.originate(Family::IPV4_UNICAST, &Nlri::new(net), attrs);
    let o = Outbox::new();
    rib.peer_up(peer(4, 65004, false), o.clone(), PeerPolicy::default());
    let items = o.take(100);
    let (k, state) = items
        .iter()
        .find_map(|i| match i {
            OutItem::Route(k, Some(s)) => Some((k, s)),
            _ => None,
        })
        .unwrap();
    assert_eq!(k.prefix, net);
    let sent = &state.1;
    assert_eq!(
        sent.next_hop.unwrap().global,
        "fd00::104".parse::<IpAddr>().unwrap()
    );
    assert_eq!(sent.as_path().unwrap().to_string(), "65000");
    assert!(!sent.has(attr_type::LOCAL_PREF));
    // End-of-RIB comes after the routes.
    assert!(matches!(items.last(), Some(OutItem::EndOfRib(_))));
    rib.withdraw_local(Family::IPV4_UNICAST, &Nlri::new(net));
    assert_eq!(routes(&o), vec![(net.to_string(), false)]);
}

#[test]
fn unchanged_best_paths_are_not_resent() {
    let mut rib = Rib::new(settings());
    let o = Outbox::new();
    rib.peer_up(peer(1, 65000, true), Outbox::new(), PeerPolicy::default());
    rib.peer_up(peer(2, 65000, true), o.clone(), PeerPolicy::default());
    o.take(100);
    let u = announce(&["2001:db8:1::/48", "2001:db8:2::/48"], "fd00::1", vec![]);
    rib.update(1, &u);
    assert_eq!(routes(&o).len(), 2);
    rib.update(1, &u);
    assert!(
        routes(&o).is_empty(),
        "an identical re-announcement changes nothing"
    );
    assert_eq!(
        rib.attribute_sets(),
        2,
        "one received set and one exported set"
    );
}

#[test]
fn graceful_restart_keeps_stale_paths_until_end_of_rib_and_sweeps_the_rest() {
    let mut rib = Rib::new(settings());
    let o = Outbox::new();
    rib.peer_up(peer(1, 65000, true), Outbox::new(), PeerPolicy::default());
    rib.peer_up(peer(2, 65000, true), o.clone(), PeerPolicy::default());
    o.take(100);
    rib.update(
        1,
        &announce(&["2001:db8:1::/48", "2001:db8:2::/48"], "fd00::1", vec![]),
    );
    assert_eq!(routes(&o).len(), 2);
    // The peer restarts: its IPv6 paths stay (stale) and peer 2 sees no withdrawal.
    rib.peer_down_graceful(1, &[Family::IPV6_UNICAST].into_iter().collect());
    assert!(routes(&o).is_empty());
    assert_eq!(rib.stale_paths(1), 2);
    assert!(
        rib.entry(Family::IPV6_UNICAST, &key("2001:db8:1::/48"))
            .unwrap()
            .best_path()
            .unwrap()
            .stale
    );
    // It comes back and re-announces one route: that one is fresh again.
    rib.peer_up(peer(1, 65000, true), Outbox::new(), PeerPolicy::default());
    rib.update(1, &announce(&["2001:db8:1::/48"], "fd00::1", vec![]));
    assert_eq!(rib.stale_paths(1), 1);
    assert!(routes(&o).is_empty(), "same attributes: nothing to send");
    // End-of-RIB: the route it did not re-announce is swept.
    rib.sweep_stale(1, Some(Family::IPV6_UNICAST));
    assert_eq!(rib.stale_paths(1), 0);
    assert_eq!(routes(&o), vec![("2001:db8:2::/48".to_string(), false)]);
}

#[test]
fn a_restart_that_never_comes_back_is_swept_by_the_timer() {
    let mut rib = Rib::new(settings());
    let o = Outbox::new();
    rib.peer_up(peer(1, 65000, true), Outbox::new(), PeerPolicy::default());
    rib.peer_up(peer(2, 65000, true), o.clone(), PeerPolicy::default());
    o.take(100);
    rib.update(1, &announce(&["2001:db8:1::/48"], "fd00::1", vec![]));
    routes(&o);
    rib.peer_down_graceful(1, &FamilySet::all_supported());
    assert!(
        rib.peer_info(1).is_some(),
        "a stale peer's info stays for the decision process"
    );
    rib.sweep_stale(1, None);
    assert_eq!(routes(&o), vec![("2001:db8:1::/48".to_string(), false)]);
    assert!(rib.peer_info(1).is_none());
    // Families not in the GR capability go at once.
    rib.peer_up(peer(1, 65000, true), Outbox::new(), PeerPolicy::default());
    rib.update(1, &announce(&["2001:db8:1::/48"], "fd00::1", vec![]));
    routes(&o);
    rib.peer_down_graceful(1, &[Family::IPV4_UNICAST].into_iter().collect());
    assert_eq!(routes(&o), vec![("2001:db8:1::/48".to_string(), false)]);
}

#[test]
fn route_refresh_resends_the_family_between_markers() {
    let mut rib = Rib::new(settings());
    let o = Outbox::new();
    rib.peer_up(peer(1, 65000, true), Outbox::new(), PeerPolicy::default());
    rib.peer_up(peer(2, 65000, true), o.clone(), PeerPolicy::default());
    o.take(100);
    rib.update(
        1,
        &announce(&["2001:db8:1::/48", "2001:db8:2::/48"], "fd00::1", vec![]),
    );
    assert_eq!(routes(&o).len(), 2);
    rib.refresh(2, Family::IPV6_UNICAST, true);
    let items = o.take(100);
    assert!(matches!(
        items.first(),
        Some(OutItem::RefreshMarker(Family::IPV6_UNICAST, true))
    ));
    assert!(matches!(
        items.last(),
        Some(OutItem::RefreshMarker(Family::IPV6_UNICAST, false))
    ));
    assert_eq!(
        items
            .iter()
            .filter(|i| matches!(i, OutItem::Route(_, Some(_))))
            .count(),
        2
    );
    rib.refresh(2, Family::IPV4_UNICAST, false);
    assert!(o.take(100).is_empty(), "nothing advertised in that family");
}

#[test]
fn import_and_export_policies_and_rfc8212() {
    use crate::policy::{Policy, Set, Statement, StatementAction};
    let mut rib = Rib::new(settings());
    let (o_ebgp, o_ibgp) = (Outbox::new(), Outbox::new());
    // An import policy that sets local-pref 300 on 2001:db8:1::/48-like routes from peer 1.
    let import = Policy::new(
        "lp",
        vec![Statement {
            set: Set {
                local_pref: Some(300),
                ..Default::default()
            },
            action: StatementAction::Accept,
            ..Default::default()
        }],
    );
    let p1 = PeerPolicy {
        import: Some(Arc::new(import)),
        ..Default::default()
    };
    rib.peer_up(peer(1, 65000, true), Outbox::new(), p1);
    // eBGP peer without a policy under RFC 8212: gets nothing.
    let strict = PeerPolicy {
        ebgp_requires_policy: true,
        ..Default::default()
    };
    rib.peer_up(peer(4, 65004, false), o_ebgp.clone(), strict);
    rib.peer_up(peer(2, 65000, true), o_ibgp.clone(), PeerPolicy::default());
    o_ebgp.take(100);
    o_ibgp.take(100);
    rib.update(1, &announce(&["2001:db8:1::/48"], "fd00::1", vec![]));
    let best = rib
        .entry(Family::IPV6_UNICAST, &key("2001:db8:1::/48"))
        .unwrap()
        .best_path()
        .unwrap()
        .clone();
    assert_eq!(best.attrs.decision.local_pref, Some(300));
    assert!(
        routes(&o_ebgp).is_empty(),
        "RFC 8212: no export policy, nothing to an eBGP peer"
    );
    assert_eq!(routes(&o_ibgp).len(), 1);
    // Routes from an eBGP peer without an import policy are not used either.
    rib.update(4, &announce(&["2001:db8:4::/48"], "fd00::4", vec![]));
    assert!(
        rib.entry(Family::IPV6_UNICAST, &key("2001:db8:4::/48"))
            .is_none()
    );
    assert_eq!(rib.stats.rejected_by_policy, 1);
    // Giving the eBGP peer an accept-all export policy sends it the route.
    let open = PeerPolicy {
        export: Some(Arc::new(Policy::accept_all())),
        ebgp_requires_policy: true,
        ..Default::default()
    };
    rib.set_policy(4, open);
    assert_eq!(routes(&o_ebgp), vec![("2001:db8:1::/48".to_string(), true)]);
}

#[test]
fn max_prefixes_teardown_signals_the_session() {
    use crate::config::MaxPrefixesAction;
    let mut rib = Rib::new(settings());
    let o = Outbox::new();
    let limited = PeerPolicy {
        max_prefixes: Some((1, MaxPrefixesAction::Teardown)),
        ..Default::default()
    };
    rib.peer_up(peer(1, 65000, true), o.clone(), limited);
    rib.update(1, &announce(&["2001:db8:1::/48"], "fd00::1", vec![]));
    assert_eq!(o.take_limit(), None);
    rib.update(1, &announce(&["2001:db8:2::/48"], "fd00::1", vec![]));
    assert_eq!(o.take_limit(), Some((Family::IPV6_UNICAST, 1)));
    assert_eq!(rib.accepted(1), vec![(Family::IPV6_UNICAST, 2)]);
}

#[test]
fn soft_reconfiguration_reapplies_a_changed_import_policy() {
    use crate::policy::Policy;
    let mut rib = Rib::new(settings());
    let soft = PeerPolicy {
        soft_reconfiguration_inbound: true,
        import: Some(Arc::new(Policy::reject_all())),
        ..Default::default()
    };
    rib.peer_up(peer(1, 65000, true), Outbox::new(), soft.clone());
    rib.update(1, &announce(&["2001:db8:1::/48"], "fd00::1", vec![]));
    assert!(
        rib.entry(Family::IPV6_UNICAST, &key("2001:db8:1::/48"))
            .is_none()
    );
    let open = PeerPolicy {
        import: None,
        ..soft
    };
    assert!(rib.set_policy(1, open), "routes as received were kept");
    assert!(
        rib.entry(Family::IPV6_UNICAST, &key("2001:db8:1::/48"))
            .is_some()
    );
}

#[test]
fn a_restarting_speaker_defers_advertising_until_end_of_rib() {
    let mut rib = Rib::new(settings());
    rib.defer_selection([1, 2]);
    let (o1, o2) = (Outbox::new(), Outbox::new());
    rib.peer_up(peer(1, 65000, true), o1.clone(), PeerPolicy::default());
    rib.peer_up(peer(2, 65000, true), o2.clone(), PeerPolicy::default());
    rib.expect_end_of_rib(1, true);
    rib.expect_end_of_rib(2, true);
    rib.update(1, &announce(&["2001:db8:1::/48"], "fd00::1", vec![]));
    assert!(
        o2.take(100).is_empty(),
        "nothing, not even End-of-RIB, while deferring"
    );
    for f in FamilySet::all_supported().iter() {
        rib.end_of_rib(1, f);
    }
    assert!(rib.is_deferring(), "peer 2 has not sent its End-of-RIB yet");
    // Peer 2 restarts itself (Restart State bit): not waited for.
    rib.expect_end_of_rib(2, false);
    assert!(!rib.is_deferring());
    let items = o2.take(100);
    assert!(items.iter().any(
        |i| matches!(i, OutItem::Route(k, Some(_)) if k.prefix.to_string() == "2001:db8:1::/48")
    ));
    assert_eq!(
        items
            .iter()
            .filter(|i| matches!(i, OutItem::EndOfRib(_)))
            .count(),
        4
    );
    // The timer ends a deferral too.
    let mut rib = Rib::new(settings());
    rib.defer_selection([7]);
    rib.end_deferral();
    assert!(!rib.is_deferring());
}

#[test]
fn received_counts_include_routes_the_policy_rejected() {
    use crate::policy::Policy;
    let mut rib = Rib::new(settings());
    let o = Outbox::new();
    let reject = PeerPolicy {
        import: Some(Arc::new(Policy::reject_all())),
        ..Default::default()
    };
    rib.peer_up(peer(1, 65000, true), o.clone(), reject);
    rib.update(
        1,
        &announce(&["2001:db8:1::/48", "2001:db8:2::/48"], "fd00::1", vec![]),
    );
    assert_eq!(rib.accepted(1), vec![]);
    assert_eq!(rib.received(1), vec![(Family::IPV6_UNICAST, 2)]);
    assert_eq!(o.received(), vec![(Family::IPV6_UNICAST, 2)]);
    rib.update(1, &withdraw(&["2001:db8:1::/48"]));
    assert_eq!(rib.received(1), vec![(Family::IPV6_UNICAST, 1)]);
}

#[test]
fn add_path_peers_get_every_path_with_its_own_id() {
    let mut rib = Rib::new(settings());
    let o = Outbox::new();
    rib.peer_up(peer(1, 65000, true), Outbox::new(), PeerPolicy::default());
    rib.peer_up(peer(2, 65000, true), Outbox::new(), PeerPolicy::default());
    let mut ap = peer(3, 65000, true);
    ap.add_path_tx = [Family::IPV6_UNICAST].into_iter().collect();
    rib.peer_up(ap, o.clone(), PeerPolicy::default());
    o.take(100);
    rib.update(1, &announce(&["2001:db8:5::/48"], "fd00::1", vec![]));
    rib.update(2, &announce(&["2001:db8:5::/48"], "fd00::2", vec![]));
    let ids = |items: Vec<OutItem>| -> Vec<(u32, bool)> {
        let mut v: Vec<(u32, bool)> = items
            .into_iter()
            .filter_map(|i| match i {
                OutItem::Route(k, s) => Some((k.path_id, s.is_some())),
                _ => None,
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids(o.take(100)), vec![(1 << 16, true), (2 << 16, true)]);
    rib.update(1, &withdraw(&["2001:db8:5::/48"]));
    assert_eq!(ids(o.take(100)), vec![(1 << 16, false)]);
    assert_eq!(rib.advertised(3), 1);
}

#[test]
fn peer_counters_follow_every_change_and_match_a_full_walk() {
    let mut rib = Rib::new(settings());
    rib.peer_up(peer(1, 65000, true), Outbox::new(), PeerPolicy::default());
    rib.peer_up(peer(2, 65000, true), Outbox::new(), PeerPolicy::default());
    let walk = |rib: &Rib| -> (usize, usize) {
        let advertised_to_2 = rib.adj_out_keys().filter(|(p, _)| p.id == 2).count();
        let accepted_from_1 = rib.table(Family::IPV6_UNICAST).map_or(0, |t| {
            t.iter()
                .flat_map(|(_, e)| e.paths())
                .filter(|p| p.peer == 1)
                .count()
        });
        (advertised_to_2, accepted_from_1)
    };
    let counts = |rib: &Rib, id: PeerId| {
        let addr = peer(id, 65000, true).address;
        rib.peer_counters()
            .into_iter()
            .find(|c| c.address == addr)
            .unwrap()
    };
    rib.update(
        1,
        &announce(
            &["2001:db8:1::/48", "2001:db8:2::/48", "2001:db8:3::/48"],
            "fd00::1",
            vec![],
        ),
    );
    let c1 = counts(&rib, 1);
    assert_eq!(c1.accepted, vec![(Family::IPV6_UNICAST, 3)]);
    assert_eq!(c1.received, vec![(Family::IPV6_UNICAST, 3)]);
    assert_eq!(counts(&rib, 2).advertised, vec![(Family::IPV6_UNICAST, 3)]);
    assert_eq!(walk(&rib), (3, 3));
    rib.update(1, &withdraw(&["2001:db8:2::/48"]));
    assert_eq!(counts(&rib, 2).advertised, vec![(Family::IPV6_UNICAST, 2)]);
    assert_eq!(counts(&rib, 1).accepted, vec![(Family::IPV6_UNICAST, 2)]);
    assert_eq!(walk(&rib), (2, 2));
    rib.peer_down(1);
    assert_eq!(counts(&rib, 2).advertised, vec![]);
    assert_eq!(walk(&rib), (0, 0));
}

#[test]
fn long_lived_stale_paths_get_llgr_stale_lose_and_reach_only_llgr_peers() {
    use crate::packet::attribute::community::{LLGR_STALE, NO_LLGR};
    let mut rib = Rib::new(settings());
    let to_llgr = Outbox::new();
    let to_plain = Outbox::new();
    rib.peer_up(peer(1, 65000, true), Outbox::new(), PeerPolicy::default());
    rib.peer_up(peer(2, 65000, true), Outbox::new(), PeerPolicy::default());
    let mut llgr_peer = peer(3, 65000, true);
    llgr_peer.llgr = true;
    rib.peer_up(llgr_peer, to_llgr.clone(), PeerPolicy::default());
    rib.peer_up(
        peer(4, 65000, true),
        to_plain.clone(),
        PeerPolicy::default(),
    );
    let no_llgr = PathAttribute::new(AttrValue::Communities(vec![NO_LLGR]));
    rib.update(
        1,
        &announce(&["2001:db8:1::/48", "2001:db8:2::/48"], "fd00::1", vec![]),
    );
    rib.update(1, &announce(&["2001:db8:3::/48"], "fd00::1", vec![no_llgr]));
    // Peer 2 has a second path to 2001:db8:2::/48 that loses on router id while fresh.
    rib.update(2, &announce(&["2001:db8:2::/48"], "fd00::2", vec![]));
    let best_peer = |rib: &Rib, p: &str| {
        rib.entry(Family::IPV6_UNICAST, &key(p))
            .and_then(|e| e.best_path())
            .map(|p| p.peer)
    };
    assert_eq!(best_peer(&rib, "2001:db8:2::/48"), Some(1));
    to_llgr.take(100);
    to_plain.take(100);
    // Peer 1 goes down gracefully, then its restart time runs out under LLGR.
    rib.peer_down_graceful(1, &[Family::IPV6_UNICAST].into_iter().collect());
    rib.mark_llgr_stale(1, &[Family::IPV6_UNICAST].into_iter().collect());
    // NO_LLGR: removed. The others: LLGR_STALE attached, still stale.
    assert!(
        rib.entry(Family::IPV6_UNICAST, &key("2001:db8:3::/48"))
            .is_none_or(|e| e.paths().is_empty())
    );
    let e = rib
        .entry(Family::IPV6_UNICAST, &key("2001:db8:1::/48"))
        .unwrap();
    assert!(e.paths()[0].stale && e.paths()[0].attrs.communities().contains(&LLGR_STALE));
    // A long-lived stale path loses to any other (RFC 9494 §4.1).
    assert_eq!(best_peer(&rib, "2001:db8:2::/48"), Some(2));
    // The LLGR peer gets 2001:db8:1::/48 again with LLGR_STALE; the plain peer has it
    // withdrawn (and 2001:db8:3::/48 too).
    let plain = routes(&to_plain);
    assert!(
        plain.contains(&("2001:db8:1::/48".to_string(), false)),
        "{plain:?}"
    );
    assert!(
        plain.contains(&("2001:db8:3::/48".to_string(), false)),
        "{plain:?}"
    );
    let llgr = routes(&to_llgr);
    assert!(
        llgr.contains(&("2001:db8:1::/48".to_string(), true)),
        "{llgr:?}"
    );
    assert!(
        llgr.contains(&("2001:db8:3::/48".to_string(), false)),
        "{llgr:?}"
    );
    // Marking again changes nothing; the sweep at the end of the stale time removes them.
    rib.mark_llgr_stale(1, &[Family::IPV6_UNICAST].into_iter().collect());
    rib.sweep_stale(1, None);
    assert_eq!(rib.stale_paths(1), 0);
}

/// A change that leaves the best path as it was is sent to ADD-PATH peers only; every other
/// peer's Adj-RIB-Out stays what a full re-export computes (a re-export queues nothing).
#[test]
fn a_change_behind_the_best_path_goes_to_add_path_peers_only() {
    let mut rib = Rib::new(settings());
    rib.peer_up(peer(1, 65000, true), Outbox::new(), PeerPolicy::default());
    rib.peer_up(peer(2, 65000, true), Outbox::new(), PeerPolicy::default());
    let (ap_out, plain) = (Outbox::new(), Outbox::new());
    let mut ap = peer(3, 65000, true);
    ap.add_path_tx = [Family::IPV6_UNICAST].into_iter().collect();
    rib.peer_up(ap, ap_out.clone(), PeerPolicy::default());
    rib.peer_up(peer(4, 65000, true), plain.clone(), PeerPolicy::default());
    ap_out.take(100);
    plain.take(100);
    let med = |m| vec![PathAttribute::new(AttrValue::Med(m))];
    // Peer 1 (lowest BGP Identifier) wins every tie below.
    rib.update(1, &announce(&["2001:db8:9::/48"], "fd00::1", vec![]));
    assert_eq!(routes(&plain), vec![("2001:db8:9::/48".into(), true)]);
    assert_eq!(ap_out.take(100).len(), 1);
    rib.update(2, &announce(&["2001:db8:9::/48"], "fd00::2", med(5)));
    rib.update(2, &announce(&["2001:db8:9::/48"], "fd00::2", med(7)));
    assert_eq!(routes(&plain), vec![], "the best path did not change");
    let items = ap_out.take(100);
    assert_eq!(items.len(), 1, "peer 2's path, coalesced: {items:?}");
    assert!(matches!(&items[0], OutItem::Route(k, Some((_, a)))
        if k.path_id == 2 << 16 && a.decision.med == Some(7)));
    rib.set_policy(4, PeerPolicy::default());
    assert_eq!(
        routes(&plain),
        vec![],
        "a full re-export finds nothing to send"
    );
    // The best path goes: the other one is sent to everyone.
    rib.update(1, &withdraw(&["2001:db8:9::/48"]));
    assert_eq!(routes(&plain), vec![("2001:db8:9::/48".into(), true)]);
    assert_eq!(
        rib.entry(Family::IPV6_UNICAST, &key("2001:db8:9::/48"))
            .and_then(|e| e.best_path())
            .map(|p| p.peer),
        Some(2)
    );
}

/// A graceful-restart peer re-announcing the same route after coming back (with a new BGP
/// Identifier) is a change of the best path (stale to fresh): it is exported again with the
/// new ORIGINATOR_ID.
#[test]
fn a_stale_best_path_announced_again_is_exported_again() {
    let mut rib = Rib::new(settings());
    let o = Outbox::new();
    rib.peer_up(peer(1, 65000, true), Outbox::new(), PeerPolicy::default());
    rib.peer_up(peer(2, 65000, true), o.clone(), PeerPolicy::default());
    o.take(100);
    rib.update(1, &announce(&["2001:db8:a::/48"], "fd00::1", vec![]));
    assert_eq!(o.take(100).len(), 1);
    rib.peer_down_graceful(1, &[Family::IPV6_UNICAST].into_iter().collect());
    assert_eq!(o.take(100).len(), 0, "stale paths are kept and not re-sent");
    let mut back = peer(1, 65000, true);
    back.bgp_id = Ipv4Addr::new(10, 0, 0, 99);
    rib.peer_up(back, Outbox::new(), PeerPolicy::default());
    rib.update(1, &announce(&["2001:db8:a::/48"], "fd00::1", vec![]));
    let items = o.take(100);
    assert_eq!(items.len(), 1, "{items:?}");
    assert!(matches!(&items[0], OutItem::Route(_, Some((_, a)))
        if a.decision.originator_id == Some(Ipv4Addr::new(10, 0, 0, 99))));
}

/// Whether the outbox's consumer was woken since the last call (takes the wake-up).
async fn woken(o: &Outbox) -> bool {
    tokio::time::timeout(std::time::Duration::ZERO, o.notify.notified())
        .await
        .is_ok()
}

/// A batch wakes exactly the peers it queued something for, and the per-batch buffers follow
/// the peers as they come and go between batches.
#[tokio::test]
async fn a_batch_wakes_the_peers_it_queued_for() {
    let mut rib = Rib::new(settings());
    let (o1, o2, o3, o4) = (Outbox::new(), Outbox::new(), Outbox::new(), Outbox::new());
    rib.peer_up(peer(1, 65000, true), o1.clone(), PeerPolicy::default());
    rib.peer_up(peer(2, 65000, true), o2.clone(), PeerPolicy::default());
    rib.peer_up(peer(3, 65000, true), o3.clone(), PeerPolicy::default());
    for o in [&o1, &o2, &o3] {
        o.take(100);
        woken(o).await;
    }
    rib.update(1, &announce(&["2001:db8:1::/48"], "fd00::1", vec![]));
    assert!(!woken(&o1).await, "nothing goes back to the sender");
    assert!(woken(&o2).await && woken(&o3).await);
    // The same route again: nothing to send, nobody woken.
    rib.update(1, &announce(&["2001:db8:1::/48"], "fd00::1", vec![]));
    for o in [&o1, &o2, &o3] {
        assert!(!woken(o).await);
    }
    rib.peer_down(3);
    rib.peer_up(peer(4, 65000, true), o4.clone(), PeerPolicy::default());
    assert_eq!(routes(&o4), vec![("2001:db8:1::/48".to_string(), true)]);
    woken(&o4).await;
    for o in [&o2, &o3] {
        o.take(100);
        woken(o).await;
    }
    rib.update(1, &announce(&["2001:db8:2::/48"], "fd00::1", vec![]));
    assert!(!woken(&o1).await && !woken(&o3).await);
    assert!(woken(&o2).await && woken(&o4).await);
    assert_eq!(routes(&o4), vec![("2001:db8:2::/48".to_string(), true)]);
    assert!(routes(&o3).is_empty(), "a peer gone is not sent to");
}

/// An UPDATE of more prefixes than `reselect` decides at a time (its chunks): every prefix is
/// exported once, in the order received, on announcement and on withdrawal, and a repeat
/// of the same UPDATE (best paths unchanged) sends nothing.
#[test]
fn a_batch_larger_than_a_chunk_exports_every_prefix_in_order() {
    let mut rib = Rib::new(settings());
    let (o1, o2) = (Outbox::new(), Outbox::new());
    rib.peer_up(peer(1, 65000, true), o1.clone(), PeerPolicy::default());
    rib.peer_up(peer(2, 65000, true), o2.clone(), PeerPolicy::default());
    o1.take(100);
    o2.take(100);
    let n = 2 * DECIDED_CHUNK + 37;
    let names: Vec<String> = (1..=n).map(|i| format!("2001:db8:{i:x}::/48")).collect();
    let prefixes: Vec<&str> = names.iter().map(String::as_str).collect();
    rib.update(1, &announce(&prefixes, "fd00::1", vec![]));
    let want: Vec<(String, bool)> = names.iter().map(|p| (p.clone(), true)).collect();
    assert_eq!(routes(&o2), want);
    assert_eq!(rib.advertised(2), n);
    rib.update(1, &announce(&prefixes, "fd00::1", vec![]));
    assert!(routes(&o2).is_empty());
    rib.update(1, &withdraw(&prefixes));
    let want: Vec<(String, bool)> = names.iter().map(|p| (p.clone(), false)).collect();
    assert_eq!(routes(&o2), want);
    assert_eq!(rib.advertised(2), 0);
    assert!(rib.table(Family::IPV6_UNICAST).is_none_or(|t| t.is_empty()));
    assert!(routes(&o1).is_empty());
}
