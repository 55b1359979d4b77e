//! One finding about a site, whoever finds it: a build warning, a `check` problem, the reason
//! a page shows instead of its install button. Every finding has a severity, a stable code
//! (for scripts and for the pages), the file (and line) it is about, what is wrong and the fix.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth fixing; installs still work.
    Warning,
    /// An install will fail (or the site will not deploy) until it is fixed.
    Error,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub severity: Severity,
    /// Stable, for scripts: `link-http`, `manifest-missing-key`, `profile-expired`, ...
    pub code: Cow<'static, str>,
    /// The file it is about (empty: the whole site).
    pub file: String,
    /// The line in `file`, counted from 1, where one is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub message: String,
    pub fix: String,
}

impl Problem {
    pub fn error(
        code: &'static str,
        file: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Problem::new(Severity::Error, code, file, message, fix)
    }

    pub fn warning(
        code: &'static str,
        file: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Problem::new(Severity::Warning, code, file, message, fix)
    }

    fn new(
        severity: Severity,
        code: &'static str,
        file: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Problem {
            severity,
            code: Cow::Borrowed(code),
            file: file.into(),
            line: None,
            message: message.into(),
            fix: fix.into(),
        }
    }

    /// The same finding, at `line` of its file.
    pub fn at_line(self, line: usize) -> Self {
        Problem {
            line: Some(line),
            ..self
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line`, `file`, or empty for the whole site.
    pub fn location(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{line}", self.file),
            None => self.file.clone(),
        }
    }
}

/// One line: `file:line: message; fix`.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.location();
        if !at.is_empty() {
            write!(f, "{at}: ")?;
        }
        write!(f, "{}; {}", self.message, self.fix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_with_the_place_first() {
        let p = Problem::warning("x", "a/b.html", "it is wrong", "mend it").at_line(3);
        assert_eq!(p.to_string(), "a/b.html:3: it is wrong; mend it");
        let site = Problem::error("y", "", "too big", "make it smaller");
        assert_eq!(site.to_string(), "too big; make it smaller");
        assert!(site.is_error() && !p.is_error());
    }

    #[test]
    fn survives_a_round_trip() {
        let p = Problem::error("profile-expired", "a.ipa", "m", "f");
        let back: Problem = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }
}
