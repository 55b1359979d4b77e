//! nginx: a snippet to `include` in the `server {}` block that serves the site.
//!
//! nginx's `add_header` is not inherited into a location that sets its own, so each location
//! repeats the common headers; `types {}` with `default_type` sets a type for one location
//! without replacing the server's whole MIME table.

use super::{IMMUTABLE, IPA_TYPE, NO_CACHE, PLIST_TYPE, PROFILE_TYPE, Policy, banner};

pub(super) fn snippet(p: &Policy<'_>) -> Vec<u8> {
    let mut s = String::new();
    s.push_str(&format!(
        "# {}\n",
        banner("nginx configuration for this OTA site")
    ));
    s.push_str(&format!(
        "# Site: {}. Include this file inside the server {{}} block that serves the site, after\n\
         # the `root` pointing at the output folder (it is not in the web root on purpose):\n\
         #     include /path/to/server-config/nginx.conf;\n\
         # Check with `nginx -t`, then reload nginx.\n\n",
        p.site_title.replace('\n', " ")
    ));
    s.push_str(&format!("error_page 404 {}404.html;\n\n", p.base_path));
    let common: String = p
        .common_headers()
        .iter()
        .map(|(n, v)| format!("    add_header {n} \"{v}\" always;\n"))
        .collect();
    // `more`: further lines of the block, indented.
    let location = |pattern: &str, comment: &str, types: Option<&str>, cache: &str, more: &str| {
        let mut l = format!("# {comment}\nlocation ~* {pattern} {{\n");
        if let Some(t) = types {
            l.push_str(&format!("    types {{ }}\n    default_type {t};\n"));
        }
        l.push_str(&format!(
            "    add_header Cache-Control \"{cache}\" always;\n{common}{more}}}\n\n"
        ));
        l
    };
    s.push_str(&location(
        "\\.plist$",
        "Manifests: not in nginx's MIME table; iOS needs them as XML, never stale.",
        Some(PLIST_TYPE),
        NO_CACHE,
        "",
    ));
    s.push_str(&location(
        "\\.mobileconfig$",
        "Configuration profiles (device registration): iOS offers to install them only as this type.",
        Some(PROFILE_TYPE),
        NO_CACHE,
        "",
    ));
    s.push_str(&location(
        "\\.ipa$",
        "IPAs: binary, in versioned folders, so cached for a year. HEAD and ranges work as is.",
        Some(IPA_TYPE),
        IMMUTABLE,
        "",
    ));
    s.push_str(&location(
        "/apps/.+\\.png$",
        "Icons: in versioned folders too.",
        None,
        IMMUTABLE,
        "",
    ));
    s.push_str(&location(
        "(\\.(html|json|xml|txt)|/)$",
        "Pages and data: always revalidate.",
        None,
        NO_CACHE,
        "    charset utf-8;\n    \
         # Optional password for the pages (never for manifests and IPAs: the iOS installer\n    \
         # cannot answer a password prompt, so protected files would fail to install):\n    \
         # auth_basic \"Test builds\";\n    \
         # auth_basic_user_file /etc/nginx/otasite.htpasswd;\n",
    ));
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_location_repeats_common_headers() {
        let s = String::from_utf8(snippet(&crate::hosting::tests::policy())).unwrap();
        assert_eq!(s.matches("location ~*").count(), 5);
        assert_eq!(s.matches("X-Content-Type-Options").count(), 5);
        assert_eq!(s.matches("X-Robots-Tag").count(), 5);
        assert!(s.contains("default_type application/x-apple-aspen-config;"));
        assert!(s.contains("default_type application/xml;"));
        assert!(s.contains("error_page 404 /beta/404.html;"));
    }
}
