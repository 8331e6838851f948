//! Importing the member roster from CSV: every row checked, every problem reported with its line.

use std::collections::HashMap;

use crate::bounds::{clip_visible, code_point, first_forbidden};
use crate::domain::{MemberLevel, MemberNo, parse_phone};
use crate::locale::{Lang, Texts};
use crate::store::RosterRow;

/// The columns, in English or Chinese header names.
const COLUMNS: [(&str, &str); 6] = [
    ("member_no", "委员编号"),
    ("name", "姓名"),
    ("level", "层级"),
    ("workstation", "工作站"),
    ("sector", "界别"),
    ("phone", "电话"),
];
/// Longest name, in characters: a Chinese name with an ethnic-minority or foreign transliteration
/// (e.g. 阿卜杜热合曼·买买提明) stays far below it.
pub const NAME_MAX_CHARS: usize = 50;
/// Longest workstation name (委员工作站), in characters: the 36 of the article are 4–12 long.
pub const WORKSTATION_MAX_CHARS: usize = 50;
/// Longest sector (界别) name, in characters: the CPPCC's 34 sectors are 2–10 long.
pub const SECTOR_MAX_CHARS: usize = 30;
/// Longest phone field as typed (spaces and dashes included), in characters; the number itself
/// is 5–20 digits (`domain::parse_phone`).
pub const PHONE_MAX_CHARS: usize = 30;
/// Longest value shown back in an error message, in characters.
const SHOWN_MAX_CHARS: usize = 40;

/// What is wrong with a roster file or one of its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    NotUtf8,
    Empty,
    MissingColumns(Vec<String>),
    Unreadable(String),
    BadMemberNo(String),
    EmptyName,
    /// A field longer than its limit: the column (`COLUMNS`' English name) and the limit.
    TooLong {
        column: &'static str,
        max: usize,
    },
    /// A control or text-direction character (`bounds::is_forbidden`) in a column.
    ForbiddenChar {
        column: &'static str,
        ch: char,
    },
    BadLevel(String),
    BadPhone(String),
    Duplicate {
        first_line: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line in the file; 0 for the file as a whole.
    pub line: u64,
    pub problem: Problem,
}

impl RowError {
    pub fn render(&self, texts: &Texts, lang: Lang) -> String {
        let column = |c: &str| texts.t(lang, &format!("roster.column.{c}"), &[]);
        let (key, value): (&str, String) = match &self.problem {
            Problem::TooLong { column: c, max } => {
                let problem = texts.t(lang, "roster.too_long", &[("column", &column(c)), ("max", max)]);
                return self.at_line(texts, lang, problem);
            }
            Problem::ForbiddenChar { column: c, ch } => {
                let problem =
                    texts.t(lang, "roster.forbidden_char", &[("column", &column(c)), ("code", &code_point(*ch))]);
                return self.at_line(texts, lang, problem);
            }
            Problem::NotUtf8 => ("roster.not_utf8", String::new()),
            Problem::Empty => ("roster.empty", String::new()),
            Problem::MissingColumns(cols) => ("roster.missing_columns", cols.join(", ")),
            Problem::Unreadable(e) => ("roster.unreadable", e.clone()),
            Problem::BadMemberNo(v) => ("roster.bad_member_no", v.clone()),
            Problem::EmptyName => ("roster.empty_name", String::new()),
            Problem::BadLevel(v) => ("roster.bad_level", v.clone()),
            Problem::BadPhone(v) => ("roster.bad_phone", v.clone()),
            Problem::Duplicate { first_line } => ("roster.duplicate", first_line.to_string()),
        };
        let value = clip_visible(&value, SHOWN_MAX_CHARS);
        let problem = texts.t(lang, key, &[("value", &value)]);
        self.at_line(texts, lang, problem)
    }

    fn at_line(&self, texts: &Texts, lang: Lang, problem: String) -> String {
        if self.line == 0 {
            problem
        } else {
            texts.t(lang, "roster.at_line", &[("line", &self.line), ("problem", &problem)])
        }
    }
}

/// The rows that passed and the problems found; a file-level problem leaves no rows.
#[derive(Debug, Default)]
pub struct Parsed {
    pub rows: Vec<RosterRow>,
    pub errors: Vec<RowError>,
}

pub fn parse(bytes: &[u8]) -> Parsed {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let file_error = |line, problem| Parsed { rows: Vec::new(), errors: vec![RowError { line, problem }] };
    if let Err(_e) = std::str::from_utf8(bytes) {
        // Say every line that is not UTF-8: a file saved from Excel as GBK usually fails on all of them.
        let errors: Vec<RowError> = bytes
            .split(|b| *b == b'\n')
            .enumerate()
            .filter(|(_, line)| std::str::from_utf8(line).is_err())
            .map(|(i, _)| RowError { line: i as u64 + 1, problem: Problem::NotUtf8 })
            .collect();
        return Parsed { rows: Vec::new(), errors };
    }
    // Excel on Windows writes CRLF; the csv crate counts lines wrongly with it, so normalise first.
    let text = String::from_utf8_lossy(bytes).replace("\r\n", "\n");
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) if h.iter().any(|c| !c.is_empty()) => h.clone(),
        Ok(_) => return file_error(0, Problem::Empty),
        Err(e) => return file_error(1, Problem::Unreadable(e.to_string())),
    };
    let mut index = HashMap::new();
    let mut missing = Vec::new();
    for (en, zh) in COLUMNS {
        match headers.iter().position(|h| h.eq_ignore_ascii_case(en) || h == zh) {
            Some(i) => {
                index.insert(en, i);
            }
            None => missing.push(en.to_string()),
        }
    }
    if !missing.is_empty() {
        return file_error(1, Problem::MissingColumns(missing));
    }
    let mut parsed = Parsed::default();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                parsed.errors.push(RowError { line, problem: Problem::Unreadable(e.to_string()) });
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.iter().all(str::is_empty) {
            continue;
        }
        let get = |col: &str| record.get(index[col]).unwrap_or("").to_string();
        let mut problems = Vec::new();
        // Control and text-direction characters first, in any column: such a row is refused
        // whatever else is right with it.
        for (column, _) in COLUMNS {
            if let Some(ch) = first_forbidden(&get(column)) {
                problems.push(Problem::ForbiddenChar { column, ch });
            }
        }
        if !problems.is_empty() {
            parsed.errors.extend(problems.into_iter().map(|problem| RowError { line, problem }));
            continue;
        }
        for (column, max) in [
            ("name", NAME_MAX_CHARS),
            ("workstation", WORKSTATION_MAX_CHARS),
            ("sector", SECTOR_MAX_CHARS),
            ("phone", PHONE_MAX_CHARS),
        ] {
            if get(column).chars().count() > max {
                problems.push(Problem::TooLong { column, max });
            }
        }
        let member_no = MemberNo::parse(&get("member_no"));
        if member_no.is_none() {
            problems.push(Problem::BadMemberNo(get("member_no")));
        }
        let name = get("name");
        if name.is_empty() {
            problems.push(Problem::EmptyName);
        }
        let level = MemberLevel::parse(&get("level"));
        if level.is_none() {
            problems.push(Problem::BadLevel(get("level")));
        }
        let raw_phone = get("phone");
        let phone = if raw_phone.is_empty() { Some(String::new()) } else { parse_phone(&raw_phone) };
        if phone.is_none() && raw_phone.chars().count() <= PHONE_MAX_CHARS {
            problems.push(Problem::BadPhone(raw_phone));
        }
        if let Some(no) = &member_no {
            if let Some(first_line) = seen.get(no.as_str()) {
                problems.push(Problem::Duplicate { first_line: *first_line });
            } else {
                seen.insert(no.as_str().to_string(), line);
            }
        }
        match (member_no, level, phone, problems.is_empty()) {
            (Some(member_no), Some(level), Some(phone), true) => {
                let workstation = get("workstation");
                parsed.rows.push(RosterRow {
                    member_no,
                    name,
                    level,
                    workstation: (!workstation.is_empty()).then_some(workstation),
                    sector: get("sector"),
                    phone,
                });
            }
            _ => parsed.errors.extend(problems.into_iter().map(|problem| RowError { line, problem })),
        }
    }
    if parsed.rows.is_empty() && parsed.errors.is_empty() {
        parsed.errors.push(RowError { line: 0, problem: Problem::Empty });
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "member_no,name,level,workstation,sector,phone\n";

    #[test]
    fn a_good_file_with_bom_parses() {
        let text = format!("\u{FEFF}{HEADER}PD001,张三,区,陆家嘴街道,经济界,13800138000\nPD002,李四,街镇,,,\n");
        let p = parse(text.as_bytes());
        assert_eq!(p.errors, vec![]);
        assert_eq!(p.rows.len(), 2);
        assert_eq!(p.rows[0].workstation.as_deref(), Some("陆家嘴街道"));
        assert_eq!(p.rows[1].workstation, None);
        assert_eq!(p.rows[1].level, MemberLevel::Street);
    }

    #[test]
    fn chinese_headers_are_accepted() {
        let p = parse("委员编号,姓名,层级,工作站,界别,电话\nPD001,张三,市,,,\n".as_bytes());
        assert_eq!(p.errors, vec![]);
        assert_eq!(p.rows.len(), 1);
    }

    #[test]
    fn gbk_is_reported_per_line() {
        // "张三" in GBK.
        let mut bytes = HEADER.as_bytes().to_vec();
        bytes.extend_from_slice(b"PD001,\xD5\xC5\xC8\xFD,\xC7\xF8,,,\n");
        let p = parse(&bytes);
        assert!(p.rows.is_empty());
        assert_eq!(p.errors, vec![RowError { line: 2, problem: Problem::NotUtf8 }]);
    }

    #[test]
    fn missing_columns_are_named() {
        let p = parse("member_no,name\nPD001,张三\n".as_bytes());
        assert_eq!(
            p.errors,
            vec![RowError {
                line: 1,
                problem: Problem::MissingColumns(vec![
                    "level".into(),
                    "workstation".into(),
                    "sector".into(),
                    "phone".into()
                ])
            }]
        );
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let text = format!("{HEADER}PD001,张三,区,,,\nPD001,王五,区,,,\nPD 3,,省,,,phone\nPD004,赵六,市,,,\n");
        let p = parse(text.as_bytes());
        assert_eq!(p.rows.len(), 2, "{:?}", p.rows);
        assert_eq!(
            p.errors,
            vec![
                RowError { line: 3, problem: Problem::Duplicate { first_line: 2 } },
                RowError { line: 4, problem: Problem::BadMemberNo("PD 3".into()) },
                RowError { line: 4, problem: Problem::EmptyName },
                RowError { line: 4, problem: Problem::BadLevel("省".into()) },
                RowError { line: 4, problem: Problem::BadPhone("phone".into()) },
            ]
        );
        let texts = Texts::built_in();
        let shown = p.errors[3].render(&texts, Lang::Zh);
        assert!(shown.contains('4') && shown.contains("省"), "{shown}");
    }

    #[test]
    fn control_and_direction_characters_and_long_fields_are_refused_with_row_and_column() {
        let long_name = "张".repeat(NAME_MAX_CHARS + 1);
        let long_sector = "界".repeat(SECTOR_MAX_CHARS + 1);
        let long_ws = "站".repeat(WORKSTATION_MAX_CHARS + 1);
        let text = format!(
            "{HEADER}PD001,张\u{202E}三,区,,,\nPD002,李四\0,区,,,\nPD003,{long_name},区,{long_ws},{long_sector},{}\nPD004,王五,区,,,\n",
            "1".repeat(PHONE_MAX_CHARS + 1)
        );
        let p = parse(text.as_bytes());
        assert_eq!(p.rows.len(), 1, "only the clean row: {:?}", p.rows);
        assert_eq!(
            p.errors,
            vec![
                RowError { line: 2, problem: Problem::ForbiddenChar { column: "name", ch: '\u{202E}' } },
                RowError { line: 3, problem: Problem::ForbiddenChar { column: "name", ch: '\0' } },
                RowError { line: 4, problem: Problem::TooLong { column: "name", max: NAME_MAX_CHARS } },
                RowError { line: 4, problem: Problem::TooLong { column: "workstation", max: WORKSTATION_MAX_CHARS } },
                RowError { line: 4, problem: Problem::TooLong { column: "sector", max: SECTOR_MAX_CHARS } },
                RowError { line: 4, problem: Problem::TooLong { column: "phone", max: PHONE_MAX_CHARS } },
            ]
        );
        let texts = Texts::built_in();
        let shown = p.errors[0].render(&texts, Lang::Zh);
        assert!(shown.contains('2') && shown.contains("姓名") && shown.contains("U+202E"), "{shown}");
        assert!(!shown.contains('\u{202E}'), "the character itself is not printed: {shown}");
        let shown = p.errors[4].render(&texts, Lang::Zh);
        assert!(shown.contains('4') && shown.contains("界别") && shown.contains("30"), "{shown}");
    }

    #[test]
    fn an_empty_file_is_an_error() {
        assert_eq!(parse(b"").errors[0].problem, Problem::Empty);
        assert_eq!(parse(HEADER.as_bytes()).errors[0].problem, Problem::Empty);
    }
}
