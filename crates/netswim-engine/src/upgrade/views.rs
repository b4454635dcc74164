//! Job views built from the store: the summary counts of a job's latest run
//! and the job's text log (one line per operation and per event).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use netswim_store::{Status, Store, Timestamp};

use super::JobSummary;
use crate::EngineError;

/// Counts of a run's tasks by status, folded into the summary buckets.
/// `interrupted` tasks resume while their job runs (in progress); once the
/// job has ended they count as failed. `partial` counts as failed.
pub fn summarise(counts: &BTreeMap<Status, u64>, job_status: Status) -> JobSummary {
    let mut summary = JobSummary::default();
    for (&status, &count) in counts {
        summary.total += count;
        let bucket = match status {
            Status::Success => &mut summary.successful,
            Status::Failure | Status::Partial => &mut summary.failed,
            Status::Running => &mut summary.in_progress,
            Status::NotStarted | Status::Scheduled => &mut summary.not_started,
            Status::Cancelled => &mut summary.cancelled,
            Status::Interrupted if job_status.is_finished() => &mut summary.failed,
            Status::Interrupted => &mut summary.in_progress,
            // Tasks are never paused (the job is): count as not started.
            #[allow(unreachable_patterns)]
            _ => &mut summary.not_started,
        };
        *bucket += count;
    }
    summary
}

/// Task counts of the job's latest run (all zero before its first run).
pub async fn job_summary(store: &Store, job_id: i64) -> Result<JobSummary, EngineError> {
    let job = store.get_job(job_id).await?;
    let runs = store.list_runs(job_id).await?;
    let Some(run) = runs.iter().max_by_key(|run| run.id) else {
        return Ok(JobSummary::default());
    };
    let counts = store.run_task_counts(run.id).await?;
    Ok(summarise(&counts, job.status))
}

/// RFC 3339 in UTC with milliseconds.
pub fn format_time(at: Timestamp) -> String {
    match jiff::Timestamp::from_millisecond(at.as_millis()) {
        Ok(instant) => instant.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        Err(_) => at.as_millis().to_string(),
    }
}

/// One line per operation (start → end, run, device, step, status,
/// message) and per event (time, kind, device, payload), oldest first;
/// lines are tab-separated so the log greps and cuts well.
pub async fn job_log(store: &Store, job_id: i64) -> Result<String, EngineError> {
    let job = store.get_job(job_id).await?;
    let mut lines: Vec<(i64, u8, i64, String)> = Vec::new();
    let mut subjects = BTreeMap::new();
    for run in store.list_runs(job_id).await? {
        for task in store.list_tasks(run.id).await? {
            subjects.insert(task.id, task.subject.clone());
            for operation in store.list_operations(task.id).await? {
                let started = operation.started_at.unwrap_or(task.created_at);
                let ended = operation
                    .ended_at
                    .map(format_time)
                    .unwrap_or_else(|| "-".to_owned());
                lines.push((
                    started.as_millis(),
                    0,
                    operation.id,
                    format!(
                        "{}\t{}\trun {}\t{}\t{}. {}\t{}\t{}",
                        format_time(started),
                        ended,
                        run.id,
                        task.subject,
                        operation.seq,
                        operation.name,
                        operation.status,
                        one_line(&operation.message)
                    ),
                ));
            }
            if task.status.is_finished() || task.status == Status::Interrupted {
                let at = task.ended_at.unwrap_or(task.created_at);
                lines.push((
                    at.as_millis(),
                    1,
                    task.id,
                    format!(
                        "{}\t-\trun {}\t{}\tresult\t{}\t{}",
                        format_time(at),
                        run.id,
                        task.subject,
                        task.status,
                        one_line(&task.message)
                    ),
                ));
            }
        }
    }
    for event in store.list_job_events(job_id).await? {
        let subject = event
            .task_id
            .and_then(|task| subjects.get(&task).cloned())
            .unwrap_or_else(|| "-".to_owned());
        let run = event
            .run_id
            .map(|run| format!("run {run}"))
            .unwrap_or_else(|| "-".to_owned());
        lines.push((
            event.at.as_millis(),
            2,
            event.id,
            format!(
                "{}\t-\t{}\t{}\tevent {}\t\t{}",
                format_time(event.at),
                run,
                subject,
                event.kind,
                event.payload
            ),
        ));
    }
    lines.sort();
    let mut text = format!(
        "# job {} {} ({}) status {}\n",
        job.id, job.name, job.kind, job.status
    );
    for (_, _, _, line) in lines {
        let _ = writeln!(text, "{line}");
    }
    Ok(text)
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_buckets_follow_task_statuses() {
        let counts = BTreeMap::from([
            (Status::Success, 5),
            (Status::Failure, 2),
            (Status::Partial, 1),
            (Status::Running, 3),
            (Status::NotStarted, 4),
            (Status::Cancelled, 6),
            (Status::Interrupted, 7),
        ]);
        let running = summarise(&counts, Status::Running);
        assert_eq!(
            running,
            JobSummary {
                total: 28,
                successful: 5,
                failed: 3,
                in_progress: 10,
                not_started: 4,
                cancelled: 6,
            }
        );
        let ended = summarise(&counts, Status::Partial);
        assert_eq!((ended.failed, ended.in_progress), (10, 3));
    }

    #[test]
    fn log_times_are_utc_with_milliseconds() {
        assert_eq!(
            format_time(Timestamp(1_795_312_800_123)),
            "2026-11-22T02:00:00.123Z"
        );
    }
}
