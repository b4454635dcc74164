//! The one error type of the transfer crate: refused paths, missing files,
//! bad server configuration and I/O failures of the file servers.

use thiserror::Error;

/// Why a file could not be served or a server could not start.
#[derive(Debug, Error)]
pub enum TransferError {
    #[error("file '{path}' not found (hint: paths are relative to the served root)")]
    NotFound { path: String },

    #[error("access to '{path}' refused: {reason}")]
    AccessDenied { path: String, reason: &'static str },

    #[error("invalid file server configuration: {reason} (hint: {hint})")]
    Config { reason: String, hint: &'static str },

    #[error(
        "cannot bind {protocol} server to {address}: {source} (hint: is the port free and allowed?)"
    )]
    Bind {
        protocol: &'static str,
        address: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },

    #[error("{action}: {source}")]
    Io {
        action: String,
        #[source]
        source: std::io::Error,
    },

    #[error("TFTP server: {0}")]
    Tftp(#[from] netswim_tftp::TftpError),
}

impl TransferError {
    pub fn io(action: impl Into<String>, source: std::io::Error) -> Self {
        TransferError::Io {
            action: action.into(),
            source,
        }
    }
}
