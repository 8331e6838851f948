//! The member withdraws their suggestion before staff decide on it (撤回).

use crate::domain::SuggestionState::Withdrawn;
use crate::reply::Keyboard;
use crate::workflow::{Planned, Planner};

pub(super) fn plan(p: &mut Planner<'_, '_>) -> Planned {
    p.notify_member("notify.withdrawn", Withdrawn, &[], Keyboard::None);
    Ok(p.change(Withdrawn, "withdrawn", String::new(), vec![]))
}
