//! Inspection of Cisco IOS `.tar` image archives: the `info` file and the
//! image directory, with failures worded as the device words them.

use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// What an IOS `.tar` archive holds. (Skeleton: replaced by the real inspector.)
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IosArchive {
    pub image_directory: Option<String>,
    pub image_name: Option<String>,
    pub ios_image_file_size: Option<u64>,
    pub total_image_file_size: Option<u64>,
    pub min_dram_mb: Option<u64>,
}

/// Reads an IOS image archive from `reader`.
pub fn inspect_ios_tar<R: Read>(_reader: R) -> Result<IosArchive, DomainError> {
    Err(DomainError::Archive {
        message: "archive inspection is not built yet".into(),
    })
}
