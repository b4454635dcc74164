//! Upgrade jobs: analysis, distribution, activation, commit and rollback.
//!
//! This module is the engine's contract for the API, the CLI and the web UI:
//! the spec types below are what those layers build from user input, and the
//! `Engine` methods are what they call. Each job runs one task per device; a
//! task is a state machine of operations (prechecks → backup → make space →
//! transfer → verify → set boot → save → reload → wait → validate → commit),
//! each recorded before it acts and after it ends, safe to run again after a
//! crash because every step re-reads the device first.

pub mod activation;
pub mod analysis;
mod api;
mod context;
pub mod distribution;
pub mod relay;
pub mod runner;
pub mod schedule;
pub mod serving;
mod spec;
pub mod submit;
pub mod views;

pub use context::UpgradeState;
pub use runner::{
    Distributed, JobPlan, Limits, RunContext, RunControl, Step, StepDone, TaskContext,
    UpgradeTimeouts,
};

pub use spec::{
    ActivationMode, ActivationOptions, ActivationSpec, AnalysisReport, AnalysisSpec, CommitSpec,
    DeviceSelector, DistributionSpec, FailurePolicy, JobControl, JobSummary, Protocol, Recurrence,
    RollbackSpec, Schedule, XeMode,
};

/// Job kind of an upgrade analysis.
pub const ANALYSIS_JOB: &str = "analysis";
/// Job kind of an image distribution.
pub const DISTRIBUTION_JOB: &str = "distribution";
/// Job kind of an activation.
pub const ACTIVATION_JOB: &str = "activation";
/// Job kind of an IOS-XR commit.
pub const COMMIT_JOB: &str = "commit";
/// Job kind of a rollback.
pub const ROLLBACK_JOB: &str = "rollback";
