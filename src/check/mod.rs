//! `otasite check`: every known reason an OTA install fails, found before a tester does.
//!
//! iOS gives no reason when an install fails; each symptom of the troubleshooting table is a
//! check here, on the built output (and with `--remote`, on the deployed copy). Findings have a
//! severity, a stable code, the file, a message and the fix.

mod devices;
mod manifests;
mod pages;
pub(crate) mod remote;
mod remote_ipa;
mod udid;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono::Utc;
use serde::Serialize;

use crate::config::Config;
use crate::model::{App, Release};
pub(crate) use crate::problem::{Problem, Severity};
use crate::rules::release::apps_problems;
use crate::site::{BuildOptions, load_site, write_site};

pub(crate) use devices::{DeviceAnswer, device_answers, parse_udid};

/// What `check` was asked.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    pub build: BuildOptions,
    pub udids: Vec<String>,
    pub remote: Option<String>,
    /// With `remote`: download each IPA whole (streaming) and compare its SHA-256.
    pub deep: bool,
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
    for udid in &opts.udids {
        parse_udid(udid).map_err(anyhow::Error::msg)?;
    }
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
    // What the build warns about on loading (IPAs outside the releases folder, notes that go
    // with no IPA) is worth the same warning here.
    let mut problems = site.warnings.clone();
    let releases: HashMap<String, &Release> = site
        .apps
        .iter()
        .chain(&site.private)
        .flat_map(|a| &a.releases)
        .map(|r| (r.ipa_path(), r))
        .collect();
    // IPAs kept at `ipa_base_url`, by their URL: manifests name them so.
    let urls = crate::urls::SiteUrls::of(&site.config);
    let external: HashMap<String, &Release> = if urls.ipas_in_site() {
        HashMap::new()
    } else {
        releases
            .values()
            .map(|r| (urls.ipa(&r.ipa_path(), &r.source_segments), *r))
            .collect()
    };
    problems.extend(pages::check_pages(out, &site.config));
    problems.extend(manifests::check_manifests(
        out,
        &site.config,
        (&releases, &external),
    ));
    problems.extend(apps_problems(site.apps.iter().chain(&site.private), now));
    let all: Vec<&App> = site.apps.iter().chain(&site.private).collect();
    problems.extend(host_problems(out, &site.config, &all));
    problems.extend(crate::rules::hosts::udid_host_problems(&site.config));
    problems.extend(udid::check_udid(out, &site.server_config_dir, &site.config));
    if let Some(remote) = &opts.remote {
        problems.extend(remote::check_remote(
            remote,
            (out, &site.config),
            &site.apps,
            opts.remote_ca.as_deref(),
            opts.deep,
        )?);
    }
    problems.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.file.cmp(&b.file))
            .then_with(|| a.line.cmp(&b.line))
    });
    Ok(CheckReport {
        problems,
        devices: device_answers(
            &opts.udids,
            &site.apps,
            &crate::urls::SiteUrls::of(&site.config),
            now,
        ),
        built,
    })
}

/// Host limits, as the build reports them (each IPA by its source path, private ones too), on
/// the whole output as it is.
fn host_problems(out: &Path, config: &Config, apps: &[&App]) -> Vec<Problem> {
    let ipas: Vec<(String, u64)> = (apps.iter())
        .flat_map(|a| &a.releases)
        .filter(|_| config.ipa_base_url.is_none())
        .map(|r| (r.ipa.path.display().to_string(), r.ipa.size))
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
    crate::rules::hosts::host_problems(config.named_hosts(), &ipas, site_bytes)
}
