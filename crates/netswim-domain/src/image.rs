//! Vendor image file names decoded into platform, feature set, format,
//! version and type; image metadata as analysis consumes it.

use serde::{Deserialize, Serialize};

use crate::archive::IosArchive;
use crate::{DomainError, Os};

/// What kind of software an image is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageType {
    /// A full system image (bundle, `.bin`, `.tar`, `.iso`, `.cc`, `.tgz`).
    System,
    /// A patch / SMU / hot fix (`.pat`, XR SMU, IOS-XE SMU).
    Patch,
    /// An install-mode sub-package (`.pkg`).
    InstallPackage,
    /// An AP image or AP bundle.
    ApImage,
    /// A ROMMON / boot loader image.
    BootLoader,
    /// A recovery image (`-tar.default`).
    Recovery,
}

/// File format of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageFormat {
    /// Single executable image (`.bin`, IOS `-mz`).
    Bin,
    /// Tar archive (`.tar`, IOS `-tar`).
    Tar,
    /// Install package (`.pkg`).
    Pkg,
    /// ISO image (IOS-XR).
    Iso,
    /// Huawei system software `.cc`.
    Cc,
    /// Huawei patch `.pat`.
    Pat,
    /// Gzipped tar (Junos `.tgz`).
    Tgz,
    /// AireOS controller image `.aes`.
    Aes,
    /// Other / unknown.
    Other,
}

/// A decoded image file name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageName {
    pub file_name: String,
    pub os: Option<Os>,
    /// Platform designator (`c3750`, `cat3k_caa`, `asr1000rp1`, `cat9k`, `S5735`).
    pub platform: Option<String>,
    /// Feature set (`ipbasek9`, `universalk9`, `i5`).
    pub feature_set: Option<String>,
    pub format: ImageFormat,
    /// Version in the vendor's display form (`12.2(25)SEE1`, `03.07.03E`, `17.9.4a`).
    pub version: Option<String>,
    #[serde(rename = "type")]
    pub image_type: ImageType,
}

/// Decodes a vendor image file name. (Skeleton: replaced by the real decoder.)
pub fn parse_image_name(name: &str) -> Result<ImageName, DomainError> {
    Err(DomainError::UnrecognisedImageName {
        name: name.to_string(),
        reason: "image name decoding is not built yet".into(),
    })
}

/// What the repository knows of an image, as analysis consumes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageMetadata {
    pub name: ImageName,
    pub size_bytes: u64,
    /// Minimum RAM from the archive's `info` file or set by hand.
    pub min_ram_bytes: Option<u64>,
    /// Minimum flash, set by hand (vendors rarely state it in the image).
    pub min_flash_bytes: Option<u64>,
    /// Platforms the image supports (from the archive or the name).
    pub supported_platforms: Vec<String>,
    /// IOS `.tar` archive facts, when the image is one.
    pub archive: Option<IosArchive>,
}
