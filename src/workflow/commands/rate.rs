//! The member rates the latest reply: 满意 or 基本满意 close the suggestion (办结); 不满意 reopens it
//! (重新办理) with a new deadline for the lead department, and staff are told. Staff recording a
//! rating for the member (代为评价, `record_rating`) go the same way, said as such.

use crate::domain::SuggestionState::{Closed, Reopened};
use crate::locale::Lang;
use crate::reply::Keyboard;
use crate::store::{AssignmentRole, ChangeOp, EnteredBy, Rating};
use crate::workflow::{Planned, Planner, Refusal, TEXT_MAX_CHARS};

pub(super) async fn plan(p: &mut Planner<'_, '_>, reply_no: i64, rating: Rating, reason: &str) -> Planned {
    plan_for(p, reply_no, rating, reason, None).await
}

/// The rating, given by the member (`entered_by` is `None`) or recorded for them by staff.
pub(super) async fn plan_for(
    p: &mut Planner<'_, '_>,
    reply_no: i64,
    rating: Rating,
    reason: &str,
    entered_by: Option<EnteredBy>,
) -> Planned {
    let (ctx, f) = (p.ctx, p.facts);
    if reply_no != f.replies {
        return Err(Refusal::StaleRating.into());
    }
    let reason = reason.trim().chars().take(TEXT_MAX_CHARS).collect::<String>();
    let member_lang = f.member.as_ref().map(|m| p.lang(m)).unwrap_or(Lang::Zh);
    let label = ctx.texts.t(member_lang, &format!("rating.{}", rating.as_str()), &[]);
    let mut event_text = if reason.is_empty() { label.clone() } else { format!("{label}：{reason}") };
    // Recorded by staff: the member reads how it was taken down, and so does the timeline.
    let channel = entered_by.map(|e| ctx.texts.t(member_lang, &format!("entry_channel.{}", e.channel.code()), &[]));
    if let Some(channel) = &channel {
        let note = ctx.texts.t(member_lang, "notify.recorded_rating_note", &[("channel", channel)]);
        event_text = format!("{event_text}{note}");
    }
    let (closed_key, reopened_key) = match entered_by {
        Some(_) => ("notify.closed_recorded", "notify.reopened_recorded"),
        None => ("notify.closed", "notify.reopened"),
    };
    let channel = channel.unwrap_or_default();
    let mut ops = vec![ChangeOp::Rate { rating, reason: reason.clone(), entered_by }];
    match rating {
        Rating::Satisfied | Rating::BasicallySatisfied => {
            p.notify_member(closed_key, Closed, &[("rating", &label), ("channel", &channel)], Keyboard::None);
            Ok(p.change(Closed, "closed", event_text, ops))
        }
        Rating::Dissatisfied => {
            let lead = f.lead().cloned().ok_or(Refusal::WrongState(f.state))?;
            let deadline = ctx.now + chrono::Duration::days(ctx.config.workflow.reopen_days);
            let date = p.date(deadline);
            p.notify_member(reopened_key, Reopened, &[("deadline", &date), ("channel", &channel)], Keyboard::None);
            let reference = f.reference_no.clone();
            let shown_reason = if reason.is_empty() { "—".to_string() } else { reason };
            p.notify_department(
                lead.department_id,
                "notify.dept_reopened",
                &[("reference", &reference), ("reason", &shown_reason), ("deadline", &date)],
                Some(AssignmentRole::Lead),
            )
            .await?;
            p.notify_staff(
                "notify.staff_dissatisfied",
                &[("reference", &reference), ("department", &lead.department_name), ("reason", &shown_reason)],
            )
            .await?;
            ops.push(ChangeOp::ReactivateLead { assignment_id: lead.id, deadline });
            ops.push(ChangeOp::SetDeadline(Some(deadline)));
            Ok(p.change(Reopened, "reopened", event_text, ops))
        }
    }
}
