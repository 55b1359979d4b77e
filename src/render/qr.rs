//! QR codes as inline SVG (AMP allows inline `<svg>`), made at build time: no script needed
//! to get a page from a laptop screen onto a phone.

use qrcode::{Color, EcLevel, QrCode};

use crate::notes::escape_attr;

/// Modules of white border the QR specification asks for.
const QUIET: usize = 4;

/// A QR code as the one SVG path otasite draws: what the build cache keeps, and all it keeps,
/// so that nothing but these characters can come back from the cache into a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QrPath {
    /// Width and height in modules, quiet zone included.
    pub size: usize,
    /// Path data: `M`, `h`, `v`, `z`, digits, spaces and `-` only.
    pub d: String,
}

impl QrPath {
    /// The path of a QR code of `text`; `None` when the text is too long to encode.
    pub(crate) fn of(text: &str) -> Option<QrPath> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
        let width = code.width();
        let colors = code.to_colors();
        let mut d = String::new();
        for y in 0..width {
            let mut x = 0;
            while x < width {
                if colors[y * width + x] == Color::Dark {
                    let start = x;
                    while x < width && colors[y * width + x] == Color::Dark {
                        x += 1;
                    }
                    let run = x - start;
                    d.push_str(&format!("M{} {}h{run}v1h-{run}z", start + QUIET, y + QUIET));
                } else {
                    x += 1;
                }
            }
        }
        Some(QrPath {
            size: width + 2 * QUIET,
            d,
        })
    }

    /// The form kept in the build cache: the size, a space, the path data.
    pub(crate) fn to_cache(&self) -> String {
        format!("{} {}", self.size, self.d)
    }

    /// Reads [`QrPath::to_cache`]'s form back, refusing anything otasite would not write.
    pub(crate) fn from_cache(text: &str) -> Option<QrPath> {
        let (size, d) = text.split_once(' ')?;
        let size: usize = size.parse().ok()?;
        // Version 40 codes are 177 modules wide; the quiet zone adds 8.
        let valid = (21 + 2 * QUIET..=177 + 2 * QUIET).contains(&size)
            && d.starts_with('M')
            && d.bytes()
                .all(|b| b.is_ascii_digit() || b" Mhvz-".contains(&b));
        valid.then(|| QrPath {
            size,
            d: d.to_string(),
        })
    }

    /// The inline SVG, labelled for screen readers.
    pub(crate) fn svg(&self, label: &str) -> String {
        let QrPath { size, d } = self;
        format!(
            "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
             width=\"168\" height=\"168\" role=\"img\" aria-label=\"{}\" shape-rendering=\"crispEdges\">\
             <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{d}\"/></svg>",
            escape_attr(label)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_with_quiet_zone_and_label() {
        let svg = QrPath::of("https://beta.example.com/apps/x/1.0-1/")
            .unwrap()
            .svg("QR \"code\"");
        assert!(svg.starts_with("<svg class=\"qr\""));
        assert!(svg.contains("aria-label=\"QR &quot;code&quot;\""));
        assert!(svg.contains("viewBox=\"0 0 "));
        assert!(
            svg.contains("<path fill=\"#000\" d=\"M4 4h7v1h-7z"),
            "{svg:.300}"
        );
    }

    #[test]
    fn only_path_data_comes_back_from_the_cache() {
        let path = QrPath::of("https://beta.example.com/").unwrap();
        assert_eq!(QrPath::from_cache(&path.to_cache()), Some(path));
        for planted in [
            "29 M4 4h7v1h-7z\"/><script>alert(1)</script>",
            "29 M4 4h7v1h-7z onerror=x",
            "<svg onload=alert(1)>",
            "9999 M4 4h1v1h-1z",
            "",
        ] {
            assert_eq!(QrPath::from_cache(planted), None, "{planted}");
        }
    }

    #[test]
    fn too_long_is_none() {
        assert!(QrPath::of(&"x".repeat(5000)).is_none());
    }
}
