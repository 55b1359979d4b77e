//! `check --udid`: can this device install each build, and if not, why. The UDIDs given are
//! echoed back to the person who gave them and are never written to any file.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::ipa::{Ipa, ProfileKind, profile::normalise_udid};
use crate::model::App;
use crate::rules::release::{blocker, release_problems};
use crate::urls::SiteUrls;

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
