//! File servers devices pull images from: TFTP (from `netswim-tftp`), HTTP
//! and HTTPS with ranges, FTP, SFTP and SCP, all reading one serving source
//! (`source::FileSource`: a local directory now, the blob store later),
//! with per-transfer credentials (password or SSH key), transfer accounting and a graceful
//! drain. This crate serves what it is told to; it never decides what to
//! transfer.

pub mod accounting;
pub mod cli;
mod error;
pub mod fileserver;
pub mod ftp;
pub mod http;
mod http_plain;
pub mod metrics;
pub mod published;
pub mod source;
pub mod ssh;

pub use accounting::{Protocol, RunningTransfer, TransferRecord, TransferResult, TransferTracker};
pub use error::TransferError;
pub use fileserver::{
    BoundAddresses, Fileserver, FileserverConfig, FileserverReport, TlsFiles, run_fileserver,
};
pub use ftp::CredentialStore;
pub use published::PublishedFiles;
pub use source::{DirectoryEntry, EntryKind, FileInfo, FileSource, LocalDirectory, TftpSource};
