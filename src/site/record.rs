//! The record of the last build, in `.otasite/build.json`: a digest of everything the build
//! read (options, `site.yaml`, the secret, the size, time and inode of every file under the
//! releases, theme and static folders, and the IPAs it warned about outside them) and the
//! listing of every file it wrote (what else is in the output, the next build removes and
//! says so).
//!
//! When the inputs hash the same, the output still lists exactly as written, and no profile
//! has crossed an expiry threshold since (pages and warnings change then), the site is up to
//! date: a build stats the files and stops, without opening any of them.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{BuildOptions, BuildReport};
use crate::cache::FileKey;
use crate::cache::disk::{CACHE_DIR, real_folder};
use crate::config::Config;
use crate::model::App;
use crate::output::write_atomic;
use crate::problem::Problem;
use crate::rules::release::EXPIRY_WARNING_DAYS;

const FILE: &str = "build.json";
const FORMAT: u32 = 2;
/// Largest record read back (a site of 10,000 releases writes about 10 MiB).
const MAX_RECORD_BYTES: u64 = 64 * 1024 * 1024;

/// Where a build reads from and writes to, resolved.
pub(crate) struct BuildPaths<'a> {
    pub opts: &'a BuildOptions,
    pub config: &'a Config,
    pub output_dir: &'a Path,
    pub server_config_dir: &'a Path,
    /// The digest of the releases bucket's listing, when the releases are in one.
    pub bucket_listing: Option<&'a str>,
}

#[derive(Serialize, Deserialize)]
struct Record {
    format: u32,
    inputs: String,
    /// The first moment a profile's expiry changes what the pages or warnings say.
    valid_until: Option<DateTime<Utc>>,
    output: Vec<(String, FileKey)>,
    server: Vec<(PathBuf, FileKey)>,
    report: BuildReport,
}

/// A digest of everything a build of `paths` would read, from file metadata only.
pub(crate) fn inputs_digest(paths: &BuildPaths<'_>) -> String {
    let BuildPaths {
        opts,
        config,
        output_dir,
        server_config_dir,
        bucket_listing,
    } = paths;
    let abs = crate::paths::absolute;
    let mut h = Sha256::new();
    let mut put = |label: &str, value: &[u8]| {
        h.update(label.as_bytes());
        h.update((value.len() as u64).to_le_bytes());
        h.update(value);
    };
    put("otasite", env!("CARGO_PKG_VERSION").as_bytes());
    put("format", &FORMAT.to_le_bytes());
    let options = format!(
        "{:?}|{:?}|{:?}|{:?}|{}|{}",
        abs(output_dir),
        abs(server_config_dir),
        opts.base_url,
        opts.ipa_base_url,
        opts.allow_http,
        opts.drafts
    );
    put("options", options.as_bytes());
    put(
        "site.yaml",
        &crate::limits::read_limited(
            &opts.site_dir.join("site.yaml"),
            crate::limits::MAX_CONFIG_BYTES,
            "site.yaml",
        )
        .unwrap_or_default(),
    );
    if let Ok(secret) = std::env::var("OTASITE_SECRET") {
        put("secret", &Sha256::digest(secret.as_bytes()));
    }
    if let Some(file) = &config.secret_file {
        // Named relative to the site folder, as `private::load_secret` reads it.
        put(
            "secret_file",
            &key_bytes(FileKey::read(&opts.site_dir.join(file))),
        );
    }
    if let Some(listing) = bucket_listing {
        put("bucket", listing.as_bytes());
    }
    let site = &opts.site_dir;
    // IPAs outside the releases folder are warned about: a warning repeated from the record
    // must still be true.
    let releases_dir = site.join(&config.releases_dir);
    for ipa in crate::strays::ipas_outside(site, &releases_dir, &[output_dir, server_config_dir]) {
        put("outside", ipa.as_os_str().as_encoded_bytes());
    }
    for dir in [
        site.join(&config.releases_dir),
        site.join("themes").join(&config.theme),
        site.join("static"),
    ] {
        put("tree", dir.as_os_str().as_encoded_bytes());
        for entry in crate::walk::walk(&dir, &|_| false) {
            match entry {
                Ok(e) => {
                    put("path", e.path.as_os_str().as_encoded_bytes());
                    if e.is_file() {
                        put("file", &key_bytes(Some(FileKey::of(&e.metadata))));
                    }
                }
                Err(e) => put("error", e.to_string().as_bytes()),
            }
        }
    }
    crate::ipa::to_hex(&h.finalize())
}

fn key_bytes(key: Option<FileKey>) -> Vec<u8> {
    serde_json::to_vec(&key).unwrap_or_default()
}

/// The report of the last build, when the site it wrote is up to date for `inputs` at `now`.
pub(crate) fn up_to_date(
    site_dir: &Path,
    inputs: &str,
    output_dir: &Path,
    now: DateTime<Utc>,
) -> Option<BuildReport> {
    let record = read(site_dir)?;
    let current = record.inputs == inputs
        && record.valid_until.is_none_or(|t| now < t)
        && record.report.output_dir == output_dir
        && listing(output_dir) == record.output
        && record
            .server
            .iter()
            .all(|(path, key)| FileKey::read(path) == Some(*key));
    // The report is printed again: no control character from the file reaches the terminal.
    let clean = |lines: Vec<String>| lines.iter().map(|l| crate::text::one_line(l)).collect();
    let one_line = crate::text::one_line;
    let clean_problem = |p: Problem| Problem {
        code: one_line(&p.code).into(),
        file: one_line(&p.file),
        message: one_line(&p.message),
        fix: one_line(&p.fix),
        ..p
    };
    current.then(|| BuildReport {
        up_to_date: true,
        written: 0,
        warnings: record
            .report
            .warnings
            .into_iter()
            .map(clean_problem)
            .collect(),
        private_urls: clean(record.report.private_urls),
        ..record.report
    })
}

/// Records a finished build (best effort: a site folder that cannot be written to only
/// loses the shortcut).
pub(crate) fn save(site_dir: &Path, inputs: &str, report: &BuildReport) -> Result<()> {
    let record = Record {
        format: FORMAT,
        inputs: inputs.to_string(),
        valid_until: report.valid_until,
        output: listing(&report.output_dir),
        server: report
            .server_files
            .iter()
            .filter_map(|p| FileKey::read(p).map(|k| (p.clone(), k)))
            .collect(),
        report: report.clone(),
    };
    let Some(dir) = real_folder(site_dir, Path::new(CACHE_DIR)) else {
        anyhow::bail!(
            "{}: a link or file where a folder should be; remove it",
            site_dir.join(CACHE_DIR).display()
        );
    };
    std::fs::create_dir_all(&dir)?;
    write_atomic(&dir.join(FILE), &serde_json::to_vec(&record)?)
}

/// What the output folder holds that the last build did not write, when the record of the
/// last build is about this output folder (else nothing is known, and nothing is said): each
/// file, or the highest folder in which the last build wrote nothing, with its number of
/// files. Read before the build replaces the folder (and so removes them).
pub(crate) fn unwritten(site_dir: &Path, output_dir: &Path) -> Vec<(String, usize)> {
    let Some(record) = read(site_dir) else {
        return Vec::new();
    };
    if record.report.output_dir != output_dir {
        return Vec::new();
    }
    let written: std::collections::HashSet<&str> =
        record.output.iter().map(|(p, _)| p.as_str()).collect();
    let folders: std::collections::HashSet<&Path> = written
        .iter()
        .flat_map(|p| Path::new(p).ancestors().skip(1))
        .collect();
    let mut unwritten: Vec<(String, usize)> = Vec::new();
    for (path, _) in listing(output_dir) {
        if written.contains(path.as_str()) {
            continue;
        }
        let rel = Path::new(&path);
        // The highest folder above it that the last build wrote nothing into, if any.
        let mut above: Vec<&Path> = rel.ancestors().skip(1).collect();
        above.reverse();
        let shown = match above
            .iter()
            .find(|a| !a.as_os_str().is_empty() && !folders.contains(*a))
        {
            Some(folder) => format!("{}/", folder.display()),
            None => path.clone(),
        };
        match unwritten.last_mut() {
            Some((last, n)) if *last == shown => *n += 1,
            _ => unwritten.push((shown, 1)),
        }
    }
    unwritten
}

/// The record of the last build, if there is one this version of otasite can read.
fn read(site_dir: &Path) -> Option<Record> {
    let mut bytes = Vec::new();
    let dir = real_folder(site_dir, Path::new(CACHE_DIR))?;
    crate::paths::open_regular(&dir.join(FILE))
        .and_then(|f| std::io::Read::take(f, MAX_RECORD_BYTES).read_to_end(&mut bytes))
        .ok()?;
    let record: Record = serde_json::from_slice(&bytes).ok()?;
    (record.format == FORMAT).then_some(record)
}

/// Forgets the last build, so that the next one does all its work.
pub(crate) fn forget(site_dir: &Path) {
    // Through a linked `.otasite`, this would remove a file elsewhere.
    if let Some(dir) = real_folder(site_dir, Path::new(CACHE_DIR)) {
        let _ = std::fs::remove_file(dir.join(FILE));
    }
}

/// Every file under `root` with its key, in a stable order. Links are listed too (never
/// followed), so that one planted in the output makes the site out of date: the next build
/// then replaces the output whole.
fn listing(root: &Path) -> Vec<(String, FileKey)> {
    walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_dir())
        .filter_map(|e| {
            let key = FileKey::of(&e.metadata().ok()?);
            let rel = e.path().strip_prefix(root).ok()?;
            Some((rel.to_string_lossy().into_owned(), key))
        })
        .collect()
}

/// The first moment after `now` at which a page or warning of these apps would read
/// differently: a profile expiring, or entering the warning window, or a day of its
/// countdown passing ("expires in N days").
pub(crate) fn valid_until(apps: &[&App], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    apps.iter()
        .flat_map(|a| &a.releases)
        .filter_map(|r| r.ipa.profile.as_ref()?.expires)
        .flat_map(|expires| (0..=EXPIRY_WARNING_DAYS).map(move |d| expires - Duration::days(d)))
        .filter(|t| *t > now)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_sees_every_change() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/x.html"), "one").unwrap();
        let before = listing(dir.path());
        assert_eq!(before.len(), 1);
        assert_eq!(before[0].0, "a/x.html");
        std::fs::write(dir.path().join("a/x.html"), "two!").unwrap();
        assert_ne!(listing(dir.path()), before);
        std::fs::write(dir.path().join("y"), "").unwrap();
        assert_eq!(listing(dir.path()).len(), 2);
    }
}
