//! The BGP finite state machine of RFC 4271 §8, as a pure core.
//!
//! [`Fsm::handle`] takes one [`Event`] and returns the [`Action`]s to carry out. It does no
//! I/O and reads no clock: timers are started and stopped by actions, and their expiry comes
//! back as events. The session task (`session::Peer`) is the thin async shell around it.
//!
//! STUB: the transition function is being written; the types below are the interface.

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::packet::NotificationMessage;

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

/// RFC 4271 §8.1.3 timers (plus IdleHold of §8.1.1 for peer oscillation damping).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    ConnectRetry,
    Hold,
    Keepalive,
    DelayOpen,
    IdleHold,
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
    /// sending our OPEN, unless the peer's OPEN comes first.
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
    Established { hold_time: u16, keepalive_time: u16 },
    /// The session left Established (or failed before it): release the peer's routes
    /// (unless graceful restart says otherwise, decided by the shell/RIB).
    SessionDown { reason: String },
}
