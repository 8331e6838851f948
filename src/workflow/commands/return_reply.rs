//! 督办: staff send the reply waiting for review back to the lead department with a note (退回修改);
//! the department is told, with its buttons to reply again, and the member still sees 办理中.

use crate::domain::SuggestionState::InProgress;
use crate::store::{AssignmentRole, ChangeOp, DraftStatus};
use crate::workflow::{Planned, Planner, Refusal, text_of};

pub(super) async fn plan(p: &mut Planner<'_, '_>, note: &str) -> Planned {
    let f = p.facts;
    let draft = f.draft.clone().filter(|d| d.status == DraftStatus::Review).ok_or(Refusal::WrongState(f.state))?;
    let lead = f.lead().cloned().ok_or(Refusal::WrongState(f.state))?;
    let note = text_of(note)?;
    let reference = f.reference_no.clone();
    p.notify_department(
        lead.department_id,
        "notify.dept_reply_returned",
        &[("reference", &reference), ("title", &f.title), ("note", &note)],
        Some(AssignmentRole::Lead),
    )
    .await?;
    let ops = vec![ChangeOp::SetDraftStatus { draft_id: draft.id, status: DraftStatus::Returned, note: note.clone() }];
    Ok(p.change(InProgress, "reply_returned", note, ops))
}
