//! Staff record the rating a member gave by phone, on paper or in person (代为评价): the lead
//! member's has the same outcome as the member's own rating; an accepted co-signer's (联名) is
//! recorded as a co-signer's own (`cosigner_ratings`). Either way the channel is on the timeline
//! and in the member's push.

use crate::domain::EntryChannel;
use crate::reply::{Action, Keyboard};
use crate::store::{Addressee, ChangeOp, CosignStatus, EnteredBy, OutMessage, Rating};
use crate::workflow::{Actor, Planned, Planner, Refusal, TEXT_MAX_CHARS};

pub(super) async fn plan(
    p: &mut Planner<'_, '_>,
    reply_no: i64,
    rating: Rating,
    reason: &str,
    channel: EntryChannel,
    cosigner: Option<i64>,
) -> Planned {
    // Only a console account can say who took the rating down; the permission check let only
    // staff through.
    let user_id = match p.actor {
        Actor::User(u) => u.id,
        _ => return Err(Refusal::Denied.into()),
    };
    match cosigner {
        None => super::rate::plan_for(p, reply_no, rating, reason, Some(EnteredBy { user_id, channel })).await,
        Some(member_id) => for_cosigner(p, reply_no, rating, reason, channel, member_id),
    }
}

/// An accepted co-signer's rating of the latest reply, recorded by staff: on the timeline with
/// the channel, counted like the co-signer's own, the co-signer and the lead member told.
fn for_cosigner(
    p: &mut Planner<'_, '_>,
    reply_no: i64,
    rating: Rating,
    reason: &str,
    channel: EntryChannel,
    member_id: i64,
) -> Planned {
    let (ctx, f) = (p.ctx, p.facts);
    let cosigner = f.cosigner(member_id).filter(|c| c.status == CosignStatus::Accepted).ok_or(Refusal::Denied)?;
    if reply_no != f.replies || f.replies == 0 {
        return Err(Refusal::StaleRating.into());
    }
    let reason = reason.trim().chars().take(TEXT_MAX_CHARS).collect::<String>();
    let lang = ctx.texts.lang_for(cosigner.language.as_deref());
    let label = ctx.texts.t(lang, &format!("rating.{}", rating.as_str()), &[]);
    let channel_label = ctx.texts.t(lang, &format!("entry_channel.{}", channel.code()), &[]);
    let note = ctx.texts.t(lang, "notify.recorded_rating_note", &[("channel", &channel_label)]);
    let name = cosigner.name.clone();
    let text = if reason.is_empty() {
        format!("{name}：{label}{note}")
    } else {
        format!("{name}：{label}：{reason}{note}")
    };
    // The co-signer hears what was taken down for them; the lead member as of any co-signer's rating.
    let told = ctx.texts.t(
        lang,
        "notify.cosigner_rating_recorded",
        &[("reference", &f.reference_no), ("title", &f.title), ("rating", &label), ("channel", &channel_label)],
    );
    let payload = Action::text(told).encode();
    p.messages.push(match cosigner.chat_id {
        Some(chat_id) => OutMessage::notification(chat_id, payload),
        None => OutMessage::held(Addressee::Member(member_id), Some(f.id), payload),
    });
    p.notify_lead("notify.cosigner_rated", f.state, &[("name", &name), ("rating", &label)], Keyboard::None);
    let ops = vec![ChangeOp::CosignerRate { member_id, rating, reason }];
    Ok(p.change(f.state, "cosigner_rated", text, ops))
}
