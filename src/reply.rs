//! What the bot says and does in a chat, independent of Telegram: stored in the outbox, sent by `bot::send`.

use serde::{Deserialize, Serialize};

/// One thing to do in a chat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    Send {
        text: String,
        keyboard: Keyboard,
    },
    /// Removes the inline buttons from an earlier message, so they cannot be pressed again.
    ClearButtons {
        message_id: i32,
    },
    /// A photo or document already on Telegram's servers, sent again by its file id.
    File {
        file_id: String,
        photo: bool,
        caption: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "rows", rename_all = "snake_case")]
pub enum Keyboard {
    #[default]
    None,
    /// Buttons under the message; pressing one sends `data` back.
    Inline(Vec<Vec<Button>>),
    /// The persistent menu under the text field; pressing a key sends its text.
    Menu(Vec<Vec<String>>),
}

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

impl Action {
    pub fn text(text: impl Into<String>) -> Self {
        Action::Send { text: text.into(), keyboard: Keyboard::None }
    }

    pub fn with_keyboard(text: impl Into<String>, keyboard: Keyboard) -> Self {
        Action::Send { text: text.into(), keyboard }
    }

    /// The outbox payload.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("an action always serializes")
    }

    pub fn decode(payload: &str) -> serde_json::Result<Self> {
        serde_json::from_str(payload)
    }
}

/// Telegram's limit for one message's text, in UTF-16 code units.
pub const MAX_TEXT_UTF16: usize = 4096;

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
    fn a_line_longer_than_the_limit_is_cut() {
        let text = "😀".repeat(3000); // two UTF-16 units each
        let pieces = split_text(&text, 4096);
        assert_eq!(pieces.len(), 2);
        assert!(pieces.iter().all(|p| p.encode_utf16().count() <= 4096));
        assert_eq!(pieces.concat(), text);
    }
}
