//! Finding releases: every `*.ipa` under the releases folder, with its notes file.
//!
//! Hidden folders and `__MACOSX` are skipped. Notes are `<ipa stem>.md` beside the IPA, else
//! `notes.md` in the same folder. Links are followed, but each real folder is read once (see
//! `walk`): an IPA reachable by several paths is one release, found under its real path when
//! that is inside the releases folder, else under the first link path in name order.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

/// An IPA found on disk and the notes that go with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub ipa: PathBuf,
    pub notes: Option<PathBuf>,
}

/// What is in the releases folder: the releases, and the Markdown files that are notes to no
/// IPA (misspelt, or in a folder without one), which the build would otherwise leave out
/// without a word.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    pub found: Vec<Found>,
    /// Sorted by path; `README.md` files (as `otasite init` writes) are not notes.
    pub unused_notes: Vec<PathBuf>,
}

/// Lists the releases under `releases_dir`, sorted by path.
pub(crate) fn discover(releases_dir: &Path) -> Result<Discovery> {
    if !releases_dir.is_dir() {
        bail!(
            "{}: the releases folder does not exist: create it and put your .ipa files in it \
             (or set `releases_dir` in site.yaml)",
            releases_dir.display()
        );
    }
    let mut ipas = Vec::new();
    // Every file seen, so that notes are found without asking the file system again.
    let mut files = HashSet::new();
    // Pipes, sockets, devices: never read, but named if they stand where notes would be.
    let mut special = HashSet::new();
    for entry in crate::walk::walk(releases_dir, &is_skipped) {
        let entry = entry.map_err(|e| anyhow::anyhow!("{e}"))?;
        let path = &entry.path;
        if !has_ipa_extension(path) {
            if entry.is_file() {
                files.insert(entry.path);
            } else if !entry.is_dir() {
                special.insert(entry.path);
            }
            continue;
        }
        if entry.is_dir() {
            bail!(
                "{}: is a folder, but a .ipa must be a file (an exported zip archive); \
                 rename the folder or export the build again",
                path.display()
            );
        }
        if !entry.is_file() {
            bail!(
                "{}: is not a regular file (a pipe, socket or device?), but a .ipa must be a \
                 file (an exported zip archive); remove it or export the build again",
                path.display()
            );
        }
        ipas.push(entry.path);
    }
    assemble(releases_dir, ipas, &files, &special)
}

/// The releases among the IPAs and other files of `releases_dir` (found by a walk, or the
/// keys of a bucket copied to a folder that stands for it): each IPA with its notes, and the
/// Markdown files that are notes to none.
pub(crate) fn assemble(
    releases_dir: &Path,
    mut ipas: Vec<PathBuf>,
    files: &HashSet<PathBuf>,
    special: &HashSet<PathBuf>,
) -> Result<Discovery> {
    // By path: the walk lists folders reached through links last.
    ipas.sort();
    let found = ipas
        .into_iter()
        .map(|ipa| {
            let notes = notes_for(&ipa, files, special)?;
            if let Some(notes) = &notes {
                check_notes_inside(notes, releases_dir)?;
            }
            Ok(Found { notes, ipa })
        })
        .collect::<Result<Vec<Found>>>()?;
    let used: HashSet<&PathBuf> = found.iter().filter_map(|f| f.notes.as_ref()).collect();
    // Notes the file system found under another case than the walk's (see `notes_for`).
    let lower = |p: &Path| p.to_string_lossy().to_lowercase();
    let used_otherwise: HashSet<String> = (used.iter())
        .filter(|p| !files.contains(**p))
        .map(|p| lower(p))
        .collect();
    let mut unused_notes: Vec<PathBuf> = files
        .iter()
        .filter(|p| is_markdown(p) && !is_readme(p))
        .filter(|p| !used.contains(p) && !used_otherwise.contains(&lower(p)))
        .cloned()
        .collect();
    unused_notes.sort();
    Ok(Discovery {
        found,
        unused_notes,
    })
}

fn is_markdown(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("md"))
}

fn is_readme(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.eq_ignore_ascii_case("README.md"))
}

/// Notes are published as the release's page text: a notes file that is a link to a file
/// outside the releases folder (a secret beside `site.yaml`, a file elsewhere on the
/// machine) is refused, whatever its content.
fn check_notes_inside(notes: &Path, releases_dir: &Path) -> Result<()> {
    if !crate::paths::inside(notes, releases_dir) {
        bail!(
            "{}: these notes are a link to a file outside {}; copy the notes file in instead",
            notes.display(),
            releases_dir.display()
        );
    }
    Ok(())
}

fn is_skipped(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with('.') || name == "__MACOSX"
}

fn has_ipa_extension(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("ipa"))
}

/// `<stem>.md`, else `notes.md`: looked up among the files the walk saw, then (for file
/// systems that ignore case) asked of the file system.
fn notes_for(
    ipa: &Path,
    files: &HashSet<PathBuf>,
    special: &HashSet<PathBuf>,
) -> Result<Option<PathBuf>> {
    let beside = ipa.with_extension("md");
    let shared = ipa.with_file_name("notes.md");
    for notes in [&beside, &shared] {
        if files.contains(notes) {
            return Ok(Some(notes.clone()));
        }
        if special.contains(notes) {
            bail!(
                "{}: is not a regular file (a named pipe, socket or device?), but notes must be \
                 a Markdown file; replace it with a file or remove it",
                notes.display()
            );
        }
    }
    Ok([beside, shared].into_iter().find(|p| p.is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn finds_ipas_and_notes_skipping_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        for p in [
            "a/App.ipa",
            "a/notes.md",
            "b/Other.IPA",
            "b/Other.md",
            "b/notes.md",
            ".git/x.ipa",
            "__MACOSX/y.ipa",
            "c/readme.txt",
            "c/notes.md",
            "b/Othre.md",
            "README.md",
        ] {
            let path = r.join(p);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, b"x").unwrap();
        }
        let Discovery {
            found,
            unused_notes,
        } = discover(r).unwrap();
        assert_eq!(
            unused_notes,
            [
                r.join("b/Othre.md"),
                r.join("b/notes.md"),
                r.join("c/notes.md")
            ]
        );
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].ipa, r.join("a/App.ipa"));
        assert_eq!(
            found[0].notes.as_deref(),
            Some(r.join("a/notes.md").as_path())
        );
        assert_eq!(
            found[1].notes.as_deref(),
            Some(r.join("b/Other.md").as_path())
        );
    }

    #[test]
    fn missing_folder_and_ipa_folder_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            discover(&dir.path().join("nope"))
                .unwrap_err()
                .to_string()
                .contains("does not exist")
        );
        fs::create_dir_all(dir.path().join("Fake.ipa")).unwrap();
        assert!(
            discover(dir.path())
                .unwrap_err()
                .to_string()
                .contains("is a folder")
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loop_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("a")).unwrap();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("a/loop")).unwrap();
        let e = discover(dir.path()).unwrap_err().to_string();
        assert!(e.contains("loop") || e.contains("points back"), "{e}");
    }
}
