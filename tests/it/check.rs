//! `otasite check`: a correct site passes; each row of the troubleshooting table is made to fail
//! on a mutated copy of a built site; `--remote` is checked against real nginx on 127.0.0.1
//! (with a TLS certificate made here); the AMP subset checker agrees with the official validator.

use std::path::Path;
use std::process::Command;

use crate::common;
use crate::common::http::{free_port, wait_for_port};
use crate::common::servers::{is_root, make_world_readable, spawn};
use crate::common::*;
use otasite::testkit::{IpaSpec, ProfileSpec};

const UDID: &str = "00008030-00AA11BB22CC33DD";

fn good_site() -> TestSite {
    let site = TestSite::basic();
    let spec = IpaSpec {
        profile: Some(ProfileSpec::ad_hoc(&[UDID])),
        icon: Some([20, 160, 90]),
        ..IpaSpec::new("com.check.app", "1.0", "7").name("Check Me")
    };
    site.add_ipa("releases/App.ipa", &spec);
    site.write(
        "releases/App.md",
        "Notes with a [link](https://example.com).\n",
    );
    site.build_ok(&[]);
    site
}

/// Runs check --json; returns (exit code, report).
fn check(site: &TestSite, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = otasite()
        .arg("check")
        .arg(site.root())
        .arg("--json")
        .args(extra)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("check --json printed no JSON ({e}):\n{}", stderr(&out)));
    (out.status.code(), report)
}

fn codes(report: &serde_json::Value) -> Vec<String> {
    report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_correct_site_passes() {
    let site = good_site();
    let (code, report) = check(&site, &[]);
    assert_eq!(report["problems"], serde_json::json!([]), "{report:#}");
    assert_eq!(code, Some(0));
}

#[test]
fn the_example_site_passes_and_is_built_first_when_missing() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = otasite()
        .arg("check")
        .arg(project_dir().join("example-site"))
        .arg("-o")
        .arg(out_dir.path().join("public"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    assert!(stderr(&out).contains("built it first"));
    assert!(out_dir.path().join("public/releases.json").is_file());
}

/// Applies `mutate` to the built site and expects `code` among the findings, with exit 1.
fn fails_with(code: &str, mutate: impl FnOnce(&TestSite)) {
    let site = good_site();
    mutate(&site);
    let (exit, report) = check(&site, &[]);
    let found = codes(&report);
    assert!(
        found.iter().any(|c| c == code),
        "expected {code}, got {found:?}"
    );
    assert_eq!(exit, Some(1), "{code}");
    let p = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == code)
        .unwrap();
    for key in ["severity", "file", "message", "fix"] {
        assert!(
            p[key].as_str().is_some_and(|s| !s.is_empty()),
            "{code}: {key}"
        );
    }
}

fn edit(site: &TestSite, rel: &str, f: impl FnOnce(String) -> String) {
    let path = site.public().join(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    let changed = f(text.clone());
    assert_ne!(changed, text, "the mutation of {rel} changed nothing");
    // Replace the file rather than write through a hard link into the sources.
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, changed).unwrap();
}

const PAGE: &str = "apps/com.check.app/1.0-7/index.html";
const MANIFEST: &str = "apps/com.check.app/1.0-7/manifest.plist";
const IPA: &str = "apps/com.check.app/1.0-7/check-me-1.0.ipa";

#[test]
fn http_manifest_url() {
    fails_with("link-http", |s| {
        edit(s, PAGE, |t| {
            t.replace("url=https%3A%2F%2F", "url=http%3A%2F%2F")
        })
    });
}

#[test]
fn raw_ampersand() {
    fails_with("link-unescaped", |s| {
        edit(s, PAGE, |t| t.replace("&amp;url=", "&url="))
    });
}

#[test]
fn missing_target_top() {
    fails_with("link-target", |s| {
        edit(s, PAGE, |t| t.replace(" target=\"_top\"", ""))
    });
}

#[test]
fn manifest_url_not_encoded() {
    fails_with("link-not-encoded", |s| {
        edit(s, PAGE, |t| {
            t.replace(
                "url=https%3A%2F%2Fbeta.example.com%2F",
                "url=https://beta.example.com/",
            )
        })
    });
}

#[test]
fn link_to_a_missing_manifest() {
    fails_with("link-manifest-missing", |s| {
        std::fs::remove_file(s.public().join(MANIFEST)).unwrap()
    });
}

#[test]
fn manifest_without_title() {
    fails_with("manifest-missing-key", |s| {
        edit(s, MANIFEST, |t| {
            let i = t.find("<key>title</key>").unwrap();
            let j = i + t[i..].find("</string>").unwrap() + "</string>".len();
            format!("{}{}", &t[..i], &t[j..])
        })
    });
}

#[test]
fn truncated_manifest() {
    fails_with("manifest-invalid", |s| {
        edit(s, MANIFEST, |t| t[..t.len() / 2].to_string())
    });
}

#[test]
fn http_asset_url() {
    fails_with("asset-url", |s| {
        edit(s, MANIFEST, |t| {
            t.replacen("<string>https://", "<string>http://", 1)
        })
    });
}

#[test]
fn ipa_deleted() {
    fails_with("ipa-missing", |s| {
        std::fs::remove_file(s.public().join(IPA)).unwrap()
    });
}

#[test]
fn ipa_altered() {
    let site = good_site();
    let path = site.public().join(IPA);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.push(0);
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, bytes).unwrap();
    let (exit, report) = check(&site, &[]);
    let found = codes(&report);
    assert!(
        found.contains(&"ipa-hash-mismatch".to_string())
            && found.contains(&"ipa-differs-from-source".to_string()),
        "{found:?}"
    );
    assert_eq!(exit, Some(1));
}

#[test]
fn bundle_id_mismatch() {
    fails_with("bundle-id-mismatch", |s| {
        edit(s, MANIFEST, |t| {
            t.replace(
                "<string>com.check.app</string>",
                "<string>com.check.other</string>",
            )
        })
    });
}

#[test]
fn broken_internal_link() {
    fails_with("broken-link", |s| {
        edit(s, PAGE, |t| {
            t.replace("</main>", "<a href=\"../nope/\">x</a></main>")
        })
    });
}

#[test]
fn author_script_and_bad_protocol_are_amp_errors() {
    fails_with("amp-script", |s| {
        edit(s, PAGE, |t| {
            t.replace("</main>", "<script>alert(1)</script></main>")
        })
    });
    fails_with("amp-link-protocol", |s| {
        edit(s, PAGE, |t| {
            t.replace("</main>", "<a href=\"javascript:alert(1)\">x</a></main>")
        })
    });
}

#[test]
fn expired_profile_and_devices() {
    let site = TestSite::basic();
    let expired = ProfileSpec {
        expires: std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000),
        ..ProfileSpec::ad_hoc(&[UDID])
    };
    site.add_ipa(
        "releases/Old.ipa",
        &IpaSpec {
            profile: Some(expired),
            ..spec("com.check.old", "1.0", "1")
        },
    );
    site.add_ipa(
        "releases/New.ipa",
        &IpaSpec {
            profile: Some(ProfileSpec::ad_hoc(&[UDID])),
            ..spec("com.check.new", "1.0", "1")
        },
    );
    site.build_ok(&[]);
    // The UDID in another form: lower case, no dashes.
    let other_form = UDID.to_ascii_lowercase().replace('-', "");
    let (exit, report) = check(
        &site,
        &["--udid", &other_form, "--udid", "00008030-FFFFFFFFFFFFFFFF"],
    );
    assert_eq!(exit, Some(1));
    assert!(codes(&report).contains(&"profile-expired".to_string()));
    let devices = report["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 4);
    let answer = |udid: &str, app: &str| {
        devices
            .iter()
            .find(|d| d["udid"] == udid && d["page_url"].as_str().unwrap().contains(app))
            .unwrap()
            .clone()
    };
    assert_eq!(answer(&other_form, "com.check.new")["can_install"], true);
    let old = answer(&other_form, "com.check.old");
    assert_eq!(old["can_install"], false);
    assert!(old["reason"].as_str().unwrap().contains("expired"));
    let stranger = answer("00008030-FFFFFFFFFFFFFFFF", "com.check.new");
    assert_eq!(stranger["can_install"], false);
    assert!(
        stranger["reason"]
            .as_str()
            .unwrap()
            .contains("not among the 1 registered")
    );
    // UDIDs are never written anywhere.
    for f in files_ending(site.root(), "") {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).to_ascii_uppercase();
        if f.extension().is_some_and(|e| e == "ipa") {
            continue;
        }
        assert!(
            !text.contains("FFFFFFFFFFFFFFFF") && !text.contains("00AA11BB22CC33DD"),
            "{}",
            f.display()
        );
    }
}

/// A CA and a server certificate for localhost / 127.0.0.1, made with openssl.
fn make_certs(dir: &Path) -> bool {
    if which("openssl").is_none() {
        missing_tool("openssl", "apt-get install openssl");
        return false;
    }
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(dir.join("ext.cnf"), "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n").unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=otasite test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    true
}

/// Starts nginx over TLS serving the site, with or without the generated snippet.
fn tls_nginx(
    site: &TestSite,
    certs: &Path,
    with_config: bool,
) -> Option<(common::servers::Server, u16, tempfile::TempDir)> {
    let nginx = which("nginx")
        .or_else(|| Some(std::path::PathBuf::from("/usr/sbin/nginx")).filter(|p| p.exists()));
    let Some(nginx) = nginx else {
        missing_tool("nginx", "apt-get install nginx");
        return None;
    };
    make_world_readable(site.root());
    let run = tempfile::tempdir().unwrap();
    let port = free_port();
    let temp = run.path().display();
    let include = if with_config {
        format!(
            "include {};",
            site.root().join("server-config/nginx.conf").display()
        )
    } else {
        String::new()
    };
    let conf = run.path().join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "{}worker_processes 1;\ndaemon off;\npid {temp}/nginx.pid;\nerror_log {temp}/error.log;\n\
             events {{ worker_connections 64; }}\nhttp {{\n include /etc/nginx/mime.types;\n default_type application/octet-stream;\n \
             access_log off;\n client_body_temp_path {temp}/body;\n proxy_temp_path {temp}/proxy;\n fastcgi_temp_path {temp}/fastcgi;\n \
             uwsgi_temp_path {temp}/uwsgi;\n scgi_temp_path {temp}/scgi;\n server {{\n  listen 127.0.0.1:{port} ssl;\n  \
             ssl_certificate {cert};\n  ssl_certificate_key {key};\n  root {root};\n  {include}\n }}\n}}\n",
            if is_root() { "user root;\n" } else { "" },
            cert = certs.join("server.pem").display(),
            key = certs.join("server.key").display(),
            root = site.public().display(),
        ),
    )
    .unwrap();
    let server = spawn(
        Command::new(&nginx)
            .arg("-p")
            .arg(run.path())
            .arg("-c")
            .arg(&conf),
        &run.path().join("out.log"),
    );
    wait_for_port(port, "nginx", &run.path().join("error.log"));
    Some((server, port, run))
}

fn remote_codes(report: &serde_json::Value) -> Vec<String> {
    codes(report)
        .into_iter()
        .filter(|c| c.starts_with("remote-"))
        .collect()
}

#[test]
fn remote_against_real_nginx_over_tls() {
    let site = good_site();
    let certs = tempfile::tempdir().unwrap();
    if !make_certs(certs.path()) {
        return;
    }
    let ca = certs.path().join("ca.pem");
    let ca = ca.to_str().unwrap();

    let Some((_server, port, _run)) = tls_nginx(&site, certs.path(), true) else {
        return;
    };
    let url = format!("https://localhost:{port}/");
    // The certificate is not from a public CA: iOS would refuse it, and so does check.
    let (exit, report) = check(&site, &["--remote", &url]);
    assert_eq!(remote_codes(&report), vec!["remote-tls"], "{report:#}");
    assert_eq!(exit, Some(1));
    // Trusting the CA (as devices of a company that installs its CA would): nothing to report.
    let (exit, report) = check(&site, &["--remote", &url, "--remote-ca", ca]);
    assert_eq!(remote_codes(&report), Vec::<String>::new(), "{report:#}");
    assert_eq!(exit, Some(0));
}

#[test]
fn remote_without_the_generated_config_reports_the_manifest_type() {
    let site = good_site();
    let certs = tempfile::tempdir().unwrap();
    if !make_certs(certs.path()) {
        return;
    }
    let Some((_server, port, _run)) = tls_nginx(&site, certs.path(), false) else {
        return;
    };
    let url = format!("https://localhost:{port}");
    let (exit, report) = check(
        &site,
        &[
            "--remote",
            &url,
            "--remote-ca",
            certs.path().join("ca.pem").to_str().unwrap(),
        ],
    );
    let found = remote_codes(&report);
    // nginx's stock MIME table does not know .plist: each manifest (versioned and latest
    // are checked per release: one here), on HEAD and on GET.
    assert!(
        !found.is_empty() && found.iter().all(|c| c == "remote-content-type"),
        "{report:#}"
    );
    assert_eq!(found.len(), 2, "{report:#}");
    // nginx's default type is application/octet-stream, as GitHub Pages serves manifests: a
    // warning that says what was seen (iOS is reported to accept it), not an error.
    let severities: Vec<&str> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "remote-content-type")
        .map(|p| p["severity"].as_str().unwrap())
        .collect();
    assert_eq!(severities, ["warning", "warning"], "{report:#}");
    assert_eq!(exit, Some(0));
}

#[test]
fn remote_unreachable_is_one_clear_error() {
    let site = good_site();
    let port = free_port();
    let (exit, report) = check(&site, &["--remote", &format!("https://127.0.0.1:{port}/")]);
    assert_eq!(
        remote_codes(&report),
        vec!["remote-unreachable"],
        "{report:#}"
    );
    assert_eq!(exit, Some(1));
}

/// The AMP subset checker agrees with the official validator on every case it covers.
#[test]
fn amp_subset_checker_agrees_with_the_official_validator() {
    let site = good_site();
    let page = site.read(PAGE);
    let big_css = format!("a{{color:red}}{}", "b{color:blue}".repeat(6000));
    let cases: Vec<(&str, String)> = vec![
        ("valid", page.clone()),
        ("no-doctype", page.replacen("<!doctype html>", "", 1)),
        ("no-amp-attr", page.replacen("<html ⚡", "<html", 1)),
        ("no-canonical", page.replacen("<link rel=\"canonical\"", "<link rel=\"author\"", 1)),
        ("no-viewport", page.replacen("name=\"viewport\"", "name=\"x-viewport\"", 1)),
        ("author-script", page.replacen("</main>", "<script>alert(1)</script></main>", 1)),
        // AMP accepts a plain <img> nowadays; the checker must not be stricter than AMP.
        ("img", page.replacen("</main>", "<img src=\"x.png\" width=\"1\" height=\"1\" alt=\"\"></main>", 1)),
        ("onclick", page.replacen("<main>", "<main onclick=\"x()\">", 1)),
        ("important", page.replacen("<style amp-custom>", "<style amp-custom>a{color:red!important}", 1)),
        ("javascript-href", page.replacen("</main>", "<a href=\"javascript:alert(1)\">x</a></main>", 1)),
        ("target-parent", page.replacen("target=\"_top\"", "target=\"_parent\"", 1)),
        ("iframe", page.replacen("</main>", "<iframe src=\"https://example.com\"></iframe></main>", 1)),
        ("too-much-css", page.replacen("<style amp-custom>", &format!("<style amp-custom>{big_css}"), 1)),
        ("itms-services-ok", page.replacen("</main>", "<a href=\"itms-services://?action=download-manifest&amp;url=x\" target=\"_blank\">x</a></main>", 1)),
        // The pages are transformed AMP without a runtime: a component would need one.
        ("amp-img-without-runtime", page.replacen("</main>", "<amp-img src=\"x.png\" width=\"1\" height=\"1\" alt=\"\"></amp-img></main>", 1)),
        ("not-transformed", page.replacen(" transformed=\"self;v=1\"", "", 1)),
        ("no-amp-runtime-style", page.replacen("<style amp-runtime i-amphtml-version=\"000000000000000\"></style>", "", 1)),
        ("bad-runtime-version", page.replacen("i-amphtml-version=\"000000000000000\"", "i-amphtml-version=\"1\"", 1)),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, html) in &cases {
        let path = dir.path().join(format!("{name}.html"));
        std::fs::write(&path, html).unwrap();
        files.push(path);
    }
    let Some(official) = amp_verdicts(&files) else {
        return;
    };
    for ((name, html), path) in cases.iter().zip(&files) {
        let ours = otasite::testkit::amp_problems(html, name);
        let official_pass = official[path.to_string_lossy().as_ref()].is_ok();
        assert_eq!(
            ours.is_empty(),
            official_pass,
            "{name}: ours {ours:?}, official pass = {official_pass}"
        );
    }
}

/// One rule set decides the build's warnings, `check`'s problems and what each page offers:
/// a build that cannot install has no install link on any page, and says why.
#[test]
fn one_rule_decides_warning_problem_and_page() {
    let site = TestSite::basic();
    let day = std::time::Duration::from_secs(24 * 3600);
    let expired = ProfileSpec {
        expires: std::time::SystemTime::now() - day,
        created: std::time::SystemTime::now() - 300 * day,
        ..ProfileSpec::ad_hoc(&[UDID])
    };
    let cases: [(&str, &str, IpaSpec); 6] = [
        (
            "com.expired",
            "profile-expired",
            IpaSpec {
                profile: Some(expired),
                ..spec("com.expired", "1.0", "1")
            },
        ),
        (
            "com.none",
            "profile-missing",
            IpaSpec::new("com.none", "1.0", "1"),
        ),
        (
            "com.unsigned",
            "ipa-unsigned",
            IpaSpec {
                signed: false,
                ..spec("com.unsigned", "1.0", "1")
            },
        ),
        (
            "com.store",
            "profile-app-store",
            IpaSpec {
                profile: Some(ProfileSpec::ad_hoc(&[])),
                ..spec("com.store", "1.0", "1")
            },
        ),
        (
            "com.ent",
            "",
            IpaSpec {
                profile: Some(ProfileSpec {
                    all_devices: true,
                    ..ProfileSpec::ad_hoc(&[])
                }),
                ..spec("com.ent", "1.0", "1")
            },
        ),
        (
            "com.dev",
            "",
            IpaSpec {
                profile: Some(ProfileSpec {
                    get_task_allow: true,
                    ..ProfileSpec::ad_hoc(&[UDID])
                }),
                ..spec("com.dev", "1.0", "1")
            },
        ),
    ];
    for (bundle, _, ipa) in &cases {
        site.add_ipa(&format!("releases/{bundle}.ipa"), ipa);
    }
    let out = site.build_ok(&["--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (_, checked) = check(&site, &[]);
    let codes = |list: &serde_json::Value, bundle: &str| -> Vec<(String, String)> {
        let file = format!("{bundle}.ipa");
        (list.as_array().unwrap().iter())
            .filter(|p| p["file"].as_str().unwrap().ends_with(&file))
            .map(|p| (p["code"].to_string(), p["message"].to_string()))
            .collect()
    };
    let index = site.read("index.html");
    for (bundle, code, _) in &cases {
        let warned = codes(&report["warnings"], bundle);
        assert_eq!(
            warned,
            codes(&checked["problems"], bundle),
            "{bundle}: the build and check say the same, in the same words"
        );
        let manifest = format!("apps%2F{bundle}%2F");
        let pages = [
            format!("apps/{bundle}/index.html"),
            format!("apps/{bundle}/1.0-1/index.html"),
            format!("apps/{bundle}/latest/index.html"),
        ];
        if code.is_empty() {
            assert!(warned.is_empty(), "{bundle}: {warned:?}");
            assert!(
                index.contains(&manifest),
                "{bundle} installs from the index"
            );
            let page = site.read(&pages[1]);
            let steps = if *bundle == "com.ent" {
                "VPN &amp; Device Management"
            } else {
                "Developer Mode"
            };
            assert!(page.contains(steps), "{bundle}: the steps for its kind");
            continue;
        }
        assert!(
            warned.iter().any(|(c, _)| c.trim_matches('"') == *code),
            "{bundle}: {warned:?}"
        );
        assert!(
            !index.contains(&manifest),
            "{bundle}: no install link on the index"
        );
        for page in &pages {
            let html = site.read(page);
            assert!(!html.contains("itms-services:"), "{page}: no install link");
            assert!(html.contains("class=\"warn\""), "{page}: says why");
        }
    }
    assert_eq!(
        report["warnings"].as_array().unwrap().len(),
        4,
        "one blocker each for four builds, nothing for the other two: {}",
        report["warnings"]
    );
}

/// The IPA's path in the releases folder: every segment needs percent-encoding.
const BUCKET_IPA: &str = "QA Builds/1.0 #2/App ü.ipa";

/// nginx over TLS as a bucket behind a CDN: `/site/` is the built site, and each other
/// prefix serves the IPAs one way (right, redirected, mistyped, another length, other bytes,
/// refusing HEAD).
fn bucket_nginx(
    site: &TestSite,
    bucket: &Path,
    certs: &Path,
    port: u16,
) -> Option<(common::servers::Server, tempfile::TempDir)> {
    let nginx = which("nginx")
        .or_else(|| Some(std::path::PathBuf::from("/usr/sbin/nginx")).filter(|p| p.exists()));
    let Some(nginx) = nginx else {
        missing_tool("nginx", "apt-get install nginx");
        return None;
    };
    make_world_readable(site.root());
    make_world_readable(bucket);
    let run = tempfile::tempdir().unwrap();
    let temp = run.path().display();
    let b = bucket.display();
    let conf = run.path().join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "{user}worker_processes 1;\ndaemon off;\npid {temp}/nginx.pid;\nerror_log {temp}/error.log;\n\
             events {{ worker_connections 64; }}\nhttp {{\n include /etc/nginx/mime.types;\n default_type application/octet-stream;\n \
             access_log off;\n client_body_temp_path {temp}/body;\n proxy_temp_path {temp}/proxy;\n fastcgi_temp_path {temp}/fastcgi;\n \
             uwsgi_temp_path {temp}/uwsgi;\n scgi_temp_path {temp}/scgi;\n server {{\n  listen 127.0.0.1:{port} ssl;\n  \
             ssl_certificate {cert};\n  ssl_certificate_key {key};\n  \
             location /site/ {{ alias {public}/; }}\n  \
             location /good/ {{ alias {b}/good/; }}\n  \
             location /moved/ {{ return 302 https://localhost:{port}/good/; }}\n  \
             location /typed/ {{ alias {b}/good/; types {{ }} default_type text/plain; }}\n  \
             location /short/ {{ alias {b}/short/; }}\n  \
             location /tampered/ {{ alias {b}/tampered/; }}\n  \
             location /nohead/ {{ alias {b}/good/; if ($request_method = HEAD) {{ return 405; }} }}\n \
             }}\n}}\n",
            user = if is_root() { "user root;\n" } else { "" },
            cert = certs.join("server.pem").display(),
            key = certs.join("server.key").display(),
            public = site.public().display(),
        ),
    )
    .unwrap();
    let server = spawn(
        Command::new(&nginx)
            .arg("-p")
            .arg(run.path())
            .arg("-c")
            .arg(&conf),
        &run.path().join("out.log"),
    );
    wait_for_port(port, "nginx", &run.path().join("error.log"));
    Some((server, run))
}

#[test]
fn remote_follows_each_manifests_ipa_url_to_the_bucket() {
    let certs = tempfile::tempdir().unwrap();
    if !make_certs(certs.path()) {
        return;
    }
    let ca = certs.path().join("ca.pem");
    let ca = ca.to_str().unwrap();
    let site = TestSite::basic();
    let spec = IpaSpec {
        profile: Some(ProfileSpec::ad_hoc(&[UDID])),
        icon: Some([20, 160, 90]),
        ..IpaSpec::new("com.check.cdn", "1.0", "2").name("Bucket")
    };
    let source = site.add_ipa(&format!("releases/{BUCKET_IPA}"), &spec);
    let bytes = std::fs::read(&source).unwrap();
    let bucket = tempfile::tempdir().unwrap();
    let put = |folder: &str, content: &[u8]| {
        let path = bucket.path().join(folder).join(BUCKET_IPA);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    };
    put("good", &bytes);
    put("short", &bytes[..bytes.len() - 10]);
    let mut tampered = bytes.clone();
    *tampered.last_mut().unwrap() ^= 0xff;
    put("tampered", &tampered);
    let port = free_port();
    // The site must exist before nginx serves it.
    site.build_ok(&[]);
    let Some((_server, _run)) = bucket_nginx(&site, bucket.path(), certs.path(), port) else {
        return;
    };
    let remote = format!("https://localhost:{port}/site/");
    for (prefix, deep, want) in [
        ("good", false, vec![]),
        ("good", true, vec![]),
        ("nohead", false, vec![]),
        ("moved", false, vec!["remote-redirect"]),
        ("typed", false, vec!["remote-content-type"]),
        ("short", false, vec!["remote-ipa-size"]),
        ("tampered", false, vec![]),
        ("tampered", true, vec!["remote-ipa-hash"]),
    ] {
        let base = format!("https://localhost:{port}/{prefix}/");
        site.build_ok(&["--ipa-base-url", &base]);
        let mut args = vec![
            "--remote",
            &remote,
            "--remote-ca",
            ca,
            "--ipa-base-url",
            &base,
        ];
        if deep {
            args.push("--deep");
        }
        let (exit, report) = check(&site, &args);
        // Only what is said about the IPA (manifests are served as nginx's default type).
        let about_ipa: Vec<String> = report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["file"].as_str().unwrap().starts_with(&base))
            .map(|p| p["code"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(about_ipa, want, "{prefix} deep={deep}: {report:#}");
        // The manifest names the bucket: no check of an IPA in the site, no "external" note.
        assert!(
            !codes(&report).iter().any(|c| c.starts_with("ipa-")),
            "{prefix}: {report:#}"
        );
        assert_eq!(
            exit,
            Some(if want.is_empty() { 0 } else { 1 }),
            "{prefix}: {report:#}"
        );
    }
}
