//! IPA insight on real files: icons (crushed PNGs converted), provisioning profiles, `inspect`,
//! build warnings, pages that say who can install, and no UDID anywhere in the output.

use std::process::Command;

use crate::common::*;
use otasite::testkit::icon::{decode_png, encode_png};
use otasite::testkit::{IpaSpec, ProfileSpec};

fn inspect_json(files: &[&std::path::Path], extra: &[&str]) -> serde_json::Value {
    let out = otasite()
        .arg("inspect")
        .arg("--json")
        .args(extra)
        .args(files)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

struct Facts {
    file: &'static str,
    bundle_id: &'static str,
    version: &'static str,
    min_os: &'static str,
    family: &'static [&'static str],
    kind: Option<&'static str>,
    devices: u64,
    icon: Option<(u64, bool)>,
}

/// The facts ../shared/fixtures/README.md states for each IPA.
const FACTS: &[Facts] = &[
    Facts {
        file: "ipa-server__ipa.ipa",
        bundle_id: "com.ineva.test-rtmp.Test",
        version: "1.0",
        min_os: "13.1",
        family: &["iphone", "ipad"],
        kind: Some("development"),
        devices: 35,
        icon: None,
    },
    Facts {
        file: "fastlane__very-capable-app.ipa",
        bundle_id: "org.fastlane.very-capable-app",
        version: "1.0",
        min_os: "11.2",
        family: &["iphone", "ipad"],
        kind: Some("development"),
        devices: 1,
        icon: None,
    },
    Facts {
        file: "fastlane__ContainsWatchApp.ipa",
        bundle_id: "com.example.Sample",
        version: "1.2.0",
        min_os: "8.0",
        family: &["iphone", "ipad"],
        kind: None,
        devices: 0,
        icon: None,
    },
    Facts {
        file: "icyleaf__ipad.ipa",
        bundle_id: "com.icyleaf.bundle",
        version: "1.0",
        min_os: "9.3",
        family: &["ipad"],
        kind: Some("app-store"),
        devices: 0,
        icon: Some((167, true)),
    },
    Facts {
        file: "icyleaf__embedded.ipa",
        bundle_id: "com.icyleaf.test.Demo",
        version: "1.0",
        min_os: "14.3",
        family: &["iphone", "ipad"],
        kind: Some("enterprise"),
        devices: 0,
        icon: None,
    },
];

#[test]
fn inspect_json_matches_every_fixture() {
    for f in FACTS {
        let Some(path) = shared_fixture(f.file) else {
            return;
        };
        let v = inspect_json(&[&path], &[]);
        assert_eq!(v["bundle_id"], f.bundle_id, "{}", f.file);
        assert_eq!(v["version"], f.version, "{}", f.file);
        assert_eq!(v["min_os"], f.min_os, "{}", f.file);
        assert_eq!(
            v["device_family"],
            serde_json::json!(f.family),
            "{}",
            f.file
        );
        match f.kind {
            Some(kind) => {
                assert_eq!(v["profile"]["kind"], kind, "{}", f.file);
                assert_eq!(v["profile"]["device_count"], f.devices, "{}", f.file);
                assert_eq!(
                    v["profile"]["expired"], true,
                    "{}: all fixture profiles are expired",
                    f.file
                );
                assert!(
                    v["profile"]["expires"].as_str().unwrap().ends_with('Z'),
                    "RFC 3339"
                );
                assert!(
                    v["profile"].get("devices").is_none(),
                    "no UDIDs unless --devices"
                );
            }
            None => assert!(v["profile"].is_null(), "{}", f.file),
        }
        match f.icon {
            Some((size, crushed)) => {
                assert_eq!(v["icon"]["width"], size, "{}", f.file);
                assert_eq!(v["icon"]["height"], size, "{}", f.file);
                assert_eq!(v["icon"]["crushed"], crushed, "{}", f.file);
            }
            None => assert!(v["icon"].is_null(), "{}", f.file),
        }
    }
}

#[test]
fn inspect_of_a_standalone_profile_and_devices_flag() {
    let Some(path) = shared_fixture("icyleaf__ios_adhoc.mobileprovision") else {
        return;
    };
    let v = inspect_json(&[&path], &[]);
    assert_eq!(v["kind"], "ad-hoc");
    assert_eq!(v["name"], "iOS Full AdHoc");
    assert_eq!(v["device_count"], 1);
    assert_eq!(v["expired"], true);
    assert!(v["expires"].as_str().unwrap().starts_with("2020-10-24"));
    assert!(v.get("devices").is_none());
    let with = inspect_json(&[&path], &["--devices"]);
    let udids = with["devices"].as_array().unwrap();
    assert_eq!(udids.len(), 1);
    // Without --devices the UDID is nowhere in the output, text or JSON.
    let udid = udids[0].as_str().unwrap();
    let text = otasite().arg("inspect").arg(&path).output().unwrap();
    assert!(!String::from_utf8_lossy(&text.stdout).contains(udid));
    // Several files give an array.
    let both = inspect_json(&[&path, &path], &[]);
    assert_eq!(both.as_array().unwrap().len(), 2);
}

#[test]
fn inspect_reports_bad_files_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.mobileprovision");
    std::fs::write(&bad, b"\x30\x80garbage").unwrap();
    let out = otasite().arg("inspect").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("bad.mobileprovision"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn crushed_fixture_converts_to_exactly_the_expected_pixels() {
    let (Some(cgbi), Some(expected)) = (
        shared_fixture("an3park__cgbi.png"),
        shared_fixture("an3park__png.png"),
    ) else {
        return;
    };
    let (got, header) = decode_png(&std::fs::read(cgbi).unwrap()).unwrap();
    assert!(header.crushed);
    let (want, _) = decode_png(&std::fs::read(expected).unwrap()).unwrap();
    assert_eq!((got.width, got.height), (120, 120));
    assert!(got == want, "pixels differ from the expected PNG");
}

#[test]
fn interlaced_crushed_fixture_decodes() {
    let Some(path) = shared_fixture("an3park__cgbi2.png") else {
        return;
    };
    let (img, header) = decode_png(&std::fs::read(path).unwrap()).unwrap();
    assert!(header.crushed && header.interlaced);
    assert_eq!((img.width, img.height), (180, 180));
    // A real icon: many distinct colours, and the result is a PNG any decoder reads.
    let mut colours: Vec<&[u8]> = img.pixels.chunks(4).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() > 100, "{} colours", colours.len());
    let standard = encode_png(&img);
    assert!(
        !otasite::testkit::icon::png_header(&standard)
            .unwrap()
            .crushed
    );
}

#[test]
fn site_of_fixtures_shows_real_icons_profile_facts_and_no_udid() {
    let site = TestSite::basic();
    let mut udids: Vec<String> = Vec::new();
    for f in FACTS {
        let Some(path) = shared_fixture(f.file) else {
            return;
        };
        site.copy_in(&format!("releases/{}", f.file), &path);
        let v = inspect_json(&[&path], &["--devices"]);
        for d in v["profile"]["devices"].as_array().into_iter().flatten() {
            udids.push(d.as_str().unwrap().to_string());
        }
    }
    assert!(udids.len() >= 36, "the fixtures hold 36 UDIDs");
    let out = site.build_ok(&[]);
    let err = stderr(&out);
    assert!(
        err.contains("icyleaf__ipad.ipa: signed for the App Store"),
        "{err}"
    );
    assert!(err.contains("expired on 2022-05-09"), "{err}");
    assert!(
        err.contains("fastlane__ContainsWatchApp.ipa: the app has no embedded.mobileprovision"),
        "{err}"
    );

    // No UDID in any file of the site or the server configuration, in any case or form.
    for dir in [site.public(), site.root().join("server-config")] {
        for file in files_ending(&dir, "") {
            let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).to_ascii_uppercase();
            for udid in &udids {
                let u = udid.to_ascii_uppercase();
                assert!(
                    !text.contains(&u) && !text.contains(&u.replace('-', "")),
                    "a UDID is in {}",
                    file.display()
                );
            }
        }
    }

    let json: serde_json::Value = serde_json::from_str(&site.read("releases.json")).unwrap();
    let release = |id: &str| {
        json["apps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["bundle_id"] == id)
            .unwrap()["releases"][0]
            .clone()
    };
    let ipad = release("com.icyleaf.bundle");
    assert_eq!(ipad["profile"]["kind"], "app-store");
    assert_eq!(ipad["installable"], false);
    assert_eq!(ipad["icon"]["crushed"], true);
    assert_eq!(ipad["icon"]["placeholder"], false);
    assert!(
        ipad["icon"]["display_image_url"]
            .as_str()
            .unwrap()
            .ends_with("/icon-57.png")
    );
    let dev = release("com.ineva.test-rtmp.Test");
    assert_eq!(dev["profile"]["device_count"], 35);
    assert_eq!(
        dev["icon"]["placeholder"], true,
        "its icon is only in Assets.car"
    );

    // Pages say who can install and how.
    let ipad_page = site.read("apps/com.icyleaf.bundle/1.0-1/index.html");
    assert!(ipad_page.contains("cannot be installed from a web page"));
    assert!(
        !ipad_page.contains("itms-services://"),
        "no install button for an App Store build"
    );
    let ent = site.read("apps/com.icyleaf.test.demo/1.0-1/index.html");
    // Enterprise, but expired in 2022: the same rule as `check` puts the reason where the
    // install button was, and no install link anywhere on the page.
    assert!(ent.contains("Enterprise") && ent.contains("expired on 15 January 2022"));
    assert!(
        !ent.contains("itms-services://"),
        "no install link for an expired build"
    );
    let dev_page = site.read("apps/com.ineva.test-rtmp.test/1.0-1/index.html");
    assert!(dev_page.contains("Development: 35 registered devices"));
    assert!(dev_page.contains("expired on 9 May 2022") && !dev_page.contains("itms-services://"));

    // Icons are real PNGs of the right sizes; the manifest names them.
    let dir = site.public().join("apps/com.icyleaf.bundle/1.0-1");
    for (file, size) in [
        ("icon.png", 167),
        ("icon-57.png", 57),
        ("icon-512.png", 512),
    ] {
        let (img, h) = decode_png(&std::fs::read(dir.join(file)).unwrap()).unwrap();
        assert!(!h.crushed, "{file}");
        assert_eq!((img.width, img.height), (size, size), "{file}");
    }
    let manifest = std::fs::read_to_string(dir.join("manifest.plist")).unwrap();
    assert!(manifest.contains("display-image") && manifest.contains("full-size-image"));
    assert!(
        manifest.contains("https://beta.example.com/apps/com.icyleaf.bundle/1.0-1/icon-512.png")
    );

    // A browser decodes the converted icon (and a placeholder) on the pages.
    if let Some(shot) = screenshot(&dir.join("index.html"), "ipad-release") {
        let icon = &shot["icons"][0];
        assert_eq!(icon["complete"], true, "{shot}");
        assert_eq!(icon["width"], 167, "{shot}");
    }
    if let Some(shot) = screenshot(&site.public().join("index.html"), "fixtures-index") {
        let icons = shot["icons"].as_array().unwrap();
        assert_eq!(icons.len(), 5);
        assert!(
            icons.iter().all(|i| i["width"].as_u64().unwrap() > 0),
            "{shot}"
        );
    }
    assert_amp_valid(&files_ending(&site.public(), ".html"));
}

#[test]
fn synthetic_profiles_drive_warnings_and_pages() {
    let site = TestSite::basic();
    let soon = std::time::SystemTime::now() + std::time::Duration::from_secs(5 * 24 * 3600);
    let expiring = ProfileSpec {
        expires: soon,
        ..ProfileSpec::ad_hoc(&["00008030-0000000000000001"])
    };
    site.add_ipa(
        "releases/Soon.ipa",
        &IpaSpec {
            profile: Some(expiring),
            ..spec("com.soon", "1.0", "1")
        },
    );
    let wrong = ProfileSpec {
        app_id: Some("com.other.*".into()),
        ..ProfileSpec::ad_hoc(&["00008030-0000000000000002"])
    };
    site.add_ipa(
        "releases/Wrong.ipa",
        &IpaSpec {
            profile: Some(wrong),
            ..spec("com.mine", "1.0", "1")
        },
    );
    let ok = ProfileSpec::ad_hoc(&["00008030-0000000000000003", "00008030-0000000000000004"]);
    site.add_ipa(
        "releases/Ok.ipa",
        &IpaSpec {
            profile: Some(ok),
            icon: Some([200, 30, 30]),
            ..spec("com.ok", "1.0", "1")
        },
    );
    let out = site.build_ok(&["--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Each warning is a problem: severity, code, file, message, fix.
    let warnings: Vec<String> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| format!("{} {}: {}", w["code"], w["file"], w["message"]))
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("Soon.ipa") && w.contains("days from now")),
        "{warnings:?}"
    );
    assert!(warnings.iter().any(|w| w.contains("Wrong.ipa") && w.contains("does not cover the bundle id com.mine")), "{warnings:?}");
    assert!(
        !warnings.iter().any(|w| w.contains("Ok.ipa")),
        "{warnings:?}"
    );
    let page = site.read("apps/com.soon/1.0-1/index.html");
    assert!(
        page.contains("This build expires on"),
        "the page warns testers too"
    );
    let ok_page = site.read("apps/com.ok/1.0-1/index.html");
    assert!(
        ok_page.contains("Ad hoc: 2 registered devices"),
        "{ok_page}"
    );
    let json: serde_json::Value = serde_json::from_str(&site.read("releases.json")).unwrap();
    let ok_json = json["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["bundle_id"] == "com.ok")
        .unwrap();
    assert_eq!(
        ok_json["releases"][0]["icon"]["width"], 180,
        "the largest icon by decoded size"
    );
    assert_eq!(ok_json["releases"][0]["icon"]["crushed"], true);
    for text in [
        site.read("releases.json"),
        site.read("apps/com.ok/1.0-1/index.html"),
    ] {
        assert!(!text.contains("0000000000000003"));
    }
}

#[test]
fn broken_icons_and_profiles_give_notes_not_failures() {
    let site = TestSite::basic();
    let good = IpaSpec::new("com.broken", "1.0", "1");
    // An IPA whose icon files and profile are garbage or truncated.
    let mut entries: Vec<(String, Vec<u8>)> = vec![("Payload/B.app/Info.plist".into(), {
        let mut s = IpaSpec {
            icon: Some([1, 2, 3]),
            ..good.clone()
        };
        s.folder = "B".into();
        s.info_plist()
    })];
    let icon =
        otasite::testkit::icon::encode_cgbi(&otasite::testkit::icon_image(120, [9, 9, 9]), true);
    entries.push((
        "Payload/B.app/AppIcon60x60@2x.png".into(),
        icon[..icon.len() / 2].to_vec(),
    ));
    entries.push((
        "Payload/B.app/AppIcon60x60@3x.png".into(),
        b"\x89PNG\r\n\x1a\ngarbage".to_vec(),
    ));
    let profile = ProfileSpec::ad_hoc(&["X"]).to_cms("com.broken");
    entries.push((
        "Payload/B.app/embedded.mobileprovision".into(),
        profile[..profile.len() - 30].to_vec(),
    ));
    entries.push((
        "Payload/B.app/_CodeSignature/CodeResources".into(),
        b"x".to_vec(),
    ));
    let refs: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    site.write("releases/Broken.ipa", otasite::testkit::zip_with(&refs));
    let out = site.build_ok(&[]);
    let err = stderr(&out);
    assert!(err.contains("Broken.ipa: its icon"), "{err}");
    assert!(
        err.contains("Broken.ipa: its provisioning profile could not be read"),
        "{err}"
    );
    let json: serde_json::Value = serde_json::from_str(&site.read("releases.json")).unwrap();
    assert_eq!(json["apps"][0]["releases"][0]["icon"]["placeholder"], true);
}

#[test]
fn placeholder_icons_differ_per_app() {
    let site = TestSite::basic();
    site.add_ipa(
        "releases/A.ipa",
        &spec("com.alpha", "1.0", "1").name("Alpha"),
    );
    site.add_ipa(
        "releases/B.ipa",
        &spec("com.beta", "1.0", "1").name("Beta Tool"),
    );
    site.build_ok(&[]);
    let a = std::fs::read(site.public().join("apps/com.alpha/1.0-1/icon-512.png")).unwrap();
    let b = std::fs::read(site.public().join("apps/com.beta/1.0-1/icon-512.png")).unwrap();
    assert_ne!(a, b);
    let (img, _) = decode_png(&a).unwrap();
    assert_eq!((img.width, img.height), (512, 512));
    let _ = Command::new("true");
}

// ---- issue 16: every mistake gets a precise answer ----

/// Runs `otasite inspect ARGS`: exit status, stdout, stderr.
fn inspect(args: &[&std::ffi::OsStr]) -> (Option<i32>, String, String) {
    let out = otasite().arg("inspect").args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr(&out),
    )
}

/// Each argument inspect cannot read gets one sentence naming it and what to do: a missing
/// file repeated its OS error twice, a folder gave an OS error, `inspect site.yaml` said the
/// IPA may be truncated, and a zip without an app repeated its path.
#[test]
fn inspect_says_in_one_sentence_why_each_argument_cannot_be_read() {
    let site = TestSite::basic();
    let zip = site.write(
        "Archive.ipa",
        otasite::testkit::zip_with(&[("Products/Applications/App.app/Info.plist", b"x")]),
    );
    let folder = site.root().join("releases");
    let missing = site.root().join("Missing.ipa");
    let yaml = site.root().join("site.yaml");
    let cases: [(&std::path::Path, &[&str], &[&str]); 4] = [
        (
            &missing,
            &["Missing.ipa: no such file", "check the path"],
            &["os error"],
        ),
        (
            &folder,
            &["releases: a folder, not a file", "releases/*.ipa"],
            &["os error", "Invalid argument"],
        ),
        (
            &yaml,
            &["site.yaml: not an IPA", "no zip", "pass an .ipa"],
            &["truncated", "EOCD"],
        ),
        (
            &zip,
            &[
                "Archive.ipa: a zip archive but not an IPA",
                "Payload/<Name>.app/",
                "export",
            ],
            &["Archive.ipa: no app found"],
        ),
    ];
    for (path, want, never) in cases {
        let (code, stdout, err) = inspect(&[path.as_os_str()]);
        assert_eq!(code, Some(1), "{err}");
        assert!(stdout.is_empty(), "{stdout}");
        assert_eq!(err.lines().count(), 1, "one line for {path:?}:\n{err}");
        assert!(
            err.starts_with(&format!("error: {}: ", path.display())),
            "{err}"
        );
        for w in want {
            assert!(err.contains(w), "{w:?} not in: {err}");
        }
        for n in never {
            assert!(!err.contains(n), "{n:?} in: {err}");
        }
        // Not repeated by a chain of causes.
        let shown = path.display().to_string();
        assert!(!err.contains(&format!("{shown}: {shown}")), "{err}");
        assert!(!err.contains("cannot inspect"), "{err}");
    }
    // Several: one line each, then the count; a good file among them is still described.
    let good = site.add_ipa("Good.ipa", &spec("com.good", "1.0", "1"));
    let (code, stdout, err) = inspect(&[missing.as_os_str(), good.as_os_str(), folder.as_os_str()]);
    assert_eq!(code, Some(1), "{err}");
    assert!(stdout.contains("com.good"), "{stdout}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(lines[0].contains("Missing.ipa: no such file"), "{err}");
    assert!(lines[1].contains("releases: a folder"), "{err}");
    assert_eq!(lines[2], "error: 2 of 3 files could not be inspected");
}

/// Sizes in inspect's text are for people: `48.3 MB (48,300,123 bytes)`.
#[test]
fn inspect_shows_sizes_in_units_and_exact_bytes() {
    let site = TestSite::basic();
    let ipa = site.add_ipa(
        "App.ipa",
        &IpaSpec {
            executable_bytes: 1_500_000,
            ..spec("com.size", "1.0", "1")
        },
    );
    let size = std::fs::metadata(&ipa).unwrap().len();
    let (code, stdout, err) = inspect(&[ipa.as_os_str()]);
    assert_eq!(code, Some(0), "{err}");
    let digits = size.to_string();
    let grouped = format!("{},{},{}", &digits[..1], &digits[1..4], &digits[4..]);
    assert_eq!(digits.len(), 7, "{size}");
    let want = format!("Size        {:.1} MB ({grouped} bytes)", size as f64 / 1e6);
    assert!(stdout.contains(&want), "{want:?} not in:\n{stdout}");
    // JSON keeps the plain number.
    let json = inspect_json(&[&ipa], &[]);
    assert_eq!(json["size"], size);
}

/// `check --udid` takes the two forms a UDID has and refuses anything else with exit status 2,
/// saying what a UDID looks like and how a tester finds theirs; before, any text was taken and
/// answered "cannot install" for every release.
#[test]
fn check_udid_accepts_the_two_forms_and_explains_anything_else() {
    let site = TestSite::basic();
    site.add_ipa("releases/A.ipa", &spec("com.udid", "1.0", "1"));
    site.build_ok(&[]);
    let check = |udid: &str| {
        let out = otasite()
            .arg("check")
            .arg(site.root())
            .args(["--udid", udid])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr(&out),
        )
    };
    for (bad, why) in [
        ("iPhone of Ada", "'i' is not a hexadecimal digit (0-9, A-F)"),
        (
            "00008110-000A1B2C3D4E5F6",
            "it has 23 hexadecimal digits, not 24 or 40",
        ),
        (
            "00008110-000A1B2C3D4E5F600",
            "it has 25 hexadecimal digits, not 24 or 40",
        ),
        (
            "0000811-0000A1B2C3D4E5F60",
            "its dash belongs after the first 8 digits",
        ),
        ("", "it has 0 hexadecimal digits, not 24 or 40"),
    ] {
        let (code, stdout, err) = check(bad);
        assert_eq!(code, Some(2), "--udid {bad:?}: {err}");
        assert!(stdout.is_empty(), "nothing checked: {stdout}");
        assert_eq!(err.lines().count(), 1, "{err}");
        for want in [
            &format!("error: --udid {bad:?} is not a device UDID: {why}."),
            "8 hexadecimal digits, a dash and 16 more",
            "40 hexadecimal digits",
            "connect the device, open it in Finder, and click the line under the device name",
            "Apple Configurator",
        ] {
            assert!(err.contains(want), "{want:?} not in: {err}");
        }
    }
    // Both forms, in any case, with or without the dash of the newer one.
    for good in [
        TEST_DEVICE,
        &TEST_DEVICE.to_ascii_lowercase(),
        &TEST_DEVICE.replace('-', ""),
    ] {
        let (code, stdout, err) = check(good);
        assert_eq!(code, Some(0), "--udid {good}: {err}");
        assert!(stdout.contains(&format!("{good} can install")), "{stdout}");
    }
    let old = "0123456789abcdef0123456789ABCDEF01234567";
    let (code, stdout, err) = check(old);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        stdout.contains(&format!("{old} cannot install")),
        "{stdout}"
    );
    assert!(stdout.contains("not among the 1 registered"), "{stdout}");
}

/// `inspect` says what the build's rules say about an IPA: what blocks the install, what is
/// only a warning, and a profile that is there but unreadable.
#[test]
fn inspect_runs_the_same_rules_as_the_build() {
    let dir = tempfile::tempdir().unwrap();
    let day = std::time::Duration::from_secs(24 * 3600);
    let expired = IpaSpec {
        profile: Some(ProfileSpec {
            expires: std::time::SystemTime::now() - day,
            created: std::time::SystemTime::now() - 300 * day,
            ..ProfileSpec::ad_hoc(&["00008030-0000000000000001"])
        }),
        signed: false,
        ..spec("com.rules", "1.0", "1")
    };
    let path = dir.path().join("Expired.ipa");
    std::fs::write(&path, expired.to_bytes()).unwrap();
    let out = otasite().arg("inspect").arg(&path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Blocks")
            && text.contains("expired on")
            && text.contains("no code signature"),
        "{text}"
    );
    let json = inspect_json(&[&path], &[]);
    let codes: Vec<&str> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["ipa-unsigned", "profile-expired"], "{json}");
}
