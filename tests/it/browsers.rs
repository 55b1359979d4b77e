//! The pages as testers see them, in the two engines they use: Chromium, and WebKit (Safari's
//! engine, as WebKitGTK's MiniBrowser driven by WebKitWebDriver under Xvfb). A fixture site
//! (an installable ad hoc app with an icon and notes with an image, and an app whose only build
//! has an expired profile), built as AMP and as plain HTML, is served from 127.0.0.1 by
//! `tests/support/browsers.mjs` and opened at phone (390x844, 2x) and desktop (1280x800)
//! sizes, light and dark, with every request to another origin refused. One second after
//! opening each page, its content, icons and images must show, the Install button must show
//! exactly for the installable build, and no request may have gone to another origin.
//! Screenshots land in `target/screenshots/browsers/`.

use std::path::PathBuf;
use std::process::Command;

use otasite::testkit::{IpaSpec, ProfileSpec, icon, icon_image};
use serde_json::{Value, json};

use crate::common::{BASE_URL, TestSite, missing_tool, project_dir, spec, which};

/// The installable app (ad hoc, with an icon, three releases, notes with an image).
const FIELD: &str = "com.example.fieldnotes";
/// The app whose only build iOS will not install (its profile expired).
const OLD: &str = "com.example.oldtool";

fn fixture_site(amp: bool) -> TestSite {
    let site = TestSite::new(&format!(
        "title: Field Team Builds\nbase_url: {BASE_URL}\ndescription: Test builds for the field team\n{}",
        if amp { "" } else { "amp: false\n" }
    ));
    let field = |version: &str, build: &str| IpaSpec {
        icon: Some([20, 110, 200]),
        // About 104 KB, as the report of a clipped Size column had.
        executable_bytes: 100_000,
        ..spec(FIELD, version, build).name("Field Notes")
    };
    site.add_ipa("releases/1.0.0/FieldNotes.ipa", &field("1.0.0", "100"));
    site.write(
        "releases/1.0.0/notes.md",
        "---\ndate: 2026-01-12\n---\nFirst build.\n",
    );
    site.add_ipa("releases/1.2.0/FieldNotes.ipa", &field("1.2.0", "120"));
    site.write(
        "releases/1.2.0/notes.md",
        "---\ntitle: Offline maps\ndate: 2026-02-20\n---\nMaps now work without a connection.\n\n\
         ![The offline map screen](map.png)\n\n- Download an area\n- Use it in flight mode\n",
    );
    site.write(
        "releases/1.2.0/map.png",
        icon::encode_png(&icon_image(480, [40, 160, 90])),
    );
    site.add_ipa("releases/1.3.0/FieldNotes.ipa", &field("1.3.0", "1301"));
    site.write(
        "releases/1.3.0/notes.md",
        "---\ntitle: Shared layers\ndate: 2026-03-02\nchannel: beta\n---\nLayers can be shared.\n",
    );
    // An ad hoc build whose profile expired in 2021: no install button, a warning instead.
    let day = 24 * 3600;
    let epoch_2020 = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_577_836_800);
    let expired = ProfileSpec {
        created: epoch_2020,
        expires: epoch_2020 + std::time::Duration::from_secs(400 * day),
        ..ProfileSpec::ad_hoc(&[crate::common::TEST_DEVICE])
    };
    site.add_ipa(
        "releases/old/OldTool.ipa",
        &IpaSpec {
            profile: Some(expired),
            ..IpaSpec::new(OLD, "2.0", "7").name("Old Tool")
        },
    );
    site.write(
        "releases/old/OldTool.md",
        "---\ndate: 2021-01-05\n---\nLast build.\n",
    );
    site.build_ok(&[]);
    site
}

/// The pages opened of each site (the mount name is prepended), with the app each belongs to.
fn pages() -> Vec<(String, Option<&'static str>)> {
    vec![
        (String::new(), None),
        (format!("apps/{FIELD}/"), Some(FIELD)),
        (format!("apps/{FIELD}/1.2.0-120/"), Some(FIELD)),
        (format!("apps/{FIELD}/latest/"), Some(FIELD)),
        (format!("apps/{OLD}/"), Some(OLD)),
        (format!("apps/{OLD}/2.0-7/"), Some(OLD)),
        (format!("apps/{OLD}/latest/"), Some(OLD)),
    ]
}

/// One browser run at a time in this test binary: each page must show within its second, which
/// is about the page and not about how many browsers share the machine's cores.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

const MINIBROWSER: &str = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

/// The job fields naming `engine`'s tools; `None` (after a SKIP, or a failure under CI) when
/// one is missing.
fn engine_tools(engine: &str) -> Option<Value> {
    let playwright = project_dir().join(".test-tools/amp/node_modules/playwright-core");
    if which("node").is_none() {
        missing_tool("node", "apt-get install nodejs");
        return None;
    }
    if engine == "chromium" {
        let chromium = std::env::var_os("CHROMIUM")
            .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
        if !playwright.join("index.mjs").is_file() {
            missing_tool("playwright-core", "run scripts/install-test-tools");
            return None;
        }
        if !chromium.is_file() {
            missing_tool("chromium", "apt-get install chromium");
            return None;
        }
        return Some(json!({ "engine": engine, "playwright": playwright, "chromium": chromium }));
    }
    let minibrowser =
        std::env::var_os("MINIBROWSER").map_or_else(|| PathBuf::from(MINIBROWSER), PathBuf::from);
    let Some(webdriver) = which("WebKitWebDriver") else {
        missing_tool("WebKitWebDriver", "apt-get install webkit2gtk-driver");
        return None;
    };
    if !minibrowser.is_file() {
        missing_tool(
            "WebKitGTK's MiniBrowser",
            "apt-get install webkit2gtk-driver (it comes with libwebkit2gtk-4.1-0)",
        );
        return None;
    }
    if which("Xvfb").is_none() {
        missing_tool("Xvfb", "apt-get install xvfb");
        return None;
    }
    Some(json!({ "engine": engine, "webdriver": webdriver, "minibrowser": minibrowser }))
}

/// Runs `tests/support/browsers.mjs` with `job` (plus the tools' fields) and returns its report.
fn drive(tools: Value, job: Value) -> Value {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut job = job;
    for (k, v) in tools.as_object().unwrap() {
        job[k] = v.clone();
    }
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    job["report"] = json!(report);
    let out = Command::new("node")
        .arg(project_dir().join("tests/support/browsers.mjs"))
        .arg(job.to_string())
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "browsers.mjs failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read(&report).expect("browsers.mjs wrote its report");
    serde_json::from_slice(&text).unwrap_or_else(|e| {
        panic!(
            "browsers.mjs report: {e}\n{}",
            String::from_utf8_lossy(&text)
        )
    })
}

/// The origin of an absolute URL (`scheme://host:port`).
fn origin_of(url: &str) -> &str {
    let after = url.find("://").map_or(0, |i| i + 3);
    let end = url[after..].find('/').map_or(url.len(), |i| after + i);
    &url[..end]
}

/// Every request a view made or tried to make to an origin other than `origin`: the Resource
/// Timing entries (and the navigation), and what the refusal stopped.
fn foreign_requests(view: &Value, origin: &str) -> Vec<String> {
    let mut out: Vec<String> = view["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .filter(|url| origin_of(url) != origin)
        .collect();
    out.extend(
        view["refused"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| format!("refused: {}", r.as_str().unwrap())),
    );
    out
}

/// What is wrong with one view of a page that belongs to `app` (`None`: the index).
fn problems(view: &Value, origin: &str, mount: &str, app: Option<&str>) -> Vec<String> {
    let mut p = Vec::new();
    let size = view["size"].as_str().unwrap();
    let (width, height, dpr) = if size == "phone" {
        (390, 844, 2)
    } else {
        (1280, 800, 1)
    };
    let vp = &view["viewport"];
    if vp["width"] != width || vp["height"] != height || vp["dpr"] != dpr {
        p.push(format!("viewport {vp}, wanted {width}x{height} at {dpr}x"));
    }
    if view["dark"] != (view["scheme"] == "dark") {
        p.push(format!("prefers-color-scheme dark is {}", view["dark"]));
    }
    if view["url"] != format!("{origin}/{}", view["page"].as_str().unwrap()) {
        p.push(format!("the page open is {}", view["url"]));
    }
    let main = &view["main"];
    if main.is_null() {
        p.push("no <main>".into());
    } else if main["visible"] != true {
        p.push(format!("<main> does not show: {main}"));
    }
    let images = view["images"].as_array().unwrap();
    if !images.iter().any(|i| i["cls"] == "icon") {
        p.push("no icon".into());
    }
    for img in images {
        if !(img["naturalWidth"].as_u64() > Some(0) && img["complete"] == true) {
            p.push(format!("image not decoded: {img}"));
        }
        if img["visible"] != true {
            p.push(format!("image does not show: {img}"));
        }
    }
    let notes_release = format!("apps/{FIELD}/1.2.0-120/");
    if view["page"] == format!("{mount}/{notes_release}")
        && !images
            .iter()
            .any(|i| i["cls"] != "icon" && i["src"].as_str().unwrap().contains("/img/"))
    {
        p.push("no notes image".into());
    }
    // The Install button: present and showing exactly for the installable build.
    let installs = view["installs"].as_array().unwrap();
    let warns = view["warns"].as_array().unwrap();
    let card = |bundle: &str| json!(format!("./apps/{bundle}/"));
    let (field_installs, old_installs, old_warns) = match app {
        None => (
            installs.iter().filter(|i| i["app"] == card(FIELD)).count(),
            installs.iter().filter(|i| i["app"] == card(OLD)).count(),
            warns.iter().filter(|w| w["app"] == card(OLD)).count(),
        ),
        Some(FIELD) => (installs.len(), 0, 0),
        Some(_) => (0, installs.len(), warns.len()),
    };
    if app != Some(OLD) && field_installs == 0 {
        p.push("no Install button for the installable build".into());
    }
    if app != Some(FIELD) && (old_installs > 0 || old_warns == 0) {
        p.push(format!(
            "the blocked build has {old_installs} Install buttons and {old_warns} warnings"
        ));
    }
    if app == Some(FIELD) && !warns.is_empty() {
        p.push(format!("warnings on the installable app's page: {warns:?}"));
    }
    for i in installs {
        if i["visible"] != true || !i["href"].as_str().unwrap().starts_with("itms-services://") {
            p.push(format!("Install button: {i}"));
        }
    }
    for w in warns {
        if w["visible"] != true {
            p.push(format!("warning does not show: {w}"));
        }
    }
    // Every request on the site's own origin; the navigation among them.
    let requests = view["requests"].as_array().unwrap();
    if !requests.iter().any(|r| r["type"] == "navigation") {
        p.push("no navigation entry recorded".into());
    }
    for url in foreign_requests(view, origin) {
        p.push(format!("request to another origin: {url}"));
    }
    // Nothing cut off: the page does not scroll sideways, nor does the history table.
    let overflow = &view["overflow"];
    if overflow["scrollWidth"].as_u64() > overflow["clientWidth"].as_u64() {
        p.push(format!("the page is wider than the screen: {overflow}"));
    }
    for cut in overflow["cut"].as_array().unwrap() {
        p.push(format!("cut off: {cut}"));
    }
    p
}

/// Opens every page of the fixture site, built as AMP and as plain HTML, in `engine`, and
/// asserts what each view shows.
fn every_page_shows(engine: &str) {
    let Some(tools) = engine_tools(engine) else {
        return;
    };
    let amp = fixture_site(true);
    let plain = fixture_site(false);

    let mut wanted = Vec::new();
    for mount in ["amp", "plain"] {
        for (page, app) in pages() {
            wanted.push((format!("{mount}/{page}"), mount, app));
        }
    }
    let shots = project_dir().join("target/screenshots/browsers");
    let report = drive(
        tools,
        json!({
            "mode": "pages",
            "mounts": { "amp": amp.public(), "plain": plain.public() },
            "pages": wanted.iter().map(|(p, _, _)| p).collect::<Vec<_>>(),
            "shots": shots,
            "prefix": engine,
        }),
    );
    let origin = report["origin"].as_str().unwrap();
    let views = report["views"].as_array().unwrap();
    assert_eq!(views.len(), wanted.len() * 4, "{report}");
    let mut failures = Vec::new();
    for view in views {
        let (_, mount, app) = wanted.iter().find(|(p, _, _)| view["page"] == *p).unwrap();
        for problem in problems(view, origin, mount, *app) {
            failures.push(format!(
                "{engine} {} {} {}: {problem}",
                view["page"], view["size"], view["scheme"]
            ));
        }
    }
    // Light and dark differ where it shows: the page's background.
    for (page, _, _) in &wanted {
        for size in ["phone", "desktop"] {
            let bg = |scheme: &str| {
                views
                    .iter()
                    .find(|v| v["page"] == *page && v["size"] == size && v["scheme"] == scheme)
                    .map(|v| v["background"].clone())
                    .unwrap()
            };
            if bg("light") == bg("dark") {
                failures.push(format!(
                    "{engine} {page} {size}: light and dark have the same background {}",
                    bg("light")
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems in {engine} {}:\n{}",
        failures.len(),
        report["version"],
        failures.join("\n")
    );
}

/// A page that loads an image from another origin (a server on 127.0.0.2 that would answer):
/// with the refusal the image does not load, the server gets nothing and the request is
/// recorded; without it (the control) the image loads, so the probe can tell.
fn other_origins_are_refused(engine: &str) {
    let Some(tools) = engine_tools(engine) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("far.png");
    std::fs::write(&png, icon::encode_png(&icon_image(64, [200, 40, 40]))).unwrap();
    let report = drive(tools, json!({ "mode": "probe", "probe_png": png }));
    let origin = report["origin"].as_str().unwrap();
    let far = report["far_url"].as_str().unwrap();
    let image = |run: &str, id: &str| {
        report["probe"][run]["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["src"].as_str().unwrap().ends_with(&format!("/{id}.png")))
            .unwrap()["naturalWidth"]
            .as_u64()
            .unwrap()
    };
    let refused = &report["probe"]["refused"];
    let control = &report["probe"]["control"];
    assert_eq!(image("refused", "near"), 64, "{refused}");
    assert_eq!(image("refused", "far"), 0, "refused: {refused}");
    assert_eq!(refused["far_hits"], 0, "{refused}");
    assert!(
        refused["refused"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains(far)),
        "the refusal of {far} is recorded: {refused}"
    );
    assert!(
        !foreign_requests(refused, origin).is_empty(),
        "the origin check sees the refused request: {refused}"
    );
    assert_eq!(image("control", "far"), 64, "control: {control}");
    assert!(control["far_hits"].as_u64() > Some(0), "{control}");
    assert!(
        foreign_requests(control, origin).iter().any(|r| r == far),
        "Resource Timing records the request to another origin: {control}"
    );
}

#[test]
fn chromium_shows_every_page_at_once() {
    every_page_shows("chromium");
}

#[test]
fn webkit_shows_every_page_at_once() {
    every_page_shows("webkit");
}

#[test]
fn chromium_refuses_other_origins() {
    other_origins_are_refused("chromium");
}

#[test]
fn webkit_refuses_other_origins() {
    other_origins_are_refused("webkit");
}
