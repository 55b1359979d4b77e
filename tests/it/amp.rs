//! Every page of the example site and of a hostile site passes the official AMP validator,
//! and every manifest parses with plistlib and plistutil.

use crate::common::*;
use otasite::testkit::IpaSpec;

#[test]
fn example_site_is_amp_valid_with_valid_manifests() {
    let (_out_dir, public) = built_example_site();
    let pages = files_ending(&public, ".html");
    assert!(pages.len() >= 10, "{} pages", pages.len());
    assert_amp_valid(&pages);
    let manifests = files_ending(&public, "manifest.plist");
    assert!(manifests.len() >= 7);
    for m in &manifests {
        assert_plistutil_reads(m);
        plistlib_manifest(m);
    }
}

/// Names, notes and versions chosen to break naive escaping and naive AMP output.
fn hostile_site() -> TestSite {
    let site = TestSite::new(
        "title: \"Acme <Beta> & \\\"Friends\\\"\"\ndescription: \"</p><script>alert(1)</script>\"\nbase_url: https://beta.example.com/sub path/\n",
    );
    let names = [
        (
            "releases/Acme & Co.ipa",
            "com.acme.co",
            "1.0",
            "1",
            "Acme & Co <b>",
        ),
        (
            "releases/Ácmé/Ácmé.ipa",
            "com.acme.accent",
            "2.0 beta",
            "2 (a)",
            "Ácmé \"quoted\"",
        ),
        (
            "releases/x/evil.ipa",
            "com.evil",
            "1.0",
            "1",
            "</title><script>x</script>",
        ),
    ];
    for (path, id, v, b, name) in names {
        site.add_ipa(
            path,
            &IpaSpec {
                display_name: Some(name.into()),
                ..IpaSpec::new(id, v, b)
            },
        );
    }
    site.write(
        "releases/Acme & Co.md",
        "---\ntitle: \"<i>title</i> & more\"\nchannel: beta\n---\n\
         # Heading\n\n<script>alert(1)</script>\n\n<style>body{display:none}</style>\n\n\
         <iframe src=x></iframe>\n\n![img](shot.png \"t\")\n\n- [x] task\n\n\
         | l | c | r |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n\n[x](javascript:alert(1)) <https://example.com>\n\n\
         Footnote[^1].\n\n[^1]: The note.\n\n```html\n<script>in code</script>\n```\n",
    );
    let shot = otasite::testkit::icon::encode_png(&otasite::testkit::icon_image(64, [10, 20, 30]));
    site.write("releases/shot.png", shot);
    site.write(
        "releases/x/evil.md",
        "<div onclick=\"alert(1)\">raw block html</div>\n\n<form><input></form>\n",
    );
    site
}

#[test]
fn hostile_site_is_amp_valid() {
    let site = hostile_site();
    site.build_ok(&[]);
    let pages = files_ending(&site.public(), ".html");
    assert!(pages.len() >= 10);
    assert_amp_valid(&pages);
    for m in files_ending(&site.public(), "manifest.plist") {
        assert_plistutil_reads(&m);
        if let Some(facts) = plistlib_manifest(&m) {
            assert!(
                facts[4].starts_with("https://beta.example.com/sub%20path/apps/"),
                "{facts:?}"
            );
        }
    }
}

/// With the IPAs at `ipa_base_url`, pages link to the CDN (unsigned builds show the direct
/// download link too) and stay valid AMP; manifests still parse with other parsers.
#[test]
fn hostile_site_with_ipa_base_url_is_amp_valid() {
    let site = hostile_site();
    site.add_ipa(
        "releases/QA Builds/1.0 #2/App ü.ipa",
        &IpaSpec {
            signed: false,
            ..IpaSpec::new("com.acme.cdn", "1.0", "2")
        },
    );
    site.build_ok(&["--ipa-base-url", "https://cdn.example.com/ota/"]);
    assert!(files_ending(&site.public(), ".ipa").is_empty());
    let pages = files_ending(&site.public(), ".html");
    assert!(pages.len() >= 10);
    let page = site.read("apps/com.acme.cdn/1.0-2/index.html");
    assert!(
        page.contains("https://cdn.example.com/ota/QA%20Builds/1.0%20%232/App%20%C3%BC.ipa"),
        "{page}"
    );
    assert_amp_valid(&pages);
    for m in files_ending(&site.public(), "manifest.plist") {
        assert_plistutil_reads(&m);
        if let Some(facts) = plistlib_manifest(&m) {
            assert!(
                facts[4].starts_with("https://cdn.example.com/ota/"),
                "{facts:?}"
            );
        }
    }
}
