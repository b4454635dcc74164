//! The consolidated facts of one device, as upgrade analysis consumes them.

use serde::{Deserialize, Serialize};

use super::{DirListing, SwitchMember};
use crate::Os;

/// How an IOS-XE device boots: from a bundle `.bin` or from `packages.conf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InstallMode {
    Bundle,
    Install,
}

/// Capacity of one file system on one member.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSystemSpace {
    /// `flash:`, `flash2:`, `bootflash:`.
    pub name: String,
    /// Stack member holding it (`None` on a standalone device).
    pub member: Option<u32>,
    pub total_bytes: u64,
    pub free_bytes: u64,
    /// Files on it (from `dir`), when known.
    pub listing: Option<DirListing>,
}

/// Everything analysis needs to know about one device, gathered from several commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceFacts {
    pub name: String,
    pub os: Os,
    pub model: Option<String>,
    pub version: Option<String>,
    pub running_image: Option<String>,
    /// Boot variable entries in order.
    pub boot_path: Vec<String>,
    pub ram_bytes: Option<u64>,
    pub filesystems: Vec<FileSystemSpace>,
    pub stack_members: Vec<SwitchMember>,
    pub install_mode: Option<InstallMode>,
    /// Feature set the device runs (`universalk9`, `lanbasek9`), when a command
    /// states it; analysis otherwise derives it from the running image name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_set: Option<String>,
    /// AP platform code the access point runs (`ap3g2`, `c3700`), when known;
    /// analysis otherwise derives it from the running image name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ap_platform_code: Option<String>,
}
