//! HTML pages, rendered with the theme's Tera templates.

use anyhow::{Result, anyhow};
use serde::Serialize;
use tera::Context;

use super::theme::Theme;
use super::views::{AppView, SiteView};
use crate::urls::root_prefix;

/// Per-page facts every template gets as `page`.
#[derive(Debug, Serialize)]
struct PageView<'a> {
    canonical: String,
    /// Relative path from this page to the site root, e.g. `../../`.
    root: String,
    css: &'a str,
    is_latest: bool,
}

/// Renders pages; holds what every page shares.
pub struct PageRenderer<'a> {
    theme: &'a Theme,
    site: &'a SiteView<'a>,
}

impl<'a> PageRenderer<'a> {
    pub fn new(theme: &'a Theme, site: &'a SiteView<'a>) -> Self {
        PageRenderer { theme, site }
    }

    pub fn index(&self, apps: &[AppView<'_>]) -> Result<String> {
        let mut ctx = self.context("", self.site.base_url.to_string(), false);
        ctx.insert("apps", apps);
        self.render("index.html", "", &ctx)
    }

    pub fn app(&self, app: &AppView<'_>) -> Result<String> {
        let mut ctx = self.context(app.path, app.url.clone(), false);
        ctx.insert("app", app);
        self.render("app.html", app.path, &ctx)
    }

    /// A release page at `at` (its own folder, or the app's `latest/`).
    pub fn release(&self, app: &AppView<'_>, index: usize, at: &str) -> Result<String> {
        let release = &app.releases[index];
        let is_latest = at != release.path;
        let mut ctx = self.context(at, release.page_url.clone(), is_latest);
        ctx.insert("app", app);
        ctx.insert("release", release);
        self.render("release.html", at, &ctx)
    }

    pub fn not_found(&self) -> Result<String> {
        // Served at any depth, so its links are absolute.
        let ctx = self.context_with_root(self.site.base_url.to_string(), self.site.base_url, false);
        self.render("404.html", "404.html", &ctx)
    }

    fn context(&self, dir: &str, canonical: String, is_latest: bool) -> Context {
        self.context_with_root(canonical, &root_prefix(dir), is_latest)
    }

    fn context_with_root(&self, canonical: String, root: &str, is_latest: bool) -> Context {
        let mut ctx = Context::new();
        ctx.insert("site", self.site);
        ctx.insert(
            "page",
            &PageView {
                canonical,
                root: root.to_string(),
                css: &self.theme.css,
                is_latest,
            },
        );
        ctx
    }

    fn render(&self, template: &str, at: &str, ctx: &Context) -> Result<String> {
        self.theme.tera.render(template, ctx).map_err(|e| {
            let page = if at.is_empty() { "index" } else { at };
            anyhow!("failed to render page '{page}' with template {template}:\n{e}")
        })
    }
}
