//! `check --udid`: can this device install each build, and if not, why. The UDIDs given are
//! echoed back to the person who gave them and are never written to any file.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::ipa::{Ipa, ProfileKind, profile::normalise_udid};
use crate::model::App;
use crate::rules::release::{blocker, release_problems};
use crate::urls::SiteUrls;

/// What a UDID looks like and where a tester finds theirs, for every message about a bad one.
const UDID_HELP: &str = "A UDID is 8 hexadecimal digits, a dash and 16 more (such as \
    00008110-000A1B2C3D4E5F60, on devices since iPhone XS), or 40 hexadecimal digits (older \
    devices). To find a device's UDID on a Mac: connect the device, open it in Finder, and click \
    the line under the device name until the UDID shows (Apple Configurator shows it too)";

/// Checks a UDID given with `--udid` (any case; the dash of the newer form may be left out)
/// and returns it normalised for comparison; the error says what is wrong and what a UDID
/// looks like.
pub(crate) fn parse_udid(input: &str) -> Result<String, String> {
    let udid = input.trim();
    let bad = |why: String| {
        Err(format!(
            "--udid {input:?} is not a device UDID: {why}. {UDID_HELP}"
        ))
    };
    if let Some(c) = udid.chars().find(|c| !c.is_ascii_hexdigit() && *c != '-') {
        return bad(format!("{c:?} is not a hexadecimal digit (0-9, A-F)"));
    }
    let digits = udid.chars().filter(char::is_ascii_hexdigit).count();
    let dashes: Vec<usize> = udid.match_indices('-').map(|(i, _)| i).collect();
    match (digits, dashes.as_slice()) {
        (40, []) | (24, [] | [8]) => Ok(normalise_udid(udid)),
        (24, _) => bad("its dash belongs after the first 8 digits".into()),
        (40, _) => bad("the 40-digit form has no dashes".into()),
        (n, _) => bad(format!("it has {n} hexadecimal digits, not 24 or 40")),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceAnswer {
    pub udid: String,
    pub page_url: String,
    pub can_install: bool,
    pub reason: String,
}

/// One answer per UDID and release.
pub(crate) fn device_answers(
    udids: &[String],
    apps: &[App],
    urls: &SiteUrls,
    now: DateTime<Utc>,
) -> Vec<DeviceAnswer> {
    let mut answers = Vec::new();
    for udid in udids {
        let normal = normalise_udid(udid);
        for r in apps.iter().flat_map(|a| &a.releases) {
            let (can_install, reason) = answer(&r.ipa, &normal, now);
            answers.push(DeviceAnswer {
                udid: udid.clone(),
                page_url: urls.abs(&r.dir),
                can_install,
                reason,
            });
        }
    }
    answers
}

/// Whether the device may install the build of `ipa`, and why: first what stops every device
/// (the same rules as the build's warnings and the pages), then whether the profile lists it.
fn answer(ipa: &Ipa, udid: &str, now: DateTime<Utc>) -> (bool, String) {
    if let Some(b) = blocker(&release_problems(ipa, now)) {
        return (false, b.message.clone());
    }
    let Some(p) = &ipa.profile else {
        // Blocked above when there is none; here it is there but could not be read.
        return (false, "its provisioning profile could not be read".into());
    };
    match p.kind {
        ProfileKind::Enterprise => (true, "enterprise build: any device".into()),
        _ if p.allows_device(udid) => (
            true,
            format!(
                "the device is one of the {} in its {} profile",
                p.device_count,
                p.kind.as_str()
            ),
        ),
        _ => (
            false,
            format!(
                "the device is not among the {} registered in its {} profile; add it in the \
                 Apple Developer portal and rebuild",
                p.device_count,
                p.kind.as_str()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udid_forms() {
        for good in [
            "00008110-000A1B2C3D4E5F60",
            "00008110-000a1b2c3d4e5f60",
            "00008110000A1B2C3D4E5F60",
            " 00008110-000A1B2C3D4E5F60\n",
            "0123456789abcdef0123456789ABCDEF01234567",
        ] {
            let udid = parse_udid(good).unwrap_or_else(|e| panic!("{good:?}: {e}"));
            assert!(
                udid.chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
            );
        }
        for (bad, why) in [
            ("", "0 hexadecimal digits"),
            ("iPhone", "'i' is not a hexadecimal digit"),
            ("00008110-000A1B2C3D4E5F6", "23 hexadecimal digits"),
            ("0000811-0000A1B2C3D4E5F60", "after the first 8 digits"),
            ("00008110-000A1B2C-3D4E5F60", "after the first 8 digits"),
            ("0123456789-abcdef0123456789ABCDEF01234567", "no dashes"),
            ("00008110_000A1B2C3D4E5F60", "'_' is not"),
        ] {
            let e = parse_udid(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
            assert!(e.contains("open it in Finder"), "{e}");
        }
    }
}
