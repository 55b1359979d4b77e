//! `otasite deploy`: a built site to a bucket (S3 on its own, or behind CloudFront), each
//! file with the `Content-Type` and `Cache-Control` of the hosting policy that writes
//! `_headers` (`hosting::object_headers`). Only files whose bytes changed go up (an object's
//! ETag is the MD5 of its bytes when it went up in one request, as these do); objects the
//! site no longer has are deleted, and only after every upload succeeded. Keys under the
//! releases prefix (and any `keep` prefix) are never touched.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use md5::{Digest as _, Md5};
use object_store::{Attribute, Attributes, PutOptions, PutPayload};

use super::store::Bucket;

/// Largest file of a site that `deploy` uploads (IPAs belong in the releases bucket).
const MAX_SITE_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// What `otasite deploy` was asked to do.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeployOptions {
    pub output_dir: PathBuf,
    /// `s3://bucket/prefix/`.
    pub to: String,
    /// Prefixes (relative to `to`) whose objects are never deleted nor replaced: the releases
    /// folder when it is in the same bucket, and what the team names.
    pub keep: Vec<String>,
    /// Say what would change, change nothing.
    pub dry_run: bool,
}

/// What a deploy did (or would do).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct Deployed {
    pub url: String,
    pub uploaded: Vec<String>,
    pub unchanged: usize,
    pub deleted: Vec<String>,
    pub kept: usize,
    pub dry_run: bool,
}

/// Deploys `opts.output_dir` to `opts.to`.
pub(crate) fn deploy(opts: &DeployOptions) -> Result<Deployed> {
    let bucket = Bucket::open(&opts.to)?;
    let files = site_files(&opts.output_dir)?;
    let kept = |rel: &str| {
        opts.keep
            .iter()
            .any(|k| rel.starts_with(k.trim_start_matches('/')))
    };
    if let Some((rel, _)) = files.iter().find(|(rel, _)| kept(rel)) {
        bail!(
            "{}: the site has a file under a kept prefix ({rel}); deploy the site to another \
             prefix than the releases",
            opts.output_dir.display()
        );
    }
    let existing: HashMap<String, (u64, Option<String>)> = bucket
        .list()?
        .into_iter()
        .map(|o| (o.rel, (o.size, o.etag)))
        .collect();
    let mut report = Deployed {
        url: bucket.url.to_string(),
        dry_run: opts.dry_run,
        ..Deployed::default()
    };
    for (rel, path) in &files {
        let bytes = crate::limits::read_limited(path, MAX_SITE_FILE_BYTES, "a site file")
            .with_context(|| format!("{}: cannot read it", path.display()))?;
        let md5 = crate::ipa::to_hex(&Md5::digest(&bytes));
        let same = match existing.get(rel) {
            Some((size, _)) if *size != bytes.len() as u64 => false,
            Some((_, Some(etag))) => etag.trim_matches('"') == md5,
            // Listed without an ETag (some servers do): asked for it.
            Some((_, None)) => bucket
                .head(rel)?
                .and_then(|(meta, _)| meta.e_tag)
                .is_some_and(|etag| etag.trim_matches('"') == md5),
            None => false,
        };
        if same {
            report.unchanged += 1;
            continue;
        }
        if !opts.dry_run {
            let headers = crate::hosting::object_headers(rel);
            let mut attributes = Attributes::new();
            attributes.insert(Attribute::ContentType, headers.content_type.into());
            if let Some(cc) = headers.cache_control {
                attributes.insert(Attribute::CacheControl, cc.into());
            }
            let options = PutOptions {
                attributes,
                ..PutOptions::default()
            };
            let key = bucket.key(rel);
            bucket
                .run(
                    bucket
                        .store()
                        .put_opts(&key, PutPayload::from(bytes), options),
                )
                .map_err(|e| anyhow!("{}: uploading failed: {e}", bucket.url_of(rel)))?;
        }
        report.uploaded.push(rel.clone());
    }
    let site: std::collections::HashSet<&str> = files.iter().map(|(r, _)| r.as_str()).collect();
    let mut stale: Vec<&String> = existing
        .keys()
        .filter(|rel| !site.contains(rel.as_str()))
        .collect();
    stale.sort();
    for rel in stale {
        if kept(rel) {
            report.kept += 1;
            continue;
        }
        if !opts.dry_run {
            bucket.delete(rel)?;
        }
        report.deleted.push(rel.clone());
    }
    Ok(report)
}

/// The releases prefix of the site in `site_dir` relative to `to`, when its releases are in
/// the same bucket under `to`: a deploy must leave it alone. Releases that `to` lies inside
/// are refused (the deletions would reach them).
pub(crate) fn releases_prefix(site_dir: &Path, to: &str) -> Result<Option<String>> {
    if !site_dir.join("site.yaml").is_file() {
        return Ok(None);
    }
    let config = crate::config::Config::load(site_dir)?;
    let Some(releases) = config.releases_bucket else {
        return Ok(None);
    };
    let to = url::Url::parse(to).with_context(|| format!("{to}: not a bucket URL"))?;
    let releases = url::Url::parse(&releases)?;
    if (to.scheme(), to.host_str()) != (releases.scheme(), releases.host_str()) {
        return Ok(None);
    }
    let to_path = format!("{}/", to.path().trim_end_matches('/'));
    let rel_path = releases.path();
    if let Some(inside) = rel_path.strip_prefix(to_path.as_str()) {
        return Ok(Some(inside.to_string()));
    }
    if to_path.starts_with(rel_path) {
        bail!(
            "{to}: inside the releases bucket folder {releases} (site.yaml's releases_dir); \
             deploy the site to another prefix"
        );
    }
    Ok(None)
}

/// Every file of the site, by its path relative to the output folder (with `/`). Links are
/// refused: a deploy publishes the site's own files only.
fn site_files(output_dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    if !output_dir.is_dir() {
        bail!(
            "{}: no such folder; build the site first (otasite build)",
            output_dir.display()
        );
    }
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(output_dir)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry.with_context(|| format!("{}: cannot list it", output_dir.display()))?;
        let kind = entry.file_type();
        if kind.is_dir() {
            continue;
        }
        if !kind.is_file() {
            bail!(
                "{}: not a regular file (a link?); deploy publishes only the site's own files, \
                 build again to replace it",
                entry.path().display()
            );
        }
        let rel = entry
            .path()
            .strip_prefix(output_dir)
            .map_err(|e| anyhow!("{e}"))?
            .to_str()
            .with_context(|| format!("{}: the name must be UTF-8", entry.path().display()))?
            .replace('\\', "/");
        out.push((rel, entry.path().to_path_buf()));
    }
    Ok(out)
}
