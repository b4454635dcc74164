//! The one error type of the domain crate.

use thiserror::Error;

/// Everything that can go wrong in pure domain logic. Messages are one line,
/// say what was wrong with which input, and (where there is one) give a hint.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DomainError {
    #[error(
        "unknown OS '{name}' (known: ios, iosxe, iosxr, nxos, vrp, junos, aireos, junose, asa, gaia, cheetah)"
    )]
    UnknownOs { name: String },

    #[error("'{input}' is not a valid {os} version: {reason}")]
    InvalidVersion {
        os: String,
        input: String,
        reason: String,
    },

    #[error("'{name}' is not a recognised image file name: {reason}")]
    UnrecognisedImageName { name: String, reason: String },

    /// An archive problem, worded as the device words it.
    #[error("{message}")]
    Archive { message: String },

    #[error("reading {what} failed: {reason}")]
    Read { what: String, reason: String },
}
