//! `otasite check`: every known reason an OTA install fails, found before a tester does.
//!
//! iOS gives no reason when an install fails; each symptom of the troubleshooting table is a
//! check here, on the built output (and with `--remote`, on the deployed copy). Findings have a
//! severity, a stable code, the file, a message and the fix.

pub mod amp;
mod devices;
pub mod html;
mod manifests;
mod pages;
pub mod remote;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::ipa::ProfileKind;
use crate::model::{App, Release};
use crate::render::views::EXPIRY_WARNING_DAYS;
use crate::site::{BuildOptions, load_site, write_site};

pub use devices::{DeviceAnswer, device_answers};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub severity: Severity,
    /// Stable, for scripts: `link-http`, `manifest-missing-key`, `profile-expired`, ...
    pub code: &'static str,
    /// The file (and line) it is about.
    pub file: String,
    pub message: String,
    pub fix: String,
}

impl Problem {
    fn new(
        severity: Severity,
        code: &'static str,
        file: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Problem {
            severity,
            code,
            file: file.into(),
            message: message.into(),
            fix: fix.into(),
        }
    }

    pub fn error(
        code: &'static str,
        file: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Problem::new(Severity::Error, code, file, message, fix)
    }

    pub fn warning(
        code: &'static str,
        file: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Problem::new(Severity::Warning, code, file, message, fix)
    }
}

/// What `check` was asked.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    pub build: BuildOptions,
    pub udids: Vec<String>,
    pub remote: Option<String>,
    /// Extra trusted CA certificates (PEM) for `--remote`, e.g. a company's internal CA.
    pub remote_ca: Option<PathBuf>,
}

/// Everything `check` found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub problems: Vec<Problem>,
    pub devices: Vec<DeviceAnswer>,
    /// Whether `check` built the site first (there was no output).
    #[serde(skip)]
    pub built: bool,
}

impl CheckReport {
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }
}

/// Runs every check.
pub fn check(opts: &CheckOptions) -> Result<CheckReport> {
    let site = load_site(&opts.build)?;
    let built = !site.output_dir.join("releases.json").is_file();
    if built {
        write_site(
            &site,
            &opts.build.site_dir,
            &crate::cache::Caches::default(),
        )?;
    }
    let now = Utc::now();
    let out = &site.output_dir;
    let mut problems = Vec::new();
    let releases: HashMap<String, &Release> = site
        .apps
        .iter()
        .chain(&site.private)
        .flat_map(|a| &a.releases)
        .map(|r| (r.ipa_path(), r))
        .collect();
    problems.extend(pages::check_pages(out, &site.config));
    problems.extend(manifests::check_manifests(out, &site.config, &releases));
    let everything: Vec<App> = site.apps.iter().chain(&site.private).cloned().collect();
    problems.extend(profile_problems(&everything, now));
    problems.extend(host_problems(out, &site.config, &site.apps));
    if let Some(remote) = &opts.remote {
        problems.extend(remote::check_remote(
            remote,
            out,
            &site.apps,
            opts.remote_ca.as_deref(),
        )?);
    }
    problems.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.file.cmp(&b.file))
    });
    Ok(CheckReport {
        problems,
        devices: device_answers(
            &opts.udids,
            &site.apps,
            &crate::urls::SiteUrls::new(site.config.base_url.clone()),
            now,
        ),
        built,
    })
}

/// "App installs but won't open", and the builds that can never install over the air.
fn profile_problems(apps: &[App], now: DateTime<Utc>) -> Vec<Problem> {
    let mut p = Vec::new();
    for r in apps.iter().flat_map(|a| &a.releases) {
        let file = r.ipa.path.display().to_string();
        if !r.ipa.signed {
            p.push(Problem::error("ipa-unsigned", &file, "the app has no code signature (_CodeSignature/CodeResources)", "sign the build: export it from Xcode's Organizer or with xcodebuild -exportArchive"));
        }
        let Some(profile) = &r.ipa.profile else {
            if !r.ipa.has_profile {
                p.push(Problem::error(
                    "profile-missing",
                    &file,
                    "the app has no embedded.mobileprovision; iOS cannot install it over the air",
                    "export with an Ad Hoc, Development or Enterprise provisioning profile",
                ));
            }
            continue;
        };
        let name = profile.name.as_deref().unwrap_or("unnamed");
        if profile.kind == ProfileKind::AppStore {
            p.push(Problem::error("profile-app-store", &file, format!("signed for the App Store (profile \"{name}\"): it can never be installed over the air"), "export an Ad Hoc or Enterprise build, or distribute with TestFlight"));
        }
        if let Some(expires) = profile.expires {
            if expires <= now {
                p.push(Problem::error("profile-expired", &file, format!("the provisioning profile \"{name}\" expired on {}: the app installs but will not open", expires.format("%Y-%m-%d")), "renew the profile in the Apple Developer portal and build again"));
            } else if expires <= now + Duration::days(EXPIRY_WARNING_DAYS) {
                p.push(Problem::warning(
                    "profile-expiring",
                    &file,
                    format!(
                        "the provisioning profile \"{name}\" expires on {}",
                        expires.format("%Y-%m-%d")
                    ),
                    "renew the profile and ship a new build before then",
                ));
            }
        }
        if profile.covers_bundle_id(&r.ipa.info.bundle_id) == Some(false) {
            p.push(Problem::error(
                "profile-app-id",
                &file,
                format!(
                    "the profile's application identifier {} does not cover the bundle id {}",
                    profile
                        .application_identifier
                        .as_deref()
                        .unwrap_or_default(),
                    r.ipa.info.bundle_id
                ),
                "sign with a profile made for this App ID",
            ));
        }
    }
    p
}

/// Host limits, on the files actually in the output.
fn host_problems(out: &Path, config: &Config, apps: &[App]) -> Vec<Problem> {
    let ipas: Vec<(String, u64)> = apps
        .iter()
        .flat_map(|a| &a.releases)
        .map(|r| (out.join(r.ipa_path()).display().to_string(), r.ipa.size))
        .collect();
    let site_bytes = || {
        walkdir::WalkDir::new(out)
            .into_iter()
            .filter_map(Result::ok)
            .filter_map(|e| e.metadata().ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum()
    };
    crate::hosting::host_warnings(&config.hosting, &ipas, site_bytes)
        .into_iter()
        .map(|w| {
            Problem::warning(
                "host-limit",
                w.file,
                w.message,
                "see the message; or change `hosting` in site.yaml",
            )
        })
        .collect()
}
