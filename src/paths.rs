//! Paths compared across the working directory: site, output and cache folders may be given
//! relative or absolute, and must compare alike.

use std::path::{Path, PathBuf};

/// The cache folder inside a site folder.
pub(crate) const CACHE_DIR: &str = ".otasite";

/// `path` made absolute against the working directory without touching the file system
/// (no symbolic links resolved); as given when the working directory is unknown.
pub(crate) fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `path` absolute with every link resolved as far as the path exists (the part not yet
/// created is appended as given): where a write would really land.
pub(crate) fn resolved(path: &Path) -> PathBuf {
    let abs = absolute(path);
    let mut existing = abs.as_path();
    let mut rest: Vec<&std::ffi::OsStr> = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(existing) {
            return rest.iter().rev().fold(real, |p, c| p.join(c));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name);
                existing = parent;
            }
            _ => return abs,
        }
    }
}

/// Whether `a` and `b` overlap (one is inside the other, or they are the same), compared both
/// as written and with links resolved.
pub(crate) fn overlap(a: &Path, b: &Path) -> bool {
    let pairs = [(absolute(a), absolute(b)), (resolved(a), resolved(b))];
    pairs
        .iter()
        .any(|(a, b)| a.starts_with(b) || b.starts_with(a))
}

/// Opens `path` for reading without following a link in its last component (a link put
/// there after any check fails to open), and without blocking on a FIFO.
pub(crate) fn open_no_follow(path: &Path) -> std::io::Result<std::fs::File> {
    open_with(path, true)
}

/// Opens a file otasite reads back (cache, previous output) only when it is a regular file
/// itself, not a link to one (checked on the opened file, so a link swapped in meanwhile is
/// refused too), nor a FIFO or device.
pub(crate) fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    regular(open_no_follow(path)?)
}

/// Opens an input (site.yaml, notes, theme files, IPAs; a link to one is followed) only when
/// it is a regular file. Opening a named pipe blocks until something writes to it, and reading
/// a device may never end: the file is opened without blocking and checked before a byte is
/// read, so a FIFO named `x.ipa` or `site.yaml` is an error, not a hang.
pub(crate) fn open_input(path: &Path) -> std::io::Result<std::fs::File> {
    regular(open_with(path, false)?)
}

fn open_with(path: &Path, no_follow: bool) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    // O_NONBLOCK has no effect on regular files; a FIFO opens at once instead of hanging.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        libc::O_NONBLOCK | if no_follow { libc::O_NOFOLLOW } else { 0 },
    );
    #[cfg(not(unix))]
    if no_follow && std::fs::symlink_metadata(path)?.file_type().is_symlink() {
        return Err(std::io::ErrorKind::InvalidInput.into());
    }
    options.open(path)
}

/// Whether `path`, with every link resolved, lies inside `root` (also resolved): a link
/// within a source folder is fine, one leading out of it would publish a file from elsewhere.
pub(crate) fn inside(path: &Path, root: &Path) -> bool {
    match (std::fs::canonicalize(path), std::fs::canonicalize(root)) {
        (Ok(real), Ok(base)) => real.starts_with(base),
        _ => false,
    }
}

fn regular(file: std::fs::File) -> std::io::Result<std::fs::File> {
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a folder, named pipe, socket or device?); otasite reads only regular files",
        ));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_resolved_before_comparing() {
        let dir = tempfile::tempdir().unwrap();
        let releases = dir.path().join("releases");
        std::fs::create_dir(&releases).unwrap();
        std::os::unix::fs::symlink(&releases, dir.path().join("public")).unwrap();
        assert!(overlap(&dir.path().join("public/new"), &releases));
        assert!(!overlap(&dir.path().join("other"), &releases));
        assert_eq!(
            resolved(&dir.path().join("public/a/b")),
            std::fs::canonicalize(&releases).unwrap().join("a/b")
        );
    }
}
