//! The life of a suggestion after submission: who may do what (one place, deny by default), which
//! state follows, and who hears about it. Telegram, the console and the API all go through `plan`.

#[cfg(test)]
mod tests;

use chrono::{DateTime, Months, Utc};

use crate::context::Ctx;
use crate::domain::SuggestionState::{self, *};
use crate::locale::{Lang, Texts};
use crate::reply::{Action, Button, Keyboard};
use crate::store::{
    Addressee, ApiToken, AssignmentRole, AssignmentStatus, Attachment, Change, ChangeOp, Facts, Liaison, Member,
    OutMessage, Rating, Recipient, Role, Staff, StoreError, User,
};

/// Who asks.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    Member(&'a Member),
    Staff(&'a Staff),
    Liaison(&'a Liaison),
    /// Someone logged in to the web console: admins and staff act as staff, department accounts
    /// as their department's liaison.
    User(&'a User),
    /// A department's system calling the HTTP API with the department's token.
    Token(&'a ApiToken),
    Unregistered,
}

/// In what capacity an actor acts; the rules below are written once per capacity.
enum Capacity {
    Staff,
    Member(i64),
    Department(i64),
    None,
}

impl Actor<'_> {
    fn capacity(&self) -> Capacity {
        match self {
            Actor::Staff(s) if s.active => Capacity::Staff,
            Actor::Member(m) if m.active => Capacity::Member(m.id),
            Actor::Liaison(l) if l.active => Capacity::Department(l.department_id),
            Actor::User(u) if u.active => match (u.role, u.department_id) {
                (Role::Admin | Role::Staff, _) => Capacity::Staff,
                (Role::Department, Some(d)) => Capacity::Department(d),
                (Role::Department, None) => Capacity::None,
            },
            Actor::Token(t) if t.revoked_at.is_none() => Capacity::Department(t.department_id),
            _ => Capacity::None,
        }
    }

    /// The department an actor answers for, if any.
    pub fn department_id(&self) -> Option<i64> {
        match self.capacity() {
            Capacity::Department(d) => Some(d),
            _ => None,
        }
    }

    /// How the timeline names the actor: a kind and an id.
    fn timeline_name(&self) -> (&'static str, Option<i64>) {
        match self {
            Actor::Member(m) => ("member", Some(m.id)),
            Actor::Staff(s) => ("staff", Some(s.id)),
            Actor::Liaison(l) => ("department", Some(l.id)),
            Actor::User(u) if u.role == Role::Department => ("console_department", Some(u.id)),
            Actor::User(u) => ("console_staff", Some(u.id)),
            Actor::Token(t) => ("api_token", Some(t.id)),
            Actor::Unregistered => ("system", None),
        }
    }
}

/// What can be done to a suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Act {
    View,
    Accept,
    Reject,
    Merge,
    Assign,
    Instruct,
    Adopt,
    Acknowledge,
    Return,
    Reply,
    CoOpinion,
    Rate,
    Withdraw,
}

impl Act {
    pub const ALL: [Act; 13] = [
        Act::View,
        Act::Accept,
        Act::Reject,
        Act::Merge,
        Act::Assign,
        Act::Instruct,
        Act::Adopt,
        Act::Acknowledge,
        Act::Return,
        Act::Reply,
        Act::CoOpinion,
        Act::Rate,
        Act::Withdraw,
    ];
}

/// The permission rules of shared/domain.md. Everything not listed is refused.
pub fn permitted(actor: &Actor<'_>, act: Act, facts: &Facts) -> bool {
    match actor.capacity() {
        Capacity::None => false,
        Capacity::Staff => {
            matches!(act, Act::View | Act::Accept | Act::Reject | Act::Merge | Act::Assign | Act::Instruct | Act::Adopt)
        }
        Capacity::Member(member_id) => {
            member_id == facts.member_id && matches!(act, Act::View | Act::Rate | Act::Withdraw)
        }
        Capacity::Department(department_id) => {
            let active = facts.active_assignment(department_id);
            match act {
                Act::View => facts
                    .assignments
                    .iter()
                    .any(|a| a.department_id == department_id && a.status != AssignmentStatus::Superseded),
                Act::Acknowledge | Act::Return => active.is_some(),
                Act::Reply => active.is_some_and(|a| a.role == AssignmentRole::Lead),
                Act::CoOpinion => active.is_some_and(|a| a.role == AssignmentRole::Co),
                _ => false,
            }
        }
    }
}

/// States in which an act makes sense (permission aside).
pub fn allowed_in(act: Act, state: SuggestionState) -> bool {
    match act {
        Act::View => true,
        Act::Accept | Act::Reject | Act::Withdraw => state == Submitted,
        Act::Merge => matches!(state, Submitted | Accepted),
        Act::Assign => state == Accepted,
        Act::Instruct => !matches!(state, NotAccepted | Merged | Withdrawn),
        Act::Adopt => matches!(state, Accepted | Assigned | InProgress | Replied | Reopened | Closed),
        Act::Acknowledge | Act::Return | Act::CoOpinion => matches!(state, Assigned | InProgress | Reopened),
        Act::Reply => matches!(state, Assigned | InProgress | Reopened),
        Act::Rate => state == Replied,
    }
}

/// A request to change a suggestion.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Accept,
    Reject {
        reason: String,
    },
    Merge {
        into_reference: String,
    },
    Assign {
        lead: i64,
        co: Vec<i64>,
        deadline: Option<DateTime<Utc>>,
    },
    Instruct {
        text: String,
    },
    Adopt,
    Acknowledge,
    Return {
        reason: String,
    },
    CoOpinion {
        text: String,
    },
    Reply {
        class: String,
        text: String,
        document: Option<Attachment>,
    },
    /// `reply_no` is which reply the member rates (1 for the first); a stale button names an old one.
    Rate {
        reply_no: i64,
        rating: Rating,
        reason: String,
    },
    Withdraw,
}

impl Command {
    pub fn act(&self) -> Act {
        match self {
            Command::Accept => Act::Accept,
            Command::Reject { .. } => Act::Reject,
            Command::Merge { .. } => Act::Merge,
            Command::Assign { .. } => Act::Assign,
            Command::Instruct { .. } => Act::Instruct,
            Command::Adopt => Act::Adopt,
            Command::Acknowledge => Act::Acknowledge,
            Command::Return { .. } => Act::Return,
            Command::CoOpinion { .. } => Act::CoOpinion,
            Command::Reply { .. } => Act::Reply,
            Command::Rate { .. } => Act::Rate,
            Command::Withdraw => Act::Withdraw,
        }
    }
}

/// Why a request was refused; each is said politely to the person (`workflow.refused.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotFound,
    Denied,
    WrongState(SuggestionState),
    AlreadyDone,
    EmptyText,
    TooLong(usize),
    UnknownDepartment,
    UnknownReplyClass,
    UnknownReference,
    MergeIntoItself,
    MergeTargetClosed,
    StaleRating,
}

impl Refusal {
    pub fn render(&self, ctx: &Ctx<'_>, lang: Lang) -> String {
        let t = |key: &str, args: &[(&str, &dyn std::fmt::Display)]| ctx.texts.t(lang, key, args);
        match self {
            Refusal::NotFound => t("workflow.refused.not_found", &[]),
            Refusal::Denied => t("workflow.refused.denied", &[]),
            Refusal::WrongState(state) => {
                let state = t(&format!("state.{}", state.code()), &[]);
                t("workflow.refused.wrong_state", &[("state", &state)])
            }
            Refusal::AlreadyDone => t("workflow.refused.already_done", &[]),
            Refusal::EmptyText => t("workflow.refused.empty_text", &[]),
            Refusal::TooLong(max) => t("workflow.refused.too_long", &[("max", max)]),
            Refusal::UnknownDepartment => t("workflow.refused.unknown_department", &[]),
            Refusal::UnknownReplyClass => t("workflow.refused.unknown_reply_class", &[]),
            Refusal::UnknownReference => t("workflow.refused.unknown_reference", &[]),
            Refusal::MergeIntoItself => t("workflow.refused.merge_into_itself", &[]),
            Refusal::MergeTargetClosed => t("workflow.refused.merge_target_closed", &[]),
            Refusal::StaleRating => t("workflow.refused.stale_rating", &[]),
        }
    }
}

/// Longest reason, instruction, opinion or reply text, in characters.
pub const TEXT_MAX_CHARS: usize = 3000;

fn text_of(s: &str) -> Result<String, Refusal> {
    let s = s.trim();
    if s.is_empty() {
        return Err(Refusal::EmptyText);
    }
    if s.chars().count() > TEXT_MAX_CHARS {
        return Err(Refusal::TooLong(TEXT_MAX_CHARS));
    }
    Ok(s.to_string())
}

/// Callback data of the buttons that notifications carry.
pub mod buttons {
    use crate::store::Rating;

    pub fn staff(action: char, suggestion_id: i64) -> String {
        format!("r:{action}:{suggestion_id}")
    }
    pub fn department(action: char, suggestion_id: i64) -> String {
        format!("d:{action}:{suggestion_id}")
    }
    pub fn rating(suggestion_id: i64, reply_no: i64, rating: Rating) -> String {
        let r = match rating {
            Rating::Satisfied => 's',
            Rating::BasicallySatisfied => 'b',
            Rating::Dissatisfied => 'd',
        };
        format!("rt:{suggestion_id}:{reply_no}:{r}")
    }
}

/// Checks a request and, if it may go ahead, returns the change to apply and the notifications it
/// causes. Nothing is written: the caller applies the change in its own transaction.
pub async fn plan(
    ctx: &Ctx<'_>,
    actor: &Actor<'_>,
    suggestion_id: i64,
    command: Command,
) -> Result<Result<Change, Refusal>, StoreError> {
    let Some(facts) = ctx.store.facts(suggestion_id).await? else { return Ok(Err(Refusal::NotFound)) };
    let act = command.act();
    // The same once-only action again (a double click, a retried call, parallel requests): said
    // to be done already; the store refuses it too if it slips past this check.
    let once_key = once_key(actor, &command, &facts);
    if once_key.as_deref().is_some_and(|k| facts.done(k)) && permitted(actor, Act::View, &facts) {
        return Ok(Err(Refusal::AlreadyDone));
    }
    if !permitted(actor, act, &facts) {
        // Someone who may not even see it is not told it exists.
        let refusal = if permitted(actor, Act::View, &facts) { Refusal::Denied } else { Refusal::NotFound };
        return Ok(Err(refusal));
    }
    if !allowed_in(act, facts.state) {
        return Ok(Err(Refusal::WrongState(facts.state)));
    }
    let mut planner = Planner { ctx, facts: &facts, messages: Vec::new(), once_key };
    planner.plan(actor, command).await
}

/// Placeholder values for `Texts::t`. The notifiers take `Sync` ones: they are held across
/// awaits, and `plan` runs inside the bot's `Send` worker tasks.
fn plain_args<'x>(args: &[(&'x str, &'x (dyn std::fmt::Display + Sync))]) -> Vec<(&'x str, &'x dyn std::fmt::Display)> {
    args.iter().map(|(k, v)| (*k, *v as &dyn std::fmt::Display)).collect()
}

/// The key naming an action that leaves the suggestion's state as it is and happens once
/// (`Change::once_key`): an adoption; an instruction with the same text; a department's
/// acknowledgement, opinion or return of its current assignment. `None` for every other command
/// (those move the state, so the store's state check already lets only one through).
pub fn once_key(actor: &Actor<'_>, command: &Command, facts: &Facts) -> Option<String> {
    use sha2::{Digest, Sha256};
    let assignment = || {
        let department_id = actor.department_id()?;
        facts
            .assignments
            .iter()
            .rev()
            .find(|a| a.department_id == department_id && a.status != AssignmentStatus::Superseded)
            .map(|a| a.id)
    };
    match command {
        Command::Adopt => Some("adopted".to_string()),
        Command::Instruct { text } => {
            let digest = Sha256::digest(text.trim().as_bytes());
            Some(format!("instructed:{}", hex::encode(&digest[..16])))
        }
        Command::Acknowledge => assignment().map(|id| format!("acknowledged:{id}")),
        Command::Return { .. } => assignment().map(|id| format!("returned:{id}")),
        Command::CoOpinion { .. } => assignment().map(|id| format!("co_opinion:{id}")),
        _ => None,
    }
}

struct Planner<'a, 'c> {
    ctx: &'a Ctx<'c>,
    facts: &'a Facts,
    messages: Vec<OutMessage>,
    once_key: Option<String>,
}

impl Planner<'_, '_> {
    fn lang(&self, recipient: &Recipient) -> Lang {
        self.ctx.texts.lang_for(recipient.language.as_deref())
    }

    fn date(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.ctx.config.offset()).format("%Y-%m-%d").to_string()
    }

    /// Pushes a notification to the member, with the reference number, the new state and what next.
    fn notify_member(
        &mut self,
        key: &str,
        new_state: SuggestionState,
        args: &[(&str, &dyn std::fmt::Display)],
        keyboard: Keyboard,
    ) {
        let member = self.facts.member.clone();
        let lang = member.as_ref().map_or_else(|| self.ctx.texts.lang_for(None), |m| self.lang(m));
        let t = self.ctx.texts;
        let state = t.t(lang, &format!("state.{}", new_state.code()), &[]);
        let body = t.t(lang, key, args);
        let text = t.t(
            lang,
            "notify.member_frame",
            &[
                ("reference", &self.facts.reference_no),
                ("title", &self.facts.title),
                ("state", &state),
                ("body", &body),
            ],
        );
        let payload = Action::with_keyboard(text, keyboard).encode();
        self.messages.push(self.to_member(payload));
    }

    /// A notification for the member: to their chat, or kept until they can be written to (no
    /// invite redeemed yet, or the bot blocked) — never dropped.
    fn to_member(&self, payload: String) -> OutMessage {
        match &self.facts.member {
            Some(member) => OutMessage::notification(member.chat_id, payload),
            None => OutMessage::held(Addressee::Member(self.facts.member_id), Some(self.facts.id), payload),
        }
    }

    async fn notify_staff(
        &mut self,
        key: &str,
        args: &[(&str, &(dyn std::fmt::Display + Sync))],
        with_review_buttons: bool,
    ) -> Result<(), StoreError> {
        let recipients = staff_recipients(self.ctx).await?;
        let kept = recipients.is_empty().then_some(Recipient { chat_id: 0, language: None });
        for r in recipients.iter().chain(&kept) {
            let lang = self.lang(r);
            let text = self.ctx.texts.t(lang, key, &plain_args(args));
            let keyboard = if with_review_buttons {
                review_keyboard(self.ctx.texts, lang, self.facts.id, Accepted)
            } else {
                Keyboard::None
            };
            let payload = Action::with_keyboard(text, keyboard).encode();
            self.messages.push(match kept {
                // No staff group and no staff member registered yet: kept for the first who writes.
                Some(_) => OutMessage::held(Addressee::Staff, Some(self.facts.id), payload),
                None => OutMessage::notification(r.chat_id, payload),
            });
        }
        Ok(())
    }

    async fn notify_department(
        &mut self,
        department_id: i64,
        key: &str,
        args: &[(&str, &(dyn std::fmt::Display + Sync))],
        role: Option<AssignmentRole>,
    ) -> Result<(), StoreError> {
        let recipients = self.ctx.store.liaison_recipients(department_id).await?;
        let kept = recipients.is_empty().then_some(Recipient { chat_id: 0, language: None });
        for r in recipients.iter().chain(&kept) {
            let lang = self.lang(r);
            let text = self.ctx.texts.t(lang, key, &plain_args(args));
            let keyboard = match role {
                Some(role) => department_keyboard(self.ctx.texts, lang, self.facts.id, role),
                None => Keyboard::None,
            };
            let payload = Action::with_keyboard(text, keyboard).encode();
            self.messages.push(match kept {
                // No liaison of the department registered yet: kept for the first who writes.
                Some(_) => OutMessage::held(Addressee::Department(department_id), Some(self.facts.id), payload),
                None => OutMessage::notification(r.chat_id, payload),
            });
        }
        Ok(())
    }

    fn change(
        &mut self,
        actor: &Actor<'_>,
        new_state: SuggestionState,
        event: &'static str,
        text: String,
        ops: Vec<ChangeOp>,
    ) -> Change {
        let (actor_kind, actor_id) = actor.timeline_name();
        Change {
            suggestion_id: self.facts.id,
            expect_state: self.facts.state,
            new_state,
            ops,
            actor_kind,
            actor_id,
            event,
            text,
            once_key: self.once_key.take(),
            messages: std::mem::take(&mut self.messages),
        }
    }

    async fn plan(&mut self, actor: &Actor<'_>, command: Command) -> Result<Result<Change, Refusal>, StoreError> {
        let f = self.facts;
        let now = self.ctx.now;
        let change = match command {
            Command::Accept => {
                self.notify_member("notify.accepted", Accepted, &[], Keyboard::None);
                self.change(actor, Accepted, "accepted", String::new(), vec![])
            }
            Command::Reject { reason } => {
                let reason = match text_of(&reason) {
                    Ok(r) => r,
                    Err(e) => return Ok(Err(e)),
                };
                self.notify_member("notify.not_accepted", NotAccepted, &[("reason", &reason)], Keyboard::None);
                self.change(actor, NotAccepted, "not_accepted", reason, vec![])
            }
            Command::Merge { into_reference } => {
                // Typed by staff in Telegram, the console or the API: `pd－2026－0001`, `编号：PD-2026-0001`.
                let Some(reference) = crate::domain::ReferenceNo::find(&into_reference).map(|r| r.to_string()) else {
                    return Ok(Err(Refusal::UnknownReference));
                };
                let Some(target) = self.ctx.store.suggestion_id_by_reference(&reference).await? else {
                    return Ok(Err(Refusal::UnknownReference));
                };
                if target == f.id {
                    return Ok(Err(Refusal::MergeIntoItself));
                }
                let target_state = self.ctx.store.facts(target).await?.map(|t| t.state);
                if matches!(target_state, Some(Merged | Withdrawn | NotAccepted) | None) {
                    return Ok(Err(Refusal::MergeTargetClosed));
                }
                self.notify_member("notify.merged", Merged, &[("into", &reference)], Keyboard::None);
                self.change(actor, Merged, "merged", reference, vec![ChangeOp::MergeInto(target)])
            }
            Command::Assign { lead, co, deadline } => {
                let deadline = deadline.unwrap_or_else(|| {
                    now.checked_add_months(Months::new(self.ctx.config.workflow.deadline_months)).unwrap_or(now)
                });
                let Some(lead_dept) = self.ctx.store.department(lead).await? else {
                    return Ok(Err(Refusal::UnknownDepartment));
                };
                let mut co_depts = Vec::new();
                for id in co {
                    if id == lead || co_depts.iter().any(|d: &crate::store::Department| d.id == id) {
                        continue;
                    }
                    match self.ctx.store.department(id).await? {
                        Some(d) => co_depts.push(d),
                        None => return Ok(Err(Refusal::UnknownDepartment)),
                    }
                }
                let date = self.date(deadline);
                let co_names = co_depts.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join("、");
                let member_lang =
                    f.member.as_ref().map(|m| self.lang(m)).unwrap_or_else(|| self.ctx.texts.lang_for(None));
                let departments = if co_names.is_empty() {
                    lead_dept.name.clone()
                } else {
                    self.ctx.texts.t(member_lang, "notify.with_co", &[("lead", &lead_dept.name), ("co", &co_names)])
                };
                let co_names = if co_names.is_empty() {
                    self.ctx.texts.t(self.ctx.texts.lang_for(None), "notify.no_co", &[])
                } else {
                    co_names
                };
                self.notify_member(
                    "notify.assigned",
                    Assigned,
                    &[("departments", &departments), ("deadline", &date)],
                    Keyboard::None,
                );
                let suggestion = self.suggestion_text().await?;
                self.notify_department(
                    lead,
                    "notify.dept_assigned_lead",
                    &[("suggestion", &suggestion), ("deadline", &date), ("co", &co_names)],
                    Some(AssignmentRole::Lead),
                )
                .await?;
                for d in &co_depts {
                    self.notify_department(
                        d.id,
                        "notify.dept_assigned_co",
                        &[("suggestion", &suggestion), ("deadline", &date), ("lead", &lead_dept.name)],
                        Some(AssignmentRole::Co),
                    )
                    .await?;
                }
                let mut ops = vec![ChangeOp::Assign { department_id: lead, role: AssignmentRole::Lead, deadline }];
                ops.extend(co_depts.iter().map(|d| ChangeOp::Assign {
                    department_id: d.id,
                    role: AssignmentRole::Co,
                    deadline,
                }));
                // Earlier routings (returned by a department) are finished with.
                ops.extend(f.assignments.iter().filter(|a| a.status != AssignmentStatus::Superseded).map(|a| {
                    ChangeOp::SetAssignmentStatus { assignment_id: a.id, status: AssignmentStatus::Superseded }
                }));
                ops.push(ChangeOp::SetDeadline(Some(deadline)));
                self.change(actor, Assigned, "assigned", departments, ops)
            }
            Command::Instruct { text } => {
                let text = match text_of(&text) {
                    Ok(t) => t,
                    Err(e) => return Ok(Err(e)),
                };
                self.notify_member("notify.instructed", f.state, &[("text", &text)], Keyboard::None);
                if let Some(lead) = f.lead().filter(|a| a.status == AssignmentStatus::Active) {
                    let reference = f.reference_no.clone();
                    self.notify_department(
                        lead.department_id,
                        "notify.dept_instructed",
                        &[("reference", &reference), ("text", &text)],
                        None,
                    )
                    .await?;
                }
                self.change(actor, f.state, "instructed", text, vec![])
            }
            Command::Adopt => {
                if f.adopted {
                    return Ok(Err(Refusal::AlreadyDone));
                }
                self.notify_member("notify.adopted", f.state, &[], Keyboard::None);
                self.change(actor, f.state, "adopted", String::new(), vec![ChangeOp::Adopt])
            }
            Command::Acknowledge => {
                let Some(department_id) = actor.department_id() else { return Ok(Err(Refusal::Denied)) };
                let Some(assignment) = f.active_assignment(department_id).cloned() else {
                    return Ok(Err(Refusal::Denied));
                };
                if assignment.acknowledged {
                    return Ok(Err(Refusal::AlreadyDone));
                }
                let new_state =
                    if assignment.role == AssignmentRole::Lead && f.state == Assigned { InProgress } else { f.state };
                if assignment.role == AssignmentRole::Lead {
                    self.notify_member(
                        "notify.acknowledged",
                        new_state,
                        &[("department", &assignment.department_name)],
                        Keyboard::None,
                    );
                }
                self.change(
                    actor,
                    new_state,
                    "acknowledged",
                    assignment.department_name.clone(),
                    vec![ChangeOp::Acknowledge { assignment_id: assignment.id }],
                )
            }
            Command::Return { reason } => {
                let Some(department_id) = actor.department_id() else { return Ok(Err(Refusal::Denied)) };
                let Some(assignment) = f.active_assignment(department_id).cloned() else {
                    return Ok(Err(Refusal::Denied));
                };
                let reason = match text_of(&reason) {
                    Ok(r) => r,
                    Err(e) => return Ok(Err(e)),
                };
                let reference = f.reference_no.clone();
                self.notify_staff(
                    "notify.staff_returned",
                    &[("reference", &reference), ("department", &assignment.department_name), ("reason", &reason)],
                    false,
                )
                .await?;
                let text = format!("{}：{reason}", assignment.department_name);
                if assignment.role == AssignmentRole::Lead {
                    // The whole routing goes back to staff to be done again.
                    let mut ops: Vec<ChangeOp> = f
                        .assignments
                        .iter()
                        .filter(|a| a.status == AssignmentStatus::Active && a.id != assignment.id)
                        .map(|a| ChangeOp::SetAssignmentStatus {
                            assignment_id: a.id,
                            status: AssignmentStatus::Superseded,
                        })
                        .collect();
                    ops.push(ChangeOp::SetAssignmentStatus {
                        assignment_id: assignment.id,
                        status: AssignmentStatus::Returned,
                    });
                    ops.push(ChangeOp::SetDeadline(None));
                    self.change(actor, Accepted, "returned", text, ops)
                } else {
                    let ops = vec![ChangeOp::SetAssignmentStatus {
                        assignment_id: assignment.id,
                        status: AssignmentStatus::Returned,
                    }];
                    self.change(actor, f.state, "returned", text, ops)
                }
            }
            Command::CoOpinion { text } => {
                let Some(department_id) = actor.department_id() else { return Ok(Err(Refusal::Denied)) };
                let Some(assignment) = f.active_assignment(department_id).cloned() else {
                    return Ok(Err(Refusal::Denied));
                };
                let text = match text_of(&text) {
                    Ok(t) => t,
                    Err(e) => return Ok(Err(e)),
                };
                if let Some(lead) = f.lead() {
                    let reference = f.reference_no.clone();
                    self.notify_department(
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
                self.change(actor, f.state, "co_opinion", format!("{}：{text}", assignment.department_name), ops)
            }
            Command::Reply { class, text, document } => {
                let Some(department_id) = actor.department_id() else { return Ok(Err(Refusal::Denied)) };
                let Some(assignment) = f.active_assignment(department_id).cloned() else {
                    return Ok(Err(Refusal::Denied));
                };
                let Some(class) = self.ctx.config.workflow.reply_classes().into_iter().find(|c| c.code == class) else {
                    return Ok(Err(Refusal::UnknownReplyClass));
                };
                let text = match text_of(&text) {
                    Ok(t) => t,
                    Err(e) => return Ok(Err(e)),
                };
                let reply_no = f.replies + 1;
                let lang = f.member.as_ref().map(|m| self.lang(m)).unwrap_or(Lang::Zh);
                let rate = |key: &str, rating| {
                    Button::new(self.ctx.texts.t(lang, key, &[]), buttons::rating(f.id, reply_no, rating))
                };
                let keyboard = Keyboard::Inline(vec![vec![
                    rate("rating.satisfied", Rating::Satisfied),
                    rate("rating.basically_satisfied", Rating::BasicallySatisfied),
                    rate("rating.dissatisfied", Rating::Dissatisfied),
                ]]);
                let class_label = format!("{} {}", class.code, class.label);
                let has_document = if document.is_some() {
                    self.ctx.texts.t(lang, "notify.reply_has_document", &[])
                } else {
                    String::new()
                };
                self.notify_member(
                    "notify.replied",
                    Replied,
                    &[
                        ("department", &assignment.department_name),
                        ("class", &class_label),
                        ("text", &text),
                        ("document", &has_document),
                    ],
                    keyboard,
                );
                // The department's file follows the reply, sent again by its Telegram file id.
                if let Some(doc) = &document {
                    let caption =
                        self.ctx.texts.t(lang, "notify.reply_document_caption", &[("reference", &f.reference_no)]);
                    let photo = doc.kind == crate::store::AttachmentKind::Photo;
                    let action = Action::File { file_id: doc.file_id.clone(), photo, caption };
                    self.messages.push(self.to_member(action.encode()));
                }
                let document_json = document.as_ref().map(|d| serde_json::to_string(d).unwrap_or_default());
                let ops = vec![
                    ChangeOp::Reply {
                        department_id: assignment.department_id,
                        reply_class: class.code.clone(),
                        text: text.clone(),
                        document: document_json,
                    },
                    ChangeOp::Acknowledge { assignment_id: assignment.id },
                    ChangeOp::SetAssignmentStatus { assignment_id: assignment.id, status: AssignmentStatus::Answered },
                ];
                self.change(actor, Replied, "replied", format!("{class_label}：{text}"), ops)
            }
            Command::Rate { reply_no, rating, reason } => {
                if reply_no != f.replies {
                    return Ok(Err(Refusal::StaleRating));
                }
                let reason = reason.trim().chars().take(TEXT_MAX_CHARS).collect::<String>();
                let member_lang = f.member.as_ref().map(|m| self.lang(m)).unwrap_or(Lang::Zh);
                let label = self.ctx.texts.t(member_lang, &format!("rating.{}", rating.as_str()), &[]);
                let event_text = if reason.is_empty() { label.clone() } else { format!("{label}：{reason}") };
                let ops = vec![ChangeOp::Rate { rating, reason: reason.clone() }];
                match rating {
                    Rating::Satisfied | Rating::BasicallySatisfied => {
                        self.notify_member("notify.closed", Closed, &[("rating", &label)], Keyboard::None);
                        self.change(actor, Closed, "closed", event_text, ops)
                    }
                    Rating::Dissatisfied => {
                        let Some(lead) = f.lead().cloned() else { return Ok(Err(Refusal::WrongState(f.state))) };
                        let deadline = now + chrono::Duration::days(self.ctx.config.workflow.reopen_days);
                        let date = self.date(deadline);
                        self.notify_member("notify.reopened", Reopened, &[("deadline", &date)], Keyboard::None);
                        let reference = f.reference_no.clone();
                        let shown_reason = if reason.is_empty() { "—".to_string() } else { reason.clone() };
                        self.notify_department(
                            lead.department_id,
                            "notify.dept_reopened",
                            &[("reference", &reference), ("reason", &shown_reason), ("deadline", &date)],
                            Some(AssignmentRole::Lead),
                        )
                        .await?;
                        self.notify_staff(
                            "notify.staff_dissatisfied",
                            &[
                                ("reference", &reference),
                                ("department", &lead.department_name),
                                ("reason", &shown_reason),
                            ],
                            false,
                        )
                        .await?;
                        let mut ops = ops;
                        ops.push(ChangeOp::ReactivateLead { assignment_id: lead.id, deadline });
                        ops.push(ChangeOp::SetDeadline(Some(deadline)));
                        self.change(actor, Reopened, "reopened", event_text, ops)
                    }
                }
            }
            Command::Withdraw => {
                self.notify_member("notify.withdrawn", Withdrawn, &[], Keyboard::None);
                self.change(actor, Withdrawn, "withdrawn", String::new(), vec![])
            }
        };
        Ok(Ok(change))
    }

    /// The suggestion as a department reads it: reference, title, points.
    async fn suggestion_text(&self) -> Result<String, StoreError> {
        let Some(s) = self.ctx.store.suggestion(self.facts.id).await? else {
            return Ok(self.facts.reference_no.clone());
        };
        let mut out = format!("{}《{}》", s.reference_no, s.title);
        for (i, p) in s.points.iter().enumerate() {
            out.push_str(&format!("\n{}. {p}", i + 1));
        }
        Ok(out)
    }
}

/// Where staff hear of news: the staff group chat if one is configured (followed through the
/// moves Telegram made, see [`staff_group`]), else each staff member.
pub async fn staff_recipients(ctx: &Ctx<'_>) -> Result<Vec<Recipient>, StoreError> {
    if let Some(chat_id) = staff_group(ctx).await? {
        return Ok(vec![Recipient { chat_id, language: None }]);
    }
    ctx.store.staff_recipients().await
}

/// The staff group in use: `staff.group_chat_id` followed through every recorded chat move (a
/// group upgraded to a supergroup gets a new id), or `None` when no group is configured.
pub async fn staff_group(ctx: &Ctx<'_>) -> Result<Option<i64>, StoreError> {
    let configured = ctx.config.staff.group_chat_id;
    if configured == 0 {
        return Ok(None);
    }
    Ok(Some(ctx.store.current_chat(configured).await?))
}

/// Telegram moved a chat to a new id (a group upgraded to a supergroup; seen as an error's
/// `migrate_to_chat_id` when sending, or as a `migrate_to_chat_id`/`migrate_from_chat_id` service
/// message): records the move, re-addresses every message still queued for the old chat, and —
/// when the old chat was the staff group in use, the first time only — queues a notice to staff in
/// the new group. Safe to call any number of times; `Ok(true)` if the move was new.
pub async fn chat_moved(ctx: &Ctx<'_>, old_chat_id: i64, new_chat_id: i64) -> Result<bool, StoreError> {
    let notice = if staff_group(ctx).await? == Some(old_chat_id) {
        let lang = ctx.texts.lang_for(None);
        let text = ctx.texts.t(lang, "staff.group_moved", &[("chat_id", &new_chat_id), ("old_chat_id", &old_chat_id)]);
        // As a reply, it goes before the notifications re-addressed with it.
        vec![OutMessage::reply(new_chat_id, Action::text(text).encode())]
    } else {
        Vec::new()
    };
    ctx.store.migrate_chat(old_chat_id, new_chat_id, notice, ctx.now).await
}

/// The staff's buttons for a suggestion in a given state.
pub fn review_keyboard(texts: &Texts, lang: Lang, suggestion_id: i64, state: SuggestionState) -> Keyboard {
    let b = |key: &str, action| Button::new(texts.t(lang, key, &[]), buttons::staff(action, suggestion_id));
    let offer = |acts: &[(Act, &str, char)]| -> Vec<Button> {
        acts.iter().filter(|(act, _, _)| allowed_in(*act, state)).map(|(_, key, c)| b(key, *c)).collect()
    };
    let rows: Vec<Vec<Button>> = [
        offer(&[
            (Act::Accept, "review.accept", 'a'),
            (Act::Reject, "review.reject", 'r'),
            (Act::Assign, "review.assign", 's'),
        ]),
        offer(&[
            (Act::Merge, "review.merge", 'm'),
            (Act::Instruct, "review.instruct", 'i'),
            (Act::Adopt, "review.adopt", 'd'),
        ]),
    ]
    .into_iter()
    .filter(|row| !row.is_empty())
    .collect();
    Keyboard::Inline(rows)
}

/// A department's buttons for an assignment.
pub fn department_keyboard(texts: &Texts, lang: Lang, suggestion_id: i64, role: AssignmentRole) -> Keyboard {
    let b = |key: &str, action| Button::new(texts.t(lang, key, &[]), buttons::department(action, suggestion_id));
    let answer = match role {
        AssignmentRole::Lead => b("department.reply", 'y'),
        AssignmentRole::Co => b("department.opinion", 'o'),
    };
    Keyboard::Inline(vec![vec![b("department.acknowledge", 'k'), answer, b("department.return", 'r')]])
}
