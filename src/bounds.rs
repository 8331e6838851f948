//! Bounds on text people send: refused control and text-direction characters, and cutting to size.
//!
//! Every free-text field that reaches the database, the audit log or the log passes through here
//! or through its own length check; these are the shared pieces.

/// Longest reference number looked up, in characters: `PD-2025-0042` is 12; a configured prefix
/// of up to 20 letters still fits. A longer one cannot exist and is not looked up.
pub const REFERENCE_MAX_CHARS: usize = 40;

/// Whether a character may not appear in a name, a roster field or a one-line text: C0/C1 control
/// characters (NUL, ESC, newline, …) and the invisible characters that change the direction or
/// the joining of text (U+202A–U+202E embeddings and overrides, U+2066–U+2069 isolates, U+200E/
/// U+200F/U+061C marks, U+2028/U+2029 separators, U+FEFF, U+FFF9–U+FFFB), which make one name look
/// like another (the "Trojan Source" class, CVE-2021-42574).
pub fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// The first forbidden character of `s` (see [`is_forbidden`]), if any.
pub fn first_forbidden(s: &str) -> Option<char> {
    s.chars().find(|c| is_forbidden(*c))
}

/// A character as `U+202E`, to name it in an error message without printing it.
pub fn code_point(c: char) -> String {
    format!("U+{:04X}", c as u32)
}

/// `s` cut to at most `max_chars` characters (an ellipsis `…` marks a cut and counts as one).
pub fn clip(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        None => s.to_string(),
        Some(_) => {
            let keep = max_chars.saturating_sub(1);
            let end = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
            format!("{}…", &s[..end])
        }
    }
}

/// `s` cut to `max_chars` with every forbidden character written as `\u{…}`: safe to keep in the
/// audit log or to show back to the person who sent it.
pub fn clip_visible(s: &str, max_chars: usize) -> String {
    let shown: String = s
        .chars()
        .flat_map(|c| {
            let text = if is_forbidden(c) && c != '\n' { format!("\\u{{{:04X}}}", c as u32) } else { c.to_string() };
            text.chars().collect::<Vec<_>>()
        })
        .collect();
    clip(&shown, max_chars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_characters() {
        for c in ['\0', '\u{1b}', '\n', '\u{7f}', '\u{85}', '\u{202E}', '\u{2067}', '\u{200F}', '\u{FEFF}'] {
            assert!(is_forbidden(c), "{c:?}");
        }
        for c in ['张', 'a', ' ', '·', '（', '𠀀'] {
            assert!(!is_forbidden(c), "{c:?}");
        }
        assert_eq!(first_forbidden("张\u{202E}三"), Some('\u{202E}'));
        assert_eq!(code_point('\u{202E}'), "U+202E");
    }

    #[test]
    fn clipping() {
        assert_eq!(clip("张三", 2), "张三");
        assert_eq!(clip("张三丰", 2), "张…");
        assert_eq!(clip("", 0), "");
        assert_eq!(clip_visible("a\u{202E}b", 100), "a\\u{202E}b");
        assert_eq!(clip_visible("第一行\n第二行", 100), "第一行\n第二行");
        assert_eq!(clip_visible(&"长".repeat(1000), 10).chars().count(), 10);
    }
}
