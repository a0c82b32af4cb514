//! Configuration reload under running sessions (three daemons in this process, peering over
//! 127.0.0.1-3): adding a neighbor brings it up, changing only a policy applies it without a
//! reset, removing a neighbor stops it with Cease 6/3, a broken file or a change that needs a
//! restart is refused with the reason — and the unrelated session never drops.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::net::IpAddr;
use std::time::{Duration, Instant};

use bgpd::config;
use bgpd::daemon::{Daemon, DaemonHandle};
use bgpd::fsm::State;
use bgpd::packet::Family;
use tokio::sync::oneshot;

fn free_port(ip: &str) -> u16 {
    std::net::TcpListener::bind((ip, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Node {
    handle: DaemonHandle,
    _stop: oneshot::Sender<()>,
}

async fn start(toml: &str) -> Node {
    let c = config::load_str(toml).unwrap();
    let d = Daemon::start(&c).await.unwrap();
    let handle = d.handle();
    let (stop, rx) = oneshot::channel::<()>();
    tokio::spawn(d.run(async move {
        let _ = rx.await;
    }));
    Node {
        handle,
        _stop: stop,
    }
}

/// (state, established transitions, last error) of one neighbor.
async fn peer(n: &Node, addr: &str) -> Option<(State, u32, Option<String>)> {
    let a: IpAddr = addr.parse().unwrap();
    n.handle
        .neighbors()
        .await
        .into_iter()
        .find(|v| v.config.address == a)
        .map(|v| {
            (
                v.status.state,
                v.status.established_transitions,
                v.status.last_error.clone(),
            )
        })
}

async fn wait_for<F: Fn(Option<(State, u32, Option<String>)>) -> bool>(
    n: &Node,
    addr: &str,
    what: &str,
    ok: F,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = peer(n, addr).await;
        if ok(s.clone()) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: last seen {s:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn routes_from_b(n: &Node) -> usize {
    n.handle
        .rib
        .query(|rib| {
            rib.table(Family::IPV4_UNICAST).map_or(0, |t| {
                t.iter()
                    .filter(|(k, _)| k.prefix.to_string() == "10.2.0.0/24")
                    .count()
            })
        })
        .await
        .unwrap()
}

fn neighbor(addr: &str, asn: u32, local: &str, port: u16, extra: &str) -> String {
    format!(
        "[[neighbors]]\naddress = \"{addr}\"\nremote_as = {asn}\nlocal_address = \"{local}\"\n\
         port = {port}\nhold_time = 9\nconnect_retry = 1\nidle_hold = 1\nmax_idle_hold = 2\n{extra}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_adds_changes_and_removes_neighbors_without_touching_the_others() {
    let (pa, pb, pc) = (
        free_port("127.0.0.1"),
        free_port("127.0.0.2"),
        free_port("127.0.0.3"),
    );
    let global = |asn: u32, ip: &str, port: u16, nets: &str| {
        format!(
            "[global]\nasn = {asn}\nrouter_id = \"{ip}\"\nlisten = [\"{ip}:{port}\"]\n\
             ebgp_requires_policy = false\nnetworks = [{nets}]\n[api]\nsocket = \"\"\n"
        )
    };
    let a_base = global(65001, "127.0.0.1", pa, "");
    let a_b = neighbor("127.0.0.2", 65002, "127.0.0.1", pb, "");
    let a_c = neighbor("127.0.0.3", 65003, "127.0.0.1", pc, "");
    let a = start(&format!("{a_base}{a_b}")).await;
    let b = start(&format!(
        "{}{}",
        global(65002, "127.0.0.2", pb, "\"10.2.0.0/24\""),
        neighbor("127.0.0.1", 65001, "127.0.0.2", pa, "")
    ))
    .await;
    let c = start(&format!(
        "{}{}",
        global(65003, "127.0.0.3", pc, ""),
        neighbor("127.0.0.1", 65001, "127.0.0.3", pa, "")
    ))
    .await;
    let up = |s: Option<(State, u32, Option<String>)>| s.is_some_and(|s| s.0 == State::Established);
    wait_for(&a, "127.0.0.2", "A-B established", up).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while routes_from_b(&a).await == 0 {
        assert!(Instant::now() < deadline, "A never got B's route");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let b_transitions = peer(&a, "127.0.0.2").await.unwrap().1;

    // Add C: it comes up.
    let r = a
        .handle
        .reload(config::load_str(&format!("{a_base}{a_b}{a_c}")).unwrap())
        .await
        .unwrap();
    assert_eq!(r.added, vec!["127.0.0.3".parse::<IpAddr>().unwrap()]);
    wait_for(&a, "127.0.0.3", "A-C established after the reload", up).await;

    // Change only B's import policy: applied without a reset (the route goes), B stays up.
    let a_b_reject = neighbor(
        "127.0.0.2",
        65002,
        "127.0.0.1",
        pb,
        "import_policy = \"reject-all\"\n",
    );
    let r = a
        .handle
        .reload(config::load_str(&format!("{a_base}{a_b_reject}{a_c}")).unwrap())
        .await
        .unwrap();
    assert_eq!(
        r.policy_changed,
        vec!["127.0.0.2".parse::<IpAddr>().unwrap()]
    );
    assert!(r.reset.is_empty(), "{r:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while routes_from_b(&a).await != 0 {
        assert!(
            Instant::now() < deadline,
            "B's route survived the new import policy"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Remove C: C sees Cease 6/3.
    let r = a
        .handle
        .reload(config::load_str(&format!("{a_base}{a_b_reject}")).unwrap())
        .await
        .unwrap();
    assert_eq!(r.removed, vec!["127.0.0.3".parse::<IpAddr>().unwrap()]);
    wait_for(&c, "127.0.0.1", "C told it was de-configured", |s| {
        s.and_then(|s| s.2).is_some_and(|e| e.contains("6/3"))
    })
    .await;

    // A broken file is refused by the loader with the key named; a change that needs a
    // restart is refused by the daemon; nothing changes.
    let broken = config::load_str(&format!("{a_base}{a_b_reject}hold_tme = 3\n")).unwrap_err();
    assert!(
        broken.to_string().contains("neighbors[0].hold_tme"),
        "{broken}"
    );
    let other_as = global(65009, "127.0.0.1", pa, "");
    let e = a
        .handle
        .reload(config::load_str(&format!("{other_as}{a_b_reject}")).unwrap())
        .await;
    assert!(e.unwrap_err().contains("global.asn"));

    // Through all of it, the A-B session never dropped.
    let (state, transitions, _) = peer(&a, "127.0.0.2").await.unwrap();
    assert_eq!(state, State::Established);
    assert_eq!(
        transitions, b_transitions,
        "the unrelated session was reset"
    );
    let (_, b_side, _) = peer(&b, "127.0.0.1").await.unwrap();
    assert_eq!(b_side, 1);
}
