//! Request engine behaviour against a scripted server: late replies after a timeout, replies
//! out of order, wrong reply types, a dump cut by EOF.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use bytes::{BufMut, BytesMut};
use common::replay::temp_socket;
use tokio::io::AsyncWriteExt;
use tokio::net::{UnixListener, UnixStream};
use vpp_client::framing::{encode_frame, read_frame};
use vpp_client::messages::defs::{OPTIONAL, REQUIRED};
use vpp_client::*;

/// Ids the scripted server assigns: 1000 + position in REQUIRED ++ OPTIONAL.
fn id_of(name: &str) -> u16 {
    let k = REQUIRED
        .iter()
        .chain(OPTIONAL)
        .position(|d| d.name == name)
        .unwrap();
    1000 + k as u16
}

async fn accept_and_handshake(l: &UnixListener) -> UnixStream {
    let (mut s, _) = l.accept().await.unwrap();
    let req = read_frame(&mut s).await.unwrap().unwrap();
    assert_eq!(&req[..2], &[0, 15]);
    let mut b = BytesMut::new();
    b.put_u16(16);
    b.put_u32(0);
    b.put_slice(&req[2..6]);
    b.put_i32(0);
    b.put_u32(0x8000_0001);
    let defs: Vec<_> = REQUIRED.iter().chain(OPTIONAL).collect();
    b.put_u16(defs.len() as u16);
    for d in defs {
        b.put_u16(id_of(d.name));
        let mut name = [0u8; 64];
        name[..d.name_crc.len()].copy_from_slice(d.name_crc.as_bytes());
        b.put_slice(&name);
    }
    send(&mut s, &b).await;
    s
}

async fn send(s: &mut UnixStream, body: &[u8]) {
    let mut f = BytesMut::new();
    encode_frame(body, &mut f);
    s.write_all(&f).await.unwrap();
}

fn ctx(req: &[u8]) -> [u8; 4] {
    req[6..10].try_into().unwrap()
}

fn ping_reply(ctx: [u8; 4], pid: u32) -> Vec<u8> {
    let mut b = BytesMut::new();
    b.put_u16(id_of("control_ping_reply"));
    b.put_slice(&ctx);
    b.put_i32(0);
    b.put_u32(0);
    b.put_u32(pid);
    b.to_vec()
}

fn version_reply(ctx: [u8; 4]) -> Vec<u8> {
    let mut b = BytesMut::new();
    b.put_u16(id_of("show_version_reply"));
    b.put_slice(&ctx);
    b.put_i32(0);
    b.put_bytes(0, 352);
    b.to_vec()
}

#[tokio::test]
async fn late_reply_is_dropped_and_replies_match_by_context() {
    let (_dir, sock) = temp_socket("engine");
    let l = UnixListener::bind(&sock).unwrap();
    let server = tokio::spawn(async move {
        let mut s = accept_and_handshake(&l).await;
        // 1. show_version: held back until after the client gave up.
        let v = read_frame(&mut s).await.unwrap().unwrap();
        assert_eq!(u16::from_be_bytes([v[0], v[1]]), id_of("show_version"));
        // 2. ping: first the stale version reply, then the ping's own.
        let p = read_frame(&mut s).await.unwrap().unwrap();
        send(&mut s, &version_reply(ctx(&v))).await;
        send(&mut s, &ping_reply(ctx(&p), 7)).await;
        // 3. 16 concurrent pings answered in reverse order, pid = context.
        let mut reqs = Vec::new();
        for _ in 0..16 {
            reqs.push(read_frame(&mut s).await.unwrap().unwrap());
        }
        for r in reqs.iter().rev() {
            let c = ctx(r);
            send(&mut s, &ping_reply(c, u32::from_be_bytes(c))).await;
        }
        // 4. a version request answered with a ping reply.
        let v = read_frame(&mut s).await.unwrap().unwrap();
        send(&mut s, &ping_reply(ctx(&v), 1)).await;
        // 5. a dump cut short by EOF.
        let d = read_frame(&mut s).await.unwrap().unwrap();
        let p = read_frame(&mut s).await.unwrap().unwrap();
        assert_eq!(
            ctx(&d),
            ctx(&p),
            "dump and its control_ping share a context"
        );
        assert_eq!(u16::from_be_bytes([p[0], p[1]]), id_of("control_ping"));
        drop(s);
    });

    let mut vpp = Client::connect(&sock, Duration::from_secs(5))
        .await
        .unwrap();
    vpp.set_timeout(Duration::from_millis(200));
    let r = vpp.version().await;
    assert!(
        matches!(
            r,
            Err(Error::Timeout {
                message: "show_version",
                ..
            })
        ),
        "{r:?}"
    );
    vpp.set_timeout(Duration::from_secs(5));
    assert_eq!(
        vpp.ping().await.unwrap(),
        7,
        "the late version reply must not complete the ping"
    );

    let pings = (0..16).map(|_| vpp.ping());
    let pids = futures_join_all(pings).await;
    let mut seen: Vec<u32> = pids.into_iter().map(Result::unwrap).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 16, "each concurrent ping got its own reply");

    let r = vpp.version().await;
    assert!(
        matches!(
            r,
            Err(Error::UnexpectedReply {
                request: "show_version",
                ..
            })
        ),
        "{r:?}"
    );

    let r = vpp.localsids().await;
    assert!(matches!(r, Err(Error::Disconnected(_))), "{r:?}");
    let reason = tokio::time::timeout(Duration::from_secs(5), vpp.closed())
        .await
        .unwrap();
    assert!(reason.contains("EOF"), "{reason}");
    assert!(matches!(vpp.ping().await, Err(Error::Disconnected(_))));
    server.await.unwrap();
}

/// Polls futures concurrently on the current task (no extra dependency).
async fn futures_join_all<F: std::future::Future>(fs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in fs {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn refused_handshake_and_absent_socket() {
    let (_dir, sock) = temp_socket("refused");
    let err = Client::connect(&sock, Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err}");
    assert!(!err.is_incompatible());

    let l = UnixListener::bind(&sock).unwrap();
    let server = tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let req = read_frame(&mut s).await.unwrap().unwrap();
        let mut b = BytesMut::new();
        b.put_u16(16);
        b.put_u32(0);
        b.put_slice(&req[2..6]);
        b.put_i32(-1);
        b.put_u32(0);
        b.put_u16(0);
        send(&mut s, &b).await;
    });
    let err = Client::connect(&sock, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Handshake(_)), "{err}");
    assert!(err.is_incompatible());
    server.await.unwrap();
}
