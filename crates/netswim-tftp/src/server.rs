//! The tokio TFTP server: a listening socket that accepts requests and
//! starts one task per transfer on a fresh ephemeral socket (RFC 1350 TID),
//! with per-client and global limits, routing of ACKs that field clients
//! send to the listening port, and one accounting record per transfer.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, ReadBuf};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::blocking::{BlockingRead, CancelOnDrop};
use crate::driver::{BlockIo, BlockReader, BlockSink, Peer, dally, dally_period, drive};
use crate::error::TftpError;
use crate::netascii::NetasciiDecoder;
use crate::packet::{ErrorCode, Mode, Packet, TransferOptions};
use crate::source::{ServeSource, ServedReader, UploadArea};
use crate::transfer::{ReadTransfer, RetryPolicy, ServerLimits, WriteTransfer, negotiate};

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub limits: ServerLimits,
    pub retry: RetryPolicy,
    /// Transfers running at once, all clients together.
    pub max_transfers: usize,
    /// Transfers running at once from one client IP address.
    pub max_transfers_per_client: usize,
    /// Where WRQ uploads go; `None` makes the server read-only.
    pub upload: Option<Arc<UploadArea>>,
    /// Every finished transfer is also sent here (besides a tracing event).
    pub accounting: Option<mpsc::UnboundedSender<TransferRecord>>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            limits: ServerLimits::default(),
            retry: RetryPolicy::default(),
            max_transfers: 1024,
            // Generous: a relay or NAT puts many devices behind one address.
            max_transfers_per_client: 32,
            upload: None,
            accounting: None,
        }
    }
}

/// Which way a transfer went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// RRQ: the server sent a file.
    Read,
    /// WRQ: the server received a file.
    Write,
}

/// The accounting record of one transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRecord {
    pub client: SocketAddr,
    pub file: String,
    pub direction: Direction,
    pub bytes: u64,
    pub duration: Duration,
    /// `Err` holds the one-line reason.
    pub result: Result<(), String>,
}

/// A running transfer as the listener sees it.
#[derive(Debug)]
struct RunningTransfer {
    /// Packets the listening socket received for this transfer.
    packets: mpsc::Sender<Packet>,
    file: String,
    direction: Direction,
    started: Instant,
    /// Bytes read from the served file so far (read transfers).
    bytes: Arc<AtomicU64>,
    abort: Option<tokio::task::AbortHandle>,
    /// Where to send the empty wake-up datagram after routing a packet,
    /// once a blocking read transfer has its socket.
    wake: Arc<OnceLock<SocketAddr>>,
}

/// Running transfers, keyed by client address and port.
type Routes = Arc<Mutex<HashMap<SocketAddr, RunningTransfer>>>;

/// A running transfer as seen at one moment (progress reports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferProgress {
    pub client: SocketAddr,
    pub file: String,
    pub direction: Direction,
    /// For a read: bytes read from the file so far, at most one window
    /// ahead of what the client acknowledged. Writes report 0.
    pub bytes: u64,
}

/// A handle on a server's running transfers that outlives `run`.
#[derive(Debug, Clone)]
pub struct RunningTransfers(Routes);

impl RunningTransfers {
    pub fn snapshot(&self) -> Vec<TransferProgress> {
        let routes = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut running: Vec<TransferProgress> = routes
            .iter()
            .map(|(client, transfer)| TransferProgress {
                client: *client,
                file: transfer.file.clone(),
                direction: transfer.direction,
                bytes: transfer.bytes.load(Ordering::Relaxed),
            })
            .collect();
        running.sort_by_key(|transfer| transfer.client);
        running
    }
}

/// A served file's reader that counts what it hands out.
struct CountingReader {
    inner: ServedReader,
    bytes: Arc<AtomicU64>,
}

impl AsyncRead for CountingReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &polled {
            let read = buf.filled().len().saturating_sub(before);
            self.bytes.fetch_add(read as u64, Ordering::Relaxed);
        }
        polled
    }
}

/// A transfer a drain had to cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutTransfer {
    pub client: SocketAddr,
    pub file: String,
    pub direction: Direction,
}

/// What a graceful drain ended with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Transfers still running when the drain timeout ran out.
    pub cut: Vec<CutTransfer>,
}

/// A bound TFTP server; `run` serves until the task is dropped.
#[derive(Debug)]
pub struct TftpServer<S> {
    listener: Arc<UdpSocket>,
    source: Arc<S>,
    config: Arc<ServerConfig>,
    routes: Routes,
}

impl<S: ServeSource> TftpServer<S> {
    /// Binds the listening socket. Bind the unspecified address (0.0.0.0)
    /// to also hear field clients that send their ACKs to the broadcast
    /// address: a socket bound to one interface address does not receive
    /// broadcasts on Linux. Transfer sockets bind the same address.
    pub async fn bind(
        address: SocketAddr,
        source: S,
        config: ServerConfig,
    ) -> Result<Self, TftpError> {
        let listener = UdpSocket::bind(address).await.map_err(|source| {
            TftpError::io(format!("cannot bind TFTP server to {address}"), source)
        })?;
        // Field clients may send to the broadcast address.
        let _ = listener.set_broadcast(true);
        Ok(TftpServer {
            listener: Arc::new(listener),
            source: Arc::new(source),
            config: Arc::new(config),
            routes: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// The running transfers, also while `run` owns the server.
    pub fn running_transfers(&self) -> RunningTransfers {
        RunningTransfers(Arc::clone(&self.routes))
    }

    pub fn local_addr(&self) -> Result<SocketAddr, TftpError> {
        self.listener
            .local_addr()
            .map_err(|source| TftpError::io("cannot read the server address", source))
    }

    /// Serves requests for ever.
    pub async fn run(self) -> Result<(), TftpError> {
        self.run_until(std::future::pending(), Duration::ZERO)
            .await
            .map(|_| ())
    }

    /// Serves requests until `shutdown` completes, then drains: new
    /// requests are refused (error 0, "shutting down"), running transfers
    /// may finish for up to `drain_timeout`, and those still running after
    /// it are cut (their clients get error 0) and reported.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()>,
        drain_timeout: Duration,
    ) -> Result<DrainReport, TftpError> {
        let mut buffer = vec![0u8; 65536];
        let mut shutdown = std::pin::pin!(shutdown);
        let mut drain_deadline: Option<tokio::time::Instant> = None;
        loop {
            let received = tokio::select! {
                received = self.listener.recv_from(&mut buffer) => received,
                () = &mut shutdown, if drain_deadline.is_none() => {
                    info!(transfers = self.lock_routes().len(), "tftp server draining");
                    drain_deadline = Some(tokio::time::Instant::now() + drain_timeout);
                    continue;
                }
                () = tokio::time::sleep(Duration::from_millis(20)), if drain_deadline.is_some() => {
                    let over = drain_deadline.is_some_and(|deadline| tokio::time::Instant::now() >= deadline);
                    if over || self.lock_routes().is_empty() {
                        return Ok(self.cut_remaining().await);
                    }
                    continue;
                }
            };
            let (length, client) = match received {
                Ok(received) => received,
                Err(error) => {
                    // ICMP errors from earlier sends surface here; they do
                    // not concern the listener.
                    debug!(%error, "tftp listener receive error");
                    continue;
                }
            };
            let datagram = buffer.get(..length).unwrap_or_default();
            match Packet::decode(datagram) {
                Ok(packet) => {
                    self.dispatch(client, packet, drain_deadline.is_some())
                        .await
                }
                Err(error) => {
                    debug!(%client, %error, "malformed tftp request");
                    let (code, message) = error.to_wire();
                    self.reply_error(client, code, &message).await;
                }
            }
        }
    }

    /// Ends every transfer still running and reports it.
    async fn cut_remaining(&self) -> DrainReport {
        let remaining: Vec<(SocketAddr, RunningTransfer)> = self.lock_routes().drain().collect();
        let mut report = DrainReport::default();
        for (client, transfer) in remaining {
            if let Some(abort) = &transfer.abort {
                abort.abort();
            }
            self.reply_error(
                client,
                ErrorCode::NotDefined,
                "transfer cut: server shut down",
            )
            .await;
            let record = TransferRecord {
                client,
                file: transfer.file.clone(),
                direction: transfer.direction,
                bytes: 0,
                duration: transfer.started.elapsed(),
                result: Err("cut by server shutdown".to_string()),
            };
            warn!(client = %client, file = %record.file, "tftp transfer cut by shutdown");
            if let Some(accounting) = &self.config.accounting {
                let _ = accounting.send(record);
            }
            report.cut.push(CutTransfer {
                client,
                file: transfer.file,
                direction: transfer.direction,
            });
        }
        report
    }

    async fn dispatch(&self, client: SocketAddr, packet: Packet, draining: bool) {
        if draining
            && matches!(
                packet,
                Packet::ReadRequest { .. } | Packet::WriteRequest { .. }
            )
        {
            self.reply_error(client, ErrorCode::NotDefined, "server is shutting down")
                .await;
            return;
        }
        match packet {
            Packet::ReadRequest {
                filename,
                mode,
                options,
            } => {
                self.accept(
                    client,
                    Request {
                        filename,
                        mode,
                        options,
                        direction: Direction::Read,
                    },
                )
                .await;
            }
            Packet::WriteRequest {
                filename,
                mode,
                options,
            } => {
                self.accept(
                    client,
                    Request {
                        filename,
                        mode,
                        options,
                        direction: Direction::Write,
                    },
                )
                .await;
            }
            other => {
                // Aironet APs send ACKs to port 69 instead of the transfer
                // port: hand the packet to that client's transfer.
                let route = self
                    .lock_routes()
                    .get(&client)
                    .map(|transfer| (transfer.packets.clone(), Arc::clone(&transfer.wake)));
                match route {
                    Some((route, wake)) => {
                        if route.try_send(other).is_ok() {
                            if let Some(transfer_socket) = wake.get() {
                                let _ = self.listener.send_to(&[], *transfer_socket).await;
                            }
                        }
                    }
                    None => debug!(%client, "tftp packet for no transfer on the listening port"),
                }
            }
        }
    }

    fn lock_routes(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, RunningTransfer>> {
        self.routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn reply_error(&self, client: SocketAddr, code: ErrorCode, message: &str) {
        let packet = Packet::Error {
            code,
            message: message.to_string(),
        };
        let _ = self.listener.send_to(&packet.encode(), client).await;
    }

    async fn accept(&self, client: SocketAddr, request: Request) {
        let admitted = {
            let mut routes = self.lock_routes();
            if routes.contains_key(&client) {
                // A retransmitted request of a transfer already running.
                return;
            }
            if routes.len() >= self.config.max_transfers {
                Err("the server's transfer limit is reached")
            } else if routes
                .keys()
                .filter(|address| address.ip() == client.ip())
                .count()
                >= self.config.max_transfers_per_client
            {
                Err("this client's transfer limit is reached")
            } else {
                let (sender, receiver) = mpsc::channel(64);
                let wake = Arc::new(OnceLock::new());
                let bytes = Arc::new(AtomicU64::new(0));
                routes.insert(
                    client,
                    RunningTransfer {
                        packets: sender,
                        file: request.filename.clone(),
                        direction: request.direction,
                        started: Instant::now(),
                        bytes: Arc::clone(&bytes),
                        abort: None,
                        wake: Arc::clone(&wake),
                    },
                );
                Ok((receiver, wake, bytes))
            }
        };
        let (receiver, wake, bytes) = match admitted {
            Ok(admitted) => admitted,
            Err(reason) => {
                warn!(%client, file = %request.filename, reason, "tftp request refused");
                let message = format!("server busy: {reason}");
                self.reply_error(client, ErrorCode::NotDefined, &message)
                    .await;
                return;
            }
        };
        let local_ip = self.listener.local_addr().map(|address| address.ip()).ok();
        let source = Arc::clone(&self.source);
        let config = Arc::clone(&self.config);
        let routes = Arc::clone(&self.routes);
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let filename = request.filename.clone();
            let direction = request.direction;
            let routing = Routing {
                packets: receiver,
                wake,
                bytes,
            };
            let outcome =
                serve_transfer(&*source, &config, local_ip, client, request, routing).await;
            routes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&client);
            let (bytes, result, dallying) = match outcome {
                Ok(completed) => (completed.bytes, Ok(()), completed.dally),
                Err((bytes, error)) => (bytes, Err(error.to_string()), None),
            };
            let record = TransferRecord {
                client,
                file: filename,
                direction,
                bytes,
                duration: started.elapsed(),
                result,
            };
            match &record.result {
                Ok(()) => info!(
                    client = %record.client, file = %record.file, direction = ?record.direction,
                    bytes = record.bytes, duration_ms = record.duration.as_millis() as u64,
                    "tftp transfer complete"
                ),
                Err(reason) => warn!(
                    client = %record.client, file = %record.file, direction = ?record.direction,
                    bytes = record.bytes, duration_ms = record.duration.as_millis() as u64,
                    reason = %reason, "tftp transfer failed"
                ),
            }
            if let Some(accounting) = &config.accounting {
                let _ = accounting.send(record);
            }
            if let Some(mut dallying) = dallying {
                let period = dally_period(&config.retry);
                dally(
                    &mut dallying.machine,
                    &dallying.socket,
                    dallying.client,
                    period,
                )
                .await;
            }
        });
        // The task removes its own entry when it ends; if it already has,
        // there is nothing left to abort.
        if let Some(transfer) = self.lock_routes().get_mut(&client) {
            transfer.abort = Some(task.abort_handle());
        }
    }
}

struct Request {
    filename: String,
    mode: Mode,
    options: TransferOptions,
    direction: Direction,
}

/// A finished transfer.
struct Completed {
    bytes: u64,
    /// A received file's last ACK may need repeating after accounting.
    dally: Option<Dally>,
}

struct Dally {
    machine: WriteTransfer,
    socket: UdpSocket,
    client: SocketAddr,
}

/// Runs a read transfer on a thread of its own (see `blocking`) and waits
/// for it without blocking the runtime.
async fn serve_read_blocking(
    socket: UdpSocket,
    client: SocketAddr,
    machine: ReadTransfer,
    first: Vec<crate::transfer::Action>,
    reader: BlockReader<ServedReader>,
    routed: mpsc::Receiver<Packet>,
    wake: &OnceLock<SocketAddr>,
) -> Result<Completed, (u64, TftpError)> {
    let socket = socket
        .into_std()
        .and_then(|socket| socket.set_nonblocking(false).map(|()| socket))
        .map_err(|source| (0, TftpError::io("cannot open a transfer socket", source)))?;
    if let Ok(local) = socket.local_addr() {
        // A socket on the unspecified address is reached on loopback.
        let ip = match local.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::from([127, 0, 0, 1]),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::from([0, 0, 0, 0, 0, 0, 0, 1]),
            ip => ip,
        };
        let _ = wake.set(SocketAddr::new(ip, local.port()));
    }
    let cancel = Arc::new(AtomicBool::new(false));
    // Aborting this task (a drain cut, a runtime shutdown) stops the thread.
    let _cancel_on_drop = CancelOnDrop(Arc::clone(&cancel));
    let mut transfer = BlockingRead {
        machine,
        socket,
        peer: client,
        routed,
        reader,
        runtime: tokio::runtime::Handle::current(),
        cancel,
    };
    let (done_sender, done_receiver) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("tftp-read".into())
        .spawn(move || {
            let result = transfer.run(first);
            let _ = done_sender.send((transfer.machine.bytes_transferred(), result));
        });
    if let Err(source) = spawned {
        return Err((0, TftpError::io("cannot start a transfer thread", source)));
    }
    match done_receiver.await {
        Ok((bytes, Ok(()))) => Ok(Completed { bytes, dally: None }),
        Ok((bytes, Err(error))) => Err((bytes, error)),
        Err(_) => Err((
            0,
            TftpError::Protocol {
                reason: "the transfer thread ended without a result".into(),
            },
        )),
    }
}

/// What the listener hands a transfer task: the packets routed to it, where
/// to wake its blocking reader, and its byte counter.
struct Routing {
    packets: mpsc::Receiver<Packet>,
    wake: Arc<OnceLock<SocketAddr>>,
    bytes: Arc<AtomicU64>,
}

/// Runs one transfer on its own socket.
async fn serve_transfer<S: ServeSource>(
    source: &S,
    config: &ServerConfig,
    local_ip: Option<IpAddr>,
    client: SocketAddr,
    request: Request,
    routing: Routing,
) -> Result<Completed, (u64, TftpError)> {
    let Routing {
        packets: mut routed,
        wake,
        bytes,
    } = routing;
    let bind_ip = match local_ip {
        Some(ip) => ip,
        None if client.is_ipv4() => IpAddr::from([0, 0, 0, 0]),
        None => IpAddr::from([0u16; 8]),
    };
    let socket = UdpSocket::bind(SocketAddr::new(bind_ip, 0))
        .await
        .map_err(|source| (0, TftpError::io("cannot open a transfer socket", source)))?;
    let refuse = |error: TftpError| async {
        let (code, message) = error.to_wire();
        let packet = Packet::Error { code, message };
        let _ = socket.send_to(&packet.encode(), client).await;
        Err((0, error))
    };
    let peer = Peer {
        address: client,
        lock_on_first_reply: false,
    };
    match request.direction {
        Direction::Read => {
            let netascii = request.mode == Mode::NetAscii;
            // tsize is only known for octet: netascii changes the length.
            let size = match source.size(&request.filename).await {
                Ok(size) => size,
                Err(error) => return refuse(error).await,
            };
            let reader: ServedReader = match source.open(&request.filename).await {
                Ok(reader) => Box::new(CountingReader {
                    inner: reader,
                    bytes,
                }),
                Err(error) => return refuse(error).await,
            };
            let (parameters, option_ack) = negotiate(
                &request.options,
                (!netascii).then_some(size),
                &config.limits,
                config.retry,
            );
            debug!(%client, file = %request.filename, ?parameters, "tftp read");
            let mut machine = ReadTransfer::new(parameters, option_ack);
            let first = machine.start();
            let reader = BlockReader::new(reader, netascii);
            serve_read_blocking(socket, client, machine, first, reader, routed, &wake).await
        }
        Direction::Write => {
            let Some(area) = config.upload.as_deref() else {
                return refuse(TftpError::AccessDenied {
                    path: request.filename.clone(),
                    reason: "this server is read-only",
                })
                .await;
            };
            let upload = match area
                .create(&request.filename, request.options.transfer_size)
                .await
            {
                Ok(upload) => upload,
                Err(error) => return refuse(error).await,
            };
            let (parameters, option_ack) = negotiate(
                &request.options,
                request.options.transfer_size,
                &config.limits,
                config.retry,
            );
            debug!(%client, file = %request.filename, ?parameters, "tftp write");
            let mut machine = WriteTransfer::new(parameters, option_ack);
            let first = machine.start();
            let decoder = (request.mode == Mode::NetAscii).then(NetasciiDecoder::new);
            let mut io: Option<BlockIo<'_, ServedReader>> =
                Some(BlockIo::Sink(BlockSink::Upload {
                    upload: Box::new(upload),
                    decoder,
                }));
            let result = drive(
                &mut machine,
                &socket,
                peer,
                Some(&mut routed),
                &mut io,
                first,
            )
            .await;
            match result {
                Ok(_) => Ok(Completed {
                    bytes: machine.bytes_transferred(),
                    dally: Some(Dally {
                        machine,
                        socket,
                        client,
                    }),
                }),
                Err(error) => Err((machine.bytes_transferred(), error)),
            }
        }
    }
}
