//! The socket transport's framing: VPP's 16-byte `msgbuf_t` header in front of every message.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                      q (u64, shared-memory                    |
//! |                 queue pointer; we send 0, ignore)             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |              data_len (u32, big-endian): body length          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         gc_mark_timestamp (u32; we send 0, ignore)            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  body: u16 _vl_msg_id (big-endian), then the message fields   |
//! |                        (data_len bytes)                       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! There are no delimiters and no padding. VPP writes its output in 4 KiB chunks, so one message
//! may span many reads (the `sockclnt_create_reply` with the message table is about 56 KB) and one
//! read may hold several messages: [`read_frame`] always reads exactly 16 bytes and then exactly
//! `data_len` bytes. VPP fills `q` with a pointer of its own on replies; it is ignored.

use bytes::{BufMut, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Size of the framing header.
pub const HEADER_LEN: usize = 16;

/// Largest body we accept from VPP. The biggest message we expect is `get_api_json_reply`
/// (a few MB); anything above this is a corrupt stream, not a message.
pub const MAX_BODY_LEN: usize = 64 * 1024 * 1024;

/// Appends one framed message (header + `body`) to `out`.
pub fn encode_frame(body: &[u8], out: &mut BytesMut) {
    out.reserve(HEADER_LEN + body.len());
    out.put_u64(0); // q
    // Bodies are built by this crate and are far below 4 GiB.
    out.put_u32(u32::try_from(body.len()).unwrap_or(u32::MAX));
    out.put_u32(0); // gc_mark_timestamp
    out.put_slice(body);
}

/// Reads one frame and returns its body. `Ok(None)` is an orderly EOF at a frame boundary
/// (what a client sees when VPP exits: no goodbye message).
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> std::io::Result<Option<Bytes>> {
    let mut header = [0u8; HEADER_LEN];
    // Read the first byte separately to tell a clean EOF from a truncated header.
    let n = r.read(&mut header[..1]).await?;
    if n == 0 {
        return Ok(None);
    }
    r.read_exact(&mut header[1..]).await?;
    let len = u32::from_be_bytes([header[8], header[9], header[10], header[11]]) as usize;
    if len > MAX_BODY_LEN {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("frame body of {len} bytes exceeds the {MAX_BODY_LEN}-byte limit"),
        ));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).await?;
    Ok(Some(Bytes::from(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout() {
        let mut out = BytesMut::new();
        encode_frame(&[0x00, 0x17, 1, 2, 3], &mut out);
        assert_eq!(out.len(), 21);
        assert_eq!(&out[..8], &[0; 8]);
        assert_eq!(&out[8..12], &5u32.to_be_bytes());
        assert_eq!(&out[12..16], &[0; 4]);
        assert_eq!(&out[16..], &[0x00, 0x17, 1, 2, 3]);
    }

    #[tokio::test]
    async fn reads_split_and_coalesced_frames() {
        let mut wire = BytesMut::new();
        encode_frame(b"first", &mut wire);
        encode_frame(b"", &mut wire);
        encode_frame(&vec![7u8; 10_000], &mut wire);
        // q garbage on receive must be ignored.
        wire[0] = 0x80;
        let (mut a, mut b) = tokio::io::duplex(64);
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            for chunk in wire.chunks(7) {
                a.write_all(chunk).await.unwrap();
            }
        });
        assert_eq!(read_frame(&mut b).await.unwrap().unwrap(), &b"first"[..]);
        assert_eq!(read_frame(&mut b).await.unwrap().unwrap().len(), 0);
        assert_eq!(read_frame(&mut b).await.unwrap().unwrap().len(), 10_000);
        writer.await.unwrap();
        assert!(read_frame(&mut b).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn truncated_frame_is_an_error_and_huge_length_refused() {
        let (mut a, mut b) = tokio::io::duplex(64);
        {
            use tokio::io::AsyncWriteExt;
            a.write_all(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 1, 2])
                .await
                .unwrap();
            drop(a);
        }
        assert!(read_frame(&mut b).await.is_err());

        let (mut a, mut b) = tokio::io::duplex(64);
        {
            use tokio::io::AsyncWriteExt;
            a.write_all(&[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])
                .await
                .unwrap();
        }
        let err = read_frame(&mut b).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    }
}
