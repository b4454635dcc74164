//! The HTTP API under `/api/v1` (REST + OpenAPI), server-sent events, auth
//! (users, roles, tokens), audit of every mutation, Prometheus metrics.
//! The only crate that knows HTTP and JSON wire types; it converts to and from
//! domain types and holds no business rules.

mod auth;
mod error;
mod handlers;
mod metrics;
pub mod routes;
pub mod web;
pub mod wire;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, patch, post, put};
use netswim_engine::Engine;

pub use auth::Caller;
pub use error::ApiError;
pub use metrics::Metrics;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub engine: Engine,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    pub fn new(engine: Engine) -> Self {
        AppState {
            engine,
            metrics: Arc::new(Metrics::default()),
        }
    }
}

/// The whole API as one router (see [`routes::ROUTES`] for the table).
pub fn router(state: AppState) -> Router {
    use handlers::*;
    let api = Router::new()
        .route("/login", post(login))
        .route("/openapi.json", get(openapi))
        .route("/events", get(events))
        .route(
            "/images",
            get(list_images)
                .post(upload_image)
                // Image uploads are streamed to the blob store; no size cap.
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/images/import", post(import_image))
        .route("/images/{id}", get(show_image).delete(delete_image))
        .route("/images/{id}/requirements", patch(edit_requirements))
        .route("/devices", get(list_devices).post(add_device))
        .route("/devices/import", post(import_devices))
        .route("/devices/sync", post(sync_devices))
        .route(
            "/devices/{id}",
            get(show_device).put(update_device).delete(delete_device),
        )
        .route("/credentials", get(list_credentials).post(add_credential))
        .route(
            "/credentials/{id}",
            axum::routing::delete(delete_credential),
        )
        .route("/sites", get(list_sites).post(add_site))
        .route("/sites/{id}", axum::routing::delete(delete_site))
        .route(
            "/distribution-servers",
            get(list_distribution_servers).post(add_distribution_server),
        )
        .route(
            "/distribution-servers/{id}",
            axum::routing::delete(delete_distribution_server),
        )
        .route("/jobs", get(list_jobs))
        .route("/jobs/{id}", get(show_job))
        .route("/analysis", post(analyse_now))
        .route("/jobs/analysis", post(submit_analysis))
        .route("/jobs/distribution", post(submit_distribution))
        .route("/jobs/activation", post(submit_activation))
        .route("/jobs/commit", post(submit_commit))
        .route("/jobs/rollback", post(submit_rollback))
        .route("/jobs/{id}/analysis", get(job_analysis))
        .route("/jobs/{id}/cancel", post(cancel_job))
        .route("/jobs/{id}/pause", post(pause_job))
        .route("/jobs/{id}/resume", post(resume_job))
        .route("/jobs/{id}/summary", get(job_summary))
        .route("/jobs/{id}/log", get(job_log))
        .route("/settings", get(list_settings))
        .route("/settings/{key}", put(put_setting))
        .route("/users", get(list_users).post(add_user))
        .route("/users/{id}", axum::routing::delete(delete_user))
        .route("/tokens", get(list_tokens).post(add_token))
        .route("/tokens/{id}", axum::routing::delete(delete_token))
        .route("/audit", get(list_audit));
    Router::new()
        .nest("/api/v1", api)
        .route("/metrics", get(metrics))
        .merge(web::router())
        .layer(axum::middleware::from_fn(metrics::json_errors))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::count_requests,
        ))
        .with_state(state)
}
