//! Transfer accounting and drain bookkeeping shared by every protocol: the
//! registry of transfers in progress, one structured log line per finished
//! transfer (client, file, bytes, duration, result), the draining flag the
//! servers consult before starting a transfer, and the cut that ends
//! transfers still running when a drain times out.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::{Notify, mpsc};

/// The protocol a transfer used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    Tftp,
    Http,
    Https,
    Ftp,
    Sftp,
    /// Legacy SCP over an SSH exec channel (`scp -O`).
    Scp,
}

impl Protocol {
    pub const ALL: [Protocol; 6] = [
        Protocol::Tftp,
        Protocol::Http,
        Protocol::Https,
        Protocol::Ftp,
        Protocol::Sftp,
        Protocol::Scp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tftp => "tftp",
            Protocol::Http => "http",
            Protocol::Https => "https",
            Protocol::Ftp => "ftp",
            Protocol::Sftp => "sftp",
            Protocol::Scp => "scp",
        }
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// How a transfer ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferResult {
    Complete,
    /// The client went away or an error ended it; the reason in one line.
    Failed(String),
    /// A drain timed out while it was still running.
    Cut,
}

impl TransferResult {
    pub fn as_str(&self) -> &str {
        match self {
            TransferResult::Complete => "complete",
            TransferResult::Failed(reason) => reason,
            TransferResult::Cut => "cut by shutdown",
        }
    }
}

/// The accounting record of one finished transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRecord {
    pub protocol: Protocol,
    pub client: SocketAddr,
    pub file: String,
    /// Bytes sent (or received, for uploads).
    pub bytes: u64,
    pub duration: Duration,
    pub result: TransferResult,
}

impl TransferRecord {
    /// Writes the record as one structured `tracing` event.
    pub fn log(&self) {
        tracing::info!(
            target: "netswim_transfer::accounting",
            protocol = self.protocol.as_str(),
            client = %self.client,
            file = %self.file,
            bytes = self.bytes,
            duration_ms = u64::try_from(self.duration.as_millis()).unwrap_or(u64::MAX),
            result = self.result.as_str(),
            "transfer finished"
        );
    }
}

/// A transfer in progress as seen at one moment: what a drain cut, or what
/// [`TransferTracker::running`] reports for progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningTransfer {
    pub protocol: Protocol,
    pub client: SocketAddr,
    pub file: String,
    pub bytes: u64,
}

#[derive(Debug)]
struct Running {
    protocol: Protocol,
    client: SocketAddr,
    file: String,
    bytes: Arc<AtomicU64>,
}

/// Transfers in progress on every server of one file server process.
#[derive(Debug, Default)]
pub struct TransferTracker {
    running: Mutex<HashMap<u64, Running>>,
    next_id: AtomicU64,
    draining: AtomicBool,
    cut: Arc<AtomicBool>,
    /// Requests accepted but not yet transferring (an HTTP request whose
    /// file digest is being computed): a drain waits for them too.
    preparing: std::sync::atomic::AtomicUsize,
    changed: Notify,
    records: Option<mpsc::UnboundedSender<TransferRecord>>,
    metrics: crate::metrics::Metrics,
    tftp: std::sync::OnceLock<netswim_tftp::RunningTransfers>,
}

impl TransferTracker {
    /// `records` also receives every finished transfer (tests, metrics).
    pub fn new(records: Option<mpsc::UnboundedSender<TransferRecord>>) -> Self {
        TransferTracker {
            records,
            ..TransferTracker::default()
        }
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// From now on servers refuse new transfers.
    pub fn start_drain(&self) {
        self.draining.store(true, Ordering::Release);
    }

    pub fn running_count(&self) -> usize {
        self.lock().len()
    }

    /// Running transfers plus accepted requests still being prepared.
    pub fn busy_count(&self) -> usize {
        self.running_count() + self.preparing.load(Ordering::Acquire)
    }

    /// Marks a request accepted before a drain started, until the hold
    /// drops (by then it is a registered transfer or has been answered).
    pub fn hold(self: &Arc<Self>) -> RequestHold {
        self.preparing.fetch_add(1, Ordering::AcqRel);
        RequestHold {
            tracker: Arc::clone(self),
        }
    }

    /// Waits until no transfer runs and no accepted request is being
    /// prepared (or returns at once).
    pub async fn wait_idle(&self) {
        loop {
            let notified = self.changed.notified();
            if self.running_count() == 0 && self.preparing.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Counts of the TFTP server's running transfers (it keeps its own
    /// registry): [`TransferTracker::running`] reports them too.
    pub fn watch_tftp(&self, transfers: netswim_tftp::RunningTransfers) {
        let _ = self.tftp.set(transfers);
    }

    /// Every running download (and upload but TFTP's) with its bytes so
    /// far, by protocol and client.
    pub fn running(&self) -> Vec<RunningTransfer> {
        let mut running = self.registered();
        let tftp = self
            .tftp
            .get()
            .map(|tftp| tftp.snapshot())
            .unwrap_or_default();
        running.extend(
            tftp.into_iter()
                .filter(|transfer| transfer.direction == netswim_tftp::Direction::Read)
                .map(|transfer| RunningTransfer {
                    protocol: Protocol::Tftp,
                    client: transfer.client,
                    file: transfer.file,
                    bytes: transfer.bytes,
                }),
        );
        running
            .sort_by(|a, b| (a.protocol.as_str(), a.client).cmp(&(b.protocol.as_str(), b.client)));
        running
    }

    /// The transfers registered here (every server but TFTP).
    fn registered(&self) -> Vec<RunningTransfer> {
        self.lock()
            .values()
            .map(|running| RunningTransfer {
                protocol: running.protocol,
                client: running.client,
                file: running.file.clone(),
                bytes: running.bytes.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Ends every running transfer but TFTP's (its server cuts its own):
    /// their readers fail on the next read, so each server aborts them its
    /// own way. Returns what was cut.
    pub fn cut_all(&self) -> Vec<RunningTransfer> {
        self.cut.store(true, Ordering::Release);
        let mut cut = self.registered();
        cut.sort_by(|a, b| (a.protocol.as_str(), a.client).cmp(&(b.protocol.as_str(), b.client)));
        cut
    }

    /// The Prometheus text of every transfer metric, now.
    pub fn metrics_text(&self) -> String {
        let mut running: Vec<(Protocol, usize)> = Vec::new();
        for transfer in self.lock().values() {
            match running.iter_mut().find(|(p, _)| *p == transfer.protocol) {
                Some((_, count)) => *count += 1,
                None => running.push((transfer.protocol, 1)),
            }
        }
        self.metrics.encode(&running)
    }

    /// Registers a transfer of `expected_bytes`; it is accounted when the
    /// returned guard drops.
    pub fn begin(
        self: &Arc<Self>,
        protocol: Protocol,
        client: SocketAddr,
        file: &str,
        expected_bytes: u64,
    ) -> TransferGuard {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let bytes = Arc::new(AtomicU64::new(0));
        self.lock().insert(
            id,
            Running {
                protocol,
                client,
                file: file.to_string(),
                bytes: Arc::clone(&bytes),
            },
        );
        TransferGuard {
            tracker: Arc::clone(self),
            id,
            protocol,
            client,
            file: file.to_string(),
            expected_bytes,
            bytes,
            started: Instant::now(),
            failure: None,
        }
    }

    /// Accounts a transfer another server finished (the TFTP server keeps
    /// its own registry).
    pub fn record(&self, record: TransferRecord) {
        record.log();
        self.metrics.observe(&record);
        if let Some(records) = &self.records {
            let _ = records.send(record);
        }
    }

    fn finish(&self, id: u64, record: TransferRecord) {
        self.lock().remove(&id);
        self.record(record);
        self.changed.notify_waiters();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Running>> {
        self.running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// An accepted request being prepared; see `TransferTracker::hold`.
#[derive(Debug)]
pub struct RequestHold {
    tracker: Arc<TransferTracker>,
}

impl Drop for RequestHold {
    fn drop(&mut self) {
        self.tracker.preparing.fetch_sub(1, Ordering::AcqRel);
        self.tracker.changed.notify_waiters();
    }
}

/// One registered transfer; accounted when dropped.
#[derive(Debug)]
pub struct TransferGuard {
    tracker: Arc<TransferTracker>,
    id: u64,
    protocol: Protocol,
    client: SocketAddr,
    file: String,
    expected_bytes: u64,
    bytes: Arc<AtomicU64>,
    started: Instant,
    failure: Option<String>,
}

impl TransferGuard {
    pub fn add_bytes(&self, count: u64) {
        self.bytes.fetch_add(count, Ordering::Relaxed);
    }

    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Whether a drain has cut the running transfers.
    pub fn is_cut(&self) -> bool {
        self.tracker.cut.load(Ordering::Acquire)
    }

    /// Changes the byte count that makes the transfer complete (an upload
    /// learns its size only when the client closes it).
    pub fn set_expected(&mut self, bytes: u64) {
        self.expected_bytes = bytes;
    }

    /// Accounts the transfer as failed for `reason` (one line).
    pub fn fail(&mut self, reason: impl Into<String>) {
        self.failure = Some(reason.into());
    }
}

impl Drop for TransferGuard {
    fn drop(&mut self) {
        let bytes = self.bytes();
        let result = if bytes >= self.expected_bytes && self.failure.is_none() {
            TransferResult::Complete
        } else if self.is_cut() {
            TransferResult::Cut
        } else {
            TransferResult::Failed(
                self.failure
                    .take()
                    .unwrap_or_else(|| "incomplete: the client went away".to_string()),
            )
        };
        self.tracker.finish(
            self.id,
            TransferRecord {
                protocol: self.protocol,
                client: self.client,
                file: std::mem::take(&mut self.file),
                bytes,
                duration: self.started.elapsed(),
                result,
            },
        );
    }
}

/// A served file's reader that counts what it hands out and fails once a
/// drain has cut the transfers.
#[derive(Debug)]
pub struct CountingReader<R> {
    inner: R,
    guard: TransferGuard,
}

impl<R> CountingReader<R> {
    pub fn new(inner: R, guard: TransferGuard) -> Self {
        CountingReader { inner, guard }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for CountingReader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.guard.is_cut() {
            return Poll::Ready(Err(std::io::Error::other(
                "transfer cut: the server shut down",
            )));
        }
        let before = buffer.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(context, buffer);
        match &polled {
            Poll::Ready(Ok(())) => {
                let read = buffer.filled().len().saturating_sub(before);
                self.guard.add_bytes(read as u64);
            }
            Poll::Ready(Err(error)) => self.guard.failure = Some(format!("read error: {error}")),
            Poll::Pending => {}
        }
        polled
    }
}

/// A served file's chunk stream that counts what it hands to the
/// connection and fails once a drain has cut the transfers (the stream
/// counterpart of `CountingReader`, for HTTP bodies).
pub struct CountingStream<S> {
    inner: S,
    guard: TransferGuard,
}

impl<S> std::fmt::Debug for CountingStream<S> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("CountingStream")
            .field("guard", &self.guard)
            .finish_non_exhaustive()
    }
}

impl<S> CountingStream<S> {
    pub fn new(inner: S, guard: TransferGuard) -> Self {
        CountingStream { inner, guard }
    }
}

impl<S> futures_util::Stream for CountingStream<S>
where
    S: futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Unpin,
{
    type Item = std::io::Result<bytes::Bytes>;

    fn poll_next(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<std::io::Result<bytes::Bytes>>> {
        if self.guard.is_cut() {
            return Poll::Ready(Some(Err(std::io::Error::other(
                "transfer cut: the server shut down",
            ))));
        }
        let polled = Pin::new(&mut self.inner).poll_next(context);
        match &polled {
            Poll::Ready(Some(Ok(chunk))) => self.guard.add_bytes(chunk.len() as u64),
            Poll::Ready(Some(Err(error))) => {
                self.guard.failure = Some(format!("read error: {error}"));
            }
            _ => {}
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    fn client() -> SocketAddr {
        "127.0.0.1:4000".parse().unwrap()
    }

    #[tokio::test]
    async fn finished_partial_and_cut_transfers_are_accounted() {
        let (sender, mut records) = mpsc::unbounded_channel();
        let tracker = Arc::new(TransferTracker::new(Some(sender)));

        let guard = tracker.begin(Protocol::Http, client(), "a.bin", 3);
        let mut reader = CountingReader::new(&b"abc"[..], guard);
        let mut out = Vec::new();
        reader.read_to_end(&mut out).await.unwrap();
        assert_eq!(tracker.running_count(), 1);
        drop(reader);
        let record = records.recv().await.unwrap();
        assert_eq!((record.bytes, record.result), (3, TransferResult::Complete));

        let guard = tracker.begin(Protocol::Ftp, client(), "b.bin", 10);
        guard.add_bytes(4);
        drop(guard);
        let record = records.recv().await.unwrap();
        assert!(matches!(record.result, TransferResult::Failed(_)));

        let guard = tracker.begin(Protocol::Https, client(), "c.bin", 10);
        let mut reader = CountingReader::new(&b"0123456789"[..], guard);
        let cut = tracker.cut_all();
        assert_eq!(cut.len(), 1);
        assert_eq!(cut[0].file, "c.bin");
        assert!(reader.read_u8().await.is_err());
        drop(reader);
        assert_eq!(records.recv().await.unwrap().result, TransferResult::Cut);
        tracker.wait_idle().await;
    }

    #[tokio::test]
    async fn running_reports_each_transfer_with_its_bytes_so_far() {
        let tracker = Arc::new(TransferTracker::new(None));
        let other: SocketAddr = "127.0.0.2:5000".parse().unwrap();
        let first = tracker.begin(Protocol::Scp, client(), "7/a.bin", 100);
        let second = tracker.begin(Protocol::Scp, other, "7/a.bin", 100);
        first.add_bytes(40);
        second.add_bytes(10);
        second.add_bytes(15);
        let seen: Vec<(SocketAddr, String, u64)> = tracker
            .running()
            .into_iter()
            .map(|transfer| (transfer.client, transfer.file, transfer.bytes))
            .collect();
        let file = "7/a.bin".to_string();
        assert_eq!(seen, vec![(client(), file.clone(), 40), (other, file, 25)]);
        drop(first);
        assert_eq!(tracker.running().len(), 1);
        drop(second);
        assert!(tracker.running().is_empty());
    }
}
