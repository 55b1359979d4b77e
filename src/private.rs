//! Private releases: published under an unguessable, stable path derived from a secret, and
//! left out of every listing (index, app pages, feeds, `releases.json`).
//!
//! The secret comes from `OTASITE_SECRET` or a file named by `secret_file` (outside the site);
//! never from site.yaml itself, which usually lives in a repository.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::problem::Problem;

/// With `ipa_base_url`, a private release's page and manifest are still under the secret
/// path, but its IPA is at `ipa_base_url` plus its path in the releases folder: an address
/// anyone who knows (or guesses) the folder layout can download from. Said once per release,
/// as the build cannot tell whether the bucket is listable or guarded.
/// `private_ipas`: the source paths of the private releases' IPAs.
pub(crate) fn public_ipa_problems<'a>(
    config: &Config,
    private_ipas: impl Iterator<Item = &'a Path>,
) -> Vec<Problem> {
    let Some(base) = &config.ipa_base_url else {
        return Vec::new();
    };
    private_ipas
        .map(|ipa| {
            Problem::warning(
                "private-ipa-public",
                ipa.display().to_string(),
                format!(
                    "this release is private, but its IPA is served from ipa_base_url ({base}) at \
                     its path in the releases folder, not under the secret path: anyone who \
                     knows or guesses that path can download it"
                ),
                "give private builds' folders unguessable names, keep the bucket unlistable, or \
                 remove ipa_base_url so that the IPA is published under the secret path",
            )
        })
        .collect()
}

/// Shortest secret accepted: a guessable secret makes guessable paths.
pub(crate) const MIN_SECRET_LEN: usize = 16;

/// Reads the secret: `OTASITE_SECRET`, else `secret_file`.
pub(crate) fn load_secret(config: &Config, site_dir: &Path, output_dir: &Path) -> Result<Vec<u8>> {
    let secret = match std::env::var("OTASITE_SECRET") {
        Ok(s) if !s.trim().is_empty() => s.trim().as_bytes().to_vec(),
        _ => match &config.secret_file {
            Some(file) => {
                let path = site_dir.join(file);
                check_unpublished(&path, site_dir, output_dir)?;
                // Bounded, and a regular file only: `/dev/zero` or a FIFO would never end.
                let text = crate::limits::read_text_limited(
                    &path,
                    crate::limits::MAX_CONFIG_BYTES,
                    "secret file",
                )
                .with_context(|| format!("cannot read the secret file {}", path.display()))?;
                text.trim().as_bytes().to_vec()
            }
            None => bail!(
                "private releases need a secret: set OTASITE_SECRET (e.g. a CI secret), or \
                 `secret_file:` in site.yaml naming a file outside the repository"
            ),
        },
    };
    if secret.len() < MIN_SECRET_LEN {
        bail!(
            "the secret is shorter than {MIN_SECRET_LEN} characters; use a long random one (e.g. `openssl rand -hex 32`)"
        );
    }
    Ok(secret)
}

/// The secret file must not be where the site publishes files as they are: the output folder
/// and `static/` (compared with links resolved: a link into either counts).
fn check_unpublished(path: &Path, site_dir: &Path, output_dir: &Path) -> Result<()> {
    let static_dir = site_dir.join("static");
    for (what, published) in [("the output folder", output_dir), ("static/", &static_dir)] {
        if crate::paths::overlap(path, published) {
            bail!(
                "{}: the secret file must not be inside {what} ({}), which is published; keep \
                 it outside the site (e.g. a CI secret file) and name it in `secret_file`",
                path.display(),
                published.display()
            );
        }
    }
    Ok(())
}

/// `p/<32 hex>/`: HMAC-SHA256 of the release's identity under the secret.
pub(crate) fn private_dir(secret: &[u8], bundle_id: &str, version: &str, build: &str) -> String {
    let mac = hmac_sha256(
        secret,
        format!("otasite-private-v1\0{bundle_id}\0{version}\0{build}").as_bytes(),
    );
    format!("p/{}/", &crate::ipa::to_hex(&mac)[..32])
}

/// HMAC (RFC 2104) with SHA-256.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    let outer = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    let mut out = [0u8; 32];
    out.copy_from_slice(&outer);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            crate::ipa::to_hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn paths_are_stable_and_depend_on_the_secret() {
        let a = private_dir(b"0123456789abcdef", "com.a", "1.0", "1");
        assert_eq!(a, private_dir(b"0123456789abcdef", "com.a", "1.0", "1"));
        assert_ne!(a, private_dir(b"0123456789abcdeX", "com.a", "1.0", "1"));
        assert_ne!(a, private_dir(b"0123456789abcdef", "com.a", "1.0", "2"));
        assert!(a.starts_with("p/") && a.len() == 2 + 32 + 1);
    }
}
