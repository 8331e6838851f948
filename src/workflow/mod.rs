//! The life of a suggestion after submission: who may do what (one place, deny by default), which
//! state follows, and who hears about it. Telegram, the console and the API all go through `plan`.
//!
//! - `permissions`: [`Actor`], [`Act`], [`permitted`], [`allowed_in`] — the rules of
//!   shared/domain.md.
//! - `commands/`: one file per [`Command`], with its own checks, its change and the notifications
//!   it causes.
//! - `notify`: the recipients and the notifications, rendered in one place.
//! - `keyboards`: the buttons notifications carry and their callback data.
//! - `refusal`: [`Refusal`], what a person is told when a request is refused.

mod commands;
mod keyboards;
pub mod notify;
mod permissions;
mod refusal;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};

pub use commands::LEADER_MAX_CHARS;
pub use keyboards::{countersign_keyboard, department_keyboard, rating_keyboard, review_keyboard, send_on_keyboard};
pub use notify::{chat_moved, staff_group, staff_recipients};
pub use permissions::{Act, Actor, act_as, allowed_in, permitted};
pub use refusal::{Refusal, letter_problem};

use crate::context::Ctx;
use crate::domain::{EntryChannel, SuggestionState};
use crate::letter::ReplyLetter;
use crate::locale::Lang;
use crate::store::{
    AssignmentInfo, AssignmentStatus, Attachment, Change, ChangeOp, Facts, OutMessage, Rating, Recipient, StoreError,
};

/// A request to change a suggestion.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Accept,
    Reject {
        reason: String,
    },
    Merge {
        into_reference: String,
    },
    Assign {
        lead: i64,
        co: Vec<i64>,
        deadline: Option<DateTime<Utc>>,
    },
    Instruct {
        text: String,
    },
    Adopt,
    Acknowledge,
    Return {
        reason: String,
    },
    CoOpinion {
        text: String,
    },
    Reply {
        class: String,
        text: String,
        document: Option<Attachment>,
        /// The 答复函 fields as typed; checked by `plan` (`ReplyLetter::checked`).
        letter: Box<ReplyLetter>,
    },
    /// `reply_no` is which reply the member rates (1 for the first); a stale button names an old one.
    Rate {
        reply_no: i64,
        rating: Rating,
        reason: String,
    },
    Withdraw,
    /// Staff record the rating a member gave by phone, on paper or in person (代为评价), for the
    /// reply numbered `reply_no` as in [`Command::Rate`].
    /// With `cosigner` (a member id), the rating of that accepted co-signer (联名), recorded as
    /// a co-signer's own (`cosigner_ratings`, not moving the state), in the states where a
    /// co-signer may rate.
    RecordRating {
        reply_no: i64,
        rating: Rating,
        reason: String,
        channel: EntryChannel,
        cosigner: Option<i64>,
    },
    /// 督办: staff pass the reply waiting for review on to the member; with `class`, under that
    /// reply class instead of the department's, for `reason` (recorded on the timeline).
    ApproveReply {
        class: Option<String>,
        reason: String,
    },
    /// 督办: staff send the reply waiting for review back to the lead department with a note.
    ReturnReply {
        note: String,
    },
    /// 会签: a co-department agrees with the lead's draft reply (`agree`, `text` optional) or
    /// proposes changes (`text`).
    Countersign {
        agree: bool,
        text: String,
    },
    /// 会签: the lead department sends its draft on, once every co-department answered or the
    /// countersign deadline passed.
    SendOn,
    /// An invited member's answer to an invitation to co-sign: 同意联名 (`accept`) or 不同意.
    Cosign {
        accept: bool,
    },
    /// A member co-signs (联名) this suggestion instead of filing their own draft on `topic_id`
    /// (`None`: no particular topic), which must be the suggestion's topic.
    JoinCosign {
        topic_id: Option<i64>,
    },
    /// Staff mark the suggestion key (重点建言) with the supervising leader's name (督办领导), or
    /// change that name.
    MarkKey {
        leader: String,
    },
    /// Staff take the key mark off.
    UnmarkKey,
}

impl Command {
    pub fn act(&self) -> Act {
        match self {
            Command::Accept => Act::Accept,
            Command::Reject { .. } => Act::Reject,
            Command::Merge { .. } => Act::Merge,
            Command::Assign { .. } => Act::Assign,
            Command::Instruct { .. } => Act::Instruct,
            Command::Adopt => Act::Adopt,
            Command::Acknowledge => Act::Acknowledge,
            Command::Return { .. } => Act::Return,
            Command::CoOpinion { .. } => Act::CoOpinion,
            Command::Reply { .. } => Act::Reply,
            Command::Rate { .. } => Act::Rate,
            Command::Withdraw => Act::Withdraw,
            Command::RecordRating { .. } => Act::RecordRating,
            Command::ApproveReply { class: None, .. } => Act::ApproveReply,
            Command::ApproveReply { class: Some(_), .. } => Act::ReclassifyReply,
            Command::ReturnReply { .. } => Act::ReturnReply,
            Command::Countersign { agree: true, .. } => Act::Countersign,
            Command::Countersign { agree: false, .. } => Act::ProposeChanges,
            Command::SendOn => Act::SendOn,
            Command::Cosign { .. } => Act::Cosign,
            Command::JoinCosign { .. } => Act::JoinCosign,
            Command::MarkKey { .. } | Command::UnmarkKey => Act::Key,
        }
    }
}

/// Longest reason, instruction, opinion or reply text, in characters.
pub const TEXT_MAX_CHARS: usize = 3000;

/// The text trimmed, or refused when empty or longer than [`TEXT_MAX_CHARS`].
fn text_of(s: &str) -> Result<String, Refusal> {
    let s = s.trim();
    if s.is_empty() {
        return Err(Refusal::EmptyText);
    }
    if s.chars().count() > TEXT_MAX_CHARS {
        return Err(Refusal::TooLong(TEXT_MAX_CHARS));
    }
    Ok(s.to_string())
}

/// Checks a request and, if it may go ahead, returns the change to apply and the notifications it
/// causes. Nothing is written: the caller applies the change in its own transaction.
pub async fn plan(
    ctx: &Ctx<'_>,
    actor: &Actor<'_>,
    suggestion_id: i64,
    command: Command,
) -> Result<Result<Change, Refusal>, StoreError> {
    let Some(facts) = ctx.store.facts(suggestion_id).await? else { return Ok(Err(Refusal::NotFound)) };
    let act = act_as(actor, command.act(), &facts);
    // The same once-only action again (a double click, a retried call, parallel requests): said
    // to be done already; the store refuses it too if it slips past this check.
    let once_key = once_key(actor, &command, &facts);
    if once_key.as_deref().is_some_and(|k| facts.done(k)) && permitted(actor, Act::View, &facts) {
        return Ok(Err(Refusal::AlreadyDone));
    }
    if !permitted(actor, act, &facts) {
        // Someone who may not even see it is not told it exists.
        let refusal = if permitted(actor, Act::View, &facts) { Refusal::Denied } else { Refusal::NotFound };
        return Ok(Err(refusal));
    }
    // A co-signer's rating recorded by staff is allowed where the co-signer's own is.
    let state_act = match command {
        Command::RecordRating { cosigner: Some(_), .. } => Act::CoRate,
        _ => act,
    };
    if !allowed_in(state_act, facts.state) {
        return Ok(Err(Refusal::WrongState(facts.state)));
    }
    let mut planner = Planner { ctx, facts: &facts, actor, messages: Vec::new(), once_key };
    match commands::plan(&mut planner, command).await {
        Ok(change) => Ok(Ok(change)),
        Err(Halt::Refused(refusal)) => Ok(Err(refusal)),
        Err(Halt::Failed(e)) => Err(e),
    }
}

/// The key naming an action that leaves the suggestion's state as it is and happens once
/// (`Change::once_key`): an adoption; an instruction with the same text; a department's
/// acknowledgement, opinion or return of its current assignment; a member's answer to an
/// invitation to co-sign (联名); a co-signer's rating of one reply. `None` for every other command
/// (those move the state, so the store's state check already lets only one through).
pub fn once_key(actor: &Actor<'_>, command: &Command, facts: &Facts) -> Option<String> {
    use sha2::{Digest, Sha256};
    let assignment = || {
        let department_id = actor.department_id()?;
        facts
            .assignments
            .iter()
            .rev()
            .find(|a| a.department_id == department_id && a.status != AssignmentStatus::Superseded)
            .map(|a| a.id)
    };
    let member = || match actor {
        Actor::Member(m) => Some(m.id),
        _ => None,
    };
    match command {
        Command::Adopt => Some("adopted".to_string()),
        Command::Instruct { text } => {
            let digest = Sha256::digest(text.trim().as_bytes());
            Some(format!("instructed:{}", hex::encode(&digest[..16])))
        }
        Command::Acknowledge => assignment().map(|id| format!("acknowledged:{id}")),
        Command::Return { .. } => assignment().map(|id| format!("returned:{id}")),
        Command::CoOpinion { .. } => assignment().map(|id| format!("co_opinion:{id}")),
        // A co-department answers each draft once (`countersigns` is unique per draft too).
        Command::Countersign { .. } => {
            let department_id = actor.department_id()?;
            facts.draft.as_ref().map(|d| format!("countersigned:{}:{department_id}", d.id))
        }
        // An invitation is answered once; a co-signer rates each reply once.
        Command::Cosign { .. } | Command::JoinCosign { .. } => member().map(|id| format!("cosign:{id}")),
        Command::Rate { reply_no, .. } if act_as(actor, Act::Rate, facts) == Act::CoRate => {
            member().map(|id| format!("co_rated:{reply_no}:{id}"))
        }
        // Staff recording a co-signer's rating: the same key as the co-signer's own.
        Command::RecordRating { reply_no, cosigner: Some(id), .. } => Some(format!("co_rated:{reply_no}:{id}")),
        _ => None,
    }
}

/// Why planning a command stopped short of a change: a refusal said to the person, or a failure
/// of the store. Lets the commands use `?` on both.
enum Halt {
    Refused(Refusal),
    Failed(StoreError),
}

impl From<Refusal> for Halt {
    fn from(refusal: Refusal) -> Self {
        Halt::Refused(refusal)
    }
}

impl From<StoreError> for Halt {
    fn from(e: StoreError) -> Self {
        Halt::Failed(e)
    }
}

/// What a command's planning gives: the change, or why there is none.
type Planned = Result<Change, Halt>;

/// One command being planned, after `plan`'s checks: the facts they were made against, who acts,
/// and the notifications gathered so far (see `notify`).
struct Planner<'a, 'c> {
    ctx: &'a Ctx<'c>,
    facts: &'a Facts,
    actor: &'a Actor<'a>,
    messages: Vec<OutMessage>,
    once_key: Option<String>,
}

impl Planner<'_, '_> {
    fn lang(&self, recipient: &Recipient) -> Lang {
        self.ctx.texts.lang_for(recipient.language.as_deref())
    }

    /// The member's language; the default one when they have no chat yet.
    fn member_lang(&self) -> Lang {
        self.facts.member.as_ref().map_or_else(|| self.ctx.texts.lang_for(None), |m| self.lang(m))
    }

    /// A date as people read it (see [`notify::local_date`]).
    fn date(&self, at: DateTime<Utc>) -> String {
        notify::local_date(self.ctx.config, at)
    }

    /// The acting department's current assignment; refused when the actor has none.
    fn own_assignment(&self) -> Result<AssignmentInfo, Refusal> {
        let department_id = self.actor.department_id().ok_or(Refusal::Denied)?;
        self.facts.active_assignment(department_id).cloned().ok_or(Refusal::Denied)
    }

    /// The change moving the suggestion to `new_state`, with the timeline's `event` and `text`,
    /// carrying every notification pushed so far.
    fn change(&mut self, new_state: SuggestionState, event: &'static str, text: String, ops: Vec<ChangeOp>) -> Change {
        let (actor_kind, actor_id) = self.actor.timeline_name();
        Change {
            suggestion_id: self.facts.id,
            expect_state: self.facts.state,
            new_state,
            ops,
            actor_kind,
            actor_id,
            event,
            text,
            once_key: self.once_key.take(),
            messages: std::mem::take(&mut self.messages),
        }
    }
}
