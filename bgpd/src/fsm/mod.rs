//! The BGP finite state machine of RFC 4271 §8, as a pure core.
//!
//! [`Fsm::handle`] takes one [`Event`] and returns the [`Action`]s to carry out, in order. It
//! does no I/O and reads no clock: timers are started and stopped by actions, and their expiry
//! comes back as events. The session task (`session::Peer`) is the thin async shell around it.
//!
//! # Contract with the shell
//!
//! * Timers are one-shot. `StartTimer(t, d)` (re)arms `t` to fire once after `d`;
//!   `StopTimer(t)` disarms it; an expiry disarms it, and the FSM re-arms it with an action when
//!   the RFC says "restarts". The FSM tracks which timers are armed ([`Fsm::is_running`]) and
//!   only emits `StopTimer` for an armed timer.
//! * `Action::SessionDown` is emitted exactly when leaving Established, after the NOTIFICATION
//!   (if any) and before `DropTcp`.
//! * Every transition to Idle emits `DropTcp`, stops every armed timer, and records the reason
//!   ([`Fsm::last_error`]). After an error it schedules an automatic restart with
//!   `StartTimer(IdleHold, wait)` (DampPeerOscillations, RFC 4271 §8.1.1); the shell feeds back
//!   `IdleHoldTimerExpires`. After a ManualStop nothing is scheduled.
//! * While Established, the shell reports how long the session has been up with
//!   [`Fsm::note_uptime`] (at least before delivering the event that ends the session; calling
//!   it before every event is fine). A session that stayed up for `idle_hold_reset_after` resets
//!   the damping wait to `idle_hold_time`.
//! * After sending an UPDATE (or any message the FSM did not ask for) in Established, the shell
//!   calls [`Fsm::message_sent`] and carries out the returned actions (RFC 4271 §4.4: the
//!   KeepaliveTimer restarts on every KEEPALIVE or UPDATE sent).
//! * A second TCP connection (collision detection, RFC 4271 §6.8) is the shell's business: the
//!   FSM ignores `TcpCrAcked`/`TcpConnectionConfirmed` from OpenSent on ("the second connection
//!   SHALL be tracked"), and when the shell decides that *this* connection loses it delivers
//!   `OpenCollisionDump`. A second connection can be driven by a second `Fsm`.
//! * In Idle the FSM "refuses all incoming BGP connections": `TcpConnectionConfirmed` is
//!   ignored there, and the shell closes such a connection itself.
//!
//! # Deliberate choices where RFC 4271 §8.2.2 leaves room or is silent
//!
//! * Connect + TcpConnectionFails without a DelayOpen connection goes to Active and restarts
//!   the ConnectRetryTimer (the RFC goes to Idle): a refused connect is paced by ConnectRetry,
//!   not by peer damping, and Active keeps accepting the peer's connection.
//! * sidra behaves as if SendNOTIFICATIONwithoutOPEN were TRUE: when a connection exists before
//!   our OPEN was sent (the DelayOpenTimer is running), ManualStop, AutomaticStop and header or
//!   OPEN errors send their NOTIFICATION.
//! * A NOTIFICATION received in OpenSent closes the connection without answering with an FSM
//!   Error (the peer closes right after sending it, §4.5).
//! * Message header errors send their own NOTIFICATION (§6.1) in every state, Established too.
//! * Unexpected *messages* get the RFC 6608 subcodes 1/2/3; unexpected internal events (a timer
//!   that cannot be running) get FSM Error subcode 0 "Unspecified Error".
//! * An `AutomaticStart` while the IdleHoldTimer runs is ignored: damping keeps the peer in
//!   Idle until `IdleHoldTimerExpires`. `ManualStart` overrides it.
//! * Restarts after a received Cease Administrative Shutdown/Reset/Connection Collision
//!   Resolution (6/2, 6/4, 6/7), a version-error NOTIFICATION, an AutomaticStop or an
//!   OpenCollisionDump use the current wait without doubling it; every other error doubles it.

mod transitions;

#[cfg(test)]
mod tests;

use std::fmt;
use std::net::Ipv4Addr;
use std::time::Duration;

use crate::packet::{NotificationMessage, msg_type};

/// RFC 4271 §8.2.2: "set the HoldTimer to a large value" on entering OpenSent; "A HoldTimer
/// value of 4 minutes is suggested."
pub const OPEN_SENT_HOLD_TIME: Duration = Duration::from_secs(240);

/// RFC 4271 §8.2.2 session states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    Idle,
    Connect,
    Active,
    OpenSent,
    OpenConfirm,
    Established,
}

impl State {
    pub const fn name(self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Connect => "connect",
            State::Active => "active",
            State::OpenSent => "open-sent",
            State::OpenConfirm => "open-confirm",
            State::Established => "established",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// RFC 4271 §8.1.3 timers (plus IdleHold of §8.1.1 for peer oscillation damping).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    ConnectRetry,
    Hold,
    Keepalive,
    DelayOpen,
    IdleHold,
}

impl Timer {
    /// Every timer, in the order `StopTimer` actions are emitted when entering Idle.
    pub const ALL: [Timer; 5] = [
        Timer::ConnectRetry,
        Timer::Hold,
        Timer::Keepalive,
        Timer::DelayOpen,
        Timer::IdleHold,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Timer::ConnectRetry => "connect-retry",
            Timer::Hold => "hold",
            Timer::Keepalive => "keepalive",
            Timer::DelayOpen => "delay-open",
            Timer::IdleHold => "idle-hold",
        }
    }

    const fn bit(self) -> u8 {
        match self {
            Timer::ConnectRetry => 1,
            Timer::Hold => 1 << 1,
            Timer::Keepalive => 1 << 2,
            Timer::DelayOpen => 1 << 3,
            Timer::IdleHold => 1 << 4,
        }
    }
}

/// What the FSM needs from the configuration (RFC 4271 §8.1.1 optional attributes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FsmConfig {
    /// PassiveTcpEstablishment: never connect, only accept.
    pub passive: bool,
    /// ConnectRetryTime (RFC 4271 §10 suggests 120 s; tests use 1 s).
    pub connect_retry_time: Duration,
    /// The Hold Time we put in our OPEN (0, or 3..=65535 s).
    pub hold_time: u16,
    /// Our keepalive interval if configured; else negotiated hold time / 3.
    pub keepalive_time: Option<u16>,
    /// DelayOpen / DelayOpenTime (§8.1.1): wait this long after the TCP connection before
    /// sending our OPEN, unless the peer's OPEN comes first. `Some(0)` is the same as `None`.
    pub delay_open_time: Option<Duration>,
    /// DampPeerOscillations with IdleHoldTime: the first and the largest wait before an
    /// automatic restart after an error. The wait doubles on every error and is reset when a
    /// session has stayed Established for `idle_hold_reset_after`.
    pub idle_hold_time: Duration,
    pub max_idle_hold_time: Duration,
    pub idle_hold_reset_after: Duration,
    /// Seed for the ConnectRetry jitter (RFC 4271 §10: times are multiplied by a random factor
    /// in 0.75..=1.0); a fixed seed makes the FSM deterministic in tests.
    pub jitter_seed: u64,
}

/// RFC 4271 §8.1.2-§8.1.5 events. The numbers are the RFC's event numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// 1 / 4: ManualStart (with PassiveTcpEstablishment when configured passive).
    ManualStart,
    /// 2: ManualStop: the NOTIFICATION to send (Cease 6/2 with an RFC 9003 message, or 6/3).
    ManualStop(NotificationMessage),
    /// 3 / 5 / 6 / 7: AutomaticStart (after IdleHold, or at daemon start).
    AutomaticStart,
    /// 8: AutomaticStop: e.g. max-prefix (Cease 6/1) or a hard reset (Cease 6/9).
    AutomaticStop(NotificationMessage),
    /// 9
    ConnectRetryTimerExpires,
    /// 10
    HoldTimerExpires,
    /// 11
    KeepaliveTimerExpires,
    /// 12
    DelayOpenTimerExpires,
    /// 13
    IdleHoldTimerExpires,
    /// 16: Tcp_CR_Acked: our outgoing connection completed.
    TcpCrAcked,
    /// 17: TcpConnectionConfirmed: an incoming connection was accepted for this peer.
    TcpConnectionConfirmed,
    /// 18: TcpConnectionFails (reset, EOF, connect error).
    TcpConnectionFails,
    /// 19 / 20: BGPOpen: a valid OPEN was received (the shell validated it with
    /// `packet::open::validate_open`). `hold_time` is the peer's proposed Hold Time.
    BgpOpen { hold_time: u16, bgp_id: Ipv4Addr },
    /// 21: BGPHeaderErr: the NOTIFICATION to send (Message Header Error).
    BgpHeaderErr(NotificationMessage),
    /// 22: BGPOpenMsgErr: the NOTIFICATION to send (OPEN Message Error).
    BgpOpenMsgErr(NotificationMessage),
    /// 23: OpenCollisionDump: collision detection (§6.8) chose to close this connection.
    OpenCollisionDump,
    /// 24: NotifMsgVerErr: a NOTIFICATION with an OPEN version error was received.
    NotifMsgVerErr,
    /// 25: NotifMsg: a NOTIFICATION was received.
    NotifMsg(NotificationMessage),
    /// 26
    KeepAliveMsg,
    /// 27: UpdateMsg: a (decodable) UPDATE was received; its content is the shell's business.
    UpdateMsg,
    /// 28: UpdateMsgErr: an UPDATE that ends the session: the NOTIFICATION to send.
    UpdateMsgErr(NotificationMessage),
    /// A ROUTE-REFRESH was received (RFC 2918); restarts the hold timer like any message in
    /// Established (RFC 4271 §4.4 counts every message).
    RouteRefreshMsg,
}

impl Event {
    /// The RFC 4271 §8.1 name of the event.
    pub const fn name(&self) -> &'static str {
        match self {
            Event::ManualStart => "ManualStart",
            Event::ManualStop(_) => "ManualStop",
            Event::AutomaticStart => "AutomaticStart",
            Event::AutomaticStop(_) => "AutomaticStop",
            Event::ConnectRetryTimerExpires => "ConnectRetryTimer_Expires",
            Event::HoldTimerExpires => "HoldTimer_Expires",
            Event::KeepaliveTimerExpires => "KeepaliveTimer_Expires",
            Event::DelayOpenTimerExpires => "DelayOpenTimer_Expires",
            Event::IdleHoldTimerExpires => "IdleHoldTimer_Expires",
            Event::TcpCrAcked => "Tcp_CR_Acked",
            Event::TcpConnectionConfirmed => "TcpConnectionConfirmed",
            Event::TcpConnectionFails => "TcpConnectionFails",
            Event::BgpOpen { .. } => "BGPOpen",
            Event::BgpHeaderErr(_) => "BGPHeaderErr",
            Event::BgpOpenMsgErr(_) => "BGPOpenMsgErr",
            Event::OpenCollisionDump => "OpenCollisionDump",
            Event::NotifMsgVerErr => "NotifMsgVerErr",
            Event::NotifMsg(_) => "NotifMsg",
            Event::KeepAliveMsg => "KeepAliveMsg",
            Event::UpdateMsg => "UpdateMsg",
            Event::UpdateMsgErr(_) => "UpdateMsgErr",
            Event::RouteRefreshMsg => "RouteRefreshMsg",
        }
    }

    /// The type of the received BGP message the event stands for (RFC 4271 §4.1), or `None`
    /// for internal events (starts, stops, timers, TCP) and header errors.
    pub const fn message_type(&self) -> Option<u8> {
        match self {
            Event::BgpOpen { .. } | Event::BgpOpenMsgErr(_) => Some(msg_type::OPEN),
            Event::UpdateMsg | Event::UpdateMsgErr(_) => Some(msg_type::UPDATE),
            Event::NotifMsg(_) | Event::NotifMsgVerErr => Some(msg_type::NOTIFICATION),
            Event::KeepAliveMsg => Some(msg_type::KEEPALIVE),
            Event::RouteRefreshMsg => Some(msg_type::ROUTE_REFRESH),
            Event::ManualStart
            | Event::ManualStop(_)
            | Event::AutomaticStart
            | Event::AutomaticStop(_)
            | Event::ConnectRetryTimerExpires
            | Event::HoldTimerExpires
            | Event::KeepaliveTimerExpires
            | Event::DelayOpenTimerExpires
            | Event::IdleHoldTimerExpires
            | Event::TcpCrAcked
            | Event::TcpConnectionConfirmed
            | Event::TcpConnectionFails
            | Event::BgpHeaderErr(_)
            | Event::OpenCollisionDump => None,
        }
    }

    /// The timer whose expiry this event reports.
    pub const fn expired_timer(&self) -> Option<Timer> {
        match self {
            Event::ConnectRetryTimerExpires => Some(Timer::ConnectRetry),
            Event::HoldTimerExpires => Some(Timer::Hold),
            Event::KeepaliveTimerExpires => Some(Timer::Keepalive),
            Event::DelayOpenTimerExpires => Some(Timer::DelayOpen),
            Event::IdleHoldTimerExpires => Some(Timer::IdleHold),
            _ => None,
        }
    }

    /// The expiry event of `timer`.
    pub const fn timer_expires(timer: Timer) -> Event {
        match timer {
            Timer::ConnectRetry => Event::ConnectRetryTimerExpires,
            Timer::Hold => Event::HoldTimerExpires,
            Timer::Keepalive => Event::KeepaliveTimerExpires,
            Timer::DelayOpen => Event::DelayOpenTimerExpires,
            Timer::IdleHold => Event::IdleHoldTimerExpires,
        }
    }
}

/// What the shell must do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Initiate an outgoing TCP connection to the peer.
    ConnectTcp,
    /// Close the connection (after flushing anything queued before this action).
    DropTcp,
    SendOpen,
    SendKeepalive,
    SendNotification(NotificationMessage),
    StartTimer(Timer, Duration),
    StopTimer(Timer),
    /// The session reached Established with these negotiated timers.
    Established {
        hold_time: u16,
        keepalive_time: u16,
    },
    /// The session left Established (or failed before it): release the peer's routes
    /// (unless graceful restart says otherwise, decided by the shell/RIB).
    SessionDown {
        reason: String,
    },
}

/// How a transition to Idle treats the automatic restart (RFC 4271 §8.1.1
/// DampPeerOscillations, with the IdleHoldTimer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Down {
    /// ManualStop: the operator's intent. ConnectRetryCounter = 0, no restart, and the damping
    /// wait goes back to `idle_hold_time`.
    Manual,
    /// Not the peer's fault (AutomaticStop, a collision, an administrative Cease from the
    /// peer): ConnectRetryCounter + 1, restart after the current wait, which is not doubled.
    Restart,
    /// An error: ConnectRetryCounter + 1, restart after the current wait, which then doubles
    /// (up to `max_idle_hold_time`).
    Damped,
}

/// The BGP FSM of one connection.
#[derive(Clone, Debug)]
pub struct Fsm {
    config: FsmConfig,
    state: State,
    /// Armed timers, one bit per [`Timer`].
    running: u8,
    connect_retry_counter: u32,
    hold_time: Option<u16>,
    keepalive_time: Option<u16>,
    peer_bgp_id: Option<Ipv4Addr>,
    last_error: Option<String>,
    established_transitions: u32,
    /// The wait of the next automatic restart after an error.
    idle_hold: Duration,
    /// The longest uptime noted during the current Established period.
    uptime: Duration,
    rng: SplitMix64,
}

impl Fsm {
    /// A new FSM, in Idle, with no timer running.
    pub fn new(config: FsmConfig) -> Fsm {
        Fsm {
            idle_hold: config.idle_hold_time,
            rng: SplitMix64(config.jitter_seed),
            config,
            state: State::Idle,
            running: 0,
            connect_retry_counter: 0,
            hold_time: None,
            keepalive_time: None,
            peer_bgp_id: None,
            last_error: None,
            established_transitions: 0,
            uptime: Duration::ZERO,
        }
    }

    pub fn config(&self) -> &FsmConfig {
        &self.config
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// The negotiated Hold Time (RFC 4271 §4.2: the smaller of ours and the peer's), set when
    /// the peer's OPEN is accepted; `None` before that and again in Idle.
    pub fn hold_time(&self) -> Option<u16> {
        self.hold_time
    }

    /// The keepalive interval in use with [`Fsm::hold_time`]: 0 when the hold time is 0, else
    /// the configured keepalive clamped to 1..=hold/3, or hold/3.
    pub fn keepalive_time(&self) -> Option<u16> {
        self.keepalive_time
    }

    /// The BGP Identifier of the peer's OPEN; `None` before it and again in Idle.
    pub fn peer_bgp_id(&self) -> Option<Ipv4Addr> {
        self.peer_bgp_id
    }

    /// RFC 4271 §8: ConnectRetryCounter (set to zero by a start from Idle and by ManualStop,
    /// incremented by every other transition to Idle).
    pub fn connect_retry_counter(&self) -> u32 {
        self.connect_retry_counter
    }

    /// Why the FSM last went to Idle (kept until the next time it does).
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// How many times the session reached Established.
    pub fn established_transitions(&self) -> u32 {
        self.established_transitions
    }

    /// Whether `timer` is armed, as far as the actions emitted so far go.
    pub fn is_running(&self, timer: Timer) -> bool {
        self.running & timer.bit() != 0
    }

    /// The armed timers, in [`Timer::ALL`] order.
    pub fn running_timers(&self) -> Vec<Timer> {
        Timer::ALL
            .into_iter()
            .filter(|t| self.is_running(*t))
            .collect()
    }

    /// The wait the next automatic restart after an error will use (damping).
    pub fn idle_hold_wait(&self) -> Duration {
        self.idle_hold
    }

    /// Tell the FSM how long the current session has been Established (the FSM reads no
    /// clock). Call it before delivering the event that ends the session (calling it before
    /// every event while Established is fine); ignored outside Established. If the largest
    /// uptime noted reaches `idle_hold_reset_after`, leaving Established resets the damping
    /// wait to `idle_hold_time`.
    pub fn note_uptime(&mut self, uptime: Duration) {
        if self.state == State::Established {
            self.uptime = self.uptime.max(uptime);
        }
    }

    /// The shell sent an UPDATE (or another message the FSM did not ask for). RFC 4271 §4.4:
    /// "each time the local system sends a KEEPALIVE or UPDATE message, it restarts its
    /// KeepaliveTimer, unless the negotiated HoldTime value is zero." Returns the
    /// `StartTimer(Keepalive, _)` to carry out, or nothing outside Established or with a hold
    /// time of 0.
    pub fn message_sent(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        if self.state == State::Established {
            self.restart_keepalive(&mut out);
        }
        out
    }

    // ----- helpers for the transitions -----

    fn start(&mut self, out: &mut Vec<Action>, timer: Timer, after: Duration) {
        self.running |= timer.bit();
        out.push(Action::StartTimer(timer, after));
    }

    fn stop(&mut self, out: &mut Vec<Action>, timer: Timer) {
        if self.is_running(timer) {
            self.running &= !timer.bit();
            out.push(Action::StopTimer(timer));
        }
    }

    /// An expiry disarms the one-shot timer; no action is needed for that.
    fn expired(&mut self, timer: Timer) {
        self.running &= !timer.bit();
    }

    /// RFC 4271 §10: "ConnectRetryTime ... the jitter applied to these timers ... multiply the
    /// base value of the timer by a random factor, which is uniformly distributed in the range
    /// from 0.75 to 1.0."
    fn jittered_connect_retry(&mut self) -> Duration {
        const SCALE: u64 = 1_000_000;
        let factor = 750_000 + self.rng.next() % 250_001; // 0.75..=1.0 in millionths
        let nanos =
            self.config.connect_retry_time.as_nanos() * u128::from(factor) / u128::from(SCALE);
        let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
        let sub = u32::try_from(nanos % 1_000_000_000).unwrap_or(0);
        Duration::new(secs, sub)
    }

    fn start_connect_retry(&mut self, out: &mut Vec<Action>) {
        let after = self.jittered_connect_retry();
        self.start(out, Timer::ConnectRetry, after);
    }

    fn delay_open(&self) -> Option<Duration> {
        self.config.delay_open_time.filter(|d| !d.is_zero())
    }

    /// RFC 4271 §4.2 / §10: the negotiated Hold Time and the keepalive interval.
    fn negotiate(&self, peer_hold: u16) -> (u16, u16) {
        let hold = self.config.hold_time.min(peer_hold);
        if hold == 0 {
            return (0, 0);
        }
        let max_keepalive = (hold / 3).max(1);
        let keepalive = self
            .config
            .keepalive_time
            .unwrap_or(hold / 3)
            .clamp(1, max_keepalive);
        (hold, keepalive)
    }

    /// The peer's OPEN is accepted: send our KEEPALIVE, arm Keepalive and Hold with the
    /// negotiated values (or disarm them when the hold time is 0), go to OpenConfirm.
    fn open_confirm(&mut self, out: &mut Vec<Action>, peer_hold: u16, bgp_id: Ipv4Addr) {
        let (hold, keepalive) = self.negotiate(peer_hold);
        self.hold_time = Some(hold);
        self.keepalive_time = Some(keepalive);
        self.peer_bgp_id = Some(bgp_id);
        out.push(Action::SendKeepalive);
        if hold == 0 {
            // "If the negotiated hold time value is zero, then the HoldTimer and
            // KeepaliveTimer are not started."
            self.stop(out, Timer::Keepalive);
            self.stop(out, Timer::Hold);
        } else {
            self.start(out, Timer::Keepalive, secs(keepalive));
            self.start(out, Timer::Hold, secs(hold));
        }
        self.state = State::OpenConfirm;
    }

    /// Restart the HoldTimer with the negotiated value, unless it is 0.
    fn restart_hold(&mut self, out: &mut Vec<Action>) {
        if let Some(hold) = self.hold_time.filter(|h| *h != 0) {
            self.start(out, Timer::Hold, secs(hold));
        }
    }

    /// Restart the KeepaliveTimer with the negotiated value, unless the hold time is 0.
    fn restart_keepalive(&mut self, out: &mut Vec<Action>) {
        if self.hold_time.is_some_and(|h| h != 0) {
            let keepalive = self.keepalive_time.unwrap_or(0).max(1);
            self.start(out, Timer::Keepalive, secs(keepalive));
        }
    }

    /// Every transition to Idle: the NOTIFICATION (if any), SessionDown when leaving
    /// Established, DropTcp, StopTimer for every armed timer, then the automatic restart.
    fn enter_idle(
        &mut self,
        out: &mut Vec<Action>,
        notification: Option<NotificationMessage>,
        reason: String,
        down: Down,
    ) {
        if let Some(n) = notification {
            out.push(Action::SendNotification(n));
        }
        if self.state == State::Established {
            out.push(Action::SessionDown {
                reason: reason.clone(),
            });
            if self.uptime >= self.config.idle_hold_reset_after {
                self.idle_hold = self.config.idle_hold_time;
            }
        }
        out.push(Action::DropTcp);
        for timer in Timer::ALL {
            self.stop(out, timer);
        }
        match down {
            Down::Manual => {
                self.connect_retry_counter = 0;
                self.idle_hold = self.config.idle_hold_time;
            }
            Down::Restart => {
                self.connect_retry_counter = self.connect_retry_counter.saturating_add(1);
                let wait = self.idle_hold;
                self.start(out, Timer::IdleHold, wait);
            }
            Down::Damped => {
                self.connect_retry_counter = self.connect_retry_counter.saturating_add(1);
                let wait = self.idle_hold;
                self.start(out, Timer::IdleHold, wait);
                let max = self
                    .config
                    .max_idle_hold_time
                    .max(self.config.idle_hold_time);
                self.idle_hold = wait.saturating_mul(2).min(max);
            }
        }
        self.hold_time = None;
        self.keepalive_time = None;
        self.peer_bgp_id = None;
        self.uptime = Duration::ZERO;
        self.last_error = Some(reason);
        self.state = State::Idle;
    }
}

fn secs(s: u16) -> Duration {
    Duration::from_secs(u64::from(s))
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny deterministic generator, good enough for
/// timer jitter.
#[derive(Clone, Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
