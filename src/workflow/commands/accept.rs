//! Staff accept a submitted suggestion (受理); the member is told.

use crate::domain::SuggestionState::Accepted;
use crate::reply::Keyboard;
use crate::workflow::{Planned, Planner};

pub(super) fn plan(p: &mut Planner<'_, '_>) -> Planned {
    p.notify_member("notify.accepted", Accepted, &[], Keyboard::None);
    Ok(p.change(Accepted, "accepted", String::new(), vec![]))
}
