//! Markdown to HTML that is safe to put in an AMP page.
//!
//! Notes are written by people, but pages are public: raw HTML is shown as text, links keep
//! only http, https and mailto (or relative) targets, and nothing that needs an element AMP
//! forbids (`<img>`, `<input>`) is emitted.

use std::collections::HashSet;

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

/// How an image referenced by a note appears on the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSrc {
    /// URL relative to the page, e.g. `../1.2-3/img/shot-1a2b3c4d.png`.
    pub src: String,
    pub width: u32,
    pub height: u32,
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
}

/// Image references in a note: (destination as written, byte offset in `markdown`).
pub fn image_refs(markdown: &str) -> Vec<(String, usize)> {
    Parser::new_ext(markdown, options())
        .into_offset_iter()
        .filter_map(|(event, range)| match event {
            Event::Start(Tag::Image { dest_url, .. }) => Some((dest_url.to_string(), range.start)),
            _ => None,
        })
        .collect()
}

/// Renders Markdown (CommonMark with tables, strikethrough, task lists, footnotes), giving each
/// heading an `id` for anchors; `images` says how a referenced image is shown (`None`: its alt
/// text is shown instead).
pub fn render_markdown(markdown: &str, images: &dyn Fn(&str) -> Option<ImageSrc>) -> String {
    let events: Vec<Event> = Parser::new_ext(markdown, options()).collect();
    let mut out: Vec<Event> = Vec::with_capacity(events.len());
    let mut ids: HashSet<String> = HashSet::new();
    // For each open link: how its end is written (None: the link was dropped).
    let mut links: Vec<Option<Event>> = Vec::new();
    let mut i = 0;
    while i < events.len() {
        match &events[i] {
            // Raw HTML never reaches the page: it is shown as the text it is.
            Event::Html(raw) | Event::InlineHtml(raw) => out.push(Event::Text(raw.clone())),
            Event::Start(Tag::Heading {
                level,
                classes,
                attrs,
                ..
            }) => {
                let text = plain_text(&events[i + 1..], |e| {
                    matches!(e, Event::End(TagEnd::Heading(_)))
                });
                let id = unique_id(&crate::urls::slugify(&text, "section"), &mut ids);
                out.push(Event::Start(Tag::Heading {
                    level: *level,
                    id: Some(CowStr::from(id)),
                    classes: classes.clone(),
                    attrs: attrs.clone(),
                }));
            }
            Event::Start(Tag::Link {
                dest_url, title, ..
            }) if !is_safe_url(dest_url) => {
                let _ = title;
                links.push(None);
            }
            Event::Start(Tag::Link {
                dest_url, title, ..
            }) if is_external(dest_url) => {
                // Links out of the site open without giving the other page a handle on ours.
                let title = if title.is_empty() {
                    String::new()
                } else {
                    format!(" title=\"{}\"", escape_attr(title))
                };
                out.push(Event::InlineHtml(CowStr::from(format!(
                    "<a href=\"{}\" rel=\"noopener\"{title}>",
                    escape_attr(dest_url)
                ))));
                links.push(Some(Event::InlineHtml(CowStr::Borrowed("</a>"))));
            }
            Event::Start(link @ Tag::Link { .. }) => {
                out.push(Event::Start(link.clone()));
                links.push(Some(Event::End(TagEnd::Link)));
            }
            Event::End(TagEnd::Link) => {
                if let Some(Some(end)) = links.pop() {
                    out.push(end);
                }
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                let alt = plain_text(&events[i + 1..], |e| matches!(e, Event::End(TagEnd::Image)));
                // Skip the alt text events: they are used as the alt attribute.
                while i < events.len() && !matches!(events[i], Event::End(TagEnd::Image)) {
                    i += 1;
                }
                match images(dest_url) {
                    Some(img) => out.push(Event::InlineHtml(CowStr::from(amp_img(&img, &alt)))),
                    None => out.push(Event::Text(CowStr::from(alt))),
                }
            }
            // `<input type=checkbox>` outside a form is not worth the AMP risk: use glyphs.
            Event::TaskListMarker(done) => out.push(Event::Text(CowStr::Borrowed(if *done {
                "\u{2611} "
            } else {
                "\u{2610} "
            }))),
            other => out.push(other.clone()),
        }
        i += 1;
    }
    let mut html_out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut html_out, out.into_iter());
    html_out
}

/// The text inside a heading or image, up to the event `end` matches.
fn plain_text(events: &[Event], end: impl Fn(&Event) -> bool) -> String {
    let mut text = String::new();
    for e in events.iter().take_while(|e| !end(e)) {
        if let Event::Text(t) | Event::Code(t) = e {
            text.push_str(t);
        }
    }
    text
}

fn unique_id(base: &str, used: &mut HashSet<String>) -> String {
    let mut id = base.to_string();
    let mut n = 1;
    while !used.insert(id.clone()) {
        n += 1;
        id = format!("{base}-{n}");
    }
    id
}

fn amp_img(img: &ImageSrc, alt: &str) -> String {
    let (src, alt) = (escape_attr(&img.src), escape_attr(alt));
    let (w, h) = (img.width, img.height);
    format!(
        "<amp-img src=\"{src}\" width=\"{w}\" height=\"{h}\" layout=\"responsive\" alt=\"{alt}\">\
         <noscript><img src=\"{src}\" width=\"{w}\" height=\"{h}\" alt=\"{alt}\"></noscript></amp-img>"
    )
}

/// Escapes text for a double-quoted HTML attribute.
pub fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn is_external(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("//")
}

/// Whether a link target may appear in a page: relative, or http, https, mailto.
pub fn is_safe_url(url: &str) -> bool {
    // Browsers ignore whitespace and control characters inside a scheme (`java\tscript:`).
    let cleaned: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    match cleaned.find(':') {
        None => true,
        Some(i) => {
            let scheme = &cleaned[..i];
            if scheme.contains(['/', '?', '#']) {
                // The colon is in the path or query of a relative URL.
                return true;
            }
            matches!(
                scheme.to_ascii_lowercase().as_str(),
                "http" | "https" | "mailto"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks every tag in the output: no active elements, no event handlers, no script URLs.
    fn assert_no_active_content(html: &str) {
        let lower = html.to_ascii_lowercase();
        for tag in lower
            .split('<')
            .skip(1)
            .map(|t| t.split('>').next().unwrap_or(""))
        {
            let name = tag.split_whitespace().next().unwrap_or("");
            for bad in [
                "script", "iframe", "img", "input", "style", "object", "embed",
            ] {
                assert_ne!(name, bad, "<{bad}> in {html}");
            }
            assert!(!tag.contains(" on"), "event handler in <{tag}> of {html}");
            for attr in ["href=\"", "src=\""] {
                if let Some(i) = tag.find(attr) {
                    let value = &tag[i + attr.len()..];
                    assert!(
                        !value.starts_with("javascript:")
                            && !value.starts_with("data:")
                            && !value.starts_with("vbscript:"),
                        "script URL in <{tag}> of {html}"
                    );
                }
            }
        }
    }

    fn render_markdown_plain(md: &str) -> String {
        render_markdown(md, &|_| None)
    }

    #[test]
    fn headings_get_unique_anchors_and_external_links_noopener() {
        let html = render_markdown_plain(
            "# What's new\n\n## Fixes\n\n## Fixes\n\n[site](https://example.com \"T\") [rel](other/)\n",
        );
        assert!(html.contains("<h1 id=\"what-s-new\">"), "{html}");
        assert!(
            html.contains("<h2 id=\"fixes\">") && html.contains("<h2 id=\"fixes-2\">"),
            "{html}"
        );
        assert!(
            html.contains("<a href=\"https://example.com\" rel=\"noopener\" title=\"T\">site</a>"),
            "{html}"
        );
        assert!(html.contains("<a href=\"other/\">rel</a>"), "{html}");
    }

    #[test]
    fn images_become_responsive_amp_img() {
        let html = render_markdown("![A \"shot\"](shot.png) ![gone](missing.png)", &|url| {
            (url == "shot.png").then(|| ImageSrc {
                src: "../1.0-1/img/shot-ab.png".into(),
                width: 640,
                height: 480,
            })
        });
        assert!(html.contains("<amp-img src=\"../1.0-1/img/shot-ab.png\" width=\"640\" height=\"480\" layout=\"responsive\" alt=\"A &quot;shot&quot;\">"), "{html}");
        assert!(
            html.contains("gone") && !html.contains("missing.png"),
            "{html}"
        );
        assert_eq!(
            image_refs("x\n\n![a](b.png)"),
            vec![("b.png".to_string(), 3)]
        );
    }

    #[test]
    fn common_markdown_renders() {
        let html = render_markdown_plain(
            "# New\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ `code`\n\n```rust\nfn x() {}\n```\n",
        );
        assert!(html.contains("<h1 id=\"new\">New</h1>"));
        assert!(html.contains("<li>one</li>"));
        assert!(html.contains("<table>"));
        assert!(html.contains("<del>old</del>"));
        assert!(html.contains("<code class=\"language-rust\">"));
    }

    #[test]
    fn raw_html_is_escaped() {
        let html = render_markdown_plain(
            "Hi <script>alert(1)</script>\n\n<iframe src=x></iframe>\n\n<img src=x onerror=alert(1)>",
        );
        assert!(html.contains("&lt;script&gt;"));
        assert_no_active_content(&html);
    }

    #[test]
    fn dangerous_links_lose_their_target() {
        let html = render_markdown_plain(
            "[a](javascript:alert(1)) [b](JAVA\tSCRIPT:alert(1)) [c](data:text/html,x) \
             <javascript:alert(1)> [d](vbscript:x) [ok](https://example.com/a:b) [rel](notes/x:y)",
        );
        assert_no_active_content(&html);
        assert_eq!(html.matches("<a ").count(), 2, "{html}");
        assert!(
            html.starts_with("<p>a "),
            "the text of a dropped link stays: {html}"
        );
        assert!(html.contains("href=\"https://example.com/a:b\""));
        assert!(html.contains("href=\"notes/x:y\""));
    }

    #[test]
    fn entity_encoded_scheme_is_caught() {
        let html = render_markdown_plain("[x](&#106;avascript:alert(1))");
        assert_no_active_content(&html);
    }

    #[test]
    fn images_and_task_lists_stay_amp_valid() {
        let html = render_markdown_plain("![a shot](shot.png)\n\n- [x] done\n- [ ] todo\n");
        assert_no_active_content(&html);
        assert!(html.contains("a shot"));
        assert!(html.contains("\u{2611} done"));
    }

    #[test]
    fn mailto_and_relative_are_safe() {
        assert!(is_safe_url("mailto:qa@example.com"));
        assert!(is_safe_url("../1.0-1/"));
        assert!(is_safe_url("#top"));
        assert!(!is_safe_url(" javascript:x"));
        assert!(!is_safe_url("itms-services://?x"));
    }
}
