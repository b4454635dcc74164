//! A serving source whose namespace is a runtime map of published paths
//! (`<job-id>/<image file name>`) to files on disk (blob-store files), so
//! the TFTP, FTP, SFTP/SCP and HTTP servers serve repository images for a
//! job without copying them. Read-only; what is not published does not
//! exist. The engine publishes at a job's start and unpublishes at its end.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use crate::error::TransferError;
use crate::source::{
    ChunkStream, DirectoryEntry, EntryKind, FileInfo, FileSource, LocalDirectory, SourceReader,
    confine,
};

/// One published file.
#[derive(Debug, Clone)]
struct Published {
    /// The file on disk (a blob).
    file: PathBuf,
    /// Its SHA-256 when known (blob stores are content-addressed).
    sha256: Option<[u8; 32]>,
}

/// The published files; clones share one map.
#[derive(Debug, Clone, Default)]
pub struct PublishedFiles {
    /// Keyed by the served path without a leading slash.
    files: Arc<RwLock<BTreeMap<String, Published>>>,
}

impl PublishedFiles {
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `file` at `path` (`7/c2960x.bin`), replacing what was there.
    /// The path must be plain components (no `..`, no absolute path).
    pub fn publish(
        &self,
        path: &str,
        file: impl Into<PathBuf>,
        sha256: Option<[u8; 32]>,
    ) -> Result<String, TransferError> {
        // Published paths may be written with the leading slash URLs show.
        let relative = confine(path.trim_start_matches('/'))?;
        let key = relative
            .components()
            .map(|part| part.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        if key.is_empty() {
            return Err(TransferError::Config {
                reason: format!("'{path}' names no file"),
                hint: "publish at <job-id>/<file name>",
            });
        }
        self.write().insert(
            key.clone(),
            Published {
                file: file.into(),
                sha256,
            },
        );
        Ok(key)
    }

    /// Stops serving every path under `prefix` (`7` removes `7/...`).
    /// Transfers already running finish. Returns how many were removed.
    pub fn unpublish_prefix(&self, prefix: &str) -> usize {
        let prefix = prefix.trim_matches('/');
        let mut files = self.write();
        let before = files.len();
        files.retain(|key, _| key != prefix && !key.starts_with(&format!("{prefix}/")));
        before - files.len()
    }

    /// The published paths, sorted.
    pub fn paths(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Published>> {
        self.files
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Published>> {
        self.files
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn lookup(&self, path: &str) -> Option<Published> {
        self.read().get(path.trim_matches('/')).cloned()
    }

    /// Whether `path` is a directory of the namespace (a prefix of a published file).
    fn is_directory(&self, path: &str) -> bool {
        let path = path.trim_matches('/');
        path.is_empty()
            || self
                .read()
                .keys()
                .any(|key| key.starts_with(&format!("{path}/")))
    }

    /// The published file's directory and name, for delegating reads to a
    /// `LocalDirectory` (which confines and streams in large blocks).
    fn located(&self, path: &str) -> Result<(LocalDirectory, String, Published), TransferError> {
        let published = self.lookup(path).ok_or_else(|| TransferError::NotFound {
            path: path.to_string(),
        })?;
        let parent = published.file.parent().unwrap_or(Path::new("/"));
        let name = published
            .file
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .ok_or_else(|| TransferError::NotFound {
                path: path.to_string(),
            })?;
        Ok((LocalDirectory::new(parent)?, name, published))
    }
}

fn directory_info() -> FileInfo {
    FileInfo {
        kind: EntryKind::Directory,
        size: 0,
        modified: SystemTime::UNIX_EPOCH,
        sha256: None,
    }
}

impl FileSource for PublishedFiles {
    async fn stat(&self, path: &str) -> Result<FileInfo, TransferError> {
        confine(path)?;
        if self.lookup(path).is_none() && self.is_directory(path) {
            return Ok(directory_info());
        }
        let (directory, name, published) = self.located(path)?;
        let mut info = directory.stat(&name).await?;
        info.sha256 = published.sha256;
        Ok(info)
    }

    async fn open_at(&self, path: &str, offset: u64) -> Result<SourceReader, TransferError> {
        confine(path)?;
        let (directory, name, _) = self.located(path)?;
        directory.open_at(&name, offset).await
    }

    async fn open_chunks(
        &self,
        path: &str,
        offset: u64,
        length: u64,
    ) -> Result<ChunkStream, TransferError> {
        confine(path)?;
        let (directory, name, _) = self.located(path)?;
        directory.open_chunks(&name, offset, length).await
    }

    async fn list(&self, path: &str) -> Result<Vec<DirectoryEntry>, TransferError> {
        confine(path)?;
        let prefix = path.trim_matches('/');
        if !self.is_directory(prefix) {
            return Err(TransferError::NotFound {
                path: path.to_string(),
            });
        }
        let keys = self.paths();
        let mut names = std::collections::BTreeSet::new();
        for key in keys {
            let rest = if prefix.is_empty() {
                Some(key.as_str())
            } else {
                key.strip_prefix(&format!("{prefix}/"))
            };
            if let Some(rest) = rest
                && let Some(first) = rest.split('/').next()
            {
                names.insert(first.to_owned());
            }
        }
        let mut entries = Vec::new();
        for name in names {
            let full = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            if let Ok(info) = self.stat(&full).await {
                entries.push(DirectoryEntry { name, info });
            }
        }
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn published_files_are_served_until_unpublished_and_nothing_else_is() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blob = dir.path().join("ab").join("abcdef");
        std::fs::create_dir_all(blob.parent().expect("parent")).expect("mkdir");
        std::fs::write(&blob, b"image bytes").expect("write");
        std::fs::write(dir.path().join("secret"), b"not published").expect("write");
        let files = PublishedFiles::new();
        let key = files
            .publish("/7/c2960x.bin", &blob, None)
            .expect("publish");
        assert_eq!(key, "7/c2960x.bin");

        let info = files.stat("7/c2960x.bin").await.expect("stat");
        assert_eq!((info.kind, info.size), (EntryKind::File, 11));
        assert_eq!(
            files.stat("7").await.expect("dir").kind,
            EntryKind::Directory
        );
        let mut reader = files.open_at("7/c2960x.bin", 6).await.expect("open");
        let mut rest = String::new();
        reader.read_to_string(&mut rest).await.expect("read");
        assert_eq!(rest, "bytes");
        let listing = files.list("").await.expect("list");
        assert_eq!(listing.len(), 1);
        assert_eq!(listing[0].name, "7");

        for refused in ["secret", "7/../secret", "ab/abcdef", "8/c2960x.bin"] {
            assert!(files.open_at(refused, 0).await.is_err(), "{refused}");
        }
        assert!(files.publish("../x", &blob, None).is_err());

        assert_eq!(files.unpublish_prefix("7"), 1);
        assert!(files.stat("7/c2960x.bin").await.is_err());
    }
}
