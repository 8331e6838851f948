//! What the store answers for the console's suggestion inbox, detail pages and exports.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Attachment, Result};
use crate::domain::{SuggestionKind, SuggestionState};
use crate::letter::ReplyLetter;

/// Which suggestions a list shows. Every field narrows it; the default shows everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InboxFilter {
    pub topic_id: Option<i64>,
    pub state: Option<SuggestionState>,
    pub kind: Option<SuggestionKind>,
    /// The member's workstation.
    pub workstation_id: Option<i64>,
    /// Assigned to this department (an assignment that is not superseded).
    pub department_id: Option<i64>,
    /// Submitted at or after.
    pub submitted_from: Option<DateTime<Utc>>,
    /// Submitted before.
    pub submitted_before: Option<DateTime<Utc>>,
    /// Words to find in the title and the body (all of them); empty for none.
    pub search: String,
    /// The permission restriction of a department account: only suggestions with a (not
    /// superseded) assignment of this department. Set by the caller from the viewer, not the form.
    pub visible_to_department: Option<i64>,
    /// Leave out suggestions of test members (the dialog preview's): exports do.
    pub exclude_test: bool,
    /// Only key suggestions (重点建言).
    pub key_only: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum InboxSort {
    #[default]
    Newest,
    Oldest,
    /// The answer due soonest first; suggestions without a deadline last.
    Deadline,
}

impl InboxSort {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::Oldest => "oldest",
            Self::Deadline => "deadline",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Newest, Self::Oldest, Self::Deadline].into_iter().find(|v| v.as_str() == s)
    }
}

/// Where a page starts (keyset pagination: no OFFSET, no COUNT over the whole table).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PageCursor {
    #[default]
    First,
    /// The rows after this row's key (`InboxRow::cursor`).
    After(String),
    /// The rows before this row's key.
    Before(String),
}

/// One suggestion as the inbox and the exports list it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct InboxRow {
    pub id: i64,
    pub reference_no: String,
    pub title: String,
    /// The points, numbered, one per line.
    pub body: String,
    pub points: i64,
    pub member_name: String,
    pub member_no: String,
    pub workstation: Option<String>,
    pub topic_title: Option<String>,
    pub kind: SuggestionKind,
    pub state: SuggestionState,
    /// The departments it is assigned to (not superseded), the lead first, joined by 、.
    pub departments: String,
    pub created_at: DateTime<Utc>,
    pub deadline: Option<DateTime<Utc>>,
    /// The console account's name that entered it for the member (代为提交), and how the member
    /// gave it; `None` when the member sent it themselves.
    pub entered_by_name: Option<String>,
    pub entered_via: Option<crate::domain::EntryChannel>,
    /// The latest rating's code (`satisfied` …), and how it was given when staff recorded it
    /// (代为评价); `None` when not rated.
    pub rating: Option<String>,
    pub rating_via: Option<crate::domain::EntryChannel>,
    /// The supervising leader when it is a key suggestion (重点建言).
    pub key_leader: Option<String>,
}

/// Sorts after every real deadline.
const NO_DEADLINE: &str = "9999";

impl InboxRow {
    /// This row's key in the given order, for `PageCursor`.
    pub fn cursor(&self, sort: InboxSort) -> String {
        match sort {
            InboxSort::Newest | InboxSort::Oldest => self.id.to_string(),
            InboxSort::Deadline => {
                let d = self.deadline.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false));
                format!("{}|{}", d.as_deref().unwrap_or(NO_DEADLINE), self.id)
            }
        }
    }
}

/// Splits a deadline-order cursor into its stored deadline text and id.
pub fn parse_deadline_cursor(s: &str) -> Option<(String, i64)> {
    let (d, id) = s.rsplit_once('|')?;
    Some((d.to_string(), id.parse().ok()?))
}

pub const NO_DEADLINE_KEY: &str = NO_DEADLINE;

#[derive(Debug, Clone, PartialEq)]
pub struct InboxPage {
    pub rows: Vec<InboxRow>,
    pub has_prev: bool,
    pub has_next: bool,
}

/// A department's reply, with the member's rating of it if there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplyRecord {
    /// The reply's id (its 答复函 is `/suggestions/{suggestion}/replies/{id}/letter.docx`).
    pub id: i64,
    pub department_id: i64,
    pub department_name: String,
    pub reply_class: String,
    pub text: String,
    pub document: Option<Attachment>,
    /// The 答复函 fields; all `None` when none were given.
    pub letter: ReplyLetter,
    pub at: DateTime<Utc>,
    /// The rating's code (`Rating::as_str`), its reason and when.
    pub rating: Option<(String, String, DateTime<Utc>)>,
}

/// A timeline event with who did it, by name.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_name: Option<String>,
    pub event: String,
    pub text: String,
}

/// A suggestion another one may be compared with (`crate::similar`).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SimilarCandidate {
    pub id: i64,
    pub reference_no: String,
    pub title: String,
    pub state: SuggestionState,
    /// The points, numbered, one per line.
    pub body: String,
}

/// How many of the newest suggestions on a topic a new one is compared with.
pub const SIMILAR_CANDIDATES: usize = 300;

#[async_trait]
pub trait InboxStore: Send + Sync {
    /// The newest suggestions (at most `limit`, the newest first) on the topic `topic_id` (`None`:
    /// on no topic) that another one may be compared with: not withdrawn, not merged, not refused,
    /// not a test member's, and not `except` (the one being compared). Narrowed by the topic's
    /// index and cut by id, so it stays cheap however many suggestions there are.
    async fn similar_candidates(
        &self,
        topic_id: Option<i64>,
        except: Option<i64>,
        limit: usize,
    ) -> Result<Vec<SimilarCandidate>>;
    /// A page of suggestions matching `filter`, in `sort` order, starting at `cursor`.
    async fn inbox(
        &self,
        filter: &InboxFilter,
        sort: InboxSort,
        cursor: &PageCursor,
        limit: usize,
    ) -> Result<InboxPage>;
    /// Every workstation: id and name, by name.
    async fn workstations(&self) -> Result<Vec<(i64, String)>>;
    /// The replies to a suggestion, oldest first, each with its rating.
    async fn replies_of(&self, suggestion_id: i64) -> Result<Vec<ReplyRecord>>;
    /// The timeline with the actors' names, oldest first.
    async fn timeline_of(&self, suggestion_id: i64) -> Result<Vec<TimelineEntry>>;
}
