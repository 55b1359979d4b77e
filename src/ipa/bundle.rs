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
    // Borrowed while scanning: an archive has thousands of entries, one app.
    let mut best: Option<(usize, &str, &str)> = None;
    for name in names {
        // Most entries lie inside the best app found so far, which they cannot beat.
        if let Some((_, app, _)) = best
            && name.len() > app.len()
            && name.as_bytes()[app.len()] == b'/'
            && name.starts_with(app)
        {
            continue;
        }
        let Some((depth, app, folder)) = app_dir_of(name) else {
            continue;
        };
        let better = match best {
            None => true,
            Some((d, current, _)) => depth < d || (depth == d && with_slash_lt(app, current)),
        };
        if better {
            best = Some((depth, app, folder));
        }
    }
    best.map(|(_, app, folder)| MainApp {
        dir: format!("{app}/"),
        folder_name: folder.to_string(),
    })
}

/// Whether `a/` sorts before `b/`, without making either string.
fn with_slash_lt(a: &str, b: &str) -> bool {
    let slash = std::iter::once(b'/');
    a != b && a.bytes().chain(slash.clone()).lt(b.bytes().chain(slash))
}

/// For `[Wrapper/]Payload/X.app/...` returns (depth of `Payload`, `…/X.app` without the
/// trailing slash, `X`), both slices of `name`.
fn app_dir_of(name: &str) -> Option<(usize, &str, &str)> {
    let mut parts = name.split('/');
    let first = parts.next()?;
    let (depth, app) = if first == "Payload" {
        (0, parts.next()?)
    } else if parts.next()? == "Payload" {
        if first == "__MACOSX" || first.starts_with('.') || first.is_empty() {
            return None;
        }
        (1, parts.next()?)
    } else {
        return None;
    };
    let folder = app.strip_suffix(".app")?;
    if folder.is_empty() || folder.starts_with('.') {
        return None;
    }
    // `app` is a slice of `name`, so the app folder is the start of `name` up to its end.
    let end = app.as_ptr() as usize - name.as_ptr() as usize + app.len();
    Some((depth, &name[..end], folder))
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
    fn ties_sort_as_folders_with_their_slash() {
        // "A.app-b.app/" sorts before "A.app/" ('-' < '/'), as the folders' full names do.
        let names = ["Payload/A.app/Info.plist", "Payload/A.app-b.app/Info.plist"];
        assert_eq!(find_main_app(names).unwrap().dir, "Payload/A.app-b.app/");
        let names = ["Payload/B.app/Info.plist", "Payload/A.app/Info.plist"];
        assert_eq!(find_main_app(names).unwrap().dir, "Payload/A.app/");
        assert_eq!(
            find_main_app(["Payload/C.app"]).unwrap().dir,
            "Payload/C.app/"
        );
    }

    #[test]
    fn nothing_found() {
        assert!(find_main_app(["Info.plist", "foo/bar.app/Info.plist"]).is_none());
        assert!(find_main_app(["a/b/Payload/X.app/Info.plist"]).is_none());
        assert!(find_main_app(["Payload/.app/Info.plist"]).is_none());
    }
}
