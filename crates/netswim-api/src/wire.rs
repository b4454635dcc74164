//! JSON wire types of the API and their conversions from store rows; the
//! store's rows stay free of any wire format.

use std::collections::BTreeMap;

use netswim_store::{
    ApiToken, AuditEntry, CredentialProfile, Device, DistributionServer, Image, Job, JobRun,
    Operation, Site, Task, User,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Upgrade job specs: the API accepts their serde form as is (field names
/// are stable), so the wire shape and the engine's stored spec are one.
pub use netswim_engine::upgrade::{
    ActivationOptions, ActivationSpec, AnalysisReport, AnalysisSpec, CommitSpec, DeviceSelector,
    DistributionSpec, JobSummary, RollbackSpec, Schedule,
};

#[derive(Debug, Serialize, Deserialize)]
pub struct ImageView {
    pub id: i64,
    pub file_name: String,
    pub sha256: String,
    pub md5: String,
    pub sha512: String,
    pub size_bytes: u64,
    pub family: Option<String>,
    pub os: Option<String>,
    pub image_type: Value,
    pub format: Value,
    pub version: Option<String>,
    pub feature_set: Option<String>,
    pub min_ram_bytes: Option<u64>,
    pub min_flash_bytes: Option<u64>,
    pub signature_status: Value,
    pub platforms: Vec<String>,
    pub requirements: BTreeMap<String, Value>,
    pub metadata: Value,
    pub created_at: i64,
}

impl From<Image> for ImageView {
    fn from(image: Image) -> Self {
        ImageView {
            id: image.id,
            file_name: image.file_name,
            sha256: image.sha256,
            md5: image.md5,
            sha512: image.sha512,
            size_bytes: image.size_bytes,
            family: image.family,
            os: image.os.map(|os| os.as_str().to_owned()),
            image_type: serde_json::to_value(image.image_type).unwrap_or_default(),
            format: serde_json::to_value(image.format).unwrap_or_default(),
            version: image.version,
            feature_set: image.feature_set,
            min_ram_bytes: image.min_ram_bytes,
            min_flash_bytes: image.min_flash_bytes,
            signature_status: serde_json::to_value(image.signature_status).unwrap_or_default(),
            platforms: image.platforms,
            requirements: image.requirements,
            metadata: image.metadata,
            created_at: image.created_at.as_millis(),
        }
    }
}

/// The result of an upload or a finished import.
#[derive(Debug, Serialize, Deserialize)]
pub struct ImportResult {
    pub job_id: i64,
    pub duplicate: bool,
    pub verified: Vec<String>,
    pub image: ImageView,
}

/// `POST /images/import` body: a URL, a path on the server, or a device to
/// back up (`device_id`, with `path` then naming the file on the device;
/// no `path`: its running image).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ImportRequest {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub device_id: Option<i64>,
    #[serde(default)]
    pub file_name: Option<String>,
    #[serde(default)]
    pub md5: Option<String>,
    #[serde(default)]
    pub sha512: Option<String>,
    #[serde(default)]
    pub signature: Option<String>,
    #[serde(default)]
    pub identity_file: Option<String>,
}

/// `PATCH /images/{id}/requirements`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct RequirementsEdit {
    #[serde(default)]
    pub min_ram_bytes: Option<u64>,
    #[serde(default)]
    pub min_flash_bytes: Option<u64>,
    /// Named requirements to set (`null` removes one).
    #[serde(default)]
    pub requirements: BTreeMap<String, Value>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DeviceView {
    pub id: i64,
    pub name: String,
    pub os: Option<String>,
    pub platform: Option<String>,
    pub host: String,
    pub port: u16,
    pub credential_profile_id: Option<i64>,
    pub site_id: Option<i64>,
    pub role: Option<String>,
    pub redundancy_peer_id: Option<i64>,
    pub ssh_host_key: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<Device> for DeviceView {
    fn from(device: Device) -> Self {
        DeviceView {
            id: device.id,
            name: device.name,
            os: device.os.map(|os| os.as_str().to_owned()),
            platform: device.platform,
            host: device.host,
            port: device.port,
            credential_profile_id: device.credential_profile_id,
            site_id: device.site_id,
            role: device.role,
            redundancy_peer_id: device.redundancy_peer_id,
            ssh_host_key: device.ssh_host_key,
            created_at: device.created_at.as_millis(),
            updated_at: device.updated_at.as_millis(),
        }
    }
}

/// `POST /devices` and `PUT /devices/{id}` body.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DeviceInput {
    pub name: String,
    pub host: String,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub credential_profile: Option<String>,
    #[serde(default)]
    pub credential_profile_id: Option<i64>,
    #[serde(default)]
    pub site_id: Option<i64>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub redundancy_peer_id: Option<i64>,
}

/// `POST /devices/sync` body.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct SyncRequest {
    #[serde(default)]
    pub device_ids: Vec<i64>,
}

/// A credential profile as shown: never its secrets.
#[derive(Debug, Serialize, Deserialize)]
pub struct CredentialView {
    pub id: i64,
    pub name: String,
    pub username: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<CredentialProfile> for CredentialView {
    fn from(profile: CredentialProfile) -> Self {
        CredentialView {
            id: profile.id,
            name: profile.name,
            username: profile.username,
            created_at: profile.created_at.as_millis(),
            updated_at: profile.updated_at.as_millis(),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct CredentialInput {
    pub name: String,
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub enable_secret: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SiteView {
    pub id: i64,
    pub name: String,
    pub description: String,
}

impl From<Site> for SiteView {
    fn from(site: Site) -> Self {
        SiteView {
            id: site.id,
            name: site.name,
            description: site.description,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct SiteInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DistributionServerView {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub site_ids: Vec<i64>,
}

impl From<DistributionServer> for DistributionServerView {
    fn from(server: DistributionServer) -> Self {
        DistributionServerView {
            id: server.id,
            name: server.name,
            url: server.url,
            site_ids: server.site_ids,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DistributionServerInput {
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub site_ids: Vec<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct JobView {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub status: String,
    pub spec: Value,
    /// `{at, time_zone, recurrence}` as submitted (`{}` = now, once).
    #[serde(default)]
    pub schedule: Value,
    /// When the scheduler starts the next run, if one is planned.
    #[serde(default)]
    pub next_run_at: Option<i64>,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<Job> for JobView {
    fn from(job: Job) -> Self {
        JobView {
            id: job.id,
            kind: job.kind,
            name: job.name,
            status: job.status.as_str().to_owned(),
            spec: redact_spec(job.spec),
            schedule: job.schedule,
            next_run_at: job.next_run_at.map(|time| time.as_millis()),
            created_by: job.created_by,
            created_at: job.created_at.as_millis(),
            updated_at: job.updated_at.as_millis(),
        }
    }
}

/// A row of `GET /jobs`: the job and its latest run (id, device count,
/// start, end); the run fields are absent before the first run.
#[derive(Debug, Serialize, Deserialize)]
pub struct JobRow {
    #[serde(flatten)]
    pub job: JobView,
    pub run_id: Option<i64>,
    /// Tasks of the latest run (one per device for device jobs).
    pub device_count: Option<u64>,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
}

impl JobRow {
    pub fn new(job: Job, run: Option<&JobRun>, task_count: Option<u64>) -> Self {
        JobRow {
            job: job.into(),
            run_id: run.map(|run| run.id),
            device_count: task_count,
            started_at: run.and_then(|run| run.started_at.map(|time| time.as_millis())),
            ended_at: run.and_then(|run| run.ended_at.map(|time| time.as_millis())),
        }
    }
}

/// Body of `POST /jobs/{analysis,distribution,activation,commit,rollback}`:
/// the job's spec fields at the top level plus an optional `schedule`.
#[derive(Debug, Serialize, Deserialize)]
pub struct JobRequest<S> {
    #[serde(flatten)]
    pub spec: S,
    #[serde(default)]
    pub schedule: Schedule,
}

/// Removes a password that came inside an import URL.
fn redact_spec(mut spec: Value) -> Value {
    if let Some(url) = spec
        .pointer_mut("/source/url")
        .and_then(|url| url.as_str().map(str::to_owned))
    {
        if let Ok(mut parsed) = url::Url::parse(&url) {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
                if let Some(slot) = spec.pointer_mut("/source/url") {
                    *slot = Value::String(parsed.to_string());
                }
            }
        }
    }
    spec
}

#[derive(Debug, Serialize, Deserialize)]
pub struct OperationView {
    pub seq: i64,
    pub name: String,
    pub status: String,
    pub message: String,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
}

impl From<Operation> for OperationView {
    fn from(operation: Operation) -> Self {
        OperationView {
            seq: operation.seq,
            name: operation.name,
            status: operation.status.as_str().to_owned(),
            message: operation.message,
            started_at: operation.started_at.map(|time| time.as_millis()),
            ended_at: operation.ended_at.map(|time| time.as_millis()),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct TaskView {
    pub id: i64,
    pub device_id: Option<i64>,
    pub subject: String,
    pub status: String,
    pub message: String,
    #[serde(default)]
    pub started_at: Option<i64>,
    #[serde(default)]
    pub ended_at: Option<i64>,
    pub operations: Vec<OperationView>,
}

impl TaskView {
    pub fn new(task: Task, operations: Vec<Operation>) -> Self {
        TaskView {
            id: task.id,
            device_id: task.device_id,
            subject: task.subject,
            status: task.status.as_str().to_owned(),
            message: task.message,
            started_at: task.started_at.map(|time| time.as_millis()),
            ended_at: task.ended_at.map(|time| time.as_millis()),
            operations: operations.into_iter().map(OperationView::from).collect(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RunView {
    pub id: i64,
    pub status: String,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub tasks: Vec<TaskView>,
}

impl RunView {
    pub fn new(run: JobRun, tasks: Vec<TaskView>) -> Self {
        RunView {
            id: run.id,
            status: run.status.as_str().to_owned(),
            started_at: run.started_at.map(|time| time.as_millis()),
            ended_at: run.ended_at.map(|time| time.as_millis()),
            tasks,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct JobDetailView {
    #[serde(flatten)]
    pub job: JobView,
    pub runs: Vec<RunView>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct UserView {
    pub id: i64,
    pub name: String,
    pub role: String,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        UserView {
            id: user.id,
            name: user.name,
            role: user.role.as_str().to_owned(),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct UserInput {
    pub name: String,
    pub password: String,
    pub role: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub user_id: Option<i64>,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

impl From<ApiToken> for TokenView {
    fn from(token: ApiToken) -> Self {
        TokenView {
            id: token.id,
            name: token.name,
            role: token.role.as_str().to_owned(),
            user_id: token.user_id,
            expires_at: token.expires_at.map(|time| time.as_millis()),
            last_used_at: token.last_used_at.map(|time| time.as_millis()),
        }
    }
}

/// `POST /tokens`: a long-lived API token, for the caller or (admin) a role.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct TokenInput {
    pub name: String,
    #[serde(default)]
    pub role: Option<String>,
    /// Lifetime in days; none = never expires.
    #[serde(default)]
    pub days: Option<u64>,
}

/// A token as issued: the only time its text is shown.
#[derive(Debug, Serialize, Deserialize)]
pub struct IssuedToken {
    pub token: String,
    pub role: String,
    pub name: String,
    pub expires_at: Option<i64>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct LoginRequest {
    pub user: String,
    pub password: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct AuditView {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub detail: Value,
}

impl From<AuditEntry> for AuditView {
    fn from(entry: AuditEntry) -> Self {
        AuditView {
            id: entry.id,
            at: entry.at.as_millis(),
            actor: entry.actor,
            action: entry.action,
            object: entry.object,
            detail: entry.detail,
        }
    }
}
