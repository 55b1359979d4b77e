//! YAML errors (site.yaml, notes front matter, theme strings) as otasite prints them: the file,
//! line and column, the parser's message, and what to write instead. The parser's own words
//! ("mapping values are not allowed in this context") name a rule of YAML, not the fix.

use std::path::Path;

/// Formats a YAML error as `file:line:column: message; fix`, shifting lines by `line_offset`
/// (front matter starts after its `---` line). `text` is what was parsed, for the fixes that
/// quote the line; without it (`None`) only the fixes that need no text are given.
pub(crate) fn error_in(
    file: &Path,
    line_offset: usize,
    text: Option<&str>,
    e: &serde_yaml_ng::Error,
) -> anyhow::Error {
    let message = strip_location(&e.to_string());
    let at = e.location().map(|l| (l.line(), l.column()));
    let fix = fix(&message, text, at, line_offset);
    let said = match fix {
        Some(fix) => format!("{message}; {fix}"),
        None => message,
    };
    match at {
        Some((line, column)) => {
            anyhow::anyhow!("{}:{}:{column}: {said}", file.display(), line + line_offset)
        }
        None => anyhow::anyhow!("{}: {said}", file.display()),
    }
}

/// serde_yaml_ng appends " at line L column C" to messages; we print the location up front.
fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// What to do about `message`, reported at `at` (1-based line and column) of `text`, which
/// starts at line `line_offset + 1` of its file.
fn fix(
    message: &str,
    text: Option<&str>,
    at: Option<(usize, usize)>,
    line_offset: usize,
) -> Option<String> {
    if let Some(fix) = unknown_name(message) {
        return Some(fix);
    }
    let (line_no, column) = at?;
    let line = text?.lines().nth(line_no.checked_sub(1)?)?;
    let found = line.chars().nth(column.checked_sub(1)?);
    if message.contains("tab character") || found == Some('\t') {
        return Some(format!(
            "replace the tab at line {}, column {column} with spaces: YAML indents with spaces \
             only",
            line_no + line_offset
        ));
    }
    if message.starts_with("mapping values are not allowed") {
        return Some(match key_and_value(line) {
            Some((key, value)) if !line.starts_with(char::is_whitespace) => format!(
                "the value of `{key}` contains \": \", which YAML reads as a new key: put the \
                 value in quotes, as in {key}: {}",
                quoted(value)
            ),
            _ => "a value containing \": \" must be quoted (title: \"Fix: crash\"), and a line \
                  indented under a plain value is read as part of it: start it at the column \
                  of the keys"
                .to_string(),
        });
    }
    if message.starts_with("found character that cannot start any token") {
        let c = found?;
        return Some(match key_and_value(line) {
            Some((key, value)) => format!(
                "a plain value cannot start with `{c}`: put the value of `{key}` in quotes, as \
                 in {key}: {}",
                quoted(value)
            ),
            None => format!("a plain value cannot start with `{c}`: put the value in quotes"),
        });
    }
    None
}

/// "did you mean …?" for serde's "unknown field `x`, expected one of `a`, `b`" (and
/// "unknown variant"), whose list stays in the message.
fn unknown_name(message: &str) -> Option<String> {
    let rest = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|p| message.split_once(p).map(|(_, rest)| rest))?;
    let (word, rest) = rest.split_once('`')?;
    let expected: Vec<&str> = rest
        .split_once("expected")
        .map(|(_, list)| list.split('`').skip(1).step_by(2).collect())
        .unwrap_or_default();
    Some(
        match crate::suggest::likely(word, expected.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None if expected.is_empty() => format!("remove `{word}`"),
            None => format!("remove `{word}`, or write one of the names listed"),
        },
    )
}

/// `key` and the value after `key:` on a line of a block mapping, without a trailing comment.
fn key_and_value(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(':')?;
    let key = key.trim();
    let simple = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    let value = value.split(" #").next().unwrap_or(value).trim();
    (simple && !value.is_empty()).then_some((key, value))
}

/// `value` as a YAML quoted scalar: single quotes when it has double ones, else double.
fn quoted(value: &str) -> String {
    if value.contains('"') && !value.contains('\'') {
        format!("'{value}'")
    } else {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Keys {
        title: Option<String>,
        noindex: Option<bool>,
        hosting: Option<Vec<crate::config::Host>>,
    }

    fn said(text: &str) -> String {
        let e = serde_yaml_ng::from_str::<Keys>(text).unwrap_err();
        error_in(Path::new("site.yaml"), 0, Some(text), &e).to_string()
    }

    #[test]
    fn a_colon_in_a_value_says_to_quote_it() {
        let m = said("noindex: true\ntitle: Fix: crash # shown\n");
        assert!(m.starts_with("site.yaml:2:"), "{m}");
        assert!(m.contains("mapping values are not allowed"), "{m}");
        assert!(m.contains("title: \"Fix: crash\""), "{m}");
        let m = said("title: Say \"hi\": now\n");
        assert!(m.contains("title: 'Say \"hi\": now'"), "{m}");
    }

    #[test]
    fn a_tab_says_to_use_spaces() {
        let m = said("title: x\nhosting:\n\t- nginx\n");
        assert!(m.starts_with("site.yaml:3:1:"), "{m}");
        assert!(
            m.contains("replace the tab at line 3, column 1 with spaces"),
            "{m}"
        );
        let m = said("title: ok\n\tnoindex: true\n");
        assert!(m.contains("replace the tab"), "{m}");
        let m = said("title: @home\n");
        assert!(
            m.contains("cannot start with `@`") && m.contains("title: \"@home\""),
            "{m}"
        );
    }

    #[test]
    fn an_unknown_name_gets_the_closest_besides_the_list() {
        let m = said("title: x\nnoindx: false\n");
        assert!(m.starts_with("site.yaml:2:"), "{m}");
        assert!(m.contains("expected one of `title`"), "{m}");
        assert!(m.ends_with("; did you mean `noindex`?"), "{m}");
        let m = said("hosting: [ngnix]\n");
        assert!(m.contains("did you mean `nginx`?"), "{m}");
        let m = said("banana: 1\n");
        assert!(
            m.ends_with("remove `banana`, or write one of the names listed"),
            "{m}"
        );
    }
}
