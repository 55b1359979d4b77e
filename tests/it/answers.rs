//! Issue 16, every mistake gets a precise answer: what the build used to leave out without a
//! word (an IPA outside the releases folder, notes that go with no IPA, files in the output
//! that otasite did not write) is a warning naming the file and what to do; YAML mistakes say
//! what to write instead; an old release's expired profile does not fail `check` for good;
//! host limits are warned about only for the hosts site.yaml names.

use std::path::Path;

use crate::common::*;
use otasite::testkit::{IpaSpec, ProfileSpec};

/// Builds with `--json`; returns (exit code, stderr, the report's warnings).
fn build_json(site: &TestSite) -> (Option<i32>, String, Vec<serde_json::Value>) {
    let out = site.build(&["--json"]);
    let err = stderr(&out);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}):\n{err}"));
    let warnings = report["warnings"].as_array().unwrap().clone();
    (out.status.code(), err, warnings)
}

/// The warnings with `code`.
fn coded<'a>(warnings: &'a [serde_json::Value], code: &str) -> Vec<&'a serde_json::Value> {
    warnings.iter().filter(|w| w["code"] == code).collect()
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

#[test]
fn an_ipa_outside_the_releases_folder_is_a_warning_saying_where_it_goes() {
    let site = TestSite::basic();
    site.add_ipa("releases/Good.ipa", &spec("com.good", "1.0", "1"));
    site.add_ipa("MyApp.ipa", &spec("com.root", "1.0", "1"));
    site.add_ipa("release/1.0/Typo.ipa", &spec("com.typo", "1.0", "1"));
    // Not releases, not looked at: tools' and otasite's own folders.
    site.add_ipa("node_modules/x/Dep.ipa", &spec("com.dep", "1.0", "1"));
    site.add_ipa(".git/x/Git.ipa", &spec("com.git", "1.0", "1"));
    let root = site.root();
    let (code, err, warnings) = build_json(&site);
    assert_eq!(code, Some(0), "{err}");
    let line = format!(
        "warning: {}: this IPA is outside the releases folder {}, so the site does not publish \
         it; move it into {} (for example to {}), or out of the site folder if it is not a \
         release",
        shown(&root.join("MyApp.ipa")),
        shown(&root.join("releases")),
        shown(&root.join("releases")),
        shown(&root.join("releases/MyApp.ipa")),
    );
    assert!(err.contains(&line), "{line}\n---\n{err}");
    let typo = format!(
        "warning: {}: this IPA is in {}, not in the releases folder {}, so the site does not \
         publish it; rename the folder {} to {} (it looks misspelt), or move the IPA to {}",
        shown(&root.join("release/1.0/Typo.ipa")),
        shown(&root.join("release")),
        shown(&root.join("releases")),
        shown(&root.join("release")),
        shown(&root.join("releases")),
        shown(&root.join("releases/1.0/Typo.ipa")),
    );
    assert!(err.contains(&typo), "{typo}\n---\n{err}");
    let outside = coded(&warnings, "ipa-outside-releases");
    assert_eq!(outside.len(), 2, "{warnings:?}");
    assert_eq!(outside[0]["severity"], "warning");
    assert!(
        !err.contains("Dep.ipa") && !err.contains("Git.ipa"),
        "{err}"
    );

    // `check` says the same.
    let out = otasite()
        .arg("check")
        .arg(root)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let checked: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = checked["problems"].as_array().unwrap();
    assert_eq!(coded(problems, "ipa-outside-releases").len(), 2);

    // Once moved away, the warning is not repeated from the last build's record.
    std::fs::remove_file(root.join("MyApp.ipa")).unwrap();
    let (code, err, warnings) = build_json(&site);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(coded(&warnings, "ipa-outside-releases").len(), 1, "{err}");
    assert!(!err.contains("MyApp.ipa"), "{err}");
}

#[test]
fn notes_that_go_with_no_ipa_name_the_closest_ipa() {
    let site = TestSite::basic();
    site.add_ipa("releases/1/VeryCapable.ipa", &spec("com.vc", "1.0", "1"));
    site.write(
        "releases/1/VeryCapabel.md",
        "---\ntitle: Big one\n---\nNews.\n",
    );
    site.write(
        "releases/2.0/notes.md",
        "Notes for a build not copied yet.\n",
    );
    site.write(
        "releases/README.md",
        "What goes where (as `otasite init` writes).\n",
    );
    let root = site.root();
    let (code, err, warnings) = build_json(&site);
    assert_eq!(code, Some(0), "{err}");
    let misspelt = format!(
        "warning: {}: VeryCapabel.md matches no IPA in this folder (notes are <IPA name>.md, or \
         notes.md for every IPA of the folder), so it is not published; rename it to \
         VeryCapable.md for VeryCapable.ipa (the closest IPA name here), or to notes.md for \
         every IPA in this folder",
        shown(&root.join("releases/1/VeryCapabel.md"))
    );
    assert!(err.contains(&misspelt), "{misspelt}\n---\n{err}");
    let lonely = format!(
        "warning: {}: there is no .ipa in {}, so these notes go with no release and are not \
         published; put the build's .ipa in {} (notes.md goes with every IPA in its folder), or \
         remove the notes",
        shown(&root.join("releases/2.0/notes.md")),
        shown(&root.join("releases/2.0")),
        shown(&root.join("releases/2.0")),
    );
    assert!(err.contains(&lonely), "{lonely}\n---\n{err}");
    assert_eq!(coded(&warnings, "notes-unused").len(), 2, "{warnings:?}");
    assert!(!err.contains("README.md"), "{err}");

    // Renamed as told, the notes are published and the warning is gone.
    std::fs::rename(
        root.join("releases/1/VeryCapabel.md"),
        root.join("releases/1/VeryCapable.md"),
    )
    .unwrap();
    let (_, err, warnings) = build_json(&site);
    assert_eq!(coded(&warnings, "notes-unused").len(), 1, "{err}");
    assert!(
        site.read("apps/com.vc/1.0-1/index.html")
            .contains("Big one")
    );
}

#[test]
fn files_in_the_output_that_otasite_did_not_write_are_named_before_they_go() {
    let site = TestSite::basic();
    site.add_ipa("releases/App.ipa", &spec("com.out", "1.0", "1"));
    site.build_ok(&[]);
    let public = site.public();
    std::fs::write(public.join("CNAME"), "beta.example.com\n").unwrap();
    std::fs::create_dir_all(public.join("old/deep")).unwrap();
    std::fs::write(public.join("old/a.html"), "a").unwrap();
    std::fs::write(public.join("old/deep/b.html"), "b").unwrap();
    std::fs::write(public.join("apps/com.out/notes.txt"), "mine").unwrap();
    let root = site.root();

    let (code, err, warnings) = build_json(&site);
    assert_eq!(code, Some(0), "{err}");
    let cname = format!(
        "warning: {}: otasite did not write this file, and this build removes it: every build \
         replaces the output folder whole; to publish it with the site, put it in {} (copied \
         into the site root as it is); to keep it apart from the site, keep it outside {}",
        shown(&public.join("CNAME")),
        shown(&root.join("static/CNAME")),
        shown(&public),
    );
    assert!(err.contains(&cname), "{cname}\n---\n{err}");
    let folder = format!(
        "warning: {}: otasite did not write this folder (2 files), and this build removes it",
        shown(&public.join("old/")),
    );
    assert!(err.contains(&folder), "{folder}\n---\n{err}");
    assert!(
        err.contains(&format!(
            "warning: {}: otasite did not write this file",
            shown(&public.join("apps/com.out/notes.txt"))
        )),
        "{err}"
    );
    assert_eq!(
        coded(&warnings, "output-not-written").len(),
        3,
        "{warnings:?}"
    );
    assert!(!public.join("CNAME").exists() && !public.join("old").exists());

    // Done as told: the file is published from static/, and nothing is said again.
    site.write("static/CNAME", "beta.example.com\n");
    let (_, err, warnings) = build_json(&site);
    assert!(coded(&warnings, "output-not-written").is_empty(), "{err}");
    assert_eq!(site.read("CNAME"), "beta.example.com\n");
    let (_, err, _) = build_json(&site);
    assert!(!err.contains("did not write"), "{err}");
}

/// A build that fails with exit 1 and a message containing each of `expected`.
fn fails_saying(site: &TestSite, expected: &[&str]) {
    let out = site.build(&[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for e in expected {
        assert!(err.contains(e), "expected {e:?} in:\n{err}");
    }
}

#[test]
fn yaml_mistakes_say_what_to_write_instead() {
    let site = TestSite::basic();
    site.add_ipa("releases/App.ipa", &spec("com.yaml", "1.0", "1"));
    let yaml = shown(&site.root().join("site.yaml"));

    site.write(
        "site.yaml",
        format!("base_url: {BASE_URL}\ntitle: Fix: crash on launch\n"),
    );
    fails_saying(
        &site,
        &[
            &format!("error: {yaml}:2:"),
            "mapping values are not allowed in this context; the value of `title` contains \": \
             \", which YAML reads as a new key: put the value in quotes, as in title: \"Fix: \
             crash on launch\"",
        ],
    );

    site.write(
        "site.yaml",
        format!("title: T\nbase_url: {BASE_URL}\nhosting:\n\t- nginx\n"),
    );
    fails_saying(
        &site,
        &[
            &format!("error: {yaml}:4:1:"),
            "replace the tab at line 4, column 1 with spaces: YAML indents with spaces only",
        ],
    );

    site.write(
        "site.yaml",
        format!("title: T\nbase_url: {BASE_URL}\nnoindx: false\n"),
    );
    fails_saying(
        &site,
        &[
            &format!("error: {yaml}:3:"),
            "unknown field `noindx`, expected one of `title`",
            "`amp`, `udid`; did you mean `noindex`?",
        ],
    );

    site.write(
        "site.yaml",
        format!("title: T\nbase_url: {BASE_URL}\nhosting: [netlfy]\n"),
    );
    fails_saying(
        &site,
        &["unknown variant `netlfy`", "did you mean `netlify`?"],
    );

    site.write("site.yaml", format!("title: T\nbase_url: {BASE_URL}\n"));
    let notes = shown(&site.root().join("releases/App.md"));
    site.write("releases/App.md", "---\ntitle: Fix: crash\n---\nBody\n");
    fails_saying(
        &site,
        &[
            &format!("error: {notes}:2:"),
            "put the value in quotes, as in title: \"Fix: crash\"",
        ],
    );
    site.write("releases/App.md", "---\nchanel: beta\n---\nBody\n");
    fails_saying(
        &site,
        &[
            &format!("error: {notes}:2:"),
            "unknown field `chanel`, expected one of",
            "did you mean `channel`?",
        ],
    );
    site.write(
        "releases/App.md",
        "---\ntitle: x\n\tdate: 2026-01-01\n---\nBody\n",
    );
    fails_saying(
        &site,
        &[&format!("error: {notes}:3:1:"), "replace the tab at line 3"],
    );
}

/// Runs `check --json`; returns (exit code, problems).
fn check(site: &TestSite) -> (Option<i32>, Vec<serde_json::Value>) {
    let out = otasite()
        .arg("check")
        .arg(site.root())
        .arg("--json")
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}):\n{}", stderr(&out)));
    (
        out.status.code(),
        report["problems"].as_array().unwrap().clone(),
    )
}

/// The `profile-expired` findings, as (path under releases/, severity).
fn expired(list: &[serde_json::Value]) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = coded(list, "profile-expired")
        .iter()
        .map(|p| {
            let file = p["file"].as_str().unwrap();
            let release = file.rsplit("releases/").next().unwrap();
            (
                release.to_string(),
                p["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn an_old_release_with_an_expired_profile_is_a_warning_and_still_not_installable() {
    let site = TestSite::basic();
    let day = std::time::Duration::from_secs(24 * 3600);
    let expired_profile = ProfileSpec {
        expires: std::time::SystemTime::now() - day,
        created: std::time::SystemTime::now() - 400 * day,
        ..ProfileSpec::ad_hoc(&[TEST_DEVICE])
    };
    let old = |version: &str, build: &str| IpaSpec {
        profile: Some(expired_profile.clone()),
        ..spec("com.hist", version, build)
    };
    site.add_ipa("releases/1.0/Hist.ipa", &old("1.0", "1"));
    site.add_ipa("releases/2.0/Hist.ipa", &spec("com.hist", "2.0", "2"));
    // The newest of channel beta has expired: an error, as testers of beta have nothing else.
    site.add_ipa("releases/0.9-beta/Hist.ipa", &old("0.9", "0"));
    site.write("releases/0.9-beta/notes.md", "---\nchannel: beta\n---\n");

    let (code, err, warnings) = build_json(&site);
    assert_eq!(code, Some(0), "{err}");
    let (exit, problems) = check(&site);
    assert_eq!(
        expired(&problems),
        [
            ("0.9-beta/Hist.ipa".to_string(), "error".to_string()),
            ("1.0/Hist.ipa".to_string(), "warning".to_string()),
        ],
        "{problems:?}"
    );
    assert_eq!(exit, Some(1), "the newest of beta expired: {problems:?}");
    assert_eq!(
        expired(&warnings),
        expired(&problems),
        "the build and check agree"
    );
    let warned = coded(&problems, "profile-expired")
        .into_iter()
        .find(|p| p["severity"] == "warning")
        .unwrap();
    assert!(
        warned["file"]
            .as_str()
            .unwrap()
            .ends_with("releases/1.0/Hist.ipa"),
        "{warned}"
    );
    assert!(
        warned["message"]
            .as_str()
            .unwrap()
            .contains("(an older release: ")
            && warned["message"]
                .as_str()
                .unwrap()
                .contains(" 2.0 (2) is the newest of channel stable)"),
        "{warned}"
    );
    assert!(
        warned["fix"]
            .as_str()
            .unwrap()
            .starts_with("remove this IPA from the releases folder if testers no longer need it"),
        "{warned}"
    );
    // Still not installable from any page.
    let page = site.read("apps/com.hist/1.0-1/index.html");
    assert!(!page.contains("itms-services:"), "no install link");
    assert!(
        site.read("apps/com.hist/2.0-2/index.html")
            .contains("itms-services:")
    );

    // With beta gone, only the old stable release is expired: check passes, with a warning.
    std::fs::remove_dir_all(site.root().join("releases/0.9-beta")).unwrap();
    site.build_ok(&[]);
    let (exit, problems) = check(&site);
    assert_eq!(
        expired(&problems),
        [("1.0/Hist.ipa".to_string(), "warning".to_string())]
    );
    assert_eq!(exit, Some(0), "{problems:?}");
}

#[test]
fn host_limits_only_for_hosts_site_yaml_names() {
    let big = IpaSpec {
        executable_bytes: 26 * 1024 * 1024,
        store_executable: true,
        ..spec("com.big", "1.0", "1")
    };
    let site = TestSite::basic();
    site.add_ipa("releases/Big.ipa", &big);
    let (code, err, warnings) = build_json(&site);
    assert_eq!(code, Some(0), "{err}");
    assert!(coded(&warnings, "host-limit").is_empty(), "{err}");
    assert!(!err.contains("25 MiB"), "{err}");
    // Every host's files are still written.
    for file in [
        ".htaccess",
        "web.config",
        "_headers",
        ".nojekyll",
        "vercel.json",
    ] {
        assert!(site.public().join(file).is_file(), "{file}");
    }
    let (exit, problems) = check(&site);
    assert!(coded(&problems, "host-limit").is_empty(), "{problems:?}");
    assert_eq!(exit, Some(0));

    site.write(
        "site.yaml",
        format!("title: T\nbase_url: {BASE_URL}\nhosting: [cloudflare]\n"),
    );
    let (code, err, warnings) = build_json(&site);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(coded(&warnings, "host-limit").len(), 1, "{err}");
    let file = shown(&site.root().join("releases/Big.ipa"));
    let line = err
        .lines()
        .find(|l| l.starts_with(&format!("warning: {file}: ")))
        .unwrap_or_else(|| panic!("no warning about {file}:\n{err}"));
    assert!(
        line.contains(" MiB is over Cloudflare Pages' 25 MiB file limit; the deploy will fail; ")
            && line.contains("set `ipa_base_url` in site.yaml")
            && line.ends_with(
                "or serve the site from another host, or remove `cloudflare` from `hosting`"
            ),
        "{line}"
    );
}

#[test]
fn init_lists_the_hosts_in_a_commented_hosting_line() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    let out = otasite().arg("init").arg(&site).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let yaml = std::fs::read_to_string(site.join("site.yaml")).unwrap();
    assert!(yaml.contains("\n# hosting: [github-pages]\n"), "{yaml}");
    let comments: String = yaml
        .lines()
        .filter(|l| l.starts_with('#'))
        .collect::<Vec<_>>()
        .join(" ");
    for host in otasite::Host::ALL {
        let name = serde_json::to_value(host).unwrap();
        let name = name.as_str().unwrap();
        assert!(
            comments.contains(&format!(" {name},")) || comments.contains(&format!(" {name}.")),
            "{name} in:\n{yaml}"
        );
    }
    // Uncommented, the line is valid, and naming a host writes no fewer files.
    let named = yaml.replace("# hosting: [github-pages]", "hosting: [github-pages]");
    std::fs::write(site.join("site.yaml"), named).unwrap();
    std::fs::write(
        site.join("releases/App.ipa"),
        spec("com.init", "1.0", "1").to_bytes(),
    )
    .unwrap();
    let out = otasite().arg("build").arg(&site).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(site.join("public/.nojekyll").is_file());
}
