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

/// What the dev server printed to stderr, collected as it runs.
#[derive(Clone, Default)]
struct Log(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl Log {
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    /// The lines from the `from`th on.
    fn since(&self, from: usize) -> Vec<String> {
        self.lines().split_off(from)
    }

    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// Waits (15 s at most) for a line containing `needle`, from the `from`th line on;
    /// returns it.
    fn wait_for(&self, from: usize, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Some(line) = self.since(from).into_iter().find(|l| l.contains(needle)) {
                return line;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "no line with {needle:?} in:\n{}",
            self.since(from).join("\n")
        );
    }
}

/// Starts the dev server on a free port; returns it, the port and what it prints to stderr.
fn start(site: &TestSite, extra: &[&str]) -> (Server, u16, Log) {
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
    let log = Log::default();
    let (tx, rx) = channel();
    let lines = log.clone();
    // Keeps draining stderr, so the server never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            lines.0.lock().unwrap().push(line.clone());
            let _ = tx.send(line);
        }
    });
    let server = Server::from_child(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200))
            && let Some(rest) = line.split("at http://127.0.0.1:").nth(1)
        {
            let port: u16 = rest.split('/').next().unwrap().parse().unwrap();
            return (server, port, log);
        }
    }
    panic!("otasite serve did not start:\n{}", log.lines().join("\n"));
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
    let (_server, port, _log) = start(&site, &[]);
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
    let (_server, port, _log) = start(&site, &["--poll"]);
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
    let (_server, port, _log) = start(&site, &[]);
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
    let (_server, port, _log) = start(&site, &[]);
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

// ---- issue 16: every mistake gets a precise answer ----

/// A large IPA written straight into its final path in many small writes with short pauses,
/// as `cp` or a zip tool does it: each write is a change event. The rebuild must wait for the
/// last write (one settle wait for the file, not one per event, and not a rebuild of half a
/// zip), happen once, and serve the new release, page and bytes, within 2 s of that write.
#[test]
fn a_large_ipa_written_in_small_chunks_is_built_once_soon_after_its_last_write() {
    use sha2::{Digest as _, Sha256};
    use std::io::Write as _;
    let site = site();
    let (_server, port, log) = start(&site, &[]);
    wait_for(
        port,
        "/apps/com.serve.live/1.0-1/",
        "the first build",
        |s, _| s == 200,
    );
    let bytes = IpaSpec {
        executable_bytes: 32 << 20,
        store_executable: true,
        ..spec("com.serve.live", "3.0", "3").name("Live")
    }
    .to_bytes();
    assert!(bytes.len() > 32 << 20);
    // The folder first, so that the watch on it is in place before the writes (and the
    // rebuild it makes is over).
    let before = log.len();
    std::fs::create_dir_all(site.root().join("releases/3")).unwrap();
    log.wait_for(before, "Rebuilt");
    std::thread::sleep(Duration::from_millis(200));
    let before = log.len();
    let mut file = std::fs::File::create(site.root().join("releases/3/App.ipa")).unwrap();
    let chunks = bytes.chunks(32 << 10);
    let writes = chunks.len();
    for chunk in chunks {
        file.write_all(chunk).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    drop(file);
    let written = Instant::now();
    assert!(writes > 1000, "{writes} writes");

    let page = "/apps/com.serve.live/3.0-3/";
    wait_for(port, page, "the new release", |s, b| {
        s == 200 && b.contains("Live 3.0")
    });
    let paged = written.elapsed();
    let ipa = request(port, "GET", "/apps/com.serve.live/3.0-3/live-3.0.ipa", &[]);
    let served = written.elapsed();
    assert_eq!(ipa.status, 200);
    assert!(
        ipa.body.len() == bytes.len() && Sha256::digest(&ipa.body) == Sha256::digest(&bytes),
        "the IPA is served byte for byte ({} of {} bytes)",
        ipa.body.len(),
        bytes.len()
    );
    assert!(
        served < Duration::from_secs(2),
        "the page was served {paged:?} and the IPA {served:?} after the last write"
    );
    // One rebuild for the whole copy, naming the file; nothing built from half an archive.
    std::thread::sleep(Duration::from_millis(1500));
    let printed = log.since(before);
    let rebuilds: Vec<&String> = printed.iter().filter(|l| l.contains("Rebuilt")).collect();
    assert_eq!(
        rebuilds.len(),
        1,
        "one rebuild for {writes} writes:\n{}",
        printed.join("\n")
    );
    assert!(
        rebuilds[0].contains("releases/3/App.ipa"),
        "{}",
        rebuilds[0]
    );
    assert!(
        !printed.iter().any(|l| l.starts_with("error")),
        "{}",
        printed.join("\n")
    );
}

/// Runs `otasite serve ARGS` expecting it to refuse before listening: its exit status and
/// stderr (it is killed, and the test fails, if it is still running after 20 s).
fn refused(args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    use std::io::Read as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_otasite"))
        .arg("serve")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let mut text = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut text);
            panic!("serve {args:?} kept running instead of refusing:\n{text}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut text = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    (status.code(), text)
}

/// Flags that cannot work are refused with exit status 2 before anything listens: `-u` with
/// an http:// address printed the https error and then served every page as "not found".
#[test]
fn bad_flags_exit_2_before_listening() {
    use std::ffi::OsStr;
    let site = site();
    let root = site.root().as_os_str();
    let missing = site.root().join("no-such-site");
    let empty = tempfile::tempdir().unwrap();
    let cases: [(Vec<&OsStr>, &[&str]); 6] = [
        (
            vec![root, OsStr::new("-u"), OsStr::new("http://example.com/")],
            &[
                "-u/--base-url",
                "\"http://example.com/\"",
                "must start with https://",
                "tunnel",
            ],
        ),
        (
            vec![root, OsStr::new("-u"), OsStr::new("example dot com")],
            &["-u/--base-url", "not an absolute URL", "https://"],
        ),
        (
            vec![root, OsStr::new("-i"), OsStr::new("no-such-host.invalid")],
            &[
                "-i/--interface",
                "no-such-host.invalid",
                "127.0.0.1",
                "0.0.0.0",
            ],
        ),
        (
            // An address of another machine.
            vec![root, OsStr::new("-i"), OsStr::new("192.0.2.1")],
            &[
                "-i/--interface",
                "192.0.2.1",
                "not an address of this machine",
                "127.0.0.1",
            ],
        ),
        (
            vec![missing.as_os_str()],
            &["no-such-site: no such folder", "otasite init"],
        ),
        (
            vec![empty.path().as_os_str()],
            &["no site.yaml in this folder", "otasite init"],
        ),
    ];
    for (args, want) in cases {
        let mut args = args;
        args.extend([OsStr::new("-p"), OsStr::new("0")]);
        let (code, text) = refused(&args);
        assert_eq!(code, Some(2), "serve {args:?}:\n{text}");
        for w in want {
            assert!(text.contains(w), "serve {args:?}: {w:?} not in:\n{text}");
        }
        assert!(!text.contains("Serving at"), "serve {args:?}:\n{text}");
        assert_eq!(
            text.lines().count(),
            1,
            "one line for serve {args:?}:\n{text}"
        );
    }
}

/// Started with a broken site.yaml, serve said "Built in 0 ms" and answered every page with
/// the 404 page. Now it says the site does not build, shows the error as every page (503),
/// and builds when the file is fixed, watching the releases folder the fixed file names;
/// each rebuild says in words which file changed.
#[test]
fn a_broken_site_yaml_at_start_shows_the_error_until_it_is_fixed() {
    let site = TestSite::new("title: [unclosed\n");
    site.add_ipa(
        "builds/1/App.ipa",
        &spec("com.serve.live", "1.0", "1").name("Live"),
    );
    site.write("builds/1/notes.md", "Words from builds.\n");
    let (_server, port, log) = start(&site, &[]);
    let started = log.wait_for(0, "Serving at");
    assert!(!started.contains("Built in"), "{started}");
    assert!(started.contains("does not build yet"), "{started}");
    assert!(
        log.lines()
            .iter()
            .any(|l| l.starts_with("error:") && l.contains("site.yaml:1")),
        "{}",
        log.lines().join("\n")
    );
    for path in ["/", "/apps/com.serve.live/1.0-1/", "/nope/"] {
        let r = request(port, "GET", path, &[]);
        let body = String::from_utf8_lossy(&r.body);
        assert_eq!(r.status, 503, "{path}");
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        assert!(body.contains("The site does not build yet"), "{body}");
        assert!(body.contains("site.yaml:1"), "the file and line: {body}");
        assert!(!body.contains("not found"), "{body}");
        assert!(
            body.contains("/__otasite/poll?since="),
            "reloads on the fix"
        );
    }

    // Fixed, naming its own releases folder: the site is built from it.
    let before = log.len();
    site.write(
        "site.yaml",
        format!("title: Test Builds\nbase_url: {BASE_URL}\nreleases_dir: builds\n"),
    );
    let page = "/apps/com.serve.live/1.0-1/";
    wait_for(port, page, "the fixed site", |s, b| {
        s == 200 && b.contains("Words from builds.") && !b.contains("does not build")
    });
    let rebuilt = log.wait_for(before, "Rebuilt");
    assert!(
        rebuilt.starts_with("Rebuilt in ") && rebuilt.ends_with(" ms: site.yaml changed."),
        "{}",
        log.since(before).join("\n")
    );

    // That folder is watched now: a note edit in it shows.
    let before = log.len();
    site.write("builds/1/notes.md", "Edited in builds.\n");
    wait_for(port, page, "the edited note", |s, b| {
        s == 200 && b.contains("Edited in builds.")
    });
    let edit = log.wait_for(before, "Rebuilt");
    assert!(
        edit.ends_with(" ms: builds/1/notes.md changed."),
        "{}",
        log.since(before).join("\n")
    );

    // Broken again after a good build: the last good site, with the error over it.
    site.write("site.yaml", "title: [unclosed\n");
    let body = wait_for(port, page, "the error overlay", |s, b| {
        s == 200 && b.contains("The last edit does not build")
    });
    assert!(body.contains("Edited in builds."), "{body}");
    log.wait_for(0, "still serving the last good build");
}
