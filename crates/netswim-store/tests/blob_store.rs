//! The local blob store: atomic content-addressed puts, de-duplication,
//! checksum rejection and crash clean-up.

use netswim_store::{BlobStore, LocalBlobStore, StoreError};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn reader(bytes: &[u8]) -> Box<dyn tokio::io::AsyncRead + Send + Unpin + '_> {
    Box::new(bytes)
}

#[tokio::test]
async fn put_stores_bytes_under_their_sha256_and_reads_them_back() {
    let folder = tempfile::tempdir().unwrap();
    let blobs = LocalBlobStore::open(folder.path().join("blobs"))
        .await
        .unwrap();
    let content: Vec<u8> = (0..700_000u32).map(|index| (index % 251) as u8).collect();
    let put = blobs.put(reader(&content), None).await.unwrap();
    assert_eq!(put.sha256, sha256_hex(&content));
    assert_eq!(put.size_bytes, content.len() as u64);
    assert!(!put.already_present);

    let path = blobs.path_of(&put.sha256).unwrap();
    let relative = path.strip_prefix(blobs.root()).unwrap();
    assert_eq!(
        relative.to_str().unwrap(),
        format!("{}/{}", &put.sha256[..2], &put.sha256[2..])
    );

    let mut read_back = Vec::new();
    blobs
        .open(&put.sha256)
        .await
        .unwrap()
        .read_to_end(&mut read_back)
        .await
        .unwrap();
    assert_eq!(read_back, content);
    assert_eq!(
        blobs.stat(&put.sha256).await.unwrap().unwrap().size_bytes,
        content.len() as u64
    );
    assert!(blobs.temporary_files().await.unwrap().is_empty());
}

#[tokio::test]
async fn same_bytes_are_stored_once() {
    let folder = tempfile::tempdir().unwrap();
    let blobs = LocalBlobStore::open(folder.path()).await.unwrap();
    let first = blobs.put(reader(b"image bytes"), None).await.unwrap();
    let second = blobs
        .put(reader(b"image bytes"), Some(&first.sha256))
        .await
        .unwrap();
    assert_eq!(first.sha256, second.sha256);
    assert!(second.already_present);
    let other = blobs.put(reader(b"other bytes"), None).await.unwrap();
    let listed = blobs.list().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .any(|blob| blob.sha256 == first.sha256 && blob.size_bytes == 11)
    );
    assert!(listed.iter().any(|blob| blob.sha256 == other.sha256));
    assert!(blobs.temporary_files().await.unwrap().is_empty());
}

#[tokio::test]
async fn expected_hash_mismatch_is_rejected_and_leaves_nothing() {
    let folder = tempfile::tempdir().unwrap();
    let blobs = LocalBlobStore::open(folder.path()).await.unwrap();
    let expected = sha256_hex(b"the full image");
    let error = blobs
        .put(reader(b"the full im"), Some(&expected))
        .await
        .unwrap_err();
    match &error {
        StoreError::ChecksumMismatch {
            expected: wanted,
            actual,
        } => {
            assert_eq!(wanted, &expected);
            assert_eq!(actual, &sha256_hex(b"the full im"));
        }
        other => panic!("expected a checksum mismatch, got {other:?}"),
    }
    assert!(error.to_string().contains("truncated or corrupt"));
    assert!(blobs.list().await.unwrap().is_empty());
    assert!(blobs.temporary_files().await.unwrap().is_empty());
    assert!(
        blobs
            .stat(&sha256_hex(b"the full im"))
            .await
            .unwrap()
            .is_none()
    );

    let ok = blobs
        .put(reader(b"the full image"), Some(&expected))
        .await
        .unwrap();
    assert_eq!(ok.sha256, expected);
}

#[tokio::test]
async fn failing_reader_leaves_no_temporary_file() {
    struct FailingReader {
        sent: bool,
    }
    impl tokio::io::AsyncRead for FailingReader {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _context: &mut std::task::Context<'_>,
            buffer: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            if self.sent {
                std::task::Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "peer went away",
                )))
            } else {
                self.sent = true;
                buffer.put_slice(b"partial");
                std::task::Poll::Ready(Ok(()))
            }
        }
    }
    let folder = tempfile::tempdir().unwrap();
    let blobs = LocalBlobStore::open(folder.path()).await.unwrap();
    let error = blobs
        .put(Box::new(FailingReader { sent: false }), None)
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Io { .. }), "{error:?}");
    assert!(blobs.list().await.unwrap().is_empty());
    assert!(blobs.temporary_files().await.unwrap().is_empty());
}

#[tokio::test]
async fn temporary_files_left_by_a_crash_are_removed_at_open() {
    let folder = tempfile::tempdir().unwrap();
    let blobs = LocalBlobStore::open(folder.path()).await.unwrap();
    let kept = blobs.put(reader(b"complete blob"), None).await.unwrap();
    drop(blobs);
    // What a process killed in the middle of a put leaves behind.
    std::fs::write(
        folder.path().join("tmp").join("put-1234-5-0.part"),
        b"half of an ima",
    )
    .unwrap();
    std::fs::write(folder.path().join("tmp").join("put-1234-6-1.part"), b"").unwrap();
    std::fs::create_dir(folder.path().join("tmp").join("stray-folder")).unwrap();

    let reopened = LocalBlobStore::open(folder.path()).await.unwrap();
    assert!(reopened.temporary_files().await.unwrap().is_empty());
    let listed = reopened.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].sha256, kept.sha256);
}

#[tokio::test]
async fn delete_removes_a_blob_and_missing_blobs_are_not_found() {
    let folder = tempfile::tempdir().unwrap();
    let blobs = LocalBlobStore::open(folder.path()).await.unwrap();
    let put = blobs.put(reader(b"to delete"), None).await.unwrap();
    assert!(blobs.exists(&put.sha256).await.unwrap());
    blobs.delete(&put.sha256).await.unwrap();
    assert!(!blobs.exists(&put.sha256).await.unwrap());
    assert!(blobs.stat(&put.sha256).await.unwrap().is_none());
    assert!(matches!(
        blobs.delete(&put.sha256).await,
        Err(StoreError::NotFound { what: "blob", .. })
    ));
    assert!(matches!(
        blobs.open(&put.sha256).await,
        Err(StoreError::NotFound { what: "blob", .. })
    ));
}

#[tokio::test]
async fn hashes_that_are_not_sha256_hex_are_refused_before_touching_files() {
    let folder = tempfile::tempdir().unwrap();
    let blobs = LocalBlobStore::open(folder.path()).await.unwrap();
    for bad in ["../../etc/passwd", "ABCDEF", "", &"g".repeat(64)] {
        assert!(
            matches!(blobs.open(bad).await, Err(StoreError::InvalidInput { .. })),
            "{bad}"
        );
        assert!(
            matches!(
                blobs.put(reader(b"x"), Some(bad)).await,
                Err(StoreError::InvalidInput { .. })
            ),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn the_trait_is_usable_as_a_shared_object() {
    let folder = tempfile::tempdir().unwrap();
    let blobs: std::sync::Arc<dyn BlobStore> =
        std::sync::Arc::new(LocalBlobStore::open(folder.path()).await.unwrap());
    let mut handles = Vec::new();
    for index in 0..8u8 {
        let blobs = blobs.clone();
        handles.push(tokio::spawn(async move {
            // Half the writers send the same bytes at once.
            let content = vec![index % 2; 100_000];
            blobs
                .put(Box::new(std::io::Cursor::new(content)), None)
                .await
                .unwrap()
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    assert_eq!(blobs.list().await.unwrap().len(), 2);
}
