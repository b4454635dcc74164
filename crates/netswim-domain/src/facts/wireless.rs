//! Wireless facts: AP images on APs and AP bundles on controllers.

use serde::{Deserialize, Serialize};

use super::Details;

/// `show ap image all`: the images each AP holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApImages {
    pub aps: Vec<ApImage>,
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}

/// One AP's images.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApImage {
    pub name: String,
    pub primary: Option<String>,
    pub backup: Option<String>,
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}

/// `show ap bundle all`: AP image bundles a controller holds, per platform code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApBundles {
    pub bundles: Vec<ApBundle>,
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}

/// One AP bundle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApBundle {
    /// Platform code (`ap3g2`, `c3700`, `ap1g5`).
    pub platform_code: String,
    pub version: Option<String>,
    pub size_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}
