//! `otasite inspect`: what an `.ipa` or `.mobileprovision` says, for people and for scripts.
//! UDIDs appear only when asked for (`--devices`), and only on stdout.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::ipa::{Ipa, Profile, ReadOptions, parse_profile, read_ipa_with};
use crate::limits;

/// What one file turned out to be.
pub enum Inspected {
    Ipa(Box<Ipa>),
    Profile(Box<Profile>),
}

/// Reads a file by its extension (`.mobileprovision` / `.provisionprofile`, else an IPA).
pub fn inspect_file(path: &Path) -> Result<Inspected> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    if matches!(ext.as_deref(), Some("mobileprovision" | "provisionprofile")) {
        let bytes = limits::read_limited(path, limits::MAX_PROFILE_BYTES, "provisioning profile")?;
        let profile =
            parse_profile(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(Inspected::Profile(Box::new(profile)))
    } else {
        let ipa = read_ipa_with(path, ReadOptions { hash: false })
            .with_context(|| format!("cannot inspect {}", path.display()))?;
        Ok(Inspected::Ipa(Box::new(ipa)))
    }
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
            row(&mut s, "Size", &format!("{} bytes", ipa.size));
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
            for n in &ipa.warnings {
                row(&mut s, "Note", n);
            }
            if ipa.profile.is_none() {
                row(&mut s, "Profile", "none");
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
