//! Watching the site's sources: native events, or polling (`--poll`) where native events fail
//! (network and container file systems). Editor temp files are ignored.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
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

/// The distinct paths of one batch of change events, in the order first named: a copy in
/// progress names its file once per write, hundreds of times.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    paths: Vec<PathBuf>,
    seen: HashSet<PathBuf>,
}

impl Batch {
    /// Adds `path`; true when the batch did not hold it yet.
    pub(crate) fn add(&mut self, path: PathBuf) -> bool {
        if self.seen.contains(&path) {
            return false;
        }
        self.seen.insert(path.clone());
        self.paths.push(path);
        true
    }

    pub(crate) fn paths(&self) -> &[PathBuf] {
        &self.paths
    }
}

/// Most files named one by one in a rebuild's line; the rest are counted.
const NAMED: usize = 3;

/// What a batch changed, in words for the log: `releases/2/App.ipa changed`,
/// `site.yaml and themes/default/style.css changed; releases/1/notes.md removed`. Paths are
/// shown relative to the site folder; files that do not affect the site are left out.
pub(crate) fn describe(paths: &[PathBuf], site_dir: &Path, releases_dir: &Path) -> String {
    let (mut changed, mut removed) = (Vec::new(), Vec::new());
    for path in paths {
        if classify(path, site_dir, releases_dir).is_none() {
            continue;
        }
        let shown = path.strip_prefix(site_dir).unwrap_or(path).display();
        if path.symlink_metadata().is_ok() {
            changed.push(shown.to_string());
        } else {
            removed.push(shown.to_string());
        }
    }
    let list = |names: &[String], verb: &str| -> Option<String> {
        let text = match names {
            [] => return None,
            [one] => one.clone(),
            [first @ .., last] if names.len() <= NAMED => {
                format!("{} and {last}", first.join(", "))
            }
            _ => format!(
                "{} and {} more files",
                names[..NAMED].join(", "),
                names.len() - NAMED
            ),
        };
        Some(format!("{text} {verb}"))
    };
    let parts: Vec<String> = [list(&changed, "changed"), list(&removed, "removed")]
        .into_iter()
        .flatten()
        .collect();
    if parts.is_empty() {
        "the watched folders changed".into()
    } else {
        parts.join("; ")
    }
}

/// Keeps a watch alive while held.
pub(super) enum WatchHandle {
    Native {
        watcher: Box<dyn Watcher + Send>,
        /// The folders watched recursively.
        watched: Vec<PathBuf>,
    },
    Polling {
        /// The files and folders the poller scans.
        roots: Arc<Mutex<Vec<PathBuf>>>,
    },
}

impl WatchHandle {
    /// Starts watching those of `dirs` not watched yet that exist now (a `themes/` or
    /// `static/` folder made while serving, the releases folder a fixed site.yaml names);
    /// true when there were any, since files may have been written into them before the watch
    /// began. The poller scans new roots from its next round, and reports their files then.
    pub(super) fn watch_new(&mut self, dirs: &[PathBuf]) -> bool {
        match self {
            WatchHandle::Native { watcher, watched } => {
                let mut added = false;
                for dir in dirs {
                    if dir.is_dir()
                        && !watched.contains(dir)
                        && watch_tree(watcher.as_mut(), dir).is_ok()
                    {
                        watched.push(dir.clone());
                        added = true;
                    }
                }
                added
            }
            WatchHandle::Polling { roots } => {
                if let Ok(mut roots) = roots.lock() {
                    for dir in dirs {
                        if !roots.contains(dir) {
                            roots.push(dir.clone());
                        }
                    }
                }
                false
            }
        }
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
        let mut roots = vec![site_dir.join("site.yaml")];
        roots.extend(self::roots(site_dir, releases_dir));
        let roots = Arc::new(Mutex::new(roots));
        start_polling(roots.clone(), tx);
        return Ok(WatchHandle::Polling { roots });
    }
    native(site_dir, releases_dir, tx)
        .map(|(watcher, watched)| WatchHandle::Native { watcher, watched })
}

/// Polling by size and modification time (nanoseconds): only `stat` calls, every 300 ms.
/// (notify's poller compares whole seconds, so it misses a quick second save.)
fn start_polling(roots: Arc<Mutex<Vec<PathBuf>>>, tx: Sender<PathBuf>) {
    let scan =
        move || -> std::collections::HashMap<PathBuf, (u64, Option<std::time::SystemTime>)> {
            let roots = roots.lock().map(|r| r.clone()).unwrap_or_default();
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

    #[test]
    fn changes_in_words() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path();
        let rel = site.join("releases");
        std::fs::create_dir_all(rel.join("1")).unwrap();
        let file = |name: &str| {
            let path = site.join(name);
            std::fs::write(&path, "x").unwrap();
            path
        };
        let yaml = file("site.yaml");
        let ipa = file("releases/1/App.ipa");
        let notes = file("releases/1/notes.md");
        let gone = rel.join("1/Old.ipa");
        let say = |paths: &[PathBuf]| describe(paths, site, &rel);
        assert_eq!(say(std::slice::from_ref(&yaml)), "site.yaml changed");
        assert_eq!(
            say(&[ipa.clone(), yaml.clone(), site.join("other.txt")]),
            "releases/1/App.ipa and site.yaml changed"
        );
        assert_eq!(
            say(&[ipa.clone(), notes.clone(), yaml.clone(), gone.clone()]),
            "releases/1/App.ipa, releases/1/notes.md and site.yaml changed; releases/1/Old.ipa removed"
        );
        let many: Vec<PathBuf> = (0..5)
            .map(|i| file(&format!("releases/1/{i}.md")))
            .collect();
        assert_eq!(
            say(&many),
            "releases/1/0.md, releases/1/1.md, releases/1/2.md and 2 more files changed"
        );
    }
}
