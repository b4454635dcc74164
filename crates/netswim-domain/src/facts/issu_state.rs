//! Cisco IOS / IOS-XE `show issu state detail`.

use serde::{Deserialize, Serialize};

use super::Details;

/// ISSU state per slot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuState {
    pub slots: Vec<IssuSlotState>,
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}

/// The ISSU state of one slot / route processor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuSlotState {
    pub slot: String,
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}
