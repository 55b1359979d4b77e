//! The functions the fuzz targets (`fuzz/`) call, one per parser. Each must return normally on
//! any input; the notes one also asserts the HTML is safe. `tests/it/fuzz_corpus.rs` runs the
//! saved corpus through them on every `cargo test`, so a crash once found stays fixed.

use std::io::Cursor;
use std::path::Path;

/// The IPA reader, on archive bytes.
pub fn ipa(data: &[u8]) {
    let _ = crate::ipa::read_ipa_from(
        Cursor::new(data),
        Path::new("fuzz.ipa"),
        crate::ipa::ReadOptions { hash: true },
    );
}

/// The Info.plist reader.
pub fn info_plist(data: &[u8]) {
    let _ = crate::ipa::parse_info_plist(data, "Fuzz");
}

/// The provisioning profile (CMS) parser.
pub fn profile(data: &[u8]) {
    let _ = crate::ipa::parse_profile(data);
}

/// The PNG / CgBI decoder and converter.
pub fn png(data: &[u8]) {
    let _ = crate::icon::png_header(data);
    let _ = crate::icon::to_standard_png(data);
}

/// The notes renderer: whatever a note says, the HTML has no active content.
pub fn notes(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(notes) = crate::notes::parse_notes(text, Path::new("fuzz.md")) else {
        return;
    };
    let html = notes.html("img/");
    assert_safe_html(&html);
}

/// The `site.yaml` parser.
pub fn config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::config::Config::parse(text, Path::new("site.yaml"));
    }
}

/// Panics if the HTML has a script, an event handler, an iframe, a `javascript:` URL or a
/// style injection in any tag.
pub fn assert_safe_html(html: &str) {
    let lower = html.to_ascii_lowercase();
    for tag in lower
        .split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap_or(""))
    {
        let name = tag
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("");
        assert!(
            ![
                "script", "iframe", "style", "object", "embed", "base", "form", "meta", "link"
            ]
            .contains(&name),
            "<{name}> in notes HTML: {html}"
        );
        for attr in crate::html::tags(&format!("<{tag}>"))
            .iter()
            .flat_map(|t| t.attrs.clone())
        {
            let (name, value) = (attr.0, attr.1.unwrap_or_default());
            assert!(
                !(name.starts_with("on") && name.len() > 2),
                "event handler {name} in {html}"
            );
            // Table alignment is the one style Markdown writes; nothing else may set one.
            assert!(
                name != "style"
                    || [
                        "text-align: left",
                        "text-align: center",
                        "text-align: right"
                    ]
                    .contains(&value.as_str()),
                "style attribute in {html}"
            );
            // Anchors are slugs the AMP validator accepts (a footnote label once went through
            // as written).
            assert!(
                name != "id"
                    || (value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
                        && !crate::notes::amp_forbids_id(&value)),
                "id {value:?} in {html}"
            );
            if name == "href" || name == "src" {
                let v: String = crate::html::decode_entities(&value)
                    .chars()
                    .filter(|c| !c.is_whitespace() && !c.is_control())
                    .collect();
                let v = v.to_ascii_lowercase();
                assert!(
                    !v.starts_with("javascript:")
                        && !v.starts_with("vbscript:")
                        && !v.starts_with("data:"),
                    "script URL in {html}"
                );
            }
        }
    }
}
