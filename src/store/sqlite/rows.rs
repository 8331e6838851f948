//! How SQLite rows become the store's values: by each type's `sqlx::FromRow`, with the text codes
//! of domain values decoded by `store::codes`.

use sqlx::FromRow;
use sqlx::sqlite::SqliteRow;

use crate::store::Result;

/// One row as a store type, by the type's `FromRow` (`rows.iter().map(read)`).
pub(super) fn read<T: for<'r> FromRow<'r, SqliteRow>>(row: &SqliteRow) -> Result<T> {
    Ok(T::from_row(row)?)
}

#[cfg(test)]
mod tests {
    use crate::domain::SuggestionState;
    use crate::store::{AssignmentRole, SqliteStore, StoreError};

    #[tokio::test]
    async fn stored_codes_decode_and_unknown_ones_are_corrupt_data() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("rows.db"), std::time::Duration::from_secs(5), 1).await.unwrap();
        let pool = store.pool();
        let decode = |sql: &'static str| async move {
            sqlx::query_as::<_, (SuggestionState, AssignmentRole)>(sql).fetch_one(pool).await.map_err(StoreError::from)
        };
        let (state, role) = decode("SELECT 'in_progress', 'lead'").await.unwrap();
        assert_eq!((state, role), (SuggestionState::InProgress, AssignmentRole::Lead));
        match decode("SELECT 'bogus', 'lead'").await {
            Err(StoreError::Corrupt(what)) => assert_eq!(what, "suggestion state \"bogus\""),
            other => panic!("expected corrupt data, got {other:?}"),
        }
        // A failure that is not a code stays a database error.
        assert!(matches!(decode("SELECT no_such_column, 'lead'").await, Err(StoreError::Database(_))));
    }
}
