//! The distribution job: the image onto each device (every stack member's
//! flash), pulled from the local server or the site's relay, verified on
//! the device. Steps per device: `prechecks` → `backup current image`
//! (when asked) → `make space` → `transfer` → `verify`, then the
//! activation steps when the job chains one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use netswim_domain::Os;
use netswim_domain::analysis::{Blocker, Method, Readiness};
use netswim_domain::image::ImageMetadata;
use netswim_drivers::DriverError;
use netswim_drivers::upgrade::{
    CopyOutcome, CopyRequest, TransferFailure, copy_image, copy_image_to_members, delete_file,
    verify_md5,
};
use netswim_store::{Device, Image, Job, NewEvent};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::analysis::{READINESS_NOTE, collect_live, image_metadata, readiness};
use super::context::ProgressSink;
use super::relay::Relay;
use super::runner::{
    DISTRIBUTED_NOTE, Distributed, JobPlan, Limits, RunContext, Step, StepDone, TaskContext,
};
use super::serving::{JobCredential, TransferService};
use super::{DistributionSpec, FailurePolicy, Protocol};
use crate::{Engine, EngineError};

/// The `job_defaults` setting as the runner reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobDefaults {
    pub max_parallel_devices: usize,
    pub max_parallel_per_site: usize,
    pub max_parallel_per_distribution_server: usize,
    pub retries: u32,
}

impl JobDefaults {
    pub async fn load(engine: &Engine) -> Result<JobDefaults, EngineError> {
        let value = engine.store().job_defaults().await?;
        let number = |key: &str, default: u64| -> u64 {
            value.get(key).and_then(|v| v.as_u64()).unwrap_or(default)
        };
        let devices = number("max_parallel_devices", 50);
        Ok(JobDefaults {
            max_parallel_devices: usize::try_from(devices).unwrap_or(50).max(1),
            max_parallel_per_site: usize::try_from(number("max_parallel_per_site", devices))
                .unwrap_or(50)
                .max(1),
            max_parallel_per_distribution_server: usize::try_from(number(
                "max_parallel_per_distribution_server",
                devices,
            ))
            .unwrap_or(50)
            .max(1),
            retries: u32::try_from(number("retries", 2)).unwrap_or(2),
        })
    }
}

/// What the prechecks decided for a device (note `targets`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Targets {
    /// File systems to write the image to (`flash1:`, `flash2:` or `bootflash:`).
    file_systems: Vec<String>,
    running_image: Option<String>,
    boot_path: Vec<String>,
}

const TARGETS_NOTE: &str = "targets";

/// Protocols lab and real IOS, IOS-XE and IOS-XR `copy` can pull with.
fn device_protocols(os: Option<Os>) -> &'static [Protocol] {
    match os {
        Some(Os::Ios | Os::Iosxe | Os::Iosxr) | None => &[
            Protocol::Scp,
            Protocol::Ftp,
            Protocol::Tftp,
            Protocol::Http,
            Protocol::Https,
        ],
        Some(_) => &[Protocol::Scp, Protocol::Tftp],
    }
}

struct Shared {
    job_id: i64,
    image: Image,
    metadata: ImageMetadata,
    blob: PathBuf,
    spec: DistributionSpec,
    protocols: Vec<Protocol>,
    /// Relay per site.
    relays: HashMap<i64, Relay>,
    relays_by_id: HashMap<i64, Relay>,
    retries: u32,
}

impl Shared {
    fn relay_for(&self, device: &Device) -> Option<&Relay> {
        if let Some(&id) = self.spec.distribution_servers.get(&device.name) {
            return self.relays_by_id.get(&id);
        }
        if self.spec.use_distribution_servers == Some(false) {
            return None;
        }
        device.site_id.and_then(|site| self.relays.get(&site))
    }

    fn location_for(&self, device: &Device) -> Option<&String> {
        self.spec
            .locations
            .get(&device.name)
            .or(self.spec.location.as_ref())
    }

    fn method_for(&self, facts: &netswim_domain::facts::DeviceFacts) -> Method {
        match Method::default_for_device(facts, &self.metadata) {
            // Distribution copies the archive itself; `archive download-sw`
            // belongs to activation.
            Method::ArchiveDownloadSw { .. } => Method::Copy,
            other => other,
        }
    }
}

struct DistributionPlan {
    shared: Arc<Shared>,
    steps_tail: Vec<Arc<dyn Step>>,
    limits: Limits,
    stop_on_failure: bool,
}

#[async_trait::async_trait]
impl JobPlan for DistributionPlan {
    fn steps(&self, _device: &Device) -> Vec<Arc<dyn Step>> {
        let shared = &self.shared;
        let mut steps: Vec<Arc<dyn Step>> = vec![Arc::new(Prechecks(shared.clone()))];
        if shared.spec.backup_current_image == Some(true) {
            steps.push(Arc::new(BackupCurrent));
        }
        steps.push(Arc::new(MakeSpace(shared.clone())));
        steps.push(Arc::new(Transfer(shared.clone())));
        steps.push(Arc::new(Verify(shared.clone())));
        steps.extend(self.steps_tail.iter().cloned());
        steps
    }

    fn limits(&self) -> Limits {
        self.limits
    }

    fn stop_on_failure(&self) -> bool {
        self.stop_on_failure
    }

    fn server_of(&self, device: &Device) -> Option<i64> {
        self.shared.relay_for(device).map(|relay| relay.id)
    }

    async fn prepare(&self, run: &RunContext) -> Result<(), EngineError> {
        let shared = &self.shared;
        let service = run.engine.transfer_service().ok_or_else(|| {
            EngineError::step(
                "no file server runs inside netswim (hint: start `netswim serve` with --transfer-host)",
            )
        })?;
        service.publish(
            shared.job_id,
            &shared.image.file_name,
            &shared.blob,
            &shared.image.sha256,
        )?;
        service.mint(shared.job_id);
        // Each relay a device of this run uses gets the image once.
        let mut pushed = std::collections::BTreeSet::new();
        for device in &run.devices {
            let Some(relay) = shared.relay_for(device) else {
                continue;
            };
            if !pushed.insert(relay.id) {
                continue;
            }
            let sent = relay
                .ensure_image(
                    &shared.blob,
                    &shared.image.file_name,
                    shared.image.size_bytes,
                    &shared.image.sha256,
                )
                .await?;
            run.engine
                .publish(NewEvent {
                    kind: "relay.image".to_owned(),
                    job_id: Some(run.job.id),
                    run_id: Some(run.run_id),
                    task_id: None,
                    payload: json!({
                        "relay": relay.name,
                        "image": shared.image.file_name,
                        "pushed": sent,
                    }),
                })
                .await?;
        }
        Ok(())
    }

    async fn finish(&self, run: &RunContext) {
        if let Some(service) = run.engine.transfer_service() {
            service.unpublish_job(self.shared.job_id);
            service.revoke(self.shared.job_id);
        }
    }
}

/// The plan of a stored distribution job.
pub(crate) async fn plan(engine: &Engine, job: &Job) -> Result<Arc<dyn JobPlan>, EngineError> {
    let spec: DistributionSpec =
        serde_json::from_value(job.spec.clone()).map_err(|error| EngineError::Invalid {
            what: "distribution job spec",
            reason: error.to_string(),
        })?;
    let store = engine.store();
    let image = store.get_image(spec.image_id).await?;
    let blob = engine.blobs().path_of(&image.sha256)?;
    let protocols = match &spec.protocols {
        Some(protocols) if !protocols.is_empty() => protocols.clone(),
        _ => store
            .protocol_order()
            .await?
            .iter()
            .filter_map(|name| serde_json::from_value(json!(name)).ok())
            .collect(),
    };
    let mut relays = HashMap::new();
    let mut relays_by_id = HashMap::new();
    for server in store.list_distribution_servers().await? {
        let relay = Relay::parse(server.id, &server.name, &server.url)?;
        for site in &server.site_ids {
            relays.entry(*site).or_insert_with(|| relay.clone());
        }
        relays_by_id.insert(server.id, relay);
    }
    let defaults = JobDefaults::load(engine).await?;
    let as_usize = |value: Option<u32>, default: usize| {
        value
            .and_then(|v| usize::try_from(v).ok())
            .unwrap_or(default)
            .max(1)
    };
    let mut global = as_usize(spec.max_parallel, defaults.max_parallel_devices);
    let mut tail = Vec::new();
    let mut stop_on_failure = spec.failure_policy == Some(FailurePolicy::Stop);
    if let Some(options) = &spec.activate {
        tail = super::activation::activation_steps(&image, options);
        if options.mode == super::ActivationMode::Sequential {
            global = 1;
        } else if let Some(bound) = options.max_parallel {
            global = global.min(as_usize(Some(bound), global));
        }
        stop_on_failure |= options.failure_policy == Some(FailurePolicy::Stop);
    }
    let shared = Arc::new(Shared {
        job_id: job.id,
        metadata: image_metadata(&image),
        image,
        blob,
        retries: spec.retries.unwrap_or(defaults.retries),
        protocols,
        relays,
        relays_by_id,
        spec: spec.clone(),
    });
    Ok(Arc::new(DistributionPlan {
        shared,
        steps_tail: tail,
        limits: Limits {
            global,
            per_site: as_usize(spec.max_parallel_per_site, defaults.max_parallel_per_site),
            per_server: as_usize(
                spec.max_parallel_per_distribution_server,
                defaults.max_parallel_per_distribution_server,
            ),
        },
        stop_on_failure,
    }))
}

fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn device_os(device: &Device) -> Os {
    device.os.unwrap_or(Os::Ios)
}

/// Connect, collect live facts, analyse; not applicable or too little RAM
/// fails before anything on the device changes.
struct Prechecks(Arc<Shared>);

#[async_trait::async_trait]
impl Step for Prechecks {
    fn name(&self) -> &str {
        "prechecks"
    }

    async fn run(&self, cx: &mut TaskContext) -> Result<StepDone, EngineError> {
        // After a crash: a step an earlier attempt finished is not repeated.
        if let Some(done) = super::activation::done_earlier(cx, self.name()) {
            return Ok(done);
        }
        let shared = &self.0;
        let facts = collect_live(cx).await?;
        let device_facts = facts
            .device_facts(&cx.device.name)
            .ok_or_else(|| EngineError::step("the device's OS is unknown (hint: sync it first)"))?;
        let method = shared.method_for(&device_facts);
        let row = readiness(&cx.device, &facts, &shared.metadata, Some(method))?;
        cx.set_note(READINESS_NOTE, &row).await?;
        if !row.applicable {
            return Err(EngineError::step(format!(
                "not applicable: {} (hint: pick an image for this platform)",
                row.reasons().join("; ")
            )));
        }
        if let Some(Blocker::RamTooSmall {
            required_bytes,
            available_bytes,
        }) = row
            .blockers
            .iter()
            .find(|blocker| matches!(blocker, Blocker::RamTooSmall { .. }))
        {
            return Err(EngineError::step(format!(
                "not enough RAM: the image needs {} bytes, the device has {} (hint: upgrade the memory or pick another image)",
                thousands(*required_bytes),
                thousands(*available_bytes)
            )));
        }
        let mut file_systems: Vec<String> = row
            .flash
            .iter()
            .map(|check| check.filesystem.clone())
            .collect();
        file_systems.dedup();
        if let Some(location) = shared.location_for(&cx.device)
            && facts.stack_members.len() <= 1
        {
            file_systems = vec![location.clone()];
        }
        if file_systems.is_empty() {
            return Err(EngineError::step(
                "no writable file system found on the device (hint: check `show file systems`)",
            ));
        }
        let targets = Targets {
            file_systems: file_systems.clone(),
            running_image: facts.running_image.clone(),
            boot_path: facts.boot_path.clone(),
        };
        cx.set_note(TARGETS_NOTE, &targets).await?;
        Ok(StepDone::new(format!(
            "{} on {}; {} → {}; method {}",
            row.status(),
            file_systems.join(", "),
            row.device_version.as_deref().unwrap_or("?"),
            row.image_version.as_deref().unwrap_or("?"),
            method.as_str()
        )))
    }
}

/// Back up the running image into the repository (skipped when the
/// repository already holds a file of that name and the device's MD5).
struct BackupCurrent;

#[async_trait::async_trait]
impl Step for BackupCurrent {
    fn name(&self) -> &str {
        "backup current image"
    }

    async fn run(&self, cx: &mut TaskContext) -> Result<StepDone, EngineError> {
        // After a crash: a step an earlier attempt finished is not repeated.
        if let Some(done) = super::activation::done_earlier(cx, self.name()) {
            return Ok(done);
        }
        let targets: Targets = cx.note(TARGETS_NOTE).ok_or_else(|| {
            EngineError::step("prechecks left no targets (hint: run the job again)")
        })?;
        let Some(running) = targets.running_image else {
            return Ok(StepDone::new(
                "the running image is unknown; nothing backed up",
            ));
        };
        let os = device_os(&cx.device);
        let session = cx.session().await?;
        let md5 = verify_md5(session, os, &running).await?;
        cx.drop_session().await;
        let engine = cx.engine.clone();
        let _one_backup_at_a_time = engine.upgrade_state().backups.lock().await;
        let known = cx
            .engine
            .store()
            .list_images()
            .await?
            .into_iter()
            .find(|image| image.md5.eq_ignore_ascii_case(&md5));
        if let Some(image) = known {
            return Ok(StepDone::new(format!(
                "{running} is already in the repository as image {}",
                image.id
            )));
        }
        let job = cx
            .engine
            .submit_import(
                crate::ImportSpec {
                    source: Some(crate::ImportSource::Device {
                        device_id: cx.device.id,
                        path: Some(running.clone()),
                    }),
                    ..Default::default()
                },
                &format!("job {}", cx.job.id),
            )
            .await?;
        let finished = cx.engine.wait_job_finished(job.id).await?;
        if finished.status != netswim_store::Status::Success {
            let detail = cx.engine.job_detail(job.id).await?;
            let why = detail
                .runs
                .iter()
                .flat_map(|(_, tasks)| tasks)
                .map(|(task, _)| task.message.clone())
                .find(|message| !message.is_empty())
                .unwrap_or_else(|| finished.status.to_string());
            return Err(EngineError::step(format!(
                "backup of {running} failed (import job {}: {why}) (hint: see that job's log)",
                job.id
            )));
        }
        Ok(StepDone::new(format!(
            "{running} backed up by import job {}",
            job.id
        )))
    }
}

/// Deletes inactive images (oldest first) on the file systems short of
/// space, only when the job allows it; fails before deleting anything when
/// even that would not be enough.
struct MakeSpace(Arc<Shared>);

#[async_trait::async_trait]
impl Step for MakeSpace {
    fn name(&self) -> &str {
        "make space"
    }

    async fn run(&self, cx: &mut TaskContext) -> Result<StepDone, EngineError> {
        // After a crash: a step an earlier attempt finished is not repeated.
        if let Some(done) = super::activation::done_earlier(cx, self.name()) {
            return Ok(done);
        }
        let shared = &self.0;
        let row: Readiness = cx.note(READINESS_NOTE).ok_or_else(|| {
            EngineError::step("prechecks left no analysis (hint: run the job again)")
        })?;
        let erase = shared.spec.erase_when_short == Some(true);
        let mut plan: Vec<String> = Vec::new();
        let mut problems = Vec::new();
        for check in &row.flash {
            if check.ok || check.image_present {
                continue;
            }
            let candidates: Vec<_> = row
                .deletable
                .iter()
                .filter(|file| file.filesystem == check.filesystem && file.member == check.member)
                .collect();
            let mut free = check.free_bytes;
            let mut chosen = 0usize;
            for file in &candidates {
                if !erase || free >= check.required_bytes {
                    break;
                }
                free = free.saturating_add(file.size_bytes.unwrap_or(0));
                chosen += 1;
                plan.push(format!("{}{}", check.filesystem, file.name));
            }
            if free < check.required_bytes {
                let detail = if erase {
                    format!(
                        "{}: needs {} bytes, {} free after deleting {} inactive image{}",
                        check.filesystem,
                        thousands(check.required_bytes),
                        thousands(free),
                        chosen,
                        if chosen == 1 { "" } else { "s" }
                    )
                } else {
                    format!(
                        "{}: needs {} bytes, {} free, {} inactive image{} could be deleted (hint: allow erase_when_short)",
                        check.filesystem,
                        thousands(check.required_bytes),
                        thousands(check.free_bytes),
                        candidates.len(),
                        if candidates.len() == 1 { "" } else { "s" }
                    )
                };
                problems.push(detail);
            }
        }
        if !problems.is_empty() {
            let hint = if erase {
                " (hint: free space on the device by hand; nothing was deleted)"
            } else {
                ""
            };
            return Err(EngineError::step(format!("{}{hint}", problems.join("; "))));
        }
        if plan.is_empty() {
            return Ok(StepDone::new("enough space"));
        }
        let os = device_os(&cx.device);
        let session = cx.session().await?;
        for path in &plan {
            delete_file(session, os, path).await?;
        }
        Ok(StepDone::new(format!("deleted {}", plan.join(", "))))
    }
}

/// How often a running transfer's bytes are reported.
const BYTE_PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Reports, while the returned guard lives, the bytes the device at `host`
/// has pulled of `path` from netswim's own servers: `base` plus `bytes`
/// and `total`, each time the count moved.
fn report_bytes(
    sink: ProgressSink,
    service: Arc<TransferService>,
    host: String,
    path: String,
    total: u64,
    base: serde_json::Value,
) -> tokio_util::task::AbortOnDropHandle<()> {
    tokio_util::task::AbortOnDropHandle::new(tokio::spawn(async move {
        let client = match host.parse::<std::net::IpAddr>() {
            Ok(address) => Some(address),
            Err(_) => tokio::net::lookup_host((host.as_str(), 22))
                .await
                .ok()
                .and_then(|mut addresses| addresses.next())
                .map(|address| address.ip()),
        };
        let Some(client) = client else { return };
        let mut last = None;
        let mut ticks = tokio::time::interval(BYTE_PROGRESS_EVERY);
        loop {
            ticks.tick().await;
            let bytes = service.bytes_sent(client, &path);
            if bytes.is_some() && bytes != last {
                let mut payload = base.clone();
                payload["bytes"] = json!(bytes);
                payload["total"] = json!(total);
                sink.send(payload);
                last = bytes;
            }
        }
    }))
}

/// Pulls the image into every target file system: protocols in order
/// (job or setting) intersected with the device's and the server's; a
/// refused/unreachable server moves to the next protocol; stalls and bad
/// checksums are retried.
struct Transfer(Arc<Shared>);

#[async_trait::async_trait]
impl Step for Transfer {
    fn name(&self) -> &str {
        "transfer"
    }

    async fn run(&self, cx: &mut TaskContext) -> Result<StepDone, EngineError> {
        // After a crash: a step an earlier attempt finished is not repeated.
        if let Some(done) = super::activation::done_earlier(cx, self.name()) {
            return Ok(done);
        }
        let shared = &self.0;
        let targets: Targets = cx.note(TARGETS_NOTE).ok_or_else(|| {
            EngineError::step("prechecks left no targets (hint: run the job again)")
        })?;
        let service = cx.engine.transfer_service().ok_or_else(|| {
            EngineError::step("no file server runs inside netswim (hint: start `netswim serve`)")
        })?;
        let credential: JobCredential = service.mint(shared.job_id);
        let relay = shared.relay_for(&cx.device).cloned();
        let served = match &relay {
            Some(relay) => relay.protocols(),
            None => service.protocols(),
        };
        let supported = device_os_protocols(&cx.device);
        let order: Vec<Protocol> = shared
            .protocols
            .iter()
            .copied()
            .filter(|protocol| served.contains(protocol) && supported.contains(protocol))
            .collect();
        if order.is_empty() {
            return Err(EngineError::step(format!(
                "no protocol in common: job {:?}, served {:?}, device {:?} (hint: change the protocol order)",
                shared.protocols, served, supported
            )));
        }
        let file_name = &shared.image.file_name;
        let timeouts = cx.engine.upgrade_timeouts();
        let os = device_os(&cx.device);
        let mut attempts = Vec::new();
        let mut last_error = None;
        let mut xr_add_id: Option<u32> = None;
        let mut retried = 0u32;
        'protocols: for protocol in &order {
            let url = match &relay {
                Some(relay) => relay.url(*protocol, file_name),
                None => service.url(
                    *protocol,
                    &format!("{}/{file_name}", shared.job_id),
                    &credential,
                ),
            };
            let Some(url) = url else { continue };
            let first = format!("{}{file_name}", targets.file_systems[0]);
            let mut request = CopyRequest::new(&url, &first, &shared.image.md5);
            request.timeout = timeouts.transfer;
            loop {
                let attempt = attempts.len();
                let base = json!({"operation": "transfer", "protocol": protocol, "attempt": attempt + 1, "source": relay.as_ref().map(|r| r.name.clone()).unwrap_or_else(|| "local".into())});
                cx.progress(base.clone()).await;
                // Bytes are seen only on netswim's own servers (a relay
                // serves on its own).
                let _bytes = relay.is_none().then(|| {
                    report_bytes(
                        ProgressSink::of(cx),
                        Arc::clone(&service),
                        cx.device.host.clone(),
                        format!("{}/{file_name}", shared.job_id),
                        shared.image.size_bytes,
                        base,
                    )
                });
                let session = match cx.session().await {
                    Ok(session) => session,
                    Err(error) => return Err(error),
                };
                let result = if os == Os::Iosxr {
                    xr_add(
                        session,
                        &url,
                        shared.image.version.as_deref(),
                        shared.image.size_bytes,
                        timeouts.transfer,
                        timeouts.stall,
                    )
                    .await
                    .map(|(outcome, id)| {
                        if let Some(id) = id {
                            xr_add_id = Some(id);
                        }
                        vec![outcome]
                    })
                } else if targets.file_systems.len() > 1 {
                    copy_image_to_members(session, os, &request, &targets.file_systems)
                        .await
                        .map(|outcomes| {
                            outcomes
                                .into_iter()
                                .map(|(_, outcome)| outcome)
                                .collect::<Vec<_>>()
                        })
                } else {
                    copy_image(session, os, &request).await.map(|o| vec![o])
                };
                match result {
                    Ok(outcomes) => {
                        let copied: u64 = outcomes
                            .iter()
                            .map(|outcome| match outcome {
                                CopyOutcome::Copied { bytes, .. } => *bytes,
                                CopyOutcome::AlreadyPresent => 0,
                            })
                            .sum();
                        let paths: Vec<String> = targets
                            .file_systems
                            .iter()
                            .map(|fs| format!("{fs}{file_name}"))
                            .collect();
                        // A boot loader loads a `.bin` over TFTP; IOS-XR
                        // and IOS-XE in install mode boot packages instead.
                        let boots_a_file = os != Os::Iosxr
                            && targets
                                .running_image
                                .as_deref()
                                .is_some_and(|image| image.ends_with(".bin"));
                        let fallback = if shared.spec.tftp_fallback == Some(true) && boots_a_file {
                            Some(
                                publish_fallback(cx, &service, targets.running_image.as_deref())
                                    .await?,
                            )
                        } else {
                            None
                        };
                        cx.set_note(
                            DISTRIBUTED_NOTE,
                            &Distributed {
                                image_id: shared.image.id,
                                file_name: file_name.clone(),
                                md5: shared.image.md5.clone(),
                                paths: paths.clone(),
                                running_image: targets.running_image.clone(),
                                tftp_fallback: fallback,
                            },
                        )
                        .await?;
                        let how = if copied == 0 {
                            "already present with the right MD5".to_owned()
                        } else {
                            format!(
                                "{} bytes over {} from {}",
                                thousands(copied),
                                protocol_name(*protocol),
                                relay
                                    .as_ref()
                                    .map(|relay| format!("relay {}", relay.name))
                                    .unwrap_or_else(|| "netswim".into())
                            )
                        };
                        let added = xr_add_id
                            .map(|id| format!(" (install add operation {id})"))
                            .unwrap_or_default();
                        return Ok(StepDone::new(format!("{}: {how}{added}", paths.join(", "))));
                    }
                    Err(DriverError::Transfer { kind, message, .. }) => {
                        attempts.push(format!(
                            "{} attempt {}: {}",
                            protocol_name(*protocol),
                            attempt + 1,
                            kind.as_str()
                        ));
                        last_error = Some((kind, message));
                        match kind {
                            TransferFailure::NoSpace => break 'protocols,
                            TransferFailure::Stalled | TransferFailure::ChecksumMismatch => {
                                // One retry budget per device, whatever the
                                // protocol: a stall or a corruption is about
                                // the path, not the protocol.
                                retried += 1;
                                if retried > shared.retries {
                                    break 'protocols;
                                }
                                // A stalled session may be wedged: start afresh.
                                cx.drop_session().await;
                                continue;
                            }
                            _ => continue 'protocols,
                        }
                    }
                    Err(other) => return Err(other.into()),
                }
            }
        }
        let (kind, message) = last_error.unwrap_or((TransferFailure::Other, "no attempt".into()));
        let hint = match kind {
            TransferFailure::Stalled => {
                "the transfer stopped making progress; check the link or try another protocol or server"
            }
            TransferFailure::ChecksumMismatch => {
                "every copy arrived corrupted; check the link and the device's flash"
            }
            TransferFailure::NoSpace => "free space on the device and run the job again",
            TransferFailure::Refused | TransferFailure::Unreachable => {
                "check that the device reaches the server and the protocol order"
            }
            _ => "read the device's words",
        };
        Err(EngineError::step(format!(
            "{} after {} ({}): {} (hint: {hint})",
            match kind {
                TransferFailure::Stalled => "transfer stalled",
                TransferFailure::ChecksumMismatch => "image corrupted in transfer",
                TransferFailure::NoSpace => "flash full during transfer",
                TransferFailure::Refused => "transfer refused",
                TransferFailure::Unreachable => "server unreachable",
                TransferFailure::NotFound => "image not found on the server",
                TransferFailure::Other => "transfer failed",
            },
            if attempts.len() == 1 {
                "1 attempt".to_owned()
            } else {
                format!("{} attempts", attempts.len())
            },
            attempts.join(", "),
            super::context::one_line(&message)
        )))
    }
}

/// IOS-XR: `install add source <dir URL> <file>` pulls the image into
/// the file system and registers it; when the file is already there with
/// the right MD5 (a resumed job) it is added from the local file system.
async fn xr_add(
    session: &mut netswim_drivers::Session,
    url: &str,
    version: Option<&str>,
    size: u64,
    timeout: std::time::Duration,
    stall: std::time::Duration,
) -> Result<(CopyOutcome, Option<u32>), DriverError> {
    let (directory, file) = url.rsplit_once('/').unwrap_or((url, ""));
    // A resumed job: the release is already added (or active).
    if let Some(version) = version {
        let state = netswim_drivers::upgrade::xr_install_state(session).await?;
        let known = state
            .active
            .iter()
            .chain(&state.inactive)
            .any(|package| package.contains(version));
        if known {
            return Ok((CopyOutcome::AlreadyPresent, None));
        }
    }
    let started = std::time::Instant::now();
    // `install add` pulls the file in the background and registers the
    // release only when the image's own checksum is right; the driver polls
    // the operation and types a failure like a copy's.
    let id =
        netswim_drivers::upgrade::xr_install_add_within(session, directory, file, timeout, stall)
            .await?;
    Ok((
        CopyOutcome::Copied {
            bytes: size,
            elapsed: started.elapsed(),
        },
        Some(id),
    ))
}

/// Publishes the image the device runs now at `fallback/<file name>` on the
/// TFTP server (it must be in the repository: back it up first) and
/// returns the `boot system tftp://…` URL. Fallback files stay published
/// after the job and across restarts: a device may need them at any later
/// boot.
async fn publish_fallback(
    cx: &TaskContext,
    service: &TransferService,
    running: Option<&str>,
) -> Result<String, EngineError> {
    let running = running.ok_or_else(|| {
        EngineError::step("tftp fallback: the running image is unknown (hint: sync the device)")
    })?;
    let name = netswim_domain::image::bare_file_name(running).to_owned();
    let image = cx
        .engine
        .store()
        .list_images()
        .await?
        .into_iter()
        .find(|image| image.file_name == name)
        .ok_or_else(|| {
            EngineError::step(format!(
                "tftp fallback: {name} is not in the repository (hint: set backup_current_image or import it)"
            ))
        })?;
    let path = cx
        .engine
        .publish_tftp_fallback(service, &name, &image.sha256)
        .await?;
    service
        .url(
            Protocol::Tftp,
            &path,
            &JobCredential {
                user: String::new(),
                password: String::new(),
            },
        )
        .ok_or_else(|| {
            EngineError::step(
                "tftp fallback: netswim runs no TFTP server (hint: start serve with --tftp)",
            )
        })
}

fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Scp => "scp",
        Protocol::Sftp => "sftp",
        Protocol::Ftp => "ftp",
        Protocol::Tftp => "tftp",
        Protocol::Http => "http",
        Protocol::Https => "https",
    }
}

fn device_os_protocols(device: &Device) -> Vec<Protocol> {
    device_protocols(device.os).to_vec()
}

/// Re-reads the MD5 of every copy on the device.
struct Verify(Arc<Shared>);

#[async_trait::async_trait]
impl Step for Verify {
    fn name(&self) -> &str {
        "verify"
    }

    async fn run(&self, cx: &mut TaskContext) -> Result<StepDone, EngineError> {
        // After a crash: a step an earlier attempt finished is not repeated.
        if let Some(done) = super::activation::done_earlier(cx, self.name()) {
            return Ok(done);
        }
        let shared = &self.0;
        let distributed: Distributed = cx.note(DISTRIBUTED_NOTE).ok_or_else(|| {
            EngineError::step("the transfer left no record (hint: run the job again)")
        })?;
        let os = device_os(&cx.device);
        if os == Os::Iosxr {
            return Ok(StepDone::new(format!(
                "{} added to the install repository (the device checked the image)",
                distributed.file_name
            )));
        }
        let session = cx.session().await?;
        for path in &distributed.paths {
            let md5 = verify_md5(session, os, path).await?;
            if !md5.eq_ignore_ascii_case(&shared.image.md5) {
                return Err(EngineError::step(format!(
                    "{path}: MD5 on the device is {md5}, the image's is {} (hint: the copy is corrupt; run the job again)",
                    shared.image.md5
                )));
            }
        }
        Ok(StepDone::new(format!(
            "MD5 {} verified on {}",
            shared.image.md5,
            distributed.paths.join(", ")
        )))
    }
}

impl Engine {
    /// Waits until a job is no longer running (imports started by steps).
    pub(crate) async fn wait_job_finished(&self, job_id: i64) -> Result<Job, EngineError> {
        let mut events = self.subscribe();
        loop {
            let job = self.store().get_job(job_id).await?;
            if job.status.is_finished() {
                return Ok(job);
            }
            // Wake on any event of that job, or re-check every second.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(1), async {
                while let Ok(event) = events.recv().await {
                    if event.job_id == Some(job_id) && event.kind == "job.finished" {
                        break;
                    }
                }
            })
            .await;
        }
    }
}
