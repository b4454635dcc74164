//! `ApiError`: picks the HTTP status, a stable machine code and a safe message.

/// An error as the API reports it: `{code, message, hint}` with a status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No or an invalid credential.
    #[error("authentication required")]
    Unauthorized,
}
