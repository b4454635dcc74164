//! Facts from `show version` / `display version`.

use serde::{Deserialize, Serialize};

use super::Details;

/// What `show version` (or the vendor's equivalent) says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionFacts {
    /// Software version as the device prints it (`15.2(2)E7`, `17.09.04a`, `V200R024C00SPC500`).
    pub version: Option<String>,
    pub hostname: Option<String>,
    /// Chassis model / product id (`WS-C3750X-24P`, `C9300-24P`).
    pub model: Option<String>,
    /// Chassis (or first stack member's) serial number.
    pub serial: Option<String>,
    /// The running image file (`flash:c3750e-universalk9-mz.152-4.E10.bin`, `packages.conf`).
    pub running_image: Option<String>,
    pub config_register: Option<String>,
    /// ROM monitor / boot loader version.
    pub rommon: Option<String>,
    pub uptime_seconds: Option<u64>,
    /// Main memory in bytes.
    pub ram_bytes: Option<u64>,
    /// Stack members (or line cards / route processors) with their software.
    pub stack: Vec<StackMemberVersion>,
    /// Huawei VRP version line (`5.170`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vrp_version: Option<String>,
    /// Installed patch (Huawei `SPH001`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    /// Everything else the output states.
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}

/// One stack member's line of the `show version` switch table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackMemberVersion {
    pub member: u32,
    pub model: Option<String>,
    pub version: Option<String>,
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}
