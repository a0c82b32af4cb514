//! The Graceful Restart and Long-Lived Graceful Restart capabilities sidrad sends: the F bit
//! (RFC 4724 §3) is set unless the data plane lost its forwarding state over a restart, and
//! the LLGR capability (RFC 9494 §3) goes with GR when `long_lived_stale_time` is set.
//! (One test in its own process: the forwarding-state flag is process-wide.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use bgpd::packet::capability::{Capability, GR_FORWARDING_STATE, GR_RESTART_STATE};

fn settings(extra: &str) -> bgpd::session::PeerSettings {
    let c = bgpd::config::load_str(&format!(
        "[global]\nasn = 65000\nrouter_id = \"10.0.0.1\"\n[[neighbors]]\naddress = \"fd00::2\"\nremote_as = 65000\n{extra}"
    ))
    .unwrap();
    bgpd::daemon::peer_settings(&c.neighbors[0], 1, None, true)
}

fn gr_flags(caps: &[Capability]) -> (u8, Vec<u8>) {
    caps.iter()
        .find_map(|c| match c {
            Capability::GracefulRestart {
                restart_flags,
                families,
                ..
            } => Some((*restart_flags, families.iter().map(|(_, f)| *f).collect())),
            _ => None,
        })
        .unwrap()
}

#[test]
fn forwarding_bit_and_long_lived_capability() {
    bgpd::session::mark_process_start();
    let s = settings("");
    let (flags, families) = gr_flags(&s.capabilities());
    // Just started: restarting (R), and the forwarding state is kept (F on every family).
    assert_ne!(flags & GR_RESTART_STATE, 0);
    assert!(
        families.iter().all(|f| f & GR_FORWARDING_STATE != 0),
        "{families:?}"
    );
    assert!(
        !s.capabilities()
            .iter()
            .any(|c| matches!(c, Capability::LongLivedGracefulRestart(_)))
    );
    // The data plane read nothing back: no F while restarting.
    bgpd::session::forwarding_state_lost(true);
    let (_, families) = gr_flags(&s.capabilities());
    assert!(
        families.iter().all(|f| f & GR_FORWARDING_STATE == 0),
        "{families:?}"
    );
    bgpd::session::forwarding_state_lost(false);
    // LLGR: one entry per family with the stale time, beside GR; none without GR.
    let s = settings("long_lived_stale_time = 3600\n");
    let llgr = s
        .capabilities()
        .into_iter()
        .find_map(|c| match c {
            Capability::LongLivedGracefulRestart(e) => Some(e),
            _ => None,
        })
        .unwrap();
    assert_eq!(llgr.len(), 2);
    assert!(llgr.iter().all(|(_, _, t)| *t == 3600));
    let s = settings("long_lived_stale_time = 3600\ngraceful_restart = false\n");
    assert!(
        !s.capabilities()
            .iter()
            .any(|c| matches!(c, Capability::LongLivedGracefulRestart(_)))
    );
}
