//! What the bot says and does in a chat, independent of Telegram: stored in the outbox, sent by `bot::send`.

use serde::{Deserialize, Serialize};

use crate::choice::ChoiceId;

/// One thing to do in a chat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    Send {
        text: String,
        keyboard: Keyboard,
        /// The forum topic (`message_thread_id`) the message goes to in a forum supergroup, so an
        /// answer lands where the question was asked; `None` everywhere else.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thread: Option<i32>,
    },
    /// Retires the choices of an earlier reply (the message a choice was made on), so they cannot
    /// be chosen again. Stored as `clear_buttons`, its name before choices were typed.
    #[serde(rename = "clear_buttons")]
    Retire { message_id: i32 },
    /// A photo or document already on Telegram's servers, sent again by its file id.
    File { file_id: String, photo: bool, caption: String },
    /// A document kept in the database (`store::files`, by its SHA-256), uploaded to Telegram as
    /// `file_name` when sent (`sendDocument` with the bytes).
    Upload { sha256: String, file_name: String, caption: String },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "rows", rename_all = "snake_case")]
pub enum Keyboard {
    #[default]
    None,
    /// Choices under the reply, row by row; choosing one comes back as its id.
    Choices(Vec<Vec<Choice>>),
    /// Telegram buttons with their callback data written out, as outbox rows stored before choices
    /// were typed carry them: still sent as they are. Nothing new is made so.
    Inline(Vec<Vec<Button>>),
    /// The persistent menu under the text field; pressing a key sends its text.
    Menu(Vec<Vec<String>>),
}

/// One choice under a reply: what it says and what choosing it means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub text: String,
    pub id: ChoiceId,
}

impl Choice {
    pub fn new(text: impl Into<String>, id: ChoiceId) -> Self {
        Self { text: text.into(), id }
    }
}

/// A Telegram button of a stored outbox row from before choices were typed (`Keyboard::Inline`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Button {
    pub text: String,
    pub data: String,
}

impl Button {
    pub fn new(text: impl Into<String>, data: impl Into<String>) -> Self {
        Self { text: text.into(), data: data.into() }
    }
}

/// An action as plain text, for tests and logs: the text (or the file's caption), then each row of
/// choices as `[label] [label]`; a retirement as `(choices of message N retired)`.
pub fn plain_text(action: &Action) -> String {
    match action {
        Action::Send { text, keyboard, .. } => {
            let rows: Vec<String> = match keyboard {
                Keyboard::None => Vec::new(),
                Keyboard::Choices(rows) => rows
                    .iter()
                    .map(|r| r.iter().map(|c| format!("[{}]", c.text)).collect::<Vec<_>>().join(" "))
                    .collect(),
                Keyboard::Inline(rows) => rows
                    .iter()
                    .map(|r| r.iter().map(|b| format!("[{}]", b.text)).collect::<Vec<_>>().join(" "))
                    .collect(),
                Keyboard::Menu(rows) => {
                    rows.iter().map(|r| r.iter().map(|k| format!("<{k}>")).collect::<Vec<_>>().join(" ")).collect()
                }
            };
            std::iter::once(text.clone()).chain(rows).collect::<Vec<_>>().join("\n")
        }
        Action::Retire { message_id } => format!("(choices of message {message_id} retired)"),
        Action::File { caption, photo, .. } => {
            format!("({}) {caption}", if *photo { "photo" } else { "file" })
        }
        Action::Upload { caption, file_name, .. } => format!("(file {file_name}) {caption}"),
    }
}

impl Action {
    pub fn text(text: impl Into<String>) -> Self {
        Action::Send { text: text.into(), keyboard: Keyboard::None, thread: None }
    }

    pub fn with_keyboard(text: impl Into<String>, keyboard: Keyboard) -> Self {
        Action::Send { text: text.into(), keyboard, thread: None }
    }

    /// The same action, sent into the forum topic `thread` (a `Send` only; see `Send::thread`).
    pub fn in_thread(self, thread: Option<i32>) -> Self {
        match self {
            Action::Send { text, keyboard, .. } => Action::Send { text, keyboard, thread },
            other => other,
        }
    }

    /// The outbox payload.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("an action always serializes")
    }

    pub fn decode(payload: &str) -> serde_json::Result<Self> {
        serde_json::from_str(payload)
    }
}

/// Telegram's limit for one message's text, in UTF-16 code units (Bot API `sendMessage`: "1-4096
/// characters after entities parsing"; Telegram counts UTF-16 code units).
pub const MAX_TEXT_UTF16: usize = 4096;

/// Telegram's limit for a photo's or document's caption, in UTF-16 code units (Bot API
/// `sendPhoto`/`sendDocument`: "0-1024 characters after entities parsing").
pub const MAX_CAPTION_UTF16: usize = 1024;

/// Put at the end of a caption that was cut to fit; the whole text went just before, in its own message.
const CUT_MARKER: &str = "…";

impl Action {
    /// The messages Telegram will receive for this action, in order: each is one unit of delivery
    /// (its own outbox row, sent, retried or held on its own), so a retry never repeats a part that
    /// already arrived.
    ///
    /// - A `Send` longer than [`MAX_TEXT_UTF16`] becomes several `Send`s, cut at line ends where it
    ///   can ([`split_text`]); the keyboard goes on the last one only, so the buttons stay under the
    ///   end of the text.
    /// - A `File` whose caption is longer than [`MAX_CAPTION_UTF16`] becomes the whole caption as
    ///   text message(s) first, then the file with the caption cut to fit and ending in "…".
    /// - Anything else is one message.
    pub fn into_parts(self) -> Vec<Action> {
        match self {
            Action::Send { text, keyboard, thread } if text.encode_utf16().count() > MAX_TEXT_UTF16 => {
                let pieces = split_text(&text, MAX_TEXT_UTF16);
                let last = pieces.len() - 1;
                let mut keyboard = Some(keyboard);
                pieces
                    .into_iter()
                    .enumerate()
                    .map(|(i, piece)| Action::Send {
                        text: piece,
                        keyboard: if i == last { keyboard.take().unwrap_or_default() } else { Keyboard::None },
                        thread,
                    })
                    .collect()
            }
            Action::File { file_id, photo, caption } if caption.encode_utf16().count() > MAX_CAPTION_UTF16 => {
                let short = cut_utf16(&caption, MAX_CAPTION_UTF16, CUT_MARKER);
                let mut parts = Action::text(caption).into_parts();
                parts.push(Action::File { file_id, photo, caption: short });
                parts
            }
            Action::Upload { sha256, file_name, caption } if caption.encode_utf16().count() > MAX_CAPTION_UTF16 => {
                let short = cut_utf16(&caption, MAX_CAPTION_UTF16, CUT_MARKER);
                let mut parts = Action::text(caption).into_parts();
                parts.push(Action::Upload { sha256, file_name, caption: short });
                parts
            }
            other => vec![other],
        }
    }
}

/// `text` if it fits in `limit_utf16` UTF-16 code units; otherwise its beginning followed by
/// `marker`, together within the limit (cut at a character boundary).
pub fn cut_utf16(text: &str, limit_utf16: usize, marker: &str) -> String {
    if text.encode_utf16().count() <= limit_utf16 {
        return text.to_string();
    }
    let room = limit_utf16.saturating_sub(marker.encode_utf16().count());
    let mut out = String::new();
    let mut used = 0;
    for ch in text.chars() {
        if used + ch.len_utf16() > room {
            break;
        }
        used += ch.len_utf16();
        out.push(ch);
    }
    out.push_str(marker);
    out
}

/// Splits a text into pieces Telegram accepts, breaking at line ends where it can.
pub fn split_text(text: &str, limit_utf16: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    for line in text.split_inclusive('\n') {
        let line_len: usize = line.encode_utf16().count();
        if current_len + line_len <= limit_utf16 {
            current.push_str(line);
            current_len += line_len;
            continue;
        }
        if !current.is_empty() {
            pieces.push(std::mem::take(&mut current));
            current_len = 0;
        }
        // A single line longer than the limit is cut at character boundaries.
        for ch in line.chars() {
            let n = ch.len_utf16();
            if current_len + n > limit_utf16 {
                pieces.push(std::mem::take(&mut current));
                current_len = 0;
            }
            current.push(ch);
            current_len += n;
        }
    }
    if !current.is_empty() || pieces.is_empty() {
        pieces.push(current);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_render_as_plain_text() {
        let choices = Keyboard::Choices(vec![
            vec![
                Choice::new("提交", ChoiceId::Done { nonce: 1 }),
                Choice::new("放弃", ChoiceId::New { topic_id: None }),
            ],
            vec![Choice::new("取消", ChoiceId::ReviewPage { after_id: 2 })],
        ]);
        assert_eq!(plain_text(&Action::with_keyboard("预览", choices)), "预览\n[提交] [放弃]\n[取消]");
        let menu = Keyboard::Menu(vec![vec!["📝 提建议".into(), "📂 我的建言".into()]]);
        assert_eq!(plain_text(&Action::with_keyboard("你好", menu)), "你好\n<📝 提建议> <📂 我的建言>");
        assert_eq!(plain_text(&Action::Retire { message_id: 7 }), "(choices of message 7 retired)");
        let file = Action::File { file_id: "F".into(), photo: true, caption: "图".into() };
        assert_eq!(plain_text(&file), "(photo) 图");
    }

    #[test]
    fn short_text_is_one_piece() {
        assert_eq!(split_text("你好", 4096), vec!["你好".to_string()]);
    }

    #[test]
    fn long_text_splits_at_lines_and_keeps_everything() {
        let line = "一二三四五六七八九十\n";
        let text = line.repeat(1000);
        let pieces = split_text(&text, 4096);
        assert!(pieces.len() >= 3);
        assert!(pieces.iter().all(|p| p.encode_utf16().count() <= 4096));
        assert!(pieces[..pieces.len() - 1].iter().all(|p| p.ends_with('\n')));
        assert_eq!(pieces.concat(), text);
    }

    #[test]
    fn a_long_send_becomes_parts_with_the_keyboard_on_the_last() {
        let keyboard = Keyboard::Inline(vec![vec![Button::new("提交", "s")]]);
        let text = "一二三四五六七八九十\n".repeat(1500); // 16,500 UTF-16 units
        let parts = Action::with_keyboard(text.clone(), keyboard.clone()).into_parts();
        assert_eq!(parts.len(), 5);
        let mut joined = String::new();
        for (i, part) in parts.iter().enumerate() {
            let Action::Send { text, keyboard: k, .. } = part else { panic!("{part:?}") };
            assert!(text.encode_utf16().count() <= MAX_TEXT_UTF16);
            assert_eq!(k, if i == 4 { &keyboard } else { &Keyboard::None });
            joined.push_str(text);
        }
        assert_eq!(joined, text);
        let short = Action::with_keyboard("短", keyboard);
        assert_eq!(short.clone().into_parts(), vec![short]);
    }

    #[test]
    fn a_long_caption_goes_first_as_text_and_the_file_keeps_a_cut_caption() {
        // 600 emoji are 1,200 UTF-16 units: over the caption limit though only 600 characters.
        let caption = "😀".repeat(600);
        let parts = Action::File { file_id: "F".into(), photo: true, caption: caption.clone() }.into_parts();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], Action::text(caption.clone()));
        let Action::File { caption: short, photo: true, .. } = &parts[1] else { panic!("{parts:?}") };
        assert!(short.encode_utf16().count() <= MAX_CAPTION_UTF16 && short.ends_with('…'), "{short}");
        assert!(caption.starts_with(short.trim_end_matches('…')));
        let fits = Action::File { file_id: "F".into(), photo: false, caption: "回执".into() };
        assert_eq!(fits.clone().into_parts(), vec![fits]);
    }

    #[test]
    fn a_line_longer_than_the_limit_is_cut() {
        let text = "😀".repeat(3000); // two UTF-16 units each
        let pieces = split_text(&text, 4096);
        assert_eq!(pieces.len(), 2);
        assert!(pieces.iter().all(|p| p.encode_utf16().count() <= 4096));
        assert_eq!(pieces.concat(), text);
    }
}
