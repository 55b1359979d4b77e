//! Markdown to HTML that is safe to put in an AMP page.
//!
//! Notes are written by people, but pages are public: raw HTML is shown as text, links keep
//! only http, https and mailto (or relative) targets, and nothing that needs an element AMP
//! forbids (`<input>`, `<iframe>`) is emitted. Images are plain `<img>` with their size.

use std::collections::{HashMap, HashSet, VecDeque};

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

/// How an image referenced by a note appears on the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageSrc {
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
pub(crate) fn image_refs(markdown: &str) -> Vec<(String, usize)> {
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
///
/// Events stream from the parser to the HTML writer: only one heading's or image's events are
/// held at a time, so memory is the parser's and the output's, not a copy of every event.
pub(crate) fn render_markdown(markdown: &str, images: &dyn Fn(&str) -> Option<ImageSrc>) -> String {
    let events = SafeEvents {
        parser: Parser::new_ext(markdown, options()),
        ready: VecDeque::new(),
        rewrite: Rewrite {
            images,
            ids: Anchors::default(),
            links: Vec::new(),
            image: None,
            footnotes: HashMap::new(),
        },
    };
    let mut html_out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut html_out, events);
    html_out
}

/// The parser's events, rewritten for a public AMP page.
struct SafeEvents<'a, 'i> {
    parser: Parser<'a>,
    /// Rewritten events not yet taken by the writer.
    ready: VecDeque<Event<'a>>,
    rewrite: Rewrite<'i>,
}

impl<'a> Iterator for SafeEvents<'a, '_> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        while self.ready.is_empty() {
            let event = self.parser.next()?;
            if let Event::Start(Tag::Heading { .. }) = event {
                // The anchor is made from the heading's text: read up to its end first.
                let mut heading = vec![event];
                for e in self.parser.by_ref() {
                    let end = matches!(e, Event::End(TagEnd::Heading(_)));
                    heading.push(e);
                    if end {
                        break;
                    }
                }
                let text = plain_text(&heading[1..], |e| {
                    matches!(e, Event::End(TagEnd::Heading(_)))
                });
                for e in heading {
                    self.rewrite.event(e, &text, &mut self.ready);
                }
            } else {
                self.rewrite.event(event, "", &mut self.ready);
            }
        }
        self.ready.pop_front()
    }
}

/// What the rewriting remembers between events.
struct Rewrite<'i> {
    images: &'i dyn Fn(&str) -> Option<ImageSrc>,
    ids: Anchors,
    /// For each open link: how its end is written (None: the link was dropped).
    links: Vec<Option<Event<'static>>>,
    /// Inside an image: its destination and the alt text so far.
    image: Option<(String, String)>,
    /// The anchor of each footnote label (lower case), shared by its references and definition.
    footnotes: HashMap<String, String>,
}

impl Rewrite<'_> {
    /// Rewrites one event into `out`; `heading_text` is the text of the heading `event` starts.
    fn event<'a>(&mut self, event: Event<'a>, heading_text: &str, out: &mut VecDeque<Event<'a>>) {
        if let Some((dest, alt)) = &mut self.image {
            // The alt text becomes the alt attribute, up to the (first) end of an image.
            match event {
                Event::Text(t) | Event::Code(t) => alt.push_str(&t),
                Event::End(TagEnd::Image) => {
                    let (dest, alt) = (std::mem::take(dest), std::mem::take(alt));
                    self.image = None;
                    match (self.images)(&dest) {
                        Some(img) => {
                            out.push_back(Event::InlineHtml(CowStr::from(amp_img(&img, &alt))))
                        }
                        None => out.push_back(Event::Text(CowStr::from(alt))),
                    }
                }
                _ => {}
            }
            return;
        }
        match event {
            // Raw HTML never reaches the page: it is shown as the text it is.
            Event::Html(raw) | Event::InlineHtml(raw) => out.push_back(Event::Text(raw)),
            Event::Start(Tag::Heading {
                level,
                classes,
                attrs,
                ..
            }) => {
                let id = self
                    .ids
                    .unique(&crate::urls::slugify(heading_text, "section"));
                out.push_back(Event::Start(Tag::Heading {
                    level,
                    id: Some(CowStr::from(id)),
                    classes,
                    attrs,
                }));
            }
            Event::Start(Tag::Link { dest_url, .. }) if !is_safe_url(&dest_url) => {
                self.links.push(None);
            }
            Event::Start(Tag::Link {
                dest_url, title, ..
            }) if is_external(&dest_url) => {
                // Links out of the site open without giving the other page a handle on ours.
                let title = if title.is_empty() {
                    String::new()
                } else {
                    format!(" title=\"{}\"", escape_attr(&title))
                };
                out.push_back(Event::InlineHtml(CowStr::from(format!(
                    "<a href=\"{}\" rel=\"noopener\"{title}>",
                    escape_attr(&dest_url)
                ))));
                self.links
                    .push(Some(Event::InlineHtml(CowStr::Borrowed("</a>"))));
            }
            Event::Start(link @ Tag::Link { .. }) => {
                out.push_back(Event::Start(link));
                self.links.push(Some(Event::End(TagEnd::Link)));
            }
            Event::End(TagEnd::Link) => {
                if let Some(Some(end)) = self.links.pop() {
                    out.push_back(end);
                }
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                self.image = Some((dest_url.to_string(), String::new()));
            }
            // A footnote's label would become an `id` as written (spaces, quotes, `__amp_x`,
            // the id of a heading): it gets an anchor like a heading's, `fn-<label>`.
            Event::FootnoteReference(label) => {
                out.push_back(Event::FootnoteReference(self.footnote_id(&label)))
            }
            Event::Start(Tag::FootnoteDefinition(label)) => out.push_back(Event::Start(
                Tag::FootnoteDefinition(self.footnote_id(&label)),
            )),
            // `<input type=checkbox>` outside a form is not worth the AMP risk: use glyphs.
            Event::TaskListMarker(done) => out.push_back(Event::Text(CowStr::Borrowed(if done {
                "\u{2611} "
            } else {
                "\u{2610} "
            }))),
            other => out.push_back(other),
        }
    }
}

impl Rewrite<'_> {
    fn footnote_id<'a>(&mut self, label: &str) -> CowStr<'a> {
        let ids = &mut self.ids;
        let id = self
            .footnotes
            .entry(label.to_lowercase())
            .or_insert_with(|| ids.unique(&format!("fn-{}", crate::urls::slugify(label, "note"))));
        CowStr::from(id.clone())
    }
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

/// Heading anchors, unique in a page: `x`, then `x-2`, `x-3`...
///
/// Each base remembers the last number it tried, so many equal headings cost linear time
/// (numbers below it are all taken: the set of ids only grows).
#[derive(Default)]
struct Anchors {
    used: HashSet<String>,
    next: HashMap<String, u64>,
}

impl Anchors {
    fn unique(&mut self, base: &str) -> String {
        let prefixed;
        let base = if amp_forbids_id(base) {
            prefixed = format!("section-{base}");
            prefixed.as_str()
        } else {
            base
        };
        if self.used.insert(base.to_string()) {
            return base.to_string();
        }
        let n = self.next.entry(base.to_string()).or_insert(1);
        loop {
            *n += 1;
            let id = format!("{base}-{n}");
            if self.used.insert(id.clone()) {
                return id;
            }
        }
    }
}

/// Whether the AMP validator refuses `id` (case-insensitively): names the AMP runtime
/// reserves (`__amp_…`, `i-amphtml-…`) and DOM property names an element id would shadow.
/// Only what a slug can spell is listed (lower-case ASCII letters, digits, `.`, `_`, `-`).
pub(crate) fn amp_forbids_id(id: &str) -> bool {
    const NAMES: &[&str] = &[
        "__count__",
        "__definegetter__",
        "__definesetter__",
        "__lookupgetter__",
        "__lookupsetter__",
        "__nosuchmethod__",
        "__parent__",
        "__proto__",
        "acceptcharset",
        "addeventlistener",
        "appendchild",
        "assignedslot",
        "attachshadow",
        "baseuri",
        "checkvalidity",
        "childelementcount",
        "childnodes",
        "classlist",
        "classname",
        "clientheight",
        "clientleft",
        "clienttop",
        "clientwidth",
        "comparedocumentposition",
        "computedname",
        "computedrole",
        "contenteditable",
        "createshadowroot",
        "enqueaction",
        "firstchild",
        "firstelementchild",
        "getanimations",
        "getattribute",
        "getattributens",
        "getattributenode",
        "getattributenodens",
        "getboundingclientrect",
        "getclientrects",
        "getdestinationinsertionpoints",
        "getelementsbyclassname",
        "getelementsbytagname",
        "getelementsbytagnamens",
        "getrootnode",
        "hasattribute",
        "hasattributens",
        "hasattributes",
        "haschildnodes",
        "haspointercapture",
        "innerhtml",
        "innertext",
        "inputmode",
        "insertadjacentelement",
        "insertadjacenthtml",
        "insertadjacenttext",
        "iscontenteditable",
        "isdefaultnamespace",
        "isequalnode",
        "issamenode",
        "lastchild",
        "lastelementchild",
        "lookupnamespaceuri",
        "namespaceuri",
        "nextelementsibling",
        "nextsibling",
        "nodename",
        "nodetype",
        "nodevalue",
        "offsetheight",
        "offsetleft",
        "offsetparent",
        "offsettop",
        "offsetwidth",
        "outerhtml",
        "outertext",
        "ownerdocument",
        "parentelement",
        "parentnode",
        "previouselementsibling",
        "previoussibling",
        "queryselector",
        "queryselectorall",
        "releasepointercapture",
        "removeattribute",
        "removeattributens",
        "removeattributenode",
        "removechild",
        "removeeventlistener",
        "replacechild",
        "requestfullscreen",
        "requestpointerlock",
        "scrollheight",
        "scrollintoview",
        "scrollintoviewifneeded",
        "scrollleft",
        "scrolltop",
        "scrollwidth",
        "setattribute",
        "setattributens",
        "setattributenode",
        "setattributenodens",
        "setpointercapture",
        "shadowroot",
        "stylemap",
        "tabindex",
        "tagname",
        "textcontent",
        "tostring",
        "valueof",
    ];
    let id = id.to_ascii_lowercase();
    let vendor = ["webkit", "moz", "ms", "o"].iter().any(|v| {
        id.strip_prefix(v).is_some_and(|rest| {
            ["dropzone", "matchesselector", "requestfullscreen"].contains(&rest)
        })
    });
    id.starts_with("__amp_")
        || id.starts_with("i-amphtml-")
        || vendor
        || NAMES.contains(&id.as_str())
}

/// A plain `<img>` (AMP allows it, and it needs no runtime to show), sized so the page does not
/// move while it loads.
fn amp_img(img: &ImageSrc, alt: &str) -> String {
    let (src, alt) = (escape_attr(&img.src), escape_attr(alt));
    let (w, h) = (img.width, img.height);
    format!(
        "<img src=\"{src}\" width=\"{w}\" height=\"{h}\" alt=\"{alt}\" loading=\"lazy\" decoding=\"async\">"
    )
}

/// Escapes text for a double-quoted HTML attribute.
pub(crate) fn escape_attr(s: &str) -> String {
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
pub(crate) fn is_safe_url(url: &str) -> bool {
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
    fn equal_headings_number_like_before_in_linear_time() {
        let html = render_markdown_plain("# x\n# x\n# x-2\n# x\n# x-3\n#\n#\n## X!\n");
        let ids: Vec<&str> = html
            .split("id=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .collect();
        assert_eq!(
            ids,
            [
                "x",
                "x-2",
                "x-2-2",
                "x-3",
                "x-3-2",
                "section",
                "section-2",
                "x-4"
            ]
        );
        // 50,000 equal headings after 50,000 taken numbers: a second, not an hour.
        let mut a = Anchors::default();
        for n in 2..50_000 {
            a.unique(&format!("y-{n}"));
        }
        let start = std::time::Instant::now();
        for _ in 0..50_000 {
            a.unique("y");
        }
        assert_eq!(a.unique("y"), "y-99999");
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn images_become_sized_img() {
        let html = render_markdown("![A \"shot\"](shot.png) ![gone](missing.png)", &|url| {
            (url == "shot.png").then(|| ImageSrc {
                src: "../1.0-1/img/shot-ab.png".into(),
                width: 640,
                height: 480,
            })
        });
        assert!(html.contains("<img src=\"../1.0-1/img/shot-ab.png\" width=\"640\" height=\"480\" alt=\"A &quot;shot&quot;\""), "{html}");
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
    fn footnote_labels_and_headings_make_anchors_amp_accepts() {
        let html = render_markdown_plain(
            "# main\n\n# `__amp_x`\n\n# toString\n\n# i-amphtml-x\n\n\
             A[^main] b[^\"><x y] c[^__amp_x] d[^Main]\n\n\
             [^main]: one\n[^\"><x y]: two\n[^__amp_x]: three\n",
        );
        let ids: Vec<&str> = html
            .split(" id=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .collect();
        assert_eq!(
            ids,
            [
                "main",
                "section-__amp_x",
                "section-tostring",
                "section-i-amphtml-x",
                "fn-main",
                "fn-x-y",
                "fn-__amp_x"
            ],
            "{html}"
        );
        // References point at the definitions' anchors, numbered as before.
        assert!(html.contains("<a href=\"#fn-main\">1</a>"), "{html}");
        assert!(html.contains("<a href=\"#fn-x-y\">2</a>"), "{html}");
        assert!(html.contains("<a href=\"#fn-__amp_x\">3</a>"), "{html}");
        assert_eq!(html.matches("href=\"#fn-main\"").count(), 2, "{html}");
        assert!(
            html.contains("id=\"fn-main\"><sup class=\"footnote-definition-label\">1</sup>"),
            "{html}"
        );
        for id in ids {
            assert!(!amp_forbids_id(id), "{id}");
        }
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
