//! The build cache on disk, in `SITE_DIR/.otasite/cache/`: what was read from each IPA, keyed
//! by path, size, modification time and inode, and the icon files made for each distinct icon.
//! With it, a build after the first opens no IPA that has not changed.
//!
//! Everything here is an optimisation: a missing, damaged or foreign cache is ignored (and
//! rewritten), never an error. UDIDs are not kept (`Profile::devices` is not serialised).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::FileKey;
use crate::ipa::Ipa;
use crate::output::write_atomic;

/// The cache folder inside a site folder.
pub const CACHE_DIR: &str = ".otasite";
/// Bumped whenever what is stored changes meaning.
const FORMAT: u32 = 2;
const INDEX: &str = "ipas.json";

/// The three icon files of a release: as found, 57 px, 512 px.
const ICON_SUFFIXES: [&str; 3] = ["", "-57", "-512"];

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
pub struct DiskCache {
    /// The site folder, absolute: entries are keyed by paths relative to it, so that the same
    /// site built from another working directory still finds them.
    site: PathBuf,
    dir: PathBuf,
    previous: HashMap<String, Entry>,
    /// Entries read or stored by this process: what the saved index will hold.
    current: Mutex<BTreeMap<String, Entry>>,
    icons_used: Mutex<HashSet<String>>,
    qr_used: Mutex<HashSet<String>>,
    /// Something was read that the saved index does not have yet.
    dirty: AtomicBool,
}

impl DiskCache {
    /// Opens the cache of `site_dir`; with `read` false (`--no-cache`) it starts empty and is
    /// only written.
    pub fn open(site_dir: &Path, read: bool) -> DiskCache {
        let dir = site_dir.join(CACHE_DIR).join("cache");
        let site = crate::paths::absolute(site_dir);
        let previous = if read {
            load_index(&dir.join(INDEX))
        } else {
            HashMap::new()
        };
        DiskCache {
            site,
            dir,
            previous,
            current: Mutex::new(BTreeMap::new()),
            icons_used: Mutex::new(HashSet::new()),
            qr_used: Mutex::new(HashSet::new()),
            dirty: AtomicBool::new(true),
        }
    }

    /// The IPA at `path` as read before, when its key is unchanged and its icon files are
    /// still in the cache.
    pub fn ipa(&self, path: &Path, key: &FileKey) -> Option<Ipa> {
        let name = self.name(path);
        let entry = self.previous.get(&name)?;
        if entry.key != *key {
            return None;
        }
        if let Some(icon) = &entry.ipa.icon
            && !self.icon_paths(&icon.digest).iter().all(|p| p.is_file())
        {
            return None;
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
    pub fn store_ipa(&self, key: FileKey, ipa: &Ipa) {
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
    pub fn icon_paths(&self, key: &str) -> [PathBuf; 3] {
        ICON_SUFFIXES.map(|s| self.dir.join("icons").join(format!("{key}{s}.png")))
    }

    /// The icon files for `key`, made by `make` and stored when not yet in the cache; the
    /// bytes made when they cannot be stored (a read-only site folder).
    pub fn icons(
        &self,
        key: &str,
        make: impl FnOnce() -> [Vec<u8>; 3],
    ) -> Result<[PathBuf; 3], [Vec<u8>; 3]> {
        if let Ok(mut used) = self.icons_used.lock() {
            used.insert(key.to_string());
        }
        let paths = self.icon_paths(key);
        if paths.iter().all(|p| p.is_file()) {
            return Ok(paths);
        }
        let images = make();
        let dir = self.dir.join("icons");
        let stored = fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))
            .and_then(|()| {
                paths
                    .iter()
                    .zip(&images)
                    .try_for_each(|(path, bytes)| write_atomic(path, bytes))
            });
        match stored {
            Ok(()) => Ok(paths),
            Err(e) => {
                log::debug!("icon files not cached: {e:#}");
                Err(images)
            }
        }
    }

    /// A QR code for `key` (an address), made by `make` and stored when not yet in the cache.
    /// An address too long for a QR code is remembered as an empty file.
    pub fn qr(&self, key: &str, make: impl FnOnce() -> Option<String>) -> Option<String> {
        let name = crate::ipa::to_hex(&Sha256::digest(key.as_bytes()));
        if let Ok(mut used) = self.qr_used.lock() {
            used.insert(name.clone());
        }
        let path = self.dir.join("qr").join(format!("{name}.svg"));
        if let Ok(svg) = fs::read_to_string(&path) {
            return (!svg.is_empty()).then_some(svg);
        }
        let made = make();
        let stored = fs::create_dir_all(self.dir.join("qr"))
            .map_err(anyhow::Error::from)
            .and_then(|()| write_atomic(&path, made.as_deref().unwrap_or_default().as_bytes()));
        if let Err(e) = stored {
            log::debug!("QR code not cached: {e:#}");
        }
        made
    }

    /// Writes the index of the IPAs this process saw (when it read any since the last save);
    /// with `prune`, also removes icon files no release used (call it so only after a build of
    /// the whole site).
    pub fn save(&self, prune: bool) -> Result<()> {
        if !self.dirty.swap(false, Ordering::Relaxed) && !prune {
            return Ok(());
        }
        let ipas = self.current.lock().map(|c| c.clone()).unwrap_or_default();
        fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
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
            prune_dir(&self.dir.join("icons"), &icons);
            let qr = self.qr_used.lock().map(|u| u.clone()).unwrap_or_default();
            prune_dir(&self.dir.join("qr"), &qr);
        }
        Ok(())
    }
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

fn load_index(path: &Path) -> HashMap<String, Entry> {
    let Ok(bytes) = fs::read(path) else {
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
