//! Submitting upgrade jobs (now or scheduled), choosing their devices, the
//! scheduler loop that starts due jobs, and job control (cancel, pause,
//! resume).
//!
//! Job lifecycle: a job to run now is inserted `running` and its run starts
//! at once; a job for later is inserted `scheduled` with `next_run_at`, and
//! the scheduler starts it when due. Before starting a run the scheduler
//! marks the job `running` while `next_run_at` still holds the due time,
//! then starts the run, then moves `next_run_at` to the next occurrence (or
//! clears it), so a crash in between never loses the job: a job left
//! `interrupted` with no run goes back to `scheduled`. A recurring job goes
//! back to `scheduled` when its run ends.

use std::collections::{BTreeSet, HashSet};
use std::future::Future;
use std::time::Duration;

use netswim_store::{Device, Job, NewEvent, NewJob, Status, Store, Timestamp};
use serde::Serialize;
use serde_json::{Value, json};

use super::runner::RunControl;
use super::schedule::{ResolvedSchedule, default_job_name, resolve};
use super::{
    ACTIVATION_JOB, ANALYSIS_JOB, COMMIT_JOB, DISTRIBUTION_JOB, DeviceSelector, JobControl,
    ROLLBACK_JOB, Recurrence, Schedule,
};
use crate::{Engine, EngineError};

/// How often the scheduler looks for due jobs at most (it sleeps less when
/// a job is due sooner). Another process (a second node, a test) may insert
/// jobs into the same database, so the store is the source of truth.
const SCHEDULER_TICK: Duration = Duration::from_millis(500);

/// Whether a job kind runs on the upgrade runner.
pub fn is_upgrade_job(kind: &str) -> bool {
    matches!(
        kind,
        ANALYSIS_JOB | DISTRIBUTION_JOB | ACTIVATION_JOB | COMMIT_JOB | ROLLBACK_JOB
    )
}

fn matches_platform(device: &Device, wanted: &str) -> bool {
    let wanted = wanted.trim();
    device
        .os
        .is_some_and(|os| os.as_str().eq_ignore_ascii_case(wanted))
        || device.platform.as_deref().is_some_and(|model| {
            model
                .to_ascii_lowercase()
                .starts_with(&wanted.to_ascii_lowercase())
        })
}

/// The devices a selector chooses, in id order. A device is chosen when
/// `all` is set, when its id or name is listed, or when it matches every
/// filter given among sites, roles and platforms (at least one given).
pub async fn select_devices(
    store: &Store,
    selector: &DeviceSelector,
) -> Result<Vec<Device>, EngineError> {
    let devices = store.list_devices().await?;
    if selector.all {
        return Ok(devices);
    }
    let mut site_ids = HashSet::new();
    for name in &selector.sites {
        match store.find_site_by_name(name).await? {
            Some(site) => {
                site_ids.insert(site.id);
            }
            None => {
                return Err(EngineError::Invalid {
                    what: "device selection",
                    reason: format!("no site named {name:?} (hint: `netswim site list`)"),
                });
            }
        }
    }
    let ids: HashSet<i64> = selector.ids.iter().copied().collect();
    let names: HashSet<&str> = selector.names.iter().map(String::as_str).collect();
    for name in &names {
        if !devices.iter().any(|device| device.name == *name) {
            return Err(EngineError::Invalid {
                what: "device selection",
                reason: format!("no device named {name:?} (hint: `netswim device list`)"),
            });
        }
    }
    let filtered =
        !selector.sites.is_empty() || !selector.roles.is_empty() || !selector.platforms.is_empty();
    Ok(devices
        .into_iter()
        .filter(|device| {
            if ids.contains(&device.id) || names.contains(device.name.as_str()) {
                return true;
            }
            filtered
                && (selector.sites.is_empty()
                    || device.site_id.is_some_and(|site| site_ids.contains(&site)))
                && (selector.roles.is_empty()
                    || device.role.as_deref().is_some_and(|role| {
                        selector
                            .roles
                            .iter()
                            .any(|wanted| wanted.eq_ignore_ascii_case(role))
                    }))
                && (selector.platforms.is_empty()
                    || selector
                        .platforms
                        .iter()
                        .any(|wanted| matches_platform(device, wanted)))
        })
        .collect())
}

/// The devices a stored upgrade job works on now: the selector's, or for
/// an activation from a distribution run that run's successful devices
/// (narrowed by the selector when it names any).
pub async fn devices_for_job(engine: &Engine, job: &Job) -> Result<Vec<Device>, EngineError> {
    let store = engine.store();
    let selector: DeviceSelector = job
        .spec
        .get("devices")
        .cloned()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|error| EngineError::Invalid {
            what: "job spec",
            reason: format!("job {} has an unreadable device selection: {error}", job.id),
        })?
        .unwrap_or_default();
    let devices = match job.spec.get("from_run").and_then(Value::as_i64) {
        Some(run_id) => {
            let successful: BTreeSet<i64> = store
                .list_tasks(run_id)
                .await?
                .into_iter()
                .filter(|task| task.status == Status::Success)
                .filter_map(|task| task.device_id)
                .collect();
            let narrowed = selector != DeviceSelector::default();
            let chosen: HashSet<i64> = if narrowed {
                select_devices(store, &selector)
                    .await?
                    .into_iter()
                    .map(|device| device.id)
                    .collect()
            } else {
                HashSet::new()
            };
            let mut devices = Vec::new();
            for id in successful {
                if narrowed && !chosen.contains(&id) {
                    continue;
                }
                devices.push(store.get_device(id).await?);
            }
            devices
        }
        None => select_devices(store, &selector).await?,
    };
    if devices.is_empty() {
        return Err(EngineError::Invalid {
            what: "device selection",
            reason: format!(
                "job {} ({}) chooses no device (hint: name devices, a site, a role, a platform or all; an activation from a run takes only its successful devices)",
                job.id, job.name
            ),
        });
    }
    Ok(devices)
}

/// Default job name: `Activate_<image>_<stamp>`, `Commit_<stamp>`, ...
pub fn default_name(kind: &str, image_file: Option<&str>, now: Timestamp) -> String {
    let prefix = match kind {
        ANALYSIS_JOB => "Analyze",
        DISTRIBUTION_JOB => "Distribute",
        ACTIVATION_JOB => "Activate",
        COMMIT_JOB => "Commit",
        ROLLBACK_JOB => "Rollback",
        other => other,
    };
    default_job_name(prefix, image_file, now)
}

impl Engine {
    /// Records an upgrade job and runs it now (`schedule.at` absent or
    /// past) or leaves it `scheduled` for the scheduler. The selection must
    /// choose at least one device now. Used by every `submit_*` of the
    /// upgrade contract.
    pub async fn submit_upgrade<S: Serialize>(
        &self,
        kind: &str,
        name: String,
        spec: &S,
        schedule: &Schedule,
        actor: &str,
    ) -> Result<Job, EngineError> {
        let now = Timestamp::now();
        let resolved = resolve(schedule, now)?;
        let spec = serde_json::to_value(spec).map_err(|error| EngineError::Invalid {
            what: "job spec",
            reason: error.to_string(),
        })?;
        let due_now = resolved.first_run() <= now;
        let stored_schedule =
            serde_json::to_value(resolved.to_schedule()).map_err(|error| EngineError::Invalid {
                what: "job schedule",
                reason: error.to_string(),
            })?;
        let (status, next_run_at) = if due_now {
            (Status::Running, resolved.next_after(now))
        } else {
            (Status::Scheduled, Some(resolved.first_run()))
        };
        let job = self
            .store()
            .insert_job(&NewJob {
                kind: kind.to_owned(),
                name,
                spec,
                schedule: stored_schedule,
                status,
                created_by: Some(actor.to_owned()),
                next_run_at,
            })
            .await?;
        // Refuse a selection that chooses nothing (and a plan that cannot
        // be built) before anything runs; the job row goes again.
        let checked = async {
            let devices = devices_for_job(self, &job).await?;
            super::runner::plan_for_job(self, &job).await?;
            Ok::<_, EngineError>(devices)
        }
        .await;
        let devices = match checked {
            Ok(devices) => devices,
            Err(error) => {
                let _ = self.store().delete_job(job.id).await;
                return Err(error);
            }
        };
        self.publish(NewEvent {
            kind: "job.submitted".to_owned(),
            job_id: Some(job.id),
            run_id: None,
            task_id: None,
            payload: json!({
                "kind": kind,
                "name": job.name,
                "devices": devices.len(),
                "next_run_at": job.next_run_at.map(super::views::format_time),
            }),
        })
        .await?;
        if due_now {
            let run_id = self.start_upgrade_run(&job, &devices).await?;
            if resolved.recurrence != Recurrence::None {
                self.watch_recurring(job.id, run_id);
            }
        }
        Ok(self.store().get_job(job.id).await?)
    }

    /// When a recurring job's run ends, the job waits for its next run.
    fn watch_recurring(&self, job_id: i64, run_id: i64) {
        let engine = self.clone();
        tokio::spawn(async move {
            engine.wait_run(run_id).await;
            if let Err(error) = engine.reschedule_if_recurring(job_id).await {
                tracing::warn!(job = job_id, %error, "could not reschedule a recurring job");
            }
        });
    }

    async fn reschedule_if_recurring(&self, job_id: i64) -> Result<(), EngineError> {
        let job = self.store().get_job(job_id).await?;
        if job.next_run_at.is_some() && job.status.is_finished() && job.status != Status::Cancelled
        {
            self.store()
                .set_job_status(job_id, Status::Scheduled)
                .await?;
        }
        Ok(())
    }

    /// Starts every upgrade job due at `now`; returns their ids.
    pub async fn start_due_jobs(&self, now: Timestamp) -> Result<Vec<i64>, EngineError> {
        let mut started = Vec::new();
        for job in self.store().due_jobs(now).await? {
            if !is_upgrade_job(&job.kind) {
                continue;
            }
            match self.start_scheduled(&job, now).await {
                Ok(()) => started.push(job.id),
                Err(error) => {
                    tracing::warn!(job = job.id, %error, "scheduled job could not start");
                    let _ = self
                        .publish(NewEvent {
                            kind: "job.start_failed".to_owned(),
                            job_id: Some(job.id),
                            run_id: None,
                            task_id: None,
                            payload: json!({"message": error.to_string()}),
                        })
                        .await;
                    // Skip this occurrence; a one-shot job fails.
                    let resolved = stored_schedule(&job)?;
                    let next = resolved.next_after(now);
                    self.store().set_job_next_run(job.id, next).await?;
                    let status = if next.is_some() {
                        Status::Scheduled
                    } else {
                        Status::Failure
                    };
                    self.store().set_job_status(job.id, status).await?;
                }
            }
        }
        Ok(started)
    }

    async fn start_scheduled(&self, job: &Job, now: Timestamp) -> Result<(), EngineError> {
        let resolved = stored_schedule(job)?;
        let devices = devices_for_job(self, job).await?;
        self.store().set_job_status(job.id, Status::Running).await?;
        let run_id = self.start_upgrade_run(job, &devices).await?;
        let next = resolved.next_after(now);
        self.store().set_job_next_run(job.id, next).await?;
        if next.is_some() {
            self.watch_recurring(job.id, run_id);
        }
        Ok(())
    }

    /// Puts back what a crash left half-started: a job marked running that
    /// never got a run returns to `scheduled`; a recurring job whose run
    /// ended waits for its next run; a one-shot job with a run keeps none.
    pub async fn repair_schedules(&self) -> Result<(), EngineError> {
        let store = self.store();
        for job in store.list_jobs().await? {
            if !is_upgrade_job(&job.kind) || job.next_run_at.is_none() {
                continue;
            }
            let runs = store.list_runs(job.id).await?;
            let recurring = stored_schedule(&job)?.recurrence != Recurrence::None;
            match job.status {
                Status::Interrupted | Status::Running if runs.is_empty() => {
                    store.set_job_status(job.id, Status::Scheduled).await?;
                }
                Status::Success | Status::Failure | Status::Partial => {
                    if recurring {
                        store.set_job_status(job.id, Status::Scheduled).await?;
                    } else {
                        store.set_job_next_run(job.id, None).await?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The scheduler: starts due upgrade jobs until `shutdown` completes.
    /// It re-reads the store each tick, so jobs another process inserts
    /// are started too; `netswim serve` runs it.
    pub async fn run_scheduler<F: Future<Output = ()>>(&self, shutdown: F) {
        tokio::pin!(shutdown);
        if let Err(error) = self.repair_schedules().await {
            tracing::warn!(%error, "could not repair schedules");
        }
        let mut ticks: u64 = 0;
        loop {
            let now = Timestamp::now();
            if let Err(error) = self.start_due_jobs(now).await {
                tracing::warn!(%error, "scheduler tick failed");
            }
            ticks += 1;
            if ticks % 120 == 0
                && let Err(error) = self.repair_schedules().await
            {
                tracing::warn!(%error, "could not repair schedules");
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(SCHEDULER_TICK) => {}
            }
        }
    }

    /// Cancels, pauses or resumes a job (see [`JobControl`]).
    pub(crate) async fn control_upgrade_job(
        &self,
        job_id: i64,
        control: JobControl,
    ) -> Result<Job, EngineError> {
        let store = self.store();
        let job = store.get_job(job_id).await?;
        let run = store
            .list_runs(job_id)
            .await?
            .into_iter()
            .max_by_key(|run| run.id);
        let live = run
            .as_ref()
            .and_then(|run| self.run_control(run.id).map(|sender| (run.id, sender)));
        let refuse = |what: &str| EngineError::Invalid {
            what: "job control",
            reason: format!(
                "job {job_id} is {}: cannot {what} it (hint: `netswim job show {job_id}`)",
                job.status
            ),
        };
        match control {
            JobControl::Cancel => {
                // No further occurrences either.
                store.set_job_next_run(job_id, None).await?;
                if let Some((_, sender)) = &live {
                    let _ = sender.send(RunControl::Cancel);
                    if job.status == Status::Paused {
                        store.set_job_status(job_id, Status::Running).await?;
                    }
                } else if job.status.is_finished() && job.next_run_at.is_none() {
                    return Err(refuse("cancel"));
                } else {
                    // Nothing runs here: end what is left of the last run.
                    if let Some(run) = &run
                        && !run.status.is_finished()
                    {
                        for task in store.list_tasks(run.id).await? {
                            if !task.status.is_finished() {
                                store
                                    .set_task_status(
                                        task.id,
                                        Status::Cancelled,
                                        Some("cancelled before it finished"),
                                    )
                                    .await?;
                            }
                        }
                        store.set_run_status(run.id, Status::Cancelled).await?;
                    }
                    store.set_job_status(job_id, Status::Cancelled).await?;
                }
            }
            JobControl::Pause => match (&live, job.status) {
                (Some((_, sender)), Status::Running | Status::Paused) => {
                    let _ = sender.send(RunControl::Pause);
                    store.set_job_status(job_id, Status::Paused).await?;
                }
                (None, Status::Scheduled | Status::Paused) => {
                    store.set_job_status(job_id, Status::Paused).await?;
                }
                _ => return Err(refuse("pause")),
            },
            JobControl::Resume => match (&live, job.status) {
                (Some((_, sender)), Status::Paused | Status::Running) => {
                    let _ = sender.send(RunControl::Run);
                    store.set_job_status(job_id, Status::Running).await?;
                }
                (None, Status::Paused) => {
                    let unfinished = run.as_ref().is_some_and(|run| !run.status.is_finished());
                    if unfinished {
                        // A paused run this process does not hold (after a
                        // restart): hand it to the runner's resume.
                        store.set_job_status(job_id, Status::Interrupted).await?;
                        self.resume_interrupted().await?;
                    } else {
                        store.set_job_status(job_id, Status::Scheduled).await?;
                    }
                }
                _ => return Err(refuse("resume")),
            },
        }
        let name = match control {
            JobControl::Cancel => "job.cancel_requested",
            JobControl::Pause => "job.paused",
            JobControl::Resume => "job.resumed",
        };
        self.publish(NewEvent {
            kind: name.to_owned(),
            job_id: Some(job_id),
            run_id: run.as_ref().map(|run| run.id),
            task_id: None,
            payload: json!({}),
        })
        .await?;
        Ok(store.get_job(job_id).await?)
    }
}

fn stored_schedule(job: &Job) -> Result<ResolvedSchedule, EngineError> {
    let schedule: Schedule = serde_json::from_value(job.schedule.clone()).unwrap_or_default();
    resolve(&schedule, job.created_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_follow_the_job_kind() {
        let at = Timestamp(1_795_312_800_000);
        assert_eq!(
            default_name(ACTIVATION_JOB, Some("x.bin"), at),
            "Activate_x.bin_20261122-020000"
        );
        assert_eq!(
            default_name(ROLLBACK_JOB, None, at),
            "Rollback_20261122-020000"
        );
        assert_eq!(
            default_name(DISTRIBUTION_JOB, Some("x.bin"), at),
            "Distribute_x.bin_20261122-020000"
        );
    }
}
