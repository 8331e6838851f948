//! One file per workflow command, as `plan` dispatches them: each makes the checks only it needs,
//! pushes the notifications it causes and builds its change.

mod accept;
mod acknowledge;
mod adopt;
mod approve_reply;
mod assign;
mod co_opinion;
mod co_rate;
mod cosign;
mod countersign;
mod deliver;
mod instruct;
mod join_cosign;
mod key;
mod merge;
mod rate;
mod record_rating;
mod reject;
mod reply;
mod r#return;
mod return_reply;
mod send_on;
mod withdraw;

pub use key::LEADER_MAX_CHARS;

use super::{Act, Command, Planned, Planner, act_as};

/// Plans `command`, already checked by `plan` for permission, state and repetition.
pub(super) async fn plan(p: &mut Planner<'_, '_>, command: Command) -> Planned {
    match command {
        Command::Accept => accept::plan(p),
        Command::Reject { reason } => reject::plan(p, &reason),
        Command::Merge { into_reference } => merge::plan(p, &into_reference).await,
        Command::Assign { lead, co, deadline } => assign::plan(p, lead, co, deadline).await,
        Command::Instruct { text } => instruct::plan(p, &text).await,
        Command::Adopt => adopt::plan(p),
        Command::Acknowledge => acknowledge::plan(p),
        Command::Return { reason } => r#return::plan(p, &reason).await,
        Command::CoOpinion { text } => co_opinion::plan(p, &text).await,
        Command::Rate { reply_no, rating, reason } if act_as(p.actor, Act::Rate, p.facts) == Act::CoRate => {
            co_rate::plan(p, reply_no, rating, &reason)
        }
        Command::Reply { class, text, document, letter } => reply::plan(p, &class, &text, document, &letter).await,
        Command::Rate { reply_no, rating, reason } => rate::plan(p, reply_no, rating, &reason).await,
        Command::RecordRating { reply_no, rating, reason, channel, cosigner } => {
            record_rating::plan(p, reply_no, rating, &reason, channel, cosigner).await
        }
        Command::ApproveReply { class, reason } => approve_reply::plan(p, class.as_deref(), &reason).await,
        Command::ReturnReply { note } => return_reply::plan(p, &note).await,
        Command::Countersign { agree, text } => countersign::plan(p, agree, &text).await,
        Command::SendOn => send_on::plan(p).await,
        Command::Withdraw => withdraw::plan(p).await,
        Command::Cosign { accept } => cosign::plan(p, accept),
        Command::JoinCosign { topic_id } => join_cosign::plan(p, topic_id).await,
        Command::MarkKey { leader } => key::mark(p, &leader),
        Command::UnmarkKey => key::unmark(p),
    }
}
