//! Types and pure logic of netswim: platforms, vendor version schemes and their
//! ordering, image names and archive metadata, device facts, upgrade analysis.
//!
//! This crate does no I/O beyond reading from a caller-supplied `Read`, never
//! reads the clock and does not depend on tokio.

pub mod analysis;
pub mod archive;
pub mod checksum;
pub mod error;
pub mod facts;
pub mod image;
pub mod platform;
pub mod version;

pub use error::DomainError;
pub use platform::Os;
