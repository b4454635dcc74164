//! Where served files come from and uploads go: the `ServeSource` trait
//! (a local directory now, netswim's blob store later) and the optional
//! upload area with its byte quota. Both confine every request to their
//! root: no `..`, no absolute paths, no percent-encoded separators or dots,
//! no symlink leading outside.

use std::future::Future;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncRead, AsyncWriteExt};

use crate::error::TftpError;

/// A readable served file.
pub type ServedReader = Box<dyn AsyncRead + Send + Unpin>;

/// Files a server may send. `path` is the name exactly as the client sent it.
pub trait ServeSource: Send + Sync + 'static {
    fn open(&self, path: &str) -> impl Future<Output = Result<ServedReader, TftpError>> + Send;
    fn size(&self, path: &str) -> impl Future<Output = Result<u64, TftpError>> + Send;
}

/// Turns a client's file name into a relative path of plain components, or
/// refuses it. Backslashes count as separators (PXE and Windows clients).
pub fn confine(requested: &str) -> Result<PathBuf, TftpError> {
    let denied = |reason| TftpError::AccessDenied {
        path: requested.to_string(),
        reason,
    };
    if requested.contains('\0') {
        return Err(denied("NUL in file name"));
    }
    if has_encoded_path_character(requested) {
        return Err(denied("percent-encoded path characters are not accepted"));
    }
    let normalised = requested.replace('\\', "/");
    if normalised.starts_with('/') || normalised.get(1..2) == Some(":") {
        return Err(denied("absolute paths are not accepted"));
    }
    let mut relative = PathBuf::new();
    for part in normalised.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(denied("'..' is not accepted")),
            plain => match Path::new(plain).components().next() {
                Some(Component::Normal(_)) => relative.push(plain),
                _ => return Err(denied("unexpected path component")),
            },
        }
    }
    if relative.as_os_str().is_empty() {
        return Err(denied("empty file name"));
    }
    Ok(relative)
}

/// `%2e`, `%2f`, `%5c` and `%00` in any case: an attacker's attempt to sneak
/// dots or separators past a layer that decodes URLs.
fn has_encoded_path_character(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["%2e", "%2f", "%5c", "%00"]
        .iter()
        .any(|encoded| lower.contains(encoded))
}

/// Files under one local directory.
#[derive(Debug, Clone)]
pub struct LocalDirectory {
    root: PathBuf,
}

impl LocalDirectory {
    /// `root` must exist; it is canonicalised once so the prefix check of
    /// every request compares real paths.
    pub fn new(root: impl AsRef<Path>) -> Result<Self, TftpError> {
        let root = std::fs::canonicalize(root.as_ref()).map_err(|source| {
            TftpError::io(
                format!("cannot open served root {}", root.as_ref().display()),
                source,
            )
        })?;
        Ok(LocalDirectory { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The real path of an existing regular file inside the root.
    async fn resolve(&self, requested: &str) -> Result<PathBuf, TftpError> {
        let relative = confine(requested)?;
        let not_found = || TftpError::FileNotFound {
            path: requested.to_string(),
        };
        let real = tokio::fs::canonicalize(self.root.join(&relative))
            .await
            .map_err(|_| not_found())?;
        if !real.starts_with(&self.root) {
            return Err(TftpError::AccessDenied {
                path: requested.to_string(),
                reason: "the path leads outside the served root",
            });
        }
        let metadata = tokio::fs::metadata(&real).await.map_err(|_| not_found())?;
        if !metadata.is_file() {
            return Err(not_found());
        }
        Ok(real)
    }
}

impl ServeSource for LocalDirectory {
    async fn open(&self, path: &str) -> Result<ServedReader, TftpError> {
        let real = self.resolve(path).await?;
        let file = tokio::fs::File::open(&real)
            .await
            .map_err(|error| match error.kind() {
                std::io::ErrorKind::PermissionDenied => TftpError::AccessDenied {
                    path: path.to_string(),
                    reason: "the file is not readable",
                },
                _ => TftpError::FileNotFound {
                    path: path.to_string(),
                },
            })?;
        Ok(Box::new(tokio::io::BufReader::with_capacity(
            256 * 1024,
            file,
        )))
    }

    async fn size(&self, path: &str) -> Result<u64, TftpError> {
        let real = self.resolve(path).await?;
        let metadata = tokio::fs::metadata(&real)
            .await
            .map_err(|_| TftpError::FileNotFound {
                path: path.to_string(),
            })?;
        Ok(metadata.len())
    }
}

/// The directory uploads (WRQ) land in, with a byte quota shared by every
/// upload. Files are written under a temporary name and renamed when
/// complete; an existing file is never overwritten.
#[derive(Debug)]
pub struct UploadArea {
    root: PathBuf,
    quota_bytes: u64,
    used_bytes: AtomicU64,
}

impl UploadArea {
    /// Counts the files already in `root` against the quota.
    pub fn new(root: impl AsRef<Path>, quota_bytes: u64) -> Result<Self, TftpError> {
        let root = std::fs::canonicalize(root.as_ref()).map_err(|source| {
            TftpError::io(
                format!("cannot open upload directory {}", root.as_ref().display()),
                source,
            )
        })?;
        let used = std::fs::read_dir(&root)
            .map_err(|source| TftpError::io("cannot list the upload directory", source))?
            .filter_map(Result::ok)
            .filter_map(|entry| entry.metadata().ok())
            .filter(std::fs::Metadata::is_file)
            .map(|metadata| metadata.len())
            .sum();
        Ok(UploadArea {
            root,
            quota_bytes,
            used_bytes: AtomicU64::new(used),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn remaining_bytes(&self) -> u64 {
        self.quota_bytes
            .saturating_sub(self.used_bytes.load(Ordering::Relaxed))
    }

    /// Reserves `bytes` of the quota, or refuses when they do not fit.
    fn reserve(&self, path: &str, bytes: u64) -> Result<(), TftpError> {
        self.used_bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes)
                    .filter(|total| *total <= self.quota_bytes)
            })
            .map(|_| ())
            .map_err(|_| TftpError::QuotaExceeded {
                path: path.to_string(),
                quota_bytes: self.quota_bytes,
            })
    }

    fn release(&self, bytes: u64) {
        let _ = self
            .used_bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                Some(used.saturating_sub(bytes))
            });
    }

    /// Starts an upload of `requested`; `announced_size` (tsize) is checked
    /// against the quota up front so a too-large upload fails at once.
    pub async fn create(
        &self,
        requested: &str,
        announced_size: Option<u64>,
    ) -> Result<Upload<'_>, TftpError> {
        self.create_in(AreaRef::Borrowed(self), requested, announced_size)
            .await
    }

    /// `create` for an upload that outlives any borrow of the area (an
    /// SFTP handle kept across requests).
    pub async fn create_shared(
        self: &Arc<Self>,
        requested: &str,
        announced_size: Option<u64>,
    ) -> Result<Upload<'static>, TftpError> {
        self.create_in(AreaRef::Shared(Arc::clone(self)), requested, announced_size)
            .await
    }

    async fn create_in<'a>(
        &self,
        area: AreaRef<'a>,
        requested: &str,
        announced_size: Option<u64>,
    ) -> Result<Upload<'a>, TftpError> {
        let relative = confine(requested)?;
        let target = self.root.join(&relative);
        let parent = target.parent().unwrap_or(&self.root);
        let real_parent =
            tokio::fs::canonicalize(parent)
                .await
                .map_err(|_| TftpError::AccessDenied {
                    path: requested.to_string(),
                    reason: "the upload directory does not exist",
                })?;
        if !real_parent.starts_with(&self.root) {
            return Err(TftpError::AccessDenied {
                path: requested.to_string(),
                reason: "the path leads outside the upload area",
            });
        }
        let Some(file_name) = target.file_name() else {
            return Err(TftpError::AccessDenied {
                path: requested.to_string(),
                reason: "no file name",
            });
        };
        let final_path = real_parent.join(file_name);
        if tokio::fs::symlink_metadata(&final_path).await.is_ok() {
            return Err(TftpError::FileExists {
                path: requested.to_string(),
            });
        }
        if let Some(size) = announced_size {
            if size > self.remaining_bytes() {
                return Err(TftpError::QuotaExceeded {
                    path: requested.to_string(),
                    quota_bytes: self.quota_bytes,
                });
            }
        }
        let mut partial_name = std::ffi::OsString::from(".");
        partial_name.push(file_name);
        partial_name.push(format!(".{}.part", std::process::id()));
        let partial_path = real_parent.join(partial_name);
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&partial_path)
            .await
            .map_err(|_| TftpError::FileExists {
                path: requested.to_string(),
            })?;
        Ok(Upload {
            area,
            requested: requested.to_string(),
            file: tokio::io::BufWriter::with_capacity(256 * 1024, file),
            partial_path,
            final_path,
            reserved: 0,
            committed: false,
        })
    }
}

/// The area an upload counts against: borrowed, or shared for uploads
/// kept beyond one call.
#[derive(Debug)]
enum AreaRef<'a> {
    Borrowed(&'a UploadArea),
    Shared(Arc<UploadArea>),
}

impl std::ops::Deref for AreaRef<'_> {
    type Target = UploadArea;

    fn deref(&self) -> &UploadArea {
        match self {
            AreaRef::Borrowed(area) => area,
            AreaRef::Shared(area) => area,
        }
    }
}

/// One upload in progress; dropped without `commit`, its partial file is
/// removed and its quota released.
#[derive(Debug)]
pub struct Upload<'a> {
    area: AreaRef<'a>,
    requested: String,
    file: tokio::io::BufWriter<tokio::fs::File>,
    partial_path: PathBuf,
    final_path: PathBuf,
    reserved: u64,
    committed: bool,
}

impl Upload<'_> {
    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.reserved
    }

    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), TftpError> {
        self.area.reserve(&self.requested, bytes.len() as u64)?;
        self.reserved += bytes.len() as u64;
        self.file
            .write_all(bytes)
            .await
            .map_err(|source| TftpError::io("cannot write the upload", source))
    }

    pub async fn commit(mut self) -> Result<(), TftpError> {
        self.file
            .flush()
            .await
            .map_err(|source| TftpError::io("cannot write the upload", source))?;
        if tokio::fs::symlink_metadata(&self.final_path).await.is_ok() {
            return Err(TftpError::FileExists {
                path: self.requested.clone(),
            });
        }
        tokio::fs::rename(&self.partial_path, &self.final_path)
            .await
            .map_err(|source| TftpError::io("cannot complete the upload", source))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Upload<'_> {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.partial_path);
            self.area.release(self.reserved);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confinement_refuses_traversal_and_absolute_names() {
        let refused = [
            "../etc/passwd",
            "/etc/passwd",
            "a/../../b",
            "%2e%2e/x",
            "%2E%2E%2Fx",
            "..\\windows",
            "\\\\server\\share",
            "C:\\boot.ini",
            "..",
            "",
            "./",
        ];
        for name in refused {
            assert!(confine(name).is_err(), "{name} must be refused");
        }
        let check = |name: &str, expected: &str| {
            assert_eq!(confine(name).unwrap(), PathBuf::from(expected), "{name}");
        };
        check("c1240-k9w7-tar.default", "c1240-k9w7-tar.default");
        check("images/c2960.bin", "images/c2960.bin");
        check("images\\pxe.0", "images/pxe.0");
        check("./a//b", "a/b");
        check("100%.txt", "100%.txt");
    }
}
