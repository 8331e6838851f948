//! Staff accept a submitted suggestion (受理); the member is told, and invitations to co-sign
//! (联名) still unanswered close.

use crate::domain::SuggestionState::Accepted;
use crate::reply::Keyboard;
use crate::store::ChangeOp;
use crate::workflow::{Planned, Planner};

pub(super) fn plan(p: &mut Planner<'_, '_>) -> Planned {
    p.notify_member("notify.accepted", Accepted, &[], Keyboard::None);
    let ops = if p.facts.cosigners.is_empty() { vec![] } else { vec![ChangeOp::CloseInvitations] };
    Ok(p.change(Accepted, "accepted", String::new(), ops))
}
