//! Host limits that would make a deploy fail or an install break, as build warnings.

use crate::config::Host;

/// Cloudflare Pages refuses files over 25 MiB.
pub const CLOUDFLARE_MAX_FILE: u64 = 25 * 1024 * 1024;
/// GitHub refuses files over 100 MiB.
pub const GITHUB_MAX_FILE: u64 = 100 * 1024 * 1024;
/// GitHub Pages sites may be at most 1 GB.
pub const GITHUB_MAX_SITE: u64 = 1_000_000_000;

/// A host limit the site breaks: the file (empty for the whole site) and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostLimit {
    pub file: String,
    pub message: String,
}

impl std::fmt::Display for HostLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.file.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

/// Limits of the selected hosts that the site breaks; `ipas` are (path to show, size).
/// `site_bytes` is asked for only when a host limits the whole site's size.
pub fn host_warnings(
    hosts: &[Host],
    ipas: &[(String, u64)],
    site_bytes: impl FnOnce() -> u64,
) -> Vec<HostLimit> {
    let mut warnings = Vec::new();
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let mut warn = |file: &str, message: String| {
        warnings.push(HostLimit {
            file: file.to_string(),
            message,
        });
    };
    for (path, size) in ipas {
        if hosts.contains(&Host::Cloudflare) && *size > CLOUDFLARE_MAX_FILE {
            warn(
                path,
                format!(
                    "{:.1} MiB is over Cloudflare Pages' 25 MiB file limit; the deploy will fail. \
                 Serve the site from another host, or remove `cloudflare` from `hosting`",
                    mib(*size)
                ),
            );
        }
        if hosts.contains(&Host::GithubPages) && *size > GITHUB_MAX_FILE {
            warn(
                path,
                format!(
                    "{:.1} MiB is over GitHub's 100 MiB file limit; GitHub Pages cannot publish it. \
                 Use another host, or remove `github-pages` from `hosting`",
                    mib(*size)
                ),
            );
        }
    }
    let site_bytes = if hosts.contains(&Host::GithubPages) {
        site_bytes()
    } else {
        0
    };
    if site_bytes > GITHUB_MAX_SITE {
        warn(
            "",
            format!(
                "the site is {:.2} GB, over GitHub Pages' 1 GB limit; remove old releases or use \
             another host",
                site_bytes as f64 / 1e9
            ),
        );
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_only_for_selected_hosts() {
        let big = vec![("releases/Big.ipa".to_string(), 30 * 1024 * 1024)];
        let w = host_warnings(&[Host::Cloudflare], &big, || 0);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].file, "releases/Big.ipa");
        assert!(w[0].to_string().contains("releases/Big.ipa: ") && w[0].message.contains("25 MiB"));
        assert!(host_warnings(&[Host::Nginx], &big, || 0).is_empty());
        let huge = vec![("releases/Huge.ipa".to_string(), 101 * 1024 * 1024)];
        assert_eq!(
            host_warnings(&[Host::GithubPages, Host::Cloudflare], &huge, || 0).len(),
            2
        );
        assert_eq!(
            host_warnings(&[Host::GithubPages], &[], || 2_000_000_000).len(),
            1
        );
    }
}
