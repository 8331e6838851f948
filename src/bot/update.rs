//! Telegram's updates read leniently: the raw JSON is kept as received, and only the fields jianyan
//! acts on are read from it, so a field or message kind the Bot API adds tomorrow changes nothing.
//!
//! Bot API reference: <https://core.telegram.org/bots/api#update>. teloxide's own `Update` type is
//! not used for intake: it fails on what it does not know (a new entity type, `external_reply`
//! shapes, an inaccessible message under a callback), and re-serialising it loses fields.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use serde_json::value::RawValue;

/// One update as Telegram sent it: its id and the exact bytes of its JSON object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawUpdate {
    pub update_id: i64,
    pub payload: String,
}

/// How a `getUpdates` call ended (<https://core.telegram.org/bots/api#making-requests>).
#[derive(Debug)]
pub enum Polled {
    Updates(Vec<RawUpdate>),
    /// `{"ok":false,…}`: Telegram's `error_code`, `description` and, for 429, `retry_after` seconds.
    Refused {
        code: i64,
        description: String,
        retry_after: Option<u64>,
    },
}

/// Reads a `getUpdates` response body, keeping each update's JSON byte for byte.
///
/// Errors: the body is not a Bot API envelope. An element without a numeric `update_id` is
/// skipped with a log line (it cannot be confirmed or stored, and Telegram never sends one).
pub fn parse_get_updates(body: &str) -> Result<Polled, serde_json::Error> {
    #[derive(Deserialize)]
    struct Envelope<'a> {
        ok: bool,
        #[serde(borrow, default)]
        result: Option<Vec<&'a RawValue>>,
        #[serde(default)]
        error_code: Option<i64>,
        #[serde(default)]
        description: Option<String>,
        #[serde(default)]
        parameters: Option<Parameters>,
    }
    #[derive(Deserialize)]
    struct Parameters {
        #[serde(default)]
        retry_after: Option<u64>,
    }
    #[derive(Deserialize)]
    struct IdOnly {
        update_id: i64,
    }
    let envelope: Envelope = serde_json::from_str(body)?;
    if !envelope.ok {
        return Ok(Polled::Refused {
            code: envelope.error_code.unwrap_or(0),
            description: envelope.description.unwrap_or_default(),
            retry_after: envelope.parameters.and_then(|p| p.retry_after),
        });
    }
    let mut updates = Vec::new();
    for raw in envelope.result.unwrap_or_default() {
        match serde_json::from_str::<IdOnly>(raw.get()) {
            Ok(id) => updates.push(RawUpdate { update_id: id.update_id, payload: raw.get().to_string() }),
            Err(e) => tracing::error!(error = %e, "an update without an update_id was skipped"),
        }
    }
    Ok(Polled::Updates(updates))
}

/// Reads the body of a webhook request: one update, kept byte for byte
/// (<https://core.telegram.org/bots/api#setwebhook>). Errors if it is not a JSON object with an
/// `update_id`.
pub fn parse_webhook(body: &str) -> Result<RawUpdate, serde_json::Error> {
    #[derive(Deserialize)]
    struct IdOnly {
        update_id: i64,
    }
    let id: IdOnly = serde_json::from_str(body)?;
    Ok(RawUpdate { update_id: id.update_id, payload: body.to_string() })
}

/// The parts of an update jianyan reads. Exactly one of the kinds is usually set; an update of a
/// kind not listed here has none of them and is told apart by [`Update::kind`].
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Update {
    pub update_id: i64,
    #[serde(default)]
    pub message: Option<Message>,
    #[serde(default)]
    pub edited_message: Option<Message>,
    #[serde(default)]
    pub channel_post: Option<Message>,
    #[serde(default)]
    pub edited_channel_post: Option<Message>,
    #[serde(default)]
    pub callback_query: Option<CallbackQuery>,
    #[serde(default)]
    pub my_chat_member: Option<ChatMemberUpdated>,
    #[serde(default)]
    pub chat_member: Option<ChatMemberUpdated>,
    /// The name of the update's kind when it is none of the above (e.g. `"message_reaction"`).
    #[serde(skip)]
    pub other_kind: Option<String>,
    /// For such a kind, its `chat` and sender (`from` or `user`), where it has them.
    #[serde(skip)]
    pub other: Option<(Chat, Option<User>)>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub language_code: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Chat {
    pub id: i64,
    /// `private`, `group`, `supergroup` or `channel`.
    #[serde(rename = "type", default)]
    pub kind: String,
}

impl Chat {
    pub fn is_private(&self) -> bool {
        self.kind == "private"
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PhotoSize {
    pub file_id: String,
    #[serde(default)]
    pub file_unique_id: String,
    #[serde(default)]
    pub width: i64,
    #[serde(default)]
    pub height: i64,
    #[serde(default)]
    pub file_size: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Document {
    pub file_id: String,
    #[serde(default)]
    pub file_unique_id: String,
    #[serde(default)]
    pub file_name: Option<String>,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub file_size: Option<i64>,
}

/// A message, or the stub Telegram sends for one it no longer shows the bot (`date` 0: an
/// *inaccessible* message under a button older than 48 hours,
/// <https://core.telegram.org/bots/api#inaccessiblemessage>).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Message {
    #[serde(default)]
    pub message_id: i64,
    #[serde(default)]
    pub date: i64,
    pub chat: Chat,
    #[serde(default)]
    pub from: Option<User>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub caption: Option<String>,
    #[serde(default)]
    pub photo: Option<Vec<PhotoSize>>,
    #[serde(default)]
    pub document: Option<Document>,
    /// The forum topic of a message in a forum supergroup (with `is_topic_message`).
    #[serde(default)]
    pub message_thread_id: Option<i64>,
    #[serde(default)]
    pub is_topic_message: bool,
    /// Photos and files sent together as an album share it, one update each.
    #[serde(default)]
    pub media_group_id: Option<String>,
    /// Service message in a group upgraded to a supergroup: the supergroup's id.
    #[serde(default)]
    pub migrate_to_chat_id: Option<i64>,
    /// Service message in the new supergroup: the group it was upgraded from.
    #[serde(default)]
    pub migrate_from_chat_id: Option<i64>,
    // Kinds jianyan recognises to answer in words, without reading them.
    #[serde(default)]
    pub voice: Option<IgnoredAny>,
    #[serde(default)]
    pub audio: Option<IgnoredAny>,
    #[serde(default)]
    pub sticker: Option<IgnoredAny>,
    #[serde(default)]
    pub location: Option<IgnoredAny>,
    #[serde(default)]
    pub venue: Option<IgnoredAny>,
    #[serde(default)]
    pub video: Option<IgnoredAny>,
    #[serde(default)]
    pub video_note: Option<IgnoredAny>,
    #[serde(default)]
    pub animation: Option<IgnoredAny>,
    #[serde(default)]
    pub contact: Option<IgnoredAny>,
    #[serde(default)]
    pub poll: Option<IgnoredAny>,
    #[serde(default)]
    pub dice: Option<IgnoredAny>,
    #[serde(default)]
    pub story: Option<IgnoredAny>,
    // Service messages: things that happened in a chat, not something said to the bot.
    #[serde(default)]
    pub new_chat_members: Option<IgnoredAny>,
    #[serde(default)]
    pub left_chat_member: Option<IgnoredAny>,
    #[serde(default)]
    pub new_chat_title: Option<IgnoredAny>,
    #[serde(default)]
    pub new_chat_photo: Option<IgnoredAny>,
    #[serde(default)]
    pub delete_chat_photo: Option<IgnoredAny>,
    #[serde(default)]
    pub group_chat_created: Option<IgnoredAny>,
    #[serde(default)]
    pub supergroup_chat_created: Option<IgnoredAny>,
    #[serde(default)]
    pub pinned_message: Option<IgnoredAny>,
    #[serde(default)]
    pub message_auto_delete_timer_changed: Option<IgnoredAny>,
    #[serde(default)]
    pub video_chat_started: Option<IgnoredAny>,
    #[serde(default)]
    pub video_chat_ended: Option<IgnoredAny>,
    #[serde(default)]
    pub video_chat_scheduled: Option<IgnoredAny>,
    #[serde(default)]
    pub video_chat_participants_invited: Option<IgnoredAny>,
    #[serde(default)]
    pub forum_topic_created: Option<IgnoredAny>,
    #[serde(default)]
    pub forum_topic_edited: Option<IgnoredAny>,
    #[serde(default)]
    pub forum_topic_closed: Option<IgnoredAny>,
    #[serde(default)]
    pub forum_topic_reopened: Option<IgnoredAny>,
    #[serde(default)]
    pub chat_background_set: Option<IgnoredAny>,
    #[serde(default)]
    pub boost_added: Option<IgnoredAny>,
    #[serde(default)]
    pub write_access_allowed: Option<IgnoredAny>,
}

impl Message {
    /// Something that happened in the chat (a join, a pin, a new title, an upgrade), not a message
    /// written to anyone.
    pub fn is_service(&self) -> bool {
        self.migrate_to_chat_id.is_some()
            || self.migrate_from_chat_id.is_some()
            || self.new_chat_members.is_some()
            || self.left_chat_member.is_some()
            || self.new_chat_title.is_some()
            || self.new_chat_photo.is_some()
            || self.delete_chat_photo.is_some()
            || self.group_chat_created.is_some()
            || self.supergroup_chat_created.is_some()
            || self.pinned_message.is_some()
            || self.message_auto_delete_timer_changed.is_some()
            || self.video_chat_started.is_some()
            || self.video_chat_ended.is_some()
            || self.video_chat_scheduled.is_some()
            || self.video_chat_participants_invited.is_some()
            || self.forum_topic_created.is_some()
            || self.forum_topic_edited.is_some()
            || self.forum_topic_closed.is_some()
            || self.forum_topic_reopened.is_some()
            || self.chat_background_set.is_some()
            || self.boost_added.is_some()
            || self.write_access_allowed.is_some()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CallbackQuery {
    pub id: String,
    pub from: User,
    /// The message carrying the button; `date` 0 when it is older than 48 hours. Absent for
    /// buttons on inline-mode messages.
    #[serde(default)]
    pub message: Option<Message>,
    #[serde(default)]
    pub data: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChatMemberUpdated {
    pub chat: Chat,
    #[serde(default)]
    pub from: Option<User>,
    #[serde(default)]
    pub new_chat_member: Option<ChatMember>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChatMember {
    /// `creator`, `administrator`, `member`, `restricted`, `left` or `kicked`.
    #[serde(default)]
    pub status: String,
}

/// The update kinds [`Update`] reads; any other top-level key (besides `update_id`) is a kind it
/// does not know.
const KNOWN_KINDS: &[&str] = &[
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "callback_query",
    "my_chat_member",
    "chat_member",
];

impl Update {
    /// Reads a stored update. Never fails on content: a part whose shape is unexpected is read as
    /// far as it can be (its chat and sender, found by their usual paths), so the person can
    /// still be answered. Errors only when the text is not JSON at all.
    pub fn parse(payload: &str) -> Result<Self, serde_json::Error> {
        let value: Value = serde_json::from_str(payload)?;
        let mut update = match Update::deserialize(&value) {
            Ok(update) => update,
            Err(e) => {
                tracing::warn!(error = %e, "an update has an unexpected shape; reading what can be read");
                Self::salvage(&value)
            }
        };
        if let Value::Object(map) = &value {
            update.other_kind = map.keys().find(|k| *k != "update_id" && !KNOWN_KINDS.contains(&k.as_str())).cloned();
        }
        if let Some(part) = update.other_kind.as_ref().and_then(|k| value.get(k)) {
            let chat = part.get("chat").and_then(|c| Chat::deserialize(c).ok());
            let from = part.get("from").or_else(|| part.get("user")).and_then(|u| User::deserialize(u).ok());
            update.other = chat.map(|chat| (chat, from));
        }
        Ok(update)
    }

    /// Whether the update is of a kind [`Update`] reads.
    pub fn is_known_kind(&self) -> bool {
        self.message.is_some()
            || self.edited_message.is_some()
            || self.channel_post.is_some()
            || self.edited_channel_post.is_some()
            || self.callback_query.is_some()
            || self.my_chat_member.is_some()
            || self.chat_member.is_some()
    }

    /// The update's kind by name, as the Bot API calls it (`message`, `callback_query`, …).
    pub fn kind(&self) -> &str {
        if self.message.is_some() {
            "message"
        } else if self.edited_message.is_some() {
            "edited_message"
        } else if self.callback_query.is_some() {
            "callback_query"
        } else if self.channel_post.is_some() {
            "channel_post"
        } else if self.edited_channel_post.is_some() {
            "edited_channel_post"
        } else if self.my_chat_member.is_some() {
            "my_chat_member"
        } else if self.chat_member.is_some() {
            "chat_member"
        } else {
            self.other_kind.as_deref().unwrap_or("unknown")
        }
    }

    /// The chat an update belongs to, for ordering and storage: the presser's private chat for a
    /// button, else the message's chat.
    pub fn chat_id(&self) -> Option<i64> {
        if let Some(q) = &self.callback_query {
            return Some(q.from.id);
        }
        [&self.message, &self.edited_message, &self.channel_post, &self.edited_channel_post]
            .into_iter()
            .flatten()
            .map(|m| m.chat.id)
            .next()
            .or_else(|| self.my_chat_member.as_ref().or(self.chat_member.as_ref()).map(|m| m.chat.id))
            .or_else(|| self.other.as_ref().map(|(chat, _)| chat.id))
    }

    /// Each known part read on its own, each failing part reduced to its chat and sender.
    fn salvage(value: &Value) -> Self {
        fn part<T: for<'de> Deserialize<'de>>(value: &Value, key: &str) -> Option<T> {
            let v = value.get(key)?;
            T::deserialize(v).ok()
        }
        fn message(value: &Value, key: &str) -> Option<Message> {
            let v = value.get(key)?;
            Message::deserialize(v).ok().or_else(|| {
                Some(Message {
                    message_id: v.get("message_id")?.as_i64().unwrap_or(0),
                    date: v.get("date").and_then(Value::as_i64).unwrap_or(1),
                    chat: Chat::deserialize(v.get("chat")?).ok()?,
                    from: v.get("from").and_then(|f| User::deserialize(f).ok()),
                    // What it said is not trusted from a part that did not parse.
                    ..Message::default()
                })
            })
        }
        let callback_query = part::<CallbackQuery>(value, "callback_query").or_else(|| {
            let q = value.get("callback_query")?;
            Some(CallbackQuery {
                id: q.get("id")?.as_str()?.to_string(),
                from: User::deserialize(q.get("from")?).ok()?,
                message: None,
                data: q.get("data").and_then(Value::as_str).map(str::to_string),
            })
        });
        Update {
            update_id: value.get("update_id").and_then(Value::as_i64).unwrap_or(0),
            message: message(value, "message"),
            edited_message: message(value, "edited_message"),
            channel_post: message(value, "channel_post"),
            edited_channel_post: message(value, "edited_channel_post"),
            callback_query,
            my_chat_member: part(value, "my_chat_member"),
            chat_member: part(value, "chat_member"),
            other_kind: None,
            other: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_updates_keeps_each_update_byte_for_byte() {
        let body = r#"{"ok":true,"result":[{"update_id":5,"message":{"message_id":1,"date":1,"chat":{"id":7,"type":"private"},"zz_future":{"a":[1,2]},"text":"你好"}},{"update_id":6,"message_reaction":{"chat":{"id":7,"type":"private"}}}]}"#;
        let Polled::Updates(updates) = parse_get_updates(body).unwrap() else { panic!("an error envelope") };
        assert_eq!(updates.len(), 2);
        assert_eq!(updates[0].update_id, 5);
        assert_eq!(
            updates[0].payload,
            r#"{"update_id":5,"message":{"message_id":1,"date":1,"chat":{"id":7,"type":"private"},"zz_future":{"a":[1,2]},"text":"你好"}}"#
        );
        let other = Update::parse(&updates[1].payload).unwrap();
        assert_eq!(other.kind(), "message_reaction");
        assert_eq!(other.chat_id(), Some(7));
    }

    #[test]
    fn an_error_envelope_is_read() {
        let body = r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}"#;
        match parse_get_updates(body).unwrap() {
            Polled::Refused { code, retry_after, .. } => assert_eq!((code, retry_after), (429, Some(3))),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_inaccessible_message_under_a_button_is_read() {
        let u = Update::parse(r#"{"update_id":9,"callback_query":{"id":"q1","from":{"id":7001,"is_bot":false,"first_name":"M"},"chat_instance":"1","data":"r:5:1:sat","message":{"chat":{"id":7001,"type":"private","first_name":"M"},"message_id":1030,"date":0}}}"#).unwrap();
        let q = u.callback_query.as_ref().unwrap();
        assert_eq!(q.data.as_deref(), Some("r:5:1:sat"));
        let m = q.message.as_ref().unwrap();
        assert_eq!(m.date, 0, "inaccessible");
        assert_eq!((m.message_id, m.chat.id), (1030, 7001));
        assert_eq!(u.chat_id(), Some(7001));
    }

    #[test]
    fn a_part_with_an_unexpected_shape_still_gives_its_chat_and_sender() {
        // `text` as an object is not what the Bot API sends today; the person must still be answered.
        let u = Update::parse(r#"{"update_id":3,"message":{"message_id":4,"date":5,"chat":{"id":8,"type":"private"},"from":{"id":8,"first_name":"A"},"text":{"rich":true}}}"#).unwrap();
        let m = u.message.as_ref().unwrap();
        assert_eq!((m.chat.id, m.from.as_ref().unwrap().id), (8, 8));
        assert_eq!(m.text, None);
        assert_eq!(u.kind(), "message");
    }
}
