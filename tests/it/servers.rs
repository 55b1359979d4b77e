//! The generated host configuration, proven: real nginx, Apache and Caddy serve a built site on
//! 127.0.0.1 with the generated files, and the headers they send are checked over HTTP.
//! `_headers`, `vercel.json` and `web.config` (no such hosts here) are checked by parsing them
//! and matching their rules against the real output paths.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common;
use crate::common::http::{Response, free_port, request, wait_for_port};
use crate::common::servers::{is_root, make_world_readable, spawn};
use crate::common::*;
use otasite::testkit::IpaSpec;

/// What a built test site contains, as URL paths.
struct Served {
    site: TestSite,
    manifest: String,
    ipa: String,
    ipa_bytes: Vec<u8>,
    page: String,
}

fn served_site(yaml_extra: &str) -> Served {
    let site = TestSite::new(&format!(
        "title: Servers\nbase_url: {BASE_URL}\n{yaml_extra}"
    ));
    let spec = IpaSpec {
        executable_bytes: 200_000,
        ..spec("com.serve.app", "1.0", "7").name("Serve")
    };
    site.add_ipa("releases/Serve.ipa", &spec);
    site.add_ipa(
        "releases/Other.ipa",
        &common::spec("com.serve.other", "2.0", "1"),
    );
    site.build_ok(&[]);
    // Servers run their workers as another user: let them read the site.
    make_world_readable(site.root());
    let ipa_rel = "apps/com.serve.app/1.0-7/serve-1.0.ipa";
    Served {
        ipa_bytes: std::fs::read(site.public().join(ipa_rel)).unwrap(),
        manifest: "/apps/com.serve.app/1.0-7/manifest.plist".into(),
        ipa: format!("/{ipa_rel}"),
        page: "/apps/com.serve.app/1.0-7/".into(),
        site,
    }
}

fn assert_common(r: &Response, what: &str) {
    assert_eq!(
        r.header("x-content-type-options"),
        Some("nosniff"),
        "{what}: {:?}",
        r.headers
    );
    assert_eq!(
        r.header("x-robots-tag"),
        Some("noindex, nofollow"),
        "{what}: {:?}",
        r.headers
    );
}

/// Everything iOS and testers rely on, over real HTTP.
fn check_serving(port: u16, s: &Served, server: &str) {
    let r = request(port, "GET", &s.manifest, &[]);
    assert_eq!(r.status, 200, "{server} manifest");
    assert_eq!(
        r.header("content-type"),
        Some("application/xml"),
        "{server} manifest"
    );
    assert_eq!(
        r.header("cache-control"),
        Some("no-cache"),
        "{server} manifest"
    );
    assert_common(&r, "manifest");
    assert_eq!(
        r.body,
        std::fs::read(s.site.public().join(&s.manifest[1..])).unwrap()
    );

    let r = request(port, "GET", &s.ipa, &[]);
    assert_eq!(r.status, 200, "{server} ipa");
    assert_eq!(
        r.header("content-type"),
        Some("application/octet-stream"),
        "{server} ipa"
    );
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=31536000, immutable"),
        "{server} ipa"
    );
    assert_common(&r, "ipa");
    assert!(r.body == s.ipa_bytes, "{server}: IPA bytes differ");

    let icon = s.manifest.replace("manifest.plist", "icon-57.png");
    let r = request(port, "GET", &icon, &[]);
    assert_eq!(r.status, 200, "{server} icon");
    assert_eq!(r.header("content-type"), Some("image/png"), "{server} icon");
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=31536000, immutable"),
        "{server} icon"
    );
    assert_common(&r, "icon");

    let r = request(port, "HEAD", &s.ipa, &[]);
    assert_eq!(r.status, 200, "{server} HEAD");
    assert_eq!(
        r.header("content-length"),
        Some(s.ipa_bytes.len().to_string().as_str()),
        "{server} HEAD"
    );
    assert!(r.body.is_empty(), "{server}: HEAD has no body");

    let r = request(port, "GET", &s.ipa, &[("Range", "bytes=1000-1999")]);
    assert_eq!(r.status, 206, "{server} range");
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes 1000-1999/{}", s.ipa_bytes.len()).as_str()),
        "{server} range"
    );
    assert!(
        r.body == s.ipa_bytes[1000..2000],
        "{server}: range bytes differ"
    );

    for page in [s.page.as_str(), "/", "/apps/com.serve.app/latest/"] {
        let r = request(port, "GET", page, &[]);
        assert_eq!(r.status, 200, "{server} {page}");
        let ct = r
            .header("content-type")
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(ct.starts_with("text/html"), "{server} {page}: {ct}");
        assert_eq!(
            r.header("cache-control"),
            Some("no-cache"),
            "{server} {page}"
        );
        assert_common(&r, page);
        assert!(
            String::from_utf8_lossy(&r.body).contains("itms-services://"),
            "{server} {page}"
        );
    }

    let r = request(port, "GET", "/releases.json", &[]);
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap_or_default()
            .starts_with("application/json"),
        "{server}"
    );
    assert_eq!(r.header("cache-control"), Some("no-cache"), "{server} json");

    let r = request(port, "GET", "/apps/no/such/page/", &[]);
    assert_eq!(r.status, 404, "{server} 404");
    assert!(
        String::from_utf8_lossy(&r.body).contains("Not found"),
        "{server}: the site's 404 page"
    );
}

#[test]
fn nginx_serves_the_site_with_the_generated_snippet() {
    let Some(nginx) =
        which("nginx").or_else(|| Some(PathBuf::from("/usr/sbin/nginx")).filter(|p| p.exists()))
    else {
        return missing_tool("nginx", "apt-get install nginx");
    };
    let s = served_site("");
    let snippet = s.site.root().join("server-config/nginx.conf");
    assert!(snippet.is_file(), "nginx.conf goes to server-config/");
    assert!(
        !s.site.public().join("nginx.conf").exists(),
        "never in the web root"
    );
    let run = tempfile::tempdir().unwrap();
    let port = free_port();
    let user = if is_root() { "user root;\n" } else { "" };
    let conf = run.path().join("nginx.conf");
    let temp = run.path().display();
    std::fs::write(
        &conf,
        format!(
            "{user}worker_processes 1;\ndaemon off;\npid {temp}/nginx.pid;\nerror_log {temp}/error.log;\n\
             events {{ worker_connections 64; }}\nhttp {{\n  include /etc/nginx/mime.types;\n  \
             default_type application/octet-stream;\n  access_log off;\n  client_body_temp_path {temp}/body;\n  \
             proxy_temp_path {temp}/proxy;\n  fastcgi_temp_path {temp}/fastcgi;\n  uwsgi_temp_path {temp}/uwsgi;\n  \
             scgi_temp_path {temp}/scgi;\n  server {{\n    listen 127.0.0.1:{port};\n    root {};\n    \
             include {};\n  }}\n}}\n",
            s.site.public().display(),
            snippet.display()
        ),
    )
    .unwrap();
    let test = Command::new(&nginx)
        .arg("-t")
        .arg("-p")
        .arg(run.path())
        .arg("-c")
        .arg(&conf)
        .output()
        .unwrap();
    assert!(
        test.status.success(),
        "nginx -t: {}",
        String::from_utf8_lossy(&test.stderr)
    );
    let log = run.path().join("stdout.log");
    let _server = spawn(
        Command::new(&nginx)
            .arg("-p")
            .arg(run.path())
            .arg("-c")
            .arg(&conf),
        &log,
    );
    wait_for_port(port, "nginx", &run.path().join("error.log"));
    check_serving(port, &s, "nginx");
}

#[test]
fn apache_serves_the_site_with_the_generated_htaccess() {
    let apache = ["/usr/sbin/apache2", "/usr/sbin/httpd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    let modules = Path::new("/usr/lib/apache2/modules");
    let (Some(apache), true) = (apache, modules.is_dir()) else {
        return missing_tool("apache2", "apt-get install apache2");
    };
    let s = served_site("");
    let run = tempfile::tempdir().unwrap();
    make_world_readable(run.path());
    let port = free_port();
    let user = if is_root() {
        "User www-data\nGroup www-data\n"
    } else {
        ""
    };
    let load: String = ["mpm_event", "authz_core", "mime", "headers", "dir", "alias"]
        .iter()
        .map(|m| format!("LoadModule {m}_module {}/mod_{m}.so\n", modules.display()))
        .collect();
    let conf = run.path().join("httpd.conf");
    let public = s.site.public();
    std::fs::write(
        &conf,
        format!(
            "ServerRoot {root}\nServerName localhost\nListen 127.0.0.1:{port}\nPidFile {root}/httpd.pid\n\
             ErrorLog {root}/error.log\nLogLevel warn\n{load}{user}TypesConfig /etc/mime.types\n\
             DocumentRoot \"{public}\"\nDirectoryIndex index.html\n<Directory \"{public}\">\n  \
             AllowOverride All\n  Require all granted\n</Directory>\n",
            root = run.path().display(),
            public = public.display()
        ),
    )
    .unwrap();
    let test = Command::new(&apache)
        .arg("-t")
        .arg("-f")
        .arg(&conf)
        .output()
        .unwrap();
    assert!(
        test.status.success(),
        "apache2 -t: {}",
        String::from_utf8_lossy(&test.stderr)
    );
    let log = run.path().join("stdout.log");
    let _server = spawn(
        Command::new(&apache)
            .arg("-DFOREGROUND")
            .arg("-f")
            .arg(&conf),
        &log,
    );
    wait_for_port(port, "apache2", &run.path().join("error.log"));
    check_serving(port, &s, "apache");
}

#[test]
fn caddy_serves_the_site_with_the_generated_snippet() {
    let Some(caddy) = which("caddy") else {
        return missing_tool("caddy", "apt-get install caddy");
    };
    let s = served_site("");
    let run = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = run.path().join("Caddyfile");
    std::fs::write(
        &conf,
        format!(
            "{{\n  admin off\n  auto_https off\n}}\nhttp://127.0.0.1:{port} {{\n  root * {}\n  import {}\n  file_server\n}}\n",
            s.site.public().display(),
            s.site.root().join("server-config/Caddyfile").display()
        ),
    )
    .unwrap();
    let env = |c: &mut Command| {
        c.env("HOME", run.path())
            .env("XDG_DATA_HOME", run.path())
            .env("XDG_CONFIG_HOME", run.path());
    };
    let mut validate = Command::new(&caddy);
    validate
        .args(["validate", "--adapter", "caddyfile", "--config"])
        .arg(&conf);
    env(&mut validate);
    let out = validate.output().unwrap();
    assert!(
        out.status.success(),
        "caddy validate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = run.path().join("caddy.log");
    let mut cmd = Command::new(&caddy);
    cmd.args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&conf);
    env(&mut cmd);
    let _server = spawn(&mut cmd, &log);
    wait_for_port(port, "caddy", &log);
    check_serving(port, &s, "caddy");
}

/// What every output path must be served with: (content type, cache control), `None` = host default.
fn expected(path: &str) -> (Option<&'static str>, &'static str) {
    if path.ends_with(".plist") {
        (Some("application/xml"), "no-cache")
    } else if path.ends_with(".ipa") {
        (
            Some("application/octet-stream"),
            "public, max-age=31536000, immutable",
        )
    } else if path.starts_with("/apps/") && path.ends_with(".png") {
        (None, "public, max-age=31536000, immutable")
    } else {
        (None, "no-cache")
    }
}

/// URL paths of every page, manifest, IPA and data file of a built site.
fn url_paths(public: &Path) -> Vec<String> {
    let mut paths = Vec::new();
    for f in files_ending(public, "") {
        let rel = f
            .strip_prefix(public)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel.starts_with('.')
            || rel.starts_with('_')
            || rel == "web.config"
            || rel == "vercel.json"
        {
            continue;
        }
        if let Some(dir) = rel.strip_suffix("index.html") {
            paths.push(format!("/{dir}"));
        }
        paths.push(format!("/{rel}"));
    }
    paths
}

/// The sites the hosts' engines are run on: the example site, and one whose app folders and
/// release folders have dots or none (`com.acme.app/`, `localapp/`, `3.1-3.1/`, `2-7/`), with
/// icons, notes images and a beta channel. Each is built into its own output folder.
fn engine_sites() -> Vec<(String, tempfile::TempDir, PathBuf)> {
    let (out, public) = built_example_site();
    let mut sites = vec![("example site".to_string(), out, public)];

    let site = TestSite::basic();
    for (i, (bundle, version, build)) in [
        ("com.acme.app", "3.1", "3.1"),
        ("com.acme.app", "2", "7"),
        ("com.acme.app", "1.0.0", "100"),
        ("localapp", "1", "1"),
    ]
    .into_iter()
    .enumerate()
    {
        let spec = IpaSpec {
            icon: Some([20 * i as u8, 90, 160]),
            ..spec(bundle, version, build)
        };
        site.add_ipa(&format!("releases/{i}/App.ipa"), &spec);
    }
    site.write(
        "releases/1/notes.md",
        "---\nchannel: beta\n---\n![screen](shot.png)\n",
    );
    site.write(
        "releases/1/shot.png",
        otasite::testkit::icon::encode_png(&otasite::testkit::icon_image(8, [1, 2, 3])),
    );
    site.build_ok(&[]);
    let public = site.public();
    sites.push(("dotted and undotted".to_string(), site.dir, public));
    sites
}

/// Every canonical URL of a site's `releases.json` (pages, manifests, IPAs, icons, app pages
/// and `latest/`), as paths, with every other file and folder URL of the output.
fn engine_paths(public: &Path) -> Vec<String> {
    let mut paths = url_paths(public);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(public.join("releases.json")).unwrap()).unwrap();
    let mut canonical = Vec::new();
    for app in json["apps"].as_array().unwrap() {
        canonical.extend(["url", "latest_url"].map(|k| app[k].clone()));
        for r in app["releases"].as_array().unwrap() {
            canonical.extend(["page_url", "manifest_url", "ipa_url"].map(|k| r[k].clone()));
            canonical.extend(
                ["url", "display_image_url", "full_size_image_url"].map(|k| r["icon"][k].clone()),
            );
        }
    }
    for url in canonical {
        let url = url.as_str().expect("a URL in releases.json");
        let path = url.strip_prefix(BASE_URL.trim_end_matches('/')).unwrap();
        assert!(
            paths.iter().any(|p| p == path),
            "{path} is not in the output"
        );
    }
    paths.sort();
    paths.dedup();
    assert!(paths.iter().any(|p| p.ends_with(".ipa")) && paths.iter().any(|p| p.ends_with('/')));
    paths
}

/// Runs one of the host engines' scripts in `tests/hosts/` on a published folder, with the
/// paths on stdin; `None` (after a SKIP, or a failure in CI) when they are not installed.
fn host_engine(script: &str, public: &Path, paths: &[String]) -> Option<serde_json::Value> {
    use std::io::Write as _;
    let hosts = project_dir().join("tests/hosts");
    if which("node").is_none() || !hosts.join("node_modules/.package-lock.json").is_file() {
        missing_tool(
            "the hosts' engines (node and tests/hosts/node_modules)",
            "run scripts/install-test-tools",
        );
        return None;
    }
    let mut child = Command::new("node")
        .arg(hosts.join(script))
        .arg(public)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(paths.join("\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{script}: {}", stderr(&out));
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// What a path must be served with, checked against the headers an engine gives it.
fn assert_intended(what: &str, path: &str, header: &dyn Fn(&str) -> Option<String>) {
    let (ct, cache) = expected(path);
    assert_eq!(
        header("cache-control").as_deref(),
        Some(cache),
        "{what}: {path}"
    );
    if let Some(ct) = ct {
        assert_eq!(
            header("content-type").as_deref(),
            Some(ct),
            "{what}: {path}"
        );
    }
    assert_eq!(
        header("x-content-type-options").as_deref(),
        Some("nosniff"),
        "{what}: {path}"
    );
    assert_eq!(
        header("x-robots-tag").as_deref(),
        Some("noindex, nofollow"),
        "{what}: {path}"
    );
}

#[test]
fn netlifys_own_parser_gives_every_path_the_intended_headers() {
    for (name, _keep, public) in engine_sites() {
        let paths = engine_paths(&public);
        let Some(result) = host_engine("netlify-headers.mjs", &public, &paths) else {
            return;
        };
        assert!(
            result["rules"].as_u64().unwrap() <= 100,
            "Cloudflare's limit"
        );
        for path in &paths {
            let got = &result["paths"][path];
            assert_intended(&format!("Netlify, {name}"), path, &|h| {
                got[h].as_str().map(str::to_string)
            });
        }
    }
}

#[test]
fn vercels_own_route_compiler_redirects_no_canonical_url() {
    for (name, _keep, public) in engine_sites() {
        let paths = engine_paths(&public);
        let Some(result) = host_engine("vercel-routes.mjs", &public, &paths) else {
            return;
        };
        assert_eq!(
            result["errors"],
            serde_json::json!([]),
            "{name}: vercel.json"
        );
        for path in &paths {
            let got = &result["paths"][path];
            assert_eq!(got["status"], 200, "Vercel, {name}: {path}: {got}");
            assert!(got["location"].is_null(), "Vercel, {name}: {path}: {got}");
            assert_intended(&format!("Vercel, {name}"), path, &|h| {
                got["headers"][h].as_str().map(str::to_string)
            });
        }
    }
}

#[test]
fn cloudflares_own_runtime_serves_every_path_as_intended() {
    let wrangler = project_dir().join("tests/hosts/node_modules/wrangler/bin/wrangler.js");
    if which("node").is_none() || !wrangler.is_file() {
        missing_tool(
            "wrangler (Cloudflare's runtime)",
            "run scripts/install-test-tools",
        );
        return;
    }
    for (name, keep, public) in engine_sites() {
        let paths = engine_paths(&public);
        let port = free_port();
        let log = keep.path().join("wrangler.log");
        let mut cmd = Command::new("node");
        cmd.arg(&wrangler)
            .args(["pages", "dev"])
            .arg(&public)
            .args(["--ip", "127.0.0.1", "--port", &port.to_string()])
            .args(["--compatibility-date", "2025-09-24", "--log-level", "warn"])
            .current_dir(keep.path())
            .env("WRANGLER_SEND_METRICS", "false")
            .env("HOME", keep.path());
        let _server = spawn(&mut cmd, &log);
        wait_for_port_within(port, "wrangler pages dev", &log, 90);
        // Pages answers `x/index.html` and `404.html` with a redirect to `x/` and `/404`: the
        // canonical URLs are the folders, which is what every link and releases.json use.
        for path in paths.iter().filter(|p| !p.ends_with(".html")) {
            let r = request(port, "GET", path, &[]);
            assert_eq!(r.status, 200, "Cloudflare, {name}: {path}: {:?}", r.headers);
            assert_intended(&format!("Cloudflare, {name}"), path, &|h| {
                r.header(h).map(str::to_string)
            });
            if path.ends_with('/') {
                assert!(
                    r.header("content-type").unwrap().starts_with("text/html"),
                    "{path}"
                );
            }
        }
        let missing = request(port, "GET", "/apps/no-such-app/", &[]);
        assert_eq!(missing.status, 404, "Cloudflare, {name}: a missing path");
        assert_eq!(
            missing.body,
            std::fs::read(public.join("404.html")).unwrap(),
            "Cloudflare, {name}: the site's own 404 page"
        );
    }
}

/// Like `wait_for_port`, with a longer wait: Cloudflare's runtime takes seconds to start.
fn wait_for_port_within(port: u16, what: &str, log: &Path, seconds: u64) {
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(seconds) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!(
        "{what} did not start on port {port}:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

#[test]
fn web_config_is_well_formed_with_a_remove_before_each_mime_map() {
    let s = served_site("");
    let text = s.site.read("web.config");
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    let static_content = doc
        .descendants()
        .find(|n| n.has_tag_name("staticContent"))
        .expect("staticContent");
    let children: Vec<roxmltree::Node> = static_content
        .children()
        .filter(|n| n.is_element())
        .collect();
    let mut mapped = Vec::new();
    for (i, node) in children.iter().enumerate() {
        if node.has_tag_name("mimeMap") {
            let ext = node.attribute("fileExtension").unwrap();
            let prev = i
                .checked_sub(1)
                .map(|j| children[j])
                .expect("a remove before the first mimeMap");
            assert!(
                prev.has_tag_name("remove") && prev.attribute("fileExtension") == Some(ext),
                "{ext}"
            );
            mapped.push((ext, node.attribute("mimeType").unwrap()));
        }
    }
    assert!(mapped.contains(&(".plist", "application/xml")));
    assert!(mapped.contains(&(".ipa", "application/octet-stream")));
    assert!(children.iter().any(|n| n.has_tag_name("clientCache")
        && n.attribute("cacheControlMode") == Some("DisableCache")));
    // One year of caching for versioned IPAs and icons: one outbound rule, no file list.
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("location"))
            .count(),
        0
    );
    let rule = doc
        .descendants()
        .find(|n| n.has_tag_name("rule"))
        .expect("an outbound rule");
    let action = rule
        .descendants()
        .find(|n| n.has_tag_name("action"))
        .unwrap();
    assert_eq!(
        action.attribute("value"),
        Some("public, max-age=31536000, immutable")
    );
    let condition = rule.descendants().find(|n| n.has_tag_name("add")).unwrap();
    assert_eq!(condition.attribute("input"), Some("{REQUEST_URI}"));
    let pattern = condition.attribute("pattern").unwrap();
    // The pattern (with a look-ahead, as .NET regular expressions have) names exactly the
    // paths the other hosts cache for a year: checked with node's engine, which shares the syntax.
    let paths = url_paths(&s.site.public());
    if which("node").is_some() {
        let script = format!(
            "const re = new RegExp({});\n\
             for (const p of JSON.parse(process.argv[1])) {{\n\
               const want = p.startsWith('/apps/') && !p.includes('/latest/') && /\\.(ipa|png)$/.test(p);\n\
               if (re.test(p) !== want) {{ console.log(p); process.exit(1); }}\n\
             }}",
            serde_json::to_string(pattern).unwrap()
        );
        let out = Command::new("node")
            .args(["-e", &script, &serde_json::to_string(&paths).unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{pattern} is wrong for {}",
            String::from_utf8_lossy(&out.stdout)
        );
    } else {
        missing_tool("node", "apt-get install nodejs");
    }
    let errors = doc
        .descendants()
        .find(|n| n.has_tag_name("error"))
        .expect("<httpErrors> with the site's 404 page");
    assert_eq!(errors.attribute("statusCode"), Some("404"));
    assert_eq!(errors.attribute("path"), Some("/404.html"));
    let headers: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("add"))
        .filter_map(|n| n.attribute("name"))
        .collect();
    assert!(headers.contains(&"X-Content-Type-Options") && headers.contains(&"X-Robots-Tag"));
}

#[test]
fn hosting_selects_files_and_server_config_stays_out_of_the_web_root() {
    let s = served_site("hosting: [nginx, github-pages]\nnoindex: false\n");
    let public = s.site.public();
    assert!(public.join(".nojekyll").is_file());
    for absent in [
        ".htaccess",
        "web.config",
        "_headers",
        "vercel.json",
        "nginx.conf",
        "Caddyfile",
    ] {
        assert!(
            !public.join(absent).exists(),
            "{absent} should not be written"
        );
    }
    let nginx = std::fs::read_to_string(s.site.root().join("server-config/nginx.conf")).unwrap();
    assert!(
        !nginx.contains("X-Robots-Tag"),
        "noindex: false sends no robots header"
    );
    assert!(!s.site.root().join("server-config/Caddyfile").exists());

    // --server-config-dir moves the snippets; inside the output folder is refused.
    let elsewhere = s.site.root().join("conf-out");
    s.site
        .build_ok(&["--server-config-dir", elsewhere.to_str().unwrap()]);
    assert!(elsewhere.join("nginx.conf").is_file());
    let inside = public.join("conf");
    let out = s
        .site
        .build(&["--server-config-dir", inside.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("outside the output folder"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn host_limits_are_warnings_naming_the_file() {
    let site = TestSite::new(&format!(
        "title: T\nbase_url: {BASE_URL}\nhosting: [cloudflare, nginx]\n"
    ));
    let big = IpaSpec {
        executable_bytes: 26 * 1024 * 1024,
        store_executable: true,
        ..spec("com.big", "1.0", "1")
    };
    site.add_ipa("releases/Big.ipa", &big);
    let out = site.build_ok(&["--json"]);
    let err = stderr(&out);
    assert!(
        err.contains("warning:") && err.contains("releases/Big.ipa") && err.contains("25 MiB"),
        "{err}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["code"] == "host-limit" && w["file"].as_str().unwrap().contains("Big.ipa"))
    );
}
