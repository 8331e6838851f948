//! Staff add an instruction (领导批示): the member reads it, and so does the lead department while it
//! has the suggestion.

use crate::reply::Keyboard;
use crate::store::AssignmentStatus;
use crate::workflow::{Planned, Planner, text_of};

pub(super) async fn plan(p: &mut Planner<'_, '_>, text: &str) -> Planned {
    let f = p.facts;
    let text = text_of(text)?;
    p.notify_member("notify.instructed", f.state, &[("text", &text)], Keyboard::None);
    if let Some(lead) = f.lead().filter(|a| a.status == AssignmentStatus::Active) {
        let reference = f.reference_no.clone();
        p.notify_department(
            lead.department_id,
            "notify.dept_instructed",
            &[("reference", &reference), ("text", &text)],
            None,
        )
        .await?;
    }
    Ok(p.change(f.state, "instructed", text, vec![]))
}
