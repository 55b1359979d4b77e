//! Signing `udid.mobileconfig` as CMS SignedData, so that iOS shows it as "Verified" instead of
//! "Not Verified". The certificate and key come from the environment (never from site.yaml,
//! never from inside the site folder, which is published); the signature is made by the
//! `openssl` command at build time: a pure-Rust signer would add an RSA/ECDSA crate and a CMS
//! builder for one optional file, and linking OpenSSL into otasite is not wanted.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, bail};

use crate::config::UdidSigning;

/// PEM certificate to sign with.
pub(crate) const CERT_VAR: &str = "OTASITE_UDID_SIGN_CERT";
/// PEM private key of that certificate.
pub(crate) const KEY_VAR: &str = "OTASITE_UDID_SIGN_KEY";

/// The signing files the environment names, checked: both or neither, existing, and the key
/// outside `site_dir`.
pub(crate) fn signing_from_env(site_dir: &Path) -> Result<Option<UdidSigning>> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let (cert, key) = match (var(CERT_VAR), var(KEY_VAR)) {
        (None, None) => return Ok(None),
        (Some(c), Some(k)) => (PathBuf::from(c), PathBuf::from(k)),
        (Some(_), None) | (None, Some(_)) => bail!(
            "{CERT_VAR} and {KEY_VAR} go together: set both (the PEM certificate and its key) \
             to sign udid.mobileconfig, or neither to publish it unsigned"
        ),
    };
    for (name, path) in [(CERT_VAR, &cert), (KEY_VAR, &key)] {
        if !path.is_file() {
            bail!(
                "{name}={}: no such file; point it at a PEM file",
                path.display()
            );
        }
    }
    let real_key = key
        .canonicalize()
        .with_context(|| format!("{KEY_VAR}={}", key.display()))?;
    let real_site = site_dir
        .canonicalize()
        .with_context(|| format!("the site folder {}", site_dir.display()))?;
    if real_key.starts_with(&real_site) {
        bail!(
            "{KEY_VAR}={}: the signing key is inside the site folder {}, whose files may be \
             published or committed; move the key outside it (e.g. to ~/.config/otasite/) and \
             point {KEY_VAR} there",
            key.display(),
            site_dir.display()
        );
    }
    Ok(Some(UdidSigning { cert, key }))
}

/// `content` signed as CMS SignedData (DER, content attached), by `openssl cms -sign`.
pub(crate) fn sign(content: &[u8], signing: &UdidSigning) -> Result<Vec<u8>> {
    let spawned = Command::new("openssl")
        .args(["cms", "-sign", "-nodetach", "-binary", "-outform", "DER"])
        .arg("-signer")
        .arg(&signing.cert)
        .arg("-inkey")
        .arg(&signing.key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "{CERT_VAR} is set, so udid.mobileconfig is signed with the `openssl` command, which \
             is not installed: install OpenSSL (apt-get install openssl, brew install openssl), \
             or unset {CERT_VAR} and {KEY_VAR} to publish the profile unsigned"
        ),
        Err(e) => return Err(e).context("cannot run `openssl` to sign udid.mobileconfig"),
    };
    // The profile is a few KiB: it fits the pipe, so writing before reading cannot block.
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(content)
            .context("cannot hand udid.mobileconfig to `openssl`")?;
    }
    let out = child
        .wait_with_output()
        .context("`openssl cms -sign` did not finish")?;
    if !out.status.success() || out.stdout.is_empty() {
        bail!(
            "`openssl cms -sign` could not sign udid.mobileconfig with {CERT_VAR}={} and \
             {KEY_VAR}={}: {}; check that both are PEM files and that the key belongs to the \
             certificate",
            signing.cert.display(),
            signing.key.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}
