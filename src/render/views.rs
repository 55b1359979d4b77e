//! What templates and `releases.json` see: borrowed, flat views of the model with every URL
//! already built. Templates never compute paths or encodings themselves.

use serde::Serialize;

use crate::config::Config;
use crate::ipa::device_family_names;
use crate::model::{App, Release};
use crate::urls::{SiteUrls, install_link};

#[derive(Debug, Serialize)]
pub struct SiteView<'a> {
    pub title: &'a str,
    pub description: Option<&'a str>,
    pub base_url: &'a str,
    pub noindex: bool,
    pub generator: String,
    pub language: &'static str,
}

impl<'a> SiteView<'a> {
    pub fn new(config: &'a Config, urls: &'a SiteUrls) -> Self {
        SiteView {
            title: &config.title,
            description: config.description.as_deref(),
            base_url: urls.base(),
            noindex: config.noindex,
            generator: format!("otasite {}", env!("CARGO_PKG_VERSION")),
            language: "en",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ReleaseView<'a> {
    pub name: &'a str,
    pub bundle_id: &'a str,
    pub version: &'a str,
    pub build: &'a str,
    pub channel: &'a str,
    pub title: Option<&'a str>,
    pub summary: Option<&'a str>,
    /// `YYYY-MM-DD` for people.
    pub date: Option<String>,
    /// RFC 3339 for machines.
    pub date_iso: Option<String>,
    pub notes_html: &'a str,
    pub min_os: Option<&'a str>,
    pub devices: Vec<&'static str>,
    pub size: u64,
    pub size_human: String,
    pub sha256: &'a str,
    /// Site-relative folder of the release page, e.g. `apps/x/1.0-1/`.
    pub path: &'a str,
    pub ipa_path: String,
    pub ipa_file: &'a str,
    pub page_url: String,
    pub manifest_url: String,
    pub ipa_url: String,
    /// The `itms-services://` link (not HTML-escaped: templates escape it).
    pub install_url: String,
}

impl<'a> ReleaseView<'a> {
    pub fn new(r: &'a Release, urls: &SiteUrls) -> Self {
        let manifest_url = urls.abs(&r.manifest_path());
        ReleaseView {
            name: r.name(),
            bundle_id: &r.ipa.info.bundle_id,
            version: r.version(),
            build: r.build(),
            channel: &r.notes.channel,
            title: r.notes.title.as_deref(),
            summary: r.notes.summary.as_deref(),
            date: r.date.map(|d| d.format("%Y-%m-%d").to_string()),
            date_iso: r
                .date
                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            notes_html: &r.notes.html,
            min_os: r.ipa.info.min_os.as_deref(),
            devices: device_family_names(&r.ipa.info.device_family),
            size: r.ipa.size,
            size_human: human_size(r.ipa.size),
            sha256: &r.ipa.sha256,
            path: &r.dir,
            ipa_path: r.ipa_path(),
            ipa_file: &r.ipa_file,
            page_url: urls.abs(&r.dir),
            ipa_url: urls.abs(&r.ipa_path()),
            install_url: install_link(&manifest_url),
            manifest_url,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct AppView<'a> {
    pub name: &'a str,
    pub bundle_id: &'a str,
    pub path: &'a str,
    pub url: String,
    pub latest_url: String,
    pub release_count: usize,
    pub latest: ReleaseView<'a>,
    pub releases: Vec<ReleaseView<'a>>,
}

impl<'a> AppView<'a> {
    pub fn new(app: &'a App, urls: &SiteUrls) -> Self {
        AppView {
            name: &app.name,
            bundle_id: &app.bundle_id,
            path: &app.dir,
            url: urls.abs(&app.dir),
            latest_url: urls.abs(&app.latest_dir()),
            release_count: app.releases.len(),
            latest: ReleaseView::new(app.latest(), urls),
            releases: app
                .releases
                .iter()
                .map(|r| ReleaseView::new(r, urls))
                .collect(),
        }
    }
}

/// Sizes as iOS shows them: decimal units, one decimal place.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(human_size(999), "999 bytes");
        assert_eq!(human_size(1_500), "1.5 KB");
        assert_eq!(human_size(48_300_000), "48.3 MB");
        assert_eq!(human_size(2_000_000_000), "2.0 GB");
    }
}
