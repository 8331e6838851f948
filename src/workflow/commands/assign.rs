//! Staff route an accepted suggestion (交办) to a lead department (主办) and any co-departments
//! (协办) with a deadline; the member and each department are told, the departments with their
//! buttons. Earlier routings are finished with.

use chrono::{DateTime, Months, Utc};

use crate::domain::SuggestionState::Assigned;
use crate::reply::Keyboard;
use crate::store::{AssignmentRole, AssignmentStatus, ChangeOp, Department};
use crate::workflow::{Planned, Planner, Refusal};

pub(super) async fn plan(p: &mut Planner<'_, '_>, lead: i64, co: Vec<i64>, deadline: Option<DateTime<Utc>>) -> Planned {
    let (ctx, f, now) = (p.ctx, p.facts, p.ctx.now);
    let deadline = deadline
        .unwrap_or_else(|| now.checked_add_months(Months::new(ctx.config.workflow.deadline_months)).unwrap_or(now));
    let lead_dept = ctx.store.department(lead).await?.ok_or(Refusal::UnknownDepartment)?;
    let mut co_depts: Vec<Department> = Vec::new();
    for id in co {
        if id == lead || co_depts.iter().any(|d| d.id == id) {
            continue;
        }
        co_depts.push(ctx.store.department(id).await?.ok_or(Refusal::UnknownDepartment)?);
    }
    let date = p.date(deadline);
    let co_names = co_depts.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join("、");
    let departments = if co_names.is_empty() {
        lead_dept.name.clone()
    } else {
        ctx.texts.t(p.member_lang(), "notify.with_co", &[("lead", &lead_dept.name), ("co", &co_names)])
    };
    let co_names =
        if co_names.is_empty() { ctx.texts.t(ctx.texts.lang_for(None), "notify.no_co", &[]) } else { co_names };
    p.notify_member("notify.assigned", Assigned, &[("departments", &departments), ("deadline", &date)], Keyboard::None);
    let suggestion = p.suggestion_text().await?;
    p.notify_department(
        lead,
        "notify.dept_assigned_lead",
        &[("suggestion", &suggestion), ("deadline", &date), ("co", &co_names)],
        Some(AssignmentRole::Lead),
    )
    .await?;
    for d in &co_depts {
        p.notify_department(
            d.id,
            "notify.dept_assigned_co",
            &[("suggestion", &suggestion), ("deadline", &date), ("lead", &lead_dept.name)],
            Some(AssignmentRole::Co),
        )
        .await?;
    }
    let mut ops = vec![ChangeOp::Assign { department_id: lead, role: AssignmentRole::Lead, deadline }];
    ops.extend(co_depts.iter().map(|d| ChangeOp::Assign { department_id: d.id, role: AssignmentRole::Co, deadline }));
    // Earlier routings (returned by a department) are finished with.
    ops.extend(
        f.assignments
            .iter()
            .filter(|a| a.status != AssignmentStatus::Superseded)
            .map(|a| ChangeOp::SetAssignmentStatus { assignment_id: a.id, status: AssignmentStatus::Superseded }),
    );
    ops.push(ChangeOp::SetDeadline(Some(deadline)));
    Ok(p.change(Assigned, "assigned", departments, ops))
}
