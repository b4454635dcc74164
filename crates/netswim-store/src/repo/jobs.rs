//! Jobs, their runs, one task per device per run, and each task's ordered
//! operations; task leases for several server nodes; crash recovery.
//!
//! Statuses are stored as the stable strings of [`crate::Status`]. Starting a
//! task or an operation stamps `started_at`; reaching a finished or
//! interrupted status stamps `ended_at`, so callers record a step before it
//! acts and after it finishes with one call each.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use super::{expect_one_row, get_optional_time, get_time};
use crate::model::{from_db_json, from_db_size, to_db_json};
use crate::{Status, Store, StoreError, Timestamp};

/// A job to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// `collection`, `inventory_sync`, `analysis`, `distribution`, `activation`, ...
    pub kind: String,
    pub name: String,
    /// Images, devices or device query, options.
    pub spec: Value,
    /// When and how often (now, at, recurrence, maintenance window).
    pub schedule: Value,
    pub status: Status,
    pub created_by: Option<String>,
    /// When the scheduler should start the next run.
    pub next_run_at: Option<Timestamp>,
}

/// A stored job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub spec: Value,
    pub schedule: Value,
    pub status: Status,
    pub created_by: Option<String>,
    pub next_run_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One execution of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRun {
    pub id: i64,
    pub job_id: i64,
    pub status: Status,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// A task to insert into a run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewTask {
    /// The device the task works on (none for image imports and the like).
    pub device_id: Option<i64>,
    /// What the task works on, for display (device name, image file name).
    pub subject: String,
}

/// The work of one run on one device (or one other subject).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: i64,
    pub run_id: i64,
    pub device_id: Option<i64>,
    pub subject: String,
    pub status: Status,
    pub message: String,
    /// Node that holds the lease, while it is valid.
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// One step of a task (prechecks, transfer, set boot, reload, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub id: i64,
    pub task_id: i64,
    /// 1, 2, 3, ... within the task.
    pub seq: i64,
    pub name: String,
    pub status: Status,
    pub message: String,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
}

/// How many rows crash recovery marked interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InterruptedCounts {
    pub jobs: u64,
    pub runs: u64,
    pub tasks: u64,
    pub operations: u64,
}

const JOB_COLUMNS: &str = "id, kind, name, spec_json, schedule_json, status, created_by, next_run_at, created_at, updated_at";
const RUN_COLUMNS: &str = "id, job_id, status, started_at, ended_at, created_at";
const TASK_COLUMNS: &str = "id, run_id, device_id, subject, status, message, lease_owner, lease_expires_at, \
    started_at, ended_at, created_at";
const OPERATION_COLUMNS: &str = "id, task_id, seq, name, status, message, started_at, ended_at";

fn get_status(row: &AnyRow) -> Result<Status, StoreError> {
    let text: String = row.try_get("status")?;
    text.parse().map_err(|_| StoreError::Corrupt {
        what: "status",
        reason: format!("unknown status {text:?}"),
    })
}

fn job_from_row(row: &AnyRow) -> Result<Job, StoreError> {
    Ok(Job {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        name: row.try_get("name")?,
        spec: from_db_json("job spec", &row.try_get::<String, _>("spec_json")?)?,
        schedule: from_db_json("job schedule", &row.try_get::<String, _>("schedule_json")?)?,
        status: get_status(row)?,
        created_by: row.try_get("created_by")?,
        next_run_at: get_optional_time(row, "next_run_at")?,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

fn run_from_row(row: &AnyRow) -> Result<JobRun, StoreError> {
    Ok(JobRun {
        id: row.try_get("id")?,
        job_id: row.try_get("job_id")?,
        status: get_status(row)?,
        started_at: get_optional_time(row, "started_at")?,
        ended_at: get_optional_time(row, "ended_at")?,
        created_at: get_time(row, "created_at")?,
    })
}

fn task_from_row(row: &AnyRow) -> Result<Task, StoreError> {
    Ok(Task {
        id: row.try_get("id")?,
        run_id: row.try_get("run_id")?,
        device_id: row.try_get("device_id")?,
        subject: row.try_get("subject")?,
        status: get_status(row)?,
        message: row.try_get("message")?,
        lease_owner: row.try_get("lease_owner")?,
        lease_expires_at: get_optional_time(row, "lease_expires_at")?,
        started_at: get_optional_time(row, "started_at")?,
        ended_at: get_optional_time(row, "ended_at")?,
        created_at: get_time(row, "created_at")?,
    })
}

fn operation_from_row(row: &AnyRow) -> Result<Operation, StoreError> {
    Ok(Operation {
        id: row.try_get("id")?,
        task_id: row.try_get("task_id")?,
        seq: row.try_get("seq")?,
        name: row.try_get("name")?,
        status: get_status(row)?,
        message: row.try_get("message")?,
        started_at: get_optional_time(row, "started_at")?,
        ended_at: get_optional_time(row, "ended_at")?,
    })
}

/// Whether a status ends the work it describes (stamps `ended_at`).
fn ends_work(status: Status) -> bool {
    status.is_finished() || status == Status::Interrupted
}

fn duration_millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Sets status (and message when given) with the start/end stamps the status implies.
async fn set_status_with<'c, E>(
    executor: E,
    table: &'static str,
    what: &'static str,
    id: i64,
    status: Status,
    message: Option<&str>,
) -> Result<(), StoreError>
where
    E: Executor<'c, Database = Any>,
{
    let now = Timestamp::now().as_millis();
    let started = if status == Status::Running {
        "COALESCE(started_at, $3)"
    } else {
        "started_at"
    };
    let ended = if ends_work(status) { "$3" } else { "ended_at" };
    let message_column = if table == "job_runs" {
        ""
    } else {
        ", message = COALESCE($4, message)"
    };
    let sql = format!(
        "UPDATE {table} SET status = $2, started_at = {started}, ended_at = {ended}{message_column} WHERE id = $1"
    );
    let mut query = sqlx::query(&sql).bind(id).bind(status.as_str()).bind(now);
    if table != "job_runs" {
        query = query.bind(message);
    }
    let result = query.execute(executor).await?;
    expect_one_row(result.rows_affected(), what, id)
}

impl Store {
    /// Inserts a job.
    pub async fn insert_job(&self, job: &NewJob) -> Result<Job, StoreError> {
        let row = sqlx::query(&format!(
            "INSERT INTO jobs (kind, name, spec_json, schedule_json, status, created_by, next_run_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {JOB_COLUMNS}"
        ))
        .bind(&job.kind)
        .bind(&job.name)
        .bind(to_db_json("job spec", &job.spec)?)
        .bind(to_db_json("job schedule", &job.schedule)?)
        .bind(job.status.as_str())
        .bind(&job.created_by)
        .bind(job.next_run_at.map(Timestamp::as_millis))
        .bind(Timestamp::now().as_millis())
        .fetch_one(self.pool())
        .await?;
        job_from_row(&row)
    }

    /// One job by id.
    pub async fn get_job(&self, id: i64) -> Result<Job, StoreError> {
        let row = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "job",
                key: id.to_string(),
            })?;
        job_from_row(&row)
    }

    /// Every job, newest first.
    pub async fn list_jobs(&self) -> Result<Vec<Job>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs ORDER BY id DESC"))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Jobs in a status, oldest first.
    pub async fn list_jobs_with_status(&self, status: Status) -> Result<Vec<Job>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE status = $1 ORDER BY id"
        ))
        .bind(status.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Scheduled jobs whose next run is due at `now`, earliest first.
    pub async fn due_jobs(&self, now: Timestamp) -> Result<Vec<Job>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE status = $1 AND next_run_at IS NOT NULL AND next_run_at <= $2
             ORDER BY next_run_at, id"
        ))
        .bind(Status::Scheduled.as_str())
        .bind(now.as_millis())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Sets a job's status.
    pub async fn set_job_status(&self, id: i64, status: Status) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE jobs SET status = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(status.as_str())
            .bind(Timestamp::now().as_millis())
            .execute(self.pool())
            .await?;
        expect_one_row(result.rows_affected(), "job", id)
    }

    /// Sets (or clears) when a job next runs.
    pub async fn set_job_next_run(
        &self,
        id: i64,
        next_run_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE jobs SET next_run_at = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(next_run_at.map(Timestamp::as_millis))
            .bind(Timestamp::now().as_millis())
            .execute(self.pool())
            .await?;
        expect_one_row(result.rows_affected(), "job", id)
    }

    /// Deletes a job with its runs, tasks and operations.
    pub async fn delete_job(&self, id: i64) -> Result<(), StoreError> {
        let result = sqlx::query("DELETE FROM jobs WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        expect_one_row(result.rows_affected(), "job", id)
    }

    /// Starts a new run of a job in the given status.
    pub async fn insert_run(&self, job_id: i64, status: Status) -> Result<JobRun, StoreError> {
        let now = Timestamp::now().as_millis();
        let started_at = (status == Status::Running).then_some(now);
        let row = sqlx::query(&format!(
            "INSERT INTO job_runs (job_id, status, started_at, created_at) VALUES ($1, $2, $3, $4)
             RETURNING {RUN_COLUMNS}"
        ))
        .bind(job_id)
        .bind(status.as_str())
        .bind(started_at)
        .bind(now)
        .fetch_one(self.pool())
        .await
        .map_err(|error| match &error {
            sqlx::Error::Database(database_error) if database_error.is_foreign_key_violation() => {
                StoreError::NotFound {
                    what: "job",
                    key: job_id.to_string(),
                }
            }
            _ => StoreError::Database { source: error },
        })?;
        run_from_row(&row)
    }

    /// One run by id.
    pub async fn get_run(&self, id: i64) -> Result<JobRun, StoreError> {
        let row = sqlx::query(&format!("SELECT {RUN_COLUMNS} FROM job_runs WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "run",
                key: id.to_string(),
            })?;
        run_from_row(&row)
    }

    /// Runs of a job, newest first.
    pub async fn list_runs(&self, job_id: i64) -> Result<Vec<JobRun>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM job_runs WHERE job_id = $1 ORDER BY id DESC"
        ))
        .bind(job_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(run_from_row).collect()
    }

    /// Sets a run's status (running stamps the start, an end status the end).
    pub async fn set_run_status(&self, id: i64, status: Status) -> Result<(), StoreError> {
        set_status_with(self.pool(), "job_runs", "run", id, status, None).await
    }

    /// How many tasks of a run are in each status (the job summary counts).
    pub async fn run_task_counts(&self, run_id: i64) -> Result<BTreeMap<Status, u64>, StoreError> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS task_count FROM tasks WHERE run_id = $1 GROUP BY status",
        )
        .bind(run_id)
        .fetch_all(self.pool())
        .await?;
        let mut counts = BTreeMap::new();
        for row in rows {
            counts.insert(
                get_status(&row)?,
                from_db_size("task count", row.try_get("task_count")?)?,
            );
        }
        Ok(counts)
    }

    /// Adds tasks (status `not_started`) to a run in one transaction.
    pub async fn insert_tasks(
        &self,
        run_id: i64,
        tasks: &[NewTask],
    ) -> Result<Vec<Task>, StoreError> {
        let now = Timestamp::now().as_millis();
        let mut transaction = self.begin_write().await?;
        let mut stored = Vec::with_capacity(tasks.len());
        for task in tasks {
            let row = sqlx::query(&format!(
                "INSERT INTO tasks (run_id, device_id, subject, status, message, created_at)
                 VALUES ($1, $2, $3, $4, '', $5) RETURNING {TASK_COLUMNS}"
            ))
            .bind(run_id)
            .bind(task.device_id)
            .bind(&task.subject)
            .bind(Status::NotStarted.as_str())
            .bind(now)
            .fetch_one(&mut *transaction)
            .await?;
            stored.push(task_from_row(&row)?);
        }
        transaction.commit().await?;
        Ok(stored)
    }

    /// One task by id.
    pub async fn get_task(&self, id: i64) -> Result<Task, StoreError> {
        let row = sqlx::query(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "task",
                key: id.to_string(),
            })?;
        task_from_row(&row)
    }

    /// Tasks of a run, in creation order.
    pub async fn list_tasks(&self, run_id: i64) -> Result<Vec<Task>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE run_id = $1 ORDER BY id"
        ))
        .bind(run_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(task_from_row).collect()
    }

    /// Sets a task's status and, when given, its message.
    pub async fn set_task_status(
        &self,
        id: i64,
        status: Status,
        message: Option<&str>,
    ) -> Result<(), StoreError> {
        set_status_with(self.pool(), "tasks", "task", id, status, message).await
    }

    /// Takes the lease of one task for `owner` until `now + duration`, if it
    /// is free, expired, or already `owner`'s. Returns whether it was taken.
    pub async fn try_lease_task(
        &self,
        task_id: i64,
        owner: &str,
        now: Timestamp,
        duration: Duration,
    ) -> Result<bool, StoreError> {
        // One conditional UPDATE: the database serialises competing nodes.
        let result = sqlx::query(
            "UPDATE tasks SET lease_owner = $2, lease_expires_at = $3
             WHERE id = $1 AND (lease_owner IS NULL OR lease_owner = $2 OR lease_expires_at IS NULL OR lease_expires_at <= $4)",
        )
        .bind(task_id)
        .bind(owner)
        .bind(now.as_millis().saturating_add(duration_millis(duration)))
        .bind(now.as_millis())
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Leases the oldest unfinished task (optionally of one run) that nobody
    /// holds a valid lease on.
    pub async fn lease_next_task(
        &self,
        run_id: Option<i64>,
        owner: &str,
        now: Timestamp,
        duration: Duration,
    ) -> Result<Option<Task>, StoreError> {
        let candidates = sqlx::query(
            "SELECT id FROM tasks
             WHERE status IN ($1, $2, $3) AND ($4 IS NULL OR run_id = $4)
               AND (lease_owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at <= $5)
             ORDER BY id LIMIT 20",
        )
        .bind(Status::NotStarted.as_str())
        .bind(Status::Running.as_str())
        .bind(Status::Interrupted.as_str())
        .bind(run_id)
        .bind(now.as_millis())
        .fetch_all(self.pool())
        .await?;
        for candidate in candidates {
            let task_id: i64 = candidate.try_get("id")?;
            if self.try_lease_task(task_id, owner, now, duration).await? {
                return Ok(Some(self.get_task(task_id).await?));
            }
        }
        Ok(None)
    }

    /// Extends `owner`'s lease; false when another node has taken the task.
    pub async fn renew_task_lease(
        &self,
        task_id: i64,
        owner: &str,
        now: Timestamp,
        duration: Duration,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE tasks SET lease_expires_at = $3 WHERE id = $1 AND lease_owner = $2",
        )
        .bind(task_id)
        .bind(owner)
        .bind(now.as_millis().saturating_add(duration_millis(duration)))
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Gives up `owner`'s lease on a task.
    pub async fn release_task_lease(&self, task_id: i64, owner: &str) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE tasks SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND lease_owner = $2",
        )
        .bind(task_id)
        .bind(owner)
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Appends an operation to a task (next `seq`) in the given status.
    pub async fn add_operation(
        &self,
        task_id: i64,
        name: &str,
        status: Status,
    ) -> Result<Operation, StoreError> {
        let now = Timestamp::now().as_millis();
        let mut transaction = self.begin_write().await?;
        let next_seq: i64 = sqlx::query(
            "SELECT COALESCE(MAX(seq), 0) + 1 AS next_seq FROM operations WHERE task_id = $1",
        )
        .bind(task_id)
        .fetch_one(&mut *transaction)
        .await?
        .try_get("next_seq")?;
        let row = sqlx::query(&format!(
            "INSERT INTO operations (task_id, seq, name, status, message, started_at, ended_at)
             VALUES ($1, $2, $3, $4, '', $5, $6) RETURNING {OPERATION_COLUMNS}"
        ))
        .bind(task_id)
        .bind(next_seq)
        .bind(name)
        .bind(status.as_str())
        .bind((status == Status::Running).then_some(now))
        .bind(ends_work(status).then_some(now))
        .fetch_one(&mut *transaction)
        .await
        .map_err(|error| {
            StoreError::from_database(error, "operation", format!("{task_id}/{next_seq}"))
        })?;
        transaction.commit().await?;
        operation_from_row(&row)
    }

    /// Sets an operation's status and, when given, its message.
    pub async fn set_operation_status(
        &self,
        id: i64,
        status: Status,
        message: Option<&str>,
    ) -> Result<(), StoreError> {
        set_status_with(self.pool(), "operations", "operation", id, status, message).await
    }

    /// Operations of a task in order.
    pub async fn list_operations(&self, task_id: i64) -> Result<Vec<Operation>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {OPERATION_COLUMNS} FROM operations WHERE task_id = $1 ORDER BY seq"
        ))
        .bind(task_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(operation_from_row).collect()
    }

    /// Crash recovery for a single node: everything still `running` (jobs,
    /// runs, tasks, operations) becomes `interrupted` with an end time, and
    /// task leases are dropped. Call once at start, before any work begins.
    pub async fn mark_running_as_interrupted(&self) -> Result<InterruptedCounts, StoreError> {
        let now = Timestamp::now().as_millis();
        let running = Status::Running.as_str();
        let interrupted = Status::Interrupted.as_str();
        let mut transaction = self.begin_write().await?;
        let operations = sqlx::query(
            "UPDATE operations SET status = $2, ended_at = $3,
                message = CASE WHEN message = '' THEN 'interrupted: the server stopped during this step' ELSE message END
             WHERE status = $1",
        )
        .bind(running)
        .bind(interrupted)
        .bind(now)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        let tasks = sqlx::query(
            "UPDATE tasks SET status = $2, ended_at = $3, lease_owner = NULL, lease_expires_at = NULL WHERE status = $1",
        )
        .bind(running)
        .bind(interrupted)
        .bind(now)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        let runs = sqlx::query("UPDATE job_runs SET status = $2, ended_at = $3 WHERE status = $1")
            .bind(running)
            .bind(interrupted)
            .bind(now)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        let jobs = sqlx::query("UPDATE jobs SET status = $2, updated_at = $3 WHERE status = $1")
            .bind(running)
            .bind(interrupted)
            .bind(now)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        transaction.commit().await?;
        Ok(InterruptedCounts {
            jobs,
            runs,
            tasks,
            operations,
        })
    }

    /// Crash recovery with several nodes: only `running` tasks whose lease
    /// expired (their node died) and their `running` operations become
    /// `interrupted`; another node may then lease and resume them.
    pub async fn interrupt_expired_tasks(
        &self,
        now: Timestamp,
    ) -> Result<InterruptedCounts, StoreError> {
        let running = Status::Running.as_str();
        let interrupted = Status::Interrupted.as_str();
        let mut transaction = self.begin_write().await?;
        let operations = sqlx::query(
            "UPDATE operations SET status = $2, ended_at = $3
             WHERE status = $1 AND task_id IN (
                SELECT id FROM tasks WHERE status = $1 AND lease_expires_at IS NOT NULL AND lease_expires_at <= $3)",
        )
        .bind(running)
        .bind(interrupted)
        .bind(now.as_millis())
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        let tasks = sqlx::query(
            "UPDATE tasks SET status = $2, lease_owner = NULL, lease_expires_at = NULL
             WHERE status = $1 AND lease_expires_at IS NOT NULL AND lease_expires_at <= $3",
        )
        .bind(running)
        .bind(interrupted)
        .bind(now.as_millis())
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        transaction.commit().await?;
        Ok(InterruptedCounts {
            jobs: 0,
            runs: 0,
            tasks,
            operations,
        })
    }
}
