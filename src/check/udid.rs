//! Device registration on the built output: the profile's endpoint URL is the site's, each
//! named host serves `.mobileconfig` with the type iOS needs, and each named host that runs
//! code has the endpoint (the others get the build's `udid-needs-functions` warning).

use std::path::Path;

use crate::config::{Config, Host};
use crate::limits::{MAX_PROFILE_BYTES, read_limited};
use crate::problem::Problem;
use crate::rules::hosts::host_name;
use crate::udid::functions::{CLOUDFLARE_ROUTES, CLOUDFLARE_WORKER, NETLIFY_FUNCTION};
use crate::udid::{ENDPOINT, PROFILE_FILE, PROFILE_TYPE};

const REBUILD: &str = "build the site again with this otasite and deploy the whole output folder";

pub(super) fn check_udid(out: &Path, server_dir: &Path, config: &Config) -> Vec<Problem> {
    if config.udid.is_none() {
        return Vec::new();
    }
    let mut problems = Vec::new();
    let profile = out.join(PROFILE_FILE);
    let file = profile.display().to_string();
    match read_limited(&profile, MAX_PROFILE_BYTES, PROFILE_FILE)
        .map_err(|e| format!("{e:#}"))
        .and_then(|bytes| profile_url(&bytes))
    {
        Ok(url) => {
            let want = format!("{}{ENDPOINT}", config.base_url);
            if !(url.starts_with("https://") && url == want) {
                problems.push(Problem::error(
                    "udid-profile-url",
                    &file,
                    format!(
                        "the profile sends devices to {url:?}, not to {want:?} (absolute \
                         https:// under base_url): registration would fail or go elsewhere"
                    ),
                    REBUILD,
                ));
            }
        }
        Err(e) => problems.push(Problem::error(
            "udid-profile-missing",
            &file,
            format!("device registration is on, but the profile cannot be read: {e}"),
            REBUILD,
        )),
    }
    for host in config.named_hosts() {
        if let Some((rel, dir, needle)) = type_rule(*host)
            && !contains(&dir_for(dir, out, server_dir).join(rel), needle)
        {
            problems.push(Problem::error(
                "udid-profile-type",
                dir_for(dir, out, server_dir)
                    .join(rel)
                    .display()
                    .to_string(),
                format!(
                    "{} will not serve {PROFILE_FILE} as {PROFILE_TYPE}: iOS then shows the \
                     profile as a file instead of offering to install it",
                    host_name(*host)
                ),
                REBUILD,
            ));
        }
        for rel in endpoint_files(*host) {
            let path = out.join(rel);
            if !path.is_file() || (*rel == CLOUDFLARE_ROUTES && !contains(&path, ENDPOINT)) {
                problems.push(Problem::error(
                    "udid-endpoint-missing",
                    path.display().to_string(),
                    format!(
                        "{} has no device-registration endpoint ({rel}): a device that \
                         installs the profile gets an error",
                        host_name(*host)
                    ),
                    REBUILD,
                ));
            }
        }
    }
    problems
}

/// Where a host's type rule is: in the web root (`true`) or the server configuration folder.
fn dir_for<'a>(web_root: bool, out: &'a Path, server_dir: &'a Path) -> &'a Path {
    if web_root { out } else { server_dir }
}

/// The file that maps `.mobileconfig` for `host`, whether it is in the web root, and what it
/// must say.
fn type_rule(host: Host) -> Option<(&'static str, bool, &'static str)> {
    Some(match host {
        Host::Netlify | Host::Cloudflare => (
            "_headers",
            true,
            "/*.mobileconfig\n  Content-Type: application/x-apple-aspen-config",
        ),
        Host::Vercel => ("vercel.json", true, "\\\\.mobileconfig"),
        Host::Apache => (
            ".htaccess",
            true,
            "AddType application/x-apple-aspen-config .mobileconfig",
        ),
        Host::Iis => (
            "web.config",
            true,
            "<mimeMap fileExtension=\".mobileconfig\" mimeType=\"application/x-apple-aspen-config\" />",
        ),
        Host::Nginx => (
            "nginx.conf",
            false,
            "default_type application/x-apple-aspen-config;",
        ),
        Host::Caddy => (
            "Caddyfile",
            false,
            "Content-Type \"application/x-apple-aspen-config\"",
        ),
        // GitHub Pages sets no types of a site's choosing (and runs no endpoint either).
        Host::GithubPages => return None,
    })
}

/// The files of the endpoint otasite writes for `host`.
fn endpoint_files(host: Host) -> &'static [&'static str] {
    match host {
        Host::Cloudflare => &[CLOUDFLARE_WORKER, CLOUDFLARE_ROUTES],
        Host::Netlify => &[NETLIFY_FUNCTION, "netlify.toml"],
        _ => &[],
    }
}

fn contains(path: &Path, needle: &str) -> bool {
    read_limited(path, MAX_PROFILE_BYTES, "host file")
        .is_ok_and(|b| String::from_utf8_lossy(&b).contains(needle))
}

/// `PayloadContent.URL` of a Profile Service profile, signed or not.
fn profile_url(bytes: &[u8]) -> Result<String, String> {
    let xml = if bytes.starts_with(b"<?xml") {
        bytes.to_vec()
    } else {
        crate::ipa::profile::cms_content(bytes)?
    };
    crate::ipa::plist_depth::check_plist_shape(&xml)?;
    let value = plist::Value::from_reader_xml(&xml[..])
        .map_err(|e| format!("not a property list ({e})"))?;
    value
        .as_dictionary()
        .and_then(|d| d.get("PayloadContent"))
        .and_then(plist::Value::as_dictionary)
        .and_then(|c| c.get("URL"))
        .and_then(plist::Value::as_string)
        .map(str::to_string)
        .ok_or_else(|| "it has no PayloadContent URL".to_string())
}
