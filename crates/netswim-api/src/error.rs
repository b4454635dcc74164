//! `ApiError`: picks the HTTP status, a stable machine code and a safe message.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use netswim_engine::EngineError;
use netswim_store::StoreError;
use serde_json::json;

/// An error as the API reports it: `{code, message, hint}` with a status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No or an invalid credential.
    #[error("authentication required")]
    Unauthorized,
    /// The caller's role may not do this.
    #[error("role {role} may not {action}")]
    Forbidden { role: &'static str, action: String },
    /// The named thing does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request is malformed or names something impossible.
    #[error("{0}")]
    BadRequest(String),
    /// The request names something impossible, with a hint on what to send.
    #[error("{message}")]
    Invalid { message: String, hint: String },
    /// The named thing does not exist, with a hint on how to find it.
    #[error("{message}")]
    Missing { message: String, hint: String },
    /// The request conflicts with what exists (taken name, image in use).
    #[error("{0}")]
    Conflict(String),
    /// The bytes were refused (checksum, archive, signature).
    #[error("{0}")]
    Rejected(String),
    /// A remote source failed.
    #[error("{0}")]
    BadGateway(String),
    /// Anything else; the message is logged, not shown.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status and the hint (the web UI shows both on its error page).
    pub(crate) fn status_and_hint(&self) -> (StatusCode, String) {
        let (status, _, hint) = self.parts();
        (status, hint)
    }

    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "log in (POST /api/v1/login) and send the token as `Authorization: Bearer TOKEN`"
                    .into(),
            ),
            ApiError::Forbidden { .. } => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "ask an admin for a role that allows this".into(),
            ),
            ApiError::NotFound(_) => (
                StatusCode::NOT_FOUND,
                "not_found",
                "list the collection to see what exists".into(),
            ),
            ApiError::BadRequest(_) => (
                StatusCode::BAD_REQUEST,
                "bad_request",
                "see /api/v1/openapi.json for the request shape".into(),
            ),
            ApiError::Invalid { hint, .. } => {
                (StatusCode::BAD_REQUEST, "bad_request", hint.clone())
            }
            ApiError::Missing { hint, .. } => (StatusCode::NOT_FOUND, "not_found", hint.clone()),
            ApiError::Conflict(_) => (
                StatusCode::CONFLICT,
                "conflict",
                "use the existing one or pick another name".into(),
            ),
            ApiError::Rejected(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "image_rejected",
                "fetch the image again or check the published checksum".into(),
            ),
            ApiError::BadGateway(_) => (
                StatusCode::BAD_GATEWAY,
                "source_failed",
                "check the source URL and that its server answers".into(),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "see the server log".into(),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, hint) = self.parts();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error answering a request");
        }
        (
            status,
            Json(json!({"code": code, "message": self.to_string(), "hint": hint})),
        )
            .into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { .. } => ApiError::NotFound(error.to_string()),
            StoreError::Conflict { .. } => ApiError::Conflict(error.to_string()),
            StoreError::InvalidInput { .. } => ApiError::BadRequest(error.to_string()),
            StoreError::ChecksumMismatch { .. } => ApiError::Rejected(error.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        match error {
            EngineError::Store(store) => store.into(),
            EngineError::Invalid { .. } => ApiError::BadRequest(error.to_string()),
            EngineError::ImageRejected { .. } => ApiError::Rejected(error.to_string()),
            EngineError::Fetch { .. } => ApiError::BadGateway(error.to_string()),
            EngineError::InUse { .. } => ApiError::Conflict(error.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}
