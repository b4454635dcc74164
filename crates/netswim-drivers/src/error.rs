//! The one error enum of `netswim-drivers`.

/// Everything a device session can fail with.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The device could not be reached at all.
    #[error(
        "cannot reach {host}:{port}: {reason} (hint: check the address, port and that SSH is enabled)"
    )]
    Unreachable {
        host: String,
        port: u16,
        reason: String,
    },
}
