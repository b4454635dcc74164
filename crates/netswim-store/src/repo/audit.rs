//! The audit log: who changed what, when. Rows are only ever appended.

use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::get_time;
use crate::model::{from_db_json, from_db_size, to_db_json};
use crate::{Store, StoreError, Timestamp};

/// An audit entry to append.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewAuditEntry {
    /// User or token name (or `system`).
    pub actor: String,
    /// `image.import`, `device.update`, `job.create`, ...
    pub action: String,
    /// What was acted on (`device:12`, `image:ab12...`).
    pub object: String,
    pub detail: Value,
}

/// A stored audit entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub detail: Value,
}

const COLUMNS: &str = "id, at, actor, action, object, detail_json";

fn entry_from_row(row: &AnyRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        id: row.try_get("id")?,
        at: get_time(row, "at")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        object: row.try_get("object")?,
        detail: from_db_json("audit detail", &row.try_get::<String, _>("detail_json")?)?,
    })
}

impl Store {
    /// Appends an audit entry.
    pub async fn insert_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError> {
        let row = sqlx::query(&format!(
            "INSERT INTO audit_log (at, actor, action, object, detail_json) VALUES ($1, $2, $3, $4, $5)
             RETURNING {COLUMNS}"
        ))
        .bind(Timestamp::now().as_millis())
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.object)
        .bind(to_db_json("audit detail", &entry.detail)?)
        .fetch_one(self.pool())
        .await?;
        entry_from_row(&row)
    }

    /// The newest audit entries first, at most `limit`.
    pub async fn list_audit(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM audit_log ORDER BY id DESC LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// How many audit entries exist.
    pub async fn count_audit(&self) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS entry_count FROM audit_log")
            .fetch_one(self.pool())
            .await?;
        from_db_size("audit count", row.try_get("entry_count")?)
    }
}
