//! Jobs: image import (collection), inventory sync, and later analysis,
//! distribution, activation, commit and rollback; the scheduler; durable
//! execution (every step recorded before it acts and after it finishes).
//! Speaks no HTTP.

pub mod credentials;
mod error;
pub mod inventory;
pub mod sync;

pub use error::EngineError;
