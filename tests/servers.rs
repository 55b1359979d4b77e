//! The generated host configuration, proven: real nginx, Apache and Caddy serve a built site on
//! 127.0.0.1 with the generated files, and the headers they send are checked over HTTP.
//! `_headers`, `vercel.json` and `web.config` (no such hosts here) are checked by parsing them
//! and matching their rules against the real output paths.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::http::{Response, free_port, request, wait_for_port};
use common::servers::{is_root, make_world_readable, spawn};
use common::*;
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

/// Cloudflare's rule syntax: `*` matches anything, `:name` one path segment.
fn rule_regex(rule: &str) -> regex::Regex {
    let placeholder = regex::Regex::new(r":\w+").unwrap();
    let mut re = String::from("^");
    for (i, part) in rule.split('*').enumerate() {
        if i > 0 {
            re.push_str(".*");
        }
        re.push_str(&placeholder.replace_all(&regex::escape(part), "[^/]+"));
    }
    re.push('$');
    regex::Regex::new(&re).unwrap()
}

#[test]
fn headers_file_rules_give_every_real_path_the_right_headers() {
    let s = served_site("");
    let text = s.site.read("_headers");
    assert!(text.starts_with("# "), "opens with a comment");
    // Parse: a rule is a line starting with `/`, followed by indented `Name: value` lines.
    let mut rules: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if line.starts_with('/') {
            rules.push((line.trim().to_string(), Vec::new()));
        } else {
            let (k, v) = line.trim().split_once(':').expect("header line");
            rules
                .last_mut()
                .expect("header before any rule")
                .1
                .push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    assert!(rules.len() <= 100, "Cloudflare Pages allows 100 rules");
    let paths = url_paths(&s.site.public());
    assert!(paths.iter().any(|p| p.ends_with(".ipa")) && paths.iter().any(|p| p.ends_with("/")));
    for path in &paths {
        // Every matching rule applies; Cloudflare joins repeated headers with ", ".
        let mut got: Vec<(String, String)> = Vec::new();
        for (rule, headers) in &rules {
            if rule_regex(rule).is_match(path) {
                for (k, v) in headers {
                    match got.iter_mut().find(|(n, _)| n == k) {
                        Some((_, old)) => *old = format!("{old}, {v}"),
                        None => got.push((k.clone(), v.clone())),
                    }
                }
            }
        }
        let get = |name: &str| got.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        let (ct, cache) = expected(path);
        assert_eq!(get("cache-control"), Some(cache), "{path}: {got:?}");
        if let Some(ct) = ct {
            assert_eq!(get("content-type"), Some(ct), "{path}");
        }
        assert_eq!(get("x-content-type-options"), Some("nosniff"), "{path}");
        assert_eq!(get("x-robots-tag"), Some("noindex, nofollow"), "{path}");
    }
}

#[test]
fn vercel_json_rules_give_every_real_path_the_right_headers() {
    let s = served_site("");
    let doc: serde_json::Value = serde_json::from_str(&s.site.read("vercel.json")).unwrap();
    let rules = doc["headers"].as_array().unwrap();
    for path in url_paths(&s.site.public()) {
        // Vercel applies every matching rule; a later one overrides an earlier same-name header.
        let mut got: Vec<(String, String)> = Vec::new();
        for rule in rules {
            let source = rule["source"].as_str().unwrap();
            let re = regex::Regex::new(&format!("^{source}$")).unwrap();
            if re.is_match(&path) {
                for h in rule["headers"].as_array().unwrap() {
                    let k = h["key"].as_str().unwrap().to_ascii_lowercase();
                    got.retain(|(n, _)| *n != k);
                    got.push((k, h["value"].as_str().unwrap().to_string()));
                }
            }
        }
        let get = |name: &str| got.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        let (ct, cache) = expected(&path);
        if path.ends_with('/') {
            // Directory URLs are served by Vercel with its own revalidating default.
            continue;
        }
        assert_eq!(get("cache-control"), Some(cache), "{path}: {got:?}");
        if let Some(ct) = ct {
            assert_eq!(get("content-type"), Some(ct), "{path}");
        }
        assert_eq!(get("x-content-type-options"), Some("nosniff"), "{path}");
    }
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
    // One year of caching for each real IPA, by its real path.
    let locations: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("location"))
        .filter_map(|n| n.attribute("path"))
        .collect();
    let ipas: Vec<String> = files_ending(&s.site.public(), ".ipa")
        .iter()
        .map(|p| {
            p.strip_prefix(s.site.public())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(ipas.len(), 2);
    for ipa in &ipas {
        assert!(locations.contains(&ipa.as_str()), "{ipa} has no <location>");
    }
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
            .any(|w| w.as_str().unwrap().contains("Big.ipa"))
    );
}
