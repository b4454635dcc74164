//! SSH CLI session engine (prompts, paging, confirmations, legacy algorithms,
//! reconnect after reload) and one driver per platform behind one `Driver` trait.
//! Holds no job state: it runs commands on one device and returns facts.

mod driver;
mod error;
mod session;
pub mod upgrade;

pub use driver::{
    Cli, CollectedFacts, Driver, IosDriver, IosXeDriver, IosXrDriver, Transcript,
    collect_facts_for, detect_and_collect,
};
pub use error::DriverError;
pub use session::{
    Algorithms, Answer, Ending, Login, Mode, Session, SessionOptions, fingerprint, parse_prompt,
};
