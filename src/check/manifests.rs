//! Checks on every `manifest.plist` ("invalid manifest", "unable to download app", and the app
//! iOS deletes after download when the bundle id does not match).

use std::collections::HashMap;
use std::path::Path;

use plist::{Dictionary, Value};

use super::pages::site_path;
use crate::config::Config;
use crate::ipa::plist_depth::check_plist_shape;
use crate::ipa::{ReadOptions, hash_file, read_ipa_with};
use crate::limits::MAX_MANIFEST_BYTES;
use crate::model::Release;
use crate::problem::Problem;
use crate::text::is_xml_char;

/// What the checks of one manifest share: where it is, the site, what the build knows.
struct Ctx<'a> {
    file: String,
    out: &'a Path,
    config: &'a Config,
    releases: &'a HashMap<String, &'a Release>,
    /// Releases whose IPA is at `ipa_base_url`, by the IPA's URL.
    external: &'a HashMap<String, &'a Release>,
}

/// The size and SHA-256 of each IPA in the output, read once however many manifests name it.
type Hashes = HashMap<String, Option<(u64, String)>>;

const REBUILD: &str = "build the site again with otasite; do not edit manifests by hand";

pub(super) fn check_manifests(
    out: &Path,
    config: &Config,
    (releases, external): (&HashMap<String, &Release>, &HashMap<String, &Release>),
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut hashes = Hashes::new();
    for entry in walkdir::WalkDir::new(out)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
    {
        if entry.file_type().is_file() && entry.file_name() == "manifest.plist" {
            let ctx = Ctx {
                file: entry.path().display().to_string(),
                out,
                config,
                releases,
                external,
            };
            problems.extend(check_one(entry.path(), &ctx, &mut hashes));
        }
    }
    problems
}

/// A manifest's parts the checks read.
struct Manifest<'v> {
    assets: Vec<&'v Dictionary>,
    package: &'v Dictionary,
    metadata: Option<&'v Dictionary>,
}

impl Manifest<'_> {
    fn meta(&self, key: &str) -> Option<&str> {
        (self.metadata?.get(key)).and_then(Value::as_string)
    }
}

fn check_one(path: &Path, ctx: &Ctx<'_>, hashes: &mut Hashes) -> Vec<Problem> {
    let value = match parse(path) {
        Ok(value) => value,
        Err(why) => return vec![invalid(ctx, why)],
    };
    let manifest = match parts(&value) {
        Ok(manifest) => manifest,
        Err(key) => return vec![missing(ctx, key)],
    };
    let mut p = metadata(&manifest, ctx);
    p.extend(asset_urls(&manifest, ctx));
    p.extend(package(&manifest, ctx, hashes));
    p
}

/// The manifest as a plist: bounded, a regular file only (never a FIFO or device planted in
/// the output), XML characters only, and not nested deep enough to overflow the parser.
fn parse(path: &Path) -> Result<Value, String> {
    let what = "manifest (limits::MAX_MANIFEST_BYTES)";
    let bytes = crate::limits::read_limited(path, MAX_MANIFEST_BYTES, what)
        .map_err(|e| format!("{e:#}"))?;
    // The plist reader accepts characters that XML 1.0 (and so iOS's parser) refuses.
    if let Some(bad) = (String::from_utf8_lossy(&bytes).chars()).find(|&c| !is_xml_char(c)) {
        return Err(format!(
            "the manifest holds the character U+{:04X}, which XML forbids",
            bad as u32
        ));
    }
    // The plist crate builds nested values by recursion: a deep one would overflow the stack.
    check_plist_shape(&bytes)
        .and_then(|()| Value::from_reader(std::io::Cursor::new(&bytes)).map_err(|e| e.to_string()))
        .map_err(|e| format!("the manifest does not parse ({e})"))
}

/// `items[0]`, its assets and its software package; `Err` names the first key missing.
fn parts(value: &Value) -> Result<Manifest<'_>, &'static str> {
    let item = (value.as_dictionary())
        .and_then(|d| d.get("items"))
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_dictionary)
        .ok_or("items[0]")?;
    let assets: Vec<&Dictionary> = (item.get("assets").and_then(Value::as_array))
        .map(|a| a.iter().filter_map(Value::as_dictionary).collect())
        .unwrap_or_default();
    let kind =
        |a: &&&Dictionary| a.get("kind").and_then(Value::as_string) == Some("software-package");
    let package = (assets.iter().find(kind).copied()).ok_or("an asset of kind software-package")?;
    Ok(Manifest {
        assets,
        package,
        metadata: item.get("metadata").and_then(Value::as_dictionary),
    })
}

fn invalid(ctx: &Ctx<'_>, why: String) -> Problem {
    let message = format!("{why}: iOS says \"Invalid manifest\"");
    Problem::error("manifest-invalid", &ctx.file, message, REBUILD)
}

fn missing(ctx: &Ctx<'_>, key: &str) -> Problem {
    let message = format!("the manifest lacks {key}: iOS says \"Invalid manifest\"");
    Problem::error("manifest-missing-key", &ctx.file, message, REBUILD)
}

/// `bundle-identifier` and `title` are there, and `kind` is `software`.
fn metadata(m: &Manifest<'_>, ctx: &Ctx<'_>) -> Vec<Problem> {
    let mut p: Vec<Problem> = ["bundle-identifier", "title"]
        .into_iter()
        .filter(|key| m.meta(key).is_none())
        .map(|key| missing(ctx, &format!("metadata.{key}")))
        .collect();
    if m.meta("kind") != Some("software") {
        let message = "metadata.kind must be \"software\"";
        p.push(Problem::error("manifest-kind", &ctx.file, message, REBUILD));
    }
    p
}

/// Every asset URL is absolute https, and the images it names in this site are there.
fn asset_urls(m: &Manifest<'_>, ctx: &Ctx<'_>) -> Vec<Problem> {
    let mut p = Vec::new();
    for a in &m.assets {
        let url = a.get("url").and_then(Value::as_string).unwrap_or_default();
        match url::Url::parse(url) {
            Ok(u) if u.scheme() == "https" => {
                if let Some(rel) = site_path(url, ctx.config)
                    && a.get("kind").and_then(Value::as_string) != Some("software-package")
                    && !ctx.out.join(&rel).is_file()
                {
                    let message = format!("the asset {url} is not in the site");
                    p.push(Problem::error("asset-missing", &ctx.file, message, REBUILD));
                }
            }
            _ => p.push(Problem::error(
                "asset-url",
                &ctx.file,
                format!(
                    "the asset URL {url:?} is not an absolute https:// URL: iOS says \"Unable to download app\""
                ),
                "set an https:// base_url and build again",
            )),
        }
    }
    p
}

/// The IPA the manifest names: in the site, matching its sha256, the same bytes as the
/// source IPA, and the bundle id the manifest says.
fn package(m: &Manifest<'_>, ctx: &Ctx<'_>, hashes: &mut Hashes) -> Vec<Problem> {
    let file = &ctx.file;
    let ipa_url = (m.package.get("url").and_then(Value::as_string)).unwrap_or_default();
    if let Some(r) = ctx.external.get(ipa_url) {
        return external_package(m, ctx, r);
    }
    let Some(rel) = site_path(ipa_url, ctx.config) else {
        let message = format!("the IPA {ipa_url} is outside this site and was not checked");
        return vec![Problem::warning(
            "ipa-external",
            file,
            message,
            "check it with --remote",
        )];
    };
    let ipa_path = ctx.out.join(&rel);
    if !ipa_path.is_file() {
        let message = format!(
            "the IPA {rel} it names is not in the site: iOS says \"Unable to download app\""
        );
        return vec![Problem::error("ipa-missing", file, message, REBUILD)];
    }
    let facts = (hashes.entry(rel.clone()))
        .or_insert_with(|| {
            (std::fs::File::open(&ipa_path))
                .and_then(|mut f| hash_file(&mut f))
                .ok()
        })
        .clone();
    let Some((size, sha)) = facts else {
        let message = format!("the IPA {rel} cannot be read");
        return vec![Problem::error("ipa-missing", file, message, REBUILD)];
    };
    let mut p = Vec::new();
    if let Some(expected) = m.package.get("sha256").and_then(Value::as_string)
        && !expected.eq_ignore_ascii_case(&sha)
    {
        let message =
            format!("{rel} does not match the manifest's sha256: iOS rejects the download");
        p.push(Problem::error("ipa-hash-mismatch", file, message, REBUILD));
    }
    p.extend(source_and_bundle(m, ctx, &rel, (size, &sha), &ipa_path));
    p
}

/// An IPA at `ipa_base_url` is not in the output: the manifest's sha256 and bundle id are
/// compared with the source IPA the build read (`check --remote` fetches the IPA itself).
fn external_package(m: &Manifest<'_>, ctx: &Ctx<'_>, r: &Release) -> Vec<Problem> {
    let file = &ctx.file;
    let mut p = Vec::new();
    if let Some(expected) = m.package.get("sha256").and_then(Value::as_string)
        && !expected.eq_ignore_ascii_case(&r.ipa.sha256)
    {
        let message = format!(
            "the manifest's sha256 is not that of {}: iOS rejects the download",
            r.ipa.path.display()
        );
        p.push(Problem::error("ipa-hash-mismatch", file, message, REBUILD));
    }
    if let Some(id) = m.meta("bundle-identifier")
        && id != r.ipa.info.bundle_id
    {
        p.push(bundle_mismatch(file, id, &r.ipa.info.bundle_id));
    }
    p
}

/// The IPA is the source IPA byte for byte (when the build knows it), and its bundle id is
/// the manifest's (else iOS downloads it, then removes it).
fn source_and_bundle(
    m: &Manifest<'_>,
    ctx: &Ctx<'_>,
    rel: &str,
    (size, sha): (u64, &str),
    ipa_path: &Path,
) -> Vec<Problem> {
    let file = &ctx.file;
    let mut p = Vec::new();
    let bundle_id = match ctx.releases.get(rel) {
        Some(r) => {
            if r.ipa.size != size || r.ipa.sha256 != sha {
                let message = format!("{rel} is not the same bytes as {}", r.ipa.path.display());
                p.push(Problem::error(
                    "ipa-differs-from-source",
                    file,
                    message,
                    REBUILD,
                ));
            }
            r.ipa.info.bundle_id.clone()
        }
        None => match read_ipa_with(ipa_path, ReadOptions { hash: false }) {
            Ok(ipa) => ipa.info.bundle_id,
            Err(e) => {
                p.push(Problem::error("ipa-invalid", file, e.to_string(), REBUILD));
                return p;
            }
        },
    };
    if let Some(id) = m.meta("bundle-identifier")
        && id != bundle_id
    {
        p.push(bundle_mismatch(file, id, &bundle_id));
    }
    p
}

fn bundle_mismatch(file: &str, manifest: &str, ipa: &str) -> Problem {
    Problem::error(
        "bundle-id-mismatch",
        file,
        format!(
            "the manifest says {manifest} but the IPA is {ipa}: iOS downloads it, then removes it"
        ),
        "build the site again so the manifest takes the bundle id from the IPA",
    )
}
