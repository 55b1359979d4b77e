//! The dev server's HTTP rules as pure functions: which site path a request target names (none
//! outside the site), which content type a file gets, which bytes a `Range` header asks for,
//! which `Host` names a request may carry.

use std::net::{Ipv4Addr, Ipv6Addr};

pub(crate) use crate::hosting::content_type;

/// The site path a request target names, or `None` when it must not be served.
pub(crate) fn site_path(target: &str) -> Option<String> {
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

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ranged {
    /// Send the whole file (200). A header that is not one well-formed byte range — another
    /// unit (which RFC 9110 says a server must ignore), several ranges, bad syntax — is
    /// ignored rather than refused, as is a suffix range of an empty file.
    Whole,
    /// Send (start, length), which lies within the file (206).
    Part(u64, u64),
    /// One well-formed range that starts at or past the end (416).
    Unsatisfiable,
}

/// Reads a `Range` header against `size`: see [`Ranged`].
pub(crate) fn parse_range(header: &str, size: u64) -> Ranged {
    let header = header.trim();
    let Some(spec) = header
        .get(..6)
        .filter(|unit| unit.eq_ignore_ascii_case("bytes="))
        .map(|_| &header[6..])
    else {
        return Ranged::Whole;
    };
    let Some((a, b)) = spec.split_once('-') else {
        return Ranged::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    match (a, position(a), position(b)) {
        // A suffix: the last n bytes.
        ("", _, Some(0)) => Ranged::Unsatisfiable,
        ("", _, Some(_)) if size == 0 => Ranged::Whole,
        ("", _, Some(n)) => Ranged::Part(size - n.min(size), n.min(size)),
        (_, Some(start), _) if start >= size && (b.is_empty() || position(b) >= Some(start)) => {
            Ranged::Unsatisfiable
        }
        (_, Some(start), None) if b.is_empty() => Ranged::Part(start, size - start),
        (_, Some(start), Some(end)) if end >= start => {
            Ranged::Part(start, end.min(size - 1) - start + 1)
        }
        _ => Ranged::Whole,
    }
}

/// A byte position in a range: digits only; one too large for u64 is as good as the end.
fn position(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse().unwrap_or(u64::MAX))
}

/// Whether a request naming `host` (a `Host` header or the authority of an absolute target,
/// port included) may be answered. A page on another site can have its own name resolve to
/// this machine (DNS rebinding) and then read the served site as same-origin; its requests
/// carry that name. So only names that cannot be rebound are accepted: IP addresses, `localhost`
/// and its subdomains (which browsers keep on this machine), and `names` (the interface given
/// by name, the host of the `-u` tunnel).
pub(super) fn host_allowed(host: &str, names: &[String]) -> bool {
    let name = match host.strip_prefix('[') {
        // [v6] or [v6]:port
        Some(rest) => {
            return rest.split_once(']').is_some_and(|(ip, port)| {
                ip.parse::<Ipv6Addr>().is_ok() && (port.is_empty() || port_of(port).is_some())
            });
        }
        None => match host.rsplit_once(':') {
            Some((name, port)) if is_digits(port) => name,
            Some(_) => return false,
            None => host,
        },
    };
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    name.parse::<Ipv4Addr>().is_ok()
        || name == "localhost"
        || name.ends_with(".localhost")
        || names.iter().any(|n| n.eq_ignore_ascii_case(&name))
}

/// The digits of `:port` (maybe empty), or `None`.
fn port_of(text: &str) -> Option<&str> {
    text.strip_prefix(':').filter(|p| is_digits(p))
}

/// Whether `text` is only ASCII digits (the empty port `host:` included).
fn is_digits(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_digit())
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
        use Ranged::*;
        assert_eq!(parse_range("bytes=0-99", 1000), Part(0, 100));
        assert_eq!(parse_range("bytes=900-", 1000), Part(900, 100));
        assert_eq!(parse_range("bytes=-10", 1000), Part(990, 10));
        assert_eq!(parse_range("bytes=-5000", 1000), Part(0, 1000));
        assert_eq!(parse_range("bytes=990-5000", 1000), Part(990, 10));
        assert_eq!(parse_range("Bytes=0-0", 1000), Part(0, 1));
        assert_eq!(parse_range("bytes=1000-", 1000), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 1000), Unsatisfiable);
        assert_eq!(parse_range("bytes=5-", 0), Unsatisfiable);
        // Numbers past u64: an end that large means the end, a start that large is past it.
        assert_eq!(
            parse_range("bytes=0-99999999999999999999999", 1000),
            Part(0, 1000)
        );
        assert_eq!(
            parse_range("bytes=99999999999999999999999-", 1000),
            Unsatisfiable
        );
        assert_eq!(
            parse_range("bytes=-99999999999999999999999", 1000),
            Part(0, 1000)
        );
    }

    /// RFC 9110 14.2: an unknown unit must be ignored, and what otasite does not serve (several
    /// ranges, invalid ones) may be: the whole file, never a 416 for a satisfiable request.
    #[test]
    fn ranges_not_understood_are_ignored() {
        let many = format!("bytes={}", vec!["0-0"; 1000].join(","));
        for header in [
            "items=0-1",
            "bytes=0-1,5-6",
            many.as_str(),
            "bytes=5-1",
            "bytes=-",
            "bytes=0--1",
            "bytes=+1-2",
            "bytes=0x10-",
            "bytes",
            "",
        ] {
            assert_eq!(parse_range(header, 1000), Ranged::Whole, "{header:.40}");
        }
        // A suffix of an empty file cannot be expressed as a part: the (empty) whole.
        assert_eq!(parse_range("bytes=-5", 0), Ranged::Whole);
    }

    #[test]
    fn hosts_that_cannot_be_rebound() {
        let names = vec!["tunnel.example.com".to_string()];
        for ok in [
            "127.0.0.1:1111",
            "127.0.0.1",
            "192.168.1.20:1111",
            "[::1]:1111",
            "[::1]",
            "localhost:1111",
            "LOCALHOST.:1111",
            "app.localhost:1111",
            "tunnel.example.com",
            "Tunnel.Example.com:443",
        ] {
            assert!(host_allowed(ok, &names), "{ok}");
        }
        for bad in [
            "evil.com:1111",
            "evil.com",
            "localhost.evil.com:1111",
            "127.0.0.1.evil.com",
            "example.com",
            "[::1",
            "[evil.com]:1111",
            "evil.com:x",
            "::1",
            "",
        ] {
            assert!(!host_allowed(bad, &names), "{bad}");
        }
    }

    #[test]
    fn types() {
        assert_eq!(content_type("a/manifest.plist"), "application/xml");
        assert_eq!(content_type("a/x.ipa"), "application/octet-stream");
        assert_eq!(content_type("feed.xml"), "application/atom+xml");
        assert_eq!(content_type("a/icon.png"), "image/png");
    }
}
