//! Staff in Telegram: the review queue, accepting, not accepting, merging, assigning, instructions,
//! adoption, statistics and looking a suggestion up by its reference number.

use super::{Dialogue, Input};
use crate::reply::Action;
use crate::store::{Staff, StoreError};

impl Dialogue<'_, '_> {
    pub(super) async fn staff(&mut self, staff: &Staff, input: Input) -> Result<(), StoreError> {
        let _ = (staff, input);
        let text = self.t("help.staff");
        self.out.say(Action::with_keyboard(text, self.staff_menu()));
        Ok(())
    }
}
