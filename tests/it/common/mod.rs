//! Shared test support: temporary sites, running the real binary, and the external checkers
//! (official AMP validator, Python's plistlib, libplist's plistutil).
//!
//! A missing external tool prints a clear SKIP on a developer machine and fails under CI=true.

pub mod http;
pub mod s3;
pub mod servers;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use otasite::testkit::{IpaSpec, ProfileSpec};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

pub const BASE_URL: &str = "https://beta.example.com/";

/// The otasite binary under test.
pub fn otasite() -> Command {
    Command::new(env!("CARGO_BIN_EXE_otasite"))
}

/// A site folder in a temporary directory.
pub struct TestSite {
    pub dir: TempDir,
}

impl TestSite {
    pub fn new(site_yaml: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("site.yaml"), site_yaml).unwrap();
        std::fs::create_dir_all(dir.path().join("releases")).unwrap();
        TestSite { dir }
    }

    /// A site with the default title and base URL.
    pub fn basic() -> Self {
        TestSite::new(&format!("title: Test Builds\nbase_url: {BASE_URL}\n"))
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn public(&self) -> PathBuf {
        self.root().join("public")
    }

    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.root().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    pub fn add_ipa(&self, rel: &str, spec: &IpaSpec) -> PathBuf {
        self.write(rel, spec.to_bytes())
    }

    pub fn copy_in(&self, rel: &str, from: &Path) -> PathBuf {
        let path = self.root().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::copy(from, &path).unwrap();
        path
    }

    /// Runs `otasite build SITE_DIR` plus `args`.
    pub fn build(&self, args: &[&str]) -> Output {
        otasite()
            .arg("build")
            .arg(self.root())
            .args(args)
            .output()
            .expect("run otasite")
    }

    /// Builds and panics with the diagnostics if the build failed.
    pub fn build_ok(&self, args: &[&str]) -> Output {
        let out = self.build(args);
        assert!(
            out.status.success(),
            "build failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn read(&self, rel_in_public: &str) -> String {
        let path = self.public().join(rel_in_public);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every file under `dir` with its SHA-256, for "byte-identical" comparisons.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut map = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            let rel = entry.path().strip_prefix(dir).unwrap().to_path_buf();
            map.insert(rel, hex(&Sha256::digest(&bytes)));
        }
    }
    map
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// All files under `dir` whose name ends with `suffix`.
pub fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.file_name().to_string_lossy().ends_with(suffix))
        .map(|e| e.into_path())
        .collect()
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Handles a missing external tool: a visible skip locally, a failure in CI.
pub fn missing_tool(what: &str, how: &str) {
    if in_ci() {
        panic!("{what} is required in CI but is missing: {how}");
    }
    // Written to stderr directly, not with eprintln!, so the test harness does not capture it:
    // a skipped check must be visible even when the test passes.
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "SKIP: {what} not found ({how}); this check did not run"
    );
}

/// The example site built into a temporary output folder (kept alive by the returned guard).
pub fn built_example_site() -> (TempDir, PathBuf) {
    let out_dir = tempfile::tempdir().unwrap();
    let public = out_dir.path().join("public");
    let out = otasite()
        .arg("build")
        .arg(project_dir().join("example-site"))
        .arg("-o")
        .arg(&public)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    (out_dir, public)
}

pub fn project_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A real-world file from `../shared/fixtures/`, when that folder exists.
pub fn shared_fixture(name: &str) -> Option<PathBuf> {
    let path = project_dir().join("../shared/fixtures").join(name);
    if path.is_file() {
        Some(path)
    } else {
        missing_tool(
            &format!("shared fixture {name}"),
            "the real-world fixtures live in ../shared/fixtures beside the project",
        );
        None
    }
}

pub fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(tool))
            .find(|p| p.is_file())
    })
}

/// Runs the official AMP validator over `pages`; panics listing every page that fails.
/// Returns false (after printing a skip) when the validator is not installed.
pub fn assert_amp_valid(pages: &[PathBuf]) -> bool {
    assert!(!pages.is_empty(), "no pages to validate");
    let Some(verdicts) = amp_verdicts(pages) else {
        return false;
    };
    let failures: Vec<String> = verdicts
        .iter()
        .filter_map(|(page, v)| v.as_ref().err().map(|errors| format!("{page}: {errors}")))
        .collect();
    assert!(
        failures.is_empty(),
        "AMP validation failed:\n{}",
        failures.join("\n")
    );
    true
}

/// Runs a Python script with one file argument; `None` (after a skip) without python3.
/// Panics with `what` and Python's stderr when the script fails.
pub fn python(script: &str, arg: &Path, what: &str) -> Option<String> {
    if which("python3").is_none() {
        missing_tool("python3", "apt-get install python3");
        return None;
    }
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(arg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{what} failed for {}: {}",
        arg.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Parses a manifest with Python's plistlib and returns the facts tests compare:
/// (bundle-identifier, bundle-version, kind, title, software-package url, sha256).
pub fn plistlib_manifest(path: &Path) -> Option<Vec<String>> {
    let script = r#"
import json, plistlib, sys
with open(sys.argv[1], 'rb') as f:
    m = plistlib.load(f)
item = m['items'][0]
pkg = [a for a in item['assets'] if a['kind'] == 'software-package'][0]
md = item['metadata']
print(json.dumps([md['bundle-identifier'], md['bundle-version'], md['kind'], md['title'], pkg['url'], pkg['sha256']]))
"#;
    let stdout = python(script, path, "plistlib")?;
    Some(serde_json::from_str(&stdout).unwrap())
}

/// Converts a manifest to a binary plist with libplist's plistutil and checks the result
/// parses back (plistutil 2.2 exits 0 even on failure, so the output is what is checked).
pub fn assert_plistutil_reads(path: &Path) -> bool {
    let Some(plistutil) = which("plistutil") else {
        missing_tool("plistutil", "apt-get install libplist-utils");
        return false;
    };
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("m.bplist");
    let out = Command::new(plistutil)
        .arg("-i")
        .arg(path)
        .args(["-f", "bin", "-o"])
        .arg(&bin)
        .output()
        .unwrap();
    let bytes = std::fs::read(&bin).unwrap_or_default();
    assert!(
        bytes.starts_with(b"bplist00") && !String::from_utf8_lossy(&out.stderr).contains("ERROR"),
        "plistutil could not read {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let original = plist::Value::from_file(path).unwrap();
    let converted = plist::Value::from_reader(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(
        original,
        converted,
        "plistutil saw a different manifest in {}",
        path.display()
    );
    true
}

/// A typical IPA spec for tests.
/// An installable build: signed, with an ad hoc profile for one device (as every OTA build
/// has). Tests of builds that cannot install start from `IpaSpec::new`.
pub fn spec(bundle: &str, version: &str, build: &str) -> IpaSpec {
    IpaSpec {
        profile: Some(ProfileSpec::ad_hoc(&[TEST_DEVICE])),
        ..IpaSpec::new(bundle, version, build)
    }
}

/// The one device of [`spec`]'s profile.
pub const TEST_DEVICE: &str = "00008110-000A1B2C3D4E5F60";

/// Screenshots a page with headless Chromium (scripts off, no network) into `target/screenshots/`
/// and returns what the browser decoded of each icon: `{"icons": [{src, complete, width, height}]}`.
pub fn screenshot(page: &Path, name: &str) -> Option<serde_json::Value> {
    let playwright = project_dir().join(".test-tools/amp/node_modules/playwright-core");
    let chromium = std::env::var_os("CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if !playwright.join("index.mjs").is_file() || which("node").is_none() {
        missing_tool("playwright-core", "run scripts/install-test-tools");
        return None;
    }
    if !chromium.is_file() {
        missing_tool("chromium", "apt-get install chromium");
        return None;
    }
    let dir = project_dir().join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let out_png = dir.join(format!("{name}.png"));
    let url = format!("file://{}", page.display());
    let out = Command::new("node")
        .arg(project_dir().join("tests/support/screenshot.mjs"))
        .arg(&playwright)
        .arg(&url)
        .arg(&out_png)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "screenshot of {url} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out_png.is_file());
    Some(serde_json::from_slice(&out.stdout).expect("screenshot JSON"))
}

/// The official AMP validator's verdict per page (`Err` holds its errors); `None` when the
/// validator is missing.
pub fn amp_verdicts(
    pages: &[PathBuf],
) -> Option<std::collections::HashMap<String, Result<(), String>>> {
    let tools = project_dir().join(".test-tools/amp");
    let validator = tools.join("node_modules/.bin/amphtml-validator");
    let engine = tools.join("validator_wasm.js");
    if !validator.is_file() || !engine.is_file() || which("node").is_none() {
        missing_tool(
            "the AMP validator",
            "run scripts/install-test-tools (needs node and npm)",
        );
        return None;
    }
    let out = Command::new(&validator)
        .arg("--validator_js")
        .arg(&engine)
        .args(["--format", "json"])
        .args(pages)
        .output()
        .expect("run amphtml-validator");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("validator JSON");
    Some(
        pages
            .iter()
            .map(|p| {
                let key = p.to_string_lossy().into_owned();
                let entry = &report[key.as_str()];
                let verdict = if entry["status"] == "PASS" {
                    Ok(())
                } else {
                    Err(entry["errors"].to_string())
                };
                (key, verdict)
            })
            .collect(),
    )
}
