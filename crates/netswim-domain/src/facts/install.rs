//! Facts from `show install summary|active` and their kin.

use serde::{Deserialize, Serialize};

use super::Details;

/// Installed software packages and their states.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallFacts {
    pub packages: Vec<InstallPackage>,
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}

/// One package.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallPackage {
    pub name: String,
    /// `active`, `committed`, `inactive`, `activated_uncommitted`, ... (lowercase, stable).
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}

/// IOS-XR `show install request`: the install operation running in the
/// background, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallRequest {
    /// The running operation's id; `None` when `No install operation in
    /// progress`.
    pub operation: Option<u32>,
    /// Who started it (`User admin, Op Id 8`).
    pub user: Option<String>,
    /// The command as typed, when the device prints it.
    pub command: Option<String>,
    /// How far it is (`The install add operation 9 is 40% complete`).
    pub percent: Option<u8>,
}

impl InstallRequest {
    /// Whether an install operation is still running.
    pub fn in_progress(&self) -> bool {
        self.operation.is_some() || self.percent.is_some()
    }
}

/// How an IOS-XR install operation ended, from `show install log N`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallOutcome {
    /// `Install operation N finished successfully` (or `completed successfully`).
    Succeeded,
    /// `Install operation N aborted` (or `failed`).
    Aborted,
    /// No end line yet.
    #[default]
    Unfinished,
}

/// IOS-XR `show install log N`: one install operation's outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallLog {
    pub operation: Option<u32>,
    pub outcome: InstallOutcome,
    /// Package names under `Packages added:`.
    pub packages_added: Vec<String>,
    /// The device's error lines (`ERROR! …`, `Error:    …`), stamps and
    /// prefixes removed.
    pub errors: Vec<String>,
}
