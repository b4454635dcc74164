//! The distribution job: the image onto each device (every stack member),
//! through the local server or the site's relay, verified on the device.

use std::sync::Arc;

use netswim_store::Job;

use super::runner::JobPlan;
use crate::{Engine, EngineError};

/// The plan of a stored distribution job.
pub(crate) async fn plan(engine: &Engine, job: &Job) -> Result<Arc<dyn JobPlan>, EngineError> {
    let _ = engine;
    Err(EngineError::Invalid {
        what: "job",
        reason: format!("{} jobs are not built yet", job.kind),
    })
}
