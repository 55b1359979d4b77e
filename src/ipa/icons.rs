//! Which files in the app bundle may be its icon: PNGs at the bundle root whose names start
//! with a name from `Info.plist` (`AppIcon60x60` matches `AppIcon60x60@2x.png`,
//! `AppIcon76x76@2x~ipad.png`). The caller reads their headers and keeps the largest by
//! decoded size, never by name.

use crate::limits::MAX_ICON_CANDIDATES;

/// Names tried when `Info.plist` declares none (old apps ship `Icon.png`, `Icon@2x.png`).
const FALLBACK_NAMES: [&str; 2] = ["AppIcon", "Icon"];

/// Archive entries that may be the app icon.
pub(crate) fn icon_candidates<S: AsRef<str>>(
    names: &[String],
    app_dir: &str,
    entries: impl IntoIterator<Item = S>,
) -> Vec<String> {
    let fallback: Vec<String> = FALLBACK_NAMES.iter().map(|s| s.to_string()).collect();
    let names = if names.is_empty() { &fallback } else { names };
    entries
        .into_iter()
        .filter(|entry| {
            root_png(entry.as_ref(), app_dir)
                .is_some_and(|file| names.iter().any(|n| file.starts_with(n.as_str())))
        })
        .take(MAX_ICON_CANDIDATES)
        .map(|entry| entry.as_ref().to_string())
        .collect()
}

/// The file name of a PNG at the root of the app bundle (`AppIcon60x60@2x.png` of
/// `Payload/A.app/AppIcon60x60@2x.png`), any case of `.png`.
pub(crate) fn root_png<'a>(entry: &'a str, app_dir: &str) -> Option<&'a str> {
    let file = entry.strip_prefix(app_dir)?;
    let png = file.len() >= 4 && file.as_bytes()[file.len() - 4..].eq_ignore_ascii_case(b".png");
    (png && !file.contains('/')).then_some(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_at_the_bundle_root_only() {
        let entries = [
            "Payload/A.app/AppIcon60x60@2x.png",
            "Payload/A.app/AppIcon60x60@3x.png",
            "Payload/A.app/AppIcon76x76@2x~ipad.png",
            "Payload/A.app/Other.png",
            "Payload/A.app/PlugIns/W.appex/AppIcon60x60@2x.png",
            "Payload/A.app/AppIcon60x60@2x.txt",
        ];
        let names = vec!["AppIcon60x60".to_string(), "AppIcon76x76".to_string()];
        let found = icon_candidates(&names, "Payload/A.app/", entries);
        assert_eq!(found.len(), 3);
        assert!(found.iter().all(|f| !f.contains("PlugIns")));
    }

    #[test]
    fn fallback_names_when_none_declared() {
        let found = icon_candidates(
            &[],
            "Payload/A.app/",
            ["Payload/A.app/Icon@2x.png", "Payload/A.app/x.png"],
        );
        assert_eq!(found, vec!["Payload/A.app/Icon@2x.png"]);
    }
}
