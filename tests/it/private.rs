//! Private releases: an unguessable, stable path from a secret kept outside the site, listed
//! nowhere, with nothing private (paths, secret, UDIDs, source paths) in any public file.

use std::process::Command;

use crate::common::*;
use otasite::testkit::{IpaSpec, ProfileSpec};

const SECRET: &str = "7f3a9c1e5b2d8f4a6c0e1b3d5f7a9c2e";

fn build(site: &TestSite, secret: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_otasite"));
    cmd.arg("build")
        .arg(site.root())
        .arg("--json")
        .env_remove("OTASITE_SECRET");
    if let Some(s) = secret {
        cmd.env("OTASITE_SECRET", s);
    }
    cmd.output().unwrap()
}

fn private_site() -> TestSite {
    let site = TestSite::new(&format!("title: T\nbase_url: {BASE_URL}\nprivate: true\n"));
    let ipa = |v: &str, b: &str| IpaSpec {
        profile: Some(ProfileSpec::ad_hoc(&["00008030-00AB00CD00EF0011"])),
        ..spec("com.secret.app", v, b).name("Secret")
    };
    site.add_ipa("releases/1/App.ipa", &ipa("1.0", "1"));
    site.write(
        "releases/1/notes.md",
        "---\nprivate: false\n---\nPublic one.\n",
    );
    site.add_ipa("releases/2/App.ipa", &ipa("2.0", "2"));
    site.write("releases/2/notes.md", "Private one.\n");
    site
}

#[test]
fn private_releases_are_unlisted_and_unguessable() {
    let site = private_site();
    let out = build(&site, Some(SECRET));
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let private = report["private"].as_array().unwrap();
    assert_eq!(private.len(), 1);
    let url = private[0]
        .as_str()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    let rel = url.strip_prefix(BASE_URL).unwrap().to_string();
    assert!(rel.starts_with("p/") && rel.len() == 2 + 32 + 1, "{rel}");
    let dir = site.public().join(&rel);
    assert!(dir.join("index.html").is_file() && dir.join("manifest.plist").is_file());
    assert!(
        std::fs::read_to_string(dir.join("index.html"))
            .unwrap()
            .contains("Private one.")
    );
    assert!(
        std::fs::read_to_string(dir.join("manifest.plist"))
            .unwrap()
            .contains(&format!("{url}secret-2.0.ipa"))
    );
    assert!(!site.public().join("apps/com.secret.app/2.0-2").exists());

    // Nothing public mentions the private release, the secret, a UDID or a source path.
    let hash = rel.trim_start_matches("p/").trim_end_matches('/');
    let root = site.root().to_string_lossy().into_owned();
    for file in files_ending(&site.public(), "") {
        let rel_file = file
            .strip_prefix(site.public())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if rel_file.ends_with(".ipa") || rel_file.ends_with(".png") {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert!(!text.contains(SECRET), "the secret is in {rel_file}");
        assert!(!text.contains(&root), "a source path is in {rel_file}");
        assert!(
            !text.to_ascii_uppercase().contains("00AB00CD00EF0011"),
            "a UDID is in {rel_file}"
        );
        if !rel_file.starts_with(&format!("p/{hash}/")) {
            assert!(!text.contains(hash), "the private path is in {rel_file}");
            assert!(
                !text.contains("Private one."),
                "the private notes are in {rel_file}"
            );
        }
    }
    // The public release is listed as usual.
    assert!(site.read("releases.json").contains("Public one."));

    // Stable across builds; another secret gives another path.
    let again: serde_json::Value =
        serde_json::from_slice(&build(&site, Some(SECRET)).stdout).unwrap();
    assert_eq!(again["private"], report["private"]);
    let other: serde_json::Value =
        serde_json::from_slice(&build(&site, Some("a-completely-different-secret")).stdout)
            .unwrap();
    assert_ne!(other["private"], report["private"]);

    // The private page is valid AMP, noindex, and links to no other page; check passes.
    let out = build(&site, Some(SECRET));
    assert!(out.status.success());
    let page = std::fs::read_to_string(site.public().join(&rel).join("index.html")).unwrap();
    assert!(page.contains("<meta name=\"robots\" content=\"noindex, nofollow\">"));
    assert!(!page.contains("class=\"crumbs\""));
    assert_amp_valid(&files_ending(&site.public(), ".html"));
    let check = otasite()
        .arg("check")
        .arg(site.root())
        .env("OTASITE_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[test]
fn the_secret_is_required_long_and_kept_out_of_the_output() {
    let site = private_site();
    let out = build(&site, None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("OTASITE_SECRET"), "{}", stderr(&out));
    let out = build(&site, Some("short"));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("shorter than 16"), "{}", stderr(&out));

    // A secret file outside the site works; one inside the output folder is refused.
    let outside = tempfile::tempdir().unwrap();
    let secret_file = outside.path().join("otasite.secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    site.write(
        "site.yaml",
        format!(
            "title: T\nbase_url: {BASE_URL}\nprivate: true\nsecret_file: {}\n",
            secret_file.display()
        ),
    );
    let out = build(&site, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let with_env: serde_json::Value =
        serde_json::from_slice(&build(&site, Some(SECRET)).stdout).unwrap();
    let with_file: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        with_env["private"], with_file["private"],
        "the same secret, from either place"
    );
    site.write(
        "site.yaml",
        format!("title: T\nbase_url: {BASE_URL}\nprivate: true\nsecret_file: public/secret\n"),
    );
    let out = build(&site, None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("must not be inside the output folder"),
        "{}",
        stderr(&out)
    );
}

/// With `ipa_base_url`, a private release's IPA is at its public path in the bucket: said.
#[test]
fn private_release_with_ipa_base_url_is_warned_about() {
    let site = private_site();
    let mut yaml = std::fs::read_to_string(site.root().join("site.yaml")).unwrap();
    yaml.push_str("ipa_base_url: https://cdn.example.com/ota/\n");
    site.write("site.yaml", yaml);
    let out = build(&site, Some(SECRET));
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warned: Vec<&str> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["code"] == "private-ipa-public")
        .map(|w| w["file"].as_str().unwrap())
        .collect();
    assert_eq!(warned.len(), 1, "{report:#}");
    assert!(warned[0].ends_with("releases/2/App.ipa"), "{report:#}");
}
