//! Bad input: every failure exits 1 with a message naming the file, and the previous site
//! stays byte-identical.

use crate::common::*;
use otasite::testkit::zip_with;

/// Builds a good site, breaks it with `breakage`, rebuilds, and checks the failure is clean.
/// Returns stderr of the failed build.
fn fails_cleanly(breakage: impl FnOnce(&TestSite)) -> String {
    let site = TestSite::basic();
    site.add_ipa("releases/good/Good.ipa", &spec("com.good", "1.0", "1"));
    site.build_ok(&[]);
    let before = snapshot(&site.public());
    assert!(before.len() > 5);

    breakage(&site);
    let out = site.build(&[]);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1, stderr:\n{err}"
    );
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        snapshot(&site.public()),
        before,
        "the previous site must be untouched"
    );
    let leftovers: Vec<_> = std::fs::read_dir(site.root())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("otasite-"))
        .collect();
    assert!(leftovers.is_empty(), "staging left behind: {leftovers:?}");
    err
}

#[test]
fn truncated_ipa() {
    let err = fails_cleanly(|site| {
        let bytes = spec("com.trunc", "1.0", "1").to_bytes();
        site.write("releases/bad/Broken.ipa", &bytes[..bytes.len() / 2]);
    });
    assert!(err.contains("releases/bad/Broken.ipa"), "{err}");
    assert!(err.contains("not a valid IPA"), "{err}");
}

#[test]
fn empty_and_garbage_ipas() {
    let err = fails_cleanly(|site| {
        site.write("releases/Empty.ipa", b"");
        site.write("releases/Text.ipa", b"this is not a zip file at all");
    });
    assert!(err.contains("2 releases could not be read"), "{err}");
    assert!(
        err.contains("Empty.ipa") && err.contains("Text.ipa"),
        "{err}"
    );
}

#[test]
fn ipa_without_main_app() {
    let err = fails_cleanly(|site| {
        site.write(
            "releases/NoApp.ipa",
            zip_with(&[("Payload/", b""), ("Payload/readme.txt", b"hi")]),
        );
    });
    assert!(
        err.contains("NoApp.ipa") && err.contains("Payload/<Name>.app/"),
        "{err}"
    );
}

#[test]
fn ipa_without_info_plist() {
    let err = fails_cleanly(|site| {
        site.write(
            "releases/NoPlist.ipa",
            zip_with(&[("Payload/X.app/X", b"binary")]),
        );
    });
    assert!(
        err.contains("NoPlist.ipa") && err.contains("Payload/X.app/Info.plist is missing"),
        "{err}"
    );
}

#[test]
fn malformed_info_plist() {
    let err = fails_cleanly(|site| {
        site.write(
            "releases/Bad.ipa",
            zip_with(&[("Payload/X.app/Info.plist", b"<plist><dict><key>a")]),
        );
    });
    assert!(
        err.contains("Bad.ipa") && err.contains("not a valid property list"),
        "{err}"
    );
}

#[test]
fn info_plist_zip_bomb_is_refused() {
    let err = fails_cleanly(|site| {
        let huge = vec![b' '; 8 * 1024 * 1024];
        site.write(
            "releases/Bomb.ipa",
            zip_with(&[("Payload/X.app/Info.plist", &huge)]),
        );
    });
    assert!(
        err.contains("Bomb.ipa") && err.contains("MAX_INFO_PLIST_BYTES"),
        "{err}"
    );
}

#[test]
fn yaml_error_in_site_yaml_names_line() {
    let err = fails_cleanly(|site| {
        site.write(
            "site.yaml",
            "title: T\nbase_url: https://beta.example.com/\nhosting: [nginx\n",
        );
    });
    assert!(err.contains("site.yaml:"), "{err}");
}

#[test]
fn unknown_key_in_site_yaml() {
    let err = fails_cleanly(|site| {
        site.write(
            "site.yaml",
            "title: T\nbase_url: https://beta.example.com/\nnoindx: false\n",
        );
    });
    assert!(
        err.contains("site.yaml:3") && err.contains("noindx"),
        "{err}"
    );
}

#[test]
fn http_base_url_is_refused() {
    let err = fails_cleanly(|site| {
        site.write(
            "site.yaml",
            "title: T\nbase_url: http://beta.example.com/\n",
        );
    });
    assert!(
        err.contains("site.yaml:2") && err.contains("https://"),
        "{err}"
    );
}

#[test]
fn front_matter_error_names_note_and_line() {
    let err = fails_cleanly(|site| {
        site.write(
            "releases/good/notes.md",
            "---\ntitle: ok\ndate: [not, a, date]\n---\nbody\n",
        );
    });
    assert!(err.contains("releases/good/notes.md:3"), "{err}");
}

#[test]
fn notes_that_are_not_utf8() {
    let err = fails_cleanly(|site| {
        site.write("releases/good/notes.md", b"caf\xe9 latin-1\n");
    });
    assert!(err.contains("notes.md") && err.contains("UTF-8"), "{err}");
}

#[test]
fn same_release_twice() {
    let err = fails_cleanly(|site| {
        site.add_ipa("releases/copy/Good.ipa", &spec("com.good", "1.0", "1"));
    });
    assert!(err.contains("same release"), "{err}");
    assert!(
        err.contains("releases/copy/Good.ipa") && err.contains("releases/good/Good.ipa"),
        "{err}"
    );
}

#[test]
fn missing_site_yaml_and_releases_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = otasite().arg("build").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("site.yaml"), "{}", stderr(&out));

    std::fs::write(
        dir.path().join("site.yaml"),
        format!("title: T\nbase_url: {BASE_URL}\n"),
    )
    .unwrap();
    let out = otasite().arg("build").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("releases folder does not exist"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn refuses_to_replace_a_foreign_folder() {
    let site = TestSite::basic();
    site.add_ipa("releases/A.ipa", &spec("com.a", "1.0", "1"));
    let precious = site.write("home/notes.txt", "keep me");
    let out = site.build(&["-o", site.root().join("home").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not written by otasite"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(precious).unwrap(), "keep me");

    let out = site.build(&["-o", site.root().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
}
