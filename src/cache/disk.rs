//! The build cache on disk, in `SITE_DIR/.otasite/cache/`: what was read from each IPA, keyed
//! by path, size, modification time and inode, and the icon files made for each distinct icon.
//! With it, a build after the first opens no IPA that has not changed.
//!
//! Everything here is an optimisation: a missing, damaged or foreign cache is ignored (and
//! rewritten), never an error. UDIDs are not kept (`Profile::devices` is not serialised).
//!
//! Nothing read back is trusted: the folder may have been planted (a shared CI machine, a
//! checked-in `.otasite/`). No link is followed, in the path or at the file; icon files must
//! decode as PNGs of the sizes otasite makes; a QR code comes back only as path data; an
//! entry of the index must look like what a read of the IPA gives. With `--no-cache` nothing
//! is read at all.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::FileKey;
use crate::icon::{ICON_SIDES, IconSet};
use crate::ipa::Ipa;
use crate::output::write_atomic;
use crate::paths::open_regular;
use crate::render::qr::QrPath;

/// The cache folder inside a site folder.
pub(crate) use crate::paths::CACHE_DIR;
/// Bumped whenever what is stored changes meaning.
const FORMAT: u32 = 2;
const INDEX: &str = "ipas.json";

/// The three icon files of a release: as found, 57 px, 512 px.
const ICON_SUFFIXES: IconSet<&str> = IconSet {
    original: "",
    display: "-57",
    full_size: "-512",
};

#[derive(Serialize, Deserialize)]
struct Index {
    format: u32,
    version: String,
    ipas: BTreeMap<String, Entry>,
}

#[derive(Clone, Serialize, Deserialize)]
struct Entry {
    key: FileKey,
    ipa: Ipa,
}

/// The cache of one site folder.
pub(crate) struct DiskCache {
    /// The site folder, absolute: entries are keyed by paths relative to it, so that the same
    /// site built from another working directory still finds them.
    site: PathBuf,
    dir: PathBuf,
    /// False with `--no-cache`: nothing is read from the folder, only written.
    read: bool,
    previous: HashMap<String, Entry>,
    /// Entries read or stored by this process: what the saved index will hold.
    current: Mutex<BTreeMap<String, Entry>>,
    icons_used: Mutex<HashSet<String>>,
    /// Icon files read and checked while taking an IPA from the index, kept for `icons`.
    verified_icons: Mutex<HashMap<String, IconSet<Vec<u8>>>>,
    qr_used: Mutex<HashSet<String>>,
    /// Something was read that the saved index does not have yet.
    dirty: AtomicBool,
}

impl DiskCache {
    /// Opens the cache of `site_dir`; with `read` false (`--no-cache`) it starts empty and is
    /// only written.
    pub(crate) fn open(site_dir: &Path, read: bool) -> DiskCache {
        // Absolute, so that `folder` can walk from the site down to the cache.
        let site = crate::paths::absolute(site_dir);
        let dir = site.join(CACHE_DIR).join("cache");
        let previous = if read {
            load_index(&dir.join(INDEX))
        } else {
            HashMap::new()
        };
        DiskCache {
            site,
            dir,
            read,
            previous,
            current: Mutex::new(BTreeMap::new()),
            icons_used: Mutex::new(HashSet::new()),
            verified_icons: Mutex::new(HashMap::new()),
            qr_used: Mutex::new(HashSet::new()),
            dirty: AtomicBool::new(true),
        }
    }

    /// The IPA at `path` as read before, when its key is unchanged and its icon files are
    /// still in the cache.
    pub(crate) fn ipa(&self, path: &Path, key: &FileKey) -> Option<Ipa> {
        let name = self.name(path);
        let entry = self.previous.get(&name)?;
        if entry.key != *key {
            return None;
        }
        if entry.key.size != entry.ipa.size || !plausible(&entry.ipa) {
            log::debug!("{name}: cache entry ignored (not what a read of the IPA gives)");
            return None;
        }
        // The entry holds no icon bytes: its icon files must be there, and sound, or the IPA
        // is read again.
        if let Some(icon) = &entry.ipa.icon {
            let files = self.cached_icons(&icon.digest)?;
            if let Ok(mut verified) = self.verified_icons.lock() {
                verified.insert(icon.digest.clone(), files);
            }
        }
        if let Ok(mut current) = self.current.lock() {
            current.insert(name, entry.clone());
        }
        Some(Ipa {
            path: path.to_path_buf(),
            ..entry.ipa.clone()
        })
    }

    /// The index's name for `path`: relative to the site folder when inside it.
    fn name(&self, path: &Path) -> String {
        let abs = crate::paths::absolute(path);
        abs.strip_prefix(&self.site)
            .unwrap_or(&abs)
            .to_string_lossy()
            .into_owned()
    }

    /// Remembers what was read from the IPA whose key was `key`.
    pub(crate) fn store_ipa(&self, key: FileKey, ipa: &Ipa) {
        self.dirty.store(true, Ordering::Relaxed);
        if let Ok(mut current) = self.current.lock() {
            current.insert(
                self.name(&ipa.path),
                Entry {
                    key,
                    ipa: ipa.clone(),
                },
            );
        }
    }

    /// Where the icon files for `key` live.
    fn icon_paths(&self, key: &str) -> IconSet<PathBuf> {
        ICON_SUFFIXES.map(|s| self.dir.join("icons").join(format!("{key}{s}.png")))
    }

    /// The cached icon files for `key`, when reading is on and all three are sound.
    fn cached_icons(&self, key: &str) -> Option<IconSet<Vec<u8>>> {
        self.folder("icons")?;
        if !self.read {
            return None;
        }
        read_icons(&self.icon_paths(key))
    }

    /// `self.dir/sub`, when it and every folder above it up to the site are real folders (or
    /// not there yet): a link anywhere on the way could lead reads and writes elsewhere.
    fn folder(&self, sub: &str) -> Option<PathBuf> {
        let rel = self.dir.join(sub);
        real_folder(&self.site, rel.strip_prefix(&self.site).ok()?)
    }

    /// The icon files for `key` (as found, 57 px, 512 px): from the cache when all three are
    /// there and decode as the PNGs otasite makes, else made by `make` and stored.
    pub(crate) fn icons(
        &self,
        key: &str,
        make: impl FnOnce() -> IconSet<Vec<u8>>,
    ) -> IconSet<Vec<u8>> {
        if let Ok(mut used) = self.icons_used.lock() {
            used.insert(key.to_string());
        }
        let Some(dir) = self.folder("icons") else {
            return make();
        };
        if let Some(cached) = self
            .verified_icons
            .lock()
            .ok()
            .and_then(|mut v| v.remove(key))
        {
            return cached;
        }
        if let Some(cached) = self.cached_icons(key) {
            return cached;
        }
        let paths = self.icon_paths(key);
        let images = make();
        let stored = fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))
            .and_then(|()| {
                (paths.as_ref().zip(images.as_ref()).into_array().iter())
                    .try_for_each(|(path, bytes)| write_atomic(path, bytes))
            });
        if let Err(e) = stored {
            log::debug!("icon files not cached: {e:#}");
        }
        images
    }

    /// The QR code of `url`, from the cache (path data only, checked) or made and stored. An
    /// address too long for a QR code is remembered as an empty file.
    pub(crate) fn qr(&self, url: &str) -> Option<QrPath> {
        let name = crate::ipa::to_hex(&Sha256::digest(url.as_bytes()));
        if let Ok(mut used) = self.qr_used.lock() {
            used.insert(name.clone());
        }
        let Some(dir) = self.folder("qr") else {
            return QrPath::of(url);
        };
        let path = dir.join(format!("{name}.txt"));
        if self.read
            && let Some(text) = read_small(&path, 64 * 1024)
            && let Ok(text) = String::from_utf8(text)
        {
            if text.is_empty() {
                return None;
            }
            if let Some(qr) = QrPath::from_cache(&text) {
                return Some(qr);
            }
            log::debug!("{}: ignored (not a QR code otasite made)", path.display());
        }
        let made = QrPath::of(url);
        let text = made.as_ref().map(QrPath::to_cache).unwrap_or_default();
        let stored = fs::create_dir_all(&dir)
            .map_err(anyhow::Error::from)
            .and_then(|()| write_atomic(&path, text.as_bytes()));
        if let Err(e) = stored {
            log::debug!("QR code not cached: {e:#}");
        }
        made
    }

    /// Writes the index of the IPAs this process saw (when it read any since the last save);
    /// with `prune`, also removes icon files no release used (call it so only after a build of
    /// the whole site).
    pub(crate) fn save(&self, prune: bool) -> Result<()> {
        if !self.dirty.swap(false, Ordering::Relaxed) && !prune {
            return Ok(());
        }
        let ipas = self.current.lock().map(|c| c.clone()).unwrap_or_default();
        let Some(dir) = self.folder("") else {
            anyhow::bail!(
                "{}: a link or file where a folder should be; remove it",
                self.dir.display()
            );
        };
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let index = Index {
            format: FORMAT,
            version: env!("CARGO_PKG_VERSION").to_string(),
            ipas,
        };
        write_atomic(&self.dir.join(INDEX), &serde_json::to_vec(&index)?)?;
        if prune {
            let icons = self
                .icons_used
                .lock()
                .map(|u| u.clone())
                .unwrap_or_default();
            if let Some(dir) = self.folder("icons") {
                prune_dir(&dir, &icons);
            }
            let qr = self.qr_used.lock().map(|u| u.clone()).unwrap_or_default();
            if let Some(dir) = self.folder("qr") {
                prune_dir(&dir, &qr);
            }
        }
        Ok(())
    }
}

/// `site/rel`, when it and every folder between it and `site` are real folders (or not there
/// yet): a link anywhere on the way (a checked-in `.otasite` pointing elsewhere) could lead
/// the cache's reads, writes and removals out of the site.
pub(crate) fn real_folder(site: &Path, rel: &Path) -> Option<PathBuf> {
    let site = crate::paths::absolute(site);
    let mut path = site.clone();
    for part in rel.components() {
        path.push(part);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            _ => {
                log::warn!(
                    "{}: not a folder; the build cache is not used",
                    path.display()
                );
                return None;
            }
        }
    }
    Some(path)
}

/// Removes the files of `dir` whose key (the name up to the first `-` or `.`) is not in `used`.
fn prune_dir(dir: &Path, used: &HashSet<String>) {
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let key = name.split(['-', '.']).next().unwrap_or_default();
        if !used.contains(key) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Reads a regular file (never through a link) of at most `limit` bytes.
fn read_small(path: &Path, limit: u64) -> Option<Vec<u8>> {
    let file = open_regular(path).ok()?;
    let mut bytes = Vec::new();
    std::io::Read::take(file, limit + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    (bytes.len() as u64 <= limit).then_some(bytes)
}

/// The three cached icon files, when each decodes as a PNG and the resized two have the sizes
/// otasite makes.
fn read_icons(paths: &IconSet<PathBuf>) -> Option<IconSet<Vec<u8>>> {
    let read = |(path, side): (&PathBuf, Option<u32>)| {
        let bytes = read_small(path, crate::limits::MAX_ICON_BYTES)?;
        let header = crate::icon::check_png(&bytes).ok()?;
        let sized = side.is_none_or(|s| (header.width, header.height) == (s, s));
        (!header.crushed && sized).then_some(bytes)
    };
    paths.as_ref().zip(ICON_SIDES).map(read).transpose()
}

/// Whether an index entry looks like what reading an IPA gives: hashes in their form, texts
/// within the limits and XML-safe. A planted entry can still lie about an IPA's content, but
/// it cannot carry markup, control characters or an oversized text into the site.
fn plausible(ipa: &Ipa) -> bool {
    let hex64 =
        |s: &str| s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let text =
        |s: &str| s.len() <= crate::limits::MAX_IDENTIFIER_LEN * 4 && crate::text::one_line(s) == s;
    let info = &ipa.info;
    hex64(&ipa.sha256)
        && ipa.icon.as_ref().is_none_or(|i| hex64(&i.digest))
        && [&info.bundle_id, &info.version, &info.build, &info.name]
            .into_iter()
            .chain(info.min_os.as_ref())
            .all(|s| text(s))
        && info.bundle_id.len() <= crate::limits::MAX_IDENTIFIER_LEN
        && !info.bundle_id.chars().any(char::is_whitespace)
        && ipa.built_at.as_deref().is_none_or(|t| t.len() <= 32)
        && ipa.warnings.len() <= 256
        && (ipa.warnings.iter()).all(|w| w.len() <= 4096 && crate::text::one_line(w) == *w)
}

fn load_index(path: &Path) -> HashMap<String, Entry> {
    let Some(bytes) = read_small(path, 256 * 1024 * 1024) else {
        return HashMap::new();
    };
    match serde_json::from_slice::<Index>(&bytes) {
        Ok(i) if i.format == FORMAT && i.version == env!("CARGO_PKG_VERSION") => {
            i.ipas.into_iter().collect()
        }
        Ok(_) => HashMap::new(),
        Err(e) => {
            log::debug!("{}: ignored ({e})", path.display());
            HashMap::new()
        }
    }
}
