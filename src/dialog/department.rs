//! Department liaisons in Telegram: acknowledging, returning, replying to and giving views on the
//! suggestions assigned to their department.
//!
//! Every change goes through `workflow::plan`; this module only collects what the change needs
//! (a reason, a view, the reply class, text and document) and says how it went.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::workflow_ui::{WorkflowButton, input_refusal, parse_reference};
use super::{Dialogue, Input, render};
use crate::reply::{Action, Button, Keyboard};
use crate::store::{AssignmentRole, Attachment, Liaison, StoreError};
use crate::workflow::{self, Act, Actor, Command, Refusal, TEXT_MAX_CHARS};

/// Assignments shown per page of the to-do list.
const PAGE: usize = 5;
/// Most assignments looked at to count what is left of the list.
const TODO_SCAN: usize = 1000;

/// A liaison's action waiting for more input. `message_id` is the message whose buttons started
/// it: its keyboard is removed once the action is done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum DepartmentTask {
    /// 退回: the reason is asked for.
    ReturnReason { suggestion_id: i64, message_id: i32 },
    /// 协办意见: the co-department's view is asked for.
    Opinion { suggestion_id: i64, message_id: i32 },
    /// 答复: reply class → text → optional document → preview → send.
    Reply(Box<ReplyDraft>),
}

impl DepartmentTask {
    fn suggestion_id(&self) -> i64 {
        match self {
            Self::ReturnReason { suggestion_id, .. } | Self::Opinion { suggestion_id, .. } => *suggestion_id,
            Self::Reply(d) => d.suggestion_id,
        }
    }

    fn message_id(&self) -> i32 {
        match self {
            Self::ReturnReason { message_id, .. } | Self::Opinion { message_id, .. } => *message_id,
            Self::Reply(d) => d.message_id,
        }
    }
}

/// A reply being written by the lead department.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplyDraft {
    pub suggestion_id: i64,
    pub message_id: i32,
    pub step: ReplyStep,
    #[serde(default)]
    pub class: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub document: Option<Attachment>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyStep {
    Class,
    Text,
    Document,
    Preview,
}

/// Callback data of the liaison's own question buttons: `dw:<nonce>:<op>`.
fn wizard(nonce: u32, op: &str) -> String {
    format!("dw:{nonce}:{op}")
}

impl Dialogue<'_, '_> {
    pub(super) async fn department(&mut self, liaison: &Liaison, input: Input) -> Result<(), StoreError> {
        match input {
            Input::Command { name, arg } => self.department_command(liaison, &name, arg).await?,
            Input::Button { message_id, data } => self.department_button(liaison, message_id, &data).await?,
            Input::Text(text) => self.department_text(liaison, &text).await?,
            Input::Attachment { attachment, album, .. } => {
                self.department_attachment(attachment, album.map_or(1, |a| a.count + a.skipped)).await?
            }
            Input::Unsupported(_) | Input::Edited | Input::NotPrivate => {
                if self.dialog.department_task.is_some() {
                    let text = self.t("task.use_text");
                    self.out.say(Action::text(text));
                    self.department_ask().await?;
                } else {
                    self.department_help();
                }
            }
        }
        self.out.state = Some(self.dialog.clone());
        Ok(())
    }

    fn department_help(&mut self) {
        let text = self.t("help.department");
        self.out.say(Action::with_keyboard(text, self.department_menu()));
    }

    fn drop_department_task(&mut self) {
        if self.dialog.department_task.take().is_some() {
            let text = self.t("task.dropped");
            self.out.say(Action::text(text));
        }
    }

    async fn department_command(
        &mut self,
        liaison: &Liaison,
        name: &str,
        _arg: Option<String>,
    ) -> Result<(), StoreError> {
        match name {
            "cancel" => {
                let busy = self.dialog.department_task.is_some();
                self.finish();
                let key = if busy { "task.cancelled" } else { "dialog.nothing_to_cancel" };
                let text = self.t(key);
                self.out.say(Action::with_keyboard(text, self.department_menu()));
            }
            "help" => {
                self.department_help();
                self.department_ask().await?;
            }
            "start" => {
                self.drop_department_task();
                let text = self.ta(
                    "register.welcome_liaison",
                    &[("name", &liaison.name), ("department", &liaison.department_name)],
                );
                self.out.say(Action::with_keyboard(text, self.department_menu()));
            }
            "todo" => {
                self.drop_department_task();
                self.todo_page(liaison, 0).await?;
            }
            _ => {
                let text = self.ta("input.unknown_command", &[("command", &name)]);
                self.out.say(Action::with_keyboard(text, self.department_menu()));
            }
        }
        Ok(())
    }

    async fn department_button(&mut self, liaison: &Liaison, message_id: i32, data: &str) -> Result<(), StoreError> {
        if let Some(after) = data.strip_prefix("dq:") {
            let Ok(after) = after.parse::<i64>() else {
                self.out.toast = Some(self.t("button.invalid"));
                return Ok(());
            };
            self.drop_department_task();
            self.clear_buttons(&[message_id]);
            return self.todo_page(liaison, after).await;
        }
        if let Some(rest) = data.strip_prefix("dw:") {
            return self.department_wizard_button(liaison, message_id, rest).await;
        }
        match WorkflowButton::parse(data) {
            Some(WorkflowButton::Department { act, suggestion_id }) => {
                self.department_action(liaison, message_id, act, suggestion_id).await
            }
            Some(other) => self.refuse_foreign(&Actor::Liaison(liaison), other).await,
            None => {
                self.out.toast = Some(self.t("button.invalid"));
                Ok(())
            }
        }
    }

    /// A department button (`d:…`) on an assignment notification or a to-do entry.
    async fn department_action(
        &mut self,
        liaison: &Liaison,
        message_id: i32,
        act: Act,
        suggestion_id: i64,
    ) -> Result<(), StoreError> {
        self.drop_department_task();
        if act == Act::Acknowledge {
            return self.department_act(liaison, suggestion_id, Command::Acknowledge, &[message_id], true).await;
        }
        if let Err(refusal) = self.precheck(&Actor::Liaison(liaison), suggestion_id, act).await? {
            self.refuse(&refusal, true);
            return Ok(());
        }
        self.dialog.department_task = Some(match act {
            Act::Return => DepartmentTask::ReturnReason { suggestion_id, message_id },
            Act::CoOpinion => DepartmentTask::Opinion { suggestion_id, message_id },
            _ => DepartmentTask::Reply(Box::new(ReplyDraft {
                suggestion_id,
                message_id,
                step: ReplyStep::Class,
                class: None,
                text: None,
                document: None,
            })),
        });
        self.department_ask().await
    }

    /// The liaison's own question buttons: `dw:<nonce>:<op>`.
    async fn department_wizard_button(
        &mut self,
        liaison: &Liaison,
        message_id: i32,
        rest: &str,
    ) -> Result<(), StoreError> {
        let parts: Vec<&str> = rest.split(':').collect();
        let Some(nonce) = parts.first().and_then(|n| n.parse::<u32>().ok()) else {
            self.out.toast = Some(self.t("button.invalid"));
            return Ok(());
        };
        let Some(task) = self.dialog.department_task.clone().filter(|_| nonce == self.dialog.nonce) else {
            let text = self.t("button.stale");
            self.out.toast = Some(text.clone());
            self.out.say(Action::text(text));
            return self.department_ask().await;
        };
        let op = &parts[1..];
        if op == ["x"] {
            self.dialog.department_task = None;
            self.clear_buttons(&[message_id]);
            let text = self.t("task.cancelled");
            self.out.say(Action::with_keyboard(text, self.department_menu()));
            return Ok(());
        }
        let DepartmentTask::Reply(mut d) = task else {
            self.out.toast = Some(self.t("button.stale"));
            return Ok(());
        };
        match (d.step, op) {
            (ReplyStep::Class, ["c", code]) => {
                if !self.ctx.config.workflow.reply_classes().iter().any(|c| c.code == *code) {
                    self.refuse(&Refusal::UnknownReplyClass, true);
                    return Ok(());
                }
                d.class = Some(code.to_string());
                d.step = ReplyStep::Text;
            }
            (ReplyStep::Document, ["s"]) => {
                d.document = None;
                d.step = ReplyStep::Preview;
            }
            (ReplyStep::Preview, ["e"]) => {
                *d = ReplyDraft { step: ReplyStep::Class, class: None, text: None, document: None, ..*d };
            }
            (ReplyStep::Preview, ["ok"]) => {
                let (Some(class), Some(text)) = (d.class.clone(), d.text.clone()) else {
                    return Err(StoreError::Corrupt("a reply confirmed without class or text".into()));
                };
                let command = Command::Reply { class, text, document: d.document.clone() };
                return self.department_act(liaison, d.suggestion_id, command, &[message_id, d.message_id], true).await;
            }
            _ => {
                let text = self.t("button.stale");
                self.out.toast = Some(text.clone());
                self.out.say(Action::text(text));
                return self.department_ask().await;
            }
        }
        self.clear_buttons(&[message_id]);
        self.dialog.department_task = Some(DepartmentTask::Reply(d));
        self.department_ask().await
    }

    async fn department_text(&mut self, liaison: &Liaison, text: &str) -> Result<(), StoreError> {
        let Some(task) = self.dialog.department_task.clone() else {
            return match parse_reference(text) {
                Some(reference) => self.department_lookup(liaison, &reference).await,
                None => {
                    self.department_help();
                    Ok(())
                }
            };
        };
        let id = task.suggestion_id();
        let clear = [task.message_id()];
        match task {
            DepartmentTask::ReturnReason { .. } => {
                self.department_act(liaison, id, Command::Return { reason: text.to_string() }, &clear, false).await
            }
            DepartmentTask::Opinion { .. } => {
                self.department_act(liaison, id, Command::CoOpinion { text: text.to_string() }, &clear, false).await
            }
            DepartmentTask::Reply(mut d) if d.step == ReplyStep::Text => {
                let text = text.trim();
                if text.is_empty() {
                    self.refuse(&Refusal::EmptyText, false);
                    return Ok(());
                }
                if text.chars().count() > TEXT_MAX_CHARS {
                    self.refuse(&Refusal::TooLong(TEXT_MAX_CHARS), false);
                    return Ok(());
                }
                d.text = Some(text.to_string());
                d.step = ReplyStep::Document;
                self.dialog.department_task = Some(DepartmentTask::Reply(d));
                self.department_ask().await
            }
            DepartmentTask::Reply(_) => {
                let text = self.t("task.use_buttons");
                self.out.say(Action::text(text));
                self.department_ask().await
            }
        }
    }

    /// A file or photo from the liaison; `sent` is how many came at once (an album): a reply
    /// carries one file, the first, and the liaison is told the others were not attached.
    async fn department_attachment(&mut self, attachment: Attachment, sent: usize) -> Result<(), StoreError> {
        match self.dialog.department_task.clone() {
            Some(DepartmentTask::Reply(mut d)) if d.step == ReplyStep::Document => {
                if sent > 1 {
                    let text = self.ta("department.reply_one_document", &[("count", &sent)]);
                    self.out.say(Action::text(text));
                }
                d.document = Some(attachment);
                d.step = ReplyStep::Preview;
                self.dialog.department_task = Some(DepartmentTask::Reply(d));
                self.department_ask().await
            }
            Some(task) => {
                let key = match task {
                    DepartmentTask::Reply(d) if d.step == ReplyStep::Text => "department.reply_text_first",
                    DepartmentTask::Reply(_) => "task.use_buttons",
                    _ => "task.use_text",
                };
                let text = self.t(key);
                self.out.say(Action::text(text));
                self.department_ask().await
            }
            None => {
                self.department_help();
                Ok(())
            }
        }
    }

    /// Plans `command` as this liaison; on success the change goes with this update, the liaison
    /// is told in a line and the buttons of `clear` are removed.
    async fn department_act(
        &mut self,
        liaison: &Liaison,
        suggestion_id: i64,
        command: Command,
        clear: &[i32],
        button: bool,
    ) -> Result<(), StoreError> {
        let act = command.act();
        let before = self.ctx.store.facts(suggestion_id).await?;
        let change = match workflow::plan(self.ctx, &Actor::Liaison(liaison), suggestion_id, command).await? {
            Ok(change) => change,
            Err(refusal) => {
                if !(input_refusal(&refusal) && self.dialog.department_task.is_some()) {
                    self.dialog.department_task = None;
                }
                self.refuse(&refusal, button);
                return Ok(());
            }
        };
        let Some(facts) = before else { return Err(StoreError::Corrupt("a planned change without facts".into())) };
        let reference = facts.reference_no.as_str();
        let role = facts.active_assignment(liaison.department_id).map(|a| a.role);
        let (text, keyboard) = match act {
            Act::Acknowledge => {
                let key = if role == Some(AssignmentRole::Lead) {
                    "department.acknowledged_lead"
                } else {
                    "department.acknowledged_co"
                };
                let keyboard = match role {
                    Some(role) => self.department_keyboard(suggestion_id, role, true),
                    None => Keyboard::None,
                };
                (self.ta(key, &[("reference", &reference)]), keyboard)
            }
            Act::Return => (self.ta("department.returned", &[("reference", &reference)]), Keyboard::None),
            Act::CoOpinion => (self.ta("department.opinion_sent", &[("reference", &reference)]), Keyboard::None),
            Act::Reply => (self.ta("department.replied", &[("reference", &reference)]), Keyboard::None),
            _ => return Err(StoreError::Corrupt(format!("a department cannot {act:?}"))),
        };
        self.out.change = Some(change);
        self.dialog.department_task = None;
        self.clear_buttons(clear);
        if button {
            self.out.toast = Some(text.clone());
        }
        self.out.say(Action::with_keyboard(text, keyboard));
        Ok(())
    }

    /// The department's buttons for one of its assignments; without 签收 once acknowledged.
    fn department_keyboard(&self, suggestion_id: i64, role: AssignmentRole, acknowledged: bool) -> Keyboard {
        let keyboard = workflow::department_keyboard(self.ctx.texts, self.lang, suggestion_id, role);
        Self::filter_keyboard(keyboard, |act| !(act == Act::Acknowledge && acknowledged))
    }

    /// Asks the current task's question again, with fresh buttons.
    async fn department_ask(&mut self) -> Result<(), StoreError> {
        let Some(task) = self.dialog.department_task.clone() else { return Ok(()) };
        self.dialog.nonce += 1;
        let nonce = self.dialog.nonce;
        let Some(facts) = self.ctx.store.facts(task.suggestion_id()).await? else {
            self.dialog.department_task = None;
            self.refuse(&Refusal::NotFound, false);
            return Ok(());
        };
        let (reference, title) = (facts.reference_no.as_str(), facts.title.as_str());
        let classes = self.ctx.config.workflow.reply_classes();
        let class_label = |code: Option<&String>| {
            classes
                .iter()
                .find(|c| Some(&c.code) == code)
                .map(|c| format!("{} {}", c.code, c.label))
                .unwrap_or_default()
        };
        let (text, mut rows) = match &task {
            DepartmentTask::ReturnReason { .. } => {
                (self.ta("department.ask_return_reason", &[("reference", &reference), ("title", &title)]), Vec::new())
            }
            DepartmentTask::Opinion { .. } => {
                let lead = facts.lead().map(|a| a.department_name.clone()).unwrap_or_default();
                (
                    self.ta("department.ask_opinion", &[("reference", &reference), ("title", &title), ("lead", &lead)]),
                    Vec::new(),
                )
            }
            DepartmentTask::Reply(d) => match d.step {
                ReplyStep::Class => {
                    let mut text = self.ta("department.reply_class", &[("reference", &reference), ("title", &title)]);
                    // The lead department answers with the co-departments' views in front of it.
                    let opinions = self.ctx.store.co_opinions(facts.id).await?;
                    if let Some(opinions) = self.opinions_text(&opinions) {
                        let _ = write!(text, "\n\n{opinions}");
                    }
                    let rows = classes
                        .iter()
                        .map(|c| {
                            vec![Button::new(
                                format!("{} {}", c.code, c.label),
                                wizard(nonce, &format!("c:{}", c.code)),
                            )]
                        })
                        .collect();
                    (text, rows)
                }
                ReplyStep::Text => (
                    self.ta(
                        "department.reply_text",
                        &[("class", &class_label(d.class.as_ref())), ("max", &TEXT_MAX_CHARS)],
                    ),
                    Vec::new(),
                ),
                ReplyStep::Document => (
                    self.t("department.reply_document"),
                    vec![vec![Button::new(self.t("department.reply_skip_document"), wizard(nonce, "s"))]],
                ),
                ReplyStep::Preview => {
                    let document = match &d.document {
                        Some(doc) => {
                            let name = doc.file_name.clone().unwrap_or_else(|| self.t("department.reply_photo"));
                            self.ta("department.reply_document_line", &[("name", &name)])
                        }
                        None => String::new(),
                    };
                    let text = self.ta(
                        "department.reply_preview",
                        &[
                            ("reference", &reference),
                            ("title", &title),
                            ("class", &class_label(d.class.as_ref())),
                            ("text", &d.text.clone().unwrap_or_default()),
                            ("document", &document),
                        ],
                    );
                    let rows = vec![
                        vec![Button::new(self.t("department.reply_send"), wizard(nonce, "ok"))],
                        vec![Button::new(self.t("department.reply_rewrite"), wizard(nonce, "e"))],
                    ];
                    (text, rows)
                }
            },
        };
        rows.push(vec![Button::new(self.t("task.cancel_button"), wizard(nonce, "x"))]);
        self.out.say(Action::with_keyboard(text, Keyboard::Inline(rows)));
        self.out.state = Some(self.dialog.clone());
        Ok(())
    }

    /// One page of the department's to-do list, oldest assignment first, each with its buttons.
    async fn todo_page(&mut self, liaison: &Liaison, after_id: i64) -> Result<(), StoreError> {
        let store = self.ctx.store;
        let list = store.department_assignments(liaison.department_id, after_id, TODO_SCAN).await?;
        if list.is_empty() {
            let text = self.t("department.todo_empty");
            self.out.say(Action::with_keyboard(text, self.department_menu()));
            return Ok(());
        }
        if after_id == 0 {
            let text = self.ta("department.todo_header", &[("count", &list.len())]);
            self.out.say(Action::text(text));
        }
        for a in list.iter().take(PAGE) {
            let points = match store.suggestion(a.suggestion_id).await? {
                Some(s) => s.points.iter().enumerate().map(|(i, p)| format!("{}. {p}", i + 1)).collect::<Vec<_>>(),
                None => Vec::new(),
            };
            let ack = if a.acknowledged {
                self.t("department.acknowledged_mark")
            } else {
                self.t("department.not_acknowledged_mark")
            };
            let state = self.t(&format!("state.{}", a.state.code()));
            let mut text = self.ta(
                "department.todo_item",
                &[
                    ("reference", &a.reference_no),
                    ("title", &a.title),
                    ("role", &self.role_label(a.role)),
                    ("deadline", &self.local_date(a.deadline)),
                    ("ack", &ack),
                    ("state", &state),
                    ("points", &points.join("\n")),
                ],
            );
            if a.deadline < self.ctx.now {
                let _ = write!(text, "\n\n{}", self.t("department.todo_overdue"));
            }
            let opinions =
                if a.role == AssignmentRole::Lead { store.co_opinions(a.suggestion_id).await? } else { Vec::new() };
            if let Some(opinions) = self.opinions_text(&opinions) {
                let _ = write!(text, "\n\n{opinions}");
            }
            let keyboard = self.department_keyboard(a.suggestion_id, a.role, a.acknowledged);
            self.out.say(Action::with_keyboard(text, keyboard));
        }
        if list.len() > PAGE {
            let last = list[PAGE - 1].assignment_id;
            let text = self.ta("department.todo_more", &[("count", &(list.len() - PAGE))]);
            let keyboard = Keyboard::Inline(vec![vec![Button::new(self.t("task.more_button"), format!("dq:{last}"))]]);
            self.out.say(Action::with_keyboard(text, keyboard));
        }
        Ok(())
    }

    /// A suggestion looked up by its reference number, if it is (or was) assigned to this department.
    async fn department_lookup(&mut self, liaison: &Liaison, reference: &str) -> Result<(), StoreError> {
        let store = self.ctx.store;
        let found = match store.suggestion_id_by_reference(reference).await? {
            Some(id) => store.facts(id).await?,
            None => None,
        };
        let Some(facts) = found.filter(|f| workflow::permitted(&Actor::Liaison(liaison), Act::View, f)) else {
            self.refuse(&Refusal::NotFound, false);
            return Ok(());
        };
        let Some(s) = store.suggestion(facts.id).await? else {
            self.refuse(&Refusal::NotFound, false);
            return Ok(());
        };
        let mut text = render::suggestion(self.ctx.texts, self.lang, &s, self.ctx.config.offset());
        if let Some(assignments) = self.assignments_text(&facts) {
            let _ = write!(text, "\n\n{assignments}");
        }
        let keyboard = match facts.active_assignment(liaison.department_id) {
            Some(a) if workflow::allowed_in(Act::Acknowledge, facts.state) => {
                let opinions =
                    if a.role == AssignmentRole::Lead { store.co_opinions(facts.id).await? } else { Vec::new() };
                if let Some(opinions) = self.opinions_text(&opinions) {
                    let _ = write!(text, "\n\n{opinions}");
                }
                self.department_keyboard(facts.id, a.role, a.acknowledged)
            }
            _ => Keyboard::None,
        };
        self.out.say(Action::with_keyboard(text, keyboard));
        Ok(())
    }
}
