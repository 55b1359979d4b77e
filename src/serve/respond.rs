//! One request, one answer: the site's files from the current snapshot (pages with the dev
//! additions injected), HEAD, byte ranges, directory redirects, the site's 404 page and the
//! live-reload long poll. Request bodies are never read.

use std::io::{Seek as _, SeekFrom};
use std::time::Duration;

use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::body::Payload;
use super::http::{content_type, parse_range, site_path};
use super::inject::inject;
use super::pinned::Refusal;
use super::state::{Served, Snapshot, State};

/// The live-reload endpoint the injected script polls (see `inject`).
const POLL_PATH: &str = "/__otasite/poll";

/// How long a live-reload poll waits for the next build before answering anyway.
const POLL_WAIT: Duration = Duration::from_secs(25);

/// Answers one request.
pub async fn respond<B>(req: Request<B>, state: &State) -> Response<Payload> {
    let head = req.method() == Method::HEAD;
    if req.method() != Method::GET && !head {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n", false);
        set(&mut r, header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let uri = req.uri();
    if uri.path() == POLL_PATH {
        let since = uri
            .query()
            .and_then(|q| q.strip_prefix("since="))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let generation = state.wait_for_change(since, POLL_WAIT).await;
        return plain(StatusCode::OK, &generation.to_string(), head);
    }
    let snapshot = state.snapshot();
    let Some(path) = site_path(uri.path()) else {
        return not_found(&snapshot, head);
    };
    let Some(served) = snapshot.files.get(&path) else {
        if snapshot.files.contains_key(&format!("{path}/index.html"))
            && let Ok(location) = HeaderValue::from_str(&format!("{}/", uri.path()))
        {
            let mut r = plain(StatusCode::MOVED_PERMANENTLY, "", head);
            set(&mut r, header::LOCATION, location);
            return r;
        }
        return not_found(&snapshot, head);
    };
    let ctype = content_type(&path);
    let range = req
        .headers()
        .get(header::RANGE)
        .map(|v| v.to_str().unwrap_or_default());
    match served {
        Served::Bytes(bytes) if ctype.starts_with("text/html") => {
            let page = inject(bytes, &snapshot);
            let mut r = with_length(StatusCode::OK, page.len() as u64, page, head);
            set(
                &mut r,
                header::CONTENT_TYPE,
                HeaderValue::from_static(ctype),
            );
            r
        }
        Served::Bytes(bytes) => ranged(ctype, range, bytes.len() as u64, head, |start, len| {
            // Within bounds: `parse_range` keeps start + len <= size.
            Ok(Payload::bytes(
                bytes.slice(start as usize..(start + len) as usize),
            ))
        }),
        Served::File(pinned) => match pinned.open() {
            Ok(mut file) => ranged(ctype, range, pinned.size(), head, move |start, len| {
                file.seek(SeekFrom::Start(start))?;
                Ok(Payload::File {
                    file,
                    remaining: len,
                })
            }),
            Err(Refusal::Changed) => {
                let mut r = plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "changed since the build; rebuilding\n",
                    head,
                );
                set(&mut r, header::RETRY_AFTER, HeaderValue::from_static("1"));
                r
            }
            Err(Refusal::Gone) => not_found(&snapshot, head),
        },
    }
}

/// A 200 or 206 for the whole or the asked part of `size` bytes, or a 416.
fn ranged(
    ctype: &'static str,
    range: Option<&str>,
    size: u64,
    head: bool,
    body: impl FnOnce(u64, u64) -> std::io::Result<Payload>,
) -> Response<Payload> {
    let (status, start, len) = match range.map(|r| parse_range(r, size)) {
        None => (StatusCode::OK, 0, size),
        Some(Some((start, len))) => (StatusCode::PARTIAL_CONTENT, start, len),
        Some(None) => {
            let mut r = with_length(StatusCode::RANGE_NOT_SATISFIABLE, 0, Payload::empty(), head);
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                set(&mut r, header::CONTENT_RANGE, v);
            }
            return r;
        }
    };
    let payload = if head || len == 0 {
        Ok(Payload::empty())
    } else {
        body(start, len)
    };
    let Ok(payload) = payload else {
        return plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot read the file\n",
            head,
        );
    };
    let mut r = with_length(status, len, payload, head);
    set(
        &mut r,
        header::CONTENT_TYPE,
        HeaderValue::from_static(ctype),
    );
    set(
        &mut r,
        header::ACCEPT_RANGES,
        HeaderValue::from_static("bytes"),
    );
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{size}", start + len - 1))
    {
        set(&mut r, header::CONTENT_RANGE, v);
    }
    r
}

fn not_found(snapshot: &Snapshot, head: bool) -> Response<Payload> {
    let body = match snapshot.files.get("404.html") {
        Some(Served::Bytes(b)) => inject(b, snapshot),
        _ => b"not found\n".to_vec(),
    };
    let mut r = with_length(StatusCode::NOT_FOUND, body.len() as u64, body, head);
    set(
        &mut r,
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

fn plain(status: StatusCode, text: &str, head: bool) -> Response<Payload> {
    let mut r = with_length(status, text.len() as u64, text.to_string(), head);
    set(
        &mut r,
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain"),
    );
    r
}

/// A response of `len` bytes (sent as Content-Length also for HEAD, whose body stays empty),
/// with the headers every answer carries.
fn with_length(
    status: StatusCode,
    len: u64,
    body: impl Into<Payload>,
    head: bool,
) -> Response<Payload> {
    let mut r = Response::new(if head { Payload::empty() } else { body.into() });
    *r.status_mut() = status;
    set(&mut r, header::CONTENT_LENGTH, HeaderValue::from(len));
    set(
        &mut r,
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    set(
        &mut r,
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

fn set(r: &mut Response<Payload>, name: HeaderName, value: HeaderValue) {
    r.headers_mut().insert(name, value);
}
