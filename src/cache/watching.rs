//! What only the dev server keeps, because it is told of every change: each app's rendered
//! files (by a digest of everything they show) and the list of releases (reused while only
//! known notes files change).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Result;

use super::Caches;
use crate::discover::Discovery;
use crate::files::OutFile;

/// A list of releases as found, and its notes files as absolute paths (as watchers report).
#[derive(Clone)]
pub(super) struct Discovered {
    dir: PathBuf,
    found: Discovery,
    notes: HashSet<PathBuf>,
}

/// Files rendered per app, by a digest of all they are made from; entries the latest render
/// did not use are dropped at the start of the next.
#[derive(Default)]
pub(super) struct PageMemo {
    files: HashMap<String, Arc<Vec<OutFile>>>,
    used: HashSet<String>,
}

impl Caches {
    /// Also remembers rendered pages and the list of releases between builds, for a process
    /// that renders the same site again after each edit and reports every changed path with
    /// [`Caches::changed`] (the dev server).
    pub fn watching(mut self) -> Caches {
        self.pages = Some(Mutex::new(PageMemo::default()));
        self.discovered = Some(Mutex::new(None));
        self
    }

    /// Tells the caches which paths changed: the list of releases is found again unless every
    /// one of them is a notes file it already knows that is still there (an edit).
    pub fn changed(&self, paths: &[PathBuf]) {
        let Some(Ok(mut discovered)) = self.discovered.as_ref().map(Mutex::lock) else {
            return;
        };
        let known_edit =
            |p: &PathBuf| discovered.as_ref().is_some_and(|d| d.notes.contains(p)) && p.is_file();
        if !paths.iter().all(known_edit) {
            *discovered = None;
        }
    }

    /// The releases under `dir`: as found before when nothing but notes edits happened since
    /// (see [`Caches::changed`]), else found by `find`.
    pub fn discovery(
        &self,
        dir: &Path,
        find: impl FnOnce() -> Result<Discovery>,
    ) -> Result<Discovery> {
        let Some(memo) = &self.discovered else {
            return find();
        };
        if let Some(d) = memo.lock().ok().and_then(|m| m.clone())
            && d.dir == dir
        {
            return Ok(d.found);
        }
        let found = find()?;
        let notes = (found.found.iter())
            .filter_map(|f| f.notes.as_deref())
            .map(crate::paths::absolute)
            .collect();
        if let Ok(mut m) = memo.lock() {
            *m = Some(Discovered {
                dir: dir.to_path_buf(),
                found: found.clone(),
                notes,
            });
        }
        Ok(found)
    }

    /// Starts a render: forgets pages the previous render did not use.
    pub(super) fn forget_unused_pages(&self) {
        if let Some(Ok(mut memo)) = self.pages.as_ref().map(Mutex::lock) {
            let PageMemo { files, used } = &mut *memo;
            files.retain(|k, _| used.contains(k));
            used.clear();
        }
    }

    /// One app's files: as rendered before when `key` (computed only when pages are
    /// remembered; `None` when it cannot be) is the same, else made by `make`.
    pub(super) fn remembered_app_files(
        &self,
        key: &dyn Fn() -> Option<String>,
        make: &dyn Fn() -> Result<Vec<OutFile>>,
    ) -> Result<Arc<Vec<OutFile>>> {
        let Some((memo, key)) = self.pages.as_ref().and_then(|m| Some((m, key()?))) else {
            return make().map(Arc::new);
        };
        if let Ok(mut m) = memo.lock() {
            m.used.insert(key.clone());
            if let Some(hit) = m.files.get(&key) {
                return Ok(hit.clone());
            }
        }
        let made = Arc::new(make()?);
        if let Ok(mut m) = memo.lock() {
            m.files.insert(key, made.clone());
        }
        Ok(made)
    }
}
