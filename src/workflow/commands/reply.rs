//! The lead department (主办) replies with a reply class, a text and perhaps a file. Where the
//! suggestion has co-departments and 会签 is on (`workflow.countersign`), the reply goes to them
//! first as a draft (会签中); else, with 督办 on (`workflow.review_replies`), to staff (答复待审);
//! else straight to the member (已答复), with buttons to rate it.

use chrono::{DateTime, Duration, Utc};

use super::deliver::deliver;
use crate::domain::SuggestionState::{Countersigning, Replied, ReplyReview};
use crate::letter::ReplyLetter;
use crate::store::{AssignmentRole, AssignmentStatus, Attachment, ChangeOp, DraftStatus};
use crate::workflow::{Planned, Planner, Refusal, text_of};

pub(super) async fn plan(
    p: &mut Planner<'_, '_>,
    class: &str,
    text: &str,
    document: Option<Attachment>,
    letter: &ReplyLetter,
) -> Planned {
    let (ctx, f) = (p.ctx, p.facts);
    let assignment = p.own_assignment()?;
    let class =
        ctx.config.workflow.reply_classes().into_iter().find(|c| c.code == class).ok_or(Refusal::UnknownReplyClass)?;
    let text = text_of(text)?;
    let letter = letter.checked().map_err(Refusal::Letter)?;
    // The 答复函 fields travel with the reply (and its draft) as JSON; none filled in: none kept.
    let letter = (!letter.is_empty()).then(|| serde_json::to_string(&letter).unwrap_or_default());
    let class_label = format!("{} {}", class.code, class.label);
    let event_text = format!("{class_label}：{text}");
    let co: Vec<_> = f
        .assignments
        .iter()
        .filter(|a| a.role == AssignmentRole::Co)
        .filter(|a| matches!(a.status, AssignmentStatus::Active | AssignmentStatus::Answered))
        .cloned()
        .collect();
    let workflow = &ctx.config.workflow;
    let draft = |status: DraftStatus, countersign_deadline: Option<DateTime<Utc>>| ChangeOp::DraftReply {
        department_id: assignment.department_id,
        reply_class: class.code.clone(),
        text: text.clone(),
        document: document.as_ref().map(|d| serde_json::to_string(d).unwrap_or_default()),
        status,
        countersign_deadline,
        letter: letter.clone(),
    };
    let acknowledge = ChangeOp::Acknowledge { assignment_id: assignment.id };
    let reference = f.reference_no.clone();
    if workflow.countersign && !co.is_empty() {
        let deadline = ctx.now + Duration::days(workflow.countersign_days);
        let date = p.date(deadline);
        for a in &co {
            p.notify_countersign(
                a.department_id,
                &[
                    ("reference", &reference),
                    ("title", &f.title),
                    ("lead", &assignment.department_name),
                    ("class", &class_label),
                    ("text", &text),
                    ("deadline", &date),
                ],
            )
            .await?;
        }
        let ops = vec![draft(DraftStatus::Countersign, Some(deadline)), acknowledge];
        return Ok(p.change(Countersigning, "countersign_requested", event_text, ops));
    }
    if workflow.review_replies {
        p.notify_reply_review(&[
            ("reference", &reference),
            ("title", &f.title),
            ("department", &assignment.department_name),
            ("class", &class_label),
            ("text", &text),
        ])
        .await?;
        let ops = vec![draft(DraftStatus::Review, None), acknowledge];
        return Ok(p.change(ReplyReview, "reply_submitted", event_text, ops));
    }
    let ops = deliver(p, &assignment, &class.code, &class_label, &text, document.as_ref(), letter.as_deref());
    Ok(p.change(Replied, "replied", event_text, ops))
}
