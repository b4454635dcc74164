//! The single error type of the store crate.

use std::path::PathBuf;

/// Everything that can go wrong in the store, with the fields a caller needs
/// to explain it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A row or blob that the caller named does not exist.
    #[error("{what} {key} not found (hint: list the {what}s to see what exists)")]
    NotFound { what: &'static str, key: String },

    /// A unique key is already taken (same image bytes, same device name, ...).
    #[error("{what} {key} already exists (hint: use the existing one or pick another name)")]
    Conflict { what: &'static str, key: String },

    /// A value given to the store is not acceptable (bad hash text, bad status, ...).
    #[error("invalid {what}: {reason}")]
    InvalidInput { what: &'static str, reason: String },

    /// The database URL names a backend the store does not speak.
    #[error(
        "unsupported database URL {url:?} (hint: use sqlite://PATH?mode=rwc or postgres://USER@HOST/DB)"
    )]
    UnsupportedUrl { url: String },

    /// The database refused or failed an operation.
    #[error("database error: {source}")]
    Database {
        #[from]
        source: sqlx::Error,
    },

    /// A migration that was already applied has different text now.
    #[error(
        "migration {version} ({name}) was applied with different contents (hint: never edit an applied migration; add a new one)"
    )]
    MigrationChanged { version: i64, name: String },

    /// The database was migrated by a newer netswim.
    #[error(
        "database schema version {found} is newer than this program knows ({known}) (hint: upgrade netswim)"
    )]
    SchemaTooNew { found: i64, known: i64 },

    /// A stored column holds text this version cannot read.
    #[error("corrupt {what} in the database: {reason}")]
    Corrupt { what: &'static str, reason: String },

    /// Bytes written to the blob store did not hash to what the caller expected.
    #[error(
        "checksum mismatch: expected sha256 {expected}, received {actual} (hint: the file is truncated or corrupt; fetch it again)"
    )]
    ChecksumMismatch { expected: String, actual: String },

    /// File system error in the blob store or around the key file.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The secret key file or variable is missing, malformed or too open.
    #[error("secret key problem with {origin}: {reason}")]
    SecretKey { origin: String, reason: String },

    /// A sealed secret could not be opened: wrong key or tampered ciphertext.
    #[error(
        "cannot decrypt {what}: wrong secret key or corrupted data (hint: use the key file the secret was sealed with)"
    )]
    Decrypt { what: &'static str },

    /// Password hashing or verification failed for a reason other than a wrong password.
    #[error("password hash error: {reason}")]
    PasswordHash { reason: String },
}

impl StoreError {
    /// Maps a database error, turning unique-key violations into `Conflict`
    /// (both SQLite and PostgreSQL report them with the same error kind).
    pub(crate) fn from_database(
        error: sqlx::Error,
        what: &'static str,
        key: impl ToString,
    ) -> Self {
        if let sqlx::Error::Database(database_error) = &error {
            if database_error.is_unique_violation() {
                return StoreError::Conflict {
                    what,
                    key: key.to_string(),
                };
            }
        }
        StoreError::Database { source: error }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }
}
