//! The lab crate's single error type.

use std::path::PathBuf;

/// Everything that can go wrong while building images or running the lab.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error(
        "unknown device model `{model}` (hint: ios WS-C2960X-48FPD-L or WS-C3750X-24P, iosxe C9300-48P or WS-C3850-48P, iosxr ASR-9006 or NCS-5501)"
    )]
    UnknownModel { model: String },
    #[error(
        "version `{version}` is not a version of this platform (hint: ios 15.2(7)E8, iosxe 17.09.04a, iosxr 7.3.2)"
    )]
    BadVersion { version: String },
    #[error("bad size `{text}` (hint: a byte count or a number with KiB/MiB/GiB)")]
    BadSize { text: String },
    #[error("image size {size} bytes is too small (hint: at least {minimum} bytes)")]
    ImageTooSmall { size: u64, minimum: u64 },
    #[error(
        "unknown platform `{platform}` (hint: `ios`, `iosxe` or `iosxr` with one of its models and formats)"
    )]
    UnknownPlatform { platform: String },
    #[error("bad device mix `{text}` (hint: kind:count,... with kinds ios and ios-stack)")]
    BadMix { text: String },
    #[error(
        "bad fault rates `{text}`: {why} (hint: kind=rate[:parameter],... e.g. transfer-stall=0.05:64KiB,corruption=0.02)"
    )]
    BadFaultRate { text: String, why: String },
    #[error("lab file {path}: {message} (hint: see crates/netswim-lab/examples/lab.toml)")]
    BadLabFile { path: PathBuf, message: String },
    #[error("bad address `{text}` (hint: an IPv4 address such as 127.10.0.1)")]
    BadAddress { text: String },
    #[error("cannot read or write {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("network error on {what}: {source}")]
    Network {
        what: String,
        source: std::io::Error,
    },
    #[error("SSH host key generation failed: {message}")]
    HostKey { message: String },
    #[error("control endpoint answered {status}: {body}")]
    Control { status: u16, body: String },
}
