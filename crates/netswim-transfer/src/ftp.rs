//! The FTP file server (libunftp): read-only, passive mode, confined to
//! the serving source, with credentials that can be created and revoked
//! while it runs (per-transfer credentials) besides an optional standing
//! user. Connections are accepted here rather than by libunftp so that a
//! draining server can answer new ones with `421` and close them.

use std::collections::HashMap;
use std::fmt::Debug;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use unftp_core::auth::{AuthenticationError, Authenticator, Credentials, DefaultUser, Principal};
use unftp_core::storage::{self, ErrorKind, Fileinfo, StorageBackend};

use crate::accounting::{CountingReader, Protocol, TransferGuard, TransferTracker};
use crate::error::TransferError;
use crate::source::{ChunkStream, EntryKind, FileInfo, FileSource};

/// User names with passwords (FTP, SFTP, SCP) or SSH public keys (SFTP,
/// SCP) the servers accept, shared with whoever creates per-transfer
/// credentials (the engine, or a test) and changed at run time. Clones
/// share one map.
#[derive(Debug, Clone, Default)]
pub struct CredentialStore {
    users: Arc<RwLock<HashMap<String, String>>>,
    /// Per user, the accepted keys as (algorithm, base64 key blob): the
    /// first two fields of an OpenSSH `authorized_keys` line.
    keys: Arc<RwLock<HashMap<String, Vec<KeyFields>>>>,
}

/// (algorithm, base64 key blob) of an SSH public key.
type KeyFields = (String, String);

/// The (algorithm, base64 blob) of an OpenSSH public key line, or `None`
/// when it is not one (`ssh-ed25519 AAAA... comment`).
fn key_fields(line: &str) -> Option<KeyFields> {
    let mut fields = line.split_whitespace();
    let algorithm = fields.next()?;
    let blob = fields.next()?;
    let plausible = algorithm.starts_with("ssh-")
        || algorithm.starts_with("ecdsa-")
        || algorithm.starts_with("sk-");
    (plausible && blob.starts_with("AAAA")).then(|| (algorithm.to_string(), blob.to_string()))
}

impl CredentialStore {
    /// Adds or replaces a credential.
    pub fn insert(&self, user: impl Into<String>, password: impl Into<String>) {
        self.write().insert(user.into(), password.into());
    }

    /// Accepts `user` logging in with the key of `public_key_line` (an
    /// OpenSSH `authorized_keys` line) on the SSH server.
    pub fn insert_key(
        &self,
        user: impl Into<String>,
        public_key_line: &str,
    ) -> Result<(), TransferError> {
        let key = key_fields(public_key_line).ok_or_else(|| TransferError::Config {
            reason: format!("'{public_key_line}' is not an OpenSSH public key"),
            hint: "give one line of a .pub file, e.g. 'ssh-ed25519 AAAA... comment'",
        })?;
        let mut keys = self.write_keys();
        let accepted = keys.entry(user.into()).or_default();
        if !accepted.contains(&key) {
            accepted.push(key);
        }
        Ok(())
    }

    /// Revokes a credential (its password and keys); sessions already
    /// logged in keep running, new logins with it fail. Returns whether it
    /// existed.
    pub fn revoke(&self, user: &str) -> bool {
        let password = self.write().remove(user).is_some();
        let keys = self.write_keys().remove(user).is_some();
        password || keys
    }

    /// Whether `user` may log in with the key of `public_key_line`.
    pub fn accepts_key(&self, user: &str, public_key_line: &str) -> bool {
        let Some(offered) = key_fields(public_key_line) else {
            return false;
        };
        let keys = self
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        keys.get(user)
            .is_some_and(|accepted| accepted.contains(&offered))
    }

    fn write_keys(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Vec<KeyFields>>> {
        self.keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn accepts(&self, user: &str, password: &str) -> bool {
        let users = self
            .users
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        users
            .get(user)
            .is_some_and(|expected| constant_time_equal(expected.as_bytes(), password.as_bytes()))
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, String>> {
        self.users
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Compares without an early exit, so timing does not reveal how much of a
/// guessed password was right.
fn constant_time_equal(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Debug)]
struct StoreAuthenticator {
    credentials: CredentialStore,
}

#[async_trait]
impl Authenticator for StoreAuthenticator {
    async fn authenticate(
        &self,
        username: &str,
        creds: &Credentials,
    ) -> Result<Principal, AuthenticationError> {
        let password = creds.password.as_deref().unwrap_or_default();
        if self.credentials.accepts(username, password) {
            Ok(Principal {
                username: username.to_string(),
            })
        } else {
            tracing::info!(user = username, client = %creds.source_ip, "ftp login refused");
            Err(AuthenticationError::BadPassword)
        }
    }
}

/// What libunftp needs to know of a served path.
#[derive(Debug, Clone)]
pub struct SourceMetadata {
    info: FileInfo,
}

impl storage::Metadata for SourceMetadata {
    fn len(&self) -> u64 {
        self.info.size
    }
    fn is_dir(&self) -> bool {
        self.info.kind == EntryKind::Directory
    }
    fn is_file(&self) -> bool {
        self.info.kind == EntryKind::File
    }
    fn is_symlink(&self) -> bool {
        false
    }
    fn modified(&self) -> storage::Result<SystemTime> {
        Ok(self.info.modified)
    }
    fn gid(&self) -> u32 {
        0
    }
    fn uid(&self) -> u32 {
        0
    }
    fn permissions(&self) -> storage::Permissions {
        storage::Permissions(if self.is_dir() { 0o555 } else { 0o444 })
    }
}

/// A libunftp storage backend over a `FileSource`, for one session: it
/// knows the client so transfers are accounted to it. Read-only.
#[derive(Debug)]
pub struct SourceStorage<S> {
    source: Arc<S>,
    tracker: Arc<TransferTracker>,
    client: SocketAddr,
}

/// FTP paths are rooted at the served root: leading slashes go, the rest
/// is confined by the source.
fn relative(path: &Path) -> String {
    path.to_string_lossy().trim_start_matches('/').to_string()
}

fn storage_error(error: TransferError) -> storage::Error {
    match error {
        TransferError::NotFound { .. } => {
            storage::Error::new(ErrorKind::PermanentFileNotAvailable, error)
        }
        TransferError::AccessDenied { .. } => {
            storage::Error::new(ErrorKind::PermissionDenied, error)
        }
        other => storage::Error::new(ErrorKind::LocalError, other),
    }
}

fn read_only() -> storage::Error {
    storage::Error::new(ErrorKind::PermissionDenied, "this server is read-only")
}

impl<S: FileSource + Debug> SourceStorage<S> {
    /// Checks and opens a file for RETR from `start_pos`, registering the
    /// transfer.
    async fn open_for_retr(
        &self,
        path: &Path,
        start_pos: u64,
    ) -> storage::Result<(String, ChunkStream, TransferGuard)> {
        if self.tracker.is_draining() {
            return Err(storage::Error::new(
                ErrorKind::TransientFileNotAvailable,
                "server is shutting down",
            ));
        }
        let name = relative(path);
        let info = self.source.stat(&name).await.map_err(storage_error)?;
        if info.kind != EntryKind::File {
            return Err(ErrorKind::PermanentFileNotAvailable.into());
        }
        let length = info.size.saturating_sub(start_pos);
        let chunks = self
            .source
            .open_chunks(&name, start_pos, length)
            .await
            .map_err(storage_error)?;
        let guard = self
            .tracker
            .begin(Protocol::Ftp, self.client, &name, length);
        Ok((name, chunks, guard))
    }
}

#[async_trait]
impl<S: FileSource + Debug> StorageBackend<DefaultUser> for SourceStorage<S> {
    type Metadata = SourceMetadata;

    fn supported_features(&self) -> u32 {
        storage::FEATURE_RESTART
    }

    async fn metadata<P: AsRef<Path> + Send + Debug>(
        &self,
        _user: &DefaultUser,
        path: P,
    ) -> storage::Result<SourceMetadata> {
        let info = self
            .source
            .stat(&relative(path.as_ref()))
            .await
            .map_err(storage_error)?;
        Ok(SourceMetadata { info })
    }

    async fn list<P: AsRef<Path> + Send + Debug>(
        &self,
        _user: &DefaultUser,
        path: P,
    ) -> storage::Result<Vec<Fileinfo<PathBuf, SourceMetadata>>> {
        let base = path.as_ref().to_path_buf();
        let entries = self
            .source
            .list(&relative(&base))
            .await
            .map_err(storage_error)?;
        Ok(entries
            .into_iter()
            .map(|entry| Fileinfo {
                path: base.join(&entry.name),
                metadata: SourceMetadata { info: entry.info },
            })
            .collect())
    }

    async fn get<P: AsRef<Path> + Send + Debug>(
        &self,
        _user: &DefaultUser,
        path: P,
        start_pos: u64,
    ) -> storage::Result<Box<dyn tokio::io::AsyncRead + Send + Sync + Unpin>> {
        let (name, chunks, guard) = self.open_for_retr(path.as_ref(), start_pos).await?;
        tracing::trace!(%name, "ftp get through a reader");
        let reader = tokio_util::io::StreamReader::new(chunks);
        Ok(Box::new(CountingReader::new(reader, guard)))
    }

    /// RETR: writes the file's large chunks straight to the data
    /// connection. libunftp's default copies `get`'s reader with
    /// `tokio::io::copy` (8 KiB at a time: one socket write, and through
    /// tokio::fs one blocking-pool hop, per 8 KiB).
    async fn get_into<'a, P, W: ?Sized>(
        &self,
        _user: &DefaultUser,
        path: P,
        start_pos: u64,
        output: &'a mut W,
    ) -> storage::Result<u64>
    where
        W: tokio::io::AsyncWrite + Unpin + Sync + Send,
        P: AsRef<Path> + Send + Debug,
    {
        let (_, mut chunks, mut guard) = self.open_for_retr(path.as_ref(), start_pos).await?;
        let mut sent = 0u64;
        while let Some(chunk) = futures_util::StreamExt::next(&mut chunks).await {
            if guard.is_cut() {
                return Err(storage::Error::new(
                    ErrorKind::LocalError,
                    "transfer cut: the server shut down",
                ));
            }
            let chunk = chunk.map_err(|error| {
                guard.fail(format!("read error: {error}"));
                storage::Error::new(ErrorKind::LocalError, error)
            })?;
            output.write_all(&chunk).await.map_err(|error| {
                guard.fail(format!("write error: {error}"));
                storage::Error::new(ErrorKind::ConnectionClosed, error)
            })?;
            guard.add_bytes(chunk.len() as u64);
            sent += chunk.len() as u64;
        }
        Ok(sent)
    }

    async fn put<
        P: AsRef<Path> + Send + Debug,
        R: tokio::io::AsyncRead + Send + Sync + Unpin + 'static,
    >(
        &self,
        _user: &DefaultUser,
        _input: R,
        _path: P,
        _start_pos: u64,
    ) -> storage::Result<u64> {
        Err(read_only())
    }

    async fn del<P: AsRef<Path> + Send + Debug>(
        &self,
        _user: &DefaultUser,
        _path: P,
    ) -> storage::Result<()> {
        Err(read_only())
    }

    async fn mkd<P: AsRef<Path> + Send + Debug>(
        &self,
        _user: &DefaultUser,
        _path: P,
    ) -> storage::Result<()> {
        Err(read_only())
    }

    async fn rename<P: AsRef<Path> + Send + Debug>(
        &self,
        _user: &DefaultUser,
        _from: P,
        _to: P,
    ) -> storage::Result<()> {
        Err(read_only())
    }

    async fn rmd<P: AsRef<Path> + Send + Debug>(
        &self,
        _user: &DefaultUser,
        _path: P,
    ) -> storage::Result<()> {
        Err(read_only())
    }

    async fn cwd<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> storage::Result<()> {
        let metadata = self.metadata(user, path).await?;
        if metadata.info.kind == EntryKind::Directory {
            Ok(())
        } else {
            Err(ErrorKind::PermanentDirectoryNotAvailable.into())
        }
    }
}

/// A bound FTP listener.
#[derive(Debug)]
pub struct FtpServer<S> {
    listener: TcpListener,
    source: Arc<S>,
    tracker: Arc<TransferTracker>,
    credentials: CredentialStore,
}

impl<S: FileSource + Debug> FtpServer<S> {
    pub async fn bind(
        address: SocketAddr,
        source: Arc<S>,
        tracker: Arc<TransferTracker>,
        credentials: CredentialStore,
    ) -> Result<Self, TransferError> {
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| TransferError::Bind {
                protocol: "FTP",
                address,
                source,
            })?;
        Ok(FtpServer {
            listener,
            source,
            tracker,
            credentials,
        })
    }

    pub fn local_addr(&self) -> Result<SocketAddr, TransferError> {
        self.listener
            .local_addr()
            .map_err(|source| TransferError::io("cannot read the FTP server address", source))
    }

    /// Accepts control connections for ever; each gets its own libunftp
    /// session. While draining, new connections get `421` and are closed.
    /// Dropping (aborting) this future ends every session: each session's
    /// shutdown notifier goes with its task, which closes the connection.
    pub async fn run(self) {
        let mut sessions = tokio::task::JoinSet::new();
        loop {
            while sessions.try_join_next().is_some() {}
            let (stream, client) = match self.listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::debug!(%error, "ftp accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            if self.tracker.is_draining() {
                sessions.spawn(refuse(stream));
                continue;
            }
            let source = Arc::clone(&self.source);
            let tracker = Arc::clone(&self.tracker);
            let authenticator = Arc::new(StoreAuthenticator {
                credentials: self.credentials.clone(),
            });
            let generator = Box::new(move || SourceStorage {
                source: Arc::clone(&source),
                tracker: Arc::clone(&tracker),
                client,
            });
            let server = libunftp::ServerBuilder::with_authenticator(generator, authenticator)
                .greeting("netswim FTP server (read-only)")
                .idle_session_timeout(300)
                .build();
            match server {
                Ok(server) => {
                    sessions.spawn(async move {
                        if let Err(error) = server.service(stream).await {
                            tracing::debug!(%client, %error, "ftp session ended with an error");
                        }
                    });
                }
                Err(error) => tracing::warn!(%error, "cannot start an ftp session"),
            }
        }
    }
}

async fn refuse(mut stream: tokio::net::TcpStream) {
    let _ = stream
        .write_all(b"421 Service not available: the server is shutting down.\r\n")
        .await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_can_be_added_and_revoked_at_run_time() {
        let store = CredentialStore::default();
        let shared = store.clone();
        store.insert("job-17", "s3cret");
        assert!(shared.accepts("job-17", "s3cret"));
        assert!(!shared.accepts("job-17", "s3cre"));
        assert!(!shared.accepts("job-18", "s3cret"));
        assert!(shared.revoke("job-17"));
        assert!(!store.accepts("job-17", "s3cret"));
        assert!(!store.revoke("job-17"));
    }

    #[test]
    fn ssh_keys_can_be_added_and_revoked_at_run_time() {
        let store = CredentialStore::default();
        let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey1 job@host";
        store.insert_key("job-3", key).unwrap();
        assert!(store.accepts_key("job-3", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey1"));
        assert!(!store.accepts_key("job-3", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey2"));
        assert!(!store.accepts_key("job-4", key));
        assert!(!store.accepts("job-3", ""));
        assert!(store.insert_key("job-3", "not a key").is_err());
        assert!(store.revoke("job-3"));
        assert!(!store.accepts_key("job-3", key));
    }

    #[test]
    fn ftp_paths_are_rooted_at_the_served_root() {
        assert_eq!(relative(Path::new("/images/a.bin")), "images/a.bin");
        assert_eq!(relative(Path::new("/")), "");
        assert_eq!(relative(Path::new("/../../etc/passwd")), "../../etc/passwd");
    }
}
