//! Graceful drain across protocols: a download in progress finishes while
//! new ones are refused (HTTP 503, FTP 421, SSH closed), and a drain that times out
//! cuts and reports what still runs.

mod common;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use common::*;
use netswim_transfer::source::SourceReader;
use netswim_transfer::{
    DirectoryEntry, FileInfo, FileSource, LocalDirectory, Protocol, TransferError, TransferResult,
};
use tokio::io::{AsyncRead, ReadBuf};

/// A local directory read slowly (16 KiB per `pause`): the server itself is
/// still sending while the drain starts. Throttling the client instead
/// would not do: loopback socket buffers swallow a few MiB at once.
#[derive(Debug)]
struct SlowSource {
    inner: LocalDirectory,
    pause: Duration,
}

struct SlowReader {
    inner: SourceReader,
    pause: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl AsyncRead for SlowReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.sleep.as_mut().poll(context).is_pending() {
            return Poll::Pending;
        }
        let limit = buffer.remaining().min(16 * 1024);
        let mut chunk = vec![0u8; limit];
        let mut small = ReadBuf::new(&mut chunk);
        let polled = Pin::new(&mut self.inner).poll_read(context, &mut small);
        if let Poll::Ready(Ok(())) = polled {
            buffer.put_slice(small.filled());
            let next = tokio::time::Instant::now() + self.pause;
            self.sleep.as_mut().reset(next);
        }
        polled
    }
}

impl FileSource for SlowSource {
    /// Knows its digests, as the content-addressed blob store will: a slow
    /// source must not make the first request hash the file slowly.
    async fn stat(&self, path: &str) -> Result<FileInfo, TransferError> {
        let mut info = self.inner.stat(path).await?;
        if let Ok(bytes) = std::fs::read(self.inner.root().join(path)) {
            info.sha256 = Some(
                sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&bytes))
                    .into(),
            );
        }
        Ok(info)
    }

    async fn open_at(&self, path: &str, offset: u64) -> Result<SourceReader, TransferError> {
        let inner = self.inner.open_at(path, offset).await?;
        Ok(Box::new(SlowReader {
            inner,
            pause: self.pause,
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
        }))
    }

    async fn list(&self, path: &str) -> Result<Vec<DirectoryEntry>, TransferError> {
        self.inner.list(path).await
    }
}

fn slow(fixture: &Fixture, pause: Duration) -> Arc<SlowSource> {
    Arc::new(SlowSource {
        inner: LocalDirectory::new(&fixture.root).unwrap(),
        pause,
    })
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_download_finishes_during_drain_while_new_ones_are_refused() {
    require("curl", "curl");
    let fixture = Fixture::new();
    let mut config = fixture.config();
    config.drain_timeout = Duration::from_secs(30);
    // 16 KiB every 20 ms: about 4 s for the image, still running when
    // the drain starts.
    let mut server =
        Running::start_with_source(config, slow(&fixture, Duration::from_millis(20))).await;
    let out = fixture.out("slow.bin");
    let slow = {
        let url = server.http(IMAGE);
        let out = out.clone();
        tokio::spawn(async move { curl(&["-f", "-o", out.to_str().unwrap(), &url]).await })
    };
    settle().await;
    server.begin_stop();
    settle().await;

    // New transfers are refused, each in its protocol's words.
    let refused = curl(&[
        "-D",
        "-",
        "-o",
        "/dev/null",
        &server.http("images/small.txt"),
    ])
    .await;
    let headers = String::from_utf8_lossy(&refused.stdout);
    assert!(
        headers.contains("503"),
        "HTTP must answer 503 while draining: {headers}"
    );
    // curl reports an FTP 421 as its timeout error (28); read the greeting.
    let refused = curl(&[
        "-v",
        "-u",
        &format!("{USER}:{PASSWORD}"),
        &server.ftp("images/small.txt"),
    ])
    .await;
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("< 421"),
        "FTP must answer 421 while draining: {refused:?}"
    );
    // SSH (SFTP/SCP): the connection is closed before the handshake.
    let refused = curl(&[
        "--insecure",
        "-u",
        &format!("{USER}:{PASSWORD}"),
        "-o",
        "/dev/null",
        &format!("sftp://{}/images/small.txt", server.addresses.sftp.unwrap()),
    ])
    .await;
    assert!(
        !refused.status.success(),
        "SFTP must be refused: {refused:?}"
    );

    let finished = slow.await.unwrap();
    assert!(finished.status.success(), "{finished:?}");
    assert_eq!(sha256(&read(&out)), sha256(&fixture.image));
    let mut records = std::mem::replace(
        &mut server.records,
        tokio::sync::mpsc::unbounded_channel().1,
    );
    let report = server.finish().await;
    assert!(report.cut.is_empty(), "{report:?}");
    let mut complete = 0;
    while let Ok(record) = records.try_recv() {
        if record.file == IMAGE && record.result == TransferResult::Complete {
            assert_eq!(record.bytes, IMAGE_SIZE as u64);
            complete += 1;
        }
    }
    assert_eq!(complete, 1, "the drained download is accounted as complete");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_timeout_cuts_and_reports_running_downloads() {
    require("curl", "curl");
    let fixture = Fixture::new();
    let mut config = fixture.config();
    config.drain_timeout = Duration::from_millis(500);
    // 16 KiB every 50 ms: about 10 s, far longer than the drain allows.
    let mut server =
        Running::start_with_source(config, slow(&fixture, Duration::from_millis(50))).await;
    let slow = {
        let url = server.http(IMAGE);
        tokio::spawn(async move { curl(&["-f", "-o", "/dev/null", &url]).await })
    };
    // An idle FTP session: logged in, no transfer.
    let mut idle = tokio::net::TcpStream::connect(server.addresses.ftp.unwrap())
        .await
        .unwrap();
    let mut greeting = [0u8; 64];
    let read = tokio::io::AsyncReadExt::read(&mut idle, &mut greeting)
        .await
        .unwrap();
    assert!(greeting[..read].starts_with(b"220"));
    settle().await;
    server.begin_stop();
    let report = server.finish().await;
    // The server's end closes idle sessions too.
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::io::AsyncReadExt::read_to_end(&mut idle, &mut rest),
    )
    .await;
    assert!(
        closed.is_ok(),
        "an idle FTP session must be closed after the drain"
    );
    assert_eq!(report.cut.len(), 1, "{report:?}");
    let cut = &report.cut[0];
    assert_eq!((cut.protocol, cut.file.as_str()), (Protocol::Http, IMAGE));
    assert!(cut.bytes < IMAGE_SIZE as u64);
    let finished = tokio::time::timeout(Duration::from_secs(20), slow)
        .await
        .expect("the cut client must see its connection end")
        .unwrap();
    assert!(
        !finished.status.success(),
        "a cut download must not look complete"
    );
}
