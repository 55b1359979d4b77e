//! IIS: `web.config` in the web root.
//!
//! IIS answers 404 for extensions it has no MIME mapping for, and fails with 500.19 when a
//! mapping is declared twice (the server may already have one), so each `<mimeMap>` follows a
//! `<remove>`. Everything is sent `no-cache`; one outbound rule of the URL Rewrite module turns
//! that into a year for versioned IPAs and icons (IPAs and PNGs of release folders), so
//! the file's size does not grow with the releases. `<httpErrors>` makes IIS answer a missing
//! path with the site's own `404.html`.
//!
//! Modules: static content, custom headers and custom errors (all part of IIS), and URL
//! Rewrite 2.x (built into Azure App Service; a separate install on Windows Server, without
//! which IIS refuses the `<rewrite>` section with 500.19).

use super::{IMMUTABLE, IPA_TYPE, PLIST_TYPE, PROFILE_TYPE, Policy, banner};

pub(super) fn web_config(p: &Policy<'_>) -> Vec<u8> {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    s.push_str(&format!(
        "<!-- {} -->\n",
        xml_comment(&banner("IIS configuration for this OTA site"))
    ));
    s.push_str(
        "<!-- It goes in the web root (where otasite put it). Needs the URL Rewrite module. -->\n",
    );
    s.push_str("<configuration>\n  <system.webServer>\n    <staticContent>\n");
    for (ext, mime) in [
        (".plist", PLIST_TYPE),
        (".ipa", IPA_TYPE),
        (".mobileconfig", PROFILE_TYPE),
        (".json", "application/json"),
    ] {
        s.push_str(&format!(
            "      <remove fileExtension=\"{ext}\" />\n      <mimeMap fileExtension=\"{ext}\" mimeType=\"{mime}\" />\n"
        ));
    }
    s.push_str("      <clientCache cacheControlMode=\"DisableCache\" />\n");
    s.push_str("    </staticContent>\n    <httpProtocol>\n      <customHeaders>\n");
    for (name, value) in p.common_headers() {
        s.push_str(&format!(
            "        <remove name=\"{name}\" />\n        <add name=\"{name}\" value=\"{value}\" />\n"
        ));
    }
    s.push_str("      </customHeaders>\n    </httpProtocol>\n");
    let base = xml_attr(p.base_path);
    s.push_str(&format!(
        "    <httpErrors errorMode=\"Custom\" existingResponse=\"Replace\">\n      \
         <remove statusCode=\"404\" subStatusCode=\"-1\" />\n      \
         <error statusCode=\"404\" path=\"{base}404.html\" responseMode=\"ExecuteURL\" />\n    \
         </httpErrors>\n"
    ));
    s.push_str(&format!(
        "    <rewrite>\n      <outboundRules>\n        \
         <rule name=\"otasite: versioned IPAs and icons are cached for a year\">\n          \
         <match serverVariable=\"RESPONSE_Cache_Control\" pattern=\".*\" />\n          \
         <conditions>\n            \
         <add input=\"{{REQUEST_URI}}\" pattern=\"{}\" />\n          \
         </conditions>\n          \
         <action type=\"Rewrite\" value=\"{IMMUTABLE}\" />\n        \
         </rule>\n      </outboundRules>\n    </rewrite>\n",
        xml_attr(&immutable_pattern(p.base_path))
    ));
    s.push_str("  </system.webServer>\n</configuration>\n");
    s.into_bytes()
}

/// The versioned files as a regular expression on `REQUEST_URI` (the path with its query):
/// IPAs and PNGs under `apps/`, never in a `latest/` folder.
fn immutable_pattern(base_path: &str) -> String {
    let base: String = base_path
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect();
    format!("^{base}apps/(?!.*/latest/)[^?]*\\.(ipa|png)(\\?.*)?$")
}

fn xml_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn xml_comment(s: &str) -> String {
    s.replace("--", "- -")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_precedes_every_mime_map() {
        let s = String::from_utf8(web_config(&crate::hosting::tests::policy())).unwrap();
        for ext in [".plist", ".ipa", ".json"] {
            let remove = s
                .find(&format!("<remove fileExtension=\"{ext}\" />"))
                .unwrap();
            let map = s
                .find(&format!("<mimeMap fileExtension=\"{ext}\""))
                .unwrap();
            assert!(remove < map, "{ext}");
        }
        assert!(s.contains("<error statusCode=\"404\" path=\"/beta/404.html\""));
    }

    #[test]
    fn the_immutable_pattern_names_what_is_immutable() {
        let pattern = immutable_pattern("/beta/");
        assert_eq!(
            pattern,
            "^/beta/apps/(?!.*/latest/)[^?]*\\.(ipa|png)(\\?.*)?$"
        );
        assert_eq!(
            immutable_pattern("/a.b/"),
            "^/a\\.b/apps/(?!.*/latest/)[^?]*\\.(ipa|png)(\\?.*)?$"
        );
    }
}
