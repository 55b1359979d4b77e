//! Atom feeds (RFC 4287): one for the site, one per app; an entry per release with its notes.

use std::fmt::Write as _;

use super::views::{ReleaseView, SiteView};
use crate::notes::escape_attr;

/// What a feed is about.
pub(super) struct FeedMeta<'a> {
    pub title: &'a str,
    pub subtitle: Option<&'a str>,
    /// The feed's own absolute URL (also its id).
    pub self_url: &'a str,
    /// The page the feed is the feed of.
    pub page_url: &'a str,
}

const EPOCH: &str = "1970-01-01T00:00:00Z";

/// Serialises a feed; entries are ordered newest first (by date, then as given).
pub(super) fn atom(
    site: &SiteView<'_>,
    meta: &FeedMeta<'_>,
    releases: &[&ReleaseView<'_>],
) -> Vec<u8> {
    let mut entries: Vec<&&ReleaseView<'_>> = releases.iter().collect();
    entries.sort_by(|a, b| b.date_iso.cmp(&a.date_iso));
    let updated = entries
        .iter()
        .filter_map(|r| r.date_iso.as_deref())
        .max()
        .unwrap_or(EPOCH);

    let mut x = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    let _ = writeln!(
        x,
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">",
        site.language
    );
    let _ = writeln!(x, "  <title>{}</title>", esc(meta.title));
    if let Some(sub) = meta.subtitle {
        let _ = writeln!(x, "  <subtitle>{}</subtitle>", esc(sub));
    }
    let _ = writeln!(x, "  <id>{}</id>", esc(meta.self_url));
    let _ = writeln!(
        x,
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>",
        esc(meta.self_url)
    );
    let _ = writeln!(
        x,
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
        esc(meta.page_url)
    );
    let _ = writeln!(x, "  <updated>{updated}</updated>");
    let _ = writeln!(x, "  <author><name>{}</name></author>", esc(site.title));
    let _ = writeln!(
        x,
        "  <generator version=\"{}\">otasite</generator>",
        env!("CARGO_PKG_VERSION")
    );
    for r in entries {
        let date = r.date_iso.as_deref().unwrap_or(EPOCH);
        let mut title = format!("{} {} ({})", r.name, r.version, r.build);
        if let Some(t) = r.title {
            let _ = write!(title, ": {t}");
        }
        x.push_str("  <entry>\n");
        let _ = writeln!(x, "    <title>{}</title>", esc(&title));
        let _ = writeln!(x, "    <id>{}</id>", esc(&r.page_url));
        let _ = writeln!(
            x,
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
            esc(&r.page_url)
        );
        if !r.ipa_in_site {
            // Only then: a feed reader finds an IPA in the site from the page's folder.
            let _ = writeln!(
                x,
                "    <link rel=\"enclosure\" type=\"application/octet-stream\" length=\"{}\" href=\"{}\"/>",
                r.size,
                esc(&r.ipa_url)
            );
        }
        let _ = writeln!(x, "    <published>{date}</published>");
        let _ = writeln!(x, "    <updated>{date}</updated>");
        let _ = writeln!(
            x,
            "    <category term=\"{}\" label=\"{}\"/>",
            esc(r.channel),
            esc(r.channel)
        );
        if let Some(s) = r.summary {
            let _ = writeln!(x, "    <summary>{}</summary>", esc(s));
        }
        let mut content = format!(
            "<p>{} {} (build {}), channel {}",
            r.name, r.version, r.build, r.channel
        );
        if let Some(min) = r.min_os {
            let _ = write!(content, ", iOS {min} or later");
        }
        content.push_str(".</p>");
        content.push_str(&r.notes_html_absolute);
        let _ = writeln!(
            x,
            "    <content type=\"html\" xml:base=\"{}\">{}</content>",
            esc(&r.page_url),
            esc(&content)
        );
        x.push_str("  </entry>\n");
    }
    x.push_str("</feed>\n");
    x.into_bytes()
}

/// Escapes XML text and attribute values, dropping characters XML 1.0 cannot hold.
fn esc(s: &str) -> String {
    escape_attr(&crate::text::xml_safe(s))
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_and_drops_invalid_characters() {
        assert_eq!(
            esc("a & <b> \"c\"\u{1}\u{FFFF}"),
            "a &amp; &lt;b&gt; &quot;c&quot;"
        );
    }
}
