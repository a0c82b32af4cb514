//! One socket connection to VPP: the `sockclnt_create` handshake, then a reader task that
//! matches every incoming message to its request by `context`, and a writer task.
//!
//! ```text
//!  request(...) --register ctx--> [pending: ctx -> waiter]      reader task: read_frame()
//!       |                                ^                          | u16 id, u32 context @2
//!       +--frame--> writer task ---------|-- socket -- VPP ---------+
//!       |                                +-- reply / details / control_ping_reply by ctx
//!       +-- timeout: drop the waiter; a late reply is logged and discarded
//! ```
//!
//! * **Contexts** are a per-connection counter; VPP copies them verbatim into replies.
//! * **Dumps** send `X_dump` and `control_ping` back to back with the same context: VPP handles
//!   messages in order, so the `control_ping_reply` ends the `X_details` stream.
//! * **Timeouts**: VPP silently drops requests with a wrong client index, an unknown message id
//!   or a body shorter than the message size. A timeout removes the waiter and leaves the
//!   connection usable.
//! * **EOF**: when VPP exits the client sees an orderly EOF with no goodbye message (and EPIPE on
//!   the next write). The reader marks the connection dead, fails every waiter with
//!   [`Error::Disconnected`] and signals [`Connection::closed`].
//! * The writer is a task fed by a channel, so a caller that gives up (drops its future) never
//!   leaves half a frame on the socket.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::AbortHandle;

use crate::error::Error;
use crate::framing::{encode_frame, read_frame};
use crate::messages::control::{
    SOCKCLNT_CREATE_REPLY_ID, decode_sockclnt_create_reply, encode_sockclnt_create,
};
use crate::messages::defs::{CONTROL_PING, CONTROL_PING_REPLY};
use crate::messages::{MsgDef, REQUEST_HEADER_LEN};
use crate::table::Resolved;

enum Pending {
    Reply {
        request: &'static str,
        reply: &'static str,
        /// `None` for raw requests: any message with the context completes them.
        reply_id: Option<u16>,
        tx: oneshot::Sender<Result<Bytes, Error>>,
    },
    Dump {
        request: &'static str,
        details: &'static str,
        details_id: u16,
        items: Vec<Bytes>,
        tx: oneshot::Sender<Result<Vec<Bytes>, Error>>,
    },
}

#[derive(Default)]
struct State {
    dead: Option<Arc<str>>,
    pending: HashMap<u32, Pending>,
}

struct Shared {
    state: Mutex<State>,
    next_context: AtomicU32,
    client_index: u32,
    resolved: Resolved,
    ping_reply_id: u16,
    vpe_pid: AtomicU32,
    closed_tx: watch::Sender<Option<Arc<str>>>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks the connection dead and fails every waiter. Idempotent.
    fn kill(&self, reason: &str) {
        let reason: Arc<str> = Arc::from(reason);
        let drained = {
            let mut st = self.lock();
            if st.dead.is_some() {
                return;
            }
            st.dead = Some(reason.clone());
            std::mem::take(&mut st.pending)
        };
        tracing::info!(%reason, waiters = drained.len(), "VPP connection closed");
        for (_, p) in drained {
            match p {
                Pending::Reply { tx, .. } => {
                    let _ = tx.send(Err(Error::Disconnected(reason.clone())));
                }
                Pending::Dump { tx, .. } => {
                    let _ = tx.send(Err(Error::Disconnected(reason.clone())));
                }
            }
        }
        self.closed_tx.send_replace(Some(reason));
    }

    fn dispatch(&self, body: Bytes) {
        if body.len() < 6 {
            tracing::warn!(
                len = body.len(),
                "ignoring a message shorter than id + context"
            );
            return;
        }
        let id = u16::from_be_bytes([body[0], body[1]]);
        let ctx = u32::from_be_bytes([body[2], body[3], body[4], body[5]]);
        if id == self.ping_reply_id && body.len() >= 18 {
            let pid = u32::from_be_bytes([body[14], body[15], body[16], body[17]]);
            let old = self.vpe_pid.swap(pid, Ordering::Relaxed);
            if old != 0 && old != pid {
                tracing::warn!(old, new = pid, "VPP's pid changed on a live connection");
            }
        }
        let mut st = self.lock();
        let Some(p) = st.pending.get_mut(&ctx) else {
            drop(st);
            tracing::debug!(
                id,
                name = self.resolved.name_of(id),
                context = ctx,
                "message matches no waiting request (late reply after a timeout?); dropped"
            );
            return;
        };
        match p {
            Pending::Dump {
                details_id, items, ..
            } if *details_id == id => items.push(body),
            Pending::Dump { .. } => {
                let Some(Pending::Dump {
                    request,
                    details,
                    details_id,
                    items,
                    tx,
                }) = st.pending.remove(&ctx)
                else {
                    return;
                };
                drop(st);
                let res = if id == self.ping_reply_id {
                    Ok(items)
                } else {
                    Err(Error::UnexpectedReply {
                        request,
                        expected: details,
                        expected_id: details_id,
                        got_id: id,
                    })
                };
                let _ = tx.send(res);
            }
            Pending::Reply { .. } => {
                let Some(Pending::Reply {
                    request,
                    reply,
                    reply_id,
                    tx,
                }) = st.pending.remove(&ctx)
                else {
                    return;
                };
                drop(st);
                let res = match reply_id {
                    Some(want) if want != id => Err(Error::UnexpectedReply {
                        request,
                        expected: reply,
                        expected_id: want,
                        got_id: id,
                    }),
                    _ => Ok(body),
                };
                let _ = tx.send(res);
            }
        }
    }
}

/// Removes a waiter when its request completes, times out or is abandoned.
struct Waiter<'a> {
    shared: &'a Shared,
    ctx: u32,
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.shared.lock().pending.remove(&self.ctx);
    }
}

enum WriterCmd {
    Frame(Bytes),
    Shutdown,
}

/// An established connection (after a successful `sockclnt_create`).
pub(crate) struct Connection {
    shared: Arc<Shared>,
    tx: mpsc::Sender<WriterCmd>,
    reader: AbortHandle,
    writer: AbortHandle,
    closed_rx: watch::Receiver<Option<Arc<str>>>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.reader.abort();
        self.writer.abort();
    }
}

/// What the handshake learnt.
pub(crate) struct Handshake {
    pub(crate) client_index: u32,
}

impl Connection {
    /// Connects, runs `sockclnt_create`, resolves the message table and starts the tasks.
    pub(crate) async fn establish(
        path: &Path,
        name: &str,
        timeout: Duration,
    ) -> Result<(Self, Handshake), Error> {
        let connect = tokio::time::timeout(timeout, UnixStream::connect(path)).await;
        let mut stream = match connect {
            Ok(Ok(s)) => s,
            Ok(Err(source)) => {
                return Err(Error::Connect {
                    path: path.to_path_buf(),
                    source,
                });
            }
            Err(_) => {
                let source = std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out");
                return Err(Error::Connect {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let ctx = 1;
        let mut frame = BytesMut::new();
        encode_frame(&encode_sockclnt_create(ctx, name)?, &mut frame);
        let hs = async {
            stream.write_all(&frame).await?;
            loop {
                match read_frame(&mut stream).await? {
                    None => return Ok::<_, std::io::Error>(None),
                    Some(b) if b.len() >= 2 && b[..2] == SOCKCLNT_CREATE_REPLY_ID.to_be_bytes() => {
                        return Ok(Some(b));
                    }
                    Some(b) => tracing::debug!(
                        len = b.len(),
                        "ignoring a message before sockclnt_create_reply"
                    ),
                }
            }
        };
        let body = match tokio::time::timeout(timeout, hs).await {
            Err(_) => {
                return Err(Error::Timeout {
                    message: "sockclnt_create",
                    context: ctx,
                    after: timeout,
                });
            }
            Ok(Err(e)) => {
                return Err(Error::Disconnected(
                    format!("during sockclnt_create: {e}").into(),
                ));
            }
            Ok(Ok(None)) => {
                return Err(Error::Disconnected(
                    "VPP closed the connection during sockclnt_create".into(),
                ));
            }
            Ok(Ok(Some(b))) => b,
        };
        let reply = decode_sockclnt_create_reply(&body)?;
        if reply.context != ctx {
            return Err(Error::Handshake(format!(
                "sockclnt_create_reply carries context {:#x}, sent {ctx:#x}",
                reply.context
            )));
        }
        if reply.response != 0 {
            return Err(Error::Handshake(format!(
                "sockclnt_create response {}",
                reply.response
            )));
        }
        let resolved = Resolved::new(reply.table)?;
        let ping_reply_id = resolved.id(&CONTROL_PING_REPLY)?;
        let (closed_tx, closed_rx) = watch::channel(None);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            next_context: AtomicU32::new(ctx + 1),
            client_index: reply.client_index,
            resolved,
            ping_reply_id,
            vpe_pid: AtomicU32::new(0),
            closed_tx,
        });
        let (rd, wr) = stream.into_split();
        let (tx, rx) = mpsc::channel(256);
        let reader = tokio::spawn(reader_loop(rd, shared.clone())).abort_handle();
        let writer = tokio::spawn(writer_loop(wr, rx, shared.clone())).abort_handle();
        let hs = Handshake {
            client_index: reply.client_index,
        };
        Ok((
            Self {
                shared,
                tx,
                reader,
                writer,
                closed_rx,
            },
            hs,
        ))
    }

    pub(crate) fn resolved(&self) -> &Resolved {
        &self.shared.resolved
    }

    pub(crate) fn client_index(&self) -> u32 {
        self.shared.client_index
    }

    /// VPP's pid from the last `control_ping_reply`, if one was seen.
    pub(crate) fn vpe_pid(&self) -> Option<u32> {
        match self.shared.vpe_pid.load(Ordering::Relaxed) {
            0 => None,
            p => Some(p),
        }
    }

    /// Why the connection is closed, if it is.
    pub(crate) fn closed_reason(&self) -> Option<Arc<str>> {
        self.closed_rx.borrow().clone()
    }

    /// Resolves when the connection is closed, with the reason.
    pub(crate) async fn closed(&self) -> Arc<str> {
        let mut rx = self.closed_rx.clone();
        match rx.wait_for(|s| s.is_some()).await {
            Ok(s) => s.clone().unwrap_or_else(|| Arc::from("closed")),
            Err(_) => Arc::from("closed"),
        }
    }

    fn next_context(&self) -> u32 {
        let c = self.shared.next_context.fetch_add(1, Ordering::Relaxed);
        if c == 0 {
            self.shared.next_context.fetch_add(1, Ordering::Relaxed)
        } else {
            c
        }
    }

    fn header(id: u16, client_index: u32, ctx: u32, fields: &[u8]) -> BytesMut {
        let mut body = BytesMut::with_capacity(REQUEST_HEADER_LEN + fields.len());
        body.put_u16(id);
        body.put_u32(client_index);
        body.put_u32(ctx);
        body.put_slice(fields);
        body
    }

    fn register(&self, ctx: u32, p: Pending) -> Result<Waiter<'_>, Error> {
        let mut st = self.shared.lock();
        if let Some(r) = &st.dead {
            return Err(Error::Disconnected(r.clone()));
        }
        st.pending.insert(ctx, p);
        Ok(Waiter {
            shared: &self.shared,
            ctx,
        })
    }

    async fn send(&self, frame: BytesMut) -> Result<(), Error> {
        self.tx
            .send(WriterCmd::Frame(frame.freeze()))
            .await
            .map_err(|_| {
                Error::Disconnected(
                    self.closed_reason()
                        .unwrap_or_else(|| Arc::from("writer gone")),
                )
            })
    }

    /// Sends a request and waits for the reply (`reply`) with the same context.
    pub(crate) async fn request(
        &self,
        req: &MsgDef,
        reply: &MsgDef,
        fields: &[u8],
        timeout: Duration,
    ) -> Result<Bytes, Error> {
        let id = self.shared.resolved.id(req)?;
        let reply_id = self.shared.resolved.id(reply)?;
        if req.elem_size == 0 && REQUEST_HEADER_LEN + fields.len() != req.size {
            // VPP would silently drop a short body; never send one.
            return Err(Error::InvalidArgument(format!(
                "{} encodes to {} bytes, the message has {}",
                req.name,
                REQUEST_HEADER_LEN + fields.len(),
                req.size
            )));
        }
        let ctx = self.next_context();
        self.exchange(
            req.name,
            Some((reply.name, reply_id)),
            id,
            self.client_index(),
            ctx,
            fields,
            timeout,
        )
        .await
    }

    /// Sends any message (`id`, optional client index override, fields after the header) and
    /// waits for whatever VPP answers with the same context. For diagnostics and tests of
    /// VPP's silent drops; typed methods are the normal path.
    pub(crate) async fn request_raw(
        &self,
        id: u16,
        client_index: Option<u32>,
        fields: &[u8],
        timeout: Duration,
    ) -> Result<Bytes, Error> {
        let ctx = self.next_context();
        let ci = client_index.unwrap_or(self.client_index());
        self.exchange("<raw>", None, id, ci, ctx, fields, timeout)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn exchange(
        &self,
        name: &'static str,
        reply: Option<(&'static str, u16)>,
        id: u16,
        client_index: u32,
        ctx: u32,
        fields: &[u8],
        timeout: Duration,
    ) -> Result<Bytes, Error> {
        let mut frame = BytesMut::new();
        encode_frame(&Self::header(id, client_index, ctx, fields), &mut frame);
        let (tx, rx) = oneshot::channel();
        let (reply_name, reply_id) = match reply {
            Some((n, i)) => (n, Some(i)),
            None => ("<any>", None),
        };
        let _w = self.register(
            ctx,
            Pending::Reply {
                request: name,
                reply: reply_name,
                reply_id,
                tx,
            },
        )?;
        self.send(frame).await?;
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(res)) => res,
            Ok(Err(_)) => Err(Error::Disconnected(
                self.closed_reason()
                    .unwrap_or_else(|| Arc::from("connection dropped")),
            )),
            Err(_) => {
                tracing::warn!(message = name, context = ctx, ?timeout, "no reply from VPP");
                Err(Error::Timeout {
                    message: name,
                    context: ctx,
                    after: timeout,
                })
            }
        }
    }

    /// Runs a dump: `dump` and `control_ping` back to back with one context; returns the bodies
    /// of the `details` messages received before the `control_ping_reply`.
    pub(crate) async fn dump(
        &self,
        dump: &MsgDef,
        details: &MsgDef,
        timeout: Duration,
    ) -> Result<Vec<Bytes>, Error> {
        let dump_id = self.shared.resolved.id(dump)?;
        let details_id = self.shared.resolved.id(details)?;
        let ping_id = self.shared.resolved.id(&CONTROL_PING)?;
        let ctx = self.next_context();
        let ci = self.client_index();
        let mut frame = BytesMut::new();
        encode_frame(&Self::header(dump_id, ci, ctx, &[]), &mut frame);
        encode_frame(&Self::header(ping_id, ci, ctx, &[]), &mut frame);
        let (tx, rx) = oneshot::channel();
        let p = Pending::Dump {
            request: dump.name,
            details: details.name,
            details_id,
            items: Vec::new(),
            tx,
        };
        let _w = self.register(ctx, p)?;
        self.send(frame).await?;
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(res)) => res,
            Ok(Err(_)) => Err(Error::Disconnected(
                self.closed_reason()
                    .unwrap_or_else(|| Arc::from("connection dropped")),
            )),
            Err(_) => {
                tracing::warn!(
                    message = dump.name,
                    context = ctx,
                    ?timeout,
                    "dump not finished"
                );
                Err(Error::Timeout {
                    message: dump.name,
                    context: ctx,
                    after: timeout,
                })
            }
        }
    }

    /// Marks the connection closed and closes the socket (VPP sees EOF).
    pub(crate) async fn close(&self, reason: &str) {
        self.shared.kill(reason);
        let _ = self.tx.send(WriterCmd::Shutdown).await;
        self.reader.abort();
    }
}

async fn reader_loop(mut rd: OwnedReadHalf, shared: Arc<Shared>) {
    let reason = loop {
        match read_frame(&mut rd).await {
            Ok(Some(body)) => shared.dispatch(body),
            Ok(None) => {
                break "VPP closed the connection (EOF; VPP stopped or restarted)".to_string();
            }
            Err(e) => break format!("read from VPP failed: {e}"),
        }
    };
    shared.kill(&reason);
}

async fn writer_loop(
    mut wr: OwnedWriteHalf,
    mut rx: mpsc::Receiver<WriterCmd>,
    shared: Arc<Shared>,
) {
    while let Some(cmd) = rx.recv().await {
        match cmd {
            WriterCmd::Frame(f) => {
                if let Err(e) = wr.write_all(&f).await {
                    shared.kill(&format!("write to VPP failed: {e}"));
                    return;
                }
            }
            WriterCmd::Shutdown => break,
        }
    }
    let _ = wr.shutdown().await;
}
