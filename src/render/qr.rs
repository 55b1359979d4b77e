//! QR codes as inline SVG (AMP allows inline `<svg>`), made at build time: no script needed
//! to get a page from a laptop screen onto a phone.

use qrcode::{Color, EcLevel, QrCode};

use crate::notes::escape_attr;

/// Modules of white border the QR specification asks for.
const QUIET: usize = 4;

/// An SVG QR code of `text`; `None` when the text is too long to encode.
pub fn qr_svg(text: &str, label: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let size = width + 2 * QUIET;
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
    Some(format!(
        "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         width=\"168\" height=\"168\" role=\"img\" aria-label=\"{}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{d}\"/></svg>",
        escape_attr(label)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_with_quiet_zone_and_label() {
        let svg = qr_svg("https://beta.example.com/apps/x/1.0-1/", "QR \"code\"").unwrap();
        assert!(svg.starts_with("<svg class=\"qr\""));
        assert!(svg.contains("aria-label=\"QR &quot;code&quot;\""));
        assert!(svg.contains("viewBox=\"0 0 "));
        assert!(
            svg.contains("<path fill=\"#000\" d=\"M4 4h7v1h-7z"),
            "{svg:.300}"
        );
    }

    #[test]
    fn too_long_is_none() {
        assert!(qr_svg(&"x".repeat(5000), "l").is_none());
    }
}
