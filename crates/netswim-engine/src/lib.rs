//! Jobs: image import (collection), inventory sync, and later analysis,
//! distribution, activation, commit and rollback; the scheduler; durable
//! execution (every step recorded before it acts and after it finishes).
//! Speaks no HTTP.

pub mod backup;
pub mod credentials;
mod error;
pub mod import;
pub mod inventory;
pub mod jobs;
pub mod sync;
pub mod upgrade;

pub use backup::DEVICE_BACKUP_LISTEN_SETTING;
pub use error::EngineError;
pub use import::{ImportOutcome, ImportSource, ImportSpec, TRUSTED_SIGNING_KEYS_SETTING};
pub use jobs::{Engine, IMPORT_JOB, JobDetail, RecoveryReport, SYNC_JOB, SyncSpec};
