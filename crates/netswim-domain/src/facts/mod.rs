//! Device facts: what command output says about a device, as typed values.
//!
//! Each parsed command yields one of these structs. Fields every consumer
//! relies on are typed; further facts an output states are kept in a
//! `details` map under stable snake_case names, so parsers can report all
//! they see without every consumer having to know every vendor's extras.

mod boot;
mod device;
mod filesystem;
mod install;
mod inventory;
mod issu;
mod issu_state;
mod stack;
mod version;
mod vrp;
mod wireless;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use boot::{BootEntry, BootFacts};
pub use device::{DeviceFacts, FileSystemSpace, InstallMode};
pub use filesystem::{DirEntry, DirListing, FileSystemInfo, FileSystems};
pub use install::{InstallFacts, InstallLog, InstallOutcome, InstallPackage, InstallRequest};
pub use inventory::{Inventory, InventoryItem};
pub use issu::{FtpServerFacts, FtpServerStatistics, IssuCriterion, IssuDetail, IssuSubCriterion};
pub use issu_state::{IssuSlotState, IssuState};
pub use stack::{StackFacts, SwitchMember};
pub use version::{StackMemberVersion, VersionFacts};
pub use vrp::{PatchFacts, StartupFacts, StartupSet};
pub use wireless::{ApBundle, ApBundles, ApImage, ApImages};

/// One extra fact: text, a list, or a nested map (a small JSON-like tree
/// that keeps this crate free of any wire format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Detail {
    Text(String),
    List(Vec<Detail>),
    Map(BTreeMap<String, Detail>),
}

/// Extra facts keyed by stable snake_case names.
pub type Details = BTreeMap<String, Detail>;

impl From<&str> for Detail {
    fn from(value: &str) -> Self {
        Detail::Text(value.to_string())
    }
}

impl From<String> for Detail {
    fn from(value: String) -> Self {
        Detail::Text(value)
    }
}

impl Detail {
    /// The text of a `Text` detail.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Detail::Text(text) => Some(text),
            _ => None,
        }
    }
}
