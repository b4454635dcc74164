//! Facts from `dir` and `show file systems`.

use serde::{Deserialize, Serialize};

use super::Details;

/// A directory listing of one file system (`dir flash1:`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirListing {
    /// File system or directory listed (`flash:`, `flash2:/`, `bootflash:`).
    pub filesystem: Option<String>,
    pub total_bytes: Option<u64>,
    pub free_bytes: Option<u64>,
    pub entries: Vec<DirEntry>,
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}

/// One file or directory of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirEntry {
    pub name: String,
    pub size: Option<u64>,
    pub is_dir: bool,
    /// Permissions, index, date and the like, as printed.
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}

/// `show file systems`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSystems {
    pub filesystems: Vec<FileSystemInfo>,
}

/// One row of `show file systems`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSystemInfo {
    /// Prefixes, e.g. `["flash:", "flash1:"]`; the first is the main name.
    pub prefixes: Vec<String>,
    /// `flash`, `disk`, `nvram`, `network`, `opaque`, ...
    pub fs_type: Option<String>,
    /// `rw`, `ro`, `wo`.
    pub flags: Option<String>,
    pub total_bytes: Option<u64>,
    pub free_bytes: Option<u64>,
    /// The default file system (marked `*`).
    pub is_default: bool,
    /// Further facts of the row (`bootable` for `#`, sizes as printed).
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}
