//! What the store answers for the dashboard and the console's topic, department and roster pages.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Liaison, Member, NewTopic, Result, Topic};
use crate::domain::{MemberLevel, SuggestionKind, SuggestionState, TopicStatus};

/// Which members the roster page lists. Test members (the dialog preview's) never.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberFilter {
    /// Text inside the name, the member number or the phone; empty for any.
    pub search: String,
    pub workstation: Option<String>,
    pub level: Option<MemberLevel>,
    pub sector: Option<String>,
    /// `Some(true)`: bound to Telegram; `Some(false)`: not yet.
    pub bound: Option<bool>,
    /// Only members who blocked the bot.
    pub unreachable_only: bool,
}

/// The roster's totals: members, those bound to Telegram, those who blocked the bot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemberCounts {
    pub total: i64,
    pub bound: i64,
    pub unreachable: i64,
}

/// Which suggestions a dashboard counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Every suggestion (staff and admin).
    #[default]
    All,
    /// Only suggestions assigned to this department (not counting superseded routings), and only its
    /// own assignments in the overdue list.
    Department(i64),
}

/// An active assignment past its deadline.
#[derive(Debug, Clone, PartialEq)]
pub struct OverdueAssignment {
    pub suggestion_id: i64,
    pub reference_no: String,
    pub title: String,
    pub department_name: String,
    pub lead: bool,
    pub deadline: DateTime<Utc>,
}

/// A key suggestion (重点建言) and how far it is, as the dashboard lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct KeySuggestion {
    pub suggestion_id: i64,
    pub reference_no: String,
    pub title: String,
    /// The supervising leader (督办领导).
    pub leader: String,
    pub state: SuggestionState,
    /// The lead department (主办单位), once assigned.
    pub lead_department: Option<String>,
    /// When the lead department's answer is due.
    pub deadline: Option<DateTime<Utc>>,
}

impl KeySuggestion {
    /// Still with a department (assigned, in progress or reopened): its deadline counts down.
    pub fn being_handled(&self) -> bool {
        matches!(self.state, SuggestionState::Assigned | SuggestionState::InProgress | SuggestionState::Reopened)
    }
}

/// Everything the dashboard shows, within a scope.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DashboardData {
    pub by_state: Vec<(SuggestionState, i64)>,
    /// Topic title (`None`: no particular topic) and count, the largest first.
    pub by_topic: Vec<(Option<String>, i64)>,
    pub by_kind: Vec<(SuggestionKind, i64)>,
    /// Workstation name of the member (`None`: no workstation) and count, the largest first.
    pub by_workstation: Vec<(Option<String>, i64)>,
    /// For each suggestion the lead department replied to: when it was assigned to that department
    /// and when the first reply came.
    pub answer_times: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Active assignments past their deadline, the longest overdue first.
    pub overdue: Vec<OverdueAssignment>,
    pub adopted: i64,
    /// Suggestions that were accepted, whatever happened after (assigned, answered, closed, …).
    pub accepted_or_later: i64,
    /// Key suggestions (重点建言): those still with a department first, the deadline soonest
    /// first, then the others, the newest first.
    pub key: Vec<KeySuggestion>,
}

/// One workstation's answer to a topic (同题共答).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkstationAnswer {
    pub workstation_id: i64,
    pub name: String,
    /// Members of the workstation who sent at least one suggestion on the topic.
    pub members: i64,
    pub suggestions: i64,
    /// Points (条) in those suggestions.
    pub points: i64,
    pub adopted: i64,
}

/// Which suggestions the annual figures (年度统计) count: one year's (by the year of their
/// reference number), optionally one topic's or one department's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FiguresFilter {
    pub year: i32,
    pub topic_id: Option<i64>,
    /// Assigned to this department, as lead or co-department (an assignment not superseded).
    pub department_id: Option<i64>,
}

/// One suggestion as the annual figures count it (`crate::figures::compute`). Withdrawn ones and
/// test members' are never read.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureRow {
    pub suggestion_id: i64,
    pub state: SuggestionState,
    /// Its points (条).
    pub points: i64,
    pub adopted: bool,
    /// It has a lead department (an assignment not superseded).
    pub assigned: bool,
    /// When the first reply came, if any.
    pub first_reply_at: Option<DateTime<Utc>>,
    /// The deadline the first reply was due by: the first lead assignment of the department that
    /// gave it (a reopening later extends the deadline, but not the first answer's).
    pub first_reply_due: Option<DateTime<Utc>>,
    /// The class (答复分类 code) of the latest reply: what became of it (落实情况).
    pub reply_class: Option<String>,
    /// The latest rating's code (`Rating::as_str`): the member's last word.
    pub rating: Option<String>,
}

#[async_trait]
pub trait ReportStore: Send + Sync {
    /// The suggestions the annual figures count, one row each, by id. Withdrawn suggestions and
    /// test members' are left out.
    async fn figure_rows(&self, filter: &FiguresFilter) -> Result<Vec<FigureRow>>;
    /// The years that have suggestions (test members' left out), the latest first.
    async fn figure_years(&self) -> Result<Vec<i32>>;
    /// The dashboard's numbers at `now`. Withdrawn suggestions are not counted in the charts.
    async fn dashboard(&self, scope: Scope, now: DateTime<Utc>) -> Result<DashboardData>;
    /// Every workstation (also those with nothing yet) and what its members sent on the topic.
    async fn topic_by_workstation(&self, topic_id: i64) -> Result<Vec<WorkstationAnswer>>;
    /// Changes a topic's title, description, class, form, closing time and pin; pinning it unpins
    /// the others. `None` if there is no such topic.
    async fn update_topic(&self, id: i64, topic: NewTopic, now: DateTime<Utc>) -> Result<Option<Topic>>;
    /// Opens or closes a topic (closing also unpins it); `false` if there is no such topic or it
    /// already had that status.
    async fn set_topic_status(&self, id: i64, status: TopicStatus, now: DateTime<Utc>) -> Result<bool>;
    /// Every department liaison, by department.
    async fn liaisons(&self) -> Result<Vec<Liaison>>;
    /// A page of the roster in member-number order: members matching `filter` with a member number
    /// after `after` (from the start if `None`), at most `limit`.
    async fn members_page(&self, filter: &MemberFilter, after: Option<&str>, limit: usize) -> Result<Vec<Member>>;
    /// How many members match `filter`.
    async fn count_members(&self, filter: &MemberFilter) -> Result<i64>;
    /// The roster's totals (test members left out).
    async fn member_counts(&self) -> Result<MemberCounts>;
    /// The workstations and the sectors members belong to, each sorted, for the roster's filters.
    async fn roster_facets(&self) -> Result<(Vec<String>, Vec<String>)>;
}
