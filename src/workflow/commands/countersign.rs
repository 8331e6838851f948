//! 会签: a co-department answers the lead's draft reply — agrees (同意) or proposes changes — once
//! per draft; the lead department is told, and once every co-department has answered it gets the
//! button to send the reply on.

use super::send_on::co_departments;
use crate::store::{ChangeOp, DraftStatus};
use crate::workflow::{Planned, Planner, Refusal, TEXT_MAX_CHARS, text_of};

pub(super) async fn plan(p: &mut Planner<'_, '_>, agree: bool, text: &str) -> Planned {
    let (ctx, f) = (p.ctx, p.facts);
    let department_id = p.actor.department_id().ok_or(Refusal::Denied)?;
    let draft = f.draft.clone().filter(|d| d.status == DraftStatus::Countersign).ok_or(Refusal::WrongState(f.state))?;
    if draft.countersigns.iter().any(|c| c.department_id == department_id) {
        return Err(Refusal::AlreadyDone.into());
    }
    let co = co_departments(f);
    let mine = co.iter().find(|a| a.department_id == department_id).ok_or(Refusal::Denied)?;
    let text = if agree { text.trim().chars().take(TEXT_MAX_CHARS).collect() } else { text_of(text)? };
    let lang = ctx.texts.lang_for(None);
    let answer = match (agree, text.is_empty()) {
        (true, true) => ctx.texts.t(lang, "countersign.agreed", &[]),
        (true, false) => ctx.texts.t(lang, "countersign.agreed_with", &[("text", &text)]),
        (false, _) => ctx.texts.t(lang, "countersign.proposed", &[("text", &text)]),
    };
    let reference = f.reference_no.clone();
    let department = mine.department_name.clone();
    let args: [(&str, &(dyn std::fmt::Display + Sync)); 3] =
        [("reference", &reference), ("department", &department), ("answer", &answer)];
    let all_answered = draft.countersigns.len() + 1 >= co.len();
    if let Some(lead) = f.lead() {
        if all_answered {
            p.notify_lead_send_on(lead.department_id, "notify.dept_countersigned_all", &args).await?;
        } else {
            p.notify_department(lead.department_id, "notify.dept_countersigned", &args, None).await?;
        }
    }
    let ops = vec![ChangeOp::Countersign { draft_id: draft.id, department_id, agreed: agree, text }];
    Ok(p.change(f.state, "countersigned", format!("{department}：{answer}"), ops))
}
