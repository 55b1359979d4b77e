//! Host limits that would make a deploy fail or an install break, as build warnings.

use crate::config::Host;

/// Cloudflare Pages refuses files over 25 MiB.
pub const CLOUDFLARE_MAX_FILE: u64 = 25 * 1024 * 1024;
/// GitHub refuses files over 100 MiB.
pub const GITHUB_MAX_FILE: u64 = 100 * 1024 * 1024;
/// GitHub Pages sites may be at most 1 GB.
pub const GITHUB_MAX_SITE: u64 = 1_000_000_000;

/// Warnings for the selected hosts; `ipas` are (source path shown to the user, size).
pub fn host_warnings(hosts: &[Host], ipas: &[(String, u64)], site_bytes: u64) -> Vec<String> {
    let mut warnings = Vec::new();
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    for (path, size) in ipas {
        if hosts.contains(&Host::Cloudflare) && *size > CLOUDFLARE_MAX_FILE {
            warnings.push(format!(
                "{path}: {:.1} MiB is over Cloudflare Pages' 25 MiB file limit; the deploy will \
                 fail. Serve the site from another host, or remove `cloudflare` from `hosting`",
                mib(*size)
            ));
        }
        if hosts.contains(&Host::GithubPages) && *size > GITHUB_MAX_FILE {
            warnings.push(format!(
                "{path}: {:.1} MiB is over GitHub's 100 MiB file limit; GitHub Pages cannot \
                 publish it. Use another host, or remove `github-pages` from `hosting`",
                mib(*size)
            ));
        }
    }
    if hosts.contains(&Host::GithubPages) && site_bytes > GITHUB_MAX_SITE {
        warnings.push(format!(
            "the site is {:.2} GB, over GitHub Pages' 1 GB limit; remove old releases or use \
             another host",
            site_bytes as f64 / 1e9
        ));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_only_for_selected_hosts() {
        let big = vec![("releases/Big.ipa".to_string(), 30 * 1024 * 1024)];
        let w = host_warnings(&[Host::Cloudflare], &big, 0);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("releases/Big.ipa") && w[0].contains("25 MiB"));
        assert!(host_warnings(&[Host::Nginx], &big, 0).is_empty());
        let huge = vec![("releases/Huge.ipa".to_string(), 101 * 1024 * 1024)];
        assert_eq!(
            host_warnings(&[Host::GithubPages, Host::Cloudflare], &huge, 0).len(),
            2
        );
        assert_eq!(
            host_warnings(&[Host::GithubPages], &[], 2_000_000_000).len(),
            1
        );
    }
}
