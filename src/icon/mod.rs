//! App icons: PNG headers, decoding (plain and Apple's "CgBI" crushed PNGs), resizing, encoding,
//! and a generated placeholder for apps whose icon cannot be read. All pure functions on bytes.

mod cgbi;
mod font;
pub(crate) mod placeholder;
mod resize;
mod set;

use std::io::Cursor;

#[cfg(feature = "testkit")]
pub use cgbi::encode_cgbi;
pub(crate) use placeholder::placeholder;
pub use resize::resize;
pub(crate) use set::{FILE_NAMES as ICON_FILE_NAMES, IconSet, SIDES as ICON_SIDES};

use crate::limits;

/// An 8-bit RGBA image, straight (not premultiplied) alpha.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rgba {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

/// What a PNG's header says, read without decoding the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PngHeader {
    pub width: u32,
    pub height: u32,
    pub bit_depth: u8,
    pub color_type: u8,
    pub interlaced: bool,
    /// An Apple CgBI ("crushed") PNG, which browsers cannot show.
    pub crushed: bool,
}

const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// One PNG chunk: (type, data).
pub(crate) fn chunks(bytes: &[u8]) -> impl Iterator<Item = Result<([u8; 4], &[u8]), String>> {
    let mut rest = bytes.get(8..).unwrap_or_default();
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        if rest.len() < 12 {
            rest = &[];
            return Some(Err("the PNG is truncated inside a chunk header".into()));
        }
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let kind = [rest[4], rest[5], rest[6], rest[7]];
        let Some(data) = rest.get(8..8 + len) else {
            rest = &[];
            return Some(Err(format!(
                "the PNG is truncated inside its {} chunk",
                String::from_utf8_lossy(&kind)
            )));
        };
        rest = rest.get(8 + len + 4..).unwrap_or_default();
        Some(Ok((kind, data)))
    })
}

/// Reads the header (IHDR, and whether a CgBI chunk comes first) from the start of a PNG.
/// Works on a prefix of the file: only the first ~60 bytes are needed.
pub fn png_header(bytes: &[u8]) -> Result<PngHeader, String> {
    if !bytes.starts_with(SIGNATURE) {
        return Err("not a PNG file (bad signature)".into());
    }
    let mut crushed = false;
    for chunk in chunks(bytes) {
        let (kind, data) = chunk?;
        match &kind {
            b"CgBI" => crushed = true,
            b"IHDR" => {
                if data.len() < 13 {
                    return Err("the PNG's IHDR chunk is too short".into());
                }
                let width = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
                let height = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
                if width == 0 || height == 0 {
                    return Err("the PNG has zero width or height".into());
                }
                return Ok(PngHeader {
                    width,
                    height,
                    bit_depth: data[8],
                    color_type: data[9],
                    interlaced: data[12] == 1,
                    crushed,
                });
            }
            _ => return Err("the PNG does not start with its IHDR chunk".into()),
        }
    }
    Err("the PNG has no IHDR chunk".into())
}

/// Checks an icon's dimensions against the limits before any pixel memory is allocated.
pub(crate) fn check_dimensions(h: &PngHeader) -> Result<(), String> {
    let max = limits::MAX_ICON_DIMENSION;
    if h.width > max || h.height > max {
        return Err(format!(
            "the icon claims {}x{} pixels, over the {max}x{max} limit (limits::MAX_ICON_DIMENSION)",
            h.width, h.height
        ));
    }
    Ok(())
}

/// Decodes any PNG (crushed or not) to straight-alpha RGBA.
pub fn decode_png(bytes: &[u8]) -> Result<(Rgba, PngHeader), String> {
    let header = png_header(bytes)?;
    check_dimensions(&header)?;
    let image = if header.crushed {
        cgbi::decode(bytes, &header)?
    } else {
        decode_standard(bytes)?
    };
    Ok((image, header))
}

fn decode_standard(bytes: &[u8]) -> Result<Rgba, String> {
    let limits = png::Limits {
        bytes: 4 * (limits::MAX_ICON_DIMENSION as usize).pow(2) + 1024,
    };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), limits);
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder
        .read_info()
        .map_err(|e| format!("cannot decode the PNG: {e}"))?;
    let size = reader
        .output_buffer_size()
        .ok_or("the PNG is too large to decode")?;
    let mut buf = vec![0; size];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| format!("cannot decode the PNG: {e}"))?;
    buf.truncate(info.buffer_size());
    let pixels = match info.color_type {
        png::ColorType::Rgba => buf,
        png::ColorType::Rgb => buf
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        png::ColorType::GrayscaleAlpha => buf
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0], p[1]])
            .collect(),
        png::ColorType::Grayscale => buf.iter().flat_map(|g| [*g, *g, *g, 255]).collect(),
        png::ColorType::Indexed => return Err("the PNG palette could not be expanded".into()),
    };
    Ok(Rgba {
        width: info.width,
        height: info.height,
        pixels,
    })
}

/// Encodes RGBA as a standard PNG.
pub fn encode_png(image: &Rgba) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, image.width, image.height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    // Balanced: a quarter of High's time (8 ms, not 37, for 512 px) for files 30% larger;
    // it matters when every build has its own icon (a build-number badge).
    encoder.set_compression(png::Compression::Balanced);
    let mut writer = encoder.write_header().expect("PNG header to memory");
    writer
        .write_image_data(&image.pixels)
        .expect("PNG data to memory");
    writer.finish().expect("PNG end to memory");
    out
}

/// Checks that a PNG (standard or CgBI) decodes, without keeping the pixels: a CgBI one is
/// inflated and its rows' filters checked, which is all its decoding can fail on, but its
/// pixels are not converted (a third of the work for a 180 px icon).
pub fn check_png(bytes: &[u8]) -> Result<PngHeader, String> {
    let header = png_header(bytes)?;
    check_dimensions(&header)?;
    if header.crushed {
        cgbi::check(bytes, &header)?;
    } else {
        decode_standard(bytes)?;
    }
    Ok(header)
}

/// A browser-viewable PNG from icon bytes (crushed icons re-encoded, plain ones kept as they
/// are) and its pixels, from one decode.
pub(crate) fn to_standard_png(bytes: &[u8]) -> Result<(Vec<u8>, Rgba), String> {
    let (image, header) = decode_png(bytes)?;
    let png = if header.crushed {
        encode_png(&image)
    } else {
        bytes.to_vec()
    };
    Ok((png, image))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_of_a_plain_png() {
        let img = Rgba {
            width: 3,
            height: 2,
            pixels: vec![9; 24],
        };
        let png = encode_png(&img);
        let h = png_header(&png).unwrap();
        assert_eq!((h.width, h.height, h.crushed), (3, 2, false));
        let (back, _) = decode_png(&png).unwrap();
        assert_eq!(back, img);
    }

    #[test]
    fn garbage_and_truncation_are_errors_not_panics() {
        let png = encode_png(&Rgba {
            width: 8,
            height: 8,
            pixels: vec![200; 256],
        });
        for len in 0..png.len() {
            let _ = decode_png(&png[..len]);
            let _ = to_standard_png(&png[..len]);
        }
        assert!(png_header(b"GIF89a").is_err());
        let mut noise = png.clone();
        for (i, b) in noise.iter_mut().enumerate().skip(33) {
            *b = b.wrapping_mul(31).wrapping_add(i as u8);
        }
        let _ = decode_png(&noise);
    }

    #[test]
    fn huge_claimed_dimensions_are_refused_before_allocating() {
        let mut png = encode_png(&Rgba {
            width: 1,
            height: 1,
            pixels: vec![0; 4],
        });
        png[16..20].copy_from_slice(&50_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&50_000u32.to_be_bytes());
        let e = decode_png(&png).unwrap_err();
        assert!(e.contains("MAX_ICON_DIMENSION"), "{e}");
    }
}
