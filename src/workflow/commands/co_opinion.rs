//! A co-department (协办) sends its view to the lead department, which is told; this answers
//! the co-department's assignment.

use crate::store::{AssignmentStatus, ChangeOp};
use crate::workflow::{Planned, Planner, text_of};

pub(super) async fn plan(p: &mut Planner<'_, '_>, text: &str) -> Planned {
    let f = p.facts;
    let assignment = p.own_assignment()?;
    let text = text_of(text)?;
    if let Some(lead) = f.lead() {
        let reference = f.reference_no.clone();
        p.notify_department(
            lead.department_id,
            "notify.dept_co_opinion",
            &[("reference", &reference), ("department", &assignment.department_name), ("text", &text)],
            None,
        )
        .await?;
    }
    let ops = vec![
        ChangeOp::Opinion { assignment_id: assignment.id, text: text.clone() },
        ChangeOp::Acknowledge { assignment_id: assignment.id },
        ChangeOp::SetAssignmentStatus { assignment_id: assignment.id, status: AssignmentStatus::Answered },
    ];
    Ok(p.change(f.state, "co_opinion", format!("{}：{text}", assignment.department_name), ops))
}
