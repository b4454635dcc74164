//! The durable upgrade runner: one task per device, each task an ordered
//! list of named [`Step`]s, each step an operation row written `running`
//! before it acts and with its end status and a one-line message after.
//!
//! How a job kind plugs in: it implements [`JobPlan`] (the steps every
//! device runs, the concurrency limits, what to prepare before the first
//! device and clean up after the last) and is built from the stored job by
//! [`plan_for_job`] (one match arm per kind), so a restarted server can
//! rebuild the plan of an interrupted run from the job row alone.
//!
//! Resume contract for steps: a step must be safe to run again. It first
//! re-reads the device (file with the right MD5 already there → no
//! transfer; device already runs the target → no reload) and looks at
//! [`TaskContext::previous`] (e.g. a `reload` operation left `interrupted`
//! → wait for the device instead of reloading again). Old operation rows
//! stay; a new attempt appends new ones.
//!
//! Notes: a step can leave durable facts for later steps and later jobs
//! (the distributed file paths, the boot entries before activation, the
//! TFTP fallback URL) with [`TaskContext::set_note`]; they are stored as
//! `task.note` events and read back on resume and by activation jobs that
//! start from a distribution run ([`task_notes`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use netswim_drivers::Session;
use netswim_store::{Device, Job, Operation, Task};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::watch;

use crate::{Engine, EngineError};

/// Run-level control, set by `Engine::control_job` and read by the runner
/// between steps (never inside one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunControl {
    #[default]
    Run,
    /// No new device starts; devices already started finish their current
    /// step and then wait (their task stays `running`) until `Run`.
    Pause,
    /// No new device starts; started devices stop at their next step
    /// boundary that [`Step::cancel_point`] allows; the rest end `cancelled`.
    Cancel,
}

/// Concurrency bounds of a run. Semaphores are acquired in this fixed
/// order: distribution server → site → global (never the other way round).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Devices at once over the whole run (1 = sequential).
    pub global: usize,
    /// Devices at once per site (devices without a site share one bucket).
    pub per_site: usize,
    /// Devices at once per distribution server (the local server is one).
    pub per_server: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            global: 50,
            per_site: 50,
            per_server: 50,
        }
    }
}

/// Time bounds of device work in upgrade jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpgradeTimeouts {
    /// TCP connect, SSH handshake and login.
    pub connect: Duration,
    /// One ordinary command.
    pub command: Duration,
    /// A transfer with no progress for this long is stalled and aborted.
    pub stall: Duration,
    /// One whole image transfer (`copy`), however it progresses.
    pub transfer: Duration,
}

impl Default for UpgradeTimeouts {
    fn default() -> Self {
        UpgradeTimeouts {
            connect: Duration::from_secs(20),
            command: Duration::from_secs(120),
            stall: Duration::from_secs(60),
            transfer: Duration::from_secs(3600),
        }
    }
}

/// What a step reports when it ends well: the operation's message, one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepDone {
    pub message: String,
}

impl StepDone {
    pub fn new(message: impl Into<String>) -> Self {
        StepDone {
            message: message.into(),
        }
    }
}

/// One named, re-runnable step of a device task.
#[async_trait::async_trait]
pub trait Step: Send + Sync {
    /// The operation name (`prechecks`, `transfer`, `verify`, `reload`, ...).
    fn name(&self) -> &str;

    /// Whether a cancel may stop the task right before this step (default
    /// true; false between `reload` and `validate`, so a device is never
    /// left reloaded and unvalidated).
    fn cancel_point(&self) -> bool {
        true
    }

    /// Whether the step concerns this device at all, from what earlier
    /// steps noted (an IOS switch has no `install commit`); one that does
    /// not is left out of the task's operations. Default true.
    fn applies(&self, _cx: &TaskContext) -> bool {
        true
    }

    /// Does the work. An error fails the task with the error's one-line
    /// message (use `EngineError::Step` for device-specific failures).
    async fn run(&self, cx: &mut TaskContext) -> Result<StepDone, EngineError>;
}

/// A job kind as the runner sees it.
#[async_trait::async_trait]
pub trait JobPlan: Send + Sync {
    /// The steps each device runs, in order.
    fn steps(&self, device: &Device) -> Vec<Arc<dyn Step>>;

    /// Concurrency bounds.
    fn limits(&self) -> Limits;

    /// Stop starting devices after the first failure (`FailurePolicy::Stop`).
    fn stop_on_failure(&self) -> bool {
        false
    }

    /// The distribution server a device pulls from (`None` = the local
    /// server); keys the per-server semaphore.
    fn server_of(&self, device: &Device) -> Option<i64> {
        let _ = device;
        None
    }

    /// Runs once per run (and again on resume) before any device starts:
    /// publish files, mint credentials, push images to relays.
    async fn prepare(&self, run: &RunContext) -> Result<(), EngineError> {
        let _ = run;
        Ok(())
    }

    /// Runs once per run after the last device, whatever the outcome:
    /// unpublish, revoke credentials.
    async fn finish(&self, run: &RunContext) {
        let _ = run;
    }
}

/// What `prepare`/`finish` see: the engine, the job and the run.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub engine: Engine,
    pub job: Job,
    pub run_id: i64,
    /// The devices of the run's unfinished tasks.
    pub devices: Vec<Device>,
}

/// What a step sees: the engine, its job/run/task, the device, a lazily
/// opened SSH session, the operations of earlier attempts of this task,
/// the task's notes, and the run's control channel.
pub struct TaskContext {
    pub engine: Engine,
    pub job: Job,
    pub run_id: i64,
    pub task: Task,
    pub device: Device,
    /// Operations recorded for this task before the current attempt began
    /// (empty on a first attempt).
    pub previous: Vec<Operation>,
    pub(crate) notes: BTreeMap<String, Value>,
    pub(crate) session: Option<Session>,
    pub(crate) control: watch::Receiver<RunControl>,
    pub(crate) current_operation: Option<i64>,
}

impl std::fmt::Debug for TaskContext {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TaskContext")
            .field("job", &self.job.id)
            .field("task", &self.task.id)
            .field("device", &self.device.name)
            .finish_non_exhaustive()
    }
}

impl TaskContext {
    /// The device's SSH session, opened on first use with the device's
    /// credential profile and pinned host key (like sync and backup).
    pub async fn session(&mut self) -> Result<&mut Session, EngineError> {
        super::context::session(self).await
    }

    /// Closes the session (before a reload; the next `session()` reconnects).
    pub async fn drop_session(&mut self) {
        if let Some(session) = self.session.take() {
            session.close().await;
        }
    }

    /// The last operation of an earlier attempt with this name, if any.
    pub fn previous_operation(&self, name: &str) -> Option<&Operation> {
        self.previous.iter().rev().find(|op| op.name == name)
    }

    /// A note left by an earlier step (this attempt or an earlier one).
    pub fn note<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.notes
            .get(key)
            .and_then(|value| serde_json::from_value(value.clone()).ok())
    }

    /// Records a durable note for later steps and later jobs.
    pub async fn set_note<T: Serialize>(
        &mut self,
        key: &str,
        value: &T,
    ) -> Result<(), EngineError> {
        super::context::set_note(self, key, value).await
    }

    /// Publishes a progress event for the running operation (bytes, percent).
    pub async fn progress(&self, payload: Value) {
        super::context::progress(self, payload).await
    }

    /// The run's control state right now.
    pub fn control(&self) -> RunControl {
        *self.control.borrow()
    }

    /// Sleeps for `duration` but returns early (with the new state) when
    /// the run is cancelled.
    pub async fn sleep(&mut self, duration: Duration) -> RunControl {
        let _ = tokio::time::timeout(duration, self.control.changed()).await;
        self.control()
    }
}

/// Builds the plan of a stored upgrade job (used at submit and at resume).
/// One arm per job kind.
pub async fn plan_for_job(engine: &Engine, job: &Job) -> Result<Arc<dyn JobPlan>, EngineError> {
    super::context::plan_for_job(engine, job).await
}

/// The durable notes of a task (from its `task.note` events), latest value
/// per key.
pub async fn task_notes(
    engine: &Engine,
    job_id: i64,
    task_id: i64,
) -> Result<BTreeMap<String, Value>, EngineError> {
    super::context::task_notes(engine, job_id, task_id).await
}

impl Engine {
    /// Starts a new run of an upgrade job in the background: one task per
    /// device, driven by the job's plan. Returns the run id.
    pub async fn start_upgrade_run(
        &self,
        job: &Job,
        devices: &[Device],
    ) -> Result<i64, EngineError> {
        super::context::start_run(self, job, devices).await
    }

    /// Resumes every upgrade run a crash left `interrupted` (and its job):
    /// finished tasks stay; the others run their steps again, each step
    /// re-reading the device first. Returns the resumed run ids. Called by
    /// `netswim serve` after `Engine::start`.
    pub async fn resume_interrupted(&self) -> Result<Vec<i64>, EngineError> {
        super::context::resume_interrupted(self).await
    }

    /// Time bounds of device work in upgrade jobs.
    pub fn upgrade_timeouts(&self) -> UpgradeTimeouts {
        *super::context::lock(&self.upgrade_state().timeouts)
    }

    /// Changes the time bounds (tests shorten them; serve reads settings).
    pub fn set_upgrade_timeouts(&self, timeouts: UpgradeTimeouts) {
        *super::context::lock(&self.upgrade_state().timeouts) = timeouts;
    }

    /// The control channel of a run executing in this process, if any.
    pub fn run_control(&self, run_id: i64) -> Option<watch::Sender<RunControl>> {
        super::context::run_control(self, run_id)
    }

    /// Waits until a run executing in this process ends (immediately when
    /// it is not running here).
    pub async fn wait_run(&self, run_id: i64) {
        super::context::wait_run(self, run_id).await
    }
}

/// Note key of [`Distributed`].
pub const DISTRIBUTED_NOTE: &str = "distributed";

/// What a distribution leaves on a task for activation (note
/// [`DISTRIBUTED_NOTE`]): where the image now is and how to fall back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distributed {
    pub image_id: i64,
    pub file_name: String,
    pub md5: String,
    /// Full device paths the image was verified at (`flash1:x.bin`,
    /// `flash2:x.bin` on a stack; one entry otherwise).
    pub paths: Vec<String>,
    /// The image the device ran when the distribution began (its boot path).
    pub running_image: Option<String>,
    /// `tftp://<server>/<job>/<old image>` to add after the new boot entry
    /// when the job asked for a TFTP fallback.
    pub tftp_fallback: Option<String>,
}
