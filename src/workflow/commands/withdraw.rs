//! The member withdraws their suggestion before staff decide on it (撤回); staff are told.

use crate::domain::SuggestionState::Withdrawn;
use crate::reply::Keyboard;
use crate::workflow::{Actor, Planned, Planner};

pub(super) async fn plan(p: &mut Planner<'_, '_>) -> Planned {
    p.notify_member("notify.withdrawn", Withdrawn, &[], Keyboard::None);
    let member = match p.actor {
        Actor::Member(m) => m.name.clone(),
        _ => String::new(),
    };
    let (reference, title) = (p.facts.reference_no.clone(), p.facts.title.clone());
    p.notify_staff("notify.staff_withdrawn", &[("member", &member), ("reference", &reference), ("title", &title)])
        .await?;
    Ok(p.change(Withdrawn, "withdrawn", String::new(), vec![]))
}
