//! The one place that writes the site.
//!
//! A build writes into a staging folder next to the output and renames it into place only when
//! every file was written, so a failed build leaves the previous site exactly as it was. IPAs
//! are hard-linked when possible, else copied byte for byte; never re-zipped.
//!
//! A file whose content is the same as in the previous output is not written again: the old
//! file is linked into the new output, keeping its modification time, so deploy tools that
//! sync by time upload only what changed.

use std::collections::HashMap;
use std::fs;
use std::io::{Read as _, Write as _};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context as _, Result, bail};
use rayon::prelude::*;

use crate::files::{Content, OutFile};
use crate::paths::open_regular;

/// A file every otasite output has; its absence marks a folder we did not make.
const MARKER: &str = "releases.json";

/// An output folder being written.
pub(crate) struct Staging {
    out_dir: PathBuf,
    /// `out_dir` with links resolved, when it exists: a previous output's file is carried over
    /// only when reached with no link below this.
    out_real: Option<PathBuf>,
    staging: PathBuf,
    committed: bool,
    /// Every path written so far, by its lower-cased form (case-insensitive file systems would
    /// make `A.html` and `a.html` one file): a second file for one path is an error, never a
    /// write over the first (which may be a hard link to a source).
    claimed: Mutex<HashMap<String, String>>,
    /// Folders (links resolved) that placed files must really be in: a source swapped for a
    /// link to elsewhere after it was read is refused, not published. Empty: no such check.
    sources: Vec<PathBuf>,
}

impl Staging {
    /// Prepares a fresh staging folder beside `out_dir`.
    ///
    /// Refuses to replace a non-empty folder that is not an otasite output, so that a mistyped
    /// `--output-dir` cannot wipe unrelated files.
    pub(crate) fn begin(out_dir: &Path) -> Result<Staging> {
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
        remove_stale(&staging)?;
        fs::create_dir(&staging)
            .with_context(|| format!("cannot create the staging folder {}", staging.display()))?;
        Ok(Staging {
            out_dir: out_dir.to_path_buf(),
            out_real: fs::canonicalize(out_dir).ok(),
            staging,
            committed: false,
            claimed: Mutex::new(HashMap::new()),
            sources: Vec::new(),
        })
    }

    /// Places files (IPAs, images, static files) only from inside these folders.
    pub(crate) fn placing_from(mut self, roots: &[&Path]) -> Staging {
        self.sources = roots
            .iter()
            .filter_map(|r| fs::canonicalize(r).ok())
            .collect();
        self
    }

    /// Writes all files into the staging folder; returns how many differ from the previous
    /// output (the others are carried over unchanged).
    pub(crate) fn write_all(&self, files: &[OutFile]) -> Result<usize> {
        self.claim(files)?;
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
        let written: Vec<bool> = files
            .par_iter()
            .map(|f| self.write_one(f))
            .collect::<Result<_>>()?;
        Ok(written.into_iter().filter(|w| *w).count())
    }

    /// Records the paths of `files`, refusing one that an earlier file (of this batch or an
    /// earlier one) has, or that differs from it only in case.
    fn claim(&self, files: &[OutFile]) -> Result<()> {
        let mut claimed = self.claimed.lock().unwrap_or_else(|e| e.into_inner());
        for f in files {
            if let Some(first) = claimed.insert(f.path.to_lowercase(), f.path.clone()) {
                bail!(
                    "two files of the site would be written to {first:?} and {:?} (one file on \
                     a case-insensitive file system); this is a bug in otasite, please report it \
                     with the names of your releases and channels",
                    f.path
                );
            }
        }
        Ok(())
    }

    /// Writes one file; false when the previous output's file was carried over instead.
    ///
    /// Every file is created new (`create_new`): nothing is ever written through an existing
    /// file, so no write can reach a source that an earlier file was linked to.
    fn write_one(&self, file: &OutFile) -> Result<bool> {
        let rel = safe_relative(&file.path)?;
        let dest = self.staging.join(&rel);
        let old = self.out_dir.join(&rel);
        let unchanged = self.reached_without_link(&rel)
            && match &file.content {
                Content::Bytes(bytes) => same_bytes(&old, bytes),
                Content::Source(src) => same_file(&old, src),
            };
        if unchanged && fs::hard_link(&old, &dest).is_ok() {
            return Ok(false);
        }
        match &file.content {
            Content::Bytes(bytes) => create_new(&dest)
                .and_then(|mut f| f.write_all(bytes))
                .with_context(|| format!("cannot write {}", dest.display()))?,
            Content::Source(src) => place(src, &dest, &self.sources)?,
        }
        Ok(true)
    }

    /// Whether the previous output's file at `rel` is reached with no link on the way: a
    /// folder of the previous output replaced by a link to elsewhere would carry another
    /// owner's file, which they could edit afterwards, into the new site.
    fn reached_without_link(&self, rel: &Path) -> bool {
        let Some(real) = &self.out_real else {
            return false;
        };
        let parent = rel.parent().unwrap_or(Path::new(""));
        fs::canonicalize(self.out_dir.join(parent)).is_ok_and(|p| p == real.join(parent))
    }

    /// Swaps the staging folder into place of the output folder.
    pub(crate) fn commit(mut self) -> Result<()> {
        let old = self.staging.with_file_name(
            self.staging
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .replace("otasite-staging", "otasite-old"),
        );
        let had_old = self.out_dir.exists();
        remove_stale(&old)?;
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

/// Removes whatever a killed build (or anyone) left at `path`: a folder with its files, or a
/// file or link (even a dangling one) by its name only, never what it points to.
fn remove_stale(path: &Path) -> Result<()> {
    let removed = match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        _ => fs::remove_file(path),
    };
    removed.with_context(|| format!("cannot remove the stale {}", path.display()))
}

/// Writes small files into `dir` (outside the site), each replaced atomically, and only when
/// its content changed, so that a server watching them is not reloaded for nothing.
///
/// A file already there that otasite did not write (its text lacks `marker`) is never
/// replaced: the folder may be a server's own (`/etc/caddy`), and its file the user's.
/// Every file is checked before any is written.
pub(crate) fn write_beside(dir: &Path, files: &[OutFile], marker: &str) -> Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let mut plan = Vec::with_capacity(files.len());
    for f in files {
        let dest = dir.join(safe_relative(&f.path)?);
        let Content::Bytes(bytes) = &f.content else {
            bail!("internal error: {} must be generated content", f.path);
        };
        match fs::symlink_metadata(&dest) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => bail!("cannot read {}: {e}", dest.display()),
            Ok(meta) if !meta.is_file() || !written_by_us(&dest, marker) => bail!(
                "{}: this file exists and was not written by otasite, so it is left as it is; \
                 move it away, or set server_config_dir (or --server-config-dir) to a folder \
                 of otasite's own, such as server-config/ in the site folder",
                dest.display()
            ),
            Ok(_) => {}
        }
        plan.push((dest, bytes));
    }
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (dest, bytes) in plan {
        if !same_bytes(&dest, bytes) {
            write_atomic(&dest, bytes)?;
        }
    }
    Ok(())
}

/// Whether the regular file at `path` carries `marker` in its first few hundred bytes.
fn written_by_us(path: &Path, marker: &str) -> bool {
    let mut head = Vec::with_capacity(1024);
    open_regular(path)
        .and_then(|f| f.take(1024).read_to_end(&mut head))
        .is_ok()
        && String::from_utf8_lossy(&head).contains(marker)
}

/// Creates `path`, failing when anything (a file, a link) is already there.
fn create_new(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// Replaces `path` with `bytes` in one step (a reader never sees half a file): written beside
/// it under a temporary name, then renamed over it.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(
        ".{name}.otasite-tmp-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    // A leftover (or planted) file or link at the temporary name is removed, not written
    // through.
    let _ = fs::remove_file(&tmp);
    create_new(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Whether the file at `old` holds exactly `bytes` (read only when the sizes agree). A link
/// is never the same: nothing read back from a previous output is followed.
fn same_bytes(old: &Path, bytes: &[u8]) -> bool {
    fs::symlink_metadata(old)
        .is_ok_and(|m| m.is_file() && unshared(&m) && m.len() == bytes.len() as u64)
        && open_regular(old)
            .and_then(|mut f| {
                let mut b = Vec::with_capacity(bytes.len());
                std::io::Read::read_to_end(&mut f, &mut b).map(|_| b)
            })
            .is_ok_and(|b| b == bytes)
}

/// Whether `old` is `src` placed by an earlier build: the same file (a hard link), or a copy
/// with its size and modification time (which [`place`] preserves).
fn same_file(old: &Path, src: &Path) -> bool {
    let (Ok(a), Ok(b)) = (fs::symlink_metadata(old), fs::metadata(src)) else {
        return false;
    };
    if !a.is_file() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if (a.dev(), a.ino()) == (b.dev(), b.ino()) {
            return true;
        }
    }
    unshared(&a)
        && a.len() == b.len()
        && a.modified()
            .ok()
            .is_some_and(|t| b.modified().ok() == Some(t))
}

/// Whether a file of the previous output has no other name: otasite's own files have none
/// between builds, so one that does is a hard link planted to a file elsewhere, whose owner
/// could change the site through it once it was carried over.
fn unshared(meta: &fs::Metadata) -> bool {
    #[cfg(unix)]
    return std::os::unix::fs::MetadataExt::nlink(meta) == 1;
    #[cfg(not(unix))]
    return meta.is_file();
}

/// Hard-links `src` to `dest`, or copies it when linking is not possible (another
/// filesystem, or a filesystem without links), keeping its modification time.
///
/// `src` is resolved first: a link inside the site is placed as the file it names (a link in
/// the output would dangle or lead elsewhere), and only a regular file is placed. `dest` is
/// always created new.
fn place(src: &Path, dest: &Path, roots: &[PathBuf]) -> Result<()> {
    let real = fs::canonicalize(src).with_context(|| format!("cannot read {}", src.display()))?;
    if !roots.is_empty() && !roots.iter().any(|r| real.starts_with(r)) {
        bail!(
            "{}: now leads to {}, outside the site; it changed while the site was built \
             (links out of the site are never followed): put the file back and build again",
            src.display(),
            real.display()
        );
    }
    if fs::hard_link(&real, dest).is_ok() {
        if !fs::symlink_metadata(dest).is_ok_and(|m| m.is_file()) {
            let _ = fs::remove_file(dest);
            bail!(
                "{}: not a regular file; it cannot be published",
                src.display()
            );
        }
        return Ok(());
    }
    let context = || format!("cannot copy {} to {}", src.display(), dest.display());
    let mut from = open_regular(&real).with_context(context)?;
    let mut to = create_new(dest).with_context(context)?;
    std::io::copy(&mut from, &mut to).with_context(context)?;
    if let Ok(time) = from.metadata().and_then(|m| m.modified()) {
        let _ = to.set_modified(time);
    }
    Ok(())
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
    fn unchanged_files_are_carried_over_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let src = dir.path().join("app.ipa");
        fs::write(&src, "zip").unwrap();
        let ipa = OutFile {
            path: "a/app.ipa".into(),
            content: Content::Source(src.clone()),
        };
        let s = Staging::begin(&out).unwrap();
        let files = [
            file("releases.json", "{}"),
            file("a/index.html", "one"),
            ipa,
        ];
        assert_eq!(s.write_all(&files).unwrap(), 3);
        s.commit().unwrap();
        let meta = |p: &str| fs::metadata(out.join(p)).unwrap();
        let before = (
            meta("releases.json").modified().unwrap(),
            meta("a/app.ipa").len(),
        );
        std::thread::sleep(std::time::Duration::from_millis(20));

        let s = Staging::begin(&out).unwrap();
        let mut next = files.clone();
        next[1] = file("a/index.html", "two");
        assert_eq!(
            s.write_all(&next).unwrap(),
            1,
            "only the changed page is written"
        );
        s.commit().unwrap();
        assert_eq!(meta("releases.json").modified().unwrap(), before.0);
        assert_eq!(meta("a/app.ipa").len(), before.1);
        assert_eq!(fs::read_to_string(out.join("a/index.html")).unwrap(), "two");
        assert_eq!(
            fs::read_to_string(&src).unwrap(),
            "zip",
            "sources are never written"
        );
    }

    #[test]
    fn copies_keep_the_source_time() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        fs::write(&src, "data").unwrap();
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        fs::File::options()
            .write(true)
            .open(&src)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let dest = dir.path().join("copy");
        fs::copy(&src, &dest).unwrap();
        assert!(!same_file(&dest, &src), "a plain copy has a new time");
        fs::remove_file(&dest).unwrap();
        place(&src, &dest, &[]).unwrap();
        assert!(same_file(&dest, &src));
    }

    #[test]
    fn a_source_that_now_leads_out_of_the_site_is_not_placed() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        fs::create_dir_all(&site).unwrap();
        fs::write(dir.path().join("secret"), "outside").unwrap();
        // The IPA was read; then it was swapped for a link to a file outside the site.
        std::os::unix::fs::symlink(dir.path().join("secret"), site.join("App.ipa")).unwrap();
        let roots = [fs::canonicalize(&site).unwrap()];
        let dest = dir.path().join("placed");
        let err = place(&site.join("App.ipa"), &dest, &roots).unwrap_err();
        assert!(format!("{err:#}").contains("outside the site"), "{err:#}");
        assert!(!dest.exists());
        fs::write(site.join("Real.ipa"), "zip").unwrap();
        place(&site.join("Real.ipa"), &dest, &roots).unwrap();
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

    #[cfg(unix)]
    #[test]
    fn planted_staging_and_old_names_are_removed_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let pid = std::process::id();
        let kept = dir.path().join("kept");
        fs::create_dir(&kept).unwrap();
        fs::write(kept.join("f"), "x").unwrap();
        // A dangling link at the staging name, a link to a folder at the old name.
        std::os::unix::fs::symlink(
            dir.path().join("nowhere"),
            dir.path().join(format!(".public.otasite-staging-{pid}")),
        )
        .unwrap();
        let s = Staging::begin(&out).unwrap();
        s.write_all(&[file("releases.json", "{}")]).unwrap();
        s.commit().unwrap();
        std::os::unix::fs::symlink(&kept, dir.path().join(format!(".public.otasite-old-{pid}")))
            .unwrap();
        let s = Staging::begin(&out).unwrap();
        s.write_all(&[file("releases.json", "{\"v\":2}")]).unwrap();
        s.commit().unwrap();
        assert_eq!(fs::read_to_string(kept.join("f")).unwrap(), "x");
        assert_eq!(
            fs::read_to_string(out.join("releases.json")).unwrap(),
            "{\"v\":2}"
        );
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
