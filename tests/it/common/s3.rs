//! A real S3 server for the tests: `s3s-fs` (the s3s project's file-system backed S3, from
//! crates.io; `scripts/install-test-tools` builds it into `.test-tools/s3s/`), on 127.0.0.1
//! with SigV4 request signing on, behind a counting proxy: every request that reaches the
//! server is recorded (method, target, `Range`) with the bytes of its answer, so that the
//! tests hold the build to its request and byte budgets at the wire.

use std::path::PathBuf;
use std::process::{Command, Output};

pub use otasite::testkit::s3proxy::{CountingProxy, Seen, s3s_fs_sidecar_stem};

use tempfile::TempDir;

use super::http::{free_port, wait_for_port};
use super::servers::{Server, spawn};
use super::{missing_tool, otasite, project_dir};

pub const ACCESS_KEY: &str = "otasite-test-key";
pub const SECRET_KEY: &str = "otasite-test-secret-0123456789";

pub struct S3 {
    _server: Server,
    pub data: TempDir,
    pub endpoint: String,
    proxy: CountingProxy,
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
        let proxy = CountingProxy::start(port);
        Some(S3 {
            _server: server,
            data,
            endpoint: format!("http://127.0.0.1:{}", proxy.port),
            proxy,
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
        self.proxy.take()
    }

    /// Where the server keeps `bucket/key` on disk.
    pub fn object_path(&self, bucket: &str, key: &str) -> PathBuf {
        self.data.path().join(bucket).join(key)
    }
}
