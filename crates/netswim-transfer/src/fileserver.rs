//! All configured file servers in one process, from one serving source:
//! binding, serving, and the graceful drain (refuse new transfers, let the
//! running ones finish up to a timeout, cut and report the rest).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc, watch};

use crate::accounting::{
    Protocol, RunningTransfer, TransferRecord, TransferResult, TransferTracker,
};
use crate::error::TransferError;
use crate::ftp::{CredentialStore, FtpServer};
use crate::http::{HttpState, router};
use crate::metrics::{ControlState, control_router};
use crate::source::{DigestCache, FileSource, LocalDirectory, TftpSource};
use crate::ssh::{SshServer, host_key};

/// Certificate and key of the HTTPS server, PEM files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// What to serve and where.
#[derive(Debug, Clone)]
pub struct FileserverConfig {
    pub root: PathBuf,
    pub tftp: Option<SocketAddr>,
    pub http: Option<SocketAddr>,
    pub https: Option<(SocketAddr, TlsFiles)>,
    pub ftp: Option<SocketAddr>,
    /// Control listener: `GET /metrics` (Prometheus) and `POST /drain`.
    pub control: Option<SocketAddr>,
    /// SSH listening address: SFTP subsystem and legacy SCP.
    pub sftp: Option<SocketAddr>,
    /// SSH host key (OpenSSH private key file); a fresh Ed25519 key when
    /// `None`.
    pub host_key: Option<PathBuf>,
    /// Accepted FTP/SFTP/SCP logins: the standing user plus per-transfer credentials
    /// added and revoked while the server runs (keep a clone to do so).
    pub credentials: CredentialStore,
    /// TFTP, SCP and SFTP uploads (device backups, images pushed to a
    /// relay) land here, within the quota.
    pub upload: Option<(PathBuf, u64)>,
    pub drain_timeout: Duration,
    /// Every finished transfer is also sent here (besides the log line).
    pub records: Option<mpsc::UnboundedSender<TransferRecord>>,
}

impl FileserverConfig {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FileserverConfig {
            root: root.into(),
            tftp: None,
            http: None,
            https: None,
            ftp: None,
            sftp: None,
            control: None,
            host_key: None,
            credentials: CredentialStore::default(),
            upload: None,
            drain_timeout: Duration::from_secs(30),
            records: None,
        }
    }
}

/// The addresses the servers actually listen on (ephemeral ports resolved).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoundAddresses {
    pub tftp: Option<SocketAddr>,
    pub http: Option<SocketAddr>,
    pub https: Option<SocketAddr>,
    pub ftp: Option<SocketAddr>,
    pub sftp: Option<SocketAddr>,
    pub control: Option<SocketAddr>,
}

/// How a file server run ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileserverReport {
    /// Transfers still running when the drain timeout ran out.
    pub cut: Vec<RunningTransfer>,
}

/// Bound servers, ready to run, serving one source (a local directory
/// unless built `with_source`).
#[derive(Debug)]
pub struct Fileserver<S = LocalDirectory> {
    addresses: BoundAddresses,
    tracker: Arc<TransferTracker>,
    drain_timeout: Duration,
    tftp: Option<netswim_tftp::TftpServer<TftpSource<S>>>,
    http_servers: Vec<(Protocol, HttpStop, tokio::task::JoinHandle<()>)>,
    ftp: Option<FtpServer<S>>,
    ssh: Option<SshServer<S>>,
    control: Option<tokio::net::TcpListener>,
    drain_requested: Arc<Notify>,
    tftp_records: Option<mpsc::UnboundedReceiver<netswim_tftp::TransferRecord>>,
}

/// How an HTTP listener is stopped: the plain one runs netswim's own
/// accept loop (`http_plain`), HTTPS runs axum-server with rustls.
#[derive(Debug)]
enum HttpStop {
    Plain(tokio_util::sync::CancellationToken),
    Tls(axum_server::Handle<SocketAddr>),
}

impl HttpStop {
    fn stop(&self) {
        match self {
            HttpStop::Plain(token) => token.cancel(),
            HttpStop::Tls(handle) => handle.shutdown(),
        }
    }
}

fn bind_tcp(
    protocol: &'static str,
    address: SocketAddr,
) -> Result<std::net::TcpListener, TransferError> {
    let bind_error = |source| TransferError::Bind {
        protocol,
        address,
        source,
    };
    let listener = std::net::TcpListener::bind(address).map_err(bind_error)?;
    listener.set_nonblocking(true).map_err(bind_error)?;
    Ok(listener)
}

impl Fileserver<LocalDirectory> {
    /// Binds every configured server on the directory `config.root`;
    /// nothing is served until `run`.
    pub async fn bind(config: FileserverConfig) -> Result<Self, TransferError> {
        let source = Arc::new(LocalDirectory::new(&config.root)?);
        Fileserver::with_source(config, source).await
    }
}

impl<S: FileSource + std::fmt::Debug> Fileserver<S> {
    /// Binds every configured server on `source` (`config.root` is not
    /// used): the same servers serve netswim's blob store.
    pub async fn with_source(
        config: FileserverConfig,
        source: Arc<S>,
    ) -> Result<Self, TransferError> {
        if config.tftp.is_none()
            && config.http.is_none()
            && config.https.is_none()
            && config.ftp.is_none()
            && config.sftp.is_none()
        {
            return Err(TransferError::Config {
                reason: "no server configured".to_string(),
                hint: "give at least one of --tftp, --http, --https, --ftp, --sftp",
            });
        }
        let tracker = Arc::new(TransferTracker::new(config.records.clone()));
        let digests = Arc::new(DigestCache::default());
        let mut addresses = BoundAddresses::default();
        let mut http_servers = Vec::new();

        // One upload area, one quota, whichever protocol uploads.
        let upload = match &config.upload {
            Some((directory, quota)) => {
                Some(Arc::new(netswim_tftp::UploadArea::new(directory, *quota)?))
            }
            None => None,
        };
        let mut tftp = None;
        let mut tftp_records = None;
        if let Some(address) = config.tftp {
            let (sender, receiver) = mpsc::unbounded_channel();
            let server_config = netswim_tftp::ServerConfig {
                upload: upload.clone(),
                accounting: Some(sender),
                ..netswim_tftp::ServerConfig::default()
            };
            let server = netswim_tftp::TftpServer::bind(
                address,
                TftpSource::new(Arc::clone(&source)),
                server_config,
            )
            .await?;
            addresses.tftp = Some(server.local_addr()?);
            tracker.watch_tftp(server.running_transfers());
            tftp = Some(server);
            tftp_records = Some(receiver);
        }

        let state = |protocol| {
            Arc::new(HttpState {
                source: Arc::clone(&source),
                digests: Arc::clone(&digests),
                tracker: Arc::clone(&tracker),
                protocol,
            })
        };
        if let Some(address) = config.http {
            let listener = bind_tcp("HTTP", address)?;
            addresses.http = Some(local_address(&listener)?);
            let listener = tokio::net::TcpListener::from_std(listener).map_err(|source| {
                TransferError::Bind {
                    protocol: "HTTP",
                    address,
                    source,
                }
            })?;
            let token = tokio_util::sync::CancellationToken::new();
            let task = tokio::spawn(crate::http_plain::serve(
                listener,
                state(Protocol::Http),
                token.clone(),
            ));
            http_servers.push((Protocol::Http, HttpStop::Plain(token), task));
        }
        if let Some((address, tls)) = &config.https {
            // One process-wide crypto provider; a second install is harmless.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let rustls_config =
                axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                    .await
                    .map_err(|source| {
                        TransferError::io(
                            format!(
                                "cannot load TLS certificate {} and key {} (hint: PEM files, key unencrypted)",
                                tls.cert.display(),
                                tls.key.display()
                            ),
                            source,
                        )
                    })?;
            let listener = bind_tcp("HTTPS", *address)?;
            addresses.https = Some(local_address(&listener)?);
            let handle = axum_server::Handle::new();
            let server = axum_server::from_tcp_rustls(listener, rustls_config)
                .map_err(|source| TransferError::Bind {
                    protocol: "HTTPS",
                    address: *address,
                    source,
                })?
                .handle(handle.clone());
            let app =
                router(state(Protocol::Https)).into_make_service_with_connect_info::<SocketAddr>();
            let task = tokio::spawn(async move {
                if let Err(error) = server.serve(app).await {
                    tracing::error!(%error, "https server failed");
                }
            });
            http_servers.push((Protocol::Https, HttpStop::Tls(handle), task));
        }

        let mut ftp = None;
        if let Some(address) = config.ftp {
            let server = FtpServer::bind(
                address,
                Arc::clone(&source),
                Arc::clone(&tracker),
                config.credentials.clone(),
            )
            .await?;
            addresses.ftp = Some(server.local_addr()?);
            ftp = Some(server);
        }

        let mut ssh = None;
        if let Some(address) = config.sftp {
            let server = SshServer::bind(
                address,
                host_key(config.host_key.as_deref())?,
                Arc::clone(&source),
                Arc::clone(&tracker),
                config.credentials.clone(),
                upload,
            )
            .await?;
            addresses.sftp = Some(server.local_addr()?);
            ssh = Some(server);
        }

        let mut control = None;
        if let Some(address) = config.control {
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .map_err(|source| TransferError::Bind {
                    protocol: "control (metrics)",
                    address,
                    source,
                })?;
            addresses.control = Some(listener.local_addr().map_err(|source| {
                TransferError::io("cannot read the control listener address", source)
            })?);
            control = Some(listener);
        }

        Ok(Fileserver {
            addresses,
            tracker,
            drain_timeout: config.drain_timeout,
            tftp,
            http_servers,
            ftp,
            ssh,
            control,
            drain_requested: Arc::new(Notify::new()),
            tftp_records,
        })
    }

    pub fn addresses(&self) -> &BoundAddresses {
        &self.addresses
    }

    /// The running transfers of every server with their bytes so far
    /// (progress reports).
    pub fn tracker(&self) -> Arc<TransferTracker> {
        Arc::clone(&self.tracker)
    }

    /// Serves until `shutdown` completes, then drains: new transfers are
    /// refused (TFTP error packet, HTTP 503, FTP 421, SSH connections
    /// closed and SFTP opens failed), running ones may
    /// finish for up to the drain timeout, the rest are cut and reported.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<FileserverReport, TransferError> {
        let Fileserver {
            addresses,
            tracker,
            drain_timeout,
            tftp,
            http_servers,
            ftp,
            ssh,
            control,
            drain_requested,
            tftp_records,
        } = self;
        tracing::info!(
            tftp = ?addresses.tftp,
            http = ?addresses.http,
            https = ?addresses.https,
            ftp = ?addresses.ftp,
            sftp = ?addresses.sftp,
            control = ?addresses.control,
            "file servers listening"
        );
        let (drain_sender, drain_receiver) = watch::channel(false);

        let tftp_task = tftp.map(|server| {
            let mut receiver = drain_receiver.clone();
            tokio::spawn(async move {
                let drain_started = async move {
                    let _ = receiver.wait_for(|draining| *draining).await;
                };
                server.run_until(drain_started, drain_timeout).await
            })
        });
        let tftp_accounting = tftp_records.map(|mut records| {
            let tracker = Arc::clone(&tracker);
            tokio::spawn(async move {
                while let Some(record) = records.recv().await {
                    tracker.record(from_tftp_record(record));
                }
            })
        });
        let ftp_task = ftp.map(|server| tokio::spawn(server.run()));
        let ssh_task = ssh.map(|server| tokio::spawn(server.run()));

        let control_task = control.map(|listener| {
            let app = control_router(Arc::new(ControlState {
                tracker: Arc::clone(&tracker),
                drain: Arc::clone(&drain_requested),
            }));
            tokio::spawn(async move {
                if let Err(error) = axum::serve(listener, app).await {
                    tracing::error!(%error, "control listener failed");
                }
            })
        });

        // A signal (the caller's `shutdown`) or `POST /drain` starts it.
        tokio::select! {
            () = shutdown => {}
            () = drain_requested.notified() => {}
        }
        tracing::info!(
            busy = tracker.busy_count(),
            timeout_s = drain_timeout.as_secs(),
            "draining: new transfers are refused, running ones may finish"
        );
        tracker.start_drain();
        let _ = drain_sender.send(true);

        let idle = tokio::time::timeout(drain_timeout, tracker.wait_idle())
            .await
            .is_ok();
        let mut cut = if idle { Vec::new() } else { tracker.cut_all() };
        if let Some(task) = tftp_task {
            match task.await {
                Ok(Ok(report)) => {
                    cut.extend(report.cut.into_iter().map(|transfer| RunningTransfer {
                        protocol: Protocol::Tftp,
                        client: transfer.client,
                        file: transfer.file,
                        bytes: 0,
                    }))
                }
                Ok(Err(error)) => tracing::error!(%error, "tftp server failed"),
                Err(error) => tracing::error!(%error, "tftp server task failed"),
            }
        }
        // Cut readers fail at their next read; give the servers a moment
        // to close those connections before the listeners go.
        if !idle {
            let _ = tokio::time::timeout(Duration::from_secs(2), tracker.wait_idle()).await;
        }
        for (_, stop, task) in http_servers {
            stop.stop();
            let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
        }
        if let Some(task) = ftp_task {
            task.abort();
        }
        if let Some(task) = ssh_task {
            task.abort();
        }
        if let Some(task) = control_task {
            task.abort();
        }
        if let Some(task) = tftp_accounting {
            // The TFTP server is gone, so its record channel has closed.
            let _ = tokio::time::timeout(Duration::from_secs(1), task).await;
        }
        for transfer in &cut {
            tracing::warn!(
                protocol = transfer.protocol.as_str(),
                client = %transfer.client,
                file = %transfer.file,
                bytes = transfer.bytes,
                "transfer cut by shutdown"
            );
        }
        Ok(FileserverReport { cut })
    }
}

fn local_address(listener: &std::net::TcpListener) -> Result<SocketAddr, TransferError> {
    listener
        .local_addr()
        .map_err(|source| TransferError::io("cannot read a listening address", source))
}

fn from_tftp_record(record: netswim_tftp::TransferRecord) -> TransferRecord {
    TransferRecord {
        protocol: Protocol::Tftp,
        client: record.client,
        file: record.file,
        bytes: record.bytes,
        duration: record.duration,
        result: match record.result {
            Ok(()) => TransferResult::Complete,
            Err(reason) if reason.contains("cut") => TransferResult::Cut,
            Err(reason) => TransferResult::Failed(reason),
        },
    }
}

/// Binds every configured server, serves until `shutdown`, drains.
pub async fn run_fileserver(
    config: FileserverConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<FileserverReport, TransferError> {
    Fileserver::bind(config).await?.run(shutdown).await
}
