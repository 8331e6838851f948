//! Staff record the rating a member gave by phone, on paper or in person (代为评价): the same
//! outcome as the member's own rating, with the channel on the timeline and in the member's push.

use crate::domain::EntryChannel;
use crate::store::{EnteredBy, Rating};
use crate::workflow::{Actor, Planned, Planner, Refusal};

pub(super) async fn plan(
    p: &mut Planner<'_, '_>,
    reply_no: i64,
    rating: Rating,
    reason: &str,
    channel: EntryChannel,
) -> Planned {
    // Only a console account can say who took the rating down; the permission check let only
    // staff through.
    let user_id = match p.actor {
        Actor::User(u) => u.id,
        _ => return Err(Refusal::Denied.into()),
    };
    super::rate::plan_for(p, reply_no, rating, reason, Some(EnteredBy { user_id, channel })).await
}
