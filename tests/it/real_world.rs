//! The real-world IPAs in ../shared/fixtures (facts from its README): each is read as its
//! README says, nested bundles are not mistaken for the main app, and the site built from all
//! of them is AMP-valid with manifests other parsers accept.

use crate::common::*;

struct Expect {
    file: &'static str,
    bundle_id: &'static str,
    version: &'static str,
    build: &'static str,
    name: &'static str,
    min_os: &'static str,
}

const FIXTURES: &[Expect] = &[
    Expect {
        file: "ipa-server__ipa.ipa",
        bundle_id: "com.ineva.test-rtmp.Test",
        version: "1.0",
        build: "1",
        name: "Test",
        min_os: "13.1",
    },
    Expect {
        file: "fastlane__very-capable-app.ipa",
        bundle_id: "org.fastlane.very-capable-app",
        version: "1.0",
        build: "1",
        name: "very-capable-app",
        min_os: "11.2",
    },
    Expect {
        file: "fastlane__ContainsWatchApp.ipa",
        bundle_id: "com.example.Sample",
        version: "1.2.0",
        build: "1",
        name: "Sample",
        min_os: "8.0",
    },
    Expect {
        file: "icyleaf__ipad.ipa",
        bundle_id: "com.icyleaf.bundle",
        version: "1.0",
        build: "1",
        name: "bundle",
        min_os: "9.3",
    },
    Expect {
        file: "icyleaf__embedded.ipa",
        bundle_id: "com.icyleaf.test.Demo",
        version: "1.0",
        build: "1",
        name: "Demo",
        min_os: "14.3",
    },
];

#[test]
fn each_real_ipa_reads_as_documented() {
    for e in FIXTURES {
        let Some(path) = shared_fixture(e.file) else {
            return;
        };
        let ipa = otasite::read_ipa(&path).unwrap_or_else(|err| panic!("{}: {err}", e.file));
        assert_eq!(ipa.info.bundle_id, e.bundle_id, "{}", e.file);
        assert_eq!(ipa.info.version, e.version, "{}", e.file);
        assert_eq!(ipa.info.build, e.build, "{}", e.file);
        assert_eq!(ipa.info.min_os.as_deref(), Some(e.min_os), "{}", e.file);
        assert_eq!(ipa.size, std::fs::metadata(&path).unwrap().len());
        let sha = hex(&<sha2::Sha256 as sha2::Digest>::digest(
            std::fs::read(&path).unwrap(),
        ));
        assert_eq!(ipa.sha256, sha, "{}", e.file);
        // None of these sets CFBundleDisplayName: the name is CFBundleName.
        assert_eq!(ipa.info.name, e.name, "{}", e.file);
    }
}

#[test]
fn watch_app_and_wrapped_payload() {
    let Some(path) = shared_fixture("fastlane__ContainsWatchApp.ipa") else {
        return;
    };
    let ipa = otasite::read_ipa(&path).unwrap();
    assert_eq!(ipa.app_dir, "ContainsWatchApp/Payload/Sample.app/");
    assert_eq!(
        ipa.info.bundle_id, "com.example.Sample",
        "not the watchkitapp"
    );
}

#[test]
fn app_extension_is_not_the_main_app() {
    let Some(path) = shared_fixture("icyleaf__embedded.ipa") else {
        return;
    };
    let ipa = otasite::read_ipa(&path).unwrap();
    assert_eq!(ipa.app_dir, "Payload/Demo.app/");
    assert_eq!(ipa.info.bundle_id, "com.icyleaf.test.Demo");
}

#[test]
fn ipad_only_app_family() {
    let Some(path) = shared_fixture("icyleaf__ipad.ipa") else {
        return;
    };
    let ipa = otasite::read_ipa(&path).unwrap();
    assert_eq!(ipa.info.device_family, vec![2]);
}

#[test]
fn site_of_real_ipas_is_valid() {
    let site = TestSite::basic();
    for e in FIXTURES {
        let Some(path) = shared_fixture(e.file) else {
            return;
        };
        site.copy_in(&format!("releases/{}", e.file), &path);
    }
    site.build_ok(&[]);
    let json: serde_json::Value = serde_json::from_str(&site.read("releases.json")).unwrap();
    let mut ids: Vec<&str> = json["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["bundle_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut expected: Vec<&str> = FIXTURES.iter().map(|e| e.bundle_id).collect();
    expected.sort_unstable();
    assert_eq!(ids, expected);

    for manifest in files_ending(&site.public(), "manifest.plist") {
        assert_plistutil_reads(&manifest);
        if let Some(facts) = plistlib_manifest(&manifest) {
            assert!(expected.contains(&facts[0].as_str()), "{facts:?}");
            assert_eq!(facts[2], "software");
            assert!(facts[4].starts_with("https://beta.example.com/apps/"));
        }
    }
    assert_amp_valid(&files_ending(&site.public(), ".html"));
}
