//! Upgrade commands of the CLI client: `analyze`, `distribute`, `activate`,
//! `commit`, `rollback`, and the job controls and live view (`job
//! cancel|pause|resume|log|summary|watch`). Arguments map onto the engine's
//! spec types, whose serde form is the API body; output is a table or
//! `--json`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use futures_util::StreamExt;
use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressStyle};
use netswim_domain::analysis::{Method, Readiness};
use netswim_engine::upgrade::{
    ActivationMode, ActivationOptions, ActivationSpec, AnalysisReport, AnalysisSpec, CommitSpec,
    DeviceSelector, DistributionSpec, FailurePolicy, Protocol, Recurrence, RollbackSpec, Schedule,
    XeMode,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::client::{Api, ClientArgs, cell, print_table, render_table};
use crate::output;

// ---------------------------------------------------------------- arguments

/// Devices chosen by filter instead of (or besides) by name.
#[derive(Debug, Clone, Default, Args)]
pub struct DeviceFilters {
    /// Devices of site S (repeatable; --site, --role and --platform must all match).
    #[arg(long = "site", value_name = "S")]
    pub sites: Vec<String>,
    /// Devices with role R (repeatable).
    #[arg(long = "role", value_name = "R")]
    pub roles: Vec<String>,
    /// Devices of OS P (ios, iosxe, iosxr) or model prefix P (WS-C2960X) (repeatable).
    #[arg(long = "platform", value_name = "P")]
    pub platforms: Vec<String>,
    /// Every device in the inventory.
    #[arg(long)]
    pub all: bool,
}

impl DeviceFilters {
    /// The selector of `names` plus these filters.
    pub fn selector(&self, names: &[String]) -> DeviceSelector {
        DeviceSelector {
            all: self.all,
            ids: Vec::new(),
            names: names.to_vec(),
            sites: self.sites.clone(),
            roles: self.roles.clone(),
            platforms: self.platforms.clone(),
        }
    }
}

/// When a job runs, its name, and whether to follow it.
#[derive(Debug, Clone, Default, Args)]
pub struct RunArgs {
    /// Start at TIME: RFC 3339 (2026-11-23T02:00:00+01:00) or a local time
    /// (2026-11-23T02:00) read in --time-zone. Default: now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// IANA time zone for --at and recurrences (Europe/Zurich; default UTC).
    #[arg(long, value_name = "ZONE")]
    pub time_zone: Option<String>,
    /// Run again: none, minute, hourly, daily, weekly, monthly, yearly.
    #[arg(long, value_name = "R", value_parser = parse_recurrence, default_value = "none")]
    pub recurrence: Recurrence,
    /// Job name (default e.g. `Distribute_<image>_<timestamp>`).
    #[arg(long)]
    pub name: Option<String>,
    /// Follow the job to its end with per-device progress; the exit code
    /// says whether it succeeded.
    #[arg(long)]
    pub wait: bool,
}

impl RunArgs {
    pub fn schedule(&self) -> Schedule {
        Schedule {
            at: self.at.clone(),
            time_zone: self.time_zone.clone(),
            recurrence: self.recurrence,
        }
    }
}

/// How activation proceeds (shared by `distribute --activate` and `activate`).
#[derive(Debug, Clone, Default, Args)]
pub struct ActivationArgs {
    /// IOS-XE upgrade mode: current (keep), bundle or install.
    #[arg(long, value_name = "MODE", value_parser = parse_xe_mode)]
    pub xe_mode: Option<XeMode>,
    /// IOS-XR: leave the new release uncommitted (commit later with `netswim commit`).
    #[arg(long)]
    pub no_commit: bool,
    /// Seconds a reloading device may take to come back (default 900).
    #[arg(long, value_name = "SECS")]
    pub reload_timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Image id or file name.
    pub image: String,
    /// Device names.
    #[arg(value_name = "DEVICES")]
    pub devices: Vec<String>,
    #[command(flatten)]
    pub filters: DeviceFilters,
    /// Installation method: copy, archive-download-sw, archive-download-sw-overwrite,
    /// archive-tar-extract, install-mode, xr-install (default: per device).
    #[arg(long, value_parser = parse_method)]
    pub method: Option<Method>,
    /// Record an analysis job (see `netswim job list`) and print its report.
    #[arg(long)]
    pub job: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Args)]
pub struct DistributeArgs {
    /// Image id or file name.
    pub image: String,
    /// Device names.
    #[arg(value_name = "DEVICES")]
    pub devices: Vec<String>,
    #[command(flatten)]
    pub filters: DeviceFilters,
    /// Protocol order (scp,sftp,ftp,tftp,http,https); default the server's `protocol_order`.
    #[arg(long, value_delimiter = ',', value_parser = parse_protocol)]
    pub protocols: Vec<Protocol>,
    /// Target file system (flash:, bootflash:); default the one analysis picks, on every stack member.
    #[arg(long, value_name = "FS")]
    pub location: Option<String>,
    /// Pull from the local server only, not the distribution servers of the devices' sites.
    #[arg(long)]
    pub no_relays: bool,
    /// Back up each device's running image into the repository first.
    #[arg(long)]
    pub backup: bool,
    /// Delete inactive images (oldest first) when flash is short.
    #[arg(long)]
    pub erase_when_short: bool,
    /// Add `boot system tftp://…` after the new image.
    #[arg(long, conflicts_with = "no_tftp_fallback")]
    pub tftp_fallback: bool,
    /// No TFTP fallback boot entry.
    #[arg(long)]
    pub no_tftp_fallback: bool,
    /// Transfer retries per device (default 2).
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,
    /// Devices at once (also bounds parallel activation).
    #[arg(long, value_name = "N")]
    pub max_parallel: Option<u32>,
    /// Devices at once per site.
    #[arg(long, value_name = "N")]
    pub per_site: Option<u32>,
    /// Devices at once per distribution server.
    #[arg(long, value_name = "N")]
    pub per_server: Option<u32>,
    /// Start no new device after one fails (default: go on).
    #[arg(long)]
    pub stop_on_failure: bool,
    /// Activate each device that received the image: sequential or parallel.
    #[arg(long, value_name = "ORDER", value_parser = parse_activation_mode)]
    pub activate: Option<ActivationMode>,
    #[command(flatten)]
    pub activation: ActivationArgs,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Args)]
pub struct ActivateArgs {
    /// The image (id or file name, already on the devices) then device names;
    /// with --from-job only device names, which narrow the job's devices.
    #[arg(value_name = "[IMAGE] DEVICES")]
    pub targets: Vec<String>,
    #[command(flatten)]
    pub filters: DeviceFilters,
    /// Activate what distribution job JOB delivered (its latest run's successful devices).
    #[arg(long, value_name = "JOB", conflicts_with = "from_run")]
    pub from_job: Option<i64>,
    /// Like --from-job, naming the run (RUN column of `netswim job list`).
    #[arg(long, value_name = "RUN")]
    pub from_run: Option<i64>,
    /// sequential (one device at a time, the next when the previous is back
    /// and validated) or parallel.
    #[arg(long, value_name = "ORDER", value_parser = parse_activation_mode, default_value = "parallel")]
    pub order: ActivationMode,
    /// Devices at once when parallel.
    #[arg(long, value_name = "N")]
    pub max_parallel: Option<u32>,
    /// Start no new device after one fails.
    #[arg(long)]
    pub stop_on_failure: bool,
    #[command(flatten)]
    pub activation: ActivationArgs,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Args)]
pub struct CommitArgs {
    /// Device names.
    #[arg(value_name = "DEVICES")]
    pub devices: Vec<String>,
    #[command(flatten)]
    pub filters: DeviceFilters,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Device names.
    #[arg(value_name = "DEVICES")]
    pub devices: Vec<String>,
    #[command(flatten)]
    pub filters: DeviceFilters,
    /// Seconds a reloading device may take to come back (default 900).
    #[arg(long, value_name = "SECS")]
    pub reload_timeout: Option<u64>,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Reads a lowercase enum value through its serde name, so the CLI accepts
/// exactly the names the API does.
fn serde_name<T: DeserializeOwned>(text: &str, choices: &str) -> Result<T, String> {
    serde_json::from_value(Value::String(text.trim().to_ascii_lowercase()))
        .map_err(|_| format!("{text:?} is not one of {choices}"))
}

fn parse_protocol(text: &str) -> Result<Protocol, String> {
    serde_name(text, "scp, sftp, ftp, tftp, http, https")
}

fn parse_recurrence(text: &str) -> Result<Recurrence, String> {
    serde_name(text, "none, minute, hourly, daily, weekly, monthly, yearly")
}

fn parse_activation_mode(text: &str) -> Result<ActivationMode, String> {
    serde_name(text, "sequential, parallel")
}

fn parse_xe_mode(text: &str) -> Result<XeMode, String> {
    serde_name(text, "current, bundle, install")
}

fn parse_method(text: &str) -> Result<Method, String> {
    Ok(
        match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "copy" => Method::Copy,
            "archive-download-sw" => Method::ArchiveDownloadSw { overwrite: false },
            "archive-download-sw-overwrite" => Method::ArchiveDownloadSw { overwrite: true },
            "archive-tar-extract" => Method::ArchiveTarExtract,
            "install-mode" => Method::InstallMode,
            "xr-install" => Method::XrInstall,
            _ => {
                return Err(format!(
                    "{text:?} is not one of copy, archive-download-sw, archive-download-sw-overwrite, \
                 archive-tar-extract, install-mode, xr-install"
                ));
            }
        },
    )
}

// ---------------------------------------------------------------- argument → spec

impl ActivationArgs {
    fn options(
        &self,
        mode: ActivationMode,
        max_parallel: Option<u32>,
        stop_on_failure: bool,
    ) -> ActivationOptions {
        ActivationOptions {
            mode,
            max_parallel,
            xe_mode: self.xe_mode.unwrap_or_default(),
            commit: self.no_commit.then_some(false),
            reload_timeout_secs: self.reload_timeout,
            failure_policy: stop_on_failure.then_some(FailurePolicy::Stop),
        }
    }

    fn given(&self) -> bool {
        self.xe_mode.is_some() || self.no_commit || self.reload_timeout.is_some()
    }
}

impl DistributeArgs {
    pub fn spec(&self, image_id: i64) -> Result<DistributionSpec> {
        if self.activate.is_none() && self.activation.given() {
            bail!(
                "--xe-mode, --no-commit and --reload-timeout apply to activation \
                 (hint: add --activate sequential|parallel)"
            );
        }
        let tftp_fallback = match (self.tftp_fallback, self.no_tftp_fallback) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        };
        Ok(DistributionSpec {
            name: self.run.name.clone(),
            image_id,
            devices: self.filters.selector(&self.devices),
            protocols: (!self.protocols.is_empty()).then(|| self.protocols.clone()),
            location: self.location.clone(),
            locations: Default::default(),
            use_distribution_servers: self.no_relays.then_some(false),
            distribution_servers: Default::default(),
            backup_current_image: self.backup.then_some(true),
            erase_when_short: self.erase_when_short.then_some(true),
            tftp_fallback,
            retries: self.retries,
            max_parallel: self.max_parallel,
            max_parallel_per_site: self.per_site,
            max_parallel_per_distribution_server: self.per_server,
            failure_policy: self.stop_on_failure.then_some(FailurePolicy::Stop),
            activate: self.activate.map(|mode| {
                self.activation
                    .options(mode, self.max_parallel, self.stop_on_failure)
            }),
        })
    }
}

impl ActivateArgs {
    /// The spec, given the image id (resolved from the first target) and
    /// the distribution run (resolved from --from-job or --from-run).
    pub fn spec(&self, image_id: Option<i64>, from_run: Option<i64>) -> ActivationSpec {
        ActivationSpec {
            name: self.run.name.clone(),
            image_id,
            devices: self.filters.selector(self.device_names()),
            from_run,
            options: self
                .activation
                .options(self.order, self.max_parallel, self.stop_on_failure),
        }
    }

    /// The image argument, unless the activation comes from a distribution.
    fn image_arg(&self) -> Option<&String> {
        if self.from_job.is_some() || self.from_run.is_some() {
            None
        } else {
            self.targets.first()
        }
    }

    fn device_names(&self) -> &[String] {
        match self.image_arg() {
            Some(_) => &self.targets[1..],
            None => &self.targets,
        }
    }
}

/// The API body of a job: the spec's fields plus `schedule`.
fn job_body<S: Serialize>(spec: &S, schedule: &Schedule) -> Result<Value> {
    let mut body = serde_json::to_value(spec)?;
    body["schedule"] = serde_json::to_value(schedule)?;
    Ok(body)
}

// ---------------------------------------------------------------- commands

/// An image id, or the id of the one image with that file name.
async fn resolve_image(api: &Api, text: &str) -> Result<i64> {
    if let Ok(id) = text.parse::<i64>() {
        return Ok(id);
    }
    let images = api.get("/api/v1/images").await?;
    let ids: Vec<i64> = images
        .as_array()
        .into_iter()
        .flatten()
        .filter(|image| image["file_name"].as_str() == Some(text))
        .filter_map(|image| image["id"].as_i64())
        .collect();
    match ids.as_slice() {
        [id] => Ok(*id),
        [] => bail!(
            "no image named {text} in the repository \
             (hint: `netswim image list` shows ids and file names; `netswim image import FILE` adds one)"
        ),
        several => bail!(
            "{} images are named {text} (ids {several:?}) (hint: give the image id)",
            several.len()
        ),
    }
}

/// Submits a job; with `--wait` follows it to the end.
async fn submit(api: &Api, path: &str, body: Value, run: &RunArgs, json: bool) -> Result<()> {
    let job = api.send_json(reqwest::Method::POST, path, &body).await?;
    let id = job["id"]
        .as_i64()
        .ok_or_else(|| anyhow!("the server returned no job"))?;
    if run.wait {
        return watch(api, id, json).await;
    }
    if json {
        output::print(&job, true)
    } else {
        output::print_text(&format!(
            "job {id} {} {} (follow it with `netswim job watch {id}`)",
            cell(&job["name"]),
            cell(&job["status"]),
        ))
    }
}

pub async fn analyze(args: AnalyzeArgs) -> Result<()> {
    let api = Api::new(&args.client)?;
    let spec = AnalysisSpec {
        name: None,
        image_id: resolve_image(&api, &args.image).await?,
        devices: args.filters.selector(&args.devices),
        method: args.method,
    };
    let report = if args.job {
        let body = job_body(&spec, &Schedule::default())?;
        let job = api
            .send_json(reqwest::Method::POST, "/api/v1/jobs/analysis", &body)
            .await?;
        let id = job["id"]
            .as_i64()
            .ok_or_else(|| anyhow!("the server returned no job"))?;
        let finished = poll_until_done(&api, id).await?;
        if finished["status"] != "success" {
            bail!(
                "analysis job {id} ended {} (hint: `netswim job show {id}`)",
                cell(&finished["status"])
            );
        }
        api.get(&format!("/api/v1/jobs/{id}/analysis")).await?
    } else {
        api.send_json(
            reqwest::Method::POST,
            "/api/v1/analysis",
            &serde_json::to_value(&spec)?,
        )
        .await?
    };
    if args.client.json {
        return output::print(&report, true);
    }
    let report: AnalysisReport = serde_json::from_value(report)
        .context("the server's analysis report has an unexpected shape")?;
    output::print_text(&analysis_table(&report))
}

pub async fn distribute(args: DistributeArgs) -> Result<()> {
    let api = Api::new(&args.client)?;
    let image_id = resolve_image(&api, &args.image).await?;
    let body = job_body(&args.spec(image_id)?, &args.run.schedule())?;
    submit(
        &api,
        "/api/v1/jobs/distribution",
        body,
        &args.run,
        args.client.json,
    )
    .await
}

pub async fn activate(args: ActivateArgs) -> Result<()> {
    let api = Api::new(&args.client)?;
    let image_id = match args.image_arg() {
        Some(image) => Some(resolve_image(&api, image).await?),
        None => None,
    };
    let from_run = match (args.from_job, args.from_run) {
        (Some(job), _) => {
            let detail = api.get(&format!("/api/v1/jobs/{job}")).await?;
            // Runs come newest first.
            Some(detail["runs"][0]["id"].as_i64().ok_or_else(|| {
                anyhow!(
                    "job {job} has not run yet (hint: wait for it with `netswim job watch {job}`)"
                )
            })?)
        }
        (None, run) => run,
    };
    if image_id.is_none() && from_run.is_none() {
        bail!(
            "nothing to activate (hint: give an IMAGE and DEVICES, or --from-job JOB of a distribution)"
        );
    }
    let body = job_body(&args.spec(image_id, from_run), &args.run.schedule())?;
    submit(
        &api,
        "/api/v1/jobs/activation",
        body,
        &args.run,
        args.client.json,
    )
    .await
}

pub async fn commit(args: CommitArgs) -> Result<()> {
    let api = Api::new(&args.client)?;
    let spec = CommitSpec {
        name: args.run.name.clone(),
        devices: args.filters.selector(&args.devices),
    };
    let body = job_body(&spec, &args.run.schedule())?;
    submit(
        &api,
        "/api/v1/jobs/commit",
        body,
        &args.run,
        args.client.json,
    )
    .await
}

pub async fn rollback(args: RollbackArgs) -> Result<()> {
    let api = Api::new(&args.client)?;
    let spec = RollbackSpec {
        name: args.run.name.clone(),
        devices: args.filters.selector(&args.devices),
        reload_timeout_secs: args.reload_timeout,
    };
    let body = job_body(&spec, &args.run.schedule())?;
    submit(
        &api,
        "/api/v1/jobs/rollback",
        body,
        &args.run,
        args.client.json,
    )
    .await
}

/// `job cancel|pause|resume ID`.
pub async fn control(id: i64, verb: &str, client: &ClientArgs) -> Result<()> {
    let api = Api::new(client)?;
    let job = api
        .send(api.request(reqwest::Method::POST, &format!("/api/v1/jobs/{id}/{verb}")))
        .await?;
    if client.json {
        output::print(&job, true)
    } else {
        output::print_text(&format!("job {id} {}", cell(&job["status"])))
    }
}

/// `job summary ID`.
pub async fn summary(id: i64, client: &ClientArgs) -> Result<()> {
    let api = Api::new(client)?;
    let summary = api.get(&format!("/api/v1/jobs/{id}/summary")).await?;
    if client.json {
        return output::print(&summary, true);
    }
    let fields = [
        ("TOTAL", "total"),
        ("SUCCESSFUL", "successful"),
        ("FAILED", "failed"),
        ("IN PROGRESS", "in_progress"),
        ("NOT STARTED", "not_started"),
        ("CANCELLED", "cancelled"),
    ];
    let headers: Vec<&str> = fields.iter().map(|(header, _)| *header).collect();
    let row: Vec<String> = fields
        .iter()
        .map(|(_, field)| cell(&summary[*field]))
        .collect();
    print_table(&headers, &[row])
}

/// `job log ID [--output FILE]`.
pub async fn log(id: i64, output_file: Option<PathBuf>, client: &ClientArgs) -> Result<()> {
    let api = Api::new(client)?;
    let text = api.get_text(&format!("/api/v1/jobs/{id}/log")).await?;
    match output_file {
        Some(path) => {
            std::fs::write(&path, &text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            if client.json {
                output::print(
                    &json!({"job_id": id, "file": path.display().to_string(), "bytes": text.len()}),
                    true,
                )
            } else {
                output::print_text(&format!("job {id} log saved in {}", path.display()))
            }
        }
        None if client.json => output::print(&json!({"job_id": id, "log": text}), true),
        None => output::print_text(text.trim_end()),
    }
}

/// `job list`: one row per job with its latest run.
pub async fn list(client: &ClientArgs) -> Result<()> {
    let api = Api::new(client)?;
    let jobs = api.get("/api/v1/jobs").await?;
    if client.json {
        return output::print(&jobs, true);
    }
    output::print_text(&jobs_table(&jobs))
}

pub(crate) fn jobs_table(jobs: &Value) -> String {
    let rows: Vec<Vec<String>> = jobs
        .as_array()
        .into_iter()
        .flatten()
        .map(|job| {
            vec![
                cell(&job["id"]),
                cell(&job["run_id"]),
                cell(&job["kind"]),
                cell(&job["name"]),
                cell(&job["device_count"]),
                cell(&job["status"]),
                time_cell(&job["started_at"]),
                time_cell(&job["ended_at"]),
            ]
        })
        .collect();
    render_table(
        &[
            "ID", "RUN", "KIND", "NAME", "DEVICES", "STATUS", "START", "END",
        ],
        &rows,
    )
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS` UTC, `-` when absent.
fn time_cell(value: &Value) -> String {
    value
        .as_i64()
        .and_then(|millis| jiff::Timestamp::from_millisecond(millis).ok())
        .map(|time| time.strftime("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".to_owned())
}

// ---------------------------------------------------------------- analysis table

fn bytes(value: Option<u64>) -> String {
    value.map_or_else(|| "?".to_owned(), |bytes| HumanBytes(bytes).to_string())
}

fn analysis_row(row: &Readiness) -> Vec<String> {
    let flash = row
        .flash
        .iter()
        .map(|check| {
            let member = check.member.map(|m| format!("[{m}]")).unwrap_or_default();
            let mark = if check.ok {
                ""
            } else if check.ok_after_cleanup {
                " (after cleanup)"
            } else {
                " (short)"
            };
            format!(
                "{}{member} {}/{}{mark}",
                check.filesystem,
                HumanBytes(check.required_bytes),
                HumanBytes(check.free_bytes)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let deletable = if row.deletable.is_empty() {
        "-".to_owned()
    } else {
        let total: u64 = row
            .deletable
            .iter()
            .filter_map(|file| file.size_bytes)
            .sum();
        format!("{} ({})", row.deletable.len(), HumanBytes(total))
    };
    let notes: Vec<String> = row
        .blockers
        .iter()
        .map(|blocker| format!("blocker: {blocker}"))
        .chain(
            row.warnings
                .iter()
                .map(|warning| format!("warning: {warning}")),
        )
        .collect();
    vec![
        row.device.clone(),
        row.status().to_owned(),
        row.method.to_string(),
        row.direction.as_str().to_owned(),
        format!(
            "{}/{}",
            bytes(row.ram.required_bytes),
            bytes(row.ram.available_bytes)
        ),
        if flash.is_empty() { "-".into() } else { flash },
        deletable,
        if notes.is_empty() {
            "-".into()
        } else {
            notes.join("; ")
        },
    ]
}

/// The analysis report as a table plus a summary line.
pub(crate) fn analysis_table(report: &AnalysisReport) -> String {
    let rows: Vec<Vec<String>> = report.rows.iter().map(analysis_row).collect();
    let table = render_table(
        &[
            "DEVICE",
            "STATUS",
            "METHOD",
            "DIRECTION",
            "RAM NEED/HAVE",
            "FLASH NEED/FREE",
            "DELETABLE",
            "WARNINGS/BLOCKERS",
        ],
        &rows,
    );
    format!(
        "{table}\n{}: {} ready, {} not ready, {} not applicable",
        report.image, report.summary.ready, report.summary.not_ready, report.summary.not_applicable
    )
}

// ---------------------------------------------------------------- watching a job

/// Job statuses that end a job.
const FINAL: [&str; 5] = ["success", "failure", "partial", "cancelled", "interrupted"];

fn is_final(status: &Value) -> bool {
    status
        .as_str()
        .is_some_and(|status| FINAL.contains(&status))
}

/// Whether the job is over: a final status, or a recurring job back at
/// `scheduled` after its latest run ended.
fn job_done(job: &Value) -> bool {
    is_final(&job["status"])
        || (job["status"] == "scheduled" && is_final(&job["runs"][0]["status"]))
}

async fn poll_until_done(api: &Api, id: i64) -> Result<Value> {
    loop {
        let job = job_detail(api, id).await?;
        if job_done(&job) {
            return Ok(job);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// `job watch ID` (and `--wait`): per-device progress until the job ends;
/// an error (exit code 1) unless it succeeded.
pub async fn watch(api: &Api, id: i64, json: bool) -> Result<()> {
    let finished = if json {
        poll_until_done(api, id).await?
    } else {
        watch_with_bars(api, id).await?
    };
    if json {
        output::print(&finished, true)?;
    } else {
        output::print_text(&final_table(&finished))?;
    }
    let status = cell(&finished["status"]);
    if status == "success" {
        Ok(())
    } else {
        bail!(
            "job {id} ended {status} (hint: `netswim job show {id}` has each device's operations, \
             `netswim job log {id}` the whole log)"
        )
    }
}

/// The tasks of the job's latest run.
fn latest_tasks(job: &Value) -> Vec<&Value> {
    job["runs"][0]["tasks"]
        .as_array()
        .map(|tasks| tasks.iter().collect())
        .unwrap_or_default()
}

/// One line per device of the latest run: status and message.
pub(crate) fn final_table(job: &Value) -> String {
    let rows: Vec<Vec<String>> = latest_tasks(job)
        .into_iter()
        .map(|task| {
            vec![
                cell(&task["subject"]),
                cell(&task["status"]),
                task["message"].as_str().unwrap_or_default().to_owned(),
            ]
        })
        .collect();
    format!(
        "{}\njob {} {}",
        render_table(&["DEVICE", "STATUS", "MESSAGE"], &rows),
        cell(&job["id"]),
        cell(&job["status"])
    )
}

/// What `*.progress` events say about a task's running operation: how it
/// moves the image (protocol, attempt, source) and the bytes so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Progress {
    pub via: Option<String>,
    pub bytes: Option<u64>,
    pub total: Option<u64>,
}

impl Progress {
    fn describe(&self) -> String {
        let bytes = match (self.bytes, self.total) {
            (Some(bytes), Some(total)) if total > 0 => Some(format!(
                "{}/{} ({}%)",
                HumanBytes(bytes),
                HumanBytes(total),
                bytes.saturating_mul(100) / total
            )),
            (Some(bytes), _) => Some(HumanBytes(bytes).to_string()),
            _ => None,
        };
        [self.via.clone(), bytes]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The (task, progress) of a `*.progress` event.
pub(crate) fn progress_of(event: &Value) -> Option<(i64, Progress)> {
    if !event["kind"].as_str()?.ends_with(".progress") {
        return None;
    }
    let task = event["task_id"].as_i64()?;
    let payload = &event["payload"];
    let mut via = Vec::new();
    if let Some(protocol) = payload["protocol"].as_str() {
        via.push(protocol.to_owned());
    }
    if let Some(attempt) = payload["attempt"].as_u64().filter(|attempt| *attempt > 1) {
        via.push(format!("attempt {attempt}"));
    }
    if let Some(source) = payload["source"].as_str() {
        via.push(format!("from {source}"));
    }
    let progress = Progress {
        via: (!via.is_empty()).then(|| via.join(" ")),
        bytes: payload["bytes"].as_u64(),
        total: ["total_bytes", "total", "size_bytes"]
            .iter()
            .find_map(|field| payload[*field].as_u64()),
    };
    (progress != Progress::default()).then_some((task, progress))
}

/// The `data:` of each complete server-sent event at the front of `buffer`,
/// removed from it. Written by hand: the format is a few lines of text
/// (events end at a blank line, `data:` lines join with newlines), simpler
/// than pulling in an SSE client crate.
pub(crate) fn take_sse_data(buffer: &mut Vec<u8>) -> Vec<String> {
    let mut data = Vec::new();
    while let Some(end) = buffer.windows(2).position(|pair| pair == b"\n\n") {
        let block: Vec<u8> = buffer.drain(..end + 2).collect();
        let text = String::from_utf8_lossy(&block);
        let lines: Vec<&str> = text
            .lines()
            .filter_map(|line| line.strip_prefix("data:"))
            .map(|line| line.strip_prefix(' ').unwrap_or(line))
            .collect();
        if !lines.is_empty() {
            data.push(lines.join("\n"));
        }
    }
    data
}

/// How long a watch waits for a server that went away (restart, crash).
const SERVER_GONE_PATIENCE: Duration = Duration::from_secs(60);

/// Whether an error means the server could not be reached (as opposed to
/// an answer the API gave).
pub(crate) fn unreachable(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<reqwest::Error>()
            .is_some_and(|error| error.is_connect() || error.is_request())
    })
}

/// The job detail. Jobs outlive server restarts, and so does a watch: a
/// server that cannot be reached is asked again for up to a minute.
async fn job_detail(api: &Api, id: i64) -> Result<Value> {
    let deadline = tokio::time::Instant::now() + SERVER_GONE_PATIENCE;
    loop {
        match api.get(&format!("/api/v1/jobs/{id}")).await {
            Err(error) if unreachable(&error) && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            other => return other,
        }
    }
}

/// Streams the job's events (`GET /events?job_id=`) into a channel,
/// reconnecting when the stream breaks (server restart), until the
/// receiver is dropped.
fn spawn_events(api: &Api, id: i64) -> tokio::sync::mpsc::UnboundedReceiver<Value> {
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    let path = format!("/api/v1/events?job_id={id}");
    let connect = {
        let request = api.request(reqwest::Method::GET, &path);
        move || request.try_clone()
    };
    tokio::spawn(async move {
        while !sender.is_closed() {
            if let Some(request) = connect() {
                if let Ok(response) = request.send().await {
                    if response.status().is_success() {
                        let mut stream = response.bytes_stream();
                        let mut buffer = Vec::new();
                        while let Some(Ok(chunk)) = stream.next().await {
                            buffer.extend_from_slice(&chunk);
                            for data in take_sse_data(&mut buffer) {
                                if let Ok(event) = serde_json::from_str(&data) {
                                    if sender.send(event).is_err() {
                                        return;
                                    }
                                }
                            }
                        }
                    } else {
                        // The API refused (token, role): events stay off; the
                        // job detail still drives the view.
                        return;
                    }
                }
            } else {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    receiver
}

/// The line shown for a device: what it is doing now, or how it ended.
pub(crate) fn device_line(task: &Value, progress: Option<&Progress>) -> String {
    let status = task["status"].as_str().unwrap_or_default();
    let operations = task["operations"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    match status {
        "not_started" | "scheduled" => "waiting".to_owned(),
        "running" => {
            let current = operations
                .iter()
                .rev()
                .find(|operation| operation["status"] == "running")
                .or_else(|| operations.last());
            let name = current
                .and_then(|operation| operation["name"].as_str())
                .unwrap_or("starting");
            match progress {
                Some(progress) => format!("{name} {}", progress.describe()),
                None => name.to_owned(),
            }
        }
        _ => {
            let message = task["message"].as_str().unwrap_or_default();
            if message.is_empty() {
                status.to_owned()
            } else {
                format!("{status}: {message}")
            }
        }
    }
}

/// One indicatif line per device plus an overall bar, refreshed from the
/// job detail and, for bytes, from live events.
async fn watch_with_bars(api: &Api, id: i64) -> Result<Value> {
    let multi = MultiProgress::new();
    let overall = multi.add(ProgressBar::new(0));
    overall.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    overall.enable_steady_tick(Duration::from_millis(200));
    let device_style = ProgressStyle::with_template("  {prefix:24!} {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let mut bars: HashMap<i64, ProgressBar> = HashMap::new();
    let mut progress: HashMap<i64, Progress> = HashMap::new();
    let mut run_id = None;
    let mut events = spawn_events(api, id);
    let mut events_open = true;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            event = events.recv(), if events_open => {
                match event {
                    Some(event) => {
                        if let Some((task, now)) = progress_of(&event) {
                            progress.insert(task, now);
                        }
                        continue;
                    }
                    None => events_open = false,
                }
            }
            _ = tick.tick() => {}
        }
        let job = job_detail(api, id).await?;
        let run = job["runs"][0]["id"].as_i64();
        if run != run_id {
            // A new run (recurring job): start the board afresh.
            for bar in bars.drain().map(|(_, bar)| bar) {
                multi.remove(&bar);
            }
            progress.clear();
            run_id = run;
        }
        let tasks = latest_tasks(&job);
        let done = tasks
            .iter()
            .filter(|task| {
                !matches!(
                    task["status"].as_str(),
                    Some("running" | "not_started" | "scheduled")
                )
            })
            .count();
        overall.set_length(tasks.len() as u64);
        overall.set_position(done as u64);
        overall.set_message(format!(
            "job {id} {} {}",
            cell(&job["name"]),
            cell(&job["status"])
        ));
        for task in tasks {
            let Some(task_id) = task["id"].as_i64() else {
                continue;
            };
            let bar = bars.entry(task_id).or_insert_with(|| {
                let bar = multi.add(ProgressBar::new(0));
                bar.set_style(device_style.clone());
                bar.set_prefix(cell(&task["subject"]));
                bar
            });
            bar.set_message(device_line(task, progress.get(&task_id)));
        }
        if job_done(&job) {
            overall.finish();
            for bar in bars.values() {
                bar.finish();
            }
            let _ = multi.clear();
            return Ok(job);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use netswim_domain::analysis::{
        AnalysisSummary, Blocker, DeletableFile, Direction, FlashCheck, RamCheck, Warning,
    };

    #[derive(Debug, Parser)]
    struct Distribute {
        #[command(flatten)]
        args: DistributeArgs,
    }

    #[derive(Debug, Parser)]
    struct Activate {
        #[command(flatten)]
        args: ActivateArgs,
    }

    fn distribute(line: &str) -> Result<DistributionSpec> {
        let words = std::iter::once("distribute").chain(line.split_whitespace());
        let parsed = Distribute::try_parse_from(words).map_err(|error| anyhow!("{error}"))?;
        parsed.args.spec(7)
    }

    #[test]
    fn distribute_arguments_map_onto_the_distribution_spec() {
        let defaults = DistributionSpec {
            image_id: 7,
            devices: DeviceSelector {
                names: vec!["sw1".into()],
                ..DeviceSelector::default()
            },
            ..DistributionSpec::default()
        };
        let cases: Vec<(&str, DistributionSpec)> = vec![
            ("img sw1", defaults.clone()),
            (
                "img sw1 --protocols scp,FTP --location bootflash: --no-relays --backup \
                 --erase-when-short --no-tftp-fallback --retries 4 --max-parallel 50 \
                 --per-site 5 --per-server 3 --stop-on-failure --name Rollout",
                DistributionSpec {
                    name: Some("Rollout".into()),
                    protocols: Some(vec![Protocol::Scp, Protocol::Ftp]),
                    location: Some("bootflash:".into()),
                    use_distribution_servers: Some(false),
                    backup_current_image: Some(true),
                    erase_when_short: Some(true),
                    tftp_fallback: Some(false),
                    retries: Some(4),
                    max_parallel: Some(50),
                    max_parallel_per_site: Some(5),
                    max_parallel_per_distribution_server: Some(3),
                    failure_policy: Some(FailurePolicy::Stop),
                    ..defaults.clone()
                },
            ),
            (
                "img sw1 --tftp-fallback --activate sequential --xe-mode install --no-commit \
                 --reload-timeout 120",
                DistributionSpec {
                    tftp_fallback: Some(true),
                    activate: Some(ActivationOptions {
                        mode: ActivationMode::Sequential,
                        max_parallel: None,
                        xe_mode: XeMode::Install,
                        commit: Some(false),
                        reload_timeout_secs: Some(120),
                        failure_policy: None,
                    }),
                    ..defaults.clone()
                },
            ),
            (
                "img --site zurich --role access --platform iosxe --activate parallel --max-parallel 8",
                DistributionSpec {
                    devices: DeviceSelector {
                        sites: vec!["zurich".into()],
                        roles: vec!["access".into()],
                        platforms: vec!["iosxe".into()],
                        ..DeviceSelector::default()
                    },
                    max_parallel: Some(8),
                    activate: Some(ActivationOptions {
                        mode: ActivationMode::Parallel,
                        max_parallel: Some(8),
                        ..ActivationOptions::default()
                    }),
                    ..defaults.clone()
                },
            ),
            (
                "img --all",
                DistributionSpec {
                    devices: DeviceSelector {
                        all: true,
                        ..DeviceSelector::default()
                    },
                    ..defaults.clone()
                },
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(distribute(line).unwrap(), expected, "{line}");
        }
    }

    #[test]
    fn distribute_refuses_contradictions_and_unknown_names() {
        for line in [
            "img sw1 --protocols scp,gopher",
            "img sw1 --tftp-fallback --no-tftp-fallback",
            "img sw1 --activate sometimes",
            "img sw1 --no-commit",
            "img sw1 --activate parallel --xe-mode turbo",
            "img sw1 --recurrence fortnightly",
        ] {
            assert!(distribute(line).is_err(), "{line} was accepted");
        }
    }

    #[test]
    fn activate_takes_an_image_then_devices_or_a_distribution_job_then_devices() {
        let parse = |line: &str| {
            let words = std::iter::once("activate").chain(line.split_whitespace());
            Activate::try_parse_from(words).unwrap().args
        };
        let library = parse("c3750e.tar sw1 sw2 --order sequential --stop-on-failure");
        assert_eq!(library.image_arg().map(String::as_str), Some("c3750e.tar"));
        let spec = library.spec(Some(3), None);
        assert_eq!(spec.image_id, Some(3));
        assert_eq!(spec.devices.names, vec!["sw1", "sw2"]);
        assert_eq!(spec.options.mode, ActivationMode::Sequential);
        assert_eq!(spec.options.failure_policy, Some(FailurePolicy::Stop));

        let chained = parse("--from-job 12 sw2");
        assert_eq!(chained.image_arg(), None);
        let spec = chained.spec(None, Some(40));
        assert_eq!(spec.from_run, Some(40));
        assert_eq!(spec.devices.names, vec!["sw2"]);
        assert_eq!(spec.options.mode, ActivationMode::Parallel);
    }

    #[test]
    fn job_body_puts_the_spec_fields_at_the_top_with_the_schedule() {
        let run = RunArgs {
            at: Some("2026-11-23T02:00".into()),
            time_zone: Some("Europe/Zurich".into()),
            recurrence: Recurrence::Daily,
            ..RunArgs::default()
        };
        let spec = CommitSpec {
            name: None,
            devices: DeviceFilters::default().selector(&["xr1".into()]),
        };
        let body = job_body(&spec, &run.schedule()).unwrap();
        assert_eq!(body["devices"]["names"], json!(["xr1"]));
        assert_eq!(
            body["schedule"],
            json!({"at": "2026-11-23T02:00", "time_zone": "Europe/Zurich", "recurrence": "daily"})
        );
    }

    #[test]
    fn method_names_cover_every_method() {
        let cases = [
            ("copy", Method::Copy),
            (
                "archive-download-sw",
                Method::ArchiveDownloadSw { overwrite: false },
            ),
            (
                "archive_download_sw_overwrite",
                Method::ArchiveDownloadSw { overwrite: true },
            ),
            ("archive-tar-extract", Method::ArchiveTarExtract),
            ("install-mode", Method::InstallMode),
            ("XR-install", Method::XrInstall),
        ];
        for (text, method) in cases {
            assert_eq!(parse_method(text), Ok(method), "{text}");
        }
        assert!(parse_method("ftp").is_err());
    }

    #[test]
    fn analysis_table_shows_needs_against_what_devices_have() {
        let mib = 1024 * 1024;
        let ready = Readiness {
            device: "sw1".into(),
            image: "c3750e-universalk9-tar.152-2.E7.tar".into(),
            method: Method::ArchiveDownloadSw { overwrite: false },
            device_version: Some("15.0(2)SE".into()),
            image_version: Some("15.2(2)E7".into()),
            applicable: true,
            ready: true,
            ready_after_cleanup: true,
            direction: Direction::Upgrade,
            ram: RamCheck {
                required_bytes: Some(256 * mib),
                available_bytes: Some(512 * mib),
                ok: Some(true),
            },
            flash: vec![FlashCheck {
                filesystem: "flash1:".into(),
                member: Some(1),
                required_bytes: 30 * mib,
                free_bytes: 60 * mib,
                total_bytes: 120 * mib,
                reclaimable_bytes: 0,
                released_by_method_bytes: 0,
                image_present: false,
                ok: true,
                ok_after_cleanup: true,
            }],
            deletable: vec![],
            warnings: vec![Warning::DeviceRamUnknown],
            blockers: vec![],
        };
        let short = Readiness {
            device: "sw2".into(),
            ready: false,
            ready_after_cleanup: true,
            ram: RamCheck::default(),
            flash: vec![FlashCheck {
                free_bytes: 10 * mib,
                ok: false,
                ..ready.flash[0].clone()
            }],
            deletable: vec![DeletableFile {
                filesystem: "flash1:".into(),
                member: Some(1),
                name: "c3750e-old".into(),
                is_dir: true,
                size_bytes: Some(25 * mib),
            }],
            warnings: vec![],
            blockers: vec![Blocker::InsufficientFlash {
                filesystem: "flash1:".into(),
                member: Some(1),
                required_bytes: 30 * mib,
                free_bytes: 10 * mib,
                ok_after_cleanup: true,
            }],
            ..ready.clone()
        };
        let report = AnalysisReport {
            image_id: 1,
            image: ready.image.clone(),
            summary: AnalysisSummary::of(&[ready.clone(), short.clone()]),
            rows: vec![ready, short],
        };
        let text = analysis_table(&report);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].starts_with("DEVICE  STATUS"), "{text}");
        for expected in [
            "sw1",
            "ready",
            "archive_download_sw",
            "upgrade",
            "256.00 MiB/512.00 MiB",
            "flash1:[1] 30.00 MiB/60.00 MiB",
            "warning: ",
        ] {
            assert!(
                lines[1].contains(expected),
                "{expected} not in {}",
                lines[1]
            );
        }
        for expected in [
            "sw2",
            "not_ready",
            "?/?",
            "30.00 MiB/10.00 MiB (after cleanup)",
            "1 (25.00 MiB)",
            "blocker: ",
        ] {
            assert!(
                lines[2].contains(expected),
                "{expected} not in {}",
                lines[2]
            );
        }
        assert!(lines[3].ends_with("1 ready, 1 not ready, 0 not applicable"));
    }

    #[test]
    fn jobs_table_shows_the_latest_run_and_its_times() {
        let jobs = json!([
            {"id": 4, "run_id": 9, "kind": "distribution", "name": "Distribute_x_1", "device_count": 200,
             "status": "running", "started_at": 1_795_000_000_000_i64, "ended_at": null},
            {"id": 5, "run_id": null, "kind": "commit", "name": "nightly", "device_count": null,
             "status": "scheduled", "started_at": null, "ended_at": null},
        ]);
        let text = jobs_table(&jobs);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>(),
            [
                "ID", "RUN", "KIND", "NAME", "DEVICES", "STATUS", "START", "END"
            ]
        );
        assert_eq!(
            lines[1].split_whitespace().collect::<Vec<_>>(),
            [
                "4",
                "9",
                "distribution",
                "Distribute_x_1",
                "200",
                "running",
                "2026-11-18",
                "11:06:40",
                "-"
            ]
        );
        assert_eq!(
            lines[2].split_whitespace().collect::<Vec<_>>(),
            ["5", "-", "commit", "nightly", "-", "scheduled", "-", "-"]
        );
    }

    #[test]
    fn sse_blocks_are_taken_whole_and_partial_ones_wait() {
        let mut buffer =
            b"event: transfer.progress\nid: 3\ndata: {\"a\":1}\n\n: keep-alive\n\ndata: {\"b\""
                .to_vec();
        assert_eq!(take_sse_data(&mut buffer), vec!["{\"a\":1}".to_owned()]);
        assert_eq!(buffer, b"data: {\"b\"".to_vec());
        buffer.extend_from_slice(b":2}\n\n");
        assert_eq!(take_sse_data(&mut buffer), vec!["{\"b\":2}".to_owned()]);
        assert!(buffer.is_empty());
    }

    #[test]
    fn device_lines_follow_the_task_and_its_transfer() {
        let task = |status: &str, operations: Value, message: &str| json!({"id": 1, "subject": "sw1", "status": status, "message": message, "operations": operations});
        let running = task(
            "running",
            json!([{"name": "prechecks", "status": "success"}, {"name": "transfer", "status": "running"}]),
            "",
        );
        let half = Progress {
            via: Some("scp from relay-1".into()),
            bytes: Some(4 * 1024 * 1024),
            total: Some(8 * 1024 * 1024),
        };
        let cases = [
            (task("not_started", json!([]), ""), None, "waiting"),
            (running.clone(), None, "transfer"),
            (
                running,
                Some(&half),
                "transfer scp from relay-1 4.00 MiB/8.00 MiB (50%)",
            ),
            (
                task("failure", json!([]), "flash1: needs 30 MiB, 10 MiB free"),
                None,
                "failure: flash1: needs 30 MiB, 10 MiB free",
            ),
            (task("success", json!([]), ""), None, "success"),
        ];
        for (task, progress, expected) in cases {
            assert_eq!(device_line(&task, progress), expected);
        }
        let event = |payload: Value| json!({"kind": "operation.progress", "task_id": 1, "payload": payload});
        let cases = [
            (
                event(json!({"bytes": 10, "total_bytes": 20})),
                Some(Progress {
                    via: None,
                    bytes: Some(10),
                    total: Some(20),
                }),
            ),
            (
                event(
                    json!({"operation": "transfer", "protocol": "ftp", "attempt": 2, "source": "local"}),
                ),
                Some(Progress {
                    via: Some("ftp attempt 2 from local".into()),
                    bytes: None,
                    total: None,
                }),
            ),
            (event(json!({"operation": "x"})), None),
            (
                json!({"kind": "operation.started", "task_id": 1, "payload": {"bytes": 1}}),
                None,
            ),
        ];
        for (event, expected) in cases {
            assert_eq!(
                progress_of(&event).map(|(_, progress)| progress),
                expected,
                "{event}"
            );
        }
    }

    #[tokio::test]
    async fn a_refused_connection_counts_as_an_unreachable_server_an_api_error_does_not() {
        let listener = std::net::TcpListener::bind("127.65.0.3:0").expect("bind");
        let address = listener.local_addr().expect("address");
        drop(listener);
        let refused = reqwest::get(format!("http://{address}/"))
            .await
            .map_err(anyhow::Error::from)
            .expect_err("nothing listens");
        assert!(unreachable(&refused.context("cannot reach")));
        assert!(!unreachable(&anyhow!(
            "job 9 not found (404 Not Found; hint: …)"
        )));
    }

    #[test]
    fn a_job_is_done_at_a_final_status_or_when_a_recurring_run_ends() {
        let cases = [
            (json!({"status": "running", "runs": []}), false),
            (json!({"status": "not_started", "runs": []}), false),
            (json!({"status": "scheduled", "runs": []}), false),
            (
                json!({"status": "scheduled", "runs": [{"status": "running"}]}),
                false,
            ),
            (
                json!({"status": "scheduled", "runs": [{"status": "success"}]}),
                true,
            ),
            (json!({"status": "partial", "runs": []}), true),
            (json!({"status": "cancelled", "runs": []}), true),
        ];
        for (job, done) in cases {
            assert_eq!(job_done(&job), done, "{job}");
        }
    }
}
