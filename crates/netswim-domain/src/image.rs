//! Vendor image file names decoded into platform, feature set, format,
//! version and type; image metadata as analysis consumes it.
//!
//! Each vendor names its images by a grammar (Cisco IOS
//! `platform-feature-format.version.ext`, IOS-XE `platform-feature.version.SPA.bin`,
//! Huawei `PLATFORM-VxxxRxxxCxxSPCxxx.cc`, Junos `prefix-platform-version-flavour.tgz`,
//! ...). The decoders below follow those grammars token by token, so names of
//! platforms and releases that are not in the tests decode the same way.

use serde::{Deserialize, Serialize};

use crate::archive::IosArchive;
use crate::{DomainError, Os};

/// What kind of software an image is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageType {
    /// A full system image (bundle, `.bin`, `.tar`, `.iso`, `.cc`, `.tgz`).
    #[default]
    System,
    /// A patch / SMU / hot fix (`.pat`, XR SMU, IOS-XE SMU).
    Patch,
    /// An install-mode sub-package (`.pkg`).
    InstallPackage,
    /// An AP image or AP bundle.
    ApImage,
    /// A ROMMON / boot loader image (also NX-OS kickstart and EPLD images,
    /// which are loaded before, or beside, the system image).
    BootLoader,
    /// A recovery image (`-tar.default`).
    Recovery,
}

/// File format of an image.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// IOS-XR (32-bit) package or SMU `.pie`.
    Pie,
    /// IOS-XR (64-bit) package or SMU `.rpm`.
    Rpm,
    /// Other / unknown.
    #[default]
    Other,
}

/// A decoded image file name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageName {
    /// The bare file name (directories, `flash:` prefixes and URL parts removed).
    pub file_name: String,
    pub os: Option<Os>,
    /// Platform designator (`c3750`, `cat3k_caa`, `asr1000rp1`, `cat9k`, `S5735-S`).
    pub platform: Option<String>,
    /// Feature set (`ipbasek9`, `universalk9`, `i5`).
    pub feature_set: Option<String>,
    pub format: ImageFormat,
    /// Version in the vendor's display form (`12.2(25)SEE1`, `03.07.03E`, `17.09.04a`),
    /// readable by `Version::parse(os, ..)`.
    pub version: Option<String>,
    #[serde(rename = "type")]
    pub image_type: ImageType,
    /// Vendor of the OS (`cisco`, `huawei`, `juniper`).
    pub vendor: Option<String>,
    /// The version exactly as the file name spells it (`122-25.SEE1`, `r732`).
    pub raw_version: Option<String>,
    /// The IOS version paired with an IOS-XE 3.x release (`15.2(3)E3` for `03.07.03E`).
    pub paired_version: Option<String>,
    /// The name says the image is signed (`SPA`, Junos `-signed`).
    pub signed: bool,
    /// Patch identifier: SMU defect id (`CSCvx12345`), Huawei patch (`SPH001`),
    /// IOS-XR service pack (`sp1`).
    pub patch: Option<String>,
    /// Sub-package or component (`rpbase`, `kickstart`, `mini`, `mgbl`, `jinstall`).
    pub component: Option<String>,
    /// CPU architecture the name states (`px`, `x86-64`, `x86_64`).
    pub architecture: Option<String>,
    /// Build flavour (`std`, `ext`, `domestic`, `secure`).
    pub variant: Option<String>,
}

/// Decodes a vendor image file name. Paths, `flash:` style prefixes and URL
/// query strings are removed first, so `tftp://10.0.0.1/images/x.bin` and
/// `flash:/x.bin` decode like `x.bin`.
///
/// Huawei `.pat` patches name only the release they apply to
/// (`V200R022C00`), not the SPC they were built on: `version` is that
/// release, `patch` the `SPHnnn` part and `raw_version` the whole token.
pub fn parse_image_name(name: &str) -> Result<ImageName, DomainError> {
    let file = bare_file_name(name);
    let unrecognised = |reason: String| DomainError::UnrecognisedImageName {
        name: name.to_string(),
        reason,
    };
    if file.is_empty() {
        return Err(unrecognised(
            "the name is empty; expected a file name like c3750-ipbasek9-mz.122-25.SEE1.bin".into(),
        ));
    }
    if !file.is_ascii() || file.len() > 255 {
        return Err(unrecognised(
            "vendor image names are short ASCII names like c3750-ipbasek9-mz.122-25.SEE1.bin"
                .into(),
        ));
    }
    let lower = file.to_ascii_lowercase();
    let decoded = if lower.ends_with(".aes") {
        decode_aireos(file)
    } else if lower.ends_with(".cc") || lower.ends_with(".pat") {
        decode_vrp(file)
    } else if lower.ends_with(".tgz") || lower.ends_with(".tar.gz") {
        decode_junos(file)
    } else if lower.ends_with(".pkg") {
        decode_iosxe_package(file)
    } else if lower.ends_with(".rpm") {
        decode_iosxr_rpm(file)
    } else if lower.ends_with(".iso")
        || lower.ends_with(".pie")
        || lower.contains(".iso-")
        || lower.contains(".pie-")
    {
        decode_iosxr(file)
    } else if lower.ends_with(".default") {
        decode_ios_recovery(file)
    } else if lower.ends_with(".tar") {
        if lower.contains("iosxr") {
            decode_iosxr(file)
        } else {
            decode_ios_classic(file)
        }
    } else if lower.ends_with(".bin") || lower.ends_with(".img") {
        decode_nxos(file)
            .or_else(|| decode_ios_classic(file))
            .or_else(|| decode_iosxe(file))
    } else {
        None
    };
    match decoded {
        Some(mut image) => {
            image.file_name = file.to_string();
            image.vendor = image.os.map(|os| os.vendor().to_string());
            Ok(image)
        }
        None => Err(unrecognised(hint_for_extension(&lower))),
    }
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

impl ImageMetadata {
    /// Same as [`describe_image`].
    pub fn from_parts(file_name: &str, size_bytes: u64, archive: Option<IosArchive>) -> Self {
        describe_image(file_name, size_bytes, archive)
    }
}

/// Puts together what the file name, its size and (for IOS `.tar` images)
/// the archive's `info` file say. Minimum RAM comes from the archive's
/// `MIN_DRAM_MEG`; supported platforms from the name's platform and the
/// archive's image family; minimum flash is left for a human to set.
///
/// A file name that does not decode (a renamed `.tar`) still yields
/// metadata: the archive's own image name is decoded instead, and failing
/// that only the file name and format are kept.
pub fn describe_image(
    file_name: &str,
    size_bytes: u64,
    archive: Option<IosArchive>,
) -> ImageMetadata {
    let name = parse_image_name(file_name).unwrap_or_else(|_| {
        let from_archive = archive
            .as_ref()
            .and_then(|archive| archive.image_directory.as_deref())
            .and_then(|directory| parse_image_name(&format!("{directory}.tar")).ok());
        let bare = bare_file_name(file_name).to_string();
        match from_archive {
            Some(decoded) => ImageName {
                file_name: bare,
                ..decoded
            },
            None => ImageName {
                format: format_from_extension(&bare.to_ascii_lowercase()),
                file_name: bare,
                ..ImageName::default()
            },
        }
    });
    let min_ram_bytes = archive
        .as_ref()
        .and_then(|archive| archive.min_dram_mb)
        .and_then(|megabytes| megabytes.checked_mul(1024 * 1024));
    let mut supported_platforms: Vec<String> = Vec::new();
    let candidates = [
        name.platform.clone(),
        archive
            .as_ref()
            .and_then(|archive| archive.image_family.clone()),
    ];
    for platform in candidates.into_iter().flatten() {
        let known = supported_platforms
            .iter()
            .any(|existing| existing.eq_ignore_ascii_case(&platform));
        if !known && !platform.is_empty() {
            supported_platforms.push(platform);
        }
    }
    ImageMetadata {
        name,
        size_bytes,
        min_ram_bytes,
        min_flash_bytes: None,
        supported_platforms,
        archive,
    }
}

/// The file name part of a path or URL: `tftp://h/dir/x.bin?x=1` → `x.bin`,
/// `flash:x.bin` → `x.bin`, `bootflash:/a/x.bin` → `x.bin`.
pub fn bare_file_name(name: &str) -> &str {
    let name = name.trim();
    let name = name.split(['?', '#']).next().unwrap_or(name);
    let name = name.rsplit(['/', '\\']).next().unwrap_or(name);
    name.rsplit(':').next().unwrap_or(name).trim()
}

fn hint_for_extension(lower: &str) -> String {
    let expected = if lower.ends_with(".bin") {
        "expected a name like c3750-ipbasek9-mz.122-25.SEE1.bin (IOS), \
         cat9k_iosxe.17.09.04a.SPA.bin (IOS-XE) or nxos.9.3.8.bin (NX-OS)"
    } else if lower.ends_with(".tar") {
        "expected a name like c3750-i5-tar.122-20.SE.tar (IOS) or ASR9K-iosxr-px-k9-6.5.3.tar (IOS-XR)"
    } else if lower.ends_with(".pkg") {
        "expected an install package name like cat9k-rpbase.17.09.04a.SPA.pkg"
    } else if lower.ends_with(".iso")
        || lower.ends_with(".rpm")
        || lower.ends_with(".pie")
        || lower.contains(".iso-")
        || lower.contains(".pie-")
    {
        "expected an IOS-XR name like ncs5500-goldenk9-x-7.3.2.iso, asr9k-mini-px.iso-6.5.3 \
         or ncs5500-mgbl-3.0.0.0-r732.x86_64.rpm"
    } else if lower.ends_with(".cc") || lower.ends_with(".pat") {
        "expected a Huawei name like S5735-S-V200R022C00SPC500.cc or S5735-S-V200R022C00SPH001.pat"
    } else if lower.ends_with(".tgz") || lower.ends_with(".tar.gz") {
        "expected a Junos name like jinstall-ex-4200-18.4R3-S1-domestic-signed.tgz \
         or junos-install-mx-x86-64-21.4R3-S3.4.tgz"
    } else if lower.ends_with(".aes") {
        "expected an AireOS name like AIR-CT5520-K9-8-10-185-0.aes"
    } else if lower.ends_with(".default") {
        "expected an AP recovery name like c1240-k9w7-tar.default"
    } else {
        "unknown extension; expected a vendor image (.bin, .tar, .pkg, .iso, .rpm, .cc, .pat, \
         .tgz, .aes) named like c3750-ipbasek9-mz.122-25.SEE1.bin"
    };
    expected.to_string()
}

fn format_from_extension(lower: &str) -> ImageFormat {
    let table = [
        (".bin", ImageFormat::Bin),
        (".tar", ImageFormat::Tar),
        (".pkg", ImageFormat::Pkg),
        (".iso", ImageFormat::Iso),
        (".cc", ImageFormat::Cc),
        (".pat", ImageFormat::Pat),
        (".tgz", ImageFormat::Tgz),
        (".tar.gz", ImageFormat::Tgz),
        (".aes", ImageFormat::Aes),
        (".pie", ImageFormat::Pie),
        (".rpm", ImageFormat::Rpm),
    ];
    table
        .iter()
        .find(|(extension, _)| lower.ends_with(extension))
        .map_or(ImageFormat::Other, |(_, format)| *format)
}

// ---------------------------------------------------------------------------
// Small token helpers. Names are checked to be ASCII before decoding, so byte
// offsets are character offsets.

/// `s` without `suffix`, compared ASCII case-insensitively.
fn strip_suffix_ignore_case<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(suffix.len())?;
    let (head, tail) = (s.get(..cut)?, s.get(cut..)?);
    tail.eq_ignore_ascii_case(suffix).then_some(head)
}

/// `s` without `prefix`, compared ASCII case-insensitively.
fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// Splits at the first occurrence of `separator`, compared case-insensitively.
fn split_once_ignore_case<'a>(s: &'a str, separator: &str) -> Option<(&'a str, &'a str)> {
    let at = s
        .to_ascii_lowercase()
        .find(&separator.to_ascii_lowercase())?;
    Some((s.get(..at)?, s.get(at + separator.len()..)?))
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_alphanumeric(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn starts_with_digit(s: &str) -> bool {
    s.bytes().next().is_some_and(|b| b.is_ascii_digit())
}

fn starts_with_letter(s: &str) -> bool {
    s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
}

/// Characters allowed in platform / feature designators.
fn is_designator(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Digits followed by lowercase rebuild letters: `04`, `04a`, `2c`, `46a`.
fn is_number_with_rebuild(s: &str) -> bool {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && s.bytes().skip(digits).all(|b| b.is_ascii_lowercase())
}

/// A number with optional rebuild letters and an uppercase train: `03E`, `03aE`.
fn is_number_with_train(s: &str) -> bool {
    let train = s.bytes().rev().take_while(u8::is_ascii_uppercase).count();
    train > 0 && s.get(..s.len() - train).is_some_and(is_number_with_rebuild)
}

fn is_defect_id(token: &str) -> bool {
    strip_prefix_ignore_case(token, "CSC").is_some_and(is_alphanumeric)
}

fn some(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

// ---------------------------------------------------------------------------
// Cisco IOS (classic): `platform-feature-format.version.ext`.

/// IOS image format codes: `tar`, or run-location letter (`m` RAM, `f`
/// flash, `r` ROM, `l` relocatable) plus optional compression letter
/// (`z` zip, `x` mzip, `w` STAC).
fn is_ios_format_code(code: &str) -> bool {
    let code = code.to_ascii_lowercase();
    if code == "tar" {
        return true;
    }
    let mut bytes = code.bytes();
    let location = bytes.next();
    let compression = bytes.next();
    matches!(location, Some(b'm' | b'f' | b'r' | b'l'))
        && compression.is_none_or(|c| matches!(c, b'z' | b'x' | b'w'))
        && bytes.next().is_none()
}

/// `c3750e-ipbasek9-mz` → (`c3750e`, `ipbasek9`). The platform may itself
/// hold dashes; the feature set and format code are always the last two parts.
fn split_ios_head(head: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = head.split('-').collect();
    let (code, rest) = parts.split_last()?;
    let (feature, platform) = rest.split_last()?;
    if !is_ios_format_code(code) || platform.is_empty() || !is_designator(feature) {
        return None;
    }
    let platform = platform.join("-");
    is_designator(&platform).then(|| (platform, feature.to_string()))
}

/// A classic IOS version decoded from name tokens (`122-25` `SEE1`).
struct ClassicVersion {
    display: String,
    variant: Option<String>,
}

/// Decodes `["122-25", "SEE1"]` → `12.2(25)SEE1`, `["122-1", "5", "T"]` →
/// `12.2(1.5)T` (interim build), `["122-46a"]` → `12.2(46a)`, and a trailing
/// `-std` / `-ext` flavour into `variant`.
fn classic_ios_version(tokens: &[&str]) -> Option<ClassicVersion> {
    let (first, rest) = tokens.split_first()?;
    let (release, maintenance_start) = first.split_once('-')?;
    if !is_digits(release) || !(2..=4).contains(&release.len()) {
        return None;
    }
    let (major, minor) = release.split_at(release.len() - 1);
    if !starts_with_digit(maintenance_start) || !is_alphanumeric(maintenance_start) {
        return None;
    }
    let mut maintenance = maintenance_start.to_string();
    let mut remaining = rest;
    // Interim builds add dotted numbers to the maintenance number.
    if is_digits(maintenance_start) {
        while let Some((token, tail)) = remaining.split_first() {
            if !is_digits(token) {
                break;
            }
            maintenance.push('.');
            maintenance.push_str(token);
            remaining = tail;
        }
    }
    let mut train = String::new();
    let mut variant = None;
    for (index, token) in remaining.iter().enumerate() {
        let mut token = *token;
        if index + 1 == remaining.len()
            && let Some((base, flavour)) = token.rsplit_once('-')
            && is_alphanumeric(flavour)
            && starts_with_letter(flavour)
        {
            token = base;
            variant = Some(flavour.to_string());
        }
        if !is_alphanumeric(token) || (train.is_empty() && !starts_with_letter(token)) {
            return None;
        }
        train.push_str(token);
    }
    Some(ClassicVersion {
        display: format!("{major}.{minor}({maintenance}){train}"),
        variant,
    })
}

/// Removes `SPA` signature markers; returns the rest and whether one was seen.
fn without_signature(tokens: &[&str]) -> (Vec<String>, bool) {
    let signed = tokens.iter().any(|token| token.eq_ignore_ascii_case("SPA"));
    let rest = tokens
        .iter()
        .filter(|token| !token.eq_ignore_ascii_case("SPA"))
        .map(|token| token.to_string())
        .collect();
    (rest, signed)
}

/// Autonomous (`k9w7`) and lightweight (`k9w8`) access point feature sets.
fn is_access_point_feature(feature: &str) -> bool {
    let feature = feature.to_ascii_lowercase();
    feature.ends_with("w7") || feature.ends_with("w8")
}

fn decode_ios_classic(file: &str) -> Option<ImageName> {
    let (stem, format) = if let Some(stem) = strip_suffix_ignore_case(file, ".bin") {
        (stem, ImageFormat::Bin)
    } else {
        (strip_suffix_ignore_case(file, ".tar")?, ImageFormat::Tar)
    };
    let (head, rest) = stem.split_once('.')?;
    let (platform, feature) = split_ios_head(head)?;
    let tokens: Vec<&str> = rest.split('.').collect();
    let (tokens, signed) = without_signature(&tokens);
    let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
    let version = classic_ios_version(&tokens)?;
    let image_type = if is_access_point_feature(&feature) {
        ImageType::ApImage
    } else {
        ImageType::System
    };
    Some(ImageName {
        os: Some(Os::Ios),
        platform: Some(platform),
        feature_set: Some(feature),
        format,
        version: Some(version.display),
        image_type,
        raw_version: some(&tokens.join(".")),
        signed,
        variant: version.variant,
        ..ImageName::default()
    })
}

/// `c1240-k9w7-tar.default`: the recovery image an AP falls back to.
fn decode_ios_recovery(file: &str) -> Option<ImageName> {
    let head = strip_suffix_ignore_case(file, ".default")?;
    let (platform, feature) = split_ios_head(head)?;
    Some(ImageName {
        os: Some(Os::Ios),
        platform: Some(platform),
        feature_set: Some(feature),
        format: ImageFormat::Tar,
        image_type: ImageType::Recovery,
        ..ImageName::default()
    })
}

// ---------------------------------------------------------------------------
// Cisco IOS-XE: `platform-feature[.SPA].version[.paired][.SPA].bin`,
// `platform-package.version.SPA.pkg`, `platform.version.CSCxx.SPA.smu.bin`.

/// An IOS-XE version found among name tokens.
#[derive(Default)]
struct XeVersion {
    version: Option<String>,
    paired: Option<String>,
    raw: Option<String>,
    variant: Option<String>,
}

/// Reads `03.07.03.E[.152-3.E3]` (3.x, with paired IOS) or `17.09.04a`
/// (16.x and later). Returns `None` when the tokens are not one of those.
fn iosxe_version(tokens: &[&str]) -> Option<XeVersion> {
    let raw = some(&tokens.join("."));
    match tokens {
        [major, minor, maintenance, rest @ ..]
            if major.len() == 2
                && is_digits(major)
                && is_digits(minor)
                && is_number_with_rebuild(maintenance) =>
        {
            match rest {
                [] => Some(XeVersion {
                    version: Some(format!("{major}.{minor}.{maintenance}")),
                    raw,
                    ..XeVersion::default()
                }),
                [train, paired @ ..]
                    if train.bytes().all(|b| b.is_ascii_uppercase()) && !train.is_empty() =>
                {
                    let paired = if paired.is_empty() {
                        None
                    } else {
                        Some(classic_ios_version(paired)?)
                    };
                    Some(XeVersion {
                        version: Some(format!("{major}.{minor}.{maintenance}{train}")),
                        variant: paired.as_ref().and_then(|p| p.variant.clone()),
                        paired: paired.map(|p| p.display),
                        raw,
                    })
                }
                _ => None,
            }
        }
        // Sub-packages of 3.x bundles write the train letter on the
        // maintenance number: `03.07.03E`.
        [major, minor, maintenance, paired @ ..]
            if major.len() == 2
                && is_digits(major)
                && is_digits(minor)
                && is_number_with_train(maintenance) =>
        {
            let paired = if paired.is_empty() {
                None
            } else {
                Some(classic_ios_version(paired)?)
            };
            Some(XeVersion {
                version: Some(format!("{major}.{minor}.{maintenance}")),
                variant: paired.as_ref().and_then(|p| p.variant.clone()),
                paired: paired.map(|p| p.display),
                raw,
            })
        }
        _ => {
            // An IOSd sub-package carries only the paired IOS version.
            let classic = classic_ios_version(tokens)?;
            Some(XeVersion {
                paired: Some(classic.display),
                variant: classic.variant,
                raw,
                ..XeVersion::default()
            })
        }
    }
}

/// `cat3k_caa-universalk9` → (`cat3k_caa`, `universalk9`); `cat9k_iosxe` →
/// (`cat9k`, none): the `_iosxe` suffix names the universal image family.
fn split_iosxe_head(head: &str) -> Option<(String, Option<String>)> {
    if !is_designator(head) {
        return None;
    }
    if let Some((platform, feature)) = head.rsplit_once('-') {
        return (!platform.is_empty() && !feature.is_empty())
            .then(|| (platform.to_string(), Some(feature.to_string())));
    }
    // `cat9k_lite_iosxe_npe`: the family before `_iosxe`, a qualifier after.
    if let Some((platform, qualifier)) = split_once_ignore_case(head, "_iosxe") {
        let qualifier = qualifier.trim_start_matches('_');
        return some(platform).map(|platform| (platform, some(qualifier)));
    }
    Some((head.to_string(), None))
}

fn decode_iosxe(file: &str) -> Option<ImageName> {
    let stem = strip_suffix_ignore_case(file, ".bin")?;
    let (head, rest) = stem.split_once('.')?;
    let (platform, feature) = split_iosxe_head(head)?;
    let tokens: Vec<&str> = rest.split('.').collect();
    let (mut tokens, signed) = without_signature(&tokens);
    // SMUs and APSP/APDP patches end in `.smu.bin` / `.apsp.bin` / `.apdp.bin`.
    let is_patch_bundle = tokens.last().is_some_and(|last| {
        ["smu", "apsp", "apdp"]
            .iter()
            .any(|marker| last.eq_ignore_ascii_case(marker))
    });
    if is_patch_bundle {
        tokens.pop();
    }
    let patch = tokens.iter().find(|token| is_defect_id(token)).cloned();
    tokens.retain(|token| !is_defect_id(token) && !token.eq_ignore_ascii_case("APSP"));
    let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
    let version = iosxe_version(&tokens)?;
    version.version.as_ref()?;
    let image_type = if is_patch_bundle || patch.is_some() {
        ImageType::Patch
    } else {
        ImageType::System
    };
    Some(ImageName {
        os: Some(Os::Iosxe),
        platform: Some(platform),
        feature_set: feature,
        format: ImageFormat::Bin,
        version: version.version,
        image_type,
        raw_version: version.raw,
        paired_version: version.paired,
        signed,
        patch,
        variant: version.variant,
        ..ImageName::default()
    })
}

fn decode_iosxe_package(file: &str) -> Option<ImageName> {
    let stem = strip_suffix_ignore_case(file, ".pkg")?;
    let (head, rest) = stem.split_once('.')?;
    if !is_designator(head) {
        return None;
    }
    let (platform, component) = match head.split_once('-') {
        Some((platform, component)) => (platform, some(component)),
        None => (head, None),
    };
    let tokens: Vec<&str> = rest.split('.').collect();
    let (tokens, signed) = without_signature(&tokens);
    let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
    // Packages of engineering builds (`BLD_V167...`) or of other software
    // trains (WCM `10.3.130.0`) keep their version token only in `raw_version`.
    let version = iosxe_version(&tokens).unwrap_or_else(|| XeVersion {
        raw: some(&tokens.join(".")),
        ..XeVersion::default()
    });
    Some(ImageName {
        os: Some(Os::Iosxe),
        platform: some(platform),
        format: ImageFormat::Pkg,
        version: version.version,
        image_type: ImageType::InstallPackage,
        raw_version: version.raw,
        paired_version: version.paired,
        signed,
        component,
        variant: version.variant,
        ..ImageName::default()
    })
}

// ---------------------------------------------------------------------------
// Cisco NX-OS: `nxos.9.3.8.bin`, `n9000-dk9.7.0.3.I7.9.bin`,
// `n3000-uk9-kickstart.6.0.2.U6.10.bin`, `m9100-s6ek9-mz.8.4.2c.bin`.

/// `nxos`, `nxos64-cs`, `n9000`, `n3000`, `n7700`, MDS `m9100`.
fn is_nxos_family(first_part: &str) -> bool {
    let lower = first_part.to_ascii_lowercase();
    if lower.starts_with("nxos") {
        return true;
    }
    let digits = |rest: &str| rest.bytes().next().is_some_and(|b| b.is_ascii_digit());
    lower.strip_prefix('n').is_some_and(digits) || lower.strip_prefix("m9").is_some_and(digits)
}

/// `9.3.8` → `9.3(8)`, `10.2.3.F` → `10.2(3)F`, `7.0.3.I7.9` → `7.0(3)I7(9)`.
fn nxos_version(tokens: &[&str]) -> Option<String> {
    match tokens {
        [major, minor, maintenance, rest @ ..]
            if is_digits(major)
                && is_digits(minor)
                && starts_with_digit(maintenance)
                && is_alphanumeric(maintenance) =>
        {
            let base = format!("{major}.{minor}({maintenance})");
            match rest {
                [] => Some(base),
                [train] if starts_with_letter(train) && is_alphanumeric(train) => {
                    Some(format!("{base}{train}"))
                }
                [train, rebuild]
                    if starts_with_letter(train)
                        && is_alphanumeric(train)
                        && starts_with_digit(rebuild)
                        && is_alphanumeric(rebuild) =>
                {
                    Some(format!("{base}{train}({rebuild})"))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn decode_nxos(file: &str) -> Option<ImageName> {
    let stem = strip_suffix_ignore_case(file, ".bin")
        .or_else(|| strip_suffix_ignore_case(file, ".img"))?;
    let (head, rest) = stem.split_once('.')?;
    let parts: Vec<&str> = head.split('-').collect();
    if !is_nxos_family(parts.first()?) || !is_designator(head) {
        return None;
    }
    let tokens: Vec<&str> = rest.split('.').collect();
    let version = nxos_version(&tokens)?;
    let mut component = None;
    let mut feature = None;
    let mut platform_parts = Vec::new();
    for part in &parts {
        let lower = part.to_ascii_lowercase();
        if lower == "kickstart" || lower == "epld" {
            component = Some(lower);
        } else if lower.ends_with("k9") && !platform_parts.is_empty() {
            feature = Some(part.to_string());
        } else if is_ios_format_code(&lower) && !platform_parts.is_empty() {
            // MDS names keep the IOS-style `-mz` format code.
        } else {
            platform_parts.push(*part);
        }
    }
    // The kickstart (kernel) and EPLD (firmware) images are what the loader
    // boots before, or beside, the system image: never a system image.
    let image_type = if component.is_some() {
        ImageType::BootLoader
    } else {
        ImageType::System
    };
    Some(ImageName {
        os: Some(Os::Nxos),
        platform: some(&platform_parts.join("-")),
        feature_set: feature,
        format: ImageFormat::Bin,
        version: Some(version),
        image_type,
        raw_version: some(rest),
        component,
        ..ImageName::default()
    })
}

// ---------------------------------------------------------------------------
// Cisco IOS-XR: `asr9k-mini-px.iso-6.5.3`, `ncs5500-goldenk9-x-7.3.2.iso`,
// `ASR9K-iosxr-px-k9-6.5.3.tar`, `asr9k-px-6.5.3.CSCvx12345.pie`,
// `ncs5500-mgbl-3.0.0.0-r732.x86_64.rpm`.

fn is_iosxr_architecture(part: &str) -> bool {
    ["px", "p", "x", "x64", "x86_64"]
        .iter()
        .any(|arch| part.eq_ignore_ascii_case(arch))
}

/// `6.5.3`, `7.3.2`, `6.5.3.CSCvx12345`, `6.5.3.sp1`: dotted numbers, then
/// an optional SMU defect id or service pack.
fn iosxr_version(text: &str) -> Option<(String, Option<String>)> {
    let tokens: Vec<&str> = text.split('.').collect();
    let numbers = tokens.iter().take_while(|token| is_digits(token)).count();
    if !(2..=4).contains(&numbers) {
        return None;
    }
    let version = tokens.get(..numbers)?.join(".");
    let patch = match tokens.get(numbers..)? {
        [] => None,
        [patch]
            if is_defect_id(patch)
                || strip_prefix_ignore_case(patch, "sp").is_some_and(is_digits) =>
        {
            Some(patch.to_string())
        }
        _ => return None,
    };
    Some((version, patch))
}

/// Sorts the parts between platform and version into component, feature set
/// and architecture: `mini-px` → component `mini`, arch `px`.
fn iosxr_head(parts: &[&str], image: &mut ImageName) -> Option<()> {
    let (platform, rest) = parts.split_first()?;
    if !is_designator(platform) {
        return None;
    }
    image.platform = Some(platform.to_string());
    let mut components = Vec::new();
    for part in rest {
        if !is_designator(part) {
            return None;
        }
        if is_iosxr_architecture(part) {
            image.architecture = Some(part.to_string());
        } else if part.to_ascii_lowercase().ends_with("k9") {
            image.feature_set = Some(part.to_string());
        } else {
            components.push(*part);
        }
    }
    image.component = some(&components.join("-"));
    Some(())
}

fn decode_iosxr(file: &str) -> Option<ImageName> {
    let mut image = ImageName {
        os: Some(Os::Iosxr),
        ..ImageName::default()
    };
    // 32-bit XR: the version follows the extension (`.iso-6.5.3`, `.pie-6.5.3`).
    for (marker, format) in [(".iso-", ImageFormat::Iso), (".pie-", ImageFormat::Pie)] {
        if let Some((head, version)) = split_once_ignore_case(file, marker) {
            let (version, patch) = iosxr_version(version)?;
            let parts: Vec<&str> = head.split('-').collect();
            iosxr_head(&parts, &mut image)?;
            image.format = format;
            image.raw_version = Some(version.clone());
            image.version = Some(version);
            image.image_type = if patch.is_some() {
                ImageType::Patch
            } else if format == ImageFormat::Pie {
                ImageType::InstallPackage
            } else {
                ImageType::System
            };
            image.patch = patch;
            return Some(image);
        }
    }
    let (stem, format) = [
        (".iso", ImageFormat::Iso),
        (".tar", ImageFormat::Tar),
        (".pie", ImageFormat::Pie),
    ]
    .iter()
    .find_map(|(extension, format)| {
        strip_suffix_ignore_case(file, extension).map(|stem| (stem, *format))
    })?;
    let parts: Vec<&str> = stem.split('-').collect();
    let version_at = parts
        .iter()
        .position(|part| iosxr_version(part).is_some())?;
    if version_at == 0 || version_at + 1 != parts.len() {
        return None;
    }
    let (version, patch) = iosxr_version(parts.get(version_at)?)?;
    iosxr_head(parts.get(..version_at)?, &mut image)?;
    image.format = format;
    image.raw_version = parts.get(version_at).map(|part| part.to_string());
    image.version = Some(version);
    image.image_type = if patch.is_some() {
        ImageType::Patch
    } else if format == ImageFormat::Pie {
        ImageType::InstallPackage
    } else {
        ImageType::System
    };
    image.patch = patch;
    Some(image)
}

/// `r732` → `7.3.2`, `r7101` → `7.10.1`: the XR release an RPM is built for.
fn iosxr_release_tag(part: &str) -> Option<String> {
    let digits = part.strip_prefix('r')?;
    if !is_digits(digits) {
        return None;
    }
    let (major, rest) = digits.split_at_checked(1)?;
    match rest.len() {
        2 => {
            let (minor, maintenance) = rest.split_at_checked(1)?;
            Some(format!("{major}.{minor}.{maintenance}"))
        }
        3 => {
            let (minor, maintenance) = rest.split_at_checked(2)?;
            let minor = minor.trim_start_matches('0');
            let minor = if minor.is_empty() { "0" } else { minor };
            Some(format!("{major}.{minor}.{maintenance}"))
        }
        _ => None,
    }
}

fn decode_iosxr_rpm(file: &str) -> Option<ImageName> {
    let stem = strip_suffix_ignore_case(file, ".rpm")?;
    let mut image = ImageName {
        os: Some(Os::Iosxr),
        format: ImageFormat::Rpm,
        image_type: ImageType::InstallPackage,
        ..ImageName::default()
    };
    let (stem, architecture) = match stem.rsplit_once('.') {
        Some((rest, arch)) if ["x86_64", "arm", "noarch"].contains(&arch) => (rest, some(arch)),
        _ => (stem, None),
    };
    image.architecture = architecture;
    let parts: Vec<&str> = stem.split('-').collect();
    let mut head = Vec::new();
    // The XR release tag (`r732`) wins over a package's own version
    // (`3.0.0.0`); SMUs without a tag carry the release as `7.5.2`.
    let mut release_tag: Option<(String, String)> = None;
    let mut dotted_version: Option<(String, String)> = None;
    for part in &parts {
        // The release tag and the SMU id share a part: `r732.CSCvx12345`.
        let mut tokens = part.split('.');
        let first = tokens.next().unwrap_or_default();
        if let Some(release) = iosxr_release_tag(first) {
            release_tag = Some((release, first.to_string()));
            if let Some(defect) = tokens.find(|token| is_defect_id(token)) {
                image.patch = Some(defect.to_string());
            }
        } else if part.contains('.') && starts_with_digit(part) {
            let (version, patch) = iosxr_version(part)?;
            dotted_version.get_or_insert((version, part.to_string()));
            if patch.is_some() {
                image.patch = patch;
            }
        } else if release_tag.is_none() && dotted_version.is_none() {
            head.push(*part);
        }
    }
    let (version, raw_version) = release_tag.or(dotted_version)?;
    image.version = Some(version);
    image.raw_version = Some(raw_version);
    let (platform, components) = head.split_first()?;
    if !is_designator(platform) {
        return None;
    }
    image.platform = Some(platform.to_string());
    image.component = some(&components.join("-"));
    if image.patch.is_some() {
        image.image_type = ImageType::Patch;
    }
    Some(image)
}

// ---------------------------------------------------------------------------
// Cisco AireOS: `AIR-CT5520-K9-8-10-185-0.aes`, `AS_5520_8_10_185_0.aes`.

fn decode_aireos(file: &str) -> Option<ImageName> {
    let stem = strip_suffix_ignore_case(file, ".aes")?;
    let separator = if stem.contains('-') { '-' } else { '_' };
    let mut parts: Vec<&str> = stem.split(separator).collect();
    // `-ER` images are the emergency-recovery boot loader.
    let is_boot_loader = parts
        .last()
        .is_some_and(|last| last.eq_ignore_ascii_case("ER"));
    if is_boot_loader {
        parts.pop();
    }
    let trailing_numbers = parts
        .iter()
        .rev()
        .take_while(|part| is_digits(part))
        .count();
    let version_parts = trailing_numbers.min(4);
    if version_parts < 3 || version_parts >= parts.len() {
        return None;
    }
    let split = parts.len() - version_parts;
    let platform = parts.get(..split)?.join(&separator.to_string());
    let version = parts.get(split..)?.join(".");
    if !is_designator(&platform) {
        return None;
    }
    Some(ImageName {
        os: Some(Os::Aireos),
        platform: Some(platform),
        format: ImageFormat::Aes,
        raw_version: some(&parts.get(split..)?.join(&separator.to_string())),
        version: Some(version),
        image_type: if is_boot_loader {
            ImageType::BootLoader
        } else {
            ImageType::System
        },
        ..ImageName::default()
    })
}

// ---------------------------------------------------------------------------
// Huawei VRP: `S5735-S-V200R022C00SPC500.cc`, `S5735-S-V200R022C00SPH001.pat`.

/// Splits `V200R022C00SPC500` into release `V200R022C00` and the rest `SPC500`.
fn vrp_version(token: &str) -> Option<(&str, &str)> {
    let bytes = token.as_bytes();
    let is_digit_run = |from: usize, count: usize| {
        bytes
            .get(from..from + count)
            .is_some_and(|run| run.iter().all(u8::is_ascii_digit))
    };
    let letter_at = |at: usize, letter: u8| {
        bytes
            .get(at)
            .is_some_and(|b| b.eq_ignore_ascii_case(&letter))
    };
    if !(letter_at(0, b'V') && is_digit_run(1, 3) && letter_at(4, b'R') && is_digit_run(5, 3)) {
        return None;
    }
    let mut release_end = 8;
    if letter_at(8, b'C') && is_digit_run(9, 2) {
        release_end = 11;
    }
    let (release, rest) = token.split_at_checked(release_end)?;
    (rest.is_empty() || is_alphanumeric(rest)).then_some((release, rest))
}

fn decode_vrp(file: &str) -> Option<ImageName> {
    let (stem, format) = if let Some(stem) = strip_suffix_ignore_case(file, ".cc") {
        (stem, ImageFormat::Cc)
    } else {
        (strip_suffix_ignore_case(file, ".pat")?, ImageFormat::Pat)
    };
    let (platform, token) = match stem.rsplit_once('-') {
        Some((platform, token)) => (some(platform), token),
        None => (None, stem),
    };
    if platform.as_deref().is_some_and(|p| !is_designator(p)) {
        return None;
    }
    let (release, rest) = vrp_version(token)?;
    let mut image = ImageName {
        os: Some(Os::Vrp),
        platform,
        format,
        raw_version: Some(token.to_string()),
        ..ImageName::default()
    };
    if format == ImageFormat::Pat {
        image.image_type = ImageType::Patch;
        image.version = Some(release.to_string());
        image.patch = some(rest);
    } else {
        image.version = Some(token.to_string());
    }
    Some(image)
}

// ---------------------------------------------------------------------------
// Juniper Junos: `jinstall-ex-4200-18.4R3-S1-domestic-signed.tgz`,
// `junos-install-mx-x86-64-21.4R3-S3.4.tgz`, `junos-srxsme-15.1X49-D100.6-domestic.tgz`.

const JUNOS_PREFIX_WORDS: [&str; 7] = [
    "jinstall",
    "jinstall64",
    "junos",
    "install",
    "host",
    "vmhost",
    "jbundle",
];

/// `18.4R3`, `15.1X49`, `20.4R3.8`: major.minor, then a release-type letter.
fn is_junos_version_start(part: &str) -> bool {
    let Some((major, rest)) = part.split_once('.') else {
        return false;
    };
    let minor_digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    is_digits(major)
        && minor_digits > 0
        && rest
            .as_bytes()
            .get(minor_digits)
            .is_some_and(u8::is_ascii_uppercase)
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
}

/// Service (`S1`, `S3.4`) and SRX branch (`D100.6`) release suffixes.
fn is_junos_version_suffix(part: &str) -> bool {
    let mut bytes = part.bytes();
    matches!(bytes.next(), Some(b'S' | b'D'))
        && starts_with_digit(part.get(1..).unwrap_or_default())
        && bytes.all(|b| b.is_ascii_digit() || b == b'.')
}

fn decode_junos(file: &str) -> Option<ImageName> {
    let stem = strip_suffix_ignore_case(file, ".tgz")
        .or_else(|| strip_suffix_ignore_case(file, ".tar.gz"))?;
    let parts: Vec<&str> = stem.split('-').collect();
    let prefix_len = parts
        .iter()
        .take_while(|part| JUNOS_PREFIX_WORDS.contains(&part.to_ascii_lowercase().as_str()))
        .count();
    let version_at = parts.iter().position(|part| is_junos_version_start(part))?;
    if prefix_len == 0 || version_at < prefix_len {
        return None;
    }
    let mut platform_parts: Vec<&str> = parts.get(prefix_len..version_at)?.to_vec();
    let mut architecture = None;
    if platform_parts.len() > 2
        && let [.., arch, bits] = platform_parts.as_slice()
        && ["x86", "mips", "arm", "ppc"]
            .iter()
            .any(|known| arch.eq_ignore_ascii_case(known))
        && matches!(*bits, "32" | "64")
    {
        architecture = Some(format!("{arch}-{bits}"));
        platform_parts.truncate(platform_parts.len() - 2);
    }
    let mut version = parts.get(version_at)?.to_string();
    let mut after = version_at + 1;
    while let Some(part) = parts
        .get(after)
        .filter(|part| is_junos_version_suffix(part))
    {
        version.push('-');
        version.push_str(part);
        after += 1;
    }
    let mut signed = false;
    let mut variants = Vec::new();
    for part in parts.get(after..)? {
        if part.eq_ignore_ascii_case("signed") {
            signed = true;
        } else if is_alphanumeric(part) {
            variants.push(*part);
        } else {
            return None;
        }
    }
    let platform = platform_parts.join("-");
    if !platform.is_empty() && !is_designator(&platform) {
        return None;
    }
    Some(ImageName {
        os: Some(Os::Junos),
        platform: some(&platform),
        format: ImageFormat::Tgz,
        raw_version: Some(version.clone()),
        version: Some(version),
        image_type: ImageType::System,
        signed,
        component: some(&parts.get(..prefix_len)?.join("-")),
        architecture,
        variant: some(&variants.join("-")),
        ..ImageName::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The facts a table row pins; fields not listed are not checked.
    #[derive(Debug, Default)]
    struct Expected {
        os: Option<Os>,
        platform: Option<&'static str>,
        feature_set: Option<&'static str>,
        format: ImageFormat,
        version: Option<&'static str>,
        image_type: ImageType,
        paired_version: Option<&'static str>,
        signed: bool,
        patch: Option<&'static str>,
        component: Option<&'static str>,
        variant: Option<&'static str>,
    }

    fn check(input: &str, expected: Expected) {
        let image = parse_image_name(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(image.os, expected.os, "{input}: os");
        assert_eq!(
            image.platform.as_deref(),
            expected.platform,
            "{input}: platform"
        );
        assert_eq!(
            image.feature_set.as_deref(),
            expected.feature_set,
            "{input}: feature_set"
        );
        assert_eq!(image.format, expected.format, "{input}: format");
        assert_eq!(
            image.version.as_deref(),
            expected.version,
            "{input}: version"
        );
        assert_eq!(image.image_type, expected.image_type, "{input}: type");
        assert_eq!(
            image.paired_version.as_deref(),
            expected.paired_version,
            "{input}: paired_version"
        );
        assert_eq!(image.signed, expected.signed, "{input}: signed");
        assert_eq!(image.patch.as_deref(), expected.patch, "{input}: patch");
        if expected.component.is_some() {
            assert_eq!(
                image.component.as_deref(),
                expected.component,
                "{input}: component"
            );
        }
        if expected.variant.is_some() {
            assert_eq!(
                image.variant.as_deref(),
                expected.variant,
                "{input}: variant"
            );
        }
        assert_eq!(
            image.vendor.as_deref(),
            expected.os.map(Os::vendor),
            "{input}: vendor"
        );
    }

    fn ios(
        platform: &'static str,
        feature: &'static str,
        format: ImageFormat,
        version: &'static str,
    ) -> Expected {
        Expected {
            os: Some(Os::Ios),
            platform: Some(platform),
            feature_set: Some(feature),
            format,
            version: Some(version),
            ..Expected::default()
        }
    }

    #[test]
    fn cisco_ios_names_decode_platform_feature_format_and_display_version() {
        use ImageFormat::{Bin, Tar};
        let table = [
            (
                "c3750-ipbasek9-mz.122-25.SEE1.bin",
                ios("c3750", "ipbasek9", Bin, "12.2(25)SEE1"),
            ),
            (
                "c3750-i5-tar.122-20.SE.tar",
                ios("c3750", "i5", Tar, "12.2(20)SE"),
            ),
            (
                "c2960x-universalk9-mz.152-2.E7.bin",
                ios("c2960x", "universalk9", Bin, "15.2(2)E7"),
            ),
            (
                "c2960-lanbasek9-mz.150-2.SE11.bin",
                ios("c2960", "lanbasek9", Bin, "15.0(2)SE11"),
            ),
            (
                "c3750e-universalk9-tar.152-4.E10.tar",
                ios("c3750e", "universalk9", Tar, "15.2(4)E10"),
            ),
            (
                "c1841-advipservicesk9-mz.124-24.T8.bin",
                ios("c1841", "advipservicesk9", Bin, "12.4(24)T8"),
            ),
            (
                "c2800nm-adventerprisek9-mz.151-4.M12a.bin",
                ios("c2800nm", "adventerprisek9", Bin, "15.1(4)M12a"),
            ),
            (
                "c2600-i-mz.122-46a.bin",
                ios("c2600", "i", Bin, "12.2(46a)"),
            ),
            (
                "c3750-ipbasek9-mz.122-1.5.T.bin",
                ios("c3750", "ipbasek9", Bin, "12.2(1.5)T"),
            ),
            (
                "C3750-IPBASEK9-MZ.122-25.SEE1.BIN",
                ios("C3750", "IPBASEK9", Bin, "12.2(25)SEE1"),
            ),
            (
                "c2900-universalk9-mz.SPA.157-3.M8.bin",
                Expected {
                    signed: true,
                    ..ios("c2900", "universalk9", Bin, "15.7(3)M8")
                },
            ),
            (
                "ap3g2-k9w7-tar.153-3.JD17.tar",
                Expected {
                    image_type: ImageType::ApImage,
                    ..ios("ap3g2", "k9w7", Tar, "15.3(3)JD17")
                },
            ),
            (
                "ap1g4-k9w8-tar.153-3.JPI.tar",
                Expected {
                    image_type: ImageType::ApImage,
                    ..ios("ap1g4", "k9w8", Tar, "15.3(3)JPI")
                },
            ),
        ];
        for (input, expected) in table {
            check(input, expected);
        }
    }

    #[test]
    fn ap_recovery_images_have_no_version() {
        for (input, platform, feature) in [
            ("c1240-k9w7-tar.default", "c1240", "k9w7"),
            ("ap3g2-k9w8-tar.default", "ap3g2", "k9w8"),
        ] {
            check(
                input,
                Expected {
                    os: Some(Os::Ios),
                    platform: Some(platform),
                    feature_set: Some(feature),
                    format: ImageFormat::Tar,
                    image_type: ImageType::Recovery,
                    ..Expected::default()
                },
            );
        }
    }

    fn xe(
        platform: &'static str,
        feature: Option<&'static str>,
        version: &'static str,
    ) -> Expected {
        Expected {
            os: Some(Os::Iosxe),
            platform: Some(platform),
            feature_set: feature,
            format: ImageFormat::Bin,
            version: Some(version),
            signed: true,
            ..Expected::default()
        }
    }

    fn xe_package(
        platform: &'static str,
        component: &'static str,
        version: Option<&'static str>,
    ) -> Expected {
        Expected {
            os: Some(Os::Iosxe),
            platform: Some(platform),
            format: ImageFormat::Pkg,
            version,
            image_type: ImageType::InstallPackage,
            signed: true,
            component: Some(component),
            ..Expected::default()
        }
    }

    #[test]
    fn cisco_iosxe_names_decode_bundles_packages_and_smus() {
        let table = [
            (
                "cat3k_caa-universalk9.SPA.03.07.03.E.152-3.E3.bin",
                Expected {
                    paired_version: Some("15.2(3)E3"),
                    ..xe("cat3k_caa", Some("universalk9"), "03.07.03E")
                },
            ),
            (
                "asr1000rp1-adventerprisek9.03.13.00.S.154-3.S-std.bin",
                Expected {
                    paired_version: Some("15.4(3)S"),
                    signed: false,
                    variant: Some("std"),
                    ..xe("asr1000rp1", Some("adventerprisek9"), "03.13.00S")
                },
            ),
            (
                "cat4500e-universalk9.SPA.03.11.03a.E.152-7.E3a.bin",
                Expected {
                    paired_version: Some("15.2(7)E3a"),
                    ..xe("cat4500e", Some("universalk9"), "03.11.03aE")
                },
            ),
            (
                "cat9k_iosxe.17.09.04a.SPA.bin",
                xe("cat9k", None, "17.09.04a"),
            ),
            (
                "cat9k_lite_iosxe.17.06.05.SPA.bin",
                xe("cat9k_lite", None, "17.06.05"),
            ),
            (
                "cat9k_iosxe_npe.17.09.04a.SPA.bin",
                xe("cat9k", Some("npe"), "17.09.04a"),
            ),
            (
                "cat3k_caa-universalk9.16.12.04.SPA.bin",
                xe("cat3k_caa", Some("universalk9"), "16.12.04"),
            ),
            (
                "isr4300-universalk9.16.09.05.SPA.bin",
                xe("isr4300", Some("universalk9"), "16.09.05"),
            ),
            (
                "c8000v-universalk9.17.06.03a.SPA.bin",
                xe("c8000v", Some("universalk9"), "17.06.03a"),
            ),
            (
                "C9800-40-universalk9_wlc.17.09.04a.SPA.bin",
                xe("C9800-40", Some("universalk9_wlc"), "17.09.04a"),
            ),
            (
                "cat9k_iosxe.17.09.04a.CSCxx12345.SPA.smu.bin",
                Expected {
                    image_type: ImageType::Patch,
                    patch: Some("CSCxx12345"),
                    ..xe("cat9k", None, "17.09.04a")
                },
            ),
            (
                "cat9k-rpbase.17.09.04a.SPA.pkg",
                xe_package("cat9k", "rpbase", Some("17.09.04a")),
            ),
            (
                "cat9k-srdriver.17.09.04a.SPA.pkg",
                xe_package("cat9k", "srdriver", Some("17.09.04a")),
            ),
            (
                "cat9k-cc_srdriver.17.09.04a.SPA.pkg",
                xe_package("cat9k", "cc_srdriver", Some("17.09.04a")),
            ),
            (
                "cat3k_caa-rpbase.BLD_V167.SPA.pkg",
                xe_package("cat3k_caa", "rpbase", None),
            ),
            (
                "cat3k_caa-base.SPA.03.07.03E.pkg",
                xe_package("cat3k_caa", "base", Some("03.07.03E")),
            ),
            (
                "cat3k_caa-wcm.SPA.10.3.130.0.pkg",
                xe_package("cat3k_caa", "wcm", None),
            ),
            (
                "isr4400-universalk9.03.16.08.S.155-3.S8-ext.SPA.bin",
                Expected {
                    paired_version: Some("15.5(3)S8"),
                    variant: Some("ext"),
                    ..xe("isr4400", Some("universalk9"), "03.16.08S")
                },
            ),
            (
                "isr4300-mono-universalk9.16.09.05.SPA.pkg",
                xe_package("isr4300", "mono-universalk9", Some("16.09.05")),
            ),
            (
                "cat3k_caa-iosd-universalk9.SPA.152-3.E3.pkg",
                Expected {
                    paired_version: Some("15.2(3)E3"),
                    ..xe_package("cat3k_caa", "iosd-universalk9", None)
                },
            ),
        ];
        for (input, expected) in table {
            check(input, expected);
        }
    }

    fn xr(
        platform: &'static str,
        format: ImageFormat,
        version: &'static str,
        image_type: ImageType,
    ) -> Expected {
        Expected {
            os: Some(Os::Iosxr),
            platform: Some(platform),
            format,
            version: Some(version),
            image_type,
            ..Expected::default()
        }
    }

    #[test]
    fn cisco_iosxr_names_decode_isos_tars_and_packages() {
        use ImageFormat::{Iso, Pie, Rpm, Tar};
        use ImageType::{InstallPackage, Patch, System};
        let table = [
            (
                "asr9k-mini-px.iso-6.5.3",
                Expected {
                    component: Some("mini"),
                    ..xr("asr9k", Iso, "6.5.3", System)
                },
            ),
            (
                "ASR9K-iosxr-px-k9-6.5.3.tar",
                Expected {
                    feature_set: Some("k9"),
                    ..xr("ASR9K", Tar, "6.5.3", System)
                },
            ),
            (
                "ncs5500-goldenk9-x-7.3.2.iso",
                Expected {
                    feature_set: Some("goldenk9"),
                    ..xr("ncs5500", Iso, "7.3.2", System)
                },
            ),
            (
                "xrv9k-fullk9-x-7.3.2.iso",
                Expected {
                    feature_set: Some("fullk9"),
                    ..xr("xrv9k", Iso, "7.3.2", System)
                },
            ),
            (
                "asr9k-px-6.5.3.CSCvx12345.pie",
                Expected {
                    patch: Some("CSCvx12345"),
                    ..xr("asr9k", Pie, "6.5.3", Patch)
                },
            ),
            (
                "asr9k-mgbl-px.pie-6.5.3",
                Expected {
                    component: Some("mgbl"),
                    ..xr("asr9k", Pie, "6.5.3", InstallPackage)
                },
            ),
            (
                "ncs5500-mgbl-3.0.0.0-r732.x86_64.rpm",
                Expected {
                    component: Some("mgbl"),
                    ..xr("ncs5500", Rpm, "7.3.2", InstallPackage)
                },
            ),
            (
                "8000-7.5.2.CSCwa12345.x86_64.rpm",
                Expected {
                    patch: Some("CSCwa12345"),
                    ..xr("8000", Rpm, "7.5.2", Patch)
                },
            ),
            (
                "xr-bgp-7.5.2.x86_64.rpm",
                Expected {
                    component: Some("bgp"),
                    ..xr("xr", Rpm, "7.5.2", InstallPackage)
                },
            ),
            (
                "ncs5500-mgbl-3.0.0.1-r7101.CSCvx12345.x86_64.rpm",
                Expected {
                    patch: Some("CSCvx12345"),
                    ..xr("ncs5500", Rpm, "7.10.1", Patch)
                },
            ),
        ];
        for (input, expected) in table {
            check(input, expected);
        }
    }

    fn nxos(
        platform: &'static str,
        feature: Option<&'static str>,
        version: &'static str,
    ) -> Expected {
        Expected {
            os: Some(Os::Nxos),
            platform: Some(platform),
            feature_set: feature,
            format: ImageFormat::Bin,
            version: Some(version),
            ..Expected::default()
        }
    }

    #[test]
    fn cisco_nxos_names_decode_to_parenthesised_versions() {
        let table = [
            ("nxos.9.3.8.bin", nxos("nxos", None, "9.3(8)")),
            (
                "nxos64-cs.10.2.3.F.bin",
                nxos("nxos64-cs", None, "10.2(3)F"),
            ),
            (
                "n9000-dk9.7.0.3.I7.9.bin",
                nxos("n9000", Some("dk9"), "7.0(3)I7(9)"),
            ),
            (
                "n3000-uk9.6.0.2.U6.10.bin",
                nxos("n3000", Some("uk9"), "6.0(2)U6(10)"),
            ),
            (
                "n7000-s2-dk9.8.4.1.bin",
                nxos("n7000-s2", Some("dk9"), "8.4(1)"),
            ),
            (
                "m9100-s6ek9-mz.8.4.2c.bin",
                nxos("m9100", Some("s6ek9"), "8.4(2c)"),
            ),
            (
                "n9000-epld.9.3.8.img",
                Expected {
                    image_type: ImageType::BootLoader,
                    component: Some("epld"),
                    ..nxos("n9000", None, "9.3(8)")
                },
            ),
            (
                "n3000-uk9-kickstart.6.0.2.U6.10.bin",
                Expected {
                    image_type: ImageType::BootLoader,
                    component: Some("kickstart"),
                    ..nxos("n3000", Some("uk9"), "6.0(2)U6(10)")
                },
            ),
        ];
        for (input, expected) in table {
            check(input, expected);
        }
    }

    fn aireos(platform: &'static str, version: &'static str) -> Expected {
        Expected {
            os: Some(Os::Aireos),
            platform: Some(platform),
            format: ImageFormat::Aes,
            version: Some(version),
            ..Expected::default()
        }
    }

    #[test]
    fn aireos_names_decode_platform_and_dotted_version() {
        let table = [
            (
                "AIR-CT5520-K9-8-10-185-0.aes",
                aireos("AIR-CT5520-K9", "8.10.185.0"),
            ),
            (
                "AIR-CT2504-K9-8-5-182-0.aes",
                aireos("AIR-CT2504-K9", "8.5.182.0"),
            ),
            ("AS_5520_8_10_185_0.aes", aireos("AS_5520", "8.10.185.0")),
            (
                "AIR-CT5520-K9-8-8-111-0-ER.aes",
                Expected {
                    image_type: ImageType::BootLoader,
                    ..aireos("AIR-CT5520-K9", "8.8.111.0")
                },
            ),
        ];
        for (input, expected) in table {
            check(input, expected);
        }
    }

    fn vrp(platform: &'static str, format: ImageFormat, version: &'static str) -> Expected {
        Expected {
            os: Some(Os::Vrp),
            platform: Some(platform),
            format,
            version: Some(version),
            ..Expected::default()
        }
    }

    #[test]
    fn huawei_names_decode_system_software_and_patches() {
        use ImageFormat::{Cc, Pat};
        let table = [
            (
                "S5735-S-V200R022C00SPC500.cc",
                vrp("S5735-S", Cc, "V200R022C00SPC500"),
            ),
            (
                "S5700-V200R019C10SPC500.cc",
                vrp("S5700", Cc, "V200R019C10SPC500"),
            ),
            (
                "CE6800-V200R005C10SPC607B607.cc",
                vrp("CE6800", Cc, "V200R005C10SPC607B607"),
            ),
            (
                "S5735-S-V200R022C00SPH001.pat",
                Expected {
                    image_type: ImageType::Patch,
                    patch: Some("SPH001"),
                    ..vrp("S5735-S", Pat, "V200R022C00")
                },
            ),
        ];
        for (input, expected) in table {
            check(input, expected);
        }
    }

    fn junos(platform: &'static str, version: &'static str) -> Expected {
        Expected {
            os: Some(Os::Junos),
            platform: Some(platform),
            format: ImageFormat::Tgz,
            version: Some(version),
            ..Expected::default()
        }
    }

    #[test]
    fn junos_names_decode_platform_version_and_flavour() {
        let table = [
            (
                "jinstall-ex-4200-18.4R3-S1-domestic-signed.tgz",
                Expected {
                    signed: true,
                    component: Some("jinstall"),
                    variant: Some("domestic"),
                    ..junos("ex-4200", "18.4R3-S1")
                },
            ),
            (
                "junos-install-mx-x86-64-21.4R3-S3.4.tgz",
                Expected {
                    component: Some("junos-install"),
                    ..junos("mx", "21.4R3-S3.4")
                },
            ),
            (
                "junos-srxsme-15.1X49-D100.6-domestic.tgz",
                Expected {
                    variant: Some("domestic"),
                    ..junos("srxsme", "15.1X49-D100.6")
                },
            ),
            ("junos-arm-32-20.4R3.8.tgz", junos("arm-32", "20.4R3.8")),
            (
                "junos-install-srxsme-mips-64-21.4R3-S3.4.tgz",
                Expected {
                    component: Some("junos-install"),
                    ..junos("srxsme", "21.4R3-S3.4")
                },
            ),
            (
                "junos-vmhost-install-mx-x86-64-21.4R3-S3.4.tgz",
                Expected {
                    component: Some("junos-vmhost-install"),
                    ..junos("mx", "21.4R3-S3.4")
                },
            ),
            (
                "jinstall-host-qfx-5-x86-64-20.4R3.8-secure-signed.tgz",
                Expected {
                    signed: true,
                    variant: Some("secure"),
                    component: Some("jinstall-host"),
                    ..junos("qfx-5", "20.4R3.8")
                },
            ),
        ];
        for (input, expected) in table {
            check(input, expected);
        }
    }

    #[test]
    fn paths_prefixes_and_urls_are_stripped_before_decoding() {
        for input in [
            "flash:c3750-ipbasek9-mz.122-25.SEE1.bin",
            "flash:/c3750-ipbasek9-mz.122-25.SEE1.bin",
            "/srv/images/c3750-ipbasek9-mz.122-25.SEE1.bin",
            "tftp://10.0.0.1/images/c3750-ipbasek9-mz.122-25.SEE1.bin",
            "https://repo.example/dl/c3750-ipbasek9-mz.122-25.SEE1.bin?token=abc#top",
            "C:\\images\\c3750-ipbasek9-mz.122-25.SEE1.bin",
            "  c3750-ipbasek9-mz.122-25.SEE1.bin \n",
        ] {
            let image = parse_image_name(input).unwrap();
            assert_eq!(
                image.file_name, "c3750-ipbasek9-mz.122-25.SEE1.bin",
                "{input}"
            );
            assert_eq!(image.version.as_deref(), Some("12.2(25)SEE1"), "{input}");
        }
    }

    #[test]
    fn unrecognised_names_say_what_was_expected() {
        let table = [
            ("", "empty"),
            ("flash:", "empty"),
            ("readme.txt", "unknown extension"),
            ("c3750.bin", "c3750-ipbasek9-mz.122-25.SEE1.bin"),
            ("c3750-ipbasek9-mz.bin", "c3750-ipbasek9-mz.122-25.SEE1.bin"),
            (
                "c3750-ipbasek9-mz.12x-25.SEE1.bin",
                "c3750-ipbasek9-mz.122-25.SEE1.bin",
            ),
            ("random.tar", "c3750-i5-tar.122-20.SE.tar"),
            ("image.pkg", "cat9k-rpbase"),
            ("S5735-S-V2.cc", "S5735-S-V200R022C00SPC500.cc"),
            ("something-1.0.tgz", "jinstall"),
            ("AIR-CT5520-K9.aes", "AIR-CT5520-K9-8-10-185-0.aes"),
            ("x.iso", "IOS-XR"),
            ("c3750-ipbasek9-mz.122-25.SEE1.bin\u{e9}", "ASCII"),
        ];
        for (input, hint) in table {
            let error = parse_image_name(input).unwrap_err();
            let DomainError::UnrecognisedImageName { name, reason } = &error else {
                panic!("{input}: unexpected error {error:?}");
            };
            assert_eq!(name, input);
            assert!(
                reason.contains(hint),
                "{input}: reason '{reason}' lacks '{hint}'"
            );
        }
    }

    #[test]
    fn decoded_versions_round_trip_to_their_raw_tokens() {
        let image = parse_image_name("c3750-ipbasek9-mz.122-25.SEE1.bin").unwrap();
        assert_eq!(image.raw_version.as_deref(), Some("122-25.SEE1"));
        let image = parse_image_name("S5735-S-V200R022C00SPH001.pat").unwrap();
        assert_eq!(image.raw_version.as_deref(), Some("V200R022C00SPH001"));
    }

    #[test]
    fn describe_image_fills_requirements_from_name_and_archive() {
        let archive = IosArchive {
            image_directory: Some("c3750e-ipbasek9-mz.122-55.SE8".into()),
            min_dram_mb: Some(128),
            image_family: Some("C3750E".into()),
            ..IosArchive::default()
        };
        let metadata = describe_image(
            "c3750e-ipbasek9-tar.122-55.SE8.tar",
            16_000_000,
            Some(archive),
        );
        assert_eq!(metadata.min_ram_bytes, Some(128 * 1024 * 1024));
        assert_eq!(metadata.min_flash_bytes, None);
        assert_eq!(metadata.supported_platforms, vec!["c3750e".to_string()]);
        assert_eq!(metadata.size_bytes, 16_000_000);

        let renamed = IosArchive {
            image_directory: Some("c3750e-ipbasek9-mz.122-55.SE8".into()),
            image_family: Some("C3750E".into()),
            ..IosArchive::default()
        };
        let metadata = describe_image("upgrade.tar", 1, Some(renamed));
        assert_eq!(metadata.name.file_name, "upgrade.tar");
        assert_eq!(metadata.name.version.as_deref(), Some("12.2(55)SE8"));
        assert_eq!(metadata.name.format, ImageFormat::Tar);
        assert_eq!(metadata.min_ram_bytes, None);

        let metadata = describe_image("mystery.bin", 5, None);
        assert_eq!(metadata.name.format, ImageFormat::Bin);
        assert_eq!(metadata.name.os, None);
        assert!(metadata.supported_platforms.is_empty());
    }
}
