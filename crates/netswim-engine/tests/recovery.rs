//! Crash recovery at engine start, for every point an import can be killed:
//! bytes in the blob store without a blob row, a blob row without an image
//! row, and a job left `running`.

use netswim_engine::Engine;
use netswim_store::crypto::SecretKey;
use netswim_store::{BlobStore, LocalBlobStore, NewJob, Status, Store};
use serde_json::json;

async fn open(data: &std::path::Path) -> (Store, LocalBlobStore) {
    let url = format!("sqlite://{}?mode=rwc", data.join("netswim.db").display());
    (
        Store::open(&url).await.unwrap(),
        LocalBlobStore::open(data.join("blobs")).await.unwrap(),
    )
}

#[tokio::test]
async fn start_removes_blobs_no_image_uses_and_marks_running_jobs_interrupted() {
    let data = tempfile::tempdir().unwrap();
    let (store, blobs) = open(data.path()).await;
    // Killed after the blob was written, before its row.
    let file_only = blobs.put(Box::new(&b"file only"[..]), None).await.unwrap();
    // Killed after the blob row, before the image row.
    let with_row = blobs
        .put(Box::new(&b"blob row only"[..]), None)
        .await
        .unwrap();
    store
        .record_blob(&with_row.sha256, with_row.size_bytes)
        .await
        .unwrap();
    let job = store
        .insert_job(&NewJob {
            kind: "import".into(),
            name: "upload x.tar".into(),
            spec: json!({}),
            schedule: json!({"kind": "now"}),
            status: Status::Running,
            created_by: Some("admin".into()),
            next_run_at: None,
        })
        .await
        .unwrap();
    drop(blobs);

    let (store, blobs) = open(data.path()).await;
    let (engine, report) = Engine::start(store, blobs, SecretKey::generate())
        .await
        .unwrap();
    assert_eq!(report.interrupted_jobs, 1);
    let mut removed = report.removed_blobs.clone();
    removed.sort();
    let mut expected = vec![file_only.sha256.clone(), with_row.sha256.clone()];
    expected.sort();
    assert_eq!(removed, expected);
    assert!(engine.blobs().list().await.unwrap().is_empty());
    assert!(engine.store().list_blob_records().await.unwrap().is_empty());
    assert_eq!(
        engine.store().get_job(job.id).await.unwrap().status,
        Status::Interrupted
    );
}

#[tokio::test]
async fn start_keeps_blobs_that_images_use() {
    let data = tempfile::tempdir().unwrap();
    let (store, blobs) = open(data.path()).await;
    let (engine, _) = Engine::start(store, blobs, SecretKey::generate())
        .await
        .unwrap();
    let (name, bytes) = {
        let spec = netswim_lab::image::ImageSpec {
            model: "WS-C3750X-24P".into(),
            version: "15.2(2)E7".into(),
            feature: "ipbasek9".into(),
            min_dram_mb: 128,
            size: 64 * 1024,
        };
        (
            netswim_lab::image::image_file_name(&spec, netswim_lab::image::ImageFormat::Tar)
                .unwrap(),
            netswim_lab::image::make_tar(&spec).unwrap(),
        )
    };
    let (_, outcome) = engine
        .import_upload(
            Default::default(),
            &name,
            Box::new(std::io::Cursor::new(bytes)),
            None,
            "test",
        )
        .await
        .unwrap();
    drop(engine);
    let (store, blobs) = open(data.path()).await;
    let (engine, report) = Engine::start(store, blobs, SecretKey::generate())
        .await
        .unwrap();
    assert!(report.removed_blobs.is_empty());
    assert_eq!(engine.blobs().list().await.unwrap().len(), 1);
    assert_eq!(
        engine.store().list_images().await.unwrap()[0].sha256,
        outcome.image.sha256
    );
}

#[tokio::test]
async fn an_upload_that_ends_without_its_completion_fails_and_keeps_nothing() {
    let data = tempfile::tempdir().unwrap();
    let (store, blobs) = open(data.path()).await;
    let (engine, _) = Engine::start(store, blobs, SecretKey::generate())
        .await
        .unwrap();
    // A .bin is not inspected: only the completion signal tells a cut upload.
    let (complete, completion) = tokio::sync::oneshot::channel::<()>();
    drop(complete);
    let error = engine
        .import_upload(
            Default::default(),
            "c3750e-universalk9-mz.152-2.E7.bin",
            Box::new(std::io::Cursor::new(vec![1u8; 4096])),
            Some(completion),
            "test",
        )
        .await
        .unwrap_err();
    assert!(error.to_string().contains("stopped sending"), "{error}");
    assert!(engine.store().list_images().await.unwrap().is_empty());
    assert!(engine.blobs().list().await.unwrap().is_empty());
    let jobs = engine.store().list_jobs().await.unwrap();
    assert_eq!(jobs[0].status, Status::Failure);

    let (complete, completion) = tokio::sync::oneshot::channel::<()>();
    complete.send(()).unwrap();
    let (job, outcome) = engine
        .import_upload(
            Default::default(),
            "c3750e-universalk9-mz.152-2.E7.bin",
            Box::new(std::io::Cursor::new(vec![1u8; 4096])),
            Some(completion),
            "test",
        )
        .await
        .unwrap();
    assert_eq!(job.status, Status::Success);
    assert_eq!(outcome.image.size_bytes, 4096);
}
