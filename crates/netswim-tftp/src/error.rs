//! The one error type of the TFTP crate: malformed packets, refused options,
//! failed transfers and I/O failures of the server and client.

use std::time::Duration;

use thiserror::Error;

use crate::packet::ErrorCode;

/// Why a packet could not be decoded or a transfer did not complete.
#[derive(Debug, Error)]
pub enum TftpError {
    #[error(
        "TFTP packet of {len} bytes is too short (hint: every packet starts with a 2-byte opcode)"
    )]
    PacketTooShort { len: usize },

    #[error(
        "unknown TFTP opcode {opcode} (hint: valid opcodes are 1 RRQ, 2 WRQ, 3 DATA, 4 ACK, 5 ERROR, 6 OACK)"
    )]
    UnknownOpcode { opcode: u16 },

    #[error("TFTP {packet} packet: the {field} field is not NUL-terminated")]
    MissingTerminator {
        packet: &'static str,
        field: &'static str,
    },

    #[error("TFTP transfer mode '{mode}' is not supported (hint: use octet or netascii)")]
    UnsupportedMode { mode: String },

    #[error("TFTP DATA payload of {len} bytes exceeds the largest block size 65464")]
    PayloadTooLarge { len: usize },

    #[error("TFTP option '{name}' has an invalid value '{value}' (hint: {hint})")]
    InvalidOption {
        name: String,
        value: String,
        hint: &'static str,
    },

    #[error("TFTP file name is empty")]
    EmptyFileName,

    #[error("the TFTP peer reported error {code}: {message}")]
    Remote { code: ErrorCode, message: String },

    #[error("TFTP transfer aborted with error {code}: {message}")]
    Aborted { code: ErrorCode, message: String },

    #[error(
        "TFTP peer did not answer after {retries} retransmissions (last timeout {last_timeout:?}) (hint: check reachability and firewalls; UDP 69 and ephemeral ports must pass)"
    )]
    TimedOut {
        retries: u32,
        last_timeout: Duration,
    },

    #[error("TFTP protocol violation: {reason}")]
    Protocol { reason: String },

    #[error("file '{path}' not found (hint: paths are relative to the served root)")]
    FileNotFound { path: String },

    #[error("access to '{path}' refused: {reason}")]
    AccessDenied { path: String, reason: &'static str },

    #[error(
        "upload of '{path}' refused: the upload area quota of {quota_bytes} bytes is exhausted (hint: raise the quota or clean the upload area)"
    )]
    QuotaExceeded { path: String, quota_bytes: u64 },

    #[error("upload of '{path}' refused: the file already exists (hint: uploads never overwrite)")]
    FileExists { path: String },

    #[error("too many TFTP transfers: {reason} (hint: retry later or raise the limit)")]
    TooManyTransfers { reason: &'static str },

    #[error("{action}: {source}")]
    Io {
        action: String,
        #[source]
        source: std::io::Error,
    },
}

impl TftpError {
    /// The TFTP error packet that tells a peer about this failure. Messages
    /// never carry local paths or OS error text.
    pub fn to_wire(&self) -> (ErrorCode, String) {
        match self {
            TftpError::FileNotFound { .. } => (ErrorCode::FileNotFound, "file not found".into()),
            TftpError::AccessDenied { reason, .. } => (
                ErrorCode::AccessViolation,
                format!("access violation: {reason}"),
            ),
            TftpError::QuotaExceeded { .. } => (
                ErrorCode::DiskFull,
                "disk full or allocation exceeded".into(),
            ),
            TftpError::FileExists { .. } => {
                (ErrorCode::FileAlreadyExists, "file already exists".into())
            }
            TftpError::TooManyTransfers { reason } => {
                (ErrorCode::NotDefined, format!("server busy: {reason}"))
            }
            TftpError::UnsupportedMode { mode } => (
                ErrorCode::IllegalOperation,
                format!("unsupported mode '{mode}'"),
            ),
            TftpError::PacketTooShort { .. }
            | TftpError::UnknownOpcode { .. }
            | TftpError::MissingTerminator { .. }
            | TftpError::PayloadTooLarge { .. }
            | TftpError::EmptyFileName
            | TftpError::Protocol { .. } => {
                (ErrorCode::IllegalOperation, "illegal TFTP operation".into())
            }
            TftpError::InvalidOption { .. } => (
                ErrorCode::OptionNegotiationFailed,
                "option negotiation failed".into(),
            ),
            TftpError::Remote { code, message } | TftpError::Aborted { code, message } => {
                (*code, message.clone())
            }
            TftpError::TimedOut { .. } | TftpError::Io { .. } => {
                (ErrorCode::NotDefined, "I/O error".into())
            }
        }
    }

    /// Wraps an I/O error with what was being attempted.
    pub fn io(action: impl Into<String>, source: std::io::Error) -> Self {
        TftpError::Io {
            action: action.into(),
            source,
        }
    }
}
