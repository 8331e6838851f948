//! Tells apart what a person did from Telegram's update: a command, text, an attachment, a button,
//! or something that happened in a chat and needs no answer.

use crate::dialog::{AlbumPart, Input, Person, UnsupportedKind};
use crate::locale::Texts;
use crate::store::{Attachment, AttachmentKind};

use super::update::{Message, Update};

/// A person's action in a chat, with the callback query to answer if it was a button.
#[derive(Debug)]
pub struct Converted {
    pub person: Person,
    pub input: Input,
    pub callback_id: Option<String>,
    /// The forum topic the person wrote in, for the answer to go there too.
    pub thread: Option<i32>,
}

/// What to do with one update.
#[derive(Debug)]
pub enum Disposition {
    /// A person did something: run the dialog and answer them.
    Act(Box<Converted>),
    /// Nothing to answer: chatter, joins, pins and edits in groups, channel posts, the bot's own
    /// membership changes. The reason is for the log.
    Ignore(&'static str),
    /// A group was upgraded to a supergroup: messages for `from` go to `to` from now on.
    Migrate { from: i64, to: i64 },
    /// The person blocked the bot in their private chat (`reachable` false) or allowed it again.
    Reachability { user_id: i64, reachable: bool },
}

/// Whether jianyan knows what an update is. Updates it does not are answered politely where a
/// person can be answered, logged with their `update_id`, and counted for staff (`/stats`, the
/// dashboard).
pub fn understood(update: &Update) -> bool {
    if !update.is_known_kind() {
        return false;
    }
    match &update.message {
        Some(m) if m.chat.is_private() && !m.is_service() => {
            !matches!(message_input_kind(m), Some(UnsupportedKind::Other))
        }
        _ => true,
    }
}

/// Decides what an update asks for. `bot_username` (without `@`) tells commands addressed to this
/// bot in a group (`/stats@jianyan_bot`) from commands for other bots.
pub fn dispose(update: &Update, texts: &Texts, bot_username: &str) -> Disposition {
    if let Some(q) = &update.callback_query {
        let person = Person { user_id: q.from.id, chat_id: q.from.id, language_code: q.from.language_code.clone() };
        // A button pressed in a group (the staff group's alerts) is the presser's own action: the
        // dialog checks who they are and answers in their private chat. Only buttons in the
        // private chat itself are cleared after use. An inaccessible message (older than 48 hours)
        // still names its chat and id, and its buttons can still be removed.
        let private = q.message.as_ref().is_none_or(|m| m.chat.is_private());
        let message_id = q.message.as_ref().filter(|_| private).map_or(0, |m| m.message_id as i32);
        let choice = q.data.as_deref().and_then(super::callback::decode);
        let input = Input::Choice { message_id, choice };
        return Disposition::Act(Box::new(Converted { person, input, callback_id: Some(q.id.clone()), thread: None }));
    }
    if let Some(m) = &update.message {
        return from_message(m, texts, bot_username, false);
    }
    if let Some(m) = &update.edited_message {
        return from_message(m, texts, bot_username, true);
    }
    if update.channel_post.is_some() || update.edited_channel_post.is_some() {
        return Disposition::Ignore("a channel post");
    }
    if let Some(change) = &update.my_chat_member
        && change.chat.is_private()
        && let Some(member) = &change.new_chat_member
    {
        // https://core.telegram.org/bots/api#chatmember: "kicked" in a private chat is a block.
        return Disposition::Reachability { user_id: change.chat.id, reachable: member.status != "kicked" };
    }
    if update.my_chat_member.is_some() || update.chat_member.is_some() {
        return Disposition::Ignore("a membership change");
    }
    // A kind this version does not know: answer the person if it came from a private chat.
    match &update.other {
        Some((chat, Some(from))) if chat.is_private() && !from.is_bot => {
            let person = Person { user_id: from.id, chat_id: chat.id, language_code: from.language_code.clone() };
            Disposition::Act(Box::new(Converted {
                person,
                input: Input::Unsupported(UnsupportedKind::Other),
                callback_id: None,
                thread: None,
            }))
        }
        _ => Disposition::Ignore("an update of a kind jianyan does not know"),
    }
}

fn from_message(m: &Message, texts: &Texts, bot_username: &str, edited: bool) -> Disposition {
    if let Some(to) = m.migrate_to_chat_id {
        return Disposition::Migrate { from: m.chat.id, to };
    }
    if let Some(from) = m.migrate_from_chat_id {
        return Disposition::Migrate { from, to: m.chat.id };
    }
    let Some(from) = m.from.as_ref() else {
        return Disposition::Ignore("a message without a sender");
    };
    if from.is_bot {
        return Disposition::Ignore("a message from a bot");
    }
    if m.is_service() {
        return Disposition::Ignore("a service message");
    }
    let person = Person { user_id: from.id, chat_id: m.chat.id, language_code: from.language_code.clone() };
    if !m.chat.is_private() {
        // In groups the bot speaks only when spoken to by name: `/cmd@bot`. Everything else there —
        // chatter, edits, commands for other bots — is not for it.
        if edited || !addressed_to(m.text.as_deref().unwrap_or_default(), bot_username) {
            return Disposition::Ignore("a group message not addressed to the bot");
        }
        // In a forum supergroup the answer goes to the topic it was asked in, not to "General".
        let thread = m.message_thread_id.filter(|_| m.is_topic_message).and_then(|t| i32::try_from(t).ok());
        return Disposition::Act(Box::new(Converted { person, input: Input::NotPrivate, callback_id: None, thread }));
    }
    let input = if edited { Input::Edited } else { message_input(m, texts) };
    Disposition::Act(Box::new(Converted { person, input, callback_id: None, thread: None }))
}

/// `/cmd@bot_username …`, the form Telegram's command menu uses in groups.
fn addressed_to(text: &str, bot_username: &str) -> bool {
    let Some(rest) = text.strip_prefix('/') else { return false };
    let word = rest.split(char::is_whitespace).next().unwrap_or_default();
    match word.split_once('@') {
        Some((_, name)) => !bot_username.is_empty() && name.eq_ignore_ascii_case(bot_username),
        None => false,
    }
}

/// The reason a message cannot be taken, or `None` if it is text, a photo or a document.
fn message_input_kind(m: &Message) -> Option<UnsupportedKind> {
    if m.text.is_some() || m.photo.as_ref().is_some_and(|p| !p.is_empty()) || m.document.is_some() {
        return None;
    }
    Some(if m.voice.is_some() || m.audio.is_some() {
        UnsupportedKind::Voice
    } else if m.sticker.is_some() {
        UnsupportedKind::Sticker
    } else if m.location.is_some() || m.venue.is_some() {
        UnsupportedKind::Location
    } else if m.video.is_some() || m.video_note.is_some() || m.animation.is_some() {
        UnsupportedKind::Video
    } else if m.contact.is_some() {
        UnsupportedKind::Contact
    } else if m.poll.is_some() || m.dice.is_some() {
        UnsupportedKind::Poll
    } else {
        UnsupportedKind::Other
    })
}

fn message_input(m: &Message, texts: &Texts) -> Input {
    if let Some(text) = &m.text {
        return crate::conversation::typed(texts, text).into();
    }
    let caption = m.caption.clone();
    // The worker that gathers an album's updates fills in the place and the count.
    let album = m.media_group_id.clone().map(|id| AlbumPart { id, index: 0, count: 1, skipped: 0 });
    if let Some(p) = m.photo.as_ref().and_then(|sizes| sizes.iter().max_by_key(|p| p.width * p.height)) {
        let attachment = Attachment {
            kind: AttachmentKind::Photo,
            file_id: p.file_id.clone(),
            file_unique_id: p.file_unique_id.clone(),
            file_name: None,
            mime_type: Some("image/jpeg".into()),
            file_size: p.file_size,
            width: Some(p.width),
            height: Some(p.height),
        };
        return Input::Attachment { attachment, caption, album };
    }
    if let Some(d) = &m.document {
        let attachment = Attachment {
            kind: AttachmentKind::Document,
            file_id: d.file_id.clone(),
            file_unique_id: d.file_unique_id.clone(),
            file_name: d.file_name.clone(),
            mime_type: d.mime_type.clone(),
            file_size: d.file_size,
            width: None,
            height: None,
        };
        return Input::Attachment { attachment, caption, album };
    }
    Input::Unsupported(message_input_kind(m).unwrap_or(UnsupportedKind::Other))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_commands_named_for_this_bot_are_addressed_to_it() {
        assert!(addressed_to("/stats@jianyan_bot", "jianyan_bot"));
        assert!(addressed_to("/stats@Jianyan_Bot now", "jianyan_bot"));
        assert!(!addressed_to("/stats", "jianyan_bot"));
        assert!(!addressed_to("/stats@other_bot", "jianyan_bot"));
        assert!(!addressed_to("hello @jianyan_bot", "jianyan_bot"));
        assert!(!addressed_to("/stats@jianyan_bot", ""));
    }
}
