//! What staff, departments and members share when they act on a suggestion from Telegram: the
//! workflow buttons' data, the check made before more input is asked for, polite refusals, and the
//! texts about assignments. Every change itself is planned by `workflow::plan`; nothing here
//! decides a permission on its own.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::Dialogue;
use crate::domain::ReferenceNo;
use crate::reply::{Action, Button, Keyboard};
use crate::store::{AssignmentRole, AssignmentStatus, CoOpinion, Facts, Rating, StoreError};
use crate::workflow::{self, Act, Actor, Refusal};

/// The member's choice on a rating button: a rating, or skipping the reason after 不满意.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RatingChoice {
    Rate(Rating),
    SkipReason,
}

/// Data of the buttons that `workflow` puts on notifications (`workflow::buttons`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WorkflowButton {
    /// `r:<a|r|m|s|i|d>:<suggestion_id>`
    Staff { act: Act, suggestion_id: i64 },
    /// `d:<k|r|y|o>:<suggestion_id>`
    Department { act: Act, suggestion_id: i64 },
    /// `rt:<suggestion_id>:<reply_no>:<s|b|d|x>`
    Rating { suggestion_id: i64, reply_no: i64, choice: RatingChoice },
}

impl WorkflowButton {
    pub(super) fn parse(data: &str) -> Option<Self> {
        let parts: Vec<&str> = data.split(':').collect();
        let id = |s: &str| s.parse::<i64>().ok().filter(|n| *n > 0);
        match parts.as_slice() {
            ["r", action, sid] => {
                let act = match *action {
                    "a" => Act::Accept,
                    "r" => Act::Reject,
                    "m" => Act::Merge,
                    "s" => Act::Assign,
                    "i" => Act::Instruct,
                    "d" => Act::Adopt,
                    _ => return None,
                };
                Some(Self::Staff { act, suggestion_id: id(sid)? })
            }
            ["d", action, sid] => {
                let act = match *action {
                    "k" => Act::Acknowledge,
                    "r" => Act::Return,
                    "y" => Act::Reply,
                    "o" => Act::CoOpinion,
                    _ => return None,
                };
                Some(Self::Department { act, suggestion_id: id(sid)? })
            }
            ["rt", sid, reply_no, choice] => {
                let choice = match *choice {
                    "s" => RatingChoice::Rate(Rating::Satisfied),
                    "b" => RatingChoice::Rate(Rating::BasicallySatisfied),
                    "d" => RatingChoice::Rate(Rating::Dissatisfied),
                    "x" => RatingChoice::SkipReason,
                    _ => return None,
                };
                Some(Self::Rating { suggestion_id: id(sid)?, reply_no: id(reply_no)?, choice })
            }
            _ => None,
        }
    }

    pub(super) fn suggestion_id(&self) -> i64 {
        match self {
            Self::Staff { suggestion_id, .. }
            | Self::Department { suggestion_id, .. }
            | Self::Rating { suggestion_id, .. } => *suggestion_id,
        }
    }

    pub(super) fn act(&self) -> Act {
        match self {
            Self::Staff { act, .. } | Self::Department { act, .. } => *act,
            Self::Rating { .. } => Act::Rate,
        }
    }
}

/// The skip button under the question for a dissatisfied member's reason.
pub(super) fn rating_skip_data(suggestion_id: i64, reply_no: i64) -> String {
    format!("rt:{suggestion_id}:{reply_no}:x")
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
            self.out.toast = Some(text.clone());
        }
        self.out.say(Action::text(text));
    }

    /// A workflow button pressed by someone it was not made for (a forged or forwarded one).
    pub(super) async fn refuse_foreign(&mut self, actor: &Actor<'_>, button: WorkflowButton) -> Result<(), StoreError> {
        let refusal = match self.precheck(actor, button.suggestion_id(), button.act()).await? {
            Err(refusal) => refusal,
            // Not reachable with today's rules (no role has another role's buttons), but never act.
            Ok(_) => Refusal::Denied,
        };
        tracing::warn!(?button, user_id = self.person.user_id, "refused a workflow button not meant for this person");
        self.refuse(&refusal, true);
        Ok(())
    }

    /// Removes the inline buttons of the messages given (0 and repeats skipped).
    pub(super) fn clear_buttons(&mut self, message_ids: &[i32]) {
        let mut done = Vec::new();
        for &message_id in message_ids {
            if message_id != 0 && !done.contains(&message_id) {
                done.push(message_id);
                self.out.say(Action::ClearButtons { message_id });
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
    pub(super) fn button_rows(buttons: Vec<Button>, per_row: usize) -> Vec<Vec<Button>> {
        buttons.chunks(per_row.max(1)).map(|c| c.to_vec()).collect()
    }

    /// Keeps only the buttons of `keyboard` whose workflow act `keep` allows; no rows, no keyboard.
    pub(super) fn filter_keyboard(keyboard: Keyboard, keep: impl Fn(Act) -> bool) -> Keyboard {
        let Keyboard::Inline(rows) = keyboard else { return keyboard };
        let rows: Vec<Vec<Button>> = rows
            .into_iter()
            .map(|row| {
                row.into_iter().filter(|b| WorkflowButton::parse(&b.data).is_some_and(|w| keep(w.act()))).collect()
            })
            .filter(|row: &Vec<Button>| !row.is_empty())
            .collect();
        if rows.is_empty() { Keyboard::None } else { Keyboard::Inline(rows) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_buttons_round_trip_and_garbage_is_refused() {
        assert_eq!(
            WorkflowButton::parse(&workflow::buttons::staff('s', 7)),
            Some(WorkflowButton::Staff { act: Act::Assign, suggestion_id: 7 })
        );
        assert_eq!(
            WorkflowButton::parse(&workflow::buttons::department('y', 9)),
            Some(WorkflowButton::Department { act: Act::Reply, suggestion_id: 9 })
        );
        assert_eq!(
            WorkflowButton::parse(&workflow::buttons::rating(3, 2, Rating::Dissatisfied)),
            Some(WorkflowButton::Rating {
                suggestion_id: 3,
                reply_no: 2,
                choice: RatingChoice::Rate(Rating::Dissatisfied)
            })
        );
        assert_eq!(
            WorkflowButton::parse(&rating_skip_data(3, 2)),
            Some(WorkflowButton::Rating { suggestion_id: 3, reply_no: 2, choice: RatingChoice::SkipReason })
        );
        for bad in ["r:z:1", "r:a:-1", "r:a:x", "d:a:1", "rt:1:1:q", "rt:1:0:s", "r:a:1:2", "", "n:1:done"] {
            assert_eq!(WorkflowButton::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn reference_numbers_are_normalised() {
        assert_eq!(parse_reference(" pd-2025-0042 ").as_deref(), Some("PD-2025-0042"));
        assert_eq!(parse_reference("编号：ＰＤ－２０２５－００４２").as_deref(), Some("PD-2025-0042"));
        assert_eq!(parse_reference("PD-2025-42"), None);
        assert_eq!(parse_reference("你好"), None);
    }
}
