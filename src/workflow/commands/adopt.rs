//! Staff mark a suggestion adopted (采纳), once; its state stays as it is.

use crate::reply::Keyboard;
use crate::store::ChangeOp;
use crate::workflow::{Planned, Planner, Refusal};

pub(super) fn plan(p: &mut Planner<'_, '_>) -> Planned {
    if p.facts.adopted {
        return Err(Refusal::AlreadyDone.into());
    }
    p.notify_member("notify.adopted", p.facts.state, &[], Keyboard::None);
    Ok(p.change(p.facts.state, "adopted", String::new(), vec![ChangeOp::Adopt]))
}
