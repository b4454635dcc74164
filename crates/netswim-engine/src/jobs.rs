//! The job runner: an [`Engine`] owns the store, the blob store, the secret
//! key and the event broadcaster; it records every job as job → run → tasks →
//! operations (each step written before it acts and after it finishes), runs
//! jobs in tokio tasks, and at start turns what a crash left running into
//! `interrupted` and removes bytes no image row owns.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use netswim_store::crypto::SecretKey;
use netswim_store::{
    BlobStore, Event, Job, LocalBlobStore, NewEvent, NewJob, NewTask, Status, Store, Task,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::io::AsyncRead;
use tokio::sync::{Mutex, broadcast, mpsc};

use crate::EngineError;
use crate::import::{
    ImportOutcome, ImportProgress, ImportSource, ImportSpec, StepRecorder, import_from_reader,
    open_source, upload_source,
};
use crate::sync::{SyncOptions, sync_devices};

/// Job kind of an image import.
pub const IMPORT_JOB: &str = "import";
/// Job kind of an inventory sync.
pub const SYNC_JOB: &str = "sync";

/// What a sync job is asked to do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncSpec {
    /// Devices to sync; empty means every device.
    #[serde(default)]
    pub device_ids: Vec<i64>,
}

/// What the engine cleaned up at start.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecoveryReport {
    pub interrupted_jobs: u64,
    pub interrupted_tasks: u64,
    pub removed_blobs: Vec<String>,
}

struct EngineInner {
    store: Store,
    blobs: Arc<LocalBlobStore>,
    key: SecretKey,
    events: broadcast::Sender<Event>,
    sync_options: SyncOptions,
    /// Serialises import records against startup cleanup and deletes.
    blob_lock: Mutex<()>,
    /// Upgrade runs executing in this process, the transfer service.
    upgrade: crate::upgrade::UpgradeState,
}

/// The job runner; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Engine {
    /// Recovers from a previous crash and returns a ready engine: running
    /// jobs/runs/tasks/operations become `interrupted`, blobs no image row
    /// uses are removed (files and rows).
    pub async fn start(
        store: Store,
        blobs: LocalBlobStore,
        key: SecretKey,
    ) -> Result<(Engine, RecoveryReport), EngineError> {
        let counts = store.mark_running_as_interrupted().await?;
        let mut removed = Vec::new();
        let image_hashes: std::collections::HashSet<String> = store
            .list_images()
            .await?
            .into_iter()
            .map(|image| image.sha256)
            .collect();
        for blob in blobs.list().await? {
            if !image_hashes.contains(&blob.sha256) {
                blobs.delete(&blob.sha256).await?;
                removed.push(blob.sha256);
            }
        }
        for record in store.list_unreferenced_blobs().await? {
            store.delete_blob_record(&record.sha256).await?;
            if !removed.contains(&record.sha256) {
                removed.push(record.sha256);
            }
        }
        let (events, _) = broadcast::channel(1024);
        let engine = Engine {
            inner: Arc::new(EngineInner {
                store,
                blobs: Arc::new(blobs),
                key,
                events,
                sync_options: SyncOptions::default(),
                blob_lock: Mutex::new(()),
                upgrade: crate::upgrade::UpgradeState::default(),
            }),
        };
        let report = RecoveryReport {
            interrupted_jobs: counts.jobs,
            interrupted_tasks: counts.tasks,
            removed_blobs: removed,
        };
        if report.interrupted_jobs > 0 || !report.removed_blobs.is_empty() {
            tracing::warn!(?report, "recovered from an unclean stop");
        }
        Ok((engine, report))
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn blobs(&self) -> &LocalBlobStore {
        &self.inner.blobs
    }

    pub fn key(&self) -> &SecretKey {
        &self.inner.key
    }

    /// Live events (also persisted); a slow subscriber misses old ones.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// Persists and broadcasts an event.
    pub async fn publish(&self, event: NewEvent) -> Result<Event, EngineError> {
        let stored = self.inner.store.insert_event(&event).await?;
        // No subscriber is fine: the event is in the store.
        let _ = self.inner.events.send(stored.clone());
        Ok(stored)
    }

    /// Broadcasts an event without storing it (live progress ticks).
    pub fn broadcast_only(&self, event: NewEvent) {
        let now = netswim_store::Timestamp::now();
        let _ = self.inner.events.send(Event {
            id: 0,
            kind: event.kind,
            job_id: event.job_id,
            run_id: event.run_id,
            task_id: event.task_id,
            payload: event.payload,
            at: now,
        });
    }

    pub(crate) fn upgrade_state(&self) -> &crate::upgrade::UpgradeState {
        &self.inner.upgrade
    }

    /// Creates an import job from a file or URL and runs it in the background.
    pub async fn submit_import(&self, spec: ImportSpec, actor: &str) -> Result<Job, EngineError> {
        let source = spec.source.clone().ok_or_else(|| EngineError::Invalid {
            what: "import spec",
            reason: "no source (hint: give a file path or a URL)".into(),
        })?;
        if matches!(source, ImportSource::Upload { .. }) {
            return Err(EngineError::Invalid {
                what: "import spec",
                reason: "uploads run through import_upload".into(),
            });
        }
        // The task row names the device: it must exist before the job does.
        if let ImportSource::Device { device_id, .. } = &source {
            self.inner.store.get_device(*device_id).await?;
        }
        // A password in the URL is used for this run only, never stored.
        let mut stored_spec = spec.clone();
        if let ImportSource::Url { url } = &source {
            stored_spec.source = Some(ImportSource::Url {
                url: without_password(url),
            });
        }
        let job = self
            .create_job(IMPORT_JOB, &source_label(&source), &stored_spec, actor)
            .await?;
        let engine = self.clone();
        let job_for_task = job.clone();
        tokio::spawn(async move {
            let spec_for_open = spec.clone();
            let result = engine
                .run_import(&job_for_task, &spec, move || async move {
                    open_source(&source, &spec_for_open).await
                })
                .await;
            if let Err(error) = result {
                tracing::info!(job = job_for_task.id, %error, "import failed");
            }
        });
        Ok(job)
    }

    /// Imports bytes streamed by a client; returns when the image is stored
    /// or rejected. The job is recorded like any other. `completion`, when
    /// given, must fire after the last byte: a reader that ends without it
    /// (the client went away) fails the import instead of storing a prefix.
    /// The import runs in its own task, so the job ends with a status even
    /// when the caller stops waiting.
    pub async fn import_upload(
        &self,
        mut spec: ImportSpec,
        file_name: &str,
        reader: Box<dyn AsyncRead + Send + Unpin>,
        completion: Option<tokio::sync::oneshot::Receiver<()>>,
        actor: &str,
    ) -> Result<(Job, ImportOutcome), EngineError> {
        spec.source = Some(ImportSource::Upload {
            file_name: file_name.to_owned(),
        });
        let label = format!("upload {file_name}");
        let job = self.create_job(IMPORT_JOB, &label, &spec, actor).await?;
        let name = file_name.to_owned();
        let engine = self.clone();
        let job_for_task = job.clone();
        let outcome = tokio::spawn(async move {
            engine
                .run_import(&job_for_task, &spec, move || async move {
                    Ok(upload_source(reader, &name, completion))
                })
                .await
        })
        .await
        .map_err(|error| EngineError::Invalid {
            what: "import task",
            reason: error.to_string(),
        })??;
        let job = self.inner.store.get_job(job.id).await?;
        Ok((job, outcome))
    }

    /// Creates a sync job for some (or all) devices and runs it in the background.
    pub async fn submit_sync(&self, spec: SyncSpec, actor: &str) -> Result<Job, EngineError> {
        let name = if spec.device_ids.is_empty() {
            "sync all devices".to_owned()
        } else {
            format!("sync {} device(s)", spec.device_ids.len())
        };
        let job = self.create_job(SYNC_JOB, &name, &spec, actor).await?;
        let engine = self.clone();
        let job_for_task = job.clone();
        tokio::spawn(async move {
            if let Err(error) = engine.run_sync(&job_for_task, &spec).await {
                tracing::warn!(job = job_for_task.id, %error, "sync job failed");
            }
        });
        Ok(job)
    }

    /// Deletes an image unless a job that has not finished names it.
    pub async fn delete_image(&self, image_id: i64) -> Result<(), EngineError> {
        let store = &self.inner.store;
        let image = store.get_image(image_id).await?;
        for status in [Status::Scheduled, Status::NotStarted, Status::Running] {
            for job in store.list_jobs_with_status(status).await? {
                if spec_mentions_image(&job.spec, image.id, &image.sha256) {
                    return Err(EngineError::InUse {
                        what: format!("image {} ({})", image.id, image.file_name),
                        reason: format!("{} job {} ({}) uses it", job.status, job.id, job.name),
                    });
                }
            }
        }
        let _guard = self.inner.blob_lock.lock().await;
        // Row first: a crash in between leaves an unreferenced blob, which
        // the next start removes.
        store.delete_image(image.id).await?;
        match self.inner.blobs.delete(&image.sha256).await {
            Ok(()) | Err(netswim_store::StoreError::NotFound { .. }) => {}
            Err(error) => return Err(error.into()),
        }
        match store.delete_blob_record(&image.sha256).await {
            Ok(()) | Err(netswim_store::StoreError::NotFound { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    async fn create_job<S: Serialize>(
        &self,
        kind: &str,
        name: &str,
        spec: &S,
        actor: &str,
    ) -> Result<Job, EngineError> {
        let spec = serde_json::to_value(spec).map_err(|error| EngineError::Invalid {
            what: "job spec",
            reason: error.to_string(),
        })?;
        let job = self
            .inner
            .store
            .insert_job(&NewJob {
                kind: kind.to_owned(),
                name: name.to_owned(),
                spec,
                schedule: json!({"kind": "now"}),
                status: Status::Running,
                created_by: Some(actor.to_owned()),
                next_run_at: None,
            })
            .await?;
        self.job_event(
            &job,
            None,
            None,
            "job.started",
            json!({"kind": kind, "name": name}),
        )
        .await;
        Ok(job)
    }

    async fn job_event(
        &self,
        job: &Job,
        run_id: Option<i64>,
        task_id: Option<i64>,
        kind: &str,
        payload: Value,
    ) {
        let event = NewEvent {
            kind: kind.to_owned(),
            job_id: Some(job.id),
            run_id,
            task_id,
            payload,
        };
        if let Err(error) = self.publish(event).await {
            tracing::warn!(job = job.id, %error, "could not record an event");
        }
    }

    async fn run_import<F, Fut>(
        &self,
        job: &Job,
        spec: &ImportSpec,
        open: F,
    ) -> Result<ImportOutcome, EngineError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<crate::import::OpenedSource, EngineError>>,
    {
        let store = &self.inner.store;
        let run = store.insert_run(job.id, Status::Running).await?;
        let subject = spec.source.as_ref().map(source_label).unwrap_or_default();
        let task = store
            .insert_tasks(
                run.id,
                &[NewTask {
                    device_id: match &spec.source {
                        Some(ImportSource::Device { device_id, .. }) => Some(*device_id),
                        _ => None,
                    },
                    subject,
                }],
            )
            .await?
            .remove(0);
        store
            .set_task_status(task.id, Status::Running, None)
            .await?;
        let progress = ImportProgress::default();
        let ticker = {
            let engine = self.clone();
            let job = job.clone();
            let bytes = progress.bytes.clone();
            let (run_id, task_id) = (run.id, task.id);
            tokio::spawn(async move {
                let mut last = 0;
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    let now = bytes.load(std::sync::atomic::Ordering::Relaxed);
                    if now != last {
                        last = now;
                        engine
                            .job_event(
                                &job,
                                Some(run_id),
                                Some(task_id),
                                "import.progress",
                                json!({"bytes": now}),
                            )
                            .await;
                    }
                }
            })
        };
        let mut recorder = OperationRecorder {
            engine: self.clone(),
            job: job.clone(),
            run_id: run.id,
            task: task.clone(),
            current: None,
        };
        let result = async {
            // A device backup copies the file off the device first (its own
            // operations) and imports it with the device's MD5 as expected.
            let mut spec = spec.clone();
            let (opened, _staging) = match &spec.source {
                Some(ImportSource::Device { device_id, path }) => {
                    let context = crate::backup::BackupContext {
                        store,
                        key: &self.inner.key,
                        blobs_root: self.inner.blobs.root(),
                        options: &self.inner.sync_options,
                        job_id: job.id,
                    };
                    let fetched = crate::backup::fetch_from_device(
                        &context,
                        *device_id,
                        path.as_deref(),
                        &mut recorder,
                    )
                    .await?;
                    spec.expected_md5 = Some(fetched.md5);
                    (fetched.opened, Some(fetched.staging))
                }
                _ => (open().await?, None),
            };
            import_from_reader(
                store,
                &self.inner.blobs,
                &spec,
                opened,
                &progress,
                &mut recorder,
            )
            .await
        }
        .await;
        ticker.abort();
        let (status, message, payload) = match &result {
            Ok(outcome) => (
                Status::Success,
                if outcome.duplicate {
                    format!("already in the repository as image {}", outcome.image.id)
                } else {
                    format!("imported as image {}", outcome.image.id)
                },
                json!({"image_id": outcome.image.id, "duplicate": outcome.duplicate}),
            ),
            Err(error) => (
                Status::Failure,
                error.to_string(),
                json!({"error": error.to_string()}),
            ),
        };
        recorder.close(status, &message).await;
        store
            .set_task_status(task.id, status, Some(&message))
            .await?;
        store.set_run_status(run.id, status).await?;
        store.set_job_status(job.id, status).await?;
        let mut payload = payload;
        payload["status"] = json!(status.as_str());
        payload["message"] = json!(message);
        self.job_event(job, Some(run.id), Some(task.id), "job.finished", payload)
            .await;
        result
    }

    async fn run_sync(&self, job: &Job, spec: &SyncSpec) -> Result<(), EngineError> {
        let store = &self.inner.store;
        let run = store.insert_run(job.id, Status::Running).await?;
        let mut devices = store.list_devices().await?;
        if !spec.device_ids.is_empty() {
            devices.retain(|device| spec.device_ids.contains(&device.id));
        }
        let new_tasks: Vec<NewTask> = devices
            .iter()
            .map(|device| NewTask {
                device_id: Some(device.id),
                subject: device.name.clone(),
            })
            .collect();
        let tasks = store.insert_tasks(run.id, &new_tasks).await?;
        let mut operations = std::collections::HashMap::new();
        for task in &tasks {
            store
                .set_task_status(task.id, Status::Running, None)
                .await?;
            let operation = store
                .add_operation(task.id, "collect facts", Status::Running)
                .await?;
            if let Some(device_id) = task.device_id {
                operations.insert(device_id, (task.id, operation.id));
            }
        }
        let (sender, mut receiver) = mpsc::unbounded_channel();
        let recorder = {
            let engine = self.clone();
            let job = job.clone();
            let run_id = run.id;
            let operations = operations.clone();
            tokio::spawn(async move {
                let mut counts = (0u64, 0u64);
                while let Some(result) = receiver.recv().await {
                    let result: crate::sync::DeviceSyncResult = result;
                    let Some((task_id, operation_id)) = operations.get(&result.device_id) else {
                        continue;
                    };
                    let (status, message) = match &result.outcome {
                        crate::sync::SyncOutcome::Synced { changed_fields } => {
                            counts.0 += 1;
                            (
                                Status::Success,
                                format!("synced; changed: {}", changed_fields.join(", ")),
                            )
                        }
                        other => {
                            counts.1 += 1;
                            (
                                Status::Failure,
                                format!("{}: {}", other.kind(), outcome_message(other)),
                            )
                        }
                    };
                    let store = engine.store();
                    let _ = store
                        .set_operation_status(*operation_id, status, Some(&message))
                        .await;
                    let _ = store
                        .set_task_status(*task_id, status, Some(&message))
                        .await;
                    engine
                        .job_event(
                            &job,
                            Some(run_id),
                            Some(*task_id),
                            "sync.device",
                            serde_json::to_value(&result).unwrap_or_default(),
                        )
                        .await;
                }
                counts
            })
        };
        let progress = move |result: &crate::sync::DeviceSyncResult| {
            let _ = sender.send(result.clone());
        };
        let synced = sync_devices(
            store,
            &self.inner.key,
            &devices,
            &self.inner.sync_options,
            &progress,
        )
        .await;
        drop(progress);
        let (succeeded, failed) = recorder.await.unwrap_or_default();
        let status = match &synced {
            Err(error) => {
                // Tasks the sync never reached end with the job's error.
                let message = error.to_string();
                for task in store.list_tasks(run.id).await? {
                    if task.status == Status::Running {
                        store
                            .set_task_status(task.id, Status::Failure, Some(&message))
                            .await?;
                        for operation in store.list_operations(task.id).await? {
                            if operation.status == Status::Running {
                                store
                                    .set_operation_status(
                                        operation.id,
                                        Status::Failure,
                                        Some(&message),
                                    )
                                    .await?;
                            }
                        }
                    }
                }
                if succeeded > 0 {
                    Status::Partial
                } else {
                    Status::Failure
                }
            }
            Ok(_) if failed == 0 => Status::Success,
            Ok(_) if succeeded == 0 => Status::Failure,
            Ok(_) => Status::Partial,
        };
        store.set_run_status(run.id, status).await?;
        store.set_job_status(job.id, status).await?;
        let mut payload = json!({"status": status.as_str(), "synced": succeeded, "failed": failed});
        if let Err(error) = &synced {
            payload["message"] = json!(error.to_string());
        }
        self.job_event(job, Some(run.id), None, "job.finished", payload)
            .await;
        Ok(())
    }

    /// A job with its runs, tasks and operations.
    pub async fn job_detail(&self, job_id: i64) -> Result<JobDetail, EngineError> {
        let store = &self.inner.store;
        let job = store.get_job(job_id).await?;
        let mut runs = Vec::new();
        for run in store.list_runs(job_id).await? {
            let mut tasks = Vec::new();
            for task in store.list_tasks(run.id).await? {
                let operations = store.list_operations(task.id).await?;
                tasks.push((task, operations));
            }
            runs.push((run, tasks));
        }
        Ok(JobDetail { job, runs })
    }
}

/// A task and its operations in order.
pub type TaskDetail = (Task, Vec<netswim_store::Operation>);

/// A job and everything recorded under it.
#[derive(Debug, Clone)]
pub struct JobDetail {
    pub job: Job,
    pub runs: Vec<(netswim_store::JobRun, Vec<TaskDetail>)>,
}

fn outcome_message(outcome: &crate::sync::SyncOutcome) -> &str {
    use crate::sync::SyncOutcome::*;
    match outcome {
        Synced { .. } => "",
        Unreachable { message }
        | AuthFailed { message }
        | Unsupported { message }
        | HostKeyChanged { message }
        | Failed { message } => message,
    }
}

fn source_label(source: &ImportSource) -> String {
    match source {
        ImportSource::File { path } => format!("import {}", path.display()),
        ImportSource::Url { url } => format!("import {}", without_password(url)),
        ImportSource::Upload { file_name } => format!("upload {file_name}"),
        ImportSource::Device { device_id, path } => format!(
            "back up {} from device {device_id}",
            path.as_deref().unwrap_or("the running image")
        ),
    }
}

/// The URL with its password (if any) replaced by `***`.
fn without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => url.to_owned(),
    }
}

/// Whether a job spec names an image by id (`image_id`, `image_ids`) or hash.
fn spec_mentions_image(spec: &Value, image_id: i64, sha256: &str) -> bool {
    match spec {
        Value::Object(map) => map.iter().any(|(key, value)| {
            let by_id = (key == "image_id" && value.as_i64() == Some(image_id))
                || (key == "image_ids"
                    && value
                        .as_array()
                        .is_some_and(|ids| ids.iter().any(|id| id.as_i64() == Some(image_id))));
            by_id || spec_mentions_image(value, image_id, sha256)
        }),
        Value::Array(items) => items
            .iter()
            .any(|item| spec_mentions_image(item, image_id, sha256)),
        Value::String(text) => text == sha256,
        _ => false,
    }
}

/// Writes one operation per import step: `running` before it acts, its end
/// status and message after.
struct OperationRecorder {
    engine: Engine,
    job: Job,
    run_id: i64,
    task: Task,
    current: Option<(i64, String)>,
}

impl OperationRecorder {
    async fn close(&mut self, status: Status, message: &str) {
        if let Some((operation_id, name)) = self.current.take() {
            let _ = self
                .engine
                .store()
                .set_operation_status(operation_id, status, Some(message))
                .await;
            self.engine
                .job_event(
                    &self.job,
                    Some(self.run_id),
                    Some(self.task.id),
                    "operation.finished",
                    json!({"operation": name, "status": status.as_str(), "message": message}),
                )
                .await;
        }
    }
}

impl StepRecorder for OperationRecorder {
    fn begin<'a>(
        &'a mut self,
        name: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), EngineError>> + Send + 'a>> {
        Box::pin(async move {
            let operation = self
                .engine
                .store()
                .add_operation(self.task.id, name, Status::Running)
                .await?;
            self.current = Some((operation.id, name.to_owned()));
            self.engine
                .job_event(
                    &self.job,
                    Some(self.run_id),
                    Some(self.task.id),
                    "operation.started",
                    json!({"operation": name}),
                )
                .await;
            Ok(())
        })
    }

    fn finish<'a>(
        &'a mut self,
        message: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), EngineError>> + Send + 'a>> {
        Box::pin(async move {
            self.close(Status::Success, message).await;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_specs_mention_images_by_id_list_or_hash() {
        let hash = "a".repeat(64);
        let cases = [
            (json!({"image_id": 3}), true),
            (json!({"image_ids": [1, 3]}), true),
            (json!({"options": {"image_id": 3}}), true),
            (json!({"images": [hash.clone()]}), true),
            (json!({"image_id": 4, "device_ids": [3]}), false),
            (json!({}), false),
        ];
        for (spec, expected) in cases {
            assert_eq!(spec_mentions_image(&spec, 3, &hash), expected, "{spec}");
        }
    }
}
