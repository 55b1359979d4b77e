//! Release notes: optional YAML front matter, then Markdown.
//!
//! `parse_notes` is pure; `load_notes` reads the file (with a size limit) and calls it.

mod markdown;

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;

#[cfg(feature = "testkit")]
pub(crate) use markdown::amp_forbids_id;
pub(crate) use markdown::{ImageSrc, escape_attr, image_refs, render_markdown};

use crate::{config::key_line, limits};

/// Front matter keys a notes file may set.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FrontMatter {
    title: Option<String>,
    date: Option<String>,
    channel: Option<String>,
    draft: bool,
    summary: Option<String>,
    private: Option<bool>,
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
    /// `private:` from the front matter; `None` follows site.yaml.
    pub private: Option<bool>,
    /// The Markdown body.
    pub markdown: String,
    /// Images the body shows, found next to the notes file.
    pub images: Vec<NoteImage>,
    /// The 1-based line of the notes file where the body starts (for messages).
    pub body_line: usize,
    /// The body as HTML with [`IMAGE_DIR_MARK`] where the images' folder goes: rendered
    /// once when the file is loaded, so each build only fills in the folder.
    pub html_marked: Option<String>,
}

/// Stands for the images' folder in `Notes::html_marked`. It cannot come from a note:
/// Markdown replaces NUL characters.
pub(crate) const IMAGE_DIR_MARK: &str = "\u{0}images\u{0}";

/// An image a note shows: copied into the release folder under a name with its content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteImage {
    /// The destination as written in the Markdown.
    pub reference: String,
    pub source: PathBuf,
    pub width: u32,
    pub height: u32,
    /// `<slug>-<hash>.<ext>`: a new image never reuses a cached name.
    pub file_name: String,
}

impl Notes {
    /// Notes for a release that has no notes file.
    pub fn empty() -> Notes {
        Notes {
            channel: "stable".into(),
            body_line: 1,
            ..Notes::default()
        }
    }

    /// Safe HTML of the body; images are linked under `image_dir` (relative to the page).
    pub fn html(&self, image_dir: &str) -> String {
        match &self.html_marked {
            Some(html) => html.replace(IMAGE_DIR_MARK, image_dir),
            None => self.render_html(image_dir),
        }
    }

    fn render_html(&self, image_dir: &str) -> String {
        let by_reference: std::collections::HashMap<&str, &NoteImage> = self
            .images
            .iter()
            .map(|i| (i.reference.as_str(), i))
            .collect();
        render_markdown(&self.markdown, &|reference| {
            by_reference.get(reference).map(|i| ImageSrc {
                src: format!("{image_dir}{}", i.file_name),
                width: i.width,
                height: i.height,
            })
        })
    }
}

/// Reads and parses a notes file, and finds the images it shows.
pub(crate) fn load_notes(path: &Path) -> Result<Notes> {
    let text = limits::read_text_limited(path, limits::MAX_NOTES_BYTES, "notes file")?;
    parse_budget::within(text.len() as u64, || {
        let mut notes = parse_notes(&text, path)?;
        notes.images = find_images(&notes, path)?;
        notes.html_marked = Some(notes.render_html(IMAGE_DIR_MARK));
        Ok(notes)
    })
}

/// Refuses a build whose notes add up to more than `limit` bytes (`what` measures them; each
/// file counted once), naming the largest files: pages, feeds and `releases.json` each repeat
/// every note, so the whole build's notes are bounded, not only each file.
pub(crate) fn check_total(
    sizes: impl IntoIterator<Item = (PathBuf, u64)>,
    limit: u64,
    limit_name: &str,
    what: &str,
) -> Result<()> {
    let mut sizes: Vec<(PathBuf, u64)> = sizes.into_iter().collect();
    sizes.sort();
    sizes.dedup_by(|a, b| a.0 == b.0);
    let total: u64 = sizes.iter().map(|(_, n)| n).sum();
    if total <= limit {
        return Ok(());
    }
    sizes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mib = |n: u64| n as f64 / (1024.0 * 1024.0);
    let largest: Vec<String> = sizes
        .iter()
        .take(5)
        .map(|(p, n)| format!("{} ({:.1} MiB)", p.display(), mib(*n)))
        .collect();
    bail!(
        "the release notes of this site add up to {:.1} MiB of {what}, over the {:.0} MiB limit \
         for one build (limits::{limit_name}); shorten the largest: {}",
        mib(total),
        mib(limit),
        largest.join(", ")
    )
}

/// How much notes text is parsed at once, across threads.
///
/// Parsing Markdown costs memory in proportion to the text, many times over for some shapes
/// (a table of one-letter cells: one parser node per cell), and notes load in parallel: so
/// the notes in parse at one time are bounded in bytes, not by the number of cores.
mod parse_budget {
    use std::sync::{Condvar, Mutex, PoisonError};

    use crate::limits::MAX_NOTES_PARSE_BYTES;

    static USED: Mutex<u64> = Mutex::new(0);
    static FREED: Condvar = Condvar::new();

    /// Runs `parse` once `bytes` of text fit in the budget (a file larger than the whole
    /// budget waits until nothing else is parsed).
    pub(super) fn within<T>(bytes: u64, parse: impl FnOnce() -> T) -> T {
        let want = bytes.min(MAX_NOTES_PARSE_BYTES);
        let mut used = USED.lock().unwrap_or_else(PoisonError::into_inner);
        while *used > 0 && *used + want > MAX_NOTES_PARSE_BYTES {
            used = FREED.wait(used).unwrap_or_else(PoisonError::into_inner);
        }
        *used += want;
        drop(used);
        let _release = Release(want);
        parse()
    }

    /// Gives the bytes back, also when parsing panicked.
    struct Release(u64);

    impl Drop for Release {
        fn drop(&mut self) {
            let mut used = USED.lock().unwrap_or_else(PoisonError::into_inner);
            *used = used.saturating_sub(self.0);
            FREED.notify_all();
        }
    }
}

/// Resolves the local images a note references; a missing one is an error with its line.
///
/// References are many where files are few (`a.png?1`, `a.png?2`... 150,000 of them fit in a
/// notes file): each file is sized, read and hashed once, found by its identity on disk.
fn find_images(notes: &Notes, path: &Path) -> Result<Vec<NoteImage>> {
    use std::collections::{HashMap, HashSet};
    let dir = path.parent().unwrap_or(Path::new("."));
    let base = std::fs::canonicalize(dir).ok();
    let mut images: Vec<NoteImage> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    // A file's identity -> index in `images` of the first reference to it.
    let mut files: HashMap<FileId, usize> = HashMap::new();
    for (reference, offset) in image_refs(&notes.markdown) {
        let lower = reference.to_ascii_lowercase();
        if lower.contains(':') || lower.starts_with("//") || seen.contains(&reference) {
            // Remote and data URLs cannot be sized for AMP: their alt text is shown instead.
            continue;
        }
        seen.insert(reference.clone());
        // Counting lines is linear in the text: only done for a message.
        let at = || {
            let line = notes.body_line + notes.markdown[..offset].matches('\n').count();
            format!("{}:{line}", path.display())
        };
        let decoded =
            percent_encoding::percent_decode_str(reference.split(['?', '#']).next().unwrap_or(""))
                .decode_utf8_lossy()
                .into_owned();
        let rel = Path::new(&decoded);
        if decoded.is_empty()
            || !rel
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)))
        {
            bail!(
                "{}: image {reference:?} must be a file next to the notes (no `..`, no absolute path)",
                at()
            );
        }
        let source = dir.join(rel);
        let meta = std::fs::metadata(&source).ok().filter(|m| m.is_file());
        let Some(meta) = meta else {
            bail!(
                "{}: image {reference:?} not found: put {} next to the notes file, or fix the name",
                at(),
                source.display()
            );
        };
        let id = file_id(&source, &meta);
        if let Some(&first) = files.get(&id) {
            // The same file again: the first reference checked, sized and hashed it.
            let image = NoteImage {
                reference,
                ..images[first].clone()
            };
            images.push(image);
            continue;
        }
        // A symbolic link must not smuggle a file from elsewhere onto the public site.
        let inside = match (std::fs::canonicalize(&source), &base) {
            (Ok(real), Some(base)) => real.starts_with(base),
            _ => false,
        };
        if !inside {
            bail!(
                "{}: image {reference:?} is a link to a file outside the notes folder; copy the image next to the notes instead",
                at()
            );
        }
        let size = imagesize::size(&source).map_err(|e| {
            anyhow::anyhow!(
                "{}: {reference:?} is not a PNG, JPEG, GIF or WebP image ({e})",
                at()
            )
        })?;
        let bytes = limits::read_limited(&source, limits::MAX_NOTE_IMAGE_BYTES, "image")?;
        let digest = crate::ipa::to_hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        let stem = rel
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let ext = rel
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_else(|| "img".into());
        files.insert(id, images.len());
        images.push(NoteImage {
            file_name: format!(
                "{}-{}.{}",
                crate::urls::slugify(&stem, "image"),
                &digest[..10],
                crate::urls::slugify(&ext, "img")
            ),
            reference,
            source,
            width: u32::try_from(size.width).unwrap_or(u32::MAX),
            height: u32::try_from(size.height).unwrap_or(u32::MAX),
        });
    }
    Ok(images)
}

/// A file's identity on disk: a hard link or another spelling (`A.png` on a case-insensitive
/// disk) is the same file.
#[cfg(unix)]
type FileId = (u64, u64);
#[cfg(not(unix))]
type FileId = PathBuf;

#[cfg(unix)]
fn file_id(_path: &Path, meta: &std::fs::Metadata) -> FileId {
    use std::os::unix::fs::MetadataExt as _;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn file_id(path: &Path, _meta: &std::fs::Metadata) -> FileId {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Parses notes text; `file` is used only in messages.
pub fn parse_notes(text: &str, file: &Path) -> Result<Notes> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (front_text, body) = split_front_matter(text, file)?;
    let body_line = 1 + text[..text.len() - body.len()].matches('\n').count();
    let front: FrontMatter = match front_text {
        Some(yaml) if !yaml.trim().is_empty() => serde_yaml_ng::from_str(yaml)
            .map_err(|e| crate::yaml::error_in(file, 1, Some(yaml), &e))?,
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
        // Shown on one line in pages and feeds: no direction override may run on from it.
        title: front
            .title
            .map(|t| crate::text::one_line(&t))
            .filter(|t| !t.trim().is_empty()),
        date,
        channel,
        draft: front.draft,
        summary: front
            .summary
            .map(|s| crate::text::display_safe(&s))
            .filter(|s| !s.trim().is_empty()),
        private: front.private,
        markdown: body.to_string(),
        images: Vec::new(),
        html_marked: None,
        body_line,
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
///
/// The year (in UTC) must have four digits: feeds and `releases.json` write the date as RFC
/// 3339, which has no `-0001` or `+12345` (chrono reads and writes both).
pub(crate) fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    use chrono::Datelike as _;
    parse_any_date(s).filter(|d| (0..=9999).contains(&d.year()))
}

fn parse_any_date(s: &str) -> Option<DateTime<Utc>> {
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
        assert!(n.html("").contains("<h1 id=\"hello\">Hello</h1>"));
        assert_eq!(n.body_line, 6);
        assert!(!n.draft);
    }

    #[test]
    fn title_and_summary_carry_no_direction_override() {
        let n = parse(
            "---\ntitle: \"Fix \\u202E\\u0007 3.2.1\\n\"\nsummary: \"a\\u2066b\\nc\\u0000\"\n---\n",
        )
        .unwrap();
        assert_eq!(n.title.as_deref(), Some("Fix  3.2.1 "));
        assert_eq!(n.summary.as_deref(), Some("ab\nc"));
    }

    #[test]
    fn no_front_matter_means_defaults() {
        let n = parse("Just notes\n").unwrap();
        assert_eq!(n.channel, "stable");
        assert!(n.html("").contains("<p>Just notes</p>"));
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
    fn images_next_to_the_notes() {
        let dir = tempfile::tempdir().unwrap();
        let png = crate::icon::encode_png(&crate::icon::Rgba {
            width: 4,
            height: 3,
            pixels: vec![0; 48],
        });
        std::fs::write(dir.path().join("Shot 1.PNG"), &png).unwrap();
        let notes = dir.path().join("notes.md");
        std::fs::write(&notes, "---\ntitle: x\n---\nText\n\n![the shot](Shot%201.PNG)\n![far](https://x.example/a.png)\n").unwrap();
        let n = load_notes(&notes).unwrap();
        assert_eq!(n.images.len(), 1);
        assert_eq!((n.images[0].width, n.images[0].height), (4, 3));
        assert!(
            n.images[0].file_name.starts_with("shot-1-") && n.images[0].file_name.ends_with(".png")
        );
        let html = n.html("../1.0-1/img/");
        assert!(
            html.contains(&format!("src=\"../1.0-1/img/{}\"", n.images[0].file_name)),
            "{html}"
        );

        std::fs::write(&notes, "---\ntitle: x\n---\nText\n\n![gone](nope.png)\n").unwrap();
        let e = format!("{:#}", load_notes(&notes).unwrap_err());
        assert!(e.contains("notes.md:6") && e.contains("nope.png"), "{e}");
        std::fs::write(&notes, "![up](../secret.png)\n").unwrap();
        assert!(format!("{:#}", load_notes(&notes).unwrap_err()).contains("next to the notes"));
        std::fs::write(dir.path().join("fake.png"), "not an image").unwrap();
        std::fs::write(&notes, "![f](fake.png)\n").unwrap();
        assert!(format!("{:#}", load_notes(&notes).unwrap_err()).contains("not a PNG"));
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
        for s in ["-0001-01-01", "+12345-01-01", "9999-12-31T23:59:59-01:00"] {
            assert!(parse_date(s).is_none(), "{s}");
        }
        assert!(parse_date("0000-01-01").is_some());
    }
}
