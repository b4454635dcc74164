//! Device selection, image metadata for analysis, and the analysis job
//! (live facts + `netswim_domain::analysis::analyse` per device; the
//! readiness of each device is kept as its task's `readiness` note).

use std::sync::Arc;

use netswim_domain::analysis::{AnalysisSummary, Method, Readiness, analyse as domain_analyse};
use netswim_domain::archive::IosArchive;
use netswim_domain::image::{ImageMetadata, describe_image};
use netswim_drivers::{CollectedFacts, detect_and_collect};
use netswim_store::{Device, Image, Job, Status, Timestamp};

use super::runner::{JobPlan, Limits, Step, StepDone, TaskContext};
use super::{AnalysisReport, AnalysisSpec};
use crate::{Engine, EngineError};

/// Note key of a device's [`Readiness`] in analysis (and distribution) tasks.
pub const READINESS_NOTE: &str = "readiness";

/// What analysis needs of an image row.
pub fn image_metadata(image: &Image) -> ImageMetadata {
    let archive: Option<IosArchive> = image
        .metadata
        .get("archive")
        .and_then(|value| serde_json::from_value(value.clone()).ok());
    let mut metadata = describe_image(&image.file_name, image.size_bytes, archive);
    metadata.min_ram_bytes = image.min_ram_bytes.or(metadata.min_ram_bytes);
    metadata.min_flash_bytes = image.min_flash_bytes;
    if !image.platforms.is_empty() {
        metadata.supported_platforms = image.platforms.clone();
    }
    metadata
}

/// Readiness of one device from collected facts.
pub fn readiness(
    device: &Device,
    facts: &CollectedFacts,
    image: &ImageMetadata,
    method: Option<Method>,
) -> Result<Readiness, EngineError> {
    let device_facts = facts.device_facts(&device.name).ok_or_else(|| {
        EngineError::step(format!(
            "{}: the facts do not say which OS it runs (hint: sync the device)",
            device.name
        ))
    })?;
    let method = method.unwrap_or_else(|| Method::default_for_device(&device_facts, image));
    Ok(domain_analyse(&device_facts, image, method))
}

/// Readiness from the latest stored facts, or a not-applicable row saying
/// the device was never synced.
async fn readiness_from_store(
    engine: &Engine,
    device: &Device,
    image: &Image,
    metadata: &ImageMetadata,
    method: Option<Method>,
) -> Result<Option<Readiness>, EngineError> {
    let Some(snapshot) = engine.store().latest_device_facts(device.id).await? else {
        return Ok(None);
    };
    let facts: CollectedFacts =
        serde_json::from_value(snapshot.facts).map_err(|error| EngineError::Invalid {
            what: "fact snapshot",
            reason: error.to_string(),
        })?;
    let _ = image;
    readiness(device, &facts, metadata, method).map(Some)
}

pub(crate) fn report(image: &Image, rows: Vec<Readiness>) -> AnalysisReport {
    AnalysisReport {
        image_id: image.id,
        image: image.file_name.clone(),
        summary: AnalysisSummary::of(&rows),
        rows,
    }
}

pub(crate) async fn analyse_now(
    engine: &Engine,
    spec: &AnalysisSpec,
) -> Result<AnalysisReport, EngineError> {
    let image = engine.store().get_image(spec.image_id).await?;
    let metadata = image_metadata(&image);
    let devices = super::submit::select_devices(engine.store(), &spec.devices).await?;
    let mut rows = Vec::new();
    for device in &devices {
        if let Some(row) =
            readiness_from_store(engine, device, &image, &metadata, spec.method).await?
        {
            rows.push(row);
        }
    }
    Ok(report(&image, rows))
}

pub(crate) async fn report_of_job(
    engine: &Engine,
    job_id: i64,
) -> Result<AnalysisReport, EngineError> {
    let store = engine.store();
    let job = store.get_job(job_id).await?;
    let spec: AnalysisSpec =
        serde_json::from_value(job.spec.clone()).map_err(|error| EngineError::Invalid {
            what: "analysis job spec",
            reason: error.to_string(),
        })?;
    let image = store.get_image(spec.image_id).await?;
    let Some(run) = store.list_runs(job_id).await?.into_iter().last() else {
        return Ok(report(&image, Vec::new()));
    };
    let mut rows = Vec::new();
    for task in store.list_tasks(run.id).await? {
        if task.status != Status::Success {
            continue;
        }
        let notes = super::runner::task_notes(engine, job_id, task.id).await?;
        if let Some(value) = notes.get(READINESS_NOTE)
            && let Ok(row) = serde_json::from_value::<Readiness>(value.clone())
        {
            rows.push(row);
        }
    }
    Ok(report(&image, rows))
}

/// Connects, collects facts live (stored as a snapshot like a sync) and
/// analyses the image: the readiness becomes the task's note.
struct AnalyseStep {
    image: Image,
    metadata: ImageMetadata,
    method: Option<Method>,
}

#[async_trait::async_trait]
impl Step for AnalyseStep {
    fn name(&self) -> &str {
        "analyse"
    }

    async fn run(&self, cx: &mut TaskContext) -> Result<StepDone, EngineError> {
        let facts = collect_live(cx).await?;
        let row = readiness(&cx.device, &facts, &self.metadata, self.method)?;
        cx.set_note(READINESS_NOTE, &row).await?;
        let mut message = format!(
            "{} for {}: {}",
            cx.device.name,
            self.image.file_name,
            row.status()
        );
        if !row.blockers.is_empty() {
            message.push_str(&format!(" ({})", row.reasons().join("; ")));
        }
        Ok(StepDone::new(message))
    }
}

/// Collects the device's facts over its session and stores a snapshot.
pub(crate) async fn collect_live(cx: &mut TaskContext) -> Result<CollectedFacts, EngineError> {
    let os = cx.device.os;
    let session = cx.session().await?;
    let facts = detect_and_collect(os, session).await?;
    if let Ok(snapshot) = serde_json::to_value(&facts) {
        cx.engine
            .store()
            .record_device_facts(cx.device.id, Timestamp::now(), &snapshot)
            .await?;
    }
    Ok(facts)
}

struct AnalysisPlan {
    steps: Vec<Arc<dyn Step>>,
    limits: Limits,
}

#[async_trait::async_trait]
impl JobPlan for AnalysisPlan {
    fn steps(&self, _device: &Device) -> Vec<Arc<dyn Step>> {
        self.steps.clone()
    }

    fn limits(&self) -> Limits {
        self.limits
    }
}

/// The plan of a stored analysis job.
pub(crate) async fn plan(engine: &Engine, job: &Job) -> Result<Arc<dyn JobPlan>, EngineError> {
    let spec: AnalysisSpec =
        serde_json::from_value(job.spec.clone()).map_err(|error| EngineError::Invalid {
            what: "analysis job spec",
            reason: error.to_string(),
        })?;
    let image = engine.store().get_image(spec.image_id).await?;
    let metadata = image_metadata(&image);
    let defaults = super::distribution::JobDefaults::load(engine).await?;
    Ok(Arc::new(AnalysisPlan {
        steps: vec![Arc::new(AnalyseStep {
            image,
            metadata,
            method: spec.method,
        })],
        limits: Limits {
            global: defaults.max_parallel_devices,
            per_site: defaults.max_parallel_devices,
            per_server: defaults.max_parallel_devices,
        },
    }))
}
