//! The transition function: RFC 4271 §8.2.2, one arm per (state, event) pair or group.
//!
//! Quotes are from RFC 4271 §8.2.2 unless another section is named. "Drops the TCP
//! connection" is `DropTcp`; "sets the ConnectRetryTimer to zero" is `StopTimer` (emitted only
//! for an armed timer); "releases all BGP resources" is the shell's business on `DropTcp`.

use crate::packet::NotificationMessage;
use crate::packet::error::code;
use crate::packet::notification::cease;

use super::{Action, Down, Event, Fsm, OPEN_SENT_HOLD_TIME, State, Timer};

impl Fsm {
    /// Feed one event; returns the actions to carry out, in order.
    pub fn handle(&mut self, event: Event) -> Vec<Action> {
        let mut out = Vec::new();
        let state = self.state;
        // Guards read the timers as they were before the event.
        let delay_open_running = self.is_running(Timer::DelayOpen);
        let idle_hold_running = self.is_running(Timer::IdleHold);
        if let Some(timer) = event.expired_timer() {
            self.expired(timer);
        }
        let name = event.name();
        let message_type = event.message_type();

        match (state, event) {
            // ================================ Idle ================================
            //
            // "In response to a ManualStart event (Event 1) or an AutomaticStart event (Event
            // 3), the local system: initializes all BGP resources for the peer connection,
            // sets ConnectRetryCounter to zero, starts the ConnectRetryTimer with the initial
            // value, initiates a TCP connection to the other BGP peer, listens for a connection
            // that may be initiated by the remote BGP peer, and changes its state to Connect."
            // With PassiveTcpEstablishment (Events 4, 5) it does not connect and goes to
            // Active.
            (State::Idle, Event::ManualStart) => self.start_session(&mut out),
            // DampPeerOscillations (Events 6, 7): while the IdleHoldTimer runs, the peer is
            // kept in Idle; its expiry (Event 13) is the automatic start.
            (State::Idle, Event::AutomaticStart) if idle_hold_running => {}
            (State::Idle, Event::AutomaticStart | Event::IdleHoldTimerExpires) => {
                self.start_session(&mut out)
            }
            // "The ManualStop event (Event 2) and AutomaticStop (Event 8) event are ignored in
            // the Idle state." "Any other event (Events 9-12, 15-28) received in the Idle
            // state does not cause change in the state of the local system."
            (
                State::Idle,
                Event::ManualStop(_)
                | Event::AutomaticStop(_)
                | Event::ConnectRetryTimerExpires
                | Event::HoldTimerExpires
                | Event::KeepaliveTimerExpires
                | Event::DelayOpenTimerExpires
                | Event::TcpCrAcked
                | Event::TcpConnectionConfirmed
                | Event::TcpConnectionFails
                | Event::BgpOpen { .. }
                | Event::BgpHeaderErr(_)
                | Event::BgpOpenMsgErr(_)
                | Event::OpenCollisionDump
                | Event::NotifMsgVerErr
                | Event::NotifMsg(_)
                | Event::KeepAliveMsg
                | Event::UpdateMsg
                | Event::UpdateMsgErr(_)
                | Event::RouteRefreshMsg,
            ) => {}

            // ====================== every state but Idle ==========================
            //
            // "The start events (Events 1, 3-7) are ignored in the Connect state." Likewise in
            // Active, OpenSent, OpenConfirm and Established.
            (
                State::Connect
                | State::Active
                | State::OpenSent
                | State::OpenConfirm
                | State::Established,
                Event::ManualStart | Event::AutomaticStart,
            ) => {}

            // ========================== Connect, Active ===========================
            //
            // ManualStop (Event 2), Connect: "drops the TCP connection, releases all BGP
            // resources, sets ConnectRetryCounter to zero, stops the ConnectRetryTimer and sets
            // ConnectRetryTimer to zero, and changes its state to Idle." Active: "If the
            // DelayOpenTimer is running and the SendNOTIFICATIONwithoutOPEN session attribute is
            // set, the local system sends a NOTIFICATION with a Cease".
            (State::Connect | State::Active, Event::ManualStop(n)) => {
                let n = delay_open_running.then_some(n);
                let reason = with_sent("manual stop", n.as_ref());
                self.enter_idle(&mut out, n, reason, Down::Manual);
            }
            // AutomaticStop (Event 8) is among "any other events" of Connect and Active (Idle,
            // damping); sidra restarts without doubling the wait, as in the later states.
            (State::Connect | State::Active, Event::AutomaticStop(n)) => {
                let n = delay_open_running.then_some(n);
                let reason = with_sent("automatic stop", n.as_ref());
                self.enter_idle(&mut out, n, reason, Down::Restart);
            }
            // ConnectRetryTimer_Expires (Event 9), Connect: "drops the TCP connection, restarts
            // the ConnectRetryTimer, stops the DelayOpenTimer and resets the timer to zero,
            // initiates a TCP connection to the other BGP peer, continues to listen for a
            // connection that may be initiated by the remote BGP peer, and stays in the Connect
            // state."
            (State::Connect, Event::ConnectRetryTimerExpires) => {
                out.push(Action::DropTcp);
                self.stop(&mut out, Timer::DelayOpen);
                self.start_connect_retry(&mut out);
                out.push(Action::ConnectTcp);
            }
            // Active: "restarts the ConnectRetryTimer (with initial value), initiates a TCP
            // connection to the other BGP peer, continues to listen for a TCP connection that
            // may be initiated by a remote BGP peer, and changes its state to Connect." A
            // passive peer never connects: it only restarts the timer and stays in Active.
            (State::Active, Event::ConnectRetryTimerExpires) => {
                if delay_open_running {
                    out.push(Action::DropTcp);
                    self.stop(&mut out, Timer::DelayOpen);
                }
                self.start_connect_retry(&mut out);
                if !self.config.passive {
                    out.push(Action::ConnectTcp);
                    self.state = State::Connect;
                }
            }
            // DelayOpenTimer_Expires (Event 12): "sends an OPEN message to its peer, sets the
            // HoldTimer to a large value, and changes its state to OpenSent." (Without a
            // running DelayOpenTimer there is no connection to send it on: see "other events".)
            (State::Connect | State::Active, Event::DelayOpenTimerExpires)
                if delay_open_running =>
            {
                self.send_open(&mut out)
            }
            // Tcp_CR_Acked / TcpConnectionConfirmed (Events 16, 17): "If the DelayOpen
            // attribute is set to TRUE, the local system: stops the ConnectRetryTimer (if
            // running) and sets the ConnectRetryTimer to zero, sets the DelayOpenTimer to the
            // initial value, and stays in the Connect state. If the DelayOpen attribute is set
            // to FALSE, the local system: stops the ConnectRetryTimer (if running) and sets the
            // ConnectRetryTimer to zero, completes BGP initialization, sends an OPEN message to
            // its peer, sets the HoldTimer to a large value, and changes its state to
            // OpenSent." (Active: the same, staying in Active.)
            (State::Connect | State::Active, Event::TcpCrAcked | Event::TcpConnectionConfirmed) => {
                self.stop(&mut out, Timer::ConnectRetry);
                match self.delay_open() {
                    Some(delay) => self.start(&mut out, Timer::DelayOpen, delay),
                    None => self.send_open(&mut out),
                }
            }
            // TcpConnectionFails (Event 18), Connect: "If the DelayOpenTimer is running, the
            // local system: restarts the ConnectRetryTimer with the initial value, stops the
            // DelayOpenTimer and resets its value to zero, continues to listen for a connection
            // that may be initiated by the remote BGP peer, and changes its state to Active."
            // Without DelayOpen the RFC goes to Idle; sidra also goes to Active so that a
            // refused connect is paced by the ConnectRetryTimer and not by peer damping.
            (State::Connect, Event::TcpConnectionFails) => {
                out.push(Action::DropTcp);
                self.stop(&mut out, Timer::DelayOpen);
                self.start_connect_retry(&mut out);
                self.state = State::Active;
            }
            // Active: "restarts the ConnectRetryTimer (with the initial value), stops and
            // clears the DelayOpenTimer (sets the value to zero), releases all BGP resource,
            // increments the ConnectRetryCounter by 1, optionally performs peer oscillation
            // damping if the DampPeerOscillations attribute is set to TRUE, and changes its
            // state to Idle."
            (State::Active, Event::TcpConnectionFails) => {
                self.enter_idle(&mut out, None, "TCP connection failed".into(), Down::Damped)
            }
            // BGPOpen with the DelayOpenTimer running (Event 20): "stops the ConnectRetryTimer
            // (if running) and sets the ConnectRetryTimer to zero, completes the BGP
            // initialization, stops and clears the DelayOpenTimer (sets the value to zero),
            // sends an OPEN message, sends a KEEPALIVE message, if the HoldTimer initial value
            // is non-zero, starts the KeepaliveTimer with the initial value and resets the
            // HoldTimer to the negotiated value, else, if the HoldTimer initial value is zero,
            // resets the KeepaliveTimer and resets the HoldTimer value to zero, and changes its
            // state to OpenConfirm."
            (State::Connect | State::Active, Event::BgpOpen { hold_time, bgp_id })
                if delay_open_running =>
            {
                self.stop(&mut out, Timer::ConnectRetry);
                self.stop(&mut out, Timer::DelayOpen);
                out.push(Action::SendOpen);
                self.open_confirm(&mut out, hold_time, bgp_id);
            }
            // BGPHeaderErr / BGPOpenMsgErr (Events 21, 22): "(optionally) If the
            // SendNOTIFICATIONwithoutOPEN attribute is set to TRUE, then the local system first
            // sends a NOTIFICATION message with the appropriate error code, and then stops the
            // ConnectRetryTimer (if running) and sets the ConnectRetryTimer to zero, releases
            // all BGP resources, drops the TCP connection, increments the ConnectRetryCounter by
            // 1, (optionally) performs peer oscillation damping if the DampPeerOscillations
            // attribute is set to TRUE, and changes its state to Idle."
            (State::Connect | State::Active, Event::BgpHeaderErr(n) | Event::BgpOpenMsgErr(n)) => {
                let n = delay_open_running.then_some(n);
                let reason = with_sent(&format!("{name} in {state}"), n.as_ref());
                self.enter_idle(&mut out, n, reason, Down::Damped);
            }
            // NotifMsgVerErr (Event 24): with the DelayOpenTimer running, Idle without
            // incrementing the counter nor damping; without it, "increments the
            // ConnectRetryCounter by 1, performs peer oscillation damping".
            (State::Connect | State::Active, Event::NotifMsgVerErr) => {
                let down = if delay_open_running {
                    Down::Restart
                } else {
                    Down::Damped
                };
                self.enter_idle(&mut out, None, version_error_reason(), down);
            }
            // NotifMsg (Event 25) is among "any other events": Idle; an administrative Cease
            // restarts without doubling the wait (see `received_notification`).
            (State::Connect | State::Active, Event::NotifMsg(n)) => {
                self.received_notification(&mut out, &n)
            }
            // "In response to any other events (Events 8, 10-11, 13, 19, 23, 25-28), the local
            // system: if the ConnectRetryTimer is running, stops and resets the
            // ConnectRetryTimer (sets to zero), if the DelayOpenTimer is running, stops and
            // resets the DelayOpenTimer (sets to zero), releases all BGP resources, drops the
            // TCP connection, increments the ConnectRetryCounter by 1, performs peer
            // oscillation damping if the DampPeerOscillations attribute is set to True, and
            // changes its state to Idle."
            (
                State::Connect | State::Active,
                Event::HoldTimerExpires
                | Event::KeepaliveTimerExpires
                | Event::DelayOpenTimerExpires
                | Event::IdleHoldTimerExpires
                | Event::BgpOpen { .. }
                | Event::OpenCollisionDump
                | Event::KeepAliveMsg
                | Event::UpdateMsg
                | Event::UpdateMsgErr(_)
                | Event::RouteRefreshMsg,
            ) => {
                let reason = format!("FSM error: unexpected {name} in {state}");
                self.enter_idle(&mut out, None, reason, Down::Damped);
            }

            // =================== OpenSent, OpenConfirm, Established ===================
            //
            // ManualStop (Event 2): "sends the NOTIFICATION with a Cease, sets the
            // ConnectRetryTimer to zero, [deletes all routes associated with this connection,]
            // releases all BGP resources, drops the TCP connection, sets the
            // ConnectRetryCounter to zero, and changes its state to Idle."
            (State::OpenSent | State::OpenConfirm | State::Established, Event::ManualStop(n)) => {
                let reason = with_sent("manual stop", Some(&n));
                self.enter_idle(&mut out, Some(n), reason, Down::Manual);
            }
            // AutomaticStop (Event 8): "sends the NOTIFICATION with a Cease, ..., increments
            // the ConnectRetryCounter by 1, (optionally) performs peer oscillation damping ...,
            // and changes its state to Idle." sidra restarts after the current wait.
            (
                State::OpenSent | State::OpenConfirm | State::Established,
                Event::AutomaticStop(n),
            ) => {
                let reason = with_sent("automatic stop", Some(&n));
                self.enter_idle(&mut out, Some(n), reason, Down::Restart);
            }
            // HoldTimer_Expires (Event 10): "sends a NOTIFICATION message with the error code
            // Hold Timer Expired, sets the ConnectRetryTimer to zero, releases all BGP
            // resources, drops the TCP connection, increments the ConnectRetryCounter,
            // (optionally) performs peer oscillation damping if the DampPeerOscillations
            // attribute is set to TRUE, and changes its state to Idle."
            (
                State::OpenSent | State::OpenConfirm | State::Established,
                Event::HoldTimerExpires,
            ) => {
                let n = notification(code::HOLD_TIMER_EXPIRED, 0, Vec::new());
                let reason = with_sent("hold timer expired", Some(&n));
                self.enter_idle(&mut out, Some(n), reason, Down::Damped);
            }
            // Tcp_CR_Acked / TcpConnectionConfirmed (Events 16, 17): "a second TCP connection
            // may be in progress. This second TCP connection is tracked per Connection
            // Collision processing (Section 6.8) until an OPEN message is received." The
            // shell tracks it; nothing changes here.
            (
                State::OpenSent | State::OpenConfirm | State::Established,
                Event::TcpCrAcked | Event::TcpConnectionConfirmed,
            ) => {}
            // NotifMsgVerErr (Event 24), OpenSent and OpenConfirm: "sets the ConnectRetryTimer
            // to zero, releases all BGP resources, drops the TCP connection, and changes its
            // state to Idle." (No damping: the restart is scheduled with the current wait.)
            (State::OpenSent | State::OpenConfirm, Event::NotifMsgVerErr) => {
                self.enter_idle(&mut out, None, version_error_reason(), Down::Restart)
            }
            // NotifMsg (Event 25). OpenConfirm and Established: "sets the ConnectRetryTimer to
            // zero, [deletes all routes,] releases all BGP resources, drops the TCP connection,
            // increments the ConnectRetryCounter by 1, and changes its state to Idle." In
            // OpenSent the RFC lists Event 25 among the FSM errors; answering a NOTIFICATION
            // with one is useless (§4.5: "the BGP connection is closed immediately after it is
            // sent"), so sidra just closes.
            (State::OpenSent | State::OpenConfirm | State::Established, Event::NotifMsg(n)) => {
                self.received_notification(&mut out, &n)
            }
            // BGPHeaderErr (Event 21), BGPOpenMsgErr (Event 22) in OpenSent / OpenConfirm:
            // "sends a NOTIFICATION message with the appropriate error code, sets the
            // ConnectRetryTimer to zero, releases all BGP resources, drops the TCP connection,
            // increments the ConnectRetryCounter by 1, (optionally) performs peer oscillation
            // damping ..., and changes its state to Idle." A header error in Established is
            // answered with its own NOTIFICATION too (§6.1).
            (
                State::OpenSent | State::OpenConfirm,
                Event::BgpHeaderErr(n) | Event::BgpOpenMsgErr(n),
            )
            | (State::Established, Event::BgpHeaderErr(n)) => {
                let reason = with_sent(&format!("{name} in {state}"), Some(&n));
                self.enter_idle(&mut out, Some(n), reason, Down::Damped);
            }
            // OpenCollisionDump (Event 23), OpenSent / OpenConfirm: "sends a NOTIFICATION with
            // a Cease, sets the ConnectRetryTimer to zero, releases all BGP resources, drops
            // the TCP connection, increments the ConnectRetryCounter by 1, (optionally)
            // performs peer oscillation damping ..., and changes its state to Idle." The
            // subcode is Connection Collision Resolution (RFC 4486 §4).
            (State::OpenSent | State::OpenConfirm, Event::OpenCollisionDump) => {
                let n = notification(
                    code::CEASE,
                    cease::CONNECTION_COLLISION_RESOLUTION,
                    Vec::new(),
                );
                let reason = with_sent("connection collision resolution", Some(&n));
                self.enter_idle(&mut out, Some(n), reason, Down::Restart);
            }

            // ============================== OpenSent ==============================
            //
            // TcpConnectionFails (Event 18): "closes the BGP connection, restarts the
            // ConnectRetryTimer, continues to listen for a connection that may be initiated by
            // the remote BGP peer, and changes its state to Active."
            (State::OpenSent, Event::TcpConnectionFails) => {
                out.push(Action::DropTcp);
                self.stop(&mut out, Timer::Hold);
                self.start_connect_retry(&mut out);
                self.state = State::Active;
            }
            // BGPOpen (Event 19): "resets the DelayOpenTimer to zero, sets the BGP
            // ConnectRetryTimer to zero, sends a KEEPALIVE message, and sets a KeepaliveTimer
            // (via the text below), sets the HoldTimer according to the negotiated value (see
            // Section 4.2), changes its state to OpenConfirm." "If the negotiated hold time
            // value is zero, then the HoldTimer and KeepaliveTimer are not started."
            (State::OpenSent, Event::BgpOpen { hold_time, bgp_id }) => {
                self.stop(&mut out, Timer::DelayOpen);
                self.stop(&mut out, Timer::ConnectRetry);
                self.open_confirm(&mut out, hold_time, bgp_id);
            }
            // "In response to any other event (Events 9, 11-13, 20, 25-28), the local system:
            // sends the NOTIFICATION with the Error Code Finite State Machine Error, sets the
            // ConnectRetryTimer to zero, releases all BGP resources, drops the TCP connection,
            // increments the ConnectRetryCounter by 1, (optionally) performs peer oscillation
            // damping ..., and changes its state to Idle." (Event 25 is handled above.)
            (
                State::OpenSent,
                Event::ConnectRetryTimerExpires
                | Event::KeepaliveTimerExpires
                | Event::DelayOpenTimerExpires
                | Event::IdleHoldTimerExpires
                | Event::KeepAliveMsg
                | Event::UpdateMsg
                | Event::UpdateMsgErr(_)
                | Event::RouteRefreshMsg,
            ) => self.fsm_error(&mut out, name, message_type),

            // ============================ OpenConfirm =============================
            //
            // KeepaliveTimer_Expires (Event 11): "sends a KEEPALIVE message, restarts the
            // KeepaliveTimer, and remains in the OpenConfirmed state." Established: "sends a
            // KEEPALIVE message, and restarts its KeepaliveTimer, unless the negotiated
            // HoldTime value is zero."
            (State::OpenConfirm | State::Established, Event::KeepaliveTimerExpires) => {
                out.push(Action::SendKeepalive);
                self.restart_keepalive(&mut out);
            }
            // TcpConnectionFails (Event 18), OpenConfirm and Established: "sets the
            // ConnectRetryTimer to zero, [deletes all routes,] releases all BGP resources,
            // drops the TCP connection, increments the ConnectRetryCounter by 1, and changes
            // its state to Idle." (With damping.)
            (State::OpenConfirm | State::Established, Event::TcpConnectionFails) => {
                self.enter_idle(&mut out, None, "TCP connection failed".into(), Down::Damped)
            }
            // KeepAliveMsg (Event 26): "restarts the HoldTimer and changes its state to
            // Established."
            (State::OpenConfirm, Event::KeepAliveMsg) => {
                self.restart_hold(&mut out);
                let hold_time = self.hold_time.unwrap_or(0);
                let keepalive_time = self.keepalive_time.unwrap_or(0);
                self.established_transitions = self.established_transitions.saturating_add(1);
                self.uptime = std::time::Duration::ZERO;
                out.push(Action::Established {
                    hold_time,
                    keepalive_time,
                });
                self.state = State::Established;
            }
            // "In response to any other event (Events 9, 12-13, 20, 27-28), the local system:
            // sends a NOTIFICATION with a code of Finite State Machine Error, ..., and changes
            // its state to Idle." An OPEN on this connection (collision detection on the
            // second connection is done by the shell before it gets here) is one too.
            (
                State::OpenConfirm,
                Event::ConnectRetryTimerExpires
                | Event::DelayOpenTimerExpires
                | Event::IdleHoldTimerExpires
                | Event::BgpOpen { .. }
                | Event::UpdateMsg
                | Event::UpdateMsgErr(_)
                | Event::RouteRefreshMsg,
            ) => self.fsm_error(&mut out, name, message_type),

            // ============================ Established =============================
            //
            // KeepAliveMsg (Event 26): "restarts its HoldTimer, if the negotiated HoldTime
            // value is non-zero, and remains in the Established state." UpdateMsg (Event 27):
            // the same, and a ROUTE-REFRESH too (§4.4: "each time ... a KEEPALIVE, UPDATE, or
            // NOTIFICATION message is received" counts; every message is proof of life).
            (
                State::Established,
                Event::KeepAliveMsg | Event::UpdateMsg | Event::RouteRefreshMsg,
            ) => self.restart_hold(&mut out),
            // UpdateMsgErr (Event 28): "sends a NOTIFICATION message with an Update error,
            // sets the ConnectRetryTimer to zero, deletes all routes associated with this
            // connection, releases all BGP resources, drops the TCP connection, increments the
            // ConnectRetryCounter by 1, (optionally) performs peer oscillation damping ..., and
            // changes its state to Idle."
            (State::Established, Event::UpdateMsgErr(n)) => {
                let reason = with_sent("UPDATE message error", Some(&n));
                self.enter_idle(&mut out, Some(n), reason, Down::Damped);
            }
            // OpenCollisionDump (Event 23): the established connection wins unless
            // CollisionDetectEstablishedState is set (§6.8: "a BGP speaker ... will not accept
            // a new connection ... if it already has a connection in the Established state"),
            // which sidra does not support: the event is ignored.
            (State::Established, Event::OpenCollisionDump) => {}
            // NotifMsgVerErr in Established (a version error after the OPEN exchange makes no
            // sense): handled like any received NOTIFICATION, with damping.
            (State::Established, Event::NotifMsgVerErr) => {
                self.enter_idle(&mut out, None, version_error_reason(), Down::Damped)
            }
            // "In response to any other event (Events 9, 12-13, 20-22), the local system:
            // deletes all routes associated with this connection, sets the ConnectRetryTimer to
            // zero, releases all BGP resources, drops the TCP connection, increments the
            // ConnectRetryCounter by 1, (optionally) performs peer oscillation damping ..., and
            // changes its state to Idle." with a Finite State Machine Error NOTIFICATION; an
            // OPEN on the established connection is "Receive Unexpected Message in Established
            // State" (RFC 6608).
            (
                State::Established,
                Event::ConnectRetryTimerExpires
                | Event::DelayOpenTimerExpires
                | Event::IdleHoldTimerExpires
                | Event::BgpOpen { .. }
                | Event::BgpOpenMsgErr(_),
            ) => self.fsm_error(&mut out, name, message_type),
        }
        out
    }

    /// Idle + start: ConnectRetryCounter = 0, ConnectRetryTimer, then Connect (and a connect
    /// attempt) or, when passive, Active.
    fn start_session(&mut self, out: &mut Vec<Action>) {
        self.connect_retry_counter = 0;
        self.stop(out, Timer::IdleHold);
        self.start_connect_retry(out);
        if self.config.passive {
            self.state = State::Active;
        } else {
            out.push(Action::ConnectTcp);
            self.state = State::Connect;
        }
    }

    /// Connect/Active -> OpenSent: "sends an OPEN message to its peer, sets the HoldTimer to a
    /// large value, and changes its state to OpenSent."
    fn send_open(&mut self, out: &mut Vec<Action>) {
        self.stop(out, Timer::ConnectRetry);
        self.stop(out, Timer::DelayOpen);
        out.push(Action::SendOpen);
        self.start(out, Timer::Hold, OPEN_SENT_HOLD_TIME);
        self.state = State::OpenSent;
    }

    /// A Finite State Machine Error (RFC 4271 §6.6) in OpenSent, OpenConfirm or Established.
    ///
    /// RFC 6608 §4: "If a BGP speaker receives an unexpected message (e.g., KEEPALIVE/
    /// UPDATE/ROUTE-REFRESH message) on a session in OpenSent state, it MUST send to the
    /// neighbor a NOTIFICATION message with the Error Code Finite State Machine Error and the
    /// Error Subcode "Receive Unexpected Message in OpenSent State". The Data field is a
    /// 1-octet, unsigned integer that indicates the type of the unexpected message." (Subcode
    /// 2 in OpenConfirm, 3 in Established.) Unexpected internal events (a timer that cannot be
    /// running) get subcode 0, "Unspecified Error", with no data.
    fn fsm_error(&mut self, out: &mut Vec<Action>, name: &str, message_type: Option<u8>) {
        let state = self.state;
        let n = match (message_type, state) {
            (Some(t), State::OpenSent) => notification(code::FSM, 1, vec![t]),
            (Some(t), State::OpenConfirm) => notification(code::FSM, 2, vec![t]),
            (Some(t), State::Established) => notification(code::FSM, 3, vec![t]),
            _ => notification(code::FSM, 0, Vec::new()),
        };
        let reason = with_sent(
            &format!("FSM error: unexpected {name} in {state}"),
            Some(&n),
        );
        self.enter_idle(out, Some(n), reason, Down::Damped);
    }

    /// A NOTIFICATION from the peer (Event 25) in any state but Idle. A Cease the peer's
    /// operator chose (Administrative Shutdown 6/2, Administrative Reset 6/4) or a collision
    /// resolution (6/7) is not a failure: the restart uses the current wait without doubling
    /// it. Anything else is damped.
    fn received_notification(&mut self, out: &mut Vec<Action>, n: &NotificationMessage) {
        let benign = n.code == code::CEASE
            && matches!(
                n.subcode,
                cease::ADMINISTRATIVE_SHUTDOWN
                    | cease::ADMINISTRATIVE_RESET
                    | cease::CONNECTION_COLLISION_RESOLUTION
            );
        let down = if benign { Down::Restart } else { Down::Damped };
        let reason = format!("received NOTIFICATION {}", describe(n));
        self.enter_idle(out, None, reason, down);
    }
}

fn notification(code: u8, subcode: u8, data: Vec<u8>) -> NotificationMessage {
    NotificationMessage::new(code, subcode, data)
}

/// "3/1 (UPDATE Message Error / Malformed Attribute List)", plus an RFC 9003 message.
fn describe(n: &NotificationMessage) -> String {
    let mut s = format!(
        "{}/{} ({} / {})",
        n.code,
        n.subcode,
        n.code_name(),
        n.subcode_name()
    );
    if let Some(msg) = n.shutdown_message().filter(|m| !m.is_empty()) {
        s.push_str(&format!(": {msg:?}"));
    }
    s
}

fn with_sent(what: &str, n: Option<&NotificationMessage>) -> String {
    match n {
        Some(n) => format!("{what} (sent NOTIFICATION {})", describe(n)),
        None => what.to_owned(),
    }
}

fn version_error_reason() -> String {
    "received NOTIFICATION 2/1 (OPEN Message Error / Unsupported Version Number)".into()
}
