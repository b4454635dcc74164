//! Vendor software versions: parsing, canonical display and partial ordering.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{DomainError, Os};

/// The result of comparing two versions: versions of unrelated trains are
/// neither older nor newer than each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VersionOrdering {
    Less,
    Equal,
    Greater,
    Incomparable,
}

impl VersionOrdering {
    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            VersionOrdering::Less => "less",
            VersionOrdering::Equal => "equal",
            VersionOrdering::Greater => "greater",
            VersionOrdering::Incomparable => "incomparable",
        }
    }

    /// The ordering seen from the other side.
    pub fn reverse(self) -> Self {
        match self {
            VersionOrdering::Less => VersionOrdering::Greater,
            VersionOrdering::Greater => VersionOrdering::Less,
            other => other,
        }
    }
}

/// A parsed software version of one OS. (Skeleton: replaced by the real scheme.)
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version {
    os: Os,
    text: String,
}

impl Version {
    /// Parses `input` as a version of `os`.
    pub fn parse(os: Os, input: &str) -> Result<Version, DomainError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(DomainError::InvalidVersion {
                os: os.to_string(),
                input: input.to_string(),
                reason: "empty".into(),
            });
        }
        Ok(Version {
            os,
            text: text.to_string(),
        })
    }

    /// The OS this version belongs to.
    pub fn os(&self) -> Os {
        self.os
    }

    /// Compares two versions.
    pub fn compare(&self, other: &Version) -> VersionOrdering {
        if self.os == other.os && self.text == other.text {
            VersionOrdering::Equal
        } else {
            VersionOrdering::Incomparable
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
