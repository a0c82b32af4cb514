//! FSM tests: exact action lists for the RFC 4271 §8.2.2 paths, a state x event table, the
//! timers, damping and jitter, and a property test over random event sequences.

use std::net::Ipv4Addr;
use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::packet::error::code;
use crate::packet::msg_type;
use crate::packet::notification::cease;

const CR: Duration = Duration::from_secs(120);
const IDLE_HOLD: Duration = Duration::from_secs(5);
const MAX_IDLE_HOLD: Duration = Duration::from_secs(40);
const RESET_AFTER: Duration = Duration::from_secs(300);
const PEER_ID: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

fn cfg() -> FsmConfig {
    FsmConfig {
        passive: false,
        connect_retry_time: CR,
        hold_time: 90,
        keepalive_time: None,
        delay_open_time: None,
        idle_hold_time: IDLE_HOLD,
        max_idle_hold_time: MAX_IDLE_HOLD,
        idle_hold_reset_after: RESET_AFTER,
        jitter_seed: 7,
    }
}

fn passive() -> FsmConfig {
    FsmConfig {
        passive: true,
        ..cfg()
    }
}

fn delayed() -> FsmConfig {
    FsmConfig {
        delay_open_time: Some(Duration::from_secs(5)),
        ..cfg()
    }
}

fn open(hold_time: u16) -> Event {
    Event::BgpOpen {
        hold_time,
        bgp_id: PEER_ID,
    }
}

fn notif(c: u8, s: u8) -> NotificationMessage {
    NotificationMessage::new(c, s, Vec::new())
}

fn admin_shutdown() -> NotificationMessage {
    NotificationMessage::cease_shutdown(cease::ADMINISTRATIVE_SHUTDOWN, "maintenance")
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Replace the jittered ConnectRetry durations by the base value after checking that they are
/// within 0.75..=1.0 of it, so that action lists can be compared exactly.
fn norm(fsm: &Fsm, actions: Vec<Action>) -> Vec<Action> {
    let base = fsm.config().connect_retry_time;
    actions
        .into_iter()
        .map(|a| match a {
            Action::StartTimer(Timer::ConnectRetry, d) => {
                assert!(
                    d <= base && d >= base.mul_f64(0.75),
                    "jitter out of range: {d:?}"
                );
                Action::StartTimer(Timer::ConnectRetry, base)
            }
            other => other,
        })
        .collect()
}

/// Feed an event and return the normalized actions.
fn step(fsm: &mut Fsm, event: Event) -> Vec<Action> {
    let actions = fsm.handle(event);
    norm(fsm, actions)
}

fn reach(config: FsmConfig, target: State) -> Fsm {
    let mut fsm = Fsm::new(config);
    let path: &[Event] = match target {
        State::Idle => &[],
        State::Connect => &[Event::ManualStart],
        State::Active if fsm.config().passive => &[Event::ManualStart],
        State::Active => &[Event::ManualStart, Event::TcpConnectionFails],
        State::OpenSent => &[Event::ManualStart, Event::TcpCrAcked],
        State::OpenConfirm => &[Event::ManualStart, Event::TcpCrAcked, open(90)],
        State::Established => &[
            Event::ManualStart,
            Event::TcpCrAcked,
            open(90),
            Event::KeepAliveMsg,
        ],
    };
    for e in path {
        fsm.handle(e.clone());
    }
    assert_eq!(fsm.state(), target);
    fsm
}

use Action::{
    ConnectTcp, DropTcp, SendKeepalive, SendNotification, SendOpen, StartTimer, StopTimer,
};

// ---------------------------------------------------------------------------------------
// Paths with exact action lists
// ---------------------------------------------------------------------------------------

#[test]
fn happy_path_idle_connect_opensent_openconfirm_established() {
    let mut fsm = Fsm::new(cfg());
    assert_eq!(fsm.state(), State::Idle);
    assert!(fsm.running_timers().is_empty());

    assert_eq!(
        step(&mut fsm, Event::ManualStart),
        vec![StartTimer(Timer::ConnectRetry, CR), ConnectTcp]
    );
    assert_eq!(fsm.state(), State::Connect);
    assert_eq!(fsm.connect_retry_counter(), 0);

    assert_eq!(
        step(&mut fsm, Event::TcpCrAcked),
        vec![
            StopTimer(Timer::ConnectRetry),
            SendOpen,
            StartTimer(Timer::Hold, OPEN_SENT_HOLD_TIME)
        ]
    );
    assert_eq!(fsm.state(), State::OpenSent);
    assert_eq!(OPEN_SENT_HOLD_TIME, secs(240));
    assert_eq!(fsm.hold_time(), None);

    assert_eq!(
        step(&mut fsm, open(180)),
        vec![
            SendKeepalive,
            StartTimer(Timer::Keepalive, secs(30)),
            StartTimer(Timer::Hold, secs(90))
        ]
    );
    assert_eq!(fsm.state(), State::OpenConfirm);
    assert_eq!(fsm.hold_time(), Some(90));
    assert_eq!(fsm.keepalive_time(), Some(30));
    assert_eq!(fsm.peer_bgp_id(), Some(PEER_ID));

    assert_eq!(
        step(&mut fsm, Event::KeepAliveMsg),
        vec![
            StartTimer(Timer::Hold, secs(90)),
            Action::Established {
                hold_time: 90,
                keepalive_time: 30
            }
        ]
    );
    assert_eq!(fsm.state(), State::Established);
    assert_eq!(fsm.established_transitions(), 1);
    assert_eq!(fsm.running_timers(), vec![Timer::Hold, Timer::Keepalive]);

    // Established: every message restarts the HoldTimer.
    for e in [
        Event::KeepAliveMsg,
        Event::UpdateMsg,
        Event::RouteRefreshMsg,
    ] {
        assert_eq!(step(&mut fsm, e), vec![StartTimer(Timer::Hold, secs(90))]);
    }
    assert_eq!(
        step(&mut fsm, Event::KeepaliveTimerExpires),
        vec![SendKeepalive, StartTimer(Timer::Keepalive, secs(30))]
    );
    // §4.4: sending an UPDATE restarts the KeepaliveTimer.
    assert_eq!(
        fsm.message_sent(),
        vec![StartTimer(Timer::Keepalive, secs(30))]
    );
    // A second connection is tracked by the shell.
    assert!(fsm.handle(Event::TcpConnectionConfirmed).is_empty());
    assert_eq!(fsm.state(), State::Established);
}

#[test]
fn passive_path_via_active() {
    let mut fsm = Fsm::new(passive());
    assert_eq!(
        step(&mut fsm, Event::ManualStart),
        vec![StartTimer(Timer::ConnectRetry, CR)]
    );
    assert_eq!(fsm.state(), State::Active);
    // A passive peer never connects: the ConnectRetryTimer only restarts.
    assert_eq!(
        step(&mut fsm, Event::ConnectRetryTimerExpires),
        vec![StartTimer(Timer::ConnectRetry, CR)]
    );
    assert_eq!(fsm.state(), State::Active);
    assert_eq!(
        step(&mut fsm, Event::TcpConnectionConfirmed),
        vec![
            StopTimer(Timer::ConnectRetry),
            SendOpen,
            StartTimer(Timer::Hold, OPEN_SENT_HOLD_TIME)
        ]
    );
    assert_eq!(fsm.state(), State::OpenSent);
    step(&mut fsm, open(90));
    step(&mut fsm, Event::KeepAliveMsg);
    assert_eq!(fsm.state(), State::Established);
}

#[test]
fn connect_active_retry_cycle() {
    let mut fsm = reach(cfg(), State::Connect);
    assert_eq!(
        step(&mut fsm, Event::ConnectRetryTimerExpires),
        vec![DropTcp, StartTimer(Timer::ConnectRetry, CR), ConnectTcp]
    );
    assert_eq!(fsm.state(), State::Connect);
    // A refused connect: Active, paced by the ConnectRetryTimer.
    assert_eq!(
        step(&mut fsm, Event::TcpConnectionFails),
        vec![DropTcp, StartTimer(Timer::ConnectRetry, CR)]
    );
    assert_eq!(fsm.state(), State::Active);
    assert_eq!(
        step(&mut fsm, Event::ConnectRetryTimerExpires),
        vec![StartTimer(Timer::ConnectRetry, CR), ConnectTcp]
    );
    assert_eq!(fsm.state(), State::Connect);
    // An incoming connection while in Active works as well.
    step(&mut fsm, Event::TcpConnectionFails);
    step(&mut fsm, Event::TcpConnectionConfirmed);
    assert_eq!(fsm.state(), State::OpenSent);
}

#[test]
fn delay_open_timer_first() {
    let mut fsm = reach(delayed(), State::Connect);
    assert_eq!(
        step(&mut fsm, Event::TcpCrAcked),
        vec![
            StopTimer(Timer::ConnectRetry),
            StartTimer(Timer::DelayOpen, secs(5))
        ]
    );
    assert_eq!(fsm.state(), State::Connect);
    assert_eq!(
        step(&mut fsm, Event::DelayOpenTimerExpires),
        vec![SendOpen, StartTimer(Timer::Hold, OPEN_SENT_HOLD_TIME)]
    );
    assert_eq!(fsm.state(), State::OpenSent);
    assert_eq!(fsm.running_timers(), vec![Timer::Hold]);
}

#[test]
fn delay_open_peer_open_first() {
    for config in [
        delayed(),
        FsmConfig {
            passive: true,
            ..delayed()
        },
    ] {
        let start = if config.passive {
            State::Active
        } else {
            State::Connect
        };
        let mut fsm = reach(config, start);
        step(&mut fsm, Event::TcpConnectionConfirmed);
        assert_eq!(fsm.state(), start);
        assert_eq!(
            step(&mut fsm, open(30)),
            vec![
                StopTimer(Timer::DelayOpen),
                SendOpen,
                SendKeepalive,
                StartTimer(Timer::Keepalive, secs(10)),
                StartTimer(Timer::Hold, secs(30))
            ]
        );
        assert_eq!(fsm.state(), State::OpenConfirm);
        step(&mut fsm, Event::KeepAliveMsg);
        assert_eq!(fsm.state(), State::Established);
    }
}

#[test]
fn delay_open_zero_is_no_delay() {
    let config = FsmConfig {
        delay_open_time: Some(Duration::ZERO),
        ..cfg()
    };
    let mut fsm = reach(config, State::Connect);
    step(&mut fsm, Event::TcpCrAcked);
    assert_eq!(fsm.state(), State::OpenSent);
}

#[test]
fn delay_open_connection_failure_and_stops() {
    // Connect + DelayOpen + TcpConnectionFails -> Active.
    let mut fsm = reach(delayed(), State::Connect);
    step(&mut fsm, Event::TcpCrAcked);
    assert_eq!(
        step(&mut fsm, Event::TcpConnectionFails),
        vec![
            DropTcp,
            StopTimer(Timer::DelayOpen),
            StartTimer(Timer::ConnectRetry, CR)
        ]
    );
    assert_eq!(fsm.state(), State::Active);

    // A connection exists (DelayOpen running): ManualStop sends its Cease.
    step(&mut fsm, Event::TcpConnectionConfirmed);
    let cease = admin_shutdown();
    assert_eq!(
        step(&mut fsm, Event::ManualStop(cease.clone())),
        vec![
            SendNotification(cease.clone()),
            DropTcp,
            StopTimer(Timer::DelayOpen)
        ]
    );
    assert_eq!(fsm.state(), State::Idle);

    // No connection yet: ManualStop in Connect sends nothing.
    let mut fsm = reach(delayed(), State::Connect);
    assert_eq!(
        step(&mut fsm, Event::ManualStop(cease)),
        vec![DropTcp, StopTimer(Timer::ConnectRetry)]
    );

    // An OPEN error while DelayOpen runs is answered.
    let mut fsm = reach(delayed(), State::Connect);
    step(&mut fsm, Event::TcpCrAcked);
    let bad_as = notif(code::OPEN, code::BAD_PEER_AS);
    assert_eq!(
        step(&mut fsm, Event::BgpOpenMsgErr(bad_as.clone())),
        vec![
            SendNotification(bad_as),
            DropTcp,
            StopTimer(Timer::DelayOpen),
            StartTimer(Timer::IdleHold, IDLE_HOLD)
        ]
    );
}

#[test]
fn open_in_connect_without_delay_open_is_an_error() {
    let mut fsm = reach(cfg(), State::Connect);
    assert_eq!(
        step(&mut fsm, open(90)),
        vec![
            DropTcp,
            StopTimer(Timer::ConnectRetry),
            StartTimer(Timer::IdleHold, IDLE_HOLD)
        ]
    );
    assert_eq!(fsm.state(), State::Idle);
    assert_eq!(fsm.connect_retry_counter(), 1);
    assert!(fsm.last_error().is_some_and(|e| e.contains("BGPOpen")));
}

// ---------------------------------------------------------------------------------------
// Hold time negotiation
// ---------------------------------------------------------------------------------------

#[test]
fn hold_time_negotiation() {
    // (ours, configured keepalive, theirs) -> (hold, keepalive)
    let cases: &[(u16, Option<u16>, u16, u16, u16)] = &[
        (9, None, 30, 9, 3),
        (90, None, 9, 9, 3),
        (90, None, 0, 0, 0),
        (0, None, 90, 0, 0),
        (9, Some(1), 9, 9, 1),
        (9, Some(10), 30, 9, 3),
        (90, Some(0), 90, 90, 1),
        (3, None, 3, 3, 1),
        (4, None, 180, 4, 1),
        (65535, None, 65535, 65535, 21845),
    ];
    for &(ours, keepalive, theirs, hold, ka) in cases {
        let config = FsmConfig {
            hold_time: ours,
            keepalive_time: keepalive,
            ..cfg()
        };
        let mut fsm = reach(config, State::OpenSent);
        let actions = step(&mut fsm, open(theirs));
        let expected = if hold == 0 {
            vec![SendKeepalive, StopTimer(Timer::Hold)]
        } else {
            vec![
                SendKeepalive,
                StartTimer(Timer::Keepalive, secs(ka.into())),
                StartTimer(Timer::Hold, secs(hold.into())),
            ]
        };
        assert_eq!(
            actions, expected,
            "ours {ours} ka {keepalive:?} theirs {theirs}"
        );
        assert_eq!(fsm.hold_time(), Some(hold));
        assert_eq!(fsm.keepalive_time(), Some(ka));
        let actions = step(&mut fsm, Event::KeepAliveMsg);
        assert!(actions.contains(&Action::Established {
            hold_time: hold,
            keepalive_time: ka
        }));
    }
}

#[test]
fn hold_time_zero_runs_no_timers() {
    let mut fsm = reach(cfg(), State::OpenSent);
    step(&mut fsm, open(0));
    assert!(fsm.running_timers().is_empty());
    assert_eq!(
        step(&mut fsm, Event::KeepAliveMsg),
        vec![Action::Established {
            hold_time: 0,
            keepalive_time: 0
        }]
    );
    assert!(fsm.running_timers().is_empty());
    assert!(step(&mut fsm, Event::UpdateMsg).is_empty());
    assert!(fsm.message_sent().is_empty());
    // A (stale) keepalive expiry sends a KEEPALIVE but arms nothing.
    assert_eq!(
        step(&mut fsm, Event::KeepaliveTimerExpires),
        vec![SendKeepalive]
    );
    assert!(fsm.running_timers().is_empty());
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

#[test]
fn hold_timer_expiry_sends_4_0_and_goes_idle() {
    let hold_expired = SendNotification(notif(code::HOLD_TIMER_EXPIRED, 0));
    let mut fsm = reach(cfg(), State::OpenSent);
    assert_eq!(
        step(&mut fsm, Event::HoldTimerExpires),
        vec![
            hold_expired.clone(),
            DropTcp,
            StartTimer(Timer::IdleHold, IDLE_HOLD)
        ]
    );
    assert_eq!(fsm.state(), State::Idle);

    let mut fsm = reach(cfg(), State::OpenConfirm);
    assert_eq!(
        step(&mut fsm, Event::HoldTimerExpires),
        vec![
            hold_expired.clone(),
            DropTcp,
            StopTimer(Timer::Keepalive),
            StartTimer(Timer::IdleHold, IDLE_HOLD)
        ]
    );
    assert_eq!(fsm.state(), State::Idle);

    let mut fsm = reach(cfg(), State::Established);
    let actions = step(&mut fsm, Event::HoldTimerExpires);
    let reason = fsm.last_error().unwrap_or_default().to_owned();
    assert!(reason.contains("hold timer expired"), "{reason}");
    assert_eq!(
        actions,
        vec![
            hold_expired,
            Action::SessionDown { reason },
            DropTcp,
            StopTimer(Timer::Keepalive),
            StartTimer(Timer::IdleHold, IDLE_HOLD)
        ]
    );
    assert_eq!(fsm.state(), State::Idle);
    assert_eq!(fsm.connect_retry_counter(), 1);
    assert_eq!(fsm.hold_time(), None);
    assert_eq!(fsm.peer_bgp_id(), None);
}

#[test]
fn unexpected_messages_are_fsm_errors_with_rfc6608_subcodes() {
    let cases = [
        (
            State::OpenSent,
            Event::KeepAliveMsg,
            1,
            vec![msg_type::KEEPALIVE],
        ),
        (State::OpenSent, Event::UpdateMsg, 1, vec![msg_type::UPDATE]),
        (
            State::OpenSent,
            Event::RouteRefreshMsg,
            1,
            vec![msg_type::ROUTE_REFRESH],
        ),
        (
            State::OpenSent,
            Event::UpdateMsgErr(notif(code::UPDATE, 1)),
            1,
            vec![msg_type::UPDATE],
        ),
        (
            State::OpenConfirm,
            Event::UpdateMsg,
            2,
            vec![msg_type::UPDATE],
        ),
        (State::OpenConfirm, open(90), 2, vec![msg_type::OPEN]),
        (
            State::OpenConfirm,
            Event::RouteRefreshMsg,
            2,
            vec![msg_type::ROUTE_REFRESH],
        ),
        (State::Established, open(90), 3, vec![msg_type::OPEN]),
        (
            State::Established,
            Event::BgpOpenMsgErr(notif(code::OPEN, 2)),
            3,
            vec![msg_type::OPEN],
        ),
        // Internal events that cannot happen: Unspecified Error.
        (State::OpenSent, Event::ConnectRetryTimerExpires, 0, vec![]),
        (State::OpenSent, Event::KeepaliveTimerExpires, 0, vec![]),
        (State::OpenConfirm, Event::DelayOpenTimerExpires, 0, vec![]),
        (State::Established, Event::IdleHoldTimerExpires, 0, vec![]),
    ];
    for (state, event, subcode, data) in cases {
        let mut fsm = reach(cfg(), state);
        let label = format!("{event:?} in {state}");
        let actions = step(&mut fsm, event);
        assert_eq!(
            actions.first(),
            Some(&SendNotification(NotificationMessage::new(
                code::FSM,
                subcode,
                data
            ))),
            "{label}"
        );
        assert_eq!(fsm.state(), State::Idle, "{label}");
        assert!(
            actions.contains(&StartTimer(Timer::IdleHold, IDLE_HOLD)),
            "{label}"
        );
        assert!(
            fsm.last_error().is_some_and(|e| e.contains("FSM error")),
            "{label}"
        );
    }
}

#[test]
fn header_open_and_update_errors_send_their_notification() {
    let header = notif(code::MESSAGE_HEADER, code::BAD_MESSAGE_LENGTH);
    let open_err = notif(code::OPEN, code::UNACCEPTABLE_HOLD_TIME);
    let update = notif(code::UPDATE, code::MALFORMED_ATTRIBUTE_LIST);
    let cases = [
        (
            State::OpenSent,
            Event::BgpHeaderErr(header.clone()),
            header.clone(),
        ),
        (
            State::OpenSent,
            Event::BgpOpenMsgErr(open_err.clone()),
            open_err.clone(),
        ),
        (
            State::OpenConfirm,
            Event::BgpHeaderErr(header.clone()),
            header.clone(),
        ),
        (
            State::OpenConfirm,
            Event::BgpOpenMsgErr(open_err.clone()),
            open_err,
        ),
        (
            State::Established,
            Event::BgpHeaderErr(header.clone()),
            header,
        ),
        (
            State::Established,
            Event::UpdateMsgErr(update.clone()),
            update,
        ),
    ];
    for (state, event, sent) in cases {
        let mut fsm = reach(cfg(), state);
        let actions = step(&mut fsm, event);
        assert_eq!(actions.first(), Some(&SendNotification(sent)));
        assert_eq!(fsm.state(), State::Idle);
        assert_eq!(
            actions.last(),
            Some(&StartTimer(Timer::IdleHold, IDLE_HOLD))
        );
        assert_eq!(fsm.idle_hold_wait(), IDLE_HOLD * 2);
    }
}

#[test]
fn opensent_connection_failure_goes_active() {
    let mut fsm = reach(cfg(), State::OpenSent);
    assert_eq!(
        step(&mut fsm, Event::TcpConnectionFails),
        vec![
            DropTcp,
            StopTimer(Timer::Hold),
            StartTimer(Timer::ConnectRetry, CR)
        ]
    );
    assert_eq!(fsm.state(), State::Active);
}

#[test]
fn version_error_notification_is_not_damped() {
    for state in [State::OpenSent, State::OpenConfirm] {
        let mut fsm = reach(cfg(), state);
        let actions = step(&mut fsm, Event::NotifMsgVerErr);
        assert_eq!(actions.first(), Some(&DropTcp));
        assert!(!actions.iter().any(|a| matches!(a, SendNotification(_))));
        assert_eq!(
            actions.last(),
            Some(&StartTimer(Timer::IdleHold, IDLE_HOLD))
        );
        assert_eq!(fsm.idle_hold_wait(), IDLE_HOLD, "not doubled");
        assert_eq!(fsm.state(), State::Idle);
    }
}

#[test]
fn received_notification() {
    // OpenSent: no NOTIFICATION in answer.
    let mut fsm = reach(cfg(), State::OpenSent);
    let bad_as = notif(code::OPEN, code::BAD_PEER_AS);
    assert_eq!(
        step(&mut fsm, Event::NotifMsg(bad_as)),
        vec![
            DropTcp,
            StopTimer(Timer::Hold),
            StartTimer(Timer::IdleHold, IDLE_HOLD)
        ]
    );
    assert_eq!(fsm.idle_hold_wait(), IDLE_HOLD * 2);
    assert!(
        fsm.last_error()
            .is_some_and(|e| e.contains("2/2 (OPEN Message Error / Bad Peer AS)"))
    );

    // Established, administrative shutdown: restart without doubling; the message is kept.
    let mut fsm = reach(cfg(), State::Established);
    let actions = step(&mut fsm, Event::NotifMsg(admin_shutdown()));
    let reason = fsm.last_error().unwrap_or_default().to_owned();
    assert!(reason.contains("Administrative Shutdown") && reason.contains("maintenance"));
    assert_eq!(
        actions,
        vec![
            Action::SessionDown { reason },
            DropTcp,
            StopTimer(Timer::Hold),
            StopTimer(Timer::Keepalive),
            StartTimer(Timer::IdleHold, IDLE_HOLD)
        ]
    );
    assert_eq!(fsm.idle_hold_wait(), IDLE_HOLD);

    // Established, any other NOTIFICATION: damped.
    let mut fsm = reach(cfg(), State::Established);
    step(&mut fsm, Event::NotifMsg(notif(code::UPDATE, 1)));
    assert_eq!(fsm.idle_hold_wait(), IDLE_HOLD * 2);
}

#[test]
fn collision_dump() {
    let collision = SendNotification(notif(code::CEASE, cease::CONNECTION_COLLISION_RESOLUTION));
    for state in [State::OpenSent, State::OpenConfirm] {
        let mut fsm = reach(cfg(), state);
        let actions = step(&mut fsm, Event::OpenCollisionDump);
        assert_eq!(actions.first(), Some(&collision));
        assert_eq!(fsm.state(), State::Idle);
    }
    // §6.8: the established connection wins.
    let mut fsm = reach(cfg(), State::Established);
    assert!(step(&mut fsm, Event::OpenCollisionDump).is_empty());
    assert_eq!(fsm.state(), State::Established);
}

// ---------------------------------------------------------------------------------------
// Stops
// ---------------------------------------------------------------------------------------

#[test]
fn manual_stop_sends_the_given_cease_and_schedules_no_restart() {
    let cease = admin_shutdown();
    for state in [State::OpenSent, State::OpenConfirm, State::Established] {
        let mut fsm = reach(cfg(), state);
        let actions = step(&mut fsm, Event::ManualStop(cease.clone()));
        assert_eq!(actions.first(), Some(&SendNotification(cease.clone())));
        assert!(
            !actions.iter().any(|a| matches!(a, StartTimer(..))),
            "{state}: {actions:?}"
        );
        assert_eq!(
            actions
                .iter()
                .filter(|a| matches!(a, Action::SessionDown { .. }))
                .count(),
            usize::from(state == State::Established)
        );
        assert_eq!(fsm.state(), State::Idle);
        assert!(fsm.running_timers().is_empty());
        assert_eq!(fsm.connect_retry_counter(), 0);
        let reason = fsm.last_error().unwrap_or_default();
        assert!(reason.starts_with("manual stop") && reason.contains("maintenance"));
    }
    // Ignored in Idle.
    let mut fsm = Fsm::new(cfg());
    assert!(fsm.handle(Event::ManualStop(cease)).is_empty());
    assert_eq!(fsm.last_error(), None);
}

#[test]
fn manual_stop_cancels_a_pending_restart() {
    let mut fsm = reach(cfg(), State::OpenSent);
    step(&mut fsm, Event::HoldTimerExpires);
    assert!(fsm.is_running(Timer::IdleHold));
    // In Idle, ManualStop is ignored ... but a ManualStart then ManualStop leaves no restart.
    step(&mut fsm, Event::ManualStart);
    assert!(!fsm.is_running(Timer::IdleHold));
    let actions = step(&mut fsm, Event::ManualStop(admin_shutdown()));
    assert_eq!(actions, vec![DropTcp, StopTimer(Timer::ConnectRetry)]);
    assert!(fsm.running_timers().is_empty());
    assert_eq!(
        fsm.idle_hold_wait(),
        IDLE_HOLD,
        "ManualStop resets the damping"
    );
}

#[test]
fn automatic_stop_restarts_with_the_current_wait() {
    let max_prefix = notif(code::CEASE, cease::MAX_PREFIXES);
    let mut fsm = reach(cfg(), State::Established);
    let actions = step(&mut fsm, Event::AutomaticStop(max_prefix.clone()));
    assert_eq!(actions.first(), Some(&SendNotification(max_prefix)));
    assert_eq!(
        actions.last(),
        Some(&StartTimer(Timer::IdleHold, IDLE_HOLD))
    );
    assert_eq!(fsm.idle_hold_wait(), IDLE_HOLD);
    assert_eq!(fsm.connect_retry_counter(), 1);
    // The restart: IdleHold expiry acts as AutomaticStart.
    assert_eq!(
        step(&mut fsm, Event::IdleHoldTimerExpires),
        vec![StartTimer(Timer::ConnectRetry, CR), ConnectTcp]
    );
    assert_eq!(fsm.state(), State::Connect);
    assert_eq!(fsm.connect_retry_counter(), 0);
}

#[test]
fn automatic_start_waits_for_idle_hold_but_manual_start_does_not() {
    let mut fsm = reach(cfg(), State::OpenSent);
    step(&mut fsm, Event::HoldTimerExpires);
    assert!(fsm.handle(Event::AutomaticStart).is_empty());
    assert_eq!(fsm.state(), State::Idle);
    assert_eq!(
        step(&mut fsm, Event::ManualStart),
        vec![
            StopTimer(Timer::IdleHold),
            StartTimer(Timer::ConnectRetry, CR),
            ConnectTcp
        ]
    );
    assert_eq!(fsm.state(), State::Connect);
    // Without a pending IdleHold, AutomaticStart starts.
    let mut fsm = Fsm::new(passive());
    assert_eq!(
        step(&mut fsm, Event::AutomaticStart),
        vec![StartTimer(Timer::ConnectRetry, CR)]
    );
    assert_eq!(fsm.state(), State::Active);
}

// ---------------------------------------------------------------------------------------
// Damping
// ---------------------------------------------------------------------------------------

/// From Idle (restart pending or not) to Established and down again with `failure`.
fn cycle(fsm: &mut Fsm, uptime: Duration, failure: Event) -> Vec<Action> {
    let start = if fsm.is_running(Timer::IdleHold) {
        Event::IdleHoldTimerExpires
    } else {
        Event::ManualStart
    };
    for e in [start, Event::TcpCrAcked, open(90), Event::KeepAliveMsg] {
        fsm.handle(e);
    }
    assert_eq!(fsm.state(), State::Established);
    fsm.note_uptime(uptime);
    step(fsm, failure)
}

fn idle_hold_started(actions: &[Action]) -> Option<Duration> {
    actions.iter().find_map(|a| match a {
        StartTimer(Timer::IdleHold, d) => Some(*d),
        _ => None,
    })
}

#[test]
fn damping_doubles_to_the_max_and_resets_after_long_uptime() {
    let mut fsm = Fsm::new(cfg());
    let short = secs(10);
    let mut waits = Vec::new();
    for _ in 0..6 {
        let actions = cycle(&mut fsm, short, Event::TcpConnectionFails);
        waits.push(idle_hold_started(&actions));
    }
    assert_eq!(
        waits,
        [5, 10, 20, 40, 40, 40].map(|s| Some(secs(s))).to_vec()
    );
    assert_eq!(fsm.established_transitions(), 6);

    // A session that stayed up long enough resets the wait before the restart.
    let actions = cycle(&mut fsm, RESET_AFTER, Event::HoldTimerExpires);
    assert_eq!(idle_hold_started(&actions), Some(IDLE_HOLD));
    assert_eq!(fsm.idle_hold_wait(), IDLE_HOLD * 2);

    // Just below the threshold does not.
    let actions = cycle(&mut fsm, RESET_AFTER - secs(1), Event::HoldTimerExpires);
    assert_eq!(idle_hold_started(&actions), Some(IDLE_HOLD * 2));

    // The largest uptime noted counts; note_uptime outside Established is ignored.
    fsm.note_uptime(secs(100_000));
    let mut fsm2 = fsm.clone();
    for e in [
        Event::IdleHoldTimerExpires,
        Event::TcpCrAcked,
        open(90),
        Event::KeepAliveMsg,
    ] {
        fsm2.handle(e);
    }
    fsm2.note_uptime(RESET_AFTER);
    fsm2.note_uptime(secs(1));
    let actions = step(&mut fsm2, Event::UpdateMsgErr(notif(code::UPDATE, 1)));
    assert_eq!(idle_hold_started(&actions), Some(IDLE_HOLD));
    let actions = cycle(&mut fsm, Duration::ZERO, Event::TcpConnectionFails);
    assert_eq!(idle_hold_started(&actions), Some(IDLE_HOLD * 4));
}

#[test]
fn damping_applies_to_failures_before_established() {
    let mut fsm = Fsm::new(cfg());
    let mut waits = Vec::new();
    step(&mut fsm, Event::ManualStart);
    for _ in 0..5 {
        step(&mut fsm, Event::TcpCrAcked);
        let actions = step(&mut fsm, Event::HoldTimerExpires);
        waits.push(idle_hold_started(&actions));
        step(&mut fsm, Event::IdleHoldTimerExpires);
    }
    assert_eq!(waits, [5, 10, 20, 40, 40].map(|s| Some(secs(s))).to_vec());
}

// ---------------------------------------------------------------------------------------
// Jitter
// ---------------------------------------------------------------------------------------

#[test]
fn jitter_is_within_range_and_deterministic() {
    let mut a = Fsm::new(cfg());
    let mut b = Fsm::new(cfg());
    let mut c = Fsm::new(FsmConfig {
        jitter_seed: 8,
        ..cfg()
    });
    let (lo, hi) = (CR.mul_f64(0.75), CR);
    let mut seen_a = Vec::new();
    let mut seen_c = Vec::new();
    for _ in 0..2000 {
        let x = a.jittered_connect_retry();
        assert!(x >= lo && x <= hi, "{x:?}");
        assert_eq!(x, b.jittered_connect_retry());
        seen_a.push(x);
        seen_c.push(c.jittered_connect_retry());
    }
    assert_ne!(seen_a, seen_c, "another seed, another sequence");
    // The values spread over the range.
    let min = seen_a.iter().min().copied().unwrap_or_default();
    let max = seen_a.iter().max().copied().unwrap_or_default();
    assert!(
        min < CR.mul_f64(0.76) && max > CR.mul_f64(0.99),
        "{min:?} {max:?}"
    );

    // Through the actions: same seed, same timers.
    let mut a = Fsm::new(cfg());
    let mut b = Fsm::new(cfg());
    for e in [
        Event::ManualStart,
        Event::ConnectRetryTimerExpires,
        Event::TcpConnectionFails,
        Event::ConnectRetryTimerExpires,
    ] {
        assert_eq!(a.handle(e.clone()), b.handle(e));
    }
}

// ---------------------------------------------------------------------------------------
// The state x event table
// ---------------------------------------------------------------------------------------

#[test]
fn state_event_table() {
    use State::{
        Active as A, Connect as C, Established as E, Idle as I, OpenConfirm as OC, OpenSent as OS,
    };
    let states = [I, C, A, OS, OC, E];
    let table: Vec<(Event, [State; 6])> = vec![
        (Event::ManualStart, [C, C, A, OS, OC, E]),
        (Event::AutomaticStart, [C, C, A, OS, OC, E]),
        (Event::ManualStop(admin_shutdown()), [I, I, I, I, I, I]),
        (Event::AutomaticStop(notif(6, 1)), [I, I, I, I, I, I]),
        (Event::ConnectRetryTimerExpires, [I, C, C, I, I, I]),
        (Event::HoldTimerExpires, [I, I, I, I, I, I]),
        (Event::KeepaliveTimerExpires, [I, I, I, I, OC, E]),
        (Event::DelayOpenTimerExpires, [I, I, I, I, I, I]),
        (Event::IdleHoldTimerExpires, [C, I, I, I, I, I]),
        (Event::TcpCrAcked, [I, OS, OS, OS, OC, E]),
        (Event::TcpConnectionConfirmed, [I, OS, OS, OS, OC, E]),
        (Event::TcpConnectionFails, [I, A, I, A, I, I]),
        (open(90), [I, I, I, OC, I, I]),
        (Event::BgpHeaderErr(notif(1, 2)), [I, I, I, I, I, I]),
        (Event::BgpOpenMsgErr(notif(2, 2)), [I, I, I, I, I, I]),
        (Event::OpenCollisionDump, [I, I, I, I, I, E]),
        (Event::NotifMsgVerErr, [I, I, I, I, I, I]),
        (Event::NotifMsg(notif(6, 3)), [I, I, I, I, I, I]),
        (Event::KeepAliveMsg, [I, I, I, I, E, E]),
        (Event::UpdateMsg, [I, I, I, I, I, E]),
        (Event::UpdateMsgErr(notif(3, 1)), [I, I, I, I, I, I]),
        (Event::RouteRefreshMsg, [I, I, I, I, I, E]),
    ];
    for (event, next) in table {
        for (from, to) in states.into_iter().zip(next) {
            let mut fsm = reach(cfg(), from);
            let before = fsm.running_timers();
            let actions = step(&mut fsm, event.clone());
            let label = format!("{} in {from}: {actions:?}", event.name());
            assert_eq!(fsm.state(), to, "{label}");
            check_actions(from, &fsm, &before, &actions, &event, &label);
        }
    }
}

/// What holds for every transition.
fn check_actions(
    from: State,
    fsm: &Fsm,
    before: &[Timer],
    actions: &[Action],
    event: &Event,
    label: &str,
) {
    let to = fsm.state();
    let downs = actions
        .iter()
        .filter(|a| matches!(a, Action::SessionDown { .. }))
        .count();
    assert_eq!(
        downs,
        usize::from(from == State::Established && to != State::Established),
        "{label}"
    );
    // NOTIFICATIONs only on a connection where our OPEN was sent (no DelayOpen here).
    let notifies = actions
        .iter()
        .filter(|a| matches!(a, SendNotification(_)))
        .count();
    if matches!(from, State::Idle | State::Connect | State::Active) {
        assert_eq!(notifies, 0, "{label}");
    }
    if from == State::Idle {
        assert!(to != State::Idle || actions.is_empty(), "{label}");
    }
    if to == State::Idle && from != State::Idle {
        assert!(fsm.last_error().is_some(), "{label}");
        assert!(actions.contains(&DropTcp), "{label}");
        assert!(
            fsm.running_timers().iter().all(|t| *t == Timer::IdleHold),
            "{label}"
        );
        // Every timer armed before (and not just expired) is stopped explicitly.
        for t in before {
            if event.expired_timer() != Some(*t) {
                assert!(actions.contains(&StopTimer(*t)), "{label}: {t:?}");
            }
        }
        let restart = actions
            .iter()
            .any(|a| matches!(a, StartTimer(Timer::IdleHold, _)));
        assert_eq!(restart, !matches!(event, Event::ManualStop(_)), "{label}");
    }
}

// ---------------------------------------------------------------------------------------
// Property test
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Op {
    /// Any event, plausible or not.
    Event(Event),
    /// The event that moves the session forward from the current state (so that random
    /// sequences reach Established often), with the peer's hold time for an OPEN.
    Progress(u16),
    /// The expiry of an armed timer (the n-th, modulo their number), as a correct shell does.
    Expire(usize),
    Uptime(u64),
    MessageSent,
}

/// The event `Op::Progress` stands for.
fn progress(fsm: &Fsm, peer_hold: u16) -> Event {
    match fsm.state() {
        State::Idle if fsm.is_running(Timer::IdleHold) => Event::IdleHoldTimerExpires,
        State::Idle => Event::ManualStart,
        State::Connect | State::Active if fsm.is_running(Timer::DelayOpen) => {
            if peer_hold < 9 {
                Event::DelayOpenTimerExpires
            } else {
                open(peer_hold)
            }
        }
        State::Connect => Event::TcpCrAcked,
        State::Active => Event::TcpConnectionConfirmed,
        State::OpenSent => open(peer_hold),
        State::OpenConfirm => Event::KeepAliveMsg,
        State::Established if peer_hold < 9 => Event::UpdateMsg,
        State::Established => Event::KeepAliveMsg,
    }
}

fn any_notification() -> impl Strategy<Value = NotificationMessage> {
    prop_oneof![
        Just(admin_shutdown()),
        Just(notif(6, 4)),
        Just(notif(6, 7)),
        Just(notif(3, 1)),
        Just(notif(2, 2)),
        Just(notif(1, 2)),
    ]
}

fn any_event() -> impl Strategy<Value = Event> {
    prop_oneof![
        Just(Event::ManualStart),
        any_notification().prop_map(Event::ManualStop),
        Just(Event::AutomaticStart),
        any_notification().prop_map(Event::AutomaticStop),
        Just(Event::ConnectRetryTimerExpires),
        Just(Event::HoldTimerExpires),
        Just(Event::KeepaliveTimerExpires),
        Just(Event::DelayOpenTimerExpires),
        Just(Event::IdleHoldTimerExpires),
        Just(Event::TcpCrAcked),
        Just(Event::TcpConnectionConfirmed),
        Just(Event::TcpConnectionFails),
        prop_oneof![Just(0u16), Just(3), Just(9), Just(90), Just(65535)].prop_map(open),
        any_notification().prop_map(Event::BgpHeaderErr),
        any_notification().prop_map(Event::BgpOpenMsgErr),
        Just(Event::OpenCollisionDump),
        Just(Event::NotifMsgVerErr),
        any_notification().prop_map(Event::NotifMsg),
        Just(Event::KeepAliveMsg),
        Just(Event::UpdateMsg),
        any_notification().prop_map(Event::UpdateMsgErr),
        Just(Event::RouteRefreshMsg),
    ]
}

fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any_event().prop_map(Op::Event),
        6 => prop_oneof![Just(0u16), Just(3), Just(9), Just(90), Just(65535)].prop_map(Op::Progress),
        2 => (0usize..4).prop_map(Op::Expire),
        1 => (0u64..600).prop_map(Op::Uptime),
        1 => Just(Op::MessageSent),
    ]
}

fn any_config() -> impl Strategy<Value = FsmConfig> {
    (
        any::<bool>(),
        prop_oneof![Just(0u16), Just(3), Just(9), Just(90)],
        prop_oneof![Just(None), Just(Some(0u16)), Just(Some(1)), Just(Some(100))],
        prop_oneof![Just(None), Just(Some(secs(5)))],
        any::<u64>(),
    )
        .prop_map(
            |(passive, hold_time, keepalive_time, delay_open_time, jitter_seed)| FsmConfig {
                passive,
                hold_time,
                keepalive_time,
                delay_open_time,
                jitter_seed,
                ..cfg()
            },
        )
}

/// The timers the state allows, given the negotiated hold time.
fn timers_consistent(fsm: &Fsm) -> bool {
    let running = fsm.running_timers();
    match fsm.state() {
        State::Idle => running.iter().all(|t| *t == Timer::IdleHold),
        State::Connect | State::Active => {
            running == [Timer::ConnectRetry] || running == [Timer::DelayOpen]
        }
        State::OpenSent => running == [Timer::Hold],
        State::OpenConfirm | State::Established => match fsm.hold_time() {
            Some(0) => running.is_empty(),
            Some(_) => running == [Timer::Hold, Timer::Keepalive],
            None => false,
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_event_sequences_keep_the_fsm_consistent(
        config in any_config(),
        ops in proptest::collection::vec(any_op(), 0..200),
    ) {
        let mut fsm = Fsm::new(config.clone());
        // The timers as the shell sees them, from the actions alone.
        let mut shadow: Vec<Timer> = Vec::new();
        let mut session_downs = 0u32;
        let mut departures = 0u32;
        let mut established_actions = 0u32;
        for op in ops {
            let before = fsm.state();
            let event = match &op {
                Op::Event(event) => Some(event.clone()),
                Op::Progress(peer_hold) => Some(progress(&fsm, *peer_hold)),
                Op::Expire(n) => {
                    let running = fsm.running_timers();
                    running.get(n % running.len().max(1)).map(|t| Event::timer_expires(*t))
                }
                Op::Uptime(_) | Op::MessageSent => None,
            };
            let actions = match (event, &op) {
                (Some(event), _) => {
                    if let Some(t) = event.expired_timer() {
                        shadow.retain(|x| *x != t);
                    }
                    fsm.handle(event)
                }
                (None, Op::Event(_) | Op::Progress(_) | Op::Expire(_)) => Vec::new(),
                (None, Op::Uptime(s)) => {
                    fsm.note_uptime(secs(*s));
                    Vec::new()
                }
                (None, Op::MessageSent) => {
                    let a = fsm.message_sent();
                    prop_assert!(a.is_empty() || before == State::Established);
                    a
                }
            };
            let after = fsm.state();
            let mut seen_down = false;
            for a in &actions {
                match a {
                    StartTimer(t, d) => {
                        if !shadow.contains(t) {
                            shadow.push(*t);
                        }
                        match t {
                            Timer::ConnectRetry => prop_assert!(
                                *d <= config.connect_retry_time
                                    && *d >= config.connect_retry_time.mul_f64(0.75)
                            ),
                            Timer::IdleHold => prop_assert!(
                                *d >= config.idle_hold_time && *d <= config.max_idle_hold_time
                            ),
                            Timer::Keepalive => {
                                let hold = u64::from(fsm.hold_time().unwrap_or(0));
                                prop_assert!(*d >= secs(1) && *d <= secs((hold / 3).max(1)));
                            }
                            Timer::Hold | Timer::DelayOpen => {}
                        }
                    }
                    StopTimer(t) => {
                        prop_assert!(shadow.contains(t), "StopTimer({:?}) of an idle timer", t);
                        shadow.retain(|x| x != t);
                    }
                    Action::SessionDown { .. } => {
                        session_downs += 1;
                        seen_down = true;
                    }
                    DropTcp => prop_assert!(seen_down || before != State::Established || after == State::Established),
                    Action::Established { hold_time, .. } => {
                        established_actions += 1;
                        prop_assert_eq!(Some(*hold_time), fsm.hold_time());
                    }
                    ConnectTcp => prop_assert!(!config.passive),
                    SendOpen | SendKeepalive | SendNotification(_) => {}
                }
            }
            if before == State::Established && after != State::Established {
                departures += 1;
            }
            if before != State::Idle && after == State::Idle {
                prop_assert!(fsm.last_error().is_some());
                prop_assert!(actions.contains(&DropTcp));
            }
            shadow.sort_by_key(|t| Timer::ALL.iter().position(|x| x == t));
            prop_assert_eq!(&shadow, &fsm.running_timers());
            prop_assert!(timers_consistent(&fsm), "{:?} with {:?}", after, fsm.running_timers());
            let negotiated = matches!(after, State::OpenConfirm | State::Established);
            prop_assert_eq!(fsm.hold_time().is_some(), negotiated);
            prop_assert_eq!(fsm.peer_bgp_id().is_some(), negotiated);
            prop_assert_eq!(session_downs, departures);
            prop_assert_eq!(established_actions, fsm.established_transitions());
            prop_assert!(fsm.idle_hold_wait() >= config.idle_hold_time);
            prop_assert!(fsm.idle_hold_wait() <= config.max_idle_hold_time);
        }
    }
}
