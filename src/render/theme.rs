//! Themes: the default theme is embedded in the binary; a site's `themes/<name>/` overrides it
//! file by file (`templates/<file>.html`, `style.css`).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use sha2::{Digest, Sha256};
use tera::Tera;

use crate::limits;

const DEFAULT_TEMPLATES: &[(&str, &str)] = &[
    (
        "base.html",
        include_str!("../../themes/default/templates/base.html"),
    ),
    (
        "head.html",
        include_str!("../../themes/default/templates/head.html"),
    ),
    (
        "footer.html",
        include_str!("../../themes/default/templates/footer.html"),
    ),
    (
        "icon.html",
        include_str!("../../themes/default/templates/icon.html"),
    ),
    (
        "install_button.html",
        include_str!("../../themes/default/templates/install_button.html"),
    ),
    (
        "requirements.html",
        include_str!("../../themes/default/templates/requirements.html"),
    ),
    (
        "qr.html",
        include_str!("../../themes/default/templates/qr.html"),
    ),
    (
        "index.html",
        include_str!("../../themes/default/templates/index.html"),
    ),
    (
        "app.html",
        include_str!("../../themes/default/templates/app.html"),
    ),
    (
        "release.html",
        include_str!("../../themes/default/templates/release.html"),
    ),
    (
        "udid.html",
        include_str!("../../themes/default/templates/udid.html"),
    ),
    (
        "udid_result.html",
        include_str!("../../themes/default/templates/udid_result.html"),
    ),
    (
        "404.html",
        include_str!("../../themes/default/templates/404.html"),
    ),
];
const DEFAULT_CSS: &str = include_str!("../../themes/default/style.css");

/// Loaded templates and the CSS that every page inlines.
pub(crate) struct Theme {
    pub(crate) tera: Tera,
    pub(crate) css: String,
    /// A digest of every template and the CSS: what pages depend on besides their data.
    pub(crate) digest: String,
}

/// A theme file as read, with where it came from (for messages).
pub(crate) struct ThemeFile {
    pub name: String,
    pub source: String,
    pub origin: Option<PathBuf>,
}

impl Theme {
    /// The embedded default theme (its stylesheet keeps AMP's rules either way).
    pub(crate) fn default_theme() -> Result<Theme> {
        Theme::from_files(Vec::new(), None, true)
    }

    /// Reads `SITE_DIR/themes/<name>/` overrides on top of the default theme. Every file must
    /// really live in the theme's folder: its text is inlined into every page.
    /// Loads the theme; with `amp`, its stylesheet must keep AMP's rules (`rules::amp`).
    pub(crate) fn load(site_dir: &Path, name: &str, amp: bool) -> Result<Theme> {
        let dir = site_dir.join("themes").join(name);
        if !dir.is_dir() {
            if name == "default" {
                return Theme::default_theme();
            }
            bail!(
                "{}: theme {name:?} not found: create this folder (templates/*.html and \
                 style.css override the default theme file by file) or set `theme: default`",
                dir.display()
            );
        }
        let mut overrides = Vec::new();
        let templates = dir.join("templates");
        if templates.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&templates)
                .with_context(|| format!("cannot list {}", templates.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "html") && p.is_file())
                .collect();
            entries.sort();
            for path in entries {
                let source = limits::read_text_inside(
                    &path,
                    &dir,
                    limits::MAX_THEME_FILE_BYTES,
                    "template",
                )?;
                let name = path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                overrides.push(ThemeFile {
                    name,
                    source,
                    origin: Some(path),
                });
            }
        }
        let css_path = dir.join("style.css");
        let css = if css_path.is_file() {
            let source = limits::read_text_inside(
                &css_path,
                &dir,
                limits::MAX_THEME_FILE_BYTES,
                "stylesheet",
            )?;
            Some(ThemeFile {
                name: "style.css".into(),
                source,
                origin: Some(css_path),
            })
        } else {
            None
        };
        Theme::from_files(overrides, css, amp)
    }

    /// Builds a theme from override files on top of the embedded defaults. No I/O.
    pub(crate) fn from_files(
        overrides: Vec<ThemeFile>,
        css: Option<ThemeFile>,
        amp: bool,
    ) -> Result<Theme> {
        let mut files: Vec<ThemeFile> = DEFAULT_TEMPLATES
            .iter()
            .filter(|(name, _)| !overrides.iter().any(|o| o.name == *name))
            .map(|(name, source)| ThemeFile {
                name: (*name).into(),
                source: (*source).into(),
                origin: None,
            })
            .collect();
        files.extend(overrides);

        let mut tera = Tera::new();
        tera.add_raw_templates(files.iter().map(|f| (f.name.as_str(), f.source.as_str())))
            .map_err(|e| {
                let culprits: Vec<String> = files
                    .iter()
                    .filter_map(|f| f.origin.as_ref().map(|p| p.display().to_string()))
                    .collect();
                if culprits.is_empty() {
                    anyhow::anyhow!("the built-in theme does not compile: {e}")
                } else {
                    anyhow::anyhow!(
                        "a template of the site's theme does not compile ({}):\n{e}",
                        culprits.join(", ")
                    )
                }
            })?;

        let (css, css_origin) = match css {
            Some(f) => (f.source, f.origin),
            None => (DEFAULT_CSS.to_string(), None),
        };
        let origin = css_origin.as_ref().map_or_else(
            || "built-in style.css".to_string(),
            |p| p.display().to_string(),
        );
        check_css(&css, amp).map_err(|why| anyhow::anyhow!("{origin}: {why}"))?;
        let mut h = Sha256::new();
        for f in &files {
            for part in [f.name.as_str(), f.source.as_str()] {
                h.update((part.len() as u64).to_le_bytes());
                h.update(part.as_bytes());
            }
        }
        h.update(css.as_bytes());
        let digest = crate::ipa::to_hex(&h.finalize());
        Ok(Theme { tera, css, digest })
    }
}

/// What a stylesheet inlined into every page must not do: end the style block early, and,
/// on AMP pages, break AMP's rules for stylesheets.
fn check_css(css: &str, amp: bool) -> Result<(), String> {
    if css.to_ascii_lowercase().contains("</style") {
        return Err("contains `</style`, which would end the style block early".into());
    }
    if amp {
        crate::rules::amp::stylesheet(css)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::amp::MAX_CSS_BYTES;

    #[test]
    fn default_theme_compiles() {
        let t = Theme::default_theme().unwrap();
        assert!(t.css.len() < MAX_CSS_BYTES);
    }

    #[test]
    fn override_replaces_one_file() {
        let t = Theme::from_files(
            vec![ThemeFile {
                name: "footer.html".into(),
                source: "<p>custom footer</p>".into(),
                origin: Some("themes/x/templates/footer.html".into()),
            }],
            None,
            true,
        )
        .unwrap();
        assert!(t.tera.contains_template("release.html"));
    }

    #[test]
    fn broken_override_names_its_file() {
        let e = Theme::from_files(
            vec![ThemeFile {
                name: "footer.html".into(),
                source: "{% if %}".into(),
                origin: Some("themes/x/templates/footer.html".into()),
            }],
            None,
            true,
        )
        .err()
        .unwrap();
        assert!(
            e.to_string().contains("themes/x/templates/footer.html"),
            "{e}"
        );
    }

    #[test]
    fn css_rules() {
        assert!(check_css("a{color:red !important}", true).is_err());
        assert!(
            check_css("a{color:red !important}", false).is_ok(),
            "plain HTML5"
        );
        assert!(check_css("</style><script>", false).is_err());
        assert!(check_css(&"a".repeat(MAX_CSS_BYTES + 1), true).is_err());
        assert!(check_css("a{color:red}", true).is_ok());
    }
}
