//! The bytes of a stored file for an upload (`copy flash:X tftp://...`).
//! Flash keeps only digests and the head of each file, so an upload rebuilds
//! the content: small files are their head, lab images are regenerated from
//! what their header (or archive) states, and the result must match the
//! stored md5, so a corrupted file can never be uploaded as a good one.

use md5::{Digest, Md5};

use crate::files::{FileRecord, KEPT_HEAD_BYTES};
use crate::image::{ImageSpec, make_bin, make_tar};

/// The content of `record`, or `None` when the lab cannot rebuild it.
pub fn file_content(record: &FileRecord) -> Option<Vec<u8>> {
    let matches = |bytes: &Vec<u8>| hex::encode(Md5::digest(bytes)) == record.md5;
    let candidate = if record.size <= KEPT_HEAD_BYTES as u64 {
        Some(record.head.clone())
    } else if let Some(header) = record.bin_header() {
        // An IOS image, else an IOS-XE bundle or IOS-XR package.
        make_bin(&spec_of(&header, record.size))
            .ok()
            .filter(matches)
            .or_else(|| {
                crate::platform::headed_file(
                    &header.family,
                    &header.model,
                    &header.version,
                    &header.feature,
                    record.size,
                )
                .ok()
            })
    } else if let Some(archive) = &record.archive {
        let header = archive
            .entries
            .iter()
            .filter_map(|entry| entry.record.as_ref())
            .find_map(FileRecord::bin_header)?;
        make_tar(&spec_of(&header, record.size)).ok()
    } else {
        None
    };
    candidate.filter(matches)
}

fn spec_of(header: &crate::image::ImageHeader, size: u64) -> ImageSpec {
    ImageSpec {
        model: header.model.clone(),
        version: header.version.clone(),
        feature: header.feature.clone(),
        min_dram_mb: header.min_dram_mb,
        size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::record_from_bytes;

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
    fn images_and_small_files_are_rebuilt_byte_for_byte() {
        for bytes in [
            make_bin(&spec(100_000)).unwrap(),
            make_tar(&spec(200 * 1024)).unwrap(),
            crate::platform::make_platform_image(&crate::platform::PlatformImageSpec {
                model: "C9300-48P".into(),
                version: "17.09.04a".into(),
                size: 100_000,
            })
            .unwrap(),
            b"hostname sw1\n".to_vec(),
        ] {
            let record = record_from_bytes("f", &bytes, 0);
            assert_eq!(file_content(&record), Some(bytes));
        }
    }

    #[test]
    fn corrupted_or_foreign_large_files_are_not_rebuilt() {
        let mut bin = make_bin(&spec(100_000)).unwrap();
        bin[50_000] ^= 1;
        assert_eq!(file_content(&record_from_bytes("f", &bin, 0)), None);
        let other = vec![9u8; 10_000];
        assert_eq!(file_content(&record_from_bytes("f", &other, 0)), None);
    }
}
