//! Notes, channels, feeds, QR codes, languages: what testers and writers see, checked with real
//! tools (xmllint and Python's XML parser for Atom, rsvg-convert and zbarimg for QR codes) and
//! snapshot-tested (insta) for a fixed site.

use std::path::Path;
use std::process::Command;

use crate::common::*;
use otasite::testkit::{IpaSpec, ProfileSpec};

/// A fixed site: two apps, channels, a draft, notes with every Markdown feature and an image.
fn fixture_site() -> TestSite {
    let site = TestSite::new(&format!(
        "title: Fixture Builds\ndescription: Builds for the fixture team.\nbase_url: {BASE_URL}\n"
    ));
    let notes = |v: &str, b: &str| IpaSpec {
        folder: "Notes".into(),
        icon: Some([40, 120, 200]),
        profile: Some(ProfileSpec::ad_hoc(&["00008030-00AA00BB00CC00DD"])),
        ..IpaSpec::new("com.fixture.notes", v, b).name("Fixture Notes")
    };
    site.add_ipa("releases/notes/1.0/Notes.ipa", &notes("1.0.0", "10"));
    site.write(
        "releases/notes/1.0/notes.md",
        "---\ntitle: First\ndate: 2026-01-10\nsummary: The first build.\n---\nHello *testers*.\n",
    );
    site.add_ipa("releases/notes/1.1/Notes.ipa", &notes("1.1.0", "11"));
    site.write(
        "releases/notes/1.1/notes.md",
        "---\ntitle: Second & better\ndate: 2026-02-20\n---\n# Highlights\n\n- [x] Sync\n- [ ] Search\n\n\
         | Device | Time |\n|:--|--:|\n| iPhone | 1 s |\n\n~~Old~~ new.[^1]\n\n[^1]: A footnote.\n\n\
         ![The new screen](screen.png)\n\n[Docs](https://docs.example.com) and [home](../)\n\n```rust\nfn main() {}\n```\n",
    );
    let png = otasite::testkit::icon::encode_png(&otasite::testkit::icon_image(48, [250, 80, 20]));
    site.write("releases/notes/1.1/screen.png", png);
    site.add_ipa("releases/notes/2.0b/Notes.ipa", &notes("2.0.0", "20"));
    site.write(
        "releases/notes/2.0b/notes.md",
        "---\ntitle: Beta\ndate: 2026-03-01\nchannel: beta\n---\nTry it.\n",
    );
    site.add_ipa("releases/notes/2.1n/Notes.ipa", &notes("2.1.0", "21"));
    site.write(
        "releases/notes/2.1n/notes.md",
        "---\ndate: 2026-03-05\nchannel: nightly\n---\nNightly.\n",
    );
    site.add_ipa("releases/notes/3.0d/Notes.ipa", &notes("3.0.0", "30"));
    site.write(
        "releases/notes/3.0d/notes.md",
        "---\ndraft: true\ndate: 2026-04-01\n---\nSecret.\n",
    );
    site.add_ipa(
        "releases/other/Other.ipa",
        &IpaSpec {
            device_family: vec![2],
            profile: Some(ProfileSpec::ad_hoc(&["00008030-00AA00BB00CC00DD"])),
            ..IpaSpec::new("com.fixture.other", "5.0", "500").name("Other <Tool>")
        },
    );
    site.write(
        "releases/other/Other.md",
        "---\ndate: 2026-02-01\n---\nOther notes.\n",
    );
    site
}

#[test]
fn channels_latest_folders_and_drafts() {
    let site = fixture_site();
    site.build_ok(&[]);
    let app = "apps/com.fixture.notes/";
    // latest/ follows the newest stable release; each channel has its own latest/.
    assert!(
        site.read(&format!("{app}latest/manifest.plist"))
            .contains("<string>1.1.0</string>")
    );
    assert!(
        site.read(&format!("{app}stable/latest/manifest.plist"))
            .contains("<string>1.1.0</string>")
    );
    assert!(
        site.read(&format!("{app}beta/latest/manifest.plist"))
            .contains("<string>2.0.0</string>")
    );
    assert!(
        site.read(&format!("{app}nightly/latest/manifest.plist"))
            .contains("<string>2.1.0</string>")
    );
    assert!(
        !site.public().join(format!("{app}3.0.0-30")).exists(),
        "drafts are left out"
    );
    let page = site.read(&format!("{app}index.html"));
    let (s, b, n) = (
        page.find(">stable<").unwrap(),
        page.find(">beta<").unwrap(),
        page.find(">nightly<").unwrap(),
    );
    assert!(
        s < b && b < n,
        "stable first, then the other channels by name"
    );
    // The channel page shows the release's notes image from its own folder.
    let beta_page = site.read(&format!("{app}stable/latest/index.html"));
    assert!(
        beta_page.contains("src=\"../../../../apps/com.fixture.notes/1.1.0-11/img/screen-"),
        "{beta_page}"
    );
    site.build_ok(&["--drafts"]);
    assert!(
        site.public()
            .join(format!("{app}3.0.0-30/index.html"))
            .is_file()
    );
    assert_amp_valid(&files_ending(&site.public(), ".html"));
}

#[test]
fn a_channel_that_clashes_with_a_release_folder_is_an_error() {
    let site = TestSite::basic();
    site.add_ipa("releases/a/A.ipa", &spec("com.clash", "1.0", "1"));
    site.add_ipa("releases/b/A.ipa", &spec("com.clash", "2.0", "2"));
    site.write("releases/b/notes.md", "---\nchannel: 1.0-1\n---\n");
    let out = site.build(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("rename the channel"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn notes_features_and_images() {
    let site = fixture_site();
    site.build_ok(&[]);
    let dir = site.public().join("apps/com.fixture.notes/1.1.0-11");
    let page = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(page.contains("<h1 id=\"highlights\">Highlights</h1>"));
    assert!(
        page.contains("<table>") && page.contains("<del>Old</del>") && page.contains("footnote")
    );
    assert!(page.contains("<a href=\"https://docs.example.com\" rel=\"noopener\">Docs</a>"));
    assert!(page.contains("/img/screen-") && page.contains("width=\"48\" height=\"48\" alt="));
    assert!(
        !page.contains("<amp-img"),
        "plain <img>: no AMP runtime needed to show it"
    );
    let images = files_ending(&dir.join("img"), ".png");
    assert_eq!(images.len(), 1);
    let name = images[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(name.starts_with("screen-") && page.contains(&format!("img/{name}")));

    let json: serde_json::Value = serde_json::from_str(&site.read("releases.json")).unwrap();
    let notes = json["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["bundle_id"] == "com.fixture.notes")
        .unwrap();
    let first = notes["releases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["version"] == "1.0.0")
        .unwrap();
    assert_eq!(first["summary"], "The first build.");
    let second = notes["releases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["version"] == "1.1.0")
        .unwrap();
    assert!(
        second["notes_html"]
            .as_str()
            .unwrap()
            .contains("src=\"https://beta.example.com/apps/com.fixture.notes/1.1.0-11/img/screen-")
    );
}

#[test]
fn missing_note_image_is_an_error_naming_note_and_line() {
    let site = TestSite::basic();
    site.add_ipa("releases/A.ipa", &spec("com.img", "1.0", "1"));
    site.write(
        "releases/A.md",
        "---\ntitle: x\n---\nLine four.\n\n![shot](nope.png)\n",
    );
    let out = site.build(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("releases/A.md:6") && stderr(&out).contains("nope.png"),
        "{}",
        stderr(&out)
    );
}

fn check_feed(path: &Path, expected_entries: usize) {
    let text = std::fs::read_to_string(path).unwrap();
    if which("xmllint").is_some() {
        let out = Command::new("xmllint")
            .arg("--noout")
            .arg(path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "xmllint: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        missing_tool("xmllint", "apt-get install libxml2-utils");
    }
    // Atom's required elements (RFC 4287 section 4.1), checked with a real XML parser.
    let script = r#"
import sys, xml.etree.ElementTree as ET
A = '{http://www.w3.org/2005/Atom}'
feed = ET.parse(sys.argv[1]).getroot()
assert feed.tag == A + 'feed', feed.tag
for req in ('id', 'title', 'updated', 'author'):
    assert feed.find(A + req) is not None, req
assert any(l.get('rel') == 'self' for l in feed.findall(A + 'link'))
entries = feed.findall(A + 'entry')
for e in entries:
    for req in ('id', 'title', 'updated', 'content'):
        assert e.find(A + req) is not None, req
    assert e.find(A + 'content').get('type') == 'html'
    assert e.find(A + 'link').get('href').startswith('https://')
print(len(entries))
"#;
    let Some(stdout) = python(script, path, &format!("Atom check\n{text}")) else {
        return;
    };
    assert_eq!(stdout.trim(), expected_entries.to_string());
}

#[test]
fn feeds_are_valid_atom() {
    let site = fixture_site();
    site.build_ok(&[]);
    check_feed(&site.public().join("feed.xml"), 5);
    check_feed(&site.public().join("apps/com.fixture.notes/feed.xml"), 4);
    check_feed(&site.public().join("apps/com.fixture.other/feed.xml"), 1);
    let feed = site.read("feed.xml");
    // Newest first, notes as escaped HTML, absolute image URLs.
    assert!(feed.find("2.1.0 (21)").unwrap() < feed.find("1.0.0 (10)").unwrap());
    assert!(feed.contains("&lt;h1 id=&quot;highlights&quot;&gt;"));
    assert!(feed.contains(
        "src=&quot;https://beta.example.com/apps/com.fixture.notes/1.1.0-11/img/screen-"
    ));
    assert!(feed.contains("Other &lt;Tool&gt; 5.0 (500)"));
    let index = site.read("index.html");
    assert!(index.contains("<link rel=\"alternate\" type=\"application/atom+xml\" href=\"https://beta.example.com/feed.xml\""));
}

/// Extracts the page's QR SVG, renders it with rsvg-convert and decodes it with zbarimg.
fn decode_qr(html: &str) -> Option<String> {
    let start = html.find("<svg class=\"qr\"")?;
    let end = start + html[start..].find("</svg>")? + 6;
    let (Some(rsvg), Some(zbar)) = (which("rsvg-convert"), which("zbarimg")) else {
        missing_tool(
            "rsvg-convert and zbarimg",
            "apt-get install librsvg2-bin zbar-tools",
        );
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("qr.svg");
    let png = dir.path().join("qr.png");
    std::fs::write(&svg, &html[start..end]).unwrap();
    let out = Command::new(rsvg)
        .args(["-w", "400", "-h", "400", "-b", "white", "-o"])
        .arg(&png)
        .arg(&svg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rsvg-convert: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(zbar)
        .args(["--raw", "-q"])
        .arg(&png)
        .output()
        .unwrap();
    assert!(out.status.success(), "zbarimg found no code");
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn qr_codes_decode_to_the_page_url() {
    let site = fixture_site();
    site.build_ok(&[]);
    let checks = [
        (
            "apps/com.fixture.notes/1.1.0-11/index.html",
            "https://beta.example.com/apps/com.fixture.notes/1.1.0-11/",
        ),
        (
            "apps/com.fixture.notes/index.html",
            "https://beta.example.com/apps/com.fixture.notes/",
        ),
        (
            "apps/com.fixture.notes/latest/index.html",
            "https://beta.example.com/apps/com.fixture.notes/latest/",
        ),
        (
            "apps/com.fixture.notes/beta/latest/index.html",
            "https://beta.example.com/apps/com.fixture.notes/beta/latest/",
        ),
    ];
    for (page, url) in checks {
        let html = site.read(page);
        assert!(html.contains("<svg class=\"qr\""), "{page} has a QR code");
        if let Some(decoded) = decode_qr(&html) {
            assert_eq!(decoded, url, "{page}");
        }
    }
}

#[test]
fn guidance_without_javascript() {
    let site = fixture_site();
    site.build_ok(&[]);
    let page = site.read("apps/com.fixture.other/5.0-500/index.html");
    for text in [
        "Open this page in Safari on your iPhone or iPad",
        "copy this address into Safari: <code class=\"url\">https://beta.example.com/apps/com.fixture.other/5.0-500/</code>",
        "Request Desktop Website",
        "iOS 15.0 or later · iPad",
        "Installs happen on the iPhone or iPad: scan this code",
    ] {
        assert!(page.contains(text), "missing: {text}");
    }
}

#[test]
fn language_selects_the_theme_strings() {
    let site = TestSite::new(&format!("title: T\nbase_url: {BASE_URL}\nlanguage: de\n"));
    site.add_ipa("releases/A.ipa", &spec("com.lang", "1.0", "1"));
    site.build_ok(&[]);
    let page = site.read("apps/com.lang/1.0-1/index.html");
    assert!(page.contains("<html ⚡ lang=\"de\""));
    // Word order, numbers and sizes as German writes them.
    assert!(
        page.contains("App 1.0 installieren")
            && page.contains("Neu in dieser Version") == page.contains("class=\"notes\"")
    );
    assert!(page.contains(" KB (") && page.contains(" Byte)") && !page.contains(" bytes)"));
    assert!(site.read("feed.xml").contains("xml:lang=\"de\""));
    assert_amp_valid(&files_ending(&site.public(), ".html"));

    site.write(
        "site.yaml",
        format!("title: T\nbase_url: {BASE_URL}\nlanguage: xx\n"),
    );
    let out = site.build(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("language \"xx\" has no strings"),
        "{}",
        stderr(&out)
    );
    // A site can add a language with its own strings file.
    site.write(
        "themes/default/i18n/xx.yaml",
        "install_app: \"Instalu {name}\"\n",
    );
    site.build_ok(&[]);
    assert!(
        site.read("apps/com.lang/1.0-1/index.html")
            .contains("Instalu App<")
    );
}

#[test]
fn init_writes_starter_files_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let out = otasite().arg("init").arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    for f in ["site.yaml", "releases/README.md", ".gitignore"] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    assert!(
        std::fs::read_to_string(dir.path().join(".gitignore"))
            .unwrap()
            .contains("/public/")
    );
    let other = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(other.path().join("releases")).unwrap();
    std::fs::write(other.path().join("releases/README.md"), "mine").unwrap();
    let out = otasite().arg("init").arg(other.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(other.path().join("releases/README.md")).unwrap(),
        "mine"
    );
    assert!(
        !other.path().join("site.yaml").exists(),
        "nothing written when anything exists"
    );
}

/// Replaces the parts of a page that differ from run to run (none should) and the CSS, which
/// has its own file and would drown the snapshot.
fn normalised(html: &str) -> String {
    let start = html
        .find("<style amp-custom>")
        .map(|i| i + "<style amp-custom>".len());
    let end = html
        .find("</style>\n{%")
        .or_else(|| start.and_then(|s| html[s..].find("</style>").map(|e| s + e)));
    let mut text = match (start, end) {
        (Some(s), Some(e)) => format!("{}/* theme CSS */{}", &html[..s], &html[e..]),
        _ => html.to_string(),
    };
    // QR codes are checked by decoding them; here their modules would only be noise.
    let marker = "<path fill=\"#000\" d=\"";
    if let Some(i) = text.find(marker)
        && let Some(len) = text[i + marker.len()..].find('"')
    {
        text.replace_range(i + marker.len()..i + marker.len() + len, "QR");
    }
    text.replace(env!("CARGO_PKG_VERSION"), "VERSION")
}

#[test]
fn snapshots_of_pages_notes_and_feed() {
    let site = fixture_site();
    site.build_ok(&[]);
    insta::assert_snapshot!("index", normalised(&site.read("index.html")));
    insta::assert_snapshot!(
        "app_page",
        normalised(&site.read("apps/com.fixture.notes/index.html"))
    );
    insta::assert_snapshot!(
        "release_page",
        normalised(&site.read("apps/com.fixture.notes/1.1.0-11/index.html"))
    );
    insta::assert_snapshot!(
        "feed",
        normalised(&site.read("apps/com.fixture.notes/feed.xml"))
    );
    let note = otasite::testkit::parse_notes(
        "---\ntitle: t\n---\n# Title\n\n<script>x</script> *em* `code`\n\n1. one\n2. two\n\n> quote\n\n[x](javascript:y) <https://a.example>\n",
        Path::new("n.md"),
    )
    .unwrap();
    insta::assert_snapshot!("notes_html", note.html("IMG/"));
}

#[test]
fn screenshots_show_icons_and_notes_images() {
    let site = fixture_site();
    site.build_ok(&[]);
    let page = site
        .public()
        .join("apps/com.fixture.notes/1.1.0-11/index.html");
    if let Some(shot) = screenshot(&page, "fixture-release") {
        let icons = shot["icons"].as_array().unwrap();
        assert_eq!(icons[0]["width"], 180, "{shot}");
    }
}

/// What a page loads by itself (not links a person follows): every such address must be on the
/// site's own origin, so a page shows without anyone's CDN.
fn loaded_urls(html: &str) -> Vec<String> {
    let re =
        regex::Regex::new(r#"<(script|img|link|iframe|source|video|audio|embed)\b[^>]*>"#).unwrap();
    let attr = regex::Regex::new(r#"\b(src|srcset|href)="([^"]*)""#).unwrap();
    let mut urls = Vec::new();
    for tag in re.find_iter(html) {
        let tag = tag.as_str();
        // A <link> loads only as a stylesheet, icon, preload or the like; canonical and
        // alternate links are addresses, not loads.
        if tag.starts_with("<link")
            && !["stylesheet", "icon", "preload", "modulepreload", "manifest"]
                .iter()
                .any(|r| tag.contains(&format!("rel=\"{r}\"")))
        {
            continue;
        }
        for c in attr.captures_iter(tag) {
            urls.push(c[2].to_string());
        }
    }
    urls
}

#[test]
fn pages_load_nothing_from_other_origins_with_or_without_amp() {
    for amp in [true, false] {
        let site = TestSite::new(&format!(
            "title: T\nbase_url: {BASE_URL}\n{}",
            if amp { "" } else { "amp: false\n" }
        ));
        site.add_ipa("releases/A.ipa", &spec("com.origin", "1.0", "1"));
        site.write("releases/A.md", "---\ntitle: One\n---\n![shot](shot.png)\n");
        site.write(
            "releases/shot.png",
            otasite::testkit::icon::encode_png(&otasite::testkit::icon_image(8, [1, 2, 3])),
        );
        site.build_ok(&[]);
        let pages = files_ending(&site.public(), ".html");
        assert!(pages.len() >= 4);
        for page in &pages {
            let html = std::fs::read_to_string(page).unwrap();
            assert!(
                !html.contains("<script"),
                "{}: no script at all",
                page.display()
            );
            for url in loaded_urls(&html) {
                let own = !url.contains("://") || url.starts_with(BASE_URL);
                assert!(own, "{} loads {url}", page.display());
            }
            assert_eq!(html.contains("<html ⚡"), amp, "{}", page.display());
            assert_eq!(html.contains("amp-custom"), amp, "{}", page.display());
        }
        if amp {
            assert_amp_valid(&pages);
        }
        let checked = otasite().arg("check").arg(site.root()).output().unwrap();
        assert!(
            checked.status.success(),
            "check passes: {}",
            stderr(&checked)
        );
        // An ad hoc build: the Developer Mode steps, in the order a tester meets them.
        let page = site.read("apps/com.origin/1.0-1/index.html");
        let order = [
            "Developer Mode, once per device",
            "Tap the installed app",
            "Developer Mode and turn it on",
            "Tap Restart",
        ];
        let at: Vec<usize> = order
            .iter()
            .map(|s| page.find(s).unwrap_or_else(|| panic!("missing {s}")))
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");
    }
}
