//! The buttons that workflow notifications carry and their callback data: the Telegram-shaped
//! part of the workflow, kept together so it can move to the Telegram adapter in one piece.

use super::{Act, allowed_in};
use crate::domain::SuggestionState;
use crate::locale::{Lang, Texts};
use crate::reply::{Button, Keyboard};
use crate::store::{AssignmentRole, Rating};

/// Callback data of the buttons that notifications carry.
pub mod buttons {
    use crate::store::Rating;

    pub fn staff(action: char, suggestion_id: i64) -> String {
        format!("r:{action}:{suggestion_id}")
    }
    pub fn department(action: char, suggestion_id: i64) -> String {
        format!("d:{action}:{suggestion_id}")
    }
    pub fn rating(suggestion_id: i64, reply_no: i64, rating: Rating) -> String {
        let r = match rating {
            Rating::Satisfied => 's',
            Rating::BasicallySatisfied => 'b',
            Rating::Dissatisfied => 'd',
        };
        format!("rt:{suggestion_id}:{reply_no}:{r}")
    }
}

/// The staff's buttons for a suggestion in a given state.
pub fn review_keyboard(texts: &Texts, lang: Lang, suggestion_id: i64, state: SuggestionState) -> Keyboard {
    let b = |key: &str, action| Button::new(texts.t(lang, key, &[]), buttons::staff(action, suggestion_id));
    let offer = |acts: &[(Act, &str, char)]| -> Vec<Button> {
        acts.iter().filter(|(act, _, _)| allowed_in(*act, state)).map(|(_, key, c)| b(key, *c)).collect()
    };
    let rows: Vec<Vec<Button>> = [
        offer(&[
            (Act::Accept, "review.accept", 'a'),
            (Act::Reject, "review.reject", 'r'),
            (Act::Assign, "review.assign", 's'),
        ]),
        offer(&[
            (Act::Merge, "review.merge", 'm'),
            (Act::Instruct, "review.instruct", 'i'),
            (Act::Adopt, "review.adopt", 'd'),
        ]),
    ]
    .into_iter()
    .filter(|row| !row.is_empty())
    .collect();
    Keyboard::Inline(rows)
}

/// A department's buttons for an assignment.
pub fn department_keyboard(texts: &Texts, lang: Lang, suggestion_id: i64, role: AssignmentRole) -> Keyboard {
    let b = |key: &str, action| Button::new(texts.t(lang, key, &[]), buttons::department(action, suggestion_id));
    let answer = match role {
        AssignmentRole::Lead => b("department.reply", 'y'),
        AssignmentRole::Co => b("department.opinion", 'o'),
    };
    Keyboard::Inline(vec![vec![b("department.acknowledge", 'k'), answer, b("department.return", 'r')]])
}

/// The member's rating buttons under a department's reply; `reply_no` is that reply's number
/// (1 for the first), so a button left under an older reply is recognised as stale.
pub fn rating_keyboard(texts: &Texts, lang: Lang, suggestion_id: i64, reply_no: i64) -> Keyboard {
    let rate =
        |key: &str, rating| Button::new(texts.t(lang, key, &[]), buttons::rating(suggestion_id, reply_no, rating));
    Keyboard::Inline(vec![vec![
        rate("rating.satisfied", Rating::Satisfied),
        rate("rating.basically_satisfied", Rating::BasicallySatisfied),
        rate("rating.dissatisfied", Rating::Dissatisfied),
    ]])
}
