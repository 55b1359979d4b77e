//! Finding the main app inside an IPA from its entry names alone.
//!
//! The main app is the shallowest `Payload/<X>.app/`. Nested bundles (`PlugIns/*.appex`,
//! `Watch/*.app`, frameworks) sit deeper and are never chosen; some archives wrap `Payload/` in
//! one extra folder, which is accepted; `__MACOSX/` and hidden folders are ignored.

/// Where the main app lives inside the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MainApp {
    /// The app folder with a trailing slash, e.g. `Payload/Test.app/`.
    pub dir: String,
    /// The folder name without `.app`, the last fallback for the display name.
    pub folder_name: String,
}

impl MainApp {
    pub(crate) fn info_plist(&self) -> String {
        format!("{}Info.plist", self.dir)
    }

    /// The path of a file at the root of the app bundle.
    pub(crate) fn entry(&self, name: &str) -> String {
        format!("{}{name}", self.dir)
    }
}

/// Chooses the main app among the entry names of an archive.
pub(crate) fn find_main_app<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<MainApp> {
    let mut best: Option<(usize, String, String)> = None;
    for name in names {
        let Some((depth, dir, folder)) = app_dir_of(name) else {
            continue;
        };
        let better = match &best {
            None => true,
            Some((d, current, _)) => depth < *d || (depth == *d && dir < *current),
        };
        if better {
            best = Some((depth, dir, folder));
        }
    }
    best.map(|(_, dir, folder_name)| MainApp { dir, folder_name })
}

/// For `[Wrapper/]Payload/X.app/...` returns (depth of `Payload`, `…/X.app/`, `X`).
fn app_dir_of(name: &str) -> Option<(usize, String, String)> {
    let parts: Vec<&str> = name.split('/').collect();
    let payload = parts.iter().position(|p| *p == "Payload")?;
    if payload > 1 {
        return None;
    }
    if payload == 1 && (parts[0] == "__MACOSX" || parts[0].starts_with('.') || parts[0].is_empty())
    {
        return None;
    }
    let app = *parts.get(payload + 1)?;
    let folder = app.strip_suffix(".app")?;
    if folder.is_empty() || folder.starts_with('.') {
        return None;
    }
    let dir = format!("{}/", parts[..=payload + 1].join("/"));
    Some((payload, dir, folder.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_layout() {
        let names = [
            "Payload/",
            "Payload/Test.app/",
            "Payload/Test.app/Info.plist",
            "Payload/Test.app/PlugIns/Ext.appex/Info.plist",
            "Payload/Test.app/Watch/W.app/Info.plist",
        ];
        let app = find_main_app(names).unwrap();
        assert_eq!(app.dir, "Payload/Test.app/");
        assert_eq!(app.folder_name, "Test");
        assert_eq!(app.info_plist(), "Payload/Test.app/Info.plist");
    }

    #[test]
    fn wrapped_payload_and_macosx_noise() {
        let names = [
            "__MACOSX/Payload/Evil.app/Info.plist",
            "__MACOSX/ContainsWatchApp/Payload/._Sample.app",
            "ContainsWatchApp/Payload/Sample.app/Watch/Sample WatchKit App.app/Info.plist",
            "ContainsWatchApp/Payload/Sample.app/Info.plist",
        ];
        let app = find_main_app(names).unwrap();
        assert_eq!(app.dir, "ContainsWatchApp/Payload/Sample.app/");
    }

    #[test]
    fn root_payload_wins_over_wrapped() {
        let names = [
            "A/Payload/Wrapped.app/Info.plist",
            "Payload/Real.app/Info.plist",
        ];
        assert_eq!(find_main_app(names).unwrap().folder_name, "Real");
    }

    #[test]
    fn nothing_found() {
        assert!(find_main_app(["Info.plist", "foo/bar.app/Info.plist"]).is_none());
        assert!(find_main_app(["a/b/Payload/X.app/Info.plist"]).is_none());
        assert!(find_main_app(["Payload/.app/Info.plist"]).is_none());
    }
}
