//! Numbers, sizes and dates as the site's language writes them, from the theme's strings
//! (`decimal_separator`, `thousands_separator`, `bytes`, `month_1` … `month_12`, `date_format`).

use chrono::{DateTime, Datelike, Utc};

use super::i18n::Strings;

/// How one language writes numbers, sizes and dates.
#[derive(Debug, Clone)]
pub(crate) struct Locale {
    decimal: String,
    thousands: String,
    bytes: String,
    months: Vec<String>,
    /// With `{day}`, `{month}` and `{year}`.
    date_format: String,
}

impl Locale {
    pub(crate) fn new(strings: &Strings) -> Locale {
        Locale {
            decimal: strings.get("decimal_separator").to_string(),
            thousands: strings.get("thousands_separator").to_string(),
            bytes: strings.get("bytes").to_string(),
            months: (1..=12)
                .map(|m| strings.get(&format!("month_{m}")).to_string())
                .collect(),
            date_format: strings.get("date_format").to_string(),
        }
    }

    /// English (what `inspect` prints).
    pub(crate) fn english() -> Locale {
        Locale::new(&Strings::english())
    }

    /// A whole number with thousands grouped: `42,894` (en), `42.894` (de).
    pub(crate) fn count(&self, n: u64) -> String {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push_str(&self.thousands);
            }
            out.push(c);
        }
        out
    }

    /// Sizes as iOS shows them: decimal units, one decimal place (`42.9 KB`, `42,9 KB`).
    pub(crate) fn size(&self, bytes: u64) -> String {
        const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
        if bytes < 1000 {
            return self.exact_size(bytes);
        }
        let mut value = bytes as f64 / 1000.0;
        let mut unit = 0;
        while value >= 999.95 && unit < UNITS.len() - 1 {
            value /= 1000.0;
            unit += 1;
        }
        let shown = format!("{value:.1}").replace('.', &self.decimal);
        format!("{shown} {}", UNITS[unit])
    }

    /// Every byte: `42,894 bytes`, `42.894 Byte`.
    pub(crate) fn exact_size(&self, bytes: u64) -> String {
        format!("{} {}", self.count(bytes), self.bytes)
    }

    /// A day in words: `9 May 2022`, `9. Mai 2022`.
    pub(crate) fn date(&self, at: DateTime<Utc>) -> String {
        let month = (self.months.get(at.month0() as usize)).map_or("", String::as_str);
        self.date_format
            .replace("{day}", &at.day().to_string())
            .replace("{month}", month)
            .replace("{year}", &at.year().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_and_german() {
        let en = Locale::english();
        assert_eq!(en.size(999), "999 bytes");
        assert_eq!(en.size(1_500), "1.5 KB");
        assert_eq!(en.size(48_300_000), "48.3 MB");
        assert_eq!(en.size(999_960), "1.0 MB", "never 1000.0 KB");
        assert_eq!(en.size(2_000_000_000), "2.0 GB");
        assert_eq!(en.exact_size(42_894), "42,894 bytes");
        assert_eq!(en.count(1_234_567), "1,234,567");
        let day = DateTime::parse_from_rfc3339("2022-05-09T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(en.date(day), "9 May 2022");
        let de = Locale::new(&Strings::load("de", std::path::Path::new("/nonexistent")).unwrap());
        assert_eq!(de.size(42_894), "42,9 KB");
        assert_eq!(de.exact_size(42_894), "42.894 Byte");
        assert_eq!(de.date(day), "9. Mai 2022");
    }
}
