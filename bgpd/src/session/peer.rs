//! The peer task: the thin async shell around [`Fsm`]. It turns socket reads, timer expiries,
//! connect results and daemon commands into FSM events, and carries out the FSM's actions.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::conn::{Connection, Direction, ReadEvent};
use super::transport;
use super::{PeerCommand, PeerSettings, PeerStatus};
use crate::fsm::{Action, Event, Fsm, State, Timer};
use crate::packet::capability::{Negotiated, negotiate};
use crate::packet::error::code;
use crate::packet::notification::cease;
use crate::packet::open::{OpenExpectations, validate_open};
use crate::packet::{
    DecodeContext, EncodeContext, ErrorAction, Family, Message, MessageError, NotificationMessage,
    OpenMessage, decode_message, encode_message,
};
use crate::rib::outbox::OutItem;
use crate::rib::update_out::{OutRoute, pack};
use crate::rib::{Outbox, PeerInfo, RibHandle, RibInput};
use std::sync::Arc;

/// Timer deadlines, one slot per [`Timer`].
#[derive(Default)]
struct Timers([Option<Instant>; 5]);

const ALL_TIMERS: [Timer; 5] = [
    Timer::ConnectRetry,
    Timer::Hold,
    Timer::Keepalive,
    Timer::DelayOpen,
    Timer::IdleHold,
];

fn slot(t: Timer) -> usize {
    match t {
        Timer::ConnectRetry => 0,
        Timer::Hold => 1,
        Timer::Keepalive => 2,
        Timer::DelayOpen => 3,
        Timer::IdleHold => 4,
    }
}

impl Timers {
    fn next(&self) -> Option<(Timer, Instant)> {
        ALL_TIMERS
            .iter()
            .filter_map(|t| self.0[slot(*t)].map(|d| (*t, d)))
            .min_by_key(|(_, d)| *d)
    }
}

fn timer_event(t: Timer) -> Event {
    match t {
        Timer::ConnectRetry => Event::ConnectRetryTimerExpires,
        Timer::Hold => Event::HoldTimerExpires,
        Timer::Keepalive => Event::KeepaliveTimerExpires,
        Timer::DelayOpen => Event::DelayOpenTimerExpires,
        Timer::IdleHold => Event::IdleHoldTimerExpires,
    }
}

/// RFC 4724 §4.2 receiving-speaker ("helper") state for a restarting peer.
#[derive(Default)]
struct GracefulRestartHelper {
    /// The families whose paths the RIB keeps stale.
    stale: Vec<Family>,
    /// The peer must come back before this (its advertised Restart Time).
    restart_deadline: Option<Instant>,
    /// Families still waiting for the peer's End-of-RIB after it came back.
    awaiting_eor: Vec<Family>,
    /// Give up waiting for End-of-RIBs at this time (the stale-path time).
    stale_deadline: Option<Instant>,
    /// RFC 9494: the families the peer's LLGR capability covers, with the stale time we keep
    /// them for once the restart time is over (the peer's, at most ours).
    llgr: Vec<(Family, u32)>,
    /// The long-lived stale period ends at this time (set when it begins).
    llgr_deadline: Option<Instant>,
}

impl GracefulRestartHelper {
    fn deadline(&self) -> Option<Instant> {
        [
            self.restart_deadline,
            self.stale_deadline,
            self.llgr_deadline,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// A peer's Graceful Restart capability: flags, restart time, families with their flags.
type PeerGr = (u8, u16, Vec<(Family, u8)>);

/// RFC 4724 §4.2 leaves the wait for End-of-RIB to a local timer; FRR's default is 360 s.
const STALE_PATH_TIME: Duration = Duration::from_secs(360);

/// A second connection that arrived while the first was opening (RFC 4271 §6.8).
struct Candidate {
    conn: Connection,
    open: Option<OpenMessage>,
}

pub(super) struct Peer {
    settings: PeerSettings,
    fsm: Fsm,
    timers: Timers,
    conn: Option<Connection>,
    candidate: Option<Candidate>,
    connecting: Option<JoinHandle<std::io::Result<TcpStream>>>,
    sent_open: OpenMessage,
    negotiated: Option<Negotiated>,
    decode_cx: DecodeContext,
    encode_cx: EncodeContext,
    rib: RibHandle,
    outbox: Option<Arc<Outbox>>,
    /// RFC 4271 §9.2.1.1: while this lies ahead, what the RIB queues waits (and coalesces
    /// in the outbox); `mrai_pending` says something is waiting.
    mrai_until: Option<Instant>,
    mrai_pending: bool,
    /// The peer's OPEN on the current (or last) session.
    received_open: Option<OpenMessage>,
    /// A NOTIFICATION sent or received on this session (RFC 8538 decides on it).
    notification_seen: Option<(u8, u8)>,
    gr: GracefulRestartHelper,
    disabled_families: Vec<Family>,
    established_at: Option<Instant>,
    status: PeerStatus,
    status_tx: watch::Sender<PeerStatus>,
}

impl Peer {
    pub(super) fn new(
        settings: PeerSettings,
        status_tx: watch::Sender<PeerStatus>,
        rib: RibHandle,
    ) -> Peer {
        let sent_open = OpenMessage::new(
            settings.local_as,
            settings.fsm.hold_time,
            settings.router_id,
            settings.capabilities(),
        );
        let status = PeerStatus::new(settings.endpoint.address);
        Peer {
            fsm: Fsm::new(settings.fsm.clone()),
            settings,
            timers: Timers::default(),
            conn: None,
            candidate: None,
            connecting: None,
            sent_open,
            negotiated: None,
            decode_cx: DecodeContext::default(),
            encode_cx: EncodeContext::default(),
            rib,
            outbox: None,
            mrai_until: None,
            mrai_pending: false,
            received_open: None,
            notification_seen: None,
            gr: GracefulRestartHelper::default(),
            disabled_families: Vec::new(),
            established_at: None,
            status,
            status_tx,
        }
    }

    /// Run until a Shutdown command (or the daemon drops its handle).
    pub(super) async fn run(&mut self, commands: &mut mpsc::Receiver<PeerCommand>) {
        if !self.settings.admin_down {
            self.event(Event::AutomaticStart).await;
        }
        loop {
            let next_timer = self.timers.next();
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    None => { self.shutdown(cease::ADMINISTRATIVE_SHUTDOWN, "sidrad is shutting down").await; return; }
                    Some(PeerCommand::Shutdown { subcode, message }) => { self.shutdown(subcode, &message).await; return; }
                    Some(cmd) => self.command(cmd).await,
                },
                ev = recv_opt(&mut self.conn) => self.read_event(ev).await,
                ev = recv_candidate(&mut self.candidate) => self.candidate_event(ev).await,
                _ = notified_opt(&self.outbox) => {
                    if self.mrai_until.is_some_and(|t| Instant::now() < t) {
                        self.mrai_pending = true;
                    } else {
                        self.drain_outbox().await;
                    }
                }
                _ = sleep_opt(self.mrai_until.filter(|_| self.mrai_pending)) => {
                    self.mrai_until = None;
                    self.mrai_pending = false;
                    self.drain_outbox().await;
                }
                _ = sleep_opt(self.gr.deadline()) => self.gr_timer().await,
                res = join_opt(&mut self.connecting) => {
                    self.connecting = None;
                    self.connected(res).await;
                }
                _ = sleep_opt(next_timer.map(|(_, d)| d)) => {
                    if let Some((t, _)) = next_timer {
                        self.timers.0[slot(t)] = None;
                        if t == Timer::ConnectRetry {
                            self.connect_unanswered();
                        }
                        self.event(timer_event(t)).await;
                    }
                }
            }
        }
    }

    async fn shutdown(&mut self, subcode: u8, message: &str) {
        // RFC 9003 §2: a Shutdown Communication goes with subcodes 2 and 4 only.
        let n = if matches!(
            subcode,
            cease::ADMINISTRATIVE_SHUTDOWN | cease::ADMINISTRATIVE_RESET
        ) {
            NotificationMessage::cease_shutdown(subcode, message)
        } else {
            NotificationMessage::new(code::CEASE, subcode, Vec::new())
        };
        if self.conn.is_some() {
            self.event(Event::ManualStop(n)).await;
        }
        if let Some(c) = self.candidate.take() {
            c.conn.close();
        }
    }

    async fn command(&mut self, cmd: PeerCommand) {
        match cmd {
            PeerCommand::Start => {
                self.settings.admin_down = false;
                self.event(Event::ManualStart).await;
            }
            PeerCommand::Stop { message } => {
                self.settings.admin_down = true;
                let n =
                    NotificationMessage::cease_shutdown(cease::ADMINISTRATIVE_SHUTDOWN, &message);
                self.event(Event::ManualStop(n)).await;
            }
            PeerCommand::Incoming(stream, from) => self.incoming(stream, from).await,
            PeerCommand::Shutdown { .. } => {}
            PeerCommand::SetPolicy(policy) => {
                self.settings.policy = policy.clone();
                if self.fsm.state() != State::Established {
                    return;
                }
                let (tx, rx) = tokio::sync::oneshot::channel();
                self.rib
                    .send(RibInput::SetPolicy(self.settings.peer_id, policy, Some(tx)))
                    .await;
                let soft = rx.await.unwrap_or(true);
                let refresh = self.negotiated.as_ref().is_some_and(|n| n.route_refresh);
                if !soft && refresh {
                    // RFC 2918: get the routes again to run them through the new policy.
                    for f in self.status.families.clone() {
                        info!(peer = %self.settings.endpoint.address, family = %f, "policy changed: requesting a route refresh");
                        let m = crate::packet::route_refresh::RouteRefreshMessage::new(f);
                        self.send(&Message::RouteRefresh(m)).await;
                    }
                } else if !soft {
                    warn!(peer = %self.settings.endpoint.address, "policy changed but the peer has no route refresh and soft reconfiguration inbound is off: the new import policy applies to new routes only");
                }
            }
            PeerCommand::Reset { hard } => {
                let reset =
                    NotificationMessage::new(code::CEASE, cease::ADMINISTRATIVE_RESET, Vec::new());
                let n = if hard {
                    NotificationMessage::hard_reset(&reset)
                } else {
                    reset
                };
                info!(peer = %self.settings.endpoint.address, hard, "resetting the session");
                self.event(Event::ManualStop(n)).await;
                if !self.settings.admin_down {
                    self.event(Event::ManualStart).await;
                }
            }
        }
    }

    /// An accepted connection from our peer's address.
    async fn incoming(&mut self, stream: TcpStream, from: SocketAddr) {
        if let Some(hops) = self.settings.endpoint.ttl_security
            && let Err(e) = transport::secure_accepted(&stream, hops)
        {
            warn!(peer = %from, "cannot apply TTL security to an accepted connection: {e}");
            return;
        }
        let conn = match Connection::new(stream, Direction::Incoming) {
            Ok(c) => c,
            Err(e) => {
                debug!(peer = %from, "accepted connection unusable: {e}");
                return;
            }
        };
        match self.fsm.state() {
            // RFC 4271 §8.2.2: in Idle "any TCP connection attempts are refused".
            State::Idle => {
                debug!(peer = %from, "refusing a connection while idle");
                conn.close();
            }
            State::Connect | State::Active if self.conn.is_none() => {
                if let Some(h) = self.connecting.take() {
                    h.abort();
                }
                info!(peer = %from, "accepted connection from the peer");
                self.attach(conn);
                self.event(Event::TcpConnectionConfirmed).await;
            }
            State::OpenSent | State::OpenConfirm if self.candidate.is_none() => {
                // RFC 4271 §6.8: keep both until an OPEN tells which to keep.
                info!(peer = %from, "second connection while opening: collision detection");
                let bytes = self.encode(&Message::Open(self.sent_open.clone()));
                if conn.send(bytes).await {
                    self.candidate = Some(Candidate { conn, open: None });
                }
            }
            State::Established if self.peer_preserves_forwarding() => {
                // RFC 4724 §4.2: a peer that restarted may connect before we notice the old
                // session is gone. Only a peer whose Graceful Restart capability lists families
                // (it has forwarding state to keep, as FRR's "NSF mode") is taken for restarting,
                // and only once the new connection brings a valid OPEN: a stray connection must
                // not end a working session.
                if self.candidate.is_some() {
                    conn.close();
                } else {
                    info!(peer = %from, "new connection from an established peer: waiting for its OPEN");
                    self.candidate = Some(Candidate { conn, open: None });
                }
            }
            _ => {
                // RFC 4271 §6.8: an Established session wins over a new connection.
                let n = NotificationMessage::new(
                    code::CEASE,
                    cease::CONNECTION_COLLISION_RESOLUTION,
                    Vec::new(),
                );
                let bytes = self.encode(&Message::Notification(n));
                conn.send(bytes).await;
                conn.close();
            }
        }
    }

    fn attach(&mut self, conn: Connection) {
        self.status.local = Some(conn.local);
        self.status.remote = Some(conn.remote);
        self.conn = Some(conn);
    }

    async fn connected(&mut self, res: Result<std::io::Result<TcpStream>, tokio::task::JoinError>) {
        let ep = self.settings.endpoint.socket_addr();
        let stream = match res {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                let why = if e.kind() == std::io::ErrorKind::TimedOut {
                    self.no_answer_reason()
                } else {
                    e.to_string()
                };
                info!(peer = %ep, "connect failed: {why}; waiting for the connect-retry timer");
                self.status.last_error = Some(format!("connect: {why}"));
                self.event(Event::TcpConnectionFails).await;
                return;
            }
            Err(_) => return, // aborted
        };
        if self.conn.is_some() {
            return; // an incoming connection won meanwhile
        }
        match Connection::new(stream, Direction::Outgoing) {
            Ok(c) => {
                debug!(peer = %ep, "connected");
                self.attach(c);
                self.event(Event::TcpCrAcked).await;
            }
            Err(e) => {
                info!(peer = %ep, "connection unusable: {e}");
                self.event(Event::TcpConnectionFails).await;
            }
        }
    }

    /// The connect-retry timer ran out while our connect got no answer: say why we are still
    /// waiting (a wrong TCP-MD5 key looks exactly like this: the peer's kernel drops our SYNs).
    fn connect_unanswered(&mut self) {
        if self.connecting.as_ref().is_some_and(|h| !h.is_finished()) {
            let why = self.no_answer_reason();
            info!(peer = %self.settings.endpoint.socket_addr(), "connect failed: {why}; retrying");
            self.status.last_error = Some(format!("connect: {why}"));
        }
    }

    fn no_answer_reason(&self) -> String {
        if self.settings.endpoint.password.is_some() {
            "no answer (check reachability and that both sides use the same TCP-MD5 password)"
                .to_string()
        } else {
            "no answer (check reachability)".to_string()
        }
    }

    fn encode(&self, m: &Message) -> Bytes {
        let mut b = BytesMut::with_capacity(64);
        encode_message(m, &self.encode_cx, &mut b);
        b.freeze()
    }

    async fn send(&mut self, m: &Message) {
        let bytes = self.encode(m);
        if let Some(c) = &self.conn
            && c.send(bytes).await
        {
            self.status.messages_sent += 1;
        }
    }

    /// Feed one event to the FSM and carry out its actions.
    async fn event(&mut self, ev: Event) {
        if let (State::Established, Some(at)) = (self.fsm.state(), self.established_at) {
            self.fsm.note_uptime(at.elapsed());
        }
        let before = self.fsm.state();
        let actions = self.fsm.handle(ev);
        for a in actions {
            self.act(a).await;
        }
        let after = self.fsm.state();
        if before != after {
            debug!(peer = %self.settings.endpoint.address, "{} -> {}", before.name(), after.name());
        }
        self.publish();
    }

    async fn act(&mut self, a: Action) {
        match a {
            Action::ConnectTcp => {
                if let Some(h) = self.connecting.take() {
                    h.abort();
                }
                let ep = self.settings.endpoint.clone();
                let timeout = self.settings.fsm.connect_retry_time;
                self.connecting = Some(tokio::spawn(async move {
                    transport::connect(&ep, timeout).await
                }));
            }
            Action::DropTcp => {
                if let Some(h) = self.connecting.take() {
                    h.abort();
                }
                if let Some(c) = self.conn.take() {
                    c.close();
                }
                if let Some(c) = self.candidate.take() {
                    c.conn.close();
                }
                self.negotiated = None;
                self.decode_cx = DecodeContext::default();
                self.encode_cx = EncodeContext::default();
            }
            Action::SendOpen => {
                // Rebuilt for every connection: the Restart State bit depends on our uptime.
                self.sent_open = OpenMessage::new(
                    self.settings.local_as,
                    self.settings.fsm.hold_time,
                    self.settings.router_id,
                    self.settings.capabilities(),
                );
                self.send(&Message::Open(self.sent_open.clone())).await
            }
            Action::SendKeepalive => self.send(&Message::Keepalive).await,
            Action::SendNotification(n) => {
                warn!(
                    peer = %self.settings.endpoint.address,
                    "sending NOTIFICATION {}/{} ({} / {})",
                    n.code, n.subcode, n.code_name(), n.subcode_name()
                );
                self.status.last_error = Some(format!(
                    "sent NOTIFICATION {}/{} {}",
                    n.code,
                    n.subcode,
                    n.subcode_name()
                ));
                self.notification_seen = Some((n.code, n.subcode));
                self.send(&Message::Notification(n)).await;
            }
            Action::StartTimer(t, d) => self.timers.0[slot(t)] = Some(Instant::now() + d),
            Action::StopTimer(t) => self.timers.0[slot(t)] = None,
            Action::Established {
                hold_time,
                keepalive_time,
            } => {
                self.established_at = Some(Instant::now());
                self.status.established_since = Some(SystemTime::now());
                self.status.established_transitions += 1;
                self.status.negotiated_hold_time = Some(hold_time);
                self.status.last_error = None;
                self.notification_seen = None;
                self.rib_peer_up().await;
                info!(
                    peer = %self.settings.endpoint.address,
                    hold_time, keepalive_time,
                    families = %self.status.families.iter().map(|f| f.name()).collect::<Vec<_>>().join(","),
                    "session established"
                );
            }
            Action::SessionDown { reason } => {
                info!(peer = %self.settings.endpoint.address, "session down: {reason}");
                self.established_at = None;
                self.status.established_since = None;
                self.status.last_error = Some(reason);
                self.disabled_families.clear();
                self.status.prefixes_received.clear();
                if let Some(o) = self.outbox.take() {
                    o.clear();
                }
                self.session_down_rib().await;
            }
        }
    }

    fn publish(&mut self) {
        self.status.state = self.fsm.state();
        if let Some(o) = &self.outbox {
            self.status.prefixes_received = o.received();
        }
        if let Some(e) = self.fsm.last_error()
            && self.status.state == State::Idle
        {
            self.status.last_error = Some(e.to_string());
        }
        self.status_tx.send_replace(self.status.clone());
    }

    async fn read_event(&mut self, ev: ReadEvent) {
        match ev {
            ReadEvent::Frame(frame) => {
                self.status.messages_received += 1;
                match decode_message(&frame, &self.decode_cx) {
                    Ok(m) => self.message(m).await,
                    Err(e) => self.decode_error(e).await,
                }
            }
            ReadEvent::HeaderError(e) => {
                self.event(Event::BgpHeaderErr(NotificationMessage::from(&e)))
                    .await
            }
            ReadEvent::Closed(why) => {
                info!(peer = %self.settings.endpoint.address, "connection closed: {why}");
                self.conn = None;
                self.event(Event::TcpConnectionFails).await;
            }
        }
    }

    async fn decode_error(&mut self, e: MessageError) {
        warn!(peer = %self.settings.endpoint.address, "bad message: {e}");
        let n = NotificationMessage::from(&e);
        let ev = match e.code {
            code::MESSAGE_HEADER => Event::BgpHeaderErr(n),
            code::OPEN => Event::BgpOpenMsgErr(n),
            _ => Event::UpdateMsgErr(n),
        };
        self.event(ev).await;
    }

    fn expectations(&self) -> OpenExpectations {
        OpenExpectations {
            peer_as: Some(self.settings.remote_as),
            local_as: Some(self.settings.local_as),
            local_bgp_id: Some(self.settings.router_id),
            required_capabilities: self.settings.required_capabilities.clone(),
        }
    }

    async fn message(&mut self, m: Message) {
        match m {
            Message::Open(open) => {
                if let Err(e) = validate_open(&open, &self.expectations()) {
                    warn!(peer = %self.settings.endpoint.address, "refusing OPEN: {e}");
                    self.event(Event::BgpOpenMsgErr(NotificationMessage::from(&e)))
                        .await;
                    return;
                }
                // A second connection still waiting for its OPEN is resolved when that OPEN
                // comes (RFC 4271 §6.8 compares against connections in OpenConfirm).
                self.accept_open(&open);
                self.event(Event::BgpOpen {
                    hold_time: open.hold_time,
                    bgp_id: open.bgp_id,
                })
                .await;
            }
            Message::Keepalive => self.event(Event::KeepAliveMsg).await,
            Message::Update(u) => {
                self.status.updates_received += 1;
                self.event(Event::UpdateMsg).await;
                if self.fsm.state() != State::Established {
                    return;
                }
                self.update(u).await;
            }
            Message::Notification(n) => {
                let text = n
                    .shutdown_message()
                    .map(|m| format!(": \"{m}\""))
                    .unwrap_or_default();
                warn!(
                    peer = %self.settings.endpoint.address,
                    "received NOTIFICATION {}/{} ({} / {}){text}",
                    n.code, n.subcode, n.code_name(), n.subcode_name()
                );
                self.status.last_error = Some(format!(
                    "received NOTIFICATION {}/{} {}{text}",
                    n.code,
                    n.subcode,
                    n.subcode_name()
                ));
                self.notification_seen = Some((n.code, n.subcode));
                let ev = if n.code == code::OPEN && n.subcode == code::UNSUPPORTED_VERSION {
                    Event::NotifMsgVerErr
                } else {
                    Event::NotifMsg(n)
                };
                self.event(ev).await;
            }
            Message::RouteRefresh(rr) => {
                self.event(Event::RouteRefreshMsg).await;
                // RFC 2918 §4: answer a normal request by re-advertising the family; BoRR
                // and EoRR from the peer (RFC 7313 §4) concern its own re-advertisement.
                if self.fsm.state() == State::Established
                    && rr.subtype == crate::packet::route_refresh::RouteRefreshSubtype::Normal
                {
                    let enhanced = self
                        .negotiated
                        .as_ref()
                        .is_some_and(|n| n.enhanced_route_refresh);
                    info!(peer = %self.settings.endpoint.address, family = %rr.family, "route refresh requested");
                    self.rib
                        .send(RibInput::RouteRefresh(
                            self.settings.peer_id,
                            rr.family,
                            enhanced,
                        ))
                        .await;
                }
            }
        }
    }

    /// Take the peer's OPEN: negotiate capabilities and switch the codec contexts.
    fn accept_open(&mut self, open: &OpenMessage) {
        let n = negotiate(&self.sent_open, open);
        self.decode_cx = n.decode_context();
        self.encode_cx = n.encode_context();
        if let Some(c) = &self.conn {
            c.set_max_message_len(n.max_message_len());
        }
        self.status.peer_bgp_id = Some(open.bgp_id);
        self.received_open = Some(open.clone());
        self.status.families = n.families.iter().collect();
        self.negotiated = Some(n);
    }

    async fn update(&mut self, mut u: crate::packet::UpdateMessage) {
        if let Some(f) = u.end_of_rib() {
            self.rib
                .send(RibInput::EndOfRib(self.settings.peer_id, f))
                .await;
        }
        if let Some(f) = u.end_of_rib()
            && let Some(i) = self.gr.awaiting_eor.iter().position(|x| *x == f)
        {
            // RFC 4724 §4.2: "Once the End-of-RIB marker for an address family is received
            // from the peer, it MUST immediately remove any routes from the peer that are
            // still marked as stale for that address family."
            self.gr.awaiting_eor.remove(i);
            info!(peer = %self.settings.endpoint.address, "End-of-RIB for {f}: sweeping stale routes");
            self.rib
                .send(RibInput::SweepStale(self.settings.peer_id, Some(f)))
                .await;
            if self.gr.awaiting_eor.is_empty() {
                self.gr.stale_deadline = None;
                self.gr.stale.clear();
            }
        }
        if let Some(action) = u.action() {
            for e in &u.errors {
                warn!(
                    peer = %self.settings.endpoint.address,
                    action = e.action.name(),
                    "UPDATE problem: {}", e.reason
                );
            }
            if action == ErrorAction::AfiSafiDisable {
                for e in &u.errors {
                    if let Some(f) = e.family
                        && !self.disabled_families.contains(&f)
                    {
                        warn!(peer = %self.settings.endpoint.address, "disabling {f} for this session (RFC 7606)");
                        self.disabled_families.push(f);
                    }
                }
            }
        }
        if !self.disabled_families.is_empty() {
            // RFC 7606 AFI/SAFI disable: nothing more of those families from this session.
            let disabled = self.disabled_families.clone();
            u.attributes.retain(|a| match &a.value {
                crate::packet::attribute::AttrValue::MpReach(m) => !disabled.contains(&m.family),
                crate::packet::attribute::AttrValue::MpUnreach(m) => !disabled.contains(&m.family),
                _ => true,
            });
            if disabled.contains(&Family::IPV4_UNICAST) {
                u.nlri.clear();
                u.withdrawn.clear();
            }
        }
        self.rib
            .send(RibInput::Update(self.settings.peer_id, u))
            .await;
    }

    /// Tell the RIB the session is up; it fills our outbox with the table and End-of-RIBs.
    async fn rib_peer_up(&mut self) {
        let Some(n) = &self.negotiated else { return };
        let local_address = self
            .conn
            .as_ref()
            .map(|c| transport::canonical_ip(c.local.ip()));
        let info = PeerInfo {
            id: self.settings.peer_id,
            address: self.settings.endpoint.address,
            local_as: self.settings.local_as,
            remote_as: self.settings.remote_as,
            bgp_id: n.peer_bgp_id,
            rr_client: self.settings.rr_client,
            families: n.families.clone(),
            add_path_tx: n.add_path_tx.clone(),
            extended_nexthop: n
                .extended_next_hop
                .iter()
                .filter(|(_, afi)| *afi == crate::packet::Afi::Ipv6)
                .map(|(f, _)| *f)
                .collect(),
            local_address,
            llgr: n.long_lived_graceful_restart,
        };
        let outbox = Outbox::new();
        self.outbox = Some(outbox.clone());
        self.rib
            .send(RibInput::PeerUp(info, outbox, self.settings.policy.clone()))
            .await;
        // Wait for the End-of-RIB of peers that restart gracefully themselves (their GR
        // capability lists families) and are not restarting now (no Restart State bit).
        let expects_eor = self.peer_gr().is_some_and(|(flags, _, families)| {
            flags & crate::packet::capability::GR_RESTART_STATE == 0 && !families.is_empty()
        });
        self.rib
            .send(RibInput::ExpectEndOfRib(self.settings.peer_id, expects_eor))
            .await;
        let was_restarting = self.gr.restart_deadline.take().is_some();
        let was_long_lived = self.gr.llgr_deadline.take().is_some();
        if was_restarting || was_long_lived {
            // RFC 4724 §4.2: after the restart, stale routes of a family stay until its
            // End-of-RIB only if the new OPEN says the forwarding state was kept (F bit);
            // otherwise they go now. Long-lived stale routes (RFC 9494 §4.2) wait for the
            // End-of-RIB as they are (they are already the least preferred).
            let kept = if was_long_lived {
                self.gr.stale.clone()
            } else {
                self.peer_gr_families(true)
            };
            for f in std::mem::take(&mut self.gr.stale) {
                if kept.contains(&f) {
                    self.gr.awaiting_eor.push(f);
                } else {
                    self.rib
                        .send(RibInput::SweepStale(self.settings.peer_id, Some(f)))
                        .await;
                }
            }
            self.gr.stale = self.gr.awaiting_eor.clone();
            if !self.gr.awaiting_eor.is_empty() {
                self.gr.stale_deadline = Some(Instant::now() + STALE_PATH_TIME);
            }
        }
    }

    /// The peer's Graceful Restart capability: flags, restart time, families with flags.
    fn peer_gr(&self) -> Option<PeerGr> {
        self.received_open
            .as_ref()?
            .capabilities()
            .find_map(|c| match c {
                crate::packet::capability::Capability::GracefulRestart {
                    restart_flags,
                    restart_time,
                    families,
                } => Some((*restart_flags, *restart_time, families.clone())),
                _ => None,
            })
    }

    /// Graceful restart was negotiated and the peer's capability lists address families.
    fn peer_preserves_forwarding(&self) -> bool {
        self.negotiated.as_ref().is_some_and(|n| n.graceful_restart)
            && !self.peer_gr_families(false).is_empty()
    }

    /// The families of the peer's GR capability (with `forwarding`, only those with F set).
    fn peer_gr_families(&self, forwarding: bool) -> Vec<Family> {
        use crate::packet::capability::GR_FORWARDING_STATE;
        self.peer_gr().map_or_else(Vec::new, |(_, _, fams)| {
            fams.into_iter()
                .filter(|(_, flags)| !forwarding || flags & GR_FORWARDING_STATE != 0)
                .map(|(f, _)| f)
                .collect()
        })
    }

    /// The session is down: either the peer's routes go, or (RFC 4724 / RFC 8538) they stay
    /// as stale while the peer restarts.
    async fn session_down_rib(&mut self) {
        let id = self.settings.peer_id;
        let peer_gr = self.peer_gr();
        let ours = self.settings.graceful_restart.is_some();
        let graceful = match (&peer_gr, self.notification_seen) {
            (None, _) => false,
            _ if !ours => false,
            // RFC 4724 §4.2: the TCP session ended without a NOTIFICATION.
            (Some(_), None) => true,
            // RFC 8538 §5: a Hard Reset always flushes.
            (Some(_), Some((code::CEASE, cease::HARD_RESET))) => false,
            // RFC 8538 §4: with the N bit on both sides, a NOTIFICATION ends the session
            // gracefully too.
            (Some((flags, _, _)), Some(_)) => {
                flags & crate::packet::capability::GR_NOTIFICATION != 0
            }
        };
        let gr_families: Vec<Family> = self
            .peer_gr_families(false)
            .into_iter()
            .filter(|f| self.status.families.contains(f))
            .collect();
        let llgr = self.peer_llgr();
        let mut families = gr_families.clone();
        for (f, _) in &llgr {
            if !families.contains(f) {
                families.push(*f);
            }
        }
        if graceful && !families.is_empty() {
            let restart = peer_gr.map_or(0, |(_, t, _)| t);
            info!(
                peer = %self.settings.endpoint.address,
                restart_time = restart,
                long_lived = !llgr.is_empty(),
                "peer restarting gracefully: keeping its routes as stale"
            );
            self.gr.stale = families.clone();
            self.gr.awaiting_eor.clear();
            self.gr.stale_deadline = None;
            self.gr.llgr = llgr;
            self.gr.llgr_deadline = None;
            self.rib
                .send(RibInput::PeerDownGraceful(
                    id,
                    families.into_iter().collect(),
                ))
                .await;
            if restart == 0 || gr_families.is_empty() {
                // RFC 9494 §4.2: with no (or a zero) restart time, the long-lived stale
                // period begins at once.
                self.begin_long_lived().await;
            } else {
                self.gr.restart_deadline =
                    Some(Instant::now() + Duration::from_secs(u64::from(restart)));
            }
        } else {
            self.gr = GracefulRestartHelper::default();
            self.rib.send(RibInput::PeerDown(id)).await;
        }
    }

    /// The families and stale times of the peer's LLGR capability that apply: LLGR negotiated,
    /// configured here, stale time above zero, a family of the session; the time is the peer's,
    /// at most ours.
    fn peer_llgr(&self) -> Vec<(Family, u32)> {
        let (Some(ours), true) = (
            self.settings.long_lived_stale_time,
            self.negotiated
                .as_ref()
                .is_some_and(|n| n.long_lived_graceful_restart),
        ) else {
            return Vec::new();
        };
        self.received_open
            .as_ref()
            .into_iter()
            .flat_map(|o| o.capabilities())
            .filter_map(|c| match c {
                crate::packet::capability::Capability::LongLivedGracefulRestart(e) => Some(e),
                _ => None,
            })
            .flatten()
            .filter(|(f, _, t)| *t > 0 && self.status.families.contains(f))
            .map(|(f, _, t)| (*f, (*t).min(ours)))
            .collect()
    }

    /// RFC 9494 §4.2: the restart time is over (or there was none): the LLGR families' stale
    /// routes stay, marked LLGR_STALE, for the long-lived stale time; the others go.
    async fn begin_long_lived(&mut self) {
        let id = self.settings.peer_id;
        self.gr.restart_deadline = None;
        let llgr: Vec<Family> = self.gr.llgr.iter().map(|(f, _)| *f).collect();
        for f in std::mem::take(&mut self.gr.stale) {
            if llgr.contains(&f) {
                self.gr.stale.push(f);
            } else {
                self.rib.send(RibInput::SweepStale(id, Some(f))).await;
            }
        }
        let Some(time) = self.gr.llgr.iter().map(|(_, t)| *t).max() else {
            self.gr = GracefulRestartHelper::default();
            return;
        };
        info!(
            peer = %self.settings.endpoint.address,
            stale_time = time,
            "restart time over: keeping its routes as long-lived stale (LLGR_STALE)"
        );
        self.gr.llgr_deadline = Some(Instant::now() + Duration::from_secs(u64::from(time)));
        self.rib
            .send(RibInput::LlgrStale(id, llgr.into_iter().collect()))
            .await;
    }

    /// The restart time, the long-lived stale time or the stale-path time ran out.
    async fn gr_timer(&mut self) {
        let now = Instant::now();
        if self.gr.restart_deadline.is_some_and(|d| d <= now) {
            if !self.gr.llgr.is_empty() {
                self.begin_long_lived().await;
                return;
            }
            info!(peer = %self.settings.endpoint.address, "restart time over: removing the stale routes");
        } else if self.gr.llgr_deadline.is_some_and(|d| d <= now) {
            info!(peer = %self.settings.endpoint.address, "long-lived stale time over: removing the stale routes");
        } else if self.gr.stale_deadline.is_some_and(|d| d <= now) {
            info!(peer = %self.settings.endpoint.address, "no End-of-RIB in time: removing the stale routes");
        } else {
            return;
        }
        self.gr = GracefulRestartHelper::default();
        self.rib
            .send(RibInput::SweepStale(self.settings.peer_id, None))
            .await;
    }

    /// Send what the RIB queued for us, a bounded batch at a time (reads go on in between).
    async fn drain_outbox(&mut self) {
        const BATCH: usize = 8192;
        let Some(outbox) = self.outbox.clone() else {
            return;
        };
        if self.fsm.state() != State::Established {
            return;
        }
        if let Some((f, max)) = outbox.take_limit() {
            // RFC 4486 §4: Cease 6/1 with AFI (2), SAFI (1) and the limit (4) as data.
            let mut data = f.afi.to_u16().to_be_bytes().to_vec();
            data.push(f.safi.to_u8());
            data.extend_from_slice(&max.to_be_bytes());
            let n = NotificationMessage::new(code::CEASE, cease::MAX_PREFIXES, data);
            self.event(Event::AutomaticStop(n)).await;
            return;
        }
        let items = outbox.take(BATCH);
        let mut routes: Vec<OutRoute> = Vec::with_capacity(items.len());
        let mut messages: Vec<Bytes> = Vec::new();
        for item in items {
            match item {
                OutItem::Route(k, state) => {
                    let add_path = self.encode_cx.add_path.contains(k.family);
                    let label = state.as_ref().and_then(|(l, _)| *l).unwrap_or(0x80_0000);
                    routes.push(OutRoute {
                        family: k.family,
                        nlri: crate::packet::nlri::Nlri {
                            path_id: add_path.then_some(k.path_id),
                            prefix: k.prefix,
                            vpn: k.rd.map(|rd| crate::packet::nlri::VpnLabel { label, rd }),
                        },
                        attrs: state.map(|(_, a)| a),
                    });
                }
                OutItem::RefreshMarker(f, begin) => {
                    messages.extend(pack(&routes, &self.encode_cx));
                    routes.clear();
                    use crate::packet::route_refresh::{RouteRefreshMessage, RouteRefreshSubtype};
                    let subtype = if begin {
                        RouteRefreshSubtype::BeginningOfRouteRefresh
                    } else {
                        RouteRefreshSubtype::EndOfRouteRefresh
                    };
                    let m = RouteRefreshMessage { family: f, subtype };
                    messages.push(self.encode(&Message::RouteRefresh(m)));
                }
                OutItem::EndOfRib(f) => {
                    messages.extend(pack(&routes, &self.encode_cx));
                    routes.clear();
                    messages.push(self.encode(&Message::Update(
                        crate::packet::UpdateMessage::end_of_rib_marker(f),
                    )));
                }
            }
        }
        messages.extend(pack(&routes, &self.encode_cx));
        for m in messages {
            let Some(c) = &self.conn else { return };
            if !c.send(m).await {
                return;
            }
            self.status.messages_sent += 1;
        }
        for a in self.fsm.message_sent() {
            self.act(a).await;
        }
        if !outbox.is_empty() {
            // The rest of a burst (a table) goes at once; the interval starts after it.
            outbox.wake();
        } else if !self.settings.advertisement_interval.is_zero() {
            // RFC 4271 §9.2.1.1: the next UPDATEs wait MinRouteAdvertisementIntervalTimer;
            // changes meanwhile replace each other in the outbox and go once.
            self.mrai_until = Some(Instant::now() + self.settings.advertisement_interval);
        }
    }

    async fn candidate_event(&mut self, ev: ReadEvent) {
        if self.candidate.is_none() {
            return;
        }
        let expectations = self.expectations();
        match ev {
            ReadEvent::Frame(frame) => match decode_message(&frame, &DecodeContext::default()) {
                Ok(Message::Open(open)) if validate_open(&open, &expectations).is_ok() => {
                    if let Some(c) = self.candidate.as_mut() {
                        c.open = Some(open.clone());
                    }
                    match self.fsm.state() {
                        State::OpenSent | State::OpenConfirm => {
                            self.resolve_collision(open.bgp_id).await
                        }
                        State::Established => self.peer_restarted(open).await,
                        _ => self.drop_candidate().await,
                    }
                }
                Ok(Message::Keepalive) => {}
                _ => {
                    if let Some(c) = self.candidate.take() {
                        c.conn.close();
                    }
                }
            },
            ReadEvent::HeaderError(_) | ReadEvent::Closed(_) => {
                if let Some(c) = self.candidate.take() {
                    c.conn.close();
                }
            }
        }
    }

    /// RFC 4724 §4.2: the peer sent a valid OPEN on a new connection while our session with
    /// it is Established: it restarted. The old session ends as a TCP failure would (its
    /// routes are kept stale when graceful restart was negotiated) and the new connection
    /// becomes the session.
    async fn peer_restarted(&mut self, open: OpenMessage) {
        let Some(cand) = self.candidate.take() else {
            return;
        };
        info!(
            peer = %self.settings.endpoint.address,
            "the peer restarted (OPEN on a new connection): replacing the old session"
        );
        self.event(Event::TcpConnectionFails).await;
        self.event(Event::ManualStart).await;
        if let Some(h) = self.connecting.take() {
            h.abort();
        }
        if !matches!(self.fsm.state(), State::Connect | State::Active) {
            cand.conn.close();
            return;
        }
        self.attach(cand.conn);
        self.event(Event::TcpConnectionConfirmed).await;
        self.accept_open(&open);
        self.event(Event::BgpOpen {
            hold_time: open.hold_time,
            bgp_id: open.bgp_id,
        })
        .await;
    }

    async fn drop_candidate(&mut self) {
        if let Some(c) = self.candidate.take() {
            let n = NotificationMessage::new(
                code::CEASE,
                cease::CONNECTION_COLLISION_RESOLUTION,
                Vec::new(),
            );
            let bytes = self.encode(&Message::Notification(n));
            c.conn.send(bytes).await;
            c.conn.close();
        }
    }

    /// RFC 4271 §6.8: "If the value of the local BGP Identifier is less than the remote one,
    /// the local system closes the BGP connection that already exists ... and accepts the BGP
    /// connection initiated by the remote system" -- i.e. keep the connection the speaker with
    /// the higher BGP Identifier opened.
    async fn resolve_collision(&mut self, remote_id: std::net::Ipv4Addr) {
        let (Some(primary), Some(cand)) = (&self.conn, &self.candidate) else {
            return;
        };
        let keep_outgoing = u32::from(self.settings.router_id) > u32::from(remote_id);
        let keep_candidate = (cand.conn.direction == Direction::Outgoing) == keep_outgoing
            && primary.direction != cand.conn.direction;
        info!(
            peer = %self.settings.endpoint.address,
            "connection collision: keeping the {} connection",
            if keep_outgoing { "outgoing" } else { "incoming" }
        );
        if !keep_candidate {
            self.drop_candidate().await;
            return;
        }
        // Swap: the candidate becomes the session's connection.
        let Some(cand) = self.candidate.take() else {
            return;
        };
        let n = NotificationMessage::new(
            code::CEASE,
            cease::CONNECTION_COLLISION_RESOLUTION,
            Vec::new(),
        );
        let bytes = self.encode(&Message::Notification(n));
        if let Some(old) = self.conn.take() {
            old.send(bytes).await;
            old.close();
        }
        let state = self.fsm.state();
        self.attach(cand.conn);
        if let Some(open) = cand.open {
            self.accept_open(&open);
            match state {
                // The FSM already saw an OPEN (on the old connection) and sent a KEEPALIVE
                // there; the new connection needs its own KEEPALIVE.
                State::OpenConfirm => self.send(&Message::Keepalive).await,
                State::OpenSent => {
                    self.event(Event::BgpOpen {
                        hold_time: open.hold_time,
                        bgp_id: open.bgp_id,
                    })
                    .await
                }
                _ => {}
            }
        }
    }
}

async fn recv_opt(c: &mut Option<Connection>) -> ReadEvent {
    match c {
        Some(c) => c.recv().await,
        None => std::future::pending().await,
    }
}

async fn recv_candidate(c: &mut Option<Candidate>) -> ReadEvent {
    match c {
        Some(c) => c.conn.recv().await,
        None => std::future::pending().await,
    }
}

async fn join_opt<T>(h: &mut Option<JoinHandle<T>>) -> Result<T, tokio::task::JoinError> {
    match h {
        Some(h) => h.await,
        None => std::future::pending().await,
    }
}

async fn notified_opt(o: &Option<Arc<Outbox>>) {
    match o {
        Some(o) => o.notify.notified().await,
        None => std::future::pending().await,
    }
}

async fn sleep_opt(d: Option<Instant>) {
    match d {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}
