//! The choices that workflow notifications offer (typed `ChoiceId`s; each channel carries them its
//! own way, Telegram as callback data: `bot::callback`).

use super::{Act, allowed_in};
use crate::choice::{ChoiceId, RatingChoice};
use crate::domain::SuggestionState;
use crate::locale::{Lang, Texts};
use crate::reply::{Choice, Keyboard};
use crate::store::{AssignmentRole, Rating};

/// The staff's buttons for a suggestion in a given state.
pub fn review_keyboard(texts: &Texts, lang: Lang, suggestion_id: i64, state: SuggestionState) -> Keyboard {
    let b = |key: &str, act| Choice::new(texts.t(lang, key, &[]), ChoiceId::Review { act, suggestion_id });
    let offer = |acts: &[(Act, &str)]| -> Vec<Choice> {
        acts.iter().filter(|(act, _)| allowed_in(*act, state)).map(|(act, key)| b(key, *act)).collect()
    };
    let rows: Vec<Vec<Choice>> = [
        offer(&[
            (Act::ApproveReply, "review.approve_reply"),
            (Act::ReclassifyReply, "review.reclassify_reply"),
            (Act::ReturnReply, "review.return_reply"),
        ]),
        offer(&[(Act::Accept, "review.accept"), (Act::Reject, "review.reject"), (Act::Assign, "review.assign")]),
        offer(&[(Act::Merge, "review.merge"), (Act::Instruct, "review.instruct"), (Act::Adopt, "review.adopt")]),
    ]
    .into_iter()
    .filter(|row| !row.is_empty())
    .collect();
    Keyboard::Choices(rows)
}

/// A department's buttons for an assignment.
pub fn department_keyboard(texts: &Texts, lang: Lang, suggestion_id: i64, role: AssignmentRole) -> Keyboard {
    let b = |key: &str, act| Choice::new(texts.t(lang, key, &[]), ChoiceId::Department { act, suggestion_id });
    let answer = match role {
        AssignmentRole::Lead => b("department.reply", Act::Reply),
        AssignmentRole::Co => b("department.opinion", Act::CoOpinion),
    };
    Keyboard::Choices(vec![vec![
        b("department.acknowledge", Act::Acknowledge),
        answer,
        b("department.return", Act::Return),
    ]])
}

/// A co-department's buttons under the lead's draft reply (会签): agree, or propose changes.
pub fn countersign_keyboard(texts: &Texts, lang: Lang, suggestion_id: i64) -> Keyboard {
    let b = |key: &str, act| Choice::new(texts.t(lang, key, &[]), ChoiceId::Department { act, suggestion_id });
    Keyboard::Choices(vec![vec![
        b("department.countersign_agree", Act::Countersign),
        b("department.countersign_propose", Act::ProposeChanges),
    ]])
}

/// The lead department's button to send its countersigned draft on (会签 done).
pub fn send_on_keyboard(texts: &Texts, lang: Lang, suggestion_id: i64) -> Keyboard {
    let b = |key: &str, act| Choice::new(texts.t(lang, key, &[]), ChoiceId::Department { act, suggestion_id });
    Keyboard::Choices(vec![vec![b("department.send_on", Act::SendOn)]])
}

/// The member's rating buttons under a department's reply; `reply_no` is that reply's number
/// (1 for the first), so a button left under an older reply is recognised as stale.
pub fn rating_keyboard(texts: &Texts, lang: Lang, suggestion_id: i64, reply_no: i64) -> Keyboard {
    let rate = |key: &str, rating| {
        let choice = RatingChoice::Rate(rating);
        Choice::new(texts.t(lang, key, &[]), ChoiceId::Rating { suggestion_id, reply_no, choice })
    };
    Keyboard::Choices(vec![vec![
        rate("rating.satisfied", Rating::Satisfied),
        rate("rating.basically_satisfied", Rating::BasicallySatisfied),
        rate("rating.dissatisfied", Rating::Dissatisfied),
    ]])
}
