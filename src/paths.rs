//! Paths compared across the working directory: site, output and cache folders may be given
//! relative or absolute, and must compare alike.

use std::path::{Path, PathBuf};

/// `path` made absolute against the working directory without touching the file system
/// (no symbolic links resolved); as given when the working directory is unknown.
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
