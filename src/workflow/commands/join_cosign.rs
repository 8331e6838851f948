//! A member co-signs (联名) an alike suggestion shown at their draft's preview instead of filing
//! their own: they join at once as an accepted co-signer, the lead member is told and the timeline
//! records it.
//!
//! Why joining directly rather than a request the lead approves: 联名 adds a member's support to
//! the lead's text without changing it, and the suggestion is another member's only while it
//! awaits staff (已提交); a request would keep the member waiting on someone who may never answer
//! before staff accept it, and the lead is told at once (a co-signer they would not have chosen is
//! a matter for staff, who see every co-signer). Open to co-signing means: state 已提交 (not yet
//! accepted, rejected, merged or withdrawn), not the member's own, on the same topic as the
//! member's draft (`topic_id`), and the member not invited or co-signing already (permissions).

use crate::domain::SuggestionState::Submitted;
use crate::reply::Keyboard;
use crate::store::ChangeOp;
use crate::store::inbox::SIMILAR_CANDIDATES;
use crate::workflow::{Actor, Planned, Planner, Refusal};

pub(super) async fn plan(p: &mut Planner<'_, '_>, topic_id: Option<i64>) -> Planned {
    let Actor::Member(member) = p.actor else { return Err(Refusal::Denied.into()) };
    if p.facts.member_id == member.id {
        return Err(Refusal::Denied.into());
    }
    if p.facts.state != Submitted {
        return Err(Refusal::CosignClosed.into());
    }
    // The same topic as the draft: the suggestion is among those the preview compares with.
    let on_topic =
        p.ctx.store.similar_candidates(topic_id, None, SIMILAR_CANDIDATES).await?.iter().any(|c| c.id == p.facts.id);
    if !on_topic {
        return Err(Refusal::Denied.into());
    }
    let name = member.name.clone();
    p.notify_lead("notify.cosign_joined", p.facts.state, &[("name", &name)], Keyboard::None);
    let ops = vec![ChangeOp::JoinCosigners { member_id: member.id }];
    Ok(p.change(p.facts.state, "cosign_joined", name, ops))
}
