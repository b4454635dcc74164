//! Who is calling: the bearer token is looked up (hashed) in the store and
//! gives a name for the audit log and a role; roles are ordered
//! admin > operator > viewer.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use netswim_store::crypto::hash_token;
use netswim_store::{NewAuditEntry, Role, Timestamp};
use serde_json::Value;

use crate::{ApiError, AppState};

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// User name (or token name for tokens without a user).
    pub name: String,
    pub role: Role,
}

fn rank(role: Role) -> u8 {
    match role {
        Role::Viewer => 0,
        Role::Operator => 1,
        Role::Admin => 2,
    }
}

impl Caller {
    /// Refuses unless the caller has at least `needed`.
    pub fn require(&self, needed: Role, action: &str) -> Result<(), ApiError> {
        if rank(self.role) >= rank(needed) {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                role: self.role.as_str(),
                action: action.to_owned(),
            })
        }
    }

    /// Appends the audit row of a mutation.
    pub async fn audit(
        &self,
        state: &AppState,
        action: &str,
        object: String,
        detail: Value,
    ) -> Result<(), ApiError> {
        state
            .engine
            .store()
            .insert_audit(&NewAuditEntry {
                actor: self.name.clone(),
                action: action.to_owned(),
                object,
                detail,
            })
            .await?;
        Ok(())
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .ok_or(ApiError::Unauthorized)?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or(ApiError::Unauthorized)?
            .trim();
        let store = state.engine.store();
        let now = Timestamp::now();
        let found = store
            .find_valid_api_token(&hash_token(token), now)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        let name = match found.user_id {
            Some(user_id) => match store.get_user(user_id).await {
                Ok(user) => user.name,
                // A deleted user's tokens no longer work.
                Err(_) => return Err(ApiError::Unauthorized),
            },
            None => format!("token:{}", found.name),
        };
        // Last-use time is informative; a failed write must not refuse the call.
        let _ = store.touch_api_token(found.id, now).await;
        Ok(Caller {
            name,
            role: found.role,
        })
    }
}
