//! What upgrade jobs are asked to do: the serde form of these types is the
//! job's stored `spec` and what the API accepts (field names are stable).
//!
//! Engine methods (implemented in this module's siblings):
//! - `Engine::analyse(&AnalysisSpec) -> AnalysisReport` (no job: live readiness)
//! - `Engine::submit_analysis(AnalysisSpec, Schedule, actor) -> Job`,
//!   `Engine::analysis_report(job_id) -> AnalysisReport` (latest run)
//! - `Engine::submit_distribution(DistributionSpec, Schedule, actor) -> Job`
//! - `Engine::submit_activation(ActivationSpec, Schedule, actor) -> Job`
//! - `Engine::submit_commit(CommitSpec, Schedule, actor) -> Job`
//! - `Engine::submit_rollback(RollbackSpec, Schedule, actor) -> Job`
//! - `Engine::control_job(job_id, JobControl) -> Job` (cancel, pause, resume)
//! - `Engine::job_summary(job_id) -> JobSummary` (latest run)
//! - `Engine::job_log(job_id) -> String` (one line per operation and event)

use netswim_domain::analysis::{AnalysisSummary, Method, Readiness};
use serde::{Deserialize, Serialize};

/// Which devices a job works on. A device is chosen when `all` is set, when
/// its id or name is listed, or when it matches every filter given among
/// `sites`, `roles` and `platforms` (at least one filter given). A selector
/// that chooses no device is refused when the job is submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSelector {
    #[serde(default)]
    pub all: bool,
    #[serde(default)]
    pub ids: Vec<i64>,
    #[serde(default)]
    pub names: Vec<String>,
    /// Site names.
    #[serde(default)]
    pub sites: Vec<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    /// OS names (`ios`, `iosxe`, `iosxr`) or model prefixes (`WS-C2960X`).
    #[serde(default)]
    pub platforms: Vec<String>,
}

/// A transfer protocol a device pulls an image with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Scp,
    Sftp,
    Ftp,
    Tftp,
    Http,
    Https,
}

/// How often a job runs again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recurrence {
    #[default]
    None,
    Minute,
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

/// When a job runs: now (`at` absent) or at a time, once or recurring.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// RFC 3339 with an offset (`2026-11-23T02:00:00+01:00`), or a local
    /// time (`2026-11-23T02:00`) read in `time_zone`.
    #[serde(default)]
    pub at: Option<String>,
    /// IANA zone (`Europe/Zurich`) recurrences are computed in, so a daily
    /// job stays at 02:00 across daylight-saving changes; default UTC.
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub recurrence: Recurrence,
}

/// What an analysis looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalysisSpec {
    #[serde(default)]
    pub name: Option<String>,
    pub image_id: i64,
    pub devices: DeviceSelector,
    /// Installation method; default per device (`Method::default_for_device`).
    #[serde(default)]
    pub method: Option<Method>,
}

/// An analysis result: one row per device for the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalysisReport {
    pub image_id: i64,
    pub image: String,
    pub rows: Vec<Readiness>,
    pub summary: AnalysisSummary,
}

/// Whether a job goes on after a device fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailurePolicy {
    /// Other devices go on; the job ends `partial`.
    #[default]
    Continue,
    /// No new device starts; running ones finish their current device.
    Stop,
}

/// Activation order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivationMode {
    /// One device at a time; the next starts only when the previous one is
    /// back and validated.
    Sequential,
    /// Up to `max_parallel` at once.
    #[default]
    Parallel,
}

/// IOS-XE device upgrade mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum XeMode {
    /// Keep the mode the device runs in.
    #[default]
    Current,
    Bundle,
    Install,
}

/// How activation proceeds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivationOptions {
    #[serde(default)]
    pub mode: ActivationMode,
    /// Parallel activation bound; default `job_defaults.max_parallel_devices`.
    #[serde(default)]
    pub max_parallel: Option<u32>,
    #[serde(default)]
    pub xe_mode: XeMode,
    /// IOS-XR: commit after a validated activation (default true).
    #[serde(default)]
    pub commit: Option<bool>,
    /// How long a reloading device may take to come back (default 900 s).
    #[serde(default)]
    pub reload_timeout_secs: Option<u64>,
    #[serde(default)]
    pub failure_policy: Option<FailurePolicy>,
}

/// A distribution: the image onto each device's flash (every stack member),
/// optionally followed by activation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistributionSpec {
    /// Default `Distribute_<image file>_<UTC timestamp>`.
    #[serde(default)]
    pub name: Option<String>,
    pub image_id: i64,
    pub devices: DeviceSelector,
    /// Protocol order; default the `protocol_order` setting; intersected
    /// with what each device supports.
    #[serde(default)]
    pub protocols: Option<Vec<Protocol>>,
    /// Target file system (`flash:`, `bootflash:`); default the one the
    /// analysis picks, on every stack member.
    #[serde(default)]
    pub location: Option<String>,
    /// Per-device overrides of the location, by device name.
    #[serde(default)]
    pub locations: std::collections::BTreeMap<String, String>,
    /// Pull through the distribution servers registered for the device's
    /// site (default true).
    #[serde(default)]
    pub use_distribution_servers: Option<bool>,
    /// Per-device override of the distribution server (by device name →
    /// server id; `0` = the local server).
    #[serde(default)]
    pub distribution_servers: std::collections::BTreeMap<String, i64>,
    /// Back up the running image into the repository first.
    #[serde(default)]
    pub backup_current_image: Option<bool>,
    /// Delete inactive images (oldest first) when space is short.
    #[serde(default)]
    pub erase_when_short: Option<bool>,
    /// Add `boot system tftp://…` after the new image.
    #[serde(default)]
    pub tftp_fallback: Option<bool>,
    /// Transfer retries per device (default 2).
    #[serde(default)]
    pub retries: Option<u32>,
    #[serde(default)]
    pub max_parallel: Option<u32>,
    #[serde(default)]
    pub max_parallel_per_site: Option<u32>,
    #[serde(default)]
    pub max_parallel_per_distribution_server: Option<u32>,
    #[serde(default)]
    pub failure_policy: Option<FailurePolicy>,
    /// Activate each device that received the image.
    #[serde(default)]
    pub activate: Option<ActivationOptions>,
}

/// An activation: from the library (`image_id`, image already on the
/// devices) or from a completed distribution run (`from_run`: only its
/// successful devices, its image).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivationSpec {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub image_id: Option<i64>,
    #[serde(default)]
    pub devices: DeviceSelector,
    #[serde(default)]
    pub from_run: Option<i64>,
    #[serde(default)]
    pub options: ActivationOptions,
}

/// IOS-XR commit of the active software.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitSpec {
    #[serde(default)]
    pub name: Option<String>,
    pub devices: DeviceSelector,
}

/// Rollback: IOS-XR to the last committed point; IOS/IOS-XE to the image
/// booted before the last activation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackSpec {
    #[serde(default)]
    pub name: Option<String>,
    pub devices: DeviceSelector,
    #[serde(default)]
    pub reload_timeout_secs: Option<u64>,
}

/// A request to change a job's course.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobControl {
    /// No new device starts; running devices stop at their next safe point
    /// (never between reload and validation); the rest become `cancelled`.
    Cancel,
    /// No new device starts; running ones finish; the job waits.
    Pause,
    Resume,
}

/// Task counts of a job's latest run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSummary {
    pub total: u64,
    pub successful: u64,
    pub failed: u64,
    pub in_progress: u64,
    pub not_started: u64,
    pub cancelled: u64,
}
