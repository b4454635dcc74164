//! Inventory sync: collect facts from devices over SSH through
//! `netswim-drivers`, store them with history (what changed since the last
//! sync) and report unreachable, auth-failed and unsupported devices as such.
//!
//! Contract shared by the job runner and the API: `sync_device` syncs one
//! device; `sync_devices` many, bounded. A snapshot is the serde form of
//! `netswim_drivers::CollectedFacts`.

use std::time::Duration;

use futures::StreamExt;
use netswim_domain::Os;
use netswim_drivers::{
    Algorithms, CollectedFacts, DriverError, Session, SessionOptions, detect_and_collect,
};
use netswim_store::crypto::SecretKey;
use netswim_store::{Device, Store, Timestamp};
use serde::Serialize;

use crate::EngineError;
use crate::credentials::DeviceSecrets;

/// How a sync talks to devices.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Devices synced at once.
    pub concurrency: usize,
    /// TCP connect plus SSH handshake and login.
    pub connect_timeout: Duration,
    /// One command's output.
    pub command_timeout: Duration,
    /// Offer the SHA-1 key exchange, `ssh-rsa` and CBC ciphers old IOS
    /// needs, after the modern algorithms (which stay preferred).
    pub allow_legacy_algorithms: bool,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            concurrency: 32,
            connect_timeout: Duration::from_secs(15),
            command_timeout: Duration::from_secs(60),
            allow_legacy_algorithms: true,
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
///
/// Device-side failures (unreachable, refused login, changed host key, a
/// command that failed) are outcomes; only a store failure is an error.
pub async fn sync_device(
    store: &Store,
    key: &SecretKey,
    device: &Device,
    options: &SyncOptions,
) -> Result<DeviceSyncResult, EngineError> {
    let outcome = match collect(store, key, device, options).await? {
        Ok((facts, host_key)) => {
            if device.ssh_host_key.is_none() {
                // Trust on first use: pin what this first session saw.
                store
                    .set_device_host_key(device.id, Some(host_key.as_str()))
                    .await?;
            }
            let snapshot = serde_json::to_value(&facts).map_err(|error| EngineError::Invalid {
                what: "collected facts",
                reason: error.to_string(),
            })?;
            let stored = store
                .record_device_facts(device.id, Timestamp::now(), &snapshot)
                .await?;
            learn_identity(store, device, &facts).await?;
            SyncOutcome::Synced {
                changed_fields: stored.changed_fields,
            }
        }
        Err(outcome) => outcome,
    };
    match &outcome {
        SyncOutcome::Synced { changed_fields } => {
            tracing::info!(device = %device.name, changed = changed_fields.len(), "device synced");
        }
        other => {
            tracing::warn!(device = %device.name, outcome = other.kind(), "device not synced");
        }
    }
    Ok(DeviceSyncResult {
        device_id: device.id,
        device_name: device.name.clone(),
        outcome,
    })
}

/// Logs in and collects facts; the inner error is the per-device outcome.
async fn collect(
    store: &Store,
    key: &SecretKey,
    device: &Device,
    options: &SyncOptions,
) -> Result<Result<(CollectedFacts, String), SyncOutcome>, EngineError> {
    let Some(profile_id) = device.credential_profile_id else {
        return Ok(Err(SyncOutcome::AuthFailed {
            message: format!(
                "{} has no credential profile (hint: assign one before syncing)",
                device.name
            ),
        }));
    };
    let profile = store.get_credential_profile(profile_id).await?;
    let secrets = match DeviceSecrets::open(&profile.secret, key) {
        Ok(secrets) => secrets,
        Err(error) => {
            return Ok(Err(SyncOutcome::Failed {
                message: format!(
                    "credential profile {} cannot be opened: {error} (hint: the server's secret key changed; re-enter the credentials)",
                    profile.name
                ),
            }));
        }
    };
    if let Some(os) = device.os
        && !matches!(os, Os::Ios | Os::Iosxe | Os::Iosxr)
    {
        return Ok(Err(SyncOutcome::Unsupported {
            message: format!(
                "{} runs {}; netswim collects facts from ios, iosxe and iosxr",
                device.name,
                os.as_str()
            ),
        }));
    }
    let session_options = SessionOptions {
        host: device.host.clone(),
        port: device.port,
        username: profile.username.clone(),
        password: secrets.password.clone(),
        enable_secret: secrets.enable_secret.clone(),
        algorithms: if options.allow_legacy_algorithms {
            Algorithms::Legacy
        } else {
            Algorithms::Modern
        },
        connect_timeout: options.connect_timeout,
        command_timeout: options.command_timeout,
        pinned_host_key: device.ssh_host_key.clone(),
        keyboard_interactive_first: false,
    };
    let mut session = match Session::connect(session_options).await {
        Ok(session) => session,
        Err(error) => return Ok(Err(outcome_of(error))),
    };
    let collected = detect_and_collect(device.os, &mut session).await;
    let host_key = session.host_key().to_string();
    session.close().await;
    Ok(collected.map(|facts| (facts, host_key)).map_err(outcome_of))
}

fn outcome_of(error: DriverError) -> SyncOutcome {
    let message = error.to_string();
    match error {
        DriverError::Unreachable { .. } => SyncOutcome::Unreachable { message },
        DriverError::AuthFailed { .. } => SyncOutcome::AuthFailed { message },
        DriverError::HostKeyChanged { .. } => SyncOutcome::HostKeyChanged { message },
        DriverError::Unsupported { .. } => SyncOutcome::Unsupported { message },
        _ => SyncOutcome::Failed { message },
    }
}

/// Sets the OS and platform the device turned out to run, when not known.
async fn learn_identity(
    store: &Store,
    device: &Device,
    facts: &CollectedFacts,
) -> Result<(), EngineError> {
    let os = device.os.or(facts.os);
    let platform = device.platform.clone().or_else(|| facts.model.clone());
    if os != device.os || platform != device.platform {
        // Re-read: the pinned host key was just written.
        let current = store.get_device(device.id).await?;
        store
            .update_device(&Device {
                os,
                platform,
                ..current
            })
            .await?;
    }
    Ok(())
}

/// `sync_device`, with a store error turned into this device's failure.
async fn sync_device_or_failure(
    store: &Store,
    key: &SecretKey,
    device: &Device,
    options: &SyncOptions,
) -> DeviceSyncResult {
    match sync_device(store, key, device, options).await {
        Ok(result) => result,
        // A store hiccup fails this device, not the whole sync.
        Err(error) => DeviceSyncResult {
            device_id: device.id,
            device_name: device.name.clone(),
            outcome: SyncOutcome::Failed {
                message: error.to_string(),
            },
        },
    }
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
    // The futures are made up front (not by a closure inside the stream) so the
    // whole sync stays `Send` for every lifetime when a job spawns it.
    let pending: Vec<_> = devices
        .iter()
        .map(|device| sync_device_or_failure(store, key, device, options))
        .collect();
    let mut running = futures::stream::iter(pending).buffer_unordered(options.concurrency.max(1));
    let mut results = Vec::with_capacity(devices.len());
    while let Some(result) = running.next().await {
        progress(&result);
        results.push(result);
    }
    Ok(results)
}
