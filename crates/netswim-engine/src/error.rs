//! The one error enum of `netswim-engine`.

/// Everything a job can fail with.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] netswim_store::StoreError),
    /// A device session failed.
    #[error(transparent)]
    Driver(#[from] netswim_drivers::DriverError),
    /// Input the engine cannot work with.
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
    /// An image source could not be read (network, protocol, missing file).
    #[error("cannot fetch {source_name}: {reason} (hint: {hint})")]
    Fetch {
        source_name: String,
        reason: String,
        hint: &'static str,
    },
    /// The image bytes failed a check (checksum, archive, signature); nothing was kept.
    #[error("image rejected: {reason}")]
    ImageRejected { reason: String },
    /// Something still uses what the caller wants to remove.
    #[error("{what} is in use: {reason} (hint: delete or finish the jobs that use it first)")]
    InUse { what: String, reason: String },
    /// A device task step failed; the message is specific and one line
    /// (what failed, the numbers, and a hint).
    #[error("{message}")]
    Step { message: String },
    /// A local file error (staging, reading a source or key file).
    #[error("I/O error on {path}: {reason}")]
    Io { path: String, reason: String },
}

impl EngineError {
    /// A step failure with its one-line message.
    pub fn step(message: impl Into<String>) -> Self {
        EngineError::Step {
            message: message.into(),
        }
    }

    pub(crate) fn fetch(source_name: &str, reason: impl ToString, hint: &'static str) -> Self {
        EngineError::Fetch {
            source_name: source_name.to_owned(),
            reason: reason.to_string(),
            hint,
        }
    }
}
