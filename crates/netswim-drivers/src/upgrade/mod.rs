//! The device CLI steps of an upgrade: copy an image into flash (and verify
//! it), delete files, set and restore the boot variable, reload and wait for
//! the device to come back, validate the running version, IOS `archive
//! download-sw`, stack member repair, IOS-XE install mode and IOS-XR install
//! operations. Every step runs over a live [`Session`] (long per-command
//! timeouts, reconnects) and holds no job state; steps that the engine may
//! repeat after a crash are idempotent (a copy whose file is already there
//! with the right MD5 is skipped, deleting an absent file succeeds, setting
//! the boot variable to what it already is changes nothing).

mod archive;
mod boot;
mod copy;
mod install;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use archive::{archive_download_sw, repair_stack_members};
pub use boot::{reload, reload_and_wait, restore_boot, set_boot, validate, wait_for_return};
pub use copy::{
    classify_transfer_failure, copy_image, copy_image_to_members, delete_file, file_md5_if_present,
    verify_md5,
};
pub use install::{
    xe_install_add_activate_commit, xe_install_remove_inactive, xr_install_activate,
    xr_install_add, xr_install_add_within, xr_install_commit, xr_install_rollback_to_committed,
    xr_install_state,
};

/// Why a transfer into a device failed, so the engine can say why and decide
/// whether another protocol or server may do better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferFailure {
    /// The device could not reach the server (no route, connection refused, unknown host).
    Unreachable,
    /// The server refused the device (login or permission denied).
    Refused,
    /// The server has no such file.
    NotFound,
    /// The device's file system is full.
    NoSpace,
    /// The copy arrived but its MD5 is not the image's.
    ChecksumMismatch,
    /// The transfer stopped making progress or took longer than allowed.
    Stalled,
    /// Anything else the device said.
    Other,
}

impl TransferFailure {
    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            TransferFailure::Unreachable => "unreachable",
            TransferFailure::Refused => "refused",
            TransferFailure::NotFound => "not_found",
            TransferFailure::NoSpace => "no_space",
            TransferFailure::ChecksumMismatch => "checksum_mismatch",
            TransferFailure::Stalled => "stalled",
            TransferFailure::Other => "other",
        }
    }

    /// Whether another protocol or server may succeed where this one failed
    /// (false for a full flash: no protocol makes room).
    pub fn worth_another_protocol(self) -> bool {
        !matches!(self, TransferFailure::NoSpace)
    }
}

/// One image copy into a device's file system.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CopyRequest {
    /// Where the device pulls from (`tftp://10.0.0.5/x.bin`,
    /// `scp://user@10.0.0.5/x.bin`, `http://…`, `ftp://user:pw@…`).
    pub url: String,
    /// The file to write, file system included (`flash2:x.bin`).
    pub destination: String,
    /// The image's MD5 (lowercase hex): checked before (skip) and after (verify).
    pub expected_md5: String,
    /// How long the copy command may take.
    pub timeout: Duration,
    /// Typed at the device's `Password:` question of an `scp://` copy
    /// whose URL carries none.
    pub password: Option<String>,
}

impl CopyRequest {
    /// A copy with a 30-minute timeout and no SCP password.
    pub fn new(url: &str, destination: &str, expected_md5: &str) -> Self {
        Self {
            url: url.to_string(),
            destination: destination.to_string(),
            expected_md5: expected_md5.to_ascii_lowercase(),
            timeout: Duration::from_secs(30 * 60),
            password: None,
        }
    }

    /// The same copy into another file (another stack member's flash).
    pub fn to_destination(&self, destination: &str) -> Self {
        Self {
            destination: destination.to_string(),
            ..self.clone()
        }
    }
}

/// What a copy did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum CopyOutcome {
    /// The destination already held the image (right MD5): nothing copied.
    AlreadyPresent,
    /// The image was copied and its MD5 verified on the device.
    Copied { bytes: u64, elapsed: Duration },
}

/// The boot variable before and after a change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootChange {
    pub previous: Vec<String>,
    pub now: Vec<String>,
}

/// Why a device that came back is not what the upgrade wanted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationFailure {
    /// One line per problem, each naming the member when it concerns one.
    pub problems: Vec<String>,
}

impl std::fmt::Display for ValidationFailure {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "validation failed: {} (hint: the device may have booted its previous image; check `show boot` and the image on flash)",
            self.problems.join("; ")
        )
    }
}

/// `archive download-sw` options (the device's flag names).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ArchiveOptions {
    /// `/overwrite`: replace an image of the same version.
    pub overwrite: bool,
    /// `/reload`: reload once installed.
    pub reload: bool,
    /// `/allow-feature-upgrade`: accept another feature set.
    pub allow_feature_upgrade: bool,
    /// `/leave-old-sw`: keep the running image's directory.
    pub leave_old_sw: bool,
    /// `/imageonly`: skip the web management files.
    pub imageonly: bool,
    /// `/safe`: keep the old image until the new one is in place.
    pub safe: bool,
    /// `/destination-system N` for each member listed (all members when empty).
    pub destination_system: Vec<u32>,
    /// How long the whole download and install may take.
    pub timeout: Duration,
}

impl Default for ArchiveOptions {
    fn default() -> Self {
        Self {
            overwrite: false,
            reload: false,
            allow_feature_upgrade: false,
            leave_old_sw: false,
            imageonly: false,
            safe: false,
            destination_system: Vec::new(),
            timeout: Duration::from_secs(45 * 60),
        }
    }
}

/// What `archive download-sw` or `archive copy-sw` reported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveOutcome {
    /// The image directories the device says it installed (`c2960x-universalk9-mz.152-7.E8`).
    pub installed: Vec<String>,
    /// The device reloads now (`/reload`).
    pub reloading: bool,
    /// The device's whole output, for the job log.
    pub output: String,
}

/// What an IOS-XE `install` operation reported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct XeInstallOutcome {
    /// `Image added. Version: …`.
    pub version_added: Option<String>,
    /// Files `install remove inactive` deleted.
    pub deleted: Vec<String>,
    /// The device reloads now (activate).
    pub reloading: bool,
    /// The device's whole output, for the job log.
    pub output: String,
}

/// IOS-XR software state (`show install active|committed|inactive summary`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct XrInstallState {
    pub active: Vec<String>,
    pub committed: Vec<String>,
    pub inactive: Vec<String>,
}

impl XrInstallState {
    /// The active software is the committed one.
    pub fn is_committed(&self) -> bool {
        self.active == self.committed
    }
}

/// The host name a session talks to, for errors.
/// Removes the password of every `scheme://user:password@host` in `text`
/// (the device quotes URLs, also those of other operations).
fn scrub_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| c == '/' || c.is_whitespace())
            .unwrap_or(after.len());
        let (authority, tail) = after.split_at(end);
        match authority.rsplit_once('@') {
            Some((user_info, host)) => {
                let user = user_info
                    .split_once(':')
                    .map_or(user_info, |(user, _)| user);
                out.push_str(user);
                out.push('@');
                out.push_str(host);
            }
            None => out.push_str(authority),
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

fn host(session: &crate::Session) -> String {
    session.options().host.clone()
}

/// The last `count` characters of a device's output, for error messages.
fn tail(text: &str, count: usize) -> String {
    let trimmed = text.trim();
    let chars: Vec<char> = trimmed.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(count)..].iter().collect();
    tail.replace('\n', " | ")
}

/// `flash2:x.bin` → (`flash2:`, `x.bin`); a leading `/` of the path is dropped.
fn split_path(path: &str) -> (String, String) {
    match path.split_once(':') {
        Some((file_system, file)) => (
            format!("{file_system}:"),
            file.trim_start_matches('/').to_string(),
        ),
        None => (String::new(), path.trim_start_matches('/').to_string()),
    }
}

fn unsupported(what: &str, os: netswim_domain::Os) -> crate::DriverError {
    crate::DriverError::Unsupported {
        what: format!("{what} on {}", os.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::scrub_urls;

    #[test]
    fn passwords_of_every_quoted_url_are_removed() {
        assert_eq!(
            scrub_urls(
                "Install operation 1 (install add source scp://admin:s3cret@192.0.2.1/d x.iso) and ftp://u:p@h/f"
            ),
            "Install operation 1 (install add source scp://admin@192.0.2.1/d x.iso) and ftp://u@h/f"
        );
        assert_eq!(
            scrub_urls("%Error opening ftp://netswim:s3cret@10.0.0.5/x.bin (Timed out)"),
            "%Error opening ftp://netswim@10.0.0.5/x.bin (Timed out)"
        );
        assert_eq!(
            scrub_urls("tftp://192.0.2.1/x.iso"),
            "tftp://192.0.2.1/x.iso"
        );
    }
}
