//! The dev server's HTTP rules as pure functions: which site path a request target names (none
//! outside the site), which content type a file gets, which bytes a `Range` header asks for.

/// Content types for every kind of file a site has.
pub fn content_type(path: &str) -> &'static str {
    let ext = path
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "plist" => "application/xml",
        "ipa" => "application/octet-stream",
        "xml" if path.ends_with("feed.xml") => "application/atom+xml",
        "xml" | "config" => "application/xml",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "txt" => "text/plain; charset=utf-8",
        "css" => "text/css",
        _ => "application/octet-stream",
    }
}

/// The site path a request target names, or `None` when it must not be served.
pub fn site_path(target: &str) -> Option<String> {
    let path = target.split(['?', '#']).next()?;
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()?;
    if decoded.contains(['\\', '\0']) || !decoded.starts_with('/') {
        return None;
    }
    let segments: Vec<&str> = decoded.split('/').filter(|s| !s.is_empty()).collect();
    if segments.iter().any(|s| *s == ".." || *s == ".") {
        return None;
    }
    let mut rel = segments.join("/");
    if decoded.ends_with('/') || rel.is_empty() {
        if !rel.is_empty() {
            rel.push('/');
        }
        rel.push_str("index.html");
    }
    Some(rel)
}

/// Parses a single `bytes=` range against `size`: (start, length), or `None` when unsatisfiable.
pub fn parse_range(header: &str, size: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            if n == 0 {
                return None;
            }
            (size.saturating_sub(n), size.saturating_sub(1))
        }
        (s, "") => (s.parse().ok()?, size.saturating_sub(1)),
        (s, e) => (
            s.parse().ok()?,
            e.parse::<u64>().ok()?.min(size.saturating_sub(1)),
        ),
    };
    if size == 0 || start > end || start >= size {
        return None;
    }
    Some((start, end - start + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_escape() {
        assert_eq!(site_path("/"), Some("index.html".into()));
        assert_eq!(site_path("/apps/x/"), Some("apps/x/index.html".into()));
        assert_eq!(
            site_path("/apps/x/a%20b.ipa?x=1"),
            Some("apps/x/a b.ipa".into())
        );
        for bad in [
            "/../etc/passwd",
            "/apps/%2e%2e/%2e%2e/etc/passwd",
            "/a\\\\..\\\\b",
            "/a/./b",
            "/%00",
            "relative",
            "/%ff",
        ] {
            assert_eq!(site_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000), Some((0, 100)));
        assert_eq!(parse_range("bytes=900-", 1000), Some((900, 100)));
        assert_eq!(parse_range("bytes=-10", 1000), Some((990, 10)));
        assert_eq!(parse_range("bytes=990-5000", 1000), Some((990, 10)));
        assert!(parse_range("bytes=1000-", 1000).is_none());
        assert!(parse_range("bytes=5-1", 1000).is_none());
        assert!(parse_range("bytes=0-1,5-6", 1000).is_none());
        assert!(parse_range("items=0-1", 1000).is_none());
    }

    #[test]
    fn types() {
        assert_eq!(content_type("a/manifest.plist"), "application/xml");
        assert_eq!(content_type("a/x.ipa"), "application/octet-stream");
        assert_eq!(content_type("feed.xml"), "application/atom+xml");
        assert_eq!(content_type("a/icon.png"), "image/png");
    }
}
