//! Prometheus metrics of the file servers (prometheus-client) and the
//! control listener that exposes them: `GET /metrics` in the OpenMetrics
//! text format, `POST /drain` to start the graceful drain without a
//! signal. Metrics are fed from the `TransferTracker`'s accounting, so
//! every protocol is counted the same way.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

use crate::accounting::{Protocol, TransferRecord, TransferResult, TransferTracker};
use crate::error::TransferError;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    protocol: String,
    result: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProtocolLabels {
    protocol: String,
}

type DurationFamily = Family<ResultLabels, Histogram, fn() -> Histogram>;

fn duration_histogram() -> Histogram {
    // 10 ms .. ~45 min: TFTP of a config file to a slow image download.
    Histogram::new(exponential_buckets(0.01, 4.0, 10))
}

/// The counters, histogram and gauge of one file server process.
pub struct Metrics {
    registry: Registry,
    transfers: Family<ResultLabels, Counter>,
    bytes: Family<ResultLabels, Counter>,
    durations: DurationFamily,
    active: Family<ProtocolLabels, Gauge>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let transfers = Family::<ResultLabels, Counter>::default();
        let bytes = Family::<ResultLabels, Counter>::default();
        let durations = DurationFamily::new_with_constructor(duration_histogram);
        let active = Family::<ProtocolLabels, Gauge>::default();
        registry.register(
            "netswim_transfers",
            "Finished transfers by protocol and result",
            transfers.clone(),
        );
        registry.register(
            "netswim_transfer_bytes",
            "Bytes sent (or received, for uploads) by finished transfers",
            bytes.clone(),
        );
        registry.register(
            "netswim_transfer_duration_seconds",
            "Duration of finished transfers",
            durations.clone(),
        );
        registry.register(
            "netswim_transfers_active",
            "Transfers running now (TFTP transfers are counted when they finish)",
            active.clone(),
        );
        Metrics {
            registry,
            transfers,
            bytes,
            durations,
            active,
        }
    }
}

fn result_label(result: &TransferResult) -> &'static str {
    match result {
        TransferResult::Complete => "complete",
        TransferResult::Failed(_) => "failed",
        TransferResult::Cut => "cut",
    }
}

impl Metrics {
    /// Counts one finished transfer.
    pub fn observe(&self, record: &TransferRecord) {
        let labels = ResultLabels {
            protocol: record.protocol.as_str().to_string(),
            result: result_label(&record.result).to_string(),
        };
        self.transfers.get_or_create(&labels).inc();
        self.bytes.get_or_create(&labels).inc_by(record.bytes);
        self.durations
            .get_or_create(&labels)
            .observe(record.duration.as_secs_f64());
    }

    /// The OpenMetrics text of every metric, with the active-transfer
    /// gauge taken from `running` (count per protocol) now.
    pub fn encode(&self, running: &[(Protocol, usize)]) -> String {
        for protocol in Protocol::ALL {
            let count = running
                .iter()
                .filter(|(running, _)| *running == protocol)
                .map(|(_, count)| *count)
                .sum::<usize>();
            self.active
                .get_or_create(&ProtocolLabels {
                    protocol: protocol.as_str().to_string(),
                })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// What the control listener's handlers reach.
#[derive(Debug)]
pub struct ControlState {
    pub tracker: Arc<TransferTracker>,
    /// Notified (once, the permit is kept) when a drain is requested.
    pub drain: Arc<Notify>,
}

async fn metrics(State(state): State<Arc<ControlState>>) -> impl IntoResponse {
    let text = state.tracker.metrics_text();
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
}

async fn drain(State(state): State<Arc<ControlState>>) -> impl IntoResponse {
    tracing::info!("drain requested on the control listener");
    state.drain.notify_one();
    (
        StatusCode::ACCEPTED,
        format!(
            "draining: new transfers are refused, {} running may finish\n",
            state.tracker.busy_count()
        ),
    )
}

/// `GET /metrics` and `POST /drain`.
pub fn control_router(state: Arc<ControlState>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/drain", post(drain))
        .with_state(state)
}

/// Asks the file server whose control listener is at `control` to drain
/// (`netswim fileserver drain`). A plain HTTP/1.1 request written by hand:
/// one fixed request to our own listener does not justify an HTTP client
/// dependency. Returns the server's one-line answer.
pub async fn request_drain(control: SocketAddr) -> Result<String, TransferError> {
    let failed = |action: &str, source| {
        TransferError::io(
            format!(
                "{action} the control listener at {control} (hint: was the file server started with --metrics {control}?)"
            ),
            source,
        )
    };
    let mut stream = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        tokio::net::TcpStream::connect(control),
    )
    .await
    .map_err(|_| failed("cannot reach", std::io::ErrorKind::TimedOut.into()))?
    .map_err(|error| failed("cannot reach", error))?;
    let request = format!(
        "POST /drain HTTP/1.1\r\nHost: {control}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|error| failed("cannot write to", error))?;
    let mut response = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        stream.take(64 * 1024).read_to_end(&mut response),
    )
    .await
    .map_err(|_| failed("no answer from", std::io::ErrorKind::TimedOut.into()))?
    .map_err(|error| failed("cannot read from", error))?;
    let response = String::from_utf8_lossy(&response);
    let status_line = response.lines().next().unwrap_or_default();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.trim())
        .unwrap_or_default();
    if status_line.split_whitespace().nth(1) == Some("202") {
        Ok(body.to_string())
    } else {
        Err(TransferError::Config {
            reason: format!("the control listener at {control} answered '{status_line}'"),
            hint: "is that address a netswim file server's --metrics listener?",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn finished_transfers_are_counted_per_protocol_and_result() {
        let metrics = Metrics::default();
        let record = |protocol, bytes, result| TransferRecord {
            protocol,
            client: "127.0.0.1:5000".parse().unwrap(),
            file: "a.bin".into(),
            bytes,
            duration: Duration::from_millis(250),
            result,
        };
        metrics.observe(&record(Protocol::Sftp, 1000, TransferResult::Complete));
        metrics.observe(&record(Protocol::Sftp, 24, TransferResult::Complete));
        metrics.observe(&record(
            Protocol::Http,
            7,
            TransferResult::Failed("x".into()),
        ));
        let text = metrics.encode(&[(Protocol::Ftp, 2)]);
        for line in [
            "netswim_transfers_total{protocol=\"sftp\",result=\"complete\"} 2",
            "netswim_transfer_bytes_total{protocol=\"sftp\",result=\"complete\"} 1024",
            "netswim_transfer_bytes_total{protocol=\"http\",result=\"failed\"} 7",
            "netswim_transfer_duration_seconds_count{protocol=\"sftp\",result=\"complete\"} 2",
            "netswim_transfers_active{protocol=\"ftp\"} 2",
            "netswim_transfers_active{protocol=\"tftp\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
    }
}
