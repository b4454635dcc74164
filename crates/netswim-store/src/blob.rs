//! Content-addressed blob storage for image bytes.
//!
//! [`BlobStore`] is the interface (an S3-compatible backend can implement it
//! later); [`LocalBlobStore`] keeps blobs under `DATA/blobs/ab/cdef...` named
//! by their SHA-256. A put streams into a temporary file in `DATA/blobs/tmp`
//! (same file system), hashes while writing, fsyncs the file, renames it into
//! place and fsyncs the directory, so a crash leaves either the whole blob or
//! only a temporary file, and temporary files are removed when the store opens.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use crate::StoreError;
use crate::repo::images::validate_sha256;

/// A boxed future, so the trait stays usable as `dyn BlobStore`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A reader of blob bytes.
pub type BlobReader = Box<dyn AsyncRead + Send + Unpin>;

/// What a put stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutBlob {
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    pub size_bytes: u64,
    /// True when the same bytes were already stored (nothing was written).
    pub already_present: bool,
}

/// A stored blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    pub sha256: String,
    pub size_bytes: u64,
}

/// Storage of immutable blobs addressed by SHA-256.
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// Stores everything `reader` yields. With `expected_sha256`, bytes that
    /// hash differently are rejected (`ChecksumMismatch`) and nothing is kept.
    fn put<'a>(
        &'a self,
        reader: Box<dyn AsyncRead + Send + Unpin + 'a>,
        expected_sha256: Option<&'a str>,
    ) -> BoxFuture<'a, Result<PutBlob, StoreError>>;

    /// Opens a blob for reading (`NotFound` when absent).
    fn open<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, Result<BlobReader, StoreError>>;

    /// Whether a blob is stored, and its size.
    fn stat<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, Result<Option<BlobInfo>, StoreError>>;

    /// Whether a blob is stored.
    fn exists<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move { Ok(self.stat(sha256).await?.is_some()) })
    }

    /// Removes a blob (`NotFound` when absent).
    fn delete<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Every stored blob, by hash.
    fn list(&self) -> BoxFuture<'_, Result<Vec<BlobInfo>, StoreError>>;
}

/// Blobs in a local directory.
#[derive(Debug)]
pub struct LocalBlobStore {
    root: PathBuf,
    temporary_counter: AtomicU64,
}

const TEMPORARY_FOLDER: &str = "tmp";
const COPY_BUFFER_BYTES: usize = 256 * 1024;

impl LocalBlobStore {
    /// Opens (creating) the blob folder `root` and removes temporary files
    /// that a crash left behind. Open one store per folder per process:
    /// another store's puts in progress would lose their temporary files.
    pub async fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        let temporary = root.join(TEMPORARY_FOLDER);
        tokio::fs::create_dir_all(&temporary)
            .await
            .map_err(|source| StoreError::io(&temporary, source))?;
        let mut entries = tokio::fs::read_dir(&temporary)
            .await
            .map_err(|source| StoreError::io(&temporary, source))?;
        while let Some(entry) = entries
            .next_entry()
            .await
            .map_err(|source| StoreError::io(&temporary, source))?
        {
            let path = entry.path();
            let is_folder = entry.file_type().await.is_ok_and(|kind| kind.is_dir());
            let removed = if is_folder {
                tokio::fs::remove_dir_all(&path).await
            } else {
                tokio::fs::remove_file(&path).await
            };
            removed.map_err(|source| StoreError::io(&path, source))?;
        }
        Ok(LocalBlobStore {
            root,
            temporary_counter: AtomicU64::new(0),
        })
    }

    /// The folder this store keeps blobs in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a blob's file is (or would be); file servers read it directly.
    pub fn path_of(&self, sha256: &str) -> Result<PathBuf, StoreError> {
        validate_sha256(sha256)?;
        let (prefix, rest) = sha256.split_at(2);
        Ok(self.root.join(prefix).join(rest))
    }

    /// Temporary files present now (after open, only puts in progress).
    pub async fn temporary_files(&self) -> Result<Vec<PathBuf>, StoreError> {
        let temporary = self.root.join(TEMPORARY_FOLDER);
        let mut entries = tokio::fs::read_dir(&temporary)
            .await
            .map_err(|source| StoreError::io(&temporary, source))?;
        let mut paths = Vec::new();
        while let Some(entry) = entries
            .next_entry()
            .await
            .map_err(|source| StoreError::io(&temporary, source))?
        {
            paths.push(entry.path());
        }
        paths.sort();
        Ok(paths)
    }

    fn temporary_path(&self) -> PathBuf {
        let counter = self.temporary_counter.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        self.root
            .join(TEMPORARY_FOLDER)
            .join(format!("put-{}-{nanos}-{counter}.part", std::process::id()))
    }

    async fn put_inner(
        &self,
        mut reader: Box<dyn AsyncRead + Send + Unpin + '_>,
        expected_sha256: Option<&str>,
    ) -> Result<PutBlob, StoreError> {
        if let Some(expected) = expected_sha256 {
            validate_sha256(expected)?;
        }
        let temporary = self.temporary_path();
        let result = self.write_temporary(&mut reader, &temporary).await;
        let (sha256, size_bytes) = match result {
            Ok(written) => written,
            Err(error) => {
                let _ = tokio::fs::remove_file(&temporary).await;
                return Err(error);
            }
        };
        if let Some(expected) = expected_sha256 {
            if expected != sha256 {
                let _ = tokio::fs::remove_file(&temporary).await;
                return Err(StoreError::ChecksumMismatch {
                    expected: expected.to_owned(),
                    actual: sha256,
                });
            }
        }
        let final_path = self.path_of(&sha256)?;
        if tokio::fs::try_exists(&final_path).await.unwrap_or(false) {
            // Same bytes, same name: keep the first copy.
            tokio::fs::remove_file(&temporary)
                .await
                .map_err(|source| StoreError::io(&temporary, source))?;
            return Ok(PutBlob {
                sha256,
                size_bytes,
                already_present: true,
            });
        }
        let folder = final_path.parent().unwrap_or(&self.root).to_path_buf();
        let folder_is_new = !tokio::fs::try_exists(&folder).await.unwrap_or(false);
        tokio::fs::create_dir_all(&folder)
            .await
            .map_err(|source| StoreError::io(&folder, source))?;
        if let Err(source) = tokio::fs::rename(&temporary, &final_path).await {
            let _ = tokio::fs::remove_file(&temporary).await;
            return Err(StoreError::io(&final_path, source));
        }
        // Make the rename (and a new folder's entry) durable.
        sync_directory(&folder).await?;
        if folder_is_new {
            sync_directory(&self.root).await?;
        }
        Ok(PutBlob {
            sha256,
            size_bytes,
            already_present: false,
        })
    }

    async fn write_temporary(
        &self,
        reader: &mut (dyn AsyncRead + Send + Unpin + '_),
        temporary: &Path,
    ) -> Result<(String, u64), StoreError> {
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(temporary)
            .await
            .map_err(|source| StoreError::io(temporary, source))?;
        let mut hasher = Sha256::new();
        let mut size_bytes = 0u64;
        let mut buffer = vec![0u8; COPY_BUFFER_BYTES];
        loop {
            let read = reader
                .read(&mut buffer)
                .await
                .map_err(|source| StoreError::io(temporary, source))?;
            let Some(chunk) = buffer.get(..read) else {
                break;
            };
            if chunk.is_empty() {
                break;
            }
            hasher.update(chunk);
            file.write_all(chunk)
                .await
                .map_err(|source| StoreError::io(temporary, source))?;
            size_bytes += read as u64;
        }
        file.flush()
            .await
            .map_err(|source| StoreError::io(temporary, source))?;
        file.sync_all()
            .await
            .map_err(|source| StoreError::io(temporary, source))?;
        Ok((hex::encode(hasher.finalize()), size_bytes))
    }
}

async fn sync_directory(path: &Path) -> Result<(), StoreError> {
    let owned = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        std::fs::File::open(&owned).and_then(|folder| folder.sync_all())
    })
    .await
    .map_err(|join_error| StoreError::io(path, std::io::Error::other(join_error)))?
    .map_err(|source| StoreError::io(path, source))
}

impl BlobStore for LocalBlobStore {
    fn put<'a>(
        &'a self,
        reader: Box<dyn AsyncRead + Send + Unpin + 'a>,
        expected_sha256: Option<&'a str>,
    ) -> BoxFuture<'a, Result<PutBlob, StoreError>> {
        Box::pin(self.put_inner(reader, expected_sha256))
    }

    fn open<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, Result<BlobReader, StoreError>> {
        Box::pin(async move {
            let path = self.path_of(sha256)?;
            match tokio::fs::File::open(&path).await {
                Ok(file) => Ok(Box::new(file) as BlobReader),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    Err(StoreError::NotFound {
                        what: "blob",
                        key: sha256.to_owned(),
                    })
                }
                Err(source) => Err(StoreError::io(path, source)),
            }
        })
    }

    fn stat<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, Result<Option<BlobInfo>, StoreError>> {
        Box::pin(async move {
            let path = self.path_of(sha256)?;
            match tokio::fs::metadata(&path).await {
                Ok(metadata) => Ok(Some(BlobInfo {
                    sha256: sha256.to_owned(),
                    size_bytes: metadata.len(),
                })),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(source) => Err(StoreError::io(path, source)),
            }
        })
    }

    fn delete<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let path = self.path_of(sha256)?;
            match tokio::fs::remove_file(&path).await {
                Ok(()) => Ok(()),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    Err(StoreError::NotFound {
                        what: "blob",
                        key: sha256.to_owned(),
                    })
                }
                Err(source) => Err(StoreError::io(path, source)),
            }
        })
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<BlobInfo>, StoreError>> {
        Box::pin(async move {
            let mut blobs = Vec::new();
            let mut folders = tokio::fs::read_dir(&self.root)
                .await
                .map_err(|source| StoreError::io(&self.root, source))?;
            while let Some(folder) = folders
                .next_entry()
                .await
                .map_err(|source| StoreError::io(&self.root, source))?
            {
                let prefix = folder.file_name().to_string_lossy().into_owned();
                if prefix.len() != 2 || !folder.path().is_dir() {
                    continue;
                }
                let folder_path = folder.path();
                let mut files = tokio::fs::read_dir(&folder_path)
                    .await
                    .map_err(|source| StoreError::io(&folder_path, source))?;
                while let Some(file) = files
                    .next_entry()
                    .await
                    .map_err(|source| StoreError::io(&folder_path, source))?
                {
                    let sha256 = format!("{prefix}{}", file.file_name().to_string_lossy());
                    if validate_sha256(&sha256).is_err() {
                        continue;
                    }
                    let metadata = file
                        .metadata()
                        .await
                        .map_err(|source| StoreError::io(file.path(), source))?;
                    blobs.push(BlobInfo {
                        sha256,
                        size_bytes: metadata.len(),
                    });
                }
            }
            blobs.sort_by(|left, right| left.sha256.cmp(&right.sha256));
            Ok(blobs)
        })
    }
}
