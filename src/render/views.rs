//! What templates and `releases.json` see: borrowed, flat views of the model with every URL
//! already built. Templates never compute paths or encodings themselves.

use serde::Serialize;

use chrono::{DateTime, Utc};

use super::locale::Locale;
use crate::config::Config;
use crate::icon::{ICON_FILE_NAMES, IconSet};
use crate::ipa::{Profile, ProfileKind, device_family_names};
use crate::model::ROOT_MARK;
use crate::model::{App, Release};
use crate::problem::Problem;
use crate::rules::release::{blocker, release_problems, tester_text};
use crate::urls::{SiteUrls, install_link, root_prefix};

/// What every view is made with: the site's addresses, the moment of the build, and how
/// the site's language writes numbers and dates.
pub(crate) struct Ambient<'a> {
    pub(crate) urls: &'a SiteUrls,
    pub(crate) now: DateTime<Utc>,
    pub(crate) locale: &'a Locale,
}

/// Every feed's file name: the site's at the root, each app's in its folder.
pub(crate) const FEED_FILE: &str = "feed.xml";

#[derive(Debug, Serialize)]
pub(crate) struct SiteView<'a> {
    pub title: &'a str,
    pub description: Option<&'a str>,
    pub base_url: &'a str,
    pub noindex: bool,
    /// Valid AMP pages (the default), or plain HTML5 (`amp: false`).
    pub amp: bool,
    pub generator: String,
    pub language: &'a str,
    /// The site's Atom feed.
    pub feed_url: String,
    /// Device registration, when site.yaml turns it on.
    pub udid: Option<UdidView>,
}

/// Where the registration page, its profile and the team's contact are.
#[derive(Debug, Serialize)]
pub(crate) struct UdidView {
    pub page_path: &'static str,
    pub page_url: String,
    pub profile_path: &'static str,
    /// `mailto:` or `https://`; the result page adds the UDID.
    pub contact: String,
    /// The profile is signed (iOS shows it as verified).
    pub signed: bool,
}

impl<'a> SiteView<'a> {
    pub(crate) fn new(config: &'a Config, urls: &'a SiteUrls) -> Self {
        SiteView {
            title: &config.title,
            description: config.description.as_deref(),
            base_url: urls.base(),
            noindex: config.noindex,
            amp: config.amp,
            generator: format!("otasite {}", env!("CARGO_PKG_VERSION")),
            language: &config.language,
            feed_url: urls.abs(FEED_FILE),
            udid: config.udid.as_ref().map(|u| UdidView {
                page_path: crate::udid::PAGE_DIR,
                page_url: urls.abs(crate::udid::PAGE_DIR),
                profile_path: crate::udid::PROFILE_FILE,
                contact: u.contact.to_string(),
                signed: u.signing.is_some(),
            }),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ReleaseView<'a> {
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
    /// For a page in the release's own folder; `PageRenderer` redoes it for other folders.
    pub notes_html: String,
    /// With the site root marked (see `model::ROOT_MARK`).
    #[serde(skip)]
    pub notes_html_marked: &'a str,
    /// With absolute image URLs, for feeds and `releases.json`.
    #[serde(skip)]
    pub notes_html_absolute: String,
    pub min_os: Option<&'a str>,
    pub devices: Vec<&'static str>,
    pub size: u64,
    /// `42.9 KB`, in the site's language.
    pub size_human: String,
    /// `42,894 bytes`, in the site's language.
    pub size_exact: String,
    pub sha256: &'a str,
    /// Site-relative folder of the release page, e.g. `apps/x/1.0-1/`.
    pub path: &'a str,
    /// Site-relative; the IPA is there only when `ipa_in_site`.
    pub ipa_path: String,
    pub ipa_file: &'a str,
    /// False when the IPAs are served from `ipa_base_url`: pages then link to `ipa_url`.
    pub ipa_in_site: bool,
    pub page_url: String,
    pub manifest_url: String,
    pub ipa_url: String,
    /// The `itms-services://` link (not HTML-escaped: templates escape it).
    pub install_url: String,
    /// False when a rule finds that iOS will not install the build (see `rules::release`).
    pub installable: bool,
    /// The key of the string (`t`) that says why it cannot be installed.
    pub blocked: Option<&'static str>,
    /// Listed nowhere; its page links to no other page.
    pub private: bool,
    pub icon: IconView,
    pub profile: Option<ProfileView<'a>>,
}

/// The release's icon files (site-relative) and where the image came from.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct IconView {
    pub path: String,
    pub display_image_path: String,
    pub full_size_image_path: String,
    pub url: String,
    pub display_image_url: String,
    pub full_size_image_url: String,
    pub width: u32,
    pub height: u32,
    /// The original was an Apple CgBI PNG, converted for browsers.
    pub crushed: bool,
    /// No usable icon in the IPA: a generated one.
    pub placeholder: bool,
}

impl IconView {
    /// Where the release's icon files go (site-relative).
    pub(crate) fn paths(&self) -> IconSet<String> {
        IconSet {
            original: self.path.clone(),
            display: self.display_image_path.clone(),
            full_size: self.full_size_image_path.clone(),
        }
    }

    pub(crate) fn new(r: &Release, urls: &SiteUrls) -> Self {
        let IconSet {
            original: path,
            display: small,
            full_size: large,
        } = ICON_FILE_NAMES.map(|name| format!("{}{name}", r.dir));
        let (width, height, crushed) = match &r.ipa.icon {
            Some(i) => (i.width, i.height, i.crushed),
            None => (
                crate::icon::placeholder::SIZE,
                crate::icon::placeholder::SIZE,
                false,
            ),
        };
        IconView {
            url: urls.abs(&path),
            display_image_url: urls.abs(&small),
            full_size_image_url: urls.abs(&large),
            path,
            display_image_path: small,
            full_size_image_path: large,
            width,
            height,
            crushed,
            placeholder: r.ipa.icon.is_none(),
        }
    }
}

/// Profile facts for pages and `releases.json`; never device UDIDs.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ProfileView<'a> {
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub name: Option<&'a str>,
    pub team_name: Option<&'a str>,
    pub team_id: Option<&'a str>,
    /// `YYYY-MM-DD`.
    pub expires: Option<String>,
    /// In words, in the site's language: `9 May 2022`.
    pub expires_display: Option<String>,
    pub expires_iso: Option<String>,
    pub expired: bool,
    /// Expires within `rules::release::EXPIRY_WARNING_DAYS`.
    pub expires_soon: bool,
    pub device_count: usize,
}

impl<'a> ProfileView<'a> {
    /// `problems`: what the rules found about the release (its expiry is theirs to judge).
    pub(crate) fn new(p: &'a Profile, problems: &[Problem], locale: &Locale) -> Self {
        let found = |code: &str| problems.iter().any(|f| f.code == code);
        ProfileView {
            kind: p.kind.as_str(),
            kind_label: match p.kind {
                ProfileKind::Development => "Development",
                ProfileKind::AdHoc => "Ad hoc",
                ProfileKind::Enterprise => "Enterprise",
                ProfileKind::AppStore => "App Store",
            },
            name: p.name.as_deref(),
            team_name: p.team_name.as_deref(),
            team_id: p.team_id.as_deref(),
            expires: p.expires.map(|d| d.format("%Y-%m-%d").to_string()),
            expires_display: p.expires.map(|d| locale.date(d)),
            expires_iso: p
                .expires
                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            expired: found("profile-expired"),
            expires_soon: found("profile-expiring"),
            device_count: p.device_count,
        }
    }
}

impl<'a> ReleaseView<'a> {
    pub(crate) fn new(r: &'a Release, ambient: &Ambient<'_>) -> Self {
        let Ambient { urls, now, locale } = *ambient;
        let manifest_url = urls.abs(&r.manifest_path());
        let problems = release_problems(&r.ipa, now);
        let blocked = blocker(&problems).and_then(tester_text);
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
            notes_html: r.notes_html.replace(ROOT_MARK, &root_prefix(&r.dir)),
            notes_html_marked: &r.notes_html,
            notes_html_absolute: r.notes_html.replace(ROOT_MARK, urls.base()),
            min_os: r.ipa.info.min_os.as_deref(),
            devices: device_family_names(&r.ipa.info.device_family),
            size: r.ipa.size,
            size_human: locale.size(r.ipa.size),
            size_exact: locale.exact_size(r.ipa.size),
            sha256: &r.ipa.sha256,
            path: &r.dir,
            ipa_path: r.ipa_path(),
            ipa_file: &r.ipa_file,
            page_url: urls.abs(&r.dir),
            ipa_in_site: urls.ipas_in_site(),
            ipa_url: urls.ipa(&r.ipa_path(), &r.source_segments),
            install_url: install_link(&manifest_url),
            manifest_url,
            installable: blocked.is_none(),
            blocked,
            private: r.private,
            icon: IconView::new(r, urls),
            profile: (r.ipa.profile.as_ref()).map(|p| ProfileView::new(p, &problems, locale)),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct AppView<'a> {
    pub name: &'a str,
    pub bundle_id: &'a str,
    pub path: &'a str,
    pub url: String,
    pub latest_url: String,
    /// The app's Atom feed: site-relative, and absolute.
    pub feed_path: String,
    pub feed_url: String,
    pub release_count: usize,
    pub latest: ReleaseView<'a>,
    pub releases: Vec<ReleaseView<'a>>,
    /// The newest release of each channel, `stable` first.
    pub channels: Vec<ChannelView<'a>>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ChannelView<'a> {
    pub name: &'a str,
    /// `apps/<app>/<channel>/latest/`.
    pub path: String,
    pub url: String,
    /// Index of its newest release in `AppView::releases`.
    #[serde(skip)]
    pub index: usize,
    pub latest: ReleaseView<'a>,
}

impl<'a> AppView<'a> {
    pub(crate) fn new(app: &'a App, ambient: &Ambient<'_>) -> Self {
        let urls = ambient.urls;
        AppView {
            name: &app.name,
            bundle_id: &app.bundle_id,
            path: &app.dir,
            url: urls.abs(&app.dir),
            latest_url: urls.abs(&app.latest_dir()),
            feed_path: format!("{}{FEED_FILE}", app.dir),
            feed_url: urls.abs(&format!("{}{FEED_FILE}", app.dir)),
            release_count: app.releases.len(),
            latest: ReleaseView::new(app.latest(), ambient),
            releases: app
                .releases
                .iter()
                .map(|r| ReleaseView::new(r, ambient))
                .collect(),
            channels: app
                .channels()
                .into_iter()
                .map(|(name, index)| {
                    let path = app.channel_latest_dir(name);
                    ChannelView {
                        name,
                        url: urls.abs(&path),
                        path,
                        index,
                        latest: ReleaseView::new(&app.releases[index], ambient),
                    }
                })
                .collect(),
        }
    }
}
