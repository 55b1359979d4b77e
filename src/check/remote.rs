//! `check --remote URL`: the deployed copy, over HTTPS, as the iOS install daemon fetches it:
//! no redirects followed, a trusted certificate, the right types, the same manifest bytes.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use ureq::Agent;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

use crate::config::Config;
use crate::limits::{MAX_REMOTE_BODY_BYTES, REMOTE_CHECK_TIMEOUT, REMOTE_REQUEST_TIMEOUT};
use crate::model::App;
use crate::problem::Problem;

const TRIES: u32 = 3;

/// The fix for a file served with the wrong type: the configuration otasite wrote for it.
pub(super) const HOST_CONFIG: &str = "deploy the configuration otasite wrote for this server with the site: \
     .htaccess (Apache), web.config (IIS) and _headers (Netlify, Cloudflare Pages) in the output \
     folder, nginx.conf or Caddyfile from server-config/ included in the server's own; name \
     the host in site.yaml's `hosting:` if its file is missing";

/// What one request got back (headers lower-cased).
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) content_type: String,
    pub(super) location: Option<String>,
    server: String,
    challenge: bool,
    /// `Content-Length`, as sent.
    pub(super) content_length: Option<u64>,
    /// The whole file's size from `Content-Range: bytes 0-0/SIZE` (an answer to a range).
    pub(super) range_total: Option<u64>,
    body: Vec<u8>,
    /// Why the body could not be read whole (too large, broken off).
    body_problem: Option<Problem>,
}

impl Reply {
    /// Whether a bot or DDoS protection answered instead of the file.
    pub(super) fn bot_protection(&self) -> bool {
        self.challenge
            || ((self.status == 403 || self.status == 503)
                && self.server.to_ascii_lowercase().contains("cloudflare"))
    }
}

/// Checks every release's manifest and IPA at `base` (the deployed base URL).
pub(crate) fn check_remote(
    base: &str,
    (out, config): (&Path, &Config),
    apps: &[App],
    ca: Option<&Path>,
    deep: bool,
) -> Result<Vec<Problem>> {
    let base = if base.ends_with('/') {
        base.to_string()
    } else {
        format!("{base}/")
    };
    let agent = agent(ca)?;
    // Downloads (`--deep`) get their own time on top, by size.
    let downloads: Duration = (apps.iter().flat_map(|a| &a.releases))
        .filter(|_| deep)
        .map(|r| super::remote_ipa::deep_timeout(r.ipa.size))
        .sum();
    let deadline = Instant::now() + REMOTE_CHECK_TIMEOUT + downloads;
    let mut p = Vec::new();
    if base.starts_with("http://") {
        p.push(Problem::error(
            "remote-http",
            &base,
            "the deployed site is plain http: iOS installs only from https",
            "serve the site over https (any host here does) and use that address",
        ));
    }
    for r in apps.iter().flat_map(|a| &a.releases) {
        let rel = r.manifest_path();
        let url = format!("{base}{rel}");
        for method in ["HEAD", "GET"] {
            let reply = match fetch(&agent, method, &url, None, deadline) {
                Ok(reply) => reply,
                Err(e) => {
                    // The host is unreachable or untrusted: say so once, not for every file.
                    p.push(e);
                    return Ok(p);
                }
            };
            p.extend(judge(&reply, method, &url, &out.join(&rel)));
        }
        let ipa = super::remote_ipa::IpaTarget::of(r, out, config, &base);
        match ipa.check(&agent, deep, deadline) {
            Ok(found) => p.extend(found),
            Err(e) => {
                p.push(e);
                return Ok(p);
            }
        }
    }
    Ok(p)
}

pub(super) fn agent(ca: Option<&Path>) -> Result<Agent> {
    let mut tls = TlsConfig::builder();
    if let Some(path) = ca {
        let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        anyhow::ensure!(
            !certs.is_empty(),
            "{}: no PEM certificate found",
            path.display()
        );
        tls = tls.root_certs(RootCerts::Specific(Arc::new(certs)));
    }
    Ok(Agent::config_builder()
        .timeout_global(Some(REMOTE_REQUEST_TIMEOUT))
        .max_redirects(0)
        .max_redirects_will_error(false)
        .http_status_as_error(false)
        .tls_config(tls.build())
        .user_agent("otasite-check (like com.apple.appstored)")
        .build()
        .into())
}

/// The finding when the server is too slow: a request not answered whole within
/// [`REMOTE_REQUEST_TIMEOUT`] (headers and body), or the whole check past
/// [`REMOTE_CHECK_TIMEOUT`]. It ends the check, as a slow server would make every other
/// request wait as long.
pub(super) fn too_slow(url: &str, whole_check: bool) -> Problem {
    let message = if whole_check {
        format!(
            "the checks of the deployed copy took over {} s (limits::REMOTE_CHECK_TIMEOUT); \
             the files after this one were not checked",
            REMOTE_CHECK_TIMEOUT.as_secs()
        )
    } else {
        format!(
            "no whole answer within {} s (limits::REMOTE_REQUEST_TIMEOUT): the install daemon \
             gives up on a server this slow",
            REMOTE_REQUEST_TIMEOUT.as_secs()
        )
    };
    Problem::error(
        "remote-slow",
        url,
        message,
        "check that the server and the network are up and fast, then run check again",
    )
}

/// Whether a failed read or request ran out of time (ureq's own timeout, or the socket's).
pub(super) fn timed_out(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
    ) || e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<ureq::Error>())
        .is_some_and(|inner| matches!(inner, ureq::Error::Timeout(_)))
}

/// One request with bounded retries on connection failures; an unreachable, untrusted or slow
/// host becomes the finding to report. Each request gets [`REMOTE_REQUEST_TIMEOUT`] in all
/// (never more than is left until `deadline`), and a timeout is not retried. A GET with
/// `range` asks for that many first bytes, and reads no more whatever the server sends.
pub(super) fn fetch(
    agent: &Agent,
    method: &str,
    url: &str,
    range: Option<u64>,
    deadline: Instant,
) -> Result<Reply, Problem> {
    let mut last = String::new();
    for attempt in 0..TRIES {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(300 * u64::from(attempt)));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(too_slow(url, true));
        }
        let timeout = Some(left.min(REMOTE_REQUEST_TIMEOUT));
        let result = if method == "HEAD" {
            agent
                .head(url)
                .config()
                .timeout_global(timeout)
                .build()
                .call()
        } else if let Some(n) = range {
            agent
                .get(url)
                .header("Range", format!("bytes=0-{}", n.max(1) - 1))
                .config()
                .timeout_global(timeout)
                .build()
                .call()
        } else {
            agent
                .get(url)
                .config()
                .timeout_global(timeout)
                .build()
                .call()
        };
        match result {
            Ok(mut resp) => {
                let header = |name: &str| {
                    resp.headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string()
                };
                let content_type = header("content-type");
                let location = resp
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let server = header("server");
                let content_length = header("content-length").trim().parse().ok();
                let range_total = header("content-range")
                    .rsplit_once('/')
                    .and_then(|(_, total)| total.trim().parse().ok());
                let challenge = resp.headers().contains_key("cf-mitigated");
                let status = resp.status().as_u16();
                let (body, body_problem) = if method == "GET" {
                    match read_body(resp.body_mut(), url, range) {
                        Ok(body) => (body, None),
                        Err(problem) if problem.code == "remote-slow" => {
                            return Err(if Instant::now() >= deadline {
                                too_slow(url, true)
                            } else {
                                problem
                            });
                        }
                        Err(problem) => (Vec::new(), Some(problem)),
                    }
                } else {
                    (Vec::new(), None)
                };
                return Ok(Reply {
                    status,
                    content_type,
                    location,
                    server,
                    challenge,
                    content_length,
                    range_total,
                    body,
                    body_problem,
                });
            }
            Err(ureq::Error::Timeout(_)) => {
                return Err(too_slow(url, Instant::now() >= deadline));
            }
            Err(ureq::Error::Io(e)) if timed_out(&e) => {
                return Err(too_slow(url, Instant::now() >= deadline));
            }
            Err(e) => {
                let text = format!("{e}");
                let tls = matches!(e, ureq::Error::Tls(_) | ureq::Error::Rustls(_))
                    || text.to_ascii_lowercase().contains("certificate");
                if tls {
                    return Err(Problem::error(
                        "remote-tls",
                        url,
                        format!(
                            "the server's certificate is not trusted ({text}): iOS refuses to install from it"
                        ),
                        "use a certificate from a public CA (e.g. Let's Encrypt) that is valid for this host and not expired",
                    ));
                }
                last = text;
            }
        }
    }
    Err(Problem::error(
        "remote-unreachable",
        url,
        format!("no answer after {TRIES} tries: {last}"),
        "check the address, DNS and that the site is deployed",
    ))
}

/// The body as served, decompressed, refused past [`MAX_REMOTE_BODY_BYTES`]; of a request
/// for a `range` (an IPA's first byte) only that much is read, whatever the server sends.
///
/// ureq's own limit counts the bytes on the wire: a small gzip body can inflate to
/// gigabytes, so the decoded bytes are counted here.
fn read_body(body: &mut ureq::Body, url: &str, range: Option<u64>) -> Result<Vec<u8>, Problem> {
    use std::io::Read as _;
    let limit = MAX_REMOTE_BODY_BYTES;
    let mut bytes = Vec::new();
    if let Some(n) = range {
        // A server may ignore the range and send the whole IPA: that is fine for iOS. A body
        // that breaks off is taken as far as it came; one that stalls is too slow.
        return match body.as_reader().take(n).read_to_end(&mut bytes) {
            Err(e) if timed_out(&e) => Err(too_slow(url, false)),
            _ => Ok(bytes),
        };
    }
    let read = body
        .with_config()
        .limit(limit)
        .reader()
        .take(limit + 1)
        .read_to_end(&mut bytes);
    let too_large = || {
        Problem::error(
            "remote-too-large",
            url,
            format!(
                "the answer is larger than {} MiB once decompressed (limits::MAX_REMOTE_BODY_BYTES); \
                 a manifest is a few KiB",
                limit / (1024 * 1024)
            ),
            "serve the manifest built by otasite at this URL, and IPAs with range requests",
        )
    };
    match read {
        Ok(_) if bytes.len() as u64 > limit => Err(too_large()),
        Ok(_) => Ok(bytes),
        // ureq's own limit, on the bytes as sent.
        Err(e)
            if e.get_ref()
                .and_then(|inner| inner.downcast_ref::<ureq::Error>())
                .is_some_and(|inner| matches!(inner, ureq::Error::BodyExceedsLimit(_))) =>
        {
            Err(too_large())
        }
        Err(e) if timed_out(&e) => Err(too_slow(url, false)),
        Err(e) => Err(Problem::error(
            "remote-unreachable",
            url,
            format!("the answer broke off: {e}"),
            "check that the server and the network are up, then run check again",
        )),
    }
}

/// What is wrong with a manifest as served (`local`: the built one).
fn judge(r: &Reply, method: &str, url: &str, local: &Path) -> Vec<Problem> {
    let mut p = Vec::new();
    let redeploy = "deploy the site again (all files of the output folder)";
    if (300..400).contains(&r.status) {
        p.push(Problem::error("remote-redirect", url, format!("{method} answers {} with a redirect to {}: the install daemon does not follow redirects", r.status, r.location.as_deref().unwrap_or("?")), "serve the file at this exact URL (no http→https or www redirect, no download links that redirect)"));
        return p;
    }
    if r.bot_protection() {
        p.push(Problem::warning("remote-bot-protection", url, format!("{method} answers {} from {}: a bot or DDoS protection blocks clients that are not browsers, and so the iOS installer", r.status, r.server), "turn off the challenge for this site's path, or allow the install daemon's requests"));
        return p;
    }
    if r.status != 200 && r.status != 206 {
        p.push(Problem::error(
            "remote-status",
            url,
            format!("{method} answers {}", r.status),
            redeploy,
        ));
        return p;
    }
    if let Some(problem) = &r.body_problem {
        p.push(problem.clone());
        return p;
    }
    let ct = r.content_type.to_ascii_lowercase();
    if ct.starts_with("application/octet-stream") {
        // GitHub Pages and S3 without metadata serve `.plist` so; installs are reported to
        // work, but Apple documents an XML type, so say what was seen without failing.
        p.push(Problem::warning(
            "remote-content-type",
            url,
            format!("the manifest is served as {ct:?} (as GitHub Pages does), not application/xml"),
            "iOS is reported to accept it, but Apple documents text/xml or application/xml: \
                 use a host that takes the generated configuration if installs fail",
        ));
    } else if !ct.contains("xml") {
        p.push(Problem::error(
            "remote-content-type",
            url,
            format!("the manifest is served as {ct:?}, not application/xml"),
            HOST_CONFIG,
        ));
    }
    if method == "GET"
        && let Ok(built) = std::fs::read(local)
        && built != r.body
    {
        p.push(Problem::error(
            "remote-stale",
            url,
            "the deployed manifest differs from the built one",
            redeploy,
        ));
    }
    p
}
