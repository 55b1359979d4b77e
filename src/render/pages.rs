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

/// Renders pages; holds what every page shares.
pub struct PageRenderer<'a> {
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
pub struct AppValue(Value);

impl<'a> PageRenderer<'a> {
    pub fn new(
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

    pub fn app_value(&self, app: &AppView<'_>) -> AppValue {
        AppValue(Value::from_serializable(app))
    }

    pub fn site(&self) -> &SiteView<'a> {
        self.site
    }

    pub fn index(&self, apps: &[AppView<'_>]) -> Result<String> {
        let base = self.site.base_url.to_string();
        let page = self.page(
            "",
            base.clone(),
            base,
            false,
            format!("{}feed.xml", self.site.base_url),
            false,
        );
        let mut ctx = self.context(&page);
        ctx.insert("apps", apps);
        self.render("index.html", "", &ctx)
    }

    pub fn app(&self, (app, app_value): (&AppView<'_>, &AppValue)) -> Result<String> {
        let page = self.page(
            app.path,
            app.url.clone(),
            app.url.clone(),
            false,
            format!("{}feed.xml", app.url),
            true,
        );
        let mut ctx = self.context(&page);
        ctx.insert_value("app", app_value.0.clone());
        self.render("app.html", app.path, &ctx)
    }

    /// A release page at `at`: its own folder, or a `latest/` folder of the app.
    pub fn release(
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
        let page = self.page(
            at,
            at_url.to_string(),
            release.page_url.clone(),
            is_latest,
            format!("{}feed.xml", app.url),
            true,
        );
        let page = PageView {
            noindex: page.noindex || release.private,
            ..page
        };
        let mut ctx = self.context(&page);
        ctx.insert_value("app", app_value.0.clone());
        ctx.insert("release", &release);
        self.render("release.html", at, &ctx)
    }

    pub fn not_found(&self) -> Result<String> {
        // Served at any depth, so its links are absolute.
        let base = self.site.base_url.to_string();
        let mut page = self.page(
            "",
            base.clone(),
            base.clone(),
            false,
            format!("{base}feed.xml"),
            false,
        );
        page.root = base;
        let ctx = self.context(&page);
        self.render("404.html", "404.html", &ctx)
    }

    fn page(
        &self,
        dir: &str,
        url: String,
        canonical: String,
        is_latest: bool,
        feed_url: String,
        with_qr: bool,
    ) -> PageView<'a> {
        PageView {
            qr_svg: if with_qr {
                let label = self.strings.get("qr_label");
                self.caches.qr(&url).map(|path| path.svg(label))
            } else {
                None
            },
            url,
            canonical,
            root: root_prefix(dir),
            css: &self.theme.css,
            is_latest,
            feed_url,
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
