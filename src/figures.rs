//! Annual figures (年度统计): what a committee publishes at the end of a year, counted from the
//! suggestions of that year, and written out as a page section's numbers, a sentence and an XLSX.
//!
//! What is counted (from `ReportStore::figure_rows`; withdrawn suggestions and test members'
//! never are):
//! - suggestions (篇) and their points (条);
//! - accepted (立案): accepted, whatever happened after;
//! - assigned (交办): with a lead department;
//! - answered (已答复): with at least one reply; on time (按期): the first reply came by the
//!   deadline of that department's first lead assignment;
//! - 落实情况: the answered ones by the class (答复分类, `workflow.reply_classes`) of their latest
//!   reply, each as a share of the answered ones;
//! - 满意度: the latest rating of each rated one; 满意率 = (满意 + 基本满意) / rated;
//! - adopted (采纳).
//!
//! Shares are whole percents, rounded half up, as committees print them ("占84%").

use crate::config::ReplyClass;
use crate::domain::SuggestionState;
use crate::locale::{Lang, Texts};
use crate::store::reports::FigureRow;

/// One year's figures (see the module's header for what each counts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnnualFigures {
    pub suggestions: i64,
    pub points: i64,
    pub accepted: i64,
    pub assigned: i64,
    pub answered: i64,
    pub answered_on_time: i64,
    /// Each configured reply class, in order, with the answered suggestions whose latest reply
    /// has it.
    pub classes: Vec<(ReplyClass, i64)>,
    /// Answered suggestions whose latest reply has a class no longer configured.
    pub other_class: i64,
    pub satisfied: i64,
    pub basically_satisfied: i64,
    pub dissatisfied: i64,
    pub adopted: i64,
}

impl AnnualFigures {
    /// Suggestions the member rated.
    pub fn rated(&self) -> i64 {
        self.satisfied + self.basically_satisfied + self.dissatisfied
    }

    /// 满意率: (满意 + 基本满意) / rated, as a whole percent; `None` when nothing was rated.
    pub fn satisfaction_rate(&self) -> Option<i64> {
        percent(self.satisfied + self.basically_satisfied, self.rated())
    }
}

/// `part` of `whole` as a whole percent, rounded half up; `None` when `whole` is 0.
pub fn percent(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| (200 * part + whole) / (2 * whole))
}

/// The figures of `rows`, with the reply classes configured (`workflow.reply_classes`).
pub fn compute(rows: &[FigureRow], classes: &[ReplyClass]) -> AnnualFigures {
    use SuggestionState::*;
    let mut f = AnnualFigures { classes: classes.iter().map(|c| (c.clone(), 0)).collect(), ..Default::default() };
    for r in rows {
        f.suggestions += 1;
        f.points += r.points;
        if matches!(r.state, Accepted | Assigned | InProgress | Replied | Reopened | Closed) {
            f.accepted += 1;
        }
        f.assigned += i64::from(r.assigned);
        f.adopted += i64::from(r.adopted);
        if let Some(at) = r.first_reply_at {
            f.answered += 1;
            if r.first_reply_due.is_some_and(|due| at <= due) {
                f.answered_on_time += 1;
            }
            match r.reply_class.as_deref().and_then(|code| f.classes.iter_mut().find(|(c, _)| c.code == code)) {
                Some((_, n)) => *n += 1,
                None => f.other_class += 1,
            }
        }
        match r.rating.as_deref() {
            Some("satisfied") => f.satisfied += 1,
            Some("basically_satisfied") => f.basically_satisfied += 1,
            Some("dissatisfied") => f.dissatisfied += 1,
            _ => {}
        }
    }
    f
}

/// A share as printed: `84%`, or `—` when there is nothing to divide by.
fn share(part: i64, whole: i64) -> String {
    percent(part, whole).map_or_else(|| "—".to_string(), |p| format!("{p}%"))
}

/// The figures phrased as committees publish them ("已答复…件；A类（已解决或基本解决/采纳）122件，
/// 占84%；…；满意率100%"), in `lang`, from the locale's `figures.*` texts.
pub fn summary(texts: &Texts, lang: Lang, f: &AnnualFigures) -> String {
    let t = |key: &str, args: &[(&str, &dyn std::fmt::Display)]| texts.t(lang, key, args);
    let mut parts = vec![t(
        "figures.sentence_intake",
        &[
            ("suggestions", &f.suggestions),
            ("points", &f.points),
            ("accepted", &f.accepted),
            ("assigned", &f.assigned),
            ("answered", &f.answered),
            ("on_time", &f.answered_on_time),
            ("on_time_share", &share(f.answered_on_time, f.answered)),
        ],
    )];
    if f.answered > 0 {
        let classes: Vec<String> = f
            .classes
            .iter()
            .map(|(c, n)| {
                t(
                    "figures.sentence_class",
                    &[("code", &c.code), ("label", &c.label), ("count", n), ("share", &share(*n, f.answered))],
                )
            })
            .collect();
        parts.push(classes.join(t("figures.sentence_join", &[]).as_str()));
    }
    if f.rated() > 0 {
        parts.push(t(
            "figures.sentence_rating",
            &[
                ("satisfied", &f.satisfied),
                ("basically", &f.basically_satisfied),
                ("dissatisfied", &f.dissatisfied),
                ("rate", &share(f.satisfied + f.basically_satisfied, f.rated())),
            ],
        ));
    }
    parts.push(t("figures.sentence_adopted", &[("adopted", &f.adopted)]));
    parts.join(t("figures.sentence_join", &[]).as_str()) + &t("figures.sentence_end", &[])
}

/// The figures as table rows: a label, a count and a share (empty where none applies), in the
/// order the page and the XLSX show them.
pub fn table(texts: &Texts, lang: Lang, f: &AnnualFigures) -> Vec<(String, i64, String)> {
    let t = |key: &str| texts.t(lang, key, &[]);
    let mut rows = vec![
        (t("figures.row_suggestions"), f.suggestions, String::new()),
        (t("figures.row_points"), f.points, String::new()),
        (t("figures.row_accepted"), f.accepted, share(f.accepted, f.suggestions)),
        (t("figures.row_assigned"), f.assigned, share(f.assigned, f.accepted)),
        (t("figures.row_answered"), f.answered, share(f.answered, f.assigned)),
        (t("figures.row_on_time"), f.answered_on_time, share(f.answered_on_time, f.answered)),
    ];
    for (c, n) in &f.classes {
        let label = texts.t(lang, "figures.row_class", &[("code", &c.code), ("label", &c.label)]);
        rows.push((label, *n, share(*n, f.answered)));
    }
    if f.other_class > 0 {
        rows.push((t("figures.row_other_class"), f.other_class, share(f.other_class, f.answered)));
    }
    rows.extend([
        (t("figures.row_rated"), f.rated(), String::new()),
        (t("figures.row_satisfied"), f.satisfied, share(f.satisfied, f.rated())),
        (t("figures.row_basically"), f.basically_satisfied, share(f.basically_satisfied, f.rated())),
        (t("figures.row_dissatisfied"), f.dissatisfied, share(f.dissatisfied, f.rated())),
        (
            t("figures.row_satisfaction"),
            f.satisfied + f.basically_satisfied,
            share(f.satisfied + f.basically_satisfied, f.rated()),
        ),
        (t("figures.row_adopted"), f.adopted, share(f.adopted, f.accepted)),
    ]);
    rows
}

/// An XLSX workbook of the figures: a title row (`title`, e.g. "2025年度建言办理情况统计"), the
/// column headers (指标, 数量, 占比), the table's rows with counts as numbers, and the sentence
/// under it. Text cells are never formulas.
pub fn xlsx(texts: &Texts, lang: Lang, title: &str, f: &AnnualFigures) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let t = |key: &str| texts.t(lang, key, &[]);
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(t("figures.sheet_name"))?;
    let bold = Format::new().set_bold();
    sheet.write_string_with_format(0, 0, title, &bold)?;
    for (c, key) in ["figures.col_item", "figures.col_count", "figures.col_share"].into_iter().enumerate() {
        sheet.write_string_with_format(1, c as u16, t(key), &bold)?;
    }
    let rows = table(texts, lang, f);
    for (i, (label, n, share)) in rows.iter().enumerate() {
        let r = i as u32 + 2;
        sheet.write_string(r, 0, label)?;
        sheet.write_number(r, 1, *n as f64)?;
        if !share.is_empty() {
            sheet.write_string(r, 2, share)?;
        }
    }
    let last = rows.len() as u32 + 3;
    sheet.write_string(last, 0, summary(texts, lang, f))?;
    sheet.set_column_width(0, 36)?;
    sheet.set_column_width(1, 10)?;
    sheet.set_column_width(2, 10)?;
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn classes() -> Vec<ReplyClass> {
        ["A:已解决或基本解决/采纳", "B:正在解决或列入计划", "C:因条件限制暂时不能解决", "D:留作参考"]
            .iter()
            .map(|c| {
                let (code, label) = c.split_once(':').unwrap();
                ReplyClass { code: code.into(), label: label.into() }
            })
            .collect()
    }

    fn row(state: SuggestionState) -> FigureRow {
        FigureRow {
            suggestion_id: 1,
            state,
            points: 2,
            adopted: false,
            assigned: false,
            first_reply_at: None,
            first_reply_due: None,
            reply_class: None,
            rating: None,
        }
    }

    #[test]
    fn percents_round_half_up_and_nothing_to_divide_by_is_none() {
        assert_eq!(percent(122, 145), Some(84));
        assert_eq!(percent(1, 8), Some(13), "12.5% prints as 13%");
        assert_eq!(percent(1, 3), Some(33));
        assert_eq!(percent(2, 3), Some(67));
        assert_eq!(percent(5, 5), Some(100));
        assert_eq!(percent(0, 0), None);
    }

    #[test]
    fn each_suggestion_counts_where_it_stands() {
        use SuggestionState::*;
        let day = |d| Utc.with_ymd_and_hms(2025, 6, d, 0, 0, 0).unwrap();
        let answered = |class: &str, on_time: bool, rating: Option<&str>| FigureRow {
            assigned: true,
            first_reply_at: Some(day(10)),
            first_reply_due: Some(if on_time { day(20) } else { day(5) }),
            reply_class: Some(class.into()),
            rating: rating.map(String::from),
            ..row(Closed)
        };
        let rows = vec![
            row(Submitted),
            row(NotAccepted),
            FigureRow { adopted: true, ..row(Accepted) },
            FigureRow { assigned: true, ..row(InProgress) },
            answered("A", true, Some("satisfied")),
            answered("A", false, Some("basically_satisfied")),
            answered("B", true, Some("dissatisfied")),
            FigureRow { adopted: true, ..answered("Z", true, None) },
        ];
        let f = compute(&rows, &classes());
        assert_eq!((f.suggestions, f.points, f.accepted, f.assigned), (8, 16, 6, 5));
        assert_eq!((f.answered, f.answered_on_time, f.adopted), (4, 3, 2));
        let counts: Vec<i64> = f.classes.iter().map(|(_, n)| *n).collect();
        assert_eq!((counts, f.other_class), (vec![2, 1, 0, 0], 1));
        assert_eq!((f.satisfied, f.basically_satisfied, f.dissatisfied, f.rated()), (1, 1, 1, 3));
        assert_eq!(f.satisfaction_rate(), Some(67));
    }
}
