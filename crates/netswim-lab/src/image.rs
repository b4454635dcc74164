//! Deterministic lab images whose contents state platform, version, feature set
//! and minimum DRAM: `.bin` files with a small header, `.tar` archives with a
//! Cisco-style `info` file.

use std::io::Write;

use sha2::{Digest, Sha256};

use crate::error::LabError;

/// Length of the `.bin` header; the payload follows it.
pub const BIN_HEADER_LENGTH: usize = 512;
/// First line of every lab `.bin` image.
pub const BIN_MAGIC: &str = "NETSWIM-LAB-IOS-IMAGE v1";

/// The container an image comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Bin,
    Tar,
}

/// A hardware model the lab knows, with the facts its images and CLI need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelFacts {
    /// Full model number (`WS-C2960X-48FPD-L`).
    pub model: &'static str,
    /// Image family as it appears in file names (`c2960x`).
    pub family: &'static str,
    /// Family as printed by `show version` (`C2960X`).
    pub family_upper: &'static str,
    /// Flash capacity of one member, bytes (as `dir` prints it).
    pub flash_bytes: u64,
    /// DRAM of one member, KiB.
    pub dram_kib: u64,
    /// Ports per member.
    pub ports: u32,
    /// CPU name printed by `show version`.
    pub cpu: &'static str,
}

/// The models the lab can play.
pub const MODELS: &[ModelFacts] = &[
    ModelFacts {
        model: "WS-C2960X-48FPD-L",
        family: "c2960x",
        family_upper: "C2960X",
        flash_bytes: 122_185_728,
        dram_kib: 524_288,
        ports: 52,
        cpu: "APM86XXX",
    },
    ModelFacts {
        model: "WS-C3750X-24P",
        family: "c3750e",
        family_upper: "C3750E",
        flash_bytes: 57_671_680,
        dram_kib: 262_144,
        ports: 30,
        cpu: "PowerPC405",
    },
];

/// Looks a model up by its model number (case-insensitive).
pub fn model_facts(model: &str) -> Result<ModelFacts, LabError> {
    MODELS
        .iter()
        .find(|facts| facts.model.eq_ignore_ascii_case(model))
        .copied()
        .ok_or_else(|| LabError::UnknownModel {
            model: model.to_string(),
        })
}

/// What one image is: enough to name it and to write its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSpec {
    pub model: String,
    pub version: String,
    pub feature: String,
    pub min_dram_mb: u32,
    /// Total file size in bytes.
    pub size: u64,
}

/// The facts an image's contents state, as a device reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageHeader {
    pub family: String,
    pub model: String,
    pub version: String,
    pub feature: String,
    pub min_dram_mb: u32,
    pub payload_length: u64,
    pub payload_sha256: String,
}

/// `15.2(7)E8` → `152-7.E8`, the version as IOS file names spell it.
pub fn version_in_file_name(version: &str) -> Result<String, LabError> {
    let bad = || LabError::BadVersion {
        version: version.to_string(),
    };
    let (major_minor, rest) = version.split_once('(').ok_or_else(bad)?;
    let (release, train) = rest.split_once(')').ok_or_else(bad)?;
    let (major, minor) = major_minor.split_once('.').ok_or_else(bad)?;
    let all_digits = |text: &str| !text.is_empty() && text.chars().all(|c| c.is_ascii_digit());
    if !all_digits(major) || !all_digits(minor) || release.is_empty() || train.is_empty() {
        return Err(bad());
    }
    Ok(format!("{major}{minor}-{release}.{train}"))
}

/// The real file name of an image: `c2960x-universalk9-mz.152-7.E8.bin` or
/// `c2960x-universalk9-tar.152-7.E8.tar`.
pub fn image_file_name(spec: &ImageSpec, format: ImageFormat) -> Result<String, LabError> {
    let facts = model_facts(&spec.model)?;
    let version = version_in_file_name(&spec.version)?;
    let feature = spec.feature.to_ascii_lowercase();
    Ok(match format {
        ImageFormat::Bin => format!("{}-{feature}-mz.{version}.bin", facts.family),
        ImageFormat::Tar => format!("{}-{feature}-tar.{version}.tar", facts.family),
    })
}

/// Parses `8MiB`, `512KiB`, `1GiB`, `1000` into bytes.
pub fn parse_size(text: &str) -> Result<u64, LabError> {
    let bad = || LabError::BadSize {
        text: text.to_string(),
    };
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let multiplier = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" | "kb" => 1024,
        "m" | "mib" | "mb" => 1024 * 1024,
        "g" | "gib" | "gb" => 1024 * 1024 * 1024,
        _ => return Err(bad()),
    };
    number.checked_mul(multiplier).ok_or_else(bad)
}

/// Deterministic pseudo-random bytes (splitmix64) so the same spec always
/// yields the same file and the same checksums.
struct PayloadBytes {
    state: u64,
}

impl PayloadBytes {
    fn new(spec: &ImageSpec) -> Self {
        let seed = Sha256::digest(format!("{}|{}|{}", spec.model, spec.version, spec.feature));
        let mut first = [0u8; 8];
        first.copy_from_slice(&seed[..8]);
        Self {
            state: u64::from_le_bytes(first),
        }
    }

    fn next_word(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn fill(&mut self, length: usize) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(length + 8);
        while bytes.len() < length {
            bytes.extend_from_slice(&self.next_word().to_le_bytes());
        }
        bytes.truncate(length);
        bytes
    }
}

/// Builds a `.bin` image of exactly `spec.size` bytes.
pub fn make_bin(spec: &ImageSpec) -> Result<Vec<u8>, LabError> {
    let facts = model_facts(&spec.model)?;
    version_in_file_name(&spec.version)?;
    let minimum = BIN_HEADER_LENGTH as u64 + 1024;
    if spec.size < minimum {
        return Err(LabError::ImageTooSmall {
            size: spec.size,
            minimum,
        });
    }
    let payload_length = spec.size - BIN_HEADER_LENGTH as u64;
    let payload = PayloadBytes::new(spec).fill(payload_length as usize);
    let payload_sha256 = hex::encode(Sha256::digest(&payload));
    let header_text = format!(
        "{BIN_MAGIC}\nfamily: {}\nmodel: {}\nversion: {}\nfeature: {}\nmin_dram_mb: {}\npayload_length: {payload_length}\npayload_sha256: {payload_sha256}\nheader_end:\n",
        facts.family,
        facts.model,
        spec.version,
        spec.feature.to_ascii_lowercase(),
        spec.min_dram_mb,
    );
    let mut image = header_text.into_bytes();
    image.resize(BIN_HEADER_LENGTH, 0);
    image.extend_from_slice(&payload);
    Ok(image)
}

/// Reads a `.bin` header from the first bytes of a file; `None` when the bytes
/// are not a lab image header (wrong magic, missing or garbled fields).
pub fn read_bin_header(head: &[u8]) -> Option<ImageHeader> {
    let header = head.get(..BIN_HEADER_LENGTH)?;
    let text_end = header
        .iter()
        .position(|byte| *byte == 0)
        .unwrap_or(header.len());
    let text = std::str::from_utf8(header.get(..text_end)?).ok()?;
    let mut lines = text.lines();
    if lines.next()? != BIN_MAGIC {
        return None;
    }
    let mut field = std::collections::HashMap::new();
    let mut ended = false;
    for line in lines {
        if line == "header_end:" {
            ended = true;
            break;
        }
        let (key, value) = line.split_once(": ")?;
        field.insert(key, value);
    }
    if !ended {
        return None;
    }
    Some(ImageHeader {
        family: field.get("family")?.to_string(),
        model: field.get("model")?.to_string(),
        version: field.get("version")?.to_string(),
        feature: field.get("feature")?.to_string(),
        min_dram_mb: field.get("min_dram_mb")?.parse().ok()?,
        payload_length: field.get("payload_length")?.parse().ok()?,
        payload_sha256: field.get("payload_sha256")?.to_string(),
    })
}

/// The text of a Cisco archive `info` file for this image.
pub fn info_file_text(
    spec: &ImageSpec,
    ios_image_file_size: u64,
    total_image_file_size: u64,
) -> Result<String, LabError> {
    let facts = model_facts(&spec.model)?;
    let version = version_in_file_name(&spec.version)?;
    let feature = spec.feature.to_ascii_lowercase();
    let directory = format!("{}-{feature}-mz.{version}", facts.family);
    Ok(format!(
        "version_suffix: {feature}-{version}\n\
         version_directory: {directory}\n\
         image_system_type_id: 0x00000002\n\
         image_name: {directory}.bin\n\
         ios_image_file_size: {ios_image_file_size}\n\
         total_image_file_size: {total_image_file_size}\n\
         image_feature: IP|LAYER_2|LAYER_3|PLUS|SSH|3DES|MIN_DRAM_MEG={}\n\
         image_family: {}\n\
         stacking_number: 1.41\n\
         board_ids: 0x00000043 0x00000044 0x00000045 0x00000046\n\
         info_end:\n",
        spec.min_dram_mb, facts.family_upper,
    ))
}

/// Builds a `.tar` archive close to `spec.size` bytes: the top `info`, then the
/// image directory with the `.bin`, its own `info` and a small `html/` tree.
pub fn make_tar(spec: &ImageSpec) -> Result<Vec<u8>, LabError> {
    let facts = model_facts(&spec.model)?;
    let version = version_in_file_name(&spec.version)?;
    let feature = spec.feature.to_ascii_lowercase();
    let directory = format!("{}-{feature}-mz.{version}", facts.family);
    let html = b"<html><body>Device manager</body></html>\n".to_vec();
    // Five headers, two info files (< 1 KiB each, one block plus padding), the
    // html file and the end-of-archive blocks: reserve that much.
    let overhead = 512 * 5 + 2 * 1024 + 1024 + 1024;
    let bin_spec = ImageSpec {
        size: spec
            .size
            .saturating_sub(overhead)
            .max(BIN_HEADER_LENGTH as u64 + 1024),
        ..spec.clone()
    };
    let bin = make_bin(&bin_spec)?;
    let total = spec.size.max(bin.len() as u64 + overhead);
    let info = info_file_text(spec, bin.len() as u64, total)?;

    let mut builder = tar::Builder::new(Vec::new());
    let mut append = |path: &str, bytes: &[u8], directory_entry: bool| -> std::io::Result<()> {
        let mut header = tar::Header::new_ustar();
        header.set_mode(if directory_entry { 0o755 } else { 0o644 });
        header.set_mtime(0);
        header.set_size(bytes.len() as u64);
        header.set_entry_type(if directory_entry {
            tar::EntryType::Directory
        } else {
            tar::EntryType::Regular
        });
        builder.append_data(&mut header, path, bytes)
    };
    let io = |source| LabError::File {
        path: "<tar in memory>".into(),
        source,
    };
    append("info", info.as_bytes(), false).map_err(io)?;
    append(&format!("{directory}/"), &[], true).map_err(io)?;
    append(&format!("{directory}/{directory}.bin"), &bin, false).map_err(io)?;
    append(&format!("{directory}/info"), info.as_bytes(), false).map_err(io)?;
    append(&format!("{directory}/html/index.html"), &html, false).map_err(io)?;
    let mut bytes = builder.into_inner().map_err(io)?;
    // Pad with zero blocks to the requested size, as tar's own end blocks are.
    if (bytes.len() as u64) < spec.size {
        let padded = spec.size.div_ceil(512) * 512;
        bytes.resize(padded as usize, 0);
    }
    bytes.flush().map_err(io)?;
    Ok(bytes)
}

/// Builds an image in the given format.
pub fn make_image(spec: &ImageSpec, format: ImageFormat) -> Result<Vec<u8>, LabError> {
    match format {
        ImageFormat::Bin => make_bin(spec),
        ImageFormat::Tar => make_tar(spec),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(size: u64) -> ImageSpec {
        ImageSpec {
            model: "WS-C2960X-48FPD-L".into(),
            version: "15.2(7)E8".into(),
            feature: "universalk9".into(),
            min_dram_mb: 512,
            size,
        }
    }

    #[test]
    fn file_names_follow_cisco_conventions() {
        let check = |model: &str, version: &str, format, expected: &str| {
            let spec = ImageSpec {
                model: model.into(),
                version: version.into(),
                ..spec(4096)
            };
            assert_eq!(image_file_name(&spec, format).unwrap(), expected);
        };
        check(
            "WS-C2960X-48FPD-L",
            "15.2(7)E8",
            ImageFormat::Bin,
            "c2960x-universalk9-mz.152-7.E8.bin",
        );
        check(
            "WS-C2960X-48FPD-L",
            "15.2(7)E8",
            ImageFormat::Tar,
            "c2960x-universalk9-tar.152-7.E8.tar",
        );
        check(
            "WS-C3750X-24P",
            "12.2(55)SE12",
            ImageFormat::Bin,
            "c3750e-universalk9-mz.122-55.SE12.bin",
        );
    }

    #[test]
    fn bin_image_has_requested_size_and_readable_header() {
        let image = make_bin(&spec(64 * 1024)).unwrap();
        assert_eq!(image.len(), 64 * 1024);
        let header = read_bin_header(&image).unwrap();
        assert_eq!(header.version, "15.2(7)E8");
        assert_eq!(header.family, "c2960x");
        assert_eq!(header.min_dram_mb, 512);
        assert_eq!(header.payload_length, 64 * 1024 - 512);
        let payload_sha = hex::encode(Sha256::digest(&image[BIN_HEADER_LENGTH..]));
        assert_eq!(header.payload_sha256, payload_sha);
    }

    #[test]
    fn same_spec_gives_same_bytes() {
        assert_eq!(
            make_bin(&spec(8192)).unwrap(),
            make_bin(&spec(8192)).unwrap()
        );
        let other = ImageSpec {
            version: "15.2(7)E9".into(),
            ..spec(8192)
        };
        assert_ne!(make_bin(&spec(8192)).unwrap(), make_bin(&other).unwrap());
    }

    #[test]
    fn garbled_header_is_not_an_image() {
        let mut image = make_bin(&spec(8192)).unwrap();
        image[0] = b'X';
        assert_eq!(read_bin_header(&image), None);
        assert_eq!(read_bin_header(b"short"), None);
    }

    #[test]
    fn tar_image_holds_info_and_image_directory() {
        let tar_bytes = make_tar(&spec(256 * 1024)).unwrap();
        assert_eq!(tar_bytes.len(), 256 * 1024);
        let mut archive = tar::Archive::new(tar_bytes.as_slice());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|entry| entry.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "info",
                "c2960x-universalk9-mz.152-7.E8/",
                "c2960x-universalk9-mz.152-7.E8/c2960x-universalk9-mz.152-7.E8.bin",
                "c2960x-universalk9-mz.152-7.E8/info",
                "c2960x-universalk9-mz.152-7.E8/html/index.html",
            ]
        );
        let text = String::from_utf8_lossy(&tar_bytes[512..1536]);
        assert!(text.contains("version_directory: c2960x-universalk9-mz.152-7.E8\n"));
        assert!(text.contains("MIN_DRAM_MEG=512\n"));
        assert!(text.contains("info_end:\n"));
    }

    #[test]
    fn sizes_parse_with_binary_units() {
        for (text, expected) in [("8MiB", 8 << 20), ("512KiB", 512 << 10), ("1000", 1000)] {
            assert_eq!(parse_size(text).unwrap(), expected, "{text}");
        }
        assert!(parse_size("eight").is_err());
    }
}
