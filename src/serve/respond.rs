//! One request, one answer: the site's files from the current snapshot (pages with the dev
//! additions injected), HEAD, byte ranges, directory redirects, the site's 404 page and the
//! live-reload long poll, and the device-registration endpoint when the site has one (the one
//! request whose body is read, bounded: `register`).

use std::io::{Seek as _, SeekFrom};
use std::time::Duration;

use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::body::Payload;
use super::http::{Ranged, content_type, host_allowed, parse_range, site_path};
use super::inject::inject;
use super::pinned::Refusal;
use super::register::{is_endpoint, register};
use super::state::{Served, Snapshot, State};

/// The live-reload endpoint the injected script polls (see `inject`).
const POLL_PATH: &str = "/__otasite/poll";

/// How long a live-reload poll waits for the next build before answering anyway.
const POLL_WAIT: Duration = Duration::from_secs(25);

/// Answers one request.
pub(super) async fn respond<B>(req: Request<B>, state: &State) -> Response<Payload>
where
    B: hyper::body::Body + Unpin,
{
    let head = req.method() == Method::HEAD;
    let registration = req.method() == Method::POST
        && is_endpoint(req.uri().path())
        && state
            .snapshot()
            .files
            .contains_key(crate::udid::PROFILE_FILE);
    if req.method() != Method::GET && !head && !registration {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n", false);
        set(&mut r, header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    if let Some(host) = foreign_host(&req, state) {
        let text = format!(
            "{host:?} is not an address of this dev server: open it by IP address or localhost \
             (pages of other sites can reach this server under their own name; those requests \
             are refused)\n"
        );
        return plain(StatusCode::FORBIDDEN, &text, head);
    }
    if registration {
        return register(req, plain).await;
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
    if !snapshot.built {
        return not_built(&snapshot, head);
    }
    let Some(path) = site_path(uri.path()) else {
        return not_found(&snapshot, head);
    };
    let Some(served) = snapshot.files.get(&path) else {
        if snapshot.files.contains_key(&format!("{path}/index.html"))
            && let Ok(location) = HeaderValue::from_str(&folder_location(&path))
        {
            let mut r = plain(StatusCode::MOVED_PERMANENTLY, "", head);
            set(&mut r, header::LOCATION, location);
            return r;
        }
        return not_found(&snapshot, head);
    };
    let ctype = content_type(&path);
    let range = range_header(&req);
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

/// The host a request names, when it is not one this server answers to (see `host_allowed`):
/// the authority of an absolute-form target, else every `Host` header. A request naming none
/// (HTTP/1.0) comes from no browser page and is answered.
fn foreign_host<B>(req: &Request<B>, state: &State) -> Option<String> {
    let named: Vec<String> = match req.uri().authority() {
        Some(authority) => vec![authority.as_str().to_string()],
        None => req
            .headers()
            .get_all(header::HOST)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect(),
    };
    named
        .into_iter()
        .find(|host| !host_allowed(host, &state.host_names))
}

/// Where a folder's address without its slash redirects: built from the checked site path, not
/// the request's, so that `//name/folder` cannot become `Location: //name/folder/`, an address
/// on another host.
fn folder_location(path: &str) -> String {
    let encoded: Vec<String> = path
        .split('/')
        .map(|segment| percent_encoding::utf8_percent_encode(segment, SEGMENT).to_string())
        .collect();
    format!("/{}/", encoded.join("/"))
}

/// Characters escaped in a path segment of a `Location`.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'\\')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// The `Range` header to honour, if any. With an `If-Range` the range may be sent only when the
/// client's validator matches; this server gives out none (no ETag, no Last-Modified), so none
/// can match and the whole file is sent: a download resumed against a file that changed meanwhile
/// is never stitched from two files.
fn range_header<B>(req: &Request<B>) -> Option<&str> {
    if req.headers().contains_key(header::IF_RANGE) {
        return None;
    }
    // A header that is not text is no range otasite understands: the whole file.
    req.headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
}

/// A 200 or 206 for the whole or the asked part of `size` bytes, or a 416.
fn ranged(
    ctype: &'static str,
    range: Option<&str>,
    size: u64,
    head: bool,
    body: impl FnOnce(u64, u64) -> std::io::Result<Payload>,
) -> Response<Payload> {
    let (status, start, len) = match range.map_or(Ranged::Whole, |r| parse_range(r, size)) {
        Ranged::Whole => (StatusCode::OK, 0, size),
        Ranged::Part(start, len) => (StatusCode::PARTIAL_CONTENT, start, len),
        Ranged::Unsatisfiable => {
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

/// The site's 404 page, with the error overlay and the live-reload script (a failed rebuild
/// shows there too).
fn not_found(snapshot: &Snapshot, head: bool) -> Response<Payload> {
    let page = match snapshot.files.get("404.html") {
        Some(Served::Bytes(b)) => b.as_ref(),
        _ => {
            b"<!doctype html><html><head><meta charset=\"utf-8\"><title>Not found</title></head>\
               <body><p>not found</p></body></html>\n"
        }
    };
    html_page(StatusCode::NOT_FOUND, &inject(page, snapshot), head)
}

/// Every answer while no build has succeeded: there is no page to lay the error over, so the
/// error is the page (503: the site cannot be served yet), with the live-reload script so that
/// the fix shows by itself.
fn not_built(snapshot: &Snapshot, head: bool) -> Response<Payload> {
    let page = b"<!doctype html><html><head><meta charset=\"utf-8\"><title>The site does not \
                 build</title></head><body></body></html>\n";
    html_page(
        StatusCode::SERVICE_UNAVAILABLE,
        &inject(page, snapshot),
        head,
    )
}

fn html_page(status: StatusCode, body: &[u8], head: bool) -> Response<Payload> {
    let mut r = with_length(status, body.len() as u64, body.to_vec(), head);
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
