//! A release's icon files: the icon as found (converted if it was crushed) or a placeholder,
//! and the 57 px and 512 px images the manifest names.

use crate::icon::{Rgba, decode_png, encode_png, placeholder, resize};
use crate::model::Release;

/// (icon.png, icon-57.png, icon-512.png) as PNG bytes.
pub fn icon_images(r: &Release) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let decoded: Option<(Vec<u8>, Rgba)> = r
        .ipa
        .icon
        .as_ref()
        .and_then(|i| decode_png(&i.png).ok().map(|(img, _)| (i.png.clone(), img)));
    let (original, image) = decoded.unwrap_or_else(|| {
        let img = placeholder(r.name(), &r.ipa.info.bundle_id);
        (encode_png(&img), img)
    });
    (
        original,
        encode_png(&resize(&image, 57, 57)),
        encode_png(&resize(&image, 512, 512)),
    )
}
