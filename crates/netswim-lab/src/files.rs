//! Device file systems: real capacity and free bytes; files keep size, md5 and
//! sha256 of the bytes received plus just enough of the head to read headers.

use md5::Md5;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::archive::{ArchiveSummary, TarScanner};
use crate::image::{BIN_HEADER_LENGTH, ImageHeader, read_bin_header};

/// How many leading bytes a file keeps (a `.bin` header, or a tar's `info`).
pub const KEPT_HEAD_BYTES: usize = 4096;

/// What a device knows about one stored file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileRecord {
    /// Path inside the file system, without a leading slash (`dir/x.bin`).
    pub path: String,
    pub size: u64,
    pub md5: String,
    pub sha256: String,
    /// Seconds since the device clock's epoch (1 March 1993, as unset IOS clocks).
    pub modified: u64,
    #[serde(skip)]
    pub head: Vec<u8>,
    /// sha256 of the bytes after the `.bin` header, to verify the image checksum.
    #[serde(skip)]
    pub payload_sha256: String,
    /// For a tar file: its entries as scanned on arrival.
    #[serde(skip)]
    pub archive: Option<ArchiveSummary>,
}

impl FileRecord {
    /// The image header if this file is a lab `.bin` image (checksum not checked).
    pub fn bin_header(&self) -> Option<ImageHeader> {
        read_bin_header(&self.head)
    }

    /// The image header if the file is a complete, uncorrupted `.bin` image.
    pub fn valid_bin_header(&self) -> Option<ImageHeader> {
        let header = self.bin_header()?;
        let complete = header.payload_length + BIN_HEADER_LENGTH as u64 == self.size;
        (complete && header.payload_sha256 == self.payload_sha256).then_some(header)
    }
}

/// Whether the bytes are being scanned as a tar archive.
#[derive(Debug, Clone, Default)]
enum ArchiveScan {
    /// Fewer than 512 bytes so far.
    #[default]
    Undecided,
    Scanning(Box<TarScanner>),
    NotArchive,
}

/// Digests bytes as they arrive, keeping only the head (and, for tar files,
/// a summary of every entry).
#[derive(Debug, Clone, Default)]
pub struct ContentTracker {
    md5: Md5,
    sha256: Sha256,
    payload_sha256: Sha256,
    head: Vec<u8>,
    size: u64,
    archive: ArchiveScan,
}

impl ContentTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// A tracker that never scans for archive entries (for entries themselves).
    pub fn plain() -> Self {
        Self {
            archive: ArchiveScan::NotArchive,
            ..Self::default()
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        let before = self.size as usize;
        self.digest(bytes);
        match &mut self.archive {
            ArchiveScan::Scanning(scanner) => scanner.update(bytes),
            ArchiveScan::NotArchive => {}
            ArchiveScan::Undecided if self.head.len() >= 512 => {
                self.archive = if TarScanner::looks_like_tar(&self.head[..512]) {
                    // Everything before this chunk is still in the head.
                    let mut scanner = Box::new(TarScanner::default());
                    scanner.update(&self.head[..before]);
                    scanner.update(bytes);
                    ArchiveScan::Scanning(scanner)
                } else {
                    ArchiveScan::NotArchive
                };
            }
            ArchiveScan::Undecided => {}
        }
    }

    fn digest(&mut self, bytes: &[u8]) {
        self.md5.update(bytes);
        self.sha256.update(bytes);
        let header_left = (BIN_HEADER_LENGTH as u64).saturating_sub(self.size) as usize;
        if let Some(payload) = bytes.get(header_left.min(bytes.len())..) {
            self.payload_sha256.update(payload);
        }
        let head_left = KEPT_HEAD_BYTES.saturating_sub(self.head.len());
        self.head
            .extend_from_slice(&bytes[..head_left.min(bytes.len())]);
        self.size += bytes.len() as u64;
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn finish(self, path: &str, modified: u64) -> FileRecord {
        FileRecord {
            path: path.to_string(),
            size: self.size,
            md5: hex::encode(self.md5.finalize()),
            sha256: hex::encode(self.sha256.finalize()),
            modified,
            head: self.head,
            payload_sha256: hex::encode(self.payload_sha256.finalize()),
            archive: match self.archive {
                ArchiveScan::Scanning(scanner) => Some(scanner.finish()),
                _ => None,
            },
        }
    }
}

/// Summarises a whole byte string as a file.
pub fn record_from_bytes(path: &str, bytes: &[u8], modified: u64) -> FileRecord {
    let mut tracker = ContentTracker::new();
    tracker.update(bytes);
    tracker.finish(path, modified)
}

/// One flash file system (`flash1:`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileSystem {
    /// Name with colon, `flash1:`.
    pub name: String,
    pub capacity: u64,
    /// Files in creation order, as `dir` lists them.
    pub files: Vec<FileRecord>,
    /// Directories (paths without trailing slash) that exist even when empty.
    pub directories: Vec<String>,
}

/// One line of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    pub index: u64,
    pub is_directory: bool,
    pub size: u64,
    pub modified: u64,
    pub name: String,
}

impl FileSystem {
    pub fn new(name: &str, capacity: u64) -> Self {
        Self {
            name: name.to_string(),
            capacity,
            files: Vec::new(),
            directories: Vec::new(),
        }
    }

    pub fn used(&self) -> u64 {
        // Directories take one 512-byte block, as on the real flash.
        self.files.iter().map(|file| file.size).sum::<u64>() + 512 * self.directories.len() as u64
    }

    pub fn free(&self) -> u64 {
        self.capacity.saturating_sub(self.used())
    }

    pub fn file(&self, path: &str) -> Option<&FileRecord> {
        let path = path.trim_start_matches('/');
        self.files.iter().find(|file| file.path == path)
    }

    /// Stores a file, replacing one of the same path; `false` when it does not fit.
    pub fn store(&mut self, record: FileRecord) -> bool {
        let replaced = self.file(&record.path).map_or(0, |file| file.size);
        if record.size > self.free() + replaced {
            return false;
        }
        self.remove(&record.path);
        if let Some((parent, _)) = record.path.rsplit_once('/') {
            let mut prefix = String::new();
            for part in parent.split('/') {
                if !prefix.is_empty() {
                    prefix.push('/');
                }
                prefix.push_str(part);
                if !self.directories.contains(&prefix) {
                    self.directories.push(prefix.clone());
                }
            }
        }
        self.files.push(record);
        true
    }

    /// Creates a directory (and its parents); `false` when there is no room.
    pub fn create_directory(&mut self, path: &str) -> bool {
        let path = path.trim_matches('/');
        let mut prefix = String::new();
        for part in path.split('/').filter(|part| !part.is_empty()) {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            if !self.directories.contains(&prefix) {
                if self.free() < 512 {
                    return false;
                }
                self.directories.push(prefix.clone());
            }
        }
        true
    }

    /// Removes a directory with everything under it; the number of files removed.
    pub fn remove_directory(&mut self, path: &str) -> Option<usize> {
        let path = path.trim_matches('/');
        if !self.directories.iter().any(|known| known == path) {
            return None;
        }
        let inside = format!("{path}/");
        let before = self.files.len();
        self.files.retain(|file| !file.path.starts_with(&inside));
        self.directories
            .retain(|known| known != path && !known.starts_with(&inside));
        Some(before - self.files.len())
    }

    pub fn remove(&mut self, path: &str) -> Option<FileRecord> {
        let path = path.trim_start_matches('/');
        let position = self.files.iter().position(|file| file.path == path)?;
        Some(self.files.remove(position))
    }

    /// Entries directly under `directory` ("" for the root), directories with the
    /// size and time of their newest file.
    pub fn list(&self, directory: &str) -> Option<Vec<DirectoryEntry>> {
        let directory = directory.trim_matches('/');
        // `dir flash:/x.bin` lists just that file.
        if let Some(position) = self.files.iter().position(|file| file.path == directory) {
            let file = &self.files[position];
            return Some(vec![DirectoryEntry {
                index: position as u64 + 2,
                is_directory: false,
                size: file.size,
                modified: file.modified,
                name: file
                    .path
                    .rsplit('/')
                    .next()
                    .unwrap_or(&file.path)
                    .to_string(),
            }]);
        }
        if !directory.is_empty() && !self.directories.iter().any(|known| known == directory) {
            return None;
        }
        let prefix = if directory.is_empty() {
            String::new()
        } else {
            format!("{directory}/")
        };
        let mut entries = Vec::new();
        let mut index = 1;
        for known in &self.directories {
            if let Some(rest) = known.strip_prefix(&prefix)
                && !rest.is_empty()
                && !rest.contains('/')
            {
                let modified = self
                    .files
                    .iter()
                    .filter(|file| file.path.starts_with(&format!("{known}/")))
                    .map(|file| file.modified)
                    .max()
                    .unwrap_or(0);
                entries.push((known.clone(), true, 512, modified, rest.to_string()));
            }
        }
        for file in &self.files {
            if let Some(rest) = file.path.strip_prefix(&prefix)
                && !rest.contains('/')
            {
                entries.push((
                    file.path.clone(),
                    false,
                    file.size,
                    file.modified,
                    rest.to_string(),
                ));
            }
        }
        // Inode numbers follow creation order; keep files and directories mixed by time.
        entries.sort_by_key(|entry| entry.3);
        Some(
            entries
                .into_iter()
                .map(|(_, is_directory, size, modified, name)| {
                    index += 1;
                    DirectoryEntry {
                        index,
                        is_directory,
                        size,
                        modified,
                        name,
                    }
                })
                .collect(),
        )
    }
}

/// Formats device-clock seconds as `Mar 1 1993 00:13:43` (IOS's `dir` style).
pub fn format_timestamp(seconds_since_epoch: u64) -> String {
    // Days from 1970-01-01 to 1993-03-01.
    const EPOCH_DAYS: i64 = 8460;
    let days = EPOCH_DAYS + (seconds_since_epoch / 86_400) as i64;
    let seconds = seconds_since_epoch % 86_400;
    let (year, month, day) = civil_from_days(days);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {} {} {:02}:{:02}:{:02}",
        MONTHS[(month - 1) as usize],
        day,
        year,
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// Howard Hinnant's days-to-civil conversion.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_start_at_the_unset_ios_clock() {
        assert_eq!(format_timestamp(0), "Mar 1 1993 00:00:00");
        assert_eq!(format_timestamp(13 * 60 + 43), "Mar 1 1993 00:13:43");
        assert_eq!(format_timestamp(31 * 86_400 + 3600), "Apr 1 1993 01:00:00");
    }

    #[test]
    fn tracker_digests_match_whole_content_digests_across_chunks() {
        let bytes: Vec<u8> = (0..10_000u32).map(|value| (value % 251) as u8).collect();
        let whole = record_from_bytes("a", &bytes, 0);
        let mut tracker = ContentTracker::new();
        for chunk in bytes.chunks(333) {
            tracker.update(chunk);
        }
        let chunked = tracker.finish("a", 0);
        assert_eq!(whole, chunked);
        assert_eq!(whole.head.len(), KEPT_HEAD_BYTES);
        assert_eq!(
            whole.payload_sha256,
            hex::encode(Sha256::digest(&bytes[BIN_HEADER_LENGTH..]))
        );
    }

    #[test]
    fn store_refuses_files_larger_than_free_space() {
        let mut flash = FileSystem::new("flash1:", 10_000);
        assert!(flash.store(record_from_bytes("a.bin", &[0; 6000], 0)));
        assert_eq!(flash.free(), 4000);
        assert!(!flash.store(record_from_bytes("b.bin", &[0; 6000], 0)));
        // Replacing a file counts the space it frees.
        assert!(flash.store(record_from_bytes("a.bin", &[1; 9000], 0)));
        assert_eq!(flash.free(), 1000);
    }

    #[test]
    fn listing_shows_directories_then_their_files() {
        let mut flash = FileSystem::new("flash:", 1 << 20);
        flash.store(record_from_bytes("vlan.dat", &[0; 10], 1));
        flash.store(record_from_bytes("img/img.bin", &[0; 20], 2));
        let root = flash.list("").unwrap();
        let names: Vec<_> = root
            .iter()
            .map(|entry| (entry.name.as_str(), entry.is_directory))
            .collect();
        assert_eq!(names, [("vlan.dat", false), ("img", true)]);
        let inside = flash.list("/img/").unwrap();
        assert_eq!(inside.len(), 1);
        assert_eq!(inside[0].name, "img.bin");
        assert!(flash.list("missing").is_none());
    }
}
