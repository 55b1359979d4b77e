//! Caddy: a snippet to `import` inside the site block of a Caddyfile.

use super::{IMMUTABLE, IPA_TYPE, NO_CACHE, PLIST_TYPE, PROFILE_TYPE, Policy, banner};

pub(super) fn snippet(p: &Policy<'_>) -> Vec<u8> {
    let mut s = String::new();
    s.push_str(&format!(
        "# {}\n",
        banner("Caddy configuration for this OTA site")
    ));
    s.push_str(
        "# Import it inside the site block that serves the output folder:\n\
         #     beta.example.com {\n\
         #         root * /path/to/public\n\
         #         import /path/to/server-config/Caddyfile\n\
         #         file_server\n\
         #     }\n\n",
    );
    for (name, value) in p.common_headers() {
        s.push_str(&format!("header {name} \"{value}\"\n"));
    }
    s.push_str("\n@otasite_manifest path *.plist\n");
    s.push_str(&format!(
        "header @otasite_manifest Content-Type \"{PLIST_TYPE}\"\n"
    ));
    s.push_str(&format!(
        "header @otasite_manifest Cache-Control \"{NO_CACHE}\"\n"
    ));
    s.push_str("\n@otasite_profile path *.mobileconfig\n");
    s.push_str(&format!(
        "header @otasite_profile Content-Type \"{PROFILE_TYPE}\"\n"
    ));
    s.push_str(&format!(
        "header @otasite_profile Cache-Control \"{NO_CACHE}\"\n"
    ));
    s.push_str("\n@otasite_ipa path *.ipa\n");
    s.push_str(&format!(
        "header @otasite_ipa Content-Type \"{IPA_TYPE}\"\n"
    ));
    s.push_str(&format!(
        "header @otasite_ipa Cache-Control \"{IMMUTABLE}\"\n"
    ));
    s.push_str("\n@otasite_icon path_regexp /apps/.+\\.png$\n");
    s.push_str(&format!(
        "header @otasite_icon Cache-Control \"{IMMUTABLE}\"\n"
    ));
    s.push_str("\n@otasite_page path *.html *.json *.xml *.txt */\n");
    s.push_str(&format!(
        "header @otasite_page Cache-Control \"{NO_CACHE}\"\n"
    ));
    s.push_str(&format!(
        "\nhandle_errors {{\n    rewrite * {}404.html\n    file_server\n}}\n",
        p.base_path
    ));
    s.into_bytes()
}
