//! From the model to the list of files the site consists of. Pure: nothing here writes.

mod feed;
pub(crate) mod i18n;
mod icons;
mod json;
pub(crate) mod locale;
pub(crate) mod memo;
mod pages;
pub(crate) mod qr;
pub(crate) mod theme;
pub(crate) mod views;

use std::sync::Arc;

use anyhow::Result;
use chrono::{DateTime, Utc};
use rayon::prelude::*;

use crate::config::Config;
use crate::files::{OutFile, Sink};
use crate::manifest::{ManifestInput, manifest_xml};
use crate::model::App;
use crate::timing::timed;
use crate::urls::SiteUrls;
pub(crate) use json::releases_json;
use memo::Memo;
pub(crate) use pages::PageRenderer;
pub(crate) use theme::Theme;
pub(crate) use views::{Ambient, AppView, FEED_FILE, ReleaseView, SiteView};

/// Renders every file of the site into `sink`.
#[allow(clippy::too_many_arguments)] // each is a distinct input of the render
pub(crate) fn render_site(
    config: &Config,
    urls: &SiteUrls,
    theme: &Theme,
    (apps, private): (&[App], &[App]),
    strings: &i18n::Strings,
    now: DateTime<Utc>,
    caches: &dyn Memo,
    sink: &Sink<'_>,
) -> Result<()> {
    let site = SiteView::new(config, urls);
    let locale = locale::Locale::new(strings);
    let ambient = Ambient {
        urls,
        now,
        locale: &locale,
    };
    let views: Vec<AppView<'_>> = timed("render: views", || {
        apps.par_iter().map(|a| AppView::new(a, &ambient)).collect()
    });
    let pages = PageRenderer::new(theme, &site, strings, caches);

    caches.begin_render();
    let shared = std::sync::OnceLock::new();
    // The site-wide files (which list every release) and the apps' files, side by side.
    let (site_wide, per_app) = rayon::join(
        || {
            timed("render: index, feed, releases.json", || {
                sink(site_files(config, &site, &views, &pages)?)
            })
        },
        || {
            timed("render: apps", || {
                apps.par_iter()
                    .zip(views.par_iter())
                    .try_for_each(|(app, view)| {
                        let key = || {
                            let shared =
                                shared.get_or_init(|| shared_inputs(&site, strings, theme));
                            inputs_digest(shared.as_deref(), view)
                        };
                        let files =
                            caches.app_files(&key, &|| app_files(app, view, &pages, caches))?;
                        // Moved out when this render is its only holder, copied when remembered.
                        sink(Arc::try_unwrap(files).unwrap_or_else(|shared| (*shared).clone()))
                    })
            })
        },
    );
    site_wide?;
    per_app?;
    // Private releases: their own folder only; no app page, latest, channel, feed or listing.
    for app in private {
        let view = AppView::new(app, &ambient);
        let value = pages.app_value(&view);
        let mut files = Vec::new();
        for (i, (release, rv)) in app.releases.iter().zip(&view.releases).enumerate() {
            files.extend(release_files(release, rv, caches)?);
            files.push(OutFile::bytes(
                format!("{}index.html", release.dir),
                pages.release((&view, &value), i, &release.dir, &rv.page_url)?,
            ));
            files.push(OutFile::bytes(release.manifest_path(), manifest_for(rv)));
        }
        sink(files)?;
    }
    Ok(())
}

/// The site-wide files: index, 404, releases.json, robots.txt, the site's feed.
fn site_files(
    config: &Config,
    site: &SiteView<'_>,
    views: &[AppView<'_>],
    pages: &PageRenderer<'_>,
) -> Result<Vec<OutFile>> {
    let mut files = vec![
        OutFile::bytes(
            "index.html",
            timed("render: index page", || pages.index(views))?,
        ),
        OutFile::bytes("404.html", pages.not_found()?),
        OutFile::bytes(
            "releases.json",
            timed("render: releases.json", || releases_json(site, views)),
        ),
        OutFile::bytes("robots.txt", robots_txt(config.noindex)),
    ];
    for (dir, page) in pages.udid_pages()? {
        files.push(OutFile::bytes(format!("{dir}index.html"), page));
    }
    let all: Vec<&ReleaseView<'_>> = views.iter().flat_map(|a| &a.releases).collect();
    files.push(OutFile::bytes(
        FEED_FILE,
        feed::atom(
            site,
            &feed::FeedMeta {
                title: site.title,
                subtitle: site.description,
                self_url: &site.feed_url,
                page_url: site.base_url,
            },
            &all,
        ),
    ));
    Ok(files)
}

/// What every page depends on besides its app: the site, the strings and the theme.
fn shared_inputs(site: &SiteView<'_>, strings: &i18n::Strings, theme: &Theme) -> Option<String> {
    let site = serde_json::to_string(site).ok()?;
    Some(format!("{site}\0{strings:?}\0{}", theme.digest))
}

/// A digest of everything an app's files are made from (`None`: not known, do not reuse).
fn inputs_digest(shared: Option<&str>, view: &AppView<'_>) -> Option<String> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(shared?.as_bytes());
    h.update(serde_json::to_vec(view).ok()?);
    Some(crate::ipa::to_hex(&h.finalize()))
}

fn app_files(
    app: &App,
    view: &AppView<'_>,
    pages: &PageRenderer<'_>,
    caches: &dyn Memo,
) -> Result<Vec<OutFile>> {
    let value = pages.app_value(view);
    let mut files = vec![OutFile::bytes(
        format!("{}index.html", app.dir),
        pages.app((view, &value))?,
    )];
    files.push(OutFile::bytes(
        &view.feed_path,
        feed::atom(
            pages.site(),
            &feed::FeedMeta {
                title: view.name,
                subtitle: Some(view.bundle_id),
                self_url: &view.feed_url,
                page_url: &view.url,
            },
            &view.releases.iter().collect::<Vec<_>>(),
        ),
    ));
    for channel in &view.channels {
        let rv = &view.releases[channel.index];
        files.push(OutFile::bytes(
            format!("{}index.html", channel.path),
            pages.release((view, &value), channel.index, &channel.path, &channel.url)?,
        ));
        files.push(OutFile::bytes(
            format!("{}manifest.plist", channel.path),
            manifest_for(rv),
        ));
    }
    for (i, (release, rv)) in app.releases.iter().zip(&view.releases).enumerate() {
        let manifest = manifest_for(rv);
        files.push(OutFile::bytes(
            format!("{}index.html", release.dir),
            pages.release((view, &value), i, &release.dir, &rv.page_url)?,
        ));
        files.push(OutFile::bytes(release.manifest_path(), manifest.clone()));
        files.extend(release_files(release, rv, caches)?);
        if std::ptr::eq(release, app.latest()) {
            let latest = app.latest_dir();
            files.push(OutFile::bytes(
                format!("{latest}index.html"),
                pages.release((view, &value), i, &latest, &view.latest_url)?,
            ));
            files.push(OutFile::bytes(format!("{latest}manifest.plist"), manifest));
        }
    }
    Ok(files)
}

/// A release's IPA (unless it is kept at `ipa_base_url`), notes images and icons.
fn release_files(
    release: &crate::model::Release,
    rv: &ReleaseView<'_>,
    caches: &dyn Memo,
) -> Result<Vec<OutFile>> {
    let mut files = Vec::new();
    // Served from `ipa_base_url` instead: not in the output at all.
    if rv.ipa_in_site {
        files.push(OutFile::source(release.ipa_path(), &release.ipa.path));
    }
    // Many references to one image are one file.
    let mut copied = std::collections::HashSet::new();
    for image in &release.notes.images {
        if !copied.insert(image.file_name.as_str()) {
            continue;
        }
        files.push(OutFile::source(
            release.image_path(&image.file_name),
            &image.source,
        ));
    }
    let images = caches.icons(&icons::icon_key(release), &|| icons::icon_images(release));
    let paths = rv.icon.paths();
    for (path, content) in paths.zip((*images).clone()).into_array() {
        files.push(OutFile { path, content });
    }
    Ok(files)
}

fn manifest_for(r: &ReleaseView<'_>) -> Vec<u8> {
    manifest_xml(&ManifestInput {
        bundle_id: r.bundle_id,
        bundle_version: r.version,
        title: r.name,
        subtitle: None,
        ipa_url: &r.ipa_url,
        ipa_sha256: r.sha256,
        display_image_url: Some(&r.icon.display_image_url),
        full_size_image_url: Some(&r.icon.full_size_image_url),
    })
}

/// Test builds stay out of search engines unless the site opts in.
pub(crate) fn robots_txt(noindex: bool) -> String {
    if noindex {
        "# Private test builds: keep them out of search engines.\nUser-agent: *\nDisallow: /\n"
            .into()
    } else {
        "User-agent: *\nAllow: /\n".into()
    }
}
