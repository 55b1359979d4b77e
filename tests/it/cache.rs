//! The build cache in SITE_DIR/.otasite/: a warm build opens no IPA, an unchanged site is
//! recognised without reading anything, and unchanged output files are not rewritten.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::common::TestSite;
use otasite::testkit::{IpaSpec, ProfileSpec};

const UDID: &str = "00008030-001A2B3C4D5E6F70";

fn site() -> TestSite {
    let site = TestSite::basic();
    for (i, version) in ["1.0", "1.1", "2.0"].iter().enumerate() {
        let spec = IpaSpec {
            icon: Some([200, 40, 40]),
            profile: Some(ProfileSpec::ad_hoc(&[UDID])),
            ..IpaSpec::new("com.acme.cache", version, &format!("{}", i + 1)).name("Cache")
        };
        site.add_ipa(&format!("releases/{version}/App.ipa"), &spec);
        site.write(
            &format!("releases/{version}/notes.md"),
            format!("- Notes for {version}\n"),
        );
    }
    site
}

fn report(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json report")
}

/// Every output file with (inode, modification time).
fn snapshot(dir: &Path) -> BTreeMap<String, (u64, SystemTime)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let m = e.metadata().unwrap();
            let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
            (rel, (m.ino(), m.modified().unwrap()))
        })
        .collect()
}

/// Overwrites a file in place with zeros of the same length and puts its time back: what the
/// cache's key cannot see, so only a build that does not open the file still succeeds.
fn blank_keeping_key(path: &Path) {
    let meta = std::fs::metadata(path).unwrap();
    let time = meta.modified().unwrap();
    std::fs::write(path, vec![0u8; meta.len() as usize]).unwrap();
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(time)
        .unwrap();
    assert_eq!(std::fs::metadata(path).unwrap().ino(), meta.ino());
}

#[test]
fn unchanged_site_is_up_to_date_and_opens_nothing() {
    let site = site();
    let first = report(&site.build(&["--json"]));
    assert_eq!(first["up_to_date"], false);
    assert_eq!(first["written"], first["files"]);
    let before = snapshot(&site.public());

    let second = report(&site.build(&["--json"]));
    assert_eq!(second["up_to_date"], true, "{second}");
    assert_eq!(second["written"], 0);
    assert_eq!(second["files"], first["files"]);
    assert_eq!(snapshot(&site.public()), before, "nothing was touched");

    // The check itself opens no IPA: a blanked one (same size, time, inode) goes unnoticed.
    blank_keeping_key(&site.root().join("releases/1.0/App.ipa"));
    assert_eq!(report(&site.build(&["--json"]))["up_to_date"], true);
}

#[test]
fn warm_build_reads_no_ipa_and_rewrites_only_what_changed() {
    let site = site();
    report(&site.build(&["--json"]));
    let before = snapshot(&site.public());
    std::thread::sleep(Duration::from_millis(20));

    // Blank every IPA behind the cache's back: a build that opened one would fail.
    for v in ["1.0", "1.1", "2.0"] {
        blank_keeping_key(&site.root().join(format!("releases/{v}/App.ipa")));
    }
    site.write("releases/1.1/notes.md", "- Notes for 1.1, now longer\n");
    let warm = report(&site.build(&["--json"]));
    assert_eq!(warm["up_to_date"], false);
    let after = snapshot(&site.public());
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    let changed: Vec<&String> = after
        .iter()
        .filter(|(path, key)| before[*path] != **key)
        .map(|(path, _)| path)
        .collect();
    assert_eq!(warm["written"].as_u64(), Some(changed.len() as u64));
    let page = "apps/com.acme.cache/1.1-2/index.html";
    assert!(changed.iter().any(|p| *p == page), "{changed:?}");
    assert!(
        std::fs::read_to_string(site.public().join(page))
            .unwrap()
            .contains("now longer")
    );
    for path in &changed {
        assert!(
            path.ends_with(".html") || path.ends_with(".xml") || path.ends_with(".json"),
            "only pages and feeds may change for a notes edit, not {path}"
        );
    }
    assert!(
        !changed
            .iter()
            .any(|p| p.starts_with("apps/com.acme.cache/1.0-1/")),
        "another release's page was rewritten: {changed:?}"
    );

    // Without the cache the blanked IPAs are read, and refused by name.
    let cold = site.build(&["--no-cache"]);
    assert!(!cold.status.success());
    let err = String::from_utf8_lossy(&cold.stderr);
    assert!(
        err.contains("App.ipa") && err.contains("not a valid IPA"),
        "{err}"
    );
    // The failed build left the site as it was.
    assert_eq!(snapshot(&site.public()), after);
}

#[test]
fn changes_anywhere_are_noticed() {
    let site = site();
    report(&site.build(&["--json"]));
    let page = site.public().join("apps/com.acme.cache/2.0-3/index.html");

    // An output file deleted or edited by hand is put back.
    std::fs::remove_file(&page).unwrap();
    assert_eq!(report(&site.build(&["--json"]))["up_to_date"], false);
    assert!(page.is_file());
    std::fs::write(&page, "edited").unwrap();
    assert_eq!(report(&site.build(&["--json"]))["up_to_date"], false);
    assert!(
        std::fs::read_to_string(&page)
            .unwrap()
            .contains("<!doctype html>")
    );

    // site.yaml, a theme file, a new IPA.
    site.write(
        "site.yaml",
        "title: Renamed\nbase_url: https://builds.example.com/\n",
    );
    assert_eq!(report(&site.build(&["--json"]))["up_to_date"], false);
    assert!(
        std::fs::read_to_string(site.public().join("index.html"))
            .unwrap()
            .contains("Renamed")
    );
    site.write(
        "themes/default/style.css",
        "body { color: rebeccapurple }\n",
    );
    assert_eq!(report(&site.build(&["--json"]))["up_to_date"], false);
    let spec = IpaSpec::new("com.acme.other", "1.0", "1").name("Other");
    site.add_ipa("releases/other/App.ipa", &spec);
    let r = report(&site.build(&["--json"]));
    assert_eq!(
        (r["up_to_date"].clone(), r["apps"].clone()),
        (false.into(), 2.into())
    );
    // And a replaced IPA (new inode) with the same size and time as the old one.
    let path = site.root().join("releases/other/App.ipa");
    let meta = std::fs::metadata(&path).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let hash_before = sha256_of(&site, "com.acme.other");
    // One byte of the executable's filler (never decompressed; it changes the hash only).
    let middle = bytes.len() / 3;
    bytes[middle] ^= 0xff;
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, bytes).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(meta.modified().unwrap())
        .unwrap();
    assert_ne!(std::fs::metadata(&path).unwrap().ino(), meta.ino());
    report(&site.build(&["--json"]));
    assert_ne!(
        sha256_of(&site, "com.acme.other"),
        hash_before,
        "the replaced IPA was read again"
    );
}

fn sha256_of(site: &TestSite, bundle_id: &str) -> String {
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(site.public().join("releases.json")).unwrap())
            .unwrap();
    let text = json.to_string();
    let at = text.find(bundle_id).unwrap();
    let from = at + text[at..].find("\"ipa_sha256\":\"").unwrap() + 14;
    text[from..from + 64].to_string()
}

#[test]
fn cache_keeps_no_udids_and_survives_damage() {
    let site = site();
    report(&site.build(&["--json"]));
    let cache = site.root().join(".otasite");
    let mut files = 0;
    for entry in walkdir::WalkDir::new(&cache)
        .into_iter()
        .filter_map(Result::ok)
    {
        if entry.file_type().is_file() {
            files += 1;
            let bytes = std::fs::read(entry.path()).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(UDID),
                "{} holds a UDID",
                entry.path().display()
            );
            assert!(
                !text.contains("1A2B3C4D5E6F70"),
                "{}",
                entry.path().display()
            );
        }
    }
    assert!(files >= 5, "index, record and icon files: {files}");

    // Damaged cache files are ignored and replaced.
    std::fs::write(cache.join("build.json"), "{ not json").unwrap();
    std::fs::write(cache.join("cache/ipas.json"), [0xff, 0, 1]).unwrap();
    let r = report(&site.build(&["--json"]));
    assert_eq!(r["up_to_date"], false);
    assert_eq!(report(&site.build(&["--json"]))["up_to_date"], true);
}

#[test]
fn an_unwritable_cache_only_costs_speed() {
    let site = site();
    // A file where the cache folder goes: nothing can be created in it (as a read-only
    // checkout would; permissions do not stop root, which CI runs as).
    site.write(".otasite", "not a folder");
    let out = site.build(&["--json"]);
    let r = report(&out);
    assert_eq!(r["up_to_date"], false);
    let warnings = r["warnings"].to_string();
    assert!(
        warnings.contains("the build cache could not be written"),
        "{warnings}"
    );
    let icon = site.public().join("apps/com.acme.cache/1.0-1/icon-512.png");
    assert!(std::fs::read(&icon).unwrap().starts_with(b"\x89PNG"));
    assert_eq!(report(&site.build(&["--json"]))["up_to_date"], false);
}
