//! Facts from `show boot` / `show bootvar` / `show boot system`.

use serde::{Deserialize, Serialize};

use super::Details;

/// Boot configuration, one entry per stack member (or one for a standalone device).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootFacts {
    pub entries: Vec<BootEntry>,
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}

/// The boot settings of one member / supervisor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootEntry {
    /// Stack member number (`None` on a standalone device).
    pub member: Option<u32>,
    /// Boot path list in order (`flash:c2960x-universalk9-mz.152-2.E7.bin`).
    pub boot_path: Vec<String>,
    pub config_file: Option<String>,
    pub auto_upgrade: Option<bool>,
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}
