//! The one error enum of `netswim-drivers`.

use std::time::Duration;

/// Everything a device session can fail with.
///
/// The variants are what a sync reports per device, so they separate "could
/// not talk to it" (unreachable), "it refused us" (auth, host key) and "it
/// talked but something went wrong" (timeout, rejected command, parse).
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// No TCP connection or no SSH handshake.
    #[error(
        "cannot reach {host}:{port}: {reason} (hint: check the address, port and that SSH is enabled)"
    )]
    Unreachable {
        host: String,
        port: u16,
        reason: String,
    },
    /// The device refused the login or the enable secret.
    #[error(
        "authentication failed on {host}:{port} as {username}: {reason} (hint: check the credential profile)"
    )]
    AuthFailed {
        host: String,
        port: u16,
        username: String,
        reason: String,
    },
    /// The device presented a host key other than the pinned one.
    #[error(
        "host key of {host}:{port} changed: pinned {pinned}, presented {presented} (hint: if the device was replaced or re-keyed, clear its pinned key and sync again)"
    )]
    HostKeyChanged {
        host: String,
        port: u16,
        /// SHA-256 fingerprint of the pinned key.
        pinned: String,
        /// SHA-256 fingerprint of the key the device presented.
        presented: String,
    },
    /// A step took longer than allowed.
    #[error(
        "timed out after {}s on {host} while {what} (hint: raise the timeout or check the device's load)",
        after.as_secs_f32()
    )]
    Timeout {
        host: String,
        what: String,
        after: Duration,
    },
    /// The device rejected a command (`% Invalid input`, `% Incomplete command`...).
    #[error(
        "{host} rejected `{command}`: {message} (hint: the command may not exist on this platform or release)"
    )]
    CommandRejected {
        host: String,
        command: String,
        message: String,
    },
    /// The session broke after login (channel closed, protocol error).
    #[error(
        "session to {host} failed: {reason} (hint: the device may have reloaded or dropped the session)"
    )]
    Session { host: String, reason: String },
    /// The device runs something no driver handles.
    #[error("{what} is not supported (hint: netswim collects facts from ios, iosxe and iosxr)")]
    Unsupported { what: String },
    /// Command output that the parser could not read.
    #[error(
        "cannot read the output of `{command}`: {reason} (hint: report the output so a parser can learn it)"
    )]
    Parse { command: String, reason: String },
    /// An image transfer into the device failed; `kind` says why.
    #[error(
        "copy of {url} to {host}:{destination} failed ({}): {message} (hint: {})",
        kind.as_str(),
        transfer_hint(*kind)
    )]
    Transfer {
        host: String,
        url: String,
        destination: String,
        kind: crate::upgrade::TransferFailure,
        /// The device's own words (`%Error opening tftp://… (Timed out)`).
        message: String,
    },
    /// A reloaded device did not answer SSH again in time.
    #[error(
        "{host} did not come back within {}s after the reload: {last_error} (hint: check its console; it may be in rommon or booting a failed image)",
        after.as_secs()
    )]
    DeviceDidNotReturn {
        host: String,
        after: Duration,
        last_error: String,
    },
    /// An install, archive or boot step ran but the device reported a failure.
    #[error(
        "{host} failed `{step}`: {message} (hint: the device's own words are quoted; fix the cause and run the step again)"
    )]
    StepFailed {
        host: String,
        step: String,
        message: String,
    },
    /// A pinned host key that is not OpenSSH public key text.
    #[error(
        "pinned host key is not an OpenSSH public key: {reason} (hint: clear the device's pinned key)"
    )]
    BadPinnedKey { reason: String },
}

fn transfer_hint(kind: crate::upgrade::TransferFailure) -> &'static str {
    use crate::upgrade::TransferFailure;
    match kind {
        TransferFailure::Unreachable => {
            "check that the device can route to the server and the server listens"
        }
        TransferFailure::Refused => "check the transfer credentials and the server's permissions",
        TransferFailure::NotFound => "check the file is published under that path on the server",
        TransferFailure::NoSpace => {
            "free space on the device (delete inactive images) and copy again"
        }
        TransferFailure::ChecksumMismatch => {
            "the bad copy was deleted; copy again, perhaps over another protocol"
        }
        TransferFailure::Stalled => {
            "the transfer stopped making progress; try another protocol or server"
        }
        TransferFailure::Other => "read the device's words above",
    }
}
