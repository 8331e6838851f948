//! Department liaisons in Telegram: acknowledging, returning, replying to and giving views on the
//! suggestions assigned to their department.
//!
//! Every change goes through `workflow::plan`; this module only collects what the change needs
//! (a reason, a view, the reply class, text and document) and says how it went.

use std::fmt::Write;

use super::state::{DepartmentAsk, Flow, ReplyDraft, ReplyStep, Task};
use super::workflow_ui::parse_reference;
use super::{Dialogue, Input, render};
use crate::choice::{ChoiceId, WizardOp};
use crate::conversation::ChatCommand;
use crate::domain::SuggestionState;
use crate::letter::{LetterField, ReplyLetter};
use crate::reply::{Action, Choice, Keyboard};
use crate::store::{AssignmentRole, Attachment, Facts, Liaison, StoreError};
use crate::workflow::{self, Act, Actor, Command, Refusal, TEXT_MAX_CHARS};

/// Assignments shown per page of the to-do list.
const PAGE: usize = 5;
/// Most assignments looked at to count what is left of the list.
const TODO_SCAN: usize = 1000;

/// A step of a liaison's reply wizard; the nonce makes an old one stale.
fn wizard(nonce: u32, op: WizardOp) -> ChoiceId {
    ChoiceId::DepartmentWizard { nonce, op }
}

impl Dialogue<'_, '_> {
    pub(super) async fn department(&mut self, liaison: &Liaison, input: Input) -> Result<(), StoreError> {
        match input {
            Input::Command { name, arg } => self.department_command(liaison, &name, arg).await?,
            Input::Choice { message_id, choice } => self.department_button(liaison, message_id, choice).await?,
            Input::Text(text) => self.department_text(liaison, &text).await?,
            Input::Attachment { attachment, album, .. } => {
                self.department_attachment(attachment, album.map_or(1, |a| a.count + a.skipped)).await?
            }
            Input::Unsupported(_) | Input::Edited | Input::NotPrivate => {
                if self.has_task() {
                    let text = self.t("task.use_text");
                    self.out.say(Action::text(text));
                    self.task_ask().await?;
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

    async fn department_command(
        &mut self,
        liaison: &Liaison,
        name: &str,
        _arg: Option<String>,
    ) -> Result<(), StoreError> {
        match ChatCommand::parse(name) {
            Some(ChatCommand::Cancel) => {
                let busy = self.has_task();
                self.finish();
                let key = if busy { "task.cancelled" } else { "dialog.nothing_to_cancel" };
                let text = self.t(key);
                self.out.say(Action::with_keyboard(text, self.department_menu()));
            }
            Some(ChatCommand::Help) => {
                self.department_help();
                self.task_ask().await?;
            }
            Some(ChatCommand::Start) => {
                self.drop_task();
                let text = self.ta(
                    "register.welcome_liaison",
                    &[("name", &liaison.name), ("department", &liaison.department_name)],
                );
                self.out.say(Action::with_keyboard(text, self.department_menu()));
            }
            Some(ChatCommand::Todo) => {
                self.drop_task();
                self.todo_page(liaison, 0).await?;
            }
            _ => {
                let text = self.ta("input.unknown_command", &[("command", &name)]);
                self.out.say(Action::with_keyboard(text, self.department_menu()));
            }
        }
        Ok(())
    }

    async fn department_button(
        &mut self,
        liaison: &Liaison,
        message_id: i32,
        choice: Option<ChoiceId>,
    ) -> Result<(), StoreError> {
        match choice {
            Some(ChoiceId::TodoPage { after_id }) => {
                self.drop_task();
                self.clear_buttons(&[message_id]);
                self.todo_page(liaison, after_id).await
            }
            Some(ChoiceId::DepartmentWizard { nonce, op }) => {
                self.department_wizard_button(liaison, message_id, nonce, op).await
            }
            Some(ChoiceId::Department { act, suggestion_id }) => {
                self.department_action(liaison, message_id, act, suggestion_id).await
            }
            Some(
                other @ (ChoiceId::Review { .. }
                | ChoiceId::Rating { .. }
                | ChoiceId::Withdraw { .. }
                | ChoiceId::Cosign { .. }),
            ) => self.refuse_foreign(&Actor::Liaison(liaison), &other).await,
            _ => {
                self.out.notice = Some(self.t("button.invalid"));
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
        self.drop_task();
        let at_once = match act {
            Act::Acknowledge => Some(Command::Acknowledge),
            Act::Countersign => Some(Command::Countersign { agree: true, text: String::new() }),
            Act::SendOn => Some(Command::SendOn),
            _ => None,
        };
        if let Some(command) = at_once {
            let actor = Actor::Liaison(liaison);
            return self.act_as(&actor, suggestion_id, command, &[message_id], true).await;
        }
        if let Err(refusal) = self.precheck(&Actor::Liaison(liaison), suggestion_id, act).await? {
            self.refuse(&refusal, true);
            return Ok(());
        }
        let asks = match act {
            Act::Return => DepartmentAsk::ReturnReason,
            Act::CoOpinion => DepartmentAsk::Opinion,
            Act::ProposeChanges => DepartmentAsk::Proposal,
            _ => DepartmentAsk::Reply(Box::new(ReplyDraft {
                step: ReplyStep::Class,
                class: None,
                text: None,
                document: None,
                letter: ReplyLetter::default(),
            })),
        };
        self.begin_task(Flow::Department(Task { suggestion_id, message_id, asks }));
        self.task_ask().await
    }

    /// The liaison's own question buttons: `dw:<nonce>:<op>`.
    async fn department_wizard_button(
        &mut self,
        liaison: &Liaison,
        message_id: i32,
        nonce: u32,
        op: WizardOp,
    ) -> Result<(), StoreError> {
        let Some(op) = self.wizard_press(message_id, nonce, op).await? else { return Ok(()) };
        let Flow::Department(Task { suggestion_id, message_id: asked_at, asks: DepartmentAsk::Reply(mut d) }) =
            self.dialog.flow.clone()
        else {
            self.out.notice = Some(self.t("button.stale"));
            return Ok(());
        };
        match (d.step, op) {
            (ReplyStep::Class, WizardOp::Class(code)) => {
                if !self.ctx.config.workflow.reply_classes().iter().any(|c| c.code == code) {
                    self.refuse(&Refusal::UnknownReplyClass, true);
                    return Ok(());
                }
                d.class = Some(code);
                d.step = ReplyStep::Text;
            }
            (ReplyStep::Document, WizardOp::SkipDocument) => {
                d.document = None;
                d.step = ReplyStep::Preview;
            }
            (ReplyStep::Preview, WizardOp::Rewrite) => {
                *d = ReplyDraft {
                    step: ReplyStep::Class,
                    class: None,
                    text: None,
                    document: None,
                    letter: ReplyLetter::default(),
                };
            }
            (ReplyStep::Preview, WizardOp::Letter) => d.step = ReplyStep::Letter,
            (ReplyStep::Letter, WizardOp::Letter) => d.step = ReplyStep::Preview,
            (ReplyStep::Preview, WizardOp::Confirm) => {
                let (Some(class), Some(text)) = (d.class.clone(), d.text.clone()) else {
                    return Err(StoreError::Corrupt("a reply confirmed without class or text".into()));
                };
                let command =
                    Command::Reply { class, text, document: d.document.clone(), letter: Box::new(d.letter.clone()) };
                let actor = Actor::Liaison(liaison);
                return self.act_as(&actor, suggestion_id, command, &[message_id, asked_at], true).await;
            }
            _ => {
                let text = self.t("button.stale");
                self.out.notice = Some(text.clone());
                self.out.say(Action::text(text));
                return self.task_ask().await;
            }
        }
        self.clear_buttons(&[message_id]);
        self.dialog.flow =
            Flow::Department(Task { suggestion_id, message_id: asked_at, asks: DepartmentAsk::Reply(d) });
        self.task_ask().await
    }

    async fn department_text(&mut self, liaison: &Liaison, text: &str) -> Result<(), StoreError> {
        if self.text_answer(&Actor::Liaison(liaison), text).await? {
            return Ok(());
        }
        let Flow::Department(Task { suggestion_id, message_id, asks: DepartmentAsk::Reply(mut d) }) =
            self.dialog.flow.clone()
        else {
            return match parse_reference(text) {
                Some(reference) => self.department_lookup(liaison, &reference).await,
                None => {
                    self.department_help();
                    Ok(())
                }
            };
        };
        match d.step {
            ReplyStep::Text => {
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
                self.dialog.flow = Flow::Department(Task { suggestion_id, message_id, asks: DepartmentAsk::Reply(d) });
                self.task_ask().await
            }
            ReplyStep::Letter => {
                match d.letter.parse_lines(text) {
                    Ok(letter) => {
                        d.letter = letter;
                        d.step = ReplyStep::Preview;
                    }
                    Err(problem) => {
                        let text = workflow::letter_problem(self.ctx, self.lang, problem);
                        self.out.say(Action::text(text));
                    }
                }
                self.dialog.flow = Flow::Department(Task { suggestion_id, message_id, asks: DepartmentAsk::Reply(d) });
                self.task_ask().await
            }
            ReplyStep::Class | ReplyStep::Document | ReplyStep::Preview => {
                let text = self.t("task.use_buttons");
                self.out.say(Action::text(text));
                self.task_ask().await
            }
        }
    }

    /// A file or photo from the liaison; `sent` is how many came at once (an album): a reply
    /// carries one file, the first, and the liaison is told the others were not attached.
    async fn department_attachment(&mut self, attachment: Attachment, sent: usize) -> Result<(), StoreError> {
        let Flow::Department(Task { suggestion_id, message_id, asks }) = self.dialog.flow.clone() else {
            self.department_help();
            return Ok(());
        };
        match asks {
            DepartmentAsk::Reply(mut d) if d.step == ReplyStep::Document => {
                if sent > 1 {
                    let text = self.ta("department.reply_one_document", &[("count", &sent)]);
                    self.out.say(Action::text(text));
                }
                d.document = Some(attachment);
                d.step = ReplyStep::Preview;
                self.dialog.flow = Flow::Department(Task { suggestion_id, message_id, asks: DepartmentAsk::Reply(d) });
                self.task_ask().await
            }
            asks => {
                let key = match asks {
                    DepartmentAsk::Reply(d) if d.step == ReplyStep::Text => "department.reply_text_first",
                    DepartmentAsk::Reply(_) => "task.use_buttons",
                    _ => "task.use_text",
                };
                let text = self.t(key);
                self.out.say(Action::text(text));
                self.task_ask().await
            }
        }
    }

    /// How a liaison's change went, in a line, with the department's buttons left for it.
    pub(super) fn department_done(
        &self,
        liaison: &Liaison,
        act: Act,
        facts: &Facts,
        suggestion_id: i64,
        new_state: SuggestionState,
    ) -> Result<(String, Keyboard), StoreError> {
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
            Act::Reply | Act::SendOn => {
                let key = match (act, new_state) {
                    (_, SuggestionState::ReplyReview) if act == Act::Reply => "department.reply_in_review",
                    (_, SuggestionState::ReplyReview) => "department.sent_on_review",
                    (_, SuggestionState::Countersigning) => "department.reply_in_countersign",
                    (Act::SendOn, _) => "department.sent_on",
                    _ => "department.replied",
                };
                (self.ta(key, &[("reference", &reference)]), Keyboard::None)
            }
            Act::Countersign | Act::ProposeChanges => {
                (self.ta("department.countersign_sent", &[("reference", &reference)]), Keyboard::None)
            }
            _ => return Err(StoreError::Corrupt(format!("a department cannot {act:?}"))),
        };
        Ok((text, keyboard))
    }

    /// The department's buttons for one of its assignments; without 签收 once acknowledged.
    fn department_keyboard(&self, suggestion_id: i64, role: AssignmentRole, acknowledged: bool) -> Keyboard {
        let keyboard = workflow::department_keyboard(self.ctx.texts, self.lang, suggestion_id, role);
        Self::filter_keyboard(keyboard, |act| !(act == Act::Acknowledge && acknowledged))
    }

    /// The reply wizard's question at its step, with its buttons (the cancel button is added).
    pub(super) async fn reply_question(
        &mut self,
        d: &ReplyDraft,
        facts: &Facts,
        nonce: u32,
    ) -> Result<(String, Vec<Vec<Choice>>), StoreError> {
        let (reference, title) = (facts.reference_no.as_str(), facts.title.as_str());
        let classes = self.ctx.config.workflow.reply_classes();
        let class_label = |code: Option<&String>| {
            classes
                .iter()
                .find(|c| Some(&c.code) == code)
                .map(|c| format!("{} {}", c.code, c.label))
                .unwrap_or_default()
        };
        Ok(match d.step {
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
                        vec![Choice::new(
                            format!("{} {}", c.code, c.label),
                            wizard(nonce, WizardOp::Class(c.code.clone())),
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
                vec![vec![Choice::new(
                    self.t("department.reply_skip_document"),
                    wizard(nonce, WizardOp::SkipDocument),
                )]],
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
                let text = match self.letter_lines(&d.letter) {
                    Some(lines) => format!("{text}\n\n{lines}"),
                    None => text,
                };
                let rows = vec![
                    vec![Choice::new(self.t("department.reply_send"), wizard(nonce, WizardOp::Confirm))],
                    vec![Choice::new(self.t("department.reply_letter"), wizard(nonce, WizardOp::Letter))],
                    vec![Choice::new(self.t("department.reply_rewrite"), wizard(nonce, WizardOp::Rewrite))],
                ];
                (text, rows)
            }
            ReplyStep::Letter => {
                let now = self.letter_lines(&d.letter).unwrap_or_else(|| self.t("department.reply_letter_none"));
                let text = self.ta("department.reply_letter_ask", &[("now", &now)]);
                let rows =
                    vec![vec![Choice::new(self.t("department.reply_letter_back"), wizard(nonce, WizardOp::Letter))]];
                (text, rows)
            }
        })
    }

    /// The 答复函 fields given, one a line (`文号：…`), as the liaison types them; `None` if none.
    fn letter_lines(&self, letter: &ReplyLetter) -> Option<String> {
        let lines: Vec<String> = LetterField::ALL
            .iter()
            .filter_map(|f| Some(format!("{}：{}", self.t(&format!("letter.{}", f.name())), letter.get(*f)?)))
            .collect();
        (!lines.is_empty()).then(|| lines.join("\n"))
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
            // A reply on its way: the lead sends it on after 会签, a co-department countersigns it,
            // and while staff review it there is nothing to do.
            let (texts, lang) = (self.ctx.texts, self.lang);
            let keyboard = match (a.state, a.role) {
                (SuggestionState::Countersigning, AssignmentRole::Lead) => {
                    workflow::send_on_keyboard(texts, lang, a.suggestion_id)
                }
                (SuggestionState::Countersigning, AssignmentRole::Co) => {
                    workflow::countersign_keyboard(texts, lang, a.suggestion_id)
                }
                (SuggestionState::ReplyReview, _) => Keyboard::None,
                _ => self.department_keyboard(a.suggestion_id, a.role, a.acknowledged),
            };
            self.out.say(Action::with_keyboard(text, keyboard));
        }
        if list.len() > PAGE {
            let last = list[PAGE - 1].assignment_id;
            let text = self.ta("department.todo_more", &[("count", &(list.len() - PAGE))]);
            let keyboard = Keyboard::Choices(vec![vec![Choice::new(
                self.t("task.more_button"),
                ChoiceId::TodoPage { after_id: last },
            )]]);
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
