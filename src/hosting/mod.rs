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
mod limits;
mod nginx;
mod vercel;

use crate::config::Host;
use crate::render::OutFile;

pub use limits::{HostLimit, host_warnings};

/// `Content-Type` for manifests. Apple's docs say `text/xml`; both work, and `application/xml`
/// is what the XML media-type RFC prefers.
pub const PLIST_TYPE: &str = "application/xml";
/// `Content-Type` for IPAs.
pub const IPA_TYPE: &str = "application/octet-stream";
/// For pages, manifests and data: always revalidate, so testers see a new build at once.
pub const NO_CACHE: &str = "no-cache";
/// For IPAs and icons, whose paths change with every release.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub const ROBOTS: &str = "noindex, nofollow";

/// What every host file needs to know.
#[derive(Debug, Clone)]
pub struct Policy<'a> {
    pub noindex: bool,
    /// The base URL's path, starting and ending with `/` (e.g. `/beta/`).
    pub base_path: &'a str,
    pub site_title: &'a str,
    /// Site-relative paths of the files cached for a year (IPAs and icons of releases).
    pub immutable: Vec<&'a str>,
}

impl Policy<'_> {
    /// Headers every response gets.
    pub fn common_headers(&self) -> Vec<(&'static str, &'static str)> {
        let mut h = vec![("X-Content-Type-Options", "nosniff")];
        if self.noindex {
            h.push(("X-Robots-Tag", ROBOTS));
        }
        h
    }
}

/// What the banner of every generated file says: a file without it was not written by
/// otasite, and is never replaced.
pub const MARKER: &str = "written by otasite";

/// The first comment line of every generated file.
pub(crate) fn banner(what: &str) -> String {
    format!(
        "{what}, {MARKER} {}. Do not edit: it is rewritten by every build.",
        env!("CARGO_PKG_VERSION")
    )
}

/// Whether a site file is versioned (an IPA or icon in a release folder, never in `latest/`).
pub fn is_immutable(path: &str) -> bool {
    path.starts_with("apps/")
        && !path.contains("/latest/")
        && (path.ends_with(".ipa") || path.ends_with(".png"))
}

/// Files that go into the web root for the selected hosts.
pub fn web_root_files(hosts: &[Host], policy: &Policy<'_>) -> Vec<OutFile> {
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
            Host::GithubPages => files.push(OutFile::bytes(".nojekyll", Vec::new())),
            Host::Vercel => files.push(OutFile::bytes("vercel.json", vercel::vercel_json(policy))),
            _ => {}
        }
    }
    files
}

/// Server-side snippets, for `server_config_dir` (never the web root).
pub fn server_files(hosts: &[Host], policy: &Policy<'_>) -> Vec<OutFile> {
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
            immutable: vec!["apps/a/1.0-1/a-1.0.ipa", "apps/a/1.0-1/icon.png"],
        }
    }

    #[test]
    fn immutable_paths() {
        assert!(is_immutable("apps/a/1.0-1/a-1.0.ipa"));
        assert!(is_immutable("apps/a/1.0-1/icon-57.png"));
        assert!(!is_immutable("apps/a/latest/icon.png"));
        assert!(!is_immutable("apps/a/1.0-1/manifest.plist"));
        assert!(!is_immutable("favicon.png"));
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
    }
}
