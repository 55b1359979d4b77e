//! Netlify and Cloudflare Pages: a `_headers` file in the web root.
//!
//! The two hosts read the file differently, and the tests run both engines on it
//! (`@netlify/headers-parser`, and Cloudflare's own runtime through `wrangler pages dev`):
//! - Cloudflare applies every matching rule and joins two values of one header with a comma,
//!   so no header may be set by two rules that can match one path there;
//! - Netlify's parser drops empty path segments (`/*/` becomes `/*`, matching every path) and
//!   later rules win.
//!
//! So the directory rules come first, where Netlify lets every later rule override them and
//! Cloudflare matches them only for paths that end in `/`; the rules for manifests, IPAs and
//! icons come after them. Cloudflare allows at most 100 rules: we write eleven.

use super::{IMMUTABLE, IPA_TYPE, NO_CACHE, PLIST_TYPE, PROFILE_TYPE, Policy, banner};

pub(super) fn headers(p: &Policy<'_>) -> Vec<u8> {
    let mut s = String::new();
    s.push_str(&format!(
        "# {}\n",
        banner("Netlify / Cloudflare Pages headers for this OTA site")
    ));
    s.push_str("# It must stay in the publish (output) folder; the host reads it and does not serve it.\n\n");
    let rule = |s: &mut String, path: &str, headers: &[(&str, &str)]| {
        s.push_str(path);
        s.push('\n');
        for (n, v) in headers {
            s.push_str(&format!("  {n}: {v}\n"));
        }
        s.push('\n');
    };
    rule(&mut s, "/*", &p.common_headers());
    // Netlify reads `/*/` as `/*`: first, so that every rule below overrides it there.
    rule(&mut s, "/", &[("Cache-Control", NO_CACHE)]);
    rule(&mut s, "/*/", &[("Cache-Control", NO_CACHE)]);
    rule(&mut s, "/*.html", &[("Cache-Control", NO_CACHE)]);
    rule(&mut s, "/*.json", &[("Cache-Control", NO_CACHE)]);
    rule(&mut s, "/*.xml", &[("Cache-Control", NO_CACHE)]);
    rule(&mut s, "/*.txt", &[("Cache-Control", NO_CACHE)]);
    rule(
        &mut s,
        "/*.plist",
        &[("Content-Type", PLIST_TYPE), ("Cache-Control", NO_CACHE)],
    );
    rule(
        &mut s,
        "/*.mobileconfig",
        &[("Content-Type", PROFILE_TYPE), ("Cache-Control", NO_CACHE)],
    );
    rule(
        &mut s,
        "/*.ipa",
        &[("Content-Type", IPA_TYPE), ("Cache-Control", IMMUTABLE)],
    );
    rule(&mut s, "/apps/*.png", &[("Cache-Control", IMMUTABLE)]);
    s.truncate(s.trim_end().len());
    s.push_str(
        "\n\n# Optional password for the pages on Netlify (uncomment; a Netlify feature, not\n\
         # Cloudflare's). Never for manifests and IPAs: the iOS installer cannot send a password.\n\
         # /*.html\n#   Basic-Auth: tester:change-me\n# /*/\n#   Basic-Auth: tester:change-me\n",
    );
    s.into_bytes()
}
