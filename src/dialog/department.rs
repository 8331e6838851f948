//! Department liaisons in Telegram: acknowledging, returning, replying to and giving views on the
//! suggestions assigned to their department.

use serde::{Deserialize, Serialize};

use super::{Dialogue, Input};
use crate::reply::Action;
use crate::store::{Liaison, StoreError};

/// A liaison's action waiting for more input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DepartmentTask {}

impl Dialogue<'_, '_> {
    pub(super) async fn department(&mut self, liaison: &Liaison, input: Input) -> Result<(), StoreError> {
        let _ = (liaison, input);
        let text = self.t("help.department");
        self.out.say(Action::with_keyboard(text, self.department_menu()));
        Ok(())
    }
}
