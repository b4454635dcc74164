//! Credential profiles: a user name and a secret sealed by [`crate::crypto`]
//! (the store only ever sees ciphertext and nonce).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{expect_one_row, get_time};
use crate::crypto::SealedSecret;
use crate::{Store, StoreError, Timestamp};

/// A credential profile to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredentialProfile {
    pub name: String,
    pub username: String,
    /// The secret, already sealed by the caller.
    pub secret: SealedSecret,
}

/// A stored credential profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialProfile {
    pub id: i64,
    pub name: String,
    pub username: String,
    pub secret: SealedSecret,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const COLUMNS: &str = "id, name, username, secret_ciphertext, secret_nonce, created_at, updated_at";

fn profile_from_row(row: &AnyRow) -> Result<CredentialProfile, StoreError> {
    Ok(CredentialProfile {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        username: row.try_get("username")?,
        secret: SealedSecret {
            ciphertext: row.try_get("secret_ciphertext")?,
            nonce: row.try_get("secret_nonce")?,
        },
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

impl Store {
    /// Inserts a credential profile; a taken name is a `Conflict`.
    pub async fn insert_credential_profile(
        &self,
        profile: &NewCredentialProfile,
    ) -> Result<CredentialProfile, StoreError> {
        let row = sqlx::query(&format!(
            "INSERT INTO credential_profiles (name, username, secret_ciphertext, secret_nonce, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING {COLUMNS}"
        ))
        .bind(&profile.name)
        .bind(&profile.username)
        .bind(profile.secret.ciphertext.clone())
        .bind(profile.secret.nonce.clone())
        .bind(Timestamp::now().as_millis())
        .fetch_one(self.pool())
        .await
        .map_err(|error| StoreError::from_database(error, "credential profile", &profile.name))?;
        profile_from_row(&row)
    }

    /// One credential profile by id.
    pub async fn get_credential_profile(&self, id: i64) -> Result<CredentialProfile, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM credential_profiles WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "credential profile",
            key: id.to_string(),
        })?;
        profile_from_row(&row)
    }

    /// One credential profile by name.
    pub async fn find_credential_profile_by_name(
        &self,
        name: &str,
    ) -> Result<Option<CredentialProfile>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM credential_profiles WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(profile_from_row).transpose()
    }

    /// Every credential profile, by name.
    pub async fn list_credential_profiles(&self) -> Result<Vec<CredentialProfile>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM credential_profiles ORDER BY name"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(profile_from_row).collect()
    }

    /// Changes a profile's name, user name and sealed secret.
    pub async fn update_credential_profile(
        &self,
        profile: &CredentialProfile,
    ) -> Result<CredentialProfile, StoreError> {
        let result = sqlx::query(
            "UPDATE credential_profiles SET name = $2, username = $3, secret_ciphertext = $4,
                secret_nonce = $5, updated_at = $6 WHERE id = $1",
        )
        .bind(profile.id)
        .bind(&profile.name)
        .bind(&profile.username)
        .bind(profile.secret.ciphertext.clone())
        .bind(profile.secret.nonce.clone())
        .bind(Timestamp::now().as_millis())
        .execute(self.pool())
        .await
        .map_err(|error| StoreError::from_database(error, "credential profile", &profile.name))?;
        expect_one_row(result.rows_affected(), "credential profile", profile.id)?;
        self.get_credential_profile(profile.id).await
    }

    /// Deletes a credential profile; devices that used it keep existing without one.
    pub async fn delete_credential_profile(&self, id: i64) -> Result<(), StoreError> {
        let result = sqlx::query("DELETE FROM credential_profiles WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        expect_one_row(result.rows_affected(), "credential profile", id)
    }
}
