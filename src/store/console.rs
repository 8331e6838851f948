//! What the store keeps for the web console and the department API: accounts, sessions, API
//! tokens and the audit log.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    Staff,
    Department,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Staff => "staff",
            Role::Department => "department",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Role::Admin, Role::Staff, Role::Department].into_iter().find(|r| r.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub role: Role,
    /// Set for department accounts: the department they answer for.
    pub department_id: Option<i64>,
    pub department_name: Option<String>,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub name: String,
    pub role: Role,
    pub department_id: Option<i64>,
    /// An argon2 PHC string, never the password.
    pub password_hash: String,
}

/// A logged-in session, found by the hash of its cookie.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub department_id: i64,
    pub department_name: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    #[sqlx(rename = "who")]
    pub user: Option<String>,
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// Which audit entries to list; every field narrows, `None` does not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    /// The account's username, or `token:<name>` for an API token.
    pub who: Option<String>,
    /// The action's code, e.g. `suggestion.assign`.
    pub action: Option<String>,
    /// Entries at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Entries before this time.
    pub until: Option<DateTime<Utc>>,
}

/// Longest action code kept in the audit log, in characters.
pub const AUDIT_ACTION_MAX_CHARS: usize = 64;
/// Longest target kept in the audit log, in characters.
pub const AUDIT_TARGET_MAX_CHARS: usize = 200;
/// Longest detail kept in the audit log, in characters: enough for a reason or an instruction's
/// beginning; the full text is on the suggestion's timeline.
pub const AUDIT_DETAIL_MAX_CHARS: usize = 500;

/// Who did something, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auditor {
    User(i64),
    Token(i64),
}

#[async_trait]
pub trait ConsoleStore: Send + Sync {
    /// `None` if the username is taken.
    async fn add_user(&self, user: NewUser, now: DateTime<Utc>) -> Result<Option<User>>;
    async fn users(&self) -> Result<Vec<User>>;
    async fn user(&self, id: i64) -> Result<Option<User>>;
    /// The user and their password hash, for logging in.
    async fn user_for_login(&self, username: &str) -> Result<Option<(User, String)>>;
    async fn set_user_active(&self, id: i64, active: bool, now: DateTime<Utc>) -> Result<bool>;
    async fn set_password(&self, id: i64, password_hash: &str, now: DateTime<Utc>) -> Result<bool>;
    async fn count_admins(&self) -> Result<i64>;

    async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()>;
    /// The session if it exists, has not expired and its user is active.
    async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    /// Ends every session of a user (deactivated, password changed).
    async fn delete_sessions_of(&self, user_id: i64) -> Result<()>;

    async fn create_api_token(
        &self,
        department_id: i64,
        name: &str,
        token_hash: &str,
        created_by: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<ApiToken>;
    async fn api_tokens(&self) -> Result<Vec<ApiToken>>;
    /// The token if it exists and is not revoked; records its use.
    async fn use_api_token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<ApiToken>>;
    async fn revoke_api_token(&self, id: i64, now: DateTime<Utc>) -> Result<bool>;

    /// Records an action. The texts are cut to `AUDIT_*_MAX_CHARS` and their control and
    /// text-direction characters written out (`bounds::clip_visible`), whoever calls.
    async fn audit(&self, who: Auditor, action: &str, target: &str, detail: &str, now: DateTime<Utc>) -> Result<()>;
    async fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>>;
    /// A page of the audit log, newest first: entries matching `filter` with an id below `before`
    /// (all if `None`), at most `limit`.
    async fn audit_page(&self, filter: &AuditFilter, before: Option<i64>, limit: usize) -> Result<Vec<AuditEntry>>;

    /// Every member as a roster row (member number, name, level, workstation name, sector, phone),
    /// to tell an import's unchanged rows from its updated ones.
    async fn roster_rows(&self) -> Result<Vec<crate::store::RosterRow>>;

    /// The broadcast queued with this confirmation key (`NewBroadcast::request_key`), if any: the
    /// console says a resent confirmation was done already.
    async fn broadcast_by_request_key(&self, key: &str) -> Result<Option<i64>>;

    // ---- The dialog preview (`web::preview`) ----

    /// Marks the pending outbox messages of a preview chat (see [`is_preview_chat`]) cancelled, so
    /// that the delivery worker never sends them; returns how many. Rows of any other chat are
    /// never touched, whatever `chat_id` is given.
    async fn discard_preview_outbox(&self, chat_id: i64, now: DateTime<Utc>) -> Result<u64>;
    /// The test member console account `user_id` plays in the dialog preview, created on first
    /// use: member number `TEST-<user_id>`, level 区, named `name`, marked test (left out of
    /// statistics, exports and the member list), never bound to Telegram.
    async fn preview_member(&self, user_id: i64, name: &str, now: DateTime<Utc>) -> Result<crate::store::Member>;
}

// ---- The dialog preview (`web::preview`) ----

/// Chat ids at or below `-PREVIEW_CHAT_BASE` belong to the console's dialog preview. No Telegram
/// chat has such an id (users are positive, groups and channels stay above -1.1e12), so nothing
/// addressed to one may ever be sent.
pub const PREVIEW_CHAT_BASE: i64 = 9_000_000_000_000;

/// Whether a chat id is a console preview chat rather than a Telegram chat.
pub fn is_preview_chat(chat_id: i64) -> bool {
    chat_id <= -PREVIEW_CHAT_BASE
}
