//! Sends the outbox's actions to Telegram: long texts split, 429 waited out, final refusals recorded.

use std::time::Duration;

use teloxide::ApiError;
use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::types::{
    ChatId, InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, KeyboardMarkup, MessageId, ReplyMarkup,
};

use crate::reply::{Action, Keyboard, MAX_TEXT_UTF16, split_text};
use crate::store::DeliveryResult;

const MAX_TRIES: u32 = 4;

/// Performs one action, retrying what can be retried; says how it ended.
pub async fn perform(bot: &Bot, chat_id: i64, action: &Action) -> (DeliveryResult, Option<String>) {
    let mut tries = 0;
    loop {
        tries += 1;
        let result = match action {
            Action::Send { text, keyboard } => send_text(bot, chat_id, text, keyboard).await,
            Action::ClearButtons { message_id } => clear_buttons(bot, chat_id, *message_id).await,
        };
        let error = match result {
            Ok(()) => return (DeliveryResult::Sent, None),
            Err(e) => e,
        };
        let wait = match &error {
            RequestError::RetryAfter(secs) => secs.duration(),
            RequestError::Network(_) | RequestError::Io(_) => Duration::from_millis(250 * 2u64.pow(tries)),
            RequestError::Api(ApiError::Unknown(_)) => Duration::from_millis(250 * 2u64.pow(tries)),
            RequestError::Api(api) => {
                tracing::warn!(chat_id, error = %api, "Telegram refused a message");
                return (DeliveryResult::Failed, Some(api.to_string()));
            }
            other => {
                tracing::warn!(chat_id, error = %other, "cannot send a message");
                return (DeliveryResult::Failed, Some(other.to_string()));
            }
        };
        if tries >= MAX_TRIES {
            tracing::warn!(chat_id, error = %error, tries, "giving up on a message for now; it stays in the outbox");
            return (DeliveryResult::Retry, Some(error.to_string()));
        }
        tracing::debug!(chat_id, error = %error, ?wait, "retrying a message");
        tokio::time::sleep(wait).await;
    }
}

async fn send_text(bot: &Bot, chat_id: i64, text: &str, keyboard: &Keyboard) -> Result<(), RequestError> {
    let pieces = split_text(text, MAX_TEXT_UTF16);
    let last = pieces.len() - 1;
    for (i, piece) in pieces.into_iter().enumerate() {
        let mut request = bot.send_message(ChatId(chat_id), piece);
        if let Some(markup) = markup(keyboard).filter(|_| i == last) {
            request = request.reply_markup(markup);
        }
        request.await?;
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
