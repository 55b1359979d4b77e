//! A releases bucket seen as a releases folder: one listing, then the small files (notes and
//! the images they show) copied into `.otasite/bucket/<id>/files/` when new or changed, and
//! the IPAs left where they are, read with ranged requests when first seen (`ranged`) and
//! from the build cache after that.
//!
//! Nothing in the copy is trusted: each file is checked against the listing's size before
//! use, keys that are not plain relative paths are refused, and files the listing no longer
//! names are removed.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::store::{Bucket, Object};
use crate::cache::FileKey;

/// Largest notes or image object copied from a bucket (larger notes are refused by the notes
/// reader with its own message; such images are not worth a page).
const MAX_SMALL_OBJECT_BYTES: u64 = 16 * 1024 * 1024;
/// The small files a release's notes may use.
const SMALL_EXTENSIONS: [&str; 8] = ["md", "png", "jpg", "jpeg", "gif", "webp", "svg", "avif"];

/// A releases bucket, listed and with its small files copied.
pub(crate) struct Mirror {
    pub bucket: Bucket,
    /// The folder that stands for the bucket's prefix: the copied small files, at their keys.
    pub root: PathBuf,
    /// The IPA objects, sorted by key.
    pub ipas: Vec<Object>,
    /// A digest of the listing (every key, size and ETag): what a rebuild compares.
    pub listing_digest: String,
}

/// What the copy held after the last sync: each file's object version.
#[derive(Serialize, Deserialize, Default)]
struct State {
    /// Size, ETag and time: some servers list no ETag.
    files: BTreeMap<String, (u64, Option<String>, i64)>,
}

impl Mirror {
    /// Lists `url` once and brings the copy of its small files up to date.
    pub(crate) fn sync(url: &str, site_dir: &Path) -> Result<Mirror> {
        let bucket = Bucket::open(url)?;
        let rel = crate::config::bucket_folder(bucket.url.as_str());
        crate::cache::disk::real_folder(site_dir, &rel).with_context(|| {
            format!(
                "{}: not a plain folder (a link?); remove it so that the bucket's notes can be \
                 copied there",
                site_dir.join(&rel).display()
            )
        })?;
        // As the releases folder is named elsewhere (`site_dir` joined with it).
        let root = site_dir.join(&rel);
        let dir = root.parent().map(Path::to_path_buf).unwrap_or_default();
        std::fs::create_dir_all(&root)
            .with_context(|| format!("cannot create {}", root.display()))?;

        let listing = bucket.list()?;
        let mut digest = Sha256::new();
        for o in &listing {
            let line = format!("{}\0{}\0{:?}\0{}\n", o.rel, o.size, o.etag, o.modified);
            digest.update(line.as_bytes());
        }
        let mut ipas = Vec::new();
        let mut small = Vec::new();
        for object in listing {
            check_key(&bucket, &object.rel)?;
            let ext = Path::new(&object.rel)
                .extension()
                .map(|e| e.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            if ext == "ipa" {
                ipas.push(object);
            } else if SMALL_EXTENSIONS.contains(&ext.as_str()) {
                if object.size > MAX_SMALL_OBJECT_BYTES {
                    log::warn!(
                        "{}: larger than {MAX_SMALL_OBJECT_BYTES} bytes; not copied for the notes",
                        bucket.url_of(&object.rel)
                    );
                    continue;
                }
                small.push(object);
            }
        }
        let state_path = dir.join("state.json");
        let mut state: State = crate::limits::read_limited(&state_path, 64 << 20, "state.json")
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        copy_small(&bucket, &root, &small, &mut state)?;
        crate::output::write_atomic(&state_path, &serde_json::to_vec(&state)?)?;
        Ok(Mirror {
            bucket,
            root,
            ipas,
            listing_digest: crate::ipa::to_hex(&digest.finalize()),
        })
    }

    /// The IPA object that `path` (under `root`) stands for.
    pub(crate) fn object(&self, path: &Path) -> Option<&Object> {
        let rel = path.strip_prefix(&self.root).ok()?;
        let rel = rel.to_str()?;
        // Sorted by key, as listed.
        let i = self
            .ipas
            .binary_search_by(|o| o.rel.as_str().cmp(rel))
            .ok()?;
        self.ipas.get(i)
    }

    /// The paths under `root` that stand for the IPAs, and the small files copied.
    pub(crate) fn paths(&self) -> (Vec<PathBuf>, HashSet<PathBuf>) {
        let ipas = self.ipas.iter().map(|o| self.root.join(&o.rel)).collect();
        let files = crate::walk::walk(&self.root, &|_| false)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.is_file())
            .map(|e| e.path)
            .collect();
        (ipas, files)
    }
}

/// The version key the build cache keeps an IPA object's facts under: its size, its time
/// and a hash of its ETag in the inode's place.
pub(crate) fn object_key(object: &Object) -> FileKey {
    let etag = Sha256::digest(object.etag.as_deref().unwrap_or_default().as_bytes());
    FileKey {
        size: object.size,
        mtime: (object.modified, 0),
        inode: u64::from_le_bytes(etag[..8].try_into().unwrap_or_default()),
    }
}

/// A key must be a plain relative path: no empty, `.` or `..` segment, no backslash or
/// control character (it becomes a path on this machine and a URL path).
fn check_key(bucket: &Bucket, rel: &str) -> Result<()> {
    let bad = rel
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
        || rel.chars().any(|c| c == '\\' || c.is_control());
    if bad {
        bail!(
            "{}: this key is not a plain path (empty, . or .. segments, backslashes or control \
             characters); rename the object",
            bucket.url_of(rel)
        );
    }
    Ok(())
}

/// Copies the small objects that are new or changed since `state`, and removes files the
/// listing no longer names.
fn copy_small(bucket: &Bucket, root: &Path, small: &[Object], state: &mut State) -> Result<()> {
    let wanted: HashSet<&str> = small.iter().map(|o| o.rel.as_str()).collect();
    for entry in crate::walk::walk(root, &|_| false)
        .into_iter()
        .filter_map(Result::ok)
    {
        let Ok(rel) = entry.path.strip_prefix(root) else {
            continue;
        };
        let rel = rel.to_string_lossy();
        if !entry.is_dir() && !wanted.contains(rel.as_ref()) {
            let _ = std::fs::remove_file(&entry.path);
            state.files.remove(rel.as_ref());
        }
    }
    for object in small {
        let path = root.join(&object.rel);
        let version = (object.size, object.etag.clone(), object.modified);
        let on_disk = std::fs::symlink_metadata(&path)
            .ok()
            .filter(|m| m.is_file() && m.len() == object.size);
        if on_disk.is_some() && state.files.get(&object.rel) == Some(&version) {
            continue;
        }
        let bytes = bucket.get_all(&object.rel, MAX_SMALL_OBJECT_BYTES)?;
        if let Some(parent) = path.parent() {
            if let Ok(m) = std::fs::symlink_metadata(parent)
                && !m.is_dir()
            {
                let _ = std::fs::remove_file(parent);
            }
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
            log::warn!(
                "{}: a key that is also a folder of other keys; not copied",
                bucket.url_of(&object.rel)
            );
            continue;
        }
        crate::output::write_atomic(&path, &bytes)?;
        state.files.insert(object.rel.clone(), version);
    }
    Ok(())
}
