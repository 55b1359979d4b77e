//! Release notes: optional YAML front matter, then Markdown.
//!
//! `parse_notes` is pure; `load_notes` reads the file (with a size limit) and calls it.

mod markdown;

use std::path::Path;

use anyhow::{Result, bail};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;

pub use markdown::{is_safe_url, render_markdown};

use crate::{config::key_line, config::yaml_error, limits};

/// Front matter keys a notes file may set.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FrontMatter {
    title: Option<String>,
    date: Option<String>,
    channel: Option<String>,
    draft: bool,
    summary: Option<String>,
}

/// A parsed notes file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Notes {
    pub title: Option<String>,
    pub date: Option<DateTime<Utc>>,
    /// `stable` unless the front matter says otherwise.
    pub channel: String,
    pub draft: bool,
    pub summary: Option<String>,
    /// Safe HTML rendered from the Markdown body.
    pub html: String,
}

impl Notes {
    /// Notes for a release that has no notes file.
    pub fn empty() -> Notes {
        Notes {
            channel: "stable".into(),
            ..Notes::default()
        }
    }
}

/// Reads and parses a notes file.
pub fn load_notes(path: &Path) -> Result<Notes> {
    let text = limits::read_text_limited(path, limits::MAX_NOTES_BYTES, "notes file")?;
    parse_notes(&text, path)
}

/// Parses notes text; `file` is used only in messages.
pub fn parse_notes(text: &str, file: &Path) -> Result<Notes> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (front_text, body) = split_front_matter(text, file)?;
    let front: FrontMatter = match front_text {
        Some(yaml) if !yaml.trim().is_empty() => {
            serde_yaml_ng::from_str(yaml).map_err(|e| yaml_error(file, 1, &e))?
        }
        _ => FrontMatter::default(),
    };
    let at = |key: &str| match front_text.and_then(|t| key_line(t, key)) {
        Some(line) => format!("{}:{}", file.display(), line + 1),
        None => file.display().to_string(),
    };
    let date = match front.date.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(d) => Some(parse_date(d).ok_or_else(|| {
            anyhow::anyhow!(
                "{}: date {d:?} is not a date: write it as 2024-05-01, \
                 2024-05-01 14:30 or 2024-05-01T14:30:00+02:00",
                at("date")
            )
        })?),
    };
    let channel = front
        .channel
        .map(|c| c.trim().to_string())
        .unwrap_or_default();
    let channel = if channel.is_empty() {
        "stable".to_string()
    } else {
        channel
    };
    if !channel
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        bail!(
            "{}: channel {channel:?} may only use letters, digits, `-`, `_` and `.` \
             (it becomes part of a URL), e.g. `channel: beta`",
            at("channel")
        );
    }
    Ok(Notes {
        title: front.title.filter(|t| !t.trim().is_empty()),
        date,
        channel,
        draft: front.draft,
        summary: front.summary.filter(|s| !s.trim().is_empty()),
        html: render_markdown(body),
    })
}

/// Splits `---\n<yaml>\n---\n<body>`; text without an opening `---` line is all body.
fn split_front_matter<'a>(text: &'a str, file: &Path) -> Result<(Option<&'a str>, &'a str)> {
    let first_line_end = text.find('\n').unwrap_or(text.len());
    if text[..first_line_end].trim_end() != "---" {
        return Ok((None, text));
    }
    let rest = &text[(first_line_end + 1).min(text.len())..];
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed == "..." {
            return Ok((Some(&rest[..offset]), &rest[offset + line.len()..]));
        }
        offset += line.len();
    }
    bail!(
        "{}:1: the front matter opened by `---` on line 1 is never closed: add a line `---` \
         after the last key",
        file.display()
    )
}

/// Accepts `2024-05-01`, `2024-05-01 14:30[:00]`, `2024-05-01T14:30[:00]` and RFC 3339.
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, format) {
            return Some(d.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Notes> {
        parse_notes(text, Path::new("releases/1.0/notes.md"))
    }

    #[test]
    fn front_matter_and_body() {
        let n =
            parse("---\ntitle: Big one\ndate: 2024-05-01\nchannel: beta\n---\n# Hello\n").unwrap();
        assert_eq!(n.title.as_deref(), Some("Big one"));
        assert_eq!(n.channel, "beta");
        assert_eq!(n.date.unwrap().to_rfc3339(), "2024-05-01T00:00:00+00:00");
        assert!(n.html.contains("<h1>Hello</h1>"));
        assert!(!n.draft);
    }

    #[test]
    fn no_front_matter_means_defaults() {
        let n = parse("Just notes\n").unwrap();
        assert_eq!(n.channel, "stable");
        assert!(n.html.contains("<p>Just notes</p>"));
    }

    #[test]
    fn yaml_error_names_file_and_line() {
        let e = parse("---\ntitle: ok\nchanel: beta\n---\nbody").unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("releases/1.0/notes.md:3"), "{msg}");
        assert!(msg.contains("chanel"), "{msg}");
    }

    #[test]
    fn bad_date_names_the_line() {
        let msg = format!(
            "{:#}",
            parse("---\ntitle: x\ndate: yesterday\n---\n").unwrap_err()
        );
        assert!(msg.contains("notes.md:3"), "{msg}");
        assert!(msg.contains("yesterday"), "{msg}");
    }

    #[test]
    fn unclosed_front_matter() {
        let msg = format!("{:#}", parse("---\ntitle: x\n").unwrap_err());
        assert!(msg.contains("never closed"), "{msg}");
    }

    #[test]
    fn channel_must_be_url_safe() {
        assert!(parse("---\nchannel: my beta\n---\n").is_err());
        assert!(parse("---\nchannel: nightly-2\n---\n").is_ok());
    }

    #[test]
    fn dates_in_several_forms() {
        for s in [
            "2024-05-01",
            "2024-05-01 10:00",
            "2024-05-01T10:00:00",
            "2024-05-01T10:00:00+02:00",
        ] {
            assert!(parse_date(s).is_some(), "{s}");
        }
        assert!(parse_date("2024-13-01").is_none());
    }
}
