//! IIS: `web.config` in the web root.
//!
//! IIS answers 404 for extensions it has no MIME mapping for, and fails with 500.19 when a
//! mapping is declared twice (the server may already have one), so each `<mimeMap>` follows a
//! `<remove>`. Caching is per file: `no-cache` for the site, a year for each versioned IPA.

use super::{IPA_TYPE, PLIST_TYPE, Policy, banner};

pub fn web_config(p: &Policy<'_>) -> Vec<u8> {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    s.push_str(&format!(
        "<!-- {} -->\n",
        xml_comment(&banner("IIS configuration for this OTA site"))
    ));
    s.push_str("<!-- It goes in the web root (where otasite put it). -->\n");
    s.push_str("<configuration>\n  <system.webServer>\n    <staticContent>\n");
    for (ext, mime) in [
        (".plist", PLIST_TYPE),
        (".ipa", IPA_TYPE),
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
    s.push_str("      </customHeaders>\n    </httpProtocol>\n  </system.webServer>\n");
    for path in &p.immutable {
        s.push_str(&format!(
            "  <location path=\"{}\">\n    <system.webServer>\n      <staticContent>\n        \
             <clientCache cacheControlMode=\"UseMaxAge\" cacheControlMaxAge=\"365.00:00:00\" cacheControlCustom=\"public, immutable\" />\n      \
             </staticContent>\n    </system.webServer>\n  </location>\n",
            xml_attr(path)
        ));
    }
    s.push_str("</configuration>\n");
    s.into_bytes()
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
        assert!(s.contains("<location path=\"apps/a/1.0-1/a-1.0.ipa\">"));
    }
}
