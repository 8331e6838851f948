//! One file per workflow command, as `plan` dispatches them: each makes the checks only it needs,
//! pushes the notifications it causes and builds its change.

mod accept;
mod acknowledge;
mod adopt;
mod assign;
mod co_opinion;
mod instruct;
mod key;
mod merge;
mod rate;
mod reject;
mod reply;
mod r#return;
mod withdraw;

pub use key::LEADER_MAX_CHARS;

use super::{Command, Planned, Planner};

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
        Command::Reply { class, text, document } => reply::plan(p, &class, &text, document).await,
        Command::Rate { reply_no, rating, reason } => rate::plan(p, reply_no, rating, &reason).await,
        Command::Withdraw => withdraw::plan(p),
        Command::MarkKey { leader } => key::mark(p, &leader),
        Command::UnmarkKey => key::unmark(p),
    }
}
