//! What a credential profile's sealed secret holds: the device password and,
//! optionally, the enable secret, as one small JSON document, so both fit the
//! store's single sealed column and can grow (SSH keys) without a migration.

use netswim_store::crypto::{SealedSecret, SecretKey};
use serde::{Deserialize, Serialize};

use crate::EngineError;

/// Device login secrets in clear, only ever held in memory.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeviceSecrets {
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_secret: Option<String>,
}

impl std::fmt::Debug for DeviceSecrets {
    // Never print secrets, not even in debug logs.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DeviceSecrets")
            .field("password", &"<redacted>")
            .field(
                "enable_secret",
                &self.enable_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl DeviceSecrets {
    /// Seals the secrets with the store's key for a credential profile row.
    pub fn seal(&self, key: &SecretKey) -> Result<SealedSecret, EngineError> {
        let plaintext = serde_json::to_vec(self).map_err(|error| EngineError::Invalid {
            what: "device secrets",
            reason: error.to_string(),
        })?;
        Ok(key.seal(&plaintext)?)
    }

    /// Opens a credential profile's sealed secret.
    pub fn open(sealed: &SealedSecret, key: &SecretKey) -> Result<Self, EngineError> {
        let plaintext = key.open(sealed)?;
        serde_json::from_slice(&plaintext).map_err(|error| EngineError::Invalid {
            what: "sealed device secrets",
            reason: error.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_survive_sealing_and_opening() {
        let key = SecretKey::generate();
        let secrets = DeviceSecrets {
            password: "cisco".into(),
            enable_secret: Some("class".into()),
        };
        let sealed = secrets.seal(&key).unwrap();
        assert_eq!(DeviceSecrets::open(&sealed, &key).unwrap(), secrets);
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let secrets = DeviceSecrets {
            password: "hunter2".into(),
            enable_secret: None,
        };
        assert!(!format!("{secrets:?}").contains("hunter2"));
    }
}
