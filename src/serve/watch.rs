//! Watching the site's sources: native events, or polling (`--poll`) where native events fail
//! (network and container file systems). Editor temp files are ignored.

use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::time::Duration;

use anyhow::{Context as _, Result};
use notify::{RecursiveMode, Watcher};

/// What changed, to say in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Change {
    Notes,
    Theme,
    Ipa,
    Config,
}

/// Whether a path is an editor's temporary or backup file.
pub(crate) fn is_temp_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
        || name.starts_with(".#")
        || name == "4913"
        || name.contains("___jb_")
        || name == ".DS_Store"
}

/// Classifies a changed path; `None` for paths that do not affect the site.
pub(crate) fn classify(path: &Path, site_dir: &Path, releases_dir: &Path) -> Option<Change> {
    if is_temp_file(path) {
        return None;
    }
    if path.parent() == Some(site_dir) {
        return (path.file_name()? == "site.yaml").then_some(Change::Config);
    }
    if path.starts_with(releases_dir) {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        return Some(if ext.as_deref() == Some("ipa") {
            Change::Ipa
        } else {
            Change::Notes
        });
    }
    let themes = [site_dir.join("themes"), site_dir.join("static")];
    themes
        .iter()
        .any(|t| path.starts_with(t))
        .then_some(Change::Theme)
}

/// Keeps a watch alive while held.
pub(super) enum WatchHandle {
    Native {
        watcher: Box<dyn Watcher + Send>,
        /// The folders watched recursively.
        watched: Vec<PathBuf>,
    },
    Polling,
}

impl WatchHandle {
    /// Starts watching those of `dirs` that exist now but did not when watching started (a
    /// `themes/` or `static/` folder made while serving); true when there were any, since
    /// files may have been written into them before the watch began.
    pub(super) fn watch_new(&mut self, dirs: &[PathBuf]) -> bool {
        let WatchHandle::Native { watcher, watched } = self else {
            return false; // the poller walks every root on each scan
        };
        let mut added = false;
        for dir in dirs {
            if dir.is_dir() && !watched.contains(dir) && watch_tree(watcher.as_mut(), dir).is_ok() {
                watched.push(dir.clone());
                added = true;
            }
        }
        added
    }
}

/// Starts watching; changed paths are sent to `tx`. Keep the returned handle alive.
pub(super) fn watch(
    site_dir: &Path,
    releases_dir: &Path,
    poll: bool,
    tx: Sender<PathBuf>,
) -> Result<WatchHandle> {
    if poll {
        start_polling(site_dir, releases_dir, tx);
        return Ok(WatchHandle::Polling);
    }
    native(site_dir, releases_dir, tx)
        .map(|(watcher, watched)| WatchHandle::Native { watcher, watched })
}

/// Polling by size and modification time (nanoseconds): only `stat` calls, every 300 ms.
/// (notify's poller compares whole seconds, so it misses a quick second save.)
fn start_polling(site_dir: &Path, releases_dir: &Path, tx: Sender<PathBuf>) {
    let roots = [
        site_dir.join("site.yaml"),
        releases_dir.to_path_buf(),
        site_dir.join("themes"),
        site_dir.join("static"),
    ];
    let scan =
        move || -> std::collections::HashMap<PathBuf, (u64, Option<std::time::SystemTime>)> {
            roots
                .iter()
                .flat_map(|r| {
                    crate::walk::walk(r, &|_| false)
                        .into_iter()
                        .filter_map(Result::ok)
                })
                .filter(|e| e.is_file())
                .map(|e| {
                    let facts = (e.metadata.len(), e.metadata.modified().ok());
                    (e.path, facts)
                })
                .collect()
        };
    let mut last = scan();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(300));
            let now = scan();
            for (path, facts) in &now {
                if last.get(path) != Some(facts) && tx.send(path.clone()).is_err() {
                    return;
                }
            }
            for path in last.keys().filter(|p| !now.contains_key(*p)) {
                if tx.send(path.clone()).is_err() {
                    return;
                }
            }
            last = now;
        }
    });
}

/// The roots watched recursively, where they exist.
pub(super) fn roots(site_dir: &Path, releases_dir: &Path) -> [PathBuf; 3] {
    [
        releases_dir.to_path_buf(),
        site_dir.join("themes"),
        site_dir.join("static"),
    ]
}

fn native(
    site_dir: &Path,
    releases_dir: &Path,
    tx: Sender<PathBuf>,
) -> Result<(Box<dyn Watcher + Send>, Vec<PathBuf>)> {
    let handler = move |res: notify::Result<notify::Event>| {
        // Reads (ours included) are not changes.
        if let Ok(event) = res
            && !matches!(event.kind, notify::EventKind::Access(_))
        {
            for p in event.paths {
                let _ = tx.send(p);
            }
        }
    };
    // notify would follow links itself, along every path (exponential in a "diamond" of
    // links): `watch_tree` adds each folder reached through links once instead.
    let config = notify::Config::default().with_follow_symlinks(false);
    let mut watcher: Box<dyn Watcher + Send> =
        Box::new(notify::RecommendedWatcher::new(handler, config)?);
    watcher
        .watch(site_dir, RecursiveMode::NonRecursive)
        .with_context(|| format!("cannot watch {}", site_dir.display()))?;
    let mut watched = Vec::new();
    for dir in roots(site_dir, releases_dir) {
        if dir.is_dir() {
            watch_tree(watcher.as_mut(), &dir)
                .with_context(|| format!("cannot watch {}", dir.display()))?;
            watched.push(dir);
        }
    }
    Ok((watcher, watched))
}

/// Watches `dir` recursively, and each folder under it that only links reach (once, by the
/// path the build reads it under).
fn watch_tree(watcher: &mut (dyn Watcher + Send), dir: &Path) -> notify::Result<()> {
    watcher.watch(dir, RecursiveMode::Recursive)?;
    for entry in crate::walk::walk(dir, &|_| false).into_iter().flatten() {
        if entry.is_link && entry.is_dir() && entry.walked_as.is_none() {
            watcher.watch(&entry.path, RecursiveMode::Recursive)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_files_and_classes() {
        let site = Path::new("/s");
        let rel = Path::new("/s/releases");
        for t in [
            "/s/releases/notes.md~",
            "/s/releases/.notes.md.swp",
            "/s/releases/4913",
            "/s/themes/x___jb_tmp___",
        ] {
            assert_eq!(classify(Path::new(t), site, rel), None, "{t}");
        }
        assert_eq!(
            classify(Path::new("/s/site.yaml"), site, rel),
            Some(Change::Config)
        );
        assert_eq!(classify(Path::new("/s/other.txt"), site, rel), None);
        assert_eq!(
            classify(Path::new("/s/releases/a/App.ipa"), site, rel),
            Some(Change::Ipa)
        );
        assert_eq!(
            classify(Path::new("/s/releases/a/notes.md"), site, rel),
            Some(Change::Notes)
        );
        assert_eq!(
            classify(Path::new("/s/themes/default/style.css"), site, rel),
            Some(Change::Theme)
        );
        assert_eq!(classify(Path::new("/s/public/index.html"), site, rel), None);
    }
}
