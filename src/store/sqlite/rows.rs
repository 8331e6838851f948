//! How SQLite columns become the store's values: each domain value stored as a text code is
//! decoded here once, so the store's types derive `sqlx::FromRow` instead of mapping rows by hand.
//!
//! A code that its type does not know is corrupt data: decoding it fails with
//! `StoreError::Corrupt` naming the value (see `From<sqlx::Error> for StoreError`).

use sqlx::error::BoxDynError;
use sqlx::sqlite::{SqliteRow, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, FromRow, Sqlite, Type};

use crate::domain::{MemberLevel, MemberNo, SuggestionKind, SuggestionState, TopicClass, TopicStatus};
use crate::store::{AssignmentRole, AssignmentStatus, AttachmentKind, AudienceKind, Result, Role, StoreError};

/// One row as a store type, by the type's `FromRow` (`rows.iter().map(read)`).
pub(super) fn read<T: for<'r> FromRow<'r, SqliteRow>>(row: &SqliteRow) -> Result<T> {
    Ok(T::from_row(row)?)
}

/// Implements `Type` and `Decode` for values stored as text and read back with `$read`, a
/// `fn(&str) -> Option<Self>`; `$what` names the value in the corruption error.
macro_rules! text_codes {
    ($($ty:ty => $read:expr, $what:literal;)+) => {$(
        impl Type<Sqlite> for $ty {
            fn type_info() -> SqliteTypeInfo {
                <&str as Type<Sqlite>>::type_info()
            }
            fn compatible(ty: &SqliteTypeInfo) -> bool {
                <&str as Type<Sqlite>>::compatible(ty)
            }
        }

        impl<'r> Decode<'r, Sqlite> for $ty {
            fn decode(value: SqliteValueRef<'r>) -> std::result::Result<Self, BoxDynError> {
                let code = <&str as Decode<Sqlite>>::decode(value)?;
                let read: fn(&str) -> Option<$ty> = $read;
                Ok(read(code).ok_or_else(|| StoreError::Corrupt(format!(concat!($what, " {:?}"), code)))?)
            }
        }
    )+};
}

text_codes! {
    SuggestionState => SuggestionState::parse, "suggestion state";
    SuggestionKind => SuggestionKind::parse, "suggestion kind";
    MemberNo => MemberNo::parse, "member number";
    MemberLevel => MemberLevel::parse, "member level";
    TopicClass => TopicClass::parse, "topic class";
    TopicStatus => TopicStatus::parse, "topic status";
    AssignmentStatus => AssignmentStatus::parse, "assignment status";
    Role => Role::parse, "user role";
    AudienceKind => AudienceKind::parse, "broadcast audience";
    // Anything but `lead` is read as a co-department, as it always was.
    AssignmentRole => |s| Some(if s == "lead" { AssignmentRole::Lead } else { AssignmentRole::Co }), "assignment role";
    AttachmentKind => |s| Some(if s == "photo" { AttachmentKind::Photo } else { AttachmentKind::Document }), "attachment kind";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

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
