//! The HTTP API under `/api/v1` (REST + OpenAPI), server-sent events, auth
//! (users, roles, tokens), audit of every mutation, Prometheus metrics.
//! The only crate that knows HTTP and JSON wire types; it converts to and from
//! domain types and holds no business rules.

mod error;

pub use error::ApiError;
