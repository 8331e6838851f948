//! Reads chat states saved before flows were types: a `step` and a draft beside four optional
//! task fields. Each is converted to the one flow it stood for.
//!
//! Several fields could be set at once in that shape. What the chat answered next decides: a
//! broadcast being composed took a staff member's text before a staff task did; a member's rating
//! reason came before the draft, which went on afterwards.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{
    AssignDraft, AssignStep, DepartmentAsk, Dialog, Draft, Flow, RatingTask, ReplyDraft, ReplyStep, StaffAsk, Step,
    Submission, Task,
};
use crate::dialog::broadcast::BroadcastDraft;
use crate::store::Attachment;

/// A saved state in either shape; the current one is tried first.
// Read once per update and converted at once: the size of either variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum Stored {
    Current { nonce: u32, flow: Flow },
    Legacy(LegacyDialog),
}

impl From<Stored> for Dialog {
    fn from(stored: Stored) -> Self {
        match stored {
            Stored::Current { nonce, flow } => Dialog { nonce, flow },
            Stored::Legacy(legacy) => legacy.into(),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct LegacyDialog {
    nonce: u32,
    step: LegacyStep,
    draft: Draft,
    #[serde(default)]
    staff_task: Option<LegacyStaffTask>,
    #[serde(default)]
    department_task: Option<LegacyDepartmentTask>,
    #[serde(default)]
    broadcast: Option<BroadcastDraft>,
    #[serde(default)]
    rating_task: Option<RatingTask>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum LegacyStep {
    Idle,
    Topic,
    Kind,
    Title,
    Body,
    Preview,
}

#[derive(Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
enum LegacyStaffTask {
    RejectReason {
        suggestion_id: i64,
        message_id: i32,
    },
    MergeTarget {
        suggestion_id: i64,
        message_id: i32,
    },
    Instruction {
        suggestion_id: i64,
        message_id: i32,
    },
    Assign {
        suggestion_id: i64,
        message_id: i32,
        step: AssignStep,
        lead: Option<i64>,
        #[serde(default)]
        co: Vec<i64>,
        #[serde(default)]
        deadline: Option<DateTime<Utc>>,
    },
}

#[allow(clippy::large_enum_variant)] // read and converted at once, as `Stored`
#[derive(Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
enum LegacyDepartmentTask {
    ReturnReason {
        suggestion_id: i64,
        message_id: i32,
    },
    Opinion {
        suggestion_id: i64,
        message_id: i32,
    },
    Reply {
        suggestion_id: i64,
        message_id: i32,
        step: ReplyStep,
        #[serde(default)]
        class: Option<String>,
        #[serde(default)]
        text: Option<String>,
        #[serde(default)]
        document: Option<Attachment>,
    },
}

impl From<LegacyStaffTask> for Task<StaffAsk> {
    fn from(task: LegacyStaffTask) -> Self {
        let (suggestion_id, message_id, asks) = match task {
            LegacyStaffTask::RejectReason { suggestion_id, message_id } => {
                (suggestion_id, message_id, StaffAsk::RejectReason)
            }
            LegacyStaffTask::MergeTarget { suggestion_id, message_id } => {
                (suggestion_id, message_id, StaffAsk::MergeTarget)
            }
            LegacyStaffTask::Instruction { suggestion_id, message_id } => {
                (suggestion_id, message_id, StaffAsk::Instruction)
            }
            LegacyStaffTask::Assign { suggestion_id, message_id, step, lead, co, deadline } => {
                (suggestion_id, message_id, StaffAsk::Assign(AssignDraft { step, lead, co, deadline }))
            }
        };
        Task { suggestion_id, message_id, asks }
    }
}

impl From<LegacyDepartmentTask> for Task<DepartmentAsk> {
    fn from(task: LegacyDepartmentTask) -> Self {
        let (suggestion_id, message_id, asks) = match task {
            LegacyDepartmentTask::ReturnReason { suggestion_id, message_id } => {
                (suggestion_id, message_id, DepartmentAsk::ReturnReason)
            }
            LegacyDepartmentTask::Opinion { suggestion_id, message_id } => {
                (suggestion_id, message_id, DepartmentAsk::Opinion)
            }
            LegacyDepartmentTask::Reply { suggestion_id, message_id, step, class, text, document } => (
                suggestion_id,
                message_id,
                DepartmentAsk::Reply(Box::new(ReplyDraft { step, class, text, document, letter: Default::default() })),
            ),
        };
        Task { suggestion_id, message_id, asks }
    }
}

impl From<LegacyDialog> for Dialog {
    fn from(old: LegacyDialog) -> Self {
        let step = match old.step {
            LegacyStep::Idle => None,
            LegacyStep::Topic => Some(Step::Topic),
            LegacyStep::Kind => Some(Step::Kind),
            LegacyStep::Title => Some(Step::Title),
            LegacyStep::Body => Some(Step::Body),
            LegacyStep::Preview => Some(Step::Preview),
        };
        let submission = step.map(|step| Submission { step, draft: old.draft });
        let flow = if let Some(draft) = old.broadcast {
            Flow::Broadcast(draft)
        } else if let Some(task) = old.staff_task {
            Flow::Staff(task.into())
        } else if let Some(task) = old.department_task {
            Flow::Department(task.into())
        } else if let Some(task) = old.rating_task {
            Flow::RatingReason { task, resume: submission }
        } else {
            submission.map_or(Flow::Idle, Flow::Submission)
        };
        Dialog { nonce: old.nonce, flow }
    }
}
