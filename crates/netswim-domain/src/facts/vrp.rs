//! Huawei VRP facts: `display startup`, `display patch-information`.

use serde::{Deserialize, Serialize};

use super::Details;

/// `display startup`: the current and the next-startup files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartupFacts {
    pub current: StartupSet,
    pub next: StartupSet,
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}

/// One column of `display startup`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartupSet {
    pub software: Option<String>,
    pub config: Option<String>,
    pub patch: Option<String>,
}

/// `display patch-information`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatchFacts {
    pub package_name: Option<String>,
    pub package_version: Option<String>,
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}
