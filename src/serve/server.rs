//! The dev server's network side: hyper's HTTP/1.1 on a tokio runtime whose few threads all
//! start with the server, so answering never needs a new thread (issue 17, finding 10). Every
//! read is bounded (request line and headers by hyper's limits, bodies never read), at most
//! `SERVE_MAX_CONNECTIONS` connections are served at once, one that sends no headers is closed
//! after `SERVE_HEADER_TIMEOUT`, and one that moves no byte for `SERVE_STALL_TIMEOUT` is dropped.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio::sync::Semaphore;

use super::respond::respond;
use super::state::State;
use crate::limits::{
    SERVE_HEADER_TIMEOUT, SERVE_MAX_CONNECTIONS, SERVE_MAX_HEADER_BYTES, SERVE_MAX_HEADERS,
    SERVE_STALL_TIMEOUT,
};

/// Threads answering requests; all of them start with the server.
const WORKERS: usize = 2;

/// Pause after a failed accept (out of file descriptors, say) before trying again.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// How often a connection checks whether it has stalled.
const STALL_CHECK: Duration = Duration::from_secs(5);

/// Starts serving `listener`; requests are answered until the returned runtime is dropped.
pub(super) fn start(listener: std::net::TcpListener, state: Arc<State>) -> io::Result<Runtime> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .thread_name("otasite-http")
        .enable_io()
        .enable_time()
        .build()?;
    listener.set_nonblocking(true)?;
    let listener = {
        let _context = runtime.enter();
        TcpListener::from_std(listener)?
    };
    runtime.spawn(accept_loop(listener, state));
    Ok(runtime)
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    let slots = Arc::new(Semaphore::new(SERVE_MAX_CONNECTIONS));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(SERVE_HEADER_TIMEOUT)
        .max_header_size(SERVE_MAX_HEADER_BYTES)
        .max_headers(SERVE_MAX_HEADERS)
        // The read buffer: a request line or headers larger than this are refused with 431.
        .max_buf_size((SERVE_MAX_HEADER_BYTES * 2).max(8192));
    loop {
        // Beyond the limit, new connections wait in the kernel's queue until a slot frees.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                log::warn!("serve: cannot accept a connection: {e}");
                tokio::time::sleep(ACCEPT_RETRY).await;
                continue;
            }
        };
        let (stream, progress) = Watched::new(stream);
        let state = state.clone();
        let service = service_fn(move |req| {
            let state = state.clone();
            async move { Ok::<_, std::convert::Infallible>(respond(req, &state).await) }
        });
        let connection = http.serve_connection(TokioIo::new(stream), service);
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            loop {
                match tokio::time::timeout(STALL_CHECK, connection.as_mut()).await {
                    Ok(Err(e)) => log::debug!("serve: connection ended: {e}"),
                    Ok(Ok(())) => {}
                    Err(_) if progress.idle() < SERVE_STALL_TIMEOUT => continue,
                    Err(_) => log::debug!("serve: dropped a connection that stalled"),
                }
                break;
            }
            drop(slot);
        });
    }
}

/// When a connection last moved a byte.
struct Progress {
    start: Instant,
    /// Milliseconds after `start`.
    last: AtomicU64,
}

impl Progress {
    fn touch(&self) {
        let now = self.start.elapsed().as_millis() as u64;
        self.last.store(now, Ordering::Relaxed);
    }

    fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// A connection that records its progress, so that one that stalls can be dropped.
struct Watched {
    stream: TcpStream,
    progress: Arc<Progress>,
}

impl Watched {
    fn new(stream: TcpStream) -> (Self, Arc<Progress>) {
        let progress = Arc::new(Progress {
            start: Instant::now(),
            last: AtomicU64::new(0),
        });
        let watched = Watched {
            stream,
            progress: progress.clone(),
        };
        (watched, progress)
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.progress.touch();
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.stream).poll_write(cx, data);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.progress.touch();
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.stream).poll_write_vectored(cx, data);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.progress.touch();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
