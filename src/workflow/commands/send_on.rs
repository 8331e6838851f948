//! 会签: the lead department sends its draft reply on once every co-department answered or the
//! countersign deadline (`workflow.countersign_days` after the draft) passed: to staff for review
//! (答复待审) with 督办 on, else to the member (已答复). The timeline records each answer.

use super::deliver::{class_label, deliver};
use crate::domain::SuggestionState::{Replied, ReplyReview};
use crate::store::{AssignmentInfo, AssignmentRole, AssignmentStatus, ChangeOp, DraftStatus, Facts};
use crate::workflow::{Planned, Planner, Refusal};

/// The co-departments that countersign: those still on the suggestion (working on it or having
/// sent their view), not those who returned it or were replaced.
pub(super) fn co_departments(f: &Facts) -> Vec<AssignmentInfo> {
    let mut co: Vec<AssignmentInfo> = Vec::new();
    for a in &f.assignments {
        let on = matches!(a.status, AssignmentStatus::Active | AssignmentStatus::Answered);
        if a.role == AssignmentRole::Co && on && !co.iter().any(|c| c.department_id == a.department_id) {
            co.push(a.clone());
        }
    }
    co
}

pub(super) async fn plan(p: &mut Planner<'_, '_>) -> Planned {
    let (ctx, f) = (p.ctx, p.facts);
    let lead = p.own_assignment()?;
    let draft = f.draft.clone().filter(|d| d.status == DraftStatus::Countersign).ok_or(Refusal::WrongState(f.state))?;
    let co = co_departments(f);
    let lang = ctx.texts.lang_for(None);
    let mut summary = Vec::new();
    let mut missing = 0;
    for a in &co {
        let answer = match draft.countersigns.iter().find(|c| c.department_id == a.department_id) {
            Some(c) if c.agreed && c.text.is_empty() => ctx.texts.t(lang, "countersign.agreed", &[]),
            Some(c) if c.agreed => ctx.texts.t(lang, "countersign.agreed_with", &[("text", &c.text)]),
            Some(c) => ctx.texts.t(lang, "countersign.proposed", &[("text", &c.text)]),
            None => {
                missing += 1;
                ctx.texts.t(lang, "countersign.no_answer", &[])
            }
        };
        summary.push(format!("{}：{answer}", a.department_name));
    }
    let deadline_passed = draft.countersign_deadline.is_none_or(|d| ctx.now >= d);
    if missing > 0 && !deadline_passed {
        return Err(Refusal::CountersignPending.into());
    }
    let summary = summary.join("；");
    let label = class_label(p, &draft.reply_class);
    if ctx.config.workflow.review_replies {
        let reference = f.reference_no.clone();
        p.notify_reply_review(&[
            ("reference", &reference),
            ("title", &f.title),
            ("department", &lead.department_name),
            ("class", &label),
            ("text", &draft.text),
        ])
        .await?;
        let ops =
            vec![ChangeOp::SetDraftStatus { draft_id: draft.id, status: DraftStatus::Review, note: String::new() }];
        return Ok(p.change(ReplyReview, "countersign_done", summary, ops));
    }
    let document = draft.attachment();
    let mut ops =
        deliver(p, &lead, &draft.reply_class, &label, &draft.text, document.as_ref(), draft.letter.as_deref());
    ops.push(ChangeOp::SetDraftStatus { draft_id: draft.id, status: DraftStatus::Delivered, note: String::new() });
    // The reply itself, as the member's timeline shows every reply.
    ops.push(ChangeOp::Event { event: "replied", text: format!("{label}：{}", draft.text) });
    Ok(p.change(Replied, "countersign_done", summary, ops))
}
