//! Netlify and Cloudflare Pages: a `_headers` file in the web root.
//!
//! Both hosts match a rule's path with `*` as "any characters" and apply every matching rule;
//! Cloudflare joins two values of one header with a comma, so no header is set by two rules
//! that can match the same path. Cloudflare allows at most 100 rules: we write ten.

use super::{IMMUTABLE, IPA_TYPE, NO_CACHE, PLIST_TYPE, Policy, banner};

pub fn headers(p: &Policy<'_>) -> Vec<u8> {
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
    rule(
        &mut s,
        "/*.plist",
        &[("Content-Type", PLIST_TYPE), ("Cache-Control", NO_CACHE)],
    );
    rule(
        &mut s,
        "/*.ipa",
        &[("Content-Type", IPA_TYPE), ("Cache-Control", IMMUTABLE)],
    );
    rule(&mut s, "/apps/*.png", &[("Cache-Control", IMMUTABLE)]);
    rule(&mut s, "/*.html", &[("Cache-Control", NO_CACHE)]);
    rule(&mut s, "/", &[("Cache-Control", NO_CACHE)]);
    rule(&mut s, "/*/", &[("Cache-Control", NO_CACHE)]);
    rule(&mut s, "/*.json", &[("Cache-Control", NO_CACHE)]);
    rule(&mut s, "/*.xml", &[("Cache-Control", NO_CACHE)]);
    rule(&mut s, "/*.txt", &[("Cache-Control", NO_CACHE)]);
    s.truncate(s.trim_end().len());
    s.push_str(
        "\n\n# Optional password for the pages on Netlify (uncomment; a Netlify feature, not\n\
         # Cloudflare's). Never for manifests and IPAs: the iOS installer cannot send a password.\n\
         # /*.html\n#   Basic-Auth: tester:change-me\n# /*/\n#   Basic-Auth: tester:change-me\n",
    );
    s.into_bytes()
}
