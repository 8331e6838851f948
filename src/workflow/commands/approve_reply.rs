//! 督办: staff approve the reply waiting for review (答复待审): it goes on to the member as a reply
//! always does (已答复, with the rating buttons), under the department's reply class or — with a
//! reason, recorded on the timeline — another one. The department is told.

use super::deliver::{class_label, deliver};
use crate::domain::SuggestionState::Replied;
use crate::store::{ChangeOp, DraftStatus};
use crate::workflow::{Planned, Planner, Refusal, text_of};

pub(super) async fn plan(p: &mut Planner<'_, '_>, class: Option<&str>, reason: &str) -> Planned {
    let (ctx, f) = (p.ctx, p.facts);
    let draft = f.draft.clone().filter(|d| d.status == DraftStatus::Review).ok_or(Refusal::WrongState(f.state))?;
    let lead = f.lead().cloned().ok_or(Refusal::WrongState(f.state))?;
    let old_label = class_label(p, &draft.reply_class);
    let (code, reason) = match class {
        None => (draft.reply_class.clone(), String::new()),
        Some(class) => {
            let class = ctx
                .config
                .workflow
                .reply_classes()
                .into_iter()
                .find(|c| c.code.eq_ignore_ascii_case(class.trim()))
                .ok_or(Refusal::UnknownReplyClass)?;
            (class.code, text_of(reason)?)
        }
    };
    let label = class_label(p, &code);
    let document = draft.attachment();
    let mut ops = deliver(p, &lead, &code, &label, &draft.text, document.as_ref(), draft.letter.as_deref());
    ops.push(ChangeOp::SetDraftStatus { draft_id: draft.id, status: DraftStatus::Delivered, note: reason.clone() });
    // The reply itself, as the member's timeline shows every reply.
    ops.push(ChangeOp::Event { event: "replied", text: format!("{label}：{}", draft.text) });
    let reference = f.reference_no.clone();
    let reclassified = code != draft.reply_class;
    if reclassified {
        p.notify_department(
            lead.department_id,
            "notify.dept_reply_reclassified",
            &[("reference", &reference), ("old", &old_label), ("class", &label), ("reason", &reason)],
            None,
        )
        .await?;
        Ok(p.change(Replied, "reply_reclassified", format!("{old_label} → {label}：{reason}"), ops))
    } else {
        p.notify_department(
            lead.department_id,
            "notify.dept_reply_approved",
            &[("reference", &reference), ("class", &label)],
            None,
        )
        .await?;
        Ok(p.change(Replied, "reply_approved", label, ops))
    }
}
