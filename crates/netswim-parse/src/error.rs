//! The one error type of the parse crate.

use netswim_domain::Os;
use thiserror::Error;

/// Why output could not be turned into facts.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ParseError {
    #[error("unknown command '{command}' (hint: known commands are: {known})")]
    UnknownCommand { command: String, known: String },

    #[error("'{command}' is ambiguous: it could be {candidates}")]
    AmbiguousCommand { command: String, candidates: String },

    #[error(
        "netswim has no parser for '{command}' on {os} (hint: `netswim parse --help` lists the supported pairs)"
    )]
    UnsupportedCommand { os: Os, command: String },

    #[error(
        "the output does not look like '{command}' output: {reason} (hint: check that --platform and --command match the capture)"
    )]
    UnrecognisedOutput { command: String, reason: String },

    /// The device refused the command (`% Invalid input detected at '^' marker.`).
    #[error(
        "the device reported an error: {message} (hint: the capture holds the device's error, not command output)"
    )]
    DeviceError { message: String },

    #[error(
        "cannot detect the OS from this output (hint: pass --platform ios|iosxe|iosxr|nxos|vrp|junos|aireos|junose)"
    )]
    UndetectedOs,
}
