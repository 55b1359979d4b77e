//! The documentation holds: every link in README.md, CONTRIBUTING.md, BENCHMARKS.md, docs/
//! and the files otasite writes for people to read (the site.yaml and releases/README.md of
//! `otasite init`, the host files' comments) resolves; and README's quick start, run as
//! written on a fresh folder, ends with a built site.
//!
//! Relative links must name files of the project, and anchors headings of the file they point
//! at (by GitHub's rules for heading anchors). External links cannot be fetched here: they must
//! be well-formed, and those to this project's repository must use the address in Cargo.toml
//! (and their anchors and paths must exist here too).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

use crate::common::http::request;
use crate::common::servers::Server;
use crate::common::*;

const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// GitHub's anchor for a heading's text (github-slugger): lower case, punctuation dropped
/// (letters, digits, `_`, `-` and spaces kept), spaces made `-`.
fn slug(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_' || *c == '-' || *c == ' ')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown file's headings; a repeated one gets `-1`, `-2`, ... as on GitHub.
fn anchors(markdown: &str) -> HashSet<String> {
    let mut found = HashSet::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut heading: Option<String> = None;
    for event in Parser::new_ext(markdown, Options::all()) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = &mut heading {
                    h.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                let base = slug(&heading.take().unwrap_or_default());
                let n = seen.entry(base.clone()).or_insert(0);
                found.insert(if *n == 0 {
                    base.clone()
                } else {
                    format!("{base}-{n}")
                });
                *n += 1;
            }
            _ => {}
        }
    }
    found
}

/// Link and image targets of a Markdown file.
fn markdown_links(markdown: &str) -> Vec<String> {
    Parser::new_ext(markdown, Options::all())
        .filter_map(|e| match e {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                Some(dest_url.to_string())
            }
            _ => None,
        })
        .collect()
}

/// Every `http(s)://` address written in `text` (code, comments and prose alike), without
/// placeholders such as `https://<tunnel-host>/`.
fn addresses(text: &str) -> Vec<String> {
    let re = regex::Regex::new(r#"https?://[^\s"'`()\[\]]+"#).unwrap();
    re.find_iter(text)
        .map(|m| {
            m.as_str()
                .trim_end_matches(['.', ',', ';', ':', '!', '?', '*', '|'])
                .to_string()
        })
        .filter(|u| !u.contains(['<', '>', '{', '}', '$', '…']) && !u.ends_with("..."))
        .collect()
}

/// What is wrong with a link to `path#anchor` of the project (relative to the project root).
fn project_target(path: &str, anchor: Option<&str>) -> Option<String> {
    let file = project_dir().join(path);
    if !file.exists() {
        return Some(format!("{path} does not exist in the project"));
    }
    let anchor = anchor.filter(|a| !a.is_empty())?;
    if !path.ends_with(".md") {
        return None;
    }
    let text = std::fs::read_to_string(&file).unwrap();
    (!anchors(&text).contains(anchor)).then(|| format!("{path} has no heading #{anchor}"))
}

/// What is wrong with an absolute address, if anything.
fn external(address: &str) -> Option<String> {
    let url = match url::Url::parse(address) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => u,
        Ok(_) => return Some("not an http(s) address with a host".into()),
        Err(e) => return Some(format!("not a well-formed address ({e})")),
    };
    let repo = url::Url::parse(REPOSITORY).unwrap();
    let name = repo.path_segments().unwrap().next_back().unwrap();
    let ours = url.host_str() == repo.host_str()
        && url
            .path_segments()
            .and_then(|mut s| s.nth(1))
            .is_some_and(|n| n.trim_end_matches(".git").eq_ignore_ascii_case(name));
    if !ours {
        return None;
    }
    let Some(rest) = address.strip_prefix(REPOSITORY) else {
        return Some(format!(
            "links to this project must use its address in Cargo.toml, {REPOSITORY}"
        ));
    };
    let (path, anchor) = match rest.split_once('#') {
        Some((p, a)) => (p, Some(a)),
        None => (rest, None),
    };
    let path = path.trim_end_matches('/');
    if path.is_empty() {
        return project_target("README.md", anchor);
    }
    // /blob/<branch>/<file> and /tree/<branch>/<folder> name files of the project.
    let parts: Vec<&str> = path.trim_start_matches('/').splitn(3, '/').collect();
    match parts.as_slice() {
        ["blob" | "tree", _, file] => project_target(file, anchor),
        _ => None,
    }
}

/// What is wrong with each link of `text` (from the file `name`, at `dir` in the project).
fn broken_links(name: &str, dir: &str, text: &str, markdown: bool) -> Vec<String> {
    let mut broken = Vec::new();
    let mut report = |link: &str, why: Option<String>| {
        if let Some(why) = why {
            broken.push(format!("{name}: {link}: {why}"));
        }
    };
    for address in addresses(text) {
        report(&address, external(&address));
    }
    if !markdown {
        return broken;
    }
    let own = anchors(text);
    for link in markdown_links(text) {
        if let Some(address) = link.strip_prefix("mailto:") {
            report(
                &link,
                (!address.contains('@')).then(|| "not an e-mail address".to_string()),
            );
        } else if link.contains(':') {
            report(&link, external(&link));
        } else if let Some(anchor) = link.strip_prefix('#') {
            report(
                &link,
                (!own.contains(anchor)).then(|| format!("no heading #{anchor} here")),
            );
        } else {
            let (path, anchor) = match link.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (link.as_str(), None),
            };
            let joined = Path::new(dir).join(path);
            report(&link, project_target(&joined.to_string_lossy(), anchor));
        }
    }
    broken
}

/// README.md, CONTRIBUTING.md, BENCHMARKS.md and every file under docs/.
fn project_docs() -> Vec<(String, String)> {
    let root = project_dir();
    let mut docs: Vec<(String, String)> = ["README.md", "CONTRIBUTING.md", "BENCHMARKS.md"]
        .iter()
        .map(|n| {
            (
                n.to_string(),
                std::fs::read_to_string(root.join(n)).unwrap(),
            )
        })
        .collect();
    for entry in walkdir::WalkDir::new(root.join("docs")).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(&root).unwrap();
            docs.push((
                rel.to_string_lossy().into_owned(),
                std::fs::read_to_string(entry.path()).unwrap(),
            ));
        }
    }
    docs
}

#[test]
fn every_link_in_the_docs_and_in_generated_files_resolves() {
    let mut broken = Vec::new();
    let mut addresses_seen = 0;
    for (name, text) in project_docs() {
        let dir = Path::new(&name)
            .parent()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        addresses_seen += addresses(&text).len();
        broken.extend(broken_links(&name, &dir, &text, name.ends_with(".md")));
    }

    // What otasite writes for people to read.
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    let out = otasite().arg("init").arg(&site).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    site_file(
        &site,
        "releases/App.ipa",
        &spec("com.links", "1.0", "1").to_bytes(),
    );
    let out = otasite().arg("build").arg(&site).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let generated = [
        "site.yaml",
        "releases/README.md",
        ".gitignore",
        "public/.htaccess",
        "public/web.config",
        "public/_headers",
        "public/vercel.json",
        "server-config/nginx.conf",
        "server-config/Caddyfile",
    ];
    let mut repository_links = 0;
    for name in generated {
        let text = std::fs::read_to_string(site.join(name)).unwrap();
        repository_links += addresses(&text)
            .iter()
            .filter(|a| a.starts_with(REPOSITORY))
            .count();
        broken.extend(broken_links(name, "", &text, false));
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(addresses_seen > 10, "the docs' links were found");
    // init's site.yaml and the five host files with comments each point at the README.
    assert!(repository_links >= 6, "{repository_links}");
}

fn site_file(site: &Path, rel: &str, bytes: &[u8]) {
    let path = site.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn the_link_checker_catches_what_it_should() {
    let md = "# Top\n\n## Site layout\n\n### `site.yaml`\n\n## Site layout\n\
              [a](#top) [b](#site-layout-1) [c](#siteyaml) [d](#nope) [e](README.md#hosting) \
              [f](README.md#nowhere) [g](NOPE.md) [h](https://github.com/someone/otasite) \
              [i](http://)\n";
    let broken = broken_links("x.md", "", md, true).join("\n");
    for bad in [
        "#nope",
        "README.md#nowhere",
        "NOPE.md",
        "someone/otasite",
        "http://:",
    ] {
        assert!(broken.contains(bad), "{bad} in:\n{broken}");
    }
    for good in ["#top", "#site-layout-1", "#siteyaml", "README.md#hosting"] {
        assert!(
            !broken.contains(&format!("{good}:")),
            "{good} in:\n{broken}"
        );
    }
    assert!(external(&format!("{REPOSITORY}#configuration")).is_none());
    assert!(external(&format!("{REPOSITORY}#no-such-heading")).is_some());
    assert!(external(&format!("{REPOSITORY}/blob/main/docs/deploy/netlify.toml")).is_none());
    assert!(external(&format!("{REPOSITORY}/blob/main/docs/nope.toml")).is_some());
}

/// The `sh` blocks of README's "Quick start" section.
fn quick_start_blocks() -> Vec<String> {
    let readme = std::fs::read_to_string(project_dir().join("README.md")).unwrap();
    let start = readme
        .find("\n## Quick start\n")
        .expect("a Quick start section");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for event in Parser::new(section) {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(lang))) if &*lang == "sh" => {
                current = Some(String::new())
            }
            Event::Text(t) => {
                if let Some(c) = &mut current {
                    c.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => blocks.extend(current.take()),
            _ => {}
        }
    }
    blocks
}

#[test]
fn the_readme_quick_start_runs_as_written() {
    let blocks = quick_start_blocks();
    assert_eq!(
        blocks.len(),
        2,
        "an install block, then the commands: {blocks:?}"
    );
    // Offline, the binary under test stands for what this installs; the address is the one in
    // Cargo.toml (the deploy recipes install the same way).
    assert_eq!(
        blocks[0].trim(),
        format!("cargo install --locked --git {REPOSITORY} otasite")
    );
    for recipe in [
        "docs/deploy/github-pages.yml",
        "docs/deploy/netlify.toml",
        "docs/deploy/github-pages-r2.yml",
        "docs/deploy/netlify-s3-cloudfront.yml",
    ] {
        let text = std::fs::read_to_string(project_dir().join(recipe)).unwrap();
        assert!(
            text.contains(&format!(
                "cargo install --locked --git {REPOSITORY} otasite"
            )),
            "{recipe} installs from {REPOSITORY}"
        );
    }

    // A user's machine: a downloaded build in ~/Downloads, an empty folder to work in.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("Downloads")).unwrap();
    std::fs::write(
        home.path().join("Downloads/MyApp.ipa"),
        spec("com.quickstart", "1.0", "1")
            .name("Quick Start")
            .to_bytes(),
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_otasite")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    // Every line up to `otasite serve` (the last), in one shell, as a user types them.
    let lines: Vec<&str> = blocks[1].lines().filter(|l| !l.trim().is_empty()).collect();
    let (serve, before) = lines.split_last().unwrap();
    assert!(
        serve.starts_with("otasite serve"),
        "serve comes last: {lines:?}"
    );
    let script = format!("set -e\n{}\npwd\n", before.join("\n"));
    let out = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(work.path())
        .env("HOME", home.path())
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "the quick start failed:\n{script}\n{}",
        stderr(&out)
    );
    let site = PathBuf::from(String::from_utf8_lossy(&out.stdout).lines().last().unwrap());
    let releases: serde_json::Value =
        serde_json::from_slice(&std::fs::read(site.join("public/releases.json")).unwrap()).unwrap();
    assert_eq!(releases["apps"][0]["bundle_id"], "com.quickstart");
    assert!(site.join("public/index.html").is_file());
    assert!(
        stderr(&out).contains("Built 1 app, 1 release"),
        "{}",
        stderr(&out)
    );

    // `otasite serve` as written, on a free port (1111 may be another test's).
    use std::os::unix::process::CommandExt as _;
    let words: Vec<&str> = serve
        .split(" #")
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_otasite"))
        .args(&words[1..])
        .args(["-p", "0"])
        .current_dir(&site)
        .env("HOME", home.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let err = BufReader::new(child.stderr.take().unwrap());
    let server = Server::from_child(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in err.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let port = loop {
        assert!(Instant::now() < deadline, "otasite serve did not start");
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200))
            && let Some(rest) = line.split("Serving at http://127.0.0.1:").nth(1)
        {
            break rest.split('/').next().unwrap().parse::<u16>().unwrap();
        }
    };
    let page = request(port, "GET", "/", &[]);
    assert_eq!(page.status, 200);
    assert!(String::from_utf8_lossy(&page.body).contains("Quick Start"));
    drop(server);
}
