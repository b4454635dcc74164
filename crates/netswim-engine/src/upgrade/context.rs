//! The runner's machinery behind `runner.rs`: run registry, task driving,
//! sessions, notes, resume.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex as StdMutex};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use netswim_drivers::{Algorithms, Session, SessionOptions};
use netswim_store::{Device, Job, NewEvent, NewTask, Status, Task};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, watch};

use super::runner::{JobPlan, RunContext, RunControl, TaskContext};
use super::{ACTIVATION_JOB, ANALYSIS_JOB, COMMIT_JOB, DISTRIBUTION_JOB, ROLLBACK_JOB};
use crate::credentials::DeviceSecrets;
use crate::{Engine, EngineError};

/// Event kind of a task note.
pub(crate) const NOTE_EVENT: &str = "task.note";

/// Per-engine state of upgrade runs executing in this process.
#[derive(Default)]
pub struct UpgradeState {
    runs: StdMutex<HashMap<i64, RunEntry>>,
    pub(crate) transfer: StdMutex<Option<Arc<super::serving::TransferService>>>,
    pub(crate) timeouts: StdMutex<super::runner::UpgradeTimeouts>,
    /// Held while a device's running image is looked up in the repository
    /// and imported: devices of one job running the same image back it up
    /// once, the others find it in the repository.
    pub(crate) backups: tokio::sync::Mutex<()>,
    /// The last progress payload of each task's running operation (live
    /// only, like the events: pages show it beside the stored rows).
    pub(crate) live_progress: StdMutex<HashMap<i64, Value>>,
}

struct RunEntry {
    control: watch::Sender<RunControl>,
    done: watch::Receiver<bool>,
}

impl std::fmt::Debug for UpgradeState {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("UpgradeState")
            .finish_non_exhaustive()
    }
}

pub(crate) fn lock<T>(mutex: &StdMutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn run_control(engine: &Engine, run_id: i64) -> Option<watch::Sender<RunControl>> {
    lock(&engine.upgrade_state().runs)
        .get(&run_id)
        .map(|entry| entry.control.clone())
}

pub(crate) async fn wait_run(engine: &Engine, run_id: i64) {
    let done = lock(&engine.upgrade_state().runs)
        .get(&run_id)
        .map(|entry| entry.done.clone());
    if let Some(mut done) = done {
        let _ = done.wait_for(|finished| *finished).await;
    }
}

pub(crate) async fn plan_for_job(
    engine: &Engine,
    job: &Job,
) -> Result<Arc<dyn JobPlan>, EngineError> {
    match job.kind.as_str() {
        DISTRIBUTION_JOB => super::distribution::plan(engine, job).await,
        ANALYSIS_JOB => super::analysis::plan(engine, job).await,
        ACTIVATION_JOB | COMMIT_JOB | ROLLBACK_JOB => super::activation::plan(engine, job).await,
        other => Err(EngineError::Invalid {
            what: "job",
            reason: format!("{other} is not an upgrade job kind"),
        }),
    }
}

pub(crate) async fn task_notes(
    engine: &Engine,
    job_id: i64,
    task_id: i64,
) -> Result<BTreeMap<String, Value>, EngineError> {
    let mut notes = BTreeMap::new();
    for event in engine.store().list_job_events(job_id).await? {
        if event.kind == NOTE_EVENT
            && event.task_id == Some(task_id)
            && let (Some(key), Some(value)) = (
                event.payload.get("key").and_then(Value::as_str),
                event.payload.get("value"),
            )
        {
            notes.insert(key.to_owned(), value.clone());
        }
    }
    Ok(notes)
}

pub(crate) async fn set_note<T: Serialize>(
    cx: &mut TaskContext,
    key: &str,
    value: &T,
) -> Result<(), EngineError> {
    let value = serde_json::to_value(value).map_err(|error| EngineError::Invalid {
        what: "task note",
        reason: error.to_string(),
    })?;
    cx.engine
        .publish(NewEvent {
            kind: NOTE_EVENT.to_owned(),
            job_id: Some(cx.job.id),
            run_id: Some(cx.run_id),
            task_id: Some(cx.task.id),
            payload: json!({"key": key, "value": value}),
        })
        .await?;
    cx.notes.insert(key.to_owned(), value);
    Ok(())
}

pub(crate) async fn progress(cx: &TaskContext, payload: Value) {
    ProgressSink::of(cx).send(payload);
}

/// Where a task's progress events go, detached from the task so that a
/// reporter can run beside a step that holds the task's session.
#[derive(Debug, Clone)]
pub(crate) struct ProgressSink {
    engine: Engine,
    job_id: i64,
    run_id: i64,
    task_id: i64,
    device: String,
}

impl ProgressSink {
    pub(crate) fn of(cx: &TaskContext) -> ProgressSink {
        ProgressSink {
            engine: cx.engine.clone(),
            job_id: cx.job.id,
            run_id: cx.run_id,
            task_id: cx.task.id,
            device: cx.device.name.clone(),
        }
    }

    pub(crate) fn send(&self, mut payload: Value) {
        if let Value::Object(map) = &mut payload {
            map.insert("device".into(), json!(self.device));
        }
        lock(&self.engine.upgrade_state().live_progress).insert(self.task_id, payload.clone());
        // Progress is live-only: broadcast without a row per tick.
        self.engine.broadcast_only(NewEvent {
            kind: "operation.progress".to_owned(),
            job_id: Some(self.job_id),
            run_id: Some(self.run_id),
            task_id: Some(self.task_id),
            payload,
        });
    }
}

/// Opens the device's session on first use.
pub(crate) async fn session(cx: &mut TaskContext) -> Result<&mut Session, EngineError> {
    if cx.session.is_none() {
        let opened = open_session(&cx.engine, &cx.device).await?;
        cx.session = Some(opened);
    }
    cx.session
        .as_mut()
        .ok_or_else(|| EngineError::step("no session (hint: this is a bug)"))
}

/// Logs in with the device's credential profile and pinned host key.
pub(crate) async fn open_session(engine: &Engine, device: &Device) -> Result<Session, EngineError> {
    let device = engine.store().get_device(device.id).await?;
    let Some(profile_id) = device.credential_profile_id else {
        return Err(EngineError::step(format!(
            "{} has no credential profile (hint: assign one, then run the job again)",
            device.name
        )));
    };
    let profile = engine.store().get_credential_profile(profile_id).await?;
    let secrets = DeviceSecrets::open(&profile.secret, engine.key()).map_err(|error| {
        EngineError::step(format!(
            "credential profile {} cannot be opened: {error} (hint: re-enter the credentials)",
            profile.name
        ))
    })?;
    let options = SessionOptions {
        host: device.host.clone(),
        port: device.port,
        username: profile.username.clone(),
        password: secrets.password.clone(),
        enable_secret: secrets.enable_secret.clone(),
        algorithms: Algorithms::Legacy,
        connect_timeout: engine.upgrade_timeouts().connect,
        command_timeout: engine.upgrade_timeouts().command,
        pinned_host_key: device.ssh_host_key.clone(),
        keyboard_interactive_first: false,
    };
    let session = Session::connect(options).await?;
    if device.ssh_host_key.is_none() {
        engine
            .store()
            .set_device_host_key(device.id, Some(session.host_key()))
            .await?;
    }
    Ok(session)
}

pub(crate) async fn start_run(
    engine: &Engine,
    job: &Job,
    devices: &[Device],
) -> Result<i64, EngineError> {
    let plan = plan_for_job(engine, job).await?;
    let store = engine.store();
    let run = store.insert_run(job.id, Status::Running).await?;
    let new_tasks: Vec<NewTask> = devices
        .iter()
        .map(|device| NewTask {
            device_id: Some(device.id),
            subject: device.name.clone(),
        })
        .collect();
    store.insert_tasks(run.id, &new_tasks).await?;
    spawn_drive(engine, job.clone(), run.id, plan);
    Ok(run.id)
}

pub(crate) async fn resume_interrupted(engine: &Engine) -> Result<Vec<i64>, EngineError> {
    let store = engine.store();
    let mut resumed = Vec::new();
    let mut jobs = store.list_jobs_with_status(Status::Interrupted).await?;
    jobs.extend(store.list_jobs_with_status(Status::Paused).await?);
    for job in jobs {
        if !matches!(
            job.kind.as_str(),
            DISTRIBUTION_JOB | ACTIVATION_JOB | COMMIT_JOB | ROLLBACK_JOB | ANALYSIS_JOB
        ) {
            continue;
        }
        let Some(run) = store.list_runs(job.id).await?.into_iter().last() else {
            continue;
        };
        if run.status.is_finished() || lock(&engine.upgrade_state().runs).contains_key(&run.id) {
            continue;
        }
        let plan = match plan_for_job(engine, &job).await {
            Ok(plan) => plan,
            Err(error) => {
                tracing::warn!(job = job.id, %error, "cannot resume job");
                continue;
            }
        };
        let paused = job.status == Status::Paused;
        store.set_run_status(run.id, Status::Running).await?;
        store
            .set_job_status(
                job.id,
                if paused {
                    Status::Paused
                } else {
                    Status::Running
                },
            )
            .await?;
        tracing::info!(
            job = job.id,
            run = run.id,
            "resuming interrupted upgrade run"
        );
        engine
            .publish(NewEvent {
                kind: "job.resumed".to_owned(),
                job_id: Some(job.id),
                run_id: Some(run.id),
                task_id: None,
                payload: json!({"reason": "server restarted"}),
            })
            .await?;
        let control = spawn_drive(engine, job, run.id, plan);
        if paused {
            let _ = control.send(RunControl::Pause);
        }
        resumed.push(run.id);
    }
    Ok(resumed)
}

fn spawn_drive(
    engine: &Engine,
    job: Job,
    run_id: i64,
    plan: Arc<dyn JobPlan>,
) -> watch::Sender<RunControl> {
    let (control, control_rx) = watch::channel(RunControl::Run);
    let (done_tx, done_rx) = watch::channel(false);
    lock(&engine.upgrade_state().runs).insert(
        run_id,
        RunEntry {
            control: control.clone(),
            done: done_rx,
        },
    );
    let engine = engine.clone();
    tokio::spawn(async move {
        if let Err(error) = drive(&engine, &job, run_id, plan, control_rx).await {
            tracing::warn!(job = job.id, run = run_id, %error, "upgrade run stopped on an error");
            let _ = engine.store().set_run_status(run_id, Status::Failure).await;
            let _ = engine.store().set_job_status(job.id, Status::Failure).await;
        }
        lock(&engine.upgrade_state().runs).remove(&run_id);
        let _ = done_tx.send(true);
    });
    control
}

async fn event(
    engine: &Engine,
    job: &Job,
    run_id: i64,
    task_id: Option<i64>,
    kind: &str,
    payload: Value,
) {
    let stored = engine
        .publish(NewEvent {
            kind: kind.to_owned(),
            job_id: Some(job.id),
            run_id: Some(run_id),
            task_id,
            payload,
        })
        .await;
    if let Err(error) = stored {
        tracing::warn!(job = job.id, %error, "could not record an event");
    }
}

/// An operation's start or end, for watchers only: the operation row
/// already records it durably, and one more row per step would make the
/// store's single writer the bottleneck of a large run.
fn live_event(shared: &Drive, task_id: i64, kind: &str, payload: Value) {
    shared.engine.broadcast_only(NewEvent {
        kind: kind.to_owned(),
        job_id: Some(shared.job.id),
        run_id: Some(shared.run_id),
        task_id: Some(task_id),
        payload,
    });
}

/// Shared state of one run while it executes.
struct Drive {
    engine: Engine,
    job: Job,
    run_id: i64,
    plan: Arc<dyn JobPlan>,
    control: watch::Receiver<RunControl>,
    global: Semaphore,
    sites: StdMutex<HashMap<Option<i64>, Arc<Semaphore>>>,
    servers: StdMutex<HashMap<Option<i64>, Arc<Semaphore>>>,
    failed: std::sync::atomic::AtomicBool,
}

impl Drive {
    fn bucket(
        map: &StdMutex<HashMap<Option<i64>, Arc<Semaphore>>>,
        key: Option<i64>,
        size: usize,
    ) -> Arc<Semaphore> {
        lock(map)
            .entry(key)
            .or_insert_with(|| Arc::new(Semaphore::new(size.max(1))))
            .clone()
    }

    /// Waits while paused; returns false when the run is cancelled.
    async fn wait_while_paused(&self) -> bool {
        let mut control = self.control.clone();
        loop {
            match *control.borrow_and_update() {
                RunControl::Run => return true,
                RunControl::Cancel => return false,
                RunControl::Pause => {}
            }
            if control.changed().await.is_err() {
                return true;
            }
        }
    }
}

async fn drive(
    engine: &Engine,
    job: &Job,
    run_id: i64,
    plan: Arc<dyn JobPlan>,
    control: watch::Receiver<RunControl>,
) -> Result<(), EngineError> {
    let store = engine.store();
    let tasks: Vec<Task> = store
        .list_tasks(run_id)
        .await?
        .into_iter()
        .filter(|task| !task.status.is_finished())
        .collect();
    let mut devices = Vec::with_capacity(tasks.len());
    let mut work = Vec::with_capacity(tasks.len());
    for task in tasks {
        let Some(device_id) = task.device_id else {
            continue;
        };
        match store.get_device(device_id).await {
            Ok(device) => {
                devices.push(device.clone());
                work.push((task, device));
            }
            Err(error) => {
                let message = format!("device {device_id} is gone: {error}");
                store
                    .set_task_status(task.id, Status::Failure, Some(&message))
                    .await?;
            }
        }
    }
    let run_context = RunContext {
        engine: engine.clone(),
        job: job.clone(),
        run_id,
        devices,
    };
    event(
        engine,
        job,
        run_id,
        None,
        "run.started",
        json!({"devices": work.len()}),
    )
    .await;
    if let Err(error) = plan.prepare(&run_context).await {
        let message = error.to_string();
        for (task, _) in &work {
            store
                .set_task_status(task.id, Status::Failure, Some(&message))
                .await?;
        }
        plan.finish(&run_context).await;
        return finish_run(engine, job, run_id, false).await;
    }
    let limits = plan.limits();
    let shared = Arc::new(Drive {
        engine: engine.clone(),
        job: job.clone(),
        run_id,
        plan: plan.clone(),
        control,
        global: Semaphore::new(limits.global.max(1)),
        sites: StdMutex::new(HashMap::new()),
        servers: StdMutex::new(HashMap::new()),
        failed: std::sync::atomic::AtomicBool::new(false),
    });
    let mut running: FuturesUnordered<_> = work
        .into_iter()
        .map(|(task, device)| {
            let shared = shared.clone();
            async move {
                if let Err(error) = run_task(&shared, task.clone(), device).await {
                    // A store failure while recording: the task ends with it.
                    let message = error.to_string();
                    let _ = shared
                        .engine
                        .store()
                        .set_task_status(task.id, Status::Failure, Some(&message))
                        .await;
                }
            }
        })
        .collect();
    while running.next().await.is_some() {}
    plan.finish(&run_context).await;
    let cancelled = *shared.control.borrow() == RunControl::Cancel;
    finish_run(engine, job, run_id, cancelled).await
}

async fn finish_run(
    engine: &Engine,
    job: &Job,
    run_id: i64,
    cancelled: bool,
) -> Result<(), EngineError> {
    let store = engine.store();
    let counts = store.run_task_counts(run_id).await?;
    let count = |status: Status| counts.get(&status).copied().unwrap_or(0);
    let total: u64 = counts.values().sum();
    let status = if cancelled {
        Status::Cancelled
    } else if count(Status::Success) == total {
        Status::Success
    } else if count(Status::Success) == 0 {
        Status::Failure
    } else {
        Status::Partial
    };
    store.set_run_status(run_id, status).await?;
    store.set_job_status(job.id, status).await?;
    event(
        engine,
        job,
        run_id,
        None,
        "job.finished",
        json!({
            "status": status.as_str(),
            "successful": count(Status::Success),
            "failed": count(Status::Failure),
            "cancelled": count(Status::Cancelled),
            "total": total,
        }),
    )
    .await;
    Ok(())
}

async fn run_task(shared: &Drive, task: Task, device: Device) -> Result<(), EngineError> {
    let store = shared.engine.store();
    let limits = shared.plan.limits();
    // Fixed acquisition order: distribution server → site → global.
    let server = Drive::bucket(
        &shared.servers,
        shared.plan.server_of(&device),
        limits.per_server,
    );
    let site = Drive::bucket(&shared.sites, device.site_id, limits.per_site);
    let not_started = |reason: &str| reason.to_owned();
    if !shared.wait_while_paused().await {
        let message = not_started("cancelled before it started");
        store
            .set_task_status(task.id, Status::Cancelled, Some(&message))
            .await?;
        return Ok(());
    }
    let _server = server.acquire().await;
    let _site = site.acquire().await;
    let _global = shared.global.acquire().await;
    // The state may have changed while this task queued.
    if !shared.wait_while_paused().await {
        store
            .set_task_status(
                task.id,
                Status::Cancelled,
                Some("cancelled before it started"),
            )
            .await?;
        return Ok(());
    }
    if shared.plan.stop_on_failure() && shared.failed.load(std::sync::atomic::Ordering::SeqCst) {
        store
            .set_task_status(
                task.id,
                Status::Cancelled,
                Some("not started: an earlier device failed and the job stops on failure"),
            )
            .await?;
        return Ok(());
    }
    let previous = store.list_operations(task.id).await?;
    let notes = task_notes(&shared.engine, shared.job.id, task.id).await?;
    store
        .set_task_status(task.id, Status::Running, None)
        .await?;
    let mut cx = TaskContext {
        engine: shared.engine.clone(),
        job: shared.job.clone(),
        run_id: shared.run_id,
        task: task.clone(),
        device: device.clone(),
        previous,
        notes,
        session: None,
        control: shared.control.clone(),
        current_operation: None,
    };
    event(
        &shared.engine,
        &shared.job,
        shared.run_id,
        Some(task.id),
        "task.started",
        json!({"device": device.name}),
    )
    .await;
    let mut outcome: (Status, String) = (Status::Success, "done".to_owned());
    for step in shared.plan.steps(&device) {
        if !step.applies(&cx) {
            continue;
        }
        if step.cancel_point() {
            // Pause holds a device between steps; cancel stops it here.
            let go_on = shared.wait_while_paused().await;
            if !go_on {
                outcome = (
                    Status::Cancelled,
                    format!("cancelled before {}", step.name()),
                );
                break;
            }
        }
        let operation = store
            .add_operation(task.id, step.name(), Status::Running)
            .await?;
        cx.current_operation = Some(operation.id);
        live_event(
            shared,
            task.id,
            "operation.started",
            json!({"device": device.name, "operation": step.name()}),
        );
        let result = step.run(&mut cx).await;
        let (status, message) = match &result {
            Ok(done) => (Status::Success, done.message.clone()),
            Err(error) => (Status::Failure, one_line(&error.to_string())),
        };
        lock(&shared.engine.upgrade_state().live_progress).remove(&task.id);
        store
            .set_operation_status(operation.id, status, Some(&message))
            .await?;
        cx.current_operation = None;
        live_event(
            shared,
            task.id,
            "operation.finished",
            json!({"device": device.name, "operation": step.name(), "status": status.as_str(), "message": message}),
        );
        match result {
            Ok(_) => outcome = (Status::Success, message),
            Err(_) => {
                outcome = (Status::Failure, format!("{}: {message}", step.name()));
                break;
            }
        }
    }
    cx.drop_session().await;
    if outcome.0 == Status::Failure {
        shared
            .failed
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
    store
        .set_task_status(task.id, outcome.0, Some(&outcome.1))
        .await?;
    event(
        &shared.engine,
        &shared.job,
        shared.run_id,
        Some(task.id),
        "task.finished",
        json!({"device": device.name, "status": outcome.0.as_str(), "message": outcome.1}),
    )
    .await;
    Ok(())
}

/// The first line of a message, trimmed (operation messages are one line).
pub(crate) fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
