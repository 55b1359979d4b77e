//! A real S3 server for the tests: `s3s-fs` (the s3s project's file-system backed S3, from
//! crates.io; `scripts/install-test-tools` builds it into `.test-tools/s3s/`), on 127.0.0.1
//! with SigV4 request signing on, behind a counting proxy: every request that reaches the
//! server is recorded (method, target, `Range`) with the bytes of its answer, so that the
//! tests hold the build to its request and byte budgets at the wire.

use std::io::{BufRead as _, BufReader, Read, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use tempfile::TempDir;

use super::http::{free_port, wait_for_port};
use super::servers::{Server, spawn};
use super::{missing_tool, otasite, project_dir};

pub const ACCESS_KEY: &str = "otasite-test-key";
pub const SECRET_KEY: &str = "otasite-test-secret-0123456789";

/// One request seen by the proxy.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub range: Option<String>,
    /// Bytes of the answer (head and body).
    pub answer_bytes: u64,
}

pub struct S3 {
    _server: Server,
    pub data: TempDir,
    pub endpoint: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    mark: Mutex<usize>,
}

/// The s3s-fs binary: `S3S_FS`, else `.test-tools/s3s/bin/s3s-fs`.
fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("S3S_FS").map_or_else(
        || project_dir().join(".test-tools/s3s/bin/s3s-fs"),
        PathBuf::from,
    );
    path.is_file().then_some(path)
}

impl S3 {
    /// Starts a server with the buckets named; `None` after a SKIP (a failure under CI) when
    /// s3s-fs is not installed.
    pub fn start(buckets: &[&str]) -> Option<S3> {
        let Some(bin) = binary() else {
            missing_tool("s3s-fs", "run scripts/install-test-tools");
            return None;
        };
        let data = tempfile::tempdir().unwrap();
        for b in buckets {
            std::fs::create_dir_all(data.path().join(b)).unwrap();
        }
        let port = free_port();
        let log = data.path().join("s3s-fs.log");
        let root = data.path().to_path_buf();
        let server = spawn(
            Command::new(bin)
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
                .arg(&root),
            &log,
        );
        wait_for_port(port, "s3s-fs", &log);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let proxy_port = counting_proxy(port, seen.clone());
        Some(S3 {
            _server: server,
            data,
            endpoint: format!("http://127.0.0.1:{proxy_port}"),
            seen,
            mark: Mutex::new(0),
        })
    }

    /// The environment a client of this server needs (and no other AWS_ setting).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }

    /// `otasite ARGS` with this server's environment.
    pub fn otasite(&self, args: &[&str]) -> Output {
        let mut cmd = otasite();
        for (k, _) in std::env::vars() {
            if k.starts_with("AWS_") {
                cmd.env_remove(k);
            }
        }
        cmd.envs(self.env())
            .args(args)
            .output()
            .expect("run otasite")
    }

    /// Like [`S3::otasite`], panicking with the diagnostics when it fails.
    pub fn otasite_ok(&self, args: &[&str]) -> Output {
        let out = self.otasite(args);
        assert!(
            out.status.success(),
            "otasite {args:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// The requests seen since the last call, and forgets them.
    pub fn take_seen(&self) -> Vec<Seen> {
        // Answers still streaming are counted by the time the client has them all.
        let seen = self.seen.lock().unwrap();
        let mut mark = self.mark.lock().unwrap();
        let out = seen[*mark..].to_vec();
        *mark = seen.len();
        out
    }

    /// Where the server keeps `bucket/key` on disk.
    pub fn object_path(&self, bucket: &str, key: &str) -> PathBuf {
        self.data.path().join(bucket).join(key)
    }
}

/// A proxy on a free port that forwards each connection to `upstream` and records each
/// request (its head parsed; bodies by `Content-Length`) with the bytes of the answers.
fn counting_proxy(upstream: u16, seen: Arc<Mutex<Vec<Seen>>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let seen = seen.clone();
            std::thread::spawn(move || relay(client, upstream, &seen));
        }
    });
    port
}

fn relay(client: TcpStream, upstream: u16, seen: &Arc<Mutex<Vec<Seen>>>) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    // Answers: copied as they come, their bytes added to the oldest request not yet answered
    // in full (HTTP/1.1 answers come in order); the count is of all answer bytes.
    let (Ok(mut from_server), Ok(mut to_client)) = (server.try_clone(), client.try_clone()) else {
        return;
    };
    // The indexes in `seen` of this connection's requests.
    let mine: Arc<Mutex<Vec<usize>>> = Arc::default();
    let answers = {
        let seen = seen.clone();
        let mine = mine.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match from_server.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if to_client.write_all(&buf[..n]).is_err() {
                    break;
                }
                // Counted on the latest request of this connection.
                if let Some(&i) = mine.lock().unwrap().last() {
                    seen.lock().unwrap()[i].answer_bytes += n as u64;
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
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => {
                    let _ = to_server.shutdown(Shutdown::Write);
                    let _ = answers.join();
                    return;
                }
                Ok(_) => {}
            }
            let end = line == b"\r\n" || line == b"\n";
            head.extend_from_slice(&line);
            if end {
                break;
            }
        }
        let text = String::from_utf8_lossy(&head).into_owned();
        let mut lines = text.lines();
        let mut request_line = lines.next().unwrap_or_default().split(' ');
        let method = request_line.next().unwrap_or_default().to_string();
        let target = request_line.next().unwrap_or_default().to_string();
        let header = |name: &str| {
            text.lines().skip(1).find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_string())
            })
        };
        let length: u64 = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        {
            let mut s = seen.lock().unwrap();
            mine.lock().unwrap().push(s.len());
            s.push(Seen {
                method,
                target,
                range: header("range"),
                answer_bytes: 0,
            });
        }
        if to_server.write_all(&head).is_err() {
            return;
        }
        let copied = std::io::copy(&mut (&mut reader).take(length), &mut to_server);
        if copied.map_or(true, |n| n != length) {
            return;
        }
    }
}
