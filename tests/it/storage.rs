//! Releases in object storage, against a real S3 server (s3s-fs, SigV4 signing on) behind a
//! counting proxy (tests/it/common/s3.rs): the request and byte budgets of a build from a
//! bucket, a warm rebuild that asks for no IPA, `publish` (multipart, idempotent, refused
//! overwrites, aborted uploads) and `deploy` (only what changed, deletions last, the releases
//! prefix kept, each file's headers from the hosting policy).

use std::collections::BTreeMap;
use std::path::Path;

use otasite::testkit::IpaSpec;
use serde_json::Value;
use sha2::Digest as _;

use crate::common::s3::{S3, Seen, s3s_fs_sidecar_stem};
use crate::common::{TestSite, hex, spec, stderr};

const CDN: &str = "https://builds.example.com/ipas/";

/// The object key a request target names (path-style: `/bucket/key`), decoded.
fn key_of(target: &str) -> String {
    let path = target.split('?').next().unwrap_or_default();
    percent_encoding::percent_decode_str(path.trim_start_matches('/'))
        .decode_utf8_lossy()
        .into_owned()
}

/// The requests for each IPA object, by key.
fn per_ipa(seen: &[Seen]) -> BTreeMap<String, Vec<&Seen>> {
    let mut out: BTreeMap<String, Vec<&Seen>> = BTreeMap::new();
    for s in seen {
        let key = key_of(&s.target);
        if key.to_ascii_lowercase().ends_with(".ipa") {
            out.entry(key).or_default().push(s);
        }
    }
    out
}

/// A realistic IPA of about `mb` megabytes: 1,500 entries, icons, an ad hoc profile.
fn big_ipa(bundle: &str, version: &str, mb: usize) -> IpaSpec {
    IpaSpec {
        icon: Some([30, 120, 200]),
        resources: 1_500,
        executable_bytes: mb * 1_000_000,
        store_executable: true,
        ..spec(bundle, version, "1").name("Field App")
    }
}

fn bucket_site(s3: &S3, url: &str) -> TestSite {
    let site = TestSite::new(&format!(
        "title: Bucket Builds\nbase_url: https://beta.example.com/\nreleases_dir: {url}\n\
         ipa_base_url: {CDN}\n"
    ));
    let _ = s3;
    site
}

fn publish(s3: &S3, files: &[&Path], to: &str, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<&str> = vec!["publish"];
    args.extend(files.iter().map(|p| p.to_str().unwrap()));
    args.extend(["--to", to]);
    args.extend(extra);
    s3.otasite(&args)
}

#[test]
fn a_build_from_a_bucket_reads_each_new_ipa_within_budget_and_a_warm_one_reads_none() {
    let Some(s3) = S3::start(&["rel"]) else {
        return;
    };
    let local = tempfile::tempdir().unwrap();
    // Three builds of 5, 12 and 40 MB, in folders with spaces and notes beside them.
    let mut shas = Vec::new();
    for (i, (version, mb)) in [("1.0", 5), ("1.1", 12), ("2.0", 40)].iter().enumerate() {
        let ipa = local.path().join(format!("Field App {version}.ipa"));
        let bytes = big_ipa("com.example.field", version, *mb).to_bytes();
        shas.push(hex(&sha2::Sha256::digest(&bytes)));
        std::fs::write(&ipa, bytes).unwrap();
        let notes = local.path().join(format!("notes-{i}.md"));
        std::fs::write(
            &notes,
            format!("---\ndate: 2026-0{}-01\n---\nBuild {version}.\n", i + 1),
        )
        .unwrap();
        let to = format!("s3://rel/builds/QA Builds/{version}/");
        let out = publish(&s3, &[&ipa], &to, &["--notes", notes.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    // A file no notes use, and an IPA another tool uploaded (no sha256 in its metadata).
    let foreign = big_ipa("com.example.other", "3.0", 3).to_bytes();
    let foreign_sha = hex(&sha2::Sha256::digest(&foreign));
    let path = s3.object_path("rel", "builds/Other/Other.ipa");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &foreign).unwrap();
    s3.take_seen();

    let site = bucket_site(&s3, "s3://rel/builds/");
    let out = s3.otasite(&["build", site.root().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let seen = s3.take_seen();
    let lists: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.target.contains("list-type=2"))
        .collect();
    assert_eq!(lists.len(), 1, "one listing: {seen:#?}");
    // Each IPA published by otasite: at most 6 ranged requests and 2 MiB, never a whole read.
    let by_ipa = per_ipa(&seen);
    assert_eq!(by_ipa.len(), 4, "{by_ipa:#?}");
    for (key, requests) in &by_ipa {
        if key.contains("Other.ipa") {
            continue;
        }
        let bytes: u64 = requests.iter().map(|r| r.answer_bytes).sum();
        eprintln!("{key}: {} requests, {bytes} bytes", requests.len());
        assert!(
            requests.len() <= 6,
            "{key}: {} requests: {requests:#?}",
            requests.len()
        );
        assert!(bytes <= 2 * 1024 * 1024, "{key}: {bytes} bytes");
        assert!(
            requests
                .iter()
                .all(|r| r.method == "GET" && r.range.is_some()),
            "{key}: a request without a range: {requests:#?}"
        );
    }
    // The foreign IPA is hashed once, by reading it whole.
    let other = &by_ipa["rel/builds/Other/Other.ipa"];
    assert!(other.iter().any(|r| r.range.is_none()), "{other:#?}");

    // Every page, manifest and feed points at ipa_base_url; no IPA in the output.
    let manifest = site.read("apps/com.example.field/2.0-1/manifest.plist");
    assert!(
        manifest.contains(&format!("{CDN}QA%20Builds/2.0/Field%20App%202.0.ipa")),
        "{manifest}"
    );
    let page = site.read("apps/com.example.field/1.1-1/index.html");
    assert!(
        page.contains("Build 1.1."),
        "the notes from the bucket are on the page"
    );
    assert!(crate::common::files_ending(&site.public(), ".ipa").is_empty());
    let json: Value = serde_json::from_str(&site.read("releases.json")).unwrap();
    let text = json.to_string();
    for sha in shas.iter().chain([&foreign_sha]) {
        assert!(
            text.contains(sha.as_str()),
            "releases.json has the SHA-256 {sha}"
        );
    }
    assert!(text.contains(&format!("{CDN}Other/Other.ipa")), "{text}");
    let feed = site.read("feed.xml");
    assert!(!feed.contains("/.otasite/"), "{feed}");

    // Warm: one listing and nothing else.
    let out = s3.otasite(&["build", site.root().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let seen = s3.take_seen();
    assert_eq!(seen.len(), 1, "a warm rebuild lists once: {seen:#?}");
    // Something else changed (the title): still no IPA request, no notes read again.
    let yaml = std::fs::read_to_string(site.root().join("site.yaml")).unwrap();
    site.write(
        "site.yaml",
        yaml.replace("Bucket Builds", "Bucket Builds Two"),
    );
    let out = s3.otasite(&["build", site.root().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let seen = s3.take_seen();
    assert_eq!(
        seen.len(),
        1,
        "a rebuild reads no IPA and no unchanged notes: {seen:#?}"
    );
    assert!(site.read("index.html").contains("Bucket Builds Two"));

    // A new build in the bucket: only it is read.
    let ipa = local.path().join("Field App 2.1.ipa");
    std::fs::write(&ipa, big_ipa("com.example.field", "2.1", 8).to_bytes()).unwrap();
    assert!(
        publish(&s3, &[&ipa], "s3://rel/builds/QA Builds/2.1/", &[])
            .status
            .success()
    );
    s3.take_seen();
    let out = s3.otasite(&["build", site.root().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let seen = s3.take_seen();
    let by_ipa = per_ipa(&seen);
    assert_eq!(
        by_ipa.keys().collect::<Vec<_>>(),
        ["rel/builds/QA Builds/2.1/Field App 2.1.ipa"]
    );
}

#[test]
fn a_bucket_without_ipa_base_url_or_credentials_is_a_clear_error() {
    let Some(s3) = S3::start(&["rel"]) else {
        return;
    };
    let site = TestSite::new(
        "title: T\nbase_url: https://beta.example.com/\nreleases_dir: s3://rel/builds/\n",
    );
    let out = s3.otasite(&["build", site.root().to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("site.yaml") && err.contains("releases_dir") && err.contains("ipa_base_url"),
        "{err}"
    );
    assert!(!site.public().exists(), "nothing written");

    // A damaged IPA in the bucket: the error names the object, nothing is written.
    let site = bucket_site(&s3, "s3://rel/builds/");
    let junk = s3.object_path("rel", "builds/Junk #1.ipa");
    std::fs::create_dir_all(junk.parent().unwrap()).unwrap();
    std::fs::write(&junk, b"PK not really a zip").unwrap();
    let out = s3.otasite(&["build", site.root().to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("s3://rel/builds/Junk #1.ipa") && err.contains("not a valid IPA"),
        "{err}"
    );
    assert!(!site.public().exists(), "nothing written");
    std::fs::remove_file(&junk).unwrap();

    // Wrong secret: the server refuses the signature, and the message says where to look.
    let site = bucket_site(&s3, "s3://rel/builds/");
    let out = crate::common::otasite()
        .envs(s3.env())
        .env("AWS_SECRET_ACCESS_KEY", "wrong")
        .args(["build", site.root().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("s3://rel/builds/") && err.contains("AWS_"),
        "{err}"
    );
}

#[test]
fn publish_uploads_in_parts_is_idempotent_refuses_overwrites_and_leaves_nothing_when_aborted() {
    let Some(s3) = S3::start(&["rel"]) else {
        return;
    };
    let local = tempfile::tempdir().unwrap();
    let ipa = local.path().join("Big.ipa");
    std::fs::write(&ipa, big_ipa("com.example.big", "1.0", 150).to_bytes()).unwrap();
    let size = std::fs::metadata(&ipa).unwrap().len();
    assert!(size > 150_000_000);
    let to = "s3://rel/builds/big/";
    let out = publish(&s3, &[&ipa], to, &["--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report[0]["outcome"], "uploaded");
    let seen = s3.take_seen();
    let parts = seen
        .iter()
        .filter(|s| s.method == "PUT" && s.target.contains("partNumber="))
        .count();
    assert!(
        parts >= 18,
        "a 150 MB file goes up in parts of 8 MiB: {parts}"
    );
    let stored = s3.object_path("rel", "builds/big/Big.ipa");
    assert_eq!(std::fs::metadata(&stored).unwrap().len(), size);
    assert_eq!(
        std::fs::read(&stored).unwrap(),
        std::fs::read(&ipa).unwrap()
    );

    // Again: already published, nothing sent.
    let out = publish(&s3, &[&ipa], to, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("already published"));
    let seen = s3.take_seen();
    assert!(seen.iter().all(|s| s.method == "HEAD"), "{seen:#?}");

    // Other bytes under the same name: refused, unless --replace.
    let other = local.path().join("other/Big.ipa");
    std::fs::create_dir_all(other.parent().unwrap()).unwrap();
    std::fs::write(&other, big_ipa("com.example.big", "1.1", 2).to_bytes()).unwrap();
    let out = publish(&s3, &[&other], to, &[]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("already there with other content") && err.contains("--replace"),
        "{err}"
    );
    assert_eq!(std::fs::metadata(&stored).unwrap().len(), size, "untouched");
    let out = publish(&s3, &[&other], to, &["--replace"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(&stored).unwrap(),
        std::fs::read(&other).unwrap()
    );

    // Not an IPA: refused before any upload.
    let junk = local.path().join("Junk.ipa");
    std::fs::write(&junk, b"not a zip").unwrap();
    s3.take_seen();
    let out = publish(&s3, &[&junk], to, &[]);
    assert!(!out.status.success());
    assert!(s3.take_seen().is_empty());

    // A file that changes while it goes up: the upload is aborted, no object appears.
    let moving = local.path().join("Moving.ipa");
    std::fs::write(&moving, big_ipa("com.example.big", "2.0", 150).to_bytes()).unwrap();
    let child = {
        let mut cmd = crate::common::otasite();
        for (k, _) in std::env::vars() {
            if k.starts_with("AWS_") {
                cmd.env_remove(k);
            }
        }
        cmd.envs(s3.env())
            .args(["publish", moving.to_str().unwrap(), "--to", to])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Once the first part is on its way, change bytes near the end (same size).
    let start = std::time::Instant::now();
    loop {
        let seen = s3.take_seen();
        if seen.iter().any(|s| s.target.contains("partNumber=")) {
            break;
        }
        assert!(start.elapsed().as_secs() < 120, "no part was sent");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    {
        use std::io::{Seek as _, SeekFrom, Write as _};
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&moving)
            .unwrap();
        f.seek(SeekFrom::Start(size - 4_000_000)).unwrap();
        f.write_all(&[0xAB; 4096]).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("changed while it was being published"),
        "{}",
        stderr(&out)
    );
    assert!(!s3.object_path("rel", "builds/big/Moving.ipa").exists());
    let seen = s3.take_seen();
    assert!(
        seen.iter()
            .any(|s| s.method == "DELETE" && s.target.contains("uploadId=")),
        "the multipart upload was aborted: {seen:#?}"
    );
}

#[test]
fn deploy_uploads_what_changed_with_the_policy_headers_deletes_last_and_keeps_the_releases() {
    let Some(s3) = S3::start(&["web"]) else {
        return;
    };
    // The releases live in the same bucket, under releases/; the site goes to the root.
    let local = tempfile::tempdir().unwrap();
    let ipa = local.path().join("App.ipa");
    std::fs::write(&ipa, big_ipa("com.example.app", "1.0", 1).to_bytes()).unwrap();
    assert!(
        publish(&s3, &[&ipa], "s3://web/releases/app/", &[])
            .status
            .success()
    );
    let site = TestSite::new(&format!(
        "title: T\nbase_url: https://beta.example.com/\nreleases_dir: s3://web/releases/\n\
         ipa_base_url: {CDN}\nhosting: [netlify]\n"
    ));
    let root = site.root().to_str().unwrap();
    let public = site.public();
    let public = public.to_str().unwrap();
    s3.otasite_ok(&["build", root]);
    s3.take_seen();
    let out = s3.otasite_ok(&["deploy", public, "s3://web/", "--site", root, "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = crate::common::files_ending(&site.public(), "");
    assert_eq!(report["uploaded"].as_array().unwrap().len(), files.len());
    assert_eq!(report["kept"], 1, "{report}");
    assert!(s3.object_path("web", "releases/app/App.ipa").exists());
    // Headers from the hosting policy, as stored by the server.
    let manifest = stored_headers(&s3, "web", "apps/com.example.app/1.0-1/manifest.plist");
    assert_eq!(manifest["content_type"], "application/xml");
    assert_eq!(manifest["cache_control"], "no-cache");
    let icon = stored_headers(&s3, "web", "apps/com.example.app/1.0-1/icon.png");
    assert_eq!(icon["cache_control"], "public, max-age=31536000, immutable");
    let page = stored_headers(&s3, "web", "index.html");
    assert_eq!(page["content_type"], "text/html; charset=utf-8");

    // One file changed, one gone: one upload, then one deletion after it.
    std::fs::write(
        site.public().join("robots.txt"),
        "User-agent: *\nDisallow: /x\n",
    )
    .unwrap();
    std::fs::remove_file(site.public().join("feed.xml")).unwrap();
    s3.take_seen();
    let out = s3.otasite_ok(&["deploy", public, "s3://web/", "--site", root]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("1 uploaded") && text.contains("1 deleted"),
        "{text}"
    );
    let seen = s3.take_seen();
    // object_store deletes with S3's DeleteObjects (POST ?delete, the keys in the body).
    let writes: Vec<(&str, String)> = (seen.iter())
        .filter(|s| s.method != "GET" && s.method != "HEAD")
        .map(|s| (s.method.as_str(), key_of(&s.target)))
        .collect();
    assert_eq!(
        writes,
        [
            ("PUT", "web/robots.txt".to_string()),
            ("POST", "web".to_string())
        ],
        "{seen:#?}"
    );
    assert!(!s3.object_path("web", "feed.xml").exists());
    assert!(s3.object_path("web", "index.html").exists());
    assert!(
        s3.object_path("web", "releases/app/App.ipa").exists(),
        "the releases are kept"
    );

    // A deploy into the releases folder is refused.
    let out = s3.otasite(&["deploy", public, "s3://web/releases/app/", "--site", root]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("inside the releases"),
        "{}",
        stderr(&out)
    );
}

/// The headers s3s-fs stored for `key` (its own `.bucket-…metadata.json` beside the data).
fn stored_headers(s3: &S3, bucket: &str, key: &str) -> Value {
    let name = format!("{}.metadata.json", s3s_fs_sidecar_stem(bucket, key));
    let path = s3.data.path().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}
