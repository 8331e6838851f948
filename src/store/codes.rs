//! How domain values stored as text codes are read back, on every backend: each is decoded here
//! once, so the store's types derive `sqlx::FromRow` instead of mapping rows by hand.
//!
//! A code that its type does not know is corrupt data: decoding it fails with
//! `StoreError::Corrupt` naming the value (see `From<sqlx::Error> for StoreError`).

use sqlx::error::BoxDynError;
use sqlx::postgres::{PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Postgres, Sqlite, Type};

use crate::domain::{EntryChannel, MemberLevel, MemberNo, SuggestionKind, SuggestionState, TopicClass, TopicStatus};
use crate::store::{
    AssignmentRole, AssignmentStatus, AttachmentKind, AudienceKind, CosignStatus, DraftStatus, Rating, Role, StoreError,
};

/// Implements `Type` and `Decode` for values stored as text and read back with `$read`, a
/// `fn(&str) -> Option<Self>`; `$what` names the value in the corruption error.
macro_rules! text_codes {
    (@on $db:ty, $info:ty, $value:ident, $ty:ty, $read:expr, $what:literal) => {
        impl Type<$db> for $ty {
            fn type_info() -> $info {
                <&str as Type<$db>>::type_info()
            }
            fn compatible(ty: &$info) -> bool {
                <&str as Type<$db>>::compatible(ty)
            }
        }

        impl<'r> Decode<'r, $db> for $ty {
            fn decode(value: $value<'r>) -> std::result::Result<Self, BoxDynError> {
                let code = <&str as Decode<$db>>::decode(value)?;
                let read: fn(&str) -> Option<$ty> = $read;
                Ok(read(code).ok_or_else(|| StoreError::Corrupt(format!(concat!($what, " {:?}"), code)))?)
            }
        }
    };
    ($($ty:ty => $read:expr, $what:literal;)+) => {$(
        text_codes!(@on Sqlite, SqliteTypeInfo, SqliteValueRef, $ty, $read, $what);
        text_codes!(@on Postgres, PgTypeInfo, PgValueRef, $ty, $read, $what);
    )+};
}

text_codes! {
    SuggestionState => SuggestionState::parse, "suggestion state";
    SuggestionKind => SuggestionKind::parse, "suggestion kind";
    MemberNo => MemberNo::parse, "member number";
    MemberLevel => MemberLevel::parse, "member level";
    TopicClass => TopicClass::parse, "topic class";
    TopicStatus => TopicStatus::parse, "topic status";
    EntryChannel => EntryChannel::parse, "entry channel";
    AssignmentStatus => AssignmentStatus::parse, "assignment status";
    DraftStatus => DraftStatus::parse, "reply draft status";
    Role => Role::parse, "user role";
    AudienceKind => AudienceKind::parse, "broadcast audience";
    CosignStatus => CosignStatus::parse, "co-signing status";
    Rating => Rating::parse, "rating";
    // Anything but `lead` is read as a co-department, as it always was.
    AssignmentRole => |s| Some(if s == "lead" { AssignmentRole::Lead } else { AssignmentRole::Co }), "assignment role";
    AttachmentKind => |s| Some(match s { "photo" => AttachmentKind::Photo, "stored" => AttachmentKind::Stored, _ => AttachmentKind::Document }), "attachment kind";
}
