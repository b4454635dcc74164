//! Settings: a key → JSON value table with typed readers for the known keys.

use serde_json::Value;
use sqlx::Row;

use crate::model::{from_db_json, to_db_json};
use crate::{Store, StoreError, Timestamp};

/// Key of the transfer protocol order devices try.
pub const PROTOCOL_ORDER_KEY: &str = "protocol_order";
/// Key of the job defaults (concurrency, continue on failure, ...).
pub const JOB_DEFAULTS_KEY: &str = "job_defaults";
/// Protocol order when nobody changed it.
pub const DEFAULT_PROTOCOL_ORDER: [&str; 4] = ["scp", "sftp", "ftp", "tftp"];

impl Store {
    /// One setting, if set.
    pub async fn get_setting(&self, key: &str) -> Result<Option<Value>, StoreError> {
        let row = sqlx::query("SELECT value_json FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| from_db_json("setting", &row.try_get::<String, _>("value_json")?))
            .transpose()
    }

    /// Sets (inserts or replaces) one setting.
    pub async fn set_setting(&self, key: &str, value: &Value) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO settings (key, value_json, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(to_db_json("setting", value)?)
        .bind(Timestamp::now().as_millis())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Every setting, by key.
    pub async fn list_settings(&self) -> Result<Vec<(String, Value)>, StoreError> {
        let rows = sqlx::query("SELECT key, value_json FROM settings ORDER BY key")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("key")?,
                    from_db_json("setting", &row.try_get::<String, _>("value_json")?)?,
                ))
            })
            .collect()
    }

    /// The transfer protocol order (default `scp, sftp, ftp, tftp`).
    pub async fn protocol_order(&self) -> Result<Vec<String>, StoreError> {
        match self.get_setting(PROTOCOL_ORDER_KEY).await? {
            Some(value) => serde_json::from_value(value).map_err(|error| StoreError::Corrupt {
                what: "protocol order setting",
                reason: error.to_string(),
            }),
            None => Ok(DEFAULT_PROTOCOL_ORDER
                .iter()
                .map(|name| (*name).to_owned())
                .collect()),
        }
    }

    /// The job defaults object (empty when unset).
    pub async fn job_defaults(&self) -> Result<Value, StoreError> {
        Ok(self
            .get_setting(JOB_DEFAULTS_KEY)
            .await?
            .unwrap_or_else(|| Value::Object(serde_json::Map::new())))
    }
}
