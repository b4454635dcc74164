//! The plain-HTTP listener: its own HTTP/1.1 accept and keep-alive loop in
//! front of hyper, so that a GET of a file the source keeps on the local
//! file system goes out with `sendfile(2)` (page cache → socket, no copy
//! through user space) the way nginx sends it. hyper cannot do this: it
//! owns the socket and takes bodies as buffers, and the two copies that
//! cost (read into a buffer, write it to the socket) held netswim at about
//! half of nginx's throughput (BENCHMARKS.md).
//!
//! Every response is decided by `http::plan_request`, the same code the
//! hyper path runs, so status, headers, ranges, `If-Range`, `ETag`, 405 and
//! 503-while-draining are identical. This loop handles only the plain
//! requests devices and curl send: HTTP/1.1 GET or HEAD without a request
//! body, `Expect` or `Upgrade`, answered by a file head and an empty body or
//! a byte range of a real file. Anything else (other methods, HTTP/1.0,
//! malformed or oversized heads, error replies, sources without a local
//! file) hands the connection, with the bytes already read, to hyper and the
//! axum router for the rest of its life. HTTPS keeps the rustls path.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Response, Uri, header};
use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, Interest, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::accounting::TransferGuard;
use crate::http::{HttpState, Planned, PlannedBody, plan_request, router};
use crate::source::FileSource;

/// Largest request head this loop parses; longer ones go to hyper.
const MAX_HEAD: usize = 64 * 1024;

/// Headers this loop parses; requests with more go to hyper.
const MAX_HEADERS: usize = 64;

/// How long a started request head may take to arrive.
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// Bytes handed to one `sendfile` call: the socket takes what its buffer
/// holds, this only bounds the work between checks for a drain cut.
const SENDFILE_STEP: usize = 4 * 1024 * 1024;

/// Serves plain HTTP on `listener` until `shutdown` is cancelled, which
/// also closes every open connection.
pub(crate) async fn serve<S: FileSource>(
    listener: TcpListener,
    state: Arc<HttpState<S>>,
    shutdown: CancellationToken,
) {
    let app = router(Arc::clone(&state));
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => break,
        };
        let (stream, client) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of descriptors and the like: the condition clears
                // when connections close, which nothing here can await;
                // back off a little as hyper's and axum's servers do.
                tracing::warn!(%error, "http accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (state, app, shutdown) = (Arc::clone(&state), app.clone(), shutdown.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = connection(stream, client, state, app) => {}
                () = shutdown.cancelled() => {}
            }
        });
    }
}

/// One parsed request head this loop answers itself.
#[derive(Debug)]
struct Head {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    keep_alive: bool,
    /// Bytes of the head in the read buffer.
    length: usize,
}

#[derive(Debug)]
enum Parsed {
    Complete(Box<Head>),
    Partial,
    /// Not for this loop: hyper takes the connection.
    Hyper,
}

fn parse_head(buffer: &[u8]) -> Parsed {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut slots);
    let length = match request.parse(buffer) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) if buffer.len() < MAX_HEAD => return Parsed::Partial,
        _ => return Parsed::Hyper,
    };
    let method = match request.method {
        Some("GET") => Method::GET,
        Some("HEAD") => Method::HEAD,
        _ => return Parsed::Hyper,
    };
    if request.version != Some(1) {
        return Parsed::Hyper;
    }
    let Some(Ok(uri)) = request.path.map(str::parse::<Uri>) else {
        return Parsed::Hyper;
    };
    let mut headers = HeaderMap::with_capacity(request.headers.len());
    let mut keep_alive = true;
    for slot in request.headers.iter() {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(slot.name.as_bytes()),
            HeaderValue::from_bytes(slot.value),
        ) else {
            return Parsed::Hyper;
        };
        if name == header::TRANSFER_ENCODING || name == header::EXPECT || name == header::UPGRADE {
            return Parsed::Hyper;
        }
        if name == header::CONTENT_LENGTH && value.as_bytes() != b"0" {
            return Parsed::Hyper;
        }
        if name == header::CONNECTION
            && value
                .to_str()
                .unwrap_or_default()
                .split(',')
                .any(|token| token.trim().eq_ignore_ascii_case("close"))
        {
            keep_alive = false;
        }
        headers.append(name, value);
    }
    Parsed::Complete(Box::new(Head {
        method,
        uri,
        headers,
        keep_alive,
        length,
    }))
}

async fn connection<S: FileSource>(
    mut stream: TcpStream,
    client: SocketAddr,
    state: Arc<HttpState<S>>,
    app: axum::Router,
) {
    let mut buffer = BytesMut::with_capacity(8 * 1024);
    loop {
        let head = loop {
            match parse_head(&buffer) {
                Parsed::Complete(head) => break head,
                Parsed::Hyper => return to_hyper(stream, buffer.freeze(), client, app).await,
                Parsed::Partial => {}
            }
            let read = if buffer.is_empty() {
                // Idle keep-alive: wait as long as the client likes.
                stream.read_buf(&mut buffer).await
            } else {
                match tokio::time::timeout(HEAD_TIMEOUT, stream.read_buf(&mut buffer)).await {
                    Ok(read) => read,
                    Err(_) => return,
                }
            };
            match read {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        };
        match answer(&mut stream, client, &state, &head).await {
            Answer::Sent => {}
            Answer::Hyper => return to_hyper(stream, buffer.freeze(), client, app).await,
            Answer::Close => return,
        }
        if !head.keep_alive {
            let _ = stream.shutdown().await;
            return;
        }
        buffer.advance(head.length);
    }
}

#[derive(Debug)]
enum Answer {
    /// Answered; the connection may carry the next request.
    Sent,
    /// Not answered here: hyper answers this request and the rest.
    Hyper,
    /// The connection failed or a body could not be completed.
    Close,
}

async fn answer<S: FileSource>(
    stream: &mut TcpStream,
    client: SocketAddr,
    state: &HttpState<S>,
    head: &Head,
) -> Answer {
    let _hold = state.tracker.hold();
    let (response, body) =
        match plan_request(state, client, &head.method, &head.uri, &head.headers).await {
            Planned::Reply(_) => return Answer::Hyper,
            Planned::File(response, body) => (response, body),
        };
    let range = match body {
        PlannedBody::Empty => None,
        PlannedBody::Range {
            path,
            start,
            length,
        } => match state.source.open_file(&path).await {
            Ok(Some(file)) => Some((path, file, start, length)),
            // Not a local file, or it went away since it was planned:
            // hyper plans again and streams or refuses it.
            Ok(None) | Err(_) => return Answer::Hyper,
        },
    };
    if stream
        .write_all(&encode_head(&response, head.keep_alive))
        .await
        .is_err()
    {
        return Answer::Close;
    }
    let Some((path, file, start, length)) = range else {
        return Answer::Sent;
    };
    let mut guard = state.tracker.begin(state.protocol, client, &path, length);
    match send_range(stream, &file, start, length, &guard).await {
        Ok(()) => Answer::Sent,
        Err(error) => {
            guard.fail(format!("send error: {error}"));
            Answer::Close
        }
    }
}

/// The status line and headers of `response`, with `Date` and, when the
/// connection closes after it, `Connection: close`.
fn encode_head(response: &Response<()>, keep_alive: bool) -> Vec<u8> {
    let status = response.status();
    let mut head = Vec::with_capacity(512);
    head.extend_from_slice(b"HTTP/1.1 ");
    head.extend_from_slice(status.as_str().as_bytes());
    head.push(b' ');
    head.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    head.extend_from_slice(b"\r\n");
    for (name, value) in response.headers() {
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    if !keep_alive {
        head.extend_from_slice(b"connection: close\r\n");
    }
    head.extend_from_slice(b"date: ");
    head.extend_from_slice(httpdate::fmt_http_date(std::time::SystemTime::now()).as_bytes());
    head.extend_from_slice(b"\r\n\r\n");
    head
}

/// Sends `length` bytes of `file` from `start` with `sendfile(2)` on the
/// non-blocking socket, waiting for writability between calls; fails once
/// a drain has cut the transfers or if the file shrank.
async fn send_range(
    stream: &TcpStream,
    file: &std::fs::File,
    start: u64,
    length: u64,
    guard: &TransferGuard,
) -> std::io::Result<()> {
    let end = start.saturating_add(length);
    let mut offset = start;
    while offset < end {
        if guard.is_cut() {
            return Err(std::io::Error::other("transfer cut: the server shut down"));
        }
        let count = usize::try_from(end - offset)
            .unwrap_or(SENDFILE_STEP)
            .min(SENDFILE_STEP);
        let sent = stream
            .async_io(Interest::WRITABLE, || {
                let mut position = offset;
                rustix::fs::sendfile(stream, file, Some(&mut position), count)
                    .map_err(std::io::Error::from)
            })
            .await?;
        if sent == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file shrank while it was being sent",
            ));
        }
        offset += sent as u64;
        guard.add_bytes(sent as u64);
    }
    Ok(())
}

/// Serves the rest of a connection with hyper and the axum router,
/// replaying the bytes this loop already read.
async fn to_hyper(stream: TcpStream, read: Bytes, client: SocketAddr, app: axum::Router) {
    let app = app.layer(axum::Extension(ConnectInfo(client)));
    let io = hyper_util::rt::TokioIo::new(Rewind {
        prefix: read,
        stream,
    });
    let service = hyper_util::service::TowerToHyperService::new(app);
    if let Err(error) = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .serve_connection(io, service)
        .await
    {
        tracing::debug!(%client, %error, "http connection ended with an error");
    }
}

/// A stream that first yields bytes already read from it.
#[derive(Debug)]
struct Rewind {
    prefix: Bytes,
    stream: TcpStream,
}

impl AsyncRead for Rewind {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if !self.prefix.is_empty() {
            let count = self.prefix.len().min(buffer.remaining());
            let taken = self.prefix.split_to(count);
            buffer.put_slice(&taken);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_read(context, buffer)
    }
}

impl AsyncWrite for Rewind {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(context, data)
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(context)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_get_and_head_without_bodies_stay_on_the_sendfile_path() {
        let check = |request: &str, expected: &str| {
            let kind = match parse_head(request.as_bytes()) {
                Parsed::Complete(head) if head.keep_alive => "fast",
                Parsed::Complete(_) => "fast-close",
                Parsed::Partial => "partial",
                Parsed::Hyper => "hyper",
            };
            assert_eq!(kind, expected, "{request:?}");
        };
        check("GET /a.bin HTTP/1.1\r\nHost: x\r\n\r\n", "fast");
        check("HEAD /a.bin HTTP/1.1\r\nHost: x\r\n\r\n", "fast");
        check(
            "GET /a.bin HTTP/1.1\r\nConnection: close\r\n\r\n",
            "fast-close",
        );
        check("GET /a.bin HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "fast");
        check("GET /a.bin HTTP/1.1\r\nHost: x\r\n", "partial");
        check("GET /a.bin HTTP/1.0\r\n\r\n", "hyper");
        check(
            "PUT /a.bin HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
            "hyper",
        );
        check("DELETE /a.bin HTTP/1.1\r\n\r\n", "hyper");
        check(
            "GET /a.bin HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
            "hyper",
        );
        check(
            "GET /a.bin HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "hyper",
        );
        check(
            "GET /a.bin HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
            "hyper",
        );
        check("GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n", "hyper");
        check("GARBAGE\r\n\r\n", "hyper");
    }
}
