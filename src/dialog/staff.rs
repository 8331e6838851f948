//! Staff in Telegram: the review queue, accepting, not accepting, merging, assigning, instructions,
//! adoption, statistics and looking a suggestion up by its reference number.
//!
//! Every change goes through `workflow::plan`; this module only collects what the change needs
//! (a reason, a reference number, the departments and the deadline) and says how it went.

use std::fmt::Write;

use super::state::{AssignDraft, AssignStep, Flow, StaffAsk, Task};
use super::workflow_ui::parse_reference;
use super::{Dialogue, Input, render};
use crate::choice::{ChoiceId, WizardOp};
use crate::conversation::ChatCommand;
use crate::domain::SuggestionState;
use crate::reply::{Action, Choice, Keyboard};
use crate::store::inbox::{InboxFilter, InboxSort, PageCursor};
use crate::store::{AssignmentRole, Change, ChangeOp, Facts, Staff, StoreError};
use crate::workflow::{self, Act, Actor, Command, Refusal};
use chrono::{Months, NaiveDate, Utc};

/// Suggestions shown per page of the review queue.
const PAGE: usize = 5;
/// Most suggestions looked at to count what is left of the queue.
const QUEUE_SCAN: usize = 1000;

/// A step of the staff's assignment wizard; the nonce makes an old one stale.
fn wizard(nonce: u32, op: WizardOp) -> ChoiceId {
    ChoiceId::StaffWizard { nonce, op }
}

impl Dialogue<'_, '_> {
    pub(super) async fn staff(&mut self, staff: &Staff, input: Input) -> Result<(), StoreError> {
        // Broadcasts have their own module: /broadcast, its menu key, its buttons ("b:…") and a
        // broadcast being composed all go there.
        let is_broadcast = match &input {
            Input::Command { name, .. } => ChatCommand::parse(name) == Some(ChatCommand::Broadcast),
            Input::Choice { choice, .. } => matches!(choice, Some(ChoiceId::Broadcast(_))),
            _ => matches!(self.dialog.flow, Flow::Broadcast(_)),
        };
        if is_broadcast {
            return self.broadcast_input(staff, input).await;
        }
        if let Input::Choice { choice: None, .. } = input {
            tracing::warn!(staff_id = staff.id, "refused a choice that cannot be read");
            self.out.notice = Some(self.t("button.invalid"));
            return Ok(());
        }
        match input {
            Input::Command { name, arg } => self.staff_command(staff, &name, arg).await?,
            Input::Choice { message_id, choice } => self.staff_button(staff, message_id, choice).await?,
            Input::Text(text) => self.staff_text(staff, &text).await?,
            Input::Attachment { .. } | Input::Unsupported(_) | Input::Edited | Input::NotPrivate => {
                if self.has_task() {
                    let text = self.t("task.use_text");
                    self.out.say(Action::text(text));
                    self.task_ask().await?;
                } else {
                    self.staff_help();
                }
            }
        }
        self.out.state = Some(self.dialog.clone());
        Ok(())
    }

    fn staff_help(&mut self) {
        let text = self.t("help.staff");
        self.out.say(Action::with_keyboard(text, self.staff_menu()));
    }

    async fn staff_command(&mut self, staff: &Staff, name: &str, arg: Option<String>) -> Result<(), StoreError> {
        match ChatCommand::parse(name) {
            // The broadcast module lists recent broadcasts for /broadcasts (only /broadcast is
            // routed to it above).
            Some(ChatCommand::Broadcasts) => {
                self.drop_task();
                self.broadcast_input(staff, Input::Command { name: name.to_string(), arg }).await?;
            }
            Some(ChatCommand::Cancel) => {
                let busy = self.has_task() || matches!(self.dialog.flow, Flow::Broadcast(_));
                self.finish();
                let key = if busy { "task.cancelled" } else { "dialog.nothing_to_cancel" };
                let text = self.t(key);
                self.out.say(Action::with_keyboard(text, self.staff_menu()));
            }
            Some(ChatCommand::Help) => {
                self.staff_help();
                self.task_ask().await?;
            }
            Some(ChatCommand::Start) => {
                self.drop_task();
                let text = self.ta("register.welcome_staff", &[("name", &staff.name)]);
                self.out.say(Action::with_keyboard(text, self.staff_menu()));
            }
            Some(ChatCommand::Review) => {
                self.drop_task();
                self.review_page(0).await?;
            }
            Some(ChatCommand::Stats) => {
                self.drop_task();
                self.staff_stats().await?;
            }
            _ => {
                let text = self.ta("input.unknown_command", &[("command", &name)]);
                self.out.say(Action::with_keyboard(text, self.staff_menu()));
            }
        }
        Ok(())
    }

    async fn staff_button(
        &mut self,
        staff: &Staff,
        message_id: i32,
        choice: Option<ChoiceId>,
    ) -> Result<(), StoreError> {
        match choice {
            Some(ChoiceId::ReviewPage { after_id }) => {
                self.drop_task();
                self.clear_buttons(&[message_id]);
                self.review_page(after_id).await
            }
            Some(ChoiceId::StaffWizard { nonce, op }) => self.staff_wizard_button(staff, message_id, nonce, op).await,
            Some(ChoiceId::Review { act, suggestion_id }) => {
                self.review_button(staff, message_id, act, suggestion_id).await
            }
            Some(
                other @ (ChoiceId::Department { .. }
                | ChoiceId::Rating { .. }
                | ChoiceId::Withdraw { .. }
                | ChoiceId::Cosign { .. }),
            ) => self.refuse_foreign(&Actor::Staff(staff), &other).await,
            _ => {
                self.out.notice = Some(self.t("button.invalid"));
                Ok(())
            }
        }
    }

    /// A review button (`r:…`) on a notification, a queue entry or a looked-up suggestion.
    async fn review_button(
        &mut self,
        staff: &Staff,
        message_id: i32,
        act: Act,
        suggestion_id: i64,
    ) -> Result<(), StoreError> {
        self.drop_task();
        match act {
            Act::Accept => self.act_as(&Actor::Staff(staff), suggestion_id, Command::Accept, &[message_id], true).await,
            Act::Adopt => self.act_as(&Actor::Staff(staff), suggestion_id, Command::Adopt, &[message_id], true).await,
            Act::ApproveReply => {
                let command = Command::ApproveReply { class: None, reason: String::new() };
                self.act_as(&Actor::Staff(staff), suggestion_id, command, &[message_id], true).await
            }
            Act::Key => {
                let facts = match self.precheck(&Actor::Staff(staff), suggestion_id, act).await? {
                    Ok(facts) => facts,
                    Err(refusal) => {
                        self.refuse(&refusal, true);
                        return Ok(());
                    }
                };
                // The button of a key suggestion takes the mark off; otherwise the leader is asked.
                if facts.key_leader.is_some() {
                    let actor = Actor::Staff(staff);
                    return self.act_as(&actor, suggestion_id, Command::UnmarkKey, &[message_id], true).await;
                }
                self.begin_task(Flow::Staff(Task { suggestion_id, message_id, asks: StaffAsk::KeyLeader }));
                self.task_ask().await
            }
            Act::Reject | Act::Merge | Act::Instruct | Act::Assign | Act::ReclassifyReply | Act::ReturnReply => {
                if let Err(refusal) = self.precheck(&Actor::Staff(staff), suggestion_id, act).await? {
                    self.refuse(&refusal, true);
                    return Ok(());
                }
                let asks = match act {
                    Act::Reject => StaffAsk::RejectReason,
                    Act::Merge => StaffAsk::MergeTarget,
                    Act::Instruct => StaffAsk::Instruction,
                    Act::ReclassifyReply => StaffAsk::Reclassify,
                    Act::ReturnReply => StaffAsk::ReturnReplyNote,
                    _ => {
                        if self.ctx.store.departments().await?.is_empty() {
                            let text = self.t("staff.assign_no_departments");
                            self.out.notice = Some(text.clone());
                            self.out.say(Action::text(text));
                            return Ok(());
                        }
                        StaffAsk::Assign(AssignDraft {
                            step: AssignStep::Lead,
                            lead: None,
                            co: Vec::new(),
                            deadline: None,
                        })
                    }
                };
                self.begin_task(Flow::Staff(Task { suggestion_id, message_id, asks }));
                self.task_ask().await
            }
            _ => {
                self.out.notice = Some(self.t("button.invalid"));
                Ok(())
            }
        }
    }

    /// The staff's own question buttons: `w:<nonce>:<op>`.
    async fn staff_wizard_button(
        &mut self,
        staff: &Staff,
        message_id: i32,
        nonce: u32,
        op: WizardOp,
    ) -> Result<(), StoreError> {
        let Some(op) = self.wizard_press(message_id, nonce, op).await? else { return Ok(()) };
        let Flow::Staff(Task { suggestion_id, message_id: asked_at, asks: StaffAsk::Assign(mut d) }) =
            self.dialog.flow.clone()
        else {
            self.out.notice = Some(self.t("button.stale"));
            return Ok(());
        };
        match (d.step, op) {
            (AssignStep::Lead, WizardOp::Lead(lead)) => {
                d.lead = Some(lead);
                d.co.retain(|c| *c != lead);
                d.step = AssignStep::Co;
            }
            (AssignStep::Co, WizardOp::Co(co)) => {
                if d.co.contains(&co) {
                    d.co.retain(|c| *c != co);
                } else if Some(co) != d.lead {
                    d.co.push(co);
                }
            }
            (AssignStep::Co, WizardOp::Next) => d.step = AssignStep::Deadline,
            (AssignStep::Deadline, WizardOp::DefaultDeadline) => {
                d.deadline = None;
                d.step = AssignStep::Confirm;
            }
            (AssignStep::Confirm, WizardOp::Confirm) => {
                let Some(lead) = d.lead else {
                    return Err(StoreError::Corrupt("an assignment confirmed without a lead department".into()));
                };
                let command = Command::Assign { lead, co: d.co.clone(), deadline: d.deadline };
                return self.act_as(&Actor::Staff(staff), suggestion_id, command, &[message_id, asked_at], true).await;
            }
            _ => {
                let text = self.t("button.stale");
                self.out.notice = Some(text.clone());
                self.out.say(Action::text(text));
                return self.task_ask().await;
            }
        }
        self.clear_buttons(&[message_id]);
        self.dialog.flow = Flow::Staff(Task { suggestion_id, message_id: asked_at, asks: StaffAsk::Assign(d) });
        self.task_ask().await
    }

    async fn staff_text(&mut self, staff: &Staff, text: &str) -> Result<(), StoreError> {
        if self.text_answer(&Actor::Staff(staff), text).await? {
            return Ok(());
        }
        let Flow::Staff(Task { suggestion_id, message_id, asks: StaffAsk::Assign(mut d) }) = self.dialog.flow.clone()
        else {
            return match parse_reference(text) {
                Some(reference) => self.staff_lookup(&reference).await,
                None => {
                    self.staff_help();
                    Ok(())
                }
            };
        };
        match d.step {
            AssignStep::Deadline => {
                let offset = self.ctx.config.offset();
                let typed = text.trim();
                let Some(date) = NaiveDate::parse_from_str(&typed.replace(['/', '.'], "-"), "%Y-%m-%d").ok() else {
                    let text = self.ta("staff.assign_bad_date", &[("value", &typed)]);
                    self.out.say(Action::text(text));
                    return Ok(());
                };
                let today = self.ctx.now.with_timezone(&offset).date_naive();
                // Due at the end of that day, the committee's time.
                let deadline = date
                    .and_hms_opt(23, 59, 59)
                    .and_then(|t| t.and_local_timezone(offset).single())
                    .map(|t| t.with_timezone(&Utc));
                match deadline {
                    Some(deadline) if date > today => {
                        d.deadline = Some(deadline);
                        d.step = AssignStep::Confirm;
                        self.dialog.flow = Flow::Staff(Task { suggestion_id, message_id, asks: StaffAsk::Assign(d) });
                        self.task_ask().await
                    }
                    _ => {
                        let text = self.ta("staff.assign_past_date", &[("date", &date)]);
                        self.out.say(Action::text(text));
                        Ok(())
                    }
                }
            }
            AssignStep::Lead | AssignStep::Co | AssignStep::Confirm => {
                let text = self.t("task.use_buttons");
                self.out.say(Action::text(text));
                self.task_ask().await
            }
        }
    }

    /// How a staff member's change went, in a line, with the review buttons left for it.
    pub(super) async fn staff_done(
        &mut self,
        act: Act,
        facts: &Facts,
        change: &Change,
    ) -> Result<(String, Keyboard), StoreError> {
        let reference = facts.reference_no.clone();
        let text = match act {
            Act::Accept => self.ta("staff.accepted", &[("reference", &reference)]),
            Act::Reject => self.ta("staff.rejected", &[("reference", &reference)]),
            Act::Merge => self.ta("staff.merged", &[("reference", &reference), ("into", &change.text)]),
            Act::Instruct => self.ta("staff.instructed", &[("reference", &reference)]),
            Act::Adopt => self.ta("staff.adopted", &[("reference", &reference)]),
            Act::Key if change.event == "key_marked" => {
                self.ta("staff.key_marked", &[("reference", &reference), ("leader", &change.text)])
            }
            Act::Key => self.ta("staff.key_unmarked", &[("reference", &reference)]),
            Act::Assign => self.assigned_text(&reference, change).await?,
            Act::ApproveReply | Act::ReclassifyReply => self.ta("staff.reply_approved", &[("reference", &reference)]),
            Act::ReturnReply => self.ta("staff.reply_returned", &[("reference", &reference)]),
            _ => return Err(StoreError::Corrupt(format!("staff cannot {act:?}"))),
        };
        let adopted = facts.adopted || act == Act::Adopt;
        let key = change.ops.iter().find_map(|op| match op {
            ChangeOp::SetKey(leader) => Some(leader.is_some()),
            _ => None,
        });
        let key = key.unwrap_or(facts.key_leader.is_some());
        Ok((text, self.staff_keyboard(facts.id, change.new_state, adopted, Some(key))))
    }

    async fn assigned_text(&mut self, reference: &str, change: &Change) -> Result<String, StoreError> {
        let (mut lead, mut co, mut deadline) = (String::new(), Vec::new(), String::new());
        for op in &change.ops {
            if let ChangeOp::Assign { department_id, role, deadline: due } = op {
                let name = self.ctx.store.department(*department_id).await?.map(|d| d.name).unwrap_or_default();
                match role {
                    AssignmentRole::Lead => lead = name,
                    AssignmentRole::Co => co.push(name),
                }
                deadline = self.local_date(*due);
            }
        }
        let co = if co.is_empty() { self.t("task.none") } else { co.join("、") };
        Ok(self
            .ta("staff.assigned", &[("reference", &reference), ("lead", &lead), ("co", &co), ("deadline", &deadline)]))
    }

    /// The review buttons that make sense for a suggestion now, with the key mark's button
    /// (列为重点, or 取消重点 when `key` is `Some(true)`) last unless `key` is `None` (the review
    /// queue, kept short).
    fn staff_keyboard(&self, suggestion_id: i64, state: SuggestionState, adopted: bool, key: Option<bool>) -> Keyboard {
        let keyboard = workflow::review_keyboard(self.ctx.texts, self.lang, suggestion_id, state);
        let keyboard =
            Self::filter_keyboard(keyboard, |act| workflow::allowed_in(act, state) && !(act == Act::Adopt && adopted));
        let Some(key) = key.filter(|_| workflow::allowed_in(Act::Key, state)) else { return keyboard };
        let label = self.t(if key { "review.unkey" } else { "review.key" });
        let button = Choice::new(label, ChoiceId::Review { act: Act::Key, suggestion_id });
        match keyboard {
            Keyboard::Choices(mut rows) => {
                rows.push(vec![button]);
                Keyboard::Choices(rows)
            }
            _ => Keyboard::Choices(vec![vec![button]]),
        }
    }

    /// The assignment wizard's question at its step, with its buttons (the cancel button is added).
    pub(super) async fn assign_question(
        &mut self,
        d: &AssignDraft,
        facts: &Facts,
        nonce: u32,
    ) -> Result<(String, Vec<Vec<Choice>>), StoreError> {
        let (reference, title) = (facts.reference_no.as_str(), facts.title.as_str());
        let departments = self.ctx.store.departments().await?;
        let name = |id: i64| departments.iter().find(|x| x.id == id).map(|x| x.name.clone()).unwrap_or_default();
        let co_names = if d.co.is_empty() {
            self.t("task.none")
        } else {
            d.co.iter().map(|c| name(*c)).collect::<Vec<_>>().join("、")
        };
        let lead = d.lead.map(name).unwrap_or_default();
        let months = self.ctx.config.workflow.deadline_months;
        let default_deadline = self.ctx.now.checked_add_months(Months::new(months)).unwrap_or(self.ctx.now);
        Ok(match d.step {
            AssignStep::Lead => {
                let buttons = departments
                    .iter()
                    .map(|x| Choice::new(x.name.clone(), wizard(nonce, WizardOp::Lead(x.id))))
                    .collect();
                (
                    self.ta("staff.assign_lead", &[("reference", &reference), ("title", &title)]),
                    Self::button_rows(buttons, 2),
                )
            }
            AssignStep::Co => {
                let buttons = departments
                    .iter()
                    .filter(|x| Some(x.id) != d.lead)
                    .map(|x| {
                        let label = if d.co.contains(&x.id) { format!("✓ {}", x.name) } else { x.name.clone() };
                        Choice::new(label, wizard(nonce, WizardOp::Co(x.id)))
                    })
                    .collect();
                let mut rows = Self::button_rows(buttons, 2);
                rows.push(vec![Choice::new(self.t("staff.assign_next"), wizard(nonce, WizardOp::Next))]);
                (self.ta("staff.assign_co", &[("lead", &lead), ("co", &co_names)]), rows)
            }
            AssignStep::Deadline => {
                let date = self.local_date(default_deadline);
                let label = self.ta("staff.assign_default_deadline", &[("months", &months), ("date", &date)]);
                (
                    self.ta("staff.assign_deadline", &[("months", &months), ("date", &date)]),
                    vec![vec![Choice::new(label, wizard(nonce, WizardOp::DefaultDeadline))]],
                )
            }
            AssignStep::Confirm => {
                let deadline = self.local_date(d.deadline.unwrap_or(default_deadline));
                let text = self.ta(
                    "staff.assign_preview",
                    &[
                        ("reference", &reference),
                        ("title", &title),
                        ("lead", &lead),
                        ("co", &co_names),
                        ("deadline", &deadline),
                    ],
                );
                (text, vec![vec![Choice::new(self.t("staff.assign_confirm"), wizard(nonce, WizardOp::Confirm))]])
            }
        })
    }

    /// One page of the review queue: the suggestions after `after_id`, oldest first, each with its buttons.
    async fn review_page(&mut self, after_id: i64) -> Result<(), StoreError> {
        let waiting_replies = if after_id == 0 { self.reply_queue().await? } else { 0 };
        let queue = self.ctx.store.review_queue_after(after_id, QUEUE_SCAN).await?;
        if queue.is_empty() && waiting_replies > 0 {
            return Ok(());
        }
        if queue.is_empty() {
            let text = self.t("staff.queue_empty");
            self.out.say(Action::with_keyboard(text, self.staff_menu()));
            return Ok(());
        }
        if after_id == 0 {
            let text = self.ta("staff.queue_header", &[("count", &queue.len())]);
            self.out.say(Action::text(text));
        }
        for s in queue.iter().take(PAGE) {
            self.queue_item(s.id).await?;
        }
        if queue.len() > PAGE {
            let last = queue[PAGE - 1].id;
            let text = self.ta("staff.queue_more", &[("count", &(queue.len() - PAGE))]);
            let keyboard = Keyboard::Choices(vec![vec![Choice::new(
                self.t("task.more_button"),
                ChoiceId::ReviewPage { after_id: last },
            )]]);
            self.out.say(Action::with_keyboard(text, keyboard));
        }
        Ok(())
    }

    /// The replies waiting for review (督办, 答复待审), oldest first, each with 通过 / 改分类后通过 /
    /// 退回修改; returns how many were listed.
    async fn reply_queue(&mut self) -> Result<usize, StoreError> {
        let filter = InboxFilter { state: Some(SuggestionState::ReplyReview), ..InboxFilter::default() };
        let page = self.ctx.store.inbox(&filter, InboxSort::Oldest, &PageCursor::First, PAGE).await?;
        if page.rows.is_empty() {
            return Ok(0);
        }
        let text = self.ta("staff.reply_queue_header", &[("count", &page.rows.len())]);
        self.out.say(Action::text(text));
        let classes = self.ctx.config.workflow.reply_classes();
        for row in &page.rows {
            let Some(facts) = self.ctx.store.facts(row.id).await? else { continue };
            let Some(draft) = &facts.draft else { continue };
            let department = facts.lead().map(|a| a.department_name.clone()).unwrap_or_default();
            let class = classes
                .iter()
                .find(|c| c.code == draft.reply_class)
                .map_or_else(|| draft.reply_class.clone(), |c| format!("{} {}", c.code, c.label));
            let text = self.ta(
                "staff.reply_queue_item",
                &[
                    ("reference", &facts.reference_no),
                    ("title", &facts.title),
                    ("department", &department),
                    ("class", &class),
                    ("text", &draft.text),
                ],
            );
            let keyboard = self.staff_keyboard(facts.id, facts.state, facts.adopted, None);
            self.out.say(Action::with_keyboard(text, keyboard));
        }
        Ok(page.rows.len())
    }

    async fn queue_item(&mut self, suggestion_id: i64) -> Result<(), StoreError> {
        let (Some(s), Some(facts)) =
            (self.ctx.store.suggestion(suggestion_id).await?, self.ctx.store.facts(suggestion_id).await?)
        else {
            return Ok(());
        };
        let member = self.ctx.store.member_by_id(s.member_id).await?.map(|m| m.name).unwrap_or_default();
        let topic = s.topic_title.clone().unwrap_or_else(|| self.t("render.no_topic"));
        let kind = self.t(&format!("kind.{}", s.kind.code()));
        let date = s.created_at.with_timezone(&self.ctx.config.offset()).format("%Y-%m-%d %H:%M").to_string();
        let mut points: String = s.points.iter().enumerate().map(|(i, p)| format!("{}. {p}\n", i + 1)).collect();
        if !s.attachments.is_empty() {
            let _ = write!(points, "\n{}", self.ta("staff.queue_attachments", &[("count", &s.attachments.len())]));
        }
        let text = self.ta(
            "staff.queue_item",
            &[
                ("reference", &s.reference_no),
                ("title", &s.title),
                ("member", &member),
                ("topic", &topic),
                ("kind", &kind),
                ("date", &date),
                ("points", &points.trim_end()),
            ],
        );
        let mut text = text;
        if let Some(signers) = self.signers_line(&facts).await? {
            let _ = write!(text, "\n{signers}");
        }
        let keyboard = self.staff_keyboard(s.id, s.state, facts.adopted, None);
        self.out.say(Action::with_keyboard(text, keyboard));
        Ok(())
    }

    /// A suggestion looked up by its reference number: all of it, where it is, and its buttons.
    async fn staff_lookup(&mut self, reference: &str) -> Result<(), StoreError> {
        let store = self.ctx.store;
        let Some(id) = store.suggestion_id_by_reference(reference).await? else {
            self.refuse(&Refusal::UnknownReference, false);
            return Ok(());
        };
        let (Some(s), Some(facts)) = (store.suggestion(id).await?, store.facts(id).await?) else {
            self.refuse(&Refusal::NotFound, false);
            return Ok(());
        };
        let member = store.member_by_id(s.member_id).await?.map(|m| m.name).unwrap_or_default();
        let mut text = render::suggestion(self.ctx.texts, self.lang, &s, self.ctx.config.offset());
        let _ = write!(text, "\n\n{}", self.ta("staff.detail_member", &[("member", &member)]));
        if let Some(signers) = self.signers_line(&facts).await? {
            let _ = write!(text, "\n{signers}");
        }
        if let Some(assignments) = self.assignments_text(&facts) {
            let _ = write!(text, "\n\n{assignments}");
        }
        let opinions = store.co_opinions(id).await?;
        if let Some(opinions) = self.opinions_text(&opinions) {
            let _ = write!(text, "\n\n{opinions}");
        }
        if let Some(leader) = &facts.key_leader {
            let _ = write!(text, "\n\n{}", self.ta("staff.detail_key", &[("leader", leader)]));
        }
        let keyboard = self.staff_keyboard(id, s.state, facts.adopted, Some(facts.key_leader.is_some()));
        self.out.say(Action::with_keyboard(text, keyboard));
        Ok(())
    }

    async fn staff_stats(&mut self) -> Result<(), StoreError> {
        let counts = self.ctx.store.state_counts().await?;
        let totals = self.ctx.store.totals(self.ctx.now).await?;
        // Which staff group alerts go to (it changes when Telegram upgrades it to a supergroup).
        let group = match crate::workflow::staff_group(self.ctx).await? {
            Some(chat_id) => self.ta("staff.stats_group", &[("chat_id", &chat_id)]),
            None => self.t("staff.stats_no_group"),
        };
        if totals.suggestions == 0 {
            let text = format!("{}\n\n{group}", self.t("staff.stats_empty"));
            self.out.say(Action::with_keyboard(text, self.staff_menu()));
            return Ok(());
        }
        let lines = counts
            .iter()
            .map(|(state, count)| {
                let state = self.t(&format!("state.{}", state.code()));
                self.ta("staff.stats_line", &[("state", &state), ("count", count)])
            })
            .collect::<Vec<_>>()
            .join("\n");
        let text = self.ta(
            "staff.stats",
            &[
                ("date", &self.local_date(self.ctx.now)),
                ("lines", &lines),
                ("total", &totals.suggestions),
                ("points", &totals.points),
                ("adopted", &totals.adopted),
                ("overdue", &totals.overdue),
                ("unreachable", &totals.unreachable_members),
                ("undelivered", &totals.undelivered),
                ("not_understood", &totals.not_understood),
                ("held", &totals.held),
            ],
        );
        let text = format!("{text}\n{group}");
        self.out.say(Action::with_keyboard(text, self.staff_menu()));
        Ok(())
    }
}
