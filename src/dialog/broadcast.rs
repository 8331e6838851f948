//! Staff compose topic announcements for members: topic → text → audience → preview → confirm.

use serde::{Deserialize, Serialize};

use super::{Dialogue, Input};
use crate::reply::Action;
use crate::store::{Staff, StoreError};

/// A broadcast being composed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BroadcastDraft {}

impl Dialogue<'_, '_> {
    pub(super) async fn broadcast_input(&mut self, staff: &Staff, input: Input) -> Result<(), StoreError> {
        let _ = (staff, input);
        let text = self.t("help.staff");
        self.out.say(Action::with_keyboard(text, self.staff_menu()));
        Ok(())
    }
}
