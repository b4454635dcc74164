//! Users (name, password hash as a PHC string, role) and API tokens (only a
//! hash of the token is stored).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{expect_one_row, get_optional_time, get_time};
use crate::model::from_db_size;
use crate::{Role, Store, StoreError, Timestamp};

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub name: String,
    /// PHC string (`$argon2id$...`), see [`crate::crypto::hash_password`].
    pub password_hash: String,
    pub role: Role,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An API token to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiToken {
    /// Owner, when the token belongs to a user.
    pub user_id: Option<i64>,
    pub name: String,
    /// See [`crate::crypto::hash_token`]; the token itself is never stored.
    pub token_hash: String,
    pub role: Role,
    pub expires_at: Option<Timestamp>,
}

/// A stored API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: Option<i64>,
    pub name: String,
    pub token_hash: String,
    pub role: Role,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl ApiToken {
    /// Whether the token is past its expiry at `now`.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|expiry| expiry <= now)
    }
}

const USER_COLUMNS: &str = "id, name, password_hash, role, created_at, updated_at";
const TOKEN_COLUMNS: &str =
    "id, user_id, name, token_hash, role, expires_at, last_used_at, created_at";

fn get_role(row: &AnyRow) -> Result<Role, StoreError> {
    let text: String = row.try_get("role")?;
    text.parse().map_err(|_| StoreError::Corrupt {
        what: "role",
        reason: format!("unknown role {text:?}"),
    })
}

fn user_from_row(row: &AnyRow) -> Result<User, StoreError> {
    Ok(User {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        password_hash: row.try_get("password_hash")?,
        role: get_role(row)?,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

fn token_from_row(row: &AnyRow) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        token_hash: row.try_get("token_hash")?,
        role: get_role(row)?,
        expires_at: get_optional_time(row, "expires_at")?,
        last_used_at: get_optional_time(row, "last_used_at")?,
        created_at: get_time(row, "created_at")?,
    })
}

impl Store {
    /// Inserts a user; a taken name is a `Conflict`.
    pub async fn insert_user(
        &self,
        name: &str,
        password_hash: &str,
        role: Role,
    ) -> Result<User, StoreError> {
        let row = sqlx::query(&format!(
            "INSERT INTO users (name, password_hash, role, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
             RETURNING {USER_COLUMNS}"
        ))
        .bind(name)
        .bind(password_hash)
        .bind(role.as_str())
        .bind(Timestamp::now().as_millis())
        .fetch_one(self.pool())
        .await
        .map_err(|error| StoreError::from_database(error, "user", name))?;
        user_from_row(&row)
    }

    /// One user by id.
    pub async fn get_user(&self, id: i64) -> Result<User, StoreError> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "user",
                key: id.to_string(),
            })?;
        user_from_row(&row)
    }

    /// One user by name.
    pub async fn find_user_by_name(&self, name: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE name = $1"))
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Every user, by name.
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// How many users exist (zero on first start: create the admin).
    pub async fn count_users(&self) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS user_count FROM users")
            .fetch_one(self.pool())
            .await?;
        from_db_size("user count", row.try_get("user_count")?)
    }

    /// Replaces a user's password hash.
    pub async fn set_user_password_hash(
        &self,
        id: i64,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        let result =
            sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(password_hash)
                .bind(Timestamp::now().as_millis())
                .execute(self.pool())
                .await?;
        expect_one_row(result.rows_affected(), "user", id)
    }

    /// Changes a user's role.
    pub async fn set_user_role(&self, id: i64, role: Role) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE users SET role = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(role.as_str())
            .bind(Timestamp::now().as_millis())
            .execute(self.pool())
            .await?;
        expect_one_row(result.rows_affected(), "user", id)
    }

    /// Deletes a user and the user's tokens.
    pub async fn delete_user(&self, id: i64) -> Result<(), StoreError> {
        let result = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        expect_one_row(result.rows_affected(), "user", id)
    }

    /// Inserts an API token; the same hash twice is a `Conflict`.
    pub async fn insert_api_token(&self, token: &NewApiToken) -> Result<ApiToken, StoreError> {
        let row = sqlx::query(&format!(
            "INSERT INTO api_tokens (user_id, name, token_hash, role, expires_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {TOKEN_COLUMNS}"
        ))
        .bind(token.user_id)
        .bind(&token.name)
        .bind(&token.token_hash)
        .bind(token.role.as_str())
        .bind(token.expires_at.map(Timestamp::as_millis))
        .bind(Timestamp::now().as_millis())
        .fetch_one(self.pool())
        .await
        .map_err(|error| StoreError::from_database(error, "API token", &token.name))?;
        token_from_row(&row)
    }

    /// The unexpired token with this hash, if any.
    pub async fn find_valid_api_token(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<ApiToken>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1 AND (expires_at IS NULL OR expires_at > $2)"
        ))
        .bind(token_hash)
        .bind(now.as_millis())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    /// Records that a token was used.
    pub async fn touch_api_token(&self, id: i64, now: Timestamp) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now.as_millis())
            .execute(self.pool())
            .await?;
        expect_one_row(result.rows_affected(), "API token", id)
    }

    /// Tokens, of one user or all, oldest first.
    pub async fn list_api_tokens(&self, user_id: Option<i64>) -> Result<Vec<ApiToken>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE $1 IS NULL OR user_id = $1 ORDER BY id"
        ))
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// Revokes a token.
    pub async fn delete_api_token(&self, id: i64) -> Result<(), StoreError> {
        let result = sqlx::query("DELETE FROM api_tokens WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        expect_one_row(result.rows_affected(), "API token", id)
    }
}
