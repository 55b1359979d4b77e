//! Apple's CgBI ("crushed") PNGs, as Xcode writes app icons: a `CgBI` chunk first, IDAT is raw
//! deflate without the zlib header (possibly split over several chunks), pixels are BGRA with
//! premultiplied alpha, and the image may be Adam7-interlaced. Extra chunks (`iDOT`) are ignored.

use std::io::Read;

use flate2::read::DeflateDecoder;

use super::{PngHeader, Rgba, chunks};

/// Adam7 passes: (x start, y start, x step, y step).
const ADAM7: [(u32, u32, u32, u32); 7] = [
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
];

/// One pass of the image (all of it when not interlaced): (x start, y start, x step, y step,
/// width, height).
type Pass = (u32, u32, u32, u32, u32, u32);

/// Inflates the image data and checks every row's filter type: everything decoding can fail
/// on. Returns the filtered rows, the passes they belong to and the bytes per pixel.
fn inflate(bytes: &[u8], h: &PngHeader) -> Result<(Vec<u8>, Vec<Pass>, usize), String> {
    if h.bit_depth != 8 {
        return Err(format!("unsupported CgBI bit depth {}", h.bit_depth));
    }
    let channels: usize = match h.color_type {
        6 => 4,
        2 => 3,
        other => return Err(format!("unsupported CgBI colour type {other}")),
    };
    let (w, ht) = (h.width, h.height);
    let passes: Vec<Pass> = if h.interlaced {
        ADAM7
            .iter()
            .map(|&(x0, y0, dx, dy)| (x0, y0, dx, dy, pass_len(w, x0, dx), pass_len(ht, y0, dy)))
            .filter(|p| p.4 > 0 && p.5 > 0)
            .collect()
    } else {
        vec![(0, 0, 1, 1, w, ht)]
    };
    let expected: usize = passes
        .iter()
        .map(|p| p.5 as usize * (1 + p.4 as usize * channels))
        .sum();

    let mut compressed = Vec::new();
    for chunk in chunks(bytes) {
        let (kind, data) = chunk?;
        if &kind == b"IDAT" {
            compressed.extend_from_slice(data);
        } else if &kind == b"IEND" {
            break;
        }
    }
    if compressed.is_empty() {
        return Err("the CgBI PNG has no image data".into());
    }
    let mut raw = Vec::with_capacity(expected);
    DeflateDecoder::new(&compressed[..])
        .take(expected as u64)
        .read_to_end(&mut raw)
        .map_err(|e| format!("the CgBI image data does not inflate: {e}"))?;
    if raw.len() < expected {
        return Err(format!(
            "the CgBI image data is truncated ({} of {expected} bytes)",
            raw.len()
        ));
    }
    let mut offset = 0;
    for &(_, _, _, _, pw, ph) in &passes {
        for _ in 0..ph {
            if raw[offset] > 4 {
                return Err(format!(
                    "the CgBI image uses an unknown filter type {}",
                    raw[offset]
                ));
            }
            offset += 1 + pw as usize * channels;
        }
    }
    Ok((raw, passes, channels))
}

/// Whether the image decodes, without converting its pixels (`decode` cannot fail after this).
pub(super) fn check(bytes: &[u8], h: &PngHeader) -> Result<(), String> {
    inflate(bytes, h).map(|_| ())
}

pub(super) fn decode(bytes: &[u8], h: &PngHeader) -> Result<Rgba, String> {
    let (mut raw, passes, channels) = inflate(bytes, h)?;
    let (w, ht) = (h.width, h.height);
    let mut pixels = vec![0u8; w as usize * ht as usize * 4];
    let mut offset = 0;
    for (x0, y0, dx, dy, pw, ph) in passes {
        let stride = pw as usize * channels;
        let mut prev = vec![0u8; stride];
        for row in 0..ph {
            let filter = raw[offset];
            let line = &mut raw[offset + 1..offset + 1 + stride];
            unfilter(filter, line, &prev, channels)?;
            for col in 0..pw {
                let src = &line[col as usize * channels..][..channels];
                let (x, y) = ((x0 + col * dx) as usize, (y0 + row * dy) as usize);
                let dst = &mut pixels[(y * w as usize + x) * 4..][..4];
                // BGRA (premultiplied) to RGBA (straight).
                let a = if channels == 4 { src[3] } else { 255 };
                dst.copy_from_slice(&[
                    unpremultiply(src[2], a),
                    unpremultiply(src[1], a),
                    unpremultiply(src[0], a),
                    a,
                ]);
            }
            prev.copy_from_slice(line);
            offset += 1 + stride;
        }
    }
    Ok(Rgba {
        width: w,
        height: ht,
        pixels,
    })
}

fn pass_len(size: u32, start: u32, step: u32) -> u32 {
    if size > start {
        (size - start).div_ceil(step)
    } else {
        0
    }
}

fn unpremultiply(c: u8, a: u8) -> u8 {
    match a {
        0 | 255 => c,
        a => ((u32::from(c) * 255 + u32::from(a) / 2) / u32::from(a)).min(255) as u8,
    }
}

/// Reverses a PNG scanline filter in place.
fn unfilter(filter: u8, line: &mut [u8], prev: &[u8], bpp: usize) -> Result<(), String> {
    match filter {
        0 => {}
        1 => {
            for i in bpp..line.len() {
                line[i] = line[i].wrapping_add(line[i - bpp]);
            }
        }
        2 => {
            for (c, p) in line.iter_mut().zip(prev) {
                *c = c.wrapping_add(*p);
            }
        }
        3 => {
            for i in 0..line.len() {
                let left = if i >= bpp {
                    u16::from(line[i - bpp])
                } else {
                    0
                };
                line[i] = line[i].wrapping_add(((left + u16::from(prev[i])) / 2) as u8);
            }
        }
        4 => {
            for i in 0..line.len() {
                let a = if i >= bpp { line[i - bpp] } else { 0 };
                let c = if i >= bpp { prev[i - bpp] } else { 0 };
                line[i] = line[i].wrapping_add(paeth(a, prev[i], c));
            }
        }
        other => {
            return Err(format!(
                "the CgBI image uses an unknown filter type {other}"
            ));
        }
    }
    Ok(())
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

#[cfg(any(test, feature = "testkit"))]
/// Encodes RGBA as a CgBI PNG (premultiplied BGRA, raw deflate, optional Adam7), the way
/// Xcode does; tests use it to make crushed icons with known pixels.
pub fn encode_cgbi(image: &Rgba, interlaced: bool) -> Vec<u8> {
    use flate2::{Compression, write::DeflateEncoder};
    use std::io::Write;

    let (w, h) = (image.width, image.height);
    let mut raw = Vec::new();
    let passes: Vec<(u32, u32, u32, u32)> = if interlaced {
        ADAM7.to_vec()
    } else {
        vec![(0, 0, 1, 1)]
    };
    for (x0, y0, dx, dy) in passes {
        let (pw, ph) = (pass_len(w, x0, dx), pass_len(h, y0, dy));
        if pw == 0 || ph == 0 {
            continue;
        }
        for row in 0..ph {
            raw.push(0); // filter: none
            for col in 0..pw {
                let (x, y) = ((x0 + col * dx) as usize, (y0 + row * dy) as usize);
                let p = &image.pixels[(y * w as usize + x) * 4..][..4];
                let pre = |c: u8| ((u32::from(c) * u32::from(p[3]) + 127) / 255) as u8;
                raw.extend_from_slice(&[pre(p[2]), pre(p[1]), pre(p[0]), p[3]]);
            }
        }
    }
    let mut deflater = DeflateEncoder::new(Vec::new(), Compression::default());
    deflater.write_all(&raw).expect("deflate to memory");
    let idat = deflater.finish().expect("deflate to memory");

    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8; 4], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    };
    chunk(b"CgBI", &[0x50, 0x00, 0x20, 0x06]);
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, u8::from(interlaced)]);
    chunk(b"IHDR", &ihdr);
    // Split the data over two IDAT chunks, as crushed icons often are.
    let mid = idat.len() / 2;
    chunk(b"IDAT", &idat[..mid]);
    chunk(b"IDAT", &idat[mid..]);
    chunk(b"IEND", &[]);
    out
}

#[cfg(test)]
mod tests {
    use super::super::{decode_png, png_header};
    use super::*;

    fn sample(w: u32, h: u32) -> Rgba {
        let mut pixels = Vec::new();
        for y in 0..h {
            for x in 0..w {
                // Opaque, transparent and half-transparent pixels in a pattern.
                let a = match (x + y) % 3 {
                    0 => 255,
                    1 => 128,
                    _ => 0,
                };
                let (r, g, b) = if a == 0 {
                    (0, 0, 0)
                } else {
                    ((x * 37) as u8, (y * 11) as u8, 200)
                };
                pixels.extend_from_slice(&[r, g, b, a]);
            }
        }
        Rgba {
            width: w,
            height: h,
            pixels,
        }
    }

    /// Straight-alpha colours survive premultiplication up to rounding of 255/a.
    fn assert_close(a: &Rgba, b: &Rgba) {
        assert_eq!((a.width, a.height), (b.width, b.height));
        for (i, (pa, pb)) in a.pixels.chunks(4).zip(b.pixels.chunks(4)).enumerate() {
            assert_eq!(pa[3], pb[3], "alpha of pixel {i}");
            let tolerance = if pa[3] == 255 || pa[3] == 0 { 0 } else { 2 };
            for c in 0..3 {
                let d = (i16::from(pa[c]) - i16::from(pb[c])).abs();
                assert!(d <= tolerance, "pixel {i} channel {c}: {pa:?} vs {pb:?}");
            }
        }
    }

    #[test]
    fn half_transparent_pixels_keep_their_colour() {
        let img = Rgba {
            width: 2,
            height: 1,
            pixels: vec![200, 100, 50, 128, 10, 20, 30, 255],
        };
        let (back, h) = decode_png(&encode_cgbi(&img, false)).unwrap();
        assert!(h.crushed);
        assert_close(&img, &back);
        // Not the premultiplied colour (about 100, 50, 25): the original, give or take one.
        assert!(
            (i16::from(back.pixels[0]) - 200).abs() <= 1,
            "{:?}",
            &back.pixels[..4]
        );
    }

    #[test]
    fn round_trips_plain_and_interlaced() {
        for (w, h) in [(1, 1), (5, 3), (16, 16), (33, 17)] {
            let img = sample(w, h);
            for interlaced in [false, true] {
                let bytes = encode_cgbi(&img, interlaced);
                assert!(png_header(&bytes).unwrap().crushed);
                let (back, _) = decode_png(&bytes).unwrap();
                assert_close(&img, &back);
            }
        }
    }

    #[test]
    fn truncated_crushed_data_is_an_error() {
        let bytes = encode_cgbi(&sample(20, 20), true);
        for len in (0..bytes.len()).step_by(7) {
            let _ = decode_png(&bytes[..len]);
        }
        assert!(decode_png(&bytes[..bytes.len() - 40]).is_err());
    }

    /// A crushed 2x2 RGBA PNG whose rows carry the given filter bytes (CRCs are not read).
    fn with_filters(filters: [u8; 2]) -> Vec<u8> {
        use flate2::{Compression, write::DeflateEncoder};
        use std::io::Write;
        let mut raw = Vec::new();
        for f in filters {
            raw.push(f);
            raw.extend_from_slice(&[9; 8]);
        }
        let mut deflater = DeflateEncoder::new(Vec::new(), Compression::default());
        deflater.write_all(&raw).unwrap();
        let idat = deflater.finish().unwrap();
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let ihdr = [0, 0, 0, 2, 0, 0, 0, 2, 8, 6, 0, 0, 0];
        for (kind, data) in [
            (b"CgBI", &[0x50, 0, 0x20, 6][..]),
            (b"IHDR", &ihdr),
            (b"IDAT", &idat),
        ] {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            out.extend_from_slice(kind);
            out.extend_from_slice(data);
            out.extend_from_slice(&[0; 4]);
        }
        out
    }

    /// `check_png` skips converting the pixels, so it must fail exactly where decoding fails.
    #[test]
    fn check_agrees_with_decode() {
        use super::super::check_png;
        assert!(check_png(&with_filters([0, 4])).is_ok());
        let e = check_png(&with_filters([0, 5])).unwrap_err();
        assert!(e.contains("unknown filter type 5"), "{e}");
        assert!(decode_png(&with_filters([0, 5])).is_err());
        for interlaced in [false, true] {
            let bytes = encode_cgbi(&sample(20, 20), interlaced);
            for len in 0..bytes.len() {
                let cut = &bytes[..len];
                assert_eq!(
                    check_png(cut).is_ok(),
                    decode_png(cut).is_ok(),
                    "cut at {len}"
                );
            }
            for i in 8..bytes.len() {
                let mut noisy = bytes.clone();
                noisy[i] ^= 0x5a;
                assert_eq!(
                    check_png(&noisy).is_ok(),
                    decode_png(&noisy).is_ok(),
                    "byte {i} changed"
                );
            }
        }
    }
}
