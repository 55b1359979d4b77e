//! What a build keeps so as not to do work twice: IPAs already read, keyed by path, size,
//! modification time and inode; icon files already made, keyed by the icon's hash; QR codes
//! keyed by URL. In memory for one process (the dev server rebuilds many times) and, when a
//! site folder is given, on disk in `.otasite/` for the next process (see [`disk`]).
//!
//! A build with an empty cache does exactly the same work as without one.

pub(crate) mod disk;
mod watching;

use std::collections::HashMap;
use std::fs::Metadata;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::files::{Content, OutFile};
use crate::icon::IconSet;
use crate::ipa::Ipa;
use crate::notes::Notes;
use crate::render::memo::{IconFiles, Memo};
use crate::render::qr::QrPath;
pub(crate) use disk::{CACHE_DIR, DiskCache};

/// What identifies a file's version without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct FileKey {
    pub size: u64,
    /// Modification time as (seconds, nanoseconds) since the epoch.
    pub mtime: (i64, u32),
    /// The inode (0 where the platform has none): a file replaced by another with the same
    /// size and time is still noticed.
    pub inode: u64,
}

impl FileKey {
    pub(crate) fn of(meta: &Metadata) -> FileKey {
        let mtime = meta
            .modified()
            .ok()
            .map(|t| match t.duration_since(std::time::UNIX_EPOCH) {
                Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
                Err(e) => (
                    -(e.duration().as_secs() as i64),
                    e.duration().subsec_nanos(),
                ),
            })
            .unwrap_or_default();
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        FileKey {
            size: meta.len(),
            mtime,
            inode,
        }
    }

    pub(crate) fn read(path: &Path) -> Option<FileKey> {
        std::fs::metadata(path).ok().map(|m| FileKey::of(&m))
    }
}

#[derive(Default)]
pub struct Caches {
    ipas: Mutex<HashMap<PathBuf, (FileKey, Arc<Ipa>)>>,
    notes: Mutex<HashMap<PathBuf, (NotesKey, Arc<Notes>)>>,
    icons: Mutex<HashMap<String, IconFiles>>,
    /// Icon bytes by digest, so that IPAs with the same icon hold one copy.
    icon_bytes: Mutex<HashMap<String, Arc<[u8]>>>,
    qr: Mutex<HashMap<String, Option<QrPath>>>,
    /// Rendered pages, kept by the dev server (see [`watching`]).
    pages: Option<Mutex<watching::PageMemo>>,
    /// The last discovery, while the process is told of every change (the dev server).
    discovered: Option<Mutex<Option<watching::Discovered>>>,
    disk: Option<DiskCache>,
}

/// A notes file's key and the keys of the images it references.
type NotesKey = (FileKey, Vec<(PathBuf, Option<FileKey>)>);

impl Caches {
    /// Caches backed by the site's `.otasite/` folder; with `read` false (`--no-cache`) what
    /// is there is ignored, and replaced.
    pub fn on_disk(site_dir: &Path, read: bool) -> Caches {
        Caches {
            disk: Some(DiskCache::open(site_dir, read)),
            ..Caches::default()
        }
    }

    /// The notes at `path`: as parsed before when neither it nor an image it shows changed.
    pub fn notes(&self, path: &Path, load: impl FnOnce() -> Result<Notes>) -> Result<Arc<Notes>> {
        let Some(key) = FileKey::read(path) else {
            return load().map(Arc::new);
        };
        let current = |(k, images): &NotesKey| {
            *k == key && images.iter().all(|(p, ik)| FileKey::read(p) == *ik)
        };
        if let Some((k, notes)) = self.notes.lock().ok().and_then(|m| m.get(path).cloned())
            && current(&k)
        {
            return Ok(notes);
        }
        let notes = Arc::new(load()?);
        let images = notes
            .images
            .iter()
            .map(|i| (i.source.clone(), FileKey::read(&i.source)))
            .collect();
        if FileKey::read(path) == Some(key)
            && let Ok(mut map) = self.notes.lock()
        {
            map.insert(path.to_path_buf(), ((key, images), notes.clone()));
        }
        Ok(notes)
    }

    /// The IPA at `path`: as read before when the file has not changed since, else read by
    /// `read` (and remembered, unless the file changed while it was being read).
    pub fn ipa<E>(
        &self,
        path: &Path,
        read: impl FnOnce() -> Result<Ipa, E>,
    ) -> Result<Arc<Ipa>, E> {
        self.ipa_versioned(path, &|| FileKey::read(path), read)
    }

    /// Like [`Caches::ipa`], for an IPA whose version `key` tells (asked before and after the
    /// read: a version that changed meanwhile is not remembered). An IPA in a bucket is kept
    /// under the path that stands for it, with its size, time and ETag as the key.
    pub(crate) fn ipa_versioned<E>(
        &self,
        path: &Path,
        key: &dyn Fn() -> Option<FileKey>,
        read: impl FnOnce() -> Result<Ipa, E>,
    ) -> Result<Arc<Ipa>, E> {
        let key_now = key;
        let Some(key) = key_now() else {
            return read().map(Arc::new);
        };
        if let Some((k, ipa)) = self.ipas.lock().ok().and_then(|m| m.get(path).cloned())
            && k == key
        {
            return Ok(ipa);
        }
        let (ipa, fresh) = match self.disk.as_ref().and_then(|d| d.ipa(path, &key)) {
            Some(ipa) => (Arc::new(ipa), false),
            None => (Arc::new(self.share_icon(read()?)), true),
        };
        if key_now() == Some(key) {
            if fresh && let Some(disk) = &self.disk {
                disk.store_ipa(key, &ipa);
            }
            if let Ok(mut map) = self.ipas.lock() {
                map.insert(path.to_path_buf(), (key, ipa.clone()));
            }
        }
        Ok(ipa)
    }

    /// Makes `ipa` share its icon's bytes with an IPA read before that has the same icon.
    fn share_icon(&self, mut ipa: Ipa) -> Ipa {
        if let Some(icon) = &mut ipa.icon
            && let Ok(mut seen) = self.icon_bytes.lock()
        {
            let shared = seen
                .entry(icon.digest.clone())
                .or_insert_with(|| icon.bytes.clone());
            icon.bytes = shared.clone();
        }
        ipa
    }

    /// Writes what this process read to the disk cache, if there is one; `prune` drops icon
    /// files no release used (only after a whole build).
    pub fn save(&self, prune: bool) -> Result<()> {
        match &self.disk {
            Some(disk) => disk.save(prune),
            None => Ok(()),
        }
    }
}

impl Memo for Caches {
    /// The QR code of `url`, made only when neither this process nor the disk cache has it.
    fn qr(&self, url: &str) -> Option<QrPath> {
        if let Some(hit) = self.qr.lock().ok().and_then(|m| m.get(url).cloned()) {
            return hit;
        }
        let made = match &self.disk {
            Some(disk) => disk.qr(url),
            None => QrPath::of(url),
        };
        if let Ok(mut map) = self.qr.lock() {
            map.insert(url.to_string(), made.clone());
        }
        made
    }

    /// Icon files for `key`, made by `make` only when neither this process nor the disk cache
    /// has them. They are bytes, checked, never links to cache files.
    fn icons(&self, key: &str, make: &dyn Fn() -> IconSet<Vec<u8>>) -> IconFiles {
        if let Some(hit) = self.icons.lock().ok().and_then(|m| m.get(key).cloned()) {
            return hit;
        }
        let made: IconFiles = match &self.disk {
            Some(disk) => Arc::new(disk.icons(key, make).map(Content::Bytes)),
            None => Arc::new(make().map(Content::Bytes)),
        };
        if let Ok(mut map) = self.icons.lock() {
            map.insert(key.to_string(), made.clone());
        }
        made
    }

    fn begin_render(&self) {
        self.forget_unused_pages();
    }

    fn app_files(
        &self,
        key: &dyn Fn() -> Option<String>,
        make: &dyn Fn() -> Result<Vec<OutFile>>,
    ) -> Result<Arc<Vec<OutFile>>> {
        self.remembered_app_files(key, make)
    }
}
