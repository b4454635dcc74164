//! In-service software upgrade facts (JUNOSe `show issu detail`, `show ftp-server`).

use serde::{Deserialize, Serialize};

use super::Details;

/// `show issu detail`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuDetail {
    /// `idle`, `initializing`, `initialized`, `upgrading`, ...
    pub state: Option<String>,
    pub description: Option<String>,
    /// `criteria met:` first word (`Yes` / `No`) lowercased as a bool.
    pub criteria_met: Option<bool>,
    /// The rest of the `criteria met:` line (`upgrade error(s) found`).
    pub criteria_met_text: Option<String>,
    pub running_release: Option<String>,
    pub armed_release: Option<String>,
    pub criteria: Vec<IssuCriterion>,
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}

/// One numbered criterion of the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuCriterion {
    pub number: u32,
    pub summary: String,
    /// `yes`, `no` or `conditional`.
    pub met: String,
    pub sub_criteria: Vec<IssuSubCriterion>,
}

/// A `-> Criteria:` block under a criterion.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuSubCriterion {
    pub criteria: String,
    /// `yes`, `no` or `conditional`.
    pub met: String,
    pub impact: Option<String>,
    pub remedy: Option<String>,
    pub reporting_slot: Option<String>,
}

/// `show ftp-server`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FtpServerFacts {
    /// `enabled` / `disabled`.
    pub state: Option<String>,
    pub open_connections: Option<u32>,
    pub since_server_start: Option<FtpServerStatistics>,
    pub since_system_reload: Option<FtpServerStatistics>,
}

/// Connection statistics of the FTP server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FtpServerStatistics {
    pub attempts: u64,
    pub failed_hosts: u64,
    pub failed_users: u64,
}
