//! Resizing icons: a separable triangle filter whose width follows the scale, in premultiplied
//! alpha so transparent edges do not darken. Good for both the 57 px and 512 px manifest icons.

use super::Rgba;

/// Resizes to `width` x `height`.
pub fn resize(src: &Rgba, width: u32, height: u32) -> Rgba {
    let (sw, sh) = (src.width as usize, src.height as usize);
    let (dw, dh) = (width.max(1) as usize, height.max(1) as usize);
    // Premultiplied floats.
    let pre: Vec<[f32; 4]> = src
        .pixels
        .chunks_exact(4)
        .map(|p| {
            let a = f32::from(p[3]) / 255.0;
            [
                f32::from(p[0]) * a,
                f32::from(p[1]) * a,
                f32::from(p[2]) * a,
                f32::from(p[3]),
            ]
        })
        .collect();
    let xw = weights(sw, dw);
    let yw = weights(sh, dh);
    // Horizontal pass: sh rows of dw pixels.
    let mut tmp = vec![[0f32; 4]; dw * sh];
    for y in 0..sh {
        for (x, taps) in xw.iter().enumerate() {
            let mut acc = [0f32; 4];
            for &(i, w) in taps {
                let p = pre[y * sw + i];
                for c in 0..4 {
                    acc[c] += p[c] * w;
                }
            }
            tmp[y * dw + x] = acc;
        }
    }
    // Vertical pass.
    let mut pixels = Vec::with_capacity(dw * dh * 4);
    for taps in &yw {
        for x in 0..dw {
            let mut acc = [0f32; 4];
            for &(i, w) in taps {
                let p = tmp[i * dw + x];
                for c in 0..4 {
                    acc[c] += p[c] * w;
                }
            }
            let a = acc[3].clamp(0.0, 255.0);
            let scale = if a > 0.0 { 255.0 / a } else { 0.0 };
            for value in &acc[..3] {
                pixels.push((value * scale).round().clamp(0.0, 255.0) as u8);
            }
            pixels.push(a.round() as u8);
        }
    }
    Rgba {
        width: dw as u32,
        height: dh as u32,
        pixels,
    }
}

/// For each output index, the source indices and normalised weights.
fn weights(src: usize, dst: usize) -> Vec<Vec<(usize, f32)>> {
    let scale = src as f32 / dst as f32;
    let support = scale.max(1.0);
    (0..dst)
        .map(|o| {
            let center = (o as f32 + 0.5) * scale - 0.5;
            let lo = (center - support).floor().max(0.0) as usize;
            let hi = ((center + support).ceil() as usize).min(src - 1);
            let mut taps: Vec<(usize, f32)> = (lo..=hi)
                .map(|i| (i, (1.0 - (i as f32 - center).abs() / support).max(0.0)))
                .filter(|(_, w)| *w > 0.0)
                .collect();
            if taps.is_empty() {
                taps.push((center.round().clamp(0.0, (src - 1) as f32) as usize, 1.0));
            }
            let total: f32 = taps.iter().map(|(_, w)| w).sum();
            for t in &mut taps {
                t.1 /= total;
            }
            taps
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(w: u32, h: u32, p: [u8; 4]) -> Rgba {
        Rgba {
            width: w,
            height: h,
            pixels: p.repeat((w * h) as usize),
        }
    }

    #[test]
    fn solid_colour_stays_solid_up_and_down() {
        for (w, h) in [(57, 57), (512, 512), (1, 1)] {
            let out = resize(&solid(180, 180, [10, 120, 250, 255]), w, h);
            assert_eq!((out.width, out.height), (w, h));
            assert!(out.pixels.chunks(4).all(|p| p == [10, 120, 250, 255]));
        }
        let up = resize(&solid(3, 3, [1, 2, 3, 255]), 512, 512);
        assert!(up.pixels.chunks(4).all(|p| p == [1, 2, 3, 255]));
    }

    #[test]
    fn transparent_neighbours_do_not_darken_edges() {
        let mut img = solid(4, 1, [0, 0, 0, 0]);
        img.pixels[..8].copy_from_slice(&[255, 0, 0, 255, 255, 0, 0, 255]);
        let out = resize(&img, 2, 1);
        assert_eq!(&out.pixels[..3], &[255, 0, 0]);
    }
}
