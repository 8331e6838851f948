//! A co-signer (联名) rates the latest reply: recorded on the timeline and counted, and the lead
//! member is told; only the lead member's rating decides 办结 or 重新办理.

use crate::reply::Keyboard;
use crate::store::{ChangeOp, Rating};
use crate::workflow::{Actor, Planned, Planner, Refusal, TEXT_MAX_CHARS};

pub(super) fn plan(p: &mut Planner<'_, '_>, reply_no: i64, rating: Rating, reason: &str) -> Planned {
    let Actor::Member(member) = p.actor else { return Err(Refusal::Denied.into()) };
    let f = p.facts;
    if reply_no != f.replies || f.replies == 0 {
        return Err(Refusal::StaleRating.into());
    }
    let reason = reason.trim().chars().take(TEXT_MAX_CHARS).collect::<String>();
    let label = p.ctx.texts.t(p.member_lang(), &format!("rating.{}", rating.as_str()), &[]);
    let name = member.name.clone();
    let text = if reason.is_empty() { format!("{name}：{label}") } else { format!("{name}：{label}：{reason}") };
    p.notify_lead("notify.cosigner_rated", f.state, &[("name", &name), ("rating", &label)], Keyboard::None);
    let ops = vec![ChangeOp::CosignerRate { member_id: member.id, rating, reason }];
    Ok(p.change(f.state, "cosigner_rated", text, ops))
}
