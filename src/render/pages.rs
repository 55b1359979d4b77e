//! HTML pages, rendered with the theme's Tera templates.

use anyhow::{Result, anyhow};
use serde::Serialize;
use tera::{Context, Value};

use super::i18n::Strings;
use super::theme::Theme;
use super::views::{AppView, SiteView};
use crate::model::ROOT_MARK;
use crate::urls::root_prefix;

/// Per-page facts every template gets as `page`.
#[derive(Debug, Serialize)]
struct PageView<'a> {
    /// This page's own absolute URL.
    url: String,
    canonical: String,
    /// Relative path from this page to the site root, e.g. `../../`.
    root: String,
    css: &'a str,
    is_latest: bool,
    /// The Atom feed this page announces.
    feed_url: String,
    /// An inline SVG QR code of `url`, on pages a desktop visitor hands to a phone.
    qr_svg: Option<String>,
    /// Keep the page out of search engines (the site says so, or the release is private).
    noindex: bool,
}

/// What one page is: where it is, what it is a copy of, what it announces.
struct PageSpec<'s> {
    /// Site-relative folder of the page (empty for the root).
    dir: &'s str,
    url: &'s str,
    /// The page this one is a copy of (a `latest/` page names the release's own), or itself.
    canonical: &'s str,
    /// A `latest/` page.
    is_latest: bool,
    feed_url: &'s str,
    /// With a QR code of `url`, for pages a desktop visitor hands to a phone.
    with_qr: bool,
}

impl<'s> PageSpec<'s> {
    /// The site's root page (the index, and the 404 page's links).
    fn site_root(site: &'s SiteView<'_>) -> Self {
        PageSpec {
            dir: "",
            url: site.base_url,
            canonical: site.base_url,
            is_latest: false,
            feed_url: &site.feed_url,
            with_qr: false,
        }
    }
}

/// Renders pages; holds what every page shares.
pub(crate) struct PageRenderer<'a> {
    theme: &'a Theme,
    site: &'a SiteView<'a>,
    strings: &'a Strings,
    caches: &'a dyn super::memo::Memo,
    /// `site` and `t` as template values, made once: values share their data when cloned.
    site_value: Value,
    strings_value: Value,
}

/// An app's data as a template value, made once for all of its pages (a release page shows
/// the app's history, so building it per page would cost the square of the releases).
pub(crate) struct AppValue(Value);

impl<'a> PageRenderer<'a> {
    pub(crate) fn new(
        theme: &'a Theme,
        site: &'a SiteView<'a>,
        strings: &'a Strings,
        caches: &'a dyn super::memo::Memo,
    ) -> Self {
        PageRenderer {
            theme,
            site,
            strings,
            caches,
            site_value: Value::from_serializable(site),
            strings_value: Value::from_serializable(strings.map()),
        }
    }

    pub(crate) fn app_value(&self, app: &AppView<'_>) -> AppValue {
        AppValue(Value::from_serializable(app))
    }

    pub(crate) fn site(&self) -> &SiteView<'a> {
        self.site
    }

    pub(crate) fn index(&self, apps: &[AppView<'_>]) -> Result<String> {
        let page = self.page(PageSpec::site_root(self.site));
        let mut ctx = self.context(&page);
        ctx.insert("apps", apps);
        self.render("index.html", "", &ctx)
    }

    pub(crate) fn app(&self, (app, app_value): (&AppView<'_>, &AppValue)) -> Result<String> {
        let page = self.page(PageSpec {
            dir: app.path,
            url: &app.url,
            canonical: &app.url,
            is_latest: false,
            feed_url: &app.feed_url,
            with_qr: true,
        });
        let mut ctx = self.context(&page);
        ctx.insert_value("app", app_value.0.clone());
        self.render("app.html", app.path, &ctx)
    }

    /// A release page at `at`: its own folder, or a `latest/` folder of the app.
    pub(crate) fn release(
        &self,
        (app, app_value): (&AppView<'_>, &AppValue),
        index: usize,
        at: &str,
        at_url: &str,
    ) -> Result<String> {
        let mut release = app.releases[index].clone();
        let is_latest = at != release.path;
        if is_latest {
            release.notes_html = release
                .notes_html_marked
                .replace(ROOT_MARK, &root_prefix(at));
        }
        let page = self.page(PageSpec {
            dir: at,
            url: at_url,
            canonical: &release.page_url,
            is_latest,
            feed_url: &app.feed_url,
            with_qr: true,
        });
        let page = PageView {
            noindex: page.noindex || release.private,
            ..page
        };
        let mut ctx = self.context(&page);
        ctx.insert_value("app", app_value.0.clone());
        ctx.insert("release", &release);
        self.render("release.html", at, &ctx)
    }

    /// The device-registration page (`udid/`) and the page the endpoint redirects to, when
    /// registration is on.
    pub(crate) fn udid_pages(&self) -> Result<Vec<(&'static str, String)>> {
        let Some(udid) = &self.site.udid else {
            return Ok(Vec::new());
        };
        let mut pages = Vec::new();
        for (dir, template) in [
            (crate::udid::PAGE_DIR, "udid.html"),
            (crate::udid::RESULT_DIR, "udid_result.html"),
        ] {
            let url = if dir == crate::udid::PAGE_DIR {
                udid.page_url.clone()
            } else {
                format!("{}{}", self.site.base_url, dir)
            };
            let page = self.page(PageSpec {
                dir,
                url: &url,
                canonical: &url,
                is_latest: false,
                feed_url: &self.site.feed_url,
                with_qr: false,
            });
            let ctx = self.context(&page);
            pages.push((dir, self.render(template, dir, &ctx)?));
        }
        Ok(pages)
    }

    pub(crate) fn not_found(&self) -> Result<String> {
        let mut page = self.page(PageSpec::site_root(self.site));
        // Served at any depth, so its links are absolute.
        page.root = self.site.base_url.to_string();
        let ctx = self.context(&page);
        self.render("404.html", "404.html", &ctx)
    }

    fn page(&self, spec: PageSpec<'_>) -> PageView<'a> {
        let label = self.strings.get("qr_label");
        let qr = || self.caches.qr(spec.url).map(|path| path.svg(label));
        PageView {
            qr_svg: if spec.with_qr { qr() } else { None },
            url: spec.url.to_string(),
            canonical: spec.canonical.to_string(),
            root: root_prefix(spec.dir),
            css: &self.theme.css,
            is_latest: spec.is_latest,
            feed_url: spec.feed_url.to_string(),
            noindex: self.site.noindex,
        }
    }

    fn context(&self, page: &PageView<'_>) -> Context {
        let mut ctx = Context::new();
        ctx.insert_value("site", self.site_value.clone());
        ctx.insert("page", page);
        ctx.insert_value("t", self.strings_value.clone());
        ctx
    }

    fn render(&self, template: &str, at: &str, ctx: &Context) -> Result<String> {
        self.theme.tera.render(template, ctx).map_err(|e| {
            let page = if at.is_empty() { "index" } else { at };
            anyhow!("failed to render page '{page}' with template {template}:\n{e}")
        })
    }
}
