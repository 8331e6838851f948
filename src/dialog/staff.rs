//! Staff in Telegram: the review queue, accepting, not accepting, merging, assigning, instructions,
//! adoption, statistics and looking a suggestion up by its reference number.

use serde::{Deserialize, Serialize};

use super::{Dialogue, Input};
use crate::reply::Action;
use crate::store::{Staff, StoreError};

/// A staff action waiting for more input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StaffTask {}

impl Dialogue<'_, '_> {
    pub(super) async fn staff(&mut self, staff: &Staff, input: Input) -> Result<(), StoreError> {
        // Broadcasts have their own module: /broadcast, its menu key, its buttons ("b:…") and a
        // broadcast being composed all go there.
        let is_broadcast = match &input {
            Input::Command { name, .. } => name == "broadcast",
            Input::Button { data, .. } => data.starts_with("b:"),
            _ => self.dialog.broadcast.is_some(),
        };
        if is_broadcast {
            return self.broadcast_input(staff, input).await;
        }
        let text = self.t("help.staff");
        self.out.say(Action::with_keyboard(text, self.staff_menu()));
        Ok(())
    }
}
