//! `check --udid`: can this device install each build, and if not, why. The UDIDs given are
//! echoed back to the person who gave them and are never written to any file.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::ipa::{ProfileKind, profile::normalise_udid};
use crate::model::App;
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
            let (can_install, reason) = match &r.ipa.profile {
                None => (false, "the build has no provisioning profile".to_string()),
                Some(p) if p.is_expired(now) => (
                    false,
                    format!(
                        "its profile expired on {}",
                        p.expires
                            .map(|e| e.format("%Y-%m-%d").to_string())
                            .unwrap_or_default()
                    ),
                ),
                Some(p) => match p.kind {
                    ProfileKind::AppStore => (false, "it is signed for the App Store".into()),
                    ProfileKind::Enterprise => (true, "enterprise build: any device".into()),
                    _ if p.allows_device(&normal) => (
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
                            "the device is not among the {} registered in its {} profile; add it in the Apple Developer portal and rebuild",
                            p.device_count,
                            p.kind.as_str()
                        ),
                    ),
                },
            };
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
