//! The data-access interface: everything the bot, the dialog and the CLI read or write goes through `Store`.
//!
//! SQLite (`sqlite::SqliteStore`) is the embedded default; PostgreSQL (`postgres::PgStore`) the
//! scale-out backend. Both implement the same traits and pass the same contract suite
//! (`tests/store_contract/`).

pub mod cluster;
mod codes;
pub mod console;
pub mod cosign;
pub mod files;
pub mod inbox;
mod outreach;
pub mod postgres;
pub mod reports;
pub mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{
    EntryChannel, MemberLevel, MemberNo, ReferenceNo, SuggestionKind, SuggestionState, TopicClass, TopicStatus,
};

pub use cluster::{ClusterStore, Lease};
pub use console::{ApiToken, AuditEntry, Auditor, ConsoleStore, NewUser, Role, Session, User};
pub use cosign::{CosignStatus, CosignStore, Cosigner, CosignerRating};
pub use files::{FileStore, StoredFile};
pub use inbox::InboxStore;
pub use outreach::{
    Audience, AudienceKind, AudienceOption, BroadcastProgress, DueReminder, NewBroadcast, OverdueSuggestion,
    ReminderKind, RenderFn,
};
pub use postgres::PgStore;
pub use reports::ReportStore;
pub use sqlite::SqliteStore;

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Io(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("{0}")]
    NotFound(String),
}

impl From<sqlx::Error> for StoreError {
    /// A column whose stored code its type does not know (`sqlite::rows`) is reported as the
    /// corrupt data it is, not as a database failure.
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::ColumnDecode { source, index } => match source.downcast::<StoreError>() {
                Ok(corrupt) => *corrupt,
                Err(source) => StoreError::Database(sqlx::Error::ColumnDecode { index, source }),
            },
            e => StoreError::Database(e),
        }
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Member {
    pub id: i64,
    pub member_no: MemberNo,
    pub name: String,
    pub level: MemberLevel,
    pub workstation: Option<String>,
    pub sector: String,
    pub phone: String,
    pub telegram_user_id: Option<i64>,
    pub active: bool,
}

/// One validated roster row.
#[derive(Debug, Clone, PartialEq)]
pub struct RosterRow {
    pub member_no: MemberNo,
    pub name: String,
    pub level: MemberLevel,
    pub workstation: Option<String>,
    pub sector: String,
    pub phone: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub inserted: usize,
    pub updated: usize,
    pub workstations_created: usize,
}

/// What happened to an invite code someone sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Redeemed {
    Bound(Identity),
    /// This Telegram account already redeemed this code (a replayed message): nothing changes.
    AlreadyBound(Identity),
    Unknown,
    Expired,
    Used,
    /// The Telegram account is already bound to someone else.
    AccountTaken,
    /// The member, staff member or liaison is marked inactive.
    Inactive,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Topic {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub class: TopicClass,
    pub form: String,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub status: TopicStatus,
    pub pinned: bool,
}

impl Topic {
    /// Members can answer it now.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.status == TopicStatus::Open
            && self.opens_at.is_none_or(|t| t <= now)
            && self.closes_at.is_none_or(|t| now < t)
    }
}

#[derive(Debug, Clone)]
pub struct NewTopic {
    pub title: String,
    pub description: String,
    pub class: TopicClass,
    pub form: String,
    pub closes_at: Option<DateTime<Utc>>,
    pub pinned: bool,
}

/// A photo or document a member attached, kept as Telegram file ids with their metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Attachment {
    pub kind: AttachmentKind,
    pub file_id: String,
    pub file_unique_id: String,
    pub file_name: Option<String>,
    pub mime_type: Option<String>,
    pub file_size: Option<i64>,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    Photo,
    Document,
    /// A file a department uploaded through the API: not on Telegram's servers but kept in the
    /// database (`files::FileStore`) under `file_unique_id`, its SHA-256; `file_id` is empty.
    Stored,
}

impl AttachmentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Photo => "photo",
            Self::Document => "document",
            Self::Stored => "stored",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewSuggestion {
    pub member_id: i64,
    pub topic_id: Option<i64>,
    pub kind: SuggestionKind,
    pub title: String,
    pub points: Vec<String>,
    /// The member's messages as typed, when the points were stored otherwise (numbers left out,
    /// split): the text of the `submitted` timeline event. Empty when they were stored as typed.
    pub as_typed: String,
    pub attachments: Vec<Attachment>,
    pub year: i32,
    pub prefix: String,
    /// Staff entered it for the member (代为提交); `None` when the member sent it themselves.
    pub entered_by: Option<EnteredBy>,
}

/// Staff acting for a member (代为提交 / 代为评价): the console account that entered it and how
/// the member gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnteredBy {
    /// The console account (`users.id`).
    pub user_id: i64,
    pub channel: EntryChannel,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SuggestionSummary {
    pub id: i64,
    pub reference_no: String,
    pub title: String,
    pub state: SuggestionState,
    pub created_at: DateTime<Utc>,
}

/// A suggestion in full. Read from a row as `FromRow` for its own columns; the points,
/// attachments and timeline come from their own tables.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Suggestion {
    pub id: i64,
    pub reference_no: String,
    pub member_id: i64,
    pub topic_id: Option<i64>,
    pub topic_title: Option<String>,
    pub kind: SuggestionKind,
    pub title: String,
    #[sqlx(skip)]
    pub points: Vec<String>,
    #[sqlx(skip)]
    pub attachments: Vec<Attachment>,
    pub state: SuggestionState,
    pub created_at: DateTime<Utc>,
    #[sqlx(skip)]
    pub timeline: Vec<TimelineEvent>,
    /// The console account that entered it for the member (代为提交), and how the member gave it.
    pub entered_by: Option<i64>,
    pub entered_via: Option<EntryChannel>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TimelineEvent {
    pub at: DateTime<Utc>,
    pub actor_kind: String,
    pub event: String,
    pub text: String,
}

/// A raw Telegram update as received, before processing.
#[derive(Debug, Clone)]
pub struct IncomingUpdate {
    pub update_id: i64,
    pub chat_id: Option<i64>,
    /// The update's JSON exactly as Telegram sent it.
    pub payload: String,
    /// Its Bot API kind (`message`, `callback_query`, …).
    pub kind: String,
    /// `false` for an update jianyan could not make sense of (counted for staff).
    pub understood: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredUpdate {
    pub update_id: i64,
    pub chat_id: Option<i64>,
    pub payload: String,
    pub attempts: i64,
}

/// A message due in the outbox, as the delivery worker schedules it: the first message still
/// pending in its chat (by priority, then age), so a chat's messages go out one after the other.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DueMessage {
    pub id: i64,
    pub chat_id: i64,
    pub priority: i64,
    pub attempts: i64,
}

/// An outbox row as the delivery worker keeps it in memory (`Store::pending_outbox`,
/// `Store::outbox_since`): a chat's pending rows go out in `(priority, id)` order.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QueuedMessage {
    pub id: i64,
    pub chat_id: i64,
    pub priority: i64,
    pub attempts: i64,
    /// Unix milliseconds before which it waits (a retry or Telegram's 429); `None`: due now.
    pub next_attempt_ms: Option<i64>,
    /// Still waiting to be sent (`false`: sent, failed, blocked, uncertain or cancelled).
    pub pending: bool,
}

/// What the delivery worker sends for an outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPayload {
    /// The sender's JSON (an encoded `reply::Action`).
    pub payload: String,
    /// Parts of the payload already sent. Always 0 for rows written since migration 0007 (one row
    /// per message Telegram receives); a long text queued by an older version as one row is sent
    /// part by part, and this counts the parts that arrived, so a retry resumes at the next one.
    pub part: i64,
}

/// A message waiting in the outbox; `payload` is the sender's own JSON.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,
    pub chat_id: i64,
    pub payload: String,
    pub priority: i64,
    pub attempts: i64,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Staff {
    pub id: i64,
    pub name: String,
    pub telegram_user_id: Option<i64>,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Department {
    pub id: i64,
    pub name: String,
    pub short_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Liaison {
    pub id: i64,
    pub name: String,
    pub department_id: i64,
    pub department_name: String,
    pub telegram_user_id: Option<i64>,
    pub active: bool,
}

/// Who a Telegram account belongs to.
#[derive(Debug, Clone, PartialEq)]
pub enum Identity {
    Member(Member),
    Staff(Staff),
    Liaison(Liaison),
}

impl Identity {
    pub fn name(&self) -> &str {
        match self {
            Identity::Member(m) => &m.name,
            Identity::Staff(s) => &s.name,
            Identity::Liaison(l) => &l.name,
        }
    }
}

/// Whom an invite code binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteTarget {
    Member(i64),
    Staff(i64),
    Liaison(i64),
}

/// A chat to notify, with the person's Telegram language.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Recipient {
    #[sqlx(rename = "telegram_chat_id")]
    pub chat_id: i64,
    pub language: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignmentRole {
    Lead,
    Co,
}

impl AssignmentRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lead => "lead",
            Self::Co => "co",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignmentStatus {
    Active,
    Returned,
    Answered,
    Superseded,
}

impl AssignmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Returned => "returned",
            Self::Answered => "answered",
            Self::Superseded => "superseded",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Active, Self::Returned, Self::Answered, Self::Superseded].into_iter().find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AssignmentInfo {
    pub id: i64,
    pub department_id: i64,
    pub department_name: String,
    pub role: AssignmentRole,
    pub status: AssignmentStatus,
    pub deadline: DateTime<Utc>,
    pub acknowledged: bool,
}

/// Where a lead department's reply is on its way to the member (`reply_drafts.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftStatus {
    /// With the co-departments (会签).
    Countersign,
    /// With staff (督办).
    Review,
    /// Gone on to the member (it is a row of `replies` now).
    Delivered,
    /// Sent back to the department by staff, with a note.
    Returned,
}

impl DraftStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Countersign => "countersign",
            Self::Review => "review",
            Self::Delivered => "delivered",
            Self::Returned => "returned",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Countersign, Self::Review, Self::Delivered, Self::Returned].into_iter().find(|v| v.as_str() == s)
    }
}

/// A lead department's reply waiting to go on to the member: being countersigned by the
/// co-departments (会签) or reviewed by staff (督办). One row of `reply_drafts` with the
/// co-departments' answers to it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReplyDraft {
    pub id: i64,
    pub department_id: i64,
    pub reply_class: String,
    pub text: String,
    /// JSON attachment metadata, as `replies.document`.
    pub document: Option<String>,
    pub status: DraftStatus,
    /// Until when the co-departments may countersign (会签 only).
    pub countersign_deadline: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The 答复函 fields as JSON (`letter::ReplyLetter`), as `replies.letter`.
    pub letter: Option<String>,
    /// The co-departments' answers so far, oldest first.
    #[sqlx(skip)]
    pub countersigns: Vec<Countersign>,
}

impl ReplyDraft {
    /// The attached file, if the draft has one.
    pub fn attachment(&self) -> Option<Attachment> {
        self.document.as_deref().and_then(|d| serde_json::from_str(d).ok())
    }
}

/// A co-department's answer to a draft reply (会签): agreed, or changes proposed in `text`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Countersign {
    pub department_id: i64,
    pub department_name: String,
    pub agreed: bool,
    pub text: String,
    pub at: DateTime<Utc>,
}

/// What the workflow needs to know about a suggestion to decide who may do what.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub id: i64,
    pub reference_no: String,
    pub member_id: i64,
    pub member: Option<Recipient>,
    pub title: String,
    pub state: SuggestionState,
    pub deadline: Option<DateTime<Utc>>,
    pub adopted: bool,
    /// The supervising leader (督办领导) when staff marked it key (重点建言); `None`: not key.
    pub key_leader: Option<String>,
    pub replies: i64,
    pub assignments: Vec<AssignmentInfo>,
    /// The keys of the once-only actions already done to it (`Change::once_key`).
    pub once_keys: Vec<String>,
    /// The reply being countersigned or reviewed, if any (states 会签中 and 答复待审).
    pub draft: Option<ReplyDraft>,
    /// Members invited to co-sign it (联名), in the order invited.
    pub cosigners: Vec<Cosigner>,
}

impl Facts {
    /// The department's assignment that is still being worked on, if any.
    pub fn active_assignment(&self, department_id: i64) -> Option<&AssignmentInfo> {
        self.assignments.iter().find(|a| a.department_id == department_id && a.status == AssignmentStatus::Active)
    }
    /// Whether the once-only action named `key` (`Change::once_key`) was done already.
    pub fn done(&self, key: &str) -> bool {
        self.once_keys.iter().any(|k| k == key)
    }
    /// The member's invitation to co-sign it, if they were invited.
    pub fn cosigner(&self, member_id: i64) -> Option<&Cosigner> {
        self.cosigners.iter().find(|c| c.member_id == member_id)
    }
    pub fn lead(&self) -> Option<&AssignmentInfo> {
        self.assignments.iter().find(|a| a.role == AssignmentRole::Lead && a.status != AssignmentStatus::Superseded)
    }
}

pub use crate::domain::Rating;

impl Rating {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Satisfied => "satisfied",
            Self::BasicallySatisfied => "basically_satisfied",
            Self::Dissatisfied => "dissatisfied",
        }
    }

    /// The stored code back (`as_str`).
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Satisfied, Self::BasicallySatisfied, Self::Dissatisfied].into_iter().find(|r| r.as_str() == s)
    }
}

/// One step of a change to a suggestion.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeOp {
    Assign {
        department_id: i64,
        role: AssignmentRole,
        deadline: DateTime<Utc>,
    },
    SetAssignmentStatus {
        assignment_id: i64,
        status: AssignmentStatus,
    },
    Acknowledge {
        assignment_id: i64,
    },
    /// Reopening: the lead department's assignment is active again with a new deadline.
    ReactivateLead {
        assignment_id: i64,
        deadline: DateTime<Utc>,
    },
    SetDeadline(Option<DateTime<Utc>>),
    MergeInto(i64),
    Adopt,
    /// Marks it key (重点建言) with the supervising leader's name, or (`None`) unmarks it.
    SetKey(Option<String>),
    Reply {
        department_id: i64,
        reply_class: String,
        text: String,
        document: Option<String>,
        /// The 答复函 fields (`letter::ReplyLetter`) as JSON; `None` when none were given.
        letter: Option<String>,
    },
    Opinion {
        assignment_id: i64,
        text: String,
    },
    Rate {
        rating: Rating,
        reason: String,
        /// Staff recorded it for the member (代为评价); `None` when the member rated.
        entered_by: Option<EnteredBy>,
    },
    /// The lead department's reply kept as a draft for 会签 or 督办 (`reply_drafts`).
    DraftReply {
        department_id: i64,
        reply_class: String,
        text: String,
        document: Option<String>,
        status: DraftStatus,
        countersign_deadline: Option<DateTime<Utc>>,
        /// The 答复函 fields as JSON (`letter::ReplyLetter`), if any were filled in.
        letter: Option<String>,
    },
    /// A draft moves on (to review, to the member) or is sent back, with staff's note or reason.
    SetDraftStatus {
        draft_id: i64,
        status: DraftStatus,
        note: String,
    },
    /// A further timeline event by the same actor, after the change's own: the reply the member
    /// reads (`replied`) when staff approve it or the lead sends it on after 会签.
    Event {
        event: &'static str,
        text: String,
    },
    /// A co-department's answer to a draft reply.
    Countersign {
        draft_id: i64,
        department_id: i64,
        agreed: bool,
        text: String,
    },
    /// An invited member's 同意联名 (`accept`) or 不同意; only an invitation still open changes.
    AnswerInvitation {
        member_id: i64,
        accept: bool,
    },
    /// A member co-signs without an invitation (they asked to, from their draft's preview): an
    /// accepted co-signer from now on; nothing changes if they are listed already.
    JoinCosigners {
        member_id: i64,
    },
    /// Every invitation to co-sign still unanswered closes (staff accepted the suggestion).
    CloseInvitations,
    /// A co-signer's rating of the latest reply: recorded, the state is left as it is.
    CosignerRate {
        member_id: i64,
        rating: Rating,
        reason: String,
    },
}

/// A department's assignment as its to-do list shows it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DepartmentAssignment {
    pub assignment_id: i64,
    pub suggestion_id: i64,
    pub reference_no: String,
    pub title: String,
    pub state: SuggestionState,
    pub role: AssignmentRole,
    pub deadline: DateTime<Utc>,
    pub acknowledged: bool,
}

/// A co-department's view on a suggestion (协办意见), as the lead department reads it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CoOpinion {
    pub department_name: String,
    pub text: String,
    pub at: DateTime<Utc>,
}

/// Totals for staff's statistics: suggestions (篇), their points (条), adopted, past their deadline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub suggestions: i64,
    pub points: i64,
    pub adopted: i64,
    pub overdue: i64,
    /// Members who blocked the bot (Telegram 403): pushes cannot reach them.
    pub unreachable_members: i64,
    /// Messages that could not be delivered (failed after retries, or uncertain after a timeout).
    pub undelivered: i64,
    /// Updates from Telegram that jianyan could not make sense of (answered politely where a
    /// person could be answered, and logged with their `update_id`).
    pub not_understood: i64,
    /// Notifications kept for someone the bot cannot write to yet (`held_notifications`).
    pub held: i64,
}

/// A change to a suggestion, applied in one transaction if its state is still `expect_state`.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub suggestion_id: i64,
    pub expect_state: SuggestionState,
    pub new_state: SuggestionState,
    pub ops: Vec<ChangeOp>,
    /// The timeline event: who (`actor_kind`, `actor_id`), what (`event`), and the text.
    pub actor_kind: &'static str,
    pub actor_id: Option<i64>,
    pub event: &'static str,
    pub text: String,
    /// For an action that leaves the state as it is and may happen only once (adopt, an
    /// instruction, an acknowledgement, an opinion, a co-department's return): a key naming it,
    /// unique per suggestion in the store (`timeline_events.once_key`, migration 0009). A second
    /// change with a key already recorded is not applied (`Committed::Conflict`; planned again, the
    /// workflow refuses it as already done).
    pub once_key: Option<String>,
    pub messages: Vec<OutMessage>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutMessage {
    pub chat_id: i64,
    pub payload: String,
    pub priority: Priority,
    /// Set for a notification to someone the bot cannot write to yet (`chat_id` is then 0): it is
    /// kept, not sent, and queued in order once they write to the bot (`OutMessage::held`).
    pub held: Option<Held>,
}

/// Whom a kept notification is for, and which suggestion it is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub to: Addressee,
    pub suggestion_id: Option<i64>,
}

/// Someone a notification is addressed to, before there is a chat to send it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressee {
    /// A member without a Telegram chat (no invite redeemed yet) or who blocked the bot.
    Member(i64),
    /// A department none of whose liaisons has a Telegram chat yet.
    Department(i64),
    /// Staff, when no staff group is configured and no staff member has a Telegram chat yet.
    Staff,
}

/// A notification kept for someone the bot could not write to, as the console shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldNotification {
    pub id: i64,
    pub to: Addressee,
    /// The member's or department's name; empty for staff.
    pub name: String,
    pub payload: String,
    pub created_at: DateTime<Utc>,
    /// When it was queued for the person's chat, once they wrote to the bot.
    pub released_at: Option<DateTime<Utc>>,
}

/// Which messages go first when Telegram's rate limits make them wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// A reply in a conversation the person is having right now.
    Reply = 0,
    /// A notification of a change (a push).
    Notification = 1,
    /// A broadcast message.
    Broadcast = 2,
}

impl OutMessage {
    pub fn reply(chat_id: i64, payload: String) -> Self {
        Self { chat_id, payload, priority: Priority::Reply, held: None }
    }
    pub fn notification(chat_id: i64, payload: String) -> Self {
        Self { chat_id, payload, priority: Priority::Notification, held: None }
    }
    /// A notification for someone with no chat the bot can write to: kept until they write to it.
    pub fn held(to: Addressee, suggestion_id: Option<i64>, payload: String) -> Self {
        Self { chat_id: 0, payload, priority: Priority::Notification, held: Some(Held { to, suggestion_id }) }
    }

    /// One message per message Telegram will receive (see [`crate::reply::Action::into_parts`]),
    /// same chat and priority, in order: the outbox keeps one row, and so one delivery state, per
    /// message. A payload that is not an action is kept as it is.
    pub fn into_parts(self) -> Vec<OutMessage> {
        let Ok(action) = crate::reply::Action::decode(&self.payload) else { return vec![self] };
        let parts = action.into_parts();
        if parts.len() == 1 {
            return vec![self];
        }
        parts
            .into_iter()
            .map(|a| OutMessage {
                chat_id: self.chat_id,
                payload: a.encode(),
                priority: self.priority,
                held: self.held,
            })
            .collect()
    }
}

/// Renders the messages that follow a submission, given its reference number and id.
pub type ReceiptFn = Box<dyn FnOnce(&ReferenceNo, i64) -> Vec<OutMessage> + Send>;

/// Everything one processed update changes, applied in one transaction.
pub struct Commit {
    /// The update this work came from; marked processed in the same transaction.
    pub update_id: Option<i64>,
    pub chat_id: i64,
    /// The chat's new dialog state (JSON); `None` leaves it as it is.
    pub dialog: Option<String>,
    pub messages: Vec<OutMessage>,
    /// A suggestion to file, and the messages to send once its reference number is known.
    pub submission: Option<(NewSuggestion, ReceiptFn)>,
    /// A change to an existing suggestion (accept, assign, reply, rate, …).
    pub change: Option<Change>,
    pub now: DateTime<Utc>,
}

/// A write a conversation asks for beside its dialog state, its messages, a suggestion or a
/// change: applied by `Store::commit_with` in the same transaction, and answered by its `reply`,
/// rendered from the outcome (as `ReceiptFn` is from the reference number).
pub enum Effect {
    /// Binds the Telegram account to whoever the invite code is for (`Store::redeem_invite`).
    RedeemInvite { code_hash: String, telegram_user_id: i64, chat_id: i64, language: Option<String>, reply: RedeemedFn },
    /// Writes a broadcast and queues one member's copy per member reached (`Store::create_broadcast`).
    CreateBroadcast { broadcast: NewBroadcast, render: MemberCopyFn, reply: QueuedFn },
    /// Stops a broadcast's messages not yet sent (`Store::cancel_broadcast`).
    CancelBroadcast { id: i64, reply: StoppedFn },
    /// Invites members to co-sign (联名) the suggestion filed by the same commit, each
    /// invitation open until `expires_at`; nothing without a suggestion filed.
    InviteCosigners { member_ids: Vec<i64>, expires_at: DateTime<Utc> },
}

/// Renders the answer to an invite code from how redeeming it went.
pub type RedeemedFn = Box<dyn FnOnce(&Redeemed) -> Vec<OutMessage> + Send>;
/// Renders a member's copy of a broadcast from the member's Telegram language (owned `RenderFn`).
pub type MemberCopyFn = Box<dyn Fn(Option<&str>) -> String + Send + Sync>;
/// Renders the answer to a queued broadcast from its id and the number of members it reaches.
pub type QueuedFn = Box<dyn FnOnce(i64, usize) -> Vec<OutMessage> + Send>;
/// Renders the answer to stopping a broadcast: how many messages were stopped and the progress
/// after it; `None` if there is no such broadcast.
pub type StoppedFn = Box<dyn FnOnce(Option<(i64, BroadcastProgress)>) -> Vec<OutMessage> + Send>;

impl std::fmt::Debug for Effect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::RedeemInvite { telegram_user_id, .. } => {
                f.debug_struct("RedeemInvite").field("telegram_user_id", telegram_user_id).finish()
            }
            Self::CreateBroadcast { broadcast, .. } => {
                f.debug_struct("CreateBroadcast").field("broadcast", broadcast).finish()
            }
            Self::CancelBroadcast { id, .. } => f.debug_struct("CancelBroadcast").field("id", id).finish(),
            Self::InviteCosigners { member_ids, expires_at } => f
                .debug_struct("InviteCosigners")
                .field("member_ids", member_ids)
                .field("expires_at", expires_at)
                .finish(),
        }
    }
}

#[derive(Debug)]
pub enum Committed {
    Done {
        outbox: Vec<OutboxRow>,
        reference: Option<ReferenceNo>,
    },
    /// The update had been processed before: nothing was changed.
    AlreadyProcessed,
    /// The suggestion's state changed since the change was planned, or its once-only action
    /// (`Change::once_key`) was done meanwhile: nothing was changed; plan again.
    Conflict,
}

/// How an attempt to send an outbox message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryResult {
    Sent,
    /// Telegram refused it for good (chat not found, bad request), or attempts ran out.
    Failed,
    /// The person blocked the bot (403): not retried, and a member is marked unreachable.
    Blocked,
    /// A timeout after the request left: it may have arrived, so it is not sent again.
    Uncertain,
    /// A server or network error: counted as an attempt, tried again at `at_ms` (unix ms).
    Retry {
        at_ms: i64,
    },
    /// Telegram asked to wait (429): tried again at `at_ms`, not counted as an attempt.
    Postpone {
        at_ms: i64,
    },
    /// Part `part` (0-based) of a row holding several parts (written by an older version) arrived
    /// and more remain: the row stays pending, the next attempt sends part `part + 1`, with a fresh
    /// count of attempts. Recorded only if the row is still at `part`.
    PartSent {
        part: i64,
    },
}

/// The roster: members, workstations, staff, departments and their liaisons, and the invites that
/// bind them to Telegram.
#[async_trait]
pub trait RosterStore: Send + Sync {
    // The roster.
    async fn upsert_workstations(&self, rows: &[(String, String)]) -> Result<usize>;
    /// Inserts or updates members by member number. A long roster is written in batches, each its
    /// own transaction, so other writers are not held up for its whole length: if it fails
    /// midway, the rows before stay imported, and importing the same file again finishes it.
    async fn import_members(&self, rows: &[RosterRow], now: DateTime<Utc>) -> Result<ImportSummary>;
    async fn member_by_no(&self, member_no: &MemberNo) -> Result<Option<Member>>;
    async fn member_by_telegram(&self, telegram_user_id: i64) -> Result<Option<Member>>;
    async fn members(&self) -> Result<Vec<Member>>;
    /// Members who blocked the bot, with when it was noticed.
    async fn unreachable_members(&self) -> Result<Vec<(Member, DateTime<Utc>)>>;
    /// Telegram said (a `my_chat_member` update) that the person with this account blocked the
    /// bot (`reachable` false) or allowed it again (true). Marks the member, if it is one.
    async fn set_reachable(&self, telegram_user_id: i64, reachable: bool, now: DateTime<Utc>) -> Result<()>;
    async fn create_invite(
        &self,
        member_id: i64,
        code_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()>;
    async fn redeem_invite(
        &self,
        code_hash: &str,
        telegram_user_id: i64,
        chat_id: i64,
        language: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Redeemed>;
    // Staff, departments and their liaisons.
    async fn identity_by_telegram(&self, telegram_user_id: i64) -> Result<Option<Identity>>;
    async fn add_staff(&self, name: &str, now: DateTime<Utc>) -> Result<Staff>;
    async fn add_department(&self, name: &str, short_name: Option<&str>) -> Result<Department>;
    async fn departments(&self) -> Result<Vec<Department>>;
    async fn department(&self, id: i64) -> Result<Option<Department>>;
    async fn department_by_name(&self, name: &str) -> Result<Option<Department>>;
    async fn add_liaison(&self, department_id: i64, name: &str, now: DateTime<Utc>) -> Result<Liaison>;
    async fn create_invite_for(
        &self,
        target: InviteTarget,
        code_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()>;
    async fn staff_recipients(&self) -> Result<Vec<Recipient>>;
    async fn liaison_recipients(&self, department_id: i64) -> Result<Vec<Recipient>>;
}

/// Durable intake: updates stored before they are confirmed, dialog states, and the one transaction
/// that applies an update's outcome.
#[async_trait]
pub trait IntakeStore: Send + Sync {
    // Dialogs and durable intake.
    async fn dialog_state(&self, chat_id: i64) -> Result<Option<String>>;
    /// Stores updates not seen before; returns the ids that were new.
    async fn store_updates(&self, updates: &[IncomingUpdate], now: DateTime<Utc>) -> Result<Vec<i64>>;
    async fn last_update_id(&self) -> Result<Option<i64>>;
    async fn pending_updates(&self) -> Result<Vec<StoredUpdate>>;
    /// Counts a failed processing attempt; returns the attempts so far.
    async fn record_update_failure(&self, update_id: i64, error: &str) -> Result<i64>;
    /// Gives up on an update after repeated failures, keeping it and its error for an admin.
    async fn abandon_update(
        &self,
        update_id: i64,
        messages: Vec<OutMessage>,
        now: DateTime<Utc>,
    ) -> Result<Vec<OutboxRow>>;
    async fn commit(&self, commit: Commit) -> Result<Committed> {
        self.commit_with(commit, Vec::new()).await
    }
    /// `commit`, with the conversation's effects applied in the same transaction (in order, after
    /// the change and the submission); their replies join the outbox.
    async fn commit_with(&self, commit: Commit, effects: Vec<Effect>) -> Result<Committed>;
}

/// Topics and suggestions, and the workflow's facts and changes.
#[async_trait]
pub trait WorkflowStore: Send + Sync {
    // Topics.
    async fn add_topic(&self, topic: NewTopic, now: DateTime<Utc>) -> Result<Topic>;
    async fn topics(&self) -> Result<Vec<Topic>>;
    /// Topics members can answer now, the pinned ones first, then the newest.
    async fn open_topics(&self, now: DateTime<Utc>) -> Result<Vec<Topic>>;
    async fn topic(&self, id: i64) -> Result<Option<Topic>>;
    async fn close_topic(&self, id: i64, now: DateTime<Utc>) -> Result<bool>;
    // Suggestions.
    async fn suggestions_of_member(&self, member_id: i64, limit: usize) -> Result<Vec<SuggestionSummary>>;
    async fn suggestion(&self, id: i64) -> Result<Option<Suggestion>>;
    // The workflow.
    async fn facts(&self, suggestion_id: i64) -> Result<Option<Facts>>;
    /// The suggestion with this reference number, read as people type it (`ReferenceNo::parse`:
    /// any case, full-width, any dash); `None` if there is none or the text is not one.
    async fn suggestion_id_by_reference(&self, reference_no: &str) -> Result<Option<i64>>;
    /// Suggestions waiting for staff to review, oldest first.
    async fn review_queue(&self, limit: usize) -> Result<Vec<SuggestionSummary>>;
    /// Suggestions per state.
    async fn state_counts(&self) -> Result<Vec<(SuggestionState, i64)>>;
    /// Applies a change on its own (not tied to a Telegram update).
    async fn apply_change(&self, change: Change, now: DateTime<Utc>) -> Result<Committed>;
    /// A page of the review queue: suggestions waiting for staff with an id above `after_id`, oldest first.
    async fn review_queue_after(&self, after_id: i64, limit: usize) -> Result<Vec<SuggestionSummary>>;
    async fn member_by_id(&self, id: i64) -> Result<Option<Member>>;
    /// A department's assignments still being worked on (status active) with an id above
    /// `after_id`, oldest first.
    async fn department_assignments(
        &self,
        department_id: i64,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<DepartmentAssignment>>;
    /// The co-departments' views on a suggestion, oldest first.
    async fn co_opinions(&self, suggestion_id: i64) -> Result<Vec<CoOpinion>>;
    /// Notifications about a suggestion that were kept because their recipient could not be
    /// written to, oldest first, with when each was queued once they could (`None`: still kept).
    async fn held_notifications(&self, suggestion_id: i64) -> Result<Vec<HeldNotification>>;
    /// Totals over all suggestions; `overdue` counts those still with a department past `now`.
    async fn totals(&self, now: DateTime<Utc>) -> Result<Totals>;
}

/// The outbox: what the delivery worker sends, in which order, and what became of it; chats
/// Telegram moved.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    // The outbox.
    /// Outbox rows this process commits from now on, handed over in memory once their transaction
    /// is durable, in commit order, so the delivery worker need not scan the table to find them.
    /// One subscriber at a time: subscribing again replaces the previous receiver. On SQLite, rows
    /// written by other processes (the CLI) are not in it; the worker still reads the table at
    /// start-up and now and then for those. On PostgreSQL, other instances' rows are handed over
    /// too (they notify on commit), and an empty batch means some may have been missed (a lost
    /// connection): the worker then reads the queue again.
    fn subscribe_outbox(&self) -> tokio::sync::mpsc::UnboundedReceiver<Vec<DueMessage>>;
    /// Messages due to be sent at `now_ms` (unix ms), replies first, then notifications, then
    /// broadcasts, each oldest first — without their payloads, which are read one by one as they
    /// are sent (`pending_payload`), so looking at the queue stays cheap however long it is.
    /// Only the first pending message of each chat (by priority, then id) is ever due: while it
    /// waits (a retry, Telegram's 429), the chat's later messages wait behind it, so part k+1 of a
    /// long text never goes before part k is recorded sent.
    async fn due_outbox(&self, limit: usize, now_ms: i64) -> Result<Vec<DueMessage>>;
    /// Pending messages, due or not, from the key `from` = `(priority, id)` on (inclusive), in
    /// `(priority, id)` order, at most `limit`: the delivery worker pages through the whole queue
    /// with it, a few hundred rows at a time, and orders each chat's messages in memory.
    async fn pending_outbox(&self, from: (i64, i64), limit: usize) -> Result<Vec<QueuedMessage>>;
    /// Messages with an id above `after_id`, whatever their status, in id order, at most `limit`:
    /// what was written since the delivery worker last looked (ids only grow, so this reads only
    /// new rows). Finds rows other processes (the CLI) queue.
    async fn outbox_since(&self, after_id: i64, limit: usize) -> Result<Vec<QueuedMessage>>;
    /// The highest outbox id so far (0 for an empty outbox).
    async fn outbox_last_id(&self) -> Result<i64>;
    /// A message's payload if it is still waiting to be sent (not sent, failed or cancelled).
    async fn pending_payload(&self, id: i64) -> Result<Option<PendingPayload>>;
    /// Records how an attempt to send message `id` ended. A message recorded sent stays sent: a
    /// later result for it (a late retry or failure, a second delivery of the same row) changes
    /// nothing; a cancelled message stays cancelled if the result would make it pending again.
    async fn outbox_result(
        &self,
        id: i64,
        result: DeliveryResult,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()>;
    // Chats Telegram moved (a group upgraded to a supergroup).
    /// Records that Telegram moved the chat `old_chat_id` to `new_chat_id` (a group upgraded to a
    /// supergroup: the `migrate_to_chat_id` of an error or of a service message, or its
    /// `migrate_from_chat_id` seen from the new chat), and re-addresses every outbox message still
    /// pending for the old chat to the new one (in their order). In one transaction, with
    /// `notice` (messages to tell people, e.g. staff, rendered by the caller) queued only when the
    /// move is new. Idempotent: returns `true` if the move was not known before, `false` if it was
    /// (pending messages are still re-addressed) or if `old_chat_id == new_chat_id`.
    async fn migrate_chat(
        &self,
        old_chat_id: i64,
        new_chat_id: i64,
        notice: Vec<OutMessage>,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// The chat a configured chat id now stands for: `configured` followed through every recorded
    /// move (`migrate_chat`), or `configured` itself if it never moved (0 stays 0). Used for the
    /// staff group (`staff.group_chat_id`), so /stats and the console can show the one in use.
    async fn current_chat(&self, configured: i64) -> Result<i64>;
}

/// Broadcasts, reminders and the overdue digest.
#[async_trait]
pub trait OutreachStore: Send + Sync {
    // Broadcasts.
    /// The levels, workstations or sectors an audience can be narrowed to, each with how many
    /// members it reaches now (`All` gives one option).
    async fn audience_options(&self, kind: AudienceKind) -> Result<Vec<AudienceOption>>;
    /// Members a broadcast to `audience` reaches now: bound to Telegram, active, not unreachable.
    async fn audience_reach(&self, audience: &Audience) -> Result<i64>;
    /// In one transaction: the broadcast, one pending outbox message (priority broadcast, rendered
    /// by `render` from the member's language) per member reached, and the composing chat's dialog
    /// state. Returns the broadcast's id and the number of messages.
    async fn create_broadcast(
        &self,
        broadcast: NewBroadcast,
        render: RenderFn<'_>,
        now: DateTime<Utc>,
    ) -> Result<(i64, usize)>;
    async fn broadcast_progress(&self, id: i64) -> Result<Option<BroadcastProgress>>;
    /// The newest broadcasts first.
    async fn recent_broadcasts(&self, limit: usize) -> Result<Vec<BroadcastProgress>>;
    /// Marks the broadcast cancelled and its messages not yet sent `cancelled`; returns how many
    /// were stopped, or `None` if there is no such broadcast.
    async fn cancel_broadcast(&self, id: i64) -> Result<Option<i64>>;
    // Reminders.
    /// Active assignments (of suggestions still being handled) due a reminder at `now` that has not
    /// been recorded for their current deadline: `Overdue` once the deadline has passed, `Before`
    /// when it falls within `before` of `now` (`key_before` for key suggestions, 重点建言).
    async fn due_reminders(
        &self,
        now: DateTime<Utc>,
        before: chrono::Duration,
        key_before: chrono::Duration,
    ) -> Result<Vec<DueReminder>>;
    /// Records the reminder and queues its messages in one transaction; `false` (and nothing
    /// queued) if it was recorded before.
    async fn record_reminder(
        &self,
        assignment_id: i64,
        deadline: DateTime<Utc>,
        kind: ReminderKind,
        messages: Vec<OutMessage>,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// Suggestions whose active lead assignment is past its deadline, the longest overdue first.
    async fn overdue_suggestions(&self, now: DateTime<Utc>) -> Result<Vec<OverdueSuggestion>>;
    /// Records the day's digest (`day` as YYYY-MM-DD, local) and queues its messages in one
    /// transaction; `false` (and nothing queued) if that day's digest was recorded before.
    async fn record_digest(&self, day: &str, messages: Vec<OutMessage>, now: DateTime<Utc>) -> Result<bool>;
}

/// Every area of the store, to call its methods on a concrete store (`use crate::store::prelude::*`);
/// through `dyn Store` they need no import.
pub mod prelude {
    pub use super::{
        ClusterStore, ConsoleStore, CosignStore, FileStore, InboxStore, IntakeStore, OutboxStore, OutreachStore,
        ReportStore, RosterStore, Store, WorkflowStore,
    };
}

/// Everything jianyan keeps, by area; any type with every area is a `Store` (the console's part is
/// `ConsoleStore`, its lists `InboxStore`, its figures `ReportStore`).
pub trait Store:
    RosterStore
    + IntakeStore
    + WorkflowStore
    + OutboxStore
    + OutreachStore
    + ConsoleStore
    + InboxStore
    + ReportStore
    + ClusterStore
    + CosignStore
    + FileStore
{
}

impl<T> Store for T where
    T: RosterStore
        + IntakeStore
        + WorkflowStore
        + OutboxStore
        + OutreachStore
        + ConsoleStore
        + InboxStore
        + ReportStore
        + ClusterStore
        + CosignStore
        + FileStore
{
}
