//! Checks on every `manifest.plist` ("invalid manifest", "unable to download app", and the app
//! iOS deletes after download when the bundle id does not match).

use std::collections::HashMap;
use std::path::Path;

use plist::Value;

use super::pages::site_path;
use crate::config::Config;
use crate::ipa::plist_depth::check_plist_shape;
use crate::ipa::{ReadOptions, hash_file, read_ipa_with};
use crate::limits::MAX_MANIFEST_BYTES;
use crate::model::Release;
use crate::problem::Problem;

pub(super) fn check_manifests(
    out: &Path,
    config: &Config,
    releases: &HashMap<String, &Release>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut hashes: HashMap<String, Option<(u64, String)>> = HashMap::new();
    for entry in walkdir::WalkDir::new(out)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
    {
        if entry.file_type().is_file() && entry.file_name() == "manifest.plist" {
            problems.extend(check_one(entry.path(), out, config, releases, &mut hashes));
        }
    }
    problems
}

fn check_one(
    path: &Path,
    out: &Path,
    config: &Config,
    releases: &HashMap<String, &Release>,
    hashes: &mut HashMap<String, Option<(u64, String)>>,
) -> Vec<Problem> {
    let file = path.display().to_string();
    let rebuild = "build the site again with otasite; do not edit manifests by hand";
    let mut p = Vec::new();
    let invalid = |why: String| {
        Problem::error(
            "manifest-invalid",
            &file,
            format!("{why}: iOS says \"Invalid manifest\""),
            rebuild,
        )
    };
    // Bounded, a regular file only (never a FIFO or device planted in the output).
    let bytes = match crate::limits::read_limited(
        path,
        MAX_MANIFEST_BYTES,
        "manifest (limits::MAX_MANIFEST_BYTES)",
    ) {
        Ok(bytes) => bytes,
        Err(e) => {
            p.push(invalid(format!("{e:#}")));
            return p;
        }
    };
    // The plist reader accepts characters that XML 1.0 (and so iOS's parser) refuses.
    if let Some(bad) = String::from_utf8_lossy(&bytes)
        .chars()
        .find(|&c| !crate::text::is_xml_char(c))
    {
        p.push(invalid(format!(
            "the manifest holds the character U+{:04X}, which XML forbids",
            bad as u32
        )));
        return p;
    }
    // The plist crate builds nested values by recursion: a deep one would overflow the stack.
    let parsed = check_plist_shape(&bytes)
        .and_then(|()| Value::from_reader(std::io::Cursor::new(&bytes)).map_err(|e| e.to_string()));
    let value = match parsed {
        Ok(v) => v,
        Err(e) => {
            p.push(invalid(format!("the manifest does not parse ({e})")));
            return p;
        }
    };
    let missing = |key: &str| {
        Problem::error(
            "manifest-missing-key",
            &file,
            format!("the manifest lacks {key}: iOS says \"Invalid manifest\""),
            rebuild,
        )
    };
    let Some(item) = value
        .as_dictionary()
        .and_then(|d| d.get("items"))
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_dictionary)
    else {
        p.push(missing("items[0]"));
        return p;
    };
    let assets = item
        .get("assets")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let asset = |kind: &str| {
        assets
            .iter()
            .filter_map(Value::as_dictionary)
            .find(|a| a.get("kind").and_then(Value::as_string) == Some(kind))
    };
    let Some(package) = asset("software-package") else {
        p.push(missing("an asset of kind software-package"));
        return p;
    };
    let metadata = item.get("metadata").and_then(Value::as_dictionary);
    let meta = |key: &str| metadata.and_then(|m| m.get(key)).and_then(Value::as_string);
    for key in ["bundle-identifier", "title"] {
        if meta(key).is_none() {
            p.push(missing(&format!("metadata.{key}")));
        }
    }
    if meta("kind") != Some("software") {
        p.push(Problem::error(
            "manifest-kind",
            &file,
            "metadata.kind must be \"software\"",
            rebuild,
        ));
    }
    for a in assets.iter().filter_map(Value::as_dictionary) {
        let url = a.get("url").and_then(Value::as_string).unwrap_or_default();
        match url::Url::parse(url) {
            Ok(u) if u.scheme() == "https" => {
                if let Some(rel) = site_path(url, config)
                    && a.get("kind").and_then(Value::as_string) != Some("software-package")
                    && !out.join(&rel).is_file()
                {
                    p.push(Problem::error("asset-missing", &file, format!("the asset {url} is not in the site"), rebuild));
                }
            }
            _ => p.push(Problem::error("asset-url", &file, format!("the asset URL {url:?} is not an absolute https:// URL: iOS says \"Unable to download app\""), "set an https:// base_url and build again")),
        }
    }

    let ipa_url = package
        .get("url")
        .and_then(Value::as_string)
        .unwrap_or_default();
    let Some(rel) = site_path(ipa_url, config) else {
        p.push(Problem::warning(
            "ipa-external",
            &file,
            format!("the IPA {ipa_url} is outside this site and was not checked"),
            "check it with --remote",
        ));
        return p;
    };
    let ipa_path = out.join(&rel);
    if !ipa_path.is_file() {
        p.push(Problem::error(
            "ipa-missing",
            &file,
            format!(
                "the IPA {rel} it names is not in the site: iOS says \"Unable to download app\""
            ),
            rebuild,
        ));
        return p;
    }
    let facts = hashes
        .entry(rel.clone())
        .or_insert_with(|| {
            std::fs::File::open(&ipa_path)
                .and_then(|mut f| hash_file(&mut f))
                .ok()
        })
        .clone();
    let Some((size, sha)) = facts else {
        p.push(Problem::error(
            "ipa-missing",
            &file,
            format!("the IPA {rel} cannot be read"),
            rebuild,
        ));
        return p;
    };
    if let Some(expected) = package.get("sha256").and_then(Value::as_string)
        && !expected.eq_ignore_ascii_case(&sha)
    {
        p.push(Problem::error(
            "ipa-hash-mismatch",
            &file,
            format!("{rel} does not match the manifest's sha256: iOS rejects the download"),
            rebuild,
        ));
    }
    match releases.get(&rel) {
        Some(r) => {
            if r.ipa.size != size || r.ipa.sha256 != sha {
                p.push(Problem::error(
                    "ipa-differs-from-source",
                    &file,
                    format!("{rel} is not the same bytes as {}", r.ipa.path.display()),
                    rebuild,
                ));
            }
            if meta("bundle-identifier").is_some_and(|id| id != r.ipa.info.bundle_id) {
                p.push(bundle_mismatch(
                    &file,
                    meta("bundle-identifier").unwrap_or_default(),
                    &r.ipa.info.bundle_id,
                ));
            }
        }
        None => match read_ipa_with(&ipa_path, ReadOptions { hash: false }) {
            Ok(ipa) => {
                if meta("bundle-identifier").is_some_and(|id| id != ipa.info.bundle_id) {
                    p.push(bundle_mismatch(
                        &file,
                        meta("bundle-identifier").unwrap_or_default(),
                        &ipa.info.bundle_id,
                    ));
                }
            }
            Err(e) => p.push(Problem::error("ipa-invalid", &file, e.to_string(), rebuild)),
        },
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
