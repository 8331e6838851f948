//! The ways each department can receive assigned work: Telegram liaisons (bound, or invited and
//! not yet bound), console accounts and API tokens.

use std::collections::HashMap;

use crate::store::Role;
use crate::web::{WebError, WebState};

/// How many of each way a department has to receive work.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Channels {
    /// Active liaisons with a Telegram account: they get the assignment in the bot.
    pub bound: usize,
    /// Liaisons invited who have not redeemed their invite yet (they get it once they do).
    pub invited: usize,
    /// Active console accounts of the department.
    pub accounts: usize,
    /// API tokens not revoked.
    pub tokens: usize,
}

impl Channels {
    /// Whether anyone will see an assignment now (an invited liaison only sees it later).
    pub fn receives(&self) -> bool {
        self.bound + self.accounts + self.tokens > 0
    }
}

/// Every department's channels, by department id; a department with none is absent (use
/// `unwrap_or_default`).
pub(crate) async fn channels(state: &WebState) -> Result<HashMap<i64, Channels>, WebError> {
    let store = &state.app.store;
    let mut map: HashMap<i64, Channels> = HashMap::new();
    for l in store.liaisons().await? {
        let c = map.entry(l.department_id).or_default();
        match (l.active, l.telegram_user_id) {
            (true, Some(_)) => c.bound += 1,
            (true, None) => c.invited += 1,
            _ => {}
        }
    }
    for u in store.users().await? {
        if let (Role::Department, true, Some(d)) = (u.role, u.active, u.department_id) {
            map.entry(d).or_default().accounts += 1;
        }
    }
    for t in store.api_tokens().await? {
        if t.revoked_at.is_none() {
            map.entry(t.department_id).or_default().tokens += 1;
        }
    }
    Ok(map)
}
