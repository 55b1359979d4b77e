//! Apache: a `.htaccess` in the web root (needs `AllowOverride FileInfo` and, for the
//! headers, `mod_headers`).

use super::{IMMUTABLE, IPA_TYPE, NO_CACHE, PLIST_TYPE, PROFILE_TYPE, Policy, banner};

pub(super) fn htaccess(p: &Policy<'_>) -> Vec<u8> {
    let mut s = String::new();
    s.push_str(&format!(
        "# {}\n",
        banner("Apache configuration for this OTA site")
    ));
    s.push_str(
        "# It goes in the web root (where otasite put it). Apache reads it when the site's\n\
         # <Directory> allows `AllowOverride FileInfo` (or All); the cache and security headers\n\
         # also need mod_headers (`a2enmod headers`).\n\n",
    );
    s.push_str("# None of these types is in Apache's stock MIME table; iOS needs them.\n");
    s.push_str("<IfModule mod_mime.c>\n");
    s.push_str(&format!(
        "  AddType {PLIST_TYPE} .plist\n  AddType {IPA_TYPE} .ipa\n  AddType {PROFILE_TYPE} .mobileconfig\n"
    ));
    s.push_str("  AddCharset utf-8 .html .json .xml .txt\n</IfModule>\n\n");
    s.push_str(&format!("ErrorDocument 404 {}404.html\n\n", p.base_path));
    s.push_str("<IfModule mod_headers.c>\n");
    for (name, value) in p.common_headers() {
        s.push_str(&format!("  Header always set {name} \"{value}\"\n"));
    }
    s.push_str("  # Manifests, pages and data: always revalidate, so a new build shows at once.\n");
    s.push_str("  <FilesMatch \"\\.(plist|mobileconfig|html|json|xml|txt)$\">\n");
    s.push_str(&format!(
        "    Header set Cache-Control \"{NO_CACHE}\"\n  </FilesMatch>\n"
    ));
    s.push_str("  # IPAs and icons live in versioned folders: cache them for a year.\n");
    s.push_str("  <FilesMatch \"\\.(ipa|png)$\">\n");
    s.push_str(&format!(
        "    Header set Cache-Control \"{IMMUTABLE}\"\n  </FilesMatch>\n"
    ));
    s.push_str("</IfModule>\n\n");
    s.push_str(
        "# Optional password for the pages only (uncomment). Manifests and IPAs must stay open:\n\
         # the iOS installer cannot answer a password prompt, so protected files fail to install.\n\
         # <FilesMatch \"\\.(html|json|xml)$\">\n\
         #   AuthType Basic\n#   AuthName \"Test builds\"\n\
         #   AuthUserFile /etc/apache2/otasite.htpasswd\n#   Require valid-user\n# </FilesMatch>\n",
    );
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_types_headers_and_base_path() {
        let s = String::from_utf8(htaccess(&crate::hosting::tests::policy())).unwrap();
        assert!(s.starts_with("# Apache configuration"));
        assert!(s.contains("AddType application/xml .plist"));
        assert!(s.contains("AddType application/octet-stream .ipa"));
        assert!(s.contains("AddType application/x-apple-aspen-config .mobileconfig"));
        assert!(s.contains("ErrorDocument 404 /beta/404.html"));
        assert!(s.contains("X-Robots-Tag \"noindex, nofollow\""));
    }
}
