//! Staff decline a submitted suggestion (不予受理) with a reason the member reads.

use crate::domain::SuggestionState::NotAccepted;
use crate::reply::Keyboard;
use crate::workflow::{Planned, Planner, text_of};

pub(super) fn plan(p: &mut Planner<'_, '_>, reason: &str) -> Planned {
    let reason = text_of(reason)?;
    p.notify_member("notify.not_accepted", NotAccepted, &[("reason", &reason)], Keyboard::None);
    Ok(p.change(NotAccepted, "not_accepted", reason, vec![]))
}
