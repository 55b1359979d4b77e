//! `otasite serve` end to end: edits show up over HTTP, a broken site.yaml keeps the last good
//! site with the error shown, a fix recovers, a new IPA appears, paths cannot escape the site.
//! Every wait is a poll until a deadline, never a fixed sleep.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use crate::common::http::request;
use crate::common::servers::Server;
use crate::common::*;
use otasite::testkit::IpaSpec;

/// Starts the dev server on a free port; returns it, the port and its stderr lines so far.
fn start(site: &TestSite, extra: &[&str]) -> (Server, u16) {
    use std::os::unix::process::CommandExt as _;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_otasite"));
    cmd.arg("serve")
        .arg(site.root())
        .args(["-p", "0"])
        .args(extra);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd.spawn().expect("start otasite serve");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let server = Server::from_child(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200))
            && let Some(rest) = line.split("Serving at http://127.0.0.1:").nth(1)
        {
            let port: u16 = rest.split('/').next().unwrap().parse().unwrap();
            // Keep draining stderr so the server never blocks on a full pipe.
            std::thread::spawn(move || while rx.recv().is_ok() {});
            return (server, port);
        }
    }
    panic!("otasite serve did not start");
}

/// Polls `path` until `pred` holds for the response body (15 s deadline).
fn wait_for(port: u16, path: &str, what: &str, pred: impl Fn(u16, &str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut last = String::new();
    while Instant::now() < deadline {
        let r = request(port, "GET", path, &[]);
        last = String::from_utf8_lossy(&r.body).into_owned();
        if pred(r.status, &last) {
            return last;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what} at {path}; last body:\n{last:.2000}");
}

fn site() -> TestSite {
    let site = TestSite::basic();
    site.add_ipa(
        "releases/1/App.ipa",
        &IpaSpec {
            executable_bytes: 50_000,
            ..spec("com.serve.live", "1.0", "1").name("Live")
        },
    );
    site.write("releases/1/notes.md", "First words.\n");
    site
}

#[test]
fn edits_errors_recovery_new_ipas_and_safety() {
    let site = site();
    let (_server, port) = start(&site, &[]);
    let page = "/apps/com.serve.live/1.0-1/";
    let body = wait_for(port, page, "the first build", |s, b| {
        s == 200 && b.contains("First words.")
    });
    assert!(
        body.contains("/__otasite/poll?since="),
        "live reload is injected while serving"
    );
    assert!(body.contains("installing on a device needs the HTTPS"));
    assert!(!site.public().exists(), "serve keeps the site in memory");

    // A note edit shows up.
    site.write("releases/1/notes.md", "Second words.\n");
    wait_for(port, page, "the edited note", |s, b| {
        s == 200 && b.contains("Second words.")
    });

    // A broken site.yaml: the last good site is still served, with the error over it.
    let good_yaml = std::fs::read_to_string(site.root().join("site.yaml")).unwrap();
    site.write("site.yaml", "title: [unclosed\n");
    let body = wait_for(port, page, "the error overlay", |s, b| {
        s == 200 && b.contains("The last edit does not build")
    });
    assert!(body.contains("Second words.") && body.contains("site.yaml"));
    // A note edit while broken changes nothing served, and the server keeps answering.
    site.write("site.yaml", &good_yaml);
    let body = wait_for(port, page, "recovery", |s, b| {
        s == 200 && !b.contains("The last edit does not build")
    });
    assert!(body.contains("Second words."));

    // A new IPA appears.
    site.add_ipa(
        "releases/2/App.ipa",
        &spec("com.serve.live", "2.0", "2").name("Live"),
    );
    wait_for(
        port,
        "/apps/com.serve.live/2.0-2/",
        "the new release",
        |s, b| s == 200 && b.contains("Live 2.0"),
    );

    // Types, HEAD and ranges.
    let manifest = request(
        port,
        "GET",
        "/apps/com.serve.live/1.0-1/manifest.plist",
        &[],
    );
    assert_eq!(manifest.header("content-type"), Some("application/xml"));
    assert!(String::from_utf8_lossy(&manifest.body).contains(&format!(
        "http://127.0.0.1:{port}/apps/com.serve.live/1.0-1/live-1.0.ipa"
    )));
    let ipa_path = "/apps/com.serve.live/1.0-1/live-1.0.ipa";
    let ipa = std::fs::read(site.root().join("releases/1/App.ipa")).unwrap();
    let head = request(port, "HEAD", ipa_path, &[]);
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(
        head.header("content-length"),
        Some(ipa.len().to_string().as_str())
    );
    assert!(head.body.is_empty());
    let part = request(port, "GET", ipa_path, &[("Range", "bytes=100-199")]);
    assert_eq!(part.status, 206);
    assert!(part.body == ipa[100..200]);
    assert_eq!(
        request(port, "GET", "/releases.json", &[]).header("content-type"),
        Some("application/json")
    );
    assert_eq!(
        request(port, "GET", "/apps/com.serve.live/1.0-1/icon.png", &[]).header("content-type"),
        Some("image/png")
    );
    assert_eq!(
        request(port, "GET", "/feed.xml", &[]).header("content-type"),
        Some("application/atom+xml")
    );

    // Nothing outside the site can be reached.
    for bad in [
        "/../site.yaml",
        "/apps/%2e%2e/%2e%2e/site.yaml",
        "/..%2fsite.yaml",
        "/releases/1/App.ipa",
        "/%2e%2e%5csite.yaml",
        "/nope/",
    ] {
        let r = request(port, "GET", bad, &[]);
        assert_eq!(r.status, 404, "{bad}");
        assert!(
            String::from_utf8_lossy(&r.body).contains("Not found"),
            "the site's 404 page for {bad}"
        );
    }
    assert_eq!(request(port, "POST", "/", &[]).status, 405);
}

#[test]
fn polling_watcher_sees_edits() {
    let site = site();
    let (_server, port) = start(&site, &["--poll"]);
    let page = "/apps/com.serve.live/1.0-1/";
    wait_for(port, page, "the first build", |s, b| {
        s == 200 && b.contains("First words.")
    });
    site.write("releases/1/notes.md", "Polled words.\n");
    wait_for(port, page, "the edited note", |s, b| {
        s == 200 && b.contains("Polled words.")
    });
    // Editor temp files do not trigger anything visible, and the site keeps serving.
    site.write("releases/1/.notes.md.swp", "x");
    site.write("releases/1/notes.md~", "x");
    assert_eq!(request(port, "GET", page, &[]).status, 200);
}

/// The dev server re-renders only the apps whose data changed; everything an app's pages
/// show from elsewhere (the theme, site.yaml, a new notes file) must still reach them.
#[test]
fn remembered_pages_follow_every_input() {
    let site = site();
    site.add_ipa(
        "releases/other/App.ipa",
        &spec("com.serve.other", "3.0", "3").name("Other"),
    );
    let (_server, port) = start(&site, &[]);
    let live = "/apps/com.serve.live/1.0-1/";
    let other = "/apps/com.serve.other/3.0-3/";
    wait_for(port, other, "the first build", |s, _| s == 200);

    // An edit to one app's notes reaches its page; the other app's page is still served.
    site.write("releases/1/notes.md", "Edited words.\n");
    wait_for(port, live, "the edit", |_, b| b.contains("Edited words."));
    assert!(request(port, "GET", other, &[]).status == 200);

    // A theme change reaches the pages of the app that did not change.
    site.write(
        "themes/default/templates/footer.html",
        "<footer><p>Footer from the theme</p></footer>\n",
    );
    wait_for(port, other, "the theme change", |_, b| {
        b.contains("Footer from the theme")
    });

    // site.yaml too.
    let yaml = std::fs::read_to_string(site.root().join("site.yaml")).unwrap();
    site.write("site.yaml", yaml.replace("Test Builds", "Renamed Builds"));
    wait_for(port, other, "the new title", |_, b| {
        b.contains("Renamed Builds")
    });

    // A notes file that did not exist before is found (the list of releases is made again).
    site.write("releases/other/notes.md", "Brand new notes.\n");
    wait_for(port, other, "new notes", |_, b| {
        b.contains("Brand new notes.")
    });
    // And edits to it after that.
    site.write("releases/other/notes.md", "Edited new notes.\n");
    wait_for(port, other, "the edited new notes", |_, b| {
        b.contains("Edited new notes.")
    });
}

// ---- attack round: serve ----

/// An IPA copied in with many writes sends one file event per write; the wait for the copy to
/// settle took 150 ms per event, so 400 writes held the rebuild back a minute (a large IPA's
/// copy: far longer). The new release must show up within seconds of the last write.
#[test]
fn an_ipa_copied_in_many_writes_is_served_promptly() {
    use std::io::Write as _;
    let site = site();
    let (_server, port) = start(&site, &[]);
    wait_for(
        port,
        "/apps/com.serve.live/1.0-1/",
        "the first build",
        |s, _| s == 200,
    );
    let bytes = spec("com.serve.live", "2.0", "2").name("Live").to_bytes();
    // The folder first, so that the watch on it is in place before the writes.
    std::fs::create_dir_all(site.root().join("releases/2")).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let mut file = std::fs::File::create(site.root().join("releases/2/App.ipa")).unwrap();
    for chunk in bytes.chunks(bytes.len().div_ceil(400)) {
        file.write_all(chunk).unwrap();
        file.flush().unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    drop(file);
    let written = Instant::now();
    wait_for(
        port,
        "/apps/com.serve.live/2.0-2/",
        "the new release",
        |s, _| s == 200,
    );
    assert!(
        written.elapsed() < Duration::from_secs(10),
        "the new release took {:?} after its last write",
        written.elapsed()
    );
}
