//! A counting proxy for an S3 server on 127.0.0.1 (s3s-fs in the tests and the bucket
//! benchmark): each connection is forwarded as it is, and each request is recorded (method,
//! target, `Range`) with the bytes of its answer, so that request and byte budgets are held at
//! the wire. HTTP/1.1 without pipelining: answers come in order, each after its request.
//! Request bodies are taken by `Content-Length` (the S3 clients used send no chunked bodies).

use std::io::{BufRead as _, BufReader, Read, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// One request seen by the proxy, with the bytes of its answer (head and body).
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// The request target (path-style: `/bucket/key?query`).
    pub target: String,
    pub range: Option<String>,
    pub answer_bytes: u64,
    /// When the request was passed on, and when the last byte of its answer came back.
    pub sent: Instant,
    pub done: Instant,
}

/// A proxy that forwards each connection to an S3 server and records each request.
pub struct CountingProxy {
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    mark: Mutex<usize>,
}

impl CountingProxy {
    /// Starts the proxy on a free port of 127.0.0.1, in front of `upstream` there.
    pub fn start(upstream: u16) -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let all = seen.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let all = all.clone();
                std::thread::spawn(move || relay(client, upstream, &all));
            }
        });
        CountingProxy {
            port,
            seen,
            mark: Mutex::new(0),
        }
    }

    /// The requests since the last call.
    pub fn take(&self) -> Vec<Seen> {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let mut mark = self.mark.lock().unwrap_or_else(PoisonError::into_inner);
        let out = seen[*mark..].to_vec();
        *mark = seen.len();
        out
    }
}

fn relay(client: TcpStream, upstream: u16, seen: &Arc<Mutex<Vec<Seen>>>) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    let _ = (server.set_nodelay(true), client.set_nodelay(true));
    let (Ok(mut from_server), Ok(mut to_client)) = (server.try_clone(), client.try_clone()) else {
        return;
    };
    // The request being answered on this connection (HTTP/1.1: answers come in order and the
    // client sends the next request after the answer).
    let current: Arc<Mutex<Option<usize>>> = Arc::default();
    let answers = {
        let (seen, current) = (seen.clone(), current.clone());
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = match from_server.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                // Counted before it is passed on: a client that has every byte finds it counted.
                if let Some(i) = *current.lock().unwrap() {
                    let mut s = seen.lock().unwrap();
                    s[i].answer_bytes += n as u64;
                    s[i].done = Instant::now();
                }
                if to_client.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            let _ = to_client.shutdown(Shutdown::Write);
        })
    };
    let mut reader = BufReader::new(client);
    let mut to_server = server;
    loop {
        let mut head = Vec::new();
        loop {
            let mut line = Vec::new();
            if matches!(reader.read_until(b'\n', &mut line), Ok(0) | Err(_)) {
                let _ = to_server.shutdown(Shutdown::Write);
                let _ = answers.join();
                return;
            }
            let blank = line == b"\r\n" || line == b"\n";
            head.extend_from_slice(&line);
            if blank {
                break;
            }
        }
        let text = String::from_utf8_lossy(&head).into_owned();
        let mut first = text.lines().next().unwrap_or_default().split(' ');
        let (method, target) = (first.next().unwrap_or_default(), first.next());
        let header = |name: &str| {
            text.lines().skip(1).find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_string())
            })
        };
        let length: u64 = header("content-length").map_or(0, |v| v.parse().unwrap_or(0));
        {
            let mut s = seen.lock().unwrap();
            let now = Instant::now();
            s.push(Seen {
                method: method.to_string(),
                target: target.unwrap_or_default().to_string(),
                range: header("range"),
                answer_bytes: 0,
                sent: now,
                done: now,
            });
            *current.lock().unwrap() = Some(s.len() - 1);
        }
        if to_server.write_all(&head).is_err()
            || std::io::copy(&mut (&mut reader).take(length), &mut to_server).ok() != Some(length)
        {
            return;
        }
    }
}

/// The name s3s-fs gives the sidecar files it keeps at its root for `key` in `bucket`
/// (`.bucket-<b64>.object-<b64>`, unpadded URL-safe base64); `.metadata.json` and
/// `.internal.json` follow it.
pub fn s3s_fs_sidecar_stem(bucket: &str, key: &str) -> String {
    format!(".bucket-{}.object-{}", b64(bucket), b64(key))
}

fn b64(s: &str) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in s.as_bytes().chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}
