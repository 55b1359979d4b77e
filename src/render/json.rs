//! `releases.json`: every app and release with absolute URLs, for scripts and other tools.
//!
//! A contract: fields are added, never renamed or removed.

use serde::Serialize;

use super::views::{AppView, ReleaseView, SiteView};

#[derive(Serialize)]
struct Document<'a> {
    site: JsonSite<'a>,
    apps: Vec<JsonApp<'a>>,
}

#[derive(Serialize)]
struct JsonSite<'a> {
    title: &'a str,
    base_url: &'a str,
    generator: &'a str,
}

#[derive(Serialize)]
struct JsonApp<'a> {
    bundle_id: &'a str,
    name: &'a str,
    url: &'a str,
    latest_url: &'a str,
    releases: Vec<JsonRelease<'a>>,
}

#[derive(Serialize)]
struct JsonRelease<'a> {
    version: &'a str,
    build: &'a str,
    channel: &'a str,
    date: Option<&'a str>,
    title: Option<&'a str>,
    summary: Option<&'a str>,
    notes_html: &'a str,
    page_url: &'a str,
    manifest_url: &'a str,
    ipa_url: &'a str,
    install_url: &'a str,
    ipa_size: u64,
    ipa_sha256: &'a str,
    min_os: Option<&'a str>,
    devices: &'a [&'static str],
    installable: bool,
    icon: JsonIcon<'a>,
    profile: Option<JsonProfile<'a>>,
}

#[derive(Serialize)]
struct JsonIcon<'a> {
    url: &'a str,
    display_image_url: &'a str,
    full_size_image_url: &'a str,
    width: u32,
    height: u32,
    crushed: bool,
    placeholder: bool,
}

#[derive(Serialize)]
struct JsonProfile<'a> {
    kind: &'a str,
    name: Option<&'a str>,
    team_name: Option<&'a str>,
    team_id: Option<&'a str>,
    expires: Option<&'a str>,
    expired: bool,
    device_count: usize,
}

fn release<'a>(r: &'a ReleaseView<'a>) -> JsonRelease<'a> {
    JsonRelease {
        version: r.version,
        build: r.build,
        channel: r.channel,
        date: r.date_iso.as_deref(),
        title: r.title,
        summary: r.summary,
        notes_html: &r.notes_html_absolute,
        page_url: &r.page_url,
        manifest_url: &r.manifest_url,
        ipa_url: &r.ipa_url,
        install_url: &r.install_url,
        ipa_size: r.size,
        ipa_sha256: r.sha256,
        min_os: r.min_os,
        devices: &r.devices,
        installable: r.installable,
        icon: JsonIcon {
            url: &r.icon.url,
            display_image_url: &r.icon.display_image_url,
            full_size_image_url: &r.icon.full_size_image_url,
            width: r.icon.width,
            height: r.icon.height,
            crushed: r.icon.crushed,
            placeholder: r.icon.placeholder,
        },
        profile: r.profile.as_ref().map(|p| JsonProfile {
            kind: p.kind,
            name: p.name,
            team_name: p.team_name,
            team_id: p.team_id,
            expires: p.expires_iso.as_deref(),
            expired: p.expired,
            device_count: p.device_count,
        }),
    }
}

/// Serialises the site as pretty JSON with a trailing newline.
pub(crate) fn releases_json(site: &SiteView<'_>, apps: &[AppView<'_>]) -> Vec<u8> {
    let doc = Document {
        site: JsonSite {
            title: site.title,
            base_url: site.base_url,
            generator: &site.generator,
        },
        apps: apps
            .iter()
            .map(|a| JsonApp {
                bundle_id: a.bundle_id,
                name: a.name,
                url: &a.url,
                latest_url: &a.latest_url,
                releases: a.releases.iter().map(release).collect(),
            })
            .collect(),
    };
    let mut out = serde_json::to_vec_pretty(&doc).expect("serialising plain structs cannot fail");
    out.push(b'\n');
    out
}
