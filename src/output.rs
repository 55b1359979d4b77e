//! The one place that writes the site.
//!
//! A build writes into a staging folder next to the output and renames it into place only when
//! every file was written, so a failed build leaves the previous site exactly as it was. IPAs
//! are hard-linked when possible, else copied byte for byte; never re-zipped.

use std::fs;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use rayon::prelude::*;

use crate::render::{Content, OutFile};

/// A file every otasite output has; its absence marks a folder we did not make.
const MARKER: &str = "releases.json";

/// An output folder being written.
pub struct Staging {
    out_dir: PathBuf,
    staging: PathBuf,
    committed: bool,
}

impl Staging {
    /// Prepares a fresh staging folder beside `out_dir`.
    ///
    /// Refuses to replace a non-empty folder that is not an otasite output, so that a mistyped
    /// `--output-dir` cannot wipe unrelated files.
    pub fn begin(out_dir: &Path) -> Result<Staging> {
        if out_dir.exists() {
            if !out_dir.is_dir() {
                bail!(
                    "{}: the output path exists and is not a folder",
                    out_dir.display()
                );
            }
            let mut entries = fs::read_dir(out_dir)
                .with_context(|| format!("cannot read the output folder {}", out_dir.display()))?;
            if entries.next().is_some() && !out_dir.join(MARKER).is_file() {
                bail!(
                    "{}: this folder is not empty and was not written by otasite (it has no {MARKER}); \
                     otasite replaces its output folder whole, so choose another --output-dir or empty this one",
                    out_dir.display()
                );
            }
        }
        let name = out_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "public".into());
        let parent = match out_dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        let staging = parent.join(format!(".{name}.otasite-staging-{}", std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging)
                .with_context(|| format!("cannot remove the stale {}", staging.display()))?;
        }
        fs::create_dir(&staging)
            .with_context(|| format!("cannot create the staging folder {}", staging.display()))?;
        Ok(Staging {
            out_dir: out_dir.to_path_buf(),
            staging,
            committed: false,
        })
    }

    /// Writes all files into the staging folder.
    pub fn write_all(&self, files: &[OutFile]) -> Result<()> {
        let mut dirs: Vec<PathBuf> = Vec::new();
        for f in files {
            let rel = safe_relative(&f.path)?;
            if let Some(parent) = rel.parent() {
                dirs.push(self.staging.join(parent));
            }
        }
        dirs.sort();
        dirs.dedup();
        for d in &dirs {
            fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
        }
        files.par_iter().try_for_each(|f| self.write_one(f))
    }

    fn write_one(&self, file: &OutFile) -> Result<()> {
        let dest = self.staging.join(safe_relative(&file.path)?);
        match &file.content {
            Content::Bytes(bytes) => {
                fs::write(&dest, bytes).with_context(|| format!("cannot write {}", dest.display()))
            }
            Content::Source(src) => place(src, &dest),
        }
    }

    /// Swaps the staging folder into place of the output folder.
    pub fn commit(mut self) -> Result<()> {
        let old = self.staging.with_file_name(
            self.staging
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .replace("otasite-staging", "otasite-old"),
        );
        let had_old = self.out_dir.exists();
        if had_old {
            fs::rename(&self.out_dir, &old).with_context(|| {
                format!(
                    "cannot move the previous output {} aside",
                    self.out_dir.display()
                )
            })?;
        }
        if let Err(e) = fs::rename(&self.staging, &self.out_dir) {
            if had_old {
                // Put the previous site back; the build failed but nothing is lost.
                let _ = fs::rename(&old, &self.out_dir);
            }
            return Err(e).with_context(|| {
                format!("cannot move the new site into {}", self.out_dir.display())
            });
        }
        self.committed = true;
        if had_old {
            fs::remove_dir_all(&old).with_context(|| {
                format!("cannot remove the previous output at {}", old.display())
            })?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// Writes small files into `dir` (outside the site), each replaced atomically, and only when
/// its content changed, so that a server watching them is not reloaded for nothing.
pub fn write_beside(dir: &Path, files: &[OutFile]) -> Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for f in files {
        let dest = dir.join(safe_relative(&f.path)?);
        let Content::Bytes(bytes) = &f.content else {
            bail!("internal error: {} must be generated content", f.path);
        };
        if fs::read(&dest).is_ok_and(|old| &old == bytes) {
            continue;
        }
        let tmp = dest.with_file_name(format!(".{}.otasite-tmp-{}", f.path, std::process::id()));
        fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
        fs::rename(&tmp, &dest).with_context(|| format!("cannot write {}", dest.display()))?;
    }
    Ok(())
}

/// Hard-links `src` to `dest`, or copies it when linking is not possible (another
/// filesystem, or a filesystem without links).
fn place(src: &Path, dest: &Path) -> Result<()> {
    if fs::hard_link(src, dest).is_ok() {
        return Ok(());
    }
    fs::copy(src, dest)
        .map(|_| ())
        .with_context(|| format!("cannot copy {} to {}", src.display(), dest.display()))
}

/// Checks a site-relative path has only normal components (no `..`, no root).
fn safe_relative(path: &str) -> Result<PathBuf> {
    let p = PathBuf::from(path);
    if path.is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
        bail!("internal error: refusing to write outside the output folder: {path:?}");
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> OutFile {
        OutFile {
            path: path.into(),
            content: Content::Bytes(text.as_bytes().to_vec()),
        }
    }

    #[test]
    fn writes_then_swaps() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let s = Staging::begin(&out).unwrap();
        s.write_all(&[file("releases.json", "{}"), file("a/b/index.html", "hi")])
            .unwrap();
        assert!(!out.exists());
        s.commit().unwrap();
        assert_eq!(
            fs::read_to_string(out.join("a/b/index.html")).unwrap(),
            "hi"
        );

        let s = Staging::begin(&out).unwrap();
        s.write_all(&[file("releases.json", "{\"v\":2}")]).unwrap();
        s.commit().unwrap();
        assert!(!out.join("a").exists());
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "staging and old folders are cleaned up");
    }

    #[test]
    fn dropped_staging_leaves_output_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("releases.json"), "old").unwrap();
        {
            let s = Staging::begin(&out).unwrap();
            s.write_all(&[file("releases.json", "new")]).unwrap();
        }
        assert_eq!(
            fs::read_to_string(out.join("releases.json")).unwrap(),
            "old"
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn refuses_foreign_folder_and_escaping_paths() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("precious.txt"), "x").unwrap();
        assert!(Staging::begin(dir.path()).is_err());
        let s = Staging::begin(&dir.path().join("out")).unwrap();
        assert!(s.write_all(&[file("../evil", "x")]).is_err());
        assert!(s.write_all(&[file("/abs", "x")]).is_err());
    }
}
