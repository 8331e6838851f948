//! The fields of a department's reply letter (答复函): 文号, 标题, 联系人, 电话 — checked in one place.
//!
//! A reply's body is its text and its 落款 is the department and the date, so only these four are
//! extra. Every one is optional; a channel collects them as typed and `workflow::plan` checks them
//! once with [`ReplyLetter::checked`] (the Telegram dialog calls it too, to ask again at once).

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// Longest 文号, in characters (e.g. `浦教函〔2025〕12号` is 13).
pub const NUMBER_MAX_CHARS: usize = 50;
/// Longest letter title, in characters.
pub const TITLE_MAX_CHARS: usize = 100;
/// Longest contact person's name, in characters.
pub const CONTACT_MAX_CHARS: usize = 30;
/// Longest phone number as written, in characters (`021-5012 3456 转 801`).
pub const PHONE_MAX_CHARS: usize = 30;
/// A phone number has at least this many digits (a short internal extension is not one).
pub const PHONE_MIN_DIGITS: usize = 5;

/// The letter fields of a reply; `None` where the department gave none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyLetter {
    /// 文号, e.g. `浦教函〔2025〕12号`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// 标题 of the letter; the suggestion's title is used where there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// 联系人.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// 电话: digits, spaces and `+ - ( ) 转 , ，、 / ;` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// A letter field, as named in messages and in the API's field errors (`letter_<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LetterField {
    Number,
    Title,
    Contact,
    Phone,
}

impl LetterField {
    pub const ALL: [LetterField; 4] = [Self::Number, Self::Title, Self::Contact, Self::Phone];

    /// `number`, `title`, `contact` or `phone` (locale keys `letter.<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Number => "number",
            Self::Title => "title",
            Self::Contact => "contact",
            Self::Phone => "phone",
        }
    }

    /// The longest value, in characters.
    pub fn max_chars(self) -> usize {
        match self {
            Self::Number => NUMBER_MAX_CHARS,
            Self::Title => TITLE_MAX_CHARS,
            Self::Contact => CONTACT_MAX_CHARS,
            Self::Phone => PHONE_MAX_CHARS,
        }
    }
}

/// What is wrong with a letter's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LetterProblem {
    /// Longer than `field.max_chars()`.
    TooLong(LetterField),
    /// Control or text-direction characters (`bounds::is_forbidden`).
    Forbidden(LetterField),
    /// Not a phone number: other characters than those allowed, or too few digits.
    BadPhone,
    /// A line of the Telegram form that names no field (see [`ReplyLetter::parse_lines`]).
    UnknownLine,
}

impl LetterProblem {
    pub fn field(self) -> Option<LetterField> {
        match self {
            Self::TooLong(f) | Self::Forbidden(f) => Some(f),
            Self::BadPhone => Some(LetterField::Phone),
            Self::UnknownLine => None,
        }
    }
}

impl ReplyLetter {
    /// A letter from four typed values; blank ones are none.
    pub fn from_parts(number: &str, title: &str, contact: &str, phone: &str) -> Self {
        let some = |s: &str| Some(s.to_string()).filter(|s| !s.trim().is_empty());
        Self { number: some(number), title: some(title), contact: some(contact), phone: some(phone) }
    }

    pub fn get(&self, field: LetterField) -> Option<&str> {
        match field {
            LetterField::Number => self.number.as_deref(),
            LetterField::Title => self.title.as_deref(),
            LetterField::Contact => self.contact.as_deref(),
            LetterField::Phone => self.phone.as_deref(),
        }
    }

    fn slot(&mut self, field: LetterField) -> &mut Option<String> {
        match field {
            LetterField::Number => &mut self.number,
            LetterField::Title => &mut self.title,
            LetterField::Contact => &mut self.contact,
            LetterField::Phone => &mut self.phone,
        }
    }

    /// `true` when no field is given.
    pub fn is_empty(&self) -> bool {
        LetterField::ALL.iter().all(|f| self.get(*f).is_none())
    }

    /// The letter as it is kept: each value trimmed (blank is none), the phone number's full-width
    /// digits and signs read as ASCII (NFKC); or the first problem found, field by field.
    pub fn checked(&self) -> Result<ReplyLetter, LetterProblem> {
        let mut out = ReplyLetter::default();
        for field in LetterField::ALL {
            let Some(value) = self.get(field).map(str::trim).filter(|v| !v.is_empty()) else { continue };
            let value = if field == LetterField::Phone { value.nfkc().collect::<String>() } else { value.to_string() };
            if value.chars().count() > field.max_chars() {
                return Err(LetterProblem::TooLong(field));
            }
            if crate::bounds::first_forbidden(&value).is_some() {
                return Err(LetterProblem::Forbidden(field));
            }
            if field == LetterField::Phone {
                let allowed = |c: char| c.is_ascii_digit() || " +-()转,，、/;".contains(c);
                let digits = value.chars().filter(char::is_ascii_digit).count();
                if !value.chars().all(allowed) || digits < PHONE_MIN_DIGITS {
                    return Err(LetterProblem::BadPhone);
                }
            }
            *out.slot(field) = Some(value);
        }
        Ok(out)
    }

    /// The letter from the Telegram form: one field a line, `文号：…`, `标题：…`, `联系人：…`,
    /// `电话：…` (full-width or ASCII colon; the English `number:`, `title:`, `contact:`, `phone:`
    /// too). Lines left out keep `self`'s value; `-` alone after the colon clears it. Checked as
    /// [`ReplyLetter::checked`].
    pub fn parse_lines(&self, text: &str) -> Result<ReplyLetter, LetterProblem> {
        let mut out = self.clone();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let Some((name, value)) = line.split_once(['：', ':']) else { return Err(LetterProblem::UnknownLine) };
            let field = match name.trim().to_lowercase().as_str() {
                "文号" | "number" => LetterField::Number,
                "标题" | "title" => LetterField::Title,
                "联系人" | "contact" => LetterField::Contact,
                "电话" | "联系电话" | "phone" => LetterField::Phone,
                _ => return Err(LetterProblem::UnknownLine),
            };
            let value = value.trim();
            *out.slot(field) = if value.is_empty() || value == "-" { None } else { Some(value.to_string()) };
        }
        out.checked()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_trimmed_and_checked() {
        let l = ReplyLetter::from_parts(" 浦教函〔2025〕12号 ", "", "王老师", "０２１－５０１２３４５６");
        let l = l.checked().unwrap();
        assert_eq!(l.number.as_deref(), Some("浦教函〔2025〕12号"));
        assert_eq!(l.title, None);
        assert_eq!(l.phone.as_deref(), Some("021-50123456"));
        assert!(ReplyLetter::default().checked().unwrap().is_empty());
    }

    #[test]
    fn bad_phones_and_long_fields_are_refused() {
        let phone = |p: &str| ReplyLetter { phone: Some(p.into()), ..Default::default() }.checked();
        assert_eq!(phone("请打办公室"), Err(LetterProblem::BadPhone));
        assert_eq!(phone("1234"), Err(LetterProblem::BadPhone));
        assert!(phone("021-5012 3456 转 801").is_ok());
        let long = ReplyLetter { title: Some("长".repeat(TITLE_MAX_CHARS + 1)), ..Default::default() };
        assert_eq!(long.checked(), Err(LetterProblem::TooLong(LetterField::Title)));
    }

    #[test]
    fn telegram_lines_fill_and_clear_fields() {
        let before = ReplyLetter { contact: Some("张三".into()), ..Default::default() };
        let l = before.parse_lines("文号：浦教函〔2025〕12号\n电话: 021-50123456\n联系人：-").unwrap();
        assert_eq!(l.number.as_deref(), Some("浦教函〔2025〕12号"));
        assert_eq!(l.phone.as_deref(), Some("021-50123456"));
        assert_eq!(l.contact, None);
        assert_eq!(before.parse_lines("随便写写"), Err(LetterProblem::UnknownLine));
    }
}
