//! What staff, departments and members share when they act on a suggestion: the workflow
//! choices' targets, the check made before more input is asked for, polite refusals, and the
//! texts about assignments. Every change itself is planned by `workflow::plan`; nothing here
//! decides a permission on its own.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::Dialogue;
use crate::choice::ChoiceId;
use crate::domain::ReferenceNo;
use crate::reply::{Action, Choice, Keyboard};
use crate::store::{AssignmentRole, AssignmentStatus, CoOpinion, Facts, StoreError};
use crate::workflow::{self, Act, Actor, Refusal};

/// The suggestion and the act a workflow choice (a review, a department's or a rating choice)
/// is about; `None` for any other choice.
pub(super) fn workflow_target(choice: &ChoiceId) -> Option<(i64, Act)> {
    match choice {
        ChoiceId::Review { act, suggestion_id } | ChoiceId::Department { act, suggestion_id } => {
            Some((*suggestion_id, *act))
        }
        ChoiceId::Rating { suggestion_id, .. } => Some((*suggestion_id, Act::Rate)),
        ChoiceId::Withdraw { suggestion_id, .. } => Some((*suggestion_id, Act::Withdraw)),
        ChoiceId::Cosign { suggestion_id, .. } => Some((*suggestion_id, Act::Cosign)),
        _ => None,
    }
}

/// The reference number in what someone typed (`pd－2026－0001`, `编号：PD-2026-0001`), in
/// canonical form; `None` if there is none (see `ReferenceNo::find`).
pub(super) fn parse_reference(text: &str) -> Option<String> {
    ReferenceNo::find(text).map(|r| r.to_string())
}

/// Refusals about what was typed: the person may simply send it again, so the task stays.
pub(super) fn input_refusal(refusal: &Refusal) -> bool {
    matches!(
        refusal,
        Refusal::EmptyText
            | Refusal::TooLong(_)
            | Refusal::UnknownReference
            | Refusal::MergeIntoItself
            | Refusal::MergeTargetClosed
            | Refusal::UnknownReplyClass
    )
}

impl Dialogue<'_, '_> {
    /// The same first checks as `workflow::plan`, made before asking for a reason, a text or a
    /// wizard's steps, so nobody fills in a form for something they may not do. `plan` checks
    /// again when the change is made.
    pub(super) async fn precheck(
        &mut self,
        actor: &Actor<'_>,
        suggestion_id: i64,
        act: Act,
    ) -> Result<Result<Facts, Refusal>, StoreError> {
        let Some(facts) = self.ctx.store.facts(suggestion_id).await? else { return Ok(Err(Refusal::NotFound)) };
        let act = workflow::act_as(actor, act, &facts);
        if !workflow::permitted(actor, act, &facts) {
            let refusal =
                if workflow::permitted(actor, Act::View, &facts) { Refusal::Denied } else { Refusal::NotFound };
            return Ok(Err(refusal));
        }
        if !workflow::allowed_in(act, facts.state) {
            return Ok(Err(Refusal::WrongState(facts.state)));
        }
        Ok(Ok(facts))
    }

    /// Says a refusal politely; for a button also as the toast.
    pub(super) fn refuse(&mut self, refusal: &Refusal, button: bool) {
        let text = refusal.render(self.ctx, self.lang);
        if button {
            self.out.notice = Some(text.clone());
        }
        self.out.say(Action::text(text));
    }

    /// A workflow choice made by someone it was not offered to (a forged or forwarded one).
    pub(super) async fn refuse_foreign(&mut self, actor: &Actor<'_>, button: &ChoiceId) -> Result<(), StoreError> {
        let Some((suggestion_id, act)) = workflow_target(button) else {
            self.out.notice = Some(self.t("button.invalid"));
            return Ok(());
        };
        let refusal = match self.precheck(actor, suggestion_id, act).await? {
            Err(refusal) => refusal,
            // Not reachable with today's rules (no role has another role's buttons), but never act.
            Ok(_) => Refusal::Denied,
        };
        tracing::warn!(?button, user_id = self.person.user_id, "refused a workflow button not meant for this person");
        self.refuse(&refusal, true);
        Ok(())
    }

    /// Retires the choices of the replies given (0 and repeats skipped).
    pub(super) fn clear_buttons(&mut self, message_ids: &[i32]) {
        let mut done = Vec::new();
        for &message_id in message_ids {
            if message_id != 0 && !done.contains(&message_id) {
                done.push(message_id);
                self.out.say(Action::Retire { message_id });
            }
        }
    }

    /// A date as people here read it, in the committee's time zone.
    pub(super) fn local_date(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.ctx.config.offset()).format("%Y-%m-%d").to_string()
    }

    pub(super) fn role_label(&self, role: AssignmentRole) -> String {
        match role {
            AssignmentRole::Lead => self.t("assignment.role_lead"),
            AssignmentRole::Co => self.t("assignment.role_co"),
        }
    }

    /// Who the suggestion is assigned to, and how far each department is; `None` if nobody yet.
    pub(super) fn assignments_text(&self, facts: &Facts) -> Option<String> {
        if facts.assignments.is_empty() {
            return None;
        }
        let mut out = self.t("assignment.header");
        for a in &facts.assignments {
            let status = match a.status {
                AssignmentStatus::Active if a.acknowledged => self.t("assignment.active"),
                AssignmentStatus::Active => self.t("assignment.unacknowledged"),
                AssignmentStatus::Returned => self.t("assignment.returned"),
                AssignmentStatus::Answered => self.t("assignment.answered"),
                AssignmentStatus::Superseded => self.t("assignment.superseded"),
            };
            let line = self.ta(
                "assignment.line",
                &[
                    ("role", &self.role_label(a.role)),
                    ("department", &a.department_name),
                    ("status", &status),
                    ("deadline", &self.local_date(a.deadline)),
                ],
            );
            let _ = write!(out, "\n{line}");
        }
        Some(out)
    }

    /// The co-departments' views, for the lead department and staff; `None` if there are none.
    pub(super) fn opinions_text(&self, opinions: &[CoOpinion]) -> Option<String> {
        if opinions.is_empty() {
            return None;
        }
        let mut out = self.t("assignment.opinions_header");
        for o in opinions {
            let line = self.ta("assignment.opinion", &[("department", &o.department_name), ("text", &o.text)]);
            let _ = write!(out, "\n{line}");
        }
        Some(out)
    }

    /// Buttons laid out `per_row` to a row.
    pub(super) fn button_rows(buttons: Vec<Choice>, per_row: usize) -> Vec<Vec<Choice>> {
        buttons.chunks(per_row.max(1)).map(|c| c.to_vec()).collect()
    }

    /// Keeps only the buttons of `keyboard` whose workflow act `keep` allows; no rows, no keyboard.
    pub(super) fn filter_keyboard(keyboard: Keyboard, keep: impl Fn(Act) -> bool) -> Keyboard {
        let Keyboard::Choices(rows) = keyboard else { return keyboard };
        let rows: Vec<Vec<Choice>> = rows
            .into_iter()
            .map(|row| row.into_iter().filter(|c| workflow_target(&c.id).is_some_and(|(_, act)| keep(act))).collect())
            .filter(|row: &Vec<Choice>| !row.is_empty())
            .collect();
        if rows.is_empty() { Keyboard::None } else { Keyboard::Choices(rows) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_choices_name_their_suggestion_and_act() {
        use crate::choice::RatingChoice;
        assert_eq!(workflow_target(&ChoiceId::Review { act: Act::Assign, suggestion_id: 7 }), Some((7, Act::Assign)));
        assert_eq!(workflow_target(&ChoiceId::Department { act: Act::Reply, suggestion_id: 9 }), Some((9, Act::Reply)));
        let rating = ChoiceId::Rating { suggestion_id: 3, reply_no: 2, choice: RatingChoice::SkipReason };
        assert_eq!(workflow_target(&rating), Some((3, Act::Rate)));
        assert_eq!(workflow_target(&ChoiceId::Done { nonce: 1 }), None);
    }

    #[test]
    fn reference_numbers_are_normalised() {
        assert_eq!(parse_reference(" pd-2025-0042 ").as_deref(), Some("PD-2025-0042"));
        assert_eq!(parse_reference("编号：ＰＤ－２０２５－００４２").as_deref(), Some("PD-2025-0042"));
        assert_eq!(parse_reference("PD-2025-42"), None);
        assert_eq!(parse_reference("你好"), None);
    }
}
