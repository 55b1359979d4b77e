//! End-to-end: `otasite build` on temporary sites, checking the files a tester's iPhone reads.

use crate::common::*;
use otasite::testkit::IpaSpec;

fn release_json(site: &TestSite) -> serde_json::Value {
    serde_json::from_str(&site.read("releases.json")).unwrap()
}

#[test]
fn builds_a_complete_site() {
    let site = TestSite::basic();
    site.add_ipa(
        "releases/a/1.9/App.ipa",
        &spec("com.acme.app", "1.9.0", "9").name("Acme"),
    );
    site.add_ipa(
        "releases/a/1.10/App.ipa",
        &spec("com.acme.app", "1.10.0", "10").name("Acme"),
    );
    site.write(
        "releases/a/1.10/notes.md",
        "---\ntitle: Big one\ndate: 2026-01-02\n---\n- **bold** item\n",
    );
    let out = site.build_ok(&[]);
    assert!(
        stderr(&out).contains("Built 1 app, 2 releases"),
        "{}",
        stderr(&out)
    );

    for f in [
        "index.html",
        "404.html",
        "robots.txt",
        "releases.json",
        "apps/com.acme.app/index.html",
        "apps/com.acme.app/1.10.0-10/index.html",
        "apps/com.acme.app/1.10.0-10/manifest.plist",
        "apps/com.acme.app/1.10.0-10/acme-1.10.0.ipa",
        "apps/com.acme.app/1.9.0-9/manifest.plist",
        "apps/com.acme.app/latest/index.html",
        "apps/com.acme.app/latest/manifest.plist",
    ] {
        assert!(site.public().join(f).is_file(), "{f} missing");
    }

    // The release page: install link, notes, facts.
    let page = site.read("apps/com.acme.app/1.10.0-10/index.html");
    assert!(page.contains(
        "href=\"itms-services://?action=download-manifest&amp;url=https%3A%2F%2Fbeta.example.com%2Fapps%2Fcom.acme.app%2F1.10.0-10%2Fmanifest.plist\" target=\"_top\""
    ), "{page}");
    assert!(page.contains("<strong>bold</strong>"));
    assert!(page.contains("Big one"));
    assert!(page.contains(
        "<link rel=\"canonical\" href=\"https://beta.example.com/apps/com.acme.app/1.10.0-10/\">"
    ));
    assert!(page.contains("<meta name=\"robots\" content=\"noindex, nofollow\">"));
    assert!(page.contains("iOS 15.0 or later"));
    assert!(page.contains("href=\"../../../apps/com.acme.app/1.10.0-10/acme-1.10.0.ipa\""));

    // The app page lists releases newest first (1.10 before 1.9: numeric, not text order).
    let app = site.read("apps/com.acme.app/index.html");
    let (i10, i9) = (
        app.find("1.10.0</a>").unwrap(),
        app.find("1.9.0</a>").unwrap(),
    );
    assert!(i10 < i9, "newest first");

    // latest/ serves the newest release's manifest.
    assert_eq!(
        site.read("apps/com.acme.app/latest/manifest.plist"),
        site.read("apps/com.acme.app/1.10.0-10/manifest.plist")
    );
    assert!(site.read("robots.txt").contains("Disallow: /"));
}

#[test]
fn ipa_is_byte_identical_and_manifest_matches_it() {
    let site = TestSite::basic();
    let spec = IpaSpec {
        executable_bytes: 300_000,
        ..spec("com.acme.hash", "2.0", "5").name("Hash & <Co>")
    };
    let src = site.add_ipa("releases/Hash.ipa", &spec);
    site.build_ok(&[]);
    let dir = site.public().join("apps/com.acme.hash/2.0-5");
    let copied = dir.join("hash-co-2.0.ipa");
    let (a, b) = (
        std::fs::read(&src).unwrap(),
        std::fs::read(&copied).unwrap(),
    );
    assert_eq!(a, b, "the IPA must be placed byte for byte");
    let sha = hex(&<sha2::Sha256 as sha2::Digest>::digest(&a));

    let manifest = dir.join("manifest.plist");
    let raw = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        raw.contains("<string>Hash &amp; &lt;Co&gt;</string>"),
        "{raw}"
    );
    if let Some(facts) = plistlib_manifest(&manifest) {
        assert_eq!(
            facts,
            vec![
                "com.acme.hash",
                "2.0",
                "software",
                "Hash & <Co>",
                "https://beta.example.com/apps/com.acme.hash/2.0-5/hash-co-2.0.ipa",
                sha.as_str()
            ]
        );
    }
    assert_plistutil_reads(&manifest);

    let json = release_json(&site);
    let r = &json["apps"][0]["releases"][0];
    assert_eq!(r["ipa_sha256"], sha.as_str());
    assert_eq!(r["ipa_size"], a.len() as u64);
}

#[test]
fn releases_json_has_absolute_encoded_urls() {
    let site = TestSite::basic();
    site.add_ipa(
        "releases/x/Acme & Co.ipa",
        &spec("com.acme.co", "1.0", "1").name("Acme & Co"),
    );
    site.add_ipa(
        "releases/y/Ácmé.ipa",
        &spec("com.acme.accent", "3.0", "7").name("Ácmé"),
    );
    site.build_ok(&[]);
    let json = release_json(&site);
    assert_eq!(json["site"]["title"], "Test Builds");
    let apps = json["apps"].as_array().unwrap();
    assert_eq!(apps.len(), 2);
    for app in apps {
        for r in app["releases"].as_array().unwrap() {
            for key in ["page_url", "manifest_url", "ipa_url"] {
                let url = r[key].as_str().unwrap();
                assert!(
                    url.starts_with("https://beta.example.com/apps/"),
                    "{key}: {url}"
                );
                assert!(
                    url.is_ascii() && !url.contains(' ') && !url.contains('&'),
                    "{key}: {url}"
                );
            }
            let install = r["install_url"].as_str().unwrap();
            assert!(
                install.starts_with("itms-services://?action=download-manifest&url=https%3A%2F%2F")
            );
            for key in [
                "version",
                "build",
                "channel",
                "bundle_id",
                "date",
                "min_os",
                "ipa_size",
                "ipa_sha256",
            ] {
                assert!(
                    !r[key].is_null() || key == "bundle_id",
                    "{key} missing in {r}"
                );
            }
        }
    }
    // Output names are slugs, even for `Acme & Co.ipa` and `Ácmé.ipa`.
    assert!(
        site.public()
            .join("apps/com.acme.co/1.0-1/acme-co-1.0.ipa")
            .is_file()
    );
    assert!(
        site.public()
            .join("apps/com.acme.accent/3.0-7/acme-3.0.ipa")
            .is_file()
    );
    for path in files_ending(&site.public(), "") {
        let rel = path
            .strip_prefix(site.public())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            rel.is_ascii() && !rel.contains(' ') && !rel.contains('&'),
            "{rel}"
        );
    }
}

#[test]
fn base_url_with_sub_path_is_kept_everywhere() {
    let site = TestSite::new("title: T\nbase_url: https://org.github.io/beta\n");
    site.add_ipa("releases/A.ipa", &spec("com.sub.path", "1.0", "1"));
    site.build_ok(&[]);
    let json = release_json(&site);
    let r = &json["apps"][0]["releases"][0];
    assert_eq!(
        r["manifest_url"],
        "https://org.github.io/beta/apps/com.sub.path/1.0-1/manifest.plist"
    );
    assert_eq!(
        r["ipa_url"],
        "https://org.github.io/beta/apps/com.sub.path/1.0-1/app-1.0.ipa"
    );
    assert!(
        r["install_url"]
            .as_str()
            .unwrap()
            .contains("https%3A%2F%2Forg.github.io%2Fbeta%2Fapps")
    );
    // No page may link to the host root: every internal link is relative or under the base.
    for page in files_ending(&site.public(), ".html") {
        let html = std::fs::read_to_string(&page).unwrap();
        for attr in ["href=\"/", "src=\"/"] {
            assert!(
                !html.contains(attr),
                "{} has a root-relative link",
                page.display()
            );
        }
        for url in html.split("href=\"https://org.github.io").skip(1) {
            assert!(
                url.starts_with("/beta/"),
                "{} links outside the base: {url:.40}",
                page.display()
            );
        }
    }
    let manifest = site.read("apps/com.sub.path/1.0-1/manifest.plist");
    assert!(manifest.contains("https://org.github.io/beta/apps/com.sub.path/1.0-1/app-1.0.ipa"));
}

#[test]
fn command_line_overrides_output_dir_and_base_url() {
    let site = TestSite::basic();
    site.add_ipa("releases/A.ipa", &spec("com.cli", "1.0", "1"));
    let out_dir = site.root().join("elsewhere/site");
    site.build_ok(&[
        "-o",
        out_dir.to_str().unwrap(),
        "-u",
        "https://cdn.example.org/ota",
    ]);
    assert!(!site.public().exists());
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("releases.json")).unwrap()).unwrap();
    assert_eq!(json["site"]["base_url"], "https://cdn.example.org/ota/");

    let out = site.build(&["--base-url", "http://insecure.example.org/"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--base-url"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("App Transport Security"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn json_report_on_stdout() {
    let site = TestSite::basic();
    site.add_ipa("releases/A.ipa", &spec("com.json", "1.0", "1"));
    let out = site.build_ok(&["--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["apps"], 1);
    assert_eq!(report["releases"], 1);
}

#[test]
fn drafts_are_left_out_unless_asked() {
    let site = TestSite::basic();
    site.add_ipa("releases/1/A.ipa", &spec("com.draft", "1.0", "1"));
    site.add_ipa("releases/2/A.ipa", &spec("com.draft", "2.0", "2"));
    site.write("releases/2/notes.md", "---\ndraft: true\n---\nnot yet\n");
    site.build_ok(&[]);
    assert!(!site.public().join("apps/com.draft/2.0-2").exists());
    assert!(
        site.read("apps/com.draft/latest/manifest.plist")
            .contains("<string>1.0</string>")
    );
    site.build_ok(&["--drafts"]);
    assert!(
        site.public()
            .join("apps/com.draft/2.0-2/index.html")
            .is_file()
    );
}

#[test]
fn nested_bundles_and_wrapped_payload_are_not_the_main_app() {
    let site = TestSite::basic();
    let spec = IpaSpec {
        nested_bundles: true,
        wrapper: Some("Wrapper".into()),
        xml_plist: true,
        ..spec("com.main.app", "4.0", "40").name("Main")
    };
    site.add_ipa("releases/Main.ipa", &spec);
    site.build_ok(&[]);
    let json = release_json(&site);
    assert_eq!(json["apps"][0]["bundle_id"], "com.main.app");
    assert_eq!(json["apps"][0]["releases"][0]["version"], "4.0");
}

#[test]
fn notes_cannot_inject_active_content() {
    let site = TestSite::basic();
    site.add_ipa(
        "releases/A.ipa",
        &spec("com.xss", "1.0", "1").name("<script>alert(1)</script>"),
    );
    site.write(
        "releases/A.md",
        "---\ntitle: \"<img src=x onerror=alert(1)>\"\n---\n<script>alert(1)</script>\n\n<iframe src=\"https://evil.example\"></iframe>\n\n[click](javascript:alert(1)) [ok](https://example.com)\n\n<a href=\"#\" onclick=\"x()\">a</a>\n",
    );
    site.build_ok(&[]);
    for page in files_ending(&site.public(), ".html") {
        let html = std::fs::read_to_string(&page).unwrap().to_ascii_lowercase();
        let body = &html[html.find("<body>").unwrap()..];
        for bad in [
            "<script",
            "<iframe",
            "<img",
            "javascript:",
            "onerror=",
            "onclick=",
        ] {
            let active = body.split('<').skip(1).any(|tag| {
                let tag = tag.split('>').next().unwrap_or("");
                // The theme's own icon (<img class="icon" src=".../icon.png">) is fine.
                let own_icon = tag.starts_with("img class=\"icon\" src=\"")
                    && tag.contains("/icon.png\" width=");
                format!("<{tag}").contains(bad) && !own_icon
            });
            assert!(!active, "{bad} is active in {}", page.display());
        }
    }
}

#[test]
fn init_creates_a_buildable_site() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("new-site");
    let out = otasite().arg("init").arg(&site).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::write(
        site.join("releases/A.ipa"),
        spec("com.init", "1.0", "1").to_bytes(),
    )
    .unwrap();
    let out = otasite().arg("build").arg(&site).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let again = otasite().arg("init").arg(&site).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
}

#[test]
fn bad_usage_exits_2() {
    let out = otasite()
        .args(["build", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn static_files_are_copied_and_cannot_shadow_generated_ones() {
    let site = TestSite::basic();
    site.add_ipa("releases/A.ipa", &spec("com.static", "1.0", "1"));
    site.write("static/CNAME", "beta.example.com\n");
    site.build_ok(&[]);
    assert_eq!(site.read("CNAME"), "beta.example.com\n");
    site.write("static/releases.json", "{}");
    let out = site.build(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("static/releases.json"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn theme_override_replaces_one_template() {
    let site = TestSite::basic();
    site.add_ipa("releases/A.ipa", &spec("com.theme", "1.0", "1"));
    site.write(
        "themes/default/templates/footer.html",
        "<p>Ask #beta-testers on Slack</p>\n",
    );
    site.build_ok(&[]);
    let page = site.read("apps/com.theme/1.0-1/index.html");
    assert!(page.contains("Ask #beta-testers on Slack"));
    assert!(
        page.contains("itms-services://"),
        "other templates still come from the default theme"
    );

    site.write(
        "themes/default/templates/release.html",
        "{% extends \"base.html\" %}{% block content %}{{ nope(\n{% endblock content %}",
    );
    let out = site.build(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("release.html"), "{}", stderr(&out));
}

/// An IPA path that needs percent-encoding in every segment, and its URL under the CDN.
const ODD_IPA: &str = "releases/QA Builds/1.0 #2/App ü.ipa";
const CDN: &str = "https://cdn.example.com/ota";
const ODD_IPA_URL: &str = "https://cdn.example.com/ota/QA%20Builds/1.0%20%232/App%20%C3%BC.ipa";

fn site_with_odd_ipa(ipa_base_url: Option<&str>) -> TestSite {
    let extra = ipa_base_url.map_or(String::new(), |u| format!("ipa_base_url: {u}\n"));
    let site = TestSite::new(&format!(
        "title: Test Builds\nbase_url: {BASE_URL}\nhosting: [github-pages]\n{extra}"
    ));
    // Unsigned: the pages then show the direct download link too (app page included).
    let spec = IpaSpec {
        signed: false,
        ..spec("com.acme.cdn", "1.0", "2").name("Acme CDN")
    };
    site.add_ipa(ODD_IPA, &spec);
    site.write(
        "releases/QA Builds/1.0 #2/notes.md",
        "---\nchannel: qa\n---\nNotes.\n",
    );
    site
}

fn ipas_in(site: &TestSite) -> Vec<std::path::PathBuf> {
    files_ending(&site.public(), ".ipa")
}

#[test]
fn ipa_base_url_points_everything_at_the_cdn_and_leaves_the_ipa_out() {
    let site = site_with_odd_ipa(Some(CDN));
    site.build_ok(&[]);
    assert_eq!(ipas_in(&site), Vec::<std::path::PathBuf>::new());
    let release = "apps/com.acme.cdn/1.0-2/";
    for file in [
        format!("{release}manifest.plist"),
        format!("{release}index.html"),
        "apps/com.acme.cdn/index.html".to_string(),
        "apps/com.acme.cdn/latest/index.html".to_string(),
        "apps/com.acme.cdn/latest/manifest.plist".to_string(),
        "apps/com.acme.cdn/qa/latest/index.html".to_string(),
        "releases.json".to_string(),
        "feed.xml".to_string(),
        "apps/com.acme.cdn/feed.xml".to_string(),
    ] {
        let text = site.read(&file);
        assert!(
            text.contains(ODD_IPA_URL),
            "{file} lacks {ODD_IPA_URL}:\n{text}"
        );
        assert!(
            !text.contains("/acme-cdn-1.0.ipa"),
            "{file} names the site's IPA:\n{text}"
        );
    }
    let json = release_json(&site);
    assert_eq!(
        json["apps"][0]["releases"][0]["ipa_url"], ODD_IPA_URL,
        "{json:#}"
    );
    // Icons, manifests and pages are still in the site.
    for f in ["manifest.plist", "index.html", "icon.png"] {
        assert!(site.public().join(release).join(f).is_file(), "{f}");
    }
}

#[test]
fn switching_ipa_base_url_on_and_off_gives_the_right_files() {
    let site = site_with_odd_ipa(None);
    let with = format!("title: Test Builds\nbase_url: {BASE_URL}\nipa_base_url: {CDN}/\n");
    let without = format!("title: Test Builds\nbase_url: {BASE_URL}\n");
    let in_site = site
        .public()
        .join("apps/com.acme.cdn/1.0-2/acme-cdn-1.0.ipa");
    for (yaml, ipa_there) in [
        (&without, true),
        (&with, false),
        (&without, true),
        (&with, false),
    ] {
        site.write("site.yaml", yaml);
        site.build_ok(&[]);
        let manifest = site.read("apps/com.acme.cdn/1.0-2/manifest.plist");
        assert_eq!(in_site.is_file(), ipa_there, "{yaml}");
        assert_eq!(
            manifest.contains(ODD_IPA_URL),
            !ipa_there,
            "{yaml}\n{manifest}"
        );
        assert_eq!(ipas_in(&site).len(), usize::from(ipa_there), "{yaml}");
        // Up to date: a second build changes nothing and still has the right files.
        let again = site.build_ok(&[]);
        assert_eq!(in_site.is_file(), ipa_there, "{}", stderr(&again));
    }
    // The flag alone switches it too (and is recorded: no stale "up to date").
    site.build_ok(&["--ipa-base-url", "https://other.example.net/x"]);
    assert!(!in_site.is_file());
    let manifest = site.read("apps/com.acme.cdn/1.0-2/manifest.plist");
    assert!(
        manifest.contains("https://other.example.net/x/QA%20Builds/1.0%20%232/App%20%C3%BC.ipa"),
        "{manifest}"
    );
}

#[test]
fn the_ipa_base_url_flag_overrides_the_key() {
    let site = site_with_odd_ipa(Some("https://old.example.com/"));
    site.build_ok(&["--ipa-base-url", CDN]);
    let manifest = site.read("apps/com.acme.cdn/1.0-2/manifest.plist");
    assert!(manifest.contains(ODD_IPA_URL), "{manifest}");
    assert!(!manifest.contains("old.example.com"), "{manifest}");
    let out = site.build(&["--ipa-base-url", "ftp://cdn.example.com/"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--ipa-base-url"), "{}", stderr(&out));
}

#[test]
fn bad_ipa_base_url_names_site_yaml_and_line() {
    for bad in [
        "http://cdn.example.com/",
        "cdn.example.com/ota",
        "https://cdn.example.com/ota?sig=1",
        "https://cdn.example.com/ota#x",
    ] {
        let site = site_with_odd_ipa(Some(bad));
        let out = site.build(&[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{bad}: {err}");
        assert!(
            err.contains("site.yaml:4") && err.contains("ipa_base_url"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn host_limits_leave_out_ipas_at_ipa_base_url_and_suggest_it() {
    // A 101 MiB IPA (stored, so the file is that large) over GitHub's file limit.
    let big = IpaSpec {
        executable_bytes: 101 * 1024 * 1024,
        store_executable: true,
        ..spec("com.acme.big", "1.0", "1")
    };
    let site = TestSite::new(&format!(
        "title: Test Builds\nbase_url: {BASE_URL}\nhosting: [github-pages]\n"
    ));
    site.add_ipa("releases/Big.ipa", &big);
    let out = site.build_ok(&["--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let limit: Vec<&serde_json::Value> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["code"] == "host-limit")
        .collect();
    assert_eq!(limit.len(), 1, "{report:#}");
    assert!(
        limit[0]["fix"].as_str().unwrap().contains("ipa_base_url"),
        "{report:#}"
    );
    let out = site.build_ok(&["--json", "--ipa-base-url", CDN]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        !report["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["code"] == "host-limit"),
        "{report:#}"
    );
}
