//! Plain values the store reads and writes: timestamps, statuses, roles.
//!
//! Row structs live beside the queries that fill them (one module per area);
//! this module holds the small shared vocabulary they use.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::StoreError;

/// A point in time as milliseconds since the Unix epoch (UTC).
///
/// Stored as `BIGINT` so both databases compare and index it the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The current wall-clock time.
    pub fn now() -> Self {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX))
    }

    /// Milliseconds since the Unix epoch.
    pub fn as_millis(self) -> i64 {
        self.0
    }

    /// This time plus a duration (saturating).
    pub fn plus(self, duration: std::time::Duration) -> Self {
        let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_add(millis))
    }
}

/// Status of a job, run, task or operation, stored as a stable lowercase string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Created, not yet begun.
    NotStarted,
    /// Waiting for its scheduled time.
    Scheduled,
    /// In progress.
    Running,
    /// Finished and everything succeeded.
    Success,
    /// Finished and failed.
    Failure,
    /// Finished with some parts failed.
    Partial,
    /// Stopped on request.
    Cancelled,
    /// Was running when the process stopped (crash, kill, lost lease).
    Interrupted,
    /// Held on request: no new device starts until resumed.
    Paused,
}

impl Status {
    /// Every status, in lifecycle order.
    pub const ALL: [Status; 9] = [
        Status::NotStarted,
        Status::Scheduled,
        Status::Running,
        Status::Success,
        Status::Failure,
        Status::Partial,
        Status::Cancelled,
        Status::Interrupted,
        Status::Paused,
    ];

    /// The stable string stored in the database and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotStarted => "not_started",
            Status::Scheduled => "scheduled",
            Status::Running => "running",
            Status::Success => "success",
            Status::Failure => "failure",
            Status::Partial => "partial",
            Status::Cancelled => "cancelled",
            Status::Interrupted => "interrupted",
            Status::Paused => "paused",
        }
    }

    /// True when nothing more will happen without a new decision
    /// (success, failure, partial, cancelled).
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            Status::Success | Status::Failure | Status::Partial | Status::Cancelled
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| StoreError::InvalidInput {
                what: "status",
                reason: format!("{text:?} is not one of not_started, scheduled, running, success, failure, partial, cancelled, interrupted, paused"),
            })
    }
}

/// What a user or API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including users, tokens and settings.
    Admin,
    /// Images, devices and jobs.
    Operator,
    /// Read only.
    Viewer,
}

impl Role {
    /// The stable string stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "admin" => Ok(Role::Admin),
            "operator" => Ok(Role::Operator),
            "viewer" => Ok(Role::Viewer),
            _ => Err(StoreError::InvalidInput {
                what: "role",
                reason: format!("{text:?} is not one of admin, operator, viewer"),
            }),
        }
    }
}

/// Converts an unsigned size to the database's signed integer.
pub(crate) fn to_db_size(what: &'static str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::InvalidInput {
        what,
        reason: format!("{value} is larger than the database can hold"),
    })
}

/// Converts a database integer back to an unsigned size.
pub(crate) fn from_db_size(what: &'static str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt {
        what,
        reason: format!("negative size {value}"),
    })
}

/// Parses a stored JSON text column.
pub(crate) fn from_db_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Corrupt {
        what,
        reason: error.to_string(),
    })
}

/// Serialises a value to JSON text for a column.
pub(crate) fn to_db_json<T: Serialize + ?Sized>(
    what: &'static str,
    value: &T,
) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::InvalidInput {
        what,
        reason: error.to_string(),
    })
}

/// Stores a unit-like serde enum (snake_case) as its bare string.
pub(crate) fn enum_to_text<T: Serialize>(
    what: &'static str,
    value: &T,
) -> Result<String, StoreError> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => Ok(text),
        Ok(other) => Err(StoreError::InvalidInput {
            what,
            reason: format!("{other} does not serialise to a plain string"),
        }),
        Err(error) => Err(StoreError::InvalidInput {
            what,
            reason: error.to_string(),
        }),
    }
}

/// Reads a unit-like serde enum back from its bare string.
pub(crate) fn enum_from_text<T: serde::de::DeserializeOwned>(
    what: &'static str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|error| {
        StoreError::Corrupt {
            what,
            reason: format!("{text:?}: {error}"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_strings_round_trip_and_are_lowercase() {
        for status in Status::ALL {
            let text = status.as_str();
            assert_eq!(text, text.to_lowercase());
            assert_eq!(text.parse::<Status>().unwrap(), status);
            assert_eq!(serde_json::to_value(status).unwrap(), text);
        }
        assert!("Running".parse::<Status>().is_err());
    }

    #[test]
    fn role_strings_round_trip() {
        for role in [Role::Admin, Role::Operator, Role::Viewer] {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("root".parse::<Role>().is_err());
    }
}
