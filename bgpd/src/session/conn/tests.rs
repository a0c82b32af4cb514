use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use super::*;

#[test]
fn the_read_chunk_grows_while_reads_fill_it_and_shrinks_when_quiet() {
    let mut c = ReadChunk::new();
    assert_eq!(c.size(), ReadChunk::MIN);
    // A table transfer: every read fills the room.
    for _ in 0..10 {
        let free = c.size();
        c.after_read(free, free);
    }
    assert_eq!(c.size(), ReadChunk::MAX);
    // A read that half fills the room changes nothing.
    c.after_read(ReadChunk::MAX / 2, ReadChunk::MAX);
    assert_eq!(c.size(), ReadChunk::MAX);
    assert!(!c.shrink(ReadChunk::MAX));
    // Keepalives only.
    for _ in 0..10 {
        c.after_read(19, c.size());
    }
    assert_eq!(c.size(), ReadChunk::MIN);
    assert!(c.shrink(ReadChunk::MAX));
    assert!(!c.shrink(ReadChunk::MIN));
}

/// A message of `len` octets (header included) whose body is `fill`.
fn message(len: usize, fill: u8) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&(len as u16).to_be_bytes());
    m.push(2);
    m.resize(len, fill);
    m
}

#[tokio::test]
async fn frames_come_out_whole_across_bursts_trickles_and_extended_messages() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let client = tokio::spawn(async move { TcpStream::connect(addr).await.unwrap() });
    let (server, _) = listener.accept().await.unwrap();
    let mut client = client.await.unwrap();
    let mut conn = Connection::new(server, Direction::Incoming).unwrap();
    conn.set_max_message_len(65535);
    // A burst of full-size messages, then extended ones, then a trickle of small ones written
    // a few octets at a time, then a burst again.
    let mut sent: Vec<Vec<u8>> = Vec::new();
    sent.extend((0..200).map(|i| message(4096, i as u8)));
    sent.extend((0..5).map(|i| message(60_000 + i, 0xa0 + i as u8)));
    sent.extend((0..20).map(|i| message(19 + i, 0x10)));
    sent.extend((0..100).map(|i| message(1000 + i, i as u8)));
    let (burst1, rest) = sent.split_at(205);
    let (trickle, burst2) = rest.split_at(20);
    let writer = {
        let (b1, t, b2): (Vec<u8>, Vec<Vec<u8>>, Vec<u8>) =
            (burst1.concat(), trickle.to_vec(), burst2.concat());
        tokio::spawn(async move {
            client.write_all(&b1).await.unwrap();
            for m in t {
                for piece in m.chunks(7) {
                    client.write_all(piece).await.unwrap();
                    client.flush().await.unwrap();
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            client.write_all(&b2).await.unwrap();
            client
        })
    };
    for (i, want) in sent.iter().enumerate() {
        match tokio::time::timeout(Duration::from_secs(10), conn.recv()).await {
            Ok(ReadEvent::Frame(f)) => assert_eq!(&f[..], &want[..], "message {i}"),
            Ok(other) => panic!("message {i}: {other:?}"),
            Err(_) => panic!("message {i}: nothing within 10 s"),
        }
    }
    drop(writer.await.unwrap());
    assert!(matches!(
        tokio::time::timeout(Duration::from_secs(10), conn.recv()).await,
        Ok(ReadEvent::Closed(_))
    ));
}
