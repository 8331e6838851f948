//! Tells apart what a person did from Telegram's update: a command, text, an attachment, a button.

use teloxide::types::{Message, Update, UpdateKind};

use crate::dialog::{self, Input, Person, UnsupportedKind};
use crate::locale::Texts;
use crate::store::{Attachment, AttachmentKind};

/// A person's action in a chat, with the callback query to answer if it was a button.
#[derive(Debug)]
pub struct Converted {
    pub person: Person,
    pub input: Input,
    pub callback_id: Option<String>,
}

/// The chat an update belongs to, for ordering and storage.
pub fn chat_of(update: &Update) -> Option<i64> {
    match &update.kind {
        UpdateKind::CallbackQuery(q) => Some(q.from.id.0 as i64),
        _ => update.chat().map(|c| c.id.0),
    }
}

/// `None` for updates that are nobody's action (channel posts, polls, …): they are just marked done.
pub fn convert(update: &Update, texts: &Texts) -> Option<Converted> {
    match &update.kind {
        UpdateKind::Message(m) => Some(from_message(m, texts, false)?),
        UpdateKind::EditedMessage(m) => Some(from_message(m, texts, true)?),
        UpdateKind::CallbackQuery(q) => {
            let person = Person {
                user_id: q.from.id.0 as i64,
                chat_id: q.from.id.0 as i64,
                language_code: q.from.language_code.clone(),
            };
            // A button pressed in a group (the staff group's alerts) is the presser's own action:
            // the dialog checks who they are, and answers in their private chat. Only buttons in
            // the private chat itself are cleared after use.
            let private = q.message.as_ref().is_none_or(|m| m.chat().is_private());
            let message_id = q.message.as_ref().filter(|_| private).map_or(0, |m| m.id().0);
            let input = Input::Button { message_id, data: q.data.clone().unwrap_or_default() };
            Some(Converted { person, input, callback_id: Some(q.id.to_string()) })
        }
        _ => None,
    }
}

fn from_message(m: &Message, texts: &Texts, edited: bool) -> Option<Converted> {
    let from = m.from.as_ref()?;
    if from.is_bot {
        return None;
    }
    let person = Person { user_id: from.id.0 as i64, chat_id: m.chat.id.0, language_code: from.language_code.clone() };
    let input = if !m.chat.is_private() {
        Input::NotPrivate
    } else if edited {
        Input::Edited
    } else {
        message_input(m, texts)
    };
    Some(Converted { person, input, callback_id: None })
}

fn message_input(m: &Message, texts: &Texts) -> Input {
    if let Some(text) = m.text() {
        return dialog::text_input(texts, text);
    }
    let caption = m.caption().map(str::to_string);
    if let Some(p) = m.photo().and_then(|sizes| sizes.iter().max_by_key(|p| p.width * p.height)) {
        let attachment = Attachment {
            kind: AttachmentKind::Photo,
            file_id: p.file.id.to_string(),
            file_unique_id: p.file.unique_id.to_string(),
            file_name: None,
            mime_type: Some("image/jpeg".into()),
            file_size: Some(p.file.size as i64),
            width: Some(p.width as i64),
            height: Some(p.height as i64),
        };
        return Input::Attachment { attachment, caption };
    }
    if let Some(d) = m.document() {
        let attachment = Attachment {
            kind: AttachmentKind::Document,
            file_id: d.file.id.to_string(),
            file_unique_id: d.file.unique_id.to_string(),
            file_name: d.file_name.clone(),
            mime_type: d.mime_type.as_ref().map(|m| m.to_string()),
            file_size: Some(d.file.size as i64),
            width: None,
            height: None,
        };
        return Input::Attachment { attachment, caption };
    }
    let kind = if m.voice().is_some() || m.audio().is_some() {
        UnsupportedKind::Voice
    } else if m.sticker().is_some() {
        UnsupportedKind::Sticker
    } else if m.location().is_some() || m.venue().is_some() {
        UnsupportedKind::Location
    } else if m.video().is_some() || m.video_note().is_some() || m.animation().is_some() {
        UnsupportedKind::Video
    } else if m.contact().is_some() {
        UnsupportedKind::Contact
    } else if m.poll().is_some() || m.dice().is_some() {
        UnsupportedKind::Poll
    } else {
        UnsupportedKind::Other
    };
    Input::Unsupported(kind)
}
