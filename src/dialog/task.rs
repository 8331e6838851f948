//! What staff and liaison tasks share: one question about one suggestion, answered by typing (a
//! reason, a view, a reference number) or through a wizard's buttons, then planned by
//! `workflow::plan` and confirmed in a line.
//!
//! The role modules (`staff`, `department`) add their wizards (assigning, replying) and the texts
//! that say how a change went.

use super::Dialogue;
use super::state::{DepartmentAsk, Flow, StaffAsk, Task};
use super::workflow_ui::input_refusal;
use crate::choice::{ChoiceId, WizardOp};
use crate::reply::{Action, Choice, Keyboard};
use crate::store::{Facts, StoreError};
use crate::workflow::{self, Actor, Command, Refusal};

/// What a task asks for, as far as both roles' tasks are alike.
pub(super) trait Asks {
    /// The change a typed answer completes when one text is asked for; `None` for a wizard.
    fn text_command(&self, text: &str) -> Option<Command>;
    /// The locale key of the question asking for that text; `None` for a wizard.
    fn text_question(&self) -> Option<&'static str>;
}

impl Asks for StaffAsk {
    fn text_command(&self, text: &str) -> Option<Command> {
        let text = text.to_string();
        match self {
            Self::RejectReason => Some(Command::Reject { reason: text }),
            Self::MergeTarget => Some(Command::Merge { into_reference: text }),
            Self::Instruction => Some(Command::Instruct { text }),
            Self::ReturnReplyNote => Some(Command::ReturnReply { note: text }),
            Self::Reclassify => {
                // "B 理由": the new reply class, then the reason.
                let typed = text.trim();
                let (class, reason) = typed.split_once(char::is_whitespace).unwrap_or((typed, ""));
                Some(Command::ApproveReply { class: Some(class.to_string()), reason: reason.to_string() })
            }
            Self::KeyLeader => Some(Command::MarkKey { leader: text }),
            Self::Assign(_) => None,
        }
    }

    fn text_question(&self) -> Option<&'static str> {
        match self {
            Self::RejectReason => Some("staff.ask_reject_reason"),
            Self::MergeTarget => Some("staff.ask_merge_target"),
            Self::Instruction => Some("staff.ask_instruction"),
            Self::ReturnReplyNote => Some("staff.ask_return_reply"),
            Self::Reclassify => Some("staff.ask_reclassify"),
            Self::KeyLeader => Some("staff.ask_key_leader"),
            Self::Assign(_) => None,
        }
    }
}

impl Asks for DepartmentAsk {
    fn text_command(&self, text: &str) -> Option<Command> {
        let text = text.to_string();
        match self {
            Self::ReturnReason => Some(Command::Return { reason: text }),
            Self::Opinion => Some(Command::CoOpinion { text }),
            Self::Proposal => Some(Command::Countersign { agree: false, text }),
            Self::Reply(_) => None,
        }
    }

    fn text_question(&self) -> Option<&'static str> {
        match self {
            Self::ReturnReason => Some("department.ask_return_reason"),
            Self::Opinion => Some("department.ask_opinion"),
            Self::Proposal => Some("department.ask_proposal"),
            Self::Reply(_) => None,
        }
    }
}

impl Dialogue<'_, '_> {
    /// The suggestion and the message of the task waiting for input, staff's or a liaison's.
    fn task_target(&self) -> Option<(i64, i32)> {
        match &self.dialog.flow {
            Flow::Staff(Task { suggestion_id, message_id, .. })
            | Flow::Department(Task { suggestion_id, message_id, .. }) => Some((*suggestion_id, *message_id)),
            _ => None,
        }
    }

    pub(super) fn has_task(&self) -> bool {
        self.task_target().is_some()
    }

    /// Leaves the task (not a broadcast being composed, which is not a task).
    fn end_task(&mut self) {
        if self.has_task() {
            self.dialog.flow = Flow::Idle;
        }
    }

    /// Leaves an unfinished task when something else is started, and says so.
    pub(super) fn drop_task(&mut self) {
        if self.has_task() {
            self.end_task();
            let text = self.t("task.dropped");
            self.out.say(Action::text(text));
        }
    }

    /// Starts a task; a broadcast being composed is left, and the person is told so.
    pub(super) fn begin_task(&mut self, flow: Flow) {
        if matches!(self.dialog.flow, Flow::Broadcast(_)) {
            let text = self.t("task.dropped");
            self.out.say(Action::text(text));
        }
        self.dialog.flow = flow;
    }

    /// The menu of whoever has the task.
    fn task_menu(&self) -> Keyboard {
        match self.dialog.flow {
            Flow::Department(_) => self.department_menu(),
            _ => self.staff_menu(),
        }
    }

    /// A wizard step chosen (`nonce`, `op`) on reply `message_id`. Returns the op when it answers
    /// the question on screen; stale choices and cancelling are answered here.
    pub(super) async fn wizard_press(
        &mut self,
        message_id: i32,
        nonce: u32,
        op: WizardOp,
    ) -> Result<Option<WizardOp>, StoreError> {
        if !self.has_task() || nonce != self.dialog.nonce {
            let text = self.t("button.stale");
            self.out.notice = Some(text.clone());
            self.out.say(Action::text(text));
            self.task_ask().await?;
            return Ok(None);
        }
        if op == WizardOp::Cancel {
            let menu = self.task_menu();
            self.end_task();
            self.clear_buttons(&[message_id]);
            let text = self.t("task.cancelled");
            self.out.say(Action::with_keyboard(text, menu));
            return Ok(None);
        }
        Ok(Some(op))
    }

    /// A typed answer to a task that asks for one text, planned as `actor`. `false` when there is
    /// no such task (a wizard step, or no task at all): the role module goes on.
    pub(super) async fn text_answer(&mut self, actor: &Actor<'_>, text: &str) -> Result<bool, StoreError> {
        let planned = match &self.dialog.flow {
            Flow::Staff(t) => t.asks.text_command(text).map(|c| (t.suggestion_id, t.message_id, c)),
            Flow::Department(t) => t.asks.text_command(text).map(|c| (t.suggestion_id, t.message_id, c)),
            _ => None,
        };
        let Some((suggestion_id, message_id, command)) = planned else { return Ok(false) };
        self.act_as(actor, suggestion_id, command, &[message_id], false).await?;
        Ok(true)
    }

    /// Plans `command` as a staff member or a liaison; on success the change goes with this update,
    /// the task ends, the person is told in a line and the buttons of `clear` are removed.
    pub(super) async fn act_as(
        &mut self,
        actor: &Actor<'_>,
        suggestion_id: i64,
        command: Command,
        clear: &[i32],
        button: bool,
    ) -> Result<(), StoreError> {
        let act = command.act();
        let before = self.ctx.store.facts(suggestion_id).await?;
        let change = match workflow::plan(self.ctx, actor, suggestion_id, command).await? {
            Ok(change) => change,
            Err(refusal) => {
                // A reason or a reference number can simply be sent again; anything else ends the task.
                if !(input_refusal(&refusal) && self.has_task()) {
                    self.end_task();
                }
                self.refuse(&refusal, button);
                return Ok(());
            }
        };
        let Some(facts) = before else { return Err(StoreError::Corrupt("a planned change without facts".into())) };
        let (text, keyboard) = match actor {
            Actor::Staff(_) => self.staff_done(act, &facts, &change).await?,
            Actor::Liaison(liaison) => self.department_done(liaison, act, &facts, suggestion_id, change.new_state)?,
            _ => return Err(StoreError::Corrupt(format!("a task acted on as {act:?} by neither staff nor liaison"))),
        };
        self.out.change = Some(change);
        self.end_task();
        self.clear_buttons(clear);
        if button {
            self.out.notice = Some(text.clone());
        }
        self.out.say(Action::with_keyboard(text, keyboard));
        Ok(())
    }

    /// Asks the task's question again, with fresh buttons and a cancel button, and saves the state.
    pub(super) async fn task_ask(&mut self) -> Result<(), StoreError> {
        let Some((suggestion_id, _)) = self.task_target() else { return Ok(()) };
        self.dialog.nonce += 1;
        let nonce = self.dialog.nonce;
        let Some(facts) = self.ctx.store.facts(suggestion_id).await? else {
            self.end_task();
            self.refuse(&Refusal::NotFound, false);
            return Ok(());
        };
        let (question, cancel) = match &self.dialog.flow {
            Flow::Staff(t) => (t.asks.text_question(), ChoiceId::StaffWizard { nonce, op: WizardOp::Cancel }),
            Flow::Department(t) => (t.asks.text_question(), ChoiceId::DepartmentWizard { nonce, op: WizardOp::Cancel }),
            _ => return Ok(()),
        };
        let (text, mut rows) = match (question, self.dialog.flow.clone()) {
            (Some(key), _) => (self.text_question(key, &facts), Vec::new()),
            (None, Flow::Staff(Task { asks: StaffAsk::Assign(d), .. })) => {
                self.assign_question(&d, &facts, nonce).await?
            }
            (None, Flow::Department(Task { asks: DepartmentAsk::Reply(d), .. })) => {
                self.reply_question(&d, &facts, nonce).await?
            }
            (None, _) => return Ok(()),
        };
        rows.push(vec![Choice::new(self.t("task.cancel_button"), cancel)]);
        self.out.say(Action::with_keyboard(text, Keyboard::Choices(rows)));
        self.out.state = Some(self.dialog.clone());
        Ok(())
    }

    fn text_question(&self, key: &str, facts: &Facts) -> String {
        let lead = facts.lead().map(|a| a.department_name.clone()).unwrap_or_default();
        let classes = self.ctx.config.workflow.reply_classes();
        let classes = classes.iter().map(|c| format!("{} {}", c.code, c.label)).collect::<Vec<_>>().join("；");
        let args: [(&str, &dyn std::fmt::Display); 4] =
            [("reference", &facts.reference_no), ("title", &facts.title), ("lead", &lead), ("classes", &classes)];
        self.ta(key, &args)
    }
}
