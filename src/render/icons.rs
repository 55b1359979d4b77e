//! A release's icon files: the icon as found (converted if it was crushed) or a placeholder,
//! and the 57 px and 512 px images the manifest names.

use sha2::{Digest, Sha256};

use crate::icon::{ICON_SIDES, IconSet, encode_png, placeholder, resize, to_standard_png};
use crate::model::Release;

/// What a release's icon files depend on, as a file-name-safe key: the icon's hash, or for a
/// placeholder the app's name and bundle id. Releases with the same icon share the files.
pub(super) fn icon_key(r: &Release) -> String {
    match &r.ipa.icon {
        Some(icon) => icon.digest.clone(),
        None => {
            let mut h = Sha256::new();
            h.update(b"placeholder\0");
            h.update(r.name().as_bytes());
            h.update(b"\0");
            h.update(r.ipa.info.bundle_id.as_bytes());
            crate::ipa::to_hex(&h.finalize())
        }
    }
}

/// The icon files as PNG bytes: the icon as found (re-encoded as a standard PNG when it was
/// crushed), and resized.
pub(super) fn icon_images(r: &Release) -> IconSet<Vec<u8>> {
    let decoded = (r.ipa.icon.as_ref()).and_then(|i| to_standard_png(&i.bytes).ok());
    let (original, image) = decoded.unwrap_or_else(|| {
        let img = placeholder(r.name(), &r.ipa.info.bundle_id);
        (encode_png(&img), img)
    });
    let mut original = Some(original);
    ICON_SIDES.map(|side| match side {
        Some(s) => encode_png(&resize(&image, s, s)),
        None => original.take().unwrap_or_default(),
    })
}
