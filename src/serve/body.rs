//! Response bodies: bytes held in memory, or a range of an open file streamed in chunks, so a
//! multi-GB IPA never sits in memory. hyper asks for the next chunk only when the previous ones
//! have been written, so a slow client holds at most a few chunks.
//!
//! File chunks are read in place rather than on tokio's blocking pool: that pool starts threads
//! on demand, and a server that needs a new thread to answer stops answering at the thread limit
//! (issue 17, finding 10). A 64 KiB read of a local file is short.

use std::fs::File;
use std::io::Read as _;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

/// Bytes read from a file per chunk.
const CHUNK: u64 = 64 * 1024;

/// A response body.
pub(super) enum Payload {
    Bytes(Option<Bytes>),
    /// `remaining` bytes from the file's current position.
    File {
        file: File,
        remaining: u64,
    },
}

impl Payload {
    pub(super) fn empty() -> Self {
        Payload::Bytes(None)
    }

    pub(super) fn bytes(bytes: impl Into<Bytes>) -> Self {
        Payload::Bytes(Some(bytes.into()))
    }
}

impl Body for Payload {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = self.get_mut();
        match this {
            Payload::Bytes(bytes) => Poll::Ready(
                bytes
                    .take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
            Payload::File { file, remaining } => {
                if *remaining == 0 {
                    return Poll::Ready(None);
                }
                let want = (*remaining).min(CHUNK);
                let mut chunk = Vec::new();
                let result = file.take(want).read_to_end(&mut chunk);
                Poll::Ready(Some(match result {
                    Ok(0) => {
                        // Shorter than when it was checked: end the response, do not pad it.
                        *remaining = 0;
                        Err(std::io::ErrorKind::UnexpectedEof.into())
                    }
                    Ok(n) => {
                        *remaining -= n as u64;
                        Ok(Frame::data(Bytes::from(chunk)))
                    }
                    Err(e) => {
                        *remaining = 0;
                        Err(e)
                    }
                }))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Payload::Bytes(bytes) => bytes.as_ref().is_none_or(Bytes::is_empty),
            Payload::File { remaining, .. } => *remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(match self {
            Payload::Bytes(bytes) => bytes.as_ref().map_or(0, |b| b.len() as u64),
            Payload::File { remaining, .. } => *remaining,
        })
    }
}

impl From<Vec<u8>> for Payload {
    fn from(bytes: Vec<u8>) -> Self {
        Payload::bytes(bytes)
    }
}

impl From<String> for Payload {
    fn from(text: String) -> Self {
        Payload::bytes(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek as _, SeekFrom, Write as _};
    use std::task::Waker;

    fn collect(mut body: Payload) -> Result<Vec<u8>, std::io::Error> {
        let mut cx = Context::from_waker(Waker::noop());
        let mut out = Vec::new();
        while let Poll::Ready(Some(frame)) = Pin::new(&mut body).poll_frame(&mut cx) {
            if let Ok(data) = frame?.into_data() {
                out.extend_from_slice(&data);
            }
        }
        Ok(out)
    }

    #[test]
    fn files_stream_their_range_in_chunks() {
        let mut file = tempfile::tempfile().unwrap();
        let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        file.write_all(&data).unwrap();
        file.seek(SeekFrom::Start(10)).unwrap();
        let body = Payload::File {
            file,
            remaining: 150_000,
        };
        assert_eq!(body.size_hint().exact(), Some(150_000));
        assert_eq!(collect(body).unwrap(), &data[10..150_010]);
    }

    #[test]
    fn a_file_that_shrank_ends_in_an_error() {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"short").unwrap();
        file.seek(SeekFrom::Start(0)).unwrap();
        let body = Payload::File {
            file,
            remaining: 100,
        };
        assert!(collect(body).is_err());
    }

    #[test]
    fn bytes() {
        assert_eq!(collect(Payload::bytes("abc")).unwrap(), b"abc");
        assert!(Payload::empty().is_end_stream());
    }
}
