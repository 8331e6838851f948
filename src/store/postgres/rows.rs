//! How PostgreSQL rows become the store's values: by each type's `sqlx::FromRow`, with the text
//! codes of domain values decoded by `store::codes`.

use sqlx::FromRow;
use sqlx::postgres::PgRow;

use crate::store::Result;

/// One row as a store type, by the type's `FromRow` (`rows.iter().map(read)`).
pub(crate) fn read<T: for<'r> FromRow<'r, PgRow>>(row: &PgRow) -> Result<T> {
    Ok(T::from_row(row)?)
}
