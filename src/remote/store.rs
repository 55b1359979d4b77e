//! A bucket (`s3://bucket/prefix/`, `gs://…`, `az://…`) as a blocking facade over
//! `object_store`: one client per bucket, credentials, region and endpoint from the standard
//! environment (never from site.yaml), every request counted.
//!
//! `object_store` is asynchronous; the build is not. One small runtime, made on first use,
//! runs the requests, and the calls block on it (from rayon's threads too).

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use anyhow::{Context as _, Result, anyhow, bail};
use bytes::Bytes;
use futures_util::TryStreamExt as _;
use object_store::path::Path as KeyPath;
use object_store::{
    Attribute, Attributes, GetOptions, GetRange, ObjectMeta, ObjectStore, ObjectStoreExt as _,
};
use url::Url;

/// The metadata key under which `publish` stores an object's SHA-256 (lower-case hex), sent
/// as `x-amz-meta-sha256` on S3.
pub(crate) const SHA256_METADATA: &str = "sha256";

/// One object under the bucket's prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Object {
    /// The key relative to the prefix, with `/` between segments.
    pub rel: String,
    pub size: u64,
    pub etag: Option<String>,
    /// Last modification, seconds since the epoch.
    pub modified: i64,
}

/// How many requests and response bytes a bucket has cost so far.
#[derive(Debug, Default)]
pub(crate) struct Usage {
    pub requests: AtomicU64,
    pub bytes: AtomicU64,
}

/// A bucket prefix to read from and write to.
pub(crate) struct Bucket {
    store: Arc<dyn ObjectStore>,
    prefix: KeyPath,
    /// The URL as given, with a trailing slash.
    pub url: Url,
    pub usage: Usage,
}

/// Whether `text` names a bucket (a URL with one of the schemes [`Bucket::open`] takes).
pub(crate) fn is_bucket_url(text: &str) -> bool {
    ["s3://", "gs://", "az://"]
        .iter()
        .any(|s| text.len() > s.len() && text[..s.len()].eq_ignore_ascii_case(s))
}

/// `text` as a bucket URL (`s3://`, `gs://` or `az://`, a bucket name, no query or fragment),
/// with a trailing slash: the one reading of a bucket URL, for site.yaml and the command line.
pub(crate) fn parse_bucket_url(text: &str) -> Result<Url> {
    const FORM: &str = "write it as s3://BUCKET/PREFIX/ (or gs://, az://)";
    let mut url =
        Url::parse(text.trim()).with_context(|| format!("{text:?}: not a URL; {FORM}"))?;
    if !matches!(url.scheme(), "s3" | "gs" | "az") {
        bail!("{text:?}: unknown scheme {}:; {FORM}", url.scheme());
    }
    if url.host_str().is_none_or(str::is_empty) {
        bail!("{text:?}: no bucket name; {FORM}");
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!("{text:?}: a bucket URL has no query or fragment; {FORM}");
    }
    if !url.path().ends_with('/') {
        url.set_path(&format!("{}/", url.path()));
    }
    Ok(url)
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        // TLS for object_store's client is rustls with ring, as for `check --remote`.
        let _ = rustls::crypto::ring::default_provider().install_default();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("otasite-bucket")
            .enable_all()
            .build()
            .expect("a tokio runtime for bucket requests")
    })
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    runtime().block_on(f)
}

impl Bucket {
    /// Opens the bucket named by `url` with the credentials of the environment:
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`,
    /// `AWS_ENDPOINT_URL` (R2, MinIO, a local server), `AWS_ALLOW_HTTP=true` for a plain-HTTP
    /// endpoint; `GOOGLE_*` for `gs://`, `AZURE_*` for `az://`. No request is made yet.
    pub(crate) fn open(url: &str) -> Result<Bucket> {
        let url = parse_bucket_url(url)?;
        // The runtime also installs the TLS provider the clients are built with.
        let _ = runtime();
        let u = url.as_str();
        let built: Result<Arc<dyn ObjectStore>, object_store::Error> = match url.scheme() {
            "s3" => object_store::aws::AmazonS3Builder::from_env()
                .with_url(u)
                .build()
                .map(|s| Arc::new(s) as _),
            "gs" => object_store::gcp::GoogleCloudStorageBuilder::from_env()
                .with_url(u)
                .build()
                .map(|s| Arc::new(s) as _),
            _ => object_store::azure::MicrosoftAzureBuilder::from_env()
                .with_url(u)
                .build()
                .map(|s| Arc::new(s) as _),
        };
        let store = built.map_err(|e| anyhow!("{url}: {e}"))?;
        // The key prefix as written: the URL keeps it percent-encoded.
        let raw = percent_encoding::percent_decode_str(url.path())
            .decode_utf8()
            .map_err(|_| anyhow!("{url}: the prefix is not UTF-8"))?;
        let prefix = KeyPath::parse(raw.trim_matches('/'))
            .map_err(|e| anyhow!("{url}: the prefix is not a valid key: {e}"))?;
        Ok(Bucket {
            store,
            prefix,
            url,
            usage: Usage::default(),
        })
    }

    /// The full key of `rel` (a path relative to the prefix).
    ///
    /// Keys are taken as written (`KeyPath::parse`, which refuses only control characters and
    /// `.` or `..` segments): `KeyPath::from` would percent-encode `%`, `#`, `~` and others,
    /// naming another object than the one listed or uploaded.
    pub(crate) fn key(&self, rel: &str) -> KeyPath {
        let prefix = self.prefix.as_ref();
        let full = if prefix.is_empty() {
            rel.to_string()
        } else {
            format!("{prefix}/{rel}")
        };
        KeyPath::parse(&full).unwrap_or_else(|_| KeyPath::from_iter(full.split('/')))
    }

    /// The URL of `rel`, for messages.
    pub(crate) fn url_of(&self, rel: &str) -> String {
        format!("{}{rel}", self.url)
    }

    fn count(&self, bytes: usize) {
        self.usage.requests.fetch_add(1, Ordering::Relaxed);
        self.usage.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    fn fail(&self, what: &str, e: object_store::Error) -> anyhow::Error {
        let hint = match &e {
            object_store::Error::Unauthenticated { .. }
            | object_store::Error::PermissionDenied { .. } => {
                "; check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) in the environment"
            }
            object_store::Error::NotFound { .. } => "",
            _ => {
                "; check the bucket name, AWS_REGION and AWS_ENDPOINT_URL (AWS_ALLOW_HTTP=true for a plain-HTTP endpoint)"
            }
        };
        anyhow!("{}: {what} failed: {e}{hint}", self.url)
    }

    /// Every object under the prefix (one listing, however many pages it takes), sorted by
    /// key. Keys that are "folders" (ending in `/`) are left out.
    pub(crate) fn list(&self) -> Result<Vec<Object>> {
        let prefix = (!self.prefix.as_ref().is_empty()).then_some(&self.prefix);
        let metas: Vec<ObjectMeta> =
            block_on(self.store.list(prefix).try_collect()).map_err(|e| self.fail("listing", e))?;
        self.count(0);
        let strip = |key: &str| -> Option<String> {
            let p = self.prefix.as_ref();
            let rel = if p.is_empty() {
                key
            } else {
                key.strip_prefix(p)?.strip_prefix('/')?
            };
            (!rel.is_empty()).then(|| rel.to_string())
        };
        let mut out: Vec<Object> = metas
            .into_iter()
            .filter_map(|m| {
                Some(Object {
                    rel: strip(m.location.as_ref())?,
                    size: m.size,
                    etag: m.e_tag,
                    modified: m.last_modified.timestamp(),
                })
            })
            .collect();
        out.sort_by(|a, b| a.rel.cmp(&b.rel));
        Ok(out)
    }

    /// `range` of `rel`, and the object's attributes (its metadata among them).
    pub(crate) fn get_range(&self, rel: &str, range: Range<u64>) -> Result<(Bytes, Attributes)> {
        let key = self.key(rel);
        let options = GetOptions {
            range: Some(GetRange::Bounded(range)),
            ..GetOptions::default()
        };
        let got = block_on(async {
            let r = self.store.get_opts(&key, options).await?;
            let attributes = r.attributes.clone();
            Ok::<_, object_store::Error>((r.bytes().await?, attributes))
        })
        .map_err(|e| self.fail(&format!("reading {rel}"), e))?;
        self.count(got.0.len());
        Ok(got)
    }

    /// One range of `rel`.
    pub(crate) fn get_one_range(&self, rel: &str, range: Range<u64>) -> Result<Bytes> {
        let key = self.key(rel);
        let got = block_on(self.store.get_range(&key, range))
            .map_err(|e| self.fail(&format!("reading {rel}"), e))?;
        self.count(got.len());
        Ok(got)
    }

    /// Several ranges of `rel` at once, one request each, concurrently.
    pub(crate) fn get_ranges(&self, rel: &str, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        let key = self.key(rel);
        let got = block_on(futures_util::future::try_join_all(
            ranges.iter().map(|r| self.store.get_range(&key, r.clone())),
        ))
        .map_err(|e| self.fail(&format!("reading {rel}"), e))?;
        for b in &got {
            self.count(b.len());
        }
        Ok(got)
    }

    /// The whole of `rel`, refused when larger than `limit` bytes.
    pub(crate) fn get_all(&self, rel: &str, limit: u64) -> Result<Bytes> {
        let key = self.key(rel);
        let bytes = block_on(async {
            let r = self.store.get_opts(&key, GetOptions::default()).await?;
            if r.meta.size > limit {
                return Ok(None);
            }
            r.bytes().await.map(Some)
        })
        .map_err(|e| self.fail(&format!("reading {rel}"), e))?;
        let Some(bytes) = bytes else {
            bail!(
                "{}: larger than {limit} bytes; only IPAs may be that large in the releases bucket",
                self.url_of(rel)
            );
        };
        self.count(bytes.len());
        Ok(bytes)
    }

    /// Streams the whole of `rel` into `sink`, a chunk at a time.
    pub(crate) fn stream(&self, rel: &str, sink: &mut dyn FnMut(&[u8])) -> Result<u64> {
        let key = self.key(rel);
        let total = block_on(async {
            let r = self.store.get_opts(&key, GetOptions::default()).await?;
            let mut stream = r.into_stream();
            let mut total = 0u64;
            while let Some(chunk) = stream.try_next().await? {
                total += chunk.len() as u64;
                sink(&chunk);
            }
            Ok::<_, object_store::Error>(total)
        })
        .map_err(|e| self.fail(&format!("reading {rel}"), e))?;
        self.count(total as usize);
        Ok(total)
    }

    /// The object at `rel` and its attributes, or `None` when there is none.
    pub(crate) fn head(&self, rel: &str) -> Result<Option<(ObjectMeta, Attributes)>> {
        let key = self.key(rel);
        let options = GetOptions {
            head: true,
            ..GetOptions::default()
        };
        let got = block_on(async { self.store.get_opts(&key, options).await });
        self.count(0);
        match got {
            Ok(r) => Ok(Some((r.meta, r.attributes))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.fail(&format!("looking up {rel}"), e)),
        }
    }

    /// The client, for uploads (see `publish` and `deploy`).
    pub(crate) fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Runs `f` on the bucket's runtime.
    pub(crate) fn run<F: std::future::Future>(&self, f: F) -> F::Output {
        block_on(f)
    }

    /// Deletes `rel`.
    pub(crate) fn delete(&self, rel: &str) -> Result<()> {
        let key = self.key(rel);
        block_on(self.store.delete(&key)).map_err(|e| self.fail(&format!("deleting {rel}"), e))?;
        self.count(0);
        Ok(())
    }
}

/// The SHA-256 an object's metadata carries, when it is one (64 hex digits).
pub(crate) fn sha256_of(attributes: &Attributes) -> Option<String> {
    let value = attributes.get(&Attribute::Metadata(SHA256_METADATA.into()))?;
    let hex = value.as_ref().trim().to_ascii_lowercase();
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}
