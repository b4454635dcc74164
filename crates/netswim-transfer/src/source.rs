//! The serving source every protocol reads from: the `FileSource` trait (a
//! local directory now, netswim's blob store later), its `LocalDirectory`
//! implementation confined to one root, the adapter that lets the TFTP
//! server of `netswim-tftp` serve from any `FileSource`, and the cache of
//! SHA-256 digests HTTP uses as strong entity tags.

use std::collections::HashMap;
use std::future::Future;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt};

use crate::error::TransferError;

/// A readable served file, positioned where the caller asked.
pub type SourceReader = Box<dyn AsyncRead + Send + Sync + Unpin>;

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
            .map_err(|error| match error.kind() {
                std::io::ErrorKind::PermissionDenied => TransferError::AccessDenied {
                    path: path.to_string(),
                    reason: "the file is not readable",
                },
                _ => TransferError::NotFound {
                    path: path.to_string(),
                },
            })?;
        if offset > 0 {
            file.seek(SeekFrom::Start(offset))
                .await
                .map_err(|source| TransferError::io(format!("cannot seek in '{path}'"), source))?;
        }
        Ok(Box::new(file))
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

/// SHA-256 digests of served files, computed once per (path, size,
/// modification time): a changed file gets a fresh digest.
#[derive(Debug, Default)]
pub struct DigestCache {
    digests: Mutex<HashMap<String, CachedDigest>>,
}

impl DigestCache {
    /// The digest of `path` as `info` describes it, reading the file once
    /// when the source does not know it.
    pub async fn sha256<S: FileSource>(
        &self,
        source: &S,
        path: &str,
        info: &FileInfo,
    ) -> Result<[u8; 32], TransferError> {
        if let Some(known) = info.sha256 {
            return Ok(known);
        }
        if let Some((size, modified, digest)) = self.lock().get(path).copied() {
            if size == info.size && modified == info.modified {
                return Ok(digest);
            }
        }
        let mut reader = source.open_at(path, 0).await?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 256 * 1024];
        loop {
            let read = reader
                .read(&mut buffer)
                .await
                .map_err(|source| TransferError::io(format!("cannot read '{path}'"), source))?;
            if read == 0 {
                break;
            }
            hasher.update(buffer.get(..read).unwrap_or_default());
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
}
