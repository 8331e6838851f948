//! The member rates the latest reply: 满意 or 基本满意 close the suggestion (办结); 不满意 reopens it
//! (重新办理) with a new deadline for the lead department, and staff are told.

use crate::domain::SuggestionState::{Closed, Reopened};
use crate::locale::Lang;
use crate::reply::Keyboard;
use crate::store::{AssignmentRole, ChangeOp, Rating};
use crate::workflow::{Planned, Planner, Refusal, TEXT_MAX_CHARS};

pub(super) async fn plan(p: &mut Planner<'_, '_>, reply_no: i64, rating: Rating, reason: &str) -> Planned {
    let (ctx, f) = (p.ctx, p.facts);
    if reply_no != f.replies {
        return Err(Refusal::StaleRating.into());
    }
    let reason = reason.trim().chars().take(TEXT_MAX_CHARS).collect::<String>();
    let member_lang = f.member.as_ref().map(|m| p.lang(m)).unwrap_or(Lang::Zh);
    let label = ctx.texts.t(member_lang, &format!("rating.{}", rating.as_str()), &[]);
    let event_text = if reason.is_empty() { label.clone() } else { format!("{label}：{reason}") };
    let mut ops = vec![ChangeOp::Rate { rating, reason: reason.clone() }];
    match rating {
        Rating::Satisfied | Rating::BasicallySatisfied => {
            p.notify_member("notify.closed", Closed, &[("rating", &label)], Keyboard::None);
            Ok(p.change(Closed, "closed", event_text, ops))
        }
        Rating::Dissatisfied => {
            let lead = f.lead().cloned().ok_or(Refusal::WrongState(f.state))?;
            let deadline = ctx.now + chrono::Duration::days(ctx.config.workflow.reopen_days);
            let date = p.date(deadline);
            p.notify_member("notify.reopened", Reopened, &[("deadline", &date)], Keyboard::None);
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
