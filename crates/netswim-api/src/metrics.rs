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
