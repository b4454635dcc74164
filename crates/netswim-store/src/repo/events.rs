//! Events published for live progress, kept so a client can resume after its
//! last seen id.

use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::get_time;
use crate::model::{from_db_json, to_db_json};
use crate::{Store, StoreError, Timestamp};

/// An event to insert.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewEvent {
    /// `job.started`, `task.status`, `operation.finished`, ...
    pub kind: String,
    pub job_id: Option<i64>,
    pub run_id: Option<i64>,
    pub task_id: Option<i64>,
    pub payload: Value,
}

/// A stored event; ids increase, so they order the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: i64,
    pub at: Timestamp,
    pub kind: String,
    pub job_id: Option<i64>,
    pub run_id: Option<i64>,
    pub task_id: Option<i64>,
    pub payload: Value,
}

const COLUMNS: &str = "id, at, kind, job_id, run_id, task_id, payload_json";

fn event_from_row(row: &AnyRow) -> Result<Event, StoreError> {
    Ok(Event {
        id: row.try_get("id")?,
        at: get_time(row, "at")?,
        kind: row.try_get("kind")?,
        job_id: row.try_get("job_id")?,
        run_id: row.try_get("run_id")?,
        task_id: row.try_get("task_id")?,
        payload: from_db_json("event payload", &row.try_get::<String, _>("payload_json")?)?,
    })
}

impl Store {
    /// Appends an event.
    pub async fn insert_event(&self, event: &NewEvent) -> Result<Event, StoreError> {
        let row = sqlx::query(&format!(
            "INSERT INTO events (at, kind, job_id, run_id, task_id, payload_json) VALUES ($1, $2, $3, $4, $5, $6)
             RETURNING {COLUMNS}"
        ))
        .bind(Timestamp::now().as_millis())
        .bind(&event.kind)
        .bind(event.job_id)
        .bind(event.run_id)
        .bind(event.task_id)
        .bind(to_db_json("event payload", &event.payload)?)
        .fetch_one(self.pool())
        .await?;
        event_from_row(&row)
    }

    /// Events with an id greater than `after_id`, oldest first, at most `limit`.
    pub async fn list_events_after(
        &self,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM events WHERE id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(after_id)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Events of one job, oldest first.
    pub async fn list_job_events(&self, job_id: i64) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM events WHERE job_id = $1 ORDER BY id"
        ))
        .bind(job_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Deletes events older than `before` (retention); returns how many.
    pub async fn prune_events(&self, before: Timestamp) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM events WHERE at < $1")
            .bind(before.as_millis())
            .execute(self.pool())
            .await?;
        Ok(result.rows_affected())
    }
}
