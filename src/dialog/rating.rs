//! Members rate a department's answer: 满意 / 基本满意 close the suggestion; 不满意 asks for an
//! optional reason and reopens it. Every rating goes through `workflow::plan`.

use super::{Dialogue, Input, RatingTask};
use crate::choice::{ChoiceId, RatingChoice};
use crate::conversation::ChatCommand;
use crate::reply::{Action, Choice, Keyboard};
use crate::store::{Member, Rating, StoreError};
use crate::workflow::{self, Act, Actor, Command, Refusal};

impl Dialogue<'_, '_> {
    /// The rating buttons for the member's latest reply (`reply_no`, 1 for the first).
    pub(super) fn rating_keyboard(&self, suggestion_id: i64, reply_no: i64) -> Keyboard {
        workflow::rating_keyboard(self.ctx.texts, self.lang, suggestion_id, reply_no)
    }

    /// Input while the member is asked why they are dissatisfied; `false` if it is not for the
    /// rating and the usual handling goes on.
    pub(super) async fn rating_input(&mut self, member: &Member, input: &Input) -> Result<bool, StoreError> {
        let Some(task) = self.dialog.rating_task().cloned() else { return Ok(false) };
        match input {
            Input::Text(reason) => {
                let clear = [task.message_id];
                self.rate(member, task.suggestion_id, task.reply_no, Rating::Dissatisfied, reason, &clear, false)
                    .await?;
                Ok(true)
            }
            Input::Command { name, .. } if ChatCommand::parse(name) == Some(ChatCommand::Cancel) => {
                self.dialog.end_rating();
                let text = self.t("rating.cancelled");
                self.out.say(Action::with_keyboard(text, self.menu()));
                self.out.state = Some(self.dialog.clone());
                self.reask().await?;
                Ok(true)
            }
            Input::Command { name, .. } if ChatCommand::parse(name) == Some(ChatCommand::Help) => Ok(false),
            // Another command: the member moved on; the rating buttons are still under the answer.
            Input::Command { .. } => {
                self.dialog.end_rating();
                self.out.state = Some(self.dialog.clone());
                Ok(false)
            }
            Input::Attachment { .. } | Input::Unsupported(_) => {
                let text = self.t("rating.reason_needs_text");
                let keyboard = self.skip_keyboard(&task);
                self.out.say(Action::with_keyboard(text, keyboard));
                Ok(true)
            }
            Input::Choice { .. } | Input::Edited | Input::NotPrivate => Ok(false),
        }
    }

    fn skip_keyboard(&self, task: &RatingTask) -> Keyboard {
        Keyboard::Choices(vec![vec![Choice::new(
            self.t("rating.skip"),
            ChoiceId::Rating {
                suggestion_id: task.suggestion_id,
                reply_no: task.reply_no,
                choice: RatingChoice::SkipReason,
            },
        )]])
    }

    /// A workflow button pressed by a member: a rating, a 撤回, an answer to an invitation to
    /// co-sign, or a staff or department button that is
    /// not theirs (refused).
    pub(super) async fn member_workflow_button(
        &mut self,
        member: &Member,
        message_id: i32,
        button: ChoiceId,
    ) -> Result<(), StoreError> {
        if let ChoiceId::Withdraw { suggestion_id, confirmed } = button {
            return self.withdraw_button_pressed(member, message_id, suggestion_id, confirmed).await;
        }
        if let ChoiceId::Cosign { suggestion_id, accept } = button {
            return self.cosign_answer(member, message_id, suggestion_id, accept).await;
        }
        let ChoiceId::Rating { suggestion_id, reply_no, choice } = button else {
            return self.refuse_foreign(&Actor::Member(member), &button).await;
        };
        match choice {
            RatingChoice::Rate(Rating::Dissatisfied) => {
                let refusal = match self.precheck(&Actor::Member(member), suggestion_id, Act::Rate).await? {
                    Err(refusal) => Some(refusal),
                    Ok(facts) if facts.replies != reply_no => Some(Refusal::StaleRating),
                    Ok(_) => None,
                };
                if let Some(refusal) = refusal {
                    self.refuse(&refusal, true);
                    return Ok(());
                }
                let task = RatingTask { suggestion_id, reply_no, message_id };
                let text = self.t("rating.ask_reason");
                let keyboard = self.skip_keyboard(&task);
                self.out.say(Action::with_keyboard(text, keyboard));
                self.dialog.begin_rating(task);
                self.out.state = Some(self.dialog.clone());
                Ok(())
            }
            RatingChoice::Rate(rating) => {
                self.rate(member, suggestion_id, reply_no, rating, "", &[message_id], true).await
            }
            RatingChoice::SkipReason => match self.dialog.rating_task().cloned() {
                Some(task) if task.suggestion_id == suggestion_id && task.reply_no == reply_no => {
                    let clear = [task.message_id, message_id];
                    self.rate(member, suggestion_id, reply_no, Rating::Dissatisfied, "", &clear, true).await
                }
                _ => {
                    let text = self.t("button.stale");
                    self.out.notice = Some(text.clone());
                    self.out.say(Action::text(text));
                    Ok(())
                }
            },
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn rate(
        &mut self,
        member: &Member,
        suggestion_id: i64,
        reply_no: i64,
        rating: Rating,
        reason: &str,
        clear: &[i32],
        button: bool,
    ) -> Result<(), StoreError> {
        let command = Command::Rate { reply_no, rating, reason: reason.to_string() };
        let planned = workflow::plan(self.ctx, &Actor::Member(member), suggestion_id, command).await?;
        self.dialog.end_rating();
        self.out.state = Some(self.dialog.clone());
        match planned {
            // The workflow's own notification tells the member the new state.
            Ok(change) => {
                self.out.change = Some(change);
                self.clear_buttons(clear);
                if button {
                    self.out.notice = Some(self.t("rating.thanks"));
                }
            }
            Err(refusal) => self.refuse(&refusal, button),
        }
        Ok(())
    }
}
