//! Inventory sync: collect facts from devices over SSH through
//! `netswim-drivers`, store them with history (what changed since the last
//! sync) and report unreachable, auth-failed and unsupported devices as such.
//!
//! Contract shared by the job runner and the API (the body is built in the
//! drivers work): `sync_device` syncs one device; `sync_devices` many, bounded.

use std::time::Duration;

use netswim_store::crypto::SecretKey;
use netswim_store::{Device, Store};
use serde::Serialize;

use crate::EngineError;

/// How a sync talks to devices.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Devices synced at once.
    pub concurrency: usize,
    /// TCP connect plus SSH handshake and login.
    pub connect_timeout: Duration,
    /// One command's output.
    pub command_timeout: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            concurrency: 32,
            connect_timeout: Duration::from_secs(15),
            command_timeout: Duration::from_secs(60),
        }
    }
}

/// What happened to one device; `kind()` is the stable lowercase name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SyncOutcome {
    /// Facts stored; the fields that changed since the previous snapshot.
    Synced { changed_fields: Vec<String> },
    /// No TCP connection or SSH handshake.
    Unreachable { message: String },
    /// The device refused the credentials.
    AuthFailed { message: String },
    /// The device answered but runs something netswim has no driver for.
    Unsupported { message: String },
    /// The device's SSH host key differs from the pinned one.
    HostKeyChanged { message: String },
    /// Anything else (a command failed, output did not parse...).
    Failed { message: String },
}

impl SyncOutcome {
    pub fn kind(&self) -> &'static str {
        match self {
            SyncOutcome::Synced { .. } => "synced",
            SyncOutcome::Unreachable { .. } => "unreachable",
            SyncOutcome::AuthFailed { .. } => "auth_failed",
            SyncOutcome::Unsupported { .. } => "unsupported",
            SyncOutcome::HostKeyChanged { .. } => "host_key_changed",
            SyncOutcome::Failed { .. } => "failed",
        }
    }
}

/// One device's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceSyncResult {
    pub device_id: i64,
    pub device_name: String,
    #[serde(flatten)]
    pub outcome: SyncOutcome,
}

/// Syncs one device: connect, collect facts, store a snapshot.
pub async fn sync_device(
    store: &Store,
    key: &SecretKey,
    device: &Device,
    options: &SyncOptions,
) -> Result<DeviceSyncResult, EngineError> {
    let _ = (store, key, options);
    Err(EngineError::Invalid {
        what: "sync",
        reason: format!("device sync for {} is not built yet", device.name),
    })
}

/// Syncs many devices, `options.concurrency` at a time; `progress` sees each
/// result as it lands. Per-device failures are results, not errors.
pub async fn sync_devices(
    store: &Store,
    key: &SecretKey,
    devices: &[Device],
    options: &SyncOptions,
    progress: &(dyn Fn(&DeviceSyncResult) + Send + Sync),
) -> Result<Vec<DeviceSyncResult>, EngineError> {
    let mut results = Vec::with_capacity(devices.len());
    for device in devices {
        let result = sync_device(store, key, device, options).await?;
        progress(&result);
        results.push(result);
    }
    Ok(results)
}
