//! Domain types, parsed once from outside input and trusted everywhere after.

use std::fmt;

use serde::{Deserialize, Serialize};

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
        Replied => "已答复", "replied";
        Reopened => "重新办理", "reopened";
        Closed => "办结", "closed";
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

    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.trim().split('-');
        let (prefix, year, seq) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_uppercase()) {
            return None;
        }
        if year.len() != 4 || seq.len() < 4 || !seq.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        Some(Self { prefix: prefix.to_string(), year: year.parse().ok()?, seq: seq.parse().ok().filter(|n| *n > 0)? })
    }
}

impl fmt::Display for ReferenceNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{:04}", self.prefix, self.year, self.seq)
    }
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
        for bad in ["PD-2025-42", "pd-2025-0042", "PD-25-0042", "PD-2025-0000", "PD-2025-0042-1", ""] {
            assert_eq!(ReferenceNo::parse(bad), None, "{bad}");
        }
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
