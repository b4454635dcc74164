//! Typed repository methods on [`crate::Store`], one module per area of the schema.

pub mod audit;
pub mod credentials;
pub mod devices;
pub mod events;
pub mod images;
pub mod jobs;
pub mod settings;
pub mod sites;
pub mod users;

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{StoreError, Timestamp};

/// Reads a timestamp column.
pub(crate) fn get_time(row: &AnyRow, column: &str) -> Result<Timestamp, StoreError> {
    Ok(Timestamp(row.try_get::<i64, _>(column)?))
}

/// Reads a nullable timestamp column.
pub(crate) fn get_optional_time(
    row: &AnyRow,
    column: &str,
) -> Result<Option<Timestamp>, StoreError> {
    Ok(row.try_get::<Option<i64>, _>(column)?.map(Timestamp))
}

/// Fails with `NotFound` when an UPDATE or DELETE touched no row.
pub(crate) fn expect_one_row(
    rows_affected: u64,
    what: &'static str,
    key: impl ToString,
) -> Result<(), StoreError> {
    if rows_affected == 0 {
        Err(StoreError::NotFound {
            what,
            key: key.to_string(),
        })
    } else {
        Ok(())
    }
}
