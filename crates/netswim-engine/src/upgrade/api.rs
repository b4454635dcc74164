//! The engine methods of the upgrade contract. The bodies delegate to the
//! job runner in this module's siblings.

use netswim_store::{Job, Timestamp};

use super::submit::default_name;
use super::{ACTIVATION_JOB, ANALYSIS_JOB, COMMIT_JOB, DISTRIBUTION_JOB, ROLLBACK_JOB};
use super::{
    ActivationSpec, AnalysisReport, AnalysisSpec, CommitSpec, DistributionSpec, JobControl,
    JobSummary, RollbackSpec, Schedule,
};
use crate::{Engine, EngineError};

impl Engine {
    /// Readiness of the selected devices for the image, from their latest
    /// facts, without creating a job.
    pub async fn analyse(&self, spec: &AnalysisSpec) -> Result<AnalysisReport, EngineError> {
        super::analysis::analyse_now(self, spec).await
    }

    /// Records an analysis job and runs it now or when scheduled.
    pub async fn submit_analysis(
        &self,
        spec: AnalysisSpec,
        schedule: Schedule,
        actor: &str,
    ) -> Result<Job, EngineError> {
        let image = self.store().get_image(spec.image_id).await?;
        let name = spec.name.clone().unwrap_or_else(|| {
            default_name(ANALYSIS_JOB, Some(&image.file_name), Timestamp::now())
        });
        self.submit_upgrade(ANALYSIS_JOB, name, &spec, &schedule, actor)
            .await
    }

    /// The last `operation.progress` payload of the task's running
    /// operation in this process (bytes of a transfer, protocol, attempt),
    /// or `None` when it reported none.
    pub fn live_progress(&self, task_id: i64) -> Option<serde_json::Value> {
        super::context::lock(&self.upgrade_state().live_progress)
            .get(&task_id)
            .cloned()
    }

    /// The report of an analysis job's latest run.
    pub async fn analysis_report(&self, job_id: i64) -> Result<AnalysisReport, EngineError> {
        super::analysis::report_of_job(self, job_id).await
    }

    /// Records a distribution job (optionally chained with activation).
    pub async fn submit_distribution(
        &self,
        spec: DistributionSpec,
        schedule: Schedule,
        actor: &str,
    ) -> Result<Job, EngineError> {
        let image = self.store().get_image(spec.image_id).await?;
        let name = spec.name.clone().unwrap_or_else(|| {
            default_name(DISTRIBUTION_JOB, Some(&image.file_name), Timestamp::now())
        });
        self.submit_upgrade(DISTRIBUTION_JOB, name, &spec, &schedule, actor)
            .await
    }

    /// Records an activation job.
    pub async fn submit_activation(
        &self,
        spec: ActivationSpec,
        schedule: Schedule,
        actor: &str,
    ) -> Result<Job, EngineError> {
        let store = self.store();
        let image_file = match (spec.image_id, spec.from_run) {
            (_, Some(run_id)) => {
                let run = store.get_run(run_id).await?;
                let job = store.get_job(run.job_id).await?;
                let image_id = job.spec.get("image_id").and_then(serde_json::Value::as_i64);
                match image_id {
                    Some(id) => Some(store.get_image(id).await?.file_name),
                    None => None,
                }
            }
            (Some(image_id), None) => Some(store.get_image(image_id).await?.file_name),
            (None, None) => {
                return Err(EngineError::Invalid {
                    what: "activation",
                    reason: "neither image_id nor from_run given (hint: name the image, or the distribution run to activate)".into(),
                });
            }
        };
        let name = spec.name.clone().unwrap_or_else(|| {
            default_name(ACTIVATION_JOB, image_file.as_deref(), Timestamp::now())
        });
        self.submit_upgrade(ACTIVATION_JOB, name, &spec, &schedule, actor)
            .await
    }

    /// Records an IOS-XR commit job.
    pub async fn submit_commit(
        &self,
        spec: CommitSpec,
        schedule: Schedule,
        actor: &str,
    ) -> Result<Job, EngineError> {
        let name = spec
            .name
            .clone()
            .unwrap_or_else(|| default_name(COMMIT_JOB, None, Timestamp::now()));
        self.submit_upgrade(COMMIT_JOB, name, &spec, &schedule, actor)
            .await
    }

    /// Records a rollback job.
    pub async fn submit_rollback(
        &self,
        spec: RollbackSpec,
        schedule: Schedule,
        actor: &str,
    ) -> Result<Job, EngineError> {
        let name = spec
            .name
            .clone()
            .unwrap_or_else(|| default_name(ROLLBACK_JOB, None, Timestamp::now()));
        self.submit_upgrade(ROLLBACK_JOB, name, &spec, &schedule, actor)
            .await
    }

    /// Cancels, pauses or resumes a job; returns the job as it is now.
    pub async fn control_job(&self, job_id: i64, control: JobControl) -> Result<Job, EngineError> {
        self.control_upgrade_job(job_id, control).await
    }

    /// Task counts of the job's latest run.
    pub async fn job_summary(&self, job_id: i64) -> Result<JobSummary, EngineError> {
        super::views::job_summary(self.store(), job_id).await
    }

    /// The job's log: one line per operation and event, oldest first.
    pub async fn job_log(&self, job_id: i64) -> Result<String, EngineError> {
        super::views::job_log(self.store(), job_id).await
    }
}
