//! MD5, SHA-256 and SHA-512 of a stream, computed in one pass.

use std::io::Read;

use md5::Md5;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};

use crate::DomainError;

/// The digests vendors publish (MD5, SHA-512) and netswim's identity (SHA-256).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Checksums {
    pub size_bytes: u64,
    pub md5: String,
    pub sha256: String,
    pub sha512: String,
}

/// Streams `reader` once through all three digests, in 64 KiB chunks.
pub fn checksums<R: Read>(mut reader: R) -> Result<Checksums, DomainError> {
    let mut md5 = Md5::new();
    let mut sha256 = Sha256::new();
    let mut sha512 = Sha512::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size_bytes = 0u64;
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => {
                return Err(DomainError::Read {
                    what: "image data".into(),
                    reason: error.to_string(),
                });
            }
        };
        let chunk = buffer.get(..read).unwrap_or_default();
        md5.update(chunk);
        sha256.update(chunk);
        sha512.update(chunk);
        size_bytes += read as u64;
    }
    Ok(Checksums {
        size_bytes,
        md5: hex::encode(md5.finalize()),
        sha256: hex::encode(sha256.finalize()),
        sha512: hex::encode(sha512.finalize()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_of_known_input_match_published_digests() {
        let sums = checksums(&b"abc"[..]).unwrap();
        assert_eq!(sums.size_bytes, 3);
        assert_eq!(sums.md5, "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            sums.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(sums.sha512.starts_with("ddaf35a193617aba"));
    }

    #[test]
    fn checksums_span_chunk_boundaries() {
        let data = vec![7u8; 200_000];
        let whole = checksums(&data[..]).unwrap();
        let chained = checksums((&data[..100_000]).chain(&data[100_000..])).unwrap();
        assert_eq!(whole, chained);
    }
}
