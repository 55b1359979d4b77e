//! A small, lenient HTML tag scanner: enough to check generated pages (links, AMP rules)
//! without a browser engine. Comments are skipped; `<script>` and `<style>` contents are kept
//! as raw text of their element.

/// One tag as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tag {
    /// Lower-case name, without `/` for closing tags.
    pub name: String,
    pub closing: bool,
    /// Attribute names lower-cased; values as written (entities not decoded), `None` when bare.
    pub attrs: Vec<(String, Option<String>)>,
    /// Byte offset of `<` in the page.
    pub offset: usize,
    /// For `<script>` and `<style>`: the raw text up to the closing tag.
    pub raw_text: Option<String>,
}

impl Tag {
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_deref().unwrap_or(""))
    }

    pub(crate) fn has_attr(&self, name: &str) -> bool {
        self.attrs.iter().any(|(n, _)| n == name)
    }
}

/// The tags of a page, in order; `<!doctype>` is returned as a tag named `!doctype`.
pub(crate) fn tags(html: &str) -> Vec<Tag> {
    let bytes = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(rel) = html[i..].find('<') {
        let start = i + rel;
        if html[start..].starts_with("<!--") {
            i = html[start..]
                .find("-->")
                .map_or(html.len(), |e| start + e + 3);
            continue;
        }
        let Some(end_rel) = find_tag_end(&html[start..]) else {
            break;
        };
        let end = start + end_rel;
        let inner = &html[start + 1..end];
        i = end + 1;
        let (closing, inner) = match inner.strip_prefix('/') {
            Some(rest) => (true, rest),
            None => (false, inner),
        };
        let name_len = inner
            .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
            .unwrap_or(inner.len());
        let name = inner[..name_len].to_ascii_lowercase();
        if name.is_empty()
            || !(bytes[start + 1].is_ascii_alphabetic()
                || bytes[start + 1] == b'/'
                || bytes[start + 1] == b'!')
        {
            continue;
        }
        let mut tag = Tag {
            attrs: attributes(&inner[name_len..]),
            name,
            closing,
            offset: start,
            raw_text: None,
        };
        if !closing && (tag.name == "script" || tag.name == "style") {
            let close = format!("</{}", tag.name);
            // Not a lower-cased copy of the rest of the page for each script: quadratic.
            let body_end = find_ignoring_case(&html[i..], &close).map_or(html.len(), |e| i + e);
            tag.raw_text = Some(html[i..body_end].to_string());
            i = body_end;
        }
        out.push(tag);
    }
    out
}

/// The `>` that ends a tag starting at `s[0] == '<'`, skipping quoted attribute values.
fn find_tag_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices().skip(1) {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '>' => return Some(i),
            None => {}
        }
    }
    None
}

fn attributes(s: &str) -> Vec<(String, Option<String>)> {
    let mut attrs = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        while i < chars.len() && (chars[i].is_whitespace() || chars[i] == '/') {
            i += 1;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '=' && chars[i] != '/' {
            i += 1;
        }
        if start == i {
            i += 1;
            continue;
        }
        let name: String = chars[start..i]
            .iter()
            .collect::<String>()
            .to_ascii_lowercase();
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i < chars.len() && chars[i] == '=' {
            i += 1;
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            let value: String = if i < chars.len() && (chars[i] == '"' || chars[i] == '\'') {
                let q = chars[i];
                let vs = i + 1;
                i = vs;
                while i < chars.len() && chars[i] != q {
                    i += 1;
                }
                let v = chars[vs..i.min(chars.len())].iter().collect();
                i += 1;
                v
            } else {
                let vs = i;
                while i < chars.len() && !chars[i].is_whitespace() {
                    i += 1;
                }
                chars[vs..i].iter().collect()
            };
            attrs.push((name, Some(value)));
        } else {
            attrs.push((name, None));
        }
    }
    attrs
}

/// Decodes the few entities that appear in URLs of generated pages.
pub(crate) fn decode_entities(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

/// The line numbers of a page: counted once, so that naming the line of each of a million
/// tags takes no longer than reading the page.
pub(crate) struct Lines {
    newlines: Vec<usize>,
}

impl Lines {
    pub(crate) fn new(html: &str) -> Self {
        Lines {
            newlines: html
                .bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        }
    }

    /// The 1-based line of a byte offset.
    pub(crate) fn of(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&n| n < offset) + 1
    }
}

/// Where `needle` (lower-case ASCII) first occurs in `hay`, ignoring ASCII case, without
/// copying `hay`.
fn find_ignoring_case(hay: &str, needle: &str) -> Option<usize> {
    hay.as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_tags_attributes_and_raw_text() {
        let html = "<!doctype html><html ⚡ lang=en><!-- <a href=x> --><a href=\"a>b\" target='_top' download>x</a><script async src=\"v0.js\"></script><style amp-custom>a{b:c}</style><br/>";
        let t = tags(html);
        let names: Vec<&str> = t.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "!doctype", "html", "a", "a", "script", "script", "style", "style", "br"
            ]
        );
        assert!(t[1].has_attr("⚡"));
        assert_eq!(t[2].attr("href"), Some("a>b"));
        assert_eq!(t[2].attr("target"), Some("_top"));
        assert!(t[2].has_attr("download"));
        assert_eq!(t[6].raw_text.as_deref(), Some("a{b:c}"));
        assert!(t[3].closing);
        let t = tags("<SCRIPT>a</Script><b>");
        assert_eq!(t[0].raw_text.as_deref(), Some("a"));
        let lines = Lines::new("a\nb\n\nc");
        assert_eq!(
            [0, 1, 2, 3, 4, 5, 99].map(|o| lines.of(o)),
            [1, 1, 2, 2, 3, 4, 4]
        );
    }

    #[test]
    fn garbage_does_not_panic() {
        for s in [
            "<",
            "<a",
            "<a href=\"",
            "</",
            "<<>>",
            "<a =x>",
            "<!--",
            "<script>",
            "<ä ö=ü>",
        ] {
            let _ = tags(s);
        }
    }
}
