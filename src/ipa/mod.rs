//! Reading an `.ipa`: only the central directory and the few entries needed, never the whole
//! archive. The file is opened once: the zip reader uses it, then one streaming pass hashes it.

mod ber;
pub(crate) mod bundle;
mod icons;
pub(crate) mod info_plist;
pub(crate) mod plist_depth;
pub(crate) mod profile;

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use thiserror::Error;
use zip::ZipArchive;

pub(crate) use bundle::find_main_app;
pub(crate) use icons::{icon_candidates, root_png};
pub(crate) use info_plist::{AppInfo, device_family_names, parse_info_plist};
pub(crate) use profile::{Profile, ProfileKind, parse_profile};

use crate::{icon, limits};

/// The app icon as found in the IPA (converted to a standard PNG only when the site is made,
/// once per distinct icon).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Icon {
    /// The archive entry it came from.
    pub source: String,
    pub width: u32,
    pub height: u32,
    /// Whether the original was an Apple CgBI ("crushed") PNG.
    pub crushed: bool,
    /// Lower-case hex SHA-256 of `bytes`: names the icon files made from it, so that releases
    /// sharing an icon share the work.
    pub digest: String,
    /// The PNG as stored in the archive (CgBI when `crushed`), checked to decode. Not
    /// serialised: the build cache keeps the files made from it instead.
    /// Shared: releases of an app usually carry the same icon, and the caches keep one copy.
    #[serde(skip)]
    pub bytes: std::sync::Arc<[u8]>,
}

/// What to read besides the metadata.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// Stream the whole file through SHA-256 (a build needs it; `inspect` does not).
    pub hash: bool,
}

/// Everything read from one IPA.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ipa {
    pub path: PathBuf,
    pub info: AppInfo,
    /// Path of the main app inside the archive, e.g. `Payload/Test.app/`.
    pub app_dir: String,
    pub size: u64,
    /// Lower-case hex SHA-256 of the whole file.
    pub sha256: String,
    /// Modification time of the `Info.plist` entry (set when the app was built), as
    /// `YYYY-MM-DDTHH:MM:SS` (zip times have no zone).
    pub built_at: Option<String>,
    /// Whether the app carries a code signature (`_CodeSignature/CodeResources`).
    pub signed: bool,
    /// Whether the app carries `embedded.mobileprovision`.
    pub has_profile: bool,
    /// The icon, when one could be read (else the site shows a placeholder).
    pub icon: Option<Icon>,
    /// The provisioning profile, when present and readable. UDIDs are never serialised.
    pub profile: Option<Profile>,
    /// What could not be read but does not stop the build (an unreadable icon or profile).
    pub warnings: Vec<String>,
}

/// Why an IPA could not be read. The path is in every message.
#[derive(Debug, Error)]
pub enum IpaError {
    #[error("{path}: cannot read the file: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: not a valid IPA (zip) archive: {detail}. The file may be truncated or still \
         being copied; export the build again"
    )]
    NotZip { path: PathBuf, detail: String },
    #[error(
        "{path}: no app found: an IPA must contain Payload/<Name>.app/. Was it exported with \
         Xcode's \"Export\" (not a zipped .xcarchive)?"
    )]
    NoMainApp { path: PathBuf },
    #[error("{path}: {entry} is missing, so the app cannot be identified; export the build again")]
    MissingEntry { path: PathBuf, entry: String },
    #[error(
        "{path}: {entry} decompresses to more than {limit} bytes (limits::{limit_name}); \
         real ones are far smaller, so this archive is damaged or hostile"
    )]
    TooLarge {
        path: PathBuf,
        entry: String,
        limit: u64,
        limit_name: &'static str,
    },
    #[error("{path}: cannot read {entry}: {detail}")]
    Entry {
        path: PathBuf,
        entry: String,
        detail: String,
    },
    #[error("{path}: {detail}")]
    InfoPlist { path: PathBuf, detail: String },
    #[error(
        "{path}: the file changed while it was being read (twice), so no hash of it can be \
         trusted; wait until it is completely copied, then build again"
    )]
    Changing { path: PathBuf },
}

/// Reads the facts of one IPA for a build, opening it once.
///
/// The hash is published in manifests, so it must be of bytes that stayed put: the file's
/// identity, size and modification time are compared before and after. A file that changed
/// meanwhile (still being copied, rewritten) is read once more, then refused.
pub fn read_ipa(path: &Path) -> Result<Ipa, IpaError> {
    let stamp = |path: &Path| std::fs::metadata(path).ok().map(|m| Stamp::of(&m));
    for _ in 0..2 {
        let before = stamp(path);
        let ipa = read_ipa_with(path, ReadOptions { hash: true })?;
        if before.is_some() && stamp(path) == before && before.map(|b| b.size) == Some(ipa.size) {
            return Ok(ipa);
        }
        log::debug!(
            "{}: changed while it was read; reading it again",
            path.display()
        );
    }
    Err(IpaError::Changing {
        path: path.to_path_buf(),
    })
}

/// What tells a file's version apart without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    size: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    id: (u64, u64),
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Stamp {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt as _;
        Stamp {
            size: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            id: (meta.dev(), meta.ino()),
        }
    }
}

/// Reads the facts of one IPA, opening it once.
pub(crate) fn read_ipa_with(path: &Path, options: ReadOptions) -> Result<Ipa, IpaError> {
    let io = |source| IpaError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = crate::paths::open_input(path).map_err(io)?;
    read_ipa_from(BufReader::new(file), path, options)
}

/// Reads an IPA from any seekable reader; `path` is used in messages and in the result.
pub fn read_ipa_from<R: Read + Seek>(
    reader: R,
    path: &Path,
    options: ReadOptions,
) -> Result<Ipa, IpaError> {
    let io = |source| IpaError::Io {
        path: path.to_path_buf(),
        source,
    };
    let not_zip = |e: zip::result::ZipError| IpaError::NotZip {
        path: path.to_path_buf(),
        detail: e.to_string(),
    };
    let mut archive = ZipArchive::new(reader).map_err(not_zip)?;

    // The names are borrowed from the archive's directory (UTF-8 ones are not copied) and
    // looked at once; entries are then found by the directory's index, not by a scan.
    let names: Vec<(usize, Cow<'_, str>)> = (0..archive.len())
        .filter_map(|i| Some((i, archive.name_for_index(i)?.ok()?)))
        .collect();
    let app = find_main_app(names.iter().map(|(_, n)| n.as_ref())).ok_or_else(|| {
        IpaError::NoMainApp {
            path: path.to_path_buf(),
        }
    })?;
    // The icon is chosen among these once Info.plist has named it.
    let root_pngs: Vec<usize> = names
        .iter()
        .filter(|(_, n)| root_png(n, &app.dir).is_some())
        .map(|(i, _)| *i)
        .collect();
    drop(names);
    let has = |entry: &str| archive.index_for_name(entry).is_some();
    let plist_name = app.info_plist();
    if !has(&plist_name) {
        return Err(IpaError::MissingEntry {
            path: path.to_path_buf(),
            entry: plist_name,
        });
    }
    let signed = has(&app.entry("_CodeSignature/CodeResources"));
    let has_profile = has(&app.entry("embedded.mobileprovision"));

    let (plist_bytes, built_at) = read_entry_limited(
        &mut archive,
        path,
        &plist_name,
        (limits::MAX_INFO_PLIST_BYTES, "MAX_INFO_PLIST_BYTES"),
    )?;
    let info =
        parse_info_plist(&plist_bytes, &app.folder_name).map_err(|detail| IpaError::InfoPlist {
            path: path.to_path_buf(),
            detail: format!("{plist_name}: {detail}"),
        })?;

    let mut warnings = Vec::new();
    let candidates = icon_candidates(
        &info.icon_names,
        &app.dir,
        root_pngs
            .iter()
            .filter_map(|&i| archive.name_for_index(i)?.ok()),
    );
    let icon = read_icon(&mut archive, path, &candidates, &mut warnings);
    let profile = if has_profile {
        let entry = app.entry("embedded.mobileprovision");
        match read_entry_limited(
            &mut archive,
            path,
            &entry,
            (limits::MAX_PROFILE_BYTES, "MAX_PROFILE_BYTES"),
        )
        .map_err(|e| e.to_string())
        .and_then(|(bytes, _)| parse_profile(&bytes))
        {
            Ok(p) => Some(p),
            Err(e) => {
                warnings.push(format!("its provisioning profile could not be read: {e}"));
                None
            }
        }
    } else {
        None
    };

    let mut reader = archive.into_inner();
    let (size, sha256) = if options.hash {
        hash_reader(&mut reader).map_err(io)?
    } else {
        (reader.seek(SeekFrom::End(0)).map_err(io)?, String::new())
    };
    let ipa = Ipa {
        path: path.to_path_buf(),
        info,
        app_dir: app.dir,
        size,
        sha256,
        built_at,
        signed,
        has_profile,
        icon,
        profile,
        warnings,
    };
    drop(reader);
    // A fresh copy, made now that the archive's directory (thousands of small allocations) is
    // freed: the parts kept from each IPA then lie together instead of each pinning pages of
    // freed memory. Measured: 1,000 IPAs kept take 11 MB this way, 52 MB without.
    Ok(ipa.clone())
}

/// Reads the headers of the candidate icons, then decodes the largest one that decodes.
fn read_icon<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    path: &Path,
    candidates: &[String],
    warnings: &mut Vec<String>,
) -> Option<Icon> {
    let mut sized: Vec<(u64, &String)> = Vec::new();
    for name in candidates {
        let Ok(entry) = archive.by_name(name) else {
            continue;
        };
        let mut head = Vec::with_capacity(64);
        if entry.take(64).read_to_end(&mut head).is_err() {
            continue;
        }
        if let Ok(h) = icon::png_header(&head) {
            sized.push((u64::from(h.width) * u64::from(h.height), name));
        }
    }
    sized.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    for (_, name) in sized {
        let bytes = match read_entry_limited(
            archive,
            path,
            name,
            (limits::MAX_ICON_BYTES, "MAX_ICON_BYTES"),
        ) {
            Ok((bytes, _)) => bytes,
            Err(e) => {
                warnings.push(format!("its icon {name} could not be read: {e}"));
                continue;
            }
        };
        match icon::check_png(&bytes) {
            Ok(header) => {
                return Some(Icon {
                    source: name.clone(),
                    width: header.width,
                    height: header.height,
                    crushed: header.crushed,
                    digest: to_hex(&Sha256::digest(&bytes)),
                    bytes: bytes.into(),
                });
            }
            Err(e) => warnings.push(format!("its icon {name} could not be decoded: {e}")),
        }
    }
    None
}

/// Reads one entry, refusing to inflate more than `limit` bytes whatever its header claims.
fn read_entry_limited<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    path: &Path,
    entry: &str,
    (limit, limit_name): (u64, &'static str),
) -> Result<(Vec<u8>, Option<String>), IpaError> {
    let fail = |detail: String| IpaError::Entry {
        path: path.to_path_buf(),
        entry: entry.to_string(),
        detail,
    };
    let too_large = || IpaError::TooLarge {
        path: path.to_path_buf(),
        entry: entry.to_string(),
        limit,
        limit_name,
    };
    let file = archive.by_name(entry).map_err(|e| fail(e.to_string()))?;
    if file.size() > limit {
        return Err(too_large());
    }
    let built_at = file.last_modified().and_then(|t| {
        let valid = (1..=12).contains(&t.month()) && (1..=31).contains(&t.day());
        valid.then(|| {
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        })
    });
    let mut bytes = Vec::with_capacity(file.size() as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok((bytes, built_at))
}

/// Streams a file from its start through SHA-256; returns (bytes read, hex digest).
pub(crate) fn hash_file(file: &mut File) -> std::io::Result<(u64, String)> {
    hash_reader(file)
}

/// Streams a reader from its start through SHA-256; returns (bytes read, hex digest).
pub fn hash_reader<R: Read + Seek>(file: &mut R) -> std::io::Result<(u64, String)> {
    // One buffer per thread for the life of the process: a fresh 256 KiB buffer per IPA
    // fragments the allocator's heap between the small results kept from each IPA.
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; 256 * 1024]);
    }
    file.seek(SeekFrom::Start(0))?;
    BUFFER.with(|buf| {
        let mut buf = buf.borrow_mut();
        let mut hasher = Sha256::new();
        let mut total = 0u64;
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            total += n as u64;
        }
        Ok((total, to_hex(&hasher.finalize())))
    })
}

pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}
