//! The device-registration endpoint in the dev server (`POST /udid/register`), as the host
//! functions answer it: the body is read up to `UDID_MAX_BODY_BYTES` (the only request body
//! serve reads), parsed by `udid::device`, and answered with a 301 to the result page or a
//! 400. Nothing is kept or logged.

use std::pin::Pin;

use bytes::Buf as _;
use hyper::body::Body;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};

use super::body::Payload;
use crate::limits::UDID_MAX_BODY_BYTES;
use crate::udid::device::{TOO_LARGE, parse_device};

/// Whether `path` (the request's, undecoded) is the endpoint.
pub(super) fn is_endpoint(path: &str) -> bool {
    path.strip_prefix('/') == Some(crate::udid::ENDPOINT)
}

/// Answers a POST to the endpoint; `plain` makes a text response.
pub(super) async fn register<B>(
    req: Request<B>,
    plain: fn(StatusCode, &str, bool) -> Response<Payload>,
) -> Response<Payload>
where
    B: Body + Unpin,
{
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > UDID_MAX_BODY_BYTES as u64) {
        return plain(StatusCode::BAD_REQUEST, TOO_LARGE, false);
    }
    let Some(body) = read_bounded(req.into_body()).await else {
        return plain(StatusCode::BAD_REQUEST, TOO_LARGE, false);
    };
    match parse_device(&body) {
        Ok(device) => {
            let location = format!("/{}?{}", crate::udid::RESULT_DIR, device.query());
            let mut r = plain(StatusCode::MOVED_PERMANENTLY, "", false);
            if let Ok(v) = HeaderValue::from_str(&location) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(refusal) => plain(StatusCode::BAD_REQUEST, refusal, false),
    }
}

/// The body, or `None` when it is larger than the limit (reading stops there) or broken off.
async fn read_bounded<B: Body + Unpin>(mut body: B) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let Ok(data) = frame.ok()?.into_data() else {
            continue;
        };
        let mut data = data;
        if out.len() + data.remaining() > UDID_MAX_BODY_BYTES {
            return None;
        }
        while data.has_remaining() {
            let chunk = data.chunk();
            out.extend_from_slice(chunk);
            let n = chunk.len();
            data.advance(n);
        }
    }
    Some(out)
}
