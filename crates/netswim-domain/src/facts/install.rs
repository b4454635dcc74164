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
