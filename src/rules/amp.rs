//! The AMP rules otasite's pages rely on, checked without the official validator (which needs
//! Node): required markup, no author scripts, the CSS limit, allowed link protocols and targets.
//! A subset: where it speaks, it must agree with the validator (tested on a corpus). One
//! function per rule; the theme's CSS is held to [`MAX_CSS_BYTES`] when it is loaded.

use crate::html::{Lines, Tag, decode_entities, tags};
use crate::problem::Problem;

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

/// Bytes of CSS an AMP page may carry (`<style amp-custom>` and `style` attributes together).
pub(crate) const MAX_CSS_BYTES: usize = 75_000;

/// AMP's rules for the one stylesheet every page inlines: the size, no `!important` (the same
/// rules [`amp_problems`] holds pages to), and no `@import`.
pub(crate) fn stylesheet(css: &str) -> Result<(), String> {
    if css.len() > MAX_CSS_BYTES {
        return Err(format!(
            "is {} bytes; AMP allows at most {MAX_CSS_BYTES} bytes of CSS per page",
            css.len()
        ));
    }
    let lower = css.to_ascii_lowercase();
    if lower.contains("!important") {
        return Err(
            "uses !important, which AMP forbids; raise the selector's specificity instead".into(),
        );
    }
    if lower.contains("@import") {
        return Err("uses @import, which AMP forbids; put all rules in this one file".into());
    }
    Ok(())
}

const FIX: &str = "edit the site's theme file that writes this (a template or style.css under \
                   themes/<theme>/ in the site folder), then build again; without such a file, \
                   report it as an otasite bug";

/// A page as the rules read it.
struct Page<'a> {
    html: &'a str,
    tags: Vec<Tag>,
    lines: Lines,
    file: &'a str,
}

impl Page<'_> {
    fn problem(&self, line: usize, code: &'static str, message: String) -> Problem {
        Problem::error(code, self.file, message, FIX).at_line(line)
    }

    fn at(&self, tag: &Tag, code: &'static str, message: String) -> Problem {
        self.problem(self.lines.of(tag.offset), code, message)
    }

    /// Opening tags only.
    fn opening(&self) -> impl Iterator<Item = &Tag> {
        self.tags.iter().filter(|t| !t.closing)
    }

    /// The problem `code` (about the whole page, so at line 1) unless `ok`.
    fn unless(&self, ok: bool, code: &'static str, message: impl Into<String>) -> Vec<Problem> {
        match ok {
            true => vec![],
            false => vec![self.problem(1, code, message.into())],
        }
    }

    fn has(&self, pred: impl Fn(&Tag) -> bool) -> bool {
        self.opening().any(pred)
    }
}

type Rule = fn(&Page<'_>) -> Vec<Problem>;

const RULES: &[Rule] = &[
    doctype,
    html_attr,
    charset_first,
    canonical,
    viewport,
    runtime,
    boilerplate,
    one_custom_style,
    no_important,
    css_size,
    no_event_handlers,
    no_author_scripts,
    link_protocols,
    link_targets,
    forbidden_elements,
];

/// Checks the page at `file`; an empty list means it passes every rule checked here.
pub fn amp_problems(html: &str, file: &str) -> Vec<Problem> {
    let page = Page {
        html,
        tags: tags(html),
        lines: Lines::new(html),
        file,
    };
    let mut problems: Vec<Problem> = RULES.iter().flat_map(|rule| rule(&page)).collect();
    problems.sort_by_key(|p| p.line);
    problems
}

fn doctype(page: &Page<'_>) -> Vec<Problem> {
    let ok = (page.html.trim_start().to_ascii_lowercase()).starts_with("<!doctype html");
    let message = "the page does not start with <!doctype html>";
    page.unless(ok, "amp-doctype", message)
}

fn html_attr(page: &Page<'_>) -> Vec<Problem> {
    match page.opening().find(|t| t.name == "html") {
        Some(t) if t.has_attr("⚡") || t.has_attr("amp") => vec![],
        Some(t) => {
            let message = "<html> lacks the ⚡ (or amp) attribute";
            vec![page.at(t, "amp-html-attr", message.into())]
        }
        None => vec![page.problem(1, "amp-html-attr", "the page has no <html> element".into())],
    }
}

fn charset_first(page: &Page<'_>) -> Vec<Problem> {
    let head = page
        .tags
        .iter()
        .position(|t| t.name == "head" && !t.closing);
    let first_in_head = head.and_then(|h| page.tags.get(h + 1));
    let ok = first_in_head.is_some_and(|t| {
        t.name == "meta"
            && t.attr("charset")
                .is_some_and(|c| c.eq_ignore_ascii_case("utf-8"))
    });
    let message = "<meta charset=\"utf-8\"> must be the first element in <head>";
    page.unless(ok, "amp-charset", message)
}

fn canonical(page: &Page<'_>) -> Vec<Problem> {
    let ok = page.has(|t| {
        t.name == "link"
            && t.attr("rel").is_some_and(|r| {
                r.split_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("canonical"))
            })
            && t.attr("href").is_some()
    });
    let message = "no <link rel=\"canonical\" href=...>";
    page.unless(ok, "amp-canonical", message)
}

fn viewport(page: &Page<'_>) -> Vec<Problem> {
    let ok = page.has(|t| t.name == "meta" && t.attr("name") == Some("viewport"));
    let message = "no <meta name=\"viewport\">";
    page.unless(ok, "amp-viewport", message)
}

/// The runtime script is needed by AMP components (`<amp-…>`), and only then.
fn runtime(page: &Page<'_>) -> Vec<Problem> {
    let Some(component) = page.opening().find(|t| t.name.starts_with("amp-")) else {
        return vec![];
    };
    let ok = page.has(|t| {
        t.name == "script"
            && t.has_attr("async")
            && t.attr("src") == Some("https://cdn.ampproject.org/v0.js")
    });
    let message = format!(
        "<{}> needs the AMP runtime: no <script async src=\"https://cdn.ampproject.org/v0.js\">",
        component.name
    );
    page.unless(ok, "amp-runtime", message)
}

/// Whether the page is AMP as the AMP Optimizer writes it (server-side rendered).
fn transformed(page: &Page<'_>) -> bool {
    page.has(|t| t.name == "html" && t.has_attr("transformed"))
}

/// The boilerplate that hides the page until the runtime shows it: required, unless the page
/// is transformed without it; a transformed page carries the runtime's style instead.
fn boilerplate(page: &Page<'_>) -> Vec<Problem> {
    let no_boilerplate = page.has(|t| t.name == "html" && t.has_attr("i-amphtml-no-boilerplate"));
    if transformed(page) && no_boilerplate {
        let ok = page.has(|t| {
            t.name == "style"
                && t.has_attr("amp-runtime")
                && (t.attr("i-amphtml-version"))
                    .is_some_and(|v| v.len() == 15 && v.bytes().all(|b| b.is_ascii_digit()))
        });
        let message = "a transformed page needs <style amp-runtime i-amphtml-version=\"…\"> \
                       (15 digits)";
        return page.unless(ok, "amp-runtime-style", message);
    }
    let count = (page.opening())
        .filter(|t| t.name == "style" && t.has_attr("amp-boilerplate"))
        .count();
    let message = "the amp-boilerplate style and its <noscript> twin are required";
    page.unless(count >= 2, "amp-boilerplate", message)
}

fn custom_styles<'p>(page: &'p Page<'_>) -> impl Iterator<Item = &'p Tag> {
    (page.opening()).filter(|t| t.name == "style" && t.has_attr("amp-custom"))
}

fn one_custom_style(page: &Page<'_>) -> Vec<Problem> {
    let message = "more than one <style amp-custom>";
    (custom_styles(page).nth(1))
        .map(|second| page.at(second, "amp-css", message.into()))
        .into_iter()
        .collect()
}

fn no_important(page: &Page<'_>) -> Vec<Problem> {
    let important = |css: &str| css.to_ascii_lowercase().contains("!important");
    let in_styles = (custom_styles(page))
        .filter(|t| important(t.raw_text.as_deref().unwrap_or("")))
        .map(|t| {
            page.at(
                t,
                "amp-css",
                "CSS uses !important, which AMP forbids".into(),
            )
        });
    let in_attrs = (page.opening())
        .filter(|t| t.attr("style").is_some_and(important))
        .map(|t| {
            let message = format!("a style attribute on <{}> uses !important", t.name);
            page.at(t, "amp-css", message)
        });
    in_styles.chain(in_attrs).collect()
}

fn css_size(page: &Page<'_>) -> Vec<Problem> {
    let styles: usize = custom_styles(page)
        .map(|t| t.raw_text.as_deref().unwrap_or("").len())
        .sum();
    let attrs: usize = page
        .opening()
        .filter_map(|t| t.attr("style"))
        .map(str::len)
        .sum();
    let bytes = styles + attrs;
    let message = format!("{bytes} bytes of CSS; AMP allows {MAX_CSS_BYTES}");
    page.unless(bytes <= MAX_CSS_BYTES, "amp-css", message)
}

fn no_event_handlers(page: &Page<'_>) -> Vec<Problem> {
    let mut p = Vec::new();
    for t in page.opening() {
        for (name, _) in t
            .attrs
            .iter()
            .filter(|(n, _)| n.len() > 2 && n.starts_with("on"))
        {
            let message = format!("<{}> has an event handler ({name})", t.name);
            p.push(page.at(t, "amp-script", message));
        }
    }
    p
}

fn no_author_scripts(page: &Page<'_>) -> Vec<Problem> {
    let allowed = |t: &Tag| {
        let runtime = (t.attr("src")).is_some_and(|s| s.starts_with("https://cdn.ampproject.org/"));
        let data =
            (t.attr("type")).is_some_and(|ty| ty.eq_ignore_ascii_case("application/ld+json"));
        runtime || data
    };
    let message = "an author script: AMP pages may run only the AMP runtime";
    (page.opening())
        .filter(|t| t.name == "script" && !allowed(t))
        .map(|t| page.at(t, "amp-script", message.into()))
        .collect()
}

fn links<'p>(page: &'p Page<'_>) -> impl Iterator<Item = &'p Tag> {
    page.opening().filter(|t| t.name == "a")
}

fn link_protocols(page: &Page<'_>) -> Vec<Problem> {
    let scheme = |href: &str| {
        let cleaned: String = decode_entities(href)
            .chars()
            .filter(|c| !c.is_whitespace() && !c.is_control())
            .collect();
        let scheme = cleaned[..cleaned.find(':')?].to_ascii_lowercase();
        let forbidden = !scheme.contains(['/', '?', '#']) && !PROTOCOLS.contains(&scheme.as_str());
        forbidden.then_some(scheme)
    };
    links(page)
        .filter_map(|t| Some((t, scheme(t.attr("href")?)?)))
        .map(|(t, scheme)| {
            let message = format!("a link uses the {scheme}: protocol, which AMP forbids");
            page.at(t, "amp-link-protocol", message)
        })
        .collect()
}

fn link_targets(page: &Page<'_>) -> Vec<Problem> {
    links(page)
        .filter_map(|t| Some((t, t.attr("target")?)))
        .filter(|(_, target)| !["_blank", "_self", "_top"].contains(target))
        .map(|(t, target)| {
            let message = format!("target=\"{target}\": AMP allows _blank, _self and _top");
            page.at(t, "amp-link-target", message)
        })
        .collect()
}

fn forbidden_elements(page: &Page<'_>) -> Vec<Problem> {
    (page.opening())
        .filter(|t| FORBIDDEN.contains(&t.name.as_str()))
        .map(|t| {
            page.at(
                t,
                "amp-element",
                format!("<{}> is not allowed in AMP", t.name),
            )
        })
        .collect()
}
