//! The theme's strings in the site's language (`language:` in site.yaml). English is built in
//! and fills any key a translation leaves out; a site's theme folder may add or override
//! `i18n/<language>.yaml`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Result, bail};

use crate::limits;

const BUILT_IN: &[(&str, &str)] = &[
    ("en", include_str!("../../themes/default/i18n/en.yaml")),
    ("de", include_str!("../../themes/default/i18n/de.yaml")),
];

/// Strings by key.
#[derive(Debug, Clone)]
pub(crate) struct Strings {
    map: BTreeMap<String, String>,
}

impl Strings {
    /// English, for tests and as the base of every language.
    pub(crate) fn english() -> Strings {
        Strings {
            map: parse(BUILT_IN[0].1, Path::new("en.yaml"))
                .expect("built-in English strings parse"),
        }
    }

    /// The strings for `language`, with a site theme's `i18n/<language>.yaml` on top.
    pub(crate) fn load(language: &str, theme_dir: &Path) -> Result<Strings> {
        let mut strings = Strings::english();
        let own = theme_dir.join("i18n").join(format!("{language}.yaml"));
        let built_in = BUILT_IN.iter().find(|(l, _)| *l == language);
        if built_in.is_none() && !own.is_file() {
            let known: Vec<&str> = BUILT_IN.iter().map(|(l, _)| *l).collect();
            bail!(
                "language {language:?} has no strings: built in are {}; add {} to translate the theme",
                known.join(", "),
                own.display()
            );
        }
        if let Some((_, text)) = built_in {
            strings
                .map
                .extend(parse(text, Path::new(&format!("{language}.yaml")))?);
        }
        if own.is_file() {
            let text = limits::read_text_inside(
                &own,
                theme_dir,
                limits::MAX_THEME_FILE_BYTES,
                "strings file",
            )?;
            strings.map.extend(parse(&text, &own)?);
        }
        Ok(strings)
    }

    pub(crate) fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.map.get(key).map_or(key, String::as_str)
    }

    pub(crate) fn map(&self) -> &BTreeMap<String, String> {
        &self.map
    }
}

fn parse(text: &str, file: &Path) -> Result<BTreeMap<String, String>> {
    serde_yaml_ng::from_str(text).map_err(|e| crate::yaml::error_in(file, 0, Some(text), &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_language_has_every_english_key() {
        let en = Strings::english();
        for (lang, text) in BUILT_IN {
            let map = parse(text, Path::new(lang)).unwrap();
            for key in en.map.keys() {
                assert!(map.contains_key(key), "{lang} lacks {key}");
            }
        }
    }

    #[test]
    fn unknown_language_is_an_error() {
        let e = Strings::load("xx", Path::new("/nonexistent"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("en, de"), "{e}");
        assert_eq!(
            Strings::load("de", Path::new("/nonexistent"))
                .unwrap()
                .get("install_app"),
            "{name} {version} installieren"
        );
    }
}
