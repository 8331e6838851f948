//! Sends one message of an outbox row to Telegram and classifies how it ended.

use std::time::Duration;

use teloxide::ApiError;
use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::types::{
    ChatId, FileId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, KeyboardButton, KeyboardMarkup, MessageId,
    ReplyMarkup, ThreadId,
};

use super::callback;
use crate::reply::{Action, Keyboard, MAX_CAPTION_UTF16, cut_utf16};
use crate::store::FileStore;

/// How one attempt to perform an action ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    Sent,
    /// 429: Telegram asks this chat's sends to wait.
    RetryAfter(Duration),
    /// 403: the person blocked the bot, or cannot be written to.
    Blocked(String),
    /// A refusal that will not change (chat not found, bad request).
    Rejected(String),
    /// A server or network error before the message could have arrived: worth retrying.
    Transient(String),
    /// The request timed out after it left: the message may have arrived.
    Uncertain(String),
    /// 400 with `migrate_to_chat_id`: the group became a supergroup with this chat id; nothing was
    /// sent to the old one.
    Migrated(i64),
}

/// Sends one message (one part: see [`Action::into_parts`]) once and says how it ended; retrying
/// is the caller's business. A kept file (`Action::Upload`) is read from `files` first: one that
/// cannot be read now is worth trying again, one that is not kept at all is refused.
pub async fn attempt(bot: &Bot, files: &dyn FileStore, chat_id: i64, action: &Action) -> Attempt {
    let result = match action {
        Action::Send { text, keyboard, thread } => send_text(bot, chat_id, text, keyboard, *thread).await,
        Action::Retire { message_id } => clear_buttons(bot, chat_id, *message_id).await,
        Action::File { file_id, photo, caption } => send_file(bot, chat_id, file_id, *photo, caption).await,
        Action::Upload { sha256, file_name, caption } => match files.stored_file(sha256).await {
            Ok(Some(file)) => upload_document(bot, chat_id, file.bytes, file_name, caption).await,
            Ok(None) => return Attempt::Rejected(format!("no kept file {sha256}")),
            Err(e) => return Attempt::Transient(format!("cannot read kept file {sha256}: {e}")),
        },
    };
    classify(result)
}

/// A document uploaded with its bytes (`sendDocument` as multipart/form-data).
async fn upload_document(
    bot: &Bot,
    chat_id: i64,
    bytes: Vec<u8>,
    file_name: &str,
    caption: &str,
) -> Result<(), RequestError> {
    let file = InputFile::memory(bytes).file_name(file_name.to_string());
    let caption = cut_utf16(caption, MAX_CAPTION_UTF16, "…");
    bot.send_document(ChatId(chat_id), file).caption(caption).await?;
    Ok(())
}

fn classify(result: Result<(), RequestError>) -> Attempt {
    match result {
        Ok(()) => Attempt::Sent,
        Err(RequestError::RetryAfter(secs)) => Attempt::RetryAfter(secs.duration()),
        Err(RequestError::MigrateToChatId(ChatId(new_chat_id))) => Attempt::Migrated(new_chat_id),
        Err(RequestError::Api(
            e @ (ApiError::BotBlocked
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::BotKickedFromChannel
            | ApiError::UserDeactivated
            | ApiError::CantInitiateConversation
            | ApiError::CantTalkWithBots),
        )) => Attempt::Blocked(e.to_string()),
        // Errors teloxide does not name: Telegram's descriptions say which kind they are
        // ("Forbidden: bot is not a member of the group chat", "Bad Request: message caption is
        // too long"); anything else (a 5xx's "Internal Server Error", "Bad Gateway") is worth
        // trying again later.
        Err(RequestError::Api(ApiError::Unknown(d))) if d.starts_with("Forbidden") => Attempt::Blocked(d),
        Err(RequestError::Api(ApiError::Unknown(d))) if d.starts_with("Bad Request") => Attempt::Rejected(d),
        Err(RequestError::Api(e @ ApiError::Unknown(_))) => Attempt::Transient(e.to_string()),
        Err(RequestError::Api(e)) => Attempt::Rejected(e.to_string()),
        // A timeout while connecting: the request never left.
        Err(RequestError::Network(e)) if e.is_timeout() && e.is_connect() => Attempt::Transient(e.to_string()),
        Err(RequestError::Network(e)) if e.is_timeout() => Attempt::Uncertain(e.to_string()),
        Err(RequestError::Network(e)) => Attempt::Transient(e.to_string()),
        Err(RequestError::Io(e)) => Attempt::Transient(e.to_string()),
        // Not JSON at all (a proxy's "502 Bad Gateway" page): the Bot API did not answer, so the
        // message was not taken.
        Err(RequestError::InvalidJson { source, raw }) if !raw.trim_start().starts_with('{') => {
            Attempt::Transient(format!("not a Bot API answer: {source}"))
        }
        // Telegram answered but the answer could not be read: it most likely went through.
        Err(RequestError::InvalidJson { source, .. }) => Attempt::Uncertain(source.to_string()),
    }
}

/// One message: the outbox holds one row per message, so a text is never split here (a text too
/// long for one message is refused by Telegram and recorded as failed).
async fn send_text(
    bot: &Bot,
    chat_id: i64,
    text: &str,
    keyboard: &Keyboard,
    thread: Option<i32>,
) -> Result<(), RequestError> {
    let mut request = bot.send_message(ChatId(chat_id), text);
    if let Some(thread) = thread {
        request = request.message_thread_id(ThreadId(MessageId(thread)));
    }
    if let Some(markup) = markup(keyboard) {
        request = request.reply_markup(markup);
    }
    request.await?;
    Ok(())
}

async fn send_file(bot: &Bot, chat_id: i64, file_id: &str, photo: bool, caption: &str) -> Result<(), RequestError> {
    let file = InputFile::file_id(FileId(file_id.to_string()));
    // Rows carry captions that fit (`Action::into_parts`); this only guards rows written otherwise.
    let caption = cut_utf16(caption, MAX_CAPTION_UTF16, "…");
    if photo {
        bot.send_photo(ChatId(chat_id), file).caption(caption).await?;
    } else {
        bot.send_document(ChatId(chat_id), file).caption(caption).await?;
    }
    Ok(())
}

async fn clear_buttons(bot: &Bot, chat_id: i64, message_id: i32) -> Result<(), RequestError> {
    if message_id == 0 {
        return Ok(());
    }
    match bot.edit_message_reply_markup(ChatId(chat_id), MessageId(message_id)).await {
        Ok(_) => Ok(()),
        // The buttons are already gone, or the message is too old to edit: nothing to do.
        Err(RequestError::Api(
            ApiError::MessageNotModified | ApiError::MessageToEditNotFound | ApiError::MessageCantBeEdited,
        )) => Ok(()),
        Err(e) => Err(e),
    }
}

fn markup(keyboard: &Keyboard) -> Option<ReplyMarkup> {
    match keyboard {
        Keyboard::None => None,
        Keyboard::Choices(rows) => {
            Some(ReplyMarkup::InlineKeyboard(InlineKeyboardMarkup::new(rows.iter().map(|row| {
                row.iter()
                    .filter_map(|c| match callback::encode(&c.id) {
                        Some(data) => Some(InlineKeyboardButton::callback(c.text.clone(), data)),
                        None => {
                            tracing::error!(choice = ?c.id, "a choice without callback data is left out");
                            None
                        }
                    })
                    .collect::<Vec<_>>()
            }))))
        }
        // A row queued before choices were typed: its callback data as it was written.
        Keyboard::Inline(rows) => {
            Some(ReplyMarkup::InlineKeyboard(InlineKeyboardMarkup::new(rows.iter().map(|row| {
                row.iter().map(|b| InlineKeyboardButton::callback(b.text.clone(), b.data.clone())).collect::<Vec<_>>()
            }))))
        }
        Keyboard::Menu(rows) => Some(ReplyMarkup::Keyboard(
            KeyboardMarkup::new(
                rows.iter().map(|row| row.iter().map(|t| KeyboardButton::new(t.clone())).collect::<Vec<_>>()),
            )
            .resize_keyboard()
            .persistent(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use teloxide::types::InlineKeyboardButtonKind;

    use super::*;
    use crate::choice::{ChoiceId, RatingChoice};
    use crate::reply::Choice;
    use crate::store::Rating;

    fn callback_data(markup: Option<ReplyMarkup>) -> Vec<String> {
        let Some(ReplyMarkup::InlineKeyboard(keyboard)) = markup else { panic!("inline buttons: {markup:?}") };
        keyboard
            .inline_keyboard
            .into_iter()
            .flatten()
            .map(|b| match b.kind {
                InlineKeyboardButtonKind::CallbackData(data) => data,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn outbox_rows_queued_before_choices_were_typed_still_send() {
        // As the earlier code stored them: buttons with their callback data, `clear_buttons`.
        let old = r#"{"type":"send","text":"通知","keyboard":{"kind":"inline","rows":[[{"text":"📝 建言","data":"new:3"},{"text":"满意","data":"rt:5:1:s"}]]}}"#;
        let Action::Send { keyboard, text, .. } = Action::decode(old).unwrap() else { panic!("a message") };
        assert_eq!(text, "通知");
        assert_eq!(callback_data(markup(&keyboard)), ["new:3", "rt:5:1:s"]);
        let old_clear = Action::decode(r#"{"type":"clear_buttons","message_id":5}"#).unwrap();
        assert_eq!(old_clear, Action::Retire { message_id: 5 });
        assert_eq!(old_clear.encode(), r#"{"type":"clear_buttons","message_id":5}"#, "stored as before");
    }

    #[test]
    fn choices_are_sent_as_their_callback_data() {
        let rating = ChoiceId::Rating { suggestion_id: 5, reply_no: 1, choice: RatingChoice::Rate(Rating::Satisfied) };
        let keyboard = Keyboard::Choices(vec![vec![
            Choice::new("📝 建言", ChoiceId::New { topic_id: Some(3) }),
            Choice::new("满意", rating),
        ]]);
        let Action::Send { keyboard, .. } = Action::decode(&Action::with_keyboard("通知", keyboard).encode()).unwrap()
        else {
            panic!("a message")
        };
        assert_eq!(callback_data(markup(&keyboard)), ["new:3", "rt:5:1:s"]);
    }
}
