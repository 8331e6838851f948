//! What the store knows about reaching out: broadcasts to members, and reminders (催办) and the
//! overdue digest for departments and staff.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::MemberLevel;

use super::AssignmentRole;

/// Who a broadcast goes to. Only members who can be reached are counted and sent to: bound to
/// Telegram, active, and not known to have blocked the bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    All,
    Level(MemberLevel),
    /// A workstation (委员工作站), by id.
    Workstation(i64),
    /// A sector (界别), as the roster spells it.
    Sector(String),
}

impl Audience {
    pub fn kind(&self) -> AudienceKind {
        match self {
            Audience::All => AudienceKind::All,
            Audience::Level(_) => AudienceKind::Level,
            Audience::Workstation(_) => AudienceKind::Workstation,
            Audience::Sector(_) => AudienceKind::Sector,
        }
    }
}

pub use crate::domain::AudienceKind;

impl AudienceKind {
    /// As stored in `broadcasts.audience_kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Level => "level",
            Self::Workstation => "workstation",
            Self::Sector => "sector",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::All, Self::Level, Self::Workstation, Self::Sector].into_iter().find(|k| k.as_str() == s)
    }
}

/// One choice within an audience kind (a level, a workstation, a sector) and whom it reaches now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceOption {
    pub audience: Audience,
    /// The level, workstation or sector name.
    pub label: String,
    pub reachable: i64,
}

/// Renders a member's copy of a broadcast (the outbox payload) from the member's Telegram language.
pub type RenderFn<'a> = &'a (dyn Fn(Option<&str>) -> String + Send + Sync);

/// A broadcast to write, with one outbox message per member reached.
#[derive(Debug, Clone)]
pub struct NewBroadcast {
    pub topic_id: Option<i64>,
    pub text: String,
    pub audience: Audience,
    pub staff_id: Option<i64>,
    /// The composing chat's dialog state after confirming, saved in the same transaction: a
    /// confirmation processed again (after a crash or a retry) then finds no draft to send twice.
    pub dialog: Option<(i64, String)>,
    /// The key of the confirmation that asked for it: a second request with the same key gets
    /// the first broadcast back instead of a new one.
    pub request_key: Option<String>,
}

/// A broadcast and how far its sending got.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct BroadcastProgress {
    pub id: i64,
    pub topic_id: Option<i64>,
    pub topic_title: Option<String>,
    pub text: String,
    pub audience_kind: AudienceKind,
    /// The level, workstation or sector name; empty for everyone.
    pub audience_value: String,
    pub total: i64,
    /// Staff stopped it: what was still pending was not sent.
    pub cancelled: bool,
    pub created_at: DateTime<Utc>,
    pub sent: i64,
    pub pending: i64,
    pub failed: i64,
    pub blocked: i64,
    pub uncertain: i64,
    pub not_sent: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderKind {
    /// The deadline is near.
    Before,
    /// The deadline has passed.
    Overdue,
}

impl ReminderKind {
    /// As stored in `reminders.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Before => "before",
            Self::Overdue => "overdue",
        }
    }
}

/// An active assignment that is due a reminder for its current deadline.
#[derive(Debug, Clone, PartialEq)]
pub struct DueReminder {
    pub assignment_id: i64,
    pub kind: ReminderKind,
    pub suggestion_id: i64,
    pub reference_no: String,
    pub title: String,
    pub department_id: i64,
    pub department_name: String,
    pub role: AssignmentRole,
    pub deadline: DateTime<Utc>,
    /// The supervising leader when the suggestion is key (重点建言): reminded earlier, and said so.
    pub key_leader: Option<String>,
}

/// A suggestion whose lead department has not answered by the deadline.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OverdueSuggestion {
    pub suggestion_id: i64,
    pub reference_no: String,
    pub title: String,
    pub department_name: String,
    pub deadline: DateTime<Utc>,
}
