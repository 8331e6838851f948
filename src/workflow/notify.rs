//! Who hears of a workflow change and what they read: the recipients (the member, staff, a
//! department's liaisons), and the notifications every command builds, rendered in one place.

use std::fmt::Display;

use chrono::{DateTime, Utc};

use super::{Planner, countersign_keyboard, department_keyboard, review_keyboard, send_on_keyboard};
use crate::config::Config;
use crate::context::Ctx;
use crate::domain::SuggestionState;
use crate::locale::{Lang, Texts};
use crate::reply::{Action, Keyboard};
use crate::store::{Addressee, AssignmentRole, CosignStatus, OutMessage, Recipient, StoreError};

/// Placeholder values for `Texts::t`. The notifiers take `Sync` ones: they are held across
/// awaits, and `plan` runs inside the bot's `Send` worker tasks.
fn plain_args<'x>(args: &[(&'x str, &'x (dyn Display + Sync))]) -> Vec<(&'x str, &'x dyn Display)> {
    args.iter().map(|(k, v)| (*k, *v as &dyn Display)).collect()
}

impl Planner<'_, '_> {
    /// Pushes a notification to the member who leads the suggestion and to every member who
    /// co-signs it (联名: they get every push the lead gets), with the reference number, the new
    /// state and what next.
    pub(super) fn notify_member(
        &mut self,
        key: &str,
        new_state: SuggestionState,
        args: &[(&str, &dyn Display)],
        keyboard: Keyboard,
    ) {
        self.notify_lead(key, new_state, args, keyboard.clone());
        // The lead's rating closes or reopens it: co-signers read that the lead rated, not a thank
        // you for a rating they did not give.
        let key = match key {
            "notify.closed" | "notify.closed_recorded" => "notify.closed_cosigner",
            "notify.reopened" | "notify.reopened_recorded" => "notify.reopened_cosigner",
            other => other,
        };
        let cosigners: Vec<_> =
            self.facts.cosigners.iter().filter(|c| c.status == CosignStatus::Accepted).cloned().collect();
        for c in cosigners {
            let lang = self.ctx.texts.lang_for(c.language.as_deref());
            let text = self.member_text(lang, "notify.cosigner_frame", key, new_state, args);
            let payload = Action::with_keyboard(text, keyboard.clone()).encode();
            self.messages.push(match c.recipient() {
                Some(r) => OutMessage::notification(r.chat_id, payload),
                None => OutMessage::held(Addressee::Member(c.member_id), Some(self.facts.id), payload),
            });
        }
    }

    /// Pushes a notification to the lead member only (an answer to their invitation to co-sign, a
    /// co-signer's rating).
    pub(super) fn notify_lead(
        &mut self,
        key: &str,
        new_state: SuggestionState,
        args: &[(&str, &dyn Display)],
        keyboard: Keyboard,
    ) {
        let lang = self.member_lang();
        let text = self.member_text(lang, "notify.member_frame", key, new_state, args);
        let payload = Action::with_keyboard(text, keyboard).encode();
        self.messages.push(self.to_member(payload));
    }

    /// A member's notification: `frame` around the body `key`, with the reference number, the
    /// title and the new state.
    fn member_text(
        &self,
        lang: Lang,
        frame: &str,
        key: &str,
        new_state: SuggestionState,
        args: &[(&str, &dyn Display)],
    ) -> String {
        let t = self.ctx.texts;
        // A reply being countersigned or reviewed is still 办理中 to the member.
        let state = t.t(lang, &format!("state.{}", new_state.as_member_sees().code()), &[]);
        let body = t.t(lang, key, args);
        t.t(
            lang,
            frame,
            &[
                ("reference", &self.facts.reference_no),
                ("title", &self.facts.title),
                ("state", &state),
                ("body", &body),
            ],
        )
    }

    /// A notification for the member: to their chat, or kept until they can be written to (no
    /// invite redeemed yet, or the bot blocked) — never dropped.
    pub(super) fn to_member(&self, payload: String) -> OutMessage {
        match &self.facts.member {
            Some(member) => OutMessage::notification(member.chat_id, payload),
            None => OutMessage::held(Addressee::Member(self.facts.member_id), Some(self.facts.id), payload),
        }
    }

    /// Pushes a notification to staff (see [`staff_recipients`]), without buttons.
    pub(super) async fn notify_staff(
        &mut self,
        key: &str,
        args: &[(&str, &(dyn Display + Sync))],
    ) -> Result<(), StoreError> {
        let recipients = staff_recipients(self.ctx).await?;
        self.notify_each(&recipients, Addressee::Staff, key, &plain_args(args), |_| Keyboard::None);
        Ok(())
    }

    /// Pushes a reply waiting for review (督办, 答复待审) to staff, with 通过 / 改分类后通过 / 退回修改.
    pub(super) async fn notify_reply_review(
        &mut self,
        args: &[(&str, &(dyn Display + Sync))],
    ) -> Result<(), StoreError> {
        let recipients = staff_recipients(self.ctx).await?;
        let (texts, id) = (self.ctx.texts, self.facts.id);
        let keyboard = |lang| review_keyboard(texts, lang, id, SuggestionState::ReplyReview);
        self.notify_each(&recipients, Addressee::Staff, "notify.staff_reply_review", &plain_args(args), keyboard);
        Ok(())
    }

    /// Pushes the lead's draft reply to a co-department (会签), with 同意 / 提修改意见.
    pub(super) async fn notify_countersign(
        &mut self,
        department_id: i64,
        args: &[(&str, &(dyn Display + Sync))],
    ) -> Result<(), StoreError> {
        let recipients = self.ctx.store.liaison_recipients(department_id).await?;
        let (texts, id) = (self.ctx.texts, self.facts.id);
        let keyboard = |lang| countersign_keyboard(texts, lang, id);
        let args = plain_args(args);
        self.notify_each(&recipients, Addressee::Department(department_id), "notify.dept_countersign", &args, keyboard);
        Ok(())
    }

    /// Pushes a notification to the lead department with the button to send its draft on (会签).
    pub(super) async fn notify_lead_send_on(
        &mut self,
        department_id: i64,
        key: &str,
        args: &[(&str, &(dyn Display + Sync))],
    ) -> Result<(), StoreError> {
        let recipients = self.ctx.store.liaison_recipients(department_id).await?;
        let (texts, id) = (self.ctx.texts, self.facts.id);
        let keyboard = |lang| send_on_keyboard(texts, lang, id);
        self.notify_each(&recipients, Addressee::Department(department_id), key, &plain_args(args), keyboard);
        Ok(())
    }

    /// Pushes a notification to a department's liaisons, with the buttons for an assignment in
    /// `role` if one is given.
    pub(super) async fn notify_department(
        &mut self,
        department_id: i64,
        key: &str,
        args: &[(&str, &(dyn Display + Sync))],
        role: Option<AssignmentRole>,
    ) -> Result<(), StoreError> {
        let recipients = self.ctx.store.liaison_recipients(department_id).await?;
        let (texts, suggestion_id) = (self.ctx.texts, self.facts.id);
        let keyboard = |lang| match role {
            Some(role) => department_keyboard(texts, lang, suggestion_id, role),
            None => Keyboard::None,
        };
        self.notify_each(&recipients, Addressee::Department(department_id), key, &plain_args(args), keyboard);
        Ok(())
    }

    /// One notification per recipient, each in their language (see [`to_each`]); with no
    /// recipient at all, one in the default language held for `addressee`, kept for the first of
    /// them who writes.
    fn notify_each(
        &mut self,
        recipients: &[Recipient],
        addressee: Addressee,
        key: &str,
        args: &[(&str, &dyn Display)],
        keyboard: impl Fn(Lang) -> Keyboard,
    ) {
        let texts = self.ctx.texts;
        let text = |lang| texts.t(lang, key, args);
        if recipients.is_empty() {
            let lang = texts.lang_for(None);
            let payload = Action::with_keyboard(text(lang), keyboard(lang)).encode();
            self.messages.push(OutMessage::held(addressee, Some(self.facts.id), payload));
        } else {
            self.messages.extend(to_each(texts, recipients, text, keyboard));
        }
    }

    /// The suggestion as a department reads it: reference, title, points.
    pub(super) async fn suggestion_text(&self) -> Result<String, StoreError> {
        let Some(s) = self.ctx.store.suggestion(self.facts.id).await? else {
            return Ok(self.facts.reference_no.clone());
        };
        let mut out = format!("{}《{}》", s.reference_no, s.title);
        for (i, p) in s.points.iter().enumerate() {
            out.push_str(&format!("\n{}. {p}", i + 1));
        }
        Ok(out)
    }
}

/// One notification per recipient, written in the recipient's language (their Telegram one, see
/// `Texts::lang_for`) by `text`, with the buttons `keyboard` gives for that language.
pub fn to_each(
    texts: &Texts,
    recipients: &[Recipient],
    text: impl Fn(Lang) -> String,
    keyboard: impl Fn(Lang) -> Keyboard,
) -> Vec<OutMessage> {
    recipients
        .iter()
        .map(|r| {
            let lang = texts.lang_for(r.language.as_deref());
            OutMessage::notification(r.chat_id, Action::with_keyboard(text(lang), keyboard(lang)).encode())
        })
        .collect()
}

/// A date as people read it in notifications: the local day (`general.utc_offset`), `YYYY-MM-DD`.
pub fn local_date(config: &Config, at: DateTime<Utc>) -> String {
    at.with_timezone(&config.offset()).format("%Y-%m-%d").to_string()
}

/// Where staff hear of news: the staff group chat if one is configured (followed through the
/// moves Telegram made, see [`staff_group`]), else each staff member.
pub async fn staff_recipients(ctx: &Ctx<'_>) -> Result<Vec<Recipient>, StoreError> {
    if let Some(chat_id) = staff_group(ctx).await? {
        return Ok(vec![Recipient { chat_id, language: None }]);
    }
    ctx.store.staff_recipients().await
}

/// The staff group in use: `staff.group_chat_id` followed through every recorded chat move (a
/// group upgraded to a supergroup gets a new id), or `None` when no group is configured.
pub async fn staff_group(ctx: &Ctx<'_>) -> Result<Option<i64>, StoreError> {
    let configured = ctx.config.staff.group_chat_id;
    if configured == 0 {
        return Ok(None);
    }
    Ok(Some(ctx.store.current_chat(configured).await?))
}

/// Telegram moved a chat to a new id (a group upgraded to a supergroup; seen as an error's
/// `migrate_to_chat_id` when sending, or as a `migrate_to_chat_id`/`migrate_from_chat_id` service
/// message): records the move, re-addresses every message still queued for the old chat, and —
/// when the old chat was the staff group in use, the first time only — queues a notice to staff in
/// the new group. Safe to call any number of times; `Ok(true)` if the move was new.
pub async fn chat_moved(ctx: &Ctx<'_>, old_chat_id: i64, new_chat_id: i64) -> Result<bool, StoreError> {
    let notice = if staff_group(ctx).await? == Some(old_chat_id) {
        let lang = ctx.texts.lang_for(None);
        let text = ctx.texts.t(lang, "staff.group_moved", &[("chat_id", &new_chat_id), ("old_chat_id", &old_chat_id)]);
        // As a reply, it goes before the notifications re-addressed with it.
        vec![OutMessage::reply(new_chat_id, Action::text(text).encode())]
    } else {
        Vec::new()
    };
    ctx.store.migrate_chat(old_chat_id, new_chat_id, notice, ctx.now).await
}
