//! Inspection of Cisco IOS `.tar` image archives: the `info` file and the
//! image directory, with failures worded as the device words them.
//!
//! An IOS switch tar (`c3750e-ipbasek9-tar.122-55.SE8.tar`) holds a top-level
//! `info` file (its table of contents) and an image directory
//! (`c3750e-ipbasek9-mz.122-55.SE8/`) with the `.bin`, its own `info` and the
//! web files. `archive download-sw` reads `info` first, checks flash space
//! against its sizes and refuses archives that are not tars or lack `info`.

use std::io::{Cursor, ErrorKind, Read};

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// Largest `info` file read; real ones are a few hundred bytes.
pub const MAX_INFO_FILE_BYTES: u64 = 64 * 1024;

/// Members beyond this many are walked (to find truncation) but not listed.
pub const MAX_LISTED_MEMBERS: usize = 10_000;

/// Longest member path kept from GNU long-name or PAX records.
const MAX_MEMBER_PATH_BYTES: u64 = 4096;

/// Size of a tar block (header or data).
const TAR_BLOCK_BYTES: usize = 512;

/// Where the device extracts the archive before moving it into place; used in
/// its error messages.
const DEVICE_EXTRACT_DIRECTORY: &str = "flash:update";

/// What an IOS `.tar` archive holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IosArchive {
    /// `version_directory`: where the image and its web files are installed.
    pub image_directory: Option<String>,
    /// `image_name`: the `.bin` inside the image directory.
    pub image_name: Option<String>,
    /// `ios_image_file_size`: bytes of the `.bin` (flash needed for the image alone).
    pub ios_image_file_size: Option<u64>,
    /// `total_image_file_size`: bytes of everything installed (flash needed).
    pub total_image_file_size: Option<u64>,
    /// Minimum DRAM in MiB (`MIN_DRAM_MEG=` in `image_feature`).
    pub min_dram_mb: Option<u64>,
    /// Path of the `info` file the facts come from (`info`, `<dir>/info`, `info.ver`).
    pub info_file: Option<String>,
    /// `version_suffix` (`ipbasek9-122-55.SE8`), shown as "Image Suffix".
    pub image_suffix: Option<String>,
    /// `image_system_type_id` / `system_type` (`0x00000000`).
    pub system_type: Option<u64>,
    /// `image_feature` (`IP|LAYER_3|MIN_DRAM_MEG=128`).
    pub image_feature: Option<String>,
    /// `image_family` (`C3750E`).
    pub image_family: Option<String>,
    /// `stacking_number` (`1.34`), shown as "Stacking Version Number".
    pub stacking_version: Option<String>,
    /// `board_ids`, in file order (`0x00000044`).
    pub board_ids: Vec<String>,
    /// Every `key: value` line of the `info` file, keys normalised to
    /// lowercase with underscores, in file order (all sections).
    pub info_fields: Vec<InfoField>,
    /// Archive members in order (at most [`MAX_LISTED_MEMBERS`]).
    pub members: Vec<ArchiveMember>,
    /// How many members the archive has (also those beyond the listed ones).
    pub member_count: u64,
    /// Inconsistencies that do not stop an install (the named image is missing).
    pub warnings: Vec<String>,
}

/// One `key: value` line of an `info` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfoField {
    pub key: String,
    pub value: String,
}

/// One member of a tar archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveMember {
    pub path: String,
    pub size_bytes: u64,
    pub is_dir: bool,
}

impl IosArchive {
    /// The `Label: value` lines `archive download-sw` prints after reading
    /// `info`, formatted as the device formats them (sizes as `0x%08X`).
    pub fn device_summary(&self) -> Vec<(String, String)> {
        let hex = |value: u64| format!("0x{value:08X}");
        let min_dram_bytes = self
            .min_dram_mb
            .and_then(|megabytes| megabytes.checked_mul(1024 * 1024));
        let lines = [
            ("Stacking Version Number", self.stacking_version.clone()),
            ("System Type", self.system_type.map(hex)),
            ("Ios Image File Size", self.ios_image_file_size.map(hex)),
            ("Total Image File Size", self.total_image_file_size.map(hex)),
            ("Minimum Dram required", min_dram_bytes.map(hex)),
            ("Image Suffix", self.image_suffix.clone()),
            ("Image Directory", self.image_directory.clone()),
            ("Image Name", self.image_name.clone()),
            ("Image Feature", self.image_feature.clone()),
        ];
        lines
            .into_iter()
            .filter_map(|(label, value)| value.map(|value| (label.to_string(), value)))
            .collect()
    }

    /// [`Self::device_summary`] as the device prints it, one line each.
    pub fn device_summary_text(&self) -> String {
        self.device_summary()
            .iter()
            .map(|(label, value)| format!("{label}: {value}\n"))
            .collect()
    }
}

/// Reads an IOS image archive from `reader`.
pub fn inspect_ios_tar<R: Read>(reader: R) -> Result<IosArchive, DomainError> {
    inspect_ios_tar_named("the archive", reader)
}

/// Reads an IOS image archive from `reader`; `source_name` (the file name)
/// is used in error messages, as the device uses it.
pub fn inspect_ios_tar_named<R: Read>(
    source_name: &str,
    mut reader: R,
) -> Result<IosArchive, DomainError> {
    // The tar crate verifies header checksums too, but only once it is
    // walking entries, and reports a short first block and a non-octal
    // checksum field differently. Checking the first header here lets a
    // `.bin` or any other non-tar data get the device's "Tar checksum error"
    // diagnosis, and an empty file its own message, before the crate runs.
    let mut first_block = [0u8; TAR_BLOCK_BYTES];
    let filled = read_up_to(&mut reader, &mut first_block)?;
    if filled == 0 {
        return Err(archive_error(format!(
            "%Error: premature end of tar file: {source_name} is empty \
             (hint: the transfer may have failed; copy the image again)"
        )));
    }
    if filled < TAR_BLOCK_BYTES {
        return Err(archive_error(format!(
            "%Error: premature end of tar file: {source_name} is only {filled} bytes, \
             shorter than one tar header (hint: the file is truncated or not a tar)"
        )));
    }
    let all_zero = first_block.iter().all(|&b| b == 0);
    if !all_zero && !header_checksum_verifies(&first_block) {
        return Err(archive_error(format!(
            "%Tar checksum error in {source_name}: Image is not a valid IOS image archive \
             (hint: this is not a tar file; a .bin image is copied, not extracted with \
             archive download-sw)"
        )));
    }
    let stream = Cursor::new(first_block).chain(reader);
    walk_archive(source_name, stream)
}

fn archive_error(message: String) -> DomainError {
    DomainError::Archive { message }
}

fn premature_end(source_name: &str, last_member: Option<&str>) -> DomainError {
    let place = match last_member {
        Some(member) => format!(" (it stops inside or after {member})"),
        None => String::new(),
    };
    archive_error(format!(
        "%Error: premature end of tar file {source_name}{place} \
         (hint: the download was cut short; copy the image again and check its MD5)"
    ))
}

/// Fills `buffer` as far as the reader allows; returns how much was read.
fn read_up_to<R: Read>(reader: &mut R, buffer: &mut [u8]) -> Result<usize, DomainError> {
    let mut filled = 0;
    while filled < buffer.len() {
        let Some(rest) = buffer.get_mut(filled..) else {
            break;
        };
        match reader.read(rest) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(error) => {
                return Err(DomainError::Read {
                    what: "image archive".into(),
                    reason: error.to_string(),
                });
            }
        }
    }
    Ok(filled)
}

/// POSIX header checksum: the byte sum of the header with the checksum field
/// (bytes 148..156) counted as spaces, stored as octal. Historic tars summed
/// signed bytes; both sums are accepted.
fn header_checksum_verifies(header: &[u8; TAR_BLOCK_BYTES]) -> bool {
    let Some(field) = header.get(148..156) else {
        return false;
    };
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|&b| b == b' ')
        .take_while(|&b| b != 0 && b != b' ')
        .collect();
    if digits.is_empty() || !digits.iter().all(|b| (b'0'..=b'7').contains(b)) {
        return false;
    }
    let stored = digits
        .iter()
        .fold(0u64, |sum, digit| sum * 8 + u64::from(digit - b'0'));
    let mut unsigned_sum = 0u64;
    let mut signed_sum = 0i64;
    for (index, &byte) in header.iter().enumerate() {
        let byte = if (148..156).contains(&index) {
            b' '
        } else {
            byte
        };
        unsigned_sum += u64::from(byte);
        signed_sum += i64::from(byte as i8);
    }
    stored == unsigned_sum || i64::try_from(stored).is_ok_and(|stored| stored == signed_sum)
}

/// Maps the tar crate's errors to the device's words.
fn map_tar_error(
    source_name: &str,
    last_member: Option<&str>,
    error: &std::io::Error,
) -> DomainError {
    let text = error.to_string();
    if error.kind() == ErrorKind::UnexpectedEof
        || text.contains("unexpected EOF")
        || text.contains("failed to read entire block")
        || text.contains("no future member")
    {
        return premature_end(source_name, last_member);
    }
    if text.contains("checksum") || text.contains("numeric field") || text.contains("octal") {
        let after = last_member.map_or(String::new(), |member| format!(" after {member}"));
        return archive_error(format!(
            "%Tar checksum error in {source_name}{after}: Image is not a valid IOS image archive \
             (hint: the file is corrupt; copy it again and check its MD5)"
        ));
    }
    archive_error(format!(
        "%Error reading tar file {source_name}: {text}: Image is not a valid IOS image archive"
    ))
}

/// How strongly a member is preferred as the archive's `info` file.
fn info_rank(path: &str) -> Option<usize> {
    match path.split_once('/') {
        None if path == "info" => Some(0),
        Some((directory, "info")) if !directory.is_empty() => Some(1),
        None if path == "info.ver" => Some(2),
        Some((directory, "info.ver")) if !directory.is_empty() => Some(3),
        _ => None,
    }
}

/// Reads at most `limit` bytes of an entry; `None` when it holds more.
fn read_capped<R: Read>(reader: R, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut content = Vec::new();
    reader.take(limit + 1).read_to_end(&mut content)?;
    Ok((content.len() as u64 <= limit).then_some(content))
}

/// The `path=` record of a PAX extended header.
fn pax_path(records: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(records);
    text.lines().find_map(|record| {
        let (_, key_value) = record.split_once(' ')?;
        key_value
            .strip_prefix("path=")
            .map(|path| path.trim_end_matches('\0').to_string())
    })
}

fn normalise_member_path(raw: &[u8]) -> String {
    let path = String::from_utf8_lossy(raw);
    let path = path.trim_end_matches('\0');
    let mut path = path;
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    path.to_string()
}

fn walk_archive<R: Read>(source_name: &str, stream: R) -> Result<IosArchive, DomainError> {
    let mut tar = tar::Archive::new(stream);
    // Raw entries: GNU long names and PAX records are read here with a cap,
    // where the crate would read them whole into memory.
    let entries = tar
        .entries()
        .map_err(|error| map_tar_error(source_name, None, &error))?
        .raw(true);
    let mut archive = IosArchive::default();
    let mut info_candidates: [Option<(String, Vec<u8>)>; 4] = Default::default();
    let mut pending_path: Option<String> = None;
    let mut last_member: Option<String> = None;
    for entry in entries {
        let mut entry =
            entry.map_err(|error| map_tar_error(source_name, last_member.as_deref(), &error))?;
        let entry_type = entry.header().entry_type();
        if entry_type.is_gnu_longname() {
            let content = read_capped(&mut entry, MAX_MEMBER_PATH_BYTES)
                .map_err(|error| map_tar_error(source_name, last_member.as_deref(), &error))?;
            pending_path = content.map(|bytes| normalise_member_path(&bytes));
            continue;
        }
        if entry_type.is_pax_local_extensions() {
            let content = read_capped(&mut entry, MAX_INFO_FILE_BYTES)
                .map_err(|error| map_tar_error(source_name, last_member.as_deref(), &error))?;
            pending_path = content
                .and_then(|bytes| pax_path(&bytes))
                .map(|p| normalise_member_path(p.as_bytes()));
            continue;
        }
        if entry_type.is_pax_global_extensions() || entry_type.is_gnu_longlink() {
            continue;
        }
        let path = pending_path
            .take()
            .unwrap_or_else(|| normalise_member_path(&entry.header().path_bytes()));
        let size_bytes = entry.size();
        let is_dir = entry_type.is_dir() || path.ends_with('/');
        let path = path.trim_end_matches('/').to_string();
        archive.member_count += 1;
        if archive.members.len() < MAX_LISTED_MEMBERS {
            archive.members.push(ArchiveMember {
                path: path.clone(),
                size_bytes,
                is_dir,
            });
        }
        if !is_dir
            && let Some(rank) = info_rank(&path)
            && let Some(slot) = info_candidates.get_mut(rank)
            && slot.is_none()
        {
            let content = read_capped(&mut entry, MAX_INFO_FILE_BYTES)
                .map_err(|error| map_tar_error(source_name, Some(&path), &error))?;
            let Some(content) = content else {
                return Err(archive_error(format!(
                    "%Error: {path} in {source_name} is larger than {MAX_INFO_FILE_BYTES} bytes: \
                     Image is not a valid IOS image archive (hint: a real info file is a few \
                     hundred bytes)"
                )));
            };
            if (content.len() as u64) < size_bytes {
                return Err(premature_end(source_name, Some(&path)));
            }
            *slot = Some((path.clone(), content));
        }
        last_member = Some(path);
    }
    let Some((info_path, info_text)) = info_candidates.into_iter().flatten().next() else {
        return Err(archive_error(format!(
            "%Error opening {DEVICE_EXTRACT_DIRECTORY}/info (No such file or directory): \
             Image is not a valid IOS image archive. (hint: {source_name} has no info file; \
             use the -tar. image for archive download-sw)"
        )));
    };
    archive.info_file = Some(info_path.clone());
    apply_info_file(&mut archive, &String::from_utf8_lossy(&info_text));
    let missing: Vec<&str> = [
        ("version_directory", archive.image_directory.is_none()),
        ("image_name", archive.image_name.is_none()),
        ("ios_image_file_size", archive.ios_image_file_size.is_none()),
        (
            "total_image_file_size",
            archive.total_image_file_size.is_none(),
        ),
    ]
    .into_iter()
    .filter_map(|(field, absent)| absent.then_some(field))
    .collect();
    if !missing.is_empty() {
        return Err(archive_error(format!(
            "Image is not a valid IOS image archive: {info_path} has no {} \
             (hint: the info file is damaged or from another product)",
            missing.join(", ")
        )));
    }
    check_image_present(&mut archive);
    Ok(archive)
}

/// Warns when the image `info` names is not in the archive.
fn check_image_present(archive: &mut IosArchive) {
    let (Some(directory), Some(image)) = (&archive.image_directory, &archive.image_name) else {
        return;
    };
    if archive.member_count as usize > archive.members.len() {
        return;
    }
    let expected = format!("{directory}/{image}");
    if !archive.members.iter().any(|member| member.path == expected) {
        archive.warnings.push(format!(
            "info names {expected} but the archive has no such member"
        ));
    }
}

/// Parses a number as the info file writes it: decimal or `0x` hex.
fn parse_info_number(text: &str) -> Option<u64> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// `Image Name`, `IMAGE_NAME`, `image-name` → `image_name`.
fn normalise_info_key(key: &str) -> String {
    key.trim()
        .chars()
        .map(|c| {
            if c == ' ' || c == '-' {
                '_'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// Reads the `key: value` lines of an `info` file into `archive`. Sections
/// end at `info_end:`; the first value of each key wins (the top section
/// repeats the family and stacking number of the image section). Lines
/// without a colon continue the previous value (long `board_ids` lists wrap).
fn apply_info_file(archive: &mut IosArchive, text: &str) {
    let mut fields: Vec<InfoField> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match line.split_once(':') {
            Some((key, value)) if key.trim().len() <= 40 => {
                let key = normalise_info_key(key);
                if key == "info_end" {
                    continue;
                }
                fields.push(InfoField {
                    key,
                    value: value.trim().to_string(),
                });
            }
            _ if line.eq_ignore_ascii_case("info_end") => {}
            _ => {
                if let Some(previous) = fields.last_mut() {
                    previous.value.push(' ');
                    previous.value.push_str(line);
                }
            }
        }
    }
    let mut min_dram_from_field = None;
    for field in &fields {
        let value = field.value.as_str();
        let text = || (!value.is_empty()).then(|| value.to_string());
        match field.key.as_str() {
            "version_suffix" | "image_suffix" => set_once(&mut archive.image_suffix, text()),
            "version_directory" | "image_directory" => {
                set_once(&mut archive.image_directory, text());
            }
            "image_name" => set_once(&mut archive.image_name, text()),
            "ios_image_file_size" => {
                set_once(&mut archive.ios_image_file_size, parse_info_number(value));
            }
            "total_image_file_size" => {
                set_once(&mut archive.total_image_file_size, parse_info_number(value));
            }
            "image_feature" => set_once(&mut archive.image_feature, text()),
            "image_family" => set_once(&mut archive.image_family, text()),
            "stacking_number" | "stacking_version_number" | "stacking_version" => {
                set_once(&mut archive.stacking_version, text());
            }
            "image_system_type_id" => set_once(&mut archive.system_type, parse_info_number(value)),
            // The top section writes `system_type:0x00000000:<image directory>`.
            "system_type" => {
                let id = value.split(':').next().unwrap_or_default();
                set_once(&mut archive.system_type, parse_info_number(id));
            }
            "board_ids" if archive.board_ids.is_empty() => {
                archive.board_ids = value.split_whitespace().map(str::to_string).collect();
            }
            "image_min_dram" => set_once(&mut min_dram_from_field, parse_info_number(value)),
            // The device's own summary states bytes.
            "minimum_dram_required" => set_once(
                &mut min_dram_from_field,
                parse_info_number(value).map(|bytes| bytes / (1024 * 1024)),
            ),
            _ => {}
        }
    }
    let from_feature = archive.image_feature.as_deref().and_then(|feature| {
        feature.split('|').find_map(|flag| {
            let (name, value) = flag.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("MIN_DRAM_MEG")
                .then(|| parse_info_number(value))
                .flatten()
        })
    });
    archive.min_dram_mb = from_feature.or(min_dram_from_field);
    archive.info_fields = fields;
}

fn set_once<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO_C3750E: &str = "\
system_type:0x00000000:c3750e-ipbasek9-mz.122-55.SE8
   image_family:C3750E
   stacking_number:1.34
   info_end:

version_suffix: ipbasek9-122-55.SE8
version_directory: c3750e-ipbasek9-mz.122-55.SE8
image_system_type_id: 0x00000000
image_name: c3750e-ipbasek9-mz.122-55.SE8.bin
ios_image_file_size: 11823616
total_image_file_size: 16134144
image_feature: IP|LAYER_3|MIN_DRAM_MEG=128
image_family: C3750E
stacking_number: 1.34
board_ids: 0x00000044 0x00000045
  0x00000046
info_end:
";

    fn append(builder: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, path, data).unwrap();
    }

    fn append_directory(builder: &mut tar::Builder<Vec<u8>>, path: &str) {
        let mut header = tar::Header::new_ustar();
        header.set_size(0);
        header.set_mode(0o755);
        header.set_entry_type(tar::EntryType::Directory);
        builder.append_data(&mut header, path, &[][..]).unwrap();
    }

    /// An archive laid out like Cisco's: `info` first, then the image directory.
    fn ios_tar(info: Option<&str>) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        if let Some(info) = info {
            append(&mut builder, "info", info.as_bytes());
        }
        append_directory(&mut builder, "c3750e-ipbasek9-mz.122-55.SE8/");
        append_directory(&mut builder, "c3750e-ipbasek9-mz.122-55.SE8/html/");
        append(
            &mut builder,
            "c3750e-ipbasek9-mz.122-55.SE8/c3750e-ipbasek9-mz.122-55.SE8.bin",
            &vec![0x5a; 3000],
        );
        append(
            &mut builder,
            "c3750e-ipbasek9-mz.122-55.SE8/html/index.htm",
            b"<html/>",
        );
        if let Some(info) = info {
            append(
                &mut builder,
                "c3750e-ipbasek9-mz.122-55.SE8/info",
                info.as_bytes(),
            );
        }
        builder.into_inner().unwrap()
    }

    fn message(result: Result<IosArchive, DomainError>) -> String {
        match result {
            Ok(archive) => panic!("expected an error, got {archive:?}"),
            Err(DomainError::Archive { message }) => message,
            Err(other) => panic!("expected an archive error, got {other:?}"),
        }
    }

    #[test]
    fn valid_archive_yields_every_info_field() {
        let archive = inspect_ios_tar(&ios_tar(Some(INFO_C3750E))[..]).unwrap();
        assert_eq!(archive.info_file.as_deref(), Some("info"));
        assert_eq!(
            archive.image_directory.as_deref(),
            Some("c3750e-ipbasek9-mz.122-55.SE8")
        );
        assert_eq!(
            archive.image_name.as_deref(),
            Some("c3750e-ipbasek9-mz.122-55.SE8.bin")
        );
        assert_eq!(archive.image_suffix.as_deref(), Some("ipbasek9-122-55.SE8"));
        assert_eq!(archive.ios_image_file_size, Some(11_823_616));
        assert_eq!(archive.total_image_file_size, Some(16_134_144));
        assert_eq!(archive.min_dram_mb, Some(128));
        assert_eq!(archive.image_family.as_deref(), Some("C3750E"));
        assert_eq!(archive.stacking_version.as_deref(), Some("1.34"));
        assert_eq!(archive.system_type, Some(0));
        assert_eq!(
            archive.image_feature.as_deref(),
            Some("IP|LAYER_3|MIN_DRAM_MEG=128")
        );
        assert_eq!(
            archive.board_ids,
            ["0x00000044", "0x00000045", "0x00000046"]
        );
        assert_eq!(archive.member_count, 6);
        assert!(archive.warnings.is_empty(), "{:?}", archive.warnings);
        let directory = &archive.members[1];
        assert_eq!(directory.path, "c3750e-ipbasek9-mz.122-55.SE8");
        assert!(directory.is_dir);
        let image = &archive.members[3];
        assert_eq!(image.size_bytes, 3000);
        assert!(!image.is_dir);
        assert!(
            archive
                .info_fields
                .iter()
                .any(|field| field.key == "version_suffix" && field.value == "ipbasek9-122-55.SE8")
        );
    }

    #[test]
    fn device_summary_uses_device_labels_and_hex_sizes() {
        let archive = inspect_ios_tar(&ios_tar(Some(INFO_C3750E))[..]).unwrap();
        let expected = [
            ("Stacking Version Number", "1.34"),
            ("System Type", "0x00000000"),
            ("Ios Image File Size", "0x00B46A00"),
            ("Total Image File Size", "0x00F63000"),
            ("Minimum Dram required", "0x08000000"),
            ("Image Suffix", "ipbasek9-122-55.SE8"),
            ("Image Directory", "c3750e-ipbasek9-mz.122-55.SE8"),
            ("Image Name", "c3750e-ipbasek9-mz.122-55.SE8.bin"),
            ("Image Feature", "IP|LAYER_3|MIN_DRAM_MEG=128"),
        ];
        let summary = archive.device_summary();
        let summary: Vec<(&str, &str)> = summary
            .iter()
            .map(|(label, value)| (label.as_str(), value.as_str()))
            .collect();
        assert_eq!(summary, expected);
        assert!(
            archive
                .device_summary_text()
                .contains("Minimum Dram required: 0x08000000\n")
        );
    }

    #[test]
    fn capitalised_and_device_style_info_files_are_read() {
        let info = "\
Image Suffix: lanbase-122-44.EX
Image Directory: ies-lanbase-mz.122-44.EX
IMAGE_NAME: ies-lanbase-mz.122-44.EX.bin
Ios Image File Size: 0x00613000
Total Image File Size: 0x00B54000
Minimum Dram required: 0x04000000
Stacking Version Number: 1.37
System Type: 0x00000000
info_end
";
        let archive = inspect_ios_tar(&ios_tar(Some(info))[..]).unwrap();
        assert_eq!(
            archive.image_directory.as_deref(),
            Some("ies-lanbase-mz.122-44.EX")
        );
        assert_eq!(
            archive.image_name.as_deref(),
            Some("ies-lanbase-mz.122-44.EX.bin")
        );
        assert_eq!(archive.ios_image_file_size, Some(0x0061_3000));
        assert_eq!(archive.total_image_file_size, Some(0x00B5_4000));
        assert_eq!(archive.min_dram_mb, Some(64));
        assert_eq!(archive.stacking_version.as_deref(), Some("1.37"));
        assert_eq!(archive.image_suffix.as_deref(), Some("lanbase-122-44.EX"));
        // The archive's directory is the c3750e one, so the named image is missing.
        assert_eq!(archive.warnings.len(), 1);
    }

    #[test]
    fn info_in_the_image_directory_is_used_when_the_top_one_is_absent() {
        let mut builder = tar::Builder::new(Vec::new());
        append_directory(&mut builder, "c3750e-ipbasek9-mz.122-55.SE8/");
        append(
            &mut builder,
            "c3750e-ipbasek9-mz.122-55.SE8/info",
            INFO_C3750E.as_bytes(),
        );
        let archive = inspect_ios_tar(&builder.into_inner().unwrap()[..]).unwrap();
        assert_eq!(
            archive.info_file.as_deref(),
            Some("c3750e-ipbasek9-mz.122-55.SE8/info")
        );
        assert_eq!(archive.warnings.len(), 1, "the .bin is not in this archive");
    }

    #[test]
    fn failures_are_worded_as_the_device_words_them() {
        let valid = ios_tar(Some(INFO_C3750E));
        let mut random_bin = Vec::new();
        let mut state = 0x2545_f491_u32;
        for _ in 0..4096 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            random_bin.push(state.to_le_bytes()[0]);
        }
        let mut elf_bin = b"\x7fELF\x01\x02\x01".to_vec();
        elf_bin.resize(2048, 0);
        let mut corrupt_later_header = valid.clone();
        // Damage the second member's header (the first is info: 512 + 1 block of data).
        corrupt_later_header[1024 + 10] ^= 0x55;
        let info_missing_fields =
            "version_suffix: ipbasek9-122-55.SE8\nimage_family: C3750E\ninfo_end:\n";
        let table: Vec<(&str, Vec<u8>, &[&str])> = vec![
            (
                "empty input",
                Vec::new(),
                &["premature end of tar file", "empty"],
            ),
            (
                "short input",
                b"hello".to_vec(),
                &["premature end of tar file"],
            ),
            (
                "random .bin",
                random_bin,
                &["Tar checksum error", "not a valid IOS image archive"],
            ),
            ("elf .bin", elf_bin, &["Tar checksum error"]),
            (
                "corrupt later header",
                corrupt_later_header,
                &["Tar checksum error", "after info"],
            ),
            (
                "missing info",
                ios_tar(None),
                &[
                    "%Error opening flash:update/info (No such file or directory)",
                    "not a valid IOS image archive",
                ],
            ),
            (
                "truncated in image",
                valid[..2600].to_vec(),
                &["premature end of tar file"],
            ),
            (
                "truncated in info",
                valid[..600].to_vec(),
                &["premature end of tar file"],
            ),
            (
                "truncated in header",
                valid[..1100].to_vec(),
                &["premature end of tar file"],
            ),
            (
                "info missing fields",
                ios_tar(Some(info_missing_fields)),
                &[
                    "not a valid IOS image archive",
                    "version_directory",
                    "image_name",
                    "total_image_file_size",
                ],
            ),
            (
                "all-zero tar",
                vec![0; 10240],
                &["No such file or directory"],
            ),
        ];
        for (case, input, phrases) in table {
            let message = message(inspect_ios_tar(&input[..]));
            for phrase in phrases {
                assert!(
                    message.contains(phrase),
                    "{case}: '{message}' lacks '{phrase}'"
                );
            }
        }
    }

    #[test]
    fn named_inspection_puts_the_file_name_in_messages() {
        let message = message(inspect_ios_tar_named(
            "c3750e-ipbasek9-mz.122-55.SE8.bin",
            &[1u8; 1024][..],
        ));
        assert!(message.starts_with("%Tar checksum error in c3750e-ipbasek9-mz.122-55.SE8.bin"));
    }

    #[test]
    fn oversized_info_files_are_refused_without_reading_them_whole() {
        let huge = "x".repeat(MAX_INFO_FILE_BYTES as usize + 10);
        let message = message(inspect_ios_tar(&ios_tar(Some(&huge))[..]));
        assert!(message.contains("larger than"), "{message}");
    }

    #[test]
    fn long_member_names_are_listed() {
        let mut builder = tar::Builder::new(Vec::new());
        append(&mut builder, "info", INFO_C3750E.as_bytes());
        let long = format!("c3750e-ipbasek9-mz.122-55.SE8/html/{}.js", "a".repeat(150));
        let mut header = tar::Header::new_gnu();
        header.set_size(3);
        header.set_mode(0o644);
        builder
            .append_data(&mut header, &long, &b"abc"[..])
            .unwrap();
        let archive = inspect_ios_tar(&builder.into_inner().unwrap()[..]).unwrap();
        assert_eq!(archive.members[1].path, long);
        assert_eq!(archive.member_count, 2);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let valid = ios_tar(Some(INFO_C3750E));
        for cut in (0..valid.len()).step_by(97) {
            let _ = inspect_ios_tar(&valid[..cut]);
        }
        for flip in (0..valid.len()).step_by(61) {
            let mut damaged = valid.clone();
            damaged[flip] ^= 0xff;
            let _ = inspect_ios_tar(&damaged[..]);
        }
    }
}
