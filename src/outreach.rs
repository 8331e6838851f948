//! Broadcast rules shared by the bot's composer and the console's: which topics may be announced,
//! how long a text may be, which audiences exist and reach someone, and the member's copy.
//!
//! Channel-neutral: each channel shows the refusals in its own words and renders the copy itself.

use chrono::{DateTime, Utc};

use crate::bounds::clip as truncate;
use crate::locale::{Lang, Texts};
use crate::reply::{MAX_TEXT_UTF16, cut_utf16};
use crate::store::{Audience, AudienceKind, Store, StoreError, Topic};

/// Longest announcement text, in UTF-16 code units: the unit Telegram counts a message's 4096 in
/// (Bot API `sendMessage`; a Chinese character or a letter counts 1, an emoji or a rare character
/// 2). With the header and the topic line the member's copy stays one message: [`member_copy`]
/// shortens a long topic title to make sure.
pub const TEXT_MAX_UTF16: usize = 3500;

/// The length of an announcement as Telegram counts it and [`TEXT_MAX_UTF16`] limits it.
pub fn text_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Why an announcement cannot be sent as composed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The topic chosen is closed, or no longer exists.
    TopicClosed,
    /// Nothing but spaces was typed.
    TextEmpty,
    /// Longer than [`TEXT_MAX_UTF16`]; `len` in the same units.
    TextTooLong { len: usize },
    /// The audience reaches no member now (see `Audience` for who can be reached).
    Nobody,
}

/// The announcement as it will be sent: trimmed, with line ends as `\n` (a browser's textarea
/// sends `\r\n`); or why it cannot be.
pub fn announcement_text(typed: &str) -> Result<String, Refusal> {
    let text = typed.trim().replace("\r\n", "\n");
    let len = text_len(&text);
    if text.is_empty() {
        Err(Refusal::TextEmpty)
    } else if len > TEXT_MAX_UTF16 {
        Err(Refusal::TextTooLong { len })
    } else {
        Ok(text)
    }
}

/// The topic `id` if members can answer it at `now`; `None` if it is closed or unknown.
pub async fn open_topic(store: &dyn Store, id: i64, now: DateTime<Utc>) -> Result<Option<Topic>, StoreError> {
    Ok(store.topic(id).await?.filter(|t| t.is_open(now)))
}

/// `audience` if it is one the store offers now: a workstation or a sector must be among
/// `Store::audience_options` (button data and forms can name others); all and levels always are.
pub async fn known_audience(store: &dyn Store, audience: Audience) -> Result<Option<Audience>, StoreError> {
    let kind = audience.kind();
    if matches!(kind, AudienceKind::All | AudienceKind::Level) {
        return Ok(Some(audience));
    }
    let options = store.audience_options(kind).await?;
    Ok(options.iter().any(|o| o.audience == audience).then_some(audience))
}

/// A broadcast that may be queued: the open topic it announces (if any), and how many members
/// the audience reaches now.
#[derive(Debug, Clone)]
pub struct Plan {
    pub topic: Option<Topic>,
    pub reach: i64,
}

/// Checks a composed broadcast just before it is queued, in the order a person fixes them: the
/// topic (`topic_id`, `None` for no particular topic) must still be open, then the audience must
/// reach someone. Errors only if the store fails.
pub async fn plan(
    store: &dyn Store,
    topic_id: Option<i64>,
    audience: &Audience,
    now: DateTime<Utc>,
) -> Result<Result<Plan, Refusal>, StoreError> {
    let topic = match topic_id {
        None => None,
        Some(id) => match open_topic(store, id, now).await? {
            Some(topic) => Some(topic),
            None => return Ok(Err(Refusal::TopicClosed)),
        },
    };
    let reach = store.audience_reach(audience).await?;
    if reach == 0 {
        return Ok(Err(Refusal::Nobody));
    }
    Ok(Ok(Plan { topic, reach }))
}

/// The level, workstation or sector name of an audience, as the store records it (`""` for
/// all members, `#<id>` for a workstation that no longer exists).
pub async fn audience_value(store: &dyn Store, audience: &Audience) -> Result<String, StoreError> {
    Ok(match audience {
        Audience::All => String::new(),
        Audience::Level(l) => l.label().to_string(),
        Audience::Sector(s) => s.clone(),
        Audience::Workstation(id) => {
            let options = store.audience_options(AudienceKind::Workstation).await?;
            let name = options.into_iter().find(|o| o.audience == *audience).map(|o| o.label);
            name.unwrap_or_else(|| format!("#{id}"))
        }
    })
}

/// How an audience is named to staff, from its kind and the name `audience_value` gives.
pub fn audience_label(texts: &Texts, lang: Lang, kind: AudienceKind, value: &str) -> String {
    match kind {
        AudienceKind::All => texts.t(lang, "broadcast.audience_all", &[]),
        AudienceKind::Level => texts.t(lang, "broadcast.audience_level", &[("value", &value)]),
        AudienceKind::Workstation => texts.t(lang, "broadcast.audience_workstation", &[("value", &value)]),
        AudienceKind::Sector => texts.t(lang, "broadcast.audience_sector", &[("value", &value)]),
    }
}

/// The member's copy of an announcement, in the member's language, before a channel renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberCopy {
    /// The header, the text and the topic line; one Telegram message at most.
    pub text: String,
    /// The label of the one button, which starts a suggestion.
    pub button: String,
    /// The topic the suggestion is started on, if the announcement has one.
    pub topic_id: Option<i64>,
}

/// The member's copy: the header, the text, the topic, and a button that starts a suggestion (on
/// the topic, if there is one). A topic title too long for what is left of one message is
/// shortened (topics made on the command line have no length limit).
pub fn member_copy(texts: &Texts, lang: Lang, text: &str, topic: Option<&Topic>) -> MemberCopy {
    let mut body = format!("{}\n\n{text}", texts.t(lang, "broadcast.member_header", &[]));
    let Some(topic) = topic else {
        return MemberCopy { text: body, button: texts.t(lang, "broadcast.member_button", &[]), topic_id: None };
    };
    body.push_str("\n\n");
    let frame = text_len(&body) + text_len(&texts.t(lang, "broadcast.member_topic", &[("title", &"")]));
    let title = cut_utf16(&topic.title, MAX_TEXT_UTF16.saturating_sub(frame), "…");
    body.push_str(&texts.t(lang, "broadcast.member_topic", &[("title", &title)]));
    let button = texts.t(lang, "broadcast.member_button_topic", &[("title", &truncate(&topic.title, 30))]);
    MemberCopy { text: body, button, topic_id: Some(topic.id) }
}

/// One entry of a topic picker: an open topic, or `id` 0 for "no particular topic".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicOption {
    pub id: i64,
    /// At most 60 characters; a pinned topic (第一协商议题) is marked (`dialog.topic_pinned_label`).
    pub label: String,
}

/// The picker offered when a suggestion or a broadcast is begun: the open topics at `now`, in the
/// store's order (pinned first), and last "no particular topic" labelled with `none_key`.
pub async fn topic_picker(
    store: &dyn Store,
    texts: &Texts,
    lang: Lang,
    none_key: &str,
    now: DateTime<Utc>,
) -> Result<Vec<TopicOption>, StoreError> {
    let topics = store.open_topics(now).await?;
    let mut options: Vec<TopicOption> = topics
        .iter()
        .map(|t| {
            let label = if t.pinned {
                texts.t(lang, "dialog.topic_pinned_label", &[("title", &t.title)])
            } else {
                t.title.clone()
            };
            TopicOption { id: t.id, label: truncate(&label, 60) }
        })
        .collect();
    options.push(TopicOption { id: 0, label: texts.t(lang, none_key, &[]) });
    Ok(options)
}
