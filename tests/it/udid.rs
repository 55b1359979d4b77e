//! Device registration (issue 19): the page, the Profile Service profile (read by plistlib and
//! plistutil; signed, verified by `openssl cms -verify`), and the endpoint in each runtime that
//! answers it: Cloudflare's own (`wrangler pages dev`), Netlify's own (`netlify dev
//! --offline`, netlify-cli's local runtime) and `otasite serve`.
//! Devices' bodies are CMS-signed with `openssl cms -sign` at test time. After each flow,
//! nothing in the site folder (output, `.otasite/`) or the runtime's log, state and temporary
//! files holds the UDID.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::http::{free_port, request, wait_for_port};
use crate::common::servers::spawn;
use crate::common::*;

/// The registering device: not the one in the test IPAs' profile, so that a copy of it found
/// anywhere came from registration.
const UDID: &str = "00008120-001C2D3E4F506172";

const SITE: &str = "title: Acme <Beta> & Co\nbase_url: https://beta.example.com/\n\
                    hosting: [cloudflare, netlify]\nudid:\n  contact: mailto:qa@example.com\n";

fn udid_site(yaml: &str) -> TestSite {
    let site = TestSite::new(yaml);
    site.add_ipa("releases/app/App.ipa", &spec("com.acme.app", "1.0", "1"));
    site
}

/// A test CA and a certificate it issued, made by openssl in a temporary folder (outside
/// every site); `None` (after a skip) without openssl.
struct Keys {
    dir: tempfile::TempDir,
}

impl Keys {
    fn new() -> Option<Keys> {
        if which("openssl").is_none() {
            missing_tool("openssl", "apt-get install openssl");
            return None;
        }
        let keys = Keys {
            dir: tempfile::tempdir().unwrap(),
        };
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(keys.dir.path())
                .output()
                .unwrap();
            assert!(out.status.success(), "openssl {args:?}: {}", stderr(&out));
        };
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
        ]);
        run(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "signer.key",
            "-out",
            "signer.csr",
            "-subj",
            "/CN=otasite test signer",
        ]);
        run(&[
            "x509",
            "-req",
            "-in",
            "signer.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "signer.pem",
            "-days",
            "2",
        ]);
        Some(keys)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `plist` signed as a device signs its attributes (CMS SignedData, DER, attached).
    fn signed(&self, plist: &str) -> Vec<u8> {
        let input = self.path("attributes.plist");
        std::fs::write(&input, plist).unwrap();
        let out = Command::new("openssl")
            .args([
                "cms",
                "-sign",
                "-nodetach",
                "-binary",
                "-outform",
                "DER",
                "-in",
            ])
            .arg(&input)
            .arg("-signer")
            .arg(self.path("signer.pem"))
            .arg("-inkey")
            .arg(self.path("signer.key"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        std::fs::remove_file(&input).unwrap();
        out.stdout
    }
}

/// A device's attributes as iOS sends them (with `udid`, when given).
fn attributes(udid: Option<&str>) -> String {
    let udid = udid
        .map(|u| format!("\t<key>UDID</key>\n\t<string>{u}</string>\n"))
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST \
         1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n\
         <dict>\n\t<key>PRODUCT</key>\n\t<string>iPhone14,5</string>\n\t<key>SERIAL</key>\n\t\
         <string>F2LXQ0ABCDEF</string>\n{udid}\t<key>VERSION</key>\n\t<string>22A3354</string>\n\
         \t<key>DEVICE_NAME</key>\n\t<string>Anna&apos;s iPhone</string>\n</dict>\n</plist>\n"
    )
}

/// The bodies every endpoint is tried with, and what each must get: (name, body, status).
fn bodies(keys: &Keys) -> Vec<(&'static str, Vec<u8>, u16)> {
    vec![
        (
            "signed attributes",
            keys.signed(&attributes(Some(UDID))),
            301,
        ),
        ("garbage", b"\x30\x82garbage </plist> <?xml".to_vec(), 400),
        ("an oversized body", vec![b'<'; 70 * 1024], 400),
        (
            "attributes without a UDID",
            keys.signed(&attributes(None)),
            400,
        ),
        (
            "a UDID with a bad character",
            keys.signed(&attributes(Some("00008120-001C2D3E4F50617<"))),
            400,
        ),
    ]
}

/// POSTs `body` to `path`; (status, Location, body). A server may answer an oversized body
/// before reading it: a failed write is then not an error.
fn post(port: u16, path: &str, body: &[u8]) -> (u16, Option<String>, String) {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Type: \
         application/pkcs7-signature\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    let location = head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("location"))
        })
        .map(|(_, v)| v.trim().to_string());
    (status, location, body.to_string())
}

/// Every body against the endpoint at `port`; returns the result page's address.
fn assert_endpoint(what: &str, port: u16, keys: &Keys) -> String {
    let mut result = None;
    for (name, body, want) in bodies(keys) {
        let (status, location, text) = post(port, "/udid/register", &body);
        assert_eq!(status, want, "{what}, {name}: {location:?} {text}");
        if want == 301 {
            let location = location.unwrap_or_else(|| panic!("{what}: no Location"));
            let (path, query) = location
                .split_once("/udid/result/?")
                .map(|(_, q)| ("/udid/result/", q))
                .unwrap_or_else(|| panic!("{what}: {location}"));
            assert!(
                query.starts_with(&format!("udid={UDID}&product=iPhone14%2C5&version=22A3354")),
                "{what}: {location}"
            );
            assert!(
                !query.contains("F2LXQ0"),
                "{what}: the serial is not passed on"
            );
            result = Some(format!("{path}?{query}"));
        } else {
            assert!(location.is_none(), "{what}, {name}");
            assert!(!text.contains(UDID), "{what}, {name}: {text}");
        }
    }
    let result = result.unwrap();
    let page = request(port, "GET", "/udid/result/", &[]);
    assert_eq!(page.status, 200, "{what}: the result page");
    assert!(String::from_utf8_lossy(&page.body).contains("id=\"udid\""));
    result
}

/// Panics when any file under `dir` holds the registered UDID.
fn assert_nowhere(dir: &Path, what: &str) {
    for entry in walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
    {
        if entry.file_type().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap_or_default();
            assert!(
                !bytes.windows(UDID.len()).any(|w| w == UDID.as_bytes()),
                "{what}: {} holds the registered UDID",
                entry.path().display()
            );
        }
    }
}

#[test]
fn the_page_the_profile_and_the_links() {
    let site = udid_site(SITE);
    site.build_ok(&[]);
    let public = site.public();
    for file in [
        "udid/index.html",
        "udid/result/index.html",
        "udid.mobileconfig",
        "_worker.js",
        "_routes.json",
        "netlify/functions/udid.mjs",
        "netlify.toml",
    ] {
        assert!(public.join(file).is_file(), "{file}");
    }
    let index = site.read("index.html");
    assert!(
        index.contains("href=\"./udid/\""),
        "the index links the page"
    );
    let release = site.read("apps/com.acme.app/1.0-1/index.html");
    assert!(
        release.contains("href=\"../../../udid/\""),
        "an ad hoc release links the page"
    );
    let page = site.read("udid/index.html");
    assert!(page.contains("href=\"../udid.mobileconfig\""));
    assert!(page.contains("Not Verified"), "unsigned: the page says so");
    assert!(page.contains("Profile Downloaded"));
    let result = site.read("udid/result/index.html");
    assert!(!result.contains('⚡') && result.contains("<script>"));
    assert!(result.contains("data-contact=\"mailto:qa@example.com\""));
    assert_amp_valid(&[
        public.join("index.html"),
        public.join("udid/index.html"),
        public.join("apps/com.acme.app/1.0-1/index.html"),
    ]);
    let profile = public.join("udid.mobileconfig");
    let script = r#"
import json, plistlib, sys
with open(sys.argv[1], 'rb') as f:
    p = plistlib.load(f)
c = p['PayloadContent']
print(json.dumps([p['PayloadType'], p['PayloadDisplayName'], p['PayloadIdentifier'], p['PayloadUUID'], p['PayloadVersion'], c['URL'], c['DeviceAttributes'], bool(c['Challenge'])]))
"#;
    if let Some(out) = python(script, &profile, "plistlib") {
        let got: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(got[0], "Profile Service");
        assert_eq!(got[1], "Acme <Beta> & Co");
        assert!(
            got[2]
                .as_str()
                .unwrap()
                .starts_with("com.example.beta.otasite.udid.")
        );
        assert_eq!(got[3].as_str().unwrap().len(), 36);
        assert_eq!(got[4], 1);
        assert_eq!(got[5], "https://beta.example.com/udid/register");
        assert_eq!(
            got[6],
            serde_json::json!(["UDID", "PRODUCT", "VERSION", "SERIAL", "DEVICE_NAME"])
        );
        assert_eq!(got[7], true);
    }
    assert_plistutil_reads(&profile);
    // Stable across builds: iOS replaces the profile it has instead of adding another.
    let before = std::fs::read(&profile).unwrap();
    site.build_ok(&["--no-cache"]);
    assert_eq!(std::fs::read(&profile).unwrap(), before);
    let check = otasite().arg("check").arg(site.root()).output().unwrap();
    assert!(check.status.success(), "{}", stderr(&check));
    // Broken on purpose: check names each missing piece.
    std::fs::remove_file(public.join("_worker.js")).unwrap();
    std::fs::write(
        public.join("_headers"),
        "/*\n  X-Content-Type-Options: nosniff\n",
    )
    .unwrap();
    let check = otasite()
        .arg("check")
        .arg(site.root())
        .arg("--json")
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    let codes: Vec<&str> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"udid-endpoint-missing"), "{codes:?}");
    assert!(codes.contains(&"udid-profile-type"), "{codes:?}");

    // Off by default: none of it.
    let plain = udid_site("title: A\nbase_url: https://beta.example.com/\n");
    plain.build_ok(&[]);
    for file in [
        "udid/index.html",
        "udid.mobileconfig",
        "_worker.js",
        "netlify.toml",
    ] {
        assert!(!plain.public().join(file).exists(), "{file}");
    }
    assert!(!plain.read("index.html").contains("udid/"));
}

#[test]
fn hosts_without_functions_are_warned_about_and_the_profile_type_is_everywhere() {
    let site = udid_site(
        "title: A\nbase_url: https://beta.example.com/\nhosting: [nginx, apache, iis, \
         github-pages, caddy, vercel]\nudid:\n  contact: https://forms.example.com/devices\n",
    );
    let out = site.build_ok(&[]);
    let err = stderr(&out);
    assert!(err.contains("site.yaml: device registration"), "{err}");
    assert!(
        err.contains("nginx, apache, iis, github-pages, caddy, vercel serve the page"),
        "{err}"
    );
    let check = otasite().arg("check").arg(site.root()).output().unwrap();
    let text = String::from_utf8_lossy(&check.stdout).into_owned() + &stderr(&check);
    assert!(text.contains("udid-needs-functions"), "{text}");
    assert!(!text.contains("udid-profile-type"), "{text}");
    assert!(
        site.read(".htaccess")
            .contains("x-apple-aspen-config .mobileconfig")
    );
    assert!(
        site.read("web.config")
            .contains("application/x-apple-aspen-config")
    );
    assert!(
        site.read("vercel.json")
            .contains("application/x-apple-aspen-config")
    );
    let nginx = std::fs::read_to_string(site.root().join("server-config/nginx.conf")).unwrap();
    assert!(nginx.contains("default_type application/x-apple-aspen-config;"));
}

#[test]
fn a_bad_contact_names_the_line() {
    let site =
        udid_site("title: A\nbase_url: https://beta.example.com/\nudid:\n  contact: ftp://x\n");
    let out = site.build(&[]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("site.yaml:4") && err.contains("mailto:"),
        "{err}"
    );
}

#[test]
fn a_signed_profile_verifies_and_the_key_stays_outside_the_site() {
    let Some(keys) = Keys::new() else { return };
    let site = udid_site(SITE);
    let out = otasite()
        .arg("build")
        .arg(site.root())
        .env("OTASITE_UDID_SIGN_CERT", keys.path("signer.pem"))
        .env("OTASITE_UDID_SIGN_KEY", keys.path("signer.key"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!site.read("udid/index.html").contains("Not Verified"));
    let signed = site.public().join("udid.mobileconfig");
    let content = keys.path("content.plist");
    let verify = Command::new("openssl")
        .args(["cms", "-verify", "-inform", "DER", "-in"])
        .arg(&signed)
        .arg("-CAfile")
        .arg(keys.path("ca.pem"))
        .arg("-out")
        .arg(&content)
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", stderr(&verify));
    let xml = std::fs::read_to_string(&content).unwrap();
    assert!(xml.contains("<string>Profile Service</string>"), "{xml}");
    assert!(xml.contains("https://beta.example.com/udid/register"));
    let check = otasite()
        .arg("check")
        .arg(site.root())
        .env("OTASITE_UDID_SIGN_CERT", keys.path("signer.pem"))
        .env("OTASITE_UDID_SIGN_KEY", keys.path("signer.key"))
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stderr(&check));

    // A key inside the site folder is refused, and so is half a pair.
    let inside = site.copy_in("keys/signer.key", &keys.path("signer.key"));
    let out = otasite()
        .arg("build")
        .arg(site.root())
        .env("OTASITE_UDID_SIGN_CERT", keys.path("signer.pem"))
        .env("OTASITE_UDID_SIGN_KEY", &inside)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("inside the site folder"),
        "{}",
        stderr(&out)
    );
    let out = otasite()
        .arg("build")
        .arg(site.root())
        .env("OTASITE_UDID_SIGN_CERT", keys.path("signer.pem"))
        .env_remove("OTASITE_UDID_SIGN_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("go together"), "{}", stderr(&out));
}

#[test]
fn cloudflares_own_runtime_answers_registration() {
    let wrangler = project_dir().join("tests/hosts/node_modules/wrangler/bin/wrangler.js");
    if which("node").is_none() || !wrangler.is_file() {
        missing_tool(
            "wrangler (Cloudflare's runtime)",
            "run scripts/install-test-tools",
        );
        return;
    }
    let Some(keys) = Keys::new() else { return };
    let site = udid_site(SITE);
    site.build_ok(&[]);
    let run = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = run.path().join("wrangler.log");
    let mut cmd = Command::new("node");
    cmd.arg(&wrangler)
        .args(["pages", "dev"])
        .arg(site.public())
        .args(["--ip", "127.0.0.1", "--port", &port.to_string()])
        .args(["--compatibility-date", "2025-09-24", "--log-level", "warn"])
        .current_dir(run.path())
        .env("WRANGLER_SEND_METRICS", "false")
        .env("HOME", run.path());
    let server = spawn(&mut cmd, &log);
    wait_for_within(port, &log);
    assert_endpoint("Cloudflare", port, &keys);
    // The static site is still served as before, the profile with its type; the worker is not.
    let profile = request(port, "GET", "/udid.mobileconfig", &[]);
    assert_eq!(profile.status, 200);
    assert_eq!(
        profile.header("content-type"),
        Some("application/x-apple-aspen-config")
    );
    assert_eq!(request(port, "GET", "/udid/", &[]).status, 200);
    assert_eq!(request(port, "GET", "/_worker.js", &[]).status, 404);
    drop(server);
    assert_nowhere(site.root(), "Cloudflare");
    assert_nowhere(run.path(), "Cloudflare's log and state");
}

/// The hosts' runtimes take seconds to start.
fn wait_for_within(port: u16, log: &Path) {
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(90) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!(
        "the runtime did not start:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

#[test]
fn serve_answers_registration_and_the_result_page_shows_the_device() {
    let Some(keys) = Keys::new() else { return };
    let site = udid_site(SITE);
    let port = free_port();
    let log = keys.path("serve.log");
    let mut cmd = otasite();
    cmd.arg("serve")
        .arg(site.root())
        .args(["-p", &port.to_string()]);
    let server = spawn(&mut cmd, &log);
    wait_for_port(port, "otasite serve", &log);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while request(port, "GET", "/udid/", &[]).status != 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "serve never built the page"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let result = assert_endpoint("otasite serve", port, &keys);
    let profile = request(port, "GET", "/udid.mobileconfig", &[]);
    assert_eq!(
        profile.header("content-type"),
        Some("application/x-apple-aspen-config")
    );
    // A GET of the endpoint, or a POST elsewhere, is no registration.
    assert_eq!(request(port, "GET", "/udid/register", &[]).status, 404);
    assert_eq!(post(port, "/udid/", b"x").0, 405);
    // What the tester sees: Chromium runs the page's script on the address the device opens.
    if which("chromium").is_none() {
        missing_tool("chromium", "apt-get install chromium");
    } else {
        let profile_dir = tempfile::tempdir().unwrap();
        let out = Command::new("chromium")
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
            .arg(format!("--user-data-dir={}", profile_dir.path().display()))
            .arg(format!("http://127.0.0.1:{port}{result}"))
            .output()
            .unwrap();
        let dom = String::from_utf8_lossy(&out.stdout);
        assert!(
            dom.contains(&format!("<code id=\"udid\" class=\"hash\">{UDID}</code>")),
            "{dom}"
        );
        assert!(dom.contains("<dd id=\"product\">iPhone14,5</dd>"), "{dom}");
        assert!(dom.contains("<dd id=\"name\">Anna's iPhone</dd>"), "{dom}");
        assert!(
            dom.contains(&format!("href=\"mailto:qa@example.com?subject=Please%20register%20my%20device&amp;body=UDID%3A%20{UDID}")),
            "{dom}"
        );
    }
    drop(server);
    assert_nowhere(site.root(), "serve");
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(!log_text.contains(UDID), "serve's log: {log_text}");
}

#[test]
fn netlifys_own_runtime_answers_registration() {
    let netlify = project_dir().join("tests/hosts/node_modules/netlify-cli/bin/run.js");
    if which("node").is_none() || !netlify.is_file() {
        missing_tool(
            "netlify-cli (Netlify's local runtime)",
            "run scripts/install-test-tools",
        );
        return;
    }
    let Some(keys) = Keys::new() else { return };
    let site = udid_site(SITE);
    site.build_ok(&[]);
    // `netlify dev` keeps its state (`.netlify/`) in the folder it serves, so it serves a copy
    // of the output: the folder `cd public && netlify deploy` deploys, read through its own
    // `netlify.toml` (publish folder, functions folder; no `--dir` or `--functions` given).
    let run = tempfile::tempdir().unwrap();
    let project = run.path().join("public");
    copy_dir(&site.public(), &project);
    let config = run.path().join("config");
    std::fs::create_dir_all(config.join("netlify")).unwrap();
    std::fs::write(
        config.join("netlify/config.json"),
        "{\"telemetryDisabled\": true}\n",
    )
    .unwrap();
    let tmp = run.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let port = free_port();
    let log = keys.path("netlify.log");
    let mut cmd = Command::new("node");
    // Offline: no site, no login, no API. Edge Functions are off: their runtime is Deno,
    // which netlify-cli downloads at start (the site has none).
    cmd.arg(&netlify)
        .args(["dev", "--offline", "--no-open", "--skip-gitignore"])
        .arg("--internal-disable-edge-functions")
        .args(["--port", &port.to_string()])
        .args(["--staticServerPort", &free_port().to_string()])
        .current_dir(&project)
        .env("HOME", run.path())
        .env("XDG_CONFIG_HOME", &config)
        .env("XDG_CACHE_HOME", run.path().join("cache"))
        .env("XDG_DATA_HOME", run.path().join("data"))
        .env("XDG_STATE_HOME", run.path().join("state"))
        .env("TMPDIR", &tmp)
        .env("NO_UPDATE_NOTIFIER", "1")
        .env_remove("NETLIFY_SITE_ID")
        .env_remove("NETLIFY_AUTH_TOKEN");
    let server = spawn(&mut cmd, &log);
    // Ready once it has loaded the function (after it listens).
    let start = std::time::Instant::now();
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("Loaded function udid") {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(120),
            "netlify dev did not load the function:\n{text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    wait_for_within(port, &log);
    // The function answers at the path it declares, for POST only, and not at Netlify's
    // default `/.netlify/functions/udid`; the result page it redirects to is served.
    assert_endpoint("Netlify", port, &keys);
    assert_eq!(request(port, "GET", "/udid/register", &[]).status, 404);
    assert_eq!(
        request(port, "GET", "/.netlify/functions/udid", &[]).status,
        404
    );
    assert_eq!(request(port, "GET", "/udid/", &[]).status, 200);
    // Its type is not checked here: `netlify dev` lets its static server's Content-Type win
    // over `_headers` (Netlify's own parser checks those rules, tests/it/servers.rs).
    assert_eq!(request(port, "GET", "/udid.mobileconfig", &[]).status, 200);
    drop(server);
    assert_nowhere(site.root(), "Netlify");
    assert_nowhere(run.path(), "Netlify's state and temporary files");
    // netlify-cli logs each request, and a redirect's Location: the result page's address,
    // as a host's request log sees it. The UDID is in no other line.
    let log_text = std::fs::read_to_string(&log).unwrap();
    for line in log_text.lines().filter(|l| l.contains(UDID)) {
        let line = line.trim();
        assert!(
            line.starts_with(&format!(
                "'http://127.0.0.1:{port}/udid/result/?udid={UDID}&"
            )),
            "netlify dev's log: {line}"
        );
    }
}

/// Copies the folder `from` to `to` (which must not exist).
fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
