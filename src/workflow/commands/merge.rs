//! Staff merge a suggestion into another one still open (并案), named by its reference number.

use crate::domain::ReferenceNo;
use crate::domain::SuggestionState::{Merged, NotAccepted, Withdrawn};
use crate::reply::Keyboard;
use crate::store::ChangeOp;
use crate::workflow::{Planned, Planner, Refusal};

pub(super) async fn plan(p: &mut Planner<'_, '_>, into_reference: &str) -> Planned {
    // Typed by staff in Telegram, the console or the API: `pd－2026－0001`, `编号：PD-2026-0001`.
    let reference = ReferenceNo::find(into_reference).map(|r| r.to_string()).ok_or(Refusal::UnknownReference)?;
    let target = p.ctx.store.suggestion_id_by_reference(&reference).await?.ok_or(Refusal::UnknownReference)?;
    if target == p.facts.id {
        return Err(Refusal::MergeIntoItself.into());
    }
    let target_state = p.ctx.store.facts(target).await?.map(|t| t.state);
    if matches!(target_state, Some(Merged | Withdrawn | NotAccepted) | None) {
        return Err(Refusal::MergeTargetClosed.into());
    }
    p.notify_member("notify.merged", Merged, &[("into", &reference)], Keyboard::None);
    Ok(p.change(Merged, "merged", reference, vec![ChangeOp::MergeInto(target)]))
}
