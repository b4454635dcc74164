//! Tar archives as a device receives them: scanned block by block while the
//! bytes arrive, keeping a summary (size, digests, head) of every entry so
//! `archive tar /xtract` works after the content itself was discarded.

use crate::files::{ContentTracker, FileRecord};

const BLOCK: usize = 512;

/// Why an archive cannot be extracted, in the device's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFailure {
    /// A header's checksum is wrong (also what any non-tar file gives).
    Checksum,
    /// The bytes stop inside an entry.
    Truncated,
}

/// One entry of a received archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveEntry {
    /// Path inside the archive; directories end with `/`.
    pub path: String,
    /// The entry's content summary; `None` for directories.
    pub record: Option<FileRecord>,
}

/// What a received tar file holds, or where it broke.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ArchiveSummary {
    pub entries: Vec<ArchiveEntry>,
    pub failure: Option<ArchiveFailure>,
}

#[derive(Debug, Clone)]
enum ScanState {
    /// Collecting a 512-byte header.
    Header,
    /// Inside an entry's data.
    Data {
        path: String,
        remaining: u64,
        padding: u64,
        tracker: Box<ContentTracker>,
        long_name: bool,
    },
    /// Skipping the zero padding after an entry.
    Padding {
        remaining: u64,
    },
    /// Saw the end-of-archive block.
    Done,
    Failed(ArchiveFailure),
}

/// Scans a tar stream as it arrives.
#[derive(Debug, Clone)]
pub struct TarScanner {
    state: ScanState,
    header: Vec<u8>,
    summary: ArchiveSummary,
    /// A GNU long name (`L` entry) for the next header.
    pending_name: Option<String>,
    long_name_bytes: Vec<u8>,
}

impl Default for TarScanner {
    fn default() -> Self {
        Self {
            state: ScanState::Header,
            header: Vec::with_capacity(BLOCK),
            summary: ArchiveSummary::default(),
            pending_name: None,
            long_name_bytes: Vec::new(),
        }
    }
}

fn octal(field: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(field).ok()?;
    let text = text.trim_matches(|c: char| c == '\0' || c == ' ');
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

fn text_field(field: &[u8]) -> String {
    let end = field
        .iter()
        .position(|byte| *byte == 0)
        .unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).to_string()
}

/// Whether a 512-byte block is a tar header with a correct checksum.
fn checksum_ok(header: &[u8]) -> bool {
    let Some(stored) = octal(&header[148..156]) else {
        return false;
    };
    let sum: u64 = header
        .iter()
        .enumerate()
        .map(|(index, byte)| {
            if (148..156).contains(&index) {
                u64::from(b' ')
            } else {
                u64::from(*byte)
            }
        })
        .sum();
    sum == stored
}

impl TarScanner {
    /// Whether the first block looks like a tar header (ustar magic).
    pub fn looks_like_tar(first_block: &[u8]) -> bool {
        first_block.get(257..262) == Some(b"ustar")
    }

    pub fn update(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match &mut self.state {
                ScanState::Done | ScanState::Failed(_) => return,
                ScanState::Header => {
                    let wanted = BLOCK - self.header.len();
                    let take = wanted.min(bytes.len());
                    self.header.extend_from_slice(&bytes[..take]);
                    bytes = &bytes[take..];
                    if self.header.len() == BLOCK {
                        let header = std::mem::take(&mut self.header);
                        self.header_complete(&header);
                    }
                }
                ScanState::Data {
                    remaining,
                    padding,
                    tracker,
                    long_name,
                    ..
                } => {
                    let take = (*remaining).min(bytes.len() as u64) as usize;
                    if *long_name {
                        self.long_name_bytes.extend_from_slice(&bytes[..take]);
                    } else {
                        tracker.update(&bytes[..take]);
                    }
                    *remaining -= take as u64;
                    bytes = &bytes[take..];
                    if *remaining == 0 {
                        let padding = *padding;
                        self.entry_complete();
                        self.state = if padding > 0 {
                            ScanState::Padding { remaining: padding }
                        } else {
                            ScanState::Header
                        };
                    }
                }
                ScanState::Padding { remaining } => {
                    let take = (*remaining).min(bytes.len() as u64) as usize;
                    *remaining -= take as u64;
                    bytes = &bytes[take..];
                    if *remaining == 0 {
                        self.state = ScanState::Header;
                    }
                }
            }
        }
    }

    fn header_complete(&mut self, header: &[u8]) {
        if header.iter().all(|byte| *byte == 0) {
            self.state = ScanState::Done;
            return;
        }
        if !checksum_ok(header) {
            self.state = ScanState::Failed(ArchiveFailure::Checksum);
            return;
        }
        let Some(size) = octal(&header[124..136]) else {
            self.state = ScanState::Failed(ArchiveFailure::Checksum);
            return;
        };
        let mut name = text_field(&header[..100]);
        if Self::looks_like_tar(header) {
            let prefix = text_field(&header[345..500]);
            if !prefix.is_empty() {
                name = format!("{prefix}/{name}");
            }
        }
        if let Some(long) = self.pending_name.take() {
            name = long;
        }
        let padding = (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64;
        match header[156] {
            b'5' => {
                let path = if name.ends_with('/') {
                    name
                } else {
                    format!("{name}/")
                };
                self.summary
                    .entries
                    .push(ArchiveEntry { path, record: None });
                self.state = ScanState::Header;
            }
            kind => {
                // Regular files become entries; GNU long names name the next
                // header; other kinds (pax headers, links) are skipped.
                let long_name = kind == b'L';
                let regular = kind == b'0' || kind == 0;
                let path = if regular || long_name {
                    name
                } else {
                    String::new()
                };
                self.long_name_bytes.clear();
                if size == 0 {
                    if regular {
                        self.summary.entries.push(ArchiveEntry {
                            path: path.clone(),
                            record: Some(ContentTracker::plain().finish(&path, 0)),
                        });
                    }
                    self.state = ScanState::Header;
                    return;
                }
                self.state = ScanState::Data {
                    path,
                    remaining: size,
                    padding,
                    tracker: Box::new(ContentTracker::plain()),
                    long_name,
                };
            }
        }
    }

    fn entry_complete(&mut self) {
        let state = std::mem::replace(&mut self.state, ScanState::Header);
        if let ScanState::Data {
            path,
            tracker,
            long_name,
            ..
        } = state
        {
            if long_name {
                self.pending_name = Some(text_field(&self.long_name_bytes));
            } else if !path.is_empty() {
                let record = tracker.finish(&path, 0);
                self.summary.entries.push(ArchiveEntry {
                    path,
                    record: Some(record),
                });
            }
        }
    }

    /// The summary once every byte is in.
    pub fn finish(self) -> ArchiveSummary {
        let mut summary = self.summary;
        summary.failure = match self.state {
            ScanState::Failed(failure) => Some(failure),
            ScanState::Data { .. } | ScanState::Padding { .. } => Some(ArchiveFailure::Truncated),
            ScanState::Header if !self.header.is_empty() => Some(ArchiveFailure::Truncated),
            ScanState::Header | ScanState::Done => None,
        };
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::record_from_bytes;
    use crate::image::{ImageSpec, make_tar};

    fn tar_bytes() -> Vec<u8> {
        make_tar(&ImageSpec {
            model: "WS-C2960X-48FPD-L".into(),
            version: "15.2(7)E8".into(),
            feature: "universalk9".into(),
            min_dram_mb: 512,
            size: 64 * 1024,
        })
        .unwrap()
    }

    fn summary_of(bytes: &[u8], chunk: usize) -> ArchiveSummary {
        let mut scanner = TarScanner::default();
        for piece in bytes.chunks(chunk) {
            scanner.update(piece);
        }
        scanner.finish()
    }

    #[test]
    fn scanned_entries_match_the_archive_in_any_chunking() {
        let bytes = tar_bytes();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let mut expected = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().display().to_string();
            let mut content = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut content).unwrap();
            expected.push((path, content));
        }
        for chunk in [1, 100, 512, 4096, 1 << 20] {
            let summary = summary_of(&bytes, chunk);
            assert_eq!(summary.failure, None, "chunk {chunk}");
            assert_eq!(summary.entries.len(), expected.len());
            for (entry, (path, content)) in summary.entries.iter().zip(&expected) {
                assert_eq!(&entry.path, path);
                if let Some(record) = &entry.record {
                    assert_eq!(
                        record,
                        &record_from_bytes(path, content, 0),
                        "chunk {chunk}"
                    );
                }
            }
        }
    }

    #[test]
    fn inner_image_of_the_archive_is_a_valid_bin() {
        let summary = summary_of(&tar_bytes(), 777);
        let image = summary
            .entries
            .iter()
            .find(|entry| entry.path.ends_with(".bin"))
            .and_then(|entry| entry.record.as_ref())
            .unwrap();
        assert_eq!(image.valid_bin_header().unwrap().version, "15.2(7)E8");
    }

    #[test]
    fn broken_archives_report_checksum_or_truncation() {
        let bytes = tar_bytes();
        let mut corrupt = bytes.clone();
        corrupt[10] ^= 0x01;
        assert_eq!(
            summary_of(&corrupt, 512).failure,
            Some(ArchiveFailure::Checksum)
        );
        assert_eq!(
            summary_of(&bytes[..5000], 512).failure,
            Some(ArchiveFailure::Truncated)
        );
        assert_eq!(
            summary_of(&[7u8; 2048], 512).failure,
            Some(ArchiveFailure::Checksum)
        );
    }
}
