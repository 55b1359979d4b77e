//! `otasite inspect`: what an `.ipa` or `.mobileprovision` says, for people and for scripts.
//! UDIDs appear only when asked for (`--devices`), and only on stdout.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Result, anyhow, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::ipa::{Ipa, IpaError, Profile, ReadOptions, parse_profile, read_ipa_with};
use crate::limits;
use crate::rules::release::{blocker, release_problems};

/// What one file turned out to be.
pub enum Inspected {
    Ipa(Box<Ipa>),
    Profile(Box<Profile>),
}

/// Reads a file by its extension (`.mobileprovision` / `.provisionprofile`, else an IPA).
/// A file that cannot be inspected gives one sentence that names it and says what to do.
pub fn inspect_file(path: &Path) -> Result<Inspected> {
    let shown = path.display();
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => bail!(
            "{shown}: a folder, not a file; pass the .ipa or .mobileprovision files in it \
             (such as {}/*.ipa)",
            path.display()
        ),
        Ok(meta) if !meta.is_file() => bail!(
            "{shown}: not a regular file (a named pipe, socket or device); inspect reads .ipa \
             and .mobileprovision files"
        ),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if path.symlink_metadata().is_ok() {
                bail!("{shown}: a link to a file that does not exist; pass the file itself");
            }
            bail!(
                "{shown}: no such file; check the path (inspect reads .ipa and .mobileprovision files)"
            );
        }
        Err(e) => bail!("{shown}: cannot be read ({e}); check its permissions"),
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    if matches!(ext.as_deref(), Some("mobileprovision" | "provisionprofile")) {
        let bytes = limits::read_limited(path, limits::MAX_PROFILE_BYTES, "provisioning profile")
            .map_err(|e| match e.source() {
            // "cannot open <file>", and why.
            Some(_) => anyhow!("{shown}: cannot be read ({})", e.root_cause()),
            // Over the limit: the message names the file.
            None => e,
        })?;
        let profile = parse_profile(&bytes).map_err(|e| {
            anyhow!(
                "{shown}: not a provisioning profile that can be read ({e}); download it again \
                 from the Apple Developer portal, or pass the .ipa it came in"
            )
        })?;
        Ok(Inspected::Profile(Box::new(profile)))
    } else {
        let ipa = read_ipa_with(path, ReadOptions { hash: false })
            .map_err(|e| anyhow!(ipa_error(path, &e)))?;
        Ok(Inspected::Ipa(Box::new(ipa)))
    }
}

/// One sentence for an IPA that cannot be read: the error's own (it names the file), told
/// apart where it can be: a file that is no zip at all (`inspect site.yaml`) is not a truncated
/// IPA, and a zip without an app is not an IPA.
fn ipa_error(path: &Path, e: &IpaError) -> String {
    let shown = path.display();
    match e {
        IpaError::Io { source, .. } => format!("{shown}: cannot be read ({source})"),
        IpaError::NotZip { .. } if !starts_like_zip(path) => format!(
            "{shown}: not an IPA (an .ipa is a zip archive holding Payload/<Name>.app/, and \
             this file is no zip); pass an .ipa exported from Xcode, or a .mobileprovision"
        ),
        IpaError::NoMainApp { .. } => format!(
            "{shown}: a zip archive but not an IPA: it has no Payload/<Name>.app/ folder (is \
             it a zipped .xcarchive or folder?); export the build as an .ipa with Xcode's \
             Organizer (Distribute App) or `xcodebuild -exportArchive`"
        ),
        other => other.to_string(),
    }
}

/// Whether the file begins as a zip archive does (a local file header, or the end record of
/// an empty archive): such a file that does not open as one is damaged, not something else.
fn starts_like_zip(path: &Path) -> bool {
    use std::io::Read as _;
    let mut magic = [0u8; 4];
    crate::paths::open_input(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| matches!(&magic, b"PK\x03\x04" | b"PK\x05\x06" | b"PK\x07\x08"))
}

/// A size for people: `42.9 KB (42,894 bytes)`, decimal units as iOS and Finder show them
/// (inspect speaks English; the pages speak the site's language).
fn size_text(bytes: u64) -> String {
    let english = crate::render::locale::Locale::english();
    if bytes < 1000 {
        return english.exact_size(bytes);
    }
    format!("{} ({})", english.size(bytes), english.exact_size(bytes))
}

fn rfc3339(d: Option<DateTime<Utc>>) -> Value {
    d.map_or(Value::Null, |d| {
        json!(d.to_rfc3339_opts(SecondsFormat::Secs, true))
    })
}

/// The JSON object for a profile.
pub(crate) fn profile_json(p: &Profile, now: DateTime<Utc>, devices: bool) -> Value {
    let mut v = json!({
        "kind": p.kind.as_str(),
        "name": p.name,
        "uuid": p.uuid,
        "team_name": p.team_name,
        "team_id": p.team_id,
        "app_id_name": p.app_id_name,
        "application_identifier": p.application_identifier,
        "created": rfc3339(p.created),
        "expires": rfc3339(p.expires),
        "expired": p.is_expired(now),
        "certificates_expire": rfc3339(p.certificates_expire),
        "device_count": p.device_count,
    });
    if devices {
        v["devices"] = json!(p.devices);
    }
    v
}

fn family_names(family: &[u64]) -> Vec<&'static str> {
    family
        .iter()
        .filter_map(|f| match f {
            1 => Some("iphone"),
            2 => Some("ipad"),
            3 => Some("tv"),
            4 => Some("watch"),
            6 => Some("mac"),
            7 => Some("vision"),
            _ => None,
        })
        .collect()
}

/// The JSON object for one inspected file.
pub(crate) fn to_json(file: &Path, item: &Inspected, now: DateTime<Utc>, devices: bool) -> Value {
    match item {
        Inspected::Profile(p) => {
            let mut v = profile_json(p, now, devices);
            v["file"] = json!(file.display().to_string());
            v
        }
        Inspected::Ipa(ipa) => json!({
            "file": file.display().to_string(),
            "bundle_id": ipa.info.bundle_id,
            "name": ipa.info.name,
            "version": ipa.info.version,
            "build": ipa.info.build,
            "min_os": ipa.info.min_os,
            "device_family": family_names(&ipa.info.device_family),
            "size": ipa.size,
            "icon": ipa.icon.as_ref().map(|i| json!({
                "width": i.width, "height": i.height, "crushed": i.crushed, "source": i.source,
            })),
            "profile": ipa.profile.as_ref().map(|p| profile_json(p, now, devices)),
            "notes": ipa.warnings,
            // What the build would warn about, and `check` report, for this IPA.
            "problems": release_problems(ipa, now),
        }),
    }
}

/// A human-readable summary of one inspected file.
pub(crate) fn to_text(file: &Path, item: &Inspected, now: DateTime<Utc>, devices: bool) -> String {
    let mut s = format!("{}\n", file.display());
    let row = |s: &mut String, k: &str, v: &str| {
        let _ = writeln!(s, "  {k:<12}{v}");
    };
    let profile = match item {
        Inspected::Profile(p) => Some(p.as_ref()),
        Inspected::Ipa(ipa) => {
            let i = &ipa.info;
            row(&mut s, "App", &format!("{} ({})", i.name, i.bundle_id));
            row(&mut s, "Version", &format!("{} ({})", i.version, i.build));
            let family = crate::ipa::device_family_names(&i.device_family).join(", ");
            let min = i
                .min_os
                .as_deref()
                .map_or(String::new(), |m| format!("iOS {m}+"));
            row(
                &mut s,
                "Requires",
                [min, family]
                    .iter()
                    .filter(|x| !x.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
                    .as_str(),
            );
            row(&mut s, "Size", &size_text(ipa.size));
            let icon = match &ipa.icon {
                Some(icon) => format!(
                    "{}x{} {}{}",
                    icon.width,
                    icon.height,
                    icon.source.rsplit('/').next().unwrap_or_default(),
                    if icon.crushed {
                        " (CgBI, converted)"
                    } else {
                        ""
                    }
                ),
                None => "none readable (the site shows a placeholder)".into(),
            };
            row(&mut s, "Icon", &icon);
            // The build's rules (signature, profile, expiry, App ID; unreadable parts).
            for p in release_problems(ipa, now) {
                let label = if blocker(std::slice::from_ref(&p)).is_some() {
                    "Blocks"
                } else {
                    "Warning"
                };
                row(&mut s, label, &format!("{}; {}", p.message, p.fix));
            }
            match (&ipa.profile, ipa.has_profile) {
                (None, true) => row(&mut s, "Profile", "unreadable"),
                (None, false) => row(&mut s, "Profile", "none"),
                (Some(_), _) => {}
            }
            ipa.profile.as_ref()
        }
    };
    if let Some(p) = profile {
        row(
            &mut s,
            "Profile",
            &format!(
                "{} \"{}\"",
                p.kind.as_str(),
                p.name.as_deref().unwrap_or("unnamed")
            ),
        );
        if let Some(team) = &p.team_name {
            row(
                &mut s,
                "Team",
                &format!(
                    "{team}{}",
                    p.team_id
                        .as_ref()
                        .map_or(String::new(), |t| format!(" ({t})"))
                ),
            );
        }
        if let Some(e) = p.expires {
            let state = if p.is_expired(now) { " (expired)" } else { "" };
            row(
                &mut s,
                "Expires",
                &format!("{}{state}", e.format("%Y-%m-%d")),
            );
        }
        row(&mut s, "Devices", &p.device_count.to_string());
        if devices {
            for d in &p.devices {
                row(&mut s, "", d);
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_for_people() {
        assert_eq!(size_text(894), "894 bytes");
        assert_eq!(size_text(42_894), "42.9 KB (42,894 bytes)");
        assert_eq!(size_text(48_300_123), "48.3 MB (48,300,123 bytes)");
        assert_eq!(size_text(1_000), "1.0 KB (1,000 bytes)");
    }
}
