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

/// The address of an IPA kept outside the site (`ipa_base_url`): the base, then the IPA's
/// path relative to the releases folder (or, later, its object key relative to a bucket
/// prefix), each segment percent-encoded as it is, so `QA Builds/1.0 #2/App ü.ipa` becomes
/// `QA%20Builds/1.0%20%232/App%20%C3%BC.ipa`. A base without a trailing `/` gets one.
///
/// Object storage keys are the literal names, so a segment is never slugged or normalised.
pub(crate) fn external_ipa_url<S: AsRef<str>>(base: &Url, segments: &[S]) -> String {
    let base = base.as_str();
    let slash = if base.ends_with('/') { "" } else { "/" };
    let path: Vec<String> = segments
        .iter()
        .map(|s| encode_component(s.as_ref()))
        .collect();
    format!("{base}{slash}{}", path.join("/"))
}

/// Builds absolute URLs under the site's base URL, and the IPAs' under `ipa_base_url`.
#[derive(Debug, Clone)]
pub(crate) struct SiteUrls {
    base: Url,
    /// Where IPAs are served from when they are not in the site (`ipa_base_url`).
    ipa_base: Option<Url>,
}

impl SiteUrls {
    /// `base` must be absolute and end with `/` (as `config::parse_base_url` makes it).
    #[cfg(test)]
    pub(crate) fn new(base: Url) -> Self {
        SiteUrls {
            base,
            ipa_base: None,
        }
    }

    /// The URLs of a site whose configuration may keep the IPAs elsewhere.
    pub(crate) fn of(config: &crate::config::Config) -> Self {
        SiteUrls {
            base: config.base_url.clone(),
            ipa_base: config.ipa_base_url.clone(),
        }
    }

    /// Whether the IPAs are in the site (else they are at `ipa_base_url`).
    pub(crate) fn ipas_in_site(&self) -> bool {
        self.ipa_base.is_none()
    }

    /// The IPA's absolute URL: in the site at `site_path`, or at `ipa_base_url` followed by
    /// `source_segments` (its path relative to the releases folder).
    pub(crate) fn ipa(&self, site_path: &str, source_segments: &[String]) -> String {
        match &self.ipa_base {
            Some(base) => external_ipa_url(base, source_segments),
            None => self.abs(site_path),
        }
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
    fn external_ipa_urls_encode_each_segment() {
        let base = Url::parse("https://cdn.example.com/builds").unwrap();
        let segments = ["QA Builds", "1.0 #2", "App ü.ipa"];
        let want = "https://cdn.example.com/builds/QA%20Builds/1.0%20%232/App%20%C3%BC.ipa";
        assert_eq!(external_ipa_url(&base, &segments), want);
        let slashed = Url::parse("https://cdn.example.com/builds/").unwrap();
        assert_eq!(external_ipa_url(&slashed, &segments), want);
        let odd = ["a?b", "50%", "x/y", "ok-._~"];
        assert_eq!(
            external_ipa_url(&slashed, &odd),
            "https://cdn.example.com/builds/a%3Fb/50%25/x%2Fy/ok-._~"
        );
        let root = Url::parse("https://cdn.example.com").unwrap();
        assert_eq!(
            external_ipa_url(&root, &["A.ipa"]),
            "https://cdn.example.com/A.ipa"
        );
    }

    #[test]
    fn ipa_urls_follow_the_configuration() {
        let mut urls = SiteUrls::new(Url::parse("https://beta.example.com/").unwrap());
        let segments = vec!["a b".to_string(), "A.ipa".to_string()];
        assert!(urls.ipas_in_site());
        assert_eq!(
            urls.ipa("apps/x/1-1/a-1.ipa", &segments),
            "https://beta.example.com/apps/x/1-1/a-1.ipa"
        );
        urls.ipa_base = Some(Url::parse("https://cdn.example.com/b/").unwrap());
        assert!(!urls.ipas_in_site());
        assert_eq!(
            urls.ipa("apps/x/1-1/a-1.ipa", &segments),
            "https://cdn.example.com/b/a%20b/A.ipa"
        );
    }

    #[test]
    fn root_prefix_counts_depth() {
        assert_eq!(root_prefix(""), "./");
        assert_eq!(root_prefix("apps/x/"), "../../");
        assert_eq!(root_prefix("apps/x/1.0-1/"), "../../../");
    }
}
