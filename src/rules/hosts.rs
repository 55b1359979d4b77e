//! The rules about hosts: limits that would make a deploy fail.

use crate::config::Host;
use crate::problem::Problem;

/// Cloudflare Pages refuses files over 25 MiB.
pub(crate) const CLOUDFLARE_MAX_FILE: u64 = 25 * 1024 * 1024;
/// GitHub refuses files over 100 MiB.
pub(crate) const GITHUB_MAX_FILE: u64 = 100 * 1024 * 1024;
/// GitHub Pages sites may be at most 1 GB.
pub(crate) const GITHUB_MAX_SITE: u64 = 1_000_000_000;

/// Where an IPA too large for a host belongs, and how to point the site at it.
const USE_IPA_BASE_URL: &str = "upload the IPAs to object storage (S3, R2, GCS) behind a CDN and \
     set `ipa_base_url` in site.yaml to its https:// address (IPAs are then not in the site)";

/// Limits of `hosts` that the site breaks; `ipas` are (path to show, size) of the IPAs in the
/// output (none when they are kept at `ipa_base_url`). The build and
/// `check` pass the hosts site.yaml names (`Config::named_hosts`): without a `hosting:`
/// line every host's files are written, but the site is not assumed to go to any of them.
/// `site_bytes` is asked for only when a host limits the whole site's size.
pub(crate) fn host_problems(
    hosts: &[Host],
    ipas: &[(String, u64)],
    site_bytes: impl FnOnce() -> u64,
) -> Vec<Problem> {
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let limit =
        |file: &str, message: String, fix: &str| Problem::warning("host-limit", file, message, fix);
    let mut problems = Vec::new();
    for (path, size) in ipas {
        if hosts.contains(&Host::Cloudflare) && *size > CLOUDFLARE_MAX_FILE {
            problems.push(limit(
                path,
                format!(
                    "{:.1} MiB is over Cloudflare Pages' 25 MiB file limit; the deploy will fail",
                    mib(*size)
                ),
                &format!(
                    "{USE_IPA_BASE_URL}; or serve the site from another host, or remove \
                     `cloudflare` from `hosting`"
                ),
            ));
        }
        if hosts.contains(&Host::GithubPages) && *size > GITHUB_MAX_FILE {
            problems.push(limit(
                path,
                format!(
                    "{:.1} MiB is over GitHub's 100 MiB file limit; GitHub Pages cannot publish it",
                    mib(*size)
                ),
                &format!(
                    "{USE_IPA_BASE_URL}; or use another host, or remove `github-pages` from \
                     `hosting`"
                ),
            ));
        }
    }
    let site_bytes = if hosts.contains(&Host::GithubPages) {
        site_bytes()
    } else {
        0
    };
    if site_bytes > GITHUB_MAX_SITE {
        problems.push(limit(
            "",
            format!(
                "the site is {:.2} GB, over GitHub Pages' 1 GB limit",
                site_bytes as f64 / 1e9
            ),
            &format!("{USE_IPA_BASE_URL}; or remove old releases, or use another host"),
        ));
    }
    problems
}

/// Device registration needs code on the host for its endpoint: a named host that runs none
/// (a plain web server, GitHub Pages) serves the page and the profile, but the device's POST
/// gets no answer there. Without a `hosting:` line no host is assumed.
pub(crate) fn udid_host_problems(config: &crate::config::Config) -> Vec<Problem> {
    if config.udid.is_none() {
        return Vec::new();
    }
    let without: Vec<&str> = (config.named_hosts().iter())
        .filter(|h| !has_udid_endpoint(**h))
        .map(|h| host_name(*h))
        .collect();
    if without.is_empty() {
        return Vec::new();
    }
    vec![Problem::warning(
        "udid-needs-functions",
        crate::config::CONFIG_FILE,
        format!(
            "device registration (`udid:`) needs a host that runs code for its endpoint \
             `udid/register`; {} serve{} the page and the profile, but a device that installs \
             the profile gets an error there",
            without.join(", "),
            if without.len() == 1 { "s" } else { "" }
        ),
        "publish the site on Cloudflare Pages or Netlify (otasite writes their function), or \
         remove `udid:` from site.yaml; `otasite serve` answers it too, for trying it out",
    )]
}

/// Whether otasite writes the device-registration endpoint for `host`.
pub(crate) fn has_udid_endpoint(host: Host) -> bool {
    matches!(host, Host::Cloudflare | Host::Netlify)
}

/// A host's name as site.yaml writes it.
pub(crate) fn host_name(host: Host) -> &'static str {
    match host {
        Host::Nginx => "nginx",
        Host::Apache => "apache",
        Host::Iis => "iis",
        Host::Netlify => "netlify",
        Host::Cloudflare => "cloudflare",
        Host::GithubPages => "github-pages",
        Host::Vercel => "vercel",
        Host::Caddy => "caddy",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udid_warns_about_hosts_without_functions() {
        let config = |extra: &str| {
            crate::config::Config::parse(
                &format!("title: A\nbase_url: https://x.example/\n{extra}"),
                std::path::Path::new("site.yaml"),
            )
            .unwrap()
        };
        let udid = "udid:\n  contact: mailto:qa@x.example\n";
        assert!(udid_host_problems(&config(udid)).is_empty());
        assert!(udid_host_problems(&config("hosting: [nginx]\n")).is_empty());
        let ok = config(&format!("{udid}hosting: [cloudflare, netlify]\n"));
        assert!(udid_host_problems(&ok).is_empty());
        let w = udid_host_problems(&config(&format!(
            "{udid}hosting: [netlify, nginx, github-pages]\n"
        )));
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].code, "udid-needs-functions");
        assert!(
            w[0].message.contains("nginx, github-pages"),
            "{}",
            w[0].message
        );
    }

    #[test]
    fn limits_only_for_selected_hosts() {
        let big = vec![("releases/Big.ipa".to_string(), 30 * 1024 * 1024)];
        let w = host_problems(&[Host::Cloudflare], &big, || 0);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].file, "releases/Big.ipa");
        assert!(
            w[0].to_string().starts_with("releases/Big.ipa: ") && w[0].message.contains("25 MiB")
        );
        assert!(w[0].fix.contains("ipa_base_url"), "{}", w[0].fix);
        assert!(host_problems(&[Host::Nginx], &big, || 0).is_empty());
        let huge = vec![("releases/Huge.ipa".to_string(), 101 * 1024 * 1024)];
        assert_eq!(
            host_problems(&[Host::GithubPages, Host::Cloudflare], &huge, || 0).len(),
            2
        );
        assert_eq!(
            host_problems(&[Host::GithubPages], &[], || 2_000_000_000).len(),
            1
        );
    }
}
