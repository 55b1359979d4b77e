//! Configuration for each web host, so that `.plist` and `.ipa` are served right.
//!
//! Every generator renders the same policy (see `Policy`): manifests as `application/xml` and
//! IPAs as `application/octet-stream`; pages, manifests and data never cached stale; versioned
//! IPAs and icons cached for a year; `nosniff`; `X-Robots-Tag` when the site is noindex.
//! Files for the web root join the site; server snippets go to `server_config_dir`.

mod apache;
mod caddy;
mod headers_file;
mod iis;
mod nginx;
mod vercel;

use crate::config::Host;
use crate::files::OutFile;

/// `Content-Type` for manifests. Apple's docs say `text/xml`; both work, and `application/xml`
/// is what the XML media-type RFC prefers.
pub(crate) const PLIST_TYPE: &str = "application/xml";
/// `Content-Type` for IPAs.
pub(crate) const IPA_TYPE: &str = "application/octet-stream";
/// `Content-Type` for configuration profiles (`udid.mobileconfig`): iOS offers to install a
/// profile only when it is served so.
pub(crate) const PROFILE_TYPE: &str = crate::udid::PROFILE_TYPE;
/// For pages, manifests and data: always revalidate, so testers see a new build at once.
pub(crate) const NO_CACHE: &str = "no-cache";
/// For IPAs and icons, whose paths change with every release.
pub(crate) const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub(crate) const ROBOTS: &str = "noindex, nofollow";

/// Content types for every kind of file a site has.
pub(crate) fn content_type(path: &str) -> &'static str {
    let ext = path
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "plist" => "application/xml",
        "mobileconfig" => PROFILE_TYPE,
        "ipa" => "application/octet-stream",
        "xml" if path.ends_with("feed.xml") => "application/atom+xml",
        "xml" | "config" => "application/xml",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "txt" => "text/plain; charset=utf-8",
        "css" => "text/css",
        _ => "application/octet-stream",
    }
}

/// The headers a file of the site is stored with where a host takes them per file (a bucket:
/// `otasite deploy`): the same policy as `_headers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ObjectHeaders {
    pub content_type: &'static str,
    /// `None`: the host's default.
    pub cache_control: Option<&'static str>,
}

/// The headers for the site file at `rel` (relative to the web root, with `/`).
pub(crate) fn object_headers(rel: &str) -> ObjectHeaders {
    let content_type = content_type(rel);
    let lower = rel.to_ascii_lowercase();
    let ext = lower.rsplit('.').next().unwrap_or_default();
    let cache_control = match ext {
        "ipa" => Some(IMMUTABLE),
        "png" if lower.starts_with("apps/") => Some(IMMUTABLE),
        "html" | "json" | "xml" | "txt" | "plist" | "mobileconfig" => Some(NO_CACHE),
        _ => None,
    };
    ObjectHeaders {
        content_type,
        cache_control,
    }
}

/// What every host file needs to know.
#[derive(Debug, Clone)]
pub(crate) struct Policy<'a> {
    pub noindex: bool,
    /// The base URL's path, starting and ending with `/` (e.g. `/beta/`).
    pub base_path: &'a str,
    pub site_title: &'a str,
    /// Device registration is on: the hosts with functions get the endpoint.
    pub udid: bool,
}

impl Policy<'_> {
    /// Headers every response gets.
    pub(crate) fn common_headers(&self) -> Vec<(&'static str, &'static str)> {
        let mut h = vec![("X-Content-Type-Options", "nosniff")];
        if self.noindex {
            h.push(("X-Robots-Tag", ROBOTS));
        }
        h
    }
}

/// What the banner of every generated file says: a file without it was not written by
/// otasite, and is never replaced.
pub(crate) const MARKER: &str = "written by otasite";

/// The first comment line of every generated file, with where its set-up is explained.
pub(crate) fn banner(what: &str) -> String {
    format!(
        "{what}, {MARKER} {}. Do not edit: it is rewritten by every build. Set-up: {}#hosting",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_REPOSITORY")
    )
}

/// Files that go into the web root for the selected hosts.
pub(crate) fn web_root_files(hosts: &[Host], policy: &Policy<'_>) -> Vec<OutFile> {
    let mut files = Vec::new();
    let mut headers_written = false;
    for host in hosts {
        match host {
            Host::Apache => files.push(OutFile::bytes(".htaccess", apache::htaccess(policy))),
            Host::Iis => files.push(OutFile::bytes("web.config", iis::web_config(policy))),
            Host::Netlify | Host::Cloudflare if !headers_written => {
                headers_written = true;
                files.push(OutFile::bytes("_headers", headers_file::headers(policy)));
            }
            _ => {}
        }
        match host {
            Host::GithubPages => files.push(OutFile::bytes(".nojekyll", Vec::new())),
            Host::Vercel => files.push(OutFile::bytes("vercel.json", vercel::vercel_json(policy))),
            Host::Cloudflare if policy.udid => files.extend(crate::udid::functions::cloudflare(
                policy.base_path,
                &banner("Cloudflare Pages device-registration endpoint"),
            )),
            Host::Netlify if policy.udid => files.extend(crate::udid::functions::netlify(
                policy.base_path,
                &banner("Netlify device-registration function"),
            )),
            _ => {}
        }
    }
    files
}

/// Server-side snippets, for `server_config_dir` (never the web root).
pub(crate) fn server_files(hosts: &[Host], policy: &Policy<'_>) -> Vec<OutFile> {
    let mut files = Vec::new();
    for host in hosts {
        match host {
            Host::Nginx => files.push(OutFile::bytes("nginx.conf", nginx::snippet(policy))),
            Host::Caddy => files.push(OutFile::bytes("Caddyfile", caddy::snippet(policy))),
            _ => {}
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn policy() -> Policy<'static> {
        Policy {
            noindex: true,
            base_path: "/beta/",
            site_title: "Acme",
            udid: false,
        }
    }

    #[test]
    fn hosts_select_files() {
        let all = web_root_files(&Host::ALL, &policy());
        let names: Vec<&str> = all.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            names,
            vec![
                ".htaccess",
                "web.config",
                "_headers",
                ".nojekyll",
                "vercel.json"
            ]
        );
        let server = server_files(&Host::ALL, &policy());
        let names: Vec<&str> = server.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(names, vec!["nginx.conf", "Caddyfile"]);
        assert!(web_root_files(&[Host::Nginx], &policy()).is_empty());
        let udid = Policy {
            udid: true,
            ..policy()
        };
        let names: Vec<String> = web_root_files(&[Host::Cloudflare, Host::Netlify], &udid)
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(
            names,
            [
                "_headers",
                "_worker.js",
                "_routes.json",
                "netlify/functions/udid.mjs",
                "netlify.toml"
            ]
        );
        assert_eq!(content_type("udid.mobileconfig"), PROFILE_TYPE);
    }
}
