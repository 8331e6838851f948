//! A department acknowledges its assignment; the lead's acknowledgement starts the work
//! (办理中) and is told to the member.

use crate::domain::SuggestionState::{Assigned, InProgress};
use crate::reply::Keyboard;
use crate::store::{AssignmentRole, ChangeOp};
use crate::workflow::{Planned, Planner, Refusal};

pub(super) fn plan(p: &mut Planner<'_, '_>) -> Planned {
    let f = p.facts;
    let assignment = p.own_assignment()?;
    if assignment.acknowledged {
        return Err(Refusal::AlreadyDone.into());
    }
    let lead = assignment.role == AssignmentRole::Lead;
    let new_state = if lead && f.state == Assigned { InProgress } else { f.state };
    if lead {
        p.notify_member(
            "notify.acknowledged",
            new_state,
            &[("department", &assignment.department_name)],
            Keyboard::None,
        );
    }
    let ops = vec![ChangeOp::Acknowledge { assignment_id: assignment.id }];
    Ok(p.change(new_state, "acknowledged", assignment.department_name, ops))
}
