//! What a person can choose under a reply, as one typed enum of stable ids.
//!
//! The dialog and the workflow offer choices (`reply::Choice`: a label and a `ChoiceId`) and get
//! the chosen id back in `dialog::Input::Choice`. Each channel carries the id its own way: the
//! Telegram adapter as callback data of at most 64 bytes (`bot::callback`), the web preview as the
//! id's JSON. Ids are stored with the replies in the outbox, so renaming a variant or a field is
//! a change of the stored format.

use serde::{Deserialize, Serialize};

use crate::domain::{Act, AudienceKind, MemberLevel, Rating, SuggestionKind};

/// One thing that can be chosen. Ids of a question being answered carry the dialog's nonce, so a
/// choice left under an older question is recognised as stale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChoiceId {
    /// The topic of a draft; 0 is "no particular topic".
    Topic {
        nonce: u32,
        topic_id: i64,
    },
    Kind {
        nonce: u32,
        kind: SuggestionKind,
    },
    /// The draft's content is complete.
    Done {
        nonce: u32,
    },
    Preview {
        nonce: u32,
        action: PreviewAction,
    },
    /// Open one of the member's suggestions.
    Show {
        suggestion_id: i64,
    },
    /// Start a suggestion, optionally on a topic (from /topics or a broadcast).
    New {
        topic_id: Option<i64>,
    },
    /// A staff member's review act on a notification, a queue entry or a looked-up suggestion.
    Review {
        act: Act,
        suggestion_id: i64,
    },
    /// A department's act on an assignment.
    Department {
        act: Act,
        suggestion_id: i64,
    },
    /// A member's rating of the reply numbered `reply_no` (1 for the first).
    Rating {
        suggestion_id: i64,
        reply_no: i64,
        choice: RatingChoice,
    },
    /// A step of the staff's assignment wizard (or cancelling a staff task).
    StaffWizard {
        nonce: u32,
        op: WizardOp,
    },
    /// A step of a liaison's reply wizard (or cancelling a liaison's task).
    DepartmentWizard {
        nonce: u32,
        op: WizardOp,
    },
    /// The next page of the review queue, after the suggestion shown last.
    ReviewPage {
        after_id: i64,
    },
    /// The next page of a department's to-do list, after the assignment shown last.
    TodoPage {
        after_id: i64,
    },
    /// The broadcast composer and a broadcast's progress.
    Broadcast(BroadcastChoice),
    /// The member's 撤回 of a suggestion not yet accepted: first asked (`confirmed: false`), then
    /// confirmed.
    Withdraw {
        suggestion_id: i64,
        confirmed: bool,
    },
    /// An invited member's answer to an invitation to co-sign (联名): 同意联名 or 不同意.
    Cosign {
        suggestion_id: i64,
        accept: bool,
    },
    /// Co-signing (联名) an alike suggestion listed at the preview instead of filing the draft:
    /// first asked (`confirmed: false`), then confirmed.
    JoinCosign {
        nonce: u32,
        suggestion_id: i64,
        confirmed: bool,
    },
    /// A step of choosing the members a draft's lead invites to co-sign.
    Cosigners {
        nonce: u32,
        op: CosignerOp,
    },
}

/// Choosing co-signers: one of several members of the same name, taking one off the list, or
/// back to the preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CosignerOp {
    Pick(i64),
    Remove(i64),
    Done,
}

/// What a preview choice does to the draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreviewAction {
    Submit,
    Discard,
    EditTopic,
    EditKind,
    EditTitle,
    AddBody,
    RewriteBody,
    /// Invite members to co-sign (联名).
    Cosign,
    /// Back to the preview as it was (from the question whether to co-sign another instead).
    Back,
}

impl PreviewAction {
    pub const ALL: [PreviewAction; 9] = [
        Self::Submit,
        Self::Discard,
        Self::EditTopic,
        Self::EditKind,
        Self::EditTitle,
        Self::AddBody,
        Self::RewriteBody,
        Self::Cosign,
        Self::Back,
    ];
}

/// The member's choice on a rating: a rating, or skipping the reason after 不满意.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatingChoice {
    Rate(Rating),
    SkipReason,
}

/// A wizard's step: the staff's assignment (lead, co-departments, deadline, confirm) or a
/// liaison's reply (class, document, preview); `Cancel` ends either task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WizardOp {
    Cancel,
    /// The lead department.
    Lead(i64),
    /// A co-department, ticked or unticked.
    Co(i64),
    /// Done with the co-departments.
    Next,
    /// The default deadline.
    DefaultDeadline,
    Confirm,
    /// The reply class, by its code.
    Class(String),
    /// No document with the reply.
    SkipDocument,
    /// Write the reply again.
    Rewrite,
    /// The reply letter's (答复函) fields: opens them from the reply's preview, and goes back to
    /// the preview from them.
    Letter,
}

/// The broadcast composer's choices and a broadcast's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BroadcastChoice {
    /// A step of the draft; the nonce makes an old keyboard stale.
    Draft {
        nonce: u32,
        action: DraftAction,
    },
    /// The recent broadcasts with their progress.
    List,
    Progress {
        id: i64,
    },
    /// Asks to confirm stopping.
    Stop {
        id: i64,
    },
    StopConfirmed {
        id: i64,
    },
}

/// What a broadcast draft choice does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftAction {
    /// A topic; 0 is "no particular topic".
    Topic(i64),
    All,
    Narrow(AudienceKind),
    Level(MemberLevel),
    Workstation(i64),
    /// An index into the sectors offered.
    Sector(usize),
    Page(usize),
    Back,
    Confirm,
    EditText,
    EditAudience,
    Cancel,
    /// The choice on the preview of the member's copy: it only explains itself.
    PreviewButton,
}
