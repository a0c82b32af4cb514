//! One BGP transport connection: a reader task that frames messages and a writer task with a
//! bounded queue.
//!
//! ```text
//!   socket --read--> [reader task] --frames (bounded)--> peer task
//!   peer task --messages (bounded)--> [writer task] --write--> socket
//! ```
//! Both queues are bounded: a peer that stops reading fills the writer queue and the peer task
//! waits instead of buffering without limit; a slow peer task stops the reader, and TCP flow
//! control then slows the sender.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::packet::{MAX_MESSAGE_LEN, MessageError, frame_len};

/// Who opened the connection (RFC 4271 §6.8 collision resolution needs it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Outgoing,
    Incoming,
}

/// What the reader reports.
#[derive(Debug)]
pub enum ReadEvent {
    /// One whole message, header included.
    Frame(BytesMut),
    /// The header was bad (marker, length): the NOTIFICATION to send.
    HeaderError(MessageError),
    /// The connection ended.
    Closed(String),
}

enum WriteCmd {
    Message(Bytes),
    /// Flush what is queued, then close.
    Close,
}

/// How many messages may wait in each direction.
const QUEUE: usize = 256;

/// The read buffer's chunk: [`ReadChunk::MIN`] while the peer is quiet (keepalives), doubling
/// up to [`ReadChunk::MAX`] while reads fill it (a table transfer), halving again when reads
/// are small. A session that streamed a table once does not keep the large buffer while idle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ReadChunk(usize);

impl ReadChunk {
    const MIN: usize = 4096;
    const MAX: usize = 64 * 1024;

    fn new() -> Self {
        ReadChunk(Self::MIN)
    }

    fn size(self) -> usize {
        self.0
    }

    /// After a read of `read` octets into `free` octets of room.
    fn after_read(&mut self, read: usize, free: usize) {
        if read >= free {
            self.0 = (self.0 * 2).min(Self::MAX);
        } else if read < self.0 / 8 {
            self.0 = (self.0 / 2).max(Self::MIN);
        }
    }

    /// Whether an empty buffer of `capacity` is worth replacing by a chunk-sized one.
    fn shrink(self, capacity: usize) -> bool {
        capacity > 2 * self.0
    }
}
/// How long a write may block before the connection is considered dead.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Connection {
    pub direction: Direction,
    pub remote: SocketAddr,
    pub local: SocketAddr,
    frames: mpsc::Receiver<ReadEvent>,
    writer: mpsc::Sender<WriteCmd>,
    max_len: Arc<AtomicUsize>,
    reader: JoinHandle<()>,
}

impl Connection {
    pub fn new(stream: TcpStream, direction: Direction) -> std::io::Result<Connection> {
        let remote = stream.peer_addr()?;
        let local = stream.local_addr()?;
        let (rd, wr) = stream.into_split();
        let (ftx, frames) = mpsc::channel(QUEUE);
        let (writer, wrx) = mpsc::channel(QUEUE);
        let max_len = Arc::new(AtomicUsize::new(MAX_MESSAGE_LEN));
        let counters = crate::telemetry::MessageCounters::new(remote.ip());
        let reader = tokio::spawn(read_loop(rd, ftx, max_len.clone(), counters.clone()));
        // The writer is not aborted with the connection: it flushes a final NOTIFICATION and
        // ends by itself (bounded by WRITE_TIMEOUT).
        tokio::spawn(write_loop(wr, wrx, counters));
        Ok(Connection {
            direction,
            remote,
            local,
            frames,
            writer,
            max_len,
            reader,
        })
    }

    /// RFC 8654: raise the accepted message size once Extended Message is negotiated.
    pub fn set_max_message_len(&self, len: usize) {
        self.max_len.store(len, Ordering::Relaxed);
    }

    /// The next event from the reader.
    pub async fn recv(&mut self) -> ReadEvent {
        self.frames
            .recv()
            .await
            .unwrap_or_else(|| ReadEvent::Closed("reader ended".into()))
    }

    /// Queue a message; waits while the queue is full (backpressure). Returns false when the
    /// writer is gone (the connection is dead).
    pub async fn send(&self, msg: Bytes) -> bool {
        self.writer.send(WriteCmd::Message(msg)).await.is_ok()
    }

    /// Flush and close. Messages queued before are still written.
    pub fn close(self) {
        let _ = self.writer.try_send(WriteCmd::Close);
        self.reader.abort();
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

async fn read_loop(
    mut rd: OwnedReadHalf,
    tx: mpsc::Sender<ReadEvent>,
    max_len: Arc<AtomicUsize>,
    counters: crate::telemetry::MessageCounters,
) {
    let mut chunk = ReadChunk::new();
    let mut buf = BytesMut::with_capacity(chunk.size());
    loop {
        // Hand out every whole message already buffered.
        loop {
            match frame_len(&buf, max_len.load(Ordering::Relaxed)) {
                Ok(Some(len)) if buf.len() >= len => {
                    let frame = buf.split_to(len);
                    counters.received(&frame);
                    if tx.send(ReadEvent::Frame(frame)).await.is_err() {
                        return;
                    }
                }
                Ok(_) => break,
                Err(e) => {
                    let _ = tx.send(ReadEvent::HeaderError(e)).await;
                    return;
                }
            }
        }
        if buf.is_empty() && chunk.shrink(buf.capacity()) {
            // Quiet again: the large buffer goes once the last frame cut from it is dropped.
            buf = BytesMut::with_capacity(chunk.size());
        }
        if buf.capacity() - buf.len() < chunk.size() / 2 {
            buf.reserve(chunk.size());
        }
        let free = buf.capacity() - buf.len();
        match rd.read_buf(&mut buf).await {
            Ok(0) => {
                let _ = tx
                    .send(ReadEvent::Closed("the peer closed the connection".into()))
                    .await;
                return;
            }
            Ok(n) => chunk.after_read(n, free),
            Err(e) => {
                let _ = tx
                    .send(ReadEvent::Closed(format!("read failed: {e}")))
                    .await;
                return;
            }
        }
    }
}

async fn write_loop(
    mut wr: OwnedWriteHalf,
    mut rx: mpsc::Receiver<WriteCmd>,
    counters: crate::telemetry::MessageCounters,
) {
    while let Some(cmd) = rx.recv().await {
        match cmd {
            WriteCmd::Message(m) => {
                match tokio::time::timeout(WRITE_TIMEOUT, wr.write_all(&m)).await {
                    Ok(Ok(())) => counters.sent(&m),
                    _ => return,
                }
            }
            WriteCmd::Close => break,
        }
    }
    let _ = tokio::time::timeout(WRITE_TIMEOUT, wr.shutdown()).await;
}

#[cfg(test)]
mod tests;
