//! The dev server's HTTP side: serves the site from memory (IPAs and images from their source
//! files), with HEAD, byte ranges, directory indexes and a 404 page. Only paths of the site can
//! be served: there is no file system path to escape to.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use super::State;
use super::inject::inject;
use crate::render::Content;

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

/// Handles one connection (one request; the connection is closed after the answer).
pub fn handle(stream: TcpStream, state: Arc<State>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut range: Option<String> = None;
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line.trim().is_empty() => break,
            Ok(_) => {
                if let Some((k, v)) = line.split_once(':')
                    && k.trim().eq_ignore_ascii_case("range")
                {
                    range = Some(v.trim().to_string());
                }
            }
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let mut out = stream;
    if method != "GET" && method != "HEAD" {
        let _ = respond(
            &mut out,
            405,
            "Method Not Allowed",
            "text/plain",
            &[],
            b"only GET and HEAD\n",
            method == "HEAD",
        );
        return;
    }
    let head = method == "HEAD";
    if let Some(since) = target.strip_prefix("/__otasite/poll?since=") {
        let generation = state.wait_for_change(since.parse().unwrap_or(0), Duration::from_secs(25));
        let _ = respond(
            &mut out,
            200,
            "OK",
            "text/plain",
            &[],
            generation.to_string().as_bytes(),
            head,
        );
        return;
    }
    let Some(path) = site_path(target) else {
        not_found(&mut out, &state, head);
        return;
    };
    let snapshot = state.snapshot();
    let Some(content) = snapshot.files.get(&path) else {
        if snapshot.files.contains_key(&format!("{path}/index.html")) {
            let location = format!("{}/", target.split('?').next().unwrap_or(target));
            let _ = respond(
                &mut out,
                301,
                "Moved Permanently",
                "text/plain",
                &[("Location", location.as_str())],
                b"",
                head,
            );
        } else {
            not_found(&mut out, &state, head);
        }
        return;
    };
    let ctype = content_type(&path);
    match content {
        Content::Bytes(bytes) if ctype.starts_with("text/html") => {
            let page = inject(bytes, &snapshot);
            let _ = respond(&mut out, 200, "OK", ctype, &[], &page, head);
        }
        Content::Bytes(bytes) => {
            let _ = send_ranged(
                &mut out,
                ctype,
                range.as_deref(),
                bytes.len() as u64,
                head,
                |w, start, len| w.write_all(&bytes[start as usize..(start + len) as usize]),
            );
        }
        Content::Source(file) => {
            let Ok(mut f) = std::fs::File::open(file) else {
                not_found(&mut out, &state, head);
                return;
            };
            let size = f.metadata().map(|m| m.len()).unwrap_or(0);
            let _ = send_ranged(
                &mut out,
                ctype,
                range.as_deref(),
                size,
                head,
                |w, start, len| {
                    f.seek(SeekFrom::Start(start))?;
                    std::io::copy(&mut (&mut f).take(len), w).map(|_| ())
                },
            );
        }
    }
}

fn not_found(out: &mut TcpStream, state: &State, head: bool) {
    let snapshot = state.snapshot();
    let body = match snapshot.files.get("404.html") {
        Some(Content::Bytes(b)) => inject(b, &snapshot),
        _ => b"not found\n".to_vec(),
    };
    let _ = respond(
        out,
        404,
        "Not Found",
        "text/html; charset=utf-8",
        &[],
        &body,
        head,
    );
}

fn respond(
    out: &mut TcpStream,
    status: u16,
    reason: &str,
    ctype: &str,
    extra: &[(&str, &str)],
    body: &[u8],
    head: bool,
) -> std::io::Result<()> {
    let mut h = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in extra {
        h.push_str(&format!("{k}: {v}\r\n"));
    }
    h.push_str("\r\n");
    out.write_all(h.as_bytes())?;
    if !head {
        out.write_all(body)?;
    }
    out.flush()
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

fn send_ranged(
    out: &mut TcpStream,
    ctype: &str,
    range: Option<&str>,
    size: u64,
    head: bool,
    mut write_body: impl FnMut(&mut TcpStream, u64, u64) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let (status, start, len) = match range.map(|r| parse_range(r, size)) {
        None => ("200 OK", 0, size),
        Some(Some((start, len))) => ("206 Partial Content", start, len),
        Some(None) => {
            let h = format!(
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{size}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            return out.write_all(h.as_bytes());
        }
    };
    let mut h = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len}\r\nAccept-Ranges: bytes\r\nCache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n"
    );
    if status.starts_with("206") {
        h.push_str(&format!(
            "Content-Range: bytes {start}-{}/{size}\r\n",
            start + len - 1
        ));
    }
    h.push_str("\r\n");
    out.write_all(h.as_bytes())?;
    if !head && len > 0 {
        write_body(out, start, len)?;
    }
    out.flush()
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
