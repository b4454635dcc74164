//! The SSH file server (russh, russh-sftp): one listener serves the SFTP
//! subsystem (reads from the serving source; writes only as new files
//! inside the upload area, within its quota, renamed into place at CLOSE)
//! and legacy SCP over exec (`scp -f` downloads from the source; `scp -t`
//! uploads only into the upload area, within its quota). Logins are
//! checked against the `CredentialStore` (password or public key). Connections are accepted
//! here rather than by russh so that a draining server can refuse them.
//!
//! The SCP protocol is written by hand: it is a few lines of text framing
//! run by the remote `scp` program in OpenSSH, and no crate serves it.

use std::collections::HashMap;
use std::fmt::Debug;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use russh::keys::{Algorithm, PrivateKey};
use russh::server::{Auth, ChannelOpenHandle, Msg, Session};
use russh::{Channel, ChannelId, ChannelOpenFailure, MethodKind, MethodSet};
use russh_sftp::protocol::{
    Attrs, Data, ExtendedReply, File, FileAttributes, Handle, Name, OpenFlags, Packet, Status,
    StatusCode, Version,
};
use russh_sftp::server::StatusReply;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::accounting::{Protocol, TransferGuard, TransferTracker};
use crate::error::TransferError;
use crate::ftp::CredentialStore;
use crate::source::{DirectoryEntry, EntryKind, FileInfo, FileSource, SourceReader};

/// Reads of served files go through a buffer this large: `tokio::fs`
/// reads are blocking-pool round trips, SFTP clients ask 32–256 KiB at a
/// time.
const READ_BUFFER: usize = 1024 * 1024;
/// The largest SFTP packet a client may send (russh-sftp's default).
const MAX_PACKET: u32 = 256 * 1024;
/// The largest SFTP read answered and write accepted at once, announced
/// with `limits@openssh.com`: what OpenSSH's sftp-server allows, so a
/// reply fits the client's 256 KiB packet limit (OpenSSH asks 32 KiB
/// without the extension).
const MAX_READ: u32 = 255 * 1024;
/// Client requests buffered ahead of the SFTP handler (see `pumped`).
const REQUEST_BUFFER: usize = 4 * 1024 * 1024;
/// An SCP control line longer than this is a protocol error.
const MAX_SCP_LINE: usize = 4096;

/// The SSH host key: read from `path` (OpenSSH private key format) or a
/// fresh Ed25519 key.
pub fn host_key(path: Option<&Path>) -> Result<PrivateKey, TransferError> {
    match path {
        Some(path) => {
            russh::keys::load_secret_key(path, None).map_err(|error| TransferError::Config {
                reason: format!("cannot load SSH host key {}: {error}", path.display()),
                hint: "give an unencrypted OpenSSH private key (ssh-keygen -t ed25519 -N '')",
            })
        }
        None => PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).map_err(|error| {
            TransferError::Config {
                reason: format!("cannot generate an SSH host key: {error}"),
                hint: "give one with --host-key FILE",
            }
        }),
    }
}

/// What every SSH session of one server shares.
#[derive(Debug)]
struct Shared<S> {
    source: Arc<S>,
    tracker: Arc<TransferTracker>,
    credentials: CredentialStore,
    upload: Option<Arc<netswim_tftp::UploadArea>>,
    /// Where SFTP sees the upload area: its path under the served root
    /// ("" when the area is the root, or when it lies outside the root
    /// and SFTP write paths are relative to the area, as SCP's are).
    upload_prefix: String,
}

/// The SFTP path prefix of the upload area (see `Shared::upload_prefix`).
fn upload_prefix(served_root: Option<&Path>, area: &Path) -> String {
    served_root
        .and_then(|root| area.strip_prefix(root).ok())
        .map(|inside| inside.to_string_lossy().trim_matches('/').to_string())
        .unwrap_or_default()
}

/// The path inside the upload area that an SFTP write of `path` (root-
/// relative, no leading slash) goes to, or `None` when it lies outside.
fn inside_upload_area<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    if prefix.is_empty() {
        return Some(path);
    }
    path.strip_prefix(prefix)?.strip_prefix('/')
}

/// A bound SSH (SFTP and SCP) listener.
#[derive(Debug)]
pub struct SshServer<S> {
    listener: TcpListener,
    config: Arc<russh::server::Config>,
    shared: Arc<Shared<S>>,
}

impl<S: FileSource + Debug> SshServer<S> {
    pub async fn bind(
        address: SocketAddr,
        host_key: PrivateKey,
        source: Arc<S>,
        tracker: Arc<TransferTracker>,
        credentials: CredentialStore,
        upload: Option<Arc<netswim_tftp::UploadArea>>,
    ) -> Result<Self, TransferError> {
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| TransferError::Bind {
                protocol: "SSH",
                address,
                source,
            })?;
        let mut methods = MethodSet::empty();
        methods.push(MethodKind::PublicKey);
        methods.push(MethodKind::Password);
        let config = russh::server::Config {
            server_id: russh::SshId::Standard("SSH-2.0-netswim".into()),
            methods,
            // Refusals take this long so timing does not tell which part
            // of a login was wrong; the first probe ("none") is answered
            // at once.
            auth_rejection_time: Duration::from_millis(300),
            auth_rejection_time_initial: Some(Duration::ZERO),
            keys: vec![host_key],
            inactivity_timeout: Some(Duration::from_secs(600)),
            // Larger channel windows keep a single stream from stalling on
            // flow control over fast links.
            window_size: 16 * 1024 * 1024,
            nodelay: true,
            ..Default::default()
        };
        Ok(SshServer {
            listener,
            config: Arc::new(config),
            shared: Arc::new(Shared {
                upload_prefix: upload
                    .as_ref()
                    .map(|area| upload_prefix(source.local_root(), area.root()))
                    .unwrap_or_default(),
                source,
                tracker,
                credentials,
                upload,
            }),
        })
    }

    pub fn local_addr(&self) -> Result<SocketAddr, TransferError> {
        self.listener
            .local_addr()
            .map_err(|source| TransferError::io("cannot read the SSH server address", source))
    }

    /// Accepts connections for ever, one russh session each. While
    /// draining, new connections are closed at once. Dropping (aborting)
    /// this future ends every session.
    pub async fn run(self) {
        let mut sessions = tokio::task::JoinSet::new();
        loop {
            while sessions.try_join_next().is_some() {}
            let (stream, client) = match self.listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::debug!(%error, "ssh accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            if self.shared.tracker.is_draining() {
                tracing::info!(%client, "ssh connection refused: the server is shutting down");
                drop(stream);
                continue;
            }
            let handler = Connection {
                shared: Arc::clone(&self.shared),
                client,
                channels: HashMap::new(),
                sftp_channels: std::collections::HashSet::new(),
            };
            let config = Arc::clone(&self.config);
            sessions.spawn(async move {
                match russh::server::run_stream(config, stream, handler).await {
                    Ok(session) => {
                        if let Err(error) = session.await {
                            tracing::debug!(%client, %error, "ssh session ended with an error");
                        }
                    }
                    Err(error) => tracing::debug!(%client, %error, "ssh handshake failed"),
                }
            });
        }
    }
}

/// One SSH connection: its login and the session channels waiting for a
/// subsystem or exec request.
struct Connection<S> {
    shared: Arc<Shared<S>>,
    client: SocketAddr,
    channels: HashMap<ChannelId, Channel<Msg>>,
    /// Channels running the SFTP subsystem.
    sftp_channels: std::collections::HashSet<ChannelId>,
}

impl<S: FileSource> russh::server::Handler for Connection<S> {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        if self.shared.credentials.accepts(user, password) {
            Ok(Auth::Accept)
        } else {
            tracing::info!(user, client = %self.client, "ssh password login refused");
            Ok(Auth::reject())
        }
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        public_key: &russh::keys::PublicKey,
    ) -> Result<Auth, Self::Error> {
        Ok(self.key_auth(user, public_key))
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        public_key: &russh::keys::PublicKey,
    ) -> Result<Auth, Self::Error> {
        let auth = self.key_auth(user, public_key);
        if auth != Auth::Accept {
            tracing::info!(user, client = %self.client, "ssh key login refused");
        }
        Ok(auth)
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.shared.tracker.is_draining() {
            reply
                .reject(ChannelOpenFailure::AdministrativelyProhibited)
                .await;
            return Ok(());
        }
        self.channels.insert(channel.id(), channel);
        reply.accept().await;
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        id: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        match self.channels.remove(&id) {
            Some(channel) if name == "sftp" => {
                session.channel_success(id)?;
                self.sftp_channels.insert(id);
                let handler = SftpSession {
                    shared: Arc::clone(&self.shared),
                    client: self.client,
                    handles: HashMap::new(),
                    next_handle: 0,
                };
                russh_sftp::server::run(pumped(channel.into_stream()), handler).await;
            }
            Some(channel) => {
                self.channels.insert(id, channel);
                session.channel_failure(id)?;
            }
            None => session.channel_failure(id)?,
        }
        Ok(())
    }

    /// The client ended an SFTP session: it gets exit status 0, which
    /// `scp` in SFTP mode requires to report success.
    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.sftp_channels.remove(&channel) {
            session.exit_status_request(channel, 0)?;
            session.eof(channel)?;
            session.close(channel)?;
        }
        Ok(())
    }

    async fn exec_request(
        &mut self,
        id: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(channel) = self.channels.remove(&id) else {
            session.channel_failure(id)?;
            return Ok(());
        };
        session.channel_success(id)?;
        let command = String::from_utf8_lossy(data).into_owned();
        let shared = Arc::clone(&self.shared);
        let client = self.client;
        tokio::spawn(async move {
            let (mut read_half, write_half) = channel.split();
            let mut reader = read_half.make_reader();
            let mut writer = write_half.make_writer();
            let status = match ScpCommand::parse(&command) {
                Ok(scp) => {
                    let mut run = ScpRun {
                        shared: &shared,
                        client,
                        reader: &mut reader,
                        writer: &mut writer,
                    };
                    run.serve(&scp).await
                }
                Err(message) => {
                    let mut stderr = write_half.make_writer_ext(Some(1));
                    let _ = stderr.write_all(format!("{message}\n").as_bytes()).await;
                    let _ = stderr.flush().await;
                    1
                }
            };
            let _ = writer.flush().await;
            drop(reader);
            let _ = write_half.exit_status(status).await;
            let _ = write_half.eof().await;
            let _ = write_half.close().await;
        });
        Ok(())
    }
}

/// The SFTP channel with its requests read ahead by a task of their own.
///
/// russh-sftp reads a request, then writes its reply, on one task. A
/// 255 KiB reply waits for the client's window; meanwhile russh's session
/// loop delivers the client's next requests into the channel's bounded
/// queue, and once that is full the loop blocks there, so it never
/// reads the WINDOW_ADJUST the reply is waiting for: the download stalls
/// (it did after ~28 MB with OpenSSH's 255 KiB reads). Reading ahead
/// into a buffer keeps the session loop free; `REQUEST_BUFFER` bounds what
/// a client can queue (read requests are ~40 bytes each).
fn pumped(
    stream: russh::ChannelStream<Msg>,
) -> tokio::io::Join<tokio::io::DuplexStream, tokio::io::WriteHalf<russh::ChannelStream<Msg>>> {
    let (mut channel_reader, channel_writer) = tokio::io::split(stream);
    let (mut requests_in, requests_out) = tokio::io::duplex(REQUEST_BUFFER);
    tokio::spawn(async move {
        // Ends at the client's EOF; dropping `requests_in` then ends the
        // SFTP session.
        let _ = tokio::io::copy(&mut channel_reader, &mut requests_in).await;
    });
    tokio::io::join(requests_out, channel_writer)
}

impl<S> Connection<S> {
    fn key_auth(&self, user: &str, public_key: &russh::keys::PublicKey) -> Auth {
        let line = public_key.to_openssh().unwrap_or_default();
        if self.shared.credentials.accepts_key(user, &line) {
            Auth::Accept
        } else {
            Auth::reject()
        }
    }
}

/// SFTP and SCP paths are rooted at the served root: leading slashes go,
/// the rest is confined by the source (or the upload area).
fn relative(path: &str) -> &str {
    path.trim_start_matches('/')
}

/// `path` made absolute and free of `.` and `..` (which stop at the root),
/// the answer to SSH_FXP_REALPATH. Only a display form: every access is
/// confined again by the source.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

fn status(error: TransferError) -> StatusReply {
    let code = match &error {
        TransferError::NotFound { .. } => StatusCode::NoSuchFile,
        TransferError::AccessDenied { .. } => StatusCode::PermissionDenied,
        _ => StatusCode::Failure,
    };
    code.with_message(error.to_string())
}

fn read_only() -> StatusReply {
    StatusCode::PermissionDenied.with_message("this server is read-only")
}

fn shutting_down() -> StatusReply {
    StatusCode::Failure.with_message("the server is shutting down")
}

fn attributes(info: &FileInfo) -> FileAttributes {
    let mtime = info
        .modified
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|elapsed| u32::try_from(elapsed.as_secs()).unwrap_or(u32::MAX))
        .unwrap_or(0);
    FileAttributes {
        size: Some(info.size),
        uid: Some(0),
        gid: Some(0),
        permissions: Some(match info.kind {
            EntryKind::Directory => 0o040_555,
            EntryKind::File => 0o100_444,
        }),
        atime: Some(mtime),
        mtime: Some(mtime),
        ..FileAttributes::default()
    }
}

/// An open SFTP handle.
enum OpenHandle {
    File {
        path: String,
        reader: Box<BufReader<SourceReader>>,
        /// The offset the reader is at.
        position: u64,
        guard: TransferGuard,
    },
    Directory {
        /// Handed out by the first READDIR; `None` afterwards.
        entries: Option<Vec<DirectoryEntry>>,
    },
    /// A file being uploaded into the upload area: written under a
    /// temporary name, renamed into place at CLOSE, removed (and its quota
    /// released) when dropped before.
    Upload {
        upload: Box<netswim_tftp::Upload<'static>>,
        guard: TransferGuard,
    },
    /// An upload that failed (quota, disk): later writes get its reason.
    Failed { message: String },
}

fn ok_status(id: u32) -> Status {
    Status {
        id,
        status_code: StatusCode::Ok,
        error_message: "Ok".to_string(),
        language_tag: "en-US".to_string(),
    }
}

/// An upload refusal in SFTP's words (version 3 has no quota or
/// file-exists codes: those are failures with the reason).
fn upload_status(error: &netswim_tftp::TftpError) -> StatusReply {
    let code = match error {
        netswim_tftp::TftpError::AccessDenied { .. } => StatusCode::PermissionDenied,
        _ => StatusCode::Failure,
    };
    code.with_message(error.to_string())
}

/// One SFTP subsystem channel.
struct SftpSession<S> {
    shared: Arc<Shared<S>>,
    client: SocketAddr,
    handles: HashMap<String, OpenHandle>,
    next_handle: u64,
}

impl<S: FileSource> SftpSession<S> {
    fn insert(&mut self, handle: OpenHandle) -> String {
        self.next_handle += 1;
        let name = self.next_handle.to_string();
        self.handles.insert(name.clone(), handle);
        name
    }

    /// SSH_FXP_OPEN for writing: only a new file inside the upload area.
    async fn open_upload(&mut self, id: u32, filename: &str) -> Result<Handle, StatusReply> {
        let Some(area) = self.shared.upload.clone() else {
            tracing::info!(client = %self.client, file = %filename, "sftp write refused");
            return Err(read_only());
        };
        if self.shared.tracker.is_draining() {
            return Err(shutting_down());
        }
        let path = relative(filename);
        let Some(inside) = inside_upload_area(path, &self.shared.upload_prefix) else {
            tracing::info!(client = %self.client, file = %filename, "sftp write outside the upload area refused");
            return Err(StatusCode::PermissionDenied.with_message(format!(
                "'{filename}' is read-only (hint: uploads go under /{}/)",
                self.shared.upload_prefix
            )));
        };
        let upload = area.create_shared(inside, None).await.map_err(|error| {
            tracing::info!(client = %self.client, file = %filename, %error, "sftp upload refused");
            upload_status(&error)
        })?;
        let mut guard = self
            .shared
            .tracker
            .begin(Protocol::Sftp, self.client, path, 0);
        // Complete only once CLOSE has put the file in place.
        guard.set_expected(u64::MAX);
        let handle = self.insert(OpenHandle::Upload {
            upload: Box::new(upload),
            guard,
        });
        Ok(Handle { id, handle })
    }

    async fn info_of(&self, path: &str) -> Result<FileInfo, StatusReply> {
        self.shared
            .source
            .stat(relative(path))
            .await
            .map_err(status)
    }
}

impl<S: FileSource> russh_sftp::server::Handler for SftpSession<S> {
    type Error = StatusReply;

    fn unimplemented(&self) -> Self::Error {
        StatusCode::OpUnsupported.into()
    }

    /// Announces `limits@openssh.com`: OpenSSH clients then read and write
    /// in chunks of `MAX_READ` instead of 32 KiB, an eighth of the requests.
    async fn init(
        &mut self,
        _version: u32,
        _extensions: HashMap<String, String>,
    ) -> Result<Version, Self::Error> {
        let mut version = Version::new();
        version
            .extensions
            .insert(russh_sftp::extensions::LIMITS.to_string(), "1".to_string());
        Ok(version)
    }

    async fn extended(
        &mut self,
        id: u32,
        request: String,
        _data: Vec<u8>,
    ) -> Result<Packet, Self::Error> {
        if request != russh_sftp::extensions::LIMITS {
            return Err(StatusCode::OpUnsupported.into());
        }
        // Max packet, read, write and open handles, as four big-endian u64.
        let mut data = Vec::with_capacity(32);
        for limit in [
            u64::from(MAX_PACKET),
            u64::from(MAX_READ),
            u64::from(MAX_READ),
            1024,
        ] {
            data.extend_from_slice(&limit.to_be_bytes());
        }
        Ok(Packet::ExtendedReply(ExtendedReply { id, data }))
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        _attrs: FileAttributes,
    ) -> Result<Handle, Self::Error> {
        let writing =
            OpenFlags::WRITE | OpenFlags::APPEND | OpenFlags::CREATE | OpenFlags::TRUNCATE;
        if pflags.intersects(writing) {
            return self.open_upload(id, &filename).await;
        }
        if self.shared.tracker.is_draining() {
            return Err(shutting_down());
        }
        let path = relative(&filename).to_string();
        let info = self.info_of(&path).await?;
        if info.kind != EntryKind::File {
            return Err(StatusCode::Failure.with_message(format!("'{filename}' is a directory")));
        }
        let reader = self.shared.source.open_at(&path, 0).await.map_err(status)?;
        let guard = self
            .shared
            .tracker
            .begin(Protocol::Sftp, self.client, &path, info.size);
        let handle = self.insert(OpenHandle::File {
            path,
            reader: Box::new(BufReader::with_capacity(READ_BUFFER, reader)),
            position: 0,
            guard,
        });
        Ok(Handle { id, handle })
    }

    async fn close(&mut self, id: u32, handle: String) -> Result<Status, Self::Error> {
        match self.handles.remove(&handle) {
            Some(OpenHandle::Upload { upload, mut guard }) => {
                guard.set_expected(upload.written());
                match upload.commit().await {
                    Ok(()) => Ok(ok_status(id)),
                    Err(error) => {
                        guard.fail(error.to_string());
                        Err(upload_status(&error))
                    }
                }
            }
            Some(OpenHandle::Failed { message }) => Err(StatusCode::Failure.with_message(message)),
            Some(_) => Ok(ok_status(id)),
            None => Err(StatusCode::Failure.with_message("no such handle")),
        }
    }

    async fn read(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        len: u32,
    ) -> Result<Data, Self::Error> {
        let source = Arc::clone(&self.shared.source);
        let Some(OpenHandle::File {
            path,
            reader,
            position,
            guard,
        }) = self.handles.get_mut(&handle)
        else {
            return Err(StatusCode::Failure.with_message("no such file handle"));
        };
        if guard.is_cut() {
            return Err(StatusCode::Failure.with_message("transfer cut: the server shut down"));
        }
        if offset != *position {
            // A client seeking (resume, parallel chunks): reopen there, as
            // the source hands out sequential readers.
            let reopened = source.open_at(path, offset).await.map_err(status)?;
            **reader = BufReader::with_capacity(READ_BUFFER, reopened);
            *position = offset;
        }
        let wanted = usize::try_from(len.min(MAX_READ)).unwrap_or(0);
        let mut data = vec![0u8; wanted];
        let mut filled = 0;
        while filled < wanted {
            let Some(space) = data.get_mut(filled..) else {
                break;
            };
            match reader.read(space).await {
                Ok(0) => break,
                Ok(read) => filled += read,
                Err(error) => {
                    guard.fail(format!("read error: {error}"));
                    return Err(StatusCode::Failure.with_message(format!("read error: {error}")));
                }
            }
        }
        if filled == 0 && wanted > 0 {
            return Err(StatusCode::Eof.into());
        }
        data.truncate(filled);
        *position += filled as u64;
        guard.add_bytes(filled as u64);
        Ok(Data { id, data })
    }

    async fn write(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<Status, Self::Error> {
        let failure = match self.handles.get_mut(&handle) {
            Some(OpenHandle::Upload { upload, guard }) => {
                if guard.is_cut() {
                    "transfer cut: the server shut down".to_string()
                } else if offset != upload.written() {
                    format!(
                        "uploads are written in order: expected offset {}, got {offset}",
                        upload.written()
                    )
                } else {
                    match upload.write(&data).await {
                        Ok(()) => {
                            guard.add_bytes(data.len() as u64);
                            return Ok(ok_status(id));
                        }
                        Err(error) => error.to_string(),
                    }
                }
            }
            Some(OpenHandle::Failed { message }) => {
                return Err(StatusCode::Failure.with_message(message.clone()));
            }
            Some(_) => return Err(read_only()),
            None => return Err(StatusCode::Failure.with_message("no such handle")),
        };
        // The partial file goes (and its quota comes back) with the upload.
        if let Some(OpenHandle::Upload { mut guard, .. }) = self.handles.insert(
            handle,
            OpenHandle::Failed {
                message: failure.clone(),
            },
        ) {
            guard.fail(failure.clone());
        }
        tracing::info!(client = %self.client, reason = %failure, "sftp upload failed");
        Err(StatusCode::Failure.with_message(failure))
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        // Symlinks inside the root are shown as what they point to; those
        // leading outside do not exist for the client.
        let info = self.info_of(&path).await?;
        Ok(Attrs {
            id,
            attrs: attributes(&info),
        })
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Result<Attrs, Self::Error> {
        let path = match self.handles.get(&handle) {
            Some(OpenHandle::File { path, .. }) => path.clone(),
            Some(OpenHandle::Upload { upload, .. }) => {
                return Ok(Attrs {
                    id,
                    attrs: FileAttributes {
                        size: Some(upload.written()),
                        permissions: Some(0o100_644),
                        ..FileAttributes::default()
                    },
                });
            }
            Some(OpenHandle::Directory { .. } | OpenHandle::Failed { .. }) | None => {
                return Err(StatusCode::Failure.with_message("no such file handle"));
            }
        };
        let info = self.info_of(&path).await?;
        Ok(Attrs {
            id,
            attrs: attributes(&info),
        })
    }

    async fn setstat(
        &mut self,
        _id: u32,
        _path: String,
        _attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        Err(read_only())
    }

    async fn fsetstat(
        &mut self,
        id: u32,
        handle: String,
        _attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        // `sftp put -p` sets modes and times on the file it wrote: accepted
        // and ignored (uploads keep the server's mode and time).
        match self.handles.get(&handle) {
            Some(OpenHandle::Upload { .. }) => Ok(ok_status(id)),
            _ => Err(read_only()),
        }
    }

    async fn opendir(&mut self, id: u32, path: String) -> Result<Handle, Self::Error> {
        let entries = self
            .shared
            .source
            .list(relative(&path))
            .await
            .map_err(status)?;
        let handle = self.insert(OpenHandle::Directory {
            entries: Some(entries),
        });
        Ok(Handle { id, handle })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Result<Name, Self::Error> {
        let Some(OpenHandle::Directory { entries }) = self.handles.get_mut(&handle) else {
            return Err(StatusCode::Failure.with_message("no such directory handle"));
        };
        match entries.take() {
            Some(entries) if !entries.is_empty() => Ok(Name {
                id,
                files: entries
                    .iter()
                    .map(|entry| File::new(entry.name.clone(), attributes(&entry.info)))
                    .collect(),
            }),
            _ => Err(StatusCode::Eof.into()),
        }
    }

    async fn remove(&mut self, _id: u32, _filename: String) -> Result<Status, Self::Error> {
        Err(read_only())
    }

    async fn mkdir(
        &mut self,
        _id: u32,
        _path: String,
        _attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        Err(read_only())
    }

    async fn rmdir(&mut self, _id: u32, _path: String) -> Result<Status, Self::Error> {
        Err(read_only())
    }

    async fn realpath(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        Ok(Name {
            id,
            files: vec![File::dummy(normalize(&path))],
        })
    }

    async fn stat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let info = self.info_of(&path).await?;
        Ok(Attrs {
            id,
            attrs: attributes(&info),
        })
    }

    async fn rename(
        &mut self,
        _id: u32,
        _oldpath: String,
        _newpath: String,
    ) -> Result<Status, Self::Error> {
        Err(read_only())
    }

    async fn symlink(
        &mut self,
        _id: u32,
        _linkpath: String,
        _targetpath: String,
    ) -> Result<Status, Self::Error> {
        Err(read_only())
    }
}

/// What a legacy SCP exec request asks.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ScpCommand {
    /// `scp -f PATH...`: send files to the client.
    Source { paths: Vec<String>, preserve: bool },
    /// `scp -t TARGET`: receive files from the client.
    Sink { target: String },
}

impl ScpCommand {
    /// Parses the exec command line (shell quoting as OpenSSH's `scp`
    /// writes it); anything but `scp -f`/`scp -t` is refused.
    fn parse(command: &str) -> Result<ScpCommand, String> {
        let words = shell_words(command)?;
        let mut words = words.into_iter();
        match words.next().as_deref() {
            Some("scp") => {}
            _ => {
                return Err(format!(
                    "netswim: only scp is served here, not '{command}' (hint: use sftp or scp)"
                ));
            }
        }
        let (mut from, mut to, mut preserve, mut recursive) = (false, false, false, false);
        let mut paths = Vec::new();
        let mut options_done = false;
        for word in words {
            if !options_done && word == "--" {
                options_done = true;
            } else if !options_done && word.starts_with('-') && word.len() > 1 {
                for flag in word.chars().skip(1) {
                    match flag {
                        'f' => from = true,
                        't' => to = true,
                        'p' => preserve = true,
                        'r' => recursive = true,
                        'v' | 'd' | 'q' => {}
                        other => return Err(format!("scp: unknown option -{other}")),
                    }
                }
            } else {
                options_done = true;
                paths.push(word);
            }
        }
        if recursive {
            return Err("scp: recursive copies are not served (hint: copy single files)".into());
        }
        match (from, to, paths.len()) {
            (true, false, 1..) => Ok(ScpCommand::Source { paths, preserve }),
            (false, true, 1) => Ok(ScpCommand::Sink {
                target: paths.remove(0),
            }),
            _ => Err(format!("scp: unsupported command '{command}'")),
        }
    }
}

/// Splits a command line into words: single and double quotes, backslash
/// escapes; no expansion of any kind.
fn shell_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut current: Option<String> = None;
    let mut chars = line.chars();
    while let Some(character) = chars.next() {
        match character {
            ' ' | '\t' | '\n' => {
                if let Some(word) = current.take() {
                    words.push(word);
                }
            }
            '\'' => {
                let word = current.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(quoted) => word.push(quoted),
                        None => return Err("scp: unterminated quote".into()),
                    }
                }
            }
            '"' => {
                let word = current.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(escaped) => word.push(escaped),
                            None => return Err("scp: unterminated quote".into()),
                        },
                        Some(quoted) => word.push(quoted),
                        None => return Err("scp: unterminated quote".into()),
                    }
                }
            }
            '\\' => {
                let word = current.get_or_insert_with(String::new);
                if let Some(escaped) = chars.next() {
                    word.push(escaped);
                }
            }
            other => current.get_or_insert_with(String::new).push(other),
        }
    }
    words.extend(current);
    Ok(words)
}

/// One SCP exec channel being served.
struct ScpRun<'a, S, R, W> {
    shared: &'a Shared<S>,
    client: SocketAddr,
    reader: &'a mut R,
    writer: &'a mut W,
}

/// Why an SCP exchange stopped: the client went away or broke the
/// protocol (no reply is possible).
#[derive(Debug)]
struct ScpAbort;

impl<S: FileSource, R: AsyncRead + Unpin, W: AsyncWrite + Unpin> ScpRun<'_, S, R, W> {
    /// Runs the command; returns the exit status (0 when every file went).
    async fn serve(&mut self, command: &ScpCommand) -> u32 {
        let outcome = match command {
            ScpCommand::Source { paths, preserve } => self.source(paths, *preserve).await,
            ScpCommand::Sink { target } => self.sink(target).await,
        };
        match outcome {
            Ok(true) => 0,
            Ok(false) | Err(ScpAbort) => 1,
        }
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), ScpAbort> {
        self.writer.write_all(bytes).await.map_err(|_| ScpAbort)?;
        self.writer.flush().await.map_err(|_| ScpAbort)
    }

    /// A non-fatal error: the client reports it and goes on.
    async fn warn(&mut self, message: &str) -> Result<(), ScpAbort> {
        tracing::info!(client = %self.client, message, "scp request refused");
        self.send(format!("\x01scp: {message}\n").as_bytes()).await
    }

    /// A fatal error: the client gives up.
    async fn fatal(&mut self, message: &str) -> Result<bool, ScpAbort> {
        tracing::info!(client = %self.client, message, "scp request refused");
        self.send(format!("\x02scp: {message}\n").as_bytes())
            .await?;
        Ok(false)
    }

    /// Waits for the client's acknowledgement byte; an error reply ends
    /// the exchange.
    async fn ack(&mut self) -> Result<(), ScpAbort> {
        let mut byte = [0u8; 1];
        self.reader
            .read_exact(&mut byte)
            .await
            .map_err(|_| ScpAbort)?;
        if byte[0] == 0 { Ok(()) } else { Err(ScpAbort) }
    }

    /// `scp -f`: sends each file as `C` record, data, `\0`.
    async fn source(&mut self, paths: &[String], preserve: bool) -> Result<bool, ScpAbort> {
        // The client starts the exchange with a zero byte.
        self.ack().await?;
        let mut all_sent = true;
        for requested in paths {
            if self.shared.tracker.is_draining() {
                return self.fatal("the server is shutting down").await;
            }
            let path = relative(requested);
            let info = match self.shared.source.stat(path).await {
                Ok(info) if info.kind == EntryKind::File => info,
                Ok(_) => {
                    self.warn(&format!("{requested}: not a regular file"))
                        .await?;
                    all_sent = false;
                    continue;
                }
                Err(error) => {
                    self.warn(&format!("{requested}: {error}")).await?;
                    all_sent = false;
                    continue;
                }
            };
            let reader = match self.shared.source.open_at(path, 0).await {
                Ok(reader) => reader,
                Err(error) => {
                    self.warn(&format!("{requested}: {error}")).await?;
                    all_sent = false;
                    continue;
                }
            };
            if preserve {
                let seconds = info
                    .modified
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|elapsed| elapsed.as_secs())
                    .unwrap_or(0);
                self.send(format!("T{seconds} 0 {seconds} 0\n").as_bytes())
                    .await?;
                self.ack().await?;
            }
            let name = path.rsplit('/').next().unwrap_or(path);
            self.send(format!("C0444 {} {name}\n", info.size).as_bytes())
                .await?;
            self.ack().await?;
            let mut guard = self
                .shared
                .tracker
                .begin(Protocol::Scp, self.client, path, info.size);
            let mut reader = BufReader::with_capacity(READ_BUFFER, reader);
            let mut remaining = info.size;
            while remaining > 0 {
                if guard.is_cut() {
                    return Err(ScpAbort);
                }
                let chunk = match reader.fill_buf().await {
                    Ok(chunk) if !chunk.is_empty() => chunk,
                    Ok(_) => {
                        guard.fail("the file shrank while it was sent");
                        return Err(ScpAbort);
                    }
                    Err(error) => {
                        guard.fail(format!("read error: {error}"));
                        return Err(ScpAbort);
                    }
                };
                let take = chunk
                    .len()
                    .min(usize::try_from(remaining).unwrap_or(usize::MAX));
                let Some(piece) = chunk.get(..take) else {
                    return Err(ScpAbort);
                };
                self.writer.write_all(piece).await.map_err(|_| ScpAbort)?;
                reader.consume(take);
                remaining -= take as u64;
                guard.add_bytes(take as u64);
            }
            self.send(b"\0").await?;
            self.ack().await?;
        }
        Ok(all_sent)
    }

    /// `scp -t`: receives `C` records into the upload area.
    async fn sink(&mut self, target: &str) -> Result<bool, ScpAbort> {
        let Some(area) = self.shared.upload.clone() else {
            return self
                .fatal("uploads are not enabled on this server (hint: start it with --upload DIR)")
                .await;
        };
        if self.shared.tracker.is_draining() {
            return self.fatal("the server is shutting down").await;
        }
        let target = relative(target).to_string();
        let into_directory = target.is_empty()
            || target == "."
            || target.ends_with('/')
            || tokio::fs::metadata(area.root().join(&target))
                .await
                .is_ok_and(|metadata| metadata.is_dir());
        self.send(b"\0").await?;
        let mut all_received = true;
        loop {
            let Some(line) = self.read_line().await? else {
                return Ok(all_received);
            };
            match line.as_bytes().first() {
                Some(b'T') => self.send(b"\0").await?,
                Some(b'C') => {
                    let Some((size, name)) = parse_c_record(&line) else {
                        return self.fatal(&format!("bad file record '{line}'")).await;
                    };
                    let path = if into_directory {
                        let directory = target.trim_end_matches('/');
                        if directory.is_empty() || directory == "." {
                            name.to_string()
                        } else {
                            format!("{directory}/{name}")
                        }
                    } else {
                        target.clone()
                    };
                    if !self.receive(&area, &path, size).await? {
                        all_received = false;
                    }
                }
                Some(b'D' | b'E') => {
                    return self
                        .fatal("directories are not accepted (hint: copy single files)")
                        .await;
                }
                _ => return self.fatal("protocol error").await,
            }
        }
    }

    /// One file of `scp -t`: refused up front when its announced size
    /// does not fit the quota; written under a temporary name and renamed
    /// when complete.
    async fn receive(
        &mut self,
        area: &netswim_tftp::UploadArea,
        path: &str,
        size: u64,
    ) -> Result<bool, ScpAbort> {
        let mut upload = match area.create(path, Some(size)).await {
            Ok(upload) => upload,
            Err(error) => {
                self.warn(&error.to_string()).await?;
                return Ok(false);
            }
        };
        self.send(b"\0").await?;
        let mut guard = self
            .shared
            .tracker
            .begin(Protocol::Scp, self.client, path, size);
        let mut remaining = size;
        let mut buffer = vec![0u8; 256 * 1024];
        let mut failure = None;
        while remaining > 0 {
            let want = buffer
                .len()
                .min(usize::try_from(remaining).unwrap_or(usize::MAX));
            let Some(space) = buffer.get_mut(..want) else {
                return Err(ScpAbort);
            };
            let read = match self.reader.read(space).await {
                Ok(0) | Err(_) => {
                    guard.fail("incomplete: the client went away");
                    return Err(ScpAbort);
                }
                Ok(read) => read,
            };
            remaining -= read as u64;
            guard.add_bytes(read as u64);
            // After a write error the rest of the data is still read, so
            // the client gets the refusal in the protocol.
            if failure.is_none() {
                if let Err(error) = upload.write(buffer.get(..read).unwrap_or_default()).await {
                    failure = Some(error.to_string());
                }
            }
        }
        // The client ends the data with a zero byte.
        self.ack().await?;
        if failure.is_none() {
            if let Err(error) = upload.commit().await {
                failure = Some(error.to_string());
            }
        }
        match failure {
            None => {
                self.send(b"\0").await?;
                Ok(true)
            }
            Some(message) => {
                guard.fail(message.clone());
                self.warn(&message).await?;
                Ok(false)
            }
        }
    }

    /// One control line without its newline; `None` at a clean end.
    async fn read_line(&mut self) -> Result<Option<String>, ScpAbort> {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            match self.reader.read(&mut byte).await {
                Ok(0) if line.is_empty() => return Ok(None),
                Ok(0) | Err(_) => return Err(ScpAbort),
                Ok(_) if byte[0] == b'\n' => break,
                Ok(_) => line.push(byte[0]),
            }
            if line.len() > MAX_SCP_LINE {
                return Err(ScpAbort);
            }
        }
        Ok(Some(String::from_utf8_lossy(&line).into_owned()))
    }
}

/// `C0644 1234 name` → (1234, "name"); names with a slash or `..` are
/// refused.
fn parse_c_record(line: &str) -> Option<(u64, &str)> {
    let mut fields = line.get(1..)?.splitn(3, ' ');
    let mode = fields.next()?;
    if mode.len() != 4 || !mode.bytes().all(|digit| (b'0'..=b'7').contains(&digit)) {
        return None;
    }
    let size = fields.next()?.parse().ok()?;
    let name = fields.next()?;
    if name.is_empty() || name.contains('/') || name == ".." || name == "." {
        return None;
    }
    Some((size, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scp_commands_as_openssh_sends_them_are_understood() {
        let cases: &[(&str, Option<ScpCommand>)] = &[
            (
                "scp -f c2960.bin",
                Some(ScpCommand::Source {
                    paths: vec!["c2960.bin".into()],
                    preserve: false,
                }),
            ),
            (
                "scp -v -p -f -- '-odd name.bin'",
                Some(ScpCommand::Source {
                    paths: vec!["-odd name.bin".into()],
                    preserve: true,
                }),
            ),
            ("scp -t .", Some(ScpCommand::Sink { target: ".".into() })),
            (
                "scp -t backups/with\\ space.cfg",
                Some(ScpCommand::Sink {
                    target: "backups/with space.cfg".into(),
                }),
            ),
            ("scp -r -f images", None),
            ("scp -f", None),
            ("scp -t a b", None),
            ("rm -rf /", None),
            ("scp -f 'unterminated", None),
        ];
        for (line, expected) in cases {
            assert_eq!(ScpCommand::parse(line).ok(), *expected, "{line}");
        }
    }

    #[test]
    fn scp_file_records_with_paths_are_refused() {
        assert_eq!(parse_c_record("C0644 12 a.cfg"), Some((12, "a.cfg")));
        assert_eq!(
            parse_c_record("C0600 0 name with space"),
            Some((0, "name with space"))
        );
        for bad in [
            "C0644 12 ../x",
            "C0644 12 a/b",
            "C0644 x a",
            "C06 1 a",
            "C0644 1 ..",
        ] {
            assert_eq!(parse_c_record(bad), None, "{bad}");
        }
    }

    #[test]
    fn realpath_stays_at_the_root() {
        for (path, expected) in [
            (".", "/"),
            ("", "/"),
            ("/images/../a.bin", "/a.bin"),
            ("../../etc/passwd", "/etc/passwd"),
            ("images/./x/", "/images/x"),
        ] {
            assert_eq!(normalize(path), expected, "{path}");
        }
    }
}
