//! The icon for apps whose real icon cannot be shown (only in `Assets.car`, missing, broken):
//! the app's initials on a colour derived from its bundle id, so each app keeps its own colour.

use super::{Rgba, font};

pub(crate) const SIZE: u32 = 512;

/// Up to two initials: the first letters of the first two words, else of the one word.
pub(crate) fn initials(name: &str) -> String {
    let ascii = deunicode::deunicode(name);
    let words: Vec<&str> = ascii
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let letters: String = match words.as_slice() {
        [] => "?".into(),
        [one] => one.chars().take(1).collect(),
        [first, second, ..] => [first, second]
            .iter()
            .filter_map(|w| w.chars().next())
            .collect(),
    };
    letters.to_ascii_uppercase()
}

/// A stable, pleasant colour for a bundle id (HSL with fixed saturation and lightness).
pub(crate) fn colour(bundle_id: &str) -> [u8; 3] {
    let hash = bundle_id.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    hsl_to_rgb((hash % 360) as f32, 0.55, 0.45)
}

fn hsl_to_rgb(h: f32, s: f32, l: f32) -> [u8; 3] {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let m = l - c / 2.0;
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    [r, g, b].map(|v| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8)
}

/// A 512x512 placeholder icon.
pub(crate) fn placeholder(name: &str, bundle_id: &str) -> Rgba {
    let [r, g, b] = colour(bundle_id);
    let mut pixels = [r, g, b, 255].repeat((SIZE * SIZE) as usize);
    let text: Vec<char> = initials(name).chars().collect();
    // Glyph pixels are drawn as squares of `cell` px with one blank column between glyphs.
    let cell = 36usize;
    let text_w = (text.len() * (font::WIDTH + 1) - 1) * cell;
    let text_h = font::HEIGHT * cell;
    let (left, top) = ((SIZE as usize - text_w) / 2, (SIZE as usize - text_h) / 2);
    for (i, ch) in text.iter().enumerate() {
        let rows = font::glyph(*ch);
        for (gy, row) in rows.iter().enumerate() {
            for gx in 0..font::WIDTH {
                if row & (0x10 >> gx) == 0 {
                    continue;
                }
                let x0 = left + (i * (font::WIDTH + 1) + gx) * cell;
                let y0 = top + gy * cell;
                for y in y0..y0 + cell {
                    let start = (y * SIZE as usize + x0) * 4;
                    for p in pixels[start..start + cell * 4].chunks_exact_mut(4) {
                        p.copy_from_slice(&[255, 255, 255, 255]);
                    }
                }
            }
        }
    }
    Rgba {
        width: SIZE,
        height: SIZE,
        pixels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_of_names() {
        assert_eq!(initials("Acme Notes"), "AN");
        assert_eq!(initials("field kit & co"), "FK");
        assert_eq!(initials("Ácmé"), "A");
        assert_eq!(initials("☃"), "S");
        assert_eq!(initials("&&"), "?");
    }

    #[test]
    fn colour_is_stable_and_differs_between_apps() {
        assert_eq!(colour("com.a"), colour("com.a"));
        assert_ne!(colour("com.a"), colour("com.b"));
    }

    #[test]
    fn placeholder_has_background_and_letters() {
        let img = placeholder("Zeta", "com.zeta");
        assert_eq!((img.width, img.height), (512, 512));
        let bg = colour("com.zeta");
        assert_eq!(&img.pixels[..3], &bg);
        assert!(img.pixels.chunks(4).any(|p| p == [255, 255, 255, 255]));
    }
}
