//! Text from untrusted sources (IPAs, profiles, folder names) made fit for the XML and HTML
//! otasite writes: a character XML 1.0 cannot hold makes a manifest or feed ill-formed, and
//! iOS then refuses the install without a word.

/// Whether XML 1.0 allows `c` in a document (`Char` production of the XML 1.0 spec):
/// tab, newline, carriage return, and everything from U+0020 except U+FFFE and U+FFFF
/// (Rust strings hold no surrogates).
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// Whether `c` embeds, overrides or isolates a direction (U+202A-U+202E, U+2066-U+2069): in a
/// name or title it runs on past its own text, so `Acme\u{202E}` shows the version written after
/// it backwards (`1.2.3` as `3.2.1`) on the page.
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Text shown on a page or in a feed: without what XML 1.0 forbids and without direction
/// overrides (see [`is_bidi_control`]); line breaks are kept.
pub(crate) fn display_safe(s: &str) -> String {
    s.chars()
        .filter(|&c| is_xml_char(c) && !is_bidi_control(c))
        .collect()
}

/// `s` without the characters XML 1.0 forbids.
pub(crate) fn xml_safe(s: &str) -> String {
    s.chars().filter(|&c| is_xml_char(c)).collect()
}

/// A one-line label from `s`: forbidden characters and direction overrides dropped, and other
/// control characters (newline, tab) turned into spaces, as names and versions are shown on one line.
pub(crate) fn one_line(s: &str) -> String {
    s.chars()
        .filter(|&c| is_xml_char(c) && !is_bidi_control(c))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `s` safe to print on a terminal: control characters (C0, DEL and C1, which start escape
/// sequences that retitle the terminal, move the cursor or hide text) and newlines (which
/// would forge lines of a report) written as `\u{1b}`. For text from the output folder, a
/// server or a file name, which `check` prints back.
pub(crate) fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_what_xml_forbids() {
        assert_eq!(
            xml_safe("a\u{0}b\u{1F}c\u{FFFE}d\u{FFFF}e\tf\n"),
            "abcde\tf\n"
        );
        assert_eq!(one_line("Acme\u{FFFE}\nBeta\u{7}"), "Acme Beta");
        assert!(is_xml_char('\u{10000}') && is_xml_char('\u{FFFD}'));
        assert_eq!(
            printable("a\u{1b}]0;x\u{7}\u{9b}2J\u{7f}\tb\nc"),
            "a\\u{1b}]0;x\\u{7}\\u{9b}2J\\u{7f}\\u{9}b\\u{a}c"
        );
        assert_eq!(one_line("Acme \u{202E}\u{2066}x\u{2069}\u{202C}"), "Acme x");
        assert_eq!(display_safe("a\u{202E}\nb\u{0}\u{200F}"), "a\nb\u{200F}");
    }
}
