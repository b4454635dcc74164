//! The serving source every protocol reads from: the `FileSource` trait (a
//! local directory now, netswim's blob store later), its `LocalDirectory`
//! implementation confined to one root, the adapter that lets the TFTP
//! server of `netswim-tftp` serve from any `FileSource`, and the cache of
//! SHA-256 digests HTTP uses as strong entity tags.

use std::collections::HashMap;
use std::future::Future;
use std::io::{Read, SeekFrom};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt};

use crate::error::TransferError;

/// A readable served file, positioned where the caller asked.
pub type SourceReader = Box<dyn AsyncRead + Send + Sync + Unpin>;

/// A served byte range as a stream of large chunks (HTTP bodies).
pub type ChunkStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send + Sync>>;

/// How much one chunk of a `LocalDirectory` stream holds: large reads keep
/// the blocking-pool hops and syscalls per byte low (`tokio::fs` made one
/// hop per 256 KiB for HTTP and one per 8 KiB under libunftp's copy).
pub const STREAM_CHUNK: usize = 1024 * 1024;

/// Chunks read ahead of the consumer, per stream (bounds memory to about
/// `(STREAM_AHEAD + 2) * STREAM_CHUNK` per download).
const STREAM_AHEAD: usize = 1;

/// What a served path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Directory,
}

/// Facts about one served path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub kind: EntryKind,
    pub size: u64,
    pub modified: SystemTime,
    /// The content digest when the source already knows it (a
    /// content-addressed blob store does); `None` makes servers compute it.
    pub sha256: Option<[u8; 32]>,
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    pub name: String,
    pub info: FileInfo,
}

/// Files the servers may send, for every protocol. `path` is relative to
/// the served root, with `/` separators, already stripped of the protocol's
/// leading slash; "" is the root itself. Implementations refuse every path
/// that would leave the root.
pub trait FileSource: Send + Sync + 'static {
    fn stat(&self, path: &str) -> impl Future<Output = Result<FileInfo, TransferError>> + Send;
    /// Opens a regular file, positioned at `offset` (resumed downloads).
    fn open_at(
        &self,
        path: &str,
        offset: u64,
    ) -> impl Future<Output = Result<SourceReader, TransferError>> + Send;
    fn list(
        &self,
        path: &str,
    ) -> impl Future<Output = Result<Vec<DirectoryEntry>, TransferError>> + Send;
    /// Streams `length` bytes of a regular file from `offset`. The default
    /// goes through `open_at`; sources that can read in large blocks off
    /// the async threads override it.
    fn open_chunks(
        &self,
        path: &str,
        offset: u64,
        length: u64,
    ) -> impl Future<Output = Result<ChunkStream, TransferError>> + Send {
        async move {
            let reader = self.open_at(path, offset).await?;
            let stream: ChunkStream = Box::pin(tokio_util::io::ReaderStream::with_capacity(
                reader.take(length),
                256 * 1024,
            ));
            Ok(stream)
        }
    }
    /// The local directory the source serves, when it is one (SFTP maps
    /// an upload area inside it into the served tree).
    fn local_root(&self) -> Option<&Path> {
        None
    }

    /// The regular file behind `path` as an open `std::fs::File` when the
    /// source keeps it as one on the local file system, so plain HTTP can
    /// `sendfile(2)` it; `None` (the default) makes servers stream it
    /// through `open_chunks`.
    fn open_file(
        &self,
        path: &str,
    ) -> impl Future<Output = Result<Option<std::fs::File>, TransferError>> + Send {
        let _ = path;
        async { Ok(None) }
    }
}

/// Turns a root-relative request into plain components, or refuses it: no
/// `..`, no absolute or drive paths, no percent-encoded dots or separators,
/// no NUL. "" and "." name the root. Shares its rules with the TFTP crate.
pub fn confine(requested: &str) -> Result<PathBuf, TransferError> {
    let trimmed = requested.trim_matches('/');
    if trimmed.is_empty() || trimmed == "." {
        return Ok(PathBuf::new());
    }
    if requested.starts_with('/') {
        return Err(TransferError::AccessDenied {
            path: requested.to_string(),
            reason: "absolute paths are not accepted",
        });
    }
    netswim_tftp::source::confine(requested).map_err(|error| match error {
        netswim_tftp::TftpError::AccessDenied { reason, .. } => TransferError::AccessDenied {
            path: requested.to_string(),
            reason,
        },
        _ => TransferError::AccessDenied {
            path: requested.to_string(),
            reason: "the path is not accepted",
        },
    })
}

/// Files under one local directory. Symlinks are followed only while their
/// target stays inside the root.
#[derive(Debug, Clone)]
pub struct LocalDirectory {
    root: PathBuf,
}

impl LocalDirectory {
    /// `root` must exist; it is canonicalised once so every request's prefix
    /// check compares real paths.
    pub fn new(root: impl AsRef<Path>) -> Result<Self, TransferError> {
        let root = std::fs::canonicalize(root.as_ref()).map_err(|source| {
            TransferError::io(
                format!(
                    "cannot open served root {} (hint: create it or fix --root)",
                    root.as_ref().display()
                ),
                source,
            )
        })?;
        Ok(LocalDirectory { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The real path of `requested` inside the root, with its metadata.
    async fn resolve(
        &self,
        requested: &str,
    ) -> Result<(PathBuf, std::fs::Metadata), TransferError> {
        let relative = confine(requested)?;
        let not_found = || TransferError::NotFound {
            path: requested.to_string(),
        };
        let real = tokio::fs::canonicalize(self.root.join(&relative))
            .await
            .map_err(|_| not_found())?;
        if !real.starts_with(&self.root) {
            return Err(TransferError::AccessDenied {
                path: requested.to_string(),
                reason: "the path leads outside the served root",
            });
        }
        let metadata = tokio::fs::metadata(&real).await.map_err(|_| not_found())?;
        Ok((real, metadata))
    }
}

fn info_of(metadata: &std::fs::Metadata) -> FileInfo {
    FileInfo {
        kind: if metadata.is_dir() {
            EntryKind::Directory
        } else {
            EntryKind::File
        },
        size: if metadata.is_dir() { 0 } else { metadata.len() },
        modified: metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        sha256: None,
    }
}

/// What a failed open of a served file means to the client.
fn open_error(path: &str, error: &std::io::Error) -> TransferError {
    match error.kind() {
        std::io::ErrorKind::PermissionDenied => TransferError::AccessDenied {
            path: path.to_string(),
            reason: "the file is not readable",
        },
        _ => TransferError::NotFound {
            path: path.to_string(),
        },
    }
}

impl FileSource for LocalDirectory {
    async fn stat(&self, path: &str) -> Result<FileInfo, TransferError> {
        let (_, metadata) = self.resolve(path).await?;
        if !metadata.is_file() && !metadata.is_dir() {
            return Err(TransferError::NotFound {
                path: path.to_string(),
            });
        }
        Ok(info_of(&metadata))
    }

    async fn open_at(&self, path: &str, offset: u64) -> Result<SourceReader, TransferError> {
        let (real, metadata) = self.resolve(path).await?;
        if !metadata.is_file() {
            return Err(TransferError::NotFound {
                path: path.to_string(),
            });
        }
        let mut file = tokio::fs::File::open(&real)
            .await
            .map_err(|error| open_error(path, &error))?;
        if offset > 0 {
            file.seek(SeekFrom::Start(offset))
                .await
                .map_err(|source| TransferError::io(format!("cannot seek in '{path}'"), source))?;
        }
        Ok(Box::new(file))
    }

    async fn open_chunks(
        &self,
        path: &str,
        offset: u64,
        length: u64,
    ) -> Result<ChunkStream, TransferError> {
        let (real, metadata) = self.resolve(path).await?;
        if !metadata.is_file() {
            return Err(TransferError::NotFound {
                path: path.to_string(),
            });
        }
        // A std file: the reads run on the blocking pool themselves, one
        // hop per chunk, with no tokio::fs buffer copy between.
        let mut file = std::fs::File::open(&real).map_err(|error| open_error(path, &error))?;
        if offset > 0 {
            std::io::Seek::seek(&mut file, SeekFrom::Start(offset))
                .map_err(|source| TransferError::io(format!("cannot seek in '{path}'"), source))?;
        }
        Ok(chunk_stream(file, length))
    }

    fn local_root(&self) -> Option<&Path> {
        Some(&self.root)
    }

    async fn open_file(&self, path: &str) -> Result<Option<std::fs::File>, TransferError> {
        let (real, metadata) = self.resolve(path).await?;
        if !metadata.is_file() {
            return Err(TransferError::NotFound {
                path: path.to_string(),
            });
        }
        std::fs::File::open(&real)
            .map(Some)
            .map_err(|error| open_error(path, &error))
    }

    async fn list(&self, path: &str) -> Result<Vec<DirectoryEntry>, TransferError> {
        let (real, metadata) = self.resolve(path).await?;
        if !metadata.is_dir() {
            return Err(TransferError::NotFound {
                path: path.to_string(),
            });
        }
        let mut reader = tokio::fs::read_dir(&real)
            .await
            .map_err(|source| TransferError::io(format!("cannot list '{path}'"), source))?;
        let mut entries = Vec::new();
        while let Ok(Some(entry)) = reader.next_entry().await {
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = if path.trim_matches('/').is_empty() {
                name.clone()
            } else {
                format!("{}/{name}", path.trim_matches('/'))
            };
            // Symlinks pointing outside the root are left out of listings.
            if let Ok(info) = self.stat(&relative).await {
                entries.push(DirectoryEntry { name, info });
            }
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }
}

/// Streams `length` bytes of `file` from its position in `STREAM_CHUNK` blocks
/// read on the blocking pool, one pool hop per block and `STREAM_AHEAD`
/// blocks read ahead. No thread is held between blocks, so thousands of
/// slow downloads do not exhaust the blocking pool.
fn chunk_stream(file: std::fs::File, length: u64) -> ChunkStream {
    let (sender, mut receiver) = tokio::sync::mpsc::channel(STREAM_AHEAD);
    tokio::spawn(async move {
        let mut file = Some(file);
        let mut remaining = length;
        // Buffers whose chunks may come back: a fresh 1 MiB allocation
        // per chunk cost page faults and `madvise` per chunk (profiled).
        let mut pool: Vec<BytesMut> = Vec::new();
        while remaining > 0 {
            let Some(current) = file.take() else { break };
            let want = remaining.min(STREAM_CHUNK as u64) as usize;
            let mut buffer = match pool.iter_mut().position(|free| free.try_reclaim(want)) {
                Some(index) => pool.swap_remove(index),
                None => BytesMut::with_capacity(want),
            };
            let read = tokio::task::spawn_blocking(move || {
                buffer.resize(want, 0);
                let result = read_full(&current, &mut buffer);
                (current, buffer, result)
            })
            .await;
            let item = match read {
                Ok((current, mut buffer, Ok(read))) if read > 0 => {
                    file = Some(current);
                    remaining -= read as u64;
                    buffer.truncate(read);
                    let chunk = buffer.split().freeze();
                    if pool.len() >= POOLED_BUFFERS {
                        pool.remove(0);
                    }
                    pool.push(buffer);
                    Ok(chunk)
                }
                Ok((_, _, Ok(_))) => Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the file shrank while it was being sent",
                )),
                Ok((_, _, Err(error))) => Err(error),
                Err(join) => Err(std::io::Error::other(format!("read task failed: {join}"))),
            };
            let failed = item.is_err();
            if sender.send(item).await.is_err() || failed {
                break;
            }
        }
    });
    Box::pin(futures_util::stream::poll_fn(move |context| {
        receiver.poll_recv(context)
    }))
}

/// Buffers kept per stream: the chunk in the channel, the one being
/// written by the connection, and spares.
const POOLED_BUFFERS: usize = 4;

/// Fills `buffer` from `file`, short only at the end of the file.
fn read_full(mut file: &std::fs::File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        let Some(rest) = buffer.get_mut(filled..) else {
            break;
        };
        match file.read(rest) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// Serves any `FileSource` through the TFTP server of `netswim-tftp`,
/// which keeps its own narrower `ServeSource` trait and knows nothing of
/// this crate.
#[derive(Debug)]
pub struct TftpSource<S> {
    source: Arc<S>,
}

impl<S: FileSource> TftpSource<S> {
    pub fn new(source: Arc<S>) -> Self {
        TftpSource { source }
    }
}

fn to_tftp_error(error: TransferError) -> netswim_tftp::TftpError {
    match error {
        TransferError::AccessDenied { path, reason } => {
            netswim_tftp::TftpError::AccessDenied { path, reason }
        }
        TransferError::NotFound { path } => netswim_tftp::TftpError::FileNotFound { path },
        TransferError::Io { action, source } => netswim_tftp::TftpError::io(action, source),
        other => netswim_tftp::TftpError::io(
            other.to_string(),
            std::io::Error::other("serving source failed"),
        ),
    }
}

impl<S: FileSource> netswim_tftp::ServeSource for TftpSource<S> {
    async fn open(
        &self,
        path: &str,
    ) -> Result<netswim_tftp::source::ServedReader, netswim_tftp::TftpError> {
        // TFTP clients send names relative to the root; a leading slash is
        // the refused absolute form, as in the TFTP crate.
        let reader = self.source.open_at(path, 0).await.map_err(to_tftp_error)?;
        Ok(Box::new(tokio::io::BufReader::with_capacity(
            256 * 1024,
            reader,
        )))
    }

    async fn size(&self, path: &str) -> Result<u64, netswim_tftp::TftpError> {
        let info = self.source.stat(path).await.map_err(to_tftp_error)?;
        if info.kind != EntryKind::File {
            return Err(netswim_tftp::TftpError::FileNotFound {
                path: path.to_string(),
            });
        }
        Ok(info.size)
    }
}

/// A cached digest and the (size, modification time) it was computed for.
type CachedDigest = (u64, SystemTime, [u8; 32]);

/// Files up to this size are hashed on the request path (a few
/// milliseconds); larger ones in the background, see `DigestCache::etag`.
pub const INLINE_DIGEST_LIMIT: u64 = 16 * 1024 * 1024;

/// SHA-256 digests of served files, computed once per (path, size,
/// modification time): a changed file gets a fresh digest.
#[derive(Debug)]
pub struct DigestCache {
    digests: Mutex<HashMap<String, CachedDigest>>,
    /// Background computations running, by path, for the (size, time)
    /// they were started for: one per file version, however many clients.
    pending: Mutex<HashMap<String, (u64, SystemTime)>>,
    inline_limit: u64,
}

impl Default for DigestCache {
    fn default() -> Self {
        DigestCache::with_inline_limit(INLINE_DIGEST_LIMIT)
    }
}

impl DigestCache {
    /// A cache hashing files up to `inline_limit` bytes on the request path.
    pub fn with_inline_limit(inline_limit: u64) -> Self {
        DigestCache {
            digests: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            inline_limit,
        }
    }

    /// The digest of `path` if it can be had without making the client
    /// wait for a large file to be read: the source's own, a cached one,
    /// or a fresh one for files up to the inline limit. For a larger file
    /// not yet hashed it starts one background computation (shared by
    /// every request for that file version) and answers `None`; HTTP then
    /// serves without `ETag` until the digest is known. Hashing inline
    /// made 32 concurrent first downloads of a 256 MiB file each read and
    /// hash the whole file before their first byte.
    pub async fn etag<S: FileSource>(
        self: &Arc<Self>,
        source: &Arc<S>,
        path: &str,
        info: &FileInfo,
    ) -> Result<Option<[u8; 32]>, TransferError> {
        if let Some(known) = self.known(info, path) {
            return Ok(Some(known));
        }
        if info.size <= self.inline_limit {
            return self.sha256(source.as_ref(), path, info).await.map(Some);
        }
        {
            let mut pending = self
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if pending.get(path) == Some(&(info.size, info.modified)) {
                return Ok(None);
            }
            pending.insert(path.to_string(), (info.size, info.modified));
        }
        let (cache, source, path, info) = (
            Arc::clone(self),
            Arc::clone(source),
            path.to_string(),
            info.clone(),
        );
        tokio::spawn(async move {
            if let Err(error) = cache.sha256(source.as_ref(), &path, &info).await {
                tracing::warn!(%path, %error, "cannot compute the file's SHA-256 entity tag");
            }
            let mut pending = cache
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if pending.get(&path) == Some(&(info.size, info.modified)) {
                pending.remove(&path);
            }
        });
        Ok(None)
    }

    fn known(&self, info: &FileInfo, path: &str) -> Option<[u8; 32]> {
        if info.sha256.is_some() {
            return info.sha256;
        }
        let (size, modified, digest) = self.lock().get(path).copied()?;
        (size == info.size && modified == info.modified).then_some(digest)
    }

    /// The digest of `path` as `info` describes it, reading the file once
    /// when the source does not know it.
    pub async fn sha256<S: FileSource>(
        &self,
        source: &S,
        path: &str,
        info: &FileInfo,
    ) -> Result<[u8; 32], TransferError> {
        if let Some(known) = self.known(info, path) {
            return Ok(known);
        }
        let mut chunks = source.open_chunks(path, 0, info.size).await?;
        let mut hasher = Sha256::new();
        while let Some(chunk) = futures_util::StreamExt::next(&mut chunks).await {
            let chunk = chunk
                .map_err(|source| TransferError::io(format!("cannot read '{path}'"), source))?;
            hasher.update(&chunk);
        }
        let digest: [u8; 32] = hasher.finalize().into();
        self.lock()
            .insert(path.to_string(), (info.size, info.modified, digest));
        Ok(digest)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CachedDigest>> {
        self.digests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confinement_refuses_escapes_and_accepts_plain_names() {
        let check = |name: &str, expected: Option<&str>| {
            let result = confine(name).ok();
            assert_eq!(result, expected.map(PathBuf::from), "{name}");
        };
        check("../etc/passwd", None);
        check("/etc/passwd", None);
        check("a/../../b", None);
        check("%2e%2e/x", None);
        check("..%2Fx", None);
        check("C:\\boot.ini", None);
        check("", Some(""));
        check("/", Some(""));
        check("images/c2960.bin", Some("images/c2960.bin"));
        check("images/", Some("images"));
    }

    #[tokio::test]
    async fn symlink_leading_outside_the_root_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"x").unwrap();
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("inside"), b"hello").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), root.path().join("escape"))
            .unwrap();
        std::os::unix::fs::symlink(root.path().join("inside"), root.path().join("alias")).unwrap();
        let source = LocalDirectory::new(root.path()).unwrap();
        assert!(matches!(
            source.stat("escape").await,
            Err(TransferError::AccessDenied { .. })
        ));
        assert!(source.open_at("escape", 0).await.is_err());
        assert_eq!(source.stat("alias").await.unwrap().size, 5);
        let names: Vec<String> = source
            .list("")
            .await
            .unwrap()
            .into_iter()
            .map(|entry| entry.name)
            .collect();
        assert_eq!(names, ["alias", "inside"]);
    }

    #[tokio::test]
    async fn digest_is_cached_until_the_file_changes() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("f"), b"abc").unwrap();
        let source = LocalDirectory::new(root.path()).unwrap();
        let cache = DigestCache::default();
        let info = source.stat("f").await.unwrap();
        let digest = cache.sha256(&source, "f", &info).await.unwrap();
        assert_eq!(
            hex::encode(digest),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // Same (size, mtime): served from the cache even if bytes changed.
        std::fs::write(root.path().join("f"), b"abd").unwrap();
        let same = FileInfo { ..info.clone() };
        assert_eq!(cache.sha256(&source, "f", &same).await.unwrap(), digest);
        let changed = FileInfo {
            modified: info.modified + std::time::Duration::from_secs(1),
            ..info
        };
        assert_ne!(cache.sha256(&source, "f", &changed).await.unwrap(), digest);
    }

    /// A file spanning several `STREAM_CHUNK`s, with distinct bytes.
    fn patterned(size: usize) -> Vec<u8> {
        (0..size).map(|i| (i % 251) as u8).collect()
    }

    #[tokio::test]
    async fn chunk_streams_carry_exactly_the_requested_range() {
        let root = tempfile::tempdir().unwrap();
        let content = patterned(2 * STREAM_CHUNK + 12345);
        std::fs::write(root.path().join("f"), &content).unwrap();
        let source = LocalDirectory::new(root.path()).unwrap();
        let size = content.len() as u64;
        let chunk = STREAM_CHUNK as u64;
        for (offset, length) in [
            (0, size),
            (0, 0),
            (1, chunk),
            (chunk - 1, 2),
            (chunk, chunk + 1),
            (size - 10, 10),
            (12345, size - 12345),
        ] {
            let mut stream = source.open_chunks("f", offset, length).await.unwrap();
            let mut got = Vec::new();
            while let Some(piece) = futures_util::StreamExt::next(&mut stream).await {
                let piece = piece.unwrap();
                assert!(piece.len() <= STREAM_CHUNK, "chunks stay bounded");
                got.extend_from_slice(&piece);
            }
            let range = offset as usize..(offset + length) as usize;
            assert!(got == content[range], "{offset}+{length}");
        }
    }

    #[tokio::test]
    async fn chunk_stream_of_a_shrunk_file_ends_with_an_error() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("f"), b"0123456789").unwrap();
        let source = LocalDirectory::new(root.path()).unwrap();
        let mut stream = source.open_chunks("f", 0, 20).await.unwrap();
        let mut results = Vec::new();
        while let Some(piece) = futures_util::StreamExt::next(&mut stream).await {
            results.push(piece.map(|bytes| bytes.len()).map_err(|e| e.kind()));
        }
        assert_eq!(
            results,
            vec![Ok(10), Err(std::io::ErrorKind::UnexpectedEof)]
        );
    }

    #[tokio::test]
    async fn large_files_get_their_digest_in_the_background_once() {
        let root = tempfile::tempdir().unwrap();
        let content = patterned(3 * 1024 * 1024);
        std::fs::write(root.path().join("big"), &content).unwrap();
        std::fs::write(root.path().join("small"), b"abc").unwrap();
        let source = Arc::new(LocalDirectory::new(root.path()).unwrap());
        let cache = Arc::new(DigestCache::with_inline_limit(1024));

        // Small files are hashed on the request path.
        let small = source.stat("small").await.unwrap();
        let digest = cache.etag(&source, "small", &small).await.unwrap();
        assert_eq!(
            digest.map(hex::encode).as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );

        // A large one: no digest yet, one computation however many ask.
        let big = source.stat("big").await.unwrap();
        assert_eq!(cache.etag(&source, "big", &big).await.unwrap(), None);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let digest = loop {
            if let Some(digest) = cache.etag(&source, "big", &big).await.unwrap() {
                break digest;
            }
            assert!(
                cache.pending.lock().unwrap().len() <= 1,
                "one background computation per file version"
            );
            assert!(std::time::Instant::now() < deadline, "digest never came");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        };
        let expected: [u8; 32] = Sha256::digest(&content).into();
        assert_eq!(digest, expected);
        assert!(cache.pending.lock().unwrap().is_empty());
    }
}
