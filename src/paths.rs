//! Paths compared across the working directory: site, output and cache folders may be given
//! relative or absolute, and must compare alike.

use std::path::{Path, PathBuf};

/// `path` made absolute against the working directory without touching the file system
/// (no symbolic links resolved); as given when the working directory is unknown.
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `path` absolute with every link resolved as far as the path exists (the part not yet
/// created is appended as given): where a write would really land.
pub fn resolved(path: &Path) -> PathBuf {
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
pub fn overlap(a: &Path, b: &Path) -> bool {
    let pairs = [(absolute(a), absolute(b)), (resolved(a), resolved(b))];
    pairs
        .iter()
        .any(|(a, b)| a.starts_with(b) || b.starts_with(a))
}

/// Opens `path` for reading without following a link in its last component (a link put
/// there after any check fails to open), and without blocking on a FIFO.
pub fn open_no_follow(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    // O_NONBLOCK has no effect on regular files; a FIFO opens at once instead of hanging.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        libc::O_NOFOLLOW | libc::O_NONBLOCK,
    );
    #[cfg(not(unix))]
    if std::fs::symlink_metadata(path)?.file_type().is_symlink() {
        return Err(std::io::ErrorKind::InvalidInput.into());
    }
    options.open(path)
}

/// Opens `path` for reading, following links, only when it is a regular file (checked on the
/// opened file): a FIFO or device named by a source (`/dev/zero`, a pipe) would hang or never
/// end the read.
pub fn open_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(file)
}

/// Whether `path`, with every link resolved, lies inside `root` (also resolved): a link
/// within a source folder is fine, one leading out of it would publish a file from elsewhere.
pub fn inside(path: &Path, root: &Path) -> bool {
    match (std::fs::canonicalize(path), std::fs::canonicalize(root)) {
        (Ok(real), Ok(base)) => real.starts_with(base),
        _ => false,
    }
}

/// Opens `path` for reading only when it is a regular file itself, not a link to one (checked
/// on the opened file, so a link swapped in meanwhile is refused too) nor a FIFO or device.
pub fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    let file = open_no_follow(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
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
