//! The engine methods of the upgrade contract. The bodies delegate to the
//! job runner in this module's siblings.

use netswim_store::Job;

use super::{
    ActivationSpec, AnalysisReport, AnalysisSpec, CommitSpec, DistributionSpec, JobControl,
    JobSummary, RollbackSpec, Schedule,
};
use crate::{Engine, EngineError};

fn not_built(what: &str) -> EngineError {
    EngineError::Invalid {
        what: "job",
        reason: format!("{what} is not built yet"),
    }
}

/// Until the scheduler runs jobs later, only "now" is accepted.
fn reject_schedule(schedule: &Schedule) -> Result<(), EngineError> {
    if schedule.at.is_some() || schedule.recurrence != super::Recurrence::None {
        return Err(not_built("scheduling"));
    }
    Ok(())
}

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
        reject_schedule(&schedule)?;
        super::analysis::submit(self, spec, actor).await
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
        reject_schedule(&schedule)?;
        super::distribution::submit(self, spec, actor).await
    }

    /// Records an activation job.
    pub async fn submit_activation(
        &self,
        spec: ActivationSpec,
        schedule: Schedule,
        actor: &str,
    ) -> Result<Job, EngineError> {
        let _ = (spec, schedule, actor);
        Err(not_built("activation"))
    }

    /// Records an IOS-XR commit job.
    pub async fn submit_commit(
        &self,
        spec: CommitSpec,
        schedule: Schedule,
        actor: &str,
    ) -> Result<Job, EngineError> {
        let _ = (spec, schedule, actor);
        Err(not_built("commit"))
    }

    /// Records a rollback job.
    pub async fn submit_rollback(
        &self,
        spec: RollbackSpec,
        schedule: Schedule,
        actor: &str,
    ) -> Result<Job, EngineError> {
        let _ = (spec, schedule, actor);
        Err(not_built("rollback"))
    }

    /// Cancels, pauses or resumes a job; returns the job as it is now.
    pub async fn control_job(&self, job_id: i64, control: JobControl) -> Result<Job, EngineError> {
        let _ = (job_id, control);
        Err(not_built("job control"))
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
