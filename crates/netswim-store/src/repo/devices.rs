//! Devices of the inventory and the history of their collected facts.
//!
//! Each fact snapshot keeps the JSON the sync collected and the list of
//! fields that differ from the previous snapshot of the same device, so
//! "what changed since the last sync" is a read, not a recomputation.

use netswim_domain::Os;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use super::{expect_one_row, get_time};
use crate::model::{from_db_json, to_db_json};
use crate::{Store, StoreError, Timestamp};

/// A device to insert.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewDevice {
    /// Unique inventory name.
    pub name: String,
    pub os: Option<Os>,
    /// Platform or model family (`c3750`, `cat9k`, ...).
    pub platform: Option<String>,
    /// Management address or DNS name.
    pub host: String,
    /// SSH port.
    pub port: u16,
    pub credential_profile_id: Option<i64>,
    pub site_id: Option<i64>,
    /// Role (`core`, `distribution`, `access`, `edge`, `primary`, `standby`, ...).
    pub role: Option<String>,
    /// The other member of a redundant pair.
    pub redundancy_peer_id: Option<i64>,
}

/// A stored device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: i64,
    pub name: String,
    pub os: Option<Os>,
    pub platform: Option<String>,
    pub host: String,
    pub port: u16,
    pub credential_profile_id: Option<i64>,
    pub site_id: Option<i64>,
    pub role: Option<String>,
    pub redundancy_peer_id: Option<i64>,
    /// SSH host key pinned on first connection (OpenSSH public key text).
    pub ssh_host_key: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One collection of a device's facts.
#[derive(Debug, Clone, PartialEq)]
pub struct FactSnapshot {
    pub id: i64,
    pub device_id: i64,
    pub collected_at: Timestamp,
    pub facts: Value,
    /// Paths (`version`, `file_systems[0].free_bytes`) that differ from the
    /// previous snapshot; for the first snapshot, every top-level field.
    pub changed_fields: Vec<String>,
}

const DEVICE_COLUMNS: &str = "id, name, os, platform, host, port, credential_profile_id, site_id, role, \
    redundancy_peer_id, ssh_host_key, created_at, updated_at";

fn device_from_row(row: &AnyRow) -> Result<Device, StoreError> {
    let os = row
        .try_get::<Option<String>, _>("os")?
        .map(|text| {
            text.parse::<Os>().map_err(|error| StoreError::Corrupt {
                what: "device os",
                reason: error.to_string(),
            })
        })
        .transpose()?;
    let port: i64 = row.try_get("port")?;
    Ok(Device {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        os,
        platform: row.try_get("platform")?,
        host: row.try_get("host")?,
        port: u16::try_from(port).map_err(|_| StoreError::Corrupt {
            what: "device port",
            reason: format!("{port} is not a TCP port"),
        })?,
        credential_profile_id: row.try_get("credential_profile_id")?,
        site_id: row.try_get("site_id")?,
        role: row.try_get("role")?,
        redundancy_peer_id: row.try_get("redundancy_peer_id")?,
        ssh_host_key: row.try_get("ssh_host_key")?,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

fn snapshot_from_row(row: &AnyRow) -> Result<FactSnapshot, StoreError> {
    Ok(FactSnapshot {
        id: row.try_get("id")?,
        device_id: row.try_get("device_id")?,
        collected_at: get_time(row, "collected_at")?,
        facts: from_db_json("device facts", &row.try_get::<String, _>("facts_json")?)?,
        changed_fields: from_db_json(
            "changed fields",
            &row.try_get::<String, _>("changed_fields_json")?,
        )?,
    })
}

async fn insert_device_with<'c, E>(
    executor: E,
    device: &NewDevice,
    now: i64,
) -> Result<Device, StoreError>
where
    E: Executor<'c, Database = Any>,
{
    let row = sqlx::query(&format!(
        "INSERT INTO devices (name, os, platform, host, port, credential_profile_id, site_id, role,
            redundancy_peer_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING {DEVICE_COLUMNS}"
    ))
    .bind(&device.name)
    .bind(device.os.map(|os| os.as_str()))
    .bind(&device.platform)
    .bind(&device.host)
    .bind(i64::from(device.port))
    .bind(device.credential_profile_id)
    .bind(device.site_id)
    .bind(&device.role)
    .bind(device.redundancy_peer_id)
    .bind(now)
    .fetch_one(executor)
    .await
    .map_err(|error| StoreError::from_database(error, "device", &device.name))?;
    device_from_row(&row)
}

impl Store {
    /// Inserts a device; a taken name is a `Conflict`.
    pub async fn insert_device(&self, device: &NewDevice) -> Result<Device, StoreError> {
        insert_device_with(self.pool(), device, Timestamp::now().as_millis()).await
    }

    /// Inserts many devices in one transaction (CSV import): all or none.
    pub async fn insert_devices(&self, devices: &[NewDevice]) -> Result<Vec<Device>, StoreError> {
        let now = Timestamp::now().as_millis();
        let mut transaction = self.begin_write().await?;
        let mut stored = Vec::with_capacity(devices.len());
        for device in devices {
            stored.push(insert_device_with(&mut *transaction, device, now).await?);
        }
        transaction.commit().await?;
        Ok(stored)
    }

    /// One device by id.
    pub async fn get_device(&self, id: i64) -> Result<Device, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "device",
            key: id.to_string(),
        })?;
        device_from_row(&row)
    }

    /// One device by name.
    pub async fn find_device_by_name(&self, name: &str) -> Result<Option<Device>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(device_from_row).transpose()
    }

    /// Every device, by name.
    pub async fn list_devices(&self) -> Result<Vec<Device>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices ORDER BY name"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(device_from_row).collect()
    }

    /// Devices of one site, by name.
    pub async fn list_devices_in_site(&self, site_id: i64) -> Result<Vec<Device>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE site_id = $1 ORDER BY name"
        ))
        .bind(site_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(device_from_row).collect()
    }

    /// Writes every editable field of a device (not the pinned host key).
    pub async fn update_device(&self, device: &Device) -> Result<Device, StoreError> {
        let result = sqlx::query(
            "UPDATE devices SET name = $2, os = $3, platform = $4, host = $5, port = $6,
                credential_profile_id = $7, site_id = $8, role = $9, redundancy_peer_id = $10, updated_at = $11
             WHERE id = $1",
        )
        .bind(device.id)
        .bind(&device.name)
        .bind(device.os.map(|os| os.as_str()))
        .bind(&device.platform)
        .bind(&device.host)
        .bind(i64::from(device.port))
        .bind(device.credential_profile_id)
        .bind(device.site_id)
        .bind(&device.role)
        .bind(device.redundancy_peer_id)
        .bind(Timestamp::now().as_millis())
        .execute(self.pool())
        .await
        .map_err(|error| StoreError::from_database(error, "device", &device.name))?;
        expect_one_row(result.rows_affected(), "device", device.id)?;
        self.get_device(device.id).await
    }

    /// Pins (or, with `None`, forgets) a device's SSH host key.
    pub async fn set_device_host_key(
        &self,
        id: i64,
        host_key: Option<&str>,
    ) -> Result<(), StoreError> {
        let result =
            sqlx::query("UPDATE devices SET ssh_host_key = $2, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(host_key)
                .bind(Timestamp::now().as_millis())
                .execute(self.pool())
                .await?;
        expect_one_row(result.rows_affected(), "device", id)
    }

    /// Deletes a device and its fact history.
    pub async fn delete_device(&self, id: i64) -> Result<(), StoreError> {
        let result = sqlx::query("DELETE FROM devices WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        expect_one_row(result.rows_affected(), "device", id)
    }

    /// Stores a new fact snapshot with the fields changed since the previous one.
    pub async fn record_device_facts(
        &self,
        device_id: i64,
        collected_at: Timestamp,
        facts: &Value,
    ) -> Result<FactSnapshot, StoreError> {
        let mut transaction = self.begin_write().await?;
        let previous = sqlx::query(
            "SELECT facts_json FROM device_facts WHERE device_id = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(device_id)
        .fetch_optional(&mut *transaction)
        .await?;
        let previous: Value = match previous {
            Some(row) => from_db_json("device facts", &row.try_get::<String, _>("facts_json")?)?,
            None => Value::Object(serde_json::Map::new()),
        };
        let changed = changed_fields(&previous, facts);
        let row = sqlx::query(
            "INSERT INTO device_facts (device_id, collected_at, facts_json, changed_fields_json)
             VALUES ($1, $2, $3, $4)
             RETURNING id, device_id, collected_at, facts_json, changed_fields_json",
        )
        .bind(device_id)
        .bind(collected_at.as_millis())
        .bind(to_db_json("device facts", facts)?)
        .bind(to_db_json("changed fields", &changed)?)
        .fetch_one(&mut *transaction)
        .await
        .map_err(|error| match &error {
            sqlx::Error::Database(database_error) if database_error.is_foreign_key_violation() => {
                StoreError::NotFound {
                    what: "device",
                    key: device_id.to_string(),
                }
            }
            _ => StoreError::Database { source: error },
        })?;
        transaction.commit().await?;
        snapshot_from_row(&row)
    }

    /// The most recent fact snapshot of a device.
    pub async fn latest_device_facts(
        &self,
        device_id: i64,
    ) -> Result<Option<FactSnapshot>, StoreError> {
        let row = sqlx::query(
            "SELECT id, device_id, collected_at, facts_json, changed_fields_json FROM device_facts
             WHERE device_id = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(device_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(snapshot_from_row).transpose()
    }

    /// A device's fact snapshots, newest first, at most `limit`.
    pub async fn device_fact_history(
        &self,
        device_id: i64,
        limit: u32,
    ) -> Result<Vec<FactSnapshot>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, device_id, collected_at, facts_json, changed_fields_json FROM device_facts
             WHERE device_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(device_id)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(snapshot_from_row).collect()
    }
}

/// Paths that differ between two JSON documents: objects are compared key by
/// key (`a.b`), arrays element by element (`a[2]`), anything else by value.
/// A path present on one side only counts as changed.
pub fn changed_fields(previous: &Value, current: &Value) -> Vec<String> {
    let mut changed = Vec::new();
    collect_changes(previous, current, "", &mut changed);
    changed
}

fn collect_changes(previous: &Value, current: &Value, path: &str, changed: &mut Vec<String>) {
    match (previous, current) {
        (Value::Object(before), Value::Object(after)) => {
            let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match (before.get(key), after.get(key)) {
                    (Some(old), Some(new)) => collect_changes(old, new, &child, changed),
                    _ => changed.push(child),
                }
            }
        }
        (Value::Array(before), Value::Array(after)) => {
            for index in 0..before.len().max(after.len()) {
                let child = format!("{path}[{index}]");
                match (before.get(index), after.get(index)) {
                    (Some(old), Some(new)) => collect_changes(old, new, &child, changed),
                    _ => changed.push(child),
                }
            }
        }
        _ => {
            if previous != current {
                changed.push(if path.is_empty() {
                    "$".to_owned()
                } else {
                    path.to_owned()
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::changed_fields;

    fn check(previous: serde_json::Value, current: serde_json::Value, expected: &[&str]) {
        assert_eq!(changed_fields(&previous, &current), expected);
    }

    #[test]
    fn changed_fields_name_paths_that_differ() {
        check(
            json!({}),
            json!({"version": "1", "model": "x"}),
            &["model", "version"],
        );
        check(json!({"version": "1"}), json!({"version": "1"}), &[]);
        check(
            json!({"version": "1"}),
            json!({"version": "2"}),
            &["version"],
        );
        check(json!({"a": 1, "b": 2}), json!({"a": 1}), &["b"]);
        check(
            json!({"fs": [{"free": 1}, {"free": 2}]}),
            json!({"fs": [{"free": 1}, {"free": 3}]}),
            &["fs[1].free"],
        );
        check(json!({"fs": [1]}), json!({"fs": [1, 2]}), &["fs[1]"]);
        check(json!({"a": {"b": 1}}), json!({"a": 5}), &["a"]);
        check(json!(1), json!(2), &["$"]);
    }
}
