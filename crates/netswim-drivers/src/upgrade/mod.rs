//! The device CLI steps of an upgrade: copy an image into flash (and verify
//! it), delete files, set and restore the boot variable, reload and wait for
//! the device to come back, validate the running version, IOS `archive
//! download-sw`, stack member repair, IOS-XE install mode and IOS-XR install
//! operations. Every step runs over a live [`Session`] (long per-command
//! timeouts, reconnects) and holds no job state; steps that the engine may
//! repeat after a crash are idempotent (a copy whose file is already there
//! with the right MD5 is skipped, deleting an absent file succeeds, setting
//! the boot variable to what it already is changes nothing).

use std::time::Duration;

use netswim_domain::Os;
use netswim_domain::facts::InstallMode;
use serde::{Deserialize, Serialize};

use crate::{CollectedFacts, DriverError, Session};

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

fn unbuilt(what: &str) -> DriverError {
    DriverError::Unsupported {
        what: format!("{what} (not built yet)"),
    }
}

/// The MD5 (lowercase hex) of a file on the device (`verify /md5 <path>`).
pub async fn verify_md5(session: &mut Session, os: Os, path: &str) -> Result<String, DriverError> {
    let _ = (session, os, path);
    Err(unbuilt("verify_md5"))
}

/// The file's MD5 when it exists, `None` when it does not.
pub async fn file_md5_if_present(
    session: &mut Session,
    os: Os,
    path: &str,
) -> Result<Option<String>, DriverError> {
    let _ = (session, os, path);
    Err(unbuilt("file_md5_if_present"))
}

/// Deletes a file (`delete /force`); `false` when it was already absent.
pub async fn delete_file(session: &mut Session, os: Os, path: &str) -> Result<bool, DriverError> {
    let _ = (session, os, path);
    Err(unbuilt("delete_file"))
}

/// Copies an image into the device: skipped when the destination already
/// has the expected MD5; answers the destination and overwrite questions;
/// verifies the MD5 after and deletes a bad copy. Failures are
/// [`DriverError::Transfer`] with a [`TransferFailure`] kind and the device's words.
pub async fn copy_image(
    session: &mut Session,
    os: Os,
    request: &CopyRequest,
) -> Result<CopyOutcome, DriverError> {
    let _ = (session, os, request);
    Err(unbuilt("copy_image"))
}

/// Copies an image onto several stack members: pulled once from the URL
/// into the first member's file system (`flash1:`), then copied inside the
/// stack (`copy flash1:x flash2:x`), each verified; `file_systems` are the
/// members' (`flash1:`, `flash2:`…), `request.destination` names the file.
pub async fn copy_image_to_members(
    session: &mut Session,
    os: Os,
    request: &CopyRequest,
    file_systems: &[String],
) -> Result<Vec<(String, CopyOutcome)>, DriverError> {
    let _ = (session, os, request, file_systems);
    Err(unbuilt("copy_image_to_members"))
}

/// Sets the boot variable (IOS, IOS-XE): `no boot system`, `boot system
/// <entry>` each (`boot system switch all` on a stack), `write memory`, then
/// checks `show boot` states it.
pub async fn set_boot(
    session: &mut Session,
    os: Os,
    entries: &[String],
) -> Result<BootChange, DriverError> {
    let _ = (session, os, entries);
    Err(unbuilt("set_boot"))
}

/// Puts a boot variable back (the `previous` of a [`BootChange`]).
pub async fn restore_boot(
    session: &mut Session,
    os: Os,
    previous: &[String],
) -> Result<BootChange, DriverError> {
    set_boot(session, os, previous).await
}

/// Reloads the device, answering the save and confirm questions; returns
/// once the device dropped the session.
pub async fn reload(session: &mut Session, os: Os) -> Result<(), DriverError> {
    let _ = (session, os);
    Err(unbuilt("reload"))
}

/// Waits for a reloading device to answer SSH again (reconnect loop with
/// backoff) and collects its facts; [`DriverError::DeviceDidNotReturn`]
/// after `timeout`.
pub async fn wait_for_return(
    session: &mut Session,
    os: Os,
    timeout: Duration,
) -> Result<CollectedFacts, DriverError> {
    let _ = (session, os, timeout);
    Err(unbuilt("wait_for_return"))
}

/// [`reload`] then [`wait_for_return`].
pub async fn reload_and_wait(
    session: &mut Session,
    os: Os,
    timeout: Duration,
) -> Result<CollectedFacts, DriverError> {
    reload(session, os).await?;
    wait_for_return(session, os, timeout).await
}

/// Checks that the device runs `target_version` on every stack member and,
/// when `xe_mode` is given, boots in that IOS-XE mode.
pub fn validate(
    facts: &CollectedFacts,
    target_version: &str,
    xe_mode: Option<InstallMode>,
) -> Result<(), ValidationFailure> {
    let _ = (facts, target_version, xe_mode);
    Err(ValidationFailure {
        problems: vec!["not built yet".into()],
    })
}

/// IOS `archive download-sw <url>` with its long output read for the
/// outcome (success, or the device's error line as [`DriverError::Install`]).
pub async fn archive_download_sw(
    session: &mut Session,
    url: &str,
    options: &ArchiveOptions,
) -> Result<ArchiveOutcome, DriverError> {
    let _ = (session, url, options);
    Err(unbuilt("archive_download_sw"))
}

/// Stack members in `Version Mismatch` get the master's image by `archive
/// copy-sw /overwrite /destination-system N <master>` and are reloaded
/// (`reload slot N`); returns the members repaired.
pub async fn repair_stack_members(session: &mut Session) -> Result<Vec<u32>, DriverError> {
    let _ = session;
    Err(unbuilt("repair_stack_members"))
}

/// IOS-XE install mode: `install add file <path> activate commit
/// prompt-level none`; the device reloads when it succeeds.
pub async fn xe_install_add_activate_commit(
    session: &mut Session,
    path: &str,
    timeout: Duration,
) -> Result<XeInstallOutcome, DriverError> {
    let _ = (session, path, timeout);
    Err(unbuilt("xe_install_add_activate_commit"))
}

/// IOS-XE `install remove inactive`: deletes packages and bundles the
/// running software does not use.
pub async fn xe_install_remove_inactive(
    session: &mut Session,
) -> Result<XeInstallOutcome, DriverError> {
    let _ = session;
    Err(unbuilt("xe_install_remove_inactive"))
}

/// IOS-XR `install add source <source> <file>`; returns the install
/// operation id to activate.
pub async fn xr_install_add(
    session: &mut Session,
    source: &str,
    file: &str,
    timeout: Duration,
) -> Result<u32, DriverError> {
    let _ = (session, source, file, timeout);
    Err(unbuilt("xr_install_add"))
}

/// IOS-XR `install activate id N`; returns whether the device reloads now
/// (`false` when that software is already active).
pub async fn xr_install_activate(session: &mut Session, id: u32) -> Result<bool, DriverError> {
    let _ = (session, id);
    Err(unbuilt("xr_install_activate"))
}

/// IOS-XR `install commit`.
pub async fn xr_install_commit(session: &mut Session) -> Result<(), DriverError> {
    let _ = session;
    Err(unbuilt("xr_install_commit"))
}

/// IOS-XR `install rollback to committed`; returns whether the device
/// reloads now (`false` when the committed software is already active).
pub async fn xr_install_rollback_to_committed(session: &mut Session) -> Result<bool, DriverError> {
    let _ = session;
    Err(unbuilt("xr_install_rollback_to_committed"))
}

/// IOS-XR active, committed and inactive software.
pub async fn xr_install_state(session: &mut Session) -> Result<XrInstallState, DriverError> {
    let _ = session;
    Err(unbuilt("xr_install_state"))
}
