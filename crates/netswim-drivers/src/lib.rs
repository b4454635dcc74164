//! SSH CLI session engine (prompts, paging, confirmations, legacy algorithms,
//! reconnect after reload) and one driver per platform behind one `Driver` trait.
//! Holds no job state: it runs commands on one device and returns facts.

mod error;

pub use error::DriverError;
