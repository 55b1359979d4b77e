//! What a process keeps between builds (the dev server rebuilds many times): IPAs already
//! read, keyed by path, size and modification time, and icons already resized, keyed by the
//! IPA's hash. A build with an empty cache does exactly the same work as without one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::ipa::Ipa;

/// The three icon files of a release.
pub type IconFiles = Arc<(Vec<u8>, Vec<u8>, Vec<u8>)>;

/// An IPA as read, with the size and modification time it had then.
type CachedIpa = (u64, Option<SystemTime>, Arc<Ipa>);

#[derive(Default)]
pub struct Caches {
    ipas: Mutex<HashMap<PathBuf, CachedIpa>>,
    icons: Mutex<HashMap<String, IconFiles>>,
    qr: Mutex<HashMap<String, Option<String>>>,
}

impl Caches {
    /// The IPA at `path` as read before, if the file has not changed since.
    pub fn ipa(&self, path: &Path) -> Option<Arc<Ipa>> {
        let meta = std::fs::metadata(path).ok()?;
        let map = self.ipas.lock().ok()?;
        let (size, mtime, ipa) = map.get(path)?;
        (*size == meta.len() && *mtime == meta.modified().ok()).then(|| ipa.clone())
    }

    pub fn store_ipa(&self, ipa: Ipa) -> Arc<Ipa> {
        let ipa = Arc::new(ipa);
        if let (Ok(meta), Ok(mut map)) = (std::fs::metadata(&ipa.path), self.ipas.lock()) {
            map.insert(
                ipa.path.clone(),
                (meta.len(), meta.modified().ok(), ipa.clone()),
            );
        }
        ipa
    }

    /// A QR code SVG for `key`, made by `make` only the first time.
    pub fn qr(&self, key: &str, make: impl FnOnce() -> Option<String>) -> Option<String> {
        if let Some(hit) = self.qr.lock().ok().and_then(|m| m.get(key).cloned()) {
            return hit;
        }
        let made = make();
        if let Ok(mut map) = self.qr.lock() {
            map.insert(key.to_string(), made.clone());
        }
        made
    }

    /// Icon files for `key`, made by `make` only the first time.
    pub fn icons(
        &self,
        key: String,
        make: impl FnOnce() -> (Vec<u8>, Vec<u8>, Vec<u8>),
    ) -> IconFiles {
        if let Some(hit) = self.icons.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return hit;
        }
        let made = Arc::new(make());
        if let Ok(mut map) = self.icons.lock() {
            map.insert(key, made.clone());
        }
        made
    }
}
