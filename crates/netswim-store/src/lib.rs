//! netswim persistence: one schema on SQLite (default) and PostgreSQL
//! (scale-out), typed repository methods per table, sealed device secrets and
//! a content-addressed blob store for images.
//!
//! This is the only crate that writes SQL, and it holds no business rules:
//! callers decide what to store and when; the store keeps it durable and
//! reports conflicts.
//!
//! One code path serves both databases: queries go through `sqlx::Any` with
//! portable SQL (`$1` placeholders, which SQLite also accepts, `RETURNING`,
//! `ON CONFLICT`), times as `BIGINT` milliseconds and JSON as `TEXT`. The only
//! dialect differences (auto-increment keys, binary type) are substituted into
//! the single set of migration files when they are applied.
//!
//! Crash safety is shared with the caller. An image import that survives
//! `kill -9` at any point: put the bytes in the [`BlobStore`] (atomic;
//! temporary files are removed at the next open), then [`Store::record_blob`],
//! then [`Store::insert_image`] (one transaction: the image row with its
//! platforms and requirements, or nothing). After a restart,
//! [`Store::mark_running_as_interrupted`] marks what was in flight, and
//! [`Store::list_unreferenced_blobs`] names blobs no image row uses.
//!
//! Database URLs: `sqlite://PATH?mode=rwc` (file, WAL), `sqlite::memory:`
//! (tests), `postgres://USER@HOST:PORT/DB` with an optional
//! `options[search_path]=SCHEMA`.

pub mod blob;
pub mod crypto;
mod error;
mod migrate;
mod model;
mod repo;

use std::str::FromStr;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};

pub use blob::{BlobInfo, BlobStore, LocalBlobStore, PutBlob};
pub use error::StoreError;
pub use migrate::{MIGRATIONS, Migration, MigrationReport};
pub use model::{Role, Status, Timestamp};
pub use repo::audit::{AuditEntry, NewAuditEntry};
pub use repo::credentials::{CredentialProfile, NewCredentialProfile};
pub use repo::devices::{Device, FactSnapshot, NewDevice, changed_fields};
pub use repo::events::{Event, NewEvent};
pub use repo::images::{BlobRecord, Image, NewImage, SignatureStatus};
pub use repo::jobs::{InterruptedCounts, Job, JobRun, NewJob, NewTask, Operation, Task};
pub use repo::settings::{DEFAULT_PROTOCOL_ORDER, JOB_DEFAULTS_KEY, PROTOCOL_ORDER_KEY};
pub use repo::sites::{DistributionServer, NewDistributionServer, Site};
pub use repo::users::{ApiToken, NewApiToken, User};

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file (one process, no setup), opened in WAL mode.
    Sqlite,
    /// PostgreSQL (several server nodes share it).
    Postgres,
}

impl Backend {
    /// Picks the backend from a database URL's scheme.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl {
                url: redact_url(url),
            })
        }
    }
}

/// A handle on the database; cheap to clone (a connection pool inside).
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Opens (creating when the URL allows it) and migrates a database.
    ///
    /// `sqlite://PATH?mode=rwc` opens a file in WAL mode; `sqlite::memory:`
    /// an in-memory database (one connection, for tests);
    /// `postgres://USER@HOST:PORT/DB` a PostgreSQL database (its
    /// `options[search_path]=SCHEMA` parameter selects a schema).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let options =
            AnyConnectOptions::from_str(url).map_err(|source| StoreError::Database { source })?;
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let max_connections = match (backend, in_memory) {
            // Every in-memory SQLite connection would be a separate database.
            (Backend::Sqlite, true) => 1,
            (Backend::Sqlite, false) => 4,
            (Backend::Postgres, _) => 10,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Database { source })?;
        let store = Store { pool, backend };
        if backend == Backend::Sqlite && !in_memory {
            // Several processes opening a new file together can meet SQLite's
            // deadlock answer (SQLITE_BUSY without waiting) while one switches
            // the journal mode or migrates; the loser simply tries again.
            let mut attempt = 0u64;
            loop {
                match store.prepare_sqlite_file().await {
                    Err(error) if is_sqlite_busy(&error) && attempt < 40 => {
                        attempt += 1;
                        tokio::time::sleep(Duration::from_millis(25 * attempt.min(8))).await;
                    }
                    other => break other?,
                }
            }
        } else {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// WAL mode (readers proceed during writes; the mode is stored in the
    /// file) and migrations.
    async fn prepare_sqlite_file(&self) -> Result<(), StoreError> {
        sqlx::query("PRAGMA journal_mode = WAL")
            .fetch_optional(&self.pool)
            .await?;
        self.migrate().await?;
        Ok(())
    }

    /// The database this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies every migration not yet applied (also run by [`Store::open`];
    /// running it again is a no-op).
    pub async fn migrate(&self) -> Result<MigrationReport, StoreError> {
        migrate::apply(&self.pool, self.backend).await
    }

    /// Names of the tables and their columns, sorted: lets tests check that
    /// both databases carry the same schema.
    pub async fn schema_columns(&self) -> Result<Vec<(String, String)>, StoreError> {
        migrate::schema_columns(&self.pool, self.backend).await
    }

    /// Closes every connection (waits for queries in progress).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a transaction that will write. On SQLite it takes the write
    /// lock up front (`BEGIN IMMEDIATE`): a deferred transaction that reads
    /// and then writes fails at once with "database is locked" when another
    /// connection wrote in between, whereas an immediate one waits its turn.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        begin_write(&self.pool, self.backend).await
    }
}

pub(crate) async fn begin_write(
    pool: &AnyPool,
    backend: Backend,
) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
    Ok(match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin().await?,
    })
}

/// Removes a password from a URL before it appears in an error message.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// SQLite's "database is locked" (SQLITE_BUSY, code 5).
fn is_sqlite_busy(error: &StoreError) -> bool {
    match error {
        StoreError::Database {
            source: sqlx::Error::Database(database),
        } => {
            database.code().as_deref() == Some("5")
                || database.message().contains("database is locked")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_is_chosen_by_url_scheme() {
        assert_eq!(
            Backend::from_url("sqlite://x.db?mode=rwc").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            Backend::from_url("sqlite::memory:").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            Backend::from_url("postgres://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("postgresql://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert!(Backend::from_url("mysql://u@h/db").is_err());
    }

    #[test]
    fn unsupported_url_error_hides_the_password() {
        let error = Backend::from_url("mysql://admin:hunter2@host/db").unwrap_err();
        let message = error.to_string();
        assert!(!message.contains("hunter2"), "{message}");
        assert!(message.contains("admin:***@host"), "{message}");
    }
}
