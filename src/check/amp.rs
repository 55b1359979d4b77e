//! The AMP rules otasite's pages rely on, checked without the official validator (which needs
//! Node): required markup, no author scripts, the CSS limit, allowed link protocols and targets.
//! A subset: where it speaks, it must agree with the validator (tested on a corpus).

use super::html::{Lines, Tag, decode_entities, tags};

/// `<a href>` protocols AMP allows (validator-main.protoascii), plus relative URLs.
const PROTOCOLS: &[&str] = &[
    "http",
    "https",
    "mailto",
    "tel",
    "sms",
    "ftp",
    "itms-services",
    "intent",
    "fb-messenger",
    "skype",
    "viber",
    "whatsapp",
    "maps",
    "bbmi",
    "line",
    "snapchat",
    "twitter",
    "web+mastodon",
];

/// Elements AMP forbids outright.
const FORBIDDEN: &[&str] = &[
    "iframe", "frame", "frameset", "object", "param", "applet", "embed",
];

pub const MAX_CSS_BYTES: usize = 75_000;

/// One broken rule: (line, code, message).
pub type AmpProblem = (usize, &'static str, String);

/// Checks a page; an empty list means it passes every rule checked here.
pub fn amp_problems(html: &str) -> Vec<AmpProblem> {
    let mut p: Vec<AmpProblem> = Vec::new();
    let all = tags(html);
    let lines = Lines::new(html);
    let line = |t: &Tag| lines.of(t.offset);
    if !html
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("<!doctype html")
    {
        p.push((
            1,
            "amp-doctype",
            "the page does not start with <!doctype html>".into(),
        ));
    }
    match all.iter().find(|t| t.name == "html" && !t.closing) {
        Some(t) if t.has_attr("⚡") || t.has_attr("amp") => {}
        Some(t) => p.push((
            line(t),
            "amp-html-attr",
            "<html> lacks the ⚡ (or amp) attribute".into(),
        )),
        None => p.push((1, "amp-html-attr", "the page has no <html> element".into())),
    }
    let head = all.iter().position(|t| t.name == "head" && !t.closing);
    let first_in_head = head.and_then(|h| all.get(h + 1));
    let charset_first = first_in_head.is_some_and(|t| {
        t.name == "meta"
            && t.attr("charset")
                .is_some_and(|c| c.eq_ignore_ascii_case("utf-8"))
    });
    if !charset_first {
        p.push((
            1,
            "amp-charset",
            "<meta charset=\"utf-8\"> must be the first element in <head>".into(),
        ));
    }
    let find = |pred: &dyn Fn(&Tag) -> bool| all.iter().any(|t| !t.closing && pred(t));
    if !find(&|t| {
        t.name == "link"
            && t.attr("rel").is_some_and(|r| {
                r.split_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("canonical"))
            })
            && t.attr("href").is_some()
    }) {
        p.push((
            1,
            "amp-canonical",
            "no <link rel=\"canonical\" href=...>".into(),
        ));
    }
    if !find(&|t| t.name == "meta" && t.attr("name") == Some("viewport")) {
        p.push((1, "amp-viewport", "no <meta name=\"viewport\">".into()));
    }
    if !find(&|t| {
        t.name == "script"
            && t.has_attr("async")
            && t.attr("src") == Some("https://cdn.ampproject.org/v0.js")
    }) {
        p.push((
            1,
            "amp-runtime",
            "no <script async src=\"https://cdn.ampproject.org/v0.js\">".into(),
        ));
    }
    let boilerplates = all
        .iter()
        .filter(|t| t.name == "style" && !t.closing && t.has_attr("amp-boilerplate"))
        .count();
    if boilerplates < 2 {
        p.push((
            1,
            "amp-boilerplate",
            "the amp-boilerplate style and its <noscript> twin are required".into(),
        ));
    }

    let custom: Vec<&Tag> = all
        .iter()
        .filter(|t| t.name == "style" && !t.closing && t.has_attr("amp-custom"))
        .collect();
    if custom.len() > 1 {
        p.push((
            line(custom[1]),
            "amp-css",
            "more than one <style amp-custom>".into(),
        ));
    }
    let mut css_bytes = 0;
    for t in &custom {
        let css = t.raw_text.as_deref().unwrap_or("");
        css_bytes += css.len();
        if css.to_ascii_lowercase().contains("!important") {
            p.push((
                line(t),
                "amp-css",
                "CSS uses !important, which AMP forbids".into(),
            ));
        }
    }
    for t in &all {
        if t.closing {
            continue;
        }
        if let Some(style) = t.attr("style") {
            css_bytes += style.len();
            if style.to_ascii_lowercase().contains("!important") {
                p.push((
                    line(t),
                    "amp-css",
                    format!("a style attribute on <{}> uses !important", t.name),
                ));
            }
        }
        for (name, _) in &t.attrs {
            if name.len() > 2 && name.starts_with("on") {
                p.push((
                    line(t),
                    "amp-script",
                    format!("<{}> has an event handler ({name})", t.name),
                ));
            }
        }
        match t.name.as_str() {
            "script" => {
                let runtime = t
                    .attr("src")
                    .is_some_and(|s| s.starts_with("https://cdn.ampproject.org/"));
                let data = t
                    .attr("type")
                    .is_some_and(|ty| ty.eq_ignore_ascii_case("application/ld+json"));
                if !runtime && !data {
                    p.push((
                        line(t),
                        "amp-script",
                        "an author script: AMP pages may run only the AMP runtime".into(),
                    ));
                }
            }
            "a" => {
                if let Some(href) = t.attr("href") {
                    let href = decode_entities(href);
                    let cleaned: String = href
                        .chars()
                        .filter(|c| !c.is_whitespace() && !c.is_control())
                        .collect();
                    if let Some(colon) = cleaned.find(':') {
                        let scheme = cleaned[..colon].to_ascii_lowercase();
                        if !scheme.contains(['/', '?', '#'])
                            && !PROTOCOLS.contains(&scheme.as_str())
                        {
                            p.push((
                                line(t),
                                "amp-link-protocol",
                                format!("a link uses the {scheme}: protocol, which AMP forbids"),
                            ));
                        }
                    }
                }
                if let Some(target) = t.attr("target")
                    && !["_blank", "_self", "_top"].contains(&target)
                {
                    p.push((
                        line(t),
                        "amp-link-target",
                        format!("target=\"{target}\": AMP allows _blank, _self and _top"),
                    ));
                }
            }
            name if FORBIDDEN.contains(&name) => {
                p.push((
                    line(t),
                    "amp-element",
                    format!("<{name}> is not allowed in AMP"),
                ));
            }
            _ => {}
        }
    }
    if css_bytes > MAX_CSS_BYTES {
        p.push((
            1,
            "amp-css",
            format!("{css_bytes} bytes of CSS; AMP allows {MAX_CSS_BYTES}"),
        ));
    }
    p
}
