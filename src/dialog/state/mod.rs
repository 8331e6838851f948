//! The saved state of one chat: the flow it is in, each flow carrying exactly what it has collected.
//!
//! Saved as JSON (the `dialogs` table) after every update. States saved in the earlier shape (a
//! `step` beside four optional task fields) still load: see `legacy`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::broadcast::BroadcastDraft;
use crate::domain::SuggestionKind;
use crate::letter::ReplyLetter;
use crate::store::Attachment;

mod legacy;

/// Where a chat is. `Dialog::default()` is a chat at rest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "legacy::Stored")]
pub struct Dialog {
    /// Bumped with every question asked, whatever the flow: buttons carry it, so an old keyboard
    /// is recognised as stale. It keeps counting when a flow ends.
    pub nonce: u32,
    pub flow: Flow,
}

/// What the chat is in the middle of.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// Nothing asked; commands and menu keys start something.
    #[default]
    Idle,
    /// A member writing a suggestion.
    Submission(Submission),
    /// A member tapped 不满意 on a reply: the optional reason is asked for. A suggestion the member
    /// was writing meanwhile goes on once the reason is given or skipped.
    RatingReason { task: RatingTask, resume: Option<Submission> },
    /// A staff member's action on one suggestion waiting for more input.
    Staff(Task<StaffAsk>),
    /// A liaison's action on one suggestion waiting for more input.
    Department(Task<DepartmentAsk>),
    /// A broadcast being composed by staff.
    Broadcast(BroadcastDraft),
}

impl Dialog {
    /// The suggestion being written, also while a rating reason is asked for in between.
    pub fn submission(&self) -> Option<&Submission> {
        match &self.flow {
            Flow::Submission(s) | Flow::RatingReason { resume: Some(s), .. } => Some(s),
            _ => None,
        }
    }

    pub(super) fn submission_mut(&mut self) -> Option<&mut Submission> {
        match &mut self.flow {
            Flow::Submission(s) | Flow::RatingReason { resume: Some(s), .. } => Some(s),
            _ => None,
        }
    }

    /// The step of the suggestion being written; `None` when none is.
    pub fn step(&self) -> Option<Step> {
        self.submission().map(|s| s.step)
    }

    /// The broadcast being composed, if any.
    pub fn broadcast(&self) -> Option<&BroadcastDraft> {
        match &self.flow {
            Flow::Broadcast(d) => Some(d),
            _ => None,
        }
    }

    /// The rating waiting for its reason, if any.
    pub fn rating_task(&self) -> Option<&RatingTask> {
        match &self.flow {
            Flow::RatingReason { task, .. } => Some(task),
            _ => None,
        }
    }

    /// Leaves the rating reason: back to the suggestion being written, or at rest.
    pub(super) fn end_rating(&mut self) {
        if let Flow::RatingReason { resume, .. } = std::mem::take(&mut self.flow) {
            self.flow = resume.map_or(Flow::Idle, Flow::Submission);
        }
    }

    /// Asks for a rating reason, keeping a suggestion being written for after it.
    pub(super) fn begin_rating(&mut self, task: RatingTask) {
        let resume = match std::mem::take(&mut self.flow) {
            Flow::Submission(s) | Flow::RatingReason { resume: Some(s), .. } => Some(s),
            _ => None,
        };
        self.flow = Flow::RatingReason { task, resume };
    }
}

/// A suggestion being written: the question on screen and the draft so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    pub step: Step,
    pub draft: Draft,
}

/// The question a member writing a suggestion is answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Topic,
    Kind,
    Title,
    Body,
    Preview,
    /// Choosing members to invite to co-sign (联名), from the preview.
    Cosigners,
}

/// The member tapped 不满意 on a reply: the reason is asked for (it may be skipped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingTask {
    pub suggestion_id: i64,
    pub reply_no: i64,
    /// The answer whose rating buttons were pressed: they are removed once the rating is made.
    #[serde(default)]
    pub message_id: i32,
}

/// The topic a draft answers, once chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopicChoice {
    /// "No particular topic" (common for 社情民意信息).
    General,
    Topic(i64),
}

impl TopicChoice {
    pub fn id(self) -> Option<i64> {
        match self {
            Self::General => None,
            Self::Topic(id) => Some(id),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub topic: Option<TopicChoice>,
    pub kind: Option<SuggestionKind>,
    pub title: Option<String>,
    pub points: Vec<String>,
    /// Messages whose points are stored otherwise than typed (the member's own numbers left out,
    /// several numbered lines split into points), as typed: they go on the timeline.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub typed: Vec<String>,
    pub attachments: Vec<Attachment>,
    /// Came from the preview to change one part: go back to the preview after it.
    pub editing: bool,
    /// The dialog's nonce when this draft was begun. Every point acknowledged carries a 完成
    /// button; any of them (a nonce above this) still works while the content is being sent, as
    /// the action it stands for is still valid.
    #[serde(default)]
    pub since: u32,
    /// The album being received, item by item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub album: Option<AlbumProgress>,
    /// Members the lead invites to co-sign (联名), invited when the suggestion is submitted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cosigners: Vec<Invitee>,
    /// Members of the same name the lead is asked to choose between.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choosing: Vec<Invitee>,
}

/// A member on a draft's list of co-signers (or offered to choose from), as the lead sees them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invitee {
    pub member_id: i64,
    pub name: String,
    /// Member number, workstation and level: what tells members of the same name apart.
    pub detail: String,
}

/// How far an album has been taken into the draft.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlbumProgress {
    /// The album's `media_group_id`.
    pub id: String,
    /// Items added to the draft so far.
    pub added: usize,
    /// The album was refused as a whole (over the attachment limit): its other items are ignored.
    pub refused: bool,
}

/// A staff member's or a liaison's action on one suggestion, waiting for what `asks` names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task<A> {
    pub suggestion_id: i64,
    /// The message whose buttons started the task: its keyboard is removed once the task is done.
    pub message_id: i32,
    pub asks: A,
}

/// What a staff member is asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffAsk {
    /// 不予受理: the reason.
    RejectReason,
    /// 并案: the reference number of the suggestion to merge into.
    MergeTarget,
    /// 领导批示: the instruction's text.
    Instruction,
    /// 督办 退回修改: the note to the department.
    ReturnReplyNote,
    /// 督办 改分类后通过: the new reply class and the reason, typed as "B 理由".
    Reclassify,
    /// 重点建言: the supervising leader's name.
    KeyLeader,
    /// 交办: lead department → co-departments → deadline → confirmation.
    Assign(AssignDraft),
}

/// What a liaison is asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DepartmentAsk {
    /// 退回: the reason.
    ReturnReason,
    /// 协办意见: the co-department's view.
    Opinion,
    /// 会签: the co-department's proposed changes to the lead's draft reply.
    Proposal,
    /// 答复: reply class → text → optional document → preview → send.
    Reply(Box<ReplyDraft>),
}

/// An assignment being put together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignDraft {
    pub step: AssignStep,
    pub lead: Option<i64>,
    #[serde(default)]
    pub co: Vec<i64>,
    /// `None`: the default deadline (`workflow.deadline_months` from when it is assigned).
    #[serde(default)]
    pub deadline: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignStep {
    Lead,
    Co,
    Deadline,
    Confirm,
}

/// A reply being written by the lead department.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplyDraft {
    pub step: ReplyStep,
    #[serde(default)]
    pub class: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub document: Option<Attachment>,
    /// The 答复函 fields given so far (checked as they are typed).
    #[serde(default)]
    pub letter: ReplyLetter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyStep {
    Class,
    Text,
    Document,
    Preview,
    /// The 答复函 fields, typed one a line; back to the preview after.
    Letter,
}
