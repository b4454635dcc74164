//! Request counters in the Prometheus text format. Hand-kept: a handful of
//! counters does not need a metrics framework, and gauges are read from the
//! store when scraped.

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

/// HTTP requests answered, by method and status code.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
}

impl Metrics {
    fn count(&self, method: &str, status: u16) {
        let mut requests = self
            .requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *requests.entry((method.to_owned(), status)).or_insert(0) += 1;
    }

    /// The counters as Prometheus exposition text.
    pub fn render(&self) -> String {
        let requests = self
            .requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut text = String::from(
            "# HELP netswim_http_requests_total HTTP requests answered.\n# TYPE netswim_http_requests_total counter\n",
        );
        for ((method, status), count) in requests.iter() {
            text.push_str(&format!(
                "netswim_http_requests_total{{method=\"{method}\",status=\"{status}\"}} {count}\n"
            ));
        }
        text
    }
}

pub(crate) async fn count_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    state.metrics.count(&method, response.status().as_u16());
    response
}

/// Rejections axum writes itself (unknown route, wrong method, malformed
/// JSON body) come as plain text; every error leaves as `{code, message, hint}`.
pub(crate) async fn json_errors(request: Request, next: Next) -> Response {
    use axum::response::IntoResponse;
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        // The web UI's error pages are HTML and stay so.
        .is_some_and(|value| {
            value.starts_with("application/json") || value.starts_with("text/html")
        });
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body).trim().to_owned();
    let (code, hint) = match status.as_u16() {
        404 => ("not_found", "see /api/v1/openapi.json for the routes"),
        405 => (
            "method_not_allowed",
            "see /api/v1/openapi.json for the methods of this path",
        ),
        413 => ("payload_too_large", "send a smaller body"),
        415 => (
            "unsupported_media_type",
            "send JSON with Content-Type: application/json",
        ),
        _ if status.is_client_error() => (
            "bad_request",
            "see /api/v1/openapi.json for the request shape",
        ),
        _ => ("internal", "see the server log"),
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    (
        status,
        axum::Json(serde_json::json!({"code": code, "message": message, "hint": hint})),
    )
        .into_response()
}
