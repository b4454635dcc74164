//! Facts from `show switch [detail]`.

use serde::{Deserialize, Serialize};

use super::Details;

/// A switch stack as `show switch` describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackFacts {
    pub members: Vec<SwitchMember>,
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}

/// One stack member.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwitchMember {
    pub member: u32,
    /// The role as printed (`Active`, `Standby`, `Member`, `Master`): compare
    /// case-insensitively, as IOS and IOS-XE releases differ in spelling.
    pub role: Option<String>,
    pub mac: Option<String>,
    pub priority: Option<u32>,
    /// `Ready`, `Version Mismatch`, `Provisioned`, ... as printed.
    pub state: Option<String>,
    /// Hardware or stack-protocol version as printed in the table.
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}
