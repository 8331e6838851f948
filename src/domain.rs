//! Domain types, parsed once from outside input and trusted everywhere after.

use std::fmt;

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// Text as people type identifiers (invite codes, reference numbers) on any keyboard, folded for
/// machine reading: `fold_width`, then ASCII letters in upper case.
pub fn fold_typed(s: &str) -> String {
    fold_width(s).to_ascii_uppercase()
}

/// Unicode NFKC (full-width letters and digits become ASCII, `：` becomes `:`, the ideographic
/// space a space), every dash, hyphen, minus or underscore becomes `-`, and each run of white
/// space one space; the case is kept. Not for text that is stored: NFKC also turns Chinese
/// punctuation (`，`) into ASCII.
pub fn fold_width(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfkc() {
        let c = match c {
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{2E3A}' | '\u{2E3B}' | '\u{30FC}' | '_' => '-',
            c if c.is_whitespace() => ' ',
            c => c,
        };
        if !(c == ' ' && out.ends_with(' ')) {
            out.push(c);
        }
    }
    out
}

macro_rules! labelled_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $label:literal, $code:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The Chinese name, as stored in the database and shown to people.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// A short ASCII code, for callback data and locale keys.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// Parses the Chinese name or the code.
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| v.label() == s || v.code() == s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

/// A member's rating of a department's reply (满意 / 基本满意 close it, 不满意 reopens it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Satisfied,
    BasicallySatisfied,
    Dissatisfied,
}

/// Who a broadcast goes to, by kind (all members, a level, a workstation, a sector).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudienceKind {
    All,
    Level,
    Workstation,
    Sector,
}

/// What can be done to a suggestion (who may, and in which state: `workflow::permissions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Act {
    View,
    Accept,
    Reject,
    Merge,
    Assign,
    Instruct,
    Adopt,
    Acknowledge,
    Return,
    Reply,
    CoOpinion,
    Rate,
    Withdraw,
    /// Staff record a rating a member gave by phone, on paper or in person (代为评价).
    RecordRating,
    /// 督办: staff pass a department's reply on to the member as it is.
    ApproveReply,
    /// 督办: staff pass a reply on with another reply class (and a reason).
    ReclassifyReply,
    /// 督办: staff send a reply back to the department with a note.
    ReturnReply,
    /// 会签: a co-department agrees with the lead's draft reply.
    Countersign,
    /// 会签: a co-department proposes changes to the lead's draft reply.
    ProposeChanges,
    /// 会签: the lead department sends its countersigned draft on.
    SendOn,
    /// An invited member answers an invitation to co-sign (同意联名 / 不同意).
    Cosign,
    /// A co-signer rates the latest reply (recorded; the lead member's rating decides the state).
    CoRate,
    /// A member co-signs (联名) another member's suggestion on the topic of their own draft, instead
    /// of filing theirs (`Command::JoinCosign`).
    JoinCosign,
    /// Mark a suggestion key (重点建言) with its supervising leader, or unmark it.
    Key,
}

labelled_enum! {
    /// The four classes of consultation topic.
    TopicClass {
        Plan => "规划计划类", "plan";
        MajorDecision => "重大工作决策类", "decision";
        Livelihood => "民生实事类", "livelihood";
        Legislation => "立法类", "legislation";
    }
}

labelled_enum! {
    /// What kind of output a suggestion is.
    SuggestionKind {
        Advice => "建言资政", "advice";
        PublicOpinion => "社情民意信息", "opinion";
        Research => "议政调研", "research";
        Inspection => "视察", "inspection";
    }
}

labelled_enum! {
    /// The level at which a member sits on the committee.
    MemberLevel {
        City => "市", "city";
        District => "区", "district";
        Street => "街镇", "street";
    }
}

labelled_enum! {
    /// Where a suggestion is in its life (see shared/domain.md).
    SuggestionState {
        Submitted => "已提交", "submitted";
        Accepted => "已受理", "accepted";
        NotAccepted => "不予受理", "not_accepted";
        Merged => "已并案", "merged";
        Withdrawn => "已撤回", "withdrawn";
        Assigned => "已交办", "assigned";
        InProgress => "办理中", "in_progress";
        Countersigning => "会签中", "countersigning";
        ReplyReview => "答复待审", "reply_review";
        Replied => "已答复", "replied";
        Reopened => "重新办理", "reopened";
        Closed => "办结", "closed";
    }
}

impl SuggestionState {
    /// The state as the member is shown it: a reply being countersigned (会签) or reviewed by
    /// staff (督办) is still 办理中 to the member, who hears of the reply only once it is approved
    /// (issue 12, part 2).
    pub fn as_member_sees(self) -> Self {
        match self {
            Self::Countersigning | Self::ReplyReview => Self::InProgress,
            other => other,
        }
    }
}

labelled_enum! {
    /// How something a member said reached staff who entered it for them (代为提交 / 代为评价):
    /// stored by its code; shown with the locale's `entry_channel.<code>`.
    EntryChannel {
        Phone => "电话", "phone";
        Paper => "书面", "paper";
        InPerson => "当面", "in_person";
        Other => "其他", "other";
    }
}

labelled_enum! {
    /// Whether members can answer a topic.
    TopicStatus {
        Draft => "草稿", "draft";
        Open => "征集中", "open";
        Closed => "已结束", "closed";
    }
}

/// A member number from the roster: 1–32 letters, digits, `-` or `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MemberNo(String);

impl MemberNo {
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let ok = !s.is_empty() && s.len() <= 32 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        ok.then(|| Self(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MemberNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A suggestion's reference number: `PREFIX-YYYY-NNNN`, sequential per year.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReferenceNo {
    pub prefix: String,
    pub year: i32,
    pub seq: i64,
}

impl ReferenceNo {
    pub fn new(prefix: &str, year: i32, seq: i64) -> Self {
        Self { prefix: prefix.to_string(), year, seq }
    }

    /// A reference number typed on its own, as people type it: `PD-2025-0042`, in any case, in
    /// full-width letters and digits, with spaces or any dash between the parts (`pd－2025－0042`,
    /// `PD 2025 0042`) or none (`PD20250042`). The prefix is 1–10 letters, the year 4 digits, the
    /// number at least 4 digits and not 0. `None` if the input is anything more or less than one.
    pub fn parse(s: &str) -> Option<Self> {
        static EXACT: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^([A-Z]{1,10}) ?-? ?([0-9]{4}) ?-? ?([0-9]{4,9})$").expect("a valid pattern")
        });
        let folded = fold_typed(s);
        Self::from_captures(&EXACT.captures(folded.trim())?)
    }

    /// The first reference number in a sentence (`编号：PD-2026-0001`, `请并入 pd 2026 0001 谢谢`),
    /// read as `parse` reads one; a run of letters or digits touching it makes it not one.
    pub fn find(text: &str) -> Option<Self> {
        static IN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"(?:^|[^A-Z0-9])([A-Z]{1,10}) ?-? ?([0-9]{4}) ?-? ?([0-9]{4,9})(?:$|[^A-Z0-9])")
                .expect("a valid pattern")
        });
        let folded = fold_typed(text);
        IN_TEXT.captures_iter(&folded).find_map(|c| Self::from_captures(&c))
    }

    fn from_captures(c: &regex::Captures<'_>) -> Option<Self> {
        let seq = c[3].parse().ok().filter(|n| *n > 0)?;
        Some(Self { prefix: c[1].to_string(), year: c[2].parse().ok()?, seq })
    }
}

impl fmt::Display for ReferenceNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{:04}", self.prefix, self.year, self.seq)
    }
}

/// One point (条) of a suggestion, without the number the member may have typed before it.
///
/// Members number their points as they would on paper: `1.`, `1、`, `1）`, `（1）`, `(1)`, `①`,
/// `⑴`, `一、`, `（一）`, `第一条：`, `第1点 `, `一是…`. The suggestion numbers its points itself (the
/// preview, the console and the exports show `1. …`), so the member's own number is left out of
/// the stored text; the message as typed is kept on the timeline. A number that is part of the
/// text stays: `1.5亿元…`, `3:00…`, `1、2号线…`, `2025年…`, `第一批…`, `第二条建议…`, `一方面…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point(String);

impl Point {
    /// The text of one point: trimmed, and without a leading number (kept when nothing follows it).
    pub fn parse(s: &str) -> Self {
        let s = s.trim();
        Self(strip_point_number(s).unwrap_or(s).to_string())
    }

    /// The points in one message. A message with two or more lines that each begin with a number
    /// (`1.…\n2.…`) holds one point per numbered line, with the lines that follow it; text before
    /// the first number is a point of its own, so nothing typed is lost. Any other message is one
    /// point. Blank points are left out, so an empty message gives none.
    pub fn split(message: &str) -> Vec<Self> {
        let numbered = message.lines().filter(|l| strip_point_number(l.trim()).is_some()).count();
        if numbered < 2 {
            let point = Self::parse(message);
            return if point.0.is_empty() { Vec::new() } else { vec![point] };
        }
        let mut parts: Vec<String> = Vec::new();
        let mut current = String::new();
        for line in message.lines() {
            if strip_point_number(line.trim()).is_some() && !current.trim().is_empty() {
                parts.push(std::mem::take(&mut current));
            }
            current.push_str(line);
            current.push('\n');
        }
        parts.push(current);
        parts.iter().map(|p| Self::parse(p)).filter(|p| !p.0.is_empty()).collect()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// What follows a leading point number, or `None` if `s` does not begin with one (or nothing
/// follows it).
fn strip_point_number(s: &str) -> Option<&str> {
    const NUMERALS: &str = "[一二三四五六七八九十]{1,3}";
    const DIGITS: &str = "[0-9０-９]{1,2}";
    const STOPS: &str = "[、,，.．:：;；]";
    static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
        let arabic = format!("(?P<arabic>{DIGITS}(?:{STOPS}|[)）]))");
        let bracketed = format!("[(（〔【](?:{DIGITS}|{NUMERALS})[)）〕】]{STOPS}?");
        // ①–⒛ (circled, bracketed, with a full stop), ❶–➓, ㈠–㈩.
        let symbol = format!(r"[\x{{2460}}-\x{{249B}}\x{{2776}}-\x{{2793}}\x{{3220}}-\x{{3229}}]{STOPS}?");
        let chinese = format!("{NUMERALS}(?:{STOPS}|是)");
        // `第一条：…`, `第一条 …`, `第一，…`; not `第二条建议…`, where the words run on.
        let ordinal = format!(r"第(?:{DIGITS}|{NUMERALS})(?:[条点项](?:{STOPS}|\s)|{STOPS})");
        Regex::new(&format!(r"^(?:{arabic}|{bracketed}|{symbol}|{chinese}|{ordinal})\s*")).expect("a valid pattern")
    });
    let m = NUMBER.captures(s)?;
    let rest = s[m.get(0)?.end()..].trim_start();
    // `1.5亿`, `3:00`, `1、2号线`: the digits belong to the text.
    if m.name("arabic").is_some() && rest.starts_with(|c: char| c.is_ascii_digit() || ('０'..='９').contains(&c)) {
        return None;
    }
    (!rest.is_empty()).then_some(rest)
}

/// A phone number as the roster gives it: digits with an optional leading `+`, 5–20 long.
pub fn parse_phone(s: &str) -> Option<String> {
    let s: String = s.trim().chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let digits = s.strip_prefix('+').unwrap_or(&s);
    (digits.len() >= 5 && digits.len() <= 20 && digits.chars().all(|c| c.is_ascii_digit())).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_codes_round_trip() {
        for c in TopicClass::ALL {
            assert_eq!(TopicClass::parse(c.label()), Some(*c));
            assert_eq!(TopicClass::parse(c.code()), Some(*c));
        }
        assert_eq!(MemberLevel::parse("街镇"), Some(MemberLevel::Street));
        assert_eq!(MemberLevel::parse("省"), None);
        assert_eq!(SuggestionKind::parse(" 社情民意信息 "), Some(SuggestionKind::PublicOpinion));
    }

    #[test]
    fn reference_numbers() {
        let r = ReferenceNo::new("PD", 2025, 42);
        assert_eq!(r.to_string(), "PD-2025-0042");
        assert_eq!(ReferenceNo::parse("PD-2025-0042"), Some(r));
        assert_eq!(ReferenceNo::parse("PD-2025-12345").unwrap().seq, 12345);
        for bad in ["PD-2025-42", "PD-25-0042", "PD-2025-0000", "PD-2025-0042-1", "", "编号：PD-2025-0042", "PD-2025"]
        {
            assert_eq!(ReferenceNo::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn reference_numbers_as_people_type_them() {
        let r = ReferenceNo::new("PD", 2026, 1);
        for typed in [
            "PD-2026-0001",
            "pd-2026-0001",
            " pd－2026－0001 ",
            "ＰＤ－２０２６－０００１",
            "PD 2026 0001",
            "PD\u{3000}2026\u{3000}0001",
            "PD—2026—0001",
            "PD–2026–0001",
            "PD‐2026‐0001",
            "PD_2026_0001",
            "PD20260001",
            "Pd - 2026 - 0001",
        ] {
            assert_eq!(ReferenceNo::parse(typed).as_ref(), Some(&r), "{typed:?}");
            assert_eq!(ReferenceNo::find(typed).as_ref(), Some(&r), "{typed:?}");
        }
        for sentence in [
            "编号：PD-2026-0001",
            "编号PD-2026-0001",
            "请并入 pd 2026 0001 谢谢",
            "并入（PD－2026－0001）",
            "see pd-2026-0001.",
        ] {
            assert_eq!(ReferenceNo::find(sentence).as_ref(), Some(&r), "{sentence:?}");
            assert_eq!(ReferenceNo::parse(sentence), None, "{sentence:?} is more than a reference number");
        }
        for none in ["你好", "2026年第1号", "PD-2026-0000", "XPD2026000123456789", "电话 13800138000", "PD-26-1"]
        {
            assert_eq!(ReferenceNo::find(none), None, "{none:?}");
        }
    }

    #[test]
    fn points_lose_the_number_the_member_typed() {
        for typed in [
            "1.加装电梯",
            "1. 加装电梯",
            "1．加装电梯",
            "1、加装电梯",
            "1，加装电梯",
            "1）加装电梯",
            "1)加装电梯",
            "（1）加装电梯",
            "(1) 加装电梯",
            "【1】加装电梯",
            "①加装电梯",
            "① 加装电梯",
            "⑴加装电梯",
            "⒈加装电梯",
            "❶加装电梯",
            "㈠加装电梯",
            "一、加装电梯",
            "十二、加装电梯",
            "（一）加装电梯",
            "第一条 加装电梯",
            "第一条：加装电梯",
            "第一，加装电梯",
            "第1点、加装电梯",
            "一是加装电梯",
            "１２．加装电梯",
            "  3、 加装电梯  ",
        ] {
            assert_eq!(Point::parse(typed).as_str(), "加装电梯", "{typed:?}");
        }
        for kept in [
            "1.5亿元用于加装电梯",
            "3:00以后停车难",
            "1、2号线换乘不便",
            "2025年加装电梯",
            "第一批试点小区",
            "第二条建议",
            "第三点很重要",
            "一方面要加装电梯",
            "10%的小区没有电梯",
            "加装电梯",
            "1.",
            "①",
        ] {
            assert_eq!(Point::parse(kept).as_str(), kept, "{kept:?}");
        }
    }

    #[test]
    fn a_message_of_numbered_lines_is_several_points() {
        let texts = |m: &str| Point::split(m).into_iter().map(Point::into_string).collect::<Vec<_>>();
        assert_eq!(texts("1.加装电梯\n2.增设停车位"), ["加装电梯", "增设停车位"]);
        assert_eq!(
            texts("一、加装电梯\r\n二、增设停车位\r\n三、改造雨污管网"),
            ["加装电梯", "增设停车位", "改造雨污管网"]
        );
        assert_eq!(texts("①加装电梯\n资金由区里出\n\n②增设停车位"), ["加装电梯\n资金由区里出", "增设停车位"]);
        assert_eq!(texts("建议如下：\n（1）加装电梯\n（2）增设停车位"), ["建议如下：", "加装电梯", "增设停车位"]);
        // One numbered line, or none, is one point (its number left out).
        assert_eq!(texts("1.加装电梯\n资金由区里出"), ["加装电梯\n资金由区里出"]);
        assert_eq!(texts("加装电梯\n2025年完成"), ["加装电梯\n2025年完成"]);
        assert_eq!(texts("  "), Vec::<String>::new());
    }

    #[test]
    fn member_numbers_and_phones() {
        assert!(MemberNo::parse("PD-0001").is_some());
        assert!(MemberNo::parse("编号1").is_none());
        assert!(MemberNo::parse("").is_none());
        assert_eq!(parse_phone("138-0013-8000").as_deref(), Some("13800138000"));
        assert_eq!(parse_phone("phone"), None);
    }
}
