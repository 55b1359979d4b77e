//! `check --remote`: each manifest's IPA, at the URL the manifest names (in the site, or at
//! `ipa_base_url`), as the install daemon fetches it: 200 with no redirect, served as
//! `application/octet-stream`, and as long as the IPA the build read. Only headers are
//! fetched (HEAD, or a GET of the first byte when HEAD is refused); `--deep` downloads the IPA,
//! streaming, and compares its SHA-256.

use std::io::Read as _;
use std::path::Path;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use ureq::Agent;

use super::remote::{HOST_CONFIG, Reply, fetch, timed_out, too_slow};
use crate::config::Config;
use crate::limits::{REMOTE_DEEP_BASE_TIMEOUT, REMOTE_DEEP_MIN_BYTES_PER_SEC};
use crate::model::Release;
use crate::problem::Problem;
use crate::urls::SiteUrls;

/// Types the install daemon takes for an IPA (DESIGN: send `application/octet-stream`).
const IPA_TYPES: [&str; 2] = ["application/octet-stream", "application/x-itunes-ipa"];

/// Answers to HEAD that mean "ask with GET" rather than "not there".
const HEAD_REFUSED: [u16; 3] = [403, 405, 501];

/// One IPA to check: where it is asked for, and what the build knows of it.
pub(super) struct IpaTarget<'a> {
    url: String,
    /// At `ipa_base_url` (object storage), not in the site.
    external: bool,
    size: u64,
    sha256: &'a str,
}

impl<'a> IpaTarget<'a> {
    /// The IPA the built manifest of `r` names; an IPA in the site is asked for under the
    /// deployed address `base` (which may differ from `base_url`, e.g. a staging host).
    pub(super) fn of(r: &'a Release, out: &Path, config: &Config, base: &str) -> Self {
        let urls = SiteUrls::of(config);
        let named = manifest_ipa_url(&out.join(r.manifest_path()))
            .unwrap_or_else(|| urls.ipa(&r.ipa_path(), &r.source_segments));
        let (url, external) = match named.strip_prefix(config.base_url.as_str()) {
            Some(rel) => (format!("{base}{rel}"), false),
            None => (named, true),
        };
        IpaTarget {
            url,
            external,
            size: r.ipa.size,
            sha256: &r.ipa.sha256,
        }
    }
}

/// Time a `--deep` download of an IPA of `size` bytes may take.
pub(super) fn deep_timeout(size: u64) -> Duration {
    REMOTE_DEEP_BASE_TIMEOUT + Duration::from_secs(size / REMOTE_DEEP_MIN_BYTES_PER_SEC)
}

impl IpaTarget<'_> {
    /// The findings about this IPA; `Err` when the host cannot be reached at all (which ends
    /// the check, as it would for every other file).
    pub(super) fn check(
        &self,
        agent: &Agent,
        deep: bool,
        deadline: Instant,
    ) -> Result<Vec<Problem>, Problem> {
        let mut reply = fetch(agent, "HEAD", &self.url, None, deadline)?;
        let mut method = "HEAD";
        if HEAD_REFUSED.contains(&reply.status) {
            reply = fetch(agent, "GET", &self.url, Some(1), deadline)?;
            method = "GET";
        }
        let p = self.judge(&reply, method);
        if deep && p.is_empty() {
            return Ok(self.download(agent).into_iter().collect());
        }
        Ok(p)
    }

    fn fix_type(&self) -> &'static str {
        if self.external {
            "set the object's Content-Type to application/octet-stream where the IPAs are \
             uploaded (e.g. `aws s3 cp --content-type application/octet-stream`, or the \
             bucket's metadata), then purge the CDN's copy"
        } else {
            HOST_CONFIG
        }
    }

    fn fix_upload(&self) -> &'static str {
        if self.external {
            "upload the IPA from the releases folder again, at the path the manifest names \
             (ipa_base_url plus its path in the releases folder), and purge the CDN's copy"
        } else {
            "deploy the site again (all files of the output folder)"
        }
    }

    fn judge(&self, r: &Reply, method: &str) -> Vec<Problem> {
        let url = &self.url;
        if (300..400).contains(&r.status) {
            return vec![Problem::error(
                "remote-redirect",
                url,
                format!(
                    "{method} answers {} with a redirect to {}: the install daemon does not \
                     follow redirects for the IPA",
                    r.status,
                    r.location.as_deref().unwrap_or("?")
                ),
                if self.external {
                    "set ipa_base_url to the address the files are served at without a \
                     redirect (the bucket's or CDN's own https:// address, not a download link \
                     such as GitHub Releases')"
                } else {
                    "serve the file at this exact URL (no http→https or www redirect)"
                },
            )];
        }
        if r.bot_protection() {
            return vec![Problem::warning(
                "remote-bot-protection",
                url,
                format!(
                    "{method} answers {}: a bot or DDoS protection blocks clients that are \
                     not browsers, and so the iOS installer",
                    r.status
                ),
                "turn off the challenge for the IPAs' path",
            )];
        }
        let ok = r.status == 200 || (method == "GET" && r.status == 206);
        if !ok {
            return vec![Problem::error(
                "remote-status",
                url,
                format!(
                    "{method} answers {}: iOS says \"Unable to download app\"",
                    r.status
                ),
                self.fix_upload(),
            )];
        }
        let mut p = Vec::new();
        let ct = r.content_type.to_ascii_lowercase();
        if !IPA_TYPES.iter().any(|t| ct.starts_with(t)) {
            p.push(Problem::error(
                "remote-content-type",
                url,
                format!("the IPA is served as {ct:?}, not application/octet-stream"),
                self.fix_type(),
            ));
        }
        // A 206 tells the whole size in Content-Range; a 200 (HEAD, or a GET whose range was
        // ignored) in Content-Length.
        let served = if r.status == 206 {
            r.range_total
        } else {
            r.content_length
        };
        match served {
            Some(n) if n == self.size => {}
            Some(n) => p.push(Problem::error(
                "remote-ipa-size",
                url,
                format!(
                    "the IPA served is {n} bytes, but the one built from is {} bytes: it is \
                     another build (or a broken upload), and iOS rejects it",
                    self.size
                ),
                self.fix_upload(),
            )),
            None => p.push(Problem::warning(
                "remote-ipa-size",
                url,
                "the IPA is served without its length (no Content-Length): iOS shows no \
                 progress, and a broken-off download is not noticed until it is unzipped",
                "serve the IPA as a plain file (object storage and static hosts send its length)",
            )),
        }
        p
    }

    /// Downloads the IPA whole, streaming, within a time that grows with its size.
    fn download(&self, agent: &Agent) -> Option<Problem> {
        let url = &self.url;
        let limit = deep_timeout(self.size);
        let broken = |why: String| {
            Problem::error(
                "remote-unreachable",
                url,
                format!("the IPA's download broke off: {why}"),
                "check that the server and the network are up, then run check again",
            )
        };
        let slow = || {
            let mut p = too_slow(url, false);
            p.message = format!(
                "the IPA was not downloaded whole within {} s (limits::REMOTE_DEEP_BASE_TIMEOUT \
                 plus a second per REMOTE_DEEP_MIN_BYTES_PER_SEC)",
                limit.as_secs()
            );
            p
        };
        let resp = agent
            .get(url)
            .config()
            .timeout_global(Some(limit))
            .build()
            .call();
        let mut resp = match resp {
            Ok(resp) if resp.status().as_u16() == 200 => resp,
            Ok(resp) => return Some(broken(format!("GET answers {}", resp.status()))),
            Err(ureq::Error::Timeout(_)) => return Some(slow()),
            Err(e) => return Some(broken(e.to_string())),
        };
        let mut reader = resp
            .body_mut()
            .with_config()
            .limit(self.size.saturating_add(1))
            .reader()
            .take(self.size.saturating_add(1));
        let mut hash = Sha256::new();
        let mut got = 0u64;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    hash.update(&buf[..n]);
                    got += n as u64;
                }
                Err(e) if timed_out(&e) => return Some(slow()),
                // Past the expected size: ureq's limit; the size was judged from the headers.
                Err(_) if got >= self.size => break,
                Err(e) => return Some(broken(e.to_string())),
            }
        }
        let sha = crate::ipa::to_hex(&hash.finalize());
        (got != self.size || !sha.eq_ignore_ascii_case(self.sha256)).then(|| {
            Problem::error(
                "remote-ipa-hash",
                url,
                format!(
                    "the IPA downloaded ({got} bytes, SHA-256 {sha}) is not the one built from \
                     ({} bytes, SHA-256 {}): iOS rejects it against the manifest's sha256",
                    self.size, self.sha256
                ),
                self.fix_upload(),
            )
        })
    }
}

/// The `software-package` URL of a built manifest, if it can be read.
fn manifest_ipa_url(path: &Path) -> Option<String> {
    let bytes =
        crate::limits::read_limited(path, crate::limits::MAX_MANIFEST_BYTES, "manifest").ok()?;
    let value = plist::Value::from_reader(std::io::Cursor::new(bytes)).ok()?;
    let items = value.as_dictionary()?.get("items")?.as_array()?;
    let assets = items.first()?.as_dictionary()?.get("assets")?.as_array()?;
    assets.iter().find_map(|a| {
        let a = a.as_dictionary()?;
        (a.get("kind")?.as_string()? == "software-package")
            .then(|| a.get("url")?.as_string().map(str::to_string))?
    })
}
