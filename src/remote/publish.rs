//! `otasite publish`: uploads builds into a releases bucket as a build expects them. Each IPA
//! is read first (a file that is not an IPA is refused before any upload) and hashed; the
//! object gets `Content-Type: application/octet-stream`, a year's `Cache-Control` and the
//! SHA-256 in its metadata, so that a build reads no more than its metadata needs.
//!
//! Publishing the same bytes again does nothing; other bytes at the same key are refused
//! unless `replace`. Large files go up in parts, several at once; a failed upload is aborted,
//! so no partial object is ever visible.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use object_store::{Attribute, Attributes, PutMultipartOptions, PutOptions, PutPayload};
use sha2::{Digest as _, Sha256};

use super::store::{Bucket, SHA256_METADATA, sha256_of};
use crate::hosting::{IMMUTABLE, IPA_TYPE};

/// Files up to this size go up in one request; larger ones in parts.
pub(crate) const MULTIPART_THRESHOLD: u64 = 16 * 1024 * 1024;
/// The size of each part (S3 takes 5 MiB to 5 GiB, and at most 10,000 parts: 80 GB).
const PART_BYTES: usize = 8 * 1024 * 1024;
/// Parts in flight at once.
const PARALLEL_PARTS: usize = 4;

/// What `otasite publish` was asked to do.
#[derive(Debug, Clone)]
pub(crate) struct PublishOptions {
    pub ipas: Vec<PathBuf>,
    /// `s3://bucket/prefix/FOLDER/`: the folder the files go into.
    pub to: String,
    /// Release notes uploaded beside the IPA (as `<IPA name>.md`, or `notes.md` for several).
    pub notes: Option<PathBuf>,
    pub replace: bool,
    /// Told of progress: (file, bytes sent, bytes in all).
    pub progress: Option<fn(&Path, u64, u64)>,
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    Uploaded,
    Replaced,
    AlreadyPublished,
}

/// One file published.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Published {
    pub file: PathBuf,
    pub url: String,
    pub size: u64,
    pub sha256: String,
    pub outcome: Outcome,
    /// Parts it went up in (1: a single request).
    pub parts: usize,
}

/// Publishes every IPA (and the notes) of `opts`; stops at the first failure.
pub(crate) fn publish(opts: &PublishOptions) -> Result<Vec<Published>> {
    if opts.ipas.is_empty() {
        bail!("name at least one .ipa to publish");
    }
    let bucket = Bucket::open(&opts.to)?;
    let mut out = Vec::new();
    for path in &opts.ipas {
        // The same reader a build uses: refuses what is no IPA, and hashes it once.
        let ipa = crate::ipa::read_ipa(path).map_err(|e| anyhow!("{e}"))?;
        let name = file_name(path)?;
        out.push(put_file(
            &bucket,
            path,
            &name,
            (ipa.size, ipa.sha256.clone()),
            IPA_TYPE,
            opts,
        )?);
    }
    if let Some(notes) = &opts.notes {
        let bytes = crate::limits::read_limited(notes, crate::limits::MAX_NOTES_BYTES, "notes")
            .with_context(|| format!("{}: cannot read the notes", notes.display()))?;
        std::str::from_utf8(&bytes)
            .with_context(|| format!("{}: notes must be UTF-8 Markdown", notes.display()))?;
        let name = match opts.ipas.as_slice() {
            [one] => format!(
                "{}.md",
                one.file_stem().unwrap_or_default().to_string_lossy()
            ),
            _ => "notes.md".to_string(),
        };
        let sha = crate::ipa::to_hex(&Sha256::digest(&bytes));
        out.push(put_file(
            &bucket,
            notes,
            &name,
            (bytes.len() as u64, sha),
            "text/markdown; charset=utf-8",
            opts,
        )?);
    }
    Ok(out)
}

fn file_name(path: &Path) -> Result<String> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("{}: the file name must be UTF-8", path.display()))?;
    if name.contains(['\\', '\0']) || name.chars().any(char::is_control) {
        bail!(
            "{}: rename the file: its name cannot be a key",
            path.display()
        );
    }
    Ok(name.to_string())
}

/// Uploads `path` as `name` unless the same bytes are there; `(size, sha256)` as read.
fn put_file(
    bucket: &Bucket,
    path: &Path,
    name: &str,
    (size, sha256): (u64, String),
    content_type: &'static str,
    opts: &PublishOptions,
) -> Result<Published> {
    let url = bucket.url_of(name);
    let done = |outcome, parts| Published {
        file: path.to_path_buf(),
        url: url.clone(),
        size,
        sha256: sha256.clone(),
        outcome,
        parts,
    };
    let outcome = match bucket.head(name)? {
        None => Outcome::Uploaded,
        Some((meta, attributes)) => {
            if meta.size == size && sha256_of(&attributes).as_deref() == Some(sha256.as_str()) {
                return Ok(done(Outcome::AlreadyPublished, 0));
            }
            if !opts.replace {
                bail!(
                    "{url}: already there with other content ({} bytes{}); publish under another \
                     name (a new folder per build is usual), or pass --replace to overwrite it \
                     (testers' CDN caches may then still serve the old file for a while)",
                    meta.size,
                    sha256_of(&attributes).map_or_else(
                        || ", no sha256 in its metadata".to_string(),
                        |s| format!(", sha256 {s}")
                    )
                );
            }
            Outcome::Replaced
        }
    };
    let mut attributes = Attributes::new();
    attributes.insert(Attribute::ContentType, content_type.into());
    attributes.insert(Attribute::CacheControl, IMMUTABLE.into());
    attributes.insert(
        Attribute::Metadata(SHA256_METADATA.into()),
        sha256.clone().into(),
    );
    let parts = if size <= MULTIPART_THRESHOLD {
        put_whole(bucket, path, name, size, &sha256, attributes)?;
        1
    } else {
        put_parts(
            bucket,
            path,
            name,
            (size, &sha256),
            attributes,
            opts.progress,
        )?
    };
    if let Some(progress) = opts.progress {
        progress(path, size, size);
    }
    Ok(done(outcome, parts))
}

/// One request, with the bytes checked against the hash read before.
fn put_whole(
    bucket: &Bucket,
    path: &Path,
    name: &str,
    size: u64,
    sha256: &str,
    attributes: Attributes,
) -> Result<()> {
    let bytes = crate::limits::read_limited(path, MULTIPART_THRESHOLD, "the file")?;
    if bytes.len() as u64 != size || crate::ipa::to_hex(&Sha256::digest(&bytes)) != sha256 {
        bail!("{}: {CHANGED}", path.display());
    }
    let options = PutOptions {
        attributes,
        ..PutOptions::default()
    };
    let key = bucket.key(name);
    bucket
        .run(
            bucket
                .store()
                .put_opts(&key, PutPayload::from(bytes), options),
        )
        .map_err(|e| anyhow!("{}: uploading failed: {e}", bucket.url_of(name)))?;
    Ok(())
}

const CHANGED: &str = "changed while it was being published; nothing was uploaded. Publish it \
                       again once it is complete";

/// A multipart upload, [`PARALLEL_PARTS`] parts in flight, hashed as it goes: bytes that differ
/// from those hashed before (the file changed) abort it, as any failure does.
fn put_parts(
    bucket: &Bucket,
    path: &Path,
    name: &str,
    (size, sha256): (u64, &str),
    attributes: Attributes,
    progress: Option<fn(&Path, u64, u64)>,
) -> Result<usize> {
    let key = bucket.key(name);
    let store = bucket.store().clone();
    let url = bucket.url_of(name);
    let mut file = crate::paths::open_input(path)
        .with_context(|| format!("{}: cannot open the file", path.display()))?;
    bucket.run(async move {
        let options = PutMultipartOptions {
            attributes,
            ..PutMultipartOptions::default()
        };
        let upload = store
            .put_multipart_opts(&key, options)
            .await
            .map_err(|e| anyhow!("{url}: starting the upload failed: {e}"))?;
        let mut writer = object_store::WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut hasher = Sha256::new();
        let mut sent = 0u64;
        let mut buf = vec![0u8; PART_BYTES];
        let result: Result<()> = async {
            loop {
                writer
                    .wait_for_capacity(PARALLEL_PARTS)
                    .await
                    .map_err(|e| anyhow!("{url}: uploading a part failed: {e}"))?;
                let n = read_full(&mut file, &mut buf)
                    .with_context(|| format!("{}: cannot read the file", path.display()))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                writer.write(&buf[..n]);
                sent += n as u64;
                if let Some(progress) = progress {
                    progress(path, sent, size);
                }
            }
            if sent != size || crate::ipa::to_hex(&hasher.clone().finalize()) != sha256 {
                bail!("{}: {CHANGED}", path.display());
            }
            Ok(())
        }
        .await;
        let parts = sent.div_ceil(PART_BYTES as u64) as usize;
        match result {
            Ok(()) => {
                writer
                    .finish()
                    .await
                    .map_err(|e| anyhow!("{url}: completing the upload failed: {e}"))?;
                Ok(parts.max(1))
            }
            Err(e) => {
                if let Err(abort) = writer.abort().await {
                    log::warn!("{url}: the failed upload could not be aborted: {abort}");
                }
                Err(e)
            }
        }
    })
}

/// Reads until `buf` is full or the file ends.
fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
