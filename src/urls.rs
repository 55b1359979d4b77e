//! Slugs, absolute URLs and the `itms-services://` install link.
//!
//! Every output path is made of slugs (ASCII letters, digits, `.`, `-`), so no URL depends on
//! double escaping; every URL is built from the validated base URL, so a base with a sub path
//! (`https://org.github.io/beta/`) is kept everywhere.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use url::Url;

/// Characters kept as they are in a query value or path segment: RFC 3986 "unreserved".
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Turns any text into a lower-case ASCII slug: `Ácmé & Co` -> `acme-co`.
///
/// Returns `fallback` when nothing usable is left (a name made only of symbols).
pub(crate) fn slugify(input: &str, fallback: &str) -> String {
    let ascii = deunicode::deunicode(input);
    let mut slug = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    // `..` must never appear in a path segment; a leading dot would make a hidden file.
    while slug.contains("..") {
        slug = slug.replace("..", ".");
    }
    let slug = slug.trim_matches(|c| c == '-' || c == '.').to_string();
    if slug.is_empty() {
        fallback.to_string()
    } else {
        slug
    }
}

/// Percent-encodes a string as a URL query value or path segment.
pub(crate) fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// The `itms-services://` link that makes iOS download and install from a manifest.
///
/// The manifest URL is a query value, so it is percent-encoded whole (`https%3A%2F%2F...`).
pub(crate) fn install_link(manifest_url: &str) -> String {
    format!(
        "itms-services://?action=download-manifest&url={}",
        encode_component(manifest_url)
    )
}

/// Builds absolute URLs under the site's base URL.
#[derive(Debug, Clone)]
pub(crate) struct SiteUrls {
    base: Url,
}

impl SiteUrls {
    /// `base` must be absolute and end with `/` (as `config::parse_base_url` makes it).
    pub(crate) fn new(base: Url) -> Self {
        SiteUrls { base }
    }

    pub(crate) fn base(&self) -> &str {
        self.base.as_str()
    }

    /// The absolute URL of a site-relative path such as `apps/x/1.0-1/` (segments are encoded).
    pub(crate) fn abs(&self, rel_path: &str) -> String {
        let encoded: Vec<String> = rel_path.split('/').map(encode_component).collect();
        format!("{}{}", self.base, encoded.join("/"))
    }
}

/// The relative prefix from a page at `page_dir` (e.g. `apps/x/1.0-1/`) to the site root
/// (`../../../`), so links work under any base path, from `file://` and from a local server.
pub(crate) fn root_prefix(page_dir: &str) -> String {
    let depth = page_dir.split('/').filter(|s| !s.is_empty()).count();
    if depth == 0 {
        "./".to_string()
    } else {
        "../".repeat(depth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_ascii_without_spaces() {
        assert_eq!(slugify("Acme & Co", "app"), "acme-co");
        assert_eq!(slugify("Ácmé", "app"), "acme");
        assert_eq!(slugify("  My App 2 ", "app"), "my-app-2");
        assert_eq!(slugify("1.2.3", "v"), "1.2.3");
        assert_eq!(slugify("☃☃", "app"), "snowman-snowman");
        assert_eq!(slugify("&&&", "app"), "app");
        assert_eq!(slugify("../..", "x"), "x");
        assert_eq!(slugify(".hidden", "x"), "hidden");
        assert_eq!(slugify("com.Acme.Beta", "x"), "com.acme.beta");
    }

    #[test]
    fn install_link_encodes_manifest_url_as_query_value() {
        let link = install_link("https://beta.example.com/apps/a/1.0-1/manifest.plist");
        assert_eq!(
            link,
            "itms-services://?action=download-manifest&url=\
             https%3A%2F%2Fbeta.example.com%2Fapps%2Fa%2F1.0-1%2Fmanifest.plist"
        );
    }

    #[test]
    fn install_link_encodes_query_characters_in_the_manifest_url() {
        let link = install_link("https://x.example/a b&c=d/m.plist");
        assert!(link.ends_with("url=https%3A%2F%2Fx.example%2Fa%20b%26c%3Dd%2Fm.plist"));
    }

    #[test]
    fn absolute_urls_keep_the_base_path() {
        let urls = SiteUrls::new(Url::parse("https://org.github.io/beta/").unwrap());
        assert_eq!(
            urls.abs("apps/x/1.0-1/manifest.plist"),
            "https://org.github.io/beta/apps/x/1.0-1/manifest.plist"
        );
        assert_eq!(urls.abs(""), "https://org.github.io/beta/");
        assert_eq!(urls.abs("a b/"), "https://org.github.io/beta/a%20b/");
    }

    #[test]
    fn root_prefix_counts_depth() {
        assert_eq!(root_prefix(""), "./");
        assert_eq!(root_prefix("apps/x/"), "../../");
        assert_eq!(root_prefix("apps/x/1.0-1/"), "../../../");
    }
}
