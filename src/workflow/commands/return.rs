//! A department returns its assignment (退回) with a reason; staff are told. The lead's return
//! sends the whole routing back to staff (已受理); a co-department's only ends its own part.

use crate::domain::SuggestionState::Accepted;
use crate::store::{AssignmentRole, AssignmentStatus, ChangeOp};
use crate::workflow::{Planned, Planner, text_of};

pub(super) async fn plan(p: &mut Planner<'_, '_>, reason: &str) -> Planned {
    let f = p.facts;
    let assignment = p.own_assignment()?;
    let reason = text_of(reason)?;
    let reference = f.reference_no.clone();
    p.notify_staff(
        "notify.staff_returned",
        &[("reference", &reference), ("department", &assignment.department_name), ("reason", &reason)],
    )
    .await?;
    let text = format!("{}：{reason}", assignment.department_name);
    let returned = ChangeOp::SetAssignmentStatus { assignment_id: assignment.id, status: AssignmentStatus::Returned };
    if assignment.role == AssignmentRole::Lead {
        // The whole routing goes back to staff to be done again.
        let mut ops: Vec<ChangeOp> = f
            .assignments
            .iter()
            .filter(|a| a.status == AssignmentStatus::Active && a.id != assignment.id)
            .map(|a| ChangeOp::SetAssignmentStatus { assignment_id: a.id, status: AssignmentStatus::Superseded })
            .collect();
        ops.push(returned);
        ops.push(ChangeOp::SetDeadline(None));
        Ok(p.change(Accepted, "returned", text, ops))
    } else {
        Ok(p.change(f.state, "returned", text, vec![returned]))
    }
}
