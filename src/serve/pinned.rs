//! Files the dev server sends from their sources (IPAs, notes images, `static/` files, cached
//! icons) rather than from memory. Each is pinned when the site is built — its real path, which
//! must lie inside the site's folders, and its inode, size and modification time — and checked
//! again at every request: only that very file, reached without a symbolic link, is sent.
//! Swapping a source for a link to elsewhere after a build (even one that failed) reaches nothing.

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A source file as it was when the site was built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PinnedFile {
    /// The path the build named (kept to re-pin cheaply on the next build).
    source: PathBuf,
    /// Its canonical path at build time, inside one of the roots.
    real: PathBuf,
    identity: Identity,
}

/// What must not change between the build and a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    len: u64,
    modified: Option<SystemTime>,
}

impl Identity {
    fn of(meta: &Metadata) -> Self {
        #[cfg(unix)]
        let (dev, ino) = {
            use std::os::unix::fs::MetadataExt as _;
            (meta.dev(), meta.ino())
        };
        #[cfg(not(unix))]
        let (dev, ino) = (0, 0); // size and modification time only
        Identity {
            dev,
            ino,
            len: meta.len(),
            modified: meta.modified().ok(),
        }
    }
}

/// Why a pinned file is not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Still a regular file where it was, but edited since the build: a rebuild follows.
    Changed,
    /// Gone, no longer a regular file, or now reached through a symbolic link.
    Gone,
}

impl PinnedFile {
    /// The size recorded at build time (what the pages and manifests were made from).
    pub(crate) fn size(&self) -> u64 {
        self.identity.len
    }

    /// Opens the file if it is still exactly the one pinned. The descriptor is checked, not
    /// the path, so a swap between the check and the open cannot slip through.
    pub(crate) fn open(&self) -> Result<File, Refusal> {
        // A folder on the way replaced by a link (or the file by one) changes the real path.
        if std::fs::canonicalize(&self.real).ok().as_deref() != Some(self.real.as_path()) {
            return Err(Refusal::Gone);
        }
        let file = crate::paths::open_no_follow(&self.real).map_err(|_| Refusal::Gone)?;
        let meta = file.metadata().map_err(|_| Refusal::Gone)?;
        if !meta.is_file() {
            return Err(Refusal::Gone);
        }
        if Identity::of(&meta) != self.identity {
            return Err(Refusal::Changed);
        }
        Ok(file)
    }
}

/// Pins the source files of each build, inside `roots` only, reusing the previous build's pins
/// for files that have not changed (one `lstat` each instead of resolving the whole path).
pub(super) struct Pinner {
    roots: Vec<PathBuf>,
    previous: HashMap<PathBuf, PinnedFile>,
}

impl Pinner {
    /// `roots` are the folders whose files may be served (the site folder, the releases
    /// folder); they are made canonical here.
    pub(super) fn new(roots: &[&Path]) -> Self {
        let roots = roots
            .iter()
            .filter_map(|r| std::fs::canonicalize(r).ok())
            .collect();
        Pinner {
            roots,
            previous: HashMap::new(),
        }
    }

    /// Pins `source`, or says why it cannot be served.
    pub(super) fn pin(&self, source: &Path) -> Result<PinnedFile, String> {
        if let Some(old) = self.previous.get(source)
            && std::fs::symlink_metadata(source)
                .is_ok_and(|m| m.is_file() && Identity::of(&m) == old.identity)
        {
            return Ok(old.clone());
        }
        let real = std::fs::canonicalize(source).map_err(|e| format!("cannot resolve: {e}"))?;
        if !self.roots.iter().any(|root| real.starts_with(root)) {
            return Err(format!(
                "it is {}, outside the site's folders; the dev server serves only files \
                 inside them (copy the file in)",
                real.display()
            ));
        }
        let meta = std::fs::symlink_metadata(&real).map_err(|e| format!("cannot read: {e}"))?;
        if !meta.is_file() {
            return Err("not a regular file".to_string());
        }
        Ok(PinnedFile {
            source: source.to_path_buf(),
            real,
            identity: Identity::of(&meta),
        })
    }

    /// Remembers this build's pins for the next one.
    pub(super) fn keep<'a>(&mut self, pins: impl Iterator<Item = &'a PinnedFile>) {
        self.previous = pins.map(|p| (p.source.clone(), p.clone())).collect();
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn pinned_files_are_checked_again_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        std::fs::create_dir_all(&site).unwrap();
        let outside = dir.path().join("secret.txt");
        std::fs::write(&outside, "secret").unwrap();
        let file = site.join("a.txt");
        std::fs::write(&file, "hello").unwrap();

        let pinner = Pinner::new(&[&site]);
        let pin = pinner.pin(&file).unwrap();
        assert_eq!(pin.size(), 5);
        assert!(pin.open().is_ok());

        // Outside the roots: never pinned, also through a link inside.
        assert!(pinner.pin(&outside).is_err());
        let link = site.join("link.txt");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        assert!(pinner.pin(&link).is_err());

        // Swapped for a link after the build: refused.
        std::fs::remove_file(&file).unwrap();
        std::os::unix::fs::symlink(&outside, &file).unwrap();
        assert_eq!(pin.open().err(), Some(Refusal::Gone));

        // Edited after the build: refused as changed.
        std::fs::remove_file(&file).unwrap();
        std::fs::write(&file, "hello, edited").unwrap();
        assert_eq!(pin.open().err(), Some(Refusal::Changed));
    }

    #[test]
    fn unchanged_files_keep_their_pin() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        std::fs::write(&file, "hello").unwrap();
        let mut pinner = Pinner::new(&[dir.path()]);
        let pin = pinner.pin(&file).unwrap();
        pinner.keep(std::iter::once(&pin));
        assert_eq!(pinner.pin(&file).unwrap(), pin);
        std::fs::write(&file, "hello again").unwrap();
        assert_eq!(pinner.pin(&file).unwrap().size(), 11);
    }
}
