//! `site.yaml`: strict parsing, defaults and validation.
//!
//! `Config::parse` never touches the disk; `Config::load` reads the file and calls it. Unknown
//! keys are errors (with the key and its line), because a silently ignored typo in a deploy
//! config is found only by a tester whose install fails.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use serde::Deserialize;
use url::Url;

use crate::limits;

/// The configuration file of a site folder.
pub(crate) const CONFIG_FILE: &str = "site.yaml";

/// The web hosts otasite writes configuration for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Host {
    Nginx,
    Apache,
    Iis,
    Netlify,
    Cloudflare,
    GithubPages,
    Vercel,
    Caddy,
}

impl Host {
    pub const ALL: [Host; 8] = [
        Host::Nginx,
        Host::Apache,
        Host::Iis,
        Host::Netlify,
        Host::Cloudflare,
        Host::GithubPages,
        Host::Vercel,
        Host::Caddy,
    ];
}

/// `site.yaml` exactly as written; every field optional so that defaults and "required"
/// checks happen in one place, with messages of our own.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawConfig {
    title: Option<String>,
    description: Option<String>,
    base_url: Option<String>,
    ipa_base_url: Option<String>,
    releases_dir: Option<PathBuf>,
    output_dir: Option<PathBuf>,
    server_config_dir: Option<PathBuf>,
    theme: Option<String>,
    language: Option<String>,
    private: Option<bool>,
    secret_file: Option<PathBuf>,
    hosting: Option<Vec<Host>>,
    noindex: Option<bool>,
    amp: Option<bool>,
    udid: Option<RawUdid>,
}

/// The `udid:` block as written.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawUdid {
    contact: Option<String>,
}

/// Device registration (`udid:` in site.yaml): a page and a profile that hand a tester their
/// device's UDID, and where they send it.
#[derive(Debug, Clone)]
pub struct UdidConfig {
    /// `mailto:` address or `https://` URL the tester sends the UDID to.
    pub contact: Url,
    /// Sign `udid.mobileconfig` (set from the environment by the build, never from site.yaml).
    pub signing: Option<UdidSigning>,
}

/// The certificate and key `udid.mobileconfig` is signed with (PEM files outside the site).
#[derive(Debug, Clone)]
pub struct UdidSigning {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A validated site configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub title: String,
    pub description: Option<String>,
    /// Absolute `https://` URL whose path ends with `/`.
    pub base_url: Url,
    /// Where the IPAs are served from instead of the site (a bucket behind a CDN): absolute
    /// `https://`, ending with `/`. Each IPA's URL is this plus its path relative to the
    /// releases folder, and the IPA is not copied into the output.
    pub ipa_base_url: Option<Url>,
    pub releases_dir: PathBuf,
    /// The bucket the releases are in, when `releases_dir` is one (`s3://bucket/prefix/`,
    /// with a trailing slash); `releases_dir` is then [`bucket_folder`], where the build
    /// keeps its copy of the bucket's notes.
    pub releases_bucket: Option<String>,
    pub output_dir: PathBuf,
    /// Where server-side snippets (nginx, Caddy) go; never inside the web root.
    pub server_config_dir: PathBuf,
    pub theme: String,
    /// Language of the pages and the theme's strings (`en`, `de`, or a theme's own).
    pub language: String,
    /// Every release private unless its notes say `private: false`.
    pub private: bool,
    /// Where the secret for private paths is (when `OTASITE_SECRET` is not set).
    pub secret_file: Option<PathBuf>,
    /// The hosts whose files are written: those `hosting:` names, else all of them.
    pub hosting: Vec<Host>,
    /// Whether site.yaml has a `hosting:` line: only then are the limits of its hosts (file and
    /// site sizes) warned about, as only then is it known where the site goes.
    pub hosting_named: bool,
    pub noindex: bool,
    /// Pages are valid AMP (the default; they need no AMP runtime either way); `amp: false`
    /// writes plain HTML5 pages.
    pub amp: bool,
    /// Device registration, off unless site.yaml has a `udid:` block.
    pub udid: Option<UdidConfig>,
}

impl Config {
    /// Reads and parses `SITE_DIR/site.yaml`.
    pub fn load(site_dir: &Path) -> Result<Config> {
        let path = site_dir.join(CONFIG_FILE);
        // Something else by that name (a folder, a named pipe) is refused when it is opened.
        if !path.exists() {
            bail!(
                "{}: no site.yaml here. Create one with at least `title:` and `base_url:` \
                 (or run `otasite init {}`)",
                path.display(),
                site_dir.display()
            );
        }
        let text = limits::read_text_limited(&path, limits::MAX_CONFIG_BYTES, "site.yaml")?;
        Config::parse(&text, &path)
    }

    /// Parses the text of a `site.yaml`; `file` is used only in messages.
    pub fn parse(text: &str, file: &Path) -> Result<Config> {
        let raw: RawConfig = if text.trim().is_empty() {
            RawConfig::default()
        } else {
            serde_yaml_ng::from_str(text)
                .map_err(|e| crate::yaml::error_in(file, 0, Some(text), &e))?
        };
        let at = |key: &str| match key_line(text, key) {
            Some(line) => format!("{}:{line}", file.display()),
            None => file.display().to_string(),
        };

        let title = match raw.title.map(|t| t.trim().to_string()) {
            Some(t) if !t.is_empty() => t,
            _ => bail!(
                "{}: `title` is required: add a line such as `title: Acme Beta`",
                at("title")
            ),
        };
        let base_url = match raw.base_url {
            Some(u) => {
                parse_base_url(&u).with_context(|| format!("{}: `base_url`", at("base_url")))?
            }
            None => bail!(
                "{}: `base_url` is required: add the https:// address the site will be \
                 published at, e.g. `base_url: https://beta.example.com/`",
                file.display()
            ),
        };
        let ipa_base_url = match raw.ipa_base_url {
            Some(u) => Some(
                parse_ipa_base_url(&u)
                    .with_context(|| format!("{}: `ipa_base_url`", at("ipa_base_url")))?,
            ),
            None => None,
        };
        let theme = raw.theme.unwrap_or_else(|| "default".into());
        if !is_simple_name(&theme) {
            bail!(
                "{}: `theme` must be a folder name under themes/ (letters, digits, `-`, `_`), \
                 got {theme:?}",
                at("theme")
            );
        }
        let language = raw.language.unwrap_or_else(|| "en".into());
        if !is_simple_name(&language) {
            bail!(
                "{}: `language` must be a language code such as `en` or `de`, got {language:?}",
                at("language")
            );
        }
        let (releases_dir, releases_bucket) = releases(raw.releases_dir, &at("releases_dir"))?;
        let hosting_named = raw.hosting.is_some();
        let mut hosting = raw.hosting.unwrap_or_else(|| Host::ALL.to_vec());
        // Each host once, in the order first named: `[nginx, apache, nginx]` is two hosts.
        let mut named = std::collections::HashSet::new();
        hosting.retain(|h| named.insert(*h));

        Ok(Config {
            title,
            description: raw.description.filter(|d| !d.trim().is_empty()),
            base_url,
            ipa_base_url,
            releases_dir,
            releases_bucket,
            output_dir: raw.output_dir.unwrap_or_else(|| "public".into()),
            server_config_dir: raw
                .server_config_dir
                .unwrap_or_else(|| "server-config".into()),
            theme,
            language,
            private: raw.private.unwrap_or(false),
            secret_file: raw.secret_file,
            hosting,
            hosting_named,
            noindex: raw.noindex.unwrap_or(true),
            amp: raw.amp.unwrap_or(true),
            udid: match raw.udid {
                Some(u) => Some(udid(u, text, file)?),
                None => None,
            },
        })
    }
}

/// Validates the `udid:` block: its `contact` is where testers send their UDID.
fn udid(raw: RawUdid, text: &str, file: &Path) -> Result<UdidConfig> {
    let at = match nested_key_line(text, "udid", "contact").or_else(|| key_line(text, "udid")) {
        Some(line) => format!("{}:{line}", file.display()),
        None => file.display().to_string(),
    };
    const EXAMPLE: &str = "e.g. `contact: mailto:qa@example.com` or \
                           `contact: https://forms.example.com/devices`";
    let Some(contact) = raw.contact.map(|c| c.trim().to_string()) else {
        bail!(
            "{at}: `udid` needs a `contact:` line saying where testers send their UDID, indented \
             under `udid:`, {EXAMPLE}"
        );
    };
    let url = Url::parse(&contact).map_err(|e| {
        anyhow::anyhow!(
            "{at}: `udid.contact` {contact:?} is not a mailto: address or https:// URL ({e}); \
             {EXAMPLE}"
        )
    })?;
    match url.scheme() {
        "mailto" if url.path().contains('@') && url.query().is_none() => {}
        "mailto" => bail!(
            "{at}: `udid.contact` {contact:?} must be one address without `?` (the page adds \
             the subject and the UDID), {EXAMPLE}"
        ),
        "https" if url.host_str().is_some_and(|h| !h.is_empty()) && url.fragment().is_none() => {}
        _ => bail!(
            "{at}: `udid.contact` {contact:?} must start with mailto: or https:// (no fragment), \
             {EXAMPLE}"
        ),
    }
    Ok(UdidConfig {
        contact: url,
        signing: None,
    })
}

/// The 1-based line of `child:` in the block of the top-level `parent:`.
fn nested_key_line(text: &str, parent: &str, child: &str) -> Option<usize> {
    let start = key_line(text, parent)?;
    text.lines()
        .enumerate()
        .skip(start)
        .take_while(|(_, l)| l.trim().is_empty() || l.starts_with([' ', '\t']))
        .find(|(_, l)| {
            l.trim_start()
                .strip_prefix(child)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map(|(i, _)| i + 1)
}

/// The releases folder, or the bucket and the folder that stands for it.
fn releases(raw: Option<PathBuf>, at: &str) -> Result<(PathBuf, Option<String>)> {
    let Some(raw) = raw else {
        return Ok(("releases".into(), None));
    };
    let text = raw.to_string_lossy();
    if !crate::remote::is_bucket_url(&text) {
        return Ok((raw, None));
    }
    let url =
        crate::remote::parse_bucket_url(&text).with_context(|| format!("{at}: `releases_dir`"))?;
    Ok((bucket_folder(url.as_str()), Some(url.to_string())))
}

/// The folder (relative to the site) that stands for the bucket at `url`: a build keeps its
/// copy of the bucket's notes and images there.
pub(crate) fn bucket_folder(url: &str) -> PathBuf {
    use sha2::Digest as _;
    let id = crate::ipa::to_hex(&sha2::Sha256::digest(url.as_bytes()));
    PathBuf::from(crate::paths::CACHE_DIR)
        .join("bucket")
        .join(&id[..16])
        .join("files")
}

impl Config {
    /// The hosts whose limits the site is held to: the ones site.yaml names (none without a
    /// `hosting:` line, when files for every host are written but no host is assumed).
    pub(crate) fn named_hosts(&self) -> &[Host] {
        if self.hosting_named {
            &self.hosting
        } else {
            &[]
        }
    }
}

/// Like [`parse_base_url`], but accepting `http://` too: for the dev server's local address,
/// never for a published site.
pub(crate) fn parse_base_url_allowing_http(input: &str) -> Result<Url> {
    match input.trim().strip_prefix("http://") {
        Some(rest) => {
            let mut url = parse_base_url(&format!("https://{rest}"))?;
            url.set_scheme("http")
                .map_err(|_| anyhow::anyhow!("{input:?} is not a valid URL"))?;
            Ok(url)
        }
        None => parse_base_url(input),
    }
}

/// Validates a base URL and normalises it to end with `/`.
///
/// Only `https://` is accepted: iOS refuses to fetch a manifest or an IPA over plain HTTP
/// (App Transport Security), so an http site would build fine and never install.
pub(crate) fn parse_base_url(input: &str) -> Result<Url> {
    let input = input.trim();
    let mut url = Url::parse(input).map_err(|e| {
        anyhow::anyhow!(
            "{input:?} is not an absolute URL ({e}); write it in full, e.g. https://beta.example.com/"
        )
    })?;
    if url.scheme() != "https" {
        bail!(
            "{input:?} must start with https://: iOS installs apps over the air only from \
             HTTPS addresses (App Transport Security), so an {}:// site could never install",
            url.scheme()
        );
    }
    if url.host_str().is_none_or(str::is_empty) {
        bail!("{input:?} has no host name");
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!("{input:?} must not have a query (`?`) or fragment (`#`)");
    }
    if !url.username().is_empty() || url.password().is_some() {
        bail!("{input:?} must not contain a user name or password");
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Validates `ipa_base_url` (or `--ipa-base-url`) as [`parse_base_url`] does a base URL:
/// iOS fetches the IPA under the same rules as the manifest (https, no redirect), and a query
/// or fragment would end up in the middle of every IPA's URL.
pub(crate) fn parse_ipa_base_url(input: &str) -> Result<Url> {
    parse_base_url(input).map_err(|e| {
        anyhow::anyhow!(
            "{e:#} (it is the public https:// address of the folder, bucket or CDN the IPAs are \
             uploaded to, e.g. https://cdn.example.com/builds/)"
        )
    })
}

fn is_simple_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The 1-based line of a top-level `key:` in YAML text, for messages about its value.
pub(crate) fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(text, Path::new("site.yaml"))
    }

    #[test]
    fn defaults_fill_in() {
        let c = parse("title: Acme\nbase_url: https://beta.example.com\n").unwrap();
        assert_eq!(c.base_url.as_str(), "https://beta.example.com/");
        assert_eq!(c.releases_dir, PathBuf::from("releases"));
        assert_eq!(c.output_dir, PathBuf::from("public"));
        assert_eq!(c.server_config_dir, PathBuf::from("server-config"));
        assert_eq!(c.theme, "default");
        assert!(c.noindex);
        assert_eq!(c.hosting.len(), 8);
        assert!(c.named_hosts().is_empty());
    }

    #[test]
    fn sub_path_keeps_trailing_slash() {
        let c = parse("title: A\nbase_url: https://org.github.io/beta\n").unwrap();
        assert_eq!(c.base_url.as_str(), "https://org.github.io/beta/");
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let e = parse("title: A\nbase_url: https://x.example/\nnoindx: false\n").unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("site.yaml:3"), "{msg}");
        assert!(msg.contains("noindx"), "{msg}");
    }

    #[test]
    fn http_is_refused_with_reason() {
        let e = parse("title: A\nbase_url: http://x.example/\n").unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("site.yaml:2"), "{msg}");
        assert!(msg.contains("App Transport Security"), "{msg}");
    }

    #[test]
    fn missing_title_and_base_url() {
        assert!(format!("{:#}", parse("").unwrap_err()).contains("`title` is required"));
        let e = parse("title: A\n").unwrap_err();
        assert!(format!("{e:#}").contains("`base_url` is required"));
    }

    #[test]
    fn unknown_host_is_an_error() {
        let e =
            parse("title: A\nbase_url: https://x.example/\nhosting: [nginx, ngnix]\n").unwrap_err();
        assert!(format!("{e:#}").contains("ngnix"));
    }

    #[test]
    fn hosting_names_parse() {
        let c = parse("title: A\nbase_url: https://x.example/\nhosting: [github-pages, iis]\n")
            .unwrap();
        assert_eq!(c.hosting, vec![Host::GithubPages, Host::Iis]);
        assert_eq!(c.named_hosts(), [Host::GithubPages, Host::Iis]);
        let c = parse("title: A\nbase_url: https://x.example/\nhosting: [nginx, apache, nginx]\n")
            .unwrap();
        assert_eq!(c.hosting, vec![Host::Nginx, Host::Apache]);
    }

    #[test]
    fn ipa_base_url_is_validated_and_normalised() {
        let c = parse("title: A\nbase_url: https://x.example/\n").unwrap();
        assert!(c.ipa_base_url.is_none());
        let c =
            parse("title: A\nbase_url: https://x.example/\nipa_base_url: https://cdn.example/b\n")
                .unwrap();
        assert_eq!(
            c.ipa_base_url.map(String::from).as_deref(),
            Some("https://cdn.example/b/")
        );
        for bad in [
            "http://cdn.example/",
            "cdn.example/b",
            "https://cdn.example/b?x=1",
            "https://cdn.example/b#f",
            "https://u:p@cdn.example/",
        ] {
            let text = format!("title: A\nbase_url: https://x.example/\nipa_base_url: {bad}\n");
            let msg = format!("{:#}", parse(&text).unwrap_err());
            assert!(
                msg.contains("site.yaml:3") && msg.contains("ipa_base_url"),
                "{msg}"
            );
        }
    }

    #[test]
    fn udid_is_off_by_default_and_validated() {
        let c = parse("title: A\nbase_url: https://x.example/\n").unwrap();
        assert!(c.udid.is_none());
        let c = parse(
            "title: A\nbase_url: https://x.example/\nudid:\n  contact: mailto:qa@x.example\n",
        )
        .unwrap();
        assert_eq!(c.udid.unwrap().contact.as_str(), "mailto:qa@x.example");
        let c = parse(
            "title: A\nbase_url: https://x.example/\nudid:\n  contact: https://f.example/d?x=1\n",
        )
        .unwrap();
        assert_eq!(c.udid.unwrap().contact.as_str(), "https://f.example/d?x=1");
        for (bad, line) in [
            ("udid:\n  contact: http://f.example/\n", 4),
            ("udid:\n  contact: qa@x.example\n", 4),
            ("udid:\n  contact: mailto:qa@x.example?subject=x\n", 4),
            ("udid:\n  contakt: mailto:qa@x.example\n", 4),
            ("udid: {}\n", 3),
        ] {
            let text = format!("title: A\nbase_url: https://x.example/\n{bad}");
            let msg = format!("{:#}", parse(&text).unwrap_err());
            assert!(msg.contains(&format!("site.yaml:{line}")), "{bad}: {msg}");
            assert!(msg.contains("contact") || msg.contains("contakt"), "{msg}");
        }
    }

    #[test]
    fn base_url_rejects_query_and_credentials() {
        assert!(parse_base_url("https://x.example/?a=1").is_err());
        assert!(parse_base_url("https://u:p@x.example/").is_err());
        assert!(parse_base_url("beta.example.com").is_err());
    }
}
