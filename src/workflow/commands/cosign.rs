//! An invited member answers an invitation to co-sign (联名): 同意联名 or 不同意, while the
//! suggestion awaits staff and before the invitation's deadline (`workflow.cosign_days`). The
//! answer goes on the timeline and the lead member is told; the state stays as it is.

use crate::domain::SuggestionState::Submitted;
use crate::reply::Keyboard;
use crate::store::{ChangeOp, CosignStatus};
use crate::workflow::{Actor, Planned, Planner, Refusal};

pub(super) fn plan(p: &mut Planner<'_, '_>, accept: bool) -> Planned {
    let Actor::Member(member) = p.actor else { return Err(Refusal::Denied.into()) };
    let invitation = p.facts.cosigner(member.id).ok_or(Refusal::Denied)?;
    match invitation.status_at(p.ctx.now) {
        CosignStatus::Accepted | CosignStatus::Declined => return Err(Refusal::AlreadyAnswered.into()),
        CosignStatus::Expired => return Err(Refusal::InvitationClosed.into()),
        CosignStatus::Invited if p.facts.state != Submitted => return Err(Refusal::InvitationClosed.into()),
        CosignStatus::Invited => {}
    }
    let (key, event) = if accept {
        ("notify.cosign_accepted", "cosign_accepted")
    } else {
        ("notify.cosign_declined", "cosign_declined")
    };
    let name = member.name.clone();
    p.notify_lead(key, p.facts.state, &[("name", &name)], Keyboard::None);
    let ops = vec![ChangeOp::AnswerInvitation { member_id: member.id, accept }];
    Ok(p.change(p.facts.state, event, name, ops))
}
