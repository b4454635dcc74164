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
}
