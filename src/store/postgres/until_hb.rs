//! TEMP until hb merges: stand-ins for the PostgreSQL store's outreach, console, inbox and reports
//! (Helper B's `postgres/{outreach,console,inbox,reports}.rs`), so that `PgStore` is a `Store`
//! before they land. Every method fails with `StoreError::Io`; the lead deletes this file at merge.

use super::*;
use crate::store::console::*;
use crate::store::inbox::*;
use crate::store::reports::*;

fn missing() -> StoreError {
    StoreError::Io("not implemented on PostgreSQL yet (Helper B's part)".into())
}

/// `create_broadcast` within a transaction (stand-in).
pub(super) async fn create_broadcast_in(
    _tx: &mut PgTx,
    _broadcast: NewBroadcast,
    _render: RenderFn<'_>,
    _now: DateTime<Utc>,
) -> Result<(i64, usize)> {
    Err(missing())
}

/// `broadcast_progress` as a transaction sees it (stand-in).
pub(super) async fn broadcast_progress_in(_tx: &mut PgTx, _id: i64) -> Result<Option<BroadcastProgress>> {
    Err(missing())
}

/// `cancel_broadcast` within a transaction (stand-in).
pub(super) async fn cancel_broadcast_in(_tx: &mut PgTx, _id: i64) -> Result<Option<i64>> {
    Err(missing())
}

#[async_trait]
impl OutreachStore for PgStore {
    async fn audience_options(&self, _kind: AudienceKind) -> Result<Vec<AudienceOption>> {
        Err(missing())
    }

    async fn audience_reach(&self, _audience: &Audience) -> Result<i64> {
        Err(missing())
    }

    async fn create_broadcast(
        &self,
        _broadcast: NewBroadcast,
        _render: RenderFn<'_>,
        _now: DateTime<Utc>,
    ) -> Result<(i64, usize)> {
        Err(missing())
    }

    async fn broadcast_progress(&self, _id: i64) -> Result<Option<BroadcastProgress>> {
        Err(missing())
    }

    async fn recent_broadcasts(&self, _limit: usize) -> Result<Vec<BroadcastProgress>> {
        Err(missing())
    }

    async fn cancel_broadcast(&self, _id: i64) -> Result<Option<i64>> {
        Err(missing())
    }

    async fn due_reminders(&self, _now: DateTime<Utc>, _before: chrono::Duration) -> Result<Vec<DueReminder>> {
        Err(missing())
    }

    async fn record_reminder(
        &self,
        _assignment_id: i64,
        _deadline: DateTime<Utc>,
        _kind: ReminderKind,
        _messages: Vec<OutMessage>,
        _now: DateTime<Utc>,
    ) -> Result<bool> {
        Err(missing())
    }

    async fn overdue_suggestions(&self, _now: DateTime<Utc>) -> Result<Vec<OverdueSuggestion>> {
        Err(missing())
    }

    async fn record_digest(&self, _day: &str, _messages: Vec<OutMessage>, _now: DateTime<Utc>) -> Result<bool> {
        Err(missing())
    }
}

#[async_trait]
impl ConsoleStore for PgStore {
    async fn add_user(&self, _user: NewUser, _now: DateTime<Utc>) -> Result<Option<User>> {
        Err(missing())
    }

    async fn users(&self) -> Result<Vec<User>> {
        Err(missing())
    }

    async fn user(&self, _id: i64) -> Result<Option<User>> {
        Err(missing())
    }

    async fn user_for_login(&self, _username: &str) -> Result<Option<(User, String)>> {
        Err(missing())
    }

    async fn set_user_active(&self, _id: i64, _active: bool, _now: DateTime<Utc>) -> Result<bool> {
        Err(missing())
    }

    async fn set_password(&self, _id: i64, _password_hash: &str, _now: DateTime<Utc>) -> Result<bool> {
        Err(missing())
    }

    async fn count_admins(&self) -> Result<i64> {
        Err(missing())
    }

    async fn create_session(
        &self,
        _token_hash: &str,
        _user_id: i64,
        _csrf_token: &str,
        _now: DateTime<Utc>,
        _expires_at: DateTime<Utc>,
    ) -> Result<()> {
        Err(missing())
    }

    async fn session(&self, _token_hash: &str, _now: DateTime<Utc>) -> Result<Option<Session>> {
        Err(missing())
    }

    async fn delete_session(&self, _token_hash: &str) -> Result<()> {
        Err(missing())
    }

    async fn delete_sessions_of(&self, _user_id: i64) -> Result<()> {
        Err(missing())
    }

    async fn create_api_token(
        &self,
        _department_id: i64,
        _name: &str,
        _token_hash: &str,
        _created_by: Option<i64>,
        _now: DateTime<Utc>,
    ) -> Result<ApiToken> {
        Err(missing())
    }

    async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        Err(missing())
    }

    async fn use_api_token(&self, _token_hash: &str, _now: DateTime<Utc>) -> Result<Option<ApiToken>> {
        Err(missing())
    }

    async fn revoke_api_token(&self, _id: i64, _now: DateTime<Utc>) -> Result<bool> {
        Err(missing())
    }

    async fn audit(
        &self,
        _who: Auditor,
        _action: &str,
        _target: &str,
        _detail: &str,
        _now: DateTime<Utc>,
    ) -> Result<()> {
        Err(missing())
    }

    async fn audit_log(&self, _limit: usize) -> Result<Vec<AuditEntry>> {
        Err(missing())
    }

    async fn audit_page(&self, _filter: &AuditFilter, _before: Option<i64>, _limit: usize) -> Result<Vec<AuditEntry>> {
        Err(missing())
    }

    async fn roster_rows(&self) -> Result<Vec<crate::store::RosterRow>> {
        Err(missing())
    }

    async fn broadcast_by_request_key(&self, _key: &str) -> Result<Option<i64>> {
        Err(missing())
    }

    async fn discard_preview_outbox(&self, _chat_id: i64, _now: DateTime<Utc>) -> Result<u64> {
        Err(missing())
    }

    async fn preview_member(&self, _user_id: i64, _name: &str, _now: DateTime<Utc>) -> Result<crate::store::Member> {
        Err(missing())
    }
}

#[async_trait]
impl InboxStore for PgStore {
    async fn inbox(
        &self,
        _filter: &InboxFilter,
        _sort: InboxSort,
        _cursor: &PageCursor,
        _limit: usize,
    ) -> Result<InboxPage> {
        Err(missing())
    }

    async fn workstations(&self) -> Result<Vec<(i64, String)>> {
        Err(missing())
    }

    async fn replies_of(&self, _suggestion_id: i64) -> Result<Vec<ReplyRecord>> {
        Err(missing())
    }

    async fn timeline_of(&self, _suggestion_id: i64) -> Result<Vec<TimelineEntry>> {
        Err(missing())
    }
}

#[async_trait]
impl ReportStore for PgStore {
    async fn dashboard(&self, _scope: Scope, _now: DateTime<Utc>) -> Result<DashboardData> {
        Err(missing())
    }

    async fn topic_by_workstation(&self, _topic_id: i64) -> Result<Vec<WorkstationAnswer>> {
        Err(missing())
    }

    async fn update_topic(&self, _id: i64, _topic: NewTopic, _now: DateTime<Utc>) -> Result<Option<Topic>> {
        Err(missing())
    }

    async fn set_topic_status(&self, _id: i64, _status: TopicStatus, _now: DateTime<Utc>) -> Result<bool> {
        Err(missing())
    }

    async fn liaisons(&self) -> Result<Vec<Liaison>> {
        Err(missing())
    }

    async fn members_page(&self, _filter: &MemberFilter, _after: Option<&str>, _limit: usize) -> Result<Vec<Member>> {
        Err(missing())
    }

    async fn count_members(&self, _filter: &MemberFilter) -> Result<i64> {
        Err(missing())
    }

    async fn member_counts(&self) -> Result<MemberCounts> {
        Err(missing())
    }

    async fn roster_facets(&self) -> Result<(Vec<String>, Vec<String>)> {
        Err(missing())
    }
}
