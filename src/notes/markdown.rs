//! Markdown to HTML that is safe to put in an AMP page.
//!
//! Notes are written by people, but pages are public: raw HTML is shown as text, links keep
//! only http, https and mailto (or relative) targets, and nothing that needs an element AMP
//! forbids (`<img>`, `<input>`) is emitted.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

/// Renders Markdown (CommonMark with tables, strikethrough, task lists, footnotes).
pub fn render_markdown(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let mut dropped_links: Vec<bool> = Vec::new();
    let events = Parser::new_ext(markdown, options).filter_map(|event| match event {
        // Raw HTML never reaches the page: it is shown as the text it is.
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let safe = is_safe_url(&dest_url);
            dropped_links.push(!safe);
            safe.then_some(Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }))
        }
        Event::End(TagEnd::Link) => match dropped_links.pop() {
            Some(true) => None,
            _ => Some(Event::End(TagEnd::Link)),
        },
        // `<img>` is not AMP; until images are copied and sized, show their alt text.
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        // `<input type=checkbox>` outside a form is not worth the AMP risk: use glyphs.
        Event::TaskListMarker(done) => Some(Event::Text(CowStr::Borrowed(if done {
            "\u{2611} "
        } else {
            "\u{2610} "
        }))),
        other => Some(other),
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
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

    #[test]
    fn common_markdown_renders() {
        let html = render_markdown(
            "# New\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ `code`\n\n```rust\nfn x() {}\n```\n",
        );
        assert!(html.contains("<h1>New</h1>"));
        assert!(html.contains("<li>one</li>"));
        assert!(html.contains("<table>"));
        assert!(html.contains("<del>old</del>"));
        assert!(html.contains("<code class=\"language-rust\">"));
    }

    #[test]
    fn raw_html_is_escaped() {
        let html = render_markdown(
            "Hi <script>alert(1)</script>\n\n<iframe src=x></iframe>\n\n<img src=x onerror=alert(1)>",
        );
        assert!(html.contains("&lt;script&gt;"));
        assert_no_active_content(&html);
    }

    #[test]
    fn dangerous_links_lose_their_target() {
        let html = render_markdown(
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
        let html = render_markdown("[x](&#106;avascript:alert(1))");
        assert_no_active_content(&html);
    }

    #[test]
    fn images_and_task_lists_stay_amp_valid() {
        let html = render_markdown("![a shot](shot.png)\n\n- [x] done\n- [ ] todo\n");
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
