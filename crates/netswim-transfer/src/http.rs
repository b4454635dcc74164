//! The HTTP and HTTPS file server: GET and HEAD with single byte ranges,
//! `If-Range`, strong `ETag` (the file's SHA-256), `Last-Modified`,
//! `Accept-Ranges`, streamed from the serving source without buffering the
//! file; every other method is refused with 405 (the server is read-only),
//! and new requests get 503 once a drain has started.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use crate::accounting::{CountingStream, Protocol, TransferTracker};
use crate::error::TransferError;
use crate::source::{DigestCache, EntryKind, FileInfo, FileSource};
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// What one HTTP listener serves from and reports to.
#[derive(Debug)]
pub struct HttpState<S> {
    pub source: Arc<S>,
    pub digests: Arc<DigestCache>,
    pub tracker: Arc<TransferTracker>,
    pub protocol: Protocol,
}

/// The router of one HTTP or HTTPS listener: every path goes to one
/// handler (there are no API routes here).
pub fn router<S: FileSource>(state: Arc<HttpState<S>>) -> axum::Router {
    axum::Router::new()
        .fallback(serve_request::<S>)
        .with_state(state)
}

/// Which part of a file a request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeDecision {
    /// 200 with the whole file.
    Full,
    /// 206 with bytes `start..=end`.
    Partial { start: u64, end: u64 },
    /// 416: the range starts past the end of the file.
    Unsatisfiable,
}

/// Decides a `Range` header against a file of `size` bytes (RFC 9110
/// 14.2). Unknown units, several ranges and malformed values are ignored
/// (the whole file is sent), which the RFC allows.
pub fn decide_range(range: Option<&str>, size: u64) -> RangeDecision {
    let Some(spec) = range.and_then(|value| value.trim().strip_prefix("bytes=")) else {
        return RangeDecision::Full;
    };
    let spec = spec.trim();
    if spec.contains(',') {
        return RangeDecision::Full;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return RangeDecision::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    let parse = |text: &str| -> Option<u64> {
        if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
            None
        } else {
            text.parse().ok()
        }
    };
    if first.is_empty() {
        // Suffix range: the last N bytes.
        let Some(suffix) = parse(last) else {
            return RangeDecision::Full;
        };
        if suffix == 0 || size == 0 {
            return RangeDecision::Unsatisfiable;
        }
        return RangeDecision::Partial {
            start: size - suffix.min(size),
            end: size - 1,
        };
    }
    let Some(start) = parse(first) else {
        return RangeDecision::Full;
    };
    let end = if last.is_empty() {
        None
    } else {
        match parse(last) {
            Some(end) if end >= start => Some(end),
            _ => return RangeDecision::Full,
        }
    };
    if start >= size {
        return RangeDecision::Unsatisfiable;
    }
    let end = end.map_or(size - 1, |end| end.min(size - 1));
    RangeDecision::Partial { start, end }
}

/// Whether an `If-Range` validator still matches the file: a strong entity
/// tag compared strongly, or an HTTP date equal to `Last-Modified`.
/// An entity tag never matches while the file's own is not yet known.
pub fn if_range_matches(validator: &str, etag: Option<&str>, last_modified: &str) -> bool {
    let validator = validator.trim();
    if validator.starts_with("W/") {
        return false;
    }
    if validator.starts_with('"') {
        return Some(validator) == etag;
    }
    validator == last_modified
}

/// Whether an `If-None-Match` list names the file's entity tag (weak
/// comparison, RFC 9110 13.1.2).
fn if_none_match_matches(list: &str, etag: &str) -> bool {
    list.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
    })
}

/// The request path as a root-relative name: the leading slash removed and
/// percent-encoding decoded once (a second layer, such as `%252e`, stays
/// encoded and is refused by confinement).
fn requested_path(uri: &Uri) -> Result<String, TransferError> {
    let raw = uri.path();
    let without_slash = raw.strip_prefix('/').unwrap_or(raw);
    percent_encoding::percent_decode_str(without_slash)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| TransferError::AccessDenied {
            path: raw.to_string(),
            reason: "the path is not valid UTF-8",
        })
}

fn plain(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

fn error_response(error: &TransferError) -> Response {
    match error {
        TransferError::NotFound { .. } => plain(StatusCode::NOT_FOUND, "not found"),
        TransferError::AccessDenied { .. } => plain(StatusCode::FORBIDDEN, "forbidden"),
        _ => plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
    }
}

/// What a request gets, decided once for both HTTP paths (hyper's and the
/// `sendfile` one of `http_plain`): a finished reply, or a response head
/// whose body is nothing or a byte range of a served file.
#[derive(Debug)]
pub(crate) enum Planned {
    /// A complete response (errors, 405, 503 while draining).
    Reply(Response),
    /// The head of a file response and what follows it.
    File(axum::http::Response<()>, PlannedBody),
}

/// The body of a planned file response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PlannedBody {
    /// HEAD, 304 and 416: no body.
    Empty,
    /// `length` bytes of `path` from `start`.
    Range {
        path: String,
        start: u64,
        length: u64,
    },
}

/// Decides the response to one request. Call it while holding a
/// `RequestHold` so a drain waits for it.
pub(crate) async fn plan_request<S: FileSource>(
    state: &HttpState<S>,
    client: SocketAddr,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Planned {
    if state.tracker.is_draining() {
        let mut response = plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "server is shutting down; retry later",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return Planned::Reply(response);
    }
    if method != Method::GET && method != Method::HEAD {
        let mut response = plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "this server is read-only: only GET and HEAD are allowed",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Planned::Reply(response);
    }
    match plan_file(state, method, uri, headers).await {
        Ok((head, body)) => Planned::File(head, body),
        Err(error) => {
            tracing::debug!(%client, path = %uri.path(), %error, "http request refused");
            Planned::Reply(error_response(&error))
        }
    }
}

async fn serve_request<S: FileSource>(
    State(state): State<Arc<HttpState<S>>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let _hold = state.tracker.hold();
    let (head, body) = match plan_request(&state, client, &method, &uri, &headers).await {
        Planned::Reply(response) => return response,
        Planned::File(head, body) => (head, body),
    };
    let body = match body {
        PlannedBody::Empty => Body::empty(),
        PlannedBody::Range {
            path,
            start,
            length,
        } => match state.source.open_chunks(&path, start, length).await {
            Ok(chunks) => {
                let guard = state.tracker.begin(state.protocol, client, &path, length);
                Body::from_stream(CountingStream::new(chunks, guard))
            }
            Err(error) => {
                tracing::debug!(%client, %path, %error, "http request refused");
                return error_response(&error);
            }
        },
    };
    head.map(|()| body)
}

async fn plan_file<S: FileSource>(
    state: &HttpState<S>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<(axum::http::Response<()>, PlannedBody), TransferError> {
    let path = requested_path(uri)?;
    let info: FileInfo = state.source.stat(&path).await?;
    if info.kind != EntryKind::File || path.trim_matches('/').is_empty() {
        // No directory listings over HTTP.
        return Err(TransferError::NotFound { path });
    }
    // `None` while a large file's digest is still being computed in the
    // background: no ETag yet, so If-None-Match never matches and an
    // entity-tag If-Range sends the whole file (RFC 9110 13.1.5).
    let etag = state
        .digests
        .etag(&state.source, &path, &info)
        .await?
        .map(|digest| format!("\"{}\"", hex::encode(digest)));
    let last_modified = httpdate::fmt_http_date(truncate_to_seconds(info.modified));
    let header_text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    let head = |builder: axum::http::response::Builder| builder.body(()).unwrap_or_default();

    let mut builder = axum::http::Response::builder()
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::LAST_MODIFIED, &last_modified)
        .header(header::CONTENT_TYPE, "application/octet-stream");
    if let Some(etag) = &etag {
        builder = builder.header(header::ETAG, etag);
    }

    if let (Some(list), Some(etag)) = (header_text(header::IF_NONE_MATCH), &etag) {
        if if_none_match_matches(&list, etag) {
            return Ok((
                head(builder.status(StatusCode::NOT_MODIFIED)),
                PlannedBody::Empty,
            ));
        }
    }

    let range_header = header_text(header::RANGE);
    let range_applies = match header_text(header::IF_RANGE) {
        Some(validator) => if_range_matches(&validator, etag.as_deref(), &last_modified),
        None => true,
    };
    let decision = if range_applies {
        decide_range(range_header.as_deref(), info.size)
    } else {
        RangeDecision::Full
    };
    let (status, start, length) = match decision {
        RangeDecision::Full => (StatusCode::OK, 0, info.size),
        RangeDecision::Partial { start, end } => {
            builder = builder.header(
                header::CONTENT_RANGE,
                format!("bytes {start}-{end}/{}", info.size),
            );
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        RangeDecision::Unsatisfiable => {
            return Ok((
                head(
                    builder
                        .status(StatusCode::RANGE_NOT_SATISFIABLE)
                        .header(header::CONTENT_RANGE, format!("bytes */{}", info.size))
                        .header(header::CONTENT_LENGTH, "0"),
                ),
                PlannedBody::Empty,
            ));
        }
    };
    builder = builder
        .status(status)
        .header(header::CONTENT_LENGTH, length.to_string());
    if method == Method::HEAD {
        return Ok((head(builder), PlannedBody::Empty));
    }
    Ok((
        head(builder),
        PlannedBody::Range {
            path,
            start,
            length,
        },
    ))
}

/// HTTP dates have whole seconds; `If-Range` compares the formatted text.
fn truncate_to_seconds(time: SystemTime) -> SystemTime {
    let seconds = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or(0);
    SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_decisions_follow_rfc_9110() {
        let check = |range: Option<&str>, size: u64, expected: RangeDecision| {
            assert_eq!(decide_range(range, size), expected, "{range:?} of {size}");
        };
        use RangeDecision::*;
        check(None, 100, Full);
        check(Some("bytes=0-9"), 100, Partial { start: 0, end: 9 });
        check(Some("bytes=90-"), 100, Partial { start: 90, end: 99 });
        check(Some("bytes=90-500"), 100, Partial { start: 90, end: 99 });
        check(Some("bytes=-10"), 100, Partial { start: 90, end: 99 });
        check(Some("bytes=-500"), 100, Partial { start: 0, end: 99 });
        check(Some("bytes=100-"), 100, Unsatisfiable);
        check(Some("bytes=-0"), 100, Unsatisfiable);
        check(Some("bytes=0-"), 0, Unsatisfiable);
        check(Some("bytes=5-1"), 100, Full);
        check(Some("bytes=0-1,5-6"), 100, Full);
        check(Some("items=0-1"), 100, Full);
        check(Some("bytes=x-1"), 100, Full);
        check(Some("bytes=+1-2"), 100, Full);
    }

    #[test]
    fn if_range_compares_strong_tags_and_exact_dates() {
        let etag = "\"abc\"";
        let date = "Sun, 22 Nov 2026 16:00:00 GMT";
        let check = |validator: &str, expected: bool| {
            assert_eq!(
                if_range_matches(validator, Some(etag), date),
                expected,
                "{validator}"
            );
        };
        check("\"abc\"", true);
        check("W/\"abc\"", false);
        check("\"abd\"", false);
        check(date, true);
        check("Sun, 22 Nov 2026 15:59:59 GMT", false);
        // While the digest is being computed, only a date can match.
        assert!(!if_range_matches("\"abc\"", None, date));
        assert!(if_range_matches(date, None, date));
    }

    #[test]
    fn request_paths_are_decoded_once() {
        let check = |uri: &str, expected: &str| {
            let uri: Uri = uri.parse().unwrap();
            assert_eq!(requested_path(&uri).unwrap(), expected, "{uri}");
        };
        check("/images/a.bin", "images/a.bin");
        check("/a%20b.bin", "a b.bin");
        check("/%2e%2e/etc/passwd", "../etc/passwd");
        check("/%252e%252e/x", "%2e%2e/x");
        check("//etc/passwd", "/etc/passwd");
    }
}
