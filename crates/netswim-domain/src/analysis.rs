//! Upgrade analysis: device facts + image metadata + method → readiness.
//!
//! Pure: no I/O, no clock. For one device and one image the analysis answers
//! the questions a senior engineer asks before a maintenance window: is the
//! image for this box at all, is there enough RAM, does the image (with the
//! room the chosen method needs) fit on the flash of every stack member,
//! what could be deleted safely to make room, is it an upgrade or a
//! downgrade, and what else deserves a warning.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Os;
use crate::facts::{DeviceFacts, DirEntry, FileSystemSpace, InstallMode};
use crate::image::{ImageFormat, ImageMetadata, ImageType, parse_image_name};
use crate::version::{Version, VersionOrdering};

// ---------------------------------------------------------------------------
// Platform → model table
// ---------------------------------------------------------------------------

/// The device models an image platform designator runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlatformModels {
    /// Platform designator as it appears in image names (`c2960x`, `cat9k`), lowercase.
    pub platform: &'static str,
    /// Model patterns (case-insensitive; `*` matches any run of characters).
    pub models: &'static [&'static str],
}

/// Which image platform designators fit which device models.
///
/// Data, not code: to support a new family add a row. A platform missing
/// from this table is not an error: analysis treats the image as applicable
/// and warns that it cannot confirm the platform. Patterns are matched
/// against the model (`show version` / `show inventory` product id) in full,
/// case-insensitively, with `*` as the only wildcard.
pub const PLATFORM_MODELS: &[PlatformModels] = &[
    // Catalyst 2960 family (IOS).
    PlatformModels {
        platform: "c2960",
        models: &[
            "WS-C2960-*",
            "WS-C2960G-*",
            "WS-C2960TC-*",
            "WS-C2960PD-*",
            "WS-C2960+*",
        ],
    },
    PlatformModels {
        platform: "c2960x",
        models: &["WS-C2960X-*", "WS-C2960XR-*"],
    },
    PlatformModels {
        platform: "c2960s",
        models: &["WS-C2960S-*"],
    },
    PlatformModels {
        platform: "c2960l",
        models: &["WS-C2960L-*"],
    },
    PlatformModels {
        platform: "c2960cx",
        models: &["WS-C2960CX-*"],
    },
    PlatformModels {
        platform: "c2960c405",
        models: &["WS-C2960C-*", "WS-C2960CG-*", "WS-C2960CPD-*"],
    },
    PlatformModels {
        platform: "c2960c405ex",
        models: &["WS-C2960C-*", "WS-C2960CG-*", "WS-C2960CPD-*"],
    },
    // Catalyst 3560 / 3750 family (IOS). The 3750-X and 3560-X run the
    // `c3750e` images (the E and X series share the image train).
    PlatformModels {
        platform: "c3560",
        models: &["WS-C3560-*", "WS-C3560G-*", "WS-C3560V2-*"],
    },
    PlatformModels {
        platform: "c3560e",
        models: &["WS-C3560E-*", "WS-C3560X-*"],
    },
    PlatformModels {
        platform: "c3560cx",
        models: &["WS-C3560CX-*"],
    },
    PlatformModels {
        platform: "c3560c405ex",
        models: &["WS-C3560C-*", "WS-C3560CG-*", "WS-C3560CPD-*"],
    },
    PlatformModels {
        platform: "c3750",
        models: &["WS-C3750-*", "WS-C3750G-*", "WS-C3750V2-*"],
    },
    PlatformModels {
        platform: "c3750e",
        models: &["WS-C3750E-*", "WS-C3750X-*", "WS-C3560E-*", "WS-C3560X-*"],
    },
    // Catalyst 4500 (IOS-XE on Sup7/Sup8/Sup9, 4500-X).
    PlatformModels {
        platform: "cat4500e",
        models: &["WS-C45*", "WS-X45-SUP*"],
    },
    PlatformModels {
        platform: "cat4500es8",
        models: &["WS-C45*", "WS-X45-SUP*"],
    },
    // Catalyst 3650 / 3850 (IOS-XE 3.x and 16.x).
    PlatformModels {
        platform: "cat3k_caa",
        models: &["WS-C3850*", "WS-C3650*"],
    },
    // Catalyst 9000 (IOS-XE).
    PlatformModels {
        platform: "cat9k",
        models: &["C93*", "C94*", "C95*", "C96*"],
    },
    PlatformModels {
        platform: "cat9k_iosxe",
        models: &["C93*", "C94*", "C95*", "C96*"],
    },
    PlatformModels {
        platform: "cat9k_lite",
        models: &["C92*"],
    },
    PlatformModels {
        platform: "cat9k_lite_iosxe",
        models: &["C92*"],
    },
    PlatformModels {
        platform: "c9800",
        models: &["C9800-*"],
    },
    PlatformModels {
        platform: "c9800-40",
        models: &["C9800-40*"],
    },
    PlatformModels {
        platform: "c9800-80",
        models: &["C9800-80*"],
    },
    PlatformModels {
        platform: "c9800-l",
        models: &["C9800-L*"],
    },
    PlatformModels {
        platform: "c9800-cl",
        models: &["C9800-CL*"],
    },
    // ASR 1000 (IOS-XE): one image family for the whole chassis range, and
    // dedicated images for the fixed 1001-X / 1002-X.
    PlatformModels {
        platform: "asr1000",
        models: &["ASR10*"],
    },
    PlatformModels {
        platform: "asr1000rp1",
        models: &["ASR10*"],
    },
    PlatformModels {
        platform: "asr1000rp2",
        models: &["ASR10*"],
    },
    PlatformModels {
        platform: "asr1000rpx86",
        models: &["ASR10*"],
    },
    PlatformModels {
        platform: "asr1001x",
        models: &["ASR1001-X*"],
    },
    PlatformModels {
        platform: "asr1002x",
        models: &["ASR1002-X*"],
    },
    // ISR (IOS-XE).
    PlatformModels {
        platform: "isr4200",
        models: &["ISR42*"],
    },
    PlatformModels {
        platform: "isr4300",
        models: &["ISR43*"],
    },
    PlatformModels {
        platform: "isr4400",
        models: &["ISR44*"],
    },
    PlatformModels {
        platform: "c1100",
        models: &["C11*", "ISR11*"],
    },
    // IOS-XR.
    PlatformModels {
        platform: "asr9k",
        models: &["ASR-9*", "ASR9*"],
    },
    PlatformModels {
        platform: "ncs5500",
        models: &["NCS-55*", "NCS55*"],
    },
    PlatformModels {
        platform: "ncs540",
        models: &["N540*", "NCS-540*"],
    },
    // Access points (autonomous and lightweight images, AP bundles).
    PlatformModels {
        platform: "ap3g2",
        models: &[
            "AIR-*AP16*",
            "AIR-*AP26*",
            "AIR-*AP36*",
            "AIR-*AP17*",
            "AIR-*AP27*",
            "AIR-*AP37*",
        ],
    },
    PlatformModels {
        platform: "c3700",
        models: &["AIR-*AP17*", "AIR-*AP27*", "AIR-*AP37*"],
    },
    PlatformModels {
        platform: "ap3g1",
        models: &["AIR-*AP35*", "AIR-*AP1262*", "AIR-*AP1042*", "AIR-*AP1142*"],
    },
    PlatformModels {
        platform: "ap3g3",
        models: &["AIR-*AP28*", "AIR-*AP38*", "AIR-*AP48*", "AIR-*AP1560*"],
    },
    PlatformModels {
        platform: "ap1g4",
        models: &["AIR-*AP18*"],
    },
    PlatformModels {
        platform: "ap1g5",
        models: &["AIR-*AP18*"],
    },
    PlatformModels {
        platform: "c1240",
        models: &["AIR-*AP124*"],
    },
    PlatformModels {
        platform: "c1140",
        models: &["AIR-*AP114*"],
    },
    PlatformModels {
        platform: "c1250",
        models: &["AIR-*AP125*"],
    },
];

/// Whether an image platform designator fits a device model, per
/// [`PLATFORM_MODELS`]: `None` when the platform is not in the table.
pub fn platform_fits_model(platform: &str, model: &str) -> Option<bool> {
    let platform = platform.trim().to_ascii_lowercase();
    let row = PLATFORM_MODELS
        .iter()
        .find(|row| row.platform == platform)?;
    Some(
        row.models
            .iter()
            .any(|pattern| glob_matches(pattern, model.trim())),
    )
}

/// Case-insensitive match of `text` against `pattern`, where `*` matches any
/// run of characters (including none).
fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern = pattern.to_ascii_uppercase();
    let text = text.to_ascii_uppercase();
    let mut pieces = pattern.split('*');
    let first = pieces.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = pieces.collect();
    let Some((last, middle)) = pieces.split_last() else {
        // No `*` at all: the whole text must equal the pattern.
        return rest.is_empty();
    };
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

// ---------------------------------------------------------------------------
// Methods and the space they need
// ---------------------------------------------------------------------------

/// How the image gets onto the device, which decides how much flash it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Method {
    /// Plain copy of a `.bin` to each member's flash, then `boot system`:
    /// needs 1× the image size.
    Copy,
    /// IOS `archive download-sw [/overwrite]` of a `.tar`: the archive is
    /// streamed and extracted, so flash needs the extracted size
    /// (`total_image_file_size` from the archive's `info` file, else the tar
    /// size). Without `/overwrite` the running image stays until the new one
    /// is in place, so the new one must fit in today's free space; with
    /// `/overwrite` the old image directory is deleted first and its space
    /// counts as free.
    ArchiveDownloadSw { overwrite: bool },
    /// Manual: copy the `.tar` to flash, then `archive tar /xtract`: the tar
    /// and its extracted content coexist, so 2× the tar size.
    ArchiveTarExtract,
    /// IOS-XE `install add file … activate commit`: see
    /// [`INSTALL_MODE_FACTOR_TENTHS`] for the factor and why.
    InstallMode,
    /// IOS-XR `install add`: the `.iso` plus its extraction, 2×.
    XrInstall,
}

/// Flash needed by IOS-XE install mode, in tenths of the `.bin` size (25 = 2.5×).
///
/// Why 2.5×: `install add` keeps the `.bin` it was given (1×) and expands it
/// into the `.pkg` sub-packages plus `packages.conf`, which together are
/// about the size of the bundle again (1×); on top of that the installer
/// needs working room while it expands and provisions, and the previous
/// release's packages stay on flash (for rollback) until `install remove
/// inactive`. The extra 0.5× is a safety margin of this tool, not a vendor
/// figure: running short of flash half-way through an install is worse than
/// asking for a cleanup first.
pub const INSTALL_MODE_FACTOR_TENTHS: u64 = 25;

impl Method {
    /// Stable lowercase name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Method::Copy => "copy",
            Method::ArchiveDownloadSw { .. } => "archive_download_sw",
            Method::ArchiveTarExtract => "archive_tar_extract",
            Method::InstallMode => "install_mode",
            Method::XrInstall => "xr_install",
        }
    }

    /// Free flash (bytes) the new software needs on each target file system
    /// when nothing of it is there yet. For `archive download-sw /overwrite`
    /// the space of the old image, which the command deletes first, is
    /// credited by [`analyse`], not subtracted here (it is a device fact).
    pub fn required_bytes(&self, image: &ImageMetadata) -> u64 {
        let size = image.size_bytes;
        match self {
            Method::Copy => size,
            Method::ArchiveDownloadSw { .. } => image
                .archive
                .as_ref()
                .and_then(|archive| archive.total_image_file_size)
                .unwrap_or(size),
            Method::ArchiveTarExtract | Method::XrInstall => size.saturating_mul(2),
            Method::InstallMode => {
                let tenths = u128::from(size) * u128::from(INSTALL_MODE_FACTOR_TENTHS);
                u64::try_from(tenths.div_ceil(10)).unwrap_or(u64::MAX)
            }
        }
    }

    /// The part of [`Method::required_bytes`] that is the image file itself
    /// stored on flash: already done when the file is present. `archive
    /// download-sw` streams the archive and never stores it, hence 0.
    pub fn transfer_bytes(&self, image: &ImageMetadata) -> u64 {
        match self {
            Method::ArchiveDownloadSw { .. } => 0,
            _ => image.size_bytes,
        }
    }

    /// Whether the method extracts an IOS `.tar` into an image directory.
    fn extracts_ios_archive(&self) -> bool {
        matches!(
            self,
            Method::ArchiveDownloadSw { .. } | Method::ArchiveTarExtract
        )
    }

    /// Whether the device ends up booting a bundle (as opposed to `packages.conf`).
    fn boots_bundle(&self) -> bool {
        !matches!(self, Method::InstallMode | Method::XrInstall)
    }

    /// The usual method for an image of `os`: IOS-XR install for XR or an
    /// `.iso`, install mode for IOS-XE bundles and packages (Cisco's
    /// recommended mode), `archive download-sw` for IOS `.tar` archives, a
    /// plain copy for everything else.
    pub fn default_for(os: Os, image: &ImageMetadata) -> Method {
        let format = image.name.format;
        match (os, format) {
            (Os::Iosxr, _) | (_, ImageFormat::Iso) => Method::XrInstall,
            (Os::Iosxe, ImageFormat::Bin | ImageFormat::Pkg) => Method::InstallMode,
            (_, ImageFormat::Tar) => Method::ArchiveDownloadSw { overwrite: false },
            _ => Method::Copy,
        }
    }

    /// Like [`Method::default_for`], but keeps an IOS-XE device that boots a
    /// bundle in bundle mode (a plain copy), so no mode conversion happens
    /// unless asked for.
    pub fn default_for_device(device: &DeviceFacts, image: &ImageMetadata) -> Method {
        let method = Method::default_for(device.os, image);
        if method == Method::InstallMode
            && image.name.format == ImageFormat::Bin
            && device_install_mode(device) == Some(InstallMode::Bundle)
        {
            return Method::Copy;
        }
        method
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::ArchiveDownloadSw { overwrite: true } => {
                f.write_str("archive_download_sw /overwrite")
            }
            other => f.write_str(other.as_str()),
        }
    }
}

// ---------------------------------------------------------------------------
// Readiness report
// ---------------------------------------------------------------------------

/// Which way the version moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Upgrade,
    Downgrade,
    Same,
    /// Both versions known but of unrelated trains.
    Incomparable,
    /// A version is missing or unreadable.
    Unknown,
}

impl Direction {
    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
            Direction::Same => "same",
            Direction::Incomparable => "incomparable",
            Direction::Unknown => "unknown",
        }
    }
}

/// RAM needed by the image against RAM the device has.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RamCheck {
    pub required_bytes: Option<u64>,
    pub available_bytes: Option<u64>,
    /// `None` when either side is unknown.
    pub ok: Option<bool>,
}

/// Flash space on one target file system (one per stack member).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlashCheck {
    pub filesystem: String,
    pub member: Option<u32>,
    /// Free space the method needs here (0 when the image is already present).
    pub required_bytes: u64,
    pub free_bytes: u64,
    pub total_bytes: u64,
    /// What deleting the [`DeletableFile`]s of this file system would free.
    pub reclaimable_bytes: u64,
    /// Space the method frees by itself before writing (the old image
    /// directory with `archive download-sw /overwrite`).
    pub released_by_method_bytes: u64,
    /// The image file (or its extracted directory) is already here.
    pub image_present: bool,
    pub ok: bool,
    pub ok_after_cleanup: bool,
}

/// A file that may be deleted to make room: an inactive image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletableFile {
    pub filesystem: String,
    pub member: Option<u32>,
    /// Name as listed (a top-level file or image directory).
    pub name: String,
    pub is_dir: bool,
    /// Size in bytes (for a directory, the sum of its listed files), when known.
    pub size_bytes: Option<u64>,
}

/// Something the engineer should know; never blocks on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// The image platform is not in [`PLATFORM_MODELS`] or the model is unknown.
    CannotConfirmPlatform {
        platforms: Vec<String>,
        model: Option<String>,
    },
    /// The image is not valid for the device's platform.
    PlatformMismatch {
        platforms: Vec<String>,
        model: String,
    },
    /// The image is for another OS.
    OsMismatch {
        device_os: Os,
        image_os: Os,
    },
    DeviceRamUnknown,
    ImageRamRequirementUnknown,
    /// No space facts for a file system of this member (`None`: of the device).
    FlashUnknown {
        member: Option<u32>,
    },
    /// No `dir` listing: presence of the image and deletable files unknown.
    FlashListingUnknown {
        filesystem: String,
        member: Option<u32>,
    },
    /// The old image's size is unknown, so `/overwrite` is credited nothing.
    OldImageSizeUnknown {
        filesystem: String,
        member: Option<u32>,
    },
    FeatureSetChange {
        from: String,
        to: String,
    },
    ApPlatformCodeChange {
        from: String,
        to: String,
    },
    Downgrade {
        from: String,
        to: String,
    },
    SameVersion {
        version: String,
    },
    VersionsIncomparable {
        from: String,
        to: String,
    },
    StackMemberVersionMismatch {
        member: u32,
    },
    /// The method converts an IOS-XE device between bundle and install mode.
    InstallModeConversion {
        from: InstallMode,
        to: InstallMode,
    },
    ImageAlreadyPresent {
        filesystem: String,
        member: Option<u32>,
    },
    /// A file of the image's name but another size is on flash: a partial
    /// or corrupt copy, which the transfer will overwrite.
    ImageSizeMismatchOnFlash {
        filesystem: String,
        member: Option<u32>,
        found_bytes: u64,
        expected_bytes: u64,
    },
}

fn mode_name(mode: InstallMode) -> &'static str {
    match mode {
        InstallMode::Bundle => "bundle",
        InstallMode::Install => "install",
    }
}

fn member_suffix(member: Option<u32>) -> String {
    member.map_or_else(String::new, |member| format!(" (member {member})"))
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::CannotConfirmPlatform { platforms, model } => write!(
                f,
                "cannot confirm platform: image for {} on model {}; check the release notes",
                list_or_unknown(platforms),
                model.as_deref().unwrap_or("unknown")
            ),
            Warning::PlatformMismatch { platforms, model } => write!(
                f,
                "image for {} is not valid for model {model}",
                list_or_unknown(platforms)
            ),
            Warning::OsMismatch {
                device_os,
                image_os,
            } => write!(f, "image is for {image_os} but the device runs {device_os}"),
            Warning::DeviceRamUnknown => {
                f.write_str("device RAM unknown: collect `show version` to check it")
            }
            Warning::ImageRamRequirementUnknown => f.write_str(
                "minimum RAM of the image unknown: set it on the image to have it checked",
            ),
            Warning::FlashUnknown { member } => write!(
                f,
                "flash space unknown{}: collect `dir` / `show file systems`",
                member_suffix(*member)
            ),
            Warning::FlashListingUnknown { filesystem, member } => write!(
                f,
                "no listing of {filesystem}{}: cannot see whether the image is there or what could be deleted",
                member_suffix(*member)
            ),
            Warning::OldImageSizeUnknown { filesystem, member } => write!(
                f,
                "size of the old image on {filesystem}{} unknown: /overwrite credited no space",
                member_suffix(*member)
            ),
            Warning::FeatureSetChange { from, to } => {
                write!(
                    f,
                    "feature set changes from {from} to {to}: check licences and features"
                )
            }
            Warning::ApPlatformCodeChange { from, to } => write!(
                f,
                "AP platform code changes from {from} to {to}: APs will not upgrade automatically from the controller's {from} bundle"
            ),
            Warning::Downgrade { from, to } => write!(f, "downgrade from {from} to {to}"),
            Warning::SameVersion { version } => {
                write!(f, "the device already runs version {version}")
            }
            Warning::VersionsIncomparable { from, to } => write!(
                f,
                "versions {from} and {to} are of different trains and cannot be ordered"
            ),
            Warning::StackMemberVersionMismatch { member } => write!(
                f,
                "stack member {member} is in Version Mismatch: repair it (archive copy-sw) before the upgrade"
            ),
            Warning::InstallModeConversion { from, to } => write!(
                f,
                "the device boots in {} mode and the method leaves it in {} mode: a mode conversion happens",
                mode_name(*from),
                mode_name(*to)
            ),
            Warning::ImageAlreadyPresent { filesystem, member } => write!(
                f,
                "the image is already on {filesystem}{}",
                member_suffix(*member)
            ),
            Warning::ImageSizeMismatchOnFlash {
                filesystem,
                member,
                found_bytes,
                expected_bytes,
            } => write!(
                f,
                "{filesystem}{} holds a file of the image's name with {found_bytes} bytes instead of {expected_bytes}: partial or corrupt copy",
                member_suffix(*member)
            ),
        }
    }
}

fn list_or_unknown(items: &[String]) -> String {
    if items.is_empty() {
        "an unknown platform".to_string()
    } else {
        items.join(", ")
    }
}

/// Why a device is not ready (or the image not applicable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Blocker {
    OsMismatch {
        device_os: Os,
        image_os: Os,
    },
    PlatformMismatch {
        platforms: Vec<String>,
        model: String,
    },
    RamTooSmall {
        required_bytes: u64,
        available_bytes: u64,
    },
    InsufficientFlash {
        filesystem: String,
        member: Option<u32>,
        required_bytes: u64,
        free_bytes: u64,
        ok_after_cleanup: bool,
    },
    FlashTooSmall {
        filesystem: String,
        member: Option<u32>,
        min_flash_bytes: u64,
        total_bytes: u64,
    },
    FlashUnknown {
        member: Option<u32>,
    },
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blocker::OsMismatch {
                device_os,
                image_os,
            } => write!(
                f,
                "not applicable: image is for {image_os}, the device runs {device_os}"
            ),
            Blocker::PlatformMismatch { platforms, model } => write!(
                f,
                "not applicable: image for {} does not run on {model}",
                list_or_unknown(platforms)
            ),
            Blocker::RamTooSmall {
                required_bytes,
                available_bytes,
            } => write!(
                f,
                "RAM too small: image needs {required_bytes} bytes, device has {available_bytes}"
            ),
            Blocker::InsufficientFlash {
                filesystem,
                member,
                required_bytes,
                free_bytes,
                ok_after_cleanup,
            } => write!(
                f,
                "not enough space on {filesystem}{}: needs {required_bytes} bytes, {free_bytes} free; {}",
                member_suffix(*member),
                if *ok_after_cleanup {
                    "deleting the inactive images listed would make room"
                } else {
                    "deleting inactive images would not be enough"
                }
            ),
            Blocker::FlashTooSmall {
                filesystem,
                member,
                min_flash_bytes,
                total_bytes,
            } => write!(
                f,
                "{filesystem}{} is too small: image needs a {min_flash_bytes}-byte flash, it has {total_bytes}",
                member_suffix(*member)
            ),
            Blocker::FlashUnknown { member } => write!(
                f,
                "flash space unknown{}: collect `dir` / `show file systems` first",
                member_suffix(*member)
            ),
        }
    }
}

/// The analysis of one image for one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Readiness {
    /// Device name.
    pub device: String,
    /// Image file name.
    pub image: String,
    pub method: Method,
    pub device_version: Option<String>,
    pub image_version: Option<String>,
    /// The image is for this OS and platform.
    pub applicable: bool,
    /// Applicable and every check passed: the upgrade can start as is.
    pub ready: bool,
    /// Ready once the [`Readiness::deletable`] files are deleted.
    pub ready_after_cleanup: bool,
    pub direction: Direction,
    pub ram: RamCheck,
    pub flash: Vec<FlashCheck>,
    pub deletable: Vec<DeletableFile>,
    pub warnings: Vec<Warning>,
    pub blockers: Vec<Blocker>,
}

impl Readiness {
    /// Stable lowercase outcome: `ready`, `not_ready` or `not_applicable`.
    pub fn status(&self) -> &'static str {
        if !self.applicable {
            "not_applicable"
        } else if self.ready {
            "ready"
        } else {
            "not_ready"
        }
    }

    /// One line per blocker, for reports.
    pub fn reasons(&self) -> Vec<String> {
        self.blockers.iter().map(ToString::to_string).collect()
    }
}

/// Counts over many readiness results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalysisSummary {
    pub ready: usize,
    pub not_ready: usize,
    pub not_applicable: usize,
}

impl AnalysisSummary {
    /// Counts `results`: each is exactly one of ready, not ready, not applicable.
    pub fn of(results: &[Readiness]) -> AnalysisSummary {
        let mut summary = AnalysisSummary::default();
        for result in results {
            match result.status() {
                "ready" => summary.ready += 1,
                "not_ready" => summary.not_ready += 1,
                _ => summary.not_applicable += 1,
            }
        }
        summary
    }
}

// ---------------------------------------------------------------------------
// Analysis
// ---------------------------------------------------------------------------

/// Analyses every device for `image` with `method`.
pub fn analyse_many(
    devices: &[DeviceFacts],
    image: &ImageMetadata,
    method: Method,
) -> Vec<Readiness> {
    devices
        .iter()
        .map(|device| analyse(device, image, method))
        .collect()
}

/// Analyses one device for `image` installed with `method`.
pub fn analyse(device: &DeviceFacts, image: &ImageMetadata, method: Method) -> Readiness {
    let mut warnings = Vec::new();
    let mut blockers = Vec::new();

    check_applicability(device, image, &mut warnings, &mut blockers);
    let applicable = blockers.is_empty();

    let ram = check_ram(device, image, &mut warnings, &mut blockers);

    let protected = ProtectedNames::new(device, image);
    let (flash, deletable) = check_flash(
        device,
        image,
        method,
        &protected,
        &mut warnings,
        &mut blockers,
    );

    let device_version = device.version.clone();
    let image_version = image.name.version.clone();
    let direction = direction_of(device, image);
    match (direction, &device_version, &image_version) {
        (Direction::Downgrade, Some(from), Some(to)) => warnings.push(Warning::Downgrade {
            from: from.clone(),
            to: to.clone(),
        }),
        (Direction::Same, Some(version), _) => warnings.push(Warning::SameVersion {
            version: version.clone(),
        }),
        (Direction::Incomparable, Some(from), Some(to)) => {
            warnings.push(Warning::VersionsIncomparable {
                from: from.clone(),
                to: to.clone(),
            })
        }
        _ => {}
    }

    check_feature_set(device, image, &mut warnings);
    check_ap_platform_code(device, image, &mut warnings);

    for member in &device.stack_members {
        // `Version Mismatch` / `V-Mismatch`, not `Lic-Mismatch` (a licence level).
        let mismatch = member.state.as_deref().is_some_and(|state| {
            let state = state.trim().to_ascii_lowercase().replace(['-', '_'], " ");
            state.contains("version mismatch") || state.starts_with("v mismatch")
        });
        if mismatch {
            warnings.push(Warning::StackMemberVersionMismatch {
                member: member.member,
            });
        }
    }

    if device.os == Os::Iosxe {
        let target = if method.boots_bundle() {
            InstallMode::Bundle
        } else {
            InstallMode::Install
        };
        if let Some(current) = device_install_mode(device)
            && current != target
        {
            warnings.push(Warning::InstallModeConversion {
                from: current,
                to: target,
            });
        }
    }

    let ready = applicable && blockers.is_empty();
    let ready_after_cleanup = applicable
        && blockers.iter().all(|blocker| {
            matches!(
                blocker,
                Blocker::InsufficientFlash {
                    ok_after_cleanup: true,
                    ..
                }
            )
        });

    Readiness {
        device: device.name.clone(),
        image: image.name.file_name.clone(),
        method,
        device_version,
        image_version,
        applicable,
        ready,
        ready_after_cleanup,
        direction,
        ram,
        flash,
        deletable,
        warnings,
        blockers,
    }
}

/// The OSes an image of `image_os` may be installed on from `device_os`:
/// the same OS, or an AP converted between autonomous IOS and lightweight.
fn os_compatible(device_os: Os, image_os: Os) -> bool {
    device_os == image_os
        || matches!(
            (device_os, image_os),
            (Os::Ios, Os::Cheetah) | (Os::Cheetah, Os::Ios)
        )
}

fn check_applicability(
    device: &DeviceFacts,
    image: &ImageMetadata,
    warnings: &mut Vec<Warning>,
    blockers: &mut Vec<Blocker>,
) {
    if let Some(image_os) = image.name.os
        && !os_compatible(device.os, image_os)
    {
        warnings.push(Warning::OsMismatch {
            device_os: device.os,
            image_os,
        });
        blockers.push(Blocker::OsMismatch {
            device_os: device.os,
            image_os,
        });
        return;
    }

    let mut platforms: Vec<String> = Vec::new();
    for platform in image.name.platform.iter().chain(&image.supported_platforms) {
        let platform = platform.trim().to_string();
        if !platform.is_empty() && !platforms.iter().any(|p| p.eq_ignore_ascii_case(&platform)) {
            platforms.push(platform);
        }
    }

    let Some(model) = device
        .model
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    else {
        warnings.push(Warning::CannotConfirmPlatform {
            platforms,
            model: None,
        });
        return;
    };

    let mut known_and_wrong = false;
    for platform in &platforms {
        match platform_fits_model(platform, model) {
            Some(true) => return,
            Some(false) => known_and_wrong = true,
            // Not in the table: a platform that names the model itself
            // (an `info` file's `C2960X`) still confirms it.
            None => {
                if model_names_platform(model, platform) {
                    return;
                }
            }
        }
    }
    if known_and_wrong {
        warnings.push(Warning::PlatformMismatch {
            platforms: platforms.clone(),
            model: model.to_string(),
        });
        blockers.push(Blocker::PlatformMismatch {
            platforms,
            model: model.to_string(),
        });
    } else {
        warnings.push(Warning::CannotConfirmPlatform {
            platforms,
            model: Some(model.to_string()),
        });
    }
}

/// Whether `model` is of the family `platform` names directly (`C2960X` in
/// `WS-C2960X-48FPD-L`): the platform is the model's family part, up to a
/// separator.
fn model_names_platform(model: &str, platform: &str) -> bool {
    let platform = platform.to_ascii_uppercase();
    if platform.len() < 3 {
        return false;
    }
    let model = model.to_ascii_uppercase();
    let model = model.strip_prefix("WS-").unwrap_or(&model);
    model
        .strip_prefix(platform.as_str())
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['-', '/', '+']))
}

fn check_ram(
    device: &DeviceFacts,
    image: &ImageMetadata,
    warnings: &mut Vec<Warning>,
    blockers: &mut Vec<Blocker>,
) -> RamCheck {
    let required_bytes = image.min_ram_bytes.or_else(|| {
        image
            .archive
            .as_ref()
            .and_then(|archive| archive.min_dram_mb)
            .map(|megabytes| megabytes.saturating_mul(1024 * 1024))
    });
    let available_bytes = device.ram_bytes;
    if available_bytes.is_none() {
        warnings.push(Warning::DeviceRamUnknown);
    }
    if required_bytes.is_none() {
        warnings.push(Warning::ImageRamRequirementUnknown);
    }
    let ok = match (required_bytes, available_bytes) {
        (Some(required), Some(available)) => {
            if available < required {
                blockers.push(Blocker::RamTooSmall {
                    required_bytes: required,
                    available_bytes: available,
                });
            }
            Some(available >= required)
        }
        _ => None,
    };
    RamCheck {
        required_bytes,
        available_bytes,
        ok,
    }
}

fn direction_of(device: &DeviceFacts, image: &ImageMetadata) -> Direction {
    let (Some(current), Some(target)) = (device.version.as_deref(), image.name.version.as_deref())
    else {
        return Direction::Unknown;
    };
    let image_os = image.name.os.unwrap_or(device.os);
    let (Ok(current), Ok(target)) = (
        Version::parse(device.os, current),
        Version::parse(image_os, target),
    ) else {
        return Direction::Unknown;
    };
    match current.compare(&target) {
        VersionOrdering::Less => Direction::Upgrade,
        VersionOrdering::Greater => Direction::Downgrade,
        VersionOrdering::Equal => Direction::Same,
        VersionOrdering::Incomparable => Direction::Incomparable,
    }
}

// ---------------------------------------------------------------------------
// Image-name helpers: the full decoder first, the name's shape as fallback
// ---------------------------------------------------------------------------

/// The file name of a path (`flash:/dir/x.bin` → `x.bin`).
fn base_name(path: &str) -> &str {
    let after_device = path.rsplit_once(':').map_or(path, |(_, rest)| rest);
    after_device
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(after_device)
}

/// The `-`-separated parts of a Cisco image name before the first `.`
/// (`c2960x-universalk9-mz.152-4.E10.bin` → `c2960x`, `universalk9`, `mz`).
fn cisco_name_parts(file_name: &str) -> Vec<String> {
    let stem = base_name(file_name).split('.').next().unwrap_or("");
    stem.split('-')
        .map(|part| part.trim().to_ascii_lowercase())
        .collect()
}

/// Image-format markers that sit where a feature set could be (`-mz`, `-tar`).
fn is_format_marker(part: &str) -> bool {
    matches!(part, "mz" | "mx" | "mzx" | "tar" | "bin" | "x" | "px")
}

/// The feature set a Cisco image name carries (`universalk9`, `lanbasek9`,
/// `k9w7`), when the name has one: from the full decoder, else (a running
/// image without extension, `ap3g2-k9w7-mx.153-3.JA1`) from the name's shape.
fn feature_set_of_file(file_name: &str) -> Option<String> {
    if let Ok(decoded) = parse_image_name(file_name) {
        return decoded
            .feature_set
            .map(|feature| feature.to_ascii_lowercase());
    }
    let parts = cisco_name_parts(file_name);
    let feature = parts.get(1)?;
    let plain = !feature.is_empty()
        && feature
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !is_format_marker(feature);
    plain.then(|| feature.clone())
}

/// The platform designator of a Cisco image name (`ap3g2` in `ap3g2-k9w8-mx.153-3.JA1`).
fn platform_of_file(file_name: &str) -> Option<String> {
    if let Ok(decoded) = parse_image_name(file_name) {
        return decoded
            .platform
            .map(|platform| platform.to_ascii_lowercase());
    }
    let parts = cisco_name_parts(file_name);
    if parts.len() < 2 {
        return None;
    }
    let platform = parts.first()?;
    let plain = !platform.is_empty()
        && platform
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    plain.then(|| platform.clone())
}

fn is_cisco(os: Os) -> bool {
    matches!(os, Os::Ios | Os::Iosxe | Os::Iosxr | Os::Cheetah)
}

fn check_feature_set(device: &DeviceFacts, image: &ImageMetadata, warnings: &mut Vec<Warning>) {
    if !is_cisco(device.os) {
        return;
    }
    let current = device.feature_set.clone().or_else(|| {
        device
            .running_image
            .as_deref()
            .and_then(feature_set_of_file)
    });
    let target = image
        .name
        .feature_set
        .clone()
        .or_else(|| feature_set_of_file(&image.name.file_name));
    if let (Some(from), Some(to)) = (current, target)
        && !from.eq_ignore_ascii_case(&to)
    {
        warnings.push(Warning::FeatureSetChange { from, to });
    }
}

fn is_ap_image(image: &ImageMetadata) -> bool {
    if image.name.image_type == ImageType::ApImage {
        return true;
    }
    // Until every image is decoded: AP image names carry a `k9w7` /
    // `k9w8` (autonomous / lightweight) feature set.
    image
        .name
        .feature_set
        .clone()
        .or_else(|| feature_set_of_file(&image.name.file_name))
        .is_some_and(|feature| feature.starts_with("k9w"))
}

fn check_ap_platform_code(
    device: &DeviceFacts,
    image: &ImageMetadata,
    warnings: &mut Vec<Warning>,
) {
    if !is_ap_image(image) {
        return;
    }
    let current = device
        .ap_platform_code
        .clone()
        .or_else(|| device.running_image.as_deref().and_then(platform_of_file));
    let target = image
        .name
        .platform
        .clone()
        .or_else(|| platform_of_file(&image.name.file_name));
    if let (Some(from), Some(to)) = (current, target)
        && !from.eq_ignore_ascii_case(&to)
    {
        warnings.push(Warning::ApPlatformCodeChange { from, to });
    }
}

/// How the device boots: as stated, else from its running image.
fn device_install_mode(device: &DeviceFacts) -> Option<InstallMode> {
    if device.install_mode.is_some() {
        return device.install_mode;
    }
    let running = base_name(device.running_image.as_deref()?).to_ascii_lowercase();
    if running.ends_with(".conf") {
        Some(InstallMode::Install)
    } else if running.ends_with(".bin") {
        Some(InstallMode::Bundle)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------
// Flash
// ---------------------------------------------------------------------------

/// Names on flash that must never be offered for deletion.
#[derive(Debug)]
struct ProtectedNames {
    /// Relative paths (lowercase, no device prefix, no leading `/`) and every
    /// leading directory of them: running image, boot images, the new image.
    paths: Vec<String>,
    /// The device boots `packages.conf`: its `.pkg` files are in use.
    install_mode: bool,
    bundle_mode: bool,
}

impl ProtectedNames {
    fn new(device: &DeviceFacts, image: &ImageMetadata) -> ProtectedNames {
        let mut paths = Vec::new();
        let mut add = |path: &str| {
            let relative = path
                .split_once(':')
                .map_or(path, |(_, rest)| rest)
                .trim()
                .trim_start_matches('/')
                .to_ascii_lowercase();
            if relative.is_empty() {
                return;
            }
            let mut prefix = String::new();
            for component in relative.split('/').filter(|c| !c.is_empty()) {
                if !prefix.is_empty() {
                    prefix.push('/');
                }
                prefix.push_str(component);
                paths.push(prefix.clone());
            }
        };
        if let Some(running) = &device.running_image {
            add(running);
        }
        for entry in &device.boot_path {
            for path in entry.split([';', ',']) {
                add(path);
            }
        }
        add(&image.name.file_name);
        // The new release in its other forms, should they already be there:
        // the directory the archive extracts to and the bare `.bin` (the
        // file name without extension, `-tar.` read as `-mz.`).
        if let Some((stem, _)) = base_name(&image.name.file_name).rsplit_once('.') {
            add(stem);
            let extracted = stem.replace("-tar.", "-mz.");
            add(&format!("{extracted}.bin"));
            add(&extracted);
        }
        if let Some(directory) = image
            .archive
            .as_ref()
            .and_then(|a| a.image_directory.as_deref())
        {
            add(directory);
        }
        // Only IOS-XE has `.pkg` sub-packages that bundle mode leaves unused.
        let mode = if device.os == Os::Iosxe {
            device_install_mode(device)
        } else {
            None
        };
        ProtectedNames {
            paths,
            install_mode: mode == Some(InstallMode::Install),
            bundle_mode: mode == Some(InstallMode::Bundle),
        }
    }

    fn protects(&self, name: &str) -> bool {
        let name = name.trim_start_matches('/').to_ascii_lowercase();
        self.paths.contains(&name) || is_config_file(&name)
    }
}

/// Configuration and system files that are never deletable.
fn is_config_file(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    const NAMES: &[&str] = &[
        "config.text",
        "private-config.text",
        "vlan.dat",
        "startup-config",
        "private-config",
        "multiple-fs",
        "env_vars",
        "system_env_vars",
        "info",
        "info.ver",
        "express_setup.debug",
    ];
    NAMES.contains(&name.as_str())
        || name.ends_with(".cfg")
        || name.ends_with(".conf")
        || name.starts_with("nvram")
}

/// A directory an IOS `.tar` was extracted into: `<platform>-<feature>-m<x>.<version>`.
fn looks_like_image_directory(name: &str) -> bool {
    let parts = cisco_name_parts(name);
    parts.len() >= 3
        && parts
            .last()
            .is_some_and(|marker| matches!(marker.as_str(), "mz" | "mx" | "mzx"))
        && name.contains('.')
}

/// A listing date as (year, month, day, hour, minute, second): sorts in time order.
type ListingDate = (u32, u32, u32, u32, u32, u32);

/// Sortable date of a listing entry, from the details the `dir` parser keeps
/// (`date_time` as printed first: it has the time of day; `date` has not).
fn entry_date(entry: &DirEntry) -> Option<ListingDate> {
    ["date_time", "date", "last_modified", "timestamp"]
        .iter()
        .filter_map(|key| entry.details.get(*key)?.as_text())
        .find_map(parse_listing_date)
}

/// Reads the dates `dir` prints on every OS (`Mar 1 1993 00:07:21 +00:00`,
/// `Sep 24 10:09:05 2021`, `2023-03-30 10:12:34`) into (year, month, day,
/// hour, minute, second).
fn parse_listing_date(text: &str) -> Option<ListingDate> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let (mut year, mut month, mut day) = (None, None, None);
    let mut time = (0, 0, 0);
    for token in text.split([' ', 'T', ',']).filter(|t| !t.is_empty()) {
        let lower = token.to_ascii_lowercase();
        if let Some(index) = MONTHS.iter().position(|m| lower.starts_with(m)) {
            month = u32::try_from(index + 1).ok();
        } else if token.contains('-') && token.len() >= 8 && !token.starts_with(['+', '-']) {
            let mut fields = token.split('-').map(|f| f.parse::<u32>().ok());
            if let (Some(Some(y)), Some(Some(m)), Some(Some(d))) =
                (fields.next(), fields.next(), fields.next())
            {
                (year, month, day) = (Some(y), Some(m), Some(d));
            }
        } else if token.contains(':') && !token.starts_with(['+', '-']) {
            let mut fields = token.split(':').map(|f| {
                f.split('.')
                    .next()
                    .and_then(|whole| whole.parse::<u32>().ok())
            });
            time = (
                fields.next().flatten().unwrap_or(0),
                fields.next().flatten().unwrap_or(0),
                fields.next().flatten().unwrap_or(0),
            );
        } else if let Ok(number) = token.parse::<u32>() {
            if token.len() == 4 {
                year = Some(number);
            } else if day.is_none() && (1..=31).contains(&number) {
                day = Some(number);
            }
        }
    }
    Some((year?, month?, day?, time.0, time.1, time.2))
}

/// A file system's base name and the stack member its name carries
/// (`flash2:` → (`flash`, 2), `flash-1:` → (`flash`, 1), `bootflash:` → (`bootflash`, none)).
fn split_filesystem_name(name: &str) -> (String, Option<u32>) {
    let lower = name.trim().trim_end_matches(':').to_ascii_lowercase();
    if lower.starts_with("flash") || lower.starts_with("bootflash") {
        let base = lower.trim_end_matches(|c: char| c.is_ascii_digit());
        let digits = &lower[base.len()..];
        let base = base.trim_end_matches('-');
        (base.to_string(), digits.parse().ok())
    } else {
        (lower, None)
    }
}

/// File systems images go to, best first, per OS.
fn preferred_filesystems(os: Os) -> &'static [&'static str] {
    match os {
        Os::Iosxr => &["harddisk", "disk0", "bootflash", "flash"],
        Os::Iosxe | Os::Nxos => &["bootflash", "flash"],
        _ => &["flash", "bootflash", "disk0", "harddisk"],
    }
}

/// One file system the image goes to.
#[derive(Debug)]
struct Target<'a> {
    space: &'a FileSystemSpace,
    member: Option<u32>,
}

/// The target file systems: one per stack member (or one for a standalone
/// device), plus the members whose flash is unknown.
fn target_filesystems(device: &DeviceFacts) -> (Vec<Target<'_>>, Vec<Option<u32>>) {
    let preferences = preferred_filesystems(device.os);
    let rank = |space: &FileSystemSpace| {
        let (base, _) = split_filesystem_name(&space.name);
        preferences.iter().position(|p| *p == base)
    };
    let candidates: Vec<(usize, Option<u32>, &FileSystemSpace)> = device
        .filesystems
        .iter()
        .filter_map(|space| {
            let rank = rank(space)?;
            let member = space
                .member
                .or_else(|| split_filesystem_name(&space.name).1);
            Some((rank, member, space))
        })
        .collect();

    // Members physically present (a provisioned member has no flash).
    let present_members: Vec<u32> = device
        .stack_members
        .iter()
        .filter(|member| {
            !member.state.as_deref().is_some_and(|state| {
                let state = state.to_ascii_lowercase();
                state.contains("provisioned") || state.contains("removed")
            })
        })
        .map(|member| member.member)
        .collect();

    let mut targets = Vec::new();
    let mut unknown = Vec::new();
    let numbered = candidates.iter().any(|(_, member, _)| member.is_some());
    if numbered {
        let mut members: Vec<u32> = candidates.iter().filter_map(|(_, m, _)| *m).collect();
        members.extend(&present_members);
        members.sort_unstable();
        members.dedup();
        for member in members {
            let best = candidates
                .iter()
                .filter(|(_, m, _)| *m == Some(member))
                .min_by_key(|(rank, _, _)| *rank);
            match best {
                Some((_, _, space)) => targets.push(Target {
                    space,
                    member: Some(member),
                }),
                None => unknown.push(Some(member)),
            }
        }
    } else if let Some((_, _, space)) = candidates.iter().min_by_key(|(rank, _, _)| *rank) {
        // Unnumbered: the device's own flash (on a stack, the active member's).
        let active = device
            .stack_members
            .iter()
            .find(|member| {
                member.role.as_deref().is_some_and(|role| {
                    matches!(role.to_ascii_lowercase().as_str(), "active" | "master")
                })
            })
            .map(|member| member.member);
        let member = if present_members.len() > 1 {
            active
        } else {
            None
        };
        targets.push(Target { space, member });
        if present_members.len() > 1 {
            unknown.extend(
                present_members
                    .iter()
                    .filter(|m| Some(**m) != active)
                    .map(|m| Some(*m)),
            );
        }
    } else {
        unknown.push(None);
    }
    (targets, unknown)
}

/// Sum of the listed files under `directory/`.
fn directory_size(entries: &[DirEntry], directory: &str) -> Option<u64> {
    let prefix = format!("{}/", directory.trim_matches('/').to_ascii_lowercase());
    let sizes: Vec<u64> = entries
        .iter()
        .filter(|entry| !entry.is_dir)
        .filter(|entry| {
            entry
                .name
                .trim_start_matches('/')
                .to_ascii_lowercase()
                .starts_with(&prefix)
        })
        .filter_map(|entry| entry.size)
        .collect();
    (!sizes.is_empty()).then(|| sizes.iter().sum())
}

fn is_top_level(entry: &DirEntry) -> bool {
    !entry.name.trim_matches('/').contains('/')
}

fn check_flash(
    device: &DeviceFacts,
    image: &ImageMetadata,
    method: Method,
    protected: &ProtectedNames,
    warnings: &mut Vec<Warning>,
    blockers: &mut Vec<Blocker>,
) -> (Vec<FlashCheck>, Vec<DeletableFile>) {
    let (targets, unknown) = target_filesystems(device);
    for member in unknown {
        warnings.push(Warning::FlashUnknown { member });
        blockers.push(Blocker::FlashUnknown { member });
    }

    let full_requirement = method.required_bytes(image);
    let image_file = image.name.file_name.trim_start_matches('/');
    let image_directory = image
        .archive
        .as_ref()
        .and_then(|archive| archive.image_directory.as_deref())
        .map(|directory| directory.trim_matches('/'));
    let running_directory = device.running_image.as_deref().and_then(|running| {
        let relative = running
            .split_once(':')
            .map_or(running, |(_, rest)| rest)
            .trim_start_matches('/');
        relative
            .split_once('/')
            .map(|(directory, _)| directory.to_string())
    });

    let mut checks = Vec::new();
    let mut all_deletable = Vec::new();
    for target in targets {
        let space = target.space;
        let member = target.member;
        let filesystem = space.name.clone();
        let entries: &[DirEntry] = space
            .listing
            .as_ref()
            .map_or(&[], |listing| listing.entries.as_slice());
        if space.listing.is_none() {
            warnings.push(Warning::FlashListingUnknown {
                filesystem: filesystem.clone(),
                member,
            });
        }

        // Is the image (or what it extracts to) already here?
        let mut file_present = false;
        for entry in entries.iter().filter(|e| !e.is_dir && is_top_level(e)) {
            if entry.name.trim_start_matches('/') != image_file {
                continue;
            }
            match entry.size {
                Some(found) if found != image.size_bytes => {
                    warnings.push(Warning::ImageSizeMismatchOnFlash {
                        filesystem: filesystem.clone(),
                        member,
                        found_bytes: found,
                        expected_bytes: image.size_bytes,
                    })
                }
                _ => file_present = true,
            }
        }
        let directory_present = method.extracts_ios_archive()
            && image_directory.is_some_and(|directory| {
                entries
                    .iter()
                    .any(|e| e.is_dir && e.name.trim_matches('/') == directory)
            });
        let image_present = file_present || directory_present;
        if image_present {
            warnings.push(Warning::ImageAlreadyPresent {
                filesystem: filesystem.clone(),
                member,
            });
        }
        let required_bytes = if directory_present {
            0
        } else if file_present {
            full_requirement.saturating_sub(method.transfer_bytes(image))
        } else {
            full_requirement
        };

        // `/overwrite` deletes the old image directory before extracting.
        let mut released_by_method_bytes = 0;
        if method == (Method::ArchiveDownloadSw { overwrite: true }) && !directory_present {
            let old_size = running_directory
                .as_deref()
                .filter(|directory| {
                    entries.iter().any(|e| {
                        e.is_dir && e.name.trim_matches('/').eq_ignore_ascii_case(directory)
                    })
                })
                .and_then(|directory| directory_size(entries, directory));
            match old_size {
                Some(size) => released_by_method_bytes = size,
                None => warnings.push(Warning::OldImageSizeUnknown {
                    filesystem: filesystem.clone(),
                    member,
                }),
            }
        }

        // Inactive images that could go.
        let mut deletable: Vec<(Option<ListingDate>, DeletableFile)> = entries
            .iter()
            .filter(|entry| is_top_level(entry))
            .filter(|entry| !protected.protects(&entry.name))
            .filter(|entry| {
                let name = entry.name.trim_matches('/');
                let lower = name.to_ascii_lowercase();
                if entry.is_dir {
                    looks_like_image_directory(name)
                } else if lower.ends_with(".pkg") {
                    // In install mode `packages.conf` references them; in bundle
                    // mode they are leftovers of an earlier install.
                    protected.bundle_mode && !protected.install_mode
                } else {
                    lower.ends_with(".bin") || lower.ends_with(".tar")
                }
            })
            .map(|entry| {
                let name = entry.name.trim_matches('/').to_string();
                let size_bytes = if entry.is_dir {
                    directory_size(entries, &name)
                } else {
                    entry.size
                };
                (
                    entry_date(entry),
                    DeletableFile {
                        filesystem: filesystem.clone(),
                        member,
                        name,
                        is_dir: entry.is_dir,
                        size_bytes,
                    },
                )
            })
            .collect();
        // Oldest first; undated after the dated ones, by name.
        deletable.sort_by(|(date_a, a), (date_b, b)| {
            date_a
                .is_none()
                .cmp(&date_b.is_none())
                .then(date_a.cmp(date_b))
                .then(a.name.cmp(&b.name))
        });
        let reclaimable_bytes: u64 = deletable
            .iter()
            .filter_map(|(_, file)| file.size_bytes)
            .sum();

        let available = space.free_bytes.saturating_add(released_by_method_bytes);
        let mut ok = available >= required_bytes;
        let mut ok_after_cleanup = available.saturating_add(reclaimable_bytes) >= required_bytes;
        if !ok {
            blockers.push(Blocker::InsufficientFlash {
                filesystem: filesystem.clone(),
                member,
                required_bytes,
                free_bytes: space.free_bytes,
                ok_after_cleanup,
            });
        }
        if let Some(min_flash_bytes) = image.min_flash_bytes
            && space.total_bytes < min_flash_bytes
        {
            ok = false;
            ok_after_cleanup = false;
            blockers.push(Blocker::FlashTooSmall {
                filesystem: filesystem.clone(),
                member,
                min_flash_bytes,
                total_bytes: space.total_bytes,
            });
        }

        checks.push(FlashCheck {
            filesystem,
            member,
            required_bytes,
            free_bytes: space.free_bytes,
            total_bytes: space.total_bytes,
            reclaimable_bytes,
            released_by_method_bytes,
            image_present,
            ok,
            ok_after_cleanup,
        });
        all_deletable.extend(deletable.into_iter().map(|(_, file)| file));
    }
    (checks, all_deletable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_stars_anywhere_case_insensitively() {
        for (pattern, text, expected) in [
            ("WS-C2960X-*", "WS-C2960X-48FPD-L", true),
            ("WS-C2960X-*", "ws-c2960x-24pd-l", true),
            ("WS-C2960X-*", "WS-C2960XR-24PD-I", false),
            ("C93*", "C9300-48P", true),
            ("AIR-*AP37*", "AIR-CAP3702I-E-K9", true),
            ("AIR-*AP37*", "AIR-CAP2702I-E-K9", false),
            ("ASR1001-X*", "ASR1001-X", true),
            ("C9800-40", "C9800-40", true),
            ("C9800-40", "C9800-40-K9", false),
            ("A*B*A", "AB", false),
        ] {
            assert_eq!(glob_matches(pattern, text), expected, "{pattern} vs {text}");
        }
    }

    #[test]
    fn platform_table_maps_designators_to_models() {
        for (platform, model, expected) in [
            ("c2960x", "WS-C2960X-48FPD-L", Some(true)),
            ("c3750e", "WS-C3750X-24P", Some(true)),
            ("c3750e", "WS-C3560X-48P", Some(true)),
            ("c3750", "WS-C3750X-24P", Some(false)),
            ("cat9k", "C9300-24P", Some(true)),
            ("cat9k", "C9500-24Y4C", Some(true)),
            ("cat9k", "C9407R", Some(true)),
            ("cat9k", "C9200L-24P-4G", Some(false)),
            ("cat3k_caa", "WS-C3850-24P-S", Some(true)),
            ("cat3k_caa", "WS-C3650-48PD", Some(true)),
            ("asr1000rpx86", "ASR1002-HX", Some(true)),
            ("CAT9K", "c9300-48u", Some(true)),
            ("c9999", "WS-C2960X-48FPD-L", None),
        ] {
            assert_eq!(
                platform_fits_model(platform, model),
                expected,
                "{platform} on {model}"
            );
        }
    }

    #[test]
    fn every_platform_row_is_lowercase_and_unique() {
        for (index, row) in PLATFORM_MODELS.iter().enumerate() {
            assert_eq!(row.platform, row.platform.to_ascii_lowercase());
            assert!(!row.models.is_empty(), "{}", row.platform);
            assert!(
                PLATFORM_MODELS[index + 1..]
                    .iter()
                    .all(|other| other.platform != row.platform),
                "{} twice",
                row.platform
            );
        }
    }

    #[test]
    fn feature_set_and_platform_come_from_cisco_image_names() {
        for (name, feature, platform) in [
            (
                "flash:c2960x-universalk9-mz.152-4.E10.bin",
                Some("universalk9"),
                Some("c2960x"),
            ),
            (
                "flash:/c3750e-universalk9-mz.152-4.E10/c3750e-universalk9-mz.152-4.E10.bin",
                Some("universalk9"),
                Some("c3750e"),
            ),
            (
                "c2960x-lanbasek9-tar.152-7.E8.tar",
                Some("lanbasek9"),
                Some("c2960x"),
            ),
            (
                "cat3k_caa-universalk9.SPA.03.07.03.E.bin",
                Some("universalk9"),
                Some("cat3k_caa"),
            ),
            ("ap3g2-k9w8-mx.153-3.JA1", Some("k9w8"), Some("ap3g2")),
            ("cat9k_iosxe.17.09.04a.SPA.bin", None, Some("cat9k")),
            ("bootflash:packages.conf", None, None),
        ] {
            assert_eq!(feature_set_of_file(name).as_deref(), feature, "{name}");
            assert_eq!(platform_of_file(name).as_deref(), platform, "{name}");
        }
    }

    #[test]
    fn listing_dates_of_every_os_sort() {
        for (text, expected) in [
            ("Mar 1 1993 00:07:21 +00:00", Some((1993, 3, 1, 0, 7, 21))),
            (
                "Mar 30 2023 10:12:34 +00:00",
                Some((2023, 3, 30, 10, 12, 34)),
            ),
            ("Sep 24 10:09:05 2021", Some((2021, 9, 24, 10, 9, 5))),
            ("2023-03-30 10:12:34", Some((2023, 3, 30, 10, 12, 34))),
            (
                "Fri Jan 17 07:38:08.000 2020",
                Some((2020, 1, 17, 7, 38, 8)),
            ),
            ("yesterday", None),
            ("", None),
        ] {
            assert_eq!(parse_listing_date(text), expected, "{text}");
        }
    }

    #[test]
    fn filesystem_names_carry_stack_members() {
        for (name, base, member) in [
            ("flash:", "flash", None),
            ("flash2:", "flash", Some(2)),
            ("flash-1:", "flash", Some(1)),
            ("bootflash:", "bootflash", None),
            ("bootflash-3:", "bootflash", Some(3)),
            ("disk0:", "disk0", None),
            ("usbflash0:", "usbflash0", None),
        ] {
            assert_eq!(
                split_filesystem_name(name),
                (base.to_string(), member),
                "{name}"
            );
        }
    }

    #[test]
    fn image_directories_are_recognised_by_their_shape() {
        for (name, expected) in [
            ("c2960x-universalk9-mz.152-4.E10", true),
            ("c3750e-universalk9-mz.150-2.SE11", true),
            ("ap3g2-k9w7-mx.153-3.JA1", true),
            ("html", false),
            ("crashinfo", false),
            ("c2960x-universalk9-mz", false),
        ] {
            assert_eq!(looks_like_image_directory(name), expected, "{name}");
        }
    }
}
