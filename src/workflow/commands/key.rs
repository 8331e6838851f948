//! Staff mark a suggestion key (重点建言) with its supervising leader (督办领导), change the leader,
//! or take the mark off; its state stays as it is. Key suggestions are listed on the dashboard and
//! their departments are reminded earlier (`reminders.key_before_days`).

use crate::store::ChangeOp;
use crate::workflow::{Planned, Planner, Refusal, text_of};

/// Longest supervising leader's name (and title, e.g. 区政协副主席 王某某), in characters.
pub const LEADER_MAX_CHARS: usize = 50;

pub(super) fn mark(p: &mut Planner<'_, '_>, leader: &str) -> Planned {
    let leader = text_of(leader)?;
    if leader.chars().count() > LEADER_MAX_CHARS {
        return Err(Refusal::TooLong(LEADER_MAX_CHARS).into());
    }
    if p.facts.key_leader.as_deref() == Some(leader.as_str()) {
        return Err(Refusal::AlreadyDone.into());
    }
    let ops = vec![ChangeOp::SetKey(Some(leader.clone()))];
    Ok(p.change(p.facts.state, "key_marked", leader, ops))
}

pub(super) fn unmark(p: &mut Planner<'_, '_>) -> Planned {
    let Some(leader) = p.facts.key_leader.clone() else { return Err(Refusal::AlreadyDone.into()) };
    Ok(p.change(p.facts.state, "key_unmarked", leader, vec![ChangeOp::SetKey(None)]))
}
