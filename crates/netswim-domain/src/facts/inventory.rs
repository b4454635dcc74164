//! Facts from `show inventory`.

use serde::{Deserialize, Serialize};

use super::Details;

/// Hardware inventory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub items: Vec<InventoryItem>,
}

/// One `NAME:/DESCR:/PID:/VID:/SN:` block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryItem {
    pub name: String,
    pub description: Option<String>,
    pub pid: Option<String>,
    pub vid: Option<String>,
    pub serial: Option<String>,
    /// Any further `KEY: value` pair of the block, under its lower-cased key.
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}
