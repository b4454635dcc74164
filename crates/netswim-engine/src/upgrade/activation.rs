//! Activation, commit and rollback steps on the upgrade runner.
//!
//! Contract used by the distribution job: [`activation_steps`] are appended
//! after a device's distribution steps when the job asks to activate; they
//! read the [`Distributed`] note the distribution left.
//!
//! Every step is safe to run again after a crash: the first step records
//! what the device booted before (note [`ACTIVATION_NOTE`]) once and never
//! overwrites it; `reload` sends the reload only when no earlier attempt
//! did, or when the device's uptime shows that earlier attempt never reached
//! it; a device already running the target skips set boot and reload.
//!
//! Per platform:
//! - IOS / IOS-XE bundle: `set boot` (new image, then the image it ran,
//!   then the distribution's `tftp://…` fallback; `switch all` on stacks;
//!   saved), `reload`, `wait`, `validate` (every member on the target;
//!   `Version Mismatch` members repaired with `archive copy-sw`).
//! - IOS `.tar`: `archive download-sw` from flash (it sets the boot path),
//!   then reload, wait, validate.
//! - IOS-XE install mode: `install add file … activate commit` (reloads).
//! - IOS-XR: `install add`, `install activate` (reloads), wait, validate,
//!   `commit` unless `options.commit == Some(false)`.
//!
//! A device that comes back on its old image, or fails validation, gets its
//! previous boot configuration back and the task fails saying so.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use netswim_domain::Os;
use netswim_domain::facts::InstallMode;
use netswim_domain::image::ImageFormat;
use netswim_drivers::upgrade as device;
use netswim_drivers::{CollectedFacts, DriverError, collect_facts_for};
use netswim_store::{Device, Image, Job, Status, Timestamp};
use serde::{Deserialize, Serialize};

use super::runner::{
    DISTRIBUTED_NOTE, Distributed, JobPlan, Limits, Step, StepDone, TaskContext, task_notes,
};
use super::{
    ACTIVATION_JOB, ActivationMode, ActivationOptions, ActivationSpec, COMMIT_JOB, CommitSpec,
    DISTRIBUTION_JOB, DistributionSpec, FailurePolicy, ROLLBACK_JOB, RollbackSpec, XeMode,
};
use crate::{Engine, EngineError};

/// Note key of [`ActivationNote`].
pub const ACTIVATION_NOTE: &str = "activation";
/// Note key of [`RollbackNote`].
pub const ROLLBACK_NOTE: &str = "rollback";
/// Note key of the IOS-XR install operation id `install add` returned.
const XR_INSTALL_ID_NOTE: &str = "xr_install_id";

/// Default time a reloading device may take to come back.
pub const DEFAULT_RELOAD_TIMEOUT: Duration = Duration::from_secs(900);

/// What activation found before it changed anything: written once by the
/// first attempt, read by every later step and by rollback jobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivationNote {
    pub image_id: i64,
    pub image_file: String,
    pub target_version: String,
    /// Where the image is on the device (one per stack member).
    pub target_paths: Vec<String>,
    /// The boot variable before activation.
    pub previous_boot: Vec<String>,
    /// The image and version the device ran before activation.
    pub previous_image: Option<String>,
    pub previous_version: Option<String>,
    /// The boot entries activation sets (IOS, IOS-XE bundle).
    pub new_boot: Vec<String>,
    /// How the device is activated.
    pub method: ActivationMethod,
    /// The device already ran the target: nothing to do.
    pub already_running: bool,
}

/// How one device is activated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivationMethod {
    /// Boot variable then reload (IOS, IOS-XE bundle mode).
    BootVariable,
    /// IOS `archive download-sw` of a `.tar` on flash, then reload.
    Archive,
    /// IOS-XE `install add file … activate commit`.
    XeInstall,
    /// IOS-XR `install add` + `install activate`.
    XrInstall,
}

/// What a rollback found before it changed anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackNote {
    /// The boot entries to set (IOS, IOS-XE), the previous image first.
    pub boot: Vec<String>,
    /// The image to come back on.
    pub target_image: Option<String>,
    pub target_version: Option<String>,
    /// The boot variable before the rollback (restored if it fails).
    pub previous_boot: Vec<String>,
    /// Nothing to roll back (already on the committed or previous software).
    pub nothing_to_do: bool,
}

fn step_error(cx: &TaskContext, message: impl std::fmt::Display) -> EngineError {
    EngineError::step(format!("{}: {message}", cx.device.name))
}

fn os_of(cx: &TaskContext) -> Os {
    cx.device.os.unwrap_or(Os::Ios)
}

/// Collects the device's facts over the task's session (reconnecting once
/// when a reload dropped it) and records them as the device's latest.
async fn read_device(cx: &mut TaskContext) -> Result<CollectedFacts, EngineError> {
    let os = os_of(cx);
    let first = {
        let session = cx.session().await?;
        collect_facts_for(os, session).await
    };
    let facts = match first {
        Ok(facts) => facts,
        Err(_) => {
            cx.drop_session().await;
            let session = cx.session().await?;
            collect_facts_for(os, session).await?
        }
    };
    record_facts(cx, &facts).await;
    Ok(facts)
}

async fn record_facts(cx: &TaskContext, facts: &CollectedFacts) {
    if let Ok(snapshot) = serde_json::to_value(facts) {
        let stored = cx
            .engine
            .store()
            .record_device_facts(cx.device.id, Timestamp::now(), &snapshot)
            .await;
        if let Err(error) = stored {
            tracing::warn!(device = cx.device.name, %error, "could not record facts");
        }
    }
}

/// `flash2:` + `x.bin` → `flash2:x.bin`.
fn join_path(file_system: &str, file: &str) -> String {
    if file_system.ends_with(':') || file_system.ends_with('/') {
        format!("{file_system}{file}")
    } else {
        format!("{file_system}/{file}")
    }
}

/// The file name of a device path (`flash:/dir/x.bin` → `x.bin`).
fn file_name(path: &str) -> &str {
    let after_fs = path.split_once(':').map_or(path, |(_, rest)| rest);
    after_fs.rsplit('/').next().unwrap_or(after_fs)
}

/// The boot entry for an image on a stack or standalone device: each stack
/// member boots from its own `flash:`, so `flash2:x.bin` → `flash:x.bin`.
fn boot_entry(path: &str, stack: bool) -> String {
    if stack && let Some((fs, rest)) = path.split_once(':') {
        let base = fs.trim_end_matches(|c: char| c.is_ascii_digit());
        return format!("{base}:{rest}");
    }
    path.to_owned()
}

fn same_image(a: &str, b: &str) -> bool {
    file_name(a).eq_ignore_ascii_case(file_name(b))
}

/// Whether the device (every stack member) runs `version`.
fn runs_version(facts: &CollectedFacts, version: &str) -> bool {
    facts.version.as_deref() == Some(version)
        && facts
            .member_versions
            .iter()
            .all(|member| member.version.as_deref().is_none_or(|v| v == version))
}

/// The image file on every member file system that should hold it.
fn locate_image(facts: &CollectedFacts, file: &str) -> Result<Vec<String>, String> {
    let stack = facts.stack_members.len() > 1;
    let mut found = Vec::new();
    let mut missing = Vec::new();
    // On a stack every member's flash must hold the image; elsewhere any
    // file system will do (the first one listing it).
    let candidates: Vec<_> = facts
        .file_systems
        .iter()
        .filter(|fs| !stack || fs.member.is_some())
        .collect();
    for fs in &candidates {
        let listed = fs.listing.as_ref().is_some_and(|listing| {
            listing
                .entries
                .iter()
                .any(|entry| !entry.is_dir && entry.name.trim_start_matches('/') == file)
        });
        if listed {
            found.push(join_path(&fs.name, file));
            if !stack {
                break;
            }
        } else if stack {
            missing.push(fs.name.clone());
        }
    }
    if found.is_empty() {
        let names: Vec<_> = candidates.iter().map(|fs| fs.name.as_str()).collect();
        return Err(format!(
            "{file} is not on flash ({}) (hint: distribute the image first, or activate from the distribution job)",
            names.join(", ")
        ));
    }
    if !missing.is_empty() {
        return Err(format!(
            "{file} is not on flash of every stack member (missing on {}) (hint: distribute the image to every member first)",
            missing.join(", ")
        ));
    }
    Ok(found)
}

/// What one activation needs beyond the task: the image and options, and
/// (for an activation from a distribution run) what that run left per device.
#[derive(Debug)]
struct ActivationData {
    image: Image,
    options: ActivationOptions,
    from_distribution: HashMap<i64, Distributed>,
}

impl ActivationData {
    fn reload_timeout(&self) -> Duration {
        self.options
            .reload_timeout_secs
            .map_or(DEFAULT_RELOAD_TIMEOUT, Duration::from_secs)
    }

    fn target_version(&self) -> Result<String, EngineError> {
        self.image.version.clone().ok_or_else(|| {
            EngineError::step(format!(
                "image {} has no known version (hint: re-import it so its metadata is read)",
                self.image.file_name
            ))
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    Prechecks,
    SetBoot,
    Archive,
    XeInstall,
    XrAdd,
    XrActivate,
    Reload,
    Wait,
    Validate,
    Commit,
}

struct ActivationStep {
    act: Act,
    data: Arc<ActivationData>,
}

/// The steps that activate `image` on a device that already holds it
/// (set boot, save, reload, wait, validate, XR commit per `options`).
/// The device's OS picks the method; steps that do not apply to it
/// succeed with "not needed".
pub fn activation_steps(image: &Image, options: &ActivationOptions) -> Vec<Arc<dyn Step>> {
    steps_with(Arc::new(ActivationData {
        image: image.clone(),
        options: options.clone(),
        from_distribution: HashMap::new(),
    }))
}

fn steps_with(data: Arc<ActivationData>) -> Vec<Arc<dyn Step>> {
    [
        Act::Prechecks,
        Act::SetBoot,
        Act::Archive,
        Act::XeInstall,
        Act::XrAdd,
        Act::XrActivate,
        Act::Reload,
        Act::Wait,
        Act::Validate,
        Act::Commit,
    ]
    .into_iter()
    .map(|act| {
        Arc::new(ActivationStep {
            act,
            data: data.clone(),
        }) as Arc<dyn Step>
    })
    .collect()
}

/// The result of a step an earlier attempt of this task finished, when one
/// did: after a crash such steps are not repeated (the device may be
/// reloading by now; their notes are durable).
pub(crate) fn done_earlier(cx: &TaskContext, name: &str) -> Option<StepDone> {
    cx.previous_operation(name)
        .filter(|op| op.status == Status::Success)
        .map(|op| StepDone::new(format!("done by an earlier attempt: {}", op.message)))
}

fn not_needed() -> Result<StepDone, EngineError> {
    Ok(StepDone::new("not needed"))
}

/// The activation note when an `install activate` by `method` must still
/// be sent, or the step's result when it must not: the device uses another
/// method or already ran the target, or an earlier attempt's activate took
/// effect.
async fn install_activate_due(
    cx: &mut TaskContext,
    data: &ActivationData,
    method: ActivationMethod,
) -> Result<Result<ActivationNote, StepDone>, EngineError> {
    let note = activation_note(cx)?;
    if note.already_running || note.method != method {
        return not_needed().map(Err);
    }
    match earlier_reload_took_effect(
        cx,
        "install activate",
        Some(&note.target_version),
        data.reload_timeout(),
    )
    .await?
    {
        Some(message) => Ok(Err(StepDone::new(message))),
        None => Ok(Ok(note)),
    }
}

fn activation_note(cx: &TaskContext) -> Result<ActivationNote, EngineError> {
    cx.note(ACTIVATION_NOTE).ok_or_else(|| {
        EngineError::step("activation prechecks left no record (hint: run the job again)")
    })
}

/// Whether an earlier attempt of this task already sent a reload (or an
/// operation that reloads), and when.
fn reload_sent_at(cx: &TaskContext, names: &[&str]) -> Option<Timestamp> {
    cx.previous
        .iter()
        .rev()
        .find(|op| names.contains(&op.name.as_str()))
        .map(|op| op.started_at.unwrap_or(op.ended_at.unwrap_or(Timestamp(0))))
}

/// After a crash during a reload-like step: did the device reload since
/// `sent_at`? Its uptime answers (with a minute of slack for clocks).
fn reloaded_since(facts: &CollectedFacts, sent_at: Timestamp) -> bool {
    let elapsed = (Timestamp::now().as_millis() - sent_at.as_millis()).max(0) / 1000;
    match facts.uptime_seconds {
        Some(uptime) => i64::try_from(uptime).unwrap_or(i64::MAX) <= elapsed + 60,
        // No uptime printed: assume it did (never reload twice).
        None => true,
    }
}

#[async_trait::async_trait]
impl Step for ActivationStep {
    fn name(&self) -> &str {
        match self.act {
            Act::Prechecks => "activation prechecks",
            Act::SetBoot => "set boot",
            Act::Archive => "archive download-sw",
            Act::XeInstall => "install activate",
            Act::XrAdd => "install add",
            Act::XrActivate => "install activate",
            Act::Reload => "reload",
            Act::Wait => "wait for return",
            Act::Validate => "validate",
            Act::Commit => "install commit",
        }
    }

    fn cancel_point(&self) -> bool {
        // Never stop between a reload (or an install that reloads) and
        // validation, nor between validation and the XR commit.
        !matches!(self.act, Act::Wait | Act::Validate | Act::Commit)
    }

    fn applies(&self, cx: &TaskContext) -> bool {
        // The prechecks decide the method from the live device; until
        // then every step may apply.
        let Some(note) = cx.note::<ActivationNote>(ACTIVATION_NOTE) else {
            return true;
        };
        let method = note.method;
        match self.act {
            Act::Prechecks | Act::Wait | Act::Validate => true,
            Act::SetBoot => method == ActivationMethod::BootVariable,
            Act::Archive => method == ActivationMethod::Archive,
            Act::XeInstall => method == ActivationMethod::XeInstall,
            Act::XrAdd | Act::XrActivate => method == ActivationMethod::XrInstall,
            Act::Reload => matches!(
                method,
                ActivationMethod::BootVariable | ActivationMethod::Archive
            ),
            Act::Commit => {
                method == ActivationMethod::XrInstall && self.data.options.commit != Some(false)
            }
        }
    }

    async fn run(&self, cx: &mut TaskContext) -> Result<StepDone, EngineError> {
        let data = &self.data;
        // After a crash, steps an earlier attempt finished are not repeated
        // (the device may be reloading now); reload-like steps, waiting and
        // validation look at the device instead.
        if matches!(self.act, Act::SetBoot | Act::Archive | Act::XrAdd)
            && let Some(done) = cx.previous_operation(self.name())
            && done.status == Status::Success
        {
            return Ok(StepDone::new(format!(
                "done by an earlier attempt: {}",
                done.message
            )));
        }
        match self.act {
            Act::Prechecks => prechecks(cx, data).await,
            Act::SetBoot => {
                let note = activation_note(cx)?;
                if note.already_running || note.method != ActivationMethod::BootVariable {
                    return not_needed();
                }
                let os = os_of(cx);
                let change = device::set_boot(cx.session().await?, os, &note.new_boot).await?;
                Ok(StepDone::new(format!(
                    "boot {} (was {}), saved",
                    change.now.join(", "),
                    show_list(&change.previous)
                )))
            }
            Act::Archive => {
                let note = activation_note(cx)?;
                if note.already_running || note.method != ActivationMethod::Archive {
                    return not_needed();
                }
                let source = note
                    .target_paths
                    .first()
                    .cloned()
                    .ok_or_else(|| step_error(cx, "no archive path recorded"))?;
                let mut options = device::ArchiveOptions::default();
                options.overwrite = true;
                options.allow_feature_upgrade = true;
                let outcome =
                    device::archive_download_sw(cx.session().await?, &source, &options).await?;
                Ok(StepDone::new(format!(
                    "installed {} from {source}",
                    show_list(&outcome.installed)
                )))
            }
            Act::XeInstall => {
                let note = match install_activate_due(cx, data, ActivationMethod::XeInstall).await?
                {
                    Ok(note) => note,
                    Err(done) => return Ok(done),
                };
                let path = note
                    .target_paths
                    .first()
                    .cloned()
                    .ok_or_else(|| step_error(cx, "no image path recorded"))?;
                let timeout = data.reload_timeout();
                let outcome =
                    device::xe_install_add_activate_commit(cx.session().await?, &path, timeout)
                        .await?;
                cx.drop_session().await;
                Ok(StepDone::new(format!(
                    "install add {path} activate commit: added {}{}",
                    outcome.version_added.as_deref().unwrap_or("?"),
                    if outcome.reloading { ", reloading" } else { "" }
                )))
            }
            Act::XrAdd => {
                let note = activation_note(cx)?;
                if note.already_running || note.method != ActivationMethod::XrInstall {
                    return not_needed();
                }
                let path = note
                    .target_paths
                    .first()
                    .cloned()
                    .ok_or_else(|| step_error(cx, "no image path recorded"))?;
                let (source, file) = match path.rsplit_once('/') {
                    Some((dir, file)) => (format!("{dir}/"), file.to_owned()),
                    None => match path.split_once(':') {
                        Some((fs, file)) => (format!("{fs}:"), file.to_owned()),
                        None => ("harddisk:".to_owned(), path.clone()),
                    },
                };
                let id = device::xr_install_add(
                    cx.session().await?,
                    &source,
                    &file,
                    data.reload_timeout(),
                )
                .await?;
                cx.set_note(XR_INSTALL_ID_NOTE, &id).await?;
                Ok(StepDone::new(format!(
                    "install add source {source} {file}: operation {id}"
                )))
            }
            Act::XrActivate => {
                if let Err(done) =
                    install_activate_due(cx, data, ActivationMethod::XrInstall).await?
                {
                    return Ok(done);
                }
                let id: u32 = cx
                    .note(XR_INSTALL_ID_NOTE)
                    .ok_or_else(|| step_error(cx, "no install operation id recorded"))?;
                let reloading = device::xr_install_activate(cx.session().await?, id).await?;
                cx.drop_session().await;
                Ok(StepDone::new(format!(
                    "install activate id {id}{}",
                    if reloading {
                        ": reloading"
                    } else {
                        ": already active"
                    }
                )))
            }
            Act::Reload => {
                let note = activation_note(cx)?;
                if note.already_running
                    || !matches!(
                        note.method,
                        ActivationMethod::BootVariable | ActivationMethod::Archive
                    )
                {
                    return not_needed();
                }
                reload_once(cx, data.reload_timeout()).await
            }
            Act::Wait => {
                let note = activation_note(cx)?;
                if note.already_running {
                    return not_needed();
                }
                wait_for(cx, data.reload_timeout()).await
            }
            Act::Validate => validate_activation(cx, data).await,
            Act::Commit => {
                let note = activation_note(cx)?;
                if note.method != ActivationMethod::XrInstall || data.options.commit == Some(false)
                {
                    return not_needed();
                }
                xr_commit(cx).await
            }
        }
    }
}

fn show_list(items: &[String]) -> String {
    if items.is_empty() {
        "nothing".to_owned()
    } else {
        items.join(", ")
    }
}

async fn prechecks(cx: &mut TaskContext, data: &ActivationData) -> Result<StepDone, EngineError> {
    if let Some(note) = cx.note::<ActivationNote>(ACTIVATION_NOTE)
        && note.image_id == data.image.id
    {
        // An earlier attempt recorded the device as it was before any
        // change: keep that record (the device may be mid-reload now).
        return Ok(StepDone::new(format!(
            "resumed: {} was on {} before activation",
            cx.device.name,
            note.previous_version.as_deref().unwrap_or("?")
        )));
    }
    let target_version = data.target_version()?;
    let facts = read_device(cx).await?;
    let os = facts.os.or(cx.device.os).unwrap_or(Os::Ios);
    let file = data.image.file_name.clone();
    let stack = facts.stack_members.len() > 1;
    let distributed = cx
        .note::<Distributed>(DISTRIBUTED_NOTE)
        .or_else(|| data.from_distribution.get(&cx.device.id).cloned());
    let (target_paths, fallback) = match distributed {
        Some(distributed) if !distributed.paths.is_empty() => {
            (distributed.paths.clone(), distributed.tftp_fallback.clone())
        }
        _ => (
            locate_image(&facts, &file).map_err(|reason| step_error(cx, reason))?,
            None,
        ),
    };
    // The copy on flash must be the image (a half-copied or corrupt file
    // would brick the device): verify the MD5 of every copy.
    let already_running = runs_version(&facts, &target_version);
    // IOS-XR has no `verify /md5`: `install add` checks the package itself.
    if !already_running && os != Os::Iosxr {
        let session = cx.session().await?;
        for path in &target_paths {
            match device::file_md5_if_present(session, os, path).await? {
                Some(md5) if md5.eq_ignore_ascii_case(&data.image.md5) => {}
                Some(md5) => {
                    return Err(EngineError::step(format!(
                        "{path} has MD5 {md5}, not the image's {} (hint: distribute the image again)",
                        data.image.md5
                    )));
                }
                None => {
                    return Err(EngineError::step(format!(
                        "{path} is not on flash (hint: distribute the image first)"
                    )));
                }
            }
        }
    }
    let method = match os {
        Os::Iosxr => ActivationMethod::XrInstall,
        Os::Iosxe => {
            let mode = match data.options.xe_mode {
                XeMode::Install => InstallMode::Install,
                XeMode::Bundle => InstallMode::Bundle,
                XeMode::Current => facts.install_mode.unwrap_or(InstallMode::Bundle),
            };
            if mode == InstallMode::Install {
                ActivationMethod::XeInstall
            } else {
                ActivationMethod::BootVariable
            }
        }
        _ if data.image.format == ImageFormat::Tar || file.ends_with(".tar") => {
            ActivationMethod::Archive
        }
        _ => ActivationMethod::BootVariable,
    };
    let mut new_boot: Vec<String> = Vec::new();
    if method == ActivationMethod::BootVariable {
        let first = target_paths
            .first()
            .map(|path| boot_entry(path, stack))
            .unwrap_or_default();
        new_boot.push(first.clone());
        // The image it runs now, so a failed boot falls back to it.
        if let Some(running) = facts.running_image.as_deref()
            && !same_image(running, &first)
        {
            new_boot.push(boot_entry(running, stack));
        }
        if let Some(fallback) = fallback {
            new_boot.push(fallback);
        }
    }
    let note = ActivationNote {
        image_id: data.image.id,
        image_file: file,
        target_version: target_version.clone(),
        target_paths: target_paths.clone(),
        previous_boot: facts.boot_path.clone(),
        previous_image: facts.running_image.clone(),
        previous_version: facts.version.clone(),
        new_boot,
        method,
        already_running,
    };
    cx.set_note(ACTIVATION_NOTE, &note).await?;
    let message = if already_running {
        format!("already runs {target_version}: nothing to activate")
    } else {
        format!(
            "runs {} ({}), target {target_version} at {}",
            facts.version.as_deref().unwrap_or("?"),
            facts.running_image.as_deref().unwrap_or("?"),
            target_paths.join(", ")
        )
    };
    Ok(StepDone::new(message))
}

/// Reloads unless an earlier attempt already did (its uptime says so).
async fn reload_once(cx: &mut TaskContext, timeout: Duration) -> Result<StepDone, EngineError> {
    if let Some(message) = earlier_reload_took_effect(cx, "reload", None, timeout).await? {
        return Ok(StepDone::new(message));
    }
    let os = os_of(cx);
    device::reload(cx.session().await?, os).await?;
    cx.drop_session().await;
    Ok(StepDone::new("reload sent"))
}

/// After a crash during a step that reloads the device (`reload`,
/// `install activate`) an earlier attempt of the task started:
/// `Some(message)` when it took effect — the device answers on `target`, or
/// its uptime says it went down since (then validation judges) — and `None`
/// when it must be sent again (never started, or up on the old software with
/// an uptime showing it never went down: the command never reached it).
async fn earlier_reload_took_effect(
    cx: &mut TaskContext,
    step: &str,
    target: Option<&str>,
    timeout: Duration,
) -> Result<Option<String>, EngineError> {
    let Some(sent) = reload_sent_at(cx, &[step]) else {
        return Ok(None);
    };
    // Read the device as it is, not "once it has reloaded": it may never
    // have received the command. Unreachable means it is reloading.
    let deadline = tokio::time::Instant::now() + timeout;
    let facts = loop {
        match read_device(cx).await {
            Ok(facts) => break facts,
            Err(error) if tokio::time::Instant::now() >= deadline => return Err(error),
            Err(_) => {
                cx.drop_session().await;
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    };
    let on_target = target.is_some() && facts.version.as_deref() == target;
    if on_target || reloaded_since(&facts, sent) {
        return Ok(Some(format!(
            "{step} already sent by an earlier attempt at {} (the device runs {}, up {}s)",
            super::views::format_time(sent),
            facts.version.as_deref().unwrap_or("?"),
            facts.uptime_seconds.unwrap_or(0)
        )));
    }
    Ok(None)
}

/// Waits for the device to answer again and returns its facts.
async fn wait_facts(
    cx: &mut TaskContext,
    timeout: Duration,
) -> Result<CollectedFacts, EngineError> {
    let os = os_of(cx);
    cx.drop_session().await;
    let deadline = tokio::time::Instant::now() + timeout;
    // The device may still be going down: wait_for_return reconnects with
    // backoff until it answers, then collects facts.
    loop {
        match cx.session().await {
            Ok(session) => {
                let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
                let facts = device::wait_for_return(session, os, remaining).await?;
                record_facts(cx, &facts).await;
                return Ok(facts);
            }
            Err(error) => {
                if tokio::time::Instant::now() >= deadline {
                    return Err(EngineError::Driver(DriverError::DeviceDidNotReturn {
                        host: cx.device.host.clone(),
                        after: timeout,
                        last_error: error.to_string(),
                    }));
                }
                // Not reachable yet (reloading): retry on a short backoff,
                // returning early on cancel is not allowed here.
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
}

async fn wait_for(cx: &mut TaskContext, timeout: Duration) -> Result<StepDone, EngineError> {
    let started = tokio::time::Instant::now();
    let facts = wait_facts(cx, timeout).await?;
    Ok(StepDone::new(format!(
        "back after {:.1}s on {} ({})",
        started.elapsed().as_secs_f64(),
        facts.version.as_deref().unwrap_or("?"),
        facts.running_image.as_deref().unwrap_or("?")
    )))
}

async fn validate_activation(
    cx: &mut TaskContext,
    data: &ActivationData,
) -> Result<StepDone, EngineError> {
    let note = activation_note(cx)?;
    let mut facts = read_device(cx).await?;
    let xe_mode = match (cx.device.os, note.method) {
        (Some(Os::Iosxe), ActivationMethod::XeInstall) => Some(InstallMode::Install),
        (Some(Os::Iosxe), ActivationMethod::BootVariable)
            if data.options.xe_mode == XeMode::Bundle =>
        {
            Some(InstallMode::Bundle)
        }
        _ => None,
    };
    let mut repaired = Vec::new();
    if device::validate(&facts, &note.target_version, xe_mode).is_err()
        && facts.version.as_deref() == Some(note.target_version.as_str())
        && facts.stack_members.iter().any(|member| {
            member
                .state
                .as_deref()
                .is_some_and(|state| state.eq_ignore_ascii_case("version mismatch"))
        })
    {
        // The master runs the target; members that do not get its image.
        repaired = device::repair_stack_members(cx.session().await?).await?;
        facts = read_device(cx).await?;
    }
    match device::validate(&facts, &note.target_version, xe_mode) {
        Ok(()) => Ok(StepDone::new(format!(
            "runs {}{}",
            note.target_version,
            if repaired.is_empty() {
                String::new()
            } else {
                format!(
                    " (members {} repaired)",
                    repaired
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ))),
        Err(failure) => {
            let restored = restore_boot(cx, &note.previous_boot, &facts).await;
            // A `tftp://` running image: no image on flash booted and the
            // boot loader reached the distribution's TFTP fallback.
            let network_boot = if facts
                .running_image
                .as_deref()
                .is_some_and(|image| image.starts_with("tftp://"))
            {
                " (no image on flash booted; it loaded the TFTP fallback and runs from the network until its next reload — check its flash)"
            } else {
                ""
            };
            Err(EngineError::step(format!(
                "{} came back on {} ({}){network_boot}, not {}: {}; {restored}",
                cx.device.name,
                facts.version.as_deref().unwrap_or("?"),
                facts.running_image.as_deref().unwrap_or("?"),
                note.target_version,
                failure.problems.join("; ")
            )))
        }
    }
}

/// Puts the previous boot configuration back after a failed activation;
/// returns what happened, for the task message.
async fn restore_boot(cx: &mut TaskContext, previous: &[String], facts: &CollectedFacts) -> String {
    let os = os_of(cx);
    if os == Os::Iosxr {
        return "IOS-XR boots its committed software, nothing to restore".to_owned();
    }
    if facts.boot_path == previous {
        return format!("boot configuration already {}", show_list(previous));
    }
    let result = match cx.session().await {
        Ok(session) => device::restore_boot(session, os, previous).await,
        Err(error) => return format!("boot configuration NOT restored: {error}"),
    };
    match result {
        Ok(_) => format!(
            "boot configuration restored to {} (hint: check the image on flash, then activate again)",
            show_list(previous)
        ),
        Err(error) => format!("boot configuration NOT restored: {error}"),
    }
}

async fn xr_commit(cx: &mut TaskContext) -> Result<StepDone, EngineError> {
    let session = cx.session().await?;
    let state = device::xr_install_state(session).await?;
    if state.is_committed() {
        return Ok(StepDone::new(format!(
            "already committed: {}",
            show_list(&state.committed)
        )));
    }
    device::xr_install_commit(session).await?;
    let after = device::xr_install_state(session).await?;
    if !after.is_committed() {
        return Err(EngineError::step(format!(
            "install commit ran but committed is {} while active is {} (hint: run `show install committed` on the device)",
            show_list(&after.committed),
            show_list(&after.active)
        )));
    }
    Ok(StepDone::new(format!(
        "committed {}",
        show_list(&after.committed)
    )))
}

// ---------------------------------------------------------------- commit --

struct CommitStep {
    prechecks: bool,
}

#[async_trait::async_trait]
impl Step for CommitStep {
    fn name(&self) -> &str {
        if self.prechecks {
            "commit prechecks"
        } else {
            "install commit"
        }
    }

    async fn run(&self, cx: &mut TaskContext) -> Result<StepDone, EngineError> {
        if self.prechecks {
            if cx.device.os != Some(Os::Iosxr) {
                return Err(step_error(
                    cx,
                    "commit applies to IOS-XR only (hint: IOS and IOS-XE need no commit after activation)",
                ));
            }
            let state = device::xr_install_state(cx.session().await?).await?;
            return Ok(StepDone::new(format!(
                "active {}, committed {}",
                show_list(&state.active),
                show_list(&state.committed)
            )));
        }
        xr_commit(cx).await
    }
}

// -------------------------------------------------------------- rollback --

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Back {
    Prechecks,
    SetBoot,
    XrRollback,
    Reload,
    Wait,
    Validate,
}

struct RollbackStep {
    back: Back,
    timeout: Duration,
}

fn rollback_note(cx: &TaskContext) -> Result<RollbackNote, EngineError> {
    cx.note(ROLLBACK_NOTE).ok_or_else(|| {
        EngineError::step("rollback prechecks left no record (hint: run the job again)")
    })
}

/// The latest activation record of a device from earlier activation or
/// distribution jobs (newest job first).
async fn last_activation(
    engine: &Engine,
    device_id: i64,
) -> Result<Option<ActivationNote>, EngineError> {
    let store = engine.store();
    for job in store.list_jobs().await? {
        if job.kind != ACTIVATION_JOB && job.kind != DISTRIBUTION_JOB {
            continue;
        }
        for run in store.list_runs(job.id).await?.into_iter().rev() {
            for task in store.list_tasks(run.id).await? {
                if task.device_id != Some(device_id) {
                    continue;
                }
                let notes = task_notes(engine, job.id, task.id).await?;
                if let Some(note) = notes
                    .get(ACTIVATION_NOTE)
                    .and_then(|value| serde_json::from_value::<ActivationNote>(value.clone()).ok())
                    && !note.already_running
                {
                    return Ok(Some(note));
                }
            }
        }
    }
    Ok(None)
}

#[async_trait::async_trait]
impl Step for RollbackStep {
    fn name(&self) -> &str {
        match self.back {
            Back::Prechecks => "rollback prechecks",
            Back::SetBoot => "set boot",
            Back::XrRollback => "install rollback",
            Back::Reload => "reload",
            Back::Wait => "wait for return",
            Back::Validate => "validate",
        }
    }

    fn cancel_point(&self) -> bool {
        !matches!(self.back, Back::Wait | Back::Validate)
    }

    fn applies(&self, cx: &TaskContext) -> bool {
        let xr = cx.device.os == Some(Os::Iosxr);
        match self.back {
            Back::SetBoot | Back::Reload => !xr,
            Back::XrRollback => xr,
            Back::Prechecks | Back::Wait | Back::Validate => true,
        }
    }

    async fn run(&self, cx: &mut TaskContext) -> Result<StepDone, EngineError> {
        let xr = cx.device.os == Some(Os::Iosxr);
        if self.back == Back::SetBoot
            && let Some(done) = cx.previous_operation(self.name())
            && done.status == Status::Success
        {
            return Ok(StepDone::new(format!(
                "done by an earlier attempt: {}",
                done.message
            )));
        }
        match self.back {
            Back::Prechecks => rollback_prechecks(cx).await,
            Back::SetBoot => {
                let note = rollback_note(cx)?;
                if xr || note.nothing_to_do {
                    return not_needed();
                }
                let os = os_of(cx);
                let change = device::set_boot(cx.session().await?, os, &note.boot).await?;
                Ok(StepDone::new(format!(
                    "boot {} (was {}), saved",
                    change.now.join(", "),
                    show_list(&change.previous)
                )))
            }
            Back::XrRollback => {
                let note = rollback_note(cx)?;
                if !xr || note.nothing_to_do {
                    return not_needed();
                }
                if let Some(sent) = reload_sent_at(cx, &["install rollback"]) {
                    return Ok(StepDone::new(format!(
                        "rollback already started by an earlier attempt at {}",
                        super::views::format_time(sent)
                    )));
                }
                let reloading =
                    device::xr_install_rollback_to_committed(cx.session().await?).await?;
                cx.drop_session().await;
                Ok(StepDone::new(if reloading {
                    "install rollback to committed: reloading"
                } else {
                    "committed software already active"
                }))
            }
            Back::Reload => {
                let note = rollback_note(cx)?;
                if xr || note.nothing_to_do {
                    return not_needed();
                }
                reload_once(cx, self.timeout).await
            }
            Back::Wait => {
                let note = rollback_note(cx)?;
                if note.nothing_to_do {
                    return not_needed();
                }
                wait_for(cx, self.timeout).await
            }
            Back::Validate => {
                let note = rollback_note(cx)?;
                if xr {
                    let state = device::xr_install_state(cx.session().await?).await?;
                    if state.is_committed() {
                        return Ok(StepDone::new(format!(
                            "active is the committed {}",
                            show_list(&state.committed)
                        )));
                    }
                    return Err(step_error(
                        cx,
                        format!(
                            "active {} is not the committed {} after the rollback (hint: run `install rollback to committed` on the device)",
                            show_list(&state.active),
                            show_list(&state.committed)
                        ),
                    ));
                }
                let facts = read_device(cx).await?;
                let image_ok = match (&note.target_image, &facts.running_image) {
                    (Some(want), Some(have)) => same_image(want, have),
                    _ => false,
                };
                let version_ok = note
                    .target_version
                    .as_deref()
                    .is_none_or(|want| runs_version(&facts, want));
                if image_ok && version_ok {
                    return Ok(StepDone::new(format!(
                        "runs {} ({})",
                        facts.version.as_deref().unwrap_or("?"),
                        facts.running_image.as_deref().unwrap_or("?")
                    )));
                }
                let restored = restore_boot(cx, &note.previous_boot, &facts).await;
                Err(step_error(
                    cx,
                    format!(
                        "came back on {} ({}), not the previous {} ({}); {restored}",
                        facts.version.as_deref().unwrap_or("?"),
                        facts.running_image.as_deref().unwrap_or("?"),
                        note.target_version.as_deref().unwrap_or("?"),
                        note.target_image.as_deref().unwrap_or("?")
                    ),
                ))
            }
        }
    }
}

async fn rollback_prechecks(cx: &mut TaskContext) -> Result<StepDone, EngineError> {
    if cx.note::<RollbackNote>(ROLLBACK_NOTE).is_some() {
        return Ok(StepDone::new("resumed: rollback target already recorded"));
    }
    if cx.device.os == Some(Os::Iosxr) {
        let state = device::xr_install_state(cx.session().await?).await?;
        let nothing_to_do = state.is_committed();
        let note = RollbackNote {
            boot: Vec::new(),
            target_image: None,
            target_version: None,
            previous_boot: Vec::new(),
            nothing_to_do,
        };
        cx.set_note(ROLLBACK_NOTE, &note).await?;
        return Ok(StepDone::new(if nothing_to_do {
            format!(
                "active is the committed {}: nothing to roll back",
                show_list(&state.committed)
            )
        } else {
            format!(
                "active {}, rolling back to committed {}",
                show_list(&state.active),
                show_list(&state.committed)
            )
        }));
    }
    let facts = read_device(cx).await?;
    if cx.device.os == Some(Os::Iosxe) && facts.install_mode == Some(InstallMode::Install) {
        return Err(step_error(
            cx,
            "rollback of IOS-XE install mode is not supported (hint: run `install rollback to committed` on the device)",
        ));
    }
    let stack = facts.stack_members.len() > 1;
    let running = facts.running_image.clone().unwrap_or_default();
    // The image booted before the last activation; otherwise the first boot
    // entry after the running image.
    let (target_image, target_version) = match last_activation(&cx.engine, cx.device.id).await? {
        Some(note) if note.previous_image.is_some() => (note.previous_image, note.previous_version),
        _ => (
            facts
                .boot_path
                .iter()
                .find(|entry| !same_image(entry, &running) && !entry.contains("://"))
                .cloned(),
            None,
        ),
    };
    let Some(target_image) = target_image else {
        return Err(step_error(
            cx,
            format!(
                "no previous image to roll back to (boot path {}; no earlier activation recorded) (hint: activate the wanted image from the library instead)",
                show_list(&facts.boot_path)
            ),
        ));
    };
    let nothing_to_do = same_image(&target_image, &running)
        && target_version
            .as_deref()
            .is_none_or(|want| runs_version(&facts, want));
    let mut boot = vec![boot_entry(&target_image, stack)];
    if !running.is_empty() && !same_image(&running, &target_image) {
        boot.push(boot_entry(&running, stack));
    }
    let note = RollbackNote {
        boot,
        target_image: Some(target_image.clone()),
        target_version: target_version.clone(),
        previous_boot: facts.boot_path.clone(),
        nothing_to_do,
    };
    cx.set_note(ROLLBACK_NOTE, &note).await?;
    Ok(StepDone::new(if nothing_to_do {
        format!("already runs {target_image}: nothing to roll back")
    } else {
        format!(
            "runs {} ({running}), rolling back to {target_image}",
            facts.version.as_deref().unwrap_or("?")
        )
    }))
}

// ------------------------------------------------------------------ plans --

struct Plan {
    steps: Vec<Arc<dyn Step>>,
    limits: Limits,
    stop_on_failure: bool,
}

#[async_trait::async_trait]
impl JobPlan for Plan {
    fn steps(&self, device: &Device) -> Vec<Arc<dyn Step>> {
        let _ = device;
        self.steps.clone()
    }

    fn limits(&self) -> Limits {
        self.limits
    }

    fn stop_on_failure(&self) -> bool {
        self.stop_on_failure
    }
}

fn parse_spec<T: serde::de::DeserializeOwned>(job: &Job) -> Result<T, EngineError> {
    serde_json::from_value(job.spec.clone()).map_err(|error| EngineError::Invalid {
        what: "job spec",
        reason: format!("job {} has an unreadable spec: {error}", job.id),
    })
}

/// Limits for an activation: sequential is one device at a time over the
/// whole run; parallel is bounded by `max_parallel` (default `default_max`).
pub fn activation_limits(options: &ActivationOptions, default_max: usize) -> Limits {
    let global = match options.mode {
        ActivationMode::Sequential => 1,
        ActivationMode::Parallel => options
            .max_parallel
            .map_or(default_max, |max| max as usize)
            .max(1),
    };
    Limits {
        global,
        per_site: global,
        per_server: global,
    }
}

/// The image and per-device distribution records of an activation.
pub(crate) async fn activation_source(
    engine: &Engine,
    spec: &ActivationSpec,
) -> Result<(Image, HashMap<i64, Distributed>), EngineError> {
    let store = engine.store();
    if let Some(run_id) = spec.from_run {
        let run = store.get_run(run_id).await?;
        let job = store.get_job(run.job_id).await?;
        if job.kind != DISTRIBUTION_JOB {
            return Err(EngineError::Invalid {
                what: "activation",
                reason: format!(
                    "run {run_id} belongs to {} job {} (hint: give a distribution run)",
                    job.kind, job.id
                ),
            });
        }
        let distribution: DistributionSpec = parse_spec(&job)?;
        let image = store.get_image(distribution.image_id).await?;
        let mut records = HashMap::new();
        for task in store.list_tasks(run_id).await? {
            let Some(device_id) = task.device_id else {
                continue;
            };
            if task.status != Status::Success {
                continue;
            }
            let notes: BTreeMap<_, _> = task_notes(engine, job.id, task.id).await?;
            let record = notes
                .get(DISTRIBUTED_NOTE)
                .and_then(|value| serde_json::from_value::<Distributed>(value.clone()).ok())
                .unwrap_or_else(|| Distributed {
                    image_id: image.id,
                    file_name: image.file_name.clone(),
                    md5: image.md5.clone(),
                    paths: Vec::new(),
                    running_image: None,
                    tftp_fallback: None,
                });
            records.insert(device_id, record);
        }
        return Ok((image, records));
    }
    let image_id = spec.image_id.ok_or_else(|| EngineError::Invalid {
        what: "activation",
        reason: "neither image_id nor from_run given (hint: name the image, or the distribution run to activate)".into(),
    })?;
    Ok((store.get_image(image_id).await?, HashMap::new()))
}

/// The plan of an activation, commit or rollback job.
pub async fn plan(engine: &Engine, job: &Job) -> Result<Arc<dyn JobPlan>, EngineError> {
    match job.kind.as_str() {
        ACTIVATION_JOB => {
            let spec: ActivationSpec = parse_spec(job)?;
            let (image, from_distribution) = activation_source(engine, &spec).await?;
            let limits = activation_limits(&spec.options, Limits::default().global);
            let stop_on_failure = spec.options.failure_policy == Some(FailurePolicy::Stop);
            let steps = steps_with(Arc::new(ActivationData {
                image,
                options: spec.options,
                from_distribution,
            }));
            Ok(Arc::new(Plan {
                steps,
                limits,
                stop_on_failure,
            }))
        }
        COMMIT_JOB => {
            let _: CommitSpec = parse_spec(job)?;
            Ok(Arc::new(Plan {
                steps: vec![
                    Arc::new(CommitStep { prechecks: true }),
                    Arc::new(CommitStep { prechecks: false }),
                ],
                limits: Limits::default(),
                stop_on_failure: false,
            }))
        }
        ROLLBACK_JOB => {
            let spec: RollbackSpec = parse_spec(job)?;
            let timeout = spec
                .reload_timeout_secs
                .map_or(DEFAULT_RELOAD_TIMEOUT, Duration::from_secs);
            let steps = [
                Back::Prechecks,
                Back::SetBoot,
                Back::XrRollback,
                Back::Reload,
                Back::Wait,
                Back::Validate,
            ]
            .into_iter()
            .map(|back| Arc::new(RollbackStep { back, timeout }) as Arc<dyn Step>)
            .collect();
            Ok(Arc::new(Plan {
                steps,
                limits: Limits::default(),
                stop_on_failure: false,
            }))
        }
        other => Err(EngineError::Invalid {
            what: "job",
            reason: format!("{other} is not an activation, commit or rollback job"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_boot_entries_name_each_members_own_flash() {
        let cases = [
            ("flash1:c2960x.bin", true, "flash:c2960x.bin"),
            ("flash2:/c2960x.bin", true, "flash:/c2960x.bin"),
            ("flash:c2960x.bin", false, "flash:c2960x.bin"),
            ("bootflash:cat9k.bin", false, "bootflash:cat9k.bin"),
        ];
        for (path, stack, want) in cases {
            assert_eq!(boot_entry(path, stack), want, "{path}");
        }
    }

    #[test]
    fn file_names_ignore_file_system_and_directories() {
        assert_eq!(file_name("flash:/dir/x.bin"), "x.bin");
        assert_eq!(file_name("flash2:x.bin"), "x.bin");
        assert!(same_image("flash:X.bin", "flash1:/x.bin"));
        assert_eq!(join_path("flash2:", "x.bin"), "flash2:x.bin");
        assert_eq!(join_path("harddisk:/", "x.iso"), "harddisk:/x.iso");
    }

    #[test]
    fn sequential_activation_is_one_device_at_a_time() {
        let sequential = ActivationOptions {
            mode: ActivationMode::Sequential,
            max_parallel: Some(20),
            ..ActivationOptions::default()
        };
        assert_eq!(activation_limits(&sequential, 50).global, 1);
        let parallel = ActivationOptions {
            max_parallel: Some(7),
            ..ActivationOptions::default()
        };
        assert_eq!(activation_limits(&parallel, 50).global, 7);
        assert_eq!(
            activation_limits(&ActivationOptions::default(), 50).global,
            50
        );
    }

    #[test]
    fn uptime_tells_whether_an_interrupted_reload_happened() {
        let sent = Timestamp(Timestamp::now().as_millis() - 120_000);
        let mut facts = CollectedFacts {
            uptime_seconds: Some(30),
            ..CollectedFacts::default()
        };
        assert!(reloaded_since(&facts, sent));
        facts.uptime_seconds = Some(86_400);
        assert!(!reloaded_since(&facts, sent));
    }
}
