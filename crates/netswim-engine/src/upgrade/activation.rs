//! Activation, commit and rollback steps on the upgrade runner (H2b).
//!
//! Contract used by the distribution job: [`activation_steps`] are appended
//! after a device's distribution steps when the job asks to activate; they
//! read the [`super::runner::Distributed`] note the distribution left.

use std::sync::Arc;

use netswim_store::{Image, Job};

use super::ActivationOptions;
use super::runner::{JobPlan, Step};
use crate::{Engine, EngineError};

/// The steps that activate `image` on a device that already holds it
/// (set boot, save, reload, wait, validate, XR commit per `options`).
pub fn activation_steps(image: &Image, options: &ActivationOptions) -> Vec<Arc<dyn Step>> {
    let _ = (image, options);
    Vec::new()
}

/// The plan of an activation, commit or rollback job.
pub async fn plan(engine: &Engine, job: &Job) -> Result<Arc<dyn JobPlan>, EngineError> {
    let _ = engine;
    Err(EngineError::Invalid {
        what: "job",
        reason: format!("{} jobs are not built yet", job.kind),
    })
}
