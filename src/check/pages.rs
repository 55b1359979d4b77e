//! Checks on every page: AMP validity, install links ("tapping the link does nothing",
//! "cannot connect to server"), and links that lead nowhere.

use std::path::Path;

use crate::config::Config;
use crate::html::{Lines, decode_entities, tags};
use crate::problem::Problem;
use crate::rules::amp::amp_problems;

const PREFIX: &str = "itms-services://?action=download-manifest&url=";

pub(super) fn check_pages(out: &Path, config: &Config) -> Vec<Problem> {
    let mut problems = Vec::new();
    for entry in walkdir::WalkDir::new(out)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
    {
        let path = entry.path();
        if !entry.file_type().is_file() || path.extension().is_none_or(|e| e != "html") {
            continue;
        }
        let Ok(html) = std::fs::read_to_string(path) else {
            problems.push(Problem::error(
                "page-unreadable",
                path.display().to_string(),
                "the page is not readable UTF-8",
                "build the site again",
            ));
            continue;
        };
        let file = path.display().to_string();
        // The registration result page is plain HTML on purpose: it runs a small script.
        let plain = path.ends_with(format!("{}index.html", crate::udid::RESULT_DIR));
        if config.amp && !plain {
            problems.extend(amp_problems(&html, &file));
        }
        let lines = Lines::new(&html);
        let is_404 = path.file_name().is_some_and(|n| n == "404.html");
        for tag in tags(&html) {
            if tag.closing {
                continue;
            }
            let line = lines.of(tag.offset);
            if tag.name == "a"
                && let Some(raw) = tag.attr("href")
                && decode_entities(raw).starts_with("itms-services:")
            {
                problems.extend(
                    install_link(raw, tag.attr("target"), &file, out, config)
                        .into_iter()
                        .map(|p| p.at_line(line)),
                );
                continue;
            }
            for attr in ["href", "src"] {
                if let Some(raw) = tag.attr(attr)
                    && !is_404
                    && !(tag.name == "link"
                        && tag.attr("rel").is_some_and(|r| r.contains("canonical")))
                    && let Some(missing) = missing_target(&decode_entities(raw), path, out, config)
                {
                    problems.push(
                        Problem::error(
                            "broken-link",
                            &file,
                            format!(
                                "<{} {attr}=\"{raw}\"> leads to {missing}, which is not in the site",
                                tag.name
                            ),
                            "fix the template or notes that link there, then build again",
                        )
                        .at_line(line),
                    );
                }
            }
        }
    }
    problems
}

/// The checks on one `itms-services://` link.
fn install_link(
    raw: &str,
    target: Option<&str>,
    at: &str,
    out: &Path,
    config: &Config,
) -> Vec<Problem> {
    let mut p = Vec::new();
    let fix_rebuild = "build the site with otasite, or fix the template that writes this link";
    if raw.contains("&url=") && !raw.contains("&amp;url=") {
        p.push(Problem::error(
            "link-unescaped",
            at,
            "the install link's `&` is not written as `&amp;` in the HTML",
            fix_rebuild,
        ));
    }
    if target != Some("_top") {
        p.push(Problem::error("link-target", at, "the install link lacks target=\"_top\": inside an AMP viewer's frame tapping it does nothing", fix_rebuild));
    }
    let href = decode_entities(raw);
    let Some(value) = href.strip_prefix(PREFIX) else {
        p.push(Problem::error(
            "link-format",
            at,
            format!("the install link is not {PREFIX}<manifest URL>: tapping it does nothing"),
            fix_rebuild,
        ));
        return p;
    };
    if value.contains("://") || value.contains('&') {
        p.push(Problem::error(
            "link-not-encoded",
            at,
            "the manifest URL in the install link is not percent-encoded: iOS reads a cut-off URL",
            fix_rebuild,
        ));
    }
    let decoded = percent_encoding::percent_decode_str(value)
        .decode_utf8_lossy()
        .into_owned();
    match url::Url::parse(&decoded) {
        Err(_) => p.push(Problem::error(
            "link-url",
            at,
            format!("the manifest URL {decoded:?} is not an absolute URL"),
            fix_rebuild,
        )),
        Ok(u) if u.scheme() == "http" => p.push(Problem::error(
            "link-http",
            at,
            format!("the manifest URL {decoded} is http: iOS says \"Cannot connect to server\""),
            "set an https:// base_url and build again",
        )),
        Ok(u) if u.scheme() != "https" => p.push(Problem::error(
            "link-url",
            at,
            format!("the manifest URL {decoded} is not https"),
            "set an https:// base_url and build again",
        )),
        Ok(_) => match site_path(&decoded, config) {
            Some(rel) if !out.join(&rel).is_file() => p.push(Problem::error(
                "link-manifest-missing",
                at,
                format!("the manifest {decoded} is not in the site"),
                "build the site again; do not delete files from the output",
            )),
            Some(_) => {}
            None => p.push(Problem::warning(
                "link-external",
                at,
                format!(
                    "the manifest {decoded} is outside this site's base URL and was not checked"
                ),
                "check it with --remote, or build with the right --base-url",
            )),
        },
    }
    p
}

/// The site-relative path of an absolute URL under the base URL.
pub(super) fn site_path(url: &str, config: &Config) -> Option<String> {
    let rest = url.strip_prefix(config.base_url.as_str())?;
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let decoded = percent_encoding::percent_decode_str(rest)
        .decode_utf8_lossy()
        .into_owned();
    Some(if decoded.is_empty() || decoded.ends_with('/') {
        format!("{decoded}index.html")
    } else {
        decoded
    })
}

/// For an internal link that resolves to nothing, the path it resolves to.
fn missing_target(url: &str, page: &Path, out: &Path, config: &Config) -> Option<String> {
    let url = url.trim();
    if url.is_empty() || url.starts_with('#') || url.starts_with("//") {
        return None;
    }
    let rel = if url.contains(':') {
        site_path(url, config)?
    } else {
        let base = page.parent()?.strip_prefix(out).ok()?;
        let joined = url.split(['?', '#']).next().unwrap_or_default();
        let decoded = percent_encoding::percent_decode_str(joined)
            .decode_utf8_lossy()
            .into_owned();
        let mut parts: Vec<String> = base
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        for seg in decoded.split('/') {
            match seg {
                "" | "." => {}
                ".." => {
                    parts.pop()?;
                }
                s => parts.push(s.to_string()),
            }
        }
        let mut rel = parts.join("/");
        if decoded.ends_with('/')
            || decoded.is_empty()
            || decoded.ends_with("/.")
            || decoded == "."
            || decoded.ends_with("..")
        {
            rel = if rel.is_empty() {
                "index.html".into()
            } else {
                format!("{rel}/index.html")
            };
        }
        rel
    };
    let target = out.join(&rel);
    (!target.is_file()).then_some(rel)
}
