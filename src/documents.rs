//! Print-ready Word files (DOCX) in the committee's layout: a suggestion, a department's reply
//! letter (答复函), and a compilation (汇编) of suggestions with a table of contents.
//!
//! Plain functions from what the store holds to the bytes of a `.docx` (written with docx-rs); the
//! console and the API only gather the data and send the file. The layout follows the usual
//! practice of Chinese offices for official documents (GB/T 9704-2012, 党政机关公文格式):
//! - A4 paper; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm.
//! - Titles in 方正小标宋简体 二号 (22 pt), centred; headings in 黑体 三号; body in 仿宋_GB2312
//!   三号 (16 pt) with a two-character first-line indent and a fixed 29 pt line (about 22 lines a
//!   page). Chinese font names are set as the East Asian font (`w:eastAsia`), which is what Word
//!   and WPS use for Chinese text; digits and Latin letters are in Times New Roman.
//! - The page number in the footer, centred, as `— 1 —` in 宋体 四号.
//!
//! Every label a reader sees comes from the locale files (`documents.*`).

use chrono::NaiveDate;
use docx_rs::{
    AlignmentType, Docx, FieldCharType, Footer, InstrPAGE, InstrText, LineSpacing, LineSpacingType, PageMargin,
    Paragraph, Run, RunFonts, SpecialIndentType, Style, StyleType, TableOfContents, TableOfContentsItem,
};

use crate::letter::ReplyLetter;
use crate::locale::{Lang, Texts};

/// The MIME type of what these functions return.
pub const DOCX_MIME: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// Twentieths of a point per millimetre (1 inch = 25.4 mm = 1440 twips).
const TWIPS_PER_MM: f64 = 1440.0 / 25.4;
/// A4 in twips (210 × 297 mm).
pub const A4_TWIPS: (u32, u32) = (11906, 16838);
/// GB/T 9704 margins in millimetres: top, bottom, left, right.
pub const MARGINS_MM: (f64, f64, f64, f64) = (37.0, 35.0, 28.0, 26.0);

/// The title font (方正小标宋简体); offices without it see 宋体 in its place.
pub const TITLE_FONT: &str = "方正小标宋简体";
/// The heading font.
pub const HEADING_FONT: &str = "黑体";
/// The body font.
pub const BODY_FONT: &str = "仿宋_GB2312";
/// The page number's font.
const PAGE_NUMBER_FONT: &str = "宋体";
/// Digits and Latin letters.
const LATIN_FONT: &str = "Times New Roman";

/// Sizes in half-points: 二号 22 pt, 三号 16 pt, 四号 14 pt.
const SIZE_ERHAO: usize = 44;
const SIZE_SANHAO: usize = 32;
const SIZE_SIHAO: usize = 28;
/// The fixed line height of body text, in twips (29 pt).
const LINE_TWIPS: i32 = 580;

/// The paragraph style of a suggestion's heading in a compilation: what the table of contents lists.
const HEADING_STYLE: &str = "Heading1";

/// A suggestion as printed.
#[derive(Debug, Clone, PartialEq)]
pub struct SuggestionSheet {
    /// 编号, e.g. `PD-2025-0042`.
    pub reference: String,
    /// 领衔: the member who sent it.
    pub lead: String,
    /// 联名: the co-signing members, by name, in order. Empty until co-signing is wired in (the
    /// lead is always the suggestion's member).
    pub cosigners: Vec<String>,
    /// 议题: the topic's title, if any.
    pub topic: Option<String>,
    /// 类别: the kind's label (e.g. 建言, 社情民意).
    pub kind: String,
    pub title: String,
    pub points: Vec<String>,
    /// The day it was submitted, in the committee's time.
    pub date: NaiveDate,
}

/// A department's reply letter as printed.
#[derive(Debug, Clone, PartialEq)]
pub struct LetterSheet {
    /// The suggestion answered: its 编号 and title.
    pub reference: String,
    pub suggestion_title: String,
    /// The member addressed (the salutation).
    pub member: String,
    /// 文号, 标题, 联系人, 电话 as the department gave them.
    pub letter: ReplyLetter,
    /// The body: the reply's text.
    pub text: String,
    /// 落款: the department and the day of the reply.
    pub department: String,
    pub date: NaiveDate,
}

/// Writing the file failed (docx-rs's ZIP writer; only an internal error).
#[derive(Debug, thiserror::Error)]
#[error("cannot write the Word file: {0}")]
pub struct DocumentError(String);

/// The suggestion as a one-document DOCX.
pub fn suggestion(texts: &Texts, lang: Lang, s: &SuggestionSheet) -> Result<Vec<u8>, DocumentError> {
    let t = |key: &str| texts.t(lang, key, &[]);
    let mut docx = page_setup(Docx::new());
    docx = docx.add_paragraph(title(&t("documents.suggestion_heading")));
    for p in suggestion_body(texts, lang, s, None) {
        docx = docx.add_paragraph(p);
    }
    pack(docx)
}

/// The reply letter as a DOCX: 文号 at the top right, the title, the salutation, the body, the
/// department and the date as 落款, then 联系人 and 电话.
pub fn reply_letter(texts: &Texts, lang: Lang, l: &LetterSheet) -> Result<Vec<u8>, DocumentError> {
    let t = |key: &str, args: &[(&str, &dyn std::fmt::Display)]| texts.t(lang, key, args);
    let mut docx = page_setup(Docx::new());
    if let Some(number) = &l.letter.number {
        docx = docx.add_paragraph(Paragraph::new().align(AlignmentType::Right).add_run(body_run(number)));
    }
    let heading = match &l.letter.title {
        Some(title) => title.clone(),
        None => t("documents.letter_default_title", &[("title", &l.suggestion_title)]),
    };
    docx = docx.add_paragraph(title(&heading));
    docx = docx.add_paragraph(plain(&t("documents.letter_salutation", &[("member", &l.member)])));
    docx = docx.add_paragraph(body(&t(
        "documents.letter_opening",
        &[("reference", &l.reference), ("title", &l.suggestion_title)],
    )));
    for line in l.text.lines().map(str::trim).filter(|s| !s.is_empty()) {
        docx = docx.add_paragraph(body(line));
    }
    docx = docx.add_paragraph(body(&t("documents.letter_closing", &[])));
    docx = docx.add_paragraph(plain(""));
    docx = docx.add_paragraph(Paragraph::new().align(AlignmentType::Right).add_run(body_run(&l.department)));
    docx =
        docx.add_paragraph(Paragraph::new().align(AlignmentType::Right).add_run(body_run(&date(texts, lang, l.date))));
    if l.letter.contact.is_some() || l.letter.phone.is_some() {
        docx = docx.add_paragraph(plain(""));
        let contact = l.letter.contact.as_deref().unwrap_or("—");
        let phone = l.letter.phone.as_deref().unwrap_or("—");
        docx = docx.add_paragraph(body(&t("documents.letter_contact", &[("contact", &contact), ("phone", &phone)])));
    }
    pack(docx)
}

/// A compilation (汇编) of suggestions: a title page naming what was compiled, a table of contents
/// (a Word TOC field over the suggestions' headings, its entries written in so it reads without
/// updating fields, then a numbered list of the titles), and each suggestion from a new page.
pub fn compilation(
    texts: &Texts,
    lang: Lang,
    heading: &str,
    subtitle: &str,
    sheets: &[SuggestionSheet],
) -> Result<Vec<u8>, DocumentError> {
    let t = |key: &str, args: &[(&str, &dyn std::fmt::Display)]| texts.t(lang, key, args);
    let mut docx = page_setup(Docx::new());
    docx = docx.add_paragraph(title(heading));
    docx = docx.add_paragraph(Paragraph::new().align(AlignmentType::Center).add_run(body_run(subtitle)));
    docx = docx.add_paragraph(title(&t("documents.contents", &[])));
    // Word fills in the page numbers when the field is updated (F9); until then the entries show
    // without them.
    let mut toc = TableOfContents::new().heading_styles_range(1, 1).hyperlink().alias(t("documents.contents", &[]));
    for (i, s) in sheets.iter().enumerate() {
        toc = toc
            .add_item(TableOfContentsItem::new().text(entry(s)).toc_key(toc_key(i)).level(1).page_ref(String::new()));
    }
    if !sheets.is_empty() {
        docx = docx.add_table_of_contents(toc);
    }
    docx = docx.add_paragraph(heading_paragraph(&t("documents.list", &[("count", &sheets.len())])));
    for (i, s) in sheets.iter().enumerate() {
        let line = format!("{}．{}　{}", i + 1, s.reference, s.title);
        let lead = t("documents.list_lead", &[("lead", &lead_names(s))]);
        docx = docx.add_paragraph(
            Paragraph::new()
                .indent(None, Some(SpecialIndentType::Hanging(640)), None, None)
                .add_run(body_run(&format!("{line}（{lead}）"))),
        );
    }
    for (i, s) in sheets.iter().enumerate() {
        let heading = Paragraph::new()
            .style(HEADING_STYLE)
            .page_break_before(true)
            .add_bookmark_start(i + 1, toc_key(i))
            .add_run(heading_run(&entry(s)))
            .add_bookmark_end(i + 1);
        docx = docx.add_paragraph(heading);
        for p in suggestion_body(texts, lang, s, Some(i)) {
            docx = docx.add_paragraph(p);
        }
    }
    pack(docx)
}

/// A suggestion's line in the table of contents and its heading: `编号　标题`.
fn entry(s: &SuggestionSheet) -> String {
    format!("{}　{}", s.reference, s.title)
}

fn toc_key(i: usize) -> String {
    format!("_Toc{:08}", i + 1)
}

/// 领衔 and 联名 in one: `张三（联名：李四、王五）`.
fn lead_names(s: &SuggestionSheet) -> String {
    if s.cosigners.is_empty() { s.lead.clone() } else { format!("{}；{}", s.lead, s.cosigners.join("、")) }
}

/// The facts and the points of a suggestion; in a compilation (`at` is its place) the title is
/// the heading already.
fn suggestion_body(texts: &Texts, lang: Lang, s: &SuggestionSheet, at: Option<usize>) -> Vec<Paragraph> {
    let t = |key: &str| texts.t(lang, key, &[]);
    let mut out = Vec::new();
    if at.is_none() {
        out.push(Paragraph::new().align(AlignmentType::Center).add_run(heading_run(&s.title)));
    }
    let fact = |label: &str, value: &str| {
        Paragraph::new()
            .line_spacing(body_spacing())
            .add_run(heading_run(&format!("{label}：")))
            .add_run(body_run(value))
    };
    out.push(fact(&t("documents.reference"), &s.reference));
    out.push(fact(&t("documents.lead"), &s.lead));
    // The co-signers' line is there only when members co-signed (联名).
    if !s.cosigners.is_empty() {
        out.push(fact(&t("documents.cosigners"), &s.cosigners.join("、")));
    }
    out.push(fact(&t("documents.topic"), s.topic.as_deref().unwrap_or("—")));
    out.push(fact(&t("documents.kind"), &s.kind));
    out.push(fact(&t("documents.date"), &date(texts, lang, s.date)));
    out.push(Paragraph::new().line_spacing(body_spacing()).add_run(heading_run(&t("documents.points"))));
    for (i, point) in s.points.iter().enumerate() {
        out.push(body(&format!("{}. {}", i + 1, point.trim())));
    }
    out
}

/// `2025年3月1日` (GB/T 9704: the date in Arabic numerals).
fn date(texts: &Texts, lang: Lang, d: NaiveDate) -> String {
    use chrono::Datelike;
    texts.t(lang, "documents.date_format", &[("year", &d.year()), ("month", &d.month()), ("day", &d.day())])
}

fn mm(v: f64) -> i32 {
    (v * TWIPS_PER_MM).round() as i32
}

/// A4, the margins, the default fonts and the page number in the footer.
fn page_setup(docx: Docx) -> Docx {
    let (top, bottom, left, right) = MARGINS_MM;
    let page_number = Paragraph::new()
        .align(AlignmentType::Center)
        .add_run(page_number_run().add_text("— "))
        .add_run(
            page_number_run()
                .add_field_char(FieldCharType::Begin, false)
                .add_instr_text(InstrText::PAGE(InstrPAGE::new()))
                .add_field_char(FieldCharType::Separate, false)
                .add_text("1")
                .add_field_char(FieldCharType::End, false),
        )
        .add_run(page_number_run().add_text(" —"));
    docx.page_size(A4_TWIPS.0, A4_TWIPS.1)
        .page_margin(
            PageMargin::new().top(mm(top)).bottom(mm(bottom)).left(mm(left)).right(mm(right)).header(851).footer(992),
        )
        .default_fonts(fonts(BODY_FONT))
        .default_size(SIZE_SANHAO)
        .add_style(
            Style::new(HEADING_STYLE, StyleType::Paragraph)
                .name("heading 1")
                .fonts(fonts(HEADING_FONT))
                .size(SIZE_SANHAO)
                .outline_lvl(0),
        )
        .add_style(Style::new("ToC1", StyleType::Paragraph).name("toc 1").fonts(fonts(BODY_FONT)).size(SIZE_SANHAO))
        .footer(Footer::new().add_paragraph(page_number))
}

fn fonts(east_asia: &str) -> RunFonts {
    RunFonts::new().east_asia(east_asia).ascii(LATIN_FONT).hi_ansi(LATIN_FONT).cs(LATIN_FONT)
}

fn body_spacing() -> LineSpacing {
    LineSpacing::new().line_rule(LineSpacingType::Exact).line(LINE_TWIPS)
}

fn title(text: &str) -> Paragraph {
    Paragraph::new()
        .align(AlignmentType::Center)
        .line_spacing(LineSpacing::new().before(240).after(480))
        .add_run(Run::new().add_text(text).fonts(fonts(TITLE_FONT)).size(SIZE_ERHAO))
}

fn heading_paragraph(text: &str) -> Paragraph {
    Paragraph::new().line_spacing(body_spacing()).add_run(heading_run(text))
}

fn heading_run(text: &str) -> Run {
    Run::new().add_text(text).fonts(fonts(HEADING_FONT)).size(SIZE_SANHAO)
}

fn body_run(text: &str) -> Run {
    Run::new().add_text(text).fonts(fonts(BODY_FONT)).size(SIZE_SANHAO)
}

fn page_number_run() -> Run {
    Run::new().fonts(fonts(PAGE_NUMBER_FONT)).size(SIZE_SIHAO)
}

/// A body paragraph: two characters' first-line indent, the fixed line.
fn body(text: &str) -> Paragraph {
    Paragraph::new().line_spacing(body_spacing()).first_line_chars(200).add_run(body_run(text))
}

/// A paragraph without indent (the salutation, blank lines).
fn plain(text: &str) -> Paragraph {
    Paragraph::new().line_spacing(body_spacing()).add_run(body_run(text))
}

fn pack(docx: Docx) -> Result<Vec<u8>, DocumentError> {
    let mut out = std::io::Cursor::new(Vec::new());
    docx.pack(&mut out).map_err(|e| DocumentError(e.to_string()))?;
    Ok(out.into_inner())
}
