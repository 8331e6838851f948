//! The member's 撤回 from 我的建言: the button on a suggestion still awaiting staff, a
//! confirmation step, then `workflow::plan` (which refuses a stale tap once staff have decided).

use super::Dialogue;
use crate::choice::ChoiceId;
use crate::domain::SuggestionState;
use crate::reply::{Action, Choice, Keyboard};
use crate::store::{Member, StoreError};
use crate::workflow::{self, Act, Actor, Command};

impl Dialogue<'_, '_> {
    /// The 撤回 button shown under a suggestion of the member's in `state`; `None` when the
    /// workflow does not let a member withdraw in that state.
    pub(super) fn withdraw_button(&self, suggestion_id: i64, state: SuggestionState) -> Option<Choice> {
        workflow::allowed_in(Act::Withdraw, state)
            .then(|| Choice::new(self.t("withdraw.button"), ChoiceId::Withdraw { suggestion_id, confirmed: false }))
    }

    /// A 撤回 button pressed: asks to confirm (`confirmed: false`), or withdraws.
    pub(super) async fn withdraw_button_pressed(
        &mut self,
        member: &Member,
        message_id: i32,
        suggestion_id: i64,
        confirmed: bool,
    ) -> Result<(), StoreError> {
        let actor = Actor::Member(member);
        if !confirmed {
            let facts = match self.precheck(&actor, suggestion_id, Act::Withdraw).await? {
                Ok(facts) => facts,
                Err(refusal) => {
                    self.refuse(&refusal, true);
                    return Ok(());
                }
            };
            let text = self.ta("withdraw.confirm", &[("reference", &facts.reference_no), ("title", &facts.title)]);
            let keyboard = Keyboard::Choices(vec![vec![
                Choice::new(self.t("withdraw.yes"), ChoiceId::Withdraw { suggestion_id, confirmed: true }),
                Choice::new(self.t("withdraw.no"), ChoiceId::Show { suggestion_id }),
            ]]);
            self.out.say(Action::with_keyboard(text, keyboard));
            return Ok(());
        }
        match workflow::plan(self.ctx, &actor, suggestion_id, Command::Withdraw).await? {
            // The workflow's own notification tells the member the new state.
            Ok(change) => {
                self.out.change = Some(change);
                self.clear_buttons(&[message_id]);
                self.out.notice = Some(self.t("withdraw.done"));
            }
            Err(refusal) => {
                self.clear_buttons(&[message_id]);
                self.refuse(&refusal, true);
            }
        }
        Ok(())
    }
}
