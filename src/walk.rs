//! Walking a source folder (releases/, a theme, static/) through its symbolic links, entering
//! each real folder once.
//!
//! Links can make a folder tree a graph: a "diamond" (a folder linking twice to the next one)
//! doubles the number of paths at each level, so folders are known by their identity on disk
//! (device and inode), not by their path. A folder is walked under its real path when the
//! walk reaches it without links; a folder reached only through links is walked under the
//! first link path met (links are followed after the tree itself, in name order).

use std::collections::{HashMap, VecDeque};
use std::ffi::OsStr;
use std::fs::Metadata;
use std::path::{Path, PathBuf};

/// A file or folder met by the walk.
#[derive(Debug)]
pub(crate) struct Entry {
    pub path: PathBuf,
    /// 0 for the root.
    pub depth: usize,
    /// What the entry is (for a link: what it points to).
    pub metadata: Metadata,
    /// The entry itself is a symbolic link.
    pub is_link: bool,
    /// For a folder reached again by another path: the path it was walked under (it is not
    /// entered again).
    pub walked_as: Option<PathBuf>,
}

impl Entry {
    pub(crate) fn is_file(&self) -> bool {
        self.metadata.is_file()
    }

    pub(crate) fn is_dir(&self) -> bool {
        self.metadata.is_dir()
    }
}

/// Why an entry could not be walked.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WalkError {
    #[error(
        "{}: this symbolic link points back to a folder that contains it ({}); remove the link",
        path.display(),
        ancestor.display()
    )]
    Loop { path: PathBuf, ancestor: PathBuf },
    #[error("{}: cannot read: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// A folder's identity on disk.
#[cfg(unix)]
type FolderId = (u64, u64);
#[cfg(not(unix))]
type FolderId = PathBuf;

#[cfg(unix)]
fn folder_id(_path: &Path, metadata: &Metadata) -> FolderId {
    use std::os::unix::fs::MetadataExt as _;
    (metadata.dev(), metadata.ino())
}

#[cfg(not(unix))]
fn folder_id(path: &Path, _metadata: &Metadata) -> FolderId {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Every entry under `root` (the root first), following links, each real folder entered once.
/// Entries whose name `skip` accepts (below the root) are left out with everything under
/// them. A folder is listed before what it holds: its files, then its folders, each in name
/// order; folders reached only through links come after the rest.
pub(crate) fn walk(root: &Path, skip: &dyn Fn(&OsStr) -> bool) -> Vec<Result<Entry, WalkError>> {
    let mut walk = Walk {
        out: Vec::new(),
        walked: HashMap::new(),
        links: VecDeque::new(),
        skip,
    };
    let io = |error| WalkError::Io {
        path: root.to_path_buf(),
        error,
    };
    match (std::fs::metadata(root), std::fs::symlink_metadata(root)) {
        (Ok(metadata), Ok(own)) => {
            let entry = Entry {
                path: root.to_path_buf(),
                depth: 0,
                is_link: own.file_type().is_symlink(),
                metadata,
                walked_as: None,
            };
            if entry.is_dir() {
                walk.enter(entry);
            } else {
                walk.out.push(Ok(entry));
            }
        }
        (Err(e), _) | (_, Err(e)) => walk.out.push(Err(io(e))),
    }
    while let Some(link) = walk.links.pop_front() {
        let id = folder_id(&link.path, &link.metadata);
        match walk.walked.get(&id) {
            Some(first) if link.path.starts_with(first) => walk.out.push(Err(WalkError::Loop {
                ancestor: first.clone(),
                path: link.path,
            })),
            Some(first) => {
                let walked_as = Some(first.clone());
                walk.out.push(Ok(Entry { walked_as, ..link }));
            }
            None => walk.enter(link),
        }
    }
    walk.out
}

struct Walk<'s> {
    out: Vec<Result<Entry, WalkError>>,
    /// Each folder entered, with the path it was entered under.
    walked: HashMap<FolderId, PathBuf>,
    /// Links to folders, followed once the tree without them is walked.
    links: VecDeque<Entry>,
    skip: &'s dyn Fn(&OsStr) -> bool,
}

impl Walk<'_> {
    /// Lists `dir` and everything under it (depth first, without recursion: the depth of a
    /// tree is not ours to choose), deferring links to folders.
    fn enter(&mut self, dir: Entry) {
        let mut pending = vec![dir];
        while let Some(dir) = pending.pop() {
            let id = folder_id(&dir.path, &dir.metadata);
            if let Some(first) = self.walked.get(&id) {
                // A real folder met a second time (a hard-linked folder, a bind mount).
                let walked_as = Some(first.clone());
                self.out.push(Ok(Entry { walked_as, ..dir }));
                continue;
            }
            self.walked.insert(id, dir.path.clone());
            let (path, depth) = (dir.path.clone(), dir.depth);
            self.out.push(Ok(dir));
            let mut names: Vec<PathBuf> = match std::fs::read_dir(&path) {
                Ok(read) => read
                    .filter_map(|e| match e {
                        Ok(e) => Some(e.path()),
                        Err(error) => {
                            self.out.push(Err(WalkError::Io {
                                path: path.clone(),
                                error,
                            }));
                            None
                        }
                    })
                    .filter(|p| !p.file_name().is_some_and(|n| (self.skip)(n)))
                    .collect(),
                Err(error) => {
                    self.out.push(Err(WalkError::Io { path, error }));
                    continue;
                }
            };
            names.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
            let mut folders = Vec::new();
            for child in names {
                let own = match std::fs::symlink_metadata(&child) {
                    Ok(m) => m,
                    Err(error) => {
                        self.out.push(Err(WalkError::Io { path: child, error }));
                        continue;
                    }
                };
                let is_link = own.file_type().is_symlink();
                let metadata = if is_link {
                    match std::fs::metadata(&child) {
                        Ok(m) => m,
                        Err(error) => {
                            self.out.push(Err(WalkError::Io { path: child, error }));
                            continue;
                        }
                    }
                } else {
                    own
                };
                let entry = Entry {
                    path: child,
                    depth: depth + 1,
                    metadata,
                    is_link,
                    walked_as: None,
                };
                if !entry.is_dir() {
                    self.out.push(Ok(entry));
                } else if is_link {
                    self.links.push_back(entry);
                } else {
                    folders.push(entry);
                }
            }
            // Reversed: the stack gives them back in name order.
            pending.extend(folders.into_iter().rev());
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    fn paths(root: &Path) -> Vec<String> {
        walk(root, &|n| n == ".hidden")
            .into_iter()
            .map(|r| match r {
                Ok(e) => {
                    let rel = e.path.strip_prefix(root).unwrap().display().to_string();
                    match e.walked_as {
                        Some(first) => {
                            format!("{rel} = {}", first.strip_prefix(root).unwrap().display())
                        }
                        None => rel,
                    }
                }
                Err(e) => format!("error: {e}"),
            })
            .collect()
    }

    #[test]
    fn names_in_order_depth_first_skipping() {
        let dir = tempfile::tempdir().unwrap();
        for p in ["b/2", "b/1", "a", ".hidden/x", "c/d/e"] {
            let path = dir.path().join(p);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, "x").unwrap();
        }
        assert_eq!(
            paths(dir.path()),
            ["", "a", "b", "b/1", "b/2", "c", "c/d", "c/d/e"]
        );
    }

    #[test]
    fn each_real_folder_once_under_its_real_path() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        fs::create_dir_all(r.join("z/real")).unwrap();
        fs::write(r.join("z/real/App.ipa"), "x").unwrap();
        symlink(r.join("z/real"), r.join("a-link")).unwrap();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("Out.ipa"), "x").unwrap();
        symlink(outside.path(), r.join("m2")).unwrap();
        symlink(outside.path(), r.join("m1")).unwrap();
        assert_eq!(
            paths(r),
            [
                "",
                "z",
                "z/real",
                "z/real/App.ipa",
                "a-link = z/real",
                "m1",
                "m1/Out.ipa",
                "m2 = m1"
            ]
        );
    }

    #[test]
    fn a_diamond_of_links_is_linear() {
        // Level i links twice to level i + 1: 2^40 paths, 41 folders.
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        for i in 0..=40 {
            fs::create_dir_all(r.join(format!("d{i:02}"))).unwrap();
        }
        for i in 0..40 {
            for l in ["l1", "l2"] {
                symlink(
                    r.join(format!("d{:02}", i + 1)),
                    r.join(format!("d{i:02}/{l}")),
                )
                .unwrap();
            }
        }
        fs::write(r.join("d40/App.ipa"), "x").unwrap();
        let all = paths(r);
        assert_eq!(all.len(), 1 + 41 + 80 + 1, "{all:?}");
        assert!(all.contains(&"d40/App.ipa".to_string()));
    }

    #[test]
    fn a_link_to_an_ancestor_is_a_loop() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("a")).unwrap();
        symlink(dir.path(), dir.path().join("a/up")).unwrap();
        let all = paths(dir.path());
        assert!(all.iter().any(|p| p.contains("points back")), "{all:?}");
    }
}
